-- Daily and weekly active learners, time on task and video engagement per cohort and day.
with

days as (
    select
        days.*,
        learners.org_id,
        learners.cohort_id
    from {{ ref('int_learner_days_aggregated') }} as days
    inner join {{ ref('stg_reference__learners') }} as learners
        on days.learner_id = learners.learner_id
),

daily as (
    select
        org_id,
        cohort_id,
        activity_date,
        count(*) as daily_active_learners,
        sum(minutes_on_task) as minutes_on_task,
        sum(n_videos) as videos_watched
    from days
    group by all
),

weekly as (
    -- Learners active on any of the 7 days ending on each day.
    select
        daily.org_id,
        daily.cohort_id,
        daily.activity_date,
        count(distinct days.learner_id) as weekly_active_learners
    from daily
    inner join days
        on
            daily.cohort_id = days.cohort_id
            and days.activity_date between daily.activity_date - 6 and daily.activity_date
    group by all
)

select
    daily.org_id,
    daily.cohort_id,
    daily.activity_date,
    daily.daily_active_learners,
    weekly.weekly_active_learners,
    daily.minutes_on_task,
    daily.videos_watched
from daily
inner join weekly
    on daily.cohort_id = weekly.cohort_id and daily.activity_date = weekly.activity_date
