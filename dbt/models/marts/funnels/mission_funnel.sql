-- The mission funnel per track and tier: attempts started, submitted, reviewed by a mentor,
-- decided and passed, each with its share of attempts started.
with

attempts as (
    select * from {{ ref('fct_mission_attempts') }}
),

counts as (
    select
        track,
        tier,
        count(*) filter (where started_at is not null) as n_started,
        count(*) filter (where submitted_at is not null) as n_submitted,
        count(*) filter (where mentor_reviewed_at is not null) as n_reviewed,
        count(*) filter (where is_decided) as n_decided,
        count(*) filter (where is_passed) as n_passed
    from attempts
    group by track, tier
),

stages as (
    select
        track,
        tier,
        n_started,
        unnest([1, 2, 3, 4, 5]) as stage_order,
        unnest(['started', 'submitted', 'mentor_reviewed', 'decided', 'passed']) as stage,
        unnest([n_started, n_submitted, n_reviewed, n_decided, n_passed]) as n_attempts
    from counts
)

select
    track,
    tier,
    stage_order,
    stage,
    n_attempts,
    round(n_attempts / nullif(n_started, 0), 6) as share_of_started
from stages
