-- The ideal path of each track, from the data: its required missions and modules, tier by
-- tier, and within a tier ordered by when the learners who completed each one by their
-- cohort's target date completed it (the median week since their cohort started: the pace of
-- the learners who make it). Only learners who started in the track's first tier set the
-- pace (one placed in a higher tier starts it at week 0). A step that at least
-- var('ideal_path_min_learners') (default 3) of them completed has an ideal week; the others
-- follow in catalog order. A table, not a view: a few rows per track, read by
-- learner_path_steps and its tests, each of which would otherwise rank every learner's steps
-- again (3.3 s for one not_null test in a one-day build at 100,000 learners).
{{ config(materialized='table') }}

with

reference as (
    select
        track,
        step_id,
        date_diff('day', start_date, done_on) / 7.0 as weeks_in
    from {{ ref('int_learner_path_steps') }}
    where
        done_on is not null
        and done_on <= target_mastery_date
        and first_tier_order = 1
),

paced as (
    select
        track,
        step_id,
        median(weeks_in) as ideal_week,
        count(*) as n_reference_learners
    from reference
    group by track, step_id
    having count(*) >= {{ var('ideal_path_min_learners', 3) }}
),

steps as (
    select distinct
        track,
        step_kind,
        step_id,
        tier_order,
        catalog_order
    from {{ ref('int_learner_path_steps') }}
)

select
    steps.track,
    steps.step_kind,
    steps.step_id,
    steps.tier_order,
    row_number() over (
        partition by steps.track
        order by steps.tier_order asc, paced.ideal_week asc nulls last, steps.catalog_order asc
    ) as ideal_rank,
    round(paced.ideal_week, 3) as ideal_week,
    coalesce(paced.n_reference_learners, 0) as n_reference_learners
from steps
left join paced on steps.track = paced.track and steps.step_id = paced.step_id
