-- Where attempts are given up: per track, tier and subtask stage, the attempts dropped there.
select
    track,
    tier,
    drop_off_stage,
    count(*) as n_dropped
from {{ ref('fct_mission_attempts') }}
where drop_off_stage is not null
group by track, tier, drop_off_stage
