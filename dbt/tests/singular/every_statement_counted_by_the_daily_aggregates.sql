-- Statements the daily aggregates have not counted. An incremental build takes in a statement
-- that arrives after its day was built (late telemetry, or a record released from quarantine)
-- by rebuilding from that day; this warns if one is ever left out all the same.
-- meta.dagster.ref: the asset check it shows as in Dagster (it reads two models).
{{ config(
    severity='warn',
    meta={'dagster': {'ref': {'name': 'int_learner_days_aggregated'}}},
) }}

with

counted as (
    select coalesce(sum(n_statements), 0) as n_statements
    from {{ ref('int_learner_days_aggregated') }}
),

landed as (
    select count(*) as n_statements
    from {{ ref('stg_xapi__statements') }}
)

select landed.n_statements - counted.n_statements as statements_not_counted
from landed, counted
where landed.n_statements <> counted.n_statements
