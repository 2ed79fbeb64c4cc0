"""Alignment of event windows in each security's own trading sessions (private).

All securities' sessions are stacked into one long array, sorted by (security, date); security
``s`` occupies positions ``start[s]:end[s]``, with ``pad`` missing entries on each side so that
a window never reaches into another security. A session's relative day is its position minus
the position of day 0, so every window of every pair is the contiguous block of positions
``p0 + rel``: found by index arithmetic (a vectorized binary search inside each security's
block of positions) and read as rows of a sliding-window view, never by a Python loop over
event-firm pairs. The only loops are over securities with their own sessions, and over blocks
of securities while the panel is written (to keep temporaries small).
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
    day : ndarray of int32 (T,)
        Session date (days since epoch) of each position, -1 on padding; ascending inside
        each security's positions.
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
    y: np.ndarray
    span: np.ndarray
    X: np.ndarray
    market_ok: np.ndarray
    has_benchmark: np.ndarray

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


def _lag_of(regressor: str) -> int:
    """Lag of a market regressor (``market_lag2`` -> 2, ``market_lead1`` -> -1, ``market`` -> 0)."""
    if regressor.startswith("market_lag"):
        return int(regressor[len("market_lag"):])
    if regressor.startswith("market_lead"):
        return -int(regressor[len("market_lead"):])
    return 0


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
    column_names: list[str] | None = None,
) -> Panel:
    """Stack the sessions of ``symbols`` (columns of ``returns``) with their regressors.

    Securities without their own ``sessions``/``spans`` (and without trade-to-trade) are
    written straight into the padded arrays in one vectorized step (boolean masks, no index
    arrays: the panel's peak memory is little more than the panel itself); the others are
    stacked one security at a time. The order of ``Panel.symbols`` is therefore not the
    order of ``symbols``. ``column_names`` names the columns of ``returns`` (default: their
    labels); ``pad`` is raised to cover the longest market lag or lead.
    """
    names = list(returns.columns) if column_names is None else list(column_names)
    col_of = {c: i for i, c in enumerate(names)}
    values = returns.to_numpy(dtype=float, na_value=np.nan)  # (T, C); a view where possible
    r_days = to_days(returns.index)
    uses_market = market is not None and any(r.startswith("market") for r in regressors)
    pad = max(int(pad), max((abs(_lag_of(r)) for r in regressors if r.startswith("market")), default=0) + 1)
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
    kx = len(regressors)
    fast_part = (_fast_sessions(values, fast, col_of, r_days, uses_market, m_days, m_arr, bench_col)
                 if fast else None)
    if slow:
        slow_part = _stack_loop(values, slow, col_of, r_days, regressors, uses_market, m_days, m_arr,
                                bench_col, f_days, f_arr, f_col, sessions, spans, trade_to_trade)
    else:
        slow_part = ([], np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0), np.zeros(0),
                     np.zeros((0, kx)), np.zeros(0, bool), np.zeros(0, bool))
    syms = list(fast) + list(slow_part[0])
    lengths = np.concatenate([fast_part["lengths"] if fast else np.zeros(0, np.int64), slow_part[1]])
    has_benchmark = np.concatenate([fast_part["has_bench"] if fast else np.zeros(0, bool), slow_part[7]])
    S = len(syms)
    # padded layout: security s starts at its real offset + pad * (2 s + 1)
    real_off = np.concatenate([[0], np.cumsum(lengths)[:-1]]).astype(np.int64) if S else np.zeros(0, np.int64)
    start = real_off + pad * (2 * np.arange(S, dtype=np.int64) + 1)
    end = start + lengths
    T = int(lengths.sum()) + 2 * pad * S
    day = np.full(T, -1, dtype=np.int32)
    y = np.full(T, np.nan)
    span = np.full(T, np.nan)
    X = np.full((kx, T), np.nan)
    market_ok = np.zeros(T, dtype=bool)
    if fast:
        n_fast = len(fast)
        t_fast = int(end[n_fast - 1]) + pad
        _write_fast(fast_part, pad, regressors, r_days, f_days, f_arr, f_col, day[:t_fast], y[:t_fast],
                    span[:t_fast], X[:, :t_fast], market_ok[:t_fast], start[:n_fast])
    if slow:
        n_fast = len(fast)
        slow_lengths = slow_part[1]
        local_off = np.concatenate([[0], np.cumsum(slow_lengths)[:-1]]).astype(np.int64)
        dest = (np.repeat(start[n_fast:] - local_off, slow_lengths)
                + np.arange(int(slow_lengths.sum()), dtype=np.int64))
        day[dest] = slow_part[2]
        y[dest] = slow_part[3]
        span[dest] = slow_part[4]
        X[:, dest] = slow_part[5].T
        market_ok[dest] = slow_part[6]
    return Panel(symbols=syms, start=start, end=end, pad=pad, day=day, y=y, span=span, X=X,
                 market_ok=market_ok, has_benchmark=has_benchmark)


def _fast_sessions(values, syms, col_of, r_days, uses_market, m_days, m_arr, bench_col) -> dict:
    """Sessions of securities on the default rule, as (securities x dates) masks.

    A security's sessions are the dates on which it or its benchmark has a return: a day the
    benchmark traded but the security has no return is a gap in event time (a halt, a missing
    print), never a compressed calendar. Without a market (constant-mean model), the sessions
    are the dates with a return.
    """
    cols = np.array([col_of[s] for s in syms], dtype=np.int64)
    if len(cols) == values.shape[1] and (cols == np.arange(len(cols))).all():
        sub = values.T  # (S, T): contiguous for a pandas frame's float block, no copy
    else:
        sub = values[:, cols].T
    present = ~np.isnan(sub)
    has_bench = np.ones(len(syms), dtype=bool)
    market_rows = None
    if uses_market:
        bc = np.array([(-1 if (c := bench_col(s)) is None else c) for s in syms], dtype=np.int64)
        has_bench = bc >= 0
        m_rows = _lookup(m_days, r_days)  # market row of each returns row (once)
        m_on_r = np.where((m_rows >= 0)[:, None], m_arr[np.maximum(m_rows, 0)], np.nan)  # (T, B)
        if m_on_r.shape[1] == 1 and has_bench.all():
            market_rows = np.broadcast_to(m_on_r[:, 0], sub.shape)  # one market: no copy
        else:
            market_rows = np.ascontiguousarray(m_on_r[:, np.maximum(bc, 0)].T)
            market_rows[~has_bench] = np.nan
        present |= np.isfinite(market_rows) & has_bench[:, None]
    return {"sub": sub, "present": present, "lengths": present.sum(axis=1).astype(np.int64),
            "has_bench": has_bench, "market_rows": market_rows}


_BLOCK_POSITIONS = 1 << 21  # positions written per block (temporaries of ~16 MB, reused)


def _write_fast(part, pad, regressors, r_days, f_days, f_arr, f_col, day, y, span, X, market_ok, start):
    """Write the default-rule securities into the (views of the) padded arrays.

    Blocks of securities are written one after the other, so that every temporary is small
    (memory the allocator reuses instead of fresh pages for each full-size temporary).
    """
    present = part["present"]
    S, n_dates = present.shape
    per_block = max(1, _BLOCK_POSITIONS // (n_dates + 2 * pad))
    days32 = r_days.astype(np.int32)
    f_rows = _lookup(f_days, r_days) if f_arr is not None else None
    factor_rows = {r: _take(f_arr[:, f_col[r]], f_rows) for r in regressors
                   if f_rows is not None and r in f_col}
    for s0 in range(0, S, per_block):
        s1 = min(S, s0 + per_block)
        lo, hi = int(start[s0]) - pad, int(start[s1 - 1] + part["lengths"][s1 - 1]) + pad
        market_rows = part["market_rows"]
        _write_fast_block(
            present[s0:s1], part["lengths"][s0:s1], part["sub"][s0:s1],
            None if market_rows is None else market_rows[s0:s1], pad, regressors, days32, factor_rows,
            day[lo:hi], y[lo:hi], span[lo:hi], X[:, lo:hi], market_ok[lo:hi], start[s0:s1] - lo,
        )


def _write_fast_block(present, lengths, sub, market_rows, pad, regressors, days32, factor_rows,
                      day, y, span, X, market_ok, start):
    S = len(lengths)
    # True at the real positions of the padded layout, in (security, date) order
    real = np.repeat(np.tile(np.array([False, True, False]), S),
                     np.column_stack([np.full(S, pad), lengths, np.full(S, pad)]).ravel())
    y[real] = sub[present]
    day[real] = np.broadcast_to(days32, present.shape)[present]
    m = None
    if market_rows is not None:
        j0 = regressors.index("market") if "market" in regressors else None
        m = X[j0] if j0 is not None else np.full(len(y), np.nan)  # (X starts as NaN)
        m[real] = market_rows[present]
        np.isfinite(m, out=market_ok)
    for j, r in enumerate(regressors):
        if r in factor_rows:  # (a factor may be called "market...": factors first)
            X[j, real] = np.broadcast_to(factor_rows[r], present.shape)[present]
        elif m is not None and r.startswith("market") and r != "market":
            # pads are NaN and at least as long as any lag: a shift never reaches another security
            X[j] = _shift(m, _lag_of(r))
    del real
    # sessions each return spans: distance to the security's previous return, 1 after none
    ok = np.isfinite(y)
    marked = ok.copy()
    marked[start - 1] = True  # a marker on the pad before each security (never a return)
    last = np.arange(len(y), dtype=np.int64)
    np.copyto(last, -1, where=~marked)
    np.maximum.accumulate(last, out=last)  # last return (or marker) at or before each position
    span.fill(1.0)
    span[0] = 0.0
    np.cumsum(span, out=span)  # 0, 1, 2, ...: the positions, without a temporary
    if len(y) > 1:
        span[1:] -= last[:-1]
        np.copyto(span[1:], 1.0, where=~ok[last[:-1]])  # the previous one is a marker
    np.copyto(span, np.nan, where=~ok)


def _stack_loop(R, syms, col_of, r_days, regressors, uses_market, m_days, m_arr, bench_col,
                f_days, f_arr, f_col, sessions, spans, trade_to_trade):
    """Securities with their own sessions, spans or trade-to-trade returns, one at a time."""
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
            # the default of _stack_fast: the dates on which the security or its benchmark has
            # a return (a day its market traded and it did not is a gap, not a compressed day)
            present = ~np.isnan(col)
            mc0 = bench_col(sym) if uses_market else None
            if mc0 is not None:
                present |= np.isfinite(_take(m_arr[:, mc0], _lookup(m_days, r_days)))
            days = r_days[present]
            y = col[present].astype(float)
        n = len(days)
        ok = np.isfinite(y)
        # sessions each return spans
        if spans is not None and sym in s_col:
            span = _take(S_arr[:, s_col[sym]], _lookup(S_days, days))
            span = np.where(ok & ~(span >= 1), 1.0, span)  # unknown (NaN, 0) -> one session
        else:  # distance in sessions to the previous return (1 for the first)
            pos = np.flatnonzero(ok)
            span = np.full(n, np.nan)
            if len(pos):
                span[pos] = np.diff(pos, prepend=pos[0] - 1)
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
    dr = panel.day
    if len(panel.symbols) == 0 or len(dr) == 0:
        status[known] = NO_DATA
        return np.zeros(n, dtype=np.int64), status
    c = np.where(known, code, 0)
    start = panel.start[c]
    end = panel.end[c]
    pos = _segment_searchsorted(dr, start, end, day)
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
    shift = np.abs(used.astype(np.int64) - day)
    st = np.where(exact, PLACED, SHIFTED).astype(np.int8)
    if policy in ("exact", "skip"):
        st = np.where(exact, PLACED, EVENT_DAY_MISSING if policy == "exact" else SKIPPED).astype(np.int8)
        st = np.where(~in_range, NO_DATA, st).astype(np.int8)
    else:
        st = np.where(~ok | ~in_range | (shift > max_shift_days), NO_DATA, st).astype(np.int8)
    status = np.where(known, st, status).astype(np.int8)
    return p0.astype(np.int64), status


def _segment_searchsorted(values: np.ndarray, start: np.ndarray, end: np.ndarray, query: np.ndarray) -> np.ndarray:
    """For each query, the first position p in ``start[i]:end[i]`` with ``values[p] >= query[i]``
    (``end[i]`` if none); ``values`` is ascending inside each segment.

    A binary search run on all queries at once: about log2(longest segment) vectorized
    steps over the queries, no composite key over the whole panel.
    """
    lo = start.astype(np.int64)
    hi = end.astype(np.int64)
    if not len(lo):
        return lo
    for _ in range(int(np.max(hi - lo, initial=0)).bit_length() + 1):
        active = lo < hi
        if not active.any():
            break
        mid = (lo + hi) // 2
        below = active & (values[np.minimum(mid, len(values) - 1)] < query)
        lo = np.where(below, mid + 1, lo)
        hi = np.where(active & ~below, mid, hi)
    return lo


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
