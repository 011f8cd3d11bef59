with

source as (
    select * from {{ source('raw', 'assessment_attempts') }}
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
        -- an attempt record is its final state: known once graded (or submitted, or started)
        coalesce(graded_at, submitted_at, started_at) as known_at,
        score,
        percentage,
        time_spent_minutes,
        file_id as loaded_file_id,
        loaded_at
    from source
)

select * from renamed
where {{ known_by_as_of('known_at') }}
