"""The synthetic program behaves like a real one, so later metrics mean something."""

from __future__ import annotations

import datetime as dt

import duckdb
import numpy as np
import pytest


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


def test_learners_who_drop_out_stop_emitting_statements(db, small_batch):
    start = small_batch.options.start_date
    dropped = db.execute(
        "select learner_id, dropout_week from truth_learners where dropout_week is not null"
    ).fetchall()
    assert len(dropped) >= 10
    late = 0
    for learner, week in dropped:
        cutoff = dt.datetime.combine(start + dt.timedelta(weeks=week), dt.time(), dt.UTC)
        late += db.execute(
            "select count(*) from xapi where learner_id = ? and ts >= ?", [learner, cutoff]
        ).fetchone()[0]
    assert late == 0


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
