with

source as (
    select * from {{ source('raw', 'xapi_statements') }}
    where {{ known_by_as_of('"timestamp"') }}
),

renamed as (
    select
        statement_id,
        learner_id,
        verb_name as verb,
        verb_id,
        object_id,
        activity_type,
        activity_kind,
        activity_ref,
        result_score_scaled,
        result_success,
        result_completion,
        result_duration_seconds,
        registration,
        progress_id,
        cast(attempt_number as integer) as attempt_number,
        "timestamp" as occurred_at,
        cast("timestamp" as date) as activity_date,
        loaded_at
    from source
)

select * from renamed
