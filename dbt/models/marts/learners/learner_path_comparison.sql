-- Each learner's path against the ideal path of their track, summed up from
-- learner_path_steps: the steps done out of order, the requirements skipped so far, the pace
-- against the ideal one in weeks, where they first left the path, and the ideal next step.
with

judged as (
    select * from {{ ref('learner_path_steps') }}
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
        min(ideal_week) filter (where path_position = 1) as first_step_week
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
        on judged.learner_id = learners.learner_id and judged.path_position = learners.n_done
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
