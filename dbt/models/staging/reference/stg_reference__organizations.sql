with

source as (
    select * from {{ source('raw', 'organizations') }}
),

renamed as (
    select
        org_id,
        name as org_name
    from source
)

select * from renamed
