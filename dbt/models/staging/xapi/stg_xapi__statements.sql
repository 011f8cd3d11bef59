with

source as (
    -- What the marts count: statements of one learner, neither voiding nor voided (xAPI
    -- 1.0.3 section 2.3.2). A voiding corrects the record, so it applies whatever the as-of
    -- day. Raw keeps the rest: a voiding statement, its target, and a Group whose members
    -- name no single learner.
    select * from {{ source('raw', 'xapi_statements') }}
    where
        {{ known_by_as_of('"timestamp"') }}
        and learner_id is not null
        and voided_statement_id is null
        and voided_by is null
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
