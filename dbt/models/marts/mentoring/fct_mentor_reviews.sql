-- One mentor review: a reviewed mission attempt of a learner with a mentor, with the learner's
-- organization and cohort and the week of the review, so the dashboards can narrow mentors'
-- statistics to the cohorts, tracks and weeks a supervisor picks (score quantiles do not add
-- up across weeks: they are taken over these rows at query time).
with

reviewed as (
    select
        attempts.progress_id,
        learners.org_id,
        learners.cohort_id,
        attempts.learner_id,
        learners.mentor_id,
        attempts.track,
        attempts.tier,
        cast(date_trunc('week', attempts.mentor_reviewed_at) as date) as week_start,
        attempts.mentor_score,
        date_diff('minute', attempts.submitted_at, attempts.mentor_reviewed_at) / 60.0
            as review_hours,
        attempts.n_revision_requests as revision_requests
    from {{ ref('fct_mission_attempts') }} as attempts
    inner join {{ ref('stg_reference__learners') }} as learners
        on attempts.learner_id = learners.learner_id
    where attempts.mentor_reviewed_at is not null and learners.mentor_id is not null
)

select * from reviewed
