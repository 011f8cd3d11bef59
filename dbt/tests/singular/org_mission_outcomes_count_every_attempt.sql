-- The per-organization outcomes add up to the fact: every attempt counted once, none lost to
-- the join on learners. meta.dagster.ref: the asset check it shows as in Dagster.
{{ config(meta={'dagster': {'ref': {'name': 'org_mission_outcomes'}}}) }}

with

outcomes as (
    select
        coalesce(sum(n_attempts), 0) as n_attempts,
        coalesce(sum(n_decided), 0) as n_decided,
        coalesce(sum(n_passed), 0) as n_passed
    from {{ ref('org_mission_outcomes') }}
),

attempts as (
    select
        count(*) as n_attempts,
        count(*) filter (where is_decided) as n_decided,
        count(*) filter (where is_passed) as n_passed
    from {{ ref('fct_mission_attempts') }}
)

select
    outcomes.n_attempts,
    attempts.n_attempts as n_attempts_in_fact
from outcomes
cross join attempts
where
    outcomes.n_attempts is distinct from attempts.n_attempts
    or outcomes.n_decided is distinct from attempts.n_decided
    or outcomes.n_passed is distinct from attempts.n_passed
