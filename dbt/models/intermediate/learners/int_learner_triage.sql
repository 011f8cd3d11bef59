-- Triage with a capacity: who a supervisor should contact this week, in what order, and why.
-- An active learner is a candidate when one of three triggers holds (thresholds are dbt vars,
-- set by the Dagster warehouse resource):
--   likely to stop     p_disengage_8w >= risk_disengage_threshold;
--   forecast shortfall P(competency mastery by the target) < risk_mastery_threshold, with the
--                      cohort's target date within risk_target_weeks weeks;
--   missed deadline    a mission deadline passed without a submission in the last
--                      risk_deadline_days days.
-- risk_score is p_disengage_8w: each trigger alone makes a candidate, and the chance of losing
-- the learner orders them (then the lower chance of mastery).
-- Per organization, at most risk_capacity_share of its active learners are flagged (the
-- highest risk_score first); candidates past that keep their reasons, unflagged.
{% set stop_at = var('risk_disengage_threshold', 0.50) %}
{% set mastery_below = var('risk_mastery_threshold', 0.10) %}
{% set target_within = var('risk_target_weeks', 8) %}
{% set deadline_within = var('risk_deadline_days', 14) %}
{% set capacity_share = var('risk_capacity_share', 0.20) %}

with

evidence as (
    select * from {{ ref('int_learner_risk_evidence') }}
),

triggers as (
    select
        *,
        engagement_status = 'active'
        and coalesce(p_disengage_8w >= {{ stop_at }}, false) as is_likely_to_stop,
        engagement_status = 'active'
        and not mastered_now
        and coalesce(p_mastery_by_target < {{ mastery_below }}, false)
        and coalesce(weeks_to_target between 0 and {{ target_within }}, false)
            as is_forecast_short,
        engagement_status = 'active'
        and coalesce(
            missed_deadline_date >= {{ as_of_date() }} - {{ deadline_within }}, false
        ) as is_deadline_missed
    from evidence
),

scored as (
    select
        *,
        is_likely_to_stop or is_forecast_short or is_deadline_missed as is_candidate,
        coalesce(p_disengage_8w, 0) as risk_score
    from triggers
),

capacity as (
    select
        org_id,
        cast(
            floor({{ capacity_share }} * count(*) filter (where engagement_status = 'active'))
            as integer
        ) as n_flags
    from evidence
    group by org_id
),

ranked as (
    select
        scored.*,
        capacity.n_flags,
        row_number() over (
            partition by scored.org_id
            order by
                scored.is_candidate desc,
                scored.engagement_status = 'active' desc,
                scored.risk_score desc,
                scored.p_disengage_8w desc nulls last,
                scored.p_mastery_by_target asc nulls last,
                scored.learner_id asc
        ) as risk_priority
    from scored
    left join capacity on scored.org_id = capacity.org_id
),

evidence_words as (
    -- What was observed, in words, behind a high chance of stopping.
    select
        learner_id,
        list_filter([
            case
                when hours_weeks_3_6 >= 1 and hours_last_2w < 0.5 * hours_weeks_3_6
                    then
                        'study time fell from ' || printf('%.1f', hours_weeks_3_6) || ' to '
                        || printf('%.1f', hours_last_2w) || ' h/week over the last 2 weeks'
            end,
            case
                when
                    active_days_weeks_3_6 >= 4 and active_days_last_2w < active_days_weeks_3_6 / 4.0
                    then
                        'study days fell from ' || printf('%.1f', active_days_weeks_3_6 / 4.0)
                        || ' to ' || printf('%.1f', active_days_last_2w / 2.0) || ' a week'
            end,
            case
                when days_since_active >= 7
                    then 'inactive for ' || days_since_active || ' days'
            end,
            case
                when longest_gap_8w >= 14 and coalesce(days_since_active, 0) < 7
                    then
                        'a gap of '
                        || longest_gap_8w
                        || ' days without activity in the last 8 weeks'
            end,
            case
                when failed_attempts_4w >= 2
                    then
                        failed_attempts_4w || ' failed attempts in 4 weeks'
                        || coalesce(', twice in a row at ' || repeated_failure_id, '')
            end
        ], lambda x: x is not null) as observed
    from evidence
),

reasons as (
    select
        ranked.learner_id,
        list_filter([
            case
                when ranked.is_likely_to_stop
                    then
                        printf('%.0f', 100 * ranked.p_disengage_8w)
                        || ' % chance of stopping within 8 weeks: '
                        || case
                            when len(evidence_words.observed) > 0
                                then array_to_string(evidence_words.observed, '; ')
                            else 'recent activity follows the pattern of learners who stopped'
                        end
            end,
            case
                when ranked.is_deadline_missed
                    then
                        'missed the deadline of mission ' || ranked.missed_deadline_mission_id
                        || ' on ' || strftime(ranked.missed_deadline_date, '%Y-%m-%d')
            end,
            case
                when ranked.is_forecast_short
                    then
                        printf('%.0f', 100 * ranked.p_mastery_by_target)
                        || ' % chance of competency mastery by the target date '
                        || strftime(ranked.target_date, '%Y-%m-%d') || ' ('
                        || ranked.weeks_to_target || ' weeks away)'
            end
        ], lambda x: x is not null) as at_risk_reasons  -- noqa: RF02
    from ranked
    left join evidence_words on ranked.learner_id = evidence_words.learner_id
)

select
    ranked.learner_id,
    ranked.org_id,
    ranked.engagement_status,
    ranked.p_disengage_8w,
    ranked.is_prior as p_disengage_is_prior,
    ranked.risk_score,
    ranked.is_likely_to_stop,
    ranked.is_forecast_short,
    ranked.is_deadline_missed,
    ranked.is_candidate and ranked.risk_priority <= ranked.n_flags as at_risk,
    ranked.risk_priority,
    reasons.at_risk_reasons
from ranked
left join reasons on ranked.learner_id = reasons.learner_id
