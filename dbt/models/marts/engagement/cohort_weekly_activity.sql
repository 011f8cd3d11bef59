-- Per cohort and week: active learners, study hours and answers, summed over the cohort's
-- learners. The supervisors' weekly trend, read without touching every learner's rows.
-- Incremental: a run rebuilds the weeks from the latest one already built (as
-- learner_domain_weekly does, late records included). A changed roster needs --full-refresh.
{{
    config(
        materialized='incremental',
        unique_key=['cohort_id', 'week_start'],
        incremental_strategy='delete+insert',
        on_schema_change='fail',
        pre_hook="{{ clear_when_voided() }}",
        post_hook="{{ record_model_watermark() }}",
    )
}}

{#- an attempt by the week it started: its graded version keeps that week -#}
{% set since = rebuild_since('week_start', attempts_day='started_at', grain='week') %}

with

learner_weeks as (
    -- learner_domain_weekly repeats a week's effort on each of its four domain rows.
    select
        learner_id,
        week_start,
        any_value(study_minutes) as study_minutes,
        any_value(active_days) as active_days,
        sum(n_answers) as n_answers,
        sum(n_correct) as n_correct
    from {{ ref('learner_domain_weekly') }}
    {% if is_incremental() %}
        where week_start >= {{ since }}
    {% endif %}
    group by learner_id, week_start
)

select
    learners.org_id,
    learners.cohort_id,
    learner_weeks.week_start,
    count(*) filter (where learner_weeks.active_days > 0) as active_learners,
    round(sum(learner_weeks.study_minutes) / 60.0, 6) as study_hours,
    sum(learner_weeks.n_answers) as n_answers,
    sum(learner_weeks.n_correct) as n_correct
from learner_weeks
inner join {{ ref('stg_reference__learners') }} as learners
    on learner_weeks.learner_id = learners.learner_id
group by learners.org_id, learners.cohort_id, learner_weeks.week_start
