"""Event studies: :class:`EventStudy` (alignment and estimation) and :class:`EventStudyResults`.

Event time counts each security's own trading sessions. All event windows are aligned into one
(pairs x days) array by index arithmetic (see ``events._align``) and the expected-return
models are fitted for all pairs at once (``events.models``); the test statistics live in
``events.statistics`` and work on the :class:`~events.arrays.EventArrays` built here.

Typical use (:class:`EventStudy` has an example that runs)::

    from events import EventStudy
    study = EventStudy(returns, market=market_returns, model="market",
                       estimation=(-250, -11), windows=[(0, 0), (-1, 1), (0, 5)])
    res = study.fit(event_firms)      # columns event_id, symbol, event_date
    res.car, res.tests(), print(res.summary())
"""

from __future__ import annotations

import contextvars
import os
import re
import warnings
from collections.abc import Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from functools import cached_property
from typing import Any

import numpy as np
import pandas as pd

from events import _align
from events.arrays import (
    EventArrays, ForecastCovariance, WindowDays, ar_variances, car_variance, cumulative_car_variance,
)
from events.models import STATUS_NAMES, ModelSpec, fit_models, get_model
from screener.errors import EstimationWarning, InputError

__all__ = ["EventStudy", "EventStudyResults", "Summary", "DATE_POLICIES", "OUTCOMES", "FLAGS"]

#: How day 0 is chosen when the event date is not a session of the security.
DATE_POLICIES: dict[str, str] = {
    "next": "the first session on or after the event date (outcome date_shifted when moved)",
    "previous": "the last session on or before the event date (outcome date_shifted when moved)",
    "exact": "the event date must be a session; otherwise outcome event_day_missing (warned)",
    "skip": "the event date must be a session; otherwise outcome skipped (deliberate, not warned)",
}

#: Outcome codes of ``EventStudyResults.outcomes`` (``included`` says which reach the tests).
OUTCOMES: dict[str, str] = {
    "ok": "estimated, no remark",
    "date_shifted": "estimated; day 0 moved to a session by the date policy",
    "overlapping_event": "estimated; another event of the same security overlaps its windows",
    "halt_in_event_window": "estimated; some event-window returns span a halt and were left out",
    "unknown_symbol": "the symbol is not a column of the returns",
    "no_benchmark": "the symbol has no benchmark column (see benchmarks=)",
    "invalid_date": "the event date is missing or not a date",
    "no_data": "the event date is outside the security's price history (or too far from a session)",
    "event_day_missing": "date_policy='exact' and the event date is not a session of the security",
    "skipped": "date_policy='skip' and the event date is not a session of the security",
    "duplicate": "the same (event_id, symbol) appeared before in the input",
    "non_finite_returns": "an infinite return in the estimation or event window",
    "insufficient_estimation": "fewer valid estimation observations than min_estimation_obs",
    "constant_returns": "the security's returns are constant over the estimation window",
    "singular_design": "the regressors are collinear or constant over the estimation window",
}
#: Remarks in ``outcomes.flags`` (``;``-separated) on pairs that were estimated.
FLAGS: dict[str, str] = {
    "date_shifted": "day 0 is not the requested date (date policy)",
    "overlapping_event": "another event window of the same security overlaps this pair's windows",
    "halt_in_event_window": "an event-window return spans several sessions and was left out",
    "day0_return_missing": "no return on day 0",
    "event_window_truncated": "the event window runs past the security's first or last session",
}
_INCLUDED = {"ok", "date_shifted", "overlapping_event", "halt_in_event_window"}
_EPOCH = np.datetime64("1970-01-01", "D")
# threads estimating chunks of pairs at once (the cores this process may run on, at most 4)
_WORKERS = max(1, min(4, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1))


def _window_label(w: tuple[int, int]) -> str:
    return f"({w[0]}, {w[1]})"


def _days_to_dates(days: np.ndarray) -> np.ndarray:
    out = (days.astype("int64").astype("timedelta64[D]") + _EPOCH).astype("datetime64[ns]")
    return np.where(days < 0, np.datetime64("NaT"), out)


def _check_window(value: Any, name: str) -> tuple[int, int]:
    try:
        t1, t2 = value
        if int(t1) != t1 or int(t2) != t2:
            raise TypeError
        t1, t2 = int(t1), int(t2)
    except (TypeError, ValueError):
        raise InputError(f"{name}={value!r} must be a pair of integers (first day, last day)") from None
    if t1 > t2:
        raise InputError(f"{name}={value!r}: the first day {t1} is after the last day {t2}")
    return t1, t2


class EventStudy:
    """An event study on daily returns, each security on its own trading sessions.

    Parameters
    ----------
    returns : DataFrame
        Wide frame (DatetimeIndex of session dates x symbols) of returns, ``NaN`` where missing
        (never zero-filled).
    market : Series or DataFrame, optional
        Benchmark returns: one Series for every security, or a wide frame with
        ``benchmarks={symbol: column}`` (a frame with a single column serves everyone).
        Required by every model except ``constant_mean`` and ``factor``.
    benchmarks : mapping, optional
        Symbol -> column of ``market`` (e.g. the universe's ``benchmark`` column).
    factors : DataFrame, optional
        Factor returns (dates x factors) for ``model="factor"``.
    model : str
        One of :data:`events.models.MODELS`.
    estimation : (int, int)
        Estimation window in relative sessions, e.g. ``(-250, -11)``.
    windows : list of (int, int)
        Windows for CARs, BHARs and the tests.
    event_window : (int, int), optional
        Days kept around day 0 (for ``ar``, ``aar`` and ``plot``); default: the span of
        ``windows``. Must contain every window and start after the estimation window.
    date_policy : {"next", "previous", "exact", "skip"}
        See :data:`DATE_POLICIES`.
    min_estimation_obs : int
        Pairs with fewer valid estimation returns get outcome ``insufficient_estimation``.
    sessions : mapping of symbol -> DatetimeIndex, optional
        Each security's trading sessions (from its exchange calendar). Without it a security's
        sessions are the dates on which it or its benchmark has a return (a day its market traded
        and it did not is a missing return, not a day dropped from event time); without a
        market, the dates on which it has a return.
    spans : DataFrame, optional
        Same shape as ``returns``: the number of sessions each return covers (> 1 after a halt).
        Derived from the distance in sessions to the previous return when not given.
    returns_kind : {"simple", "log"}
        How ``returns`` are measured; BHARs compound accordingly.
    clean_estimation : bool
        Drop estimation days that fall inside another event window of the same security.
    trade_to_trade : bool
        Maynes-Rumsey (1993) trade-to-trade returns: multi-session returns are kept and modelled
        against the market compounded over the same span (``market_adjusted``,
        ``constant_mean``, ``market``). By default they are excluded and counted.
    dimson_lags : int
        Leads and lags of the market for ``model="dimson"``.
    compat : {None, "estudy2"}
        ``"estudy2"`` reproduces the R package estudy2's model-stage conventions.
    chunk_size : int
        Pairs estimated together; bounds the memory of the intermediate arrays.
    max_date_shift_days : int
        A date policy may move day 0 by at most this many calendar days (else ``no_data``).

    Raises
    ------
    InputError
        For an unknown model or policy, a window outside the event window, an estimation
        window overlapping the event window, or inputs of the wrong shape or type.

    Examples
    --------
    Ten securities that follow the market, with a 3 % abnormal return planted on one date:

    >>> import numpy as np, pandas as pd
    >>> from events import EventStudy
    >>> rng = np.random.default_rng(0)
    >>> dates = pd.bdate_range("2024-01-01", periods=300)
    >>> market = pd.Series(rng.normal(0, 0.01, 300), index=dates)
    >>> returns = pd.DataFrame({f"S{i}": market + rng.normal(0, 0.01, 300) for i in range(10)})
    >>> returns.iloc[280] += 0.03                    # plant a 3 % abnormal return on day 0
    >>> firms = pd.DataFrame({"event_id": "e1", "symbol": returns.columns, "event_date": dates[280]})
    >>> study = EventStudy(returns, market=market, model="market", estimation=(-250, -11),
    ...                    windows=[(0, 0), (-1, 1), (0, 5)])
    >>> res = study.fit(firms)
    >>> res.caar.round(3)
        window  t1  t2   caar   n  n_partial  n_missing
    0   (0, 0)   0   0  0.029  10          0          0
    1  (-1, 1)  -1   1  0.022  10          0          0
    2   (0, 5)   0   5  0.036  10          0          0

    A bad argument is an ``InputError`` naming it and the valid values:

    >>> EventStudy(returns, market=market, model="capm")
    Traceback (most recent call last):
    ...
    screener.errors.InputError: ...capm...
    """

    def __init__(
        self,
        returns: pd.DataFrame,
        *,
        market: pd.Series | pd.DataFrame | None = None,
        benchmarks: Mapping[str, str] | None = None,
        factors: pd.DataFrame | None = None,
        model: str = "market",
        estimation: tuple[int, int] = (-250, -11),
        windows: Sequence[tuple[int, int]] = ((0, 0), (-1, 1), (0, 5)),
        event_window: tuple[int, int] | None = None,
        date_policy: str = "next",
        min_estimation_obs: int = 120,
        sessions: Mapping[str, Any] | None = None,
        spans: pd.DataFrame | None = None,
        returns_kind: str = "simple",
        clean_estimation: bool = False,
        trade_to_trade: bool = False,
        dimson_lags: int = 1,
        compat: str | None = None,
        chunk_size: int = 2_048,
        max_date_shift_days: int = 10,
    ) -> None:
        self.returns = _align.check_wide(returns, "returns")
        if isinstance(factors, pd.DataFrame):
            factors = _align.check_wide(factors, "factors")
        elif factors is not None:
            raise InputError(f"factors must be a DataFrame (dates x factors), got {type(factors).__name__}")
        self.spec: ModelSpec = get_model(
            model, factor_names=list(factors.columns) if factors is not None else (), lags=dimson_lags
        )
        self.factors = factors
        if model == "factor" and factors is None:
            raise InputError("model='factor' needs factors=DataFrame of factor returns")
        self.estimation = _check_window(estimation, "estimation")
        if isinstance(windows, tuple) and len(windows) == 2 and all(isinstance(t, (int, np.integer)) for t in windows):
            windows = [windows]
        if not windows:
            raise InputError("windows must list at least one (first day, last day) pair")
        self.windows = [_check_window(w, "windows") for w in windows]
        if event_window is None:
            event_window = (min(w[0] for w in self.windows), max(w[1] for w in self.windows))
        self.event_window = _check_window(event_window, "event_window")
        for w in self.windows:
            if w[0] < self.event_window[0] or w[1] > self.event_window[1]:
                raise InputError(
                    f"windows: {w} is outside event_window={self.event_window}; widen event_window"
                )
        if self.estimation[1] >= self.event_window[0]:
            raise InputError(
                f"estimation={self.estimation} overlaps the event window {self.event_window}: "
                f"the estimation window must end before day {self.event_window[0]}"
            )
        if date_policy not in DATE_POLICIES:
            raise InputError(f"date_policy={date_policy!r} is not valid; valid: {', '.join(DATE_POLICIES)}")
        self.date_policy = date_policy
        est_len = self.estimation[1] - self.estimation[0] + 1
        if int(min_estimation_obs) != min_estimation_obs or min_estimation_obs < 1:
            raise InputError(f"min_estimation_obs={min_estimation_obs!r} must be a positive integer")
        if min_estimation_obs > est_len:
            raise InputError(
                f"min_estimation_obs={min_estimation_obs} exceeds the {est_len} days of "
                f"estimation={self.estimation}; lengthen the window or lower min_estimation_obs"
            )
        if min_estimation_obs <= self.spec.k:
            raise InputError(
                f"min_estimation_obs={min_estimation_obs} must exceed the {self.spec.k} parameters "
                f"of model={model!r}"
            )
        self.min_estimation_obs = int(min_estimation_obs)
        if returns_kind not in ("simple", "log"):
            raise InputError(f"returns_kind={returns_kind!r} is not valid; valid: simple, log")
        self.returns_kind = returns_kind
        if compat not in (None, "estudy2"):
            raise InputError(f"compat={compat!r} is not valid; valid: None, 'estudy2'")
        self.compat = compat
        if trade_to_trade and model not in ("market_adjusted", "constant_mean", "market"):
            raise InputError(
                f"trade_to_trade=True supports model='market_adjusted', 'constant_mean' or 'market', not {model!r}"
            )
        self.trade_to_trade = bool(trade_to_trade)
        self.clean_estimation = bool(clean_estimation)
        if not isinstance(chunk_size, (int, np.integer)) or chunk_size < 1:
            raise InputError(f"chunk_size={chunk_size!r} must be a positive integer")
        self.chunk_size = int(chunk_size)
        self.max_date_shift_days = int(max_date_shift_days)

        # benchmarks
        if self.spec.needs_market or model == "dimson":
            if market is None:
                raise InputError(f"model={model!r} needs market= benchmark returns (a Series or a DataFrame)")
        if market is not None:
            if isinstance(market, pd.Series):
                market = _align.check_wide(market.to_frame(name=market.name or "market"), "market").iloc[:, 0]
                if benchmarks is not None:
                    raise InputError("benchmarks= needs market= to be a DataFrame with one column per benchmark")
            elif isinstance(market, pd.DataFrame):
                market = _align.check_wide(market, "market")
                if benchmarks is None:
                    if market.shape[1] == 1:
                        market = market.iloc[:, 0]
                    else:
                        raise InputError(
                            "market= is a DataFrame with several columns: give benchmarks={symbol: column}"
                        )
                else:
                    benchmarks = {str(k): v for k, v in dict(benchmarks).items() if v is not None and v == v}
                    unknown = sorted({str(v) for v in benchmarks.values()} - {str(c) for c in market.columns})
                    if unknown:
                        raise InputError(
                            f"benchmarks refers to column(s) not in market: {', '.join(unknown[:10])}"
                        )
            else:
                raise InputError(f"market must be a Series or a DataFrame, got {type(market).__name__}")
        self.market = market
        self.benchmarks = benchmarks
        if sessions is not None:
            if not isinstance(sessions, Mapping):
                raise InputError("sessions must be a mapping {symbol: DatetimeIndex of sessions}")
            try:
                sessions = {str(k): pd.DatetimeIndex(v) for k, v in sessions.items()}
            except (TypeError, ValueError) as exc:
                raise InputError(f"sessions: could not read the session dates ({exc})") from None
        self.sessions = sessions
        if spans is not None:
            spans = _align.check_wide(spans, "spans")
        self.spans = spans

    # ------------------------------------------------------------------------------------
    def __repr__(self) -> str:
        return (
            f"EventStudy(model={self.spec.name!r}, estimation={self.estimation}, windows={self.windows}, "
            f"event_window={self.event_window}, date_policy={self.date_policy!r}, "
            f"symbols={self.returns.shape[1]}, compat={self.compat!r})"
        )

    def fit(self, event_firms: pd.DataFrame) -> EventStudyResults:
        """Estimate every event-firm pair.

        Parameters
        ----------
        event_firms : DataFrame
            Columns ``event_id``, ``symbol``, ``event_date`` (any other columns are kept and
            carried into ``outcomes``, ``car`` and ``bhar``). One row per event-firm pair.
            ``event_date`` values are dates, Timestamps (a tz-aware one counts as its local
            date) or ISO 8601 strings, read row by row; anything else (``25-02-24``, a number,
            a missing value) gives the pair outcome ``invalid_date``.

        Returns
        -------
        EventStudyResults

        Warns
        -----
        EstimationWarning
            Once, summarising how many pairs could not be estimated and why.

        Examples
        --------
        >>> import numpy as np, pandas as pd
        >>> from events import EventStudy
        >>> rng = np.random.default_rng(0)
        >>> dates = pd.bdate_range("2024-01-01", periods=300)
        >>> market = pd.Series(rng.normal(0, 0.01, 300), index=dates)
        >>> returns = pd.DataFrame({f"S{i}": market + rng.normal(0, 0.01, 300) for i in range(10)})
        >>> returns.iloc[280] += 0.03                    # plant a 3 % abnormal return on day 0
        >>> firms = pd.DataFrame({"event_id": "e1", "symbol": returns.columns, "event_date": dates[280]})
        >>> res = EventStudy(returns, market=market).fit(firms)
        >>> res.n_pairs, res.outcomes["outcome"].unique().tolist()
        (10, ['ok'])
        >>> res.car.query("window == '(0, 0)'")[["symbol", "car", "car_sd"]].head(3).round(3)
          symbol    car  car_sd
        0     S0  0.043   0.010
        1     S1  0.025   0.009
        2     S2  0.024   0.010
        """
        ef = _prepare_event_firms(event_firms)
        n = len(ef)
        spec = self.spec
        # ---- placement ---------------------------------------------------------------
        ef_sym = ef["symbol"].to_numpy(dtype=object)
        str_cols = [str(c) for c in self.returns.columns]
        needed_set = set(pd.unique(ef_sym)) & set(str_cols)
        needed = [c for c in str_cols if c in needed_set]
        panel = _align.build_panel(
            self.returns, needed, spec.regressors, column_names=str_cols,
            # (the factor model's regressors are the factors, whatever their names)
            market=self.market if spec.name != "factor" else None, benchmarks=self.benchmarks,
            factors=self.factors, sessions=self.sessions, spans=self.spans,
            trade_to_trade=self.trade_to_trade,
            pad=max(-self.estimation[0], -self.event_window[0], self.event_window[1], 0) + 1,
        )
        code = pd.Index(panel.symbols, dtype=object).get_indexer(ef_sym).astype(np.int64)
        req = ef["event_date"]
        valid_date = req.notna().to_numpy()
        req_days = np.zeros(n, dtype=np.int64)
        if valid_date.any():
            req_days[valid_date] = _align.to_days(pd.DatetimeIndex(req[valid_date]))
        p0, placed = _align.place_day0(panel, code, req_days, valid_date, self.date_policy, self.max_date_shift_days)
        outcome = np.array(_align.PLACEMENT_NAMES, dtype=object)[placed]
        outcome[ef["_duplicate"].to_numpy()] = "duplicate"
        nob = (code >= 0) & ~panel.has_benchmark[np.maximum(code, 0)] if len(panel.symbols) else np.zeros(n, bool)
        outcome[np.isin(outcome, ["ok", "date_shifted"]) & nob] = "no_benchmark"
        shifted = outcome == "date_shifted"
        cand = np.flatnonzero(np.isin(outcome, ["ok", "date_shifted"]))
        day_at_p0 = panel.day[np.clip(p0, 0, len(panel.day) - 1)] if len(panel.day) else np.full(n, -1)
        used_day = np.where(np.isin(outcome, ["ok", "date_shifted"]), day_at_p0, -1)

        rel_est = np.arange(self.estimation[0], self.estimation[1] + 1)
        rel_evt = np.arange(self.event_window[0], self.event_window[1] + 1)
        Le, L = len(rel_est), len(rel_evt)

        # ---- other events of the same security (positions covered by event windows) -----
        T = len(panel.day)
        cover = np.zeros(T + 1, dtype=np.int32)
        if len(cand):
            c_code = code[cand]
            s = np.clip(p0[cand] + rel_evt[0], panel.start[c_code], panel.end[c_code] - 1)
            e = np.clip(p0[cand] + rel_evt[-1], panel.start[c_code], panel.end[c_code] - 1)
            np.add.at(cover, s, np.int32(1))  # (an int32 value: the fast path of ufunc.at)
            np.add.at(cover, e + 1, np.int32(-1))
        cover = np.cumsum(cover, dtype=np.int32)[:T]

        n_est = np.zeros(n, dtype=np.int64)
        n_span_excl = np.zeros(n, dtype=np.int64)
        n_overlap_excl = np.zeros(n, dtype=np.int64)
        overlap_flag = np.zeros(n, dtype=bool)
        halt_flag = np.zeros(n, dtype=bool)
        day0_missing = np.zeros(n, dtype=bool)
        truncated = np.zeros(n, dtype=bool)
        kx = len(spec.regressors)
        nc = len(cand)
        buf = {
            "est_ar": np.empty((nc, Le)), "est_start": np.empty(nc, dtype=np.int64),
            "evt_ar": np.empty((nc, L)), "cov_scale": np.empty(nc), "cov_diag": np.empty((nc, L)),
            "cov_design": np.empty((nc, L, spec.k)), "cov_inverse": np.empty((nc, spec.k, spec.k)),
            "evt_day": np.empty((nc, L), dtype=np.int64), "sigma": np.empty(nc),
            "n_est": np.empty(nc, dtype=np.int64), "dof": np.empty(nc), "params": np.empty((nc, spec.k)),
            "r2": np.empty(nc), "ret": np.empty((nc, L)), "expected": np.empty((nc, L)),
        }
        keep_all = np.zeros(nc, dtype=bool)
        zero_pos = int(-rel_evt[0])
        # per-position arrays (padding is missing data), read through sliding-window views
        t2t = self.trade_to_trade
        y_finite = np.isfinite(panel.y)
        x_finite = np.isfinite(panel.X).all(axis=0)
        multi = y_finite & (panel.span > 1)
        ok_est = y_finite & x_finite & (np.isfinite(panel.span) if t2t else ~multi)
        # one byte of flags per position: 1 valid for estimation, 2 multi-session (estimation),
        # 4 infinite return, 8 inside another event window, 16 inside two, 32 multi-session
        bits = (ok_est.astype(np.uint8) | (multi & x_finite).astype(np.uint8) << 1
                | np.isinf(panel.y).astype(np.uint8) << 2 | (cover > 0).astype(np.uint8) << 3
                | (cover > 1).astype(np.uint8) << 4 | multi.astype(np.uint8) << 5)
        if nc:  # (an empty panel has no windows)
            wv = _align.window_view
            y_we, y_wv = wv(panel.y, Le), wv(panel.y, L)
            X_we, X_wv = wv(panel.X, Le), wv(panel.X, L)  # (kx, positions, window)
            b_we, b_wv = wv(bits, Le), wv(bits, L)
            d_wv = wv(panel.day, L)
            s_we, s_wv = wv(panel.span, Le), wv(panel.span, L)
            m_we = wv(panel.market_ok, Le)
        status_names = np.array(STATUS_NAMES, dtype=object)

        def estimate(start: int) -> None:
            # one chunk of pairs; chunks write disjoint rows of the output arrays
            rows = cand[start:start + self.chunk_size]
            pp = p0[rows]
            se, sv = pp + rel_est[0], pp + rel_evt[0]  # first position of each window
            y_e = y_we[se]
            y_v = y_wv[sv]
            X_e = np.moveaxis(X_we[:, se], 0, -1)  # (n, Le, kx)
            X_v = np.moveaxis(X_wv[:, sv], 0, -1)
            day_v = d_wv[sv]
            truncated[rows] = (day_v < 0).any(axis=1)
            g_e = b_we[se]
            g_v = b_wv[sv]
            nonfinite = ((g_e & 4) != 0).any(axis=1) | ((g_v & 4) != 0).any(axis=1)
            valid = (g_e & 1) != 0
            if not t2t:
                n_span_excl[rows] = np.count_nonzero(g_e & 2, axis=1)
                vhalt = (g_v & 32) != 0
                halt_flag[rows] = vhalt.any(axis=1)
                y_v[vhalt] = np.nan
            blocked = (g_e & 8) != 0
            overlap_flag[rows] = blocked.any(axis=1) | ((g_v & 16) != 0).any(axis=1)
            if self.clean_estimation:
                n_overlap_excl[rows] = (valid & blocked).sum(axis=1)
                valid &= ~blocked
            del g_e, g_v, blocked
            fit = fit_models(
                spec, y_e, X_e, valid, y_v, X_v,
                span_est=s_we[se] if t2t else None,
                span_evt=s_wv[sv] if t2t else None,
                market_ok_est=m_we[se] if self.compat == "estudy2" else None,
                min_obs=self.min_estimation_obs, compat=self.compat,
            )
            n_est[rows] = fit.n_est
            st = status_names[fit.status]
            st[nonfinite] = "non_finite_returns"
            outcome[rows] = np.where(st == "ok", outcome[rows], st)
            keep = st == "ok"
            day0_missing[rows] = ~np.isfinite(fit.evt_ar[:, zero_pos]) if 0 <= zero_pos < L else False
            sl = slice(start, start + len(rows))
            keep_all[sl] = keep
            buf["est_ar"][sl] = fit.est_ar
            buf["est_start"][sl] = se
            buf["evt_ar"][sl] = fit.evt_ar
            buf["cov_scale"][sl] = fit.cov_scale
            buf["cov_diag"][sl] = fit.cov_diag
            buf["cov_design"][sl] = fit.cov_design
            buf["cov_inverse"][sl] = fit.cov_inverse
            buf["evt_day"][sl] = day_v
            buf["sigma"][sl] = fit.sigma
            buf["n_est"][sl] = fit.n_est
            buf["dof"][sl] = fit.dof
            buf["params"][sl] = fit.params
            buf["r2"][sl] = fit.r2
            buf["ret"][sl] = y_v
            buf["expected"][sl] = fit.expected_evt

        starts = range(0, nc, self.chunk_size)
        workers = min(_WORKERS, len(starts))
        if workers > 1:  # numpy releases the GIL in the gathers, ufuncs and matmuls
            # each chunk runs in a copy of the caller's context: its np.errstate applies
            context = contextvars.copy_context()
            with ThreadPoolExecutor(max_workers=workers) as pool:
                list(pool.map(lambda start: context.copy().run(estimate, start), starts))
        else:
            for start in starts:
                estimate(start)

        # keep the estimated pairs, compacting in place (no second copy of the big arrays)
        keep_idx = np.flatnonzero(keep_all)
        inc_rows = cand[keep_idx]
        if len(keep_idx) < nc:
            for name, arr in buf.items():
                for j0 in range(0, len(keep_idx), self.chunk_size):
                    src = keep_idx[j0:j0 + self.chunk_size]
                    arr[j0:j0 + len(src)] = arr[src]
                buf[name] = arr[: len(keep_idx)]
        arrays = EventArrays(
            est_ar=buf["est_ar"], est_rel=rel_est, est_day=WindowDays(panel.day, buf["est_start"], Le),
            evt_ar=buf["evt_ar"],
            evt_cov=ForecastCovariance(buf["cov_scale"], buf["cov_diag"], buf["cov_design"], buf["cov_inverse"],
                                       ~np.isfinite(buf["evt_ar"])),
            rel_days=rel_evt, evt_day=buf["evt_day"], sigma=buf["sigma"],
            n_est=buf["n_est"], dof=buf["dof"], k=spec.k, compat=self.compat,
        )
        # ---- flags of included pairs --------------------------------------------------
        inc = np.isin(outcome, ["ok", "date_shifted"])
        outcome[inc & overlap_flag] = "overlapping_event"
        outcome[inc & ~overlap_flag & halt_flag] = "halt_in_event_window"
        flag_names = ("date_shifted", "overlapping_event", "halt_in_event_window", "day0_return_missing",
                      "event_window_truncated")
        # (overlap and halt remarks only on estimated pairs, like the two below)
        bits = (shifted.astype(np.int64) | (overlap_flag & inc).astype(np.int64) << 1
                | (halt_flag & inc).astype(np.int64) << 2
                | (day0_missing & inc).astype(np.int64) << 3 | (truncated & inc).astype(np.int64) << 4)
        labels = np.array([";".join(f for j, f in enumerate(flag_names) if b >> j & 1) for b in range(32)],
                          dtype=object)
        flags = labels[bits]
        out = ef.drop(columns=["_duplicate"]).rename(columns={"event_date": "requested_date"})
        out.insert(3, "event_date", pd.to_datetime(_days_to_dates(np.where(used_day >= 0, used_day, -1))))
        out["outcome"] = outcome.astype(str)
        out["included"] = np.isin(outcome, list(_INCLUDED))
        out["flags"] = flags.astype(str)
        out["n_est"] = n_est
        out["n_est_excluded_span"] = n_span_excl
        out["n_est_excluded_overlap"] = n_overlap_excl
        out = out.reset_index(drop=True)
        _warn(out)
        placement = pd.DataFrame({
            "event_id": out["event_id"].to_numpy()[cand], "symbol": out["symbol"].to_numpy()[cand],
            "event_date": out["event_date"].to_numpy()[cand], "position": p0[cand],
        })
        return EventStudyResults(
            study=self, outcomes=out, rows=inc_rows, arrays=arrays,
            params=buf["params"], r2=buf["r2"], ret=buf["ret"], expected=buf["expected"],
            placement=placement,
        )


def _prepare_event_firms(event_firms: pd.DataFrame) -> pd.DataFrame:
    if not isinstance(event_firms, pd.DataFrame):
        raise InputError(f"event_firms must be a DataFrame, got {type(event_firms).__name__}")
    missing = [c for c in ("event_id", "symbol", "event_date") if c not in event_firms.columns]
    if missing:
        raise InputError(
            f"event_firms is missing column(s) {', '.join(missing)}; it needs event_id, symbol, event_date"
        )
    ef = event_firms.reset_index(drop=True).copy()
    ef["event_id"] = ef["event_id"].astype(str)
    ef["symbol"] = ef["symbol"].astype(str)
    ef["event_date"] = _event_dates(ef["event_date"])
    ef["_duplicate"] = ef.duplicated(["event_id", "symbol"], keep="first")
    key = ["event_id", "symbol", "event_date"]
    cols = key + [c for c in ef.columns if c not in key]
    return ef[cols]


_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?)?$")


def _event_date(value: Any) -> pd.Timestamp:
    """One event date as a tz-naive midnight (the local date of a tz-aware value), or NaT.

    Strings must be ISO 8601 (``25-02-24`` or ``02/03/2025`` are ambiguous: NaT, outcome
    ``invalid_date``); numbers are not dates.
    """
    if isinstance(value, str):
        value = value.strip()
        if not _ISO_DATE.match(value):
            return pd.NaT
    elif value is None or isinstance(value, (bool, int, float, np.number)):
        return pd.NaT
    try:
        ts = pd.Timestamp(value)
        if ts is pd.NaT:
            return pd.NaT
        if ts.tzinfo is not None:
            ts = ts.tz_localize(None)
        return ts.normalize().as_unit("ns")
    except (ValueError, TypeError, OverflowError):
        return pd.NaT


def _event_dates(values: pd.Series) -> pd.Series:
    """``event_date`` column → datetime64[ns] midnights; each value parsed on its own, so a mix
    of strings, naive and tz-aware timestamps (in several zones) is read row by row."""
    if values.dtype.kind == "M":
        dates = values.dt.tz_localize(None) if values.dt.tz is not None else values
        try:
            return dates.dt.normalize().astype("datetime64[ns]")
        except (ValueError, OverflowError):  # e.g. year 9999 in a datetime64[s] column: row by row
            pass
    parsed = {v: _event_date(v) for v in pd.unique(values.to_numpy(dtype=object))}
    return pd.Series([parsed[v] for v in values.to_numpy(dtype=object)], index=values.index,
                     dtype="datetime64[ns]")


def _warn(outcomes: pd.DataFrame) -> None:
    bad = outcomes.loc[~outcomes["included"] & (outcomes["outcome"] != "skipped"), "outcome"]
    if len(bad):
        counts = bad.value_counts()
        parts = ", ".join(f"{k}: {v}" for k, v in counts.items())
        warnings.warn(
            f"{len(bad)} of {len(outcomes)} event-firm pairs were not estimated ({parts}); "
            "see the results' outcomes",
            EstimationWarning,
            stacklevel=3,
        )


class Summary:
    """A printable summary: ``str()`` gives text, notebooks render ``_repr_html_``."""

    def __init__(self, title: str, header: list[tuple[str, str]], tables: list[tuple[str, pd.DataFrame]]):
        self.title = title
        self.header = header
        self.tables = tables

    def as_text(self) -> str:
        width = 78
        lines = [self.title.center(width), "=" * width]
        half = (len(self.header) + 1) // 2
        left, right = self.header[:half], self.header[half:]
        for i in range(half):
            a = f"{left[i][0] + ':':<22}{left[i][1]:>16}"
            b = f"{right[i][0] + ':':<22}{right[i][1]:>16}" if i < len(right) else ""
            lines.append(f"{a}  {b}".rstrip())
        for name, table in self.tables:
            lines += ["=" * width, name, "-" * width]
            if table.empty:
                lines.append("(none)")
            else:
                lines.append(table.to_string(index=False, float_format=lambda v: f"{v:.6g}"))
        lines.append("=" * width)
        return "\n".join(lines)

    def as_html(self) -> str:
        import html

        head = "".join(f"<tr><th>{html.escape(k)}</th><td>{html.escape(v)}</td></tr>" for k, v in self.header)
        parts = [f"<h4>{html.escape(self.title)}</h4>", f"<table>{head}</table>"]
        for name, table in self.tables:
            parts.append(f"<h5>{html.escape(name)}</h5>")
            parts.append(table.to_html(index=False, float_format=lambda v: f"{v:.6g}", na_rep=""))
        return "\n".join(parts)

    def __str__(self) -> str:
        return self.as_text()

    __repr__ = __str__

    def _repr_html_(self) -> str:
        return self.as_html()


class EventStudyResults:
    """Results of :meth:`EventStudy.fit`.

    Tidy (long) DataFrames: ``ar``, ``car``, ``aar``, ``caar``, ``bhar``, ``params``,
    ``outcomes``, ``overlaps`` (which other events overlap a pair's windows); the numpy :class:`~events.arrays.EventArrays` in ``arrays``; the test
    statistics in :meth:`tests`; :meth:`summary`, :meth:`plot` and :meth:`select`.
    """

    def __init__(self, *, study: EventStudy, outcomes: pd.DataFrame, rows: np.ndarray, arrays: EventArrays,
                 params: np.ndarray, r2: np.ndarray, ret: np.ndarray, expected: np.ndarray,
                 placement: pd.DataFrame | None = None) -> None:
        self.study = study
        # every placed pair of the fit (event_id, symbol, event_date, position of day 0 in the
        # stacked sessions): what `overlaps` is computed from
        self._placement = placement
        self._outcomes = outcomes
        self._rows = rows  # row in outcomes of each arrays row
        self.arrays = arrays
        self._params = params
        self._r2 = r2
        self._ret = ret
        self._expected = expected
        self._tests_cache: dict[tuple, pd.DataFrame] = {}

    # ---- basics -------------------------------------------------------------------------
    @property
    def windows(self) -> list[tuple[int, int]]:
        return list(self.study.windows)

    @property
    def n_pairs(self) -> int:
        """Event-firm pairs that were estimated (rows of ``arrays``)."""
        return self.arrays.n_pairs

    @property
    def outcomes(self) -> pd.DataFrame:
        """One row per input event-firm pair: the day 0 used, outcome code, flags, M."""
        return self._outcomes.copy()

    @cached_property
    def _keys(self) -> pd.DataFrame:
        return self._outcomes.iloc[self._rows][["event_id", "symbol", "event_date"]].reset_index(drop=True)

    @cached_property
    def _extras(self) -> pd.DataFrame:
        skip = {"event_id", "symbol", "event_date", "requested_date", "outcome", "included", "flags",
                "n_est", "n_est_excluded_span", "n_est_excluded_overlap"}
        cols = [c for c in self._outcomes.columns if c not in skip]
        return self._outcomes.iloc[self._rows][cols].reset_index(drop=True)

    @cached_property
    def params(self) -> pd.DataFrame:
        """Per estimated pair: the model parameters, sigma, M (``n_est``), dof and R^2."""
        df = self._keys.copy()
        spec = self.study.spec
        for j, name in enumerate(spec.param_names):
            df[name] = self._params[:, j]
        if spec.name == "dimson":
            df["beta"] = self._params[:, 1:].sum(axis=1)
        df["sigma"] = self.arrays.sigma
        df["n_est"] = self.arrays.n_est
        df["dof"] = self.arrays.dof
        df["r2"] = self._r2
        return df

    # ---- abnormal returns -----------------------------------------------------------------
    @cached_property
    def ar(self) -> pd.DataFrame:
        """Abnormal returns, one row per pair and event day, with the forecast-error sd."""
        a = self.arrays
        n, L = a.evt_ar.shape
        keys = self._keys
        sd = np.sqrt(ar_variances(a.evt_cov)) if n else np.zeros((0, L))
        return pd.DataFrame({
            "event_id": np.repeat(keys["event_id"].to_numpy(dtype=object), L).astype(str),
            "symbol": np.repeat(keys["symbol"].to_numpy(dtype=object), L).astype(str),
            "rel_day": np.tile(a.rel_days, n),
            "date": pd.to_datetime(_days_to_dates(a.evt_day.ravel())),
            "ret": self._ret.ravel(),
            "expected": self._expected.ravel(),
            "ar": a.evt_ar.ravel(),
            "ar_sd": sd.ravel(),
        })

    def _window_cols(self, w: tuple[int, int]) -> slice:
        return self.arrays.window_slice(w)

    @cached_property
    def _car(self) -> dict[tuple[int, int], tuple[np.ndarray, np.ndarray, np.ndarray]]:
        a = self.arrays
        out = {}
        for w in self.windows:
            s = self._window_cols(w)
            x = a.evt_ar[:, s]
            have = np.isfinite(x)
            nd = have.sum(axis=1)
            car = np.where(nd > 0, np.nansum(x, axis=1), np.nan)
            var = car_variance(a.evt_cov, s, available_only=True)
            var = np.where(nd > 0, var, np.nan)
            out[w] = (car, np.sqrt(var), nd)
        return out

    @cached_property
    def car(self) -> pd.DataFrame:
        """CARs per pair and window, each with its own test (Campbell, Lo and MacKinlay 1997, 4.4).

        Columns ``car``; ``car_sd = sqrt(1'V_i 1)``, the forecast-error sd of the CAR;
        ``scar = car / car_sd``; ``dof = M_i - k``; ``pvalue``, two-sided, of ``scar`` under
        Student t with ``dof`` degrees of freedom (the J-statistic of one firm: a test that
        works for a single pair, N = 1); ``n_days``, the window's days with a return. Over a
        window with missing days (``n_days`` below the window length) the sums and ``car_sd``
        run over the available days; such pairs are left out of ``caar`` and ``tests()``.
        """
        from scipy import special

        frames = []
        dof = self.arrays.dof.astype(float)
        for w in self.windows:
            car, sd, nd = self._car[w]
            with np.errstate(divide="ignore", invalid="ignore"):
                scar = np.where(sd > 0, car / sd, np.nan)
                pvalue = np.where(np.isfinite(scar) & (dof > 0),
                                  2.0 * special.stdtr(np.where(dof > 0, dof, 1.0), -np.abs(scar)), np.nan)
            df = self._keys.copy()
            df.insert(3, "window", _window_label(w))
            df.insert(4, "t1", w[0])
            df.insert(5, "t2", w[1])
            df["car"] = car
            df["car_sd"] = sd
            df["scar"] = scar
            df["dof"] = dof
            df["pvalue"] = pvalue
            df["n_days"] = nd
            frames.append(pd.concat([df, self._extras], axis=1))
        return pd.concat(frames, ignore_index=True)

    @cached_property
    def _bhar(self) -> dict[tuple[int, int], tuple[np.ndarray, np.ndarray]]:
        out = {}
        log = self.study.returns_kind == "log"
        for w in self.windows:
            s = self._window_cols(w)
            r = self._ret[:, s]
            e = self._expected[:, s]
            nd = np.isfinite(r).sum(axis=1)
            if log:
                b = np.exp(r.sum(axis=1)) - np.exp(e.sum(axis=1))
            else:
                b = np.prod(1.0 + r, axis=1) - np.prod(1.0 + e, axis=1)
            out[w] = (b, nd)  # NaN when any day of the window is missing
        return out

    @cached_property
    def bhar(self) -> pd.DataFrame:
        """Buy-and-hold abnormal returns (Barber and Lyon 1997): prod(1+R) - prod(1+E[R]).

        ``NaN`` where a day of the window has no return (no compounding over gaps).
        """
        frames = []
        for w in self.windows:
            b, nd = self._bhar[w]
            df = self._keys.copy()
            df.insert(3, "window", _window_label(w))
            df.insert(4, "t1", w[0])
            df.insert(5, "t2", w[1])
            df["bhar"] = b
            df["n_days"] = nd
            frames.append(pd.concat([df, self._extras], axis=1))
        return pd.concat(frames, ignore_index=True)

    @cached_property
    def aar(self) -> pd.DataFrame:
        """Average abnormal return on each event day over the pairs with a return that day."""
        a = self.arrays
        n = np.isfinite(a.evt_ar).sum(axis=0)
        with np.errstate(invalid="ignore", divide="ignore"):
            aar = np.nansum(a.evt_ar, axis=0) / np.where(n > 0, n, np.nan)
        return pd.DataFrame({"rel_day": a.rel_days, "aar": aar, "n": n})

    @cached_property
    def caar(self) -> pd.DataFrame:
        """Cumulative average abnormal return per window: the mean CAR over complete pairs.

        ``n`` counts the pairs with a return on every day of the window, the same pairs as
        the CAAR that ``tests()`` reports as ``estimate``; ``n_partial`` counts the pairs left
        out because some (not all) days of the window have no return (their CARs are in
        ``car`` with ``n_days`` below the window length), and ``n_missing`` the pairs with no
        return at all in the window; ``n + n_partial + n_missing`` is the number of pairs.
        """
        rows = []
        for w in self.windows:
            car, _sd, nd = self._car[w]
            length = w[1] - w[0] + 1
            ok = np.isfinite(car) & (nd == length)
            rows.append({"window": _window_label(w), "t1": w[0], "t2": w[1],
                         "caar": float(car[ok].mean()) if ok.any() else np.nan, "n": int(ok.sum()),
                         "n_partial": int(((nd > 0) & (nd < length)).sum()),
                         "n_missing": int((nd == 0).sum())})
        return pd.DataFrame(rows)

    # ---- tests ----------------------------------------------------------------------------
    def tests(self, tests: list[str] | None = None, *, windows: list[tuple[int, int]] | None = None,
              bhar: bool = True) -> pd.DataFrame:
        """Test statistics of every window in one tidy table.

        Parameters
        ----------
        tests : list of str, optional
            Names from ``events.statistics.available_tests()``; default all.
        windows : list of (int, int), optional
            Default: the study's windows.
        bhar : bool
            Also run the skewness-adjusted t-test on the BHARs of each window.

        Returns
        -------
        DataFrame
            Columns ``window, t1, t2, test, estimate, statistic, pvalue, n, df`` and one column
            per test-specific extra figure.

        Examples
        --------
        >>> import numpy as np, pandas as pd
        >>> from events import EventStudy
        >>> rng = np.random.default_rng(0)
        >>> dates = pd.bdate_range("2024-01-01", periods=300)
        >>> market = pd.Series(rng.normal(0, 0.01, 300), index=dates)
        >>> returns = pd.DataFrame({f"S{i}": market + rng.normal(0, 0.01, 300) for i in range(10)})
        >>> returns.iloc[280] += 0.03                    # plant a 3 % abnormal return on day 0
        >>> firms = pd.DataFrame({"event_id": "e1", "symbol": returns.columns, "event_date": dates[280]})
        >>> res = EventStudy(returns, market=market).fit(firms)
        >>> t = res.tests(["cross_sectional_t", "patell", "corrado_rank"], windows=[(0, 0)], bhar=False)
        >>> t[["test", "estimate", "statistic", "n", "df"]].round(3)
                        test  estimate  statistic   n   df
        0  cross_sectional_t     0.029      8.568  10  9.0
        1             patell     0.029      9.224  10  NaN
        2       corrado_rank     0.029      5.022  10  NaN
        >>> bool((t["pvalue"] < 0.001).all())      # the planted 3 % is found by every test
        True
        """
        try:
            from events import statistics
        except ImportError as exc:  # the statistics module is written separately
            raise ImportError(f"events.statistics is not available ({exc}); tests() needs it") from exc
        wins = [_check_window(w, "windows") for w in (windows or self.windows)]
        cache_key = (None if tests is None else tuple(tests), tuple(wins), bool(bhar))
        if cache_key in self._tests_cache:
            return self._tests_cache[cache_key].copy()
        for w in wins:
            if w[0] < self.arrays.rel_days[0] or w[1] > self.arrays.rel_days[-1]:
                raise InputError(f"windows: {w} is outside the event window {self.study.event_window}")
        results = list(statistics.run_tests(self.arrays, wins, tests))
        if bhar:
            for w in wins:
                b, _ = self._bhar[w] if w in self._bhar else self._bhar_for(w)
                results.append(statistics.skewness_adjusted_t(b[np.isfinite(b)], w))
        rows = []
        for r in results:
            row = {"window": _window_label(tuple(r.window)), "t1": int(r.window[0]), "t2": int(r.window[1]),
                   "test": r.test, "estimate": r.estimate, "statistic": r.statistic, "pvalue": r.pvalue,
                   "n": r.n, "df": r.df}
            row.update(r.extra or {})
            rows.append(row)
        table = pd.DataFrame(rows)
        self._tests_cache[cache_key] = table
        return table.copy()

    def _bhar_for(self, w: tuple[int, int]) -> tuple[np.ndarray, np.ndarray]:
        s = self._window_cols(w)
        r, e = self._ret[:, s], self._expected[:, s]
        if self.study.returns_kind == "log":
            return np.exp(r.sum(axis=1)) - np.exp(e.sum(axis=1)), np.isfinite(r).sum(axis=1)
        return np.prod(1.0 + r, axis=1) - np.prod(1.0 + e, axis=1), np.isfinite(r).sum(axis=1)

    # ---- reporting --------------------------------------------------------------------------
    def summary(self) -> Summary:
        """A printable summary: setup, outcomes, CAAR per window and the test table.

        ``print(res.summary())`` gives text; in a notebook the summary renders as HTML.

        Examples
        --------
        >>> import numpy as np, pandas as pd
        >>> from events import EventStudy
        >>> rng = np.random.default_rng(0)
        >>> dates = pd.bdate_range("2024-01-01", periods=300)
        >>> market = pd.Series(rng.normal(0, 0.01, 300), index=dates)
        >>> returns = pd.DataFrame({f"S{i}": market + rng.normal(0, 0.01, 300) for i in range(10)})
        >>> returns.iloc[280] += 0.03                    # plant a 3 % abnormal return on day 0
        >>> firms = pd.DataFrame({"event_id": "e1", "symbol": returns.columns, "event_date": dates[280]})
        >>> res = EventStudy(returns, market=market, windows=[(0, 0)]).fit(firms)
        >>> print(res.summary())                    # doctest: +ELLIPSIS
        Event study results
        ===...
        Model:                          market  Estimated:                          10
        ...
        CAAR by window
        ------------------------------------------------------------------------------
        window  t1  t2      caar  n  n_partial  n_missing
        (0, 0)   0   0 0.0294257 10          0          0
        ...
        """
        st = self.study
        counts = self._outcomes["outcome"].value_counts()
        header = [
            ("Model", st.spec.name), ("Estimation window", str(st.estimation)),
            ("Event window", str(st.event_window)), ("Date policy", st.date_policy),
            ("Event-firm pairs", str(len(self._outcomes))), ("Estimated", str(self.n_pairs)),
            ("Events", str(self._keys["event_id"].nunique())), ("Securities", str(self._keys["symbol"].nunique())),
            ("Median M", f"{np.median(self.arrays.n_est):.0f}" if self.n_pairs else "-"),
            ("Compatibility", st.compat or "textbook"),
        ]
        tables = [("CAAR by window", self.caar)]
        try:
            t = self.tests()
            tables.append(("Tests", t[["window", "test", "estimate", "statistic", "pvalue", "n"]]))
        except ImportError:
            tables.append(("Tests", pd.DataFrame({"note": ["events.statistics not available"]})))
        tables.append(("Outcomes", counts.rename_axis("outcome").reset_index(name="pairs")))
        return Summary("Event study results", header, tables)

    def __str__(self) -> str:
        return self.summary().as_text()

    def __repr__(self) -> str:
        return (f"<EventStudyResults model={self.study.spec.name!r} pairs={self.n_pairs}/"
                f"{len(self._outcomes)} windows={self.windows}>")

    def _repr_html_(self) -> str:
        return self.summary().as_html()

    def caar_path(self, window: tuple[int, int] | None = None, level: float = 0.95) -> pd.DataFrame:
        """CAAR cumulated from the window's first day, with a confidence band.

        The variance of the path at day tau is ``sum_i 1'V_i[t1..tau]1 / N^2`` (forecast-error
        covariance of each pair, pairs independent), over the pairs with every day present.
        """
        from scipy.special import ndtri  # scipy.stats costs ~1.5 s to import

        w = _check_window(window or self.study.event_window, "window")
        a = self.arrays
        if w[0] < a.rel_days[0] or w[1] > a.rel_days[-1]:
            raise InputError(
                f"window={w} is outside the event window {self.study.event_window}; "
                "pass event_window= to EventStudy to keep more days"
            )
        s = a.window_slice(w)
        x = a.evt_ar[:, s]
        complete = np.isfinite(x).all(axis=1)
        x = x[complete]
        n = x.shape[0]
        path = np.cumsum(x, axis=1).mean(axis=0) if n else np.full(x.shape[1], np.nan)
        var = (cumulative_car_variance(a.evt_cov, s, np.flatnonzero(complete)).sum(axis=0) / n**2
               if n else np.full(x.shape[1], np.nan))
        z = ndtri(0.5 + level / 2)
        se = np.sqrt(var)
        return pd.DataFrame({"rel_day": a.rel_days[s], "caar": path, "se": se,
                             "lower": path - z * se, "upper": path + z * se, "n": n})

    def plot(self, window: tuple[int, int] | None = None, *, level: float = 0.95, ax: Any = None) -> Any:
        """Plot the CAAR path with a ``level`` confidence band; returns the matplotlib Axes."""
        import matplotlib.pyplot as plt

        p = self.caar_path(window, level)
        if ax is None:
            _fig, ax = plt.subplots(figsize=(7, 4))
        ax.fill_between(p["rel_day"], p["lower"], p["upper"], alpha=0.25, label=f"{level:.0%} band")
        ax.plot(p["rel_day"], p["caar"], marker="o", lw=1.5, label="CAAR")
        ax.axhline(0.0, color="grey", lw=0.8)
        ax.axvline(0.0, color="grey", lw=0.8, ls="--")
        ax.set_xlabel("event day (security's own sessions)")
        ax.set_ylabel("CAAR")
        ax.set_title(f"CAAR, {self.study.spec.name} model, N = {int(p['n'].iloc[0])}")
        ax.legend(loc="best")
        return ax

    # ---- subsets -----------------------------------------------------------------------------
    @cached_property
    def overlaps(self) -> pd.DataFrame:
        """Which other events overlap each pair's windows (the ``overlapping_event`` remark).

        One row per (pair, other event of the same security, window): ``window`` is
        ``"estimation"`` when the other event's event window falls inside this pair's
        estimation window (those days are dropped with ``clean_estimation=True``) and
        ``"event"`` when the two event windows overlap. Computed on demand from the day-0
        positions of all placed pairs of the fit (a ``select``-ed result keeps the other
        events of the full fit).

        Returns
        -------
        DataFrame
            Columns ``event_id, symbol, event_date, window, other_event_id,
            other_event_date``.
        """
        cols = ["event_id", "symbol", "event_date", "window", "other_event_id", "other_event_date"]
        pl = self._placement
        if pl is None or not len(pl):
            return pd.DataFrame(columns=cols)
        pos = pl["position"].to_numpy(dtype=np.int64)
        order = np.argsort(pos, kind="stable")
        sorted_pos = pos[order]
        (est0, est1), (ev0, ev1) = self.study.estimation, self.study.event_window
        parts = []
        # another pair's event window [q + ev0, q + ev1] meets [p + a, p + b] iff
        # q lies in [p + a - ev1, p + b - ev0]; windows of different securities never meet
        for name, (a, b) in (("estimation", (est0, est1)), ("event", (ev0, ev1))):
            lo = np.searchsorted(sorted_pos, pos + a - ev1, side="left")
            hi = np.searchsorted(sorted_pos, pos + b - ev0, side="right")
            count = hi - lo
            i = np.repeat(np.arange(len(pos)), count)
            j = order[np.arange(int(count.sum())) - np.repeat(np.cumsum(count) - count, count) + np.repeat(lo, count)]
            keep = i != j
            i, j = i[keep], j[keep]
            parts.append(pd.DataFrame({
                "event_id": pl["event_id"].to_numpy()[i], "symbol": pl["symbol"].to_numpy()[i],
                "event_date": pl["event_date"].to_numpy()[i], "window": name,
                "other_event_id": pl["event_id"].to_numpy()[j], "other_event_date": pl["event_date"].to_numpy()[j],
            }))
        out = pd.concat(parts, ignore_index=True)
        mine = self._outcomes[["event_id", "symbol"]].astype(str)
        out = out.merge(mine, on=["event_id", "symbol"], how="inner")
        out["window"] = pd.Categorical(out["window"], ["estimation", "event"])
        out = out.sort_values(["event_id", "symbol", "window", "other_event_date", "other_event_id"], kind="stable")
        out["window"] = out["window"].astype(str)
        return out[cols].reset_index(drop=True)

    def select(self, event_ids: Iterable[str] | str | None = None, symbols: Iterable[str] | str | None = None,
               **columns: Any) -> EventStudyResults:
        """A results object restricted to some pairs (tests recomputed on them).

        Parameters
        ----------
        event_ids, symbols : str or iterable of str, optional
            Keep these events / securities.
        **columns
            Keep the pairs whose value in another column of the input event-firm table
            (carried into ``outcomes``) is one of the given values, e.g. ``role="primary"``
            or ``expected_sign=[1]`` (numbers compare as numbers, anything else as text).

        Raises
        ------
        InputError
            An unknown column, or a value that no pair has.

        Examples
        --------
        >>> import numpy as np, pandas as pd
        >>> from events import EventStudy
        >>> rng = np.random.default_rng(0)
        >>> dates = pd.bdate_range("2024-01-01", periods=300)
        >>> market = pd.Series(rng.normal(0, 0.01, 300), index=dates)
        >>> returns = pd.DataFrame({f"S{i}": market + rng.normal(0, 0.01, 300) for i in range(4)})
        >>> firms = pd.DataFrame({"event_id": "e1", "symbol": returns.columns, "event_date": dates[280],
        ...                       "role": ["primary", "peer", "peer", "index"]})
        >>> res = EventStudy(returns, market=market).fit(firms)
        >>> res.select(role=["primary", "peer"]).n_pairs
        3
        """
        keep = np.ones(len(self._rows), dtype=bool)
        out_keep = np.ones(len(self._outcomes), dtype=bool)
        filters = [("event_id", event_ids), ("symbol", symbols)] + list(columns.items())
        for col, vals in filters:
            if vals is None:
                continue
            if col not in self._outcomes.columns:
                raise InputError(f"select: no column {col!r}; columns of the input pairs: "
                                 f"{', '.join(map(str, self._outcomes.columns))}")
            vals = [vals] if isinstance(vals, (str, int, float, np.integer, np.floating)) else list(vals)
            column = self._outcomes[col]
            if pd.api.types.is_numeric_dtype(column) and not pd.api.types.is_bool_dtype(column):
                # numbers compare as numbers (1 matches 1.0 in a column made float by a blank)
                wanted = pd.to_numeric(pd.Series(vals, dtype=object), errors="coerce")
                bad = [str(v) for v, w in zip(vals, wanted) if pd.isna(w) or not (column == w).any()]
                if bad:
                    raise InputError(f"select: unknown {col} {', '.join(bad[:10])}")
                match = column.isin(list(wanted)).to_numpy()
            else:
                vals = [str(v) for v in vals]
                text = column.astype(str)
                unknown = sorted(set(vals) - set(text))
                if unknown:
                    raise InputError(f"select: unknown {col} {', '.join(unknown[:10])}")
                match = text.isin(vals).to_numpy()
            keep &= match[self._rows]
            out_keep &= match
        a = self.arrays
        sub = EventArrays(
            est_ar=a.est_ar[keep], est_rel=a.est_rel,
            est_day=(WindowDays(a.est_day.table, a.est_day.starts[keep], a.est_day.length)
                     if isinstance(a.est_day, WindowDays) else a.est_day[keep]),
            evt_ar=a.evt_ar[keep],
            evt_cov=a.evt_cov.take(keep) if isinstance(a.evt_cov, ForecastCovariance) else a.evt_cov[keep],
            rel_days=a.rel_days, evt_day=a.evt_day[keep], sigma=a.sigma[keep],
            n_est=a.n_est[keep], dof=a.dof[keep], k=a.k, compat=a.compat,
        )
        new_pos = np.cumsum(out_keep) - 1
        return EventStudyResults(
            study=self.study, outcomes=self._outcomes[out_keep].reset_index(drop=True),
            rows=new_pos[self._rows[keep]], arrays=sub, params=self._params[keep], r2=self._r2[keep],
            ret=self._ret[keep], expected=self._expected[keep], placement=self._placement,
        )
