with

source as (
    select * from {{ source('raw', 'learners') }}
),

renamed as (
    select
        learner_id,
        org_id,
        cohort_id,
        display_name,
        email,
        subscription_tier,
        enrolled_at,
        mentor_id
    from source
)

select * from renamed
