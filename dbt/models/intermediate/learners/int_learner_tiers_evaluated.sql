-- Tier 4 (advanced) and tier 5 (mastery) completion per learner, on the track of the learner's
-- cohort, with every requirement still unmet (PRODUCT.md section 3):
--   tier 4: every required advanced module completed, every required advanced mission passed
--           and approved with a reflection;
--   tier 5: every required mastery mission passed and approved with a reflection, the capstone
--           passed with all five phases, and the mean rubric score over passed mastery
--           missions at least 0.75. Tier 5 unlocks when tier 4 is complete.
-- A table, not a view: it needs only the attempt facts and modules, so it is built beside the
-- weekly domain counts instead of inside learner_readiness, the build's last node.
{{ config(materialized='table') }}

with

learners as (
    select
        learners.learner_id,
        cohorts.track
    from {{ ref('stg_reference__learners') }} as learners
    inner join {{ ref('stg_reference__cohorts') }} as cohorts
        on learners.cohort_id = cohorts.cohort_id
),

modules_completed as (
    select
        learner_id,
        module_id
    from {{ ref('int_learner_modules_completed') }}
),

missions_met as (
    select
        learner_id,
        mission_id,
        bool_or(is_passed and status = 'approved' and is_reflection_submitted) as is_met,
        bool_or(is_passed and capstone_phases_completed = 5) as is_capstone_met,
        max(rubric_mean) filter (where is_passed) as passed_rubric_mean
    from {{ ref('fct_mission_attempts') }}
    group by learner_id, mission_id
),

requirements as (
    select
        learners.learner_id,
        modules.tier,
        'module ' || modules.module_id as requirement,
        modules_completed.module_id is not null as is_met
    from learners
    inner join {{ ref('stg_reference__modules') }} as modules
        on learners.track = modules.track and modules.is_required
    left join modules_completed
        on
            learners.learner_id = modules_completed.learner_id
            and modules.module_id = modules_completed.module_id
    where modules.tier = 'advanced'

    union all

    select
        learners.learner_id,
        missions.tier,
        'mission ' || missions.mission_id || ' passed, approved, with a reflection' as requirement,
        coalesce(missions_met.is_met, false) as is_met
    from learners
    inner join {{ ref('stg_reference__missions') }} as missions
        on learners.track = missions.track and missions.is_required
    left join missions_met
        on
            learners.learner_id = missions_met.learner_id
            and missions.mission_id = missions_met.mission_id
    where missions.tier in ('advanced', 'mastery')

    union all

    select
        learners.learner_id,
        'mastery' as tier,
        'capstone ' || missions.mission_id || ' passed with all five phases' as requirement,
        coalesce(missions_met.is_capstone_met, false) as is_met
    from learners
    inner join {{ ref('stg_reference__missions') }} as missions
        on learners.track = missions.track and missions.mission_type = 'capstone'
    left join missions_met
        on
            learners.learner_id = missions_met.learner_id
            and missions.mission_id = missions_met.mission_id
),

rubric as (
    select
        learners.learner_id,
        avg(missions_met.passed_rubric_mean) as mastery_rubric_mean
    from learners
    inner join {{ ref('stg_reference__missions') }} as missions
        on learners.track = missions.track and missions.tier = 'mastery'
    inner join missions_met
        on
            learners.learner_id = missions_met.learner_id
            and missions.mission_id = missions_met.mission_id
    where missions_met.passed_rubric_mean is not null
    group by learners.learner_id
),

per_learner as (
    select
        requirements.learner_id,
        coalesce(bool_and(requirements.is_met) filter (
            where requirements.tier = 'advanced'
        ), true) as tier4_requirements_met,
        coalesce(bool_and(requirements.is_met) filter (
            where requirements.tier = 'mastery'
        ), true) as tier5_requirements_met,
        coalesce(list(requirements.requirement order by requirements.requirement) filter (
            where requirements.tier = 'advanced' and not requirements.is_met
        ), []) as tier4_missing,
        coalesce(list(requirements.requirement order by requirements.requirement) filter (
            where requirements.tier = 'mastery' and not requirements.is_met
        ), []) as tier5_missing_requirements
    from requirements
    group by requirements.learner_id
)

select
    per_learner.learner_id,
    per_learner.tier4_requirements_met as tier4_complete,
    per_learner.tier4_requirements_met as tier5_unlocked,
    rubric.mastery_rubric_mean,
    per_learner.tier4_requirements_met
    and per_learner.tier5_requirements_met
    and coalesce(rubric.mastery_rubric_mean >= 0.75, false) as tier5_complete,
    per_learner.tier4_missing,
    case
        when coalesce(rubric.mastery_rubric_mean >= 0.75, false)
            then per_learner.tier5_missing_requirements
        else list_append(
            per_learner.tier5_missing_requirements,
            'mean rubric score over passed mastery missions at least 0.75 (now '
            || coalesce(cast(round(rubric.mastery_rubric_mean, 2) as varchar), 'none') || ')'
        )
    end as tier5_missing
from per_learner
left join rubric on per_learner.learner_id = rubric.learner_id
