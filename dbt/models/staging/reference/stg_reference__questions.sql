with

source as (
    select * from {{ source('raw', 'questions') }}
),

renamed as (
    select
        question_id,
        assessment_id,
        question_type,
        competency_domain,
        difficulty_level,
        points
    from source
)

select * from renamed
