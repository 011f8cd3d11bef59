"""Reading the engine's inputs from the warehouse (and the generator's truth, when present)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import duckdb
import numpy as np

from engine.model import DOMAINS
from engine.observations import ItemAnswers, Observations, from_weekly_rows, items_from_rows

OBSERVATIONS_TABLE = "marts.learner_domain_weekly"
ITEMS_TABLE = "marts.learner_question_weekly"


@dataclass(frozen=True)
class Roster:
    """Per learner (in the observations' order): cohort and the cohort's target date."""

    cohort_id: np.ndarray  # (n,) str
    org_id: np.ndarray  # (n,) str ("" when the reference data does not know the learner)
    cohort_index: np.ndarray  # (n,) int, into cohorts
    cohorts: np.ndarray  # (g,) str
    target_date: np.ndarray  # (n,) datetime64[D]; NaT when the cohort has none

    def subset(self, keep: np.ndarray) -> Roster:
        """Only the learners where ``keep`` (n,) is true; the same cohorts."""
        return Roster(
            self.cohort_id[keep],
            self.org_id[keep],
            self.cohort_index[keep],
            self.cohorts,
            self.target_date[keep],
        )


def last_complete_week(con: duckdb.DuckDBPyConnection, as_of) -> np.datetime64 | None:
    """The Monday of the latest week whose Sunday is on or before the as-of date."""
    row = con.execute(
        """
        select max(week_start) filter (where week_start + 6 <= ?::date), max(week_start)
        from marts.learner_domain_weekly
        """,
        [str(as_of)],
    ).fetchall()[0]
    if row[1] is None:
        return None
    return np.datetime64(row[0] or row[1], "D")


def load_observations(con: duckdb.DuckDBPyConnection, as_of) -> Observations:
    """Every learner's weekly observations up to the last week complete by ``as_of``."""
    last = last_complete_week(con, as_of)
    if last is None:
        raise LookupError(f"{OBSERVATIONS_TABLE} is empty: nothing to calibrate on yet")
    cols = con.sql(
        f"""
        select learner_id, week_start, domain, n_answers, n_correct, study_minutes
        from {OBSERVATIONS_TABLE}
        """
    ).fetchnumpy()
    obs = from_weekly_rows(
        cols["learner_id"],
        cols["week_start"],
        cols["domain"],
        cols["n_answers"],
        cols["n_correct"],
        cols["study_minutes"],
        last_week=last,
    )
    return obs.with_items(load_item_answers(con, obs))


def load_item_answers(con: duckdb.DuckDBPyConnection, obs: Observations) -> ItemAnswers | None:
    """The observations' answers question by question (None in a warehouse built before
    dbt had them: the engine then uses the bank's answer curve)."""
    [(exists,)] = con.execute(
        "select count(*) from information_schema.tables"
        " where table_schema = 'marts' and table_name = 'learner_question_weekly'"
    ).fetchall()
    if not exists:
        return None
    cols = con.sql(
        f"""
        select learner_id, week_start, domain, question_id, question_kind, n_answers, n_correct
        from {ITEMS_TABLE}
        where week_start <= ?::date
        """,
        params=[str(obs.week_starts[-1])],
    ).fetchnumpy()
    return items_from_rows(
        obs,
        cols["learner_id"],
        cols["week_start"],
        cols["domain"],
        cols["question_id"],
        cols["question_kind"],
        cols["n_answers"],
        cols["n_correct"],
    )


def load_roster(con: duckdb.DuckDBPyConnection, learner_ids: np.ndarray) -> Roster:
    con.register("_wanted", {"learner_id": learner_ids, "position": np.arange(len(learner_ids))})
    try:
        cols = con.sql(
            """
            select w.learner_id, l.org_id, l.cohort_id, c.target_mastery_date
            from _wanted as w
            left join staging.stg_reference__learners as l on l.learner_id = w.learner_id
            left join staging.stg_reference__cohorts as c on c.cohort_id = l.cohort_id
            order by w.position
            """
        ).fetchnumpy()
    finally:
        con.unregister("_wanted")
    cohort = np.array([c if isinstance(c, str) else "" for c in cols["cohort_id"]], dtype=object)
    org = np.array([o if isinstance(o, str) else "" for o in cols["org_id"]], dtype=object)
    cohorts, index = np.unique(cohort.astype(str), return_inverse=True)
    target = np.asarray(cols["target_mastery_date"]).astype("datetime64[D]")
    return Roster(cohort.astype(str), org.astype(str), index, cohorts, target)


def load_truth(truth_dir: Path, learner_ids: np.ndarray, on: np.datetime64, since: np.datetime64):
    """The generator's true competency at the start of the week ``on`` (a Monday), and whether
    each learner was at mastery at any week start in [since, on]. None without a truth folder.

    Truth rows are states after each program week; the state at the start of week ``on`` is the
    row of the week before it.
    """
    weekly = truth_dir / "competency_weekly.parquet"
    if not weekly.exists():
        return None
    con = duckdb.connect()
    con.register("_wanted", {"learner_id": learner_ids, "position": np.arange(len(learner_ids))})
    cols = con.execute(
        f"""
        select
            {", ".join(f"last(t.{d} order by t.week_start) as {d}" for d in DOMAINS)},
            bool_or(t.mastered) filter (where t.week_start + 7 >= ?::date) as mastered,
            count(t.week_start) as n
        from _wanted as w
        left join read_parquet(?) as t
            on t.learner_id = w.learner_id and t.week_start + 7 <= ?::date
        group by w.learner_id, w.position
        order by w.position
        """,
        [str(since), str(weekly), str(on)],
    ).fetchnumpy()
    con.close()
    competency = np.stack([np.asarray(cols[d], dtype=float) for d in DOMAINS], axis=1)
    mastered = np.asarray(cols["mastered"], dtype=object)
    mastered = np.array([bool(m) if m is not None else False for m in mastered])
    return competency, mastered
