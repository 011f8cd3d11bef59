-- Points per learner and award day (UTC) for the awards of events, which never change once
-- made (a mission's early submission follows the attempt's current state: learner_points
-- reads it from the fact). Incremental: a run rebuilds the days from the latest one already
-- built, reading only their awards, so a new day of telemetry costs a day's work. A statement or
-- attempt loaded since the last run on an earlier day (it arrived late, or its grading did)
-- moves the start back to that day.
{{
    config(
        materialized='incremental',
        unique_key=['learner_id', 'award_date'],
        incremental_strategy='delete+insert',
        on_schema_change='fail',
        pre_hook="{{ clear_when_voided() }}",
        post_hook="{{ record_model_watermark() }}",
    )
}}

{% set since = rebuild_since('award_date', attempts_day='cast(graded_at as date)') %}

with

awards as (
    {{ event_points_ledger(since if is_incremental() else none) }}
)

select
    learner_id,
    cast(occurred_at as date) as award_date,
    cast(sum(points) as bigint) as points,
    count(*) as n_awards
from awards
group by learner_id, cast(occurred_at as date)
