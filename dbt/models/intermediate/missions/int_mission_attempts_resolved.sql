-- The current state of each mission attempt: of its CDC versions, the latest updated_at wins;
-- ties go to the later lifecycle status, then the larger record hash (the same rule as
-- raw.mission_progress_current, so every run and every reader resolves it alike).
with

versions as (
    select * from {{ ref('stg_mission_progress__versions') }}
),

ranked as (
    select
        *,
        row_number() over (
            partition by progress_id
            order by updated_at desc, status_rank desc, record_hash desc
        ) as version_rank,
        count(*) over (partition by progress_id) as n_versions,
        count(*) filter (where status = 'revision_requested') over (partition by progress_id)
            as n_revision_requests
    from versions
)

select * exclude (version_rank)
from ranked
where version_rank = 1
