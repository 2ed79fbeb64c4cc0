"""Returns on each security's own exchange calendar, with gaps kept as gaps.

Rules (docs/prices.md, "Returns"):

- A return is computed from ``adj_close`` (the price frame already fell back to ``close`` where
  a source has no adjusted close, with a warning) between a row and the previous row that has a
  price. Missing days are never filled, and never given a zero return.
- Each return carries its **span**: the number of sessions of the security's exchange it covers
  (1 normally; 11 for the first return after a 10-session halt). Trade-to-trade and
  thin-trading models need it.
- Rows on dates that are not sessions of the exchange (e.g. Yahoo placeholder rows) are left
  out, with a :class:`~screener.errors.DataQualityWarning`.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from typing import Any, Mapping

import numpy as np
import pandas as pd

from screener.errors import CalendarError, DataQualityWarning, InputError

__all__ = ["security_returns", "ReturnsPanel", "returns_panel", "price_panel"]

_KINDS = ("simple", "log")


def _price_column(frame: pd.DataFrame) -> pd.Series:
    if "adj_close" not in frame.columns:
        raise InputError(f"price frame of {frame.attrs.get('symbol', '?')!r} has no adj_close column")
    return frame["adj_close"]


def _returns_core(frame: pd.DataFrame, sessions: pd.DatetimeIndex, symbol: str, calendar: str, kind: str):
    """(dates_ns, returns, spans, first_priced_ns, last_priced_ns) of one security, numpy only."""
    adj = _price_column(frame).to_numpy(dtype="float64", na_value=np.nan)
    dates_all = frame.index.asi8
    ok = ~np.isnan(adj)
    values = adj[ok]
    dates = dates_all[ok]
    first = dates[0] if len(dates) else None
    last = dates[-1] if len(dates) else None
    s_ns = sessions.asi8
    if len(dates) and (dates[0] < s_ns[0] or dates[-1] > s_ns[-1]):
        raise CalendarError(
            f"{symbol}: prices run {pd.Timestamp(dates[0]).date()}..{pd.Timestamp(dates[-1]).date()} but the "
            f"{calendar} calendar covers {sessions[0].date()}..{sessions[-1].date()}; restrict the date range"
        )
    pos = np.searchsorted(s_ns, dates)
    on = s_ns[np.minimum(pos, len(s_ns) - 1)] == dates
    if not on.all():
        off = dates[~on]
        warnings.warn(
            f"{symbol}: {len(off)} row(s) on dates that are not {calendar} sessions left out of the returns "
            f"(first {pd.Timestamp(off[0]).date()})",
            DataQualityWarning,
            stacklevel=3,
        )
        values, pos, dates = values[on], pos[on], dates[on]
    if len(values) < 2:
        return dates[:0], np.empty(0), np.empty(0, dtype="int64"), first, last
    ratio = values[1:] / values[:-1]
    ret = np.log(ratio) if kind == "log" else ratio - 1.0
    return dates[1:], ret, np.diff(pos).astype("int64"), first, last


def _calendar_for(symbol: str, mic: str | None, sessions: pd.DatetimeIndex | None):
    if sessions is not None:
        return "the given", sessions
    from screener import calendars

    name = calendars.calendar_name(symbol, mic)
    return name, calendars.exchange_sessions(name).sessions


def security_returns(
    frame: pd.DataFrame,
    symbol: str | None = None,
    *,
    kind: str = "simple",
    mic: str | None = None,
    sessions: pd.DatetimeIndex | None = None,
) -> pd.DataFrame:
    """Returns of one security on its own sessions.

    Parameters
    ----------
    frame : DataFrame
        A price frame (``adj_close`` is used).
    symbol : str, optional
        Its Yahoo symbol (default ``frame.attrs["symbol"]``); picks the calendar.
    kind : {"simple", "log"}
    mic : str, optional
        Listing MIC overriding the symbol's suffix.
    sessions : DatetimeIndex, optional
        The exchange's sessions (default: from :mod:`screener.calendars`).

    Returns
    -------
    DataFrame
        Indexed by the dates that have a return: ``return`` (float) and ``span`` (int, sessions
        covered since the previous price).

    Raises
    ------
    CalendarError
        Prices outside the calendar's bounds.
    """
    if kind not in _KINDS:
        raise InputError(f"kind must be 'simple' or 'log', not {kind!r}")
    symbol = symbol or frame.attrs.get("symbol")
    if not symbol:
        raise InputError("give the symbol (the frame's attrs do not name it)")
    calendar, sessions = _calendar_for(symbol, mic, sessions)
    dates, ret, span, _, _ = _returns_core(frame, sessions, symbol, calendar, kind)
    index = pd.DatetimeIndex(dates.view("datetime64[ns]"), name="date")
    return pd.DataFrame({"return": ret, "span": span}, index=index)


@dataclass(frozen=True)
class ReturnsPanel:
    """Aligned returns of many securities.

    Attributes
    ----------
    returns : DataFrame
        Dates × symbols; ``NaN`` where the security has no session or no price (never zero).
    spans : DataFrame
        Same shape, int: sessions each return covers (1 normally; 0 where there is no return).
    sessions : dict of str → DatetimeIndex
        Each symbol's own exchange sessions, restricted to its data's first..last date.
    calendars : dict of str → str
        The calendar used for each symbol.
    kind : str
        ``"simple"`` or ``"log"``.
    """

    returns: pd.DataFrame
    spans: pd.DataFrame
    sessions: dict[str, pd.DatetimeIndex]
    calendars: dict[str, str]
    kind: str = "simple"
    quality: dict[str, list[str]] = field(default_factory=dict)

    def multi_session(self) -> pd.DataFrame:
        """Long frame of the returns that span more than one session (symbol, date, span, return)."""
        mask = self.spans.to_numpy() > 1
        rows, cols = np.nonzero(mask)
        return pd.DataFrame({
            "symbol": self.spans.columns[cols].astype(str),
            "date": self.spans.index[rows],
            "span": self.spans.to_numpy()[rows, cols],
            "return": self.returns.to_numpy()[rows, cols],
        })


def returns_panel(
    frames: Mapping[str, pd.DataFrame],
    *,
    kind: str = "simple",
    mics: Mapping[str, str] | None = None,
    start: Any = None,
    end: Any = None,
) -> ReturnsPanel:
    """Build the wide returns / spans panel and each symbol's session index.

    Parameters
    ----------
    frames : mapping of symbol → price frame
        E.g. ``source.load_many(symbols)``.
    kind : {"simple", "log"}
    mics : mapping of symbol → MIC, optional
        Listing MICs overriding the suffix guess (e.g. the universe's ``exchange`` column).
    start, end : date-like, optional
        Keep returns dated in this range (the first return needs the previous price, which may be
        before ``start``).

    Returns
    -------
    ReturnsPanel

    Examples
    --------
    >>> from screener.prices import open_source, returns_panel
    >>> frames = open_source().load_many(["NVDA", "688256.SS", "688041.SS"], start="2025-04-01", end="2025-06-30")
    >>> panel = returns_panel(frames)
    >>> panel.calendars
    {'NVDA': 'XNYS', '688256.SS': 'XSHG', '688041.SS': 'XSHG'}

    Good Friday (2025-04-18) is a Shanghai session but not a New York one: Nvidia has no
    return that day (missing, never 0):

    >>> panel.returns.loc["2025-04-18"].isna().to_dict()
    {'NVDA': True, '688256.SS': False, '688041.SS': False}

    Hygon (688041.SS) was halted for ten sessions; its first return after the halt spans 11:

    >>> panel.multi_session().round({"return": 3})
          symbol       date  span  return
    0  688041.SS 2025-06-10    11   0.043
    """
    mics = dict(mics or {})
    if kind not in _KINDS:
        raise InputError(f"kind must be 'simple' or 'log', not {kind!r}")
    lo = None if start is None else pd.Timestamp(start)
    hi = None if end is None else pd.Timestamp(end)
    per: dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]] = {}
    own_sessions: dict[str, pd.DatetimeIndex] = {}
    cal_names: dict[str, str] = {}
    quality: dict[str, list[str]] = {}
    lo_ns = None if lo is None else lo.as_unit("ns").value
    hi_ns = None if hi is None else hi.as_unit("ns").value
    for symbol, frame in frames.items():
        name, sessions = _calendar_for(symbol, mics.get(symbol), None)
        cal_names[symbol] = name
        notes = list(frame.attrs.get("quality", []))
        outside = (frame.index < sessions[0]) | (frame.index > sessions[-1])
        if outside.any():
            # history beyond the calendar (e.g. a file from 2000) cannot be placed on sessions;
            # leave it out rather than fail every study of the symbol
            notes.append(f"{symbol}: {int(outside.sum())} price row(s) outside the {name} calendar "
                         f"({sessions[0].date()}..{sessions[-1].date()}) left out of the returns")
            warnings.warn(notes[-1], DataQualityWarning, stacklevel=2)
            frame = frame[~outside]
        dates, ret, span, first, last = _returns_core(frame, sessions, symbol, name, kind)
        if first is not None:
            a = first if lo_ns is None else max(first, lo_ns)
            b = last if hi_ns is None else min(last, hi_ns)
            s_ns = sessions.asi8
            own = sessions[np.searchsorted(s_ns, a, "left"):np.searchsorted(s_ns, b, "right")]
        else:
            own = sessions[:0]
        if lo_ns is not None or hi_ns is not None:
            keep = np.ones(len(dates), dtype=bool)
            if lo_ns is not None:
                keep &= dates >= lo_ns
            if hi_ns is not None:
                keep &= dates <= hi_ns
            dates, ret, span = dates[keep], ret[keep], span[keep]
        per[symbol] = (dates, ret, span)
        own_sessions[symbol] = own
        quality[symbol] = notes
    if own_sessions:
        all_dates = np.unique(np.concatenate([s.asi8 for s in own_sessions.values()] + [p[0] for p in per.values()]))
    else:
        all_dates = np.array([], dtype="int64")
    index = pd.DatetimeIndex(all_dates.view("datetime64[ns]"), name="date")
    symbols = list(per)
    ret_panel = np.full((len(index), len(symbols)), np.nan)
    span_panel = np.zeros((len(index), len(symbols)), dtype="int64")
    for j, s in enumerate(symbols):
        dates, ret, span = per[s]
        rows = np.searchsorted(all_dates, dates)
        ret_panel[rows, j] = ret
        span_panel[rows, j] = span
    columns = pd.Index(symbols, name="symbol")
    return ReturnsPanel(
        returns=pd.DataFrame(ret_panel, index=index, columns=columns),
        spans=pd.DataFrame(span_panel, index=index, columns=columns),
        sessions=own_sessions,
        calendars=cal_names,
        kind=kind,
        quality=quality,
    )


def price_panel(frames: Mapping[str, pd.DataFrame], column: str = "adj_close") -> pd.DataFrame:
    """Wide dates × symbols panel of one price column (``NaN`` where a symbol has no row)."""
    if not frames:
        return pd.DataFrame(index=pd.DatetimeIndex([], name="date"))
    for s, f in frames.items():
        if column not in f.columns:
            raise InputError(f"price frame of {s!r} has no column {column!r}")
    panel = pd.concat({s: f[column] for s, f in frames.items()}, axis=1, sort=True)
    panel.columns.name = "symbol"
    panel.index.name = "date"
    return panel
