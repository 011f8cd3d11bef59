-- Per mission: the difficulty-vs-performance figures, and a flag where the mission's empirical
-- difficulty disagrees with its label: its pass rate's Wilson interval lies wholly above the
-- pooled pass rate of missions of the same tier labelled one level easier, or wholly below
-- that of missions labelled one level harder.
with

attempts as (
    select * from {{ ref('fct_mission_attempts') }}
),

per_mission as (
    select
        mission_id,
        track,
        tier,
        difficulty,
        count(*) as n_attempts,
        count(*) filter (where is_decided) as n_decided,
        count(*) filter (where is_passed) as n_passed,
        count(*) filter (where is_decided and attempt_number = 1) as n_first_decided,
        count(*) filter (where is_passed and attempt_number = 1) as n_first_passed,
        avg(mentor_score) filter (where is_decided) as mean_mentor_score,
        median(minutes_spent) filter (where is_decided) as median_minutes,
        avg(hints_used) as hints_per_attempt,
        count(*) filter (where drop_off_stage is not null) as n_dropped
    from attempts
    group by mission_id, track, tier, difficulty
),

drop_offs as (
    select
        mission_id,
        drop_off_stage,
        count(*) as n_attempts
    from attempts
    where drop_off_stage is not null
    group by mission_id, drop_off_stage
),

top_drop_off as (
    -- the earliest of the most common stages (mode() breaks a tie by the order rows come in)
    select
        mission_id,
        first(drop_off_stage order by n_attempts desc, drop_off_stage asc)
            as most_common_drop_off_stage
    from drop_offs
    group by mission_id
),

pooled as (
    select
        tier,
        difficulty,
        sum(n_passed) / nullif(sum(n_decided), 0) as pooled_pass_rate
    from per_mission
    group by tier, difficulty
),

rated as (
    select
        per_mission.*,
        round(per_mission.n_passed / nullif(per_mission.n_decided, 0), 6) as pass_rate,
        round({{ wilson_low('per_mission.n_passed', 'per_mission.n_decided') }}, 6)
            as pass_rate_ci_low,
        round({{ wilson_high('per_mission.n_passed', 'per_mission.n_decided') }}, 6)
            as pass_rate_ci_high,
        round(
            per_mission.n_first_passed / nullif(per_mission.n_first_decided, 0), 6
        ) as first_attempt_pass_rate,
        top_drop_off.most_common_drop_off_stage,
        easier.pooled_pass_rate as easier_label_pass_rate,
        harder.pooled_pass_rate as harder_label_pass_rate
    from per_mission
    left join top_drop_off on per_mission.mission_id = top_drop_off.mission_id
    left join pooled as easier
        on per_mission.tier = easier.tier and per_mission.difficulty - 1 = easier.difficulty
    left join pooled as harder
        on per_mission.tier = harder.tier and per_mission.difficulty + 1 = harder.difficulty
)

select
    mission_id,
    track,
    tier,
    difficulty,
    n_attempts,
    n_decided,
    n_passed,
    pass_rate,
    pass_rate_ci_low,
    pass_rate_ci_high,
    first_attempt_pass_rate,
    mean_mentor_score,
    median_minutes,
    hints_per_attempt,
    n_dropped,
    most_common_drop_off_stage,
    easier_label_pass_rate,
    harder_label_pass_rate,
    coalesce(
        pass_rate_ci_low > easier_label_pass_rate
        or pass_rate_ci_high < harder_label_pass_rate,
        false
    ) as is_label_disputed
from rated
