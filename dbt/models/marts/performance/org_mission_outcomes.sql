-- Mission attempts per organization, cohort, week started, track, tier, labelled difficulty,
-- final status and drop-off stage: small enough that a supervisor's outcome charts, filtered by
-- cohort, track and date range, sum pre-counted rows instead of every attempt.
select
    learners.org_id,
    learners.cohort_id,
    cast(date_trunc('week', coalesce(attempts.started_at, attempts.updated_at)) as date)
        as week_start,
    attempts.track,
    attempts.tier,
    attempts.difficulty,
    attempts.final_status,
    attempts.drop_off_stage,
    count(*) as n_attempts,
    count(*) filter (where attempts.is_decided) as n_decided,
    count(*) filter (where attempts.is_passed) as n_passed
from {{ ref('fct_mission_attempts') }} as attempts
inner join {{ ref('stg_reference__learners') }} as learners
    on attempts.learner_id = learners.learner_id
group by
    learners.org_id,
    learners.cohort_id,
    cast(date_trunc('week', coalesce(attempts.started_at, attempts.updated_at)) as date),
    attempts.track,
    attempts.tier,
    attempts.difficulty,
    attempts.final_status,
    attempts.drop_off_stage
