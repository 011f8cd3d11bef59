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
        score,
        percentage,
        time_spent_minutes,
        file_id as loaded_file_id,
        loaded_at
    from source
)

select * from renamed
