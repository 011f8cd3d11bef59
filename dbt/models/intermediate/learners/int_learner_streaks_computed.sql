-- Streaks as of a day, from the runs of consecutive active days (cut at the as-of day). The
-- current streak is the run ending on the as-of day or the day before (0 otherwise); the
-- longest is any run.
with

runs as (
    select
        learner_id,
        run_start,
        least(run_end, {{ as_of_date() }}) as run_end
    from {{ ref('int_learner_activity_runs') }}
    where run_start <= {{ as_of_date() }}
),

run_lengths as (
    select
        learner_id,
        run_end,
        run_end - run_start + 1 as run_days
    from runs
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
