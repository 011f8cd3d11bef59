-- Per mission and tool: how many decided attempts used the tool, the pass rate with and
-- without it (Wilson 95 % intervals), and whether passing and failing attempts use it more
-- differently than sampling allows: a two-proportion z-test of the tool's share among passed
-- against failed attempts, flagged at |z| >= var('tool_flag_z') (3.29: p < 0.001 two-sided,
-- strict because every mission tests each of its tools).
with

attempts as (
    select
        progress_id,
        mission_id,
        final_status = 'pass' as is_passed,
        coalesce(tools_used, []) as tools_used
    from {{ ref('fct_mission_attempts') }}
    where final_status in ('pass', 'fail')
),

mission_tools as (
    select distinct
        mission_id,
        unnest(tools_used) as tool
    from attempts
),

counted as (
    select
        mission_tools.mission_id,
        mission_tools.tool,
        count(*) as n_decided,
        count(*) filter (where attempts.is_passed) as n_passed,
        count(*) filter (where list_contains(attempts.tools_used, mission_tools.tool))
            as n_with_tool,
        count(*) filter (
            where attempts.is_passed and list_contains(attempts.tools_used, mission_tools.tool)
        ) as n_passed_with_tool,
        count(*) filter (
            where not attempts.is_passed
            and list_contains(attempts.tools_used, mission_tools.tool)
        ) as n_failed_with_tool
    from mission_tools
    inner join attempts on mission_tools.mission_id = attempts.mission_id
    group by mission_tools.mission_id, mission_tools.tool
),

tested as (
    select
        *,
        n_decided - n_passed as n_failed,
        n_decided - n_with_tool as n_without_tool,
        n_passed - n_passed_with_tool as n_passed_without_tool,
        n_passed_with_tool / nullif(n_passed, 0) as share_of_passed_using,
        n_failed_with_tool / nullif(n_decided - n_passed, 0) as share_of_failed_using,
        n_with_tool / n_decided as pooled_share
    from counted
),

scored as (
    select
        *,
        (share_of_passed_using - share_of_failed_using) / nullif(
            sqrt(pooled_share * (1 - pooled_share) * (1 / n_passed + 1 / n_failed)), 0
        ) as use_difference_z
    from tested
    where n_passed > 0 and n_failed > 0
    union all by name
    select
        *,
        null as use_difference_z
    from tested
    where n_passed = 0 or n_failed = 0
)

select
    scored.mission_id,
    missions.track,
    missions.tier,
    scored.tool,
    scored.n_decided,
    scored.n_with_tool,
    round(scored.n_with_tool / scored.n_decided, 6) as share_with_tool,
    scored.n_passed_with_tool,
    round(scored.n_passed_with_tool / nullif(scored.n_with_tool, 0), 6) as pass_rate_with_tool,
    round({{ wilson_low('scored.n_passed_with_tool', 'scored.n_with_tool') }}, 6)
        as pass_rate_with_tool_ci_low,
    round({{ wilson_high('scored.n_passed_with_tool', 'scored.n_with_tool') }}, 6)
        as pass_rate_with_tool_ci_high,
    scored.n_without_tool,
    scored.n_passed_without_tool,
    round(scored.n_passed_without_tool / nullif(scored.n_without_tool, 0), 6)
        as pass_rate_without_tool,
    round({{ wilson_low('scored.n_passed_without_tool', 'scored.n_without_tool') }}, 6)
        as pass_rate_without_tool_ci_low,
    round({{ wilson_high('scored.n_passed_without_tool', 'scored.n_without_tool') }}, 6)
        as pass_rate_without_tool_ci_high,
    round(scored.share_of_passed_using, 6) as share_of_passed_using,
    round(scored.share_of_failed_using, 6) as share_of_failed_using,
    round(scored.use_difference_z, 3) as use_difference_z,
    coalesce(abs(scored.use_difference_z) >= {{ var('tool_flag_z', 3.29) }}, false)
        as is_flagged
from scored
inner join {{ ref('stg_reference__missions') }} as missions
    on scored.mission_id = missions.mission_id
