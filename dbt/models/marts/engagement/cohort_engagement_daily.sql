-- Daily and weekly active learners, time on task and video engagement per cohort and day.
-- Incremental: a run rebuilds the days from the latest one already built, reading the six days
-- before it too (the weekly count's window), and from the day of a statement loaded since the
-- last run if that is earlier (it arrived late). A changed roster needs --full-refresh.
{{
    config(
        materialized='incremental',
        unique_key=['cohort_id', 'activity_date'],
        incremental_strategy='delete+insert',
        on_schema_change='fail',
        pre_hook="{{ clear_when_voided() }}",
        post_hook="{{ record_model_watermark() }}",
    )
}}

{% set since = rebuild_since('activity_date') %}

with

days as (
    select
        days.*,
        learners.org_id,
        learners.cohort_id
    from {{ ref('int_learner_days_aggregated') }} as days
    inner join {{ ref('stg_reference__learners') }} as learners
        on days.learner_id = learners.learner_id
    {% if is_incremental() %}
        where days.activity_date >= {{ since }} - 6
    {% endif %}
),

daily as (
    select
        org_id,
        cohort_id,
        activity_date,
        count(*) as daily_active_learners,
        -- Rounded: float sums differ in the last bits with the order rows arrive in.
        round(sum(minutes_on_task), 6) as minutes_on_task,
        sum(n_videos) as videos_watched
    from days
    group by all
),

spans as (
    -- A learner counts as weekly active from each active day until six days later, or until
    -- their next active day if sooner: disjoint spans, [span_start, span_end).
    select
        cohort_id,
        activity_date as span_start,
        least(
            activity_date + 7,
            coalesce(
                lead(activity_date) over (partition by learner_id order by activity_date),
                activity_date + 7
            )
        ) as span_end
    from days
),

changes as (
    select
        cohort_id,
        span_start as change_date,
        1 as delta
    from spans
    union all
    select
        cohort_id,
        span_end as change_date,
        -1 as delta
    from spans
),

weekly as (
    -- Learners active in the 7 days ending each day: the running sum of span starts and ends.
    select
        cohort_id,
        change_date as activity_date,
        cast(sum(sum(delta)) over (partition by cohort_id order by change_date) as bigint)
            as weekly_active_learners
    from changes
    group by cohort_id, change_date
)

select
    daily.org_id,
    daily.cohort_id,
    daily.activity_date,
    daily.daily_active_learners,
    weekly.weekly_active_learners,
    daily.minutes_on_task,
    daily.videos_watched
from daily
inner join weekly
    on daily.cohort_id = weekly.cohort_id and daily.activity_date = weekly.activity_date
{% if is_incremental() %}
    -- Spans starting before the window end by its first rebuilt day: these counts are exact.
    where daily.activity_date >= {{ since }}
{% endif %}
