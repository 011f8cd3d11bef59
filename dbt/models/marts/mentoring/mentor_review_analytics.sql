-- Per mentor: reviews, the distribution of the scores given, review cycle time (submission to
-- mentor review, in hours) and revision cycles (revision requests per reviewed attempt), over
-- every review of an organization's learners. The dashboards take the same statistics over
-- the reviews their filters select (fct_mentor_reviews).
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
from {{ ref('fct_mentor_reviews') }}
group by org_id, mentor_id
