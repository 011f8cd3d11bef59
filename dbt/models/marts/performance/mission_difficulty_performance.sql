-- Pass rate by track x tier x labelled difficulty, with its count and Wilson 95 % interval
-- (rounded to 6 decimals), first-attempt pass rate, mentor score, minutes and hints.
with

attempts as (
    select * from {{ ref('fct_mission_attempts') }}
),

grouped as (
    select
        track,
        tier,
        difficulty,
        count(*) as n_attempts,
        count(*) filter (where is_decided) as n_decided,
        count(*) filter (where is_passed) as n_passed,
        count(*) filter (where is_decided and attempt_number = 1) as n_first_decided,
        count(*) filter (where is_passed and attempt_number = 1) as n_first_passed,
        avg(mentor_score) filter (where is_decided) as mean_mentor_score,
        median(minutes_spent) filter (where is_decided) as median_minutes,
        avg(hints_used) as hints_per_attempt
    from attempts
    group by track, tier, difficulty
),

final as (
    select
        track,
        tier,
        difficulty,
        n_attempts,
        n_decided,
        n_passed,
        round(n_passed / nullif(n_decided, 0), 6) as pass_rate,
        round({{ wilson_low('n_passed', 'n_decided') }}, 6) as pass_rate_ci_low,
        round({{ wilson_high('n_passed', 'n_decided') }}, 6) as pass_rate_ci_high,
        round(n_first_passed / nullif(n_first_decided, 0), 6) as first_attempt_pass_rate,
        mean_mentor_score,
        median_minutes,
        hints_per_attempt
    from grouped
)

select * from final
