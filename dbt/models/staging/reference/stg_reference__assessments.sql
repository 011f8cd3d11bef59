with

source as (
    select * from {{ source('raw', 'assessments') }}
),

renamed as (
    select
        assessment_id,
        module_id,
        title as assessment_title,
        assessment_type,
        passing_score,
        cast(max_attempts as integer) as max_attempts
    from source
)

select * from renamed
