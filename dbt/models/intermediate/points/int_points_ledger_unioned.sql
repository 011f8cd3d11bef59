-- Every point award, with seed 004 section 6.1's values: content block (video) completed 10,
-- assessment passed 50, perfect score +100, module completed 200, supervised practice
-- completed 75 (150 when excellent, 90 % or more), a day that continues a streak 25, a mission
-- submitted before its deadline 20. Helping a peer (15) has no source yet and awards nothing.
with

statements as (
    select * from {{ ref('stg_xapi__statements') }}
),

assessments as (
    select * from {{ ref('fct_assessment_attempts') }}
),

days as (
    select
        learner_id,
        activity_date,
        lag(activity_date) over (
            partition by learner_id order by activity_date
        ) as previous_day
    from {{ ref('int_learner_days_aggregated') }}
)

select
    learner_id,
    occurred_at,
    'content_block_completed' as event_type,
    10 as points
from statements
where verb = 'experienced'

union all

select
    learner_id,
    occurred_at,
    'module_completed' as event_type,
    200 as points
from statements
where
    verb = 'completed'
    and activity_type = 'http://adlnet.gov/expapi/activities/module'

union all

select
    learner_id,
    graded_at as occurred_at,
    'assessment_passed' as event_type,
    50 as points
from assessments
where is_passed and assessment_type <> 'supervised_practice'

union all

select
    learner_id,
    graded_at as occurred_at,
    'assessment_perfect_score' as event_type,
    100 as points
from assessments
where percentage = 100

union all

select
    learner_id,
    graded_at as occurred_at,
    case
        when percentage >= 90 then 'practice_session_excellent'
        else 'practice_session_completed'
    end as event_type,
    case when percentage >= 90 then 150 else 75 end as points
from assessments
where assessment_type = 'supervised_practice' and status = 'graded'

union all

select
    learner_id,
    cast(activity_date as timestamp) as occurred_at,
    'daily_streak' as event_type,
    25 as points
from days
where previous_day = activity_date - 1

union all

select
    learner_id,
    submitted_at as occurred_at,
    'early_submission' as event_type,
    20 as points
from {{ ref('fct_mission_attempts') }}
where submitted_at < deadline_at
