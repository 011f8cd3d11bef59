-- The mission catalog as people read it: titles, and tiers in course order (beginner first),
-- so no screen shows a bare mission id or sorts tiers alphabetically.
select
    mission_id,
    mission_title,
    track,
    tier,
    case tier
        when 'beginner' then 1
        when 'intermediate' then 2
        when 'advanced' then 3
        when 'mastery' then 4
    end as tier_order,
    difficulty,
    subtask_count,
    is_required
from {{ ref('stg_reference__missions') }}
