-- Every point award, with seed 004 section 6.1's values: content block (video) completed 10,
-- assessment passed 50, perfect score +100, module completed 200, supervised practice
-- completed 75 (150 when excellent, 90 % or more), a day that continues a streak 25, a mission
-- submitted before its deadline 20. Helping a peer (15) has no source yet and awards nothing.
with

event_awards as (
    {{ event_points_ledger() }}
),

mission_awards as (
    {{ mission_points_ledger() }}
)

select * from event_awards
union all
select * from mission_awards
