"""bourse.metrics: every metric of a run's summary, computed by the host's
analytics (host/analytics/metrics.c) from any equity curve, so results from
elsewhere get Bourse's conventions (docs/analytics.md)."""
import numpy as np

from . import _bourse


def metrics(equity, periods_per_year=252, risk_free_rate=0.0, trading_seconds_per_day=23400):
    """equity: a pandas Series indexed by a DatetimeIndex (or a DataFrame with
    an 'equity' column). Returns a dict with the summary.json keys; trade
    statistics are 0 or None (an equity curve has no fills).
    trading_seconds_per_day (in (0, 86400], the config key of that name)
    annualises the intraday returns of a curve shorter than two days:
    ann_volatility, sharpe and sortino then use periods_per_year x
    trading_seconds_per_day / returns_period_s periods a year
    (docs/analytics.md, "Runs shorter than two days")."""
    import pandas as pd
    if isinstance(equity, pd.DataFrame):
        equity = equity["equity"]
    if not isinstance(equity.index, pd.DatetimeIndex):
        raise TypeError("metrics: equity needs a DatetimeIndex")
    idx = equity.index
    if idx.tz is not None:
        idx = idx.tz_convert("UTC").tz_localize(None)
    ts = np.ascontiguousarray(idx.values.astype("datetime64[ns]").view(np.int64))
    eq = np.ascontiguousarray(equity.to_numpy(np.float64))
    return _bourse.metrics(ts, eq, float(periods_per_year), float(risk_free_rate),
                           float(trading_seconds_per_day))
