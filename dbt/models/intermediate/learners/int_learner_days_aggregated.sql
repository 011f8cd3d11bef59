-- One row per learner and UTC day with at least one statement. Incremental: a run rebuilds the
-- days from the latest one already built onwards, or from the earliest day of a statement
-- loaded since the last run if that is earlier (it arrived late), so a new day of telemetry
-- costs a day's work.
{{
    config(
        materialized='incremental',
        unique_key=['learner_id', 'activity_date'],
        incremental_strategy='delete+insert',
        on_schema_change='append_new_columns',
        pre_hook="{{ clear_when_voided() }}",
        post_hook="{{ record_model_watermark() }}",
    )
}}

{% set since = rebuild_since('activity_date') %}

with

statements as (
    select * from {{ ref('stg_xapi__statements') }}
    {% if is_incremental() %}
        -- on the raw timestamp, not the day cast from it, so the scan skips older row groups
        where occurred_at >= cast({{ since }} as timestamp)
    {% endif %}
)

select
    learner_id,
    activity_date,
    count(*) as n_statements,
    coalesce(sum(result_duration_seconds), 0) / 60.0 as minutes_on_task,
    -- A session's `terminated` statement carries its whole length: the day's study time.
    coalesce(sum(result_duration_seconds) filter (where verb = 'terminated'), 0)
    / 60.0 as session_minutes,
    count(*) filter (where verb = 'experienced') as n_videos
from statements
group by learner_id, activity_date
