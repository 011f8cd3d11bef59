-- Points, level and cohort rank per learner. Levels (seed 004 section 6.1): cumulative points
-- 0, 100, 300, 600, 1000, 1500, 2200, 3000, 4000 and 5500 start levels 1 to 10.
{% set thresholds = [0, 100, 300, 600, 1000, 1500, 2200, 3000, 4000, 5500] %}

with

awards as (
    -- Events' points by day, and the missions' read whole (they move with the attempt).
    select
        learner_id,
        points
    from {{ ref('int_learner_daily_points') }}
    union all
    select
        learner_id,
        points
    from ({{ mission_points_ledger() }}) as mission_awards
),

totals as (
    select
        learners.learner_id,
        learners.org_id,
        learners.cohort_id,
        learners.display_name,
        cast(coalesce(sum(awards.points), 0) as bigint) as total_points
    from {{ ref('stg_reference__learners') }} as learners
    left join awards
        on learners.learner_id = awards.learner_id
    group by all
),

levelled as (
    select
        *,
        cast(
            len(list_filter({{ thresholds }}, lambda t: t <= total_points)) as integer
        ) as level
    from totals
)

select
    learner_id,
    org_id,
    cohort_id,
    display_name,
    total_points,
    level,
    case
        when level < {{ thresholds | length }}
            then {{ thresholds }}[level + 1] - total_points
    end as points_to_next_level,
    rank() over (partition by cohort_id order by total_points desc) as cohort_rank
from levelled
