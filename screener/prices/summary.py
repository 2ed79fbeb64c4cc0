"""Per-symbol coverage summary: what ``semiscreen prices`` prints."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

__all__ = ["coverage_summary"]


def coverage_summary(frame: pd.DataFrame, symbol: str | None = None, *, mic: str | None = None) -> dict[str, Any]:
    """Summarise one price frame against its exchange calendar.

    Returns
    -------
    dict
        ``symbol, source, calendar, first_date, last_date, rows, sessions_expected,
        missing_sessions, longest_gap`` (consecutive sessions without a price),
        ``longest_gap_start``, ``adj_close_fallback``, ``last_close``.
    """
    from screener import calendars

    symbol = symbol or frame.attrs.get("symbol")
    name = calendars.calendar_name(symbol, mic)
    priced = frame.index[frame["adj_close"].notna().to_numpy()]
    out: dict[str, Any] = {
        "symbol": symbol,
        "source": frame.attrs.get("source"),
        "calendar": name,
        "first_date": None,
        "last_date": None,
        "rows": int(len(frame)),
        "sessions_expected": 0,
        "missing_sessions": 0,
        "longest_gap": 0,
        "longest_gap_start": None,
        "adj_close_fallback": bool(frame.attrs.get("adj_close_fallback", False)),
        "last_close": float(frame["close"].dropna().iloc[-1]) if frame["close"].notna().any() else None,
    }
    if len(priced) == 0:
        return out
    cal = calendars.exchange_sessions(name)
    first, last = priced[0], priced[-1]
    # gaps are counted where the calendar is known (history before its first session is fine)
    sessions = cal.sessions[(cal.sessions >= first) & (cal.sessions <= last)]
    missing = ~np.isin(sessions.asi8, priced.asi8)
    out.update(first_date=str(first.date()), last_date=str(last.date()),
               sessions_expected=int(len(sessions)), missing_sessions=int(missing.sum()))
    if missing.any():
        # runs of consecutive missing sessions
        padded = np.concatenate([[0], missing.astype("int8"), [0]])
        edges = np.diff(padded)
        starts = np.flatnonzero(edges == 1)
        ends = np.flatnonzero(edges == -1)
        lengths = ends - starts
        k = int(np.argmax(lengths))
        out.update(longest_gap=int(lengths[k]), longest_gap_start=str(sessions[starts[k]].date()))
    return out
