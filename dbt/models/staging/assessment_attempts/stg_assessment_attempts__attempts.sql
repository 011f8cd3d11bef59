with

source as (
    select * from {{ source('raw', 'assessment_attempts') }}
    -- an attempt record is its final state: known once graded (or submitted, or started)
    where {{ known_by_as_of('coalesce(graded_at, submitted_at, started_at)') }}
),

renamed as (
    select
        attempt_id,
        learner_id,
        assessment_id,
        cast(attempt_number as integer) as attempt_number,
        status,
        started_at,
        submitted_at,
        graded_at,
        score,
        percentage,
        time_spent_minutes,
        file_id as loaded_file_id,
        loaded_at
    from source
)

select * from renamed
