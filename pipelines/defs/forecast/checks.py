"""The backtest's 80 % interval must cover about 80 % of what happened."""

import dagster as dg

from ..resources import ForecastSettings, WarehouseResource
from .assets import BACKTEST


@dg.asset_check(
    asset=BACKTEST,
    description="Coverage of the engine's 80 % interval in the latest backtest lies in "
    "[0.7, 0.9]: against the ground truth when there is one, else of the held-out answers.",
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
                case when truth_available then coverage_80 else observed_coverage_80 end
            from forecasts.backtest_report
            where method like 'engine%'
            order by as_of_date desc, cut_weeks desc
            limit 1
            """
        ).fetchall()
    low, high = forecast_settings.coverage_low, forecast_settings.coverage_high
    if not rows or rows[0][3] is None:
        return dg.AssetCheckResult(
            passed=False, metadata={"summary": "the backtest measured no interval coverage"}
        )
    as_of, weeks, truth, coverage = rows[0]
    passed = bool(low <= coverage <= high)
    against = "the ground truth" if truth else "the held-out answers"
    return dg.AssetCheckResult(
        passed=passed,
        metadata={
            "summary": f"the forecast's 80 % interval covered {coverage:.0%} of {against} in the"
            f" backtest cut {weeks} weeks before {as_of}"
            + ("" if passed else f", outside the band [{low:.0%}, {high:.0%}]"),
            "coverage_80": float(coverage),
            "band": f"[{low}, {high}]",
            "against": "ground truth" if truth else "held-out answers",
            "as_of_date": str(as_of),
            "cut_weeks": int(weeks),
        },
    )


CHECKS = [interval_coverage_in_band]
