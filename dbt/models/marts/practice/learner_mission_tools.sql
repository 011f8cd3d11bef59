-- Per learner and mission (their latest attempt): the tools they used against the mission's
-- typical set, the tools used by at least half of its passed attempts (var
-- 'typical_tool_share'), and which of those they left out.
with

attempts as (
    select
        learner_id,
        mission_id,
        attempt_number,
        final_status,
        coalesce(tools_used, []) as tools_used
    from {{ ref('fct_mission_attempts') }}
),

passed_uses as (
    select
        mission_id,
        unnest(tools_used) as tool
    from attempts
    where final_status = 'pass'
),

n_passed as (
    select
        mission_id,
        count(*) as n_passed
    from attempts
    where final_status = 'pass'
    group by mission_id
),

typical as (
    select
        passed_uses.mission_id,
        list(passed_uses.tool order by passed_uses.tool) as typical_tools
    from (
        select
            mission_id,
            tool,
            count(*) as n_using
        from passed_uses
        group by mission_id, tool
    ) as passed_uses
    inner join n_passed on passed_uses.mission_id = n_passed.mission_id
    where passed_uses.n_using >= {{ var('typical_tool_share', 0.5) }} * n_passed.n_passed
    group by passed_uses.mission_id
),

latest as (
    select *
    from attempts
    qualify row_number() over (
        partition by learner_id, mission_id order by attempt_number desc
    ) = 1
)

select
    latest.learner_id,
    latest.mission_id,
    latest.attempt_number,
    latest.final_status,
    list_sort(latest.tools_used) as tools_used,
    coalesce(typical.typical_tools, []) as typical_tools,
    list_filter(
        coalesce(typical.typical_tools, []),
        lambda tool: not list_contains(latest.tools_used, tool)  -- noqa: RF02
    ) as missing_typical_tools
from latest
left join typical on latest.mission_id = typical.mission_id
