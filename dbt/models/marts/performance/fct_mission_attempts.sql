-- One mission attempt in its current state, with the pass rule of PRODUCT.md section 3:
-- final_status pass / fail decides it; pending is undecided (is_passed null) and stays out of
-- every pass-rate denominator. Incremental: a run rebuilds only the attempts with a version
-- loaded since the latest load already built, whatever its updated_at: a version arriving out
-- of order is taken in too; and the attempts with a version of a day after the last build's
-- as-of day, which that run left out (a changed mission catalog needs --full-refresh).
-- depends_on: {{ ref('stg_mission_progress__versions') }}
-- depends_on: {{ ref('int_mission_attempts_resolved') }}
{{
    config(
        materialized='incremental',
        unique_key='progress_id',
        incremental_strategy='delete+insert',
        on_schema_change='fail',
        post_hook="{{ record_model_as_of() }}",
    )
}}

with

attempts as (
    {% if is_incremental() %}
        -- Only the attempts with a version loaded after the latest load built, every version
        -- of each, filtered before the ranking window (a filter after it would rank them all)
        -- and before the typing (typing every version, then filtering, took 10 s of a one-day
        -- build at 100,000 learners). Strictly after: loads and builds take turns on the
        -- warehouse file, so a later load starts after the build, and after every load the
        -- build saw. Also those with a version of a day after the last build's as-of day, up
        -- to this one's: loaded earlier but left out then (a backfill), it counts from now.
        {% set raw = source('raw', 'mission_progress') %}
        {{ resolve_mission_attempts(
            "(" ~ type_mission_progress(
                "(select * from " ~ raw ~ " where progress_id in (select changed.progress_id"
                ~ " from " ~ raw ~ " as changed where changed.loaded_at > coalesce("
                ~ "(select max(built.last_loaded_at) from " ~ this ~ " as built),"
                ~ " cast('-infinity' as timestamp))"
                ~ " or (cast(changed.updated_at as date) > " ~ built_as_of()
                ~ " and " ~ known_by_as_of('changed.updated_at') ~ ")))"
            ) ~ ") as versions"
        ) }}
    {% else %}
        select * from {{ ref('int_mission_attempts_resolved') }}
    {% endif %}
),

missions as (
    select * from {{ ref('stg_reference__missions') }}
),

final as (
    select
        attempts.progress_id,
        attempts.learner_id,
        attempts.mission_id,
        attempts.attempt_number,
        attempts.status,
        attempts.final_status,
        attempts.final_status in ('pass', 'fail') as is_decided,
        case attempts.final_status
            when 'pass' then true
            when 'fail' then false
        end as is_passed,
        attempts.mentor_score,
        missions.track,
        missions.tier,
        missions.difficulty,
        missions.mission_type,
        missions.is_required,
        coalesce(len(attempts.hints_used), 0) as hints_used,
        attempts.drop_off_stage,
        list_sum(map_values(attempts.minutes_per_stage)) as minutes_spent,
        attempts.minutes_per_stage,
        attempts.tools_used,
        attempts.is_reflection_submitted,
        attempts.rubric_scores,
        list_avg(map_values(attempts.rubric_scores)) as rubric_mean,
        attempts.capstone_phases,
        attempts.n_revision_requests,
        cast(coalesce(json_array_length(json_keys(attempts.capstone_phases)), 0) as integer)
            as capstone_phases_completed,
        attempts.started_at,
        attempts.submitted_at,
        attempts.mentor_reviewed_at,
        attempts.deadline_at,
        attempts.updated_at,
        attempts.last_loaded_at
    from attempts
    inner join missions on attempts.mission_id = missions.mission_id
)

select * from final
