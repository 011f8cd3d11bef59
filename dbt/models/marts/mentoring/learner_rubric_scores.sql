-- Each learner's mentor rubric scores (0-1) per rubric category, over their reviewed attempts:
-- the rubric feedback a professional7 learner sees about themselves.
with

scores as (
    select
        attempts.learner_id,
        unnest(map_keys(attempts.rubric_scores)) as rubric_category,
        unnest(map_values(attempts.rubric_scores)) as score
    from {{ ref('fct_mission_attempts') }} as attempts
)

select
    learner_id,
    rubric_category,
    count(*) as n_scores,
    avg(score) as mean_score,
    min(score) as min_score,
    max(score) as max_score
from scores
group by learner_id, rubric_category
