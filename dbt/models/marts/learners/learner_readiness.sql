-- One learner as of the run's day: readiness, tier completion, streaks, and the triage
-- (int_learner_triage): p_disengage_8w, at_risk, risk_priority and the reasons.
-- Readiness (0-100) = 100 x (0.35 competency + 0.30 mission success + 0.20 assessment success
-- + 0.15 engagement), each component in [0, 1] and the score monotone in each (see the yml).

with

learners as (
    select
        learners.learner_id,
        learners.org_id,
        learners.cohort_id,
        learners.display_name,
        learners.subscription_tier,
        learners.enrolled_at
    from {{ ref('stg_reference__learners') }} as learners
),

domain_scores as (
    -- Fraction correct per domain over every answer, from the weekly counts the engine reads.
    select
        learner_id,
        domain as competency_domain,
        sum(n_correct) / nullif(sum(n_answers), 0) as fraction_correct
    from {{ ref('learner_domain_weekly') }}
    group by learner_id, domain
),

competency as (
    -- Mean over the four domains; a domain never assessed counts 0.
    select
        learner_id,
        -- summed in a fixed order: a float sum in arrival order can flip the rounded score
        sum(fraction_correct order by competency_domain) / 4.0 as competency_component
    from domain_scores
    group by learner_id
),

missions as (
    select
        learner_id,
        sum(difficulty) filter (where is_passed) / sum(difficulty) as mission_component
    from {{ ref('fct_mission_attempts') }}
    where is_decided
    group by learner_id
),

assessments as (
    select
        learner_id,
        avg(cast(is_passed as double)) as assessment_component
    from {{ ref('fct_assessment_attempts') }}
    where status = 'graded'
    group by learner_id
),

engagement as (
    select
        learner_id,
        least(count(*) / 10.0, 1.0) as engagement_component
    from {{ ref('int_learner_days_aggregated') }}
    where activity_date between {{ as_of_date() }} - 13 and {{ as_of_date() }}
    group by learner_id
),

scored as (
    select
        learners.*,
        coalesce(competency.competency_component, 0) as competency_component,
        coalesce(missions.mission_component, 0) as mission_component,
        coalesce(assessments.assessment_component, 0) as assessment_component,
        coalesce(engagement.engagement_component, 0) as engagement_component
    from learners
    left join competency on learners.learner_id = competency.learner_id
    left join missions on learners.learner_id = missions.learner_id
    left join assessments on learners.learner_id = assessments.learner_id
    left join engagement on learners.learner_id = engagement.learner_id
),

final as (
    select
        scored.learner_id,
        scored.org_id,
        scored.cohort_id,
        scored.display_name,
        scored.subscription_tier,
        {{ as_of_date() }} as as_of_date,
        round(100 * (
            0.35 * scored.competency_component
            + 0.30 * scored.mission_component
            + 0.20 * scored.assessment_component
            + 0.15 * scored.engagement_component
        ), 1) as readiness_score,
        scored.competency_component,
        scored.mission_component,
        scored.assessment_component,
        scored.engagement_component,
        coalesce(tiers.tier4_complete, false) as tier4_complete,
        coalesce(tiers.tier4_missing, []) as tier4_missing,
        coalesce(tiers.tier5_unlocked, false) as tier5_unlocked,
        coalesce(tiers.tier5_complete, false) as tier5_complete,
        coalesce(tiers.tier5_missing, []) as tier5_missing,
        coalesce(streaks.current_streak_days, 0) as current_streak_days,
        coalesce(streaks.longest_streak_days, 0) as longest_streak_days,
        streaks.last_active_date,
        triage.engagement_status,
        triage.p_disengage_8w,
        triage.p_disengage_is_prior,
        triage.risk_score,
        coalesce(triage.at_risk, false) as at_risk,
        triage.risk_priority,
        coalesce(triage.at_risk_reasons, []) as at_risk_reasons
    from scored
    left join {{ ref('int_learner_tiers_evaluated') }} as tiers
        on scored.learner_id = tiers.learner_id
    left join {{ ref('int_learner_streaks_computed') }} as streaks
        on scored.learner_id = streaks.learner_id
    left join {{ ref('int_learner_triage') }} as triage
        on scored.learner_id = triage.learner_id
)

select
    learner_id,
    org_id,
    cohort_id,
    display_name,
    subscription_tier,
    as_of_date,
    readiness_score,
    case
        when readiness_score >= 75 then 'ready'
        when readiness_score >= 50 then 'developing'
        else 'not_ready'
    end as readiness_band,
    competency_component,
    mission_component,
    assessment_component,
    engagement_component,
    tier4_complete,
    tier4_missing,
    tier5_unlocked,
    tier5_complete,
    tier5_missing,
    current_streak_days,
    longest_streak_days,
    last_active_date,
    engagement_status,
    p_disengage_8w,
    p_disengage_is_prior,
    risk_score,
    at_risk,
    risk_priority,
    at_risk_reasons
from final
