"""The engine's inputs as read from the warehouse, and its measurement model against the truth."""

from __future__ import annotations

from dataclasses import replace

import duckdb
import numpy as np
import polars as pl
from scipy.optimize import minimize

from engine.backtest import backtest
from engine.calibration import MeasurementModel, calibrate_with_items
from pipelines.forecast.data import last_complete_week, load_observations, load_roster, load_truth

LEVELS = ("beginner", "intermediate", "advanced")


def test_observations_hold_every_answer_up_to_the_last_complete_week(built_program):
    with duckdb.connect(str(built_program.warehouse), read_only=True) as con:
        [(as_of,)] = con.execute("select max(as_of_date) from marts.learner_readiness").fetchall()
        obs = load_observations(con, as_of)
        last = last_complete_week(con, as_of)
        [(answers, learners)] = con.execute(
            "select sum(n_answers), count(distinct learner_id) from marts.learner_domain_weekly"
            " where week_start <= ?",
            [str(last)],
        ).fetchall()
        roster = load_roster(con, obs.learner_ids)
    assert obs.n_answers.sum() == answers and obs.n == learners
    assert obs.week_starts[-1] == last and obs.as_of == last + np.timedelta64(7, "D")
    assert last + np.timedelta64(6, "D") <= np.datetime64(as_of, "D")
    assert (roster.cohort_id != "").all() and not np.isnat(roster.target_date).any()


def test_the_measurement_model_matches_the_generated_answers(built_program, small_batch):
    """Refit P(correct | C) on the small program against the generator's true competency at
    the start of each week: the engine's defaults must be close."""
    truth = pl.read_parquet(small_batch.truth / "competency_weekly.parquet")
    with duckdb.connect(str(built_program.warehouse), read_only=True) as con:
        con.register("truth", truth)
        cells = con.sql(
            """
            with t as (
                unpivot truth on knowledge, skills, application, ethics
                into name domain value competency
            )
            select w.n_answers, w.n_correct, t.competency
            from marts.learner_domain_weekly as w
            join t on t.learner_id = w.learner_id and t.domain = w.domain
                and t.week_start + 7 = w.week_start
            where w.n_answers > 0
            """
        ).fetchnumpy()
    n, k, c = cells["n_answers"], cells["n_correct"], cells["competency"]
    assert len(n) > 1000

    def nll(params):
        p = np.clip(MeasurementModel(*params).p_correct(c), 1e-9, 1 - 1e-9)
        return -(k * np.log(p) + (n - k) * np.log1p(-p)).sum()

    default = MeasurementModel()
    fit = minimize(nll, [default.guess, default.slope, default.difficulty], method="Nelder-Mead")
    # Guess, slope and difficulty trade off against each other; compare the curves where the
    # answers are, weighting by answers.
    gap = np.abs(MeasurementModel(*fit.x).p_correct(c) - default.p_correct(c))
    assert np.average(gap, weights=n) < 0.04  # within 4 points of probability on average
    # The defaults explain the answers nearly as well as the refit does.
    assert nll([default.guess, default.slope, default.difficulty]) < 1.02 * fit.fun


def test_answers_question_by_question_add_up_to_the_weekly_counts(built_program):
    with duckdb.connect(str(built_program.warehouse), read_only=True) as con:
        [(as_of,)] = con.execute("select max(as_of_date) from marts.learner_readiness").fetchall()
        obs = load_observations(con, as_of)
    items = obs.items
    dense = np.zeros_like(obs.n_answers)
    np.add.at(dense, (items.learner, items.week, items.domain), items.n)
    right = np.zeros_like(obs.n_correct)
    np.add.at(right, (items.learner, items.week, items.domain), items.k)
    assert (dense == obs.n_answers).all() and (right == obs.n_correct).all()
    cut = obs.cut(4)
    assert cut.items.n.sum() == cut.n_answers.sum() < items.n.sum()


def test_question_curves_fitted_with_the_learners_find_the_generators(built_program, small_batch):
    """Joint fit on the small program: the questions' difficulties follow the generator's
    hidden ones, and each labelled level is harder than the one below."""
    with duckdb.connect(str(built_program.warehouse), read_only=True) as con:
        [(as_of,)] = con.execute("select max(as_of_date) from marts.learner_readiness").fetchall()
        obs = load_observations(con, as_of)
        roster = load_roster(con, obs.learner_ids)
    cal = calibrate_with_items(obs, roster.cohort_index, strata=roster.org_id)
    items = cal.measurement.items
    truth = pl.read_parquet(small_batch.truth / "questions.parquet").sort("question_id")
    truth = truth.filter(pl.col("question_id").is_in(list(items.item_ids)))
    assert truth["question_id"].to_list() == list(items.item_ids)
    well_answered = items.n_answers >= 30
    true_difficulty = truth["true_difficulty"].to_numpy()
    r = np.corrcoef(items.difficulty[well_answered], true_difficulty[well_answered])[0, 1]
    assert r > 0.6, r
    level = np.array([kind.split("/")[0] for kind in items.item_kind])
    means = [items.difficulty[level == name].mean() for name in LEVELS]
    assert means[0] < means[1] < means[2], means


def test_question_curves_predict_held_out_answers_better_than_one_curve(built_program):
    """The backtest's log loss per held-out answer, with each question's curve and with the
    bank's one curve, from the same cut."""
    with duckdb.connect(str(built_program.warehouse), read_only=True) as con:
        [(as_of,)] = con.execute("select max(as_of_date) from marts.learner_readiness").fetchall()
        obs = load_observations(con, as_of)
        roster = load_roster(con, obs.learner_ids)
    kwargs = {"groups": roster.cohort_index, "strata": roster.org_id, "draws": 60}
    per_question = backtest(obs, 6, **kwargs)
    one_curve = backtest(replace(obs, items=None), 6, **kwargs)
    assert per_question.engine.answer_log_loss < 0.97 * one_curve.engine.answer_log_loss
    assert per_question.engine.n_scored_answers == one_curve.engine.n_scored_answers > 100


def test_question_curves_put_learners_where_the_truth_is(built_program, small_batch):
    """Competency now against the generator's truth: question curves anchored by level leave
    little bias; one curve for the bank overestimates learners early in a program."""
    with duckdb.connect(str(built_program.warehouse), read_only=True) as con:
        [(as_of,)] = con.execute("select max(as_of_date) from marts.learner_readiness").fetchall()
        obs = load_observations(con, as_of)
        roster = load_roster(con, obs.learner_ids)
    truth, _ = load_truth(small_batch.truth, obs.learner_ids, obs.as_of, obs.as_of)
    known = ~np.isnan(truth).any(axis=1)

    def error(obs):
        cal = calibrate_with_items(obs, roster.cohort_index, strata=roster.org_id)
        return (cal.competency_now.mean(axis=1) - truth.mean(axis=1))[known]

    per_question, one_curve = error(obs), error(replace(obs, items=None))
    assert abs(per_question.mean()) < 0.04, per_question.mean()
    assert np.abs(per_question).mean() < 0.75 * np.abs(one_curve).mean()
