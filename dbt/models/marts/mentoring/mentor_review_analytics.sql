-- Per mentor: reviews, the distribution of the scores given, review cycle time (submission to
-- mentor review, in hours) and revision cycles (revision requests per reviewed attempt).
with

reviewed as (
    select
        learners.org_id,
        learners.mentor_id,
        attempts.mentor_score,
        date_diff('minute', attempts.submitted_at, attempts.mentor_reviewed_at) / 60.0
            as review_hours,
        attempts.n_revision_requests as revision_requests
    from {{ ref('fct_mission_attempts') }} as attempts
    inner join {{ ref('stg_reference__learners') }} as learners
        on attempts.learner_id = learners.learner_id
    where attempts.mentor_reviewed_at is not null and learners.mentor_id is not null
)

select
    org_id,
    mentor_id,
    count(*) as n_reviews,
    avg(mentor_score) as mean_mentor_score,
    quantile_cont(mentor_score, 0.1) as mentor_score_p10,
    median(mentor_score) as median_mentor_score,
    quantile_cont(mentor_score, 0.9) as mentor_score_p90,
    median(review_hours) as median_review_hours,
    quantile_cont(review_hours, 0.9) as review_hours_p90,
    avg(revision_requests) as revision_requests_per_review
from reviewed
group by org_id, mentor_id
