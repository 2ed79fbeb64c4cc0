"""Screening metrics: trailing returns, volatility, beta, drawdown, traded value, coverage.

One row per symbol, computed from a wide price panel (dates x symbols) in which every symbol
keeps its own dates: a missing price is ``NaN`` and is never filled (not with zero, not
forward). Every window is anchored on the symbol's **own last price date at or before
``as_of``** (its *anchor*), so a security that did not trade on ``as_of`` (holiday, halt) is
measured up to its last close and its ``last_price_date`` shows how stale that is.

Definitions (see ``docs/screening.md`` for the full field dictionary):

- ``ret_1m``, ``ret_3m``, ``ret_6m``: ``P(anchor) / P(ref) - 1`` with ``ref`` the symbol's
  last price date at or before ``anchor - k calendar months`` (``pandas.DateOffset``; month
  ends are clipped, 31 March - 1 month = 28/29 February). ``ret_ytd``: ``ref`` is the last
  price date at or before 31 December of the year before the anchor's year. ``NaN`` when the
  history does not reach back that far. ``ret_*_from`` gives the ``ref`` date used.
- Daily returns are **simple** returns between consecutive prices of the symbol. With
  ``sessions`` given, a return that spans one or more of the symbol's sessions without a
  price (a halt, a data gap) is excluded from volatility and beta, so a multi-day move never
  counts as one day.
- ``vol_60d``: sample standard deviation (``ddof=1``) of the daily returns dated within the
  last 60 sessions up to the anchor, times ``sqrt(252)``. ``NaN`` below ``min_obs`` returns.
- ``beta``: OLS slope of the daily return on the benchmark's daily return of the same date
  over the last 252 sessions up to the anchor (dates where either is missing are dropped);
  ``NaN`` below ``min_beta_obs`` pairs.
- ``max_drawdown_1y``: ``min_t P_t / max_{s<=t} P_s - 1`` over prices dated in
  ``(anchor - 1 year, anchor]``; a fraction <= 0. ``NaN`` below ``min_obs`` prices.
- ``adv_60d``: mean of ``close x volume`` (local currency, unadjusted close when ``close`` is
  given) over the days within the last 60 sessions with both values and volume > 0;
  ``NaN`` below ``min_obs`` days.
- ``coverage_1y``: of the symbol's expected sessions in ``(as_of - 1 year, as_of]``, the
  share with a price. Expected sessions are ``sessions[symbol]`` when given, otherwise the
  panel's own dates (exact for a single-exchange panel, approximate for a mixed one: pass
  ``sessions`` then).

"The last N sessions" means the symbol's sessions from ``sessions`` when given, otherwise its
own price dates.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from screener.errors import InputError

__all__ = ["screening_metrics", "METRIC_COLUMNS", "TRADING_DAYS_PER_YEAR"]

TRADING_DAYS_PER_YEAR = 252

_RETURN_HORIZONS: tuple[tuple[str, int], ...] = (("1m", 1), ("3m", 3), ("6m", 6))

METRIC_COLUMNS: tuple[str, ...] = (
    "symbol",
    "ret_1m", "ret_1m_from",
    "ret_3m", "ret_3m_from",
    "ret_6m", "ret_6m_from",
    "ret_ytd", "ret_ytd_from",
    "vol_60d", "vol_60d_n",
    "beta", "beta_n", "beta_benchmark",
    "max_drawdown_1y", "max_drawdown_1y_n",
    "adv_60d", "adv_60d_n", "currency",
    "coverage_1y", "coverage_1y_expected", "coverage_1y_observed",
    "first_price_date", "last_price_date",
)


def _check_panel(frame: Any, what: str) -> pd.DataFrame:
    if not isinstance(frame, pd.DataFrame):
        raise InputError(f"{what} must be a DataFrame (dates x symbols), got {type(frame).__name__}")
    if not isinstance(frame.index, pd.DatetimeIndex):
        raise InputError(f"{what} must have a DatetimeIndex of dates, got {type(frame.index).__name__}")
    if frame.index.tz is not None:
        raise InputError(f"{what} must have tz-naive session dates, got time zone {frame.index.tz}")
    if frame.index.has_duplicates:
        dup = frame.index[frame.index.duplicated()][0]
        raise InputError(f"{what} has a duplicated date: {dup.date()}")
    if frame.columns.has_duplicates:
        dup = frame.columns[frame.columns.duplicated()][0]
        raise InputError(f"{what} has a duplicated column: {dup!r}")
    out = frame.sort_index()
    bad = [c for c in out.columns if not pd.api.types.is_numeric_dtype(out[c])]
    if bad:
        raise InputError(f"{what} column {bad[0]!r} is not numeric (dtype {out[bad[0]].dtype})")
    return out.astype("float64")


def _window_start(own_dates: pd.DatetimeIndex, anchor: pd.Timestamp, n: int) -> pd.Timestamp:
    """First date of the last ``n`` dates of ``own_dates`` up to ``anchor``."""
    upto = own_dates[own_dates <= anchor]
    if len(upto) == 0:
        return anchor
    return upto[max(len(upto) - n, 0)]


def _consecutive_returns(p: pd.Series, sess: pd.DatetimeIndex | None) -> pd.Series:
    """Simple returns between consecutive prices; with ``sess``, drop returns spanning gaps."""
    values = p.to_numpy()
    r = pd.Series(values[1:] / values[:-1] - 1.0, index=p.index[1:])
    if sess is not None and len(r):
        prev = p.index[:-1]
        skipped = sess.searchsorted(p.index[1:], side="left") - sess.searchsorted(prev, side="right")
        r = r[skipped == 0]
    return r


def _as_sessions(sessions: Mapping[str, Any] | None, symbol: str) -> pd.DatetimeIndex | None:
    if sessions is None or symbol not in sessions:
        return None
    idx = pd.DatetimeIndex(sessions[symbol])
    if idx.tz is not None:
        idx = idx.tz_localize(None)
    return idx.normalize().unique().sort_values()


def screening_metrics(
    prices: pd.DataFrame,
    *,
    volume: pd.DataFrame | None = None,
    close: pd.DataFrame | None = None,
    benchmark_returns: pd.DataFrame | pd.Series | None = None,
    benchmarks: Mapping[str, str] | None = None,
    currencies: Mapping[str, str] | None = None,
    sessions: Mapping[str, Any] | None = None,
    as_of: Any = None,
    vol_window: int = 60,
    beta_lookback: int = TRADING_DAYS_PER_YEAR,
    min_obs: int = 20,
    min_beta_obs: int = 60,
) -> pd.DataFrame:
    """Per-symbol screening metrics from a wide panel of adjusted closes.

    Parameters
    ----------
    prices : DataFrame
        Adjusted closes, ``DatetimeIndex`` of session dates (tz-naive) x one column per
        symbol; ``NaN`` where a symbol has no price. Prices must be positive.
    volume : DataFrame, optional
        Traded volume (shares), same layout. Without it ``adv_60d`` is ``NaN``.
    close : DataFrame, optional
        Unadjusted closes for traded value; defaults to ``prices`` (adjusted, so slightly
        understated before dividends/splits).
    benchmark_returns : DataFrame or Series, optional
        Daily simple returns of the benchmarks (dates x benchmark columns). A Series is used
        as the benchmark of every symbol.
    benchmarks : Mapping[str, str], optional
        ``{symbol: benchmark column}``. Symbols without an entry get ``beta = NaN``.
    currencies : Mapping[str, str], optional
        ``{symbol: ISO 4217 code}`` copied into the ``currency`` column (``adv_60d``'s unit).
    sessions : Mapping[str, DatetimeIndex], optional
        Each symbol's expected trading sessions (e.g. from its exchange calendar). Used for
        windows, gap detection and coverage.
    as_of : date-like, optional
        Measurement date; defaults to the panel's last date. Later prices are ignored.
    vol_window : int
        Sessions in the volatility and traded-value windows (60).
    beta_lookback : int
        Sessions in the beta window (252).
    min_obs : int
        Minimum returns / prices / days behind ``vol_60d``, ``max_drawdown_1y``, ``adv_60d``.
    min_beta_obs : int
        Minimum return pairs behind ``beta``.

    Returns
    -------
    DataFrame
        One row per column of ``prices``, columns :data:`METRIC_COLUMNS` (see the module
        docstring and ``docs/screening.md``).

    Examples
    --------
    Two synthetic securities: ``AAA`` a random walk, ``BBB`` growing 0.1 % every business day
    (no volatility, no drawdown; 23 business days from 30 September to 31 October, so
    ``ret_1m = 1.001 ** 23 - 1``):

    >>> import numpy as np, pandas as pd
    >>> from screener.metrics import screening_metrics
    >>> dates = pd.bdate_range("2025-01-01", "2025-10-31")
    >>> rng = np.random.default_rng(0)
    >>> prices = pd.DataFrame({"AAA": 100 * np.exp(np.cumsum(rng.normal(0, 0.01, len(dates)))),
    ...                        "BBB": 50 * 1.001 ** np.arange(len(dates))}, index=dates)
    >>> m = screening_metrics(prices, as_of="2025-10-31").set_index("symbol")
    >>> m[["ret_1m", "vol_60d", "vol_60d_n", "max_drawdown_1y"]].round(4)
            ret_1m  vol_60d  vol_60d_n  max_drawdown_1y
    symbol
    AAA    -0.0012   0.1578         60          -0.1123
    BBB     0.0233   0.0000         60           0.0000
    >>> m.loc["BBB", "ret_1m_from"]                   # the base date of ret_1m
    Timestamp('2025-09-30 00:00:00')
    >>> round(1.001 ** 23 - 1, 4)
    0.0233

    Raises
    ------
    InputError
        Malformed panels, a non-positive price (names symbol and date), a benchmark column
        that is not in ``benchmark_returns``, a bad ``as_of``.
    """
    prices = _check_panel(prices, "prices")
    volume = _check_panel(volume, "volume") if volume is not None else None
    close = _check_panel(close, "close") if close is not None else None
    if isinstance(benchmark_returns, pd.Series):
        name = benchmark_returns.name if benchmark_returns.name is not None else "benchmark"
        bench_panel = _check_panel(benchmark_returns.to_frame(name), "benchmark_returns")
        benchmarks = {s: name for s in prices.columns} if benchmarks is None else benchmarks
    elif benchmark_returns is not None:
        bench_panel = _check_panel(benchmark_returns, "benchmark_returns")
    else:
        bench_panel = None
    benchmarks = dict(benchmarks or {})
    if benchmarks and bench_panel is None:
        raise InputError("benchmarks were given without benchmark_returns")
    for sym, b in benchmarks.items():
        if sym in prices.columns and bench_panel is not None and b not in bench_panel.columns:
            raise InputError(
                f"benchmark {b!r} of symbol {sym!r} is not a column of benchmark_returns "
                f"(columns: {', '.join(map(str, bench_panel.columns))})"
            )
    nonpos = prices <= 0
    if nonpos.to_numpy().any():
        col = prices.columns[nonpos.any(axis=0).to_numpy()][0]
        date = prices.index[nonpos[col].to_numpy()][0]
        raise InputError(f"prices: non-positive price {prices.at[date, col]!r} for symbol {col!r} on {date.date()}")
    if as_of is None:
        as_of_ts = prices.index[-1] if len(prices.index) else pd.NaT
    else:
        try:
            as_of_ts = pd.Timestamp(as_of)
        except (TypeError, ValueError) as exc:
            raise InputError(f"as_of is not a date: {as_of!r}") from exc
        if as_of_ts.tz is not None:
            raise InputError(f"as_of must be a tz-naive date, got {as_of!r}")
    for n, label in ((vol_window, "vol_window"), (beta_lookback, "beta_lookback"), (min_obs, "min_obs"),
                     (min_beta_obs, "min_beta_obs")):
        if int(n) < 2:
            raise InputError(f"{label} must be at least 2, got {n!r}")

    currencies = dict(currencies or {})
    one_year = pd.DateOffset(years=1)
    rows: list[dict[str, Any]] = []
    for sym in prices.columns:
        row: dict[str, Any] = {c: np.nan for c in METRIC_COLUMNS}
        row.update({"symbol": sym, "beta_benchmark": benchmarks.get(sym), "currency": currencies.get(sym)})
        for key in ("vol_60d_n", "beta_n", "max_drawdown_1y_n", "adv_60d_n", "coverage_1y_expected",
                    "coverage_1y_observed"):
            row[key] = 0
        for key in ("ret_1m_from", "ret_3m_from", "ret_6m_from", "ret_ytd_from", "first_price_date",
                    "last_price_date"):
            row[key] = pd.NaT
        sess = _as_sessions(sessions, sym)
        full = prices[sym]
        # Coverage is measured up to as_of even when the symbol stopped trading earlier.
        if not pd.isna(as_of_ts):
            lo = as_of_ts - one_year
            expected = sess if sess is not None else prices.index
            expected = expected[(expected > lo) & (expected <= as_of_ts)]
            observed = full.reindex(expected).notna().sum() if len(expected) else 0
            row["coverage_1y_expected"] = int(len(expected))
            row["coverage_1y_observed"] = int(observed)
            row["coverage_1y"] = observed / len(expected) if len(expected) else np.nan
        p = full[full.index <= as_of_ts].dropna() if not pd.isna(as_of_ts) else full.iloc[:0]
        if p.empty:
            rows.append(row)
            continue
        anchor = p.index[-1]
        last = p.iloc[-1]
        row["first_price_date"] = p.index[0]
        row["last_price_date"] = anchor
        # Trailing returns on calendar offsets.
        targets = [(h, anchor - pd.DateOffset(months=m)) for h, m in _RETURN_HORIZONS]
        targets.append(("ytd", pd.Timestamp(anchor.year - 1, 12, 31)))
        for h, target in targets:
            i = p.index.searchsorted(target, side="right") - 1
            if i >= 0:
                row[f"ret_{h}"] = last / p.iloc[i] - 1.0
                row[f"ret_{h}_from"] = p.index[i]
        own_dates = sess if sess is not None else p.index
        r = _consecutive_returns(p, sess)
        # Volatility.
        vstart = _window_start(own_dates, anchor, vol_window)
        rv = r[(r.index >= vstart) & (r.index <= anchor)]
        row["vol_60d_n"] = int(len(rv))
        if len(rv) >= min_obs:
            row["vol_60d"] = float(np.std(rv.to_numpy(), ddof=1) * np.sqrt(TRADING_DAYS_PER_YEAR))
        # Beta.
        bcol = benchmarks.get(sym)
        if bcol is not None and bench_panel is not None:
            bstart = _window_start(own_dates, anchor, beta_lookback)
            rb = r[(r.index >= bstart) & (r.index <= anchor)]
            m = bench_panel[bcol].reindex(rb.index)
            ok = rb.notna().to_numpy() & m.notna().to_numpy()
            y, x = rb.to_numpy()[ok], m.to_numpy()[ok]
            row["beta_n"] = int(ok.sum())
            if ok.sum() >= min_beta_obs:
                xc = x - x.mean()
                sxx = float(xc @ xc)
                row["beta"] = float(xc @ (y - y.mean()) / sxx) if sxx > 0 else np.nan
        # Max drawdown over one calendar year.
        pdd = p[p.index > anchor - one_year].to_numpy()
        row["max_drawdown_1y_n"] = int(len(pdd))
        if len(pdd) >= min_obs:
            row["max_drawdown_1y"] = float(np.min(pdd / np.maximum.accumulate(pdd) - 1.0))
        # Average daily traded value.
        if volume is not None and sym in volume.columns:
            cl = (close[sym] if close is not None and sym in close.columns else full)
            window = (cl.index >= vstart) & (cl.index <= anchor)
            v = volume[sym].reindex(cl.index)[window]
            value = (cl[window] * v)[(v > 0).to_numpy()].dropna()
            row["adv_60d_n"] = int(len(value))
            if len(value) >= min_obs:
                row["adv_60d"] = float(value.mean())
        rows.append(row)

    out = pd.DataFrame(rows, columns=list(METRIC_COLUMNS))
    for key in ("vol_60d_n", "beta_n", "max_drawdown_1y_n", "adv_60d_n", "coverage_1y_expected",
                "coverage_1y_observed"):
        out[key] = out[key].astype("int64")
    for key in ("ret_1m_from", "ret_3m_from", "ret_6m_from", "ret_ytd_from", "first_price_date",
                "last_price_date"):
        out[key] = pd.to_datetime(out[key])
    for key in ("symbol", "beta_benchmark", "currency"):
        out[key] = out[key].astype("str")  # missing stays NaN
    out.attrs["as_of"] = as_of_ts
    return out
