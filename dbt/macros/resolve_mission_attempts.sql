{% macro resolve_mission_attempts(versions) %}
{#- The current state of each mission attempt in `versions` (every version of each attempt it
    holds): the latest updated_at wins; ties go to the later lifecycle status, then the larger
    record hash (the rule of raw.mission_progress_current). One definition for the view and
    for the incremental fact, which resolves only the attempts that changed. -#}
select * exclude (version_rank)
from (
    select
        *,
        row_number() over (
            partition by progress_id
            order by updated_at desc, status_rank desc, record_hash desc
        ) as version_rank,
        count(*) over (partition by progress_id) as n_versions,
        count(*) filter (where status = 'revision_requested') over (partition by progress_id)
            as n_revision_requests,
        max(loaded_at) over (partition by progress_id) as last_loaded_at
    from {{ versions }}
) as ranked
where version_rank = 1
{% endmacro %}
