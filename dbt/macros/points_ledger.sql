{#- The point awards of seed 004 section 6.1, in two parts that change differently. -#}

{% macro event_points_ledger(since=none) %}
{#- Awards for events, which never change once made: statements, graded assessments and
    active days. With `since` (a date expression), only those on or after that day: the
    incremental daily points read only the days since the latest one they built. -#}
{#- statements by their raw timestamp, which lets the scan skip older row groups -#}
{%- set on_or_after = "where occurred_at >= cast(" ~ since ~ " as timestamp)" if since else "" -%}
{%- set graded_on_or_after = "where cast(graded_at as date) >= " ~ since if since else "" -%}
{#- whether the first day read continues a streak depends on the day before -#}
{%- set from_day_before = "where activity_date >= " ~ since ~ " - 1" if since else "" -%}
with

statements as (
    select *
    from {{ ref('stg_xapi__statements') }} {{ on_or_after }}
),

assessments as (
    select *
    from {{ ref('fct_assessment_attempts') }} {{ graded_on_or_after }}
),

days as (
    -- A day continues a streak when the day before was active too.
    select
        learner_id,
        activity_date,
        lag(activity_date) over (
            partition by learner_id order by activity_date
        ) as previous_day
    from {{ ref('int_learner_days_aggregated') }} {{ from_day_before }}
),

streak_days as (
    select
        learner_id,
        activity_date
    from days
    where
        previous_day = activity_date - 1
        {{ "and activity_date >= " ~ since if since else "" }}
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
from streak_days
{% endmacro %}

{% macro mission_points_ledger() %}
{#- Awards read from a mission attempt's current state, which moves with the attempt (a
    resubmission moves submitted_at): always read whole, from the fact. -#}
select
    learner_id,
    submitted_at as occurred_at,
    'early_submission' as event_type,
    20 as points
from {{ ref('fct_mission_attempts') }}
where submitted_at < deadline_at
{% endmacro %}
