-- Streaks: runs of consecutive UTC days with at least one statement. The current streak is
-- the run ending on the as-of day or the day before (0 otherwise); the longest is any run.
with

days as (
    select
        learner_id,
        activity_date
    from {{ ref('int_learner_days_aggregated') }}
    where activity_date <= {{ as_of_date() }}
),

runs as (
    select
        learner_id,
        activity_date,
        activity_date - cast(
            row_number() over (partition by learner_id order by activity_date) as integer
        ) as run_key
    from days
),

run_lengths as (
    select
        learner_id,
        run_key,
        max(activity_date) as run_end,
        count(*) as run_days
    from runs
    group by learner_id, run_key
)

select
    learner_id,
    max(run_days) as longest_streak_days,
    coalesce(
        max(run_days) filter (where run_end >= {{ as_of_date() }} - 1), 0
    ) as current_streak_days,
    max(run_end) as last_active_date
from run_lengths
group by learner_id
