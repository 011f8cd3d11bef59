-- The current state of each mission attempt: of its CDC versions, the latest updated_at wins;
-- ties go to the later lifecycle status, then the larger record hash (the same rule as
-- raw.mission_progress_current, so every run and every reader resolves it alike).
{{ resolve_mission_attempts(ref('stg_mission_progress__versions')) }}
