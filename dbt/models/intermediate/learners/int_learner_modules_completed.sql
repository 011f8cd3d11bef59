-- Every module a learner has completed (an xAPI `completed` statement on a module activity),
-- with the last day they completed it. Incremental: a run reads the statements from the
-- latest completion day already built, or from the day of a statement loaded since the last
-- run if that is earlier (it arrived late), so a new day of telemetry costs a day's work.
{{
    config(
        materialized='incremental',
        unique_key=['learner_id', 'module_id'],
        incremental_strategy='delete+insert',
        on_schema_change='fail',
        pre_hook="{{ clear_when_voided() }}",
        post_hook="{{ record_model_watermark() }}",
    )
}}

{% set since = rebuild_since('last_completed_on') %}

select
    learner_id,
    activity_ref as module_id,
    max(activity_date) as last_completed_on
from {{ ref('stg_xapi__statements') }}
where
    verb = 'completed'
    and activity_kind = 'module'
    and activity_type = 'http://adlnet.gov/expapi/activities/module'
    {% if is_incremental() %}
        -- on the raw timestamp, not the day cast from it, so the scan skips older row groups
        and occurred_at >= cast({{ since }} as timestamp)
    {% endif %}
group by learner_id, activity_ref
