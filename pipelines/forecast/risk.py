"""The disengagement model's inputs from the marts, and its tables in the forecasts schema."""

from __future__ import annotations

import duckdb
import numpy as np
import polars as pl

from engine.disengagement import FEATURES, HORIZON_WEEKS, DailyActivity, HazardModel, RiskScores
from engine.disengagement import TriageBacktest as Backtest

from .tables import replace_rows

DDL = """
create schema if not exists forecasts;

create table if not exists forecasts.disengagement_risk (
    learner_id varchar not null,
    as_of_date date not null,
    status varchar not null,  -- active | disengaged | not_started
    p_disengage_8w double,  -- null for the disengaged: they have already stopped
    days_since_active integer,
    hours_last_2w double,
    hours_weeks_3_6 double,
    active_days_last_2w integer,
    active_days_weeks_3_6 integer,
    longest_gap_8w integer,
    failed_attempts_4w integer,
    retries_4w integer,
    top_factors varchar[],  -- features raising the risk most, strongest first
    primary key (learner_id, as_of_date)
);

create table if not exists forecasts.disengagement_model (
    as_of_date date not null,
    term varchar not null,  -- intercept, week_ahead_2..8, or a feature
    coefficient double not null,  -- on the logit, per standard deviation of a feature
    feature_mean double,
    feature_scale double,
    n_rows integer not null,
    n_events integer not null,
    n_learners integer not null,
    trained_through date,
    primary key (as_of_date, term)
);

create table if not exists forecasts.triage_backtest (
    as_of_date date not null,
    cut_date date not null,
    cut_weeks integer not null,
    method varchar not null,
    n_scored integer not null,
    base_rate double not null,
    auc double,
    brier double,
    brier_base_rate double not null,
    flagged_share double not null,
    flag_precision double,
    flag_recall double,
    lift double,
    primary key (as_of_date, cut_weeks, method)
);

create table if not exists forecasts.triage_calibration (
    as_of_date date not null,
    method varchar not null,
    decile integer not null,
    n integer not null,
    mean_predicted double not null,
    observed_rate double not null,
    primary key (as_of_date, method, decile)
);
"""

TIERS = ("beginner", "intermediate", "advanced", "mastery")

# Per learner and day up to the as-of date: what the marts say the learner did.
DAILY_SQL = """
with
learners as (
    select learners.learner_id, cohorts.target_mastery_date
    from staging.stg_reference__learners as learners
    left join staging.stg_reference__cohorts as cohorts on learners.cohort_id = cohorts.cohort_id
),
missions as (
    select
        learner_id, mission_id, attempt_number, is_decided, is_passed,
        list_position(?::varchar[], tier) - 1 as tier_index,
        cast(started_at as date) as started_on,
        cast(coalesce(mentor_reviewed_at, submitted_at, updated_at) as date) as decided_on
    from marts.fct_mission_attempts
),
assessments as (
    select
        learner_id, attempt_number, status, is_passed, percentage,
        cast(started_at as date) as started_on,
        cast(graded_at as date) as graded_on
    from marts.fct_assessment_attempts
),
events as (
    select learner_id, activity_date as day, session_minutes as minutes,
        0 as failed, 0 as passed, 0 as retries, 0 as first_pass, -1 as tier,
        0.0 as score_sum, 0 as score_n
    from intermediate.int_learner_days_aggregated
    union all
    select learner_id, started_on, 0, 0, 0, (attempt_number >= 2)::int, 0, tier_index, 0, 0
    from missions where started_on is not null
    union all
    select learner_id, decided_on, 0, (not is_passed)::int, is_passed::int, 0, 0, -1, 0, 0
    from missions where is_decided
    union all
    select learner_id, min(decided_on), 0, 0, 0, 0, 1, -1, 0, 0
    from missions where is_passed group by learner_id, mission_id
    union all
    select learner_id, started_on, 0, 0, 0, (attempt_number >= 2)::int, 0, -1, 0, 0
    from assessments where started_on is not null
    union all
    select learner_id, graded_on, 0, (not is_passed)::int, is_passed::int, 0, 0, -1,
        percentage / 100.0, 1
    from assessments where status = 'graded' and graded_on is not null
)
select
    events.learner_id,
    datediff('day', ?::date, events.day) as day_index,
    sum(minutes) as minutes,
    sum(failed) as failed,
    sum(passed) as passed,
    sum(retries) as retries,
    sum(first_pass) as first_pass,
    max(tier) as tier,
    sum(score_sum) as score_sum,
    sum(score_n) as score_n
from events
where events.day between ?::date and ?::date
group by all
"""


def first_event_day(con: duckdb.DuckDBPyConnection, as_of) -> np.datetime64:
    """The first day with any learner activity (the as-of date when there is none)."""
    day = con.execute(
        "select least(min(activity_date), ?::date) from intermediate.int_learner_days_aggregated",
        [str(as_of)],
    ).fetchall()[0][0]
    return np.datetime64(day, "D")


def load_daily_activity(con: duckdb.DuckDBPyConnection, as_of) -> DailyActivity:
    """Every learner of the reference data, day by day from the first activity to ``as_of``."""
    as_of = np.datetime64(as_of, "D")
    first = first_event_day(con, as_of)
    n_days = int((as_of - first).astype(int)) + 1
    roster = con.sql(
        """
        select learners.learner_id, cohorts.target_mastery_date
        from staging.stg_reference__learners as learners
        left join staging.stg_reference__cohorts as cohorts
            on learners.cohort_id = cohorts.cohort_id
        order by learners.learner_id
        """
    ).fetchnumpy()
    ids = np.asarray(roster["learner_id"]).astype(str)
    target = np.asarray(roster["target_mastery_date"]).astype("datetime64[D]")
    target_day = np.where(np.isnat(target), 10**6, (target - first).astype("timedelta64[D]"))
    rows = con.sql(DAILY_SQL, params=[list(TIERS), str(first), str(first), str(as_of)]).pl()
    n = len(ids)
    shape = (n, n_days)
    active = np.zeros(shape, bool)
    arrays = {k: np.zeros(shape) for k in ("minutes", "failed", "passed", "retries")}
    arrays |= {k: np.zeros(shape) for k in ("first_pass", "score_sum", "score_n")}
    tier = np.full(shape, -1, np.int8)
    if rows.height:
        index = pl.DataFrame({"learner_id": ids, "row": np.arange(n)})
        rows = rows.join(index, on="learner_id", how="inner")
        r, c = rows["row"].to_numpy(), rows["day_index"].to_numpy()
        active[r, c] = True
        for key in arrays:
            arrays[key][r, c] = rows[key].fill_null(0).to_numpy()
        tier[r, c] = rows["tier"].fill_null(-1).to_numpy()
    return DailyActivity(
        learner_ids=ids,
        first_day=first,
        active=active,
        study_minutes=arrays["minutes"],
        failed=arrays["failed"].astype(np.int32),
        passed=arrays["passed"].astype(np.int32),
        retries=arrays["retries"].astype(np.int32),
        missions_passed=arrays["first_pass"].astype(np.int32),
        tier=tier,
        score_sum=arrays["score_sum"],
        score_n=arrays["score_n"].astype(np.int32),
        target_day=target_day.astype(np.int64),
    )


def write_scores(con: duckdb.DuckDBPyConnection, scores: RiskScores, as_of) -> int:
    col = {name: i for i, name in enumerate(FEATURES)}
    order = np.argsort(-scores.contributions, axis=1, kind="stable")
    top = [
        [FEATURES[j] for j in row[:3] if contrib[j] > 0.05]
        for row, contrib in zip(order, scores.contributions, strict=True)
    ]
    f = scores.features
    n = len(scores.learner_ids)
    frame = pl.DataFrame(
        {
            "learner_id": scores.learner_ids,
            "as_of_date": np.full(n, np.datetime64(as_of, "D")),
            "status": scores.status.astype(str),
            "p_disengage_8w": scores.p_disengage_8w,
            "days_since_active": np.minimum(scores.days_since_active, 9999).astype(np.int32),
            "hours_last_2w": np.round(f[:, col["hours_last_2w"]], 2),
            "hours_weeks_3_6": np.round(f[:, col["hours_weeks_3_6"]], 2),
            "active_days_last_2w": f[:, col["active_days_last_2w"]].astype(np.int32),
            "active_days_weeks_3_6": f[:, col["active_days_weeks_3_6"]].astype(np.int32),
            "longest_gap_8w": f[:, col["longest_gap_8w"]].astype(np.int32),
            "failed_attempts_4w": f[:, col["failed_attempts_4w"]].astype(np.int32),
            "retries_4w": f[:, col["retries_4w"]].astype(np.int32),
            "top_factors": pl.Series(top, dtype=pl.List(pl.String)),
        },
        nan_to_null=True,
    )
    frame = frame.with_columns(
        days_since_active=pl.when(pl.col("status") == "not_started")
        .then(None)
        .otherwise(pl.col("days_since_active"))
    )
    return replace_rows(con, "forecasts.disengagement_risk", as_of, frame)


def model_rows(model: HazardModel) -> pl.DataFrame:
    terms = ["intercept", *[f"week_ahead_{j}" for j in range(2, HORIZON_WEEKS + 1)], *FEATURES]
    coefficients = [float(c) for c in (model.intercept, *model.week_effects[1:], *model.coef)]
    through = None if model.trained_through is None else model.trained_through.item()
    none = [None] * HORIZON_WEEKS
    return pl.DataFrame(
        {
            "term": terms,
            "coefficient": coefficients,
            "feature_mean": [*none, *map(float, model.mean)],
            "feature_scale": [*none, *map(float, model.scale)],
            "n_rows": [model.n_rows] * len(terms),
            "n_events": [model.n_events] * len(terms),
            "n_learners": [model.n_learners] * len(terms),
            "trained_through": [through] * len(terms),
        },
        schema_overrides={
            "feature_mean": pl.Float64,
            "feature_scale": pl.Float64,
            "trained_through": pl.Date,
        },
    )


def write_model(con: duckdb.DuckDBPyConnection, model: HazardModel, as_of) -> int:
    frame = model_rows(model).with_columns(as_of_date=pl.lit(np.datetime64(as_of, "D").item()))
    return replace_rows(con, "forecasts.disengagement_model", as_of, frame)


def write_backtest(con: duckdb.DuckDBPyConnection, report: Backtest, as_of) -> int:
    day = np.datetime64(as_of, "D").item()
    rows = [
        {
            "as_of_date": day,
            "cut_date": np.datetime64(report.cut_date, "D").item(),
            "cut_weeks": report.cut_weeks,
            "method": m.method,
            "n_scored": m.n_scored,
            "base_rate": m.base_rate,
            "auc": m.auc,
            "brier": m.brier,
            "brier_base_rate": m.brier_base_rate,
            "flagged_share": m.flagged_share,
            "flag_precision": m.precision,
            "flag_recall": m.recall,
            "lift": m.lift,
        }
        for m in report.methods
    ]
    deciles = [
        {
            "as_of_date": day,
            "method": m.method,
            "decile": decile,
            "n": count,
            "mean_predicted": predicted,
            "observed_rate": observed,
        }
        for m in report.methods
        for decile, count, predicted, observed in m.deciles
    ]
    schema = {"as_of_date": pl.Date, "cut_date": pl.Date, "auc": pl.Float64, "brier": pl.Float64}
    schema |= {"flag_precision": pl.Float64, "flag_recall": pl.Float64, "lift": pl.Float64}
    replace_rows(con, "forecasts.triage_backtest", as_of, _frame(rows, schema))
    replace_rows(
        con, "forecasts.triage_calibration", as_of, _frame(deciles, {"as_of_date": pl.Date})
    )
    return len(rows)


def _frame(rows: list[dict], schema: dict) -> pl.DataFrame | None:
    return pl.DataFrame(rows, schema_overrides=schema, infer_schema_length=None) if rows else None
