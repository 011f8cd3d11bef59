"""The backtest's 80 % interval must cover about 80 % of what happened."""

import dagster as dg

from engine.backtest import coverage_band

from ..resources import ForecastSettings, WarehouseResource
from .assets import BACKTEST, TRIAGE_BACKTEST


@dg.asset_check(
    asset=BACKTEST,
    description="Coverage of the engine's 80 % interval in the latest backtest lies in "
    "[0.75, 0.85] widened by two binomial standard errors for the learners scored (so about "
    "[0.64, 0.96] on 50 learners, [0.73, 0.87] on 2,000): against the ground truth when there "
    "is one, else of the held-out answers.",
    # Not blocking: the forecast stays published (it is still the best estimate there is);
    # the failed check is what tells the operator its intervals need attention.
    blocking=False,
)
def interval_coverage_in_band(
    warehouse: WarehouseResource, forecast_settings: ForecastSettings
) -> dg.AssetCheckResult:
    with warehouse.connect() as con:
        rows = con.execute(
            """
            select as_of_date, cut_weeks, truth_available,
                case when truth_available then coverage_80 else observed_coverage_80 end,
                coalesce(
                    case when truth_available then n_scored_truth else n_scored_answers end,
                    n_learners
                )
            from forecasts.backtest_report
            where method like 'engine%'
            order by as_of_date desc, cut_weeks desc
            limit 1
            """
        ).fetchall()
    if not rows or rows[0][3] is None:
        return dg.AssetCheckResult(
            passed=False, metadata={"summary": "the backtest measured no interval coverage"}
        )
    as_of, weeks, truth, coverage, n_scored = rows[0]
    settings = forecast_settings
    low, high = coverage_band(
        n_scored, settings.coverage_low, settings.coverage_high, settings.coverage_z
    )
    passed = bool(low <= coverage <= high)
    against = "the ground truth" if truth else "the held-out answers"
    return dg.AssetCheckResult(
        passed=passed,
        metadata={
            "summary": f"the forecast's 80 % interval covered {coverage:.0%} of {against} in the"
            f" backtest cut {weeks} weeks before {as_of}"
            + (
                ""
                if passed
                else f", outside the band [{low:.0%}, {high:.0%}] for {n_scored:,} learners"
            ),
            "coverage_80": float(coverage),
            "band": f"[{low:.3f}, {high:.3f}]",
            "learners_scored": int(n_scored),
            "against": "ground truth" if truth else "held-out answers",
            "as_of_date": str(as_of),
            "cut_weeks": int(weeks),
        },
    )


@dg.asset_check(
    asset=TRIAGE_BACKTEST,
    description="The at-risk flag, backtested by time split, finds at least min_triage_lift "
    "times the base rate of learners who stop within 8 weeks.",
    blocking=False,
)
def triage_lift_at_flag(
    warehouse: WarehouseResource, forecast_settings: ForecastSettings
) -> dg.AssetCheckResult:
    with warehouse.connect() as con:
        rows = con.execute(
            """
            select as_of_date, cut_date, n_scored, base_rate, lift, flagged_share, auc
            from forecasts.triage_backtest
            where method = 'hazard model'
            order by as_of_date desc
            limit 1
            """
        ).fetchall()
    if not rows:
        return dg.AssetCheckResult(
            passed=True,
            metadata={"summary": "no triage backtest yet: the history is shorter than 12 weeks"},
        )
    as_of, cut, n, base, lift, share, auc = rows[0]
    events = round(n * base)
    least = forecast_settings.min_triage_lift
    if events < forecast_settings.min_triage_events:
        return dg.AssetCheckResult(
            passed=True,
            metadata={
                "summary": f"the triage backtest cut at {cut} saw {events} stops among {n}"
                " learners: too few to judge the flag's lift",
                "stops": events,
            },
        )
    passed = lift is not None and lift >= least
    found = f"{lift:.1f}x" if lift is not None else "no"
    return dg.AssetCheckResult(
        passed=passed,
        metadata={
            "summary": f"the at-risk flag, fitted as of {cut}, found {found} the base rate of"
            f" learners who stopped within 8 weeks ({share:.0%} flagged, AUC {auc or 0:.2f})"
            + ("" if passed else f", under the {least:g}x the flag must reach"),
            "lift": lift,
            "flagged_share": share,
            "auc": auc,
            "as_of_date": str(as_of),
        },
    )


CHECKS = [interval_coverage_in_band, triage_lift_at_flag]
