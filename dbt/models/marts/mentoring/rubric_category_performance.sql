-- Mentor rubric scores (0-1) per organization, cohort, week reviewed, track, tier and rubric
-- category, over reviewed attempts. Per cohort so a supervisor sees their own learners' scores
-- only, and the dashboards can filter by cohort and date range.
with

scores as (
    select
        learners.org_id,
        learners.cohort_id,
        cast(
            date_trunc('week', coalesce(attempts.mentor_reviewed_at, attempts.updated_at)) as date
        ) as week_start,
        attempts.track,
        attempts.tier,
        unnest(map_keys(attempts.rubric_scores)) as rubric_category,
        unnest(map_values(attempts.rubric_scores)) as score
    from {{ ref('fct_mission_attempts') }} as attempts
    inner join {{ ref('stg_reference__learners') }} as learners
        on attempts.learner_id = learners.learner_id
)

select
    org_id,
    cohort_id,
    week_start,
    track,
    tier,
    rubric_category,
    count(*) as n_scores,
    avg(score) as mean_score,
    quantile_cont(score, 0.1) as score_p10,
    quantile_cont(score, 0.9) as score_p90
from scores
group by org_id, cohort_id, week_start, track, tier, rubric_category
