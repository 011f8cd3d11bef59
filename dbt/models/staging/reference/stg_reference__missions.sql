with

source as (
    select * from {{ source('raw', 'missions') }}
),

renamed as (
    select
        mission_id,
        title as mission_title,
        track,
        tier,
        mission_type,
        cast(difficulty as integer) as difficulty,
        time_constraint_hours,
        cast(subtask_count as integer) as subtask_count,
        required as is_required,
        weight_knowledge,
        weight_skills,
        weight_application,
        weight_ethics
    from source
)

select * from renamed
