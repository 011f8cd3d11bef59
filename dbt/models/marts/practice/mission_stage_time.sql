-- Per mission and subtask stage: the minutes attempts spend there (median, p90, share of all
-- the mission's minutes), and where attempts that missed their deadline stopped: the
-- drop-offs at the stage, their rate among the attempts reaching it, and the share of the
-- dropped attempts' minutes spent there. A stage that takes the most time and loses the most
-- attempts of its mission is flagged.
with

attempts as (
    select
        progress_id,
        mission_id,
        drop_off_stage,
        minutes_per_stage
    from {{ ref('fct_mission_attempts') }}
    where minutes_per_stage is not null and cardinality(minutes_per_stage) > 0
),

entries as (
    select
        progress_id,
        mission_id,
        drop_off_stage,
        unnest(map_entries(minutes_per_stage)) as entry
    from attempts
),

stage_minutes as (
    select
        progress_id,
        mission_id,
        drop_off_stage,
        cast(entry['key'] as integer) as stage,
        entry['value'] as minutes
    from entries
),

per_stage as (
    select
        mission_id,
        stage,
        count(*) as n_reached,
        median(minutes) as median_minutes,
        quantile_cont(minutes, 0.9) as p90_minutes,
        sum(minutes) as total_minutes,
        count(*) filter (where drop_off_stage = stage) as n_dropped_here,
        sum(minutes) filter (where drop_off_stage is not null) as dropped_minutes
    from stage_minutes
    group by mission_id, stage
),

shared as (
    select
        *,
        total_minutes / nullif(sum(total_minutes) over (partition by mission_id), 0)
            as share_of_time,
        dropped_minutes / nullif(sum(dropped_minutes) over (partition by mission_id), 0)
            as share_of_dropped_time,
        count(*) over (partition by mission_id) as n_stages,
        rank() over (partition by mission_id order by total_minutes desc) as time_rank,
        rank() over (partition by mission_id order by n_dropped_here desc) as drop_off_rank
    from per_stage
)

select
    shared.mission_id,
    missions.track,
    missions.tier,
    shared.stage,
    shared.n_reached,
    round(shared.median_minutes, 3) as median_minutes,
    round(shared.p90_minutes, 3) as p90_minutes,
    round(shared.share_of_time, 6) as share_of_time,
    shared.n_dropped_here,
    round(shared.n_dropped_here / shared.n_reached, 6) as drop_off_rate,
    round(coalesce(shared.share_of_dropped_time, 0), 6) as share_of_dropped_time,
    shared.n_stages > 1
    and shared.time_rank = 1
    and shared.drop_off_rank = 1
    and shared.n_dropped_here >= {{ var('stage_flag_min_drop_offs', 5) }}
        as is_time_sink_losing_learners
from shared
inner join {{ ref('stg_reference__missions') }} as missions
    on shared.mission_id = missions.mission_id
