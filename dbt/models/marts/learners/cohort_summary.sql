-- One cohort for its supervisors: size, activity, pass rate, readiness and risk.
with

readiness as (
    select * from {{ ref('learner_readiness') }}
),

missions as (
    select
        learners.cohort_id,
        count(*) filter (where attempts.is_decided) as n_decided,
        count(*) filter (where attempts.is_passed) as n_passed
    from {{ ref('fct_mission_attempts') }} as attempts
    inner join {{ ref('stg_reference__learners') }} as learners
        on attempts.learner_id = learners.learner_id
    group by learners.cohort_id
),

final as (
    select
        cohorts.org_id,
        coalesce(organizations.org_name, cohorts.org_id) as org_name,
        cohorts.cohort_id,
        cohorts.cohort_name,
        cohorts.track,
        cohorts.target_mastery_date,
        count(readiness.learner_id) as n_learners,
        count(readiness.learner_id) filter (
            where readiness.last_active_date > readiness.as_of_date - 7
        ) as n_active_7d,
        round(missions.n_passed / nullif(missions.n_decided, 0), 6) as mission_pass_rate,
        coalesce(missions.n_decided, 0) as n_missions_decided,
        round(avg(readiness.readiness_score), 1) as mean_readiness,
        count(readiness.learner_id) filter (where readiness.at_risk) as n_at_risk,
        count(readiness.learner_id) filter (where readiness.tier4_complete) as n_tier4_complete,
        count(readiness.learner_id) filter (where readiness.tier5_complete) as n_tier5_complete
    from {{ ref('stg_reference__cohorts') }} as cohorts
    left join {{ ref('stg_reference__organizations') }} as organizations
        on cohorts.org_id = organizations.org_id
    left join readiness on cohorts.cohort_id = readiness.cohort_id
    left join missions on cohorts.cohort_id = missions.cohort_id
    group by all
)

select * from final
