-- Each step of each learner's path against the ideal path of their track
-- (int_track_ideal_path), as of the run's as-of day: when the ideal learner does it, when
-- this learner did, whether they did it out of order or skipped it so far (judged among steps
-- of one kind: missions and modules run side by side), and whether it is where they left the
-- path (skipped, done after a later step, or late). learner_path_comparison sums it up.
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
        coalesce(done_on < latest_before, false) as is_out_of_order,
        coalesce(done_on is null and ideal_rank < furthest_rank, false) as is_skipped,
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
)

select
    learner_id,
    track,
    step_kind,
    step_id,
    ideal_rank,
    position as path_position,
    ideal_week,
    cast(
        start_date + to_days(cast(round((ideal_week - tier_start_week) * 7) as integer))
        as date
    ) as ideal_on,
    done_on,
    is_out_of_order,
    is_skipped,
    off_path_reason,
    ideal_week_now,
    as_of_date
from judged
