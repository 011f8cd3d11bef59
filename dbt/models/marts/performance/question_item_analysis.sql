-- Classical item analysis per question: difficulty (proportion correct) and discrimination
-- (point-biserial correlation of the item with the rest of the attempt's score). A question is
-- flagged when its proportion correct disagrees with its level: its Wilson 95 % interval lies
-- wholly above the mean of the level below it, or wholly below the mean of the level above it
-- (with at least 30 answers). Items everyone answers alike have no discrimination (null).
with

answers as (
    select
        answers.attempt_id,
        answers.question_id,
        cast(answers.is_correct as integer) as correct
    from {{ ref('stg_assessment_attempts__answers') }} as answers
),

attempt_totals as (
    select
        attempt_id,
        sum(correct) as n_correct,
        count(*) as n_answered
    from answers
    group by attempt_id
),

items as (
    select
        answers.question_id,
        count(*) as n_answers,
        sum(answers.correct) as n_correct,
        avg(answers.correct) as proportion_correct,
        -- The rest score leaves the item itself out, so it does not correlate with itself.
        corr(
            answers.correct,
            (totals.n_correct - answers.correct) / nullif(totals.n_answered - 1, 0)
        ) as point_biserial
    from answers
    inner join attempt_totals as totals on answers.attempt_id = totals.attempt_id
    group by answers.question_id
),

labelled as (
    select
        items.*,
        questions.assessment_id,
        questions.competency_domain,
        questions.difficulty_level,
        case questions.difficulty_level
            when 'beginner' then 1 when 'intermediate' then 2 when 'advanced' then 3
        end as level_rank
    from items
    inner join {{ ref('stg_reference__questions') }} as questions
        on items.question_id = questions.question_id
),

level_means as (
    select
        level_rank,
        avg(proportion_correct) as mean_proportion_correct
    from labelled
    where n_answers >= 30
    group by level_rank
)

select
    labelled.question_id,
    labelled.assessment_id,
    labelled.competency_domain,
    labelled.difficulty_level,
    labelled.n_answers,
    round(labelled.proportion_correct, 6) as proportion_correct,
    round(case when not isnan(labelled.point_biserial) then labelled.point_biserial end, 6)
        as point_biserial,
    coalesce(
        labelled.n_answers >= 30
        and (
            {{ wilson_low('labelled.n_correct', 'labelled.n_answers') }}
            > easier.mean_proportion_correct
            or {{ wilson_high('labelled.n_correct', 'labelled.n_answers') }}
            < harder.mean_proportion_correct
        ),
        false
    ) as is_label_disputed
from labelled
left join level_means as easier on labelled.level_rank - 1 = easier.level_rank
left join level_means as harder on labelled.level_rank + 1 = harder.level_rank
