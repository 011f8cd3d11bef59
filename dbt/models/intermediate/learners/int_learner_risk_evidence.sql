-- What the triage weighs, per learner as of the run's day: the disengagement model's score and
-- the activity behind it (forecasts.disengagement_risk), the mastery forecast, and the latest
-- missed mission deadline. A learner who has not started gets the mean score of their
-- cohort's active learners (the cohort's prior), else of everyone active.
{{ config(materialized='table') }}
{% set risk = forecast_relation('disengagement_risk') if execute else none %}
{% set forecast = forecast_relation('mastery_forecast') if execute else none %}

with

learners as (
    select
        learner_id,
        org_id,
        cohort_id
    from {{ ref('stg_reference__learners') }}
),

{% if risk %}
    risk as (
        select *
        from {{ risk }}
        where as_of_date = {{ as_of_date() }}
    ),
{% else %}
    risk as (
        -- no disengagement model has run on this warehouse yet: activity from the streaks
        select
            learners.learner_id,
            case
                when streaks.last_active_date is null then 'not_started'
                when {{ as_of_date() }} - streaks.last_active_date >= 28 then 'disengaged'
                else 'active'
            end as status,
            cast(null as double) as p_disengage_8w,
            cast({{ as_of_date() }} - streaks.last_active_date as integer) as days_since_active,
            cast(null as double) as hours_last_2w,
            cast(null as double) as hours_weeks_3_6,
            cast(null as integer) as active_days_last_2w,
            cast(null as integer) as active_days_weeks_3_6,
            cast(null as integer) as longest_gap_8w,
            cast(null as integer) as failed_attempts_4w,
            cast(null as integer) as retries_4w,
            cast([] as varchar[]) as top_factors
        from learners
        left join {{ ref('int_learner_streaks_computed') }} as streaks
            on learners.learner_id = streaks.learner_id
    ),
{% endif %}

{% if forecast %}
    forecast as (
        select
            learner_id,
            p_mastery_by_target,
            mastered_now,
            target_date
        from {{ forecast }}
        where as_of_date = {{ as_of_date() }}
    ),
{% else %}
    forecast as (
        select
            cast(null as varchar) as learner_id,
            cast(null as double) as p_mastery_by_target,
            cast(null as boolean) as mastered_now,
            cast(null as date) as target_date
        where false
    ),
{% endif %}

cohort_prior as (
    select
        learners.cohort_id,
        avg(risk.p_disengage_8w) as p_prior
    from learners
    inner join risk on learners.learner_id = risk.learner_id
    where risk.status = 'active'
    group by learners.cohort_id
),

program_prior as (
    select avg(p_disengage_8w) as p_prior
    from risk
    where status = 'active'
),

missed_deadlines as (
    -- The latest deadline passed without a submission, per learner.
    select
        learner_id,
        arg_max(mission_id, deadline_at) as missed_deadline_mission_id,
        cast(max(deadline_at) as date) as missed_deadline_date
    from {{ ref('fct_mission_attempts') }}
    where
        final_status = 'pending'
        and submitted_at is null
        and cast(deadline_at as date) < {{ as_of_date() }}
    group by learner_id
),

repeated_failures as (
    -- The mission or assessment a learner failed most recently at least twice in a row.
    select
        learner_id,
        arg_max(item_id, last_failed_at) as repeated_failure_id
    from (
        select
            learner_id,
            mission_id as item_id,
            max(coalesce(mentor_reviewed_at, submitted_at)) as last_failed_at
        from (
            select
                *,
                row_number() over (
                    partition by learner_id, mission_id order by attempt_number desc
                ) as recency
            from {{ ref('fct_mission_attempts') }}
            where is_decided
        )
        where recency <= 2
        group by learner_id, mission_id
        having count(*) = 2 and not bool_or(is_passed)

        union all

        select
            learner_id,
            assessment_id as item_id,
            max(graded_at) as last_failed_at
        from (
            select
                *,
                row_number() over (
                    partition by learner_id, assessment_id order by attempt_number desc
                ) as recency
            from {{ ref('fct_assessment_attempts') }}
            where status = 'graded'
        )
        where recency <= 2
        group by learner_id, assessment_id
        having count(*) = 2 and not bool_or(is_passed)
    )
    group by learner_id
)

select
    learners.learner_id,
    learners.org_id,
    learners.cohort_id,
    coalesce(risk.status, 'not_started') as engagement_status,
    case
        when coalesce(risk.status, 'not_started') = 'not_started'
            then coalesce(cohort_prior.p_prior, program_prior.p_prior)
        else risk.p_disengage_8w
    end as p_disengage_8w,
    coalesce(risk.status, 'not_started') = 'not_started'
    and coalesce(cohort_prior.p_prior, program_prior.p_prior) is not null as is_prior,
    risk.days_since_active,
    risk.hours_last_2w,
    risk.hours_weeks_3_6,
    risk.active_days_last_2w,
    risk.active_days_weeks_3_6,
    risk.longest_gap_8w,
    risk.failed_attempts_4w,
    risk.retries_4w,
    coalesce(risk.top_factors, []) as top_factors,
    repeated_failures.repeated_failure_id,
    forecast.p_mastery_by_target,
    coalesce(forecast.mastered_now, false) as mastered_now,
    forecast.target_date,
    cast(floor((forecast.target_date - {{ as_of_date() }}) / 7) as integer) as weeks_to_target,
    missed_deadlines.missed_deadline_mission_id,
    missed_deadlines.missed_deadline_date
from learners
left join risk on learners.learner_id = risk.learner_id
left join cohort_prior on learners.cohort_id = cohort_prior.cohort_id
cross join program_prior
left join forecast on learners.learner_id = forecast.learner_id
left join missed_deadlines on learners.learner_id = missed_deadlines.learner_id
left join repeated_failures on learners.learner_id = repeated_failures.learner_id
