"""The synthetic program behaves like a real one, so later metrics mean something."""

from __future__ import annotations

import datetime as dt

import duckdb
import numpy as np
import polars as pl
import pytest
from scipy.stats import rankdata

from pipelines.synthetic.generator import GenerateOptions, generate

# A mid-size program for the dropout process: long enough for fading learners to leave.
MID = {"learners": 1000, "seed": 3, "start_date": dt.date(2025, 6, 2), "weeks": 26}


@pytest.fixture(scope="module")
def db(small_batch):
    con = duckdb.connect()
    landing, truth = small_batch.landing, small_batch.truth

    def jsonl(source: str) -> duckdb.DuckDBPyRelation:
        return con.read_json(str(landing / source / "*.jsonl"), format="newline_delimited")

    jsonl("mission_progress").create_view("progress")
    jsonl("assessment_attempts").create_view("attempts")
    jsonl("xapi").select(
        "actor.account.name as learner_id, verb.id as verb, object.id as object, "
        "timestamp::timestamptz as ts"
    ).create_view("xapi")
    con.read_csv(str(landing / "reference" / "missions.csv")).create_view("missions")
    con.read_parquet(str(landing / "reference" / "questions.parquet")).create_view("questions")
    con.read_parquet(str(truth / "competency_weekly.parquet")).create_view("truth_weekly")
    con.read_parquet(str(truth / "learners.parquet")).create_view("truth_learners")
    con.execute("""
        create view latest as select * from progress
        qualify row_number() over (partition by progress_id order by updated_at desc) = 1""")
    return con


def test_pass_rates_fall_as_labelled_difficulty_rises_within_a_tier(db):
    rows = db.execute("""
        select m.tier, m.difficulty, avg((l.final_status = 'pass')::int) as pass_rate, count(*) n
        from latest l join missions m using (mission_id)
        where l.final_status <> 'pending' group by all having count(*) >= 40 order by 1, 2
    """).fetchall()
    by_tier: dict[str, list[tuple[int, float]]] = {}
    for tier, difficulty, rate, _ in rows:
        by_tier.setdefault(tier, []).append((difficulty, rate))
    compared = [(v[0][1], v[-1][1]) for v in by_tier.values() if len(v) >= 2]
    assert len(compared) >= 2
    assert all(easiest > hardest for easiest, hardest in compared), by_tier


def test_true_competency_stays_in_the_unit_interval_and_mastery_takes_months(db):
    low, high = db.execute("""select min(least(knowledge, skills, application, ethics)),
                                     max(greatest(knowledge, skills, application, ethics))
                              from truth_weekly""").fetchone()
    assert low >= 0 and high <= 1
    # Novices (entry tier beginner) need more than six weeks to reach mastery.
    early = db.execute("""
        select count(*) from truth_weekly w join truth_learners l using (learner_id)
        where l.entry_tier = 0 and w.mastered
          and w.week < 6 + (select min(week) from truth_weekly w2
                            where w2.learner_id = w.learner_id)
    """).fetchone()[0]
    assert early == 0
    assert (
        db.execute("select count(distinct learner_id) from truth_weekly where mastered").fetchone()[
            0
        ]
        > 0
    )


def test_cdc_versions_of_a_record_have_increasing_updated_at_and_a_sane_lifecycle(db):
    rows = db.execute("""
        select progress_id, list(status order by updated_at), count(*), count(distinct updated_at)
        from progress group by 1
    """).fetchall()
    assert len(rows) > 1000
    for _, statuses, n, distinct in rows:
        assert n == distinct
        assert statuses[0] in {"not_started", "in_progress"}
        terminal = [i for i, s in enumerate(statuses) if s in {"approved", "rejected"}]
        if terminal:  # only a reflection may follow the decision, repeating it
            assert all(statuses[i] == statuses[terminal[0]] for i in range(terminal[0], n))


def test_learners_who_drop_out_do_nothing_afterwards_and_leave_between_attempts(db, small_batch):
    start = small_batch.options.start_date
    db.execute(
        "create temp table gone as select learner_id, (?::date + 7 * dropout_week)::timestamptz "
        "as left_at from truth_learners where dropout_week is not null",
        [start],
    )
    assert db.execute("select count(*) from gone").fetchone()[0] >= 10
    late = db.execute("""
        select (select count(*) from xapi join gone using (learner_id) where ts >= left_at),
               (select count(*) from attempts join gone using (learner_id)
                where started_at::timestamptz >= left_at),
               (select count(*) from progress join gone using (learner_id)
                where updated_at::timestamptz >= left_at)""").fetchone()
    assert late == (0, 0, 0)
    # Nobody leaves mid-attempt: every record of a leaver ends decided, or was never started.
    open_records = db.execute("""
        select count(*) from latest join gone using (learner_id)
        where status not in ('not_started', 'approved', 'rejected')""").fetchone()[0]
    assert open_records == 0


def test_weekly_truth_has_engagement_and_the_dropout_hazard_until_the_learner_leaves(db):
    rows = db.execute("""
        select count(*),
               count(*) filter (where w.dropout_hazard not between 0 and 1),
               count(*) filter (where (w.dropout_hazard is null) <> (w.week >= l.dropout_week)),
               count(*) filter (where (w.engagement is null) <> (w.dropout_hazard is null))
        from truth_weekly w join truth_learners l using (learner_id)""").fetchone()
    assert rows[0] > 1000 and rows[1:] == (0, 0, 0)


def _auc(score: np.ndarray, positive: np.ndarray) -> float:
    ranks = rankdata(score)
    n1, n0 = positive.sum(), (~positive).sum()
    return float((ranks[positive].sum() - n1 * (n1 + 1) / 2) / (n1 * n0))


@pytest.fixture(scope="module")
def mid_program(tmp_path_factory) -> tuple[pl.DataFrame, pl.DataFrame]:
    opts = GenerateOptions(out=tmp_path_factory.mktemp("mid") / "landing", **MID)
    generate(opts)
    learners = pl.read_parquet(opts.truth_dir / "learners.parquet")
    weekly = pl.read_parquet(opts.truth_dir / "competency_weekly.parquet").join(
        learners.select("learner_id", "dropout_week"), on="learner_id"
    )
    return learners, weekly


def test_a_tenth_to_a_quarter_of_learners_stop_within_26_weeks(mid_program):
    learners, _ = mid_program
    share = learners["dropout_week"].is_not_null().mean()
    assert 0.10 <= share <= 0.25, share


def test_study_time_and_study_weeks_fall_in_the_weeks_before_dropout(mid_program):
    _, weekly = mid_program
    before = (
        weekly.filter(pl.col("dropout_week") >= 9)
        .with_columns(k=pl.col("dropout_week") - pl.col("week"))
        .filter(pl.col("k").is_between(1, 8))
    )
    early = before.filter(pl.col("k") >= 6).select(pl.col("study_hours", "active").mean())
    late = before.filter(pl.col("k") <= 3).select(pl.col("study_hours", "active").mean())
    assert before["learner_id"].n_unique() >= 40
    assert late["study_hours"][0] < 0.6 * early["study_hours"][0]
    assert late["active"][0] < 0.8 * early["active"][0]


def test_dropout_has_precursors_but_stays_stochastic(mid_program):
    """At a cut, the true hazard ranks who leaves in the next 8 weeks about as well as the best
    real dropout models do (not perfectly), and recent study time alone does clearly worse."""
    _, weekly = mid_program
    cut = 17
    at_cut = weekly.filter(pl.col("week") == cut, pl.col("dropout_hazard").is_not_null())
    recent = (
        weekly.filter(pl.col("week").is_between(cut - 2, cut))
        .group_by("learner_id")
        .agg(pl.col("study_hours").sum())
    )
    at_cut = at_cut.drop("study_hours").join(recent, on="learner_id")
    leaves = at_cut["dropout_week"].is_between(cut + 1, cut + 8).fill_null(False).to_numpy()
    assert 40 <= leaves.sum() <= 0.25 * len(leaves)
    hazard_auc = _auc(at_cut["dropout_hazard"].to_numpy(), leaves)
    hours_auc = _auc(-at_cut["study_hours"].to_numpy(), leaves)
    assert 0.8 <= hazard_auc <= 0.95, hazard_auc
    assert 0.68 <= hours_auc < hazard_auc, (hours_auc, hazard_auc)


def test_the_dropout_hazard_is_the_chance_to_decide_to_leave_the_next_week(mid_program):
    """Summed over learner-weeks, the hazard predicts how many learners decide to leave: those
    who dropped out, and those still finishing an attempt at the end (hazard 1)."""
    _, weekly = mid_program
    last = weekly["week"].max()
    expected = weekly.filter(pl.col("week") < last, pl.col("dropout_hazard") < 1)[
        "dropout_hazard"
    ].sum()
    finishing = weekly.filter(pl.col("week") == last, pl.col("dropout_hazard") == 1).height
    decided = weekly.filter(pl.col("dropout_week").is_not_null())["learner_id"].n_unique()
    assert 0.85 <= (decided + finishing) / expected <= 1.15, (decided, finishing, expected)


def test_answers_are_right_more_often_for_learners_stronger_in_the_questions_domain(db):
    rows = db.execute("""
        with answers as (
            select a.learner_id, a.started_at::timestamptz as at, u.question_id, u.is_correct
            from attempts a, unnest(a.answers) as t(u) where a.status = 'graded')
        select case q.competency_domain when 'knowledge' then w.knowledge
                    when 'skills' then w.skills when 'application' then w.application
                    else w.ethics end as competency,
               a.is_correct::int
        from answers a join questions q using (question_id)
        join truth_weekly w on w.learner_id = a.learner_id
             and w.week_start = date_trunc('week', a.at)::date
    """).fetchnumpy()
    competency, correct = rows["competency"], rows["CAST(a.is_correct AS INTEGER)"]
    assert len(correct) > 5000
    assert np.corrcoef(competency, correct)[0, 1] > 0.1


def test_missions_show_hints_revisions_deadlines_and_drop_off(db):
    revisions, missed, hints, reflections = db.execute("""
        select count(*) filter (where status = 'revision_requested'),
               count(distinct progress_id) filter (where drop_off_stage is not null),
               count(*) filter (where len(hints_used) > 0),
               count(*) filter (where reflection_submitted)
        from progress""").fetchone()
    assert min(revisions, missed, hints, reflections) > 0


def test_modules_complete_through_xapi_and_telemetry_has_daily_rhythm_and_gaps(db):
    completed_modules = db.execute("""select count(*) from xapi where verb like '%/completed'
                                      and object like '%/activities/module/%'""").fetchone()[0]
    assert completed_modules > 100
    # Each learner studies at their usual hours: many of their statements fall within the
    # three hours around their busiest hour of the day, far more than a flat day would.
    share = db.execute("""
        with h as (select learner_id, hour(ts) as hr, count(*) as n from xapi group by 1, 2),
        peak as (select learner_id, arg_max(hr, n) as top, sum(n) as total from h group by 1)
        select median(sum_near / total) from (
            select p.learner_id, p.total,
                   sum(h.n) filter (where least(abs(h.hr - p.top), 24 - abs(h.hr - p.top)) <= 1)
                   as sum_near
            from peak p join h using (learner_id) group by all)
    """).fetchone()[0]
    assert share > 0.3  # a flat day would give 3/24 = 0.125
    gaps = db.execute("""
        with days as (select distinct learner_id, ts::date as d from xapi),
        g as (select learner_id, d - lag(d) over (partition by learner_id order by d) as gap
              from days)
        select count(distinct learner_id) filter (where gap >= 7),
               count(distinct learner_id) filter (where gap = 1)
        from g""").fetchone()
    assert gaps[0] > 0 and gaps[1] > 0  # some come back after a week away; some study days in a row
