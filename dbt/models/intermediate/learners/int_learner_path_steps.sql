-- Every required step of a learner's track, from the tier they started in (a learner placed
-- in a higher tier has no lower-tier steps), with the day they completed it: a required
-- mission passed (its first pass, decided by the mentor's review) or a required module
-- completed. The ideal path (int_track_ideal_path) ranks the steps; this model says what
-- each learner did of them.
with

tiers as (
    select
        unnest(['beginner', 'intermediate', 'advanced', 'mastery']) as tier,
        unnest([1, 2, 3, 4]) as tier_order
),

steps as (
    select
        missions.track,
        'mission' as step_kind,
        missions.mission_id as step_id,
        tiers.tier_order,
        tiers.tier_order * 100
        + 10 * cast(regexp_extract(missions.mission_id, '(\d+)$', 1) as integer) as catalog_order
    from {{ ref('stg_reference__missions') }} as missions
    inner join tiers on missions.tier = tiers.tier
    where missions.is_required
    union all
    select
        modules.track,
        'module' as step_kind,
        modules.module_id as step_id,
        tiers.tier_order,
        tiers.tier_order * 100 + 10 * modules.module_number - 5 as catalog_order
    from {{ ref('stg_reference__modules') }} as modules
    inner join tiers on modules.tier = tiers.tier
    where modules.is_required
),

learners as (
    select
        learners.learner_id,
        cohorts.track,
        cohorts.start_date,
        cohorts.target_mastery_date
    from {{ ref('stg_reference__learners') }} as learners
    inner join {{ ref('stg_reference__cohorts') }} as cohorts
        on learners.cohort_id = cohorts.cohort_id
),

passed as (
    select
        learner_id,
        mission_id as step_id,
        min(cast(coalesce(mentor_reviewed_at, updated_at) as date)) as done_on
    from {{ ref('fct_mission_attempts') }}
    where is_passed
    group by learner_id, mission_id
),

completed as (
    select
        learner_id,
        module_id as step_id,
        last_completed_on as done_on
    from {{ ref('int_learner_modules_completed') }}
),

first_tier as (
    -- the lowest tier the learner has worked in: of a mission attempted or a module completed
    select
        learner_id,
        min(tier_order) as first_tier_order
    from (
        select
            attempts.learner_id,
            tiers.tier_order
        from {{ ref('fct_mission_attempts') }} as attempts
        inner join tiers on attempts.tier = tiers.tier
        union all
        select
            completed.learner_id,
            steps.tier_order
        from completed
        inner join steps on completed.step_id = steps.step_id
    )
    group by learner_id
)

select
    learners.learner_id,
    learners.track,
    learners.start_date,
    learners.target_mastery_date,
    steps.step_kind,
    steps.step_id,
    steps.tier_order,
    steps.catalog_order,
    coalesce(first_tier.first_tier_order, 1) as first_tier_order,
    coalesce(passed.done_on, completed.done_on) as done_on
from learners
inner join steps on learners.track = steps.track
left join first_tier on learners.learner_id = first_tier.learner_id
left join passed
    on learners.learner_id = passed.learner_id and steps.step_id = passed.step_id
left join completed
    on learners.learner_id = completed.learner_id and steps.step_id = completed.step_id
where steps.tier_order >= coalesce(first_tier.first_tier_order, 1)
