-- Mission attempts per organization, track, tier, labelled difficulty, final status and
-- drop-off stage: small enough that a supervisor's (or the whole program's) outcome charts sum
-- a few thousand rows instead of every attempt.
select
    learners.org_id,
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
    attempts.track,
    attempts.tier,
    attempts.difficulty,
    attempts.final_status,
    attempts.drop_off_stage
