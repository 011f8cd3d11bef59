with

source as (
    select * from {{ source('raw', 'cohorts') }}
),

renamed as (
    select
        cohort_id,
        org_id,
        name as cohort_name,
        track,
        start_date,
        target_mastery_date
    from source
)

select * from renamed
