-- The weekly per-learner, per-domain observations the competency engine calibrates on: how
-- many questions of each domain were answered and how many correctly, and the week's study
-- effort (the length of its study sessions). Weeks start on Monday. Incremental: a run
-- rebuilds the weeks from the latest one already built onwards, so a new day of telemetry
-- costs a week's work, not history. A statement or attempt loaded since the last run in an
-- earlier week (it arrived late, or its grading did) moves the start back to that week.
{{
    config(
        materialized='incremental',
        unique_key=['learner_id', 'week_start'],
        incremental_strategy='delete+insert',
        on_schema_change='fail',
        pre_hook="{{ clear_when_voided() }}",
        post_hook="{{ record_model_watermark() }}",
    )
}}

{#- an attempt by the week it started: its graded version keeps that week -#}
{% set since = rebuild_since('week_start', attempts_day='started_at', grain='week') %}

with

by_domain as (
    -- The answers question by question, summed per domain: the engine's two inputs agree.
    select
        learner_id,
        week_start,
        domain,
        cast(sum(n_answers) as bigint) as n_answers,
        cast(sum(n_correct) as bigint) as n_correct
    from {{ ref('learner_question_weekly') }}
    {% if is_incremental() %}
        where week_start >= {{ since }}
    {% endif %}
    group by all
),

effort as (
    select
        learner_id,
        cast(date_trunc('week', activity_date) as date) as week_start,
        -- rounded: a float sum depends on the order rows arrive in, incremental or full
        round(sum(session_minutes), 6) as session_minutes,
        sum(n_statements) as n_statements,
        count(*) as active_days
    from {{ ref('int_learner_days_aggregated') }}
    {% if is_incremental() %}
        where date_trunc('week', activity_date) >= {{ since }}
    {% endif %}
    group by all
),

weeks as (
    select
        learner_id,
        week_start
    from effort
    union
    select
        learner_id,
        week_start
    from by_domain
),

domains as (
    select unnest(['knowledge', 'skills', 'application', 'ethics']) as domain
)

select
    weeks.learner_id,
    weeks.week_start,
    domains.domain,
    coalesce(by_domain.n_answers, 0) as n_answers,
    coalesce(by_domain.n_correct, 0) as n_correct,
    by_domain.n_correct / nullif(by_domain.n_answers, 0) as fraction_correct,
    coalesce(effort.session_minutes, 0) as study_minutes,
    coalesce(effort.active_days, 0) as active_days,
    coalesce(effort.n_statements, 0) as n_statements
from weeks
cross join domains
left join by_domain
    on
        weeks.learner_id = by_domain.learner_id
        and weeks.week_start = by_domain.week_start
        and domains.domain = by_domain.domain
left join effort
    on weeks.learner_id = effort.learner_id and weeks.week_start = effort.week_start
