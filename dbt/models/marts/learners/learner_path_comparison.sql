-- Each learner's path against the ideal path of their track (int_track_ideal_path), as of the
-- run's as-of day: the steps done out of order, the requirements skipped so far (both judged
-- among steps of one kind: missions and modules run side by side), the pace against the
-- ideal one in weeks, where they first left the path, and the ideal next step.
-- A learner placed in a higher tier is compared from that tier on, with the ideal timeline
-- shifted to where it enters that tier.
with

steps as (
    select
        steps.learner_id,
        steps.track,
        steps.start_date,
        steps.step_kind,
        steps.step_id,
        steps.tier_order,
        steps.first_tier_order,
        ideal.ideal_rank,
        ideal.ideal_week,
        case when steps.done_on <= {{ as_of_date() }} then steps.done_on end as done_on,
        {{ as_of_date() }} as as_of_date
    from {{ ref('int_learner_path_steps') }} as steps
    inner join {{ ref('int_track_ideal_path') }} as ideal
        on steps.track = ideal.track and steps.step_id = ideal.step_id
),

offsets as (
    -- where the ideal timeline stands when each tier begins: the last ideal week before it
    select
        track,
        tier_order,
        coalesce(
            max(ideal_week) over (
                partition by track order by tier_order
                range between unbounded preceding and 1 preceding
            ),
            0
        ) as tier_start_week
    from {{ ref('int_track_ideal_path') }}
    qualify row_number() over (partition by track, tier_order order by ideal_rank) = 1
),

ordered as (
    select
        steps.*,
        offsets.tier_start_week,
        date_diff('day', steps.start_date, steps.as_of_date) / 7.0 + offsets.tier_start_week
            as ideal_week_now,
        date_diff('day', steps.start_date, steps.done_on) / 7.0 + offsets.tier_start_week
            as ideal_week_done,
        row_number() over (partition by steps.learner_id order by steps.ideal_rank) as position,
        -- Order is judged among steps of one kind: missions and modules run side by side.
        -- The latest completion among the steps before (a step not done counts as never).
        max(coalesce(steps.done_on, date '9999-12-31')) over (
            partition by steps.learner_id, steps.step_kind order by steps.ideal_rank
            rows between unbounded preceding and 1 preceding
        ) as latest_before,
        -- the earliest completion among the steps after
        min(steps.done_on) over (
            partition by steps.learner_id, steps.step_kind order by steps.ideal_rank
            rows between 1 following and unbounded following
        ) as earliest_after,
        max(case when steps.done_on is not null then steps.ideal_rank end) over (
            partition by steps.learner_id, steps.step_kind
        ) as furthest_rank
    from steps
    inner join offsets
        on steps.track = offsets.track and steps.first_tier_order = offsets.tier_order
),

judged as (
    select
        *,
        done_on is not null and done_on < latest_before as is_out_of_order,
        done_on is null and ideal_rank < furthest_rank as is_skipped,
        case
            when done_on is null and ideal_rank < furthest_rank then 'skipped'
            when done_on is not null and done_on > earliest_after then 'done after a later step'
            when
                ideal_week is not null
                and coalesce(ideal_week_done, ideal_week_now)
                > ideal_week + {{ var('ideal_path_grace_weeks', 2) }}
                then 'late'
        end as off_path_reason
    from ordered
),

learners as (
    select
        learner_id,
        any_value(track) as track,
        any_value(as_of_date) as as_of_date,
        count(*) as n_path_steps,
        count(done_on) as n_done,
        count(*) filter (where is_out_of_order) as n_out_of_order,
        coalesce(list(step_id order by ideal_rank) filter (where is_out_of_order), [])
            as out_of_order_steps,
        count(*) filter (where is_skipped) as n_skipped,
        coalesce(list(step_id order by ideal_rank) filter (where is_skipped), []) as skipped_steps,
        any_value(ideal_week_now) as ideal_week_now,
        arg_min(step_id, ideal_rank) filter (where off_path_reason is not null)
            as left_path_at_step,
        arg_min(off_path_reason, ideal_rank) filter (where off_path_reason is not null)
            as left_path_reason,
        arg_min(step_id, ideal_rank) filter (where done_on is null) as ideal_next_step,
        arg_min(step_kind, ideal_rank) filter (where done_on is null) as ideal_next_step_kind,
        min(ideal_week) filter (where position = 1) as first_step_week
    from judged
    group by learner_id
),

progress as (
    -- the ideal week by which the ideal learner had done as many steps as this one has
    select
        judged.learner_id,
        judged.ideal_week as progress_week
    from judged
    inner join learners
        on judged.learner_id = learners.learner_id and judged.position = learners.n_done
)

select
    learners.learner_id,
    learners.track,
    learners.as_of_date,
    learners.n_path_steps,
    learners.n_done,
    learners.n_out_of_order,
    learners.out_of_order_steps,
    learners.n_skipped,
    learners.skipped_steps,
    round(
        case
            when learners.n_done = 0
                then least(0, learners.first_step_week - learners.ideal_week_now)
            else progress.progress_week - learners.ideal_week_now
        end,
        1
    ) as weeks_ahead,
    learners.left_path_at_step,
    learners.left_path_reason,
    learners.ideal_next_step,
    learners.ideal_next_step_kind
from learners
left join progress on learners.learner_id = progress.learner_id
