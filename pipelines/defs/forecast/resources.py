"""Settings of the nightly forecast batch."""

import dagster as dg


class ForecastSettings(dg.ConfigurableResource):
    """Monte Carlo size, horizon, seed, and the backtest's cut."""

    draws: int = 200
    horizon_weeks: int = 52
    seed: int = 2026
    backtest_weeks: int = 8
    coverage_low: float = 0.7  # the backtest check's band for the 80 % interval's coverage
    coverage_high: float = 0.9
