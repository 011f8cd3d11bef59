with

source as (
    select * from {{ source('raw', 'assessment_answers') }}
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
