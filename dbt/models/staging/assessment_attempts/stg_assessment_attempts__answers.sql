{% set attempt_time = 'coalesce(attempts.graded_at, attempts.submitted_at, attempts.started_at)' %}

with

source as (
    select * from {{ source('raw', 'assessment_answers') }}
    -- the answers of the attempts known by the as-of day
    where attempt_id in (
        select attempts.attempt_id from {{ source('raw', 'assessment_attempts') }} as attempts
        where {{ known_by_as_of(attempt_time) }}
    )
),

renamed as (
    select
        attempt_id,
        answer_number,
        question_id,
        is_correct,
        points_earned
    from source
)

select * from renamed
