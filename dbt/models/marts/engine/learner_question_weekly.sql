-- The engine's answers question by question: per learner, week (starting Monday) and question,
-- how often it was answered and answered correctly, with the question's domain and kind (its
-- labelled level and type), so the engine can fit each question's own answer curve. The same
-- answers as learner_domain_weekly's counts, by the same week. Incremental in the same way.
{{
    config(
        materialized='incremental',
        unique_key=['learner_id', 'week_start', 'question_id'],
        incremental_strategy='delete+insert',
        on_schema_change='fail',
        pre_hook="{{ clear_when_voided() }}",
        post_hook="{{ record_model_watermark() }}",
    )
}}

{% set since = rebuild_since('week_start', attempts_day='started_at', grain='week') %}

with

answers as (
    select
        attempts.learner_id,
        date_trunc('week', coalesce(attempts.graded_at, attempts.started_at)) as week_start,
        answers.question_id,
        answers.is_correct
    from {{ ref('stg_assessment_attempts__answers') }} as answers
    inner join {{ ref('stg_assessment_attempts__attempts') }} as attempts
        on answers.attempt_id = attempts.attempt_id
    {% if is_incremental() %}
        where
            date_trunc('week', coalesce(attempts.graded_at, attempts.started_at))
            >= {{ since }}
    {% endif %}
)

select
    answers.learner_id,
    cast(answers.week_start as date) as week_start,
    answers.question_id,
    questions.competency_domain as domain,
    questions.difficulty_level || '/' || questions.question_type as question_kind,
    count(*) as n_answers,
    count(*) filter (where answers.is_correct) as n_correct
from answers
inner join {{ ref('stg_reference__questions') }} as questions
    on answers.question_id = questions.question_id
group by all
