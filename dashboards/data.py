"""All the dashboards' queries: scoped to the signed-in principal inside the SQL.

Every query reads the serving snapshot (pipelines/serving.py) through a short-lived cursor on
that snapshot's read-only database, so a pipeline run that publishes meanwhile never causes an
error or a half-built view. Every query names its scope as parameters — role, organization,
learner — in a ``scoped`` common table expression that every learner-level row must join;
nothing a user types is ever spliced into SQL.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import polars as pl

from pipelines.serving import Snapshot, current, view_statements

from .auth import Filters, Principal

# The learners a principal may see: every one (admin), their organization's (supervisor), or
# themselves (student). Anything else sees no one.
# A supervisor's or admin's filters (auth.Filters) narrow it: one organization, some cohorts,
# some tracks. They are parameters too, and only ever narrow.
SCOPED = """
scoped as (
    select r.learner_id, r.org_id, r.cohort_id
    from marts.learner_readiness as r
    where ($role = 'admin'
        or ($role = 'supervisor' and r.org_id = $org_id)
        or ($role = 'student' and r.learner_id = $learner_id))
        and ($filter_org = '' or r.org_id = $filter_org)
        and (len($filter_cohorts::varchar[]) = 0
            or list_contains($filter_cohorts::varchar[], r.cohort_id))
        and (len($filter_tracks::varchar[]) = 0 or r.cohort_id in (
            select c.cohort_id from marts.cohort_summary as c
            where list_contains($filter_tracks::varchar[], c.track)
        ))
        and $filter_since <= $filter_until  -- an empty date range shows no one
)
"""
# The date range, for rows with a week_start: `and {IN_RANGE.format(alias)}`.
IN_RANGE = "{0}.week_start between $filter_since and $filter_until"
_EVER = (dt.date(1900, 1, 1), dt.date(2999, 12, 31))
# Mission titles and tiers in course order (beginner first), to join for display.
MISSION_TITLES = "select mission_id, mission_title, tier_order from marts.dim_missions"
TIER_ORDER = "(select distinct tier, tier_order from marts.dim_missions)"
# The track filter, for program-wide catalog rows with a track column.
IN_TRACKS = (
    "(len($filter_tracks::varchar[]) = 0 or list_contains($filter_tracks::varchar[], {0}.track))"
)
# The one learner a per-learner read is about: a student's own self, else ``$chosen`` if in scope.
CHOSEN = """
, chosen as (
    select * from scoped
    where learner_id = (case when $role = 'student' then $learner_id else $chosen end)
)
"""
ENTITLEMENTS = {
    "free": {"progress"},
    "starter3": {"progress", "forecast", "leaderboard"},
    "professional7": {"progress", "forecast", "leaderboard", "mentor_feedback"},
}


class NoSnapshot(RuntimeError):
    """Nothing has been published yet: the pipeline has not run."""


def snapshot(serving: Path) -> Snapshot:
    found = current(serving)
    if found is None:
        raise NoSnapshot(
            f"no data published in {serving} yet: run `cohortlens run` (or `make demo`) first"
        )
    return found


# The publications being served. Per serving folder, one in-memory DuckDB database per process
# attaches each table file once, read-only, and keeps it attached (its blocks stay cached) for
# as long as an open publication names it; each publication is a catalog of views over those
# files. So a new publication attaches only the files that changed. Each query runs on its own
# cursor, switched to its publication's catalog. The previous publication stays open too; older
# ones are retired, and closed (their files detached) once the last query begun on them ends.
_KEEP_PER_FOLDER = 2


@dataclass
class _Publication:
    manifest: Path
    catalog: str
    files: list[str]  # the table files it reads
    readers: int = 0
    retired: bool = False


@dataclass
class _Folder:
    con: duckdb.DuckDBPyConnection
    files: dict[str, tuple[str, int]] = field(default_factory=dict)  # file -> (alias, users)
    open: list[_Publication] = field(default_factory=list)
    opened: int = 0  # publications opened so far: names catalogs and aliases


_folders: dict[Path, _Folder] = {}
_open_lock = threading.Lock()


def _attach(folder: _Folder, snap: Snapshot) -> _Publication:
    """Open a publication in ``folder``'s database: attach the files it adds, then its views.

    Raises duckdb.IOException (undoing what it attached) when one of its files has gone.
    """
    folder.opened += 1
    catalog = f"p{folder.opened}"
    used: list[str] = []
    try:
        for path in snap.tables.values():
            alias, users = folder.files.get(path.name, (None, 0))
            if alias is None:
                alias = f"f{folder.opened}_{len(used)}"
                folder.con.execute(f"attach '{path}' as {alias} (read_only)")  # a path we made
            folder.files[path.name] = (alias, users + 1)
            used.append(path.name)
        folder.con.execute(f"attach ':memory:' as {catalog}")
        aliases = {name: folder.files[name][0] for name in used}
        for statement in view_statements(snap, aliases, catalog):
            folder.con.execute(statement)
    except BaseException:
        _detach(folder, _Publication(snap.path, catalog, used))
        raise
    return _Publication(snap.path, catalog, used)


def _detach(folder: _Folder, publication: _Publication) -> None:
    """Close a publication: its catalog, and the files no other open publication reads.
    Never raises: a file left attached is only memory, and a query's result matters more."""
    with contextlib.suppress(duckdb.Error):
        folder.con.execute(f"detach database if exists {publication.catalog}")
    for name in publication.files:
        alias, users = folder.files[name]
        if users > 1:
            folder.files[name] = (alias, users - 1)
            continue
        with contextlib.suppress(duckdb.Error):
            folder.con.execute(f"detach database if exists {alias}")
            del folder.files[name]


def _acquire(snap: Snapshot) -> tuple[_Folder, _Publication]:
    with _open_lock:
        folder = _folders.get(snap.path.parent)
        if folder is None:
            folder = _folders[snap.path.parent] = _Folder(duckdb.connect(":memory:"))
        found = next((p for p in folder.open if p.manifest == snap.path), None)
        if found is None:
            found = _attach(folder, snap)
            folder.open.append(found)
            # Newest last, by name: a slow reader of an older publication evicts no newer one.
            folder.open.sort(key=lambda p: p.manifest.name)
            for old in folder.open[:-_KEEP_PER_FOLDER]:
                old.retired = True
                if old.readers == 0:
                    _detach(folder, old)
            del folder.open[:-_KEEP_PER_FOLDER]
        found.readers += 1
        return folder, found


def _release(folder: _Folder, publication: _Publication) -> None:
    with _open_lock:
        publication.readers -= 1
        if publication.retired and publication.readers == 0:
            _detach(folder, publication)


def open_connections(serving: Path) -> int:
    """How many publications of ``serving`` this process holds open (at most two kept, and
    retired ones until their last query ends)."""
    with _open_lock:
        folder = _folders.get(serving)
        return len(folder.open) if folder else 0


def attached_files(serving: Path) -> int:
    """How many table files of ``serving`` this process holds attached."""
    with _open_lock:
        folder = _folders.get(serving)
        return len(folder.files) if folder else 0


@contextlib.contextmanager
def _read(serving: Path) -> Iterator[duckdb.DuckDBPyConnection]:
    for attempt in range(3):
        try:
            folder, publication = _acquire(snapshot(serving))
            break
        except (duckdb.IOException, FileNotFoundError):
            # Its files went between reading the pointer and opening them (pruned after a
            # swap): the pointer names a newer publication by now.
            if attempt == 2:
                raise
    try:
        con = folder.con.cursor()
        try:
            con.execute(f"use {publication.catalog}")
            yield con
        finally:
            con.close()
    finally:
        _release(folder, publication)


def snapshot_warning(serving: Path) -> str | None:
    """Why the publication shown is not the one the pointer names, if it is not."""
    return snapshot(serving).fallback


def _params(principal: Principal) -> dict:
    # A learner's pages are about themselves: filters do not apply to them.
    f = principal.filters if principal.role != "student" else Filters()
    since, until = f.since or _EVER[0], f.until or _EVER[1]
    return {
        "role": principal.role,
        "org_id": principal.org_id or "",
        "learner_id": principal.learner_id or "",
        "filter_org": f.org_id or "",
        "filter_cohorts": list(f.cohort_ids),
        "filter_tracks": list(f.tracks),
        # a week that starts before the range but reaches into it counts
        "filter_since": since - dt.timedelta(days=6),
        "filter_until": until,
    }


def query(serving: Path, principal: Principal, sql: str, **params) -> pl.DataFrame:
    """Run ``sql`` (which may use ``scoped``) with the principal's scope as parameters."""
    with _read(serving) as con:
        return con.sql(f"with {SCOPED} {sql}", params={**_params(principal), **params}).pl()


def cohorts(serving: Path, principal: Principal) -> pl.DataFrame:
    return query(
        serving,
        principal,
        """
        select c.* from marts.cohort_summary as c
        where c.cohort_id in (select cohort_id from scoped)
        order by c.org_id, c.cohort_id
        """,
    )


_LEARNER_COLUMNS = {
    # The learners table: what it shows and filters on (41,000 rows for a large organization).
    "table": """r.learner_id, r.display_name, r.org_id, c.org_name, r.cohort_id, c.cohort_name,
        r.readiness_score, r.readiness_band, r.current_streak_days, r.last_active_date,
        r.at_risk, r.risk_priority, r.p_disengage_8w, r.at_risk_reasons,
        f.p_mastery_by_target, f.weeks_to_mastery_p50, a.action as next_action""",
    # One learner's whole picture.
    "detail": """r.learner_id, r.display_name, r.org_id, r.cohort_id, r.subscription_tier,
        r.readiness_score, r.readiness_band, r.current_streak_days, r.longest_streak_days,
        r.tier4_complete, r.tier4_missing, r.tier5_unlocked, r.tier5_complete,
        r.tier5_missing, r.at_risk, r.at_risk_reasons, r.last_active_date, r.as_of_date,
        r.engagement_status, r.p_disengage_8w, r.risk_priority,
        f.p_mastery_by_target, f.weeks_to_mastery_p10, f.weeks_to_mastery_p50,
        f.weeks_to_mastery_p90, f.target_date""",
}


_NARROWING = {"only_org": "r.org_id", "only_cohort": "r.cohort_id", "only_learner": "r.learner_id"}


def _learner_rows(serving: Path, principal: Principal, columns: str, only: dict) -> pl.DataFrame:
    # Only the narrowings asked for appear in the SQL (values stay parameters): a plain
    # equality lets DuckDB skip the row groups of other learners in the sorted snapshot.
    only = {name: value for name, value in only.items() if value}
    narrowed = "".join(f" and {_NARROWING[name]} = ${name}" for name in only)
    return query(
        serving,
        principal,
        f"""
        , latest as (select max(as_of_date) as as_of_date from forecasts.mastery_forecast)
        select {_LEARNER_COLUMNS[columns]}
        from marts.learner_readiness as r
        join scoped using (learner_id)
        left join forecasts.mastery_forecast as f
            on f.learner_id = r.learner_id
            and f.as_of_date = (select as_of_date from latest)
        left join marts.cohort_summary as c on c.cohort_id = r.cohort_id
        left join marts.learner_next_actions as a
            on a.learner_id = r.learner_id and a.action_rank = 1
        where true{narrowed}
        order by r.at_risk desc, r.org_id, r.risk_priority, r.learner_id
        """,
        **only,
    )


def learners(
    serving: Path, principal: Principal, org_id: str | None = None, cohort_id: str | None = None
) -> pl.DataFrame:
    """One row per learner in scope: readiness, risk and the latest forecast, as the learners
    table shows them. ``org_id`` and ``cohort_id`` narrow the scope (an admin looks at one
    organization at a time); they never widen it."""
    return _learner_rows(
        serving, principal, "table", {"only_org": org_id, "only_cohort": cohort_id}
    )


def learner(serving: Path, principal: Principal, learner_id: str) -> pl.DataFrame:
    """One learner's whole row (tier checklists, forecast interval), only if in scope (else
    empty; no learner id matches no one)."""
    return _learner_rows(serving, principal, "detail", {"only_learner": learner_id or "-"})


def next_actions(serving: Path, principal: Principal, learner_id: str) -> pl.DataFrame:
    """One learner's next actions, in order. A learner sees what their plan shows them
    (shown_to_learner); a supervisor or admin every action of a learner in scope."""
    return query(
        serving,
        principal,
        """
        select a.action_rank, a.kind, a.audience, a.action, a.why
        from marts.learner_next_actions as a
        join scoped using (learner_id)
        where a.learner_id = $wanted
            and ($role <> 'student' or a.shown_to_learner)
        order by a.action_rank
        """,
        wanted=learner_id or "-",
    )


def as_of_date(serving: Path, principal: Principal):
    """The day the published marts are as of (None before any)."""
    rows = query(
        serving,
        principal,
        "select max(r.as_of_date) as as_of_date from marts.learner_readiness as r"
        " join scoped using (learner_id)",
    )
    return rows["as_of_date"][0] if rows.height else None


def readiness_overview(serving: Path, principal: Principal) -> pl.DataFrame:
    """Learners in scope per readiness band and 5-point bin, with their at-risk count (the
    overview's distribution and KPIs, without fetching every learner)."""
    return query(
        serving,
        principal,
        """
        select r.readiness_band, least(floor(r.readiness_score / 5) * 5, 95) as score_bin,
            count(*) as n_learners, count(*) filter (where r.at_risk) as n_at_risk,
            sum(r.readiness_score) as sum_readiness
        from marts.learner_readiness as r join scoped using (learner_id)
        group by all order by score_bin, readiness_band
        """,
    )


def organizations(serving: Path, principal: Principal) -> pl.DataFrame:
    """The organizations in scope with their names, largest first."""
    return query(
        serving,
        principal,
        """
        , names as (select distinct org_id, org_name from marts.cohort_summary)
        select s.org_id, coalesce(any_value(n.org_name), s.org_id) as org_name,
            count(*) as n_learners
        from scoped as s left join names as n using (org_id)
        group by s.org_id order by n_learners desc, s.org_id
        """,
    )


def date_bounds(serving: Path, principal: Principal) -> tuple[dt.date, dt.date] | None:
    """The first week of activity in scope and the as-of day: the date filter's limits."""
    rows = query(
        serving,
        principal,
        """
        select min(c.week_start) as first_week,
            (select max(as_of_date) from marts.learner_readiness) as as_of
        from marts.cohort_weekly_activity as c
        where c.cohort_id in (select cohort_id from scoped)
        """,
    )
    first, as_of = rows.row(0)
    return None if first is None or as_of is None else (first, as_of)


@dataclass(frozen=True)
class KnownScope:
    org_ids: set[str]
    learner_ids: set[str]


def known_scope(
    serving: Path, principal: Principal, org_id: str | None, learner_id: str | None
) -> KnownScope:
    """Which of ``org_id`` and ``learner_id`` exist among the learners in scope."""
    found = query(
        serving,
        principal,
        "select distinct org_id, learner_id from scoped"
        " where org_id = $org_id_asked or learner_id = $learner_id_asked",
        org_id_asked=org_id or "",
        learner_id_asked=learner_id or "",
    )
    return KnownScope(
        {o for o in found["org_id"] if o == org_id},
        {lid for lid in found["learner_id"] if lid == learner_id},
    )


def _outcomes(principal: Principal) -> str:
    """Mission outcome counts in scope, as a subquery: a learner's own attempts, else the rows
    of org_mission_outcomes (pre-summed per cohort and week) of the cohorts in scope and the
    weeks of the date range."""
    if principal.role == "student":
        return """(
            select a.track, a.tier, a.difficulty, a.final_status, a.drop_off_stage,
                1 as n_attempts, a.is_decided::int as n_decided, a.is_passed::int as n_passed
            from marts.fct_mission_attempts as a join scoped using (learner_id)
        )"""
    return f"""(
        select o.* from marts.org_mission_outcomes as o
        where o.cohort_id in (select cohort_id from scoped) and {IN_RANGE.format("o")}
    )"""


def difficulty_performance(serving: Path, principal: Principal) -> pl.DataFrame:
    """Pass rate by track, tier and labelled difficulty over the attempts in scope, with a
    Wilson 95 % interval (the same definition as the mart)."""
    return query(
        serving,
        principal,
        f"""
        , counts as (
            select a.track, a.tier, a.difficulty,
                sum(a.n_decided)::bigint as n_decided, sum(a.n_passed)::bigint as n_passed
            from {_outcomes(principal)} as a
            group by all
        )
        select counts.*, n_passed / nullif(n_decided, 0) as pass_rate,
            (n_passed + 1.92 - 1.96 * sqrt(n_passed * (n_decided - n_passed) / n_decided + 0.9604))
                / (n_decided + 3.8416) as ci_low,
            (n_passed + 1.92 + 1.96 * sqrt(n_passed * (n_decided - n_passed) / n_decided + 0.9604))
                / (n_decided + 3.8416) as ci_high
        from counts left join {TIER_ORDER} as o using (tier)
        where n_decided > 0
        order by track, o.tier_order, difficulty
        """,
    )


def cohort_fan(serving: Path, principal: Principal) -> pl.DataFrame:
    return query(
        serving,
        principal,
        """
        select t.* from forecasts.cohort_trajectory as t
        where t.cohort_id in (select cohort_id from scoped)
            and t.as_of_date = (select max(as_of_date) from forecasts.cohort_trajectory)
        order by t.cohort_id, t.series, t.week_offset
        """,
    )


def competency(serving: Path, principal: Principal, learner_id: str | None = None) -> pl.DataFrame:
    """Competency now per domain (latest calibration), per learner in scope or for one."""
    one = " and c.learner_id = $chosen" if learner_id else ""
    return query(
        serving,
        principal,
        f"""
        select c.learner_id, c.competency_knowledge as knowledge, c.competency_skills as skills,
            c.competency_application as application, c.competency_ethics as ethics
        from forecasts.learner_calibration as c
        join scoped using (learner_id)
        where c.as_of_date = (select max(as_of_date) from forecasts.learner_calibration){one}
        """,
        **({"chosen": learner_id} if learner_id else {}),
    )


def leaderboard(serving: Path, principal: Principal) -> pl.DataFrame:
    """The principal's cohort(s) ranked by points (names are shown within the cohort)."""
    return query(
        serving,
        principal,
        """
        select p.cohort_id, p.cohort_rank,
            -- a learner sees their own name; the others are ranks and points only
            case when $role != 'student' or p.learner_id = $learner_id
                then p.display_name end as display_name,
            p.total_points, p.level, p.learner_id = $learner_id as is_me
        from marts.learner_points as p
        where p.cohort_id in (select cohort_id from scoped)
        order by p.cohort_id, p.cohort_rank
        """,
    )


def mission_statuses(serving: Path, principal: Principal) -> pl.DataFrame:
    """Mission attempts in scope by track, tier and final status (the funnel's end points)."""
    return query(
        serving,
        principal,
        f"""
        select a.track, a.tier, a.final_status, sum(a.n_attempts)::bigint as n_attempts
        from {_outcomes(principal)} as a left join {TIER_ORDER} as o using (tier)
        group by a.track, a.tier, a.final_status, o.tier_order
        order by a.track, o.tier_order, n_attempts desc
        """,
    )


def drop_off(serving: Path, principal: Principal) -> pl.DataFrame:
    """Where failed or abandoned attempts in scope stopped."""
    return query(
        serving,
        principal,
        f"""
        select a.drop_off_stage, sum(a.n_attempts)::bigint as n_attempts
        from {_outcomes(principal)} as a
        where a.drop_off_stage is not null
        group by all order by n_attempts desc
        """,
    )


def mentor_reviews(serving: Path, principal: Principal) -> pl.DataFrame:
    """Mentors' score distribution and review times over the reviews of the learners in scope
    (cohorts and tracks filtered) in the weeks of the date range (a supervisor's or admin's
    view: learners do not see their mentors' statistics)."""
    if principal.role == "student":
        return pl.DataFrame()
    return query(
        serving,
        principal,
        f"""
        , names as (select distinct org_id, org_name from marts.cohort_summary)
        , per_mentor as (
            -- One sort per column for all its quantiles: half the time of one per quantile.
            select m.org_id, m.mentor_id, count(*) as n_reviews,
                avg(m.mentor_score) as mean_mentor_score,
                quantile_cont(m.mentor_score, [0.1, 0.5, 0.9]) as score_q,
                quantile_cont(m.review_hours, [0.5, 0.9]) as hours_q,
                avg(m.revision_requests) as revision_requests_per_review
            from marts.fct_mentor_reviews as m
            where m.learner_id in (select learner_id from scoped) and {IN_RANGE.format("m")}
            group by all
        )
        select n.org_name, m.org_id, m.mentor_id, m.n_reviews, m.mean_mentor_score,
            m.score_q[1] as mentor_score_p10, m.score_q[2] as median_mentor_score,
            m.score_q[3] as mentor_score_p90, m.hours_q[1] as median_review_hours,
            m.hours_q[2] as review_hours_p90, m.revision_requests_per_review
        from per_mentor as m
        left join names as n using (org_id)
        order by n_reviews desc, m.mentor_id
        """,
    )


def rubric_categories(serving: Path, principal: Principal) -> pl.DataFrame:
    """Mean mentor rubric score per track and rubric category over the cohorts in scope and the
    weeks of the date range (weighted by scores given; a supervisor's or admin's view)."""
    if principal.role == "student":
        return pl.DataFrame()
    return query(
        serving,
        principal,
        f"""
        select r.track, r.rubric_category, sum(r.n_scores)::bigint as n_scores,
            sum(r.mean_score * r.n_scores) / sum(r.n_scores) as mean_score
        from marts.rubric_category_performance as r
        where r.cohort_id in (select cohort_id from scoped) and {IN_RANGE.format("r")}
        group by all order by track, rubric_category
        """,
    )


def rubric_feedback(
    serving: Path, principal: Principal, learner_id: str | None = None
) -> pl.DataFrame:
    """A learner's mean rubric score per category beside their cohort's mean (an aggregate: no
    other learner's row is returned): the principal's own, or ``learner_id``'s if in scope."""
    return query(
        serving,
        principal,
        f"""
        {CHOSEN}, cohort_means as (
            select l.cohort_id, s.rubric_category,
                sum(s.mean_score * s.n_scores) / sum(s.n_scores) as cohort_mean_score
            from marts.learner_rubric_scores as s
            join marts.learner_readiness as l using (learner_id)
            where l.cohort_id in (select cohort_id from chosen)
            group by all
        )
        select s.learner_id, s.rubric_category, s.n_scores, s.mean_score, c.cohort_mean_score
        from marts.learner_rubric_scores as s
        join chosen using (learner_id)
        join cohort_means as c
            on c.cohort_id = chosen.cohort_id and c.rubric_category = s.rubric_category
        order by s.rubric_category
        """,
        chosen=learner_id or "",
    )


def mentor_feedback(
    serving: Path, principal: Principal, learner_id: str | None = None
) -> pl.DataFrame:
    """A learner's latest reviewed mission attempts (the principal's own, or ``learner_id``'s
    if in scope): mentor score and rubric mean (both 0-100) and how long the review took."""
    return query(
        serving,
        principal,
        f"""
        {CHOSEN}
        select a.learner_id, a.mission_id, t.mission_title, a.track, a.tier, a.attempt_number,
            a.final_status, a.mentor_score, round(a.rubric_mean * 100, 1) as rubric_mean,
            round(date_diff('minute', a.submitted_at, a.mentor_reviewed_at) / 60, 1)
                as review_hours,
            a.mentor_reviewed_at
        from marts.fct_mission_attempts as a join chosen using (learner_id)
        left join ({MISSION_TITLES}) as t using (mission_id)
        where a.mentor_reviewed_at is not null
        order by a.mentor_reviewed_at desc
        limit 50
        """,
        chosen=learner_id or "",
    )


def disputed_labels(serving: Path, principal: Principal) -> pl.DataFrame:
    """Missions whose pass rates disagree with their labelled difficulty (catalog quality:
    counts over the whole program, no learner's rows)."""
    if principal.role == "student":
        return pl.DataFrame()
    return query(
        serving,
        principal,
        f"""
        select m.mission_id, s.mission_title, m.track, m.tier, m.difficulty, m.n_decided,
            m.pass_rate, m.easier_label_pass_rate, m.harder_label_pass_rate
        from marts.mission_performance as m
        left join ({MISSION_TITLES}) as s using (mission_id)
        where m.is_label_disputed and {IN_TRACKS.format("m")}
        order by m.track, s.tier_order, m.mission_id
        """,
    )


def tool_usage(serving: Path, principal: Principal) -> pl.DataFrame:
    """Tools whose use tells passing from failing attempts (catalog insight: counts over the
    whole program, no learner's rows), strongest first."""
    if principal.role == "student":
        return pl.DataFrame()
    return query(
        serving,
        principal,
        f"""
        select mission_id, t.mission_title, track, tier, tool, n_decided, share_with_tool,
            share_of_passed_using, share_of_failed_using, pass_rate_with_tool,
            pass_rate_without_tool, use_difference_z
        from marts.mission_tool_usage as u left join ({MISSION_TITLES}) as t using (mission_id)
        where u.is_flagged and {IN_TRACKS.format("u")}
        order by abs(use_difference_z) desc
        """,
    )


def stage_time(serving: Path, principal: Principal) -> pl.DataFrame:
    """Per mission and stage: minutes, share of time and drop-offs (program-wide counts)."""
    if principal.role == "student":
        return pl.DataFrame()
    return query(
        serving,
        principal,
        f"""
        select mission_id, t.mission_title, track, tier, stage, n_reached, median_minutes,
            p90_minutes, share_of_time, n_dropped_here, drop_off_rate,
            is_time_sink_losing_learners
        from marts.mission_stage_time as m left join ({MISSION_TITLES}) as t using (mission_id)
        where {IN_TRACKS.format("m")}
        order by t.tier_order, mission_id, stage
        """,
    )


def path_steps(serving: Path, principal: Principal, learner_id: str | None = None) -> pl.DataFrame:
    """One learner's path against the ideal one, step by step: the principal's own, or
    ``learner_id``'s if in scope."""
    return query(
        serving,
        principal,
        CHOSEN
        + """
        select s.learner_id, s.step_id, s.step_kind, s.ideal_rank, s.ideal_on, s.done_on,
            s.is_out_of_order,
            s.is_skipped, s.off_path_reason, s.as_of_date
        from marts.learner_path_steps as s
        join chosen using (learner_id)
        order by s.ideal_rank
        """,
        chosen=learner_id or "",
    )


def points(serving: Path, principal: Principal) -> pl.DataFrame:
    return query(
        serving,
        principal,
        """
        select p.learner_id, p.total_points, p.level, p.points_to_next_level, p.cohort_rank
        from marts.learner_points as p join scoped using (learner_id)
        """,
    )


def weekly_activity(serving: Path, principal: Principal) -> pl.DataFrame:
    """Active learners, study hours and answers per week, summed over the learners in scope:
    a learner's own rows, else their cohorts' weekly totals (cohort_weekly_activity) over the
    date range."""
    if principal.role == "student":
        sql = """
            select w.week_start, count(distinct w.learner_id) filter (where w.active_days > 0)
                    as active_learners,
                sum(w.study_minutes) / 60 / 4 as study_hours,
                sum(w.n_answers) as answers, sum(w.n_correct) as correct
            from marts.learner_domain_weekly as w join scoped using (learner_id)
            group by all order by week_start
        """
    else:
        sql = f"""
            select c.week_start, sum(c.active_learners) as active_learners,
                sum(c.study_hours) as study_hours, sum(c.n_answers) as answers,
                sum(c.n_correct) as correct
            from marts.cohort_weekly_activity as c
            where c.cohort_id in (select cohort_id from scoped) and {IN_RANGE.format("c")}
            group by all order by week_start
        """
    return query(serving, principal, sql)


def entitled(tier: str | None, feature: str) -> bool:
    return feature in ENTITLEMENTS.get(tier or "free", ENTITLEMENTS["free"])


def data_health(serving: Path, principal: Principal) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Files and quarantine counts per source (program-wide: operators' and supervisors'
    concern, holding no learner's data)."""
    if principal.role == "student":
        return pl.DataFrame(), pl.DataFrame()
    with _read(serving) as con:
        files = con.sql(
            """
            select coalesce(source, 'no source') as source,
                count(*) filter (where status = 'loaded') as files_loaded,
                count(*) filter (where status = 'duplicate') as files_duplicate,
                count(*) filter (where status in ('failed', 'rejected')) as files_refused,
                sum(rows_read) as rows_read, sum(rows_loaded) as rows_loaded,
                sum(rows_quarantined) as rows_quarantined,
                max(ingested_at) filter (where status = 'loaded') as last_loaded
            from audit.ingested_files group by all order by source
            """
        ).pl()
        quarantine = con.sql(
            "select * from audit.quarantine_by_reason order by n_records desc"
        ).pl()
    return files, quarantine


def refused_files(serving: Path, principal: Principal) -> pl.DataFrame:
    """Files that failed or were rejected, newest first, with the reason each was given."""
    if principal.role == "student":
        return pl.DataFrame()
    with _read(serving) as con:
        return con.sql(
            """
            select file_name, coalesce(source, 'no source') as source, status, reason,
                ingested_at
            from audit.ingested_files where status in ('failed', 'rejected')
            order by ingested_at desc, file_name limit 200
            """
        ).pl()


def telemetry_health(serving: Path, principal: Principal) -> tuple[pl.DataFrame, pl.DataFrame]:
    """xAPI voidings by what became of them, and each LRS pulled from (program-wide, like
    data_health; a snapshot published before these tables existed has neither)."""
    if principal.role == "student":
        return pl.DataFrame(), pl.DataFrame()
    with _read(serving) as con:
        served = {r[0] for r in con.execute("select view_name from duckdb_views()").fetchall()}
        voidings = pulls = pl.DataFrame()
        if "xapi_voidings_by_status" in served:
            voidings = con.sql(
                "select * from audit.xapi_voidings_by_status order by n_voidings desc"
            ).pl()
        if "lrs_pulls" in served:
            pulls = con.sql("select * from audit.lrs_pulls order by endpoint").pl()
    return voidings, pulls


def what_if_inputs(serving: Path, principal: Principal, cohort_id: str):
    """What the engine needs to re-simulate one cohort in scope: its observations and stored
    calibration (from the snapshot), and the weeks to its target date. None when the cohort
    is not in scope or has no forecast."""
    import numpy as np

    from engine.calibration import from_parameters
    from engine.observations import from_weekly_rows

    with _read(serving) as con:
        params = {**_params(principal), "cohort_id": cohort_id}
        rows = con.sql(
            f"""
            with {SCOPED}, latest as (
                select max(as_of_date) as as_of_date from forecasts.learner_calibration
            )
            select w.learner_id, w.week_start, w.domain, w.n_answers, w.n_correct,
                w.study_minutes
            from marts.learner_domain_weekly as w
            join scoped using (learner_id)
            where scoped.cohort_id = $cohort_id
                and w.week_start < (select as_of_date from latest)
            """,
            params=params,
        ).fetchnumpy()
        stored = con.sql(
            f"""
            with {SCOPED}
            select c.learner_id, c.theta, c.covariance, c.as_of_date, f.target_week
            from forecasts.learner_calibration as c
            join scoped using (learner_id)
            join forecasts.mastery_forecast as f using (learner_id, as_of_date)
            where scoped.cohort_id = $cohort_id
                and c.as_of_date = (select max(as_of_date) from forecasts.learner_calibration)
            order by c.learner_id
            """,
            params=params,
        ).pl()
    if stored.is_empty() or len(rows["learner_id"]) == 0:
        return None
    as_of = np.datetime64(stored["as_of_date"][0], "D")
    obs = from_weekly_rows(
        rows["learner_id"],
        rows["week_start"],
        rows["domain"],
        rows["n_answers"],
        rows["n_correct"],
        rows["study_minutes"],
        last_week=as_of - np.timedelta64(7, "D"),
    )
    stored = stored.filter(pl.col("learner_id").is_in(list(obs.learner_ids)))
    keep = np.isin(obs.learner_ids, stored["learner_id"].to_numpy())
    obs = obs.subset(keep)
    theta = np.stack(stored["theta"].to_numpy()).astype(float)
    cov = np.stack(stored["covariance"].to_numpy()).astype(float).reshape(len(theta), 6, 6)
    cal = from_parameters(obs, theta, cov)
    return obs, cal, stored["target_week"].to_numpy()


def history_of(obs, cal) -> pl.DataFrame:
    """A cohort's competency week by week up to the as-of day, as the calibration estimates it
    from the answers so far: quantiles over the learners who had started by that week, in the
    fan chart's series (mean and each domain)."""
    import numpy as np

    from engine.calibration import competency_path
    from engine.model import DOMAINS

    path = competency_path(cal.theta, obs.stimulus(), cal.model)  # (weeks + 1, n, 4)
    steps = np.arange(path.shape[0])[:, None]
    started = steps <= obs.n_weeks[None, :]  # left-aligned: step j is first_week + j
    week = obs.first_week[None, :] + steps
    days = np.append(obs.week_starts, obs.as_of)
    series = {"mean": path.mean(axis=2)} | {d: path[..., k] for k, d in enumerate(DOMAINS)}
    rows = []
    for index, day in enumerate(days):
        cells = started & (week == index)
        if cells.any():
            for name, values in series.items():
                q = np.quantile(values[cells], [0.1, 0.25, 0.5, 0.75, 0.9])
                rows.append((day.astype("datetime64[D]").item(), name, *q.tolist()))
    return pl.DataFrame(
        rows, schema=["week_start", "series", "p10", "p25", "p50", "p75", "p90"], orient="row"
    )


def competency_history(serving: Path, principal: Principal, cohort_id: str) -> pl.DataFrame:
    """``history_of`` a cohort in scope, read from the snapshot; empty when it has no
    calibration (or is not in scope)."""
    inputs = what_if_inputs(serving, principal, cohort_id)
    if inputs is None:
        return pl.DataFrame()
    obs, cal, _ = inputs
    return history_of(obs, cal)
