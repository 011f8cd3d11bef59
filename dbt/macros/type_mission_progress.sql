{% macro type_mission_progress(rows) %}
{#- Versions of mission progress records, typed: the JSON maps and lists unpacked, names as
    the marts use them. `rows` is raw.mission_progress or a filtered part of it: the
    incremental fact types only the versions of the attempts that changed, since the
    unpacking, not the filter, is what costs on millions of versions. -#}
select
    progress_id,
    updated_at,
    record_hash,
    status_rank,
    learner_id,
    mission_id,
    cast(attempt_number as integer) as attempt_number,
    status,
    final_status,
    mentor_score,
    cast(json_transform(subtask_scores, '"MAP(VARCHAR, DOUBLE)"') as map (varchar, double))
        as subtask_scores,
    cast(json_transform(rubric_scores, '"MAP(VARCHAR, DOUBLE)"') as map (varchar, double))
        as rubric_scores,
    cast(json_transform(time_per_stage, '"MAP(VARCHAR, DOUBLE)"') as map (varchar, double))
        as minutes_per_stage,
    cast(json_transform(tools_used, '["VARCHAR"]') as varchar[]) as tools_used,
    cast(json_transform(hints_used, '["VARCHAR"]') as varchar[]) as hints_used,
    cast(drop_off_stage as integer) as drop_off_stage,
    reflection_submitted as is_reflection_submitted,
    capstone_phases,
    started_at,
    submitted_at,
    mentor_reviewed_at,
    deadline_at,
    loaded_at
from {{ rows }}
where {{ known_by_as_of('updated_at') }}
{% endmacro %}
