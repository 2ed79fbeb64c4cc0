"""Alignment of event windows in each security's own trading sessions (private).

All securities' sessions are stacked into one long array, sorted by (security, date); security
``s`` occupies positions ``start[s]:end[s]``, with ``pad`` missing entries on each side so that
a window never reaches into another security. A session's relative day is its position minus
the position of day 0, so every window of every pair is the contiguous block of positions
``p0 + rel``: found by index arithmetic (``searchsorted`` on a composite key) and read as rows
of a sliding-window view, never by a Python loop over event-firm pairs. The only loop is over
securities with their own sessions, while the panel is built.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from screener.errors import InputError

__all__ = ["Panel", "build_panel", "place_day0", "window_view", "to_days"]

_EPOCH = np.datetime64("1970-01-01", "D")

# day-0 placement codes
PLACED, SHIFTED, UNKNOWN_SYMBOL, NO_DATA, EVENT_DAY_MISSING, SKIPPED, INVALID_DATE, NO_BENCHMARK = range(8)
PLACEMENT_NAMES = (
    "ok", "date_shifted", "unknown_symbol", "no_data", "event_day_missing", "skipped",
    "invalid_date", "no_benchmark",
)


def to_days(values) -> np.ndarray:
    """Days since 1970-01-01 of dates (a DatetimeIndex or datetime64 array) as int64."""
    arr = np.asarray(pd.DatetimeIndex(values).values.astype("datetime64[D]"))
    return (arr - _EPOCH).astype(np.int64)


@dataclass
class Panel:
    """Stacked per-security session data.

    Attributes
    ----------
    symbols : list of str
    start, end : ndarray (S,)
        Each security's sessions are positions ``start[s]:end[s]`` of the stacked arrays.
    pad : int
        Missing entries on each side of every security (``day`` -1, ``y`` and ``X`` NaN).
    day : ndarray (T,)
        Session date (days since epoch) of each position, -1 on padding.
    key, day_real : ndarray (sessions,)
        Without padding: the sorted composite key ``code * stride + day - day_base`` and the
        date; security ``s`` starts at ``real_start[s]`` there.
    y : ndarray (T,)
        The security's return on the session (``NaN`` where missing, inf kept as is).
    span : ndarray (T,)
        Number of the security's sessions the return covers (``NaN`` where no return).
    X : ndarray (kx, T)
        Model regressors on the session (market, its lags/leads, factors), one row each.
    market_ok : ndarray of bool (T,)
        Whether the (first) market column is known on the session.
    has_benchmark : ndarray of bool (S,)
    """

    symbols: list[str]
    start: np.ndarray
    end: np.ndarray
    pad: int
    day: np.ndarray
    day_real: np.ndarray
    real_start: np.ndarray
    key: np.ndarray
    y: np.ndarray
    span: np.ndarray
    X: np.ndarray
    market_ok: np.ndarray
    has_benchmark: np.ndarray
    day_base: int
    stride: int

    @property
    def code_of(self) -> dict[str, int]:
        return {s: i for i, s in enumerate(self.symbols)}


def _lookup(index_days: np.ndarray, query: np.ndarray) -> np.ndarray:
    """Row of each ``query`` day in the sorted unique ``index_days``; -1 where absent."""
    if len(index_days) == 0:
        return np.full(len(query), -1, dtype=np.int64)
    pos = np.searchsorted(index_days, query)
    pos_c = np.minimum(pos, len(index_days) - 1)
    return np.where(index_days[pos_c] == query, pos_c, -1).astype(np.int64)


def _take(values: np.ndarray, rows: np.ndarray) -> np.ndarray:
    out = values[np.maximum(rows, 0)].astype(float, copy=True)
    out[rows < 0] = np.nan
    return out


def _shift(a: np.ndarray, j: int) -> np.ndarray:
    """a[p - j] within one segment (lag j > 0, lead j < 0), NaN past the ends."""
    out = np.full_like(a, np.nan)
    if j > 0:
        out[j:] = a[:-j]
    elif j < 0:
        out[:j] = a[-j:]
    else:
        out[:] = a
    return out


def _regressor_matrix(m: np.ndarray | None, f_rows: np.ndarray | None, f_arr, f_col, regressors, seg: np.ndarray):
    """Regressor columns for stacked positions; ``seg`` is each position's segment id."""
    n = len(seg)
    X = np.full((n, len(regressors)), np.nan)
    for j, r in enumerate(regressors):
        if m is not None and r.startswith("market"):
            if r == "market":
                X[:, j] = m
                continue
            lag = int(r[len("market_lag"):]) if r.startswith("market_lag") else -int(r[len("market_lead"):])
            shifted = _shift(m, lag)
            same = _shift(seg.astype(float), lag) == seg
            X[:, j] = np.where(same, shifted, np.nan)
        elif f_rows is not None and r in f_col:
            X[:, j] = _take(f_arr[:, f_col[r]], f_rows)
    return X


def build_panel(
    returns: pd.DataFrame,
    symbols: list[str],
    regressors: tuple[str, ...],
    *,
    market: pd.Series | pd.DataFrame | None,
    benchmarks: dict[str, str] | None,
    factors: pd.DataFrame | None,
    sessions: dict[str, pd.DatetimeIndex] | None,
    spans: pd.DataFrame | None,
    trade_to_trade: bool,
    pad: int = 0,
) -> Panel:
    """Stack the sessions of ``symbols`` (columns of ``returns``) with their regressors.

    Securities without their own ``sessions``/``spans`` (and without trade-to-trade) are
    stacked in one vectorized step; the others one security at a time. The order of
    ``Panel.symbols`` is therefore not the order of ``symbols``.
    """
    r_days = to_days(returns.index)
    col_of = {c: i for i, c in enumerate(returns.columns)}
    uses_market = market is not None and any(r.startswith("market") for r in regressors)
    m_days = m_arr = m_col = None
    if uses_market:
        m_frame = market.to_frame() if isinstance(market, pd.Series) else market
        m_days = to_days(m_frame.index)
        m_arr = m_frame.to_numpy(dtype=float, na_value=np.nan)
        m_col = {c: i for i, c in enumerate(m_frame.columns)}
    f_days = f_arr = f_col = None
    if factors is not None:
        f_days = to_days(factors.index)
        f_arr = factors.to_numpy(dtype=float, na_value=np.nan)
        f_col = {c: i for i, c in enumerate(factors.columns)}

    def bench_col(sym: str) -> int | None:
        if isinstance(market, pd.Series):
            return 0
        if benchmarks is not None:
            return m_col[benchmarks[sym]] if sym in benchmarks else None
        return m_col.get(sym)

    own = set()
    if sessions is not None:
        own |= {s for s in symbols if s in sessions}
    if spans is not None:
        own |= {s for s in symbols if s in spans.columns}
    if trade_to_trade:
        own = set(symbols)
    fast = [s for s in symbols if s not in own]
    slow = [s for s in symbols if s in own]
    parts = []
    if fast:
        parts.append(_stack_fast(returns, fast, col_of, r_days, regressors, uses_market, m_days, m_arr,
                                 bench_col, f_days, f_arr, f_col))
    if slow:
        parts.append(_stack_loop(returns, slow, col_of, r_days, regressors, uses_market, m_days, m_arr,
                                 bench_col, f_days, f_arr, f_col, sessions, spans, trade_to_trade))
    kx = len(regressors)
    if not parts:
        parts.append(([], np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0), np.zeros(0),
                      np.zeros((0, kx)), np.zeros(0, bool), np.zeros(0, bool)))
    syms = [s for p in parts for s in p[0]]
    lengths = np.concatenate([p[1] for p in parts])
    S = len(syms)
    n_real = int(lengths.sum())
    code_real = np.repeat(np.arange(S, dtype=np.int64), lengths)
    # padded layout: security s starts at its real offset + pad * (2 s + 1)
    real_off = np.concatenate([[0], np.cumsum(lengths)[:-1]]).astype(np.int64) if S else np.zeros(0, np.int64)
    start = real_off + pad * (2 * np.arange(S, dtype=np.int64) + 1)
    end = start + lengths
    T = n_real + 2 * pad * S
    dest = np.arange(n_real, dtype=np.int64) + pad * (2 * code_real + 1)

    def padded(values: np.ndarray, fill) -> np.ndarray:
        out = np.full((T,) + values.shape[1:], fill, dtype=values.dtype)
        out[dest] = values
        return out

    day_real = np.concatenate([p[2] for p in parts])
    day = padded(day_real, -1)
    day_base = int(day_real.min()) - 1 if n_real else 0
    stride = int(day_real.max()) - day_base + 40_000 if n_real else 1
    key = code_real * stride + (day_real - day_base)  # sorted: (security, date)
    X_real = np.concatenate([p[5] for p in parts])
    X = np.full((X_real.shape[1], T), np.nan)
    X[:, dest] = X_real.T
    return Panel(
        symbols=syms, start=start, end=end, pad=pad, day=day, key=key, day_real=day_real,
        real_start=real_off,
        y=padded(np.concatenate([p[3] for p in parts]), np.nan),
        span=padded(np.concatenate([p[4] for p in parts]), np.nan),
        X=X,
        market_ok=padded(np.concatenate([p[6] for p in parts]), False),
        has_benchmark=np.concatenate([p[7] for p in parts]), day_base=day_base, stride=stride,
    )


def _stack_fast(returns, syms, col_of, r_days, regressors, uses_market, m_days, m_arr, bench_col,
                f_days, f_arr, f_col):
    """Default sessions for many securities at once (no per-security loop).

    A security's sessions are the dates on which it or its benchmark has a return: a day the
    benchmark traded but the security has no return is a gap in event time (a halt, a missing
    print), never a compressed calendar. A return that follows a gap spans the sessions since the
    previous return (``span`` > 1). Without a market (constant-mean model), the sessions are the
    dates with a return.
    """
    cols = np.array([col_of[s] for s in syms], dtype=np.int64)
    sub = returns.to_numpy(dtype=float, na_value=np.nan)[:, cols].T  # (S, T)
    present = ~np.isnan(sub)
    has_bench = np.ones(len(syms), dtype=bool)
    if uses_market:
        bc = np.array([(-1 if (c := bench_col(s)) is None else c) for s in syms], dtype=np.int64)
        has_bench = bc >= 0
        m_rows = _lookup(m_days, r_days)  # market row of each returns row (once)
        m_on_r = np.where((m_rows >= 0)[:, None], m_arr[np.maximum(m_rows, 0)], np.nan)  # (T, B)
        if has_bench.any():
            bench_ok = np.zeros_like(present)
            bench_ok[has_bench] = np.isfinite(m_on_r[:, bc[has_bench]]).T
            present |= bench_ok
    si, ri = np.nonzero(present)  # sorted by security, then date
    y = sub[si, ri]
    lengths = present.sum(axis=1).astype(np.int64)
    days = r_days[ri]
    # sessions each return spans: distance to the security's previous return
    ok = np.isfinite(y)
    g = np.arange(len(y), dtype=np.int64)
    if len(y):
        last_ok = np.where(ok, g, -1)
        np.maximum.accumulate(last_ok, out=last_ok)  # in place: no second full-size temporary
        prev_ok = np.concatenate([[-1], last_ok[:-1]])
        del last_ok
    else:
        prev_ok = g
    sec_start = (np.concatenate([[0], np.cumsum(lengths)[:-1]]) if len(lengths) else lengths)[si]
    # g - prev_ok after a previous return of the same security, else 1; NaN where no return
    span = np.subtract(g, prev_ok, dtype=float)
    np.copyto(span, 1.0, where=prev_ok < sec_start)
    np.copyto(span, np.nan, where=~ok)
    del prev_ok, sec_start
    m = None
    mok = np.zeros(len(y), dtype=bool)
    if uses_market:
        b = bc[si]
        # one benchmark column (a market Series): a 1-D gather is much cheaper than a 2-D one
        m = m_on_r[:, 0][ri] if m_on_r.shape[1] == 1 else m_on_r[ri, np.maximum(b, 0)]
        if not has_bench.all():
            m = np.where(b >= 0, m, np.nan)
        mok = np.isfinite(m)
    f_rows = _lookup(f_days, r_days)[ri] if f_arr is not None else None
    X = _regressor_matrix(m, f_rows, f_arr, f_col, regressors, si)
    return list(syms), lengths, days, y, span, X, mok, has_bench


def _stack_loop(returns, syms, col_of, r_days, regressors, uses_market, m_days, m_arr, bench_col,
                f_days, f_arr, f_col, sessions, spans, trade_to_trade):
    """Securities with their own sessions, spans or trade-to-trade returns, one at a time."""
    R = returns.to_numpy(dtype=float, na_value=np.nan)
    if spans is not None:
        S_days = to_days(spans.index)
        S_arr = spans.to_numpy(dtype=float, na_value=np.nan)
        s_col = {c: i for i, c in enumerate(spans.columns)}
    if uses_market and trade_to_trade:
        lw = np.log1p(np.where(np.isfinite(m_arr), m_arr, 0.0))
        m_cumlog = np.cumsum(lw, axis=0)
        m_cumnan = np.cumsum(~np.isfinite(m_arr), axis=0)
    out_days, out_y, out_span, out_X, out_mok = [], [], [], [], []
    has_bench = np.ones(len(syms), dtype=bool)
    for si, sym in enumerate(syms):
        col = R[:, col_of[sym]]
        if sessions is not None and sym in sessions:
            days = np.unique(to_days(sessions[sym]))
            y = _take(col, _lookup(r_days, days))
        else:
            present = ~np.isnan(col)
            days = r_days[present]
            y = col[present].astype(float)
        n = len(days)
        ok = np.isfinite(y)
        # sessions each return spans
        if spans is not None and sym in s_col:
            span = _take(S_arr[:, s_col[sym]], _lookup(S_days, days))
            span = np.where(ok & ~(span >= 1), 1.0, span)  # unknown (NaN, 0) -> one session
        elif sessions is not None and sym in sessions:
            pos = np.flatnonzero(ok)
            span = np.full(n, np.nan)
            if len(pos):
                span[pos] = np.diff(pos, prepend=pos[0] - 1)
        else:
            span = np.ones(n)
        span = np.where(ok, span, np.nan)
        m = None
        mok = np.zeros(n, dtype=bool)
        if uses_market:
            mc = bench_col(sym)
            if mc is None:
                has_bench[si] = False
            else:
                mrows = _lookup(m_days, days)
                m = _take(m_arr[:, mc], mrows)
                mok = np.isfinite(m)
                if trade_to_trade:
                    # market compounded from the previous valid return's session to this one
                    pos = np.flatnonzero(ok)
                    prev_pos = np.full(n, -1, dtype=np.int64)
                    if len(pos):
                        prev_pos[pos] = np.concatenate([[pos[0] - 1], pos[:-1]])
                    prev_rows = np.where(prev_pos >= 0, _lookup(m_days, days[np.maximum(prev_pos, 0)]), -1)
                    ok_rows = (mrows >= 0) & (prev_rows >= 0)
                    a = np.maximum(mrows, 0)
                    b = np.maximum(prev_rows, 0)
                    comp = np.expm1(m_cumlog[a, mc] - m_cumlog[b, mc])
                    nan_between = (m_cumnan[a, mc] - m_cumnan[b, mc]) > 0
                    m = np.where(ok, np.where(ok_rows & ~nan_between, comp, np.nan), m)
        f_rows = _lookup(f_days, days) if f_arr is not None else None
        X = _regressor_matrix(m, f_rows, f_arr, f_col, regressors, np.zeros(n, dtype=np.int64))
        out_days.append(days)
        out_y.append(y)
        out_span.append(span)
        out_X.append(X)
        out_mok.append(mok)
    lengths = np.array([len(d) for d in out_days], dtype=np.int64)
    return (list(syms), lengths, np.concatenate(out_days), np.concatenate(out_y), np.concatenate(out_span),
            np.concatenate(out_X), np.concatenate(out_mok), has_bench)


def place_day0(
    panel: Panel, code: np.ndarray, day: np.ndarray, valid_date: np.ndarray, policy: str, max_shift_days: int
) -> tuple[np.ndarray, np.ndarray]:
    """Position of day 0 of each pair, and a placement code (``PLACEMENT_NAMES``).

    ``code`` is -1 for symbols absent from the panel; ``day`` the requested event date in days
    since the epoch (ignored where ``valid_date`` is false).
    """
    n = len(code)
    status = np.full(n, PLACED, dtype=np.int8)
    status[~valid_date] = INVALID_DATE
    status[(code < 0) & valid_date] = UNKNOWN_SYMBOL
    known = (code >= 0) & valid_date
    dr = panel.day_real
    if len(panel.symbols) == 0 or len(dr) == 0:
        status[known] = NO_DATA
        return np.zeros(n, dtype=np.int64), status
    c = np.where(known, code, 0)
    # placement in the unpadded arrays (sorted composite key), then shifted to padded positions
    start = panel.real_start[c]
    end = start + (panel.end[c] - panel.start[c])
    q = c * panel.stride + np.clip(day - panel.day_base, 0, panel.stride - 1)
    pos = np.searchsorted(panel.key, q, side="left")
    last_i = len(dr) - 1
    has = pos < end
    exact = has & (dr[np.minimum(pos, last_i)] == day)
    empty = end <= start
    first = dr[np.minimum(start, last_i)]
    last = dr[np.clip(end - 1, 0, last_i)]
    in_range = ~empty & (day >= first) & (day <= last)
    if policy == "next":
        p0 = pos
        ok = has
    elif policy == "previous":
        p0 = np.where(exact, pos, pos - 1)
        ok = p0 >= start
    else:  # exact / skip
        p0 = pos
        ok = exact
    p0 = np.where(ok, p0, start)
    used = dr[np.clip(p0, 0, last_i)]
    shift = np.abs(used - day)
    st = np.where(exact, PLACED, SHIFTED).astype(np.int8)
    if policy in ("exact", "skip"):
        st = np.where(exact, PLACED, EVENT_DAY_MISSING if policy == "exact" else SKIPPED).astype(np.int8)
        st = np.where(~in_range, NO_DATA, st).astype(np.int8)
    else:
        st = np.where(~ok | ~in_range | (shift > max_shift_days), NO_DATA, st).astype(np.int8)
    status = np.where(known, st, status).astype(np.int8)
    p0_padded = p0 - panel.real_start[c] + panel.start[c]
    return p0_padded.astype(np.int64), status


def window_view(values: np.ndarray, length: int) -> np.ndarray:
    """Sliding windows of ``length`` along the last axis (a view): row ``p`` holds positions
    ``p .. p + length - 1``, so ``window_view(a, L)[p0 + rel[0]]`` is every pair's window."""
    return np.lib.stride_tricks.sliding_window_view(values, length, axis=-1)


def check_wide(frame: pd.DataFrame, what: str) -> pd.DataFrame:
    """Validate a wide (dates x columns) frame of numbers; return it sorted by date."""
    if not isinstance(frame, pd.DataFrame):
        raise InputError(f"{what} must be a pandas DataFrame (dates x symbols), got {type(frame).__name__}")
    if not isinstance(frame.index, pd.DatetimeIndex):
        raise InputError(f"{what} must have a DatetimeIndex of session dates, got {type(frame.index).__name__}")
    if frame.index.tz is not None:
        raise InputError(f"{what} has a time-zone-aware index ({frame.index.tz}); use tz-naive session dates")
    if frame.index.hasnans:
        raise InputError(f"{what} has a missing (NaT) date in its index")
    dup = frame.index[frame.index.duplicated()]
    if len(dup):
        raise InputError(f"{what} has duplicated date {dup[0].date()} in its index")
    dupc = frame.columns[frame.columns.duplicated()]
    if len(dupc):
        raise InputError(f"{what} has duplicated column {dupc[0]!r}")
    for c in frame.columns:
        if not pd.api.types.is_numeric_dtype(frame[c]):
            raise InputError(f"{what} column {c!r} is not numeric (dtype {frame[c].dtype})")
    if not frame.index.is_monotonic_increasing:
        frame = frame.sort_index()
    return frame
