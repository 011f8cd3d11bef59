with

source as (
    select * from {{ source('raw', 'modules') }}
),

renamed as (
    select
        module_id,
        track,
        tier,
        cast(module_number as integer) as module_number,
        title as module_title,
        required as is_required
    from source
)

select * from renamed
