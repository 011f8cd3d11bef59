-- Next actions (seed 003's quick actions, recommended missions and skill gaps), ordered, per
-- learner as of the run's day. Every learner gets at least one.
--   requirement  the first unmet tier 4 requirement (tier 5 once unlocked): modules, then
--                missions, then the capstone, then the rubric mean;
--   path         the first required step skipped so far against the track's ideal path
--                (learner_path_comparison);
--   skill_gap    up to two unpassed missions of the learner's track that train their weakest
--                domain most (the missions' domain weights);
--   study_time   the weekly study hours that lift P(competency mastery by the target) to 0.5,
--                from the forecast's what-if (forecasts.effort_plan), or that none within the
--                weekly limit does;
--   contact      for supervisors: an at-risk or disengaged learner, and why;
--   start / keep_going  when nothing above applies.
-- shown_to_learner applies the entitlements (seed 003): free sees one action, the first that
-- does not come from the forecast; starter3 and professional7 see every learner action.
-- Supervisors see every action of their organization's learners.
{% set plan = forecast_relation('effort_plan') if execute else none %}

with

readiness as (
    select * from {{ ref('learner_readiness') }}
),

evidence as (
    select * from {{ ref('int_learner_risk_evidence') }}
),

tracks as (
    select
        learners.learner_id,
        cohorts.track
    from {{ ref('stg_reference__learners') }} as learners
    inner join {{ ref('stg_reference__cohorts') }} as cohorts
        on learners.cohort_id = cohorts.cohort_id
),

first_requirement as (
    select
        learner_id,
        tier,
        requirement,
        n_left
    from (
        select
            readiness.learner_id,
            requirement.tier,
            requirement.requirement,
            requirement.n_left,
            row_number() over (
                partition by readiness.learner_id
                order by
                    case
                        when requirement.requirement like 'module %' then 1
                        when requirement.requirement like 'mission %' then 2
                        when requirement.requirement like 'capstone %' then 3
                        else 4
                    end,
                    requirement.requirement
            ) as position
        from readiness
        cross join lateral (
            select
                case when readiness.tier4_complete then 'tier 5' else 'tier 4' end as tier,
                unnest(
                    case
                        when not readiness.tier4_complete then readiness.tier4_missing
                        when not readiness.tier5_complete then readiness.tier5_missing
                        else []
                    end
                ) as requirement,
                len(
                    case
                        when not readiness.tier4_complete then readiness.tier4_missing
                        when not readiness.tier5_complete then readiness.tier5_missing
                        else []
                    end
                ) as n_left
        ) as requirement
    ) as ordered
    where position = 1
),

domain_scores as (
    select
        learner_id,
        domain,
        sum(n_correct) / nullif(sum(n_answers), 0) as fraction_correct
    from {{ ref('learner_domain_weekly') }}
    group by learner_id, domain
    having sum(n_answers) > 0
),

weakest_domain as (
    -- The lowest fraction correct (ties: the first domain by name), among two or more.
    select
        learner_id,
        domain,
        fraction_correct,
        mean_fraction_correct
    from (
        select
            learner_id,
            domain,
            fraction_correct,
            avg(fraction_correct) over (partition by learner_id) as mean_fraction_correct,
            count(*) over (partition by learner_id) as n_domains,
            row_number() over (
                partition by learner_id order by fraction_correct, domain
            ) as position
        from domain_scores
    ) as ranked_domains
    where position = 1 and n_domains > 1
),

current_tier as (
    -- The highest tier the learner has attempted (1 beginner .. 4 mastery).
    select
        learner_id,
        max(list_position(['beginner', 'intermediate', 'advanced', 'mastery'], tier)) as tier_rank
    from {{ ref('fct_mission_attempts') }}
    group by learner_id
),

passed_missions as (
    select distinct
        learner_id,
        mission_id
    from {{ ref('fct_mission_attempts') }}
    where is_passed
),

training_missions as (
    -- Unpassed missions of the learner's track, by their weight in the weakest domain.
    select
        weakest_domain.learner_id,
        weakest_domain.domain,
        weakest_domain.fraction_correct,
        weakest_domain.mean_fraction_correct,
        missions.mission_id,
        missions.mission_title,
        row_number() over (
            partition by weakest_domain.learner_id
            order by
                case weakest_domain.domain
                    when 'knowledge' then missions.weight_knowledge
                    when 'skills' then missions.weight_skills
                    when 'application' then missions.weight_application
                    else missions.weight_ethics
                end desc,
                list_position(
                    ['beginner', 'intermediate', 'advanced', 'mastery'], missions.tier
                ),
                missions.mission_id
        ) as position
    from weakest_domain
    inner join tracks on weakest_domain.learner_id = tracks.learner_id
    inner join {{ ref('stg_reference__missions') }} as missions
        on tracks.track = missions.track
    left join passed_missions
        on
            weakest_domain.learner_id = passed_missions.learner_id
            and missions.mission_id = passed_missions.mission_id
    left join current_tier on weakest_domain.learner_id = current_tier.learner_id
    where
        passed_missions.mission_id is null
        -- at the learner's tier or beyond: not an optional beginner mission passed over
        and list_position(['beginner', 'intermediate', 'advanced', 'mastery'], missions.tier)
        >= coalesce(current_tier.tier_rank, 1)
),

{% if plan %}
    effort as (
        select *
        from {{ plan }}
        where as_of_date = {{ as_of_date() }}
    ),
{% else %}
    effort as (
        select
            cast(null as varchar) as learner_id,
            cast(null as double) as recent_hours_per_week,
            cast(null as double) as p_mastery_now,
            cast(null as double) as hours_per_week_needed,
            cast(null as double) as p_mastery_at_plan,
            cast(null as double) as best_hours_tried
        where false
    ),
{% endif %}

candidates as (
    select
        learner_id,
        1 as kind_order,
        'requirement' as kind,
        'learner' as audience,
        false as uses_forecast,
        'Meet the next ' || tier || ' requirement: ' || requirement as action,
        'the first of ' || n_left || ' unmet ' || tier || ' requirement'
        || case when n_left > 1 then 's' else '' end as why
    from first_requirement

    union all

    select
        learner_id,
        1 as kind_order,
        'path' as kind,
        'learner' as audience,
        false as uses_forecast,
        'Go back to ' || skipped_steps[1] || ': the ideal path does it before what you did next'
            as action,
        n_skipped || ' required step' || case when n_skipped > 1 then 's' else '' end
        || ' skipped so far (' || array_to_string(skipped_steps[1:3], ', ')
        || case when n_skipped > 3 then ', ...' else '' end
        || '); the ideal path does ' || skipped_steps[1] || ' next' as why
    from {{ ref('learner_path_comparison') }}
    where n_skipped > 0

    union all

    select
        learner_id,
        2 as kind_order,
        'skill_gap' as kind,
        'learner' as audience,
        false as uses_forecast,
        'Train ' || domain || ' with mission ' || mission_id || ' (' || mission_title || ')'
            as action,
        domain || ' is the weakest domain: ' || printf('%.0f', 100 * fraction_correct)
        || ' % of answers correct, against ' || printf('%.0f', 100 * mean_fraction_correct)
        || ' % over the four domains' as why
    from training_missions
    where position <= 2

    union all

    select
        effort.learner_id,
        3 as kind_order,
        'study_time' as kind,
        'learner' as audience,
        true as uses_forecast,
        case
            when effort.hours_per_week_needed is not null
                then
                    'Study ' || printf('%.1f', effort.hours_per_week_needed)
                    || ' h a week (recently ' || printf('%.1f', effort.recent_hours_per_week)
                    || ')'
            else 'Talk with your mentor about your target date'
        end as action,
        case
            when effort.hours_per_week_needed is not null
                then
                    'lifts the chance of competency mastery by ' || strftime(
                        evidence.target_date, '%Y-%m-%d'
                    )
                    || ' from ' || printf('%.0f', 100 * effort.p_mastery_now) || ' % to '
                    || printf('%.0f', 100 * effort.p_mastery_at_plan) || ' %'
            when effort.best_hours_tried is not null
                then
                    'no weekly effort up to 15 h reaches a 50 % chance of competency mastery by '
                    || strftime(evidence.target_date, '%Y-%m-%d') || ': at '
                    || printf('%.1f', effort.best_hours_tried) || ' h a week it is '
                    || printf('%.0f', 100 * effort.p_mastery_at_plan) || ' %'
            else
                'too little recent study time to project from: the chance of competency'
                || ' mastery by ' || strftime(evidence.target_date, '%Y-%m-%d') || ' is '
                || printf('%.0f', 100 * effort.p_mastery_now) || ' %'
        end as why
    from effort
    inner join evidence on effort.learner_id = evidence.learner_id

    union all

    select
        readiness.learner_id,
        0 as kind_order,
        'contact' as kind,
        'supervisor' as audience,
        false as uses_forecast,
        'Contact: ' || case
            when readiness.engagement_status = 'disengaged'
                then 'inactive for ' || evidence.days_since_active || ' days'
            when evidence.days_since_active >= 7 and evidence.repeated_failure_id is not null
                then
                    'inactive ' || evidence.days_since_active
                    || ' days after two failed attempts at ' || evidence.repeated_failure_id
            when evidence.days_since_active >= 7
                then 'inactive ' || evidence.days_since_active || ' days'
            when readiness.at_risk_reasons[1] like '%chance of stopping%'
                then 'activity is falling off'
            when readiness.at_risk_reasons[1] like 'missed the deadline%'
                then 'a missed deadline'
            else 'off course for the target date'
        end as action,
        coalesce(
            readiness.at_risk_reasons[1],
            'no activity for ' || evidence.days_since_active
            || ' days: the learner has stopped (28 days or more)'
        ) as why
    from readiness
    inner join evidence on readiness.learner_id = evidence.learner_id
    where readiness.at_risk or readiness.engagement_status = 'disengaged'
),

with_fallback as (
    select * from candidates

    union all

    select
        readiness.learner_id,
        4 as kind_order,
        case
            when readiness.engagement_status = 'not_started' then 'start'
            else 'keep_going'
        end as kind,
        'learner' as audience,
        false as uses_forecast,
        case
            when readiness.engagement_status = 'not_started'
                then 'Start your first mission'
            when readiness.tier5_complete
                then 'Keep your competency fresh: review one mastery mission a month'
            else 'Keep your streak going: study on ' || (
                readiness.current_streak_days + 1
            ) || ' days in a row'
        end as action,
        case
            when readiness.engagement_status = 'not_started' then 'no activity yet'
            when readiness.tier5_complete then 'tier 5 complete'
            else 'nothing more urgent is open'
        end as why
    from readiness
    where not exists (
        select 1
        from candidates
        where
            candidates.learner_id = readiness.learner_id
            and candidates.audience = 'learner'
            and not candidates.uses_forecast
    )
),

ranked as (
    select
        with_fallback.*,
        row_number() over (
            partition by with_fallback.learner_id
            order by with_fallback.kind_order, with_fallback.action
        ) as action_rank,
        row_number() over (
            partition by
                with_fallback.learner_id, with_fallback.audience, with_fallback.uses_forecast
            order by with_fallback.kind_order, with_fallback.action
        ) as free_rank
    from with_fallback
)

select
    ranked.learner_id,
    ranked.action_rank,
    ranked.kind,
    ranked.audience,
    ranked.action,
    ranked.why,
    ranked.uses_forecast,
    ranked.audience = 'learner'
    and case readiness.subscription_tier
        when 'free' then ranked.free_rank = 1 and not ranked.uses_forecast
        else true
    end as shown_to_learner
from ranked
inner join readiness on ranked.learner_id = readiness.learner_id
