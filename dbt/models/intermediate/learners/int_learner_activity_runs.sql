-- Runs of consecutive UTC days with at least one statement, one row per learner and run.
-- Incremental: a run reads the days from the latest run end already built, plus the days of
-- the runs they can extend (those ending that day or the day before), so a new day of
-- telemetry costs a day's work. A statement loaded since the last run on an earlier day (it
-- arrived late) moves that start back to its day. A new run replaces the old runs starting
-- within it (strategy replace_covered): a late day can join two.
{{
    config(
        materialized='incremental',
        unique_key=['learner_id', 'run_start'],
        incremental_strategy='replace_covered',
        span=['learner_id', 'run_start', 'run_end'],
        on_schema_change='fail',
        pre_hook="{{ clear_when_voided() }}",
        post_hook="{{ record_model_watermark() }}",
    )
}}

{% set since = rebuild_since('run_end') %}

with

days as (
    select
        learner_id,
        activity_date
    from {{ ref('int_learner_days_aggregated') }}
    {% if is_incremental() %}
        where activity_date >= {{ since }}
        union
        select
            learner_id,
            cast(unnest(generate_series(run_start, run_end, interval 1 day)) as date)
                as activity_date
        from {{ this }}
        where run_end >= {{ since }} - 1
    {% endif %}
),

keyed as (
    -- Within a run, the day minus its rank is constant.
    select
        learner_id,
        activity_date,
        activity_date - cast(
            row_number() over (partition by learner_id order by activity_date) as integer
        ) as run_key
    from days
)

select
    learner_id,
    min(activity_date) as run_start,
    max(activity_date) as run_end,
    count(*) as run_days
from keyed
group by learner_id, run_key
