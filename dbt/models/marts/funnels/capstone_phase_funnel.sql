-- The capstone funnel per track: capstone attempts with each of the five phases completed, in
-- phase order, and the share of capstone attempts that got that far.
with

capstones as (
    select
        attempts.track,
        attempts.capstone_phases
    from {{ ref('fct_mission_attempts') }} as attempts
    where attempts.mission_type = 'capstone'
),

phases as (
    select
        unnest([
            'investigation', 'decision_making', 'design_remediation', 'reporting', 'presentation'
        ]) as phase,
        unnest([1, 2, 3, 4, 5]) as phase_order
)

select
    capstones.track,
    phases.phase_order,
    phases.phase,
    count(*) filter (
        where json_exists(capstones.capstone_phases, '$.' || phases.phase)
    ) as n_completed,
    count(*) as n_capstone_attempts,
    round(
        count(*) filter (where json_exists(capstones.capstone_phases, '$.' || phases.phase))
        / count(*), 6
    ) as share_completed
from capstones
cross join phases
group by capstones.track, phases.phase_order, phases.phase
