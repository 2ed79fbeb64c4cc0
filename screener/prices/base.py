"""The :class:`PriceSource` interface and the one function that turns raw bars into a price frame.

Every source (Yahoo, local directory, bundled snapshot, cache) ends in :func:`make_price_frame`,
so every frame is parsed, validated and flagged the same way.
"""

from __future__ import annotations

import re
import warnings
from abc import ABC, abstractmethod
from pathlib import Path
from typing import Any, Iterable

import numpy as np
import pandas as pd

from screener.errors import DataQualityWarning, DataUnavailableError, InputError, Problem
from screener.prices.schema import PRICE_COLUMNS

__all__ = [
    "PriceSource",
    "PRICE_COLUMNS",
    "check_symbol",
    "make_price_frame",
    "price_frame_from_arrays",
    "parse_raw_table",
    "is_price_header",
    "empty_price_frame",
]

# Yahoo symbols: letters, digits and . ^ = _ - (e.g. ^GSPC, 0981.HK, BRK-B, GC=F).
_SYMBOL_RE = re.compile(r"^[A-Za-z0-9^][A-Za-z0-9.^=_-]{0,31}$")


def check_symbol(symbol: Any) -> str:
    """Return ``symbol`` if it is a safe Yahoo symbol (usable as a file name), else raise.

    Raises
    ------
    InputError
        Empty, too long, a path (``a/b``, ``../x``), ``..`` inside, or control/other characters.
    """
    if not isinstance(symbol, str):
        raise InputError(f"symbol must be a string, got {type(symbol).__name__} {symbol!r}")
    if not _SYMBOL_RE.match(symbol) or ".." in symbol:
        raise InputError(
            f"invalid symbol {symbol!r}: a Yahoo symbol has 1-32 letters, digits and . ^ = _ - "
            "(e.g. NVDA, ^GSPC, 0981.HK, BRK-B), does not start with '.' and has no '..'"
        )
    return symbol


def _normalise_column(name: Any) -> str:
    """``"Adj Close"`` → ``"adj_close"`` (Yahoo's CSV export and ours name the same columns)."""
    return " ".join(str(name).strip().lower().split()).replace(" ", "_")


def is_price_header(columns: Iterable[Any]) -> bool:
    """Whether column names are those of a price file.

    ``date`` and ``close`` (the other :data:`PRICE_COLUMNS`, ``open``, ``high``, ``low``,
    ``adj_close``, ``volume``, are optional, and further columns are ignored), in any case and
    order; ``Adj Close`` counts as ``adj_close``.

    Examples
    --------
    >>> is_price_header(["date", "open", "high", "low", "close", "adj_close", "volume"])
    True
    >>> is_price_header(["Date", "Open", "High", "Low", "Close", "Adj Close", "Volume"])
    True
    >>> is_price_header(["event_id", "symbol", "role", "expected_sign", "rationale"])
    False
    """
    names = [_normalise_column(c) for c in columns]
    # (other columns, e.g. yfinance's dividends and stock_splits, are ignored by the reader)
    return "date" in names and "close" in names


#: Cell texts read as a missing value (lower case): what pandas and pyarrow read as missing.
_MISSING_MARKERS = frozenset({"null", "nan", "-nan", "n/a", "na", "#n/a", "#na", "#n/a n/a", "none",
                              "-1.#ind", "1.#ind", "-1.#qnan", "1.#qnan", "<na>"})


def empty_price_frame() -> pd.DataFrame:
    """A price frame with no rows."""
    frame = pd.DataFrame({c: pd.Series([], dtype="float64") for c in PRICE_COLUMNS})
    frame.index = pd.DatetimeIndex([], name="date", dtype="datetime64[ns]")
    return frame


def parse_raw_table(raw: pd.DataFrame, *, file: str, first_line: int = 2,
                    unit: str = "line", lines: np.ndarray | None = None,
                    problems: list[Problem] | None = None) -> tuple[pd.DataFrame, np.ndarray]:
    """Parse a table as read from a file: ISO dates and numbers, failing on the first bad cell.

    Parameters
    ----------
    raw : DataFrame
        Columns ``date`` and some of :data:`PRICE_COLUMNS`, any dtype (strings allowed).
    file : str
        Named in errors.
    first_line : int
        Line number of the first data row (2 for a CSV with a header row; 1 for a Parquet
        file, whose rows are counted from the first data row).
    unit : {"line", "row"}
        How errors name a position: ``"line"`` for a CSV file (the header is line 1),
        ``"row"`` for a Parquet file (data row, 1-based, header not counted).
    lines : ndarray of int, optional
        The line (or row) number of each row of ``raw``, when they are not consecutive from
        ``first_line`` (e.g. malformed rows were left out).
    problems : list of Problem, optional
        Collect mode (what ``semiscreen validate`` uses): instead of raising at the first bad
        cell, append one :class:`~screener.errors.Problem` per bad cell (file, line, column,
        value) and leave the rows whose date is missing or unreadable out of the result.

    Returns
    -------
    (DataFrame, ndarray)
        The frame with a ``date`` column (datetime64[ns]) and every price column (float64,
        NaN where missing), and the line (or row) number of each row.

    Raises
    ------
    InputError
        A missing ``date``/``close`` column, or a cell that is not a date / a number; the message
        names the file, line (or row), column and value. Not in collect mode.
    """
    if unit not in ("line", "row"):
        raise ValueError(f"unit must be 'line' or 'row', not {unit!r}")
    collect = problems is not None

    def fail(row: Any, column: str | None, value: Any, message: str) -> None:
        if not collect:
            where = f"{file}, {unit} {row}" if row is not None else file
            col = f", column {column!r}" if column else ""
            raise InputError(f"{where}{col}: {message}")
        problems.append(Problem(file, None if row is None else int(row), column,
                                None if value is None else str(value), message))

    # "Adj Close" (Yahoo's CSV export) and "adj_close" are the same column
    given = [str(c) for c in raw.columns]
    cols = [_normalise_column(c) for c in given]
    raw = raw.set_axis(cols, axis=1)
    dup_cols = sorted({c for c in cols if cols.count(c) > 1})
    if dup_cols:
        message = (f"column {dup_cols[0]!r} appears more than once in the header "
                   f"(found {','.join(cols)})")
        if not collect:
            raise InputError(f"{file}: {message}")
        problems.append(Problem(file, 1 if unit == "line" else None, dup_cols[0], None, message))
        return _empty_table(), np.empty(0, dtype="int64")
    missing = [c for c in ("date", "close") if c not in cols]
    if missing:
        sep = next((s for s in (";", "\t", "|") if len(given) == 1 and s in given[0]), None)
        hint = f"; the file seems to use {sep!r} as delimiter: use commas" if sep else ""
        message = (f"missing column{'s' if len(missing) > 1 else ''} {', '.join(missing)} "
                   f"(expected date,open,high,low,close,adj_close,volume; found {','.join(cols)}){hint}")
        if not collect:
            raise InputError(f"{file}: {message}")
        problems.append(Problem(file, 1 if unit == "line" else None, None, None, message))
        return _empty_table(), np.empty(0, dtype="int64")
    if lines is None:
        lines = np.arange(first_line, first_line + len(raw))
    lines = np.asarray(lines, dtype="int64")
    blank = raw.isna().all(axis=1).to_numpy()
    if blank.any():  # blank lines (e.g. at the end of a hand-edited file) are not rows
        raw, lines = raw[~blank], lines[~blank]
    keep = np.ones(len(raw), dtype=bool)  # rows with a usable date (collect mode)
    out: dict[str, Any] = {}
    d = raw["date"]
    if d.dtype.kind == "M":
        dates = pd.DatetimeIndex(d)
        if dates.tz is not None:
            dates = dates.tz_localize(None)
        if collect:  # (otherwise the schema reports a missing date)
            keep &= np.asarray(dates.notna())
            for i in np.flatnonzero(~keep):
                fail(lines[i], "date", None, "missing date")
        timed = np.flatnonzero(dates.notna() & (dates != dates.normalize()))
        for i in timed:
            fail(lines[i], "date", d.iloc[i], f"a session date has no time of day, got {d.iloc[i]}")
            keep[i] = False
    else:
        text = d.astype("string").str.strip()
        # YYYY-MM-DD, optionally with a midnight time (as pandas exports it); no time zone
        # offset, no other time (a session date is a calendar date, not an instant)
        form = text.str.fullmatch(r"\d{4}-\d{2}-\d{2}(?:[ T]00:00(?::00(?:\.0+)?)?)?").fillna(False)
        form = form.to_numpy(dtype=bool)
        dates = pd.DatetimeIndex(pd.to_datetime(text.str.slice(0, 10).where(form), format="%Y-%m-%d",
                                                errors="coerce"))
        bad = np.flatnonzero(~form | np.asarray(dates.isna()))
        for i in bad:
            value = d.iloc[i]
            if collect and (pd.isna(value) or not str(value).strip()):
                fail(lines[i], "date", None, "missing date")
            else:
                fail(lines[i], "date", value, f"not an ISO date (YYYY-MM-DD): {value!r}")
            keep[i] = False
    out["date"] = dates.as_unit("ns")
    for c in PRICE_COLUMNS:
        if c not in raw.columns:
            out[c] = np.full(len(raw), np.nan)
            continue
        s = raw[c]
        if s.dtype.kind in "fiu":
            out[c] = s.to_numpy(dtype="float64")
            continue
        if s.dtype.kind == "b":
            fail(None, c, None, "booleans are not prices")
            out[c] = np.full(len(raw), np.nan)
            continue
        text = s.astype("string").str.strip()
        # markers of a missing value that CSV readers (and Yahoo's download: "null") write
        text = text.mask(text.str.lower().isin(_MISSING_MARKERS), "")
        num = pd.to_numeric(text.replace("", pd.NA), errors="coerce")
        bad = np.flatnonzero(num.isna().to_numpy() & text.fillna("").ne("").to_numpy())
        for i in bad:
            fail(lines[i], c, s.iloc[i], f"not a number: {s.iloc[i]!r}")
        out[c] = num.to_numpy(dtype="float64", na_value=np.nan)
    table = pd.DataFrame(out)
    if not keep.all():
        table, lines = table[keep].reset_index(drop=True), lines[keep]
    return table, lines


def _empty_table() -> pd.DataFrame:
    return pd.DataFrame({"date": pd.Series([], dtype="datetime64[ns]"),
                         **{c: pd.Series([], dtype="float64") for c in PRICE_COLUMNS}})


def make_price_frame(
    table: pd.DataFrame,
    *,
    symbol: str,
    source: str,
    file: str | None = None,
    rows: np.ndarray | None = None,
    start: Any = None,
    end: Any = None,
    warn: bool = True,
) -> pd.DataFrame:
    """Validate parsed bars and return a price frame (the architecture's contract).

    Parameters
    ----------
    table : DataFrame
        Output of :func:`parse_raw_table` (``date`` column + price columns, file order).
    symbol, source : str
        Recorded in ``attrs`` (``symbol``, ``source``).
    file : str, optional
        Named in validation problems and in ``attrs["file"]``.
    rows : ndarray, optional
        Row numbers for problems (default 1, 2, ...).
    start, end : date-like, optional
        Keep only this range (inclusive), after validation.
    warn : bool
        Issue the :class:`DataQualityWarning` (it is recorded in ``attrs`` either way).

    Returns
    -------
    DataFrame
        Index ``date`` (tz-naive, unique, increasing), float columns :data:`PRICE_COLUMNS`.
        ``attrs``: ``symbol``, ``source``, ``file``, ``adj_close_fallback`` (bool) and
        ``quality`` (list of notes shown in reports).

    Raises
    ------
    ValidationError
        The bars broke the schema (every problem listed).
    """
    dates = pd.DatetimeIndex(table["date"]).as_unit("ns")
    arrays = {c: table[c].to_numpy(dtype="float64", na_value=np.nan) for c in PRICE_COLUMNS}
    return price_frame_from_arrays(dates, arrays, symbol=symbol, source=source, file=file, rows=rows,
                                   start=start, end=end, warn=warn)


def price_frame_from_arrays(
    dates: pd.DatetimeIndex,
    arrays: dict[str, np.ndarray],
    *,
    symbol: str,
    source: str,
    file: str | None = None,
    rows: np.ndarray | None = None,
    start: Any = None,
    end: Any = None,
    warn: bool = True,
) -> pd.DataFrame:
    """:func:`make_price_frame` on numpy arrays (the fast path every source uses).

    ``dates`` is a datetime64[ns] index in file order; ``arrays`` maps each of
    :data:`PRICE_COLUMNS` to a float64 array of the same length.
    """
    from screener.prices.schema import validate_arrays

    validate_arrays(dates, arrays, symbol=symbol, file=file, rows=rows)
    quality: list[str] = []
    fallback = False
    adj = arrays["adj_close"]
    close = arrays["close"]
    adj_missing = np.isnan(adj)
    if len(adj) and adj_missing.all() and not np.isnan(close).all():
        fallback = True
        arrays = dict(arrays, adj_close=close.copy())
        quality.append(f"{symbol}: no adjusted close in {file or source}; close used instead "
                       "(returns are not dividend-adjusted)")
    else:
        n_gap = int((adj_missing & ~np.isnan(close)).sum())
        if n_gap:
            quality.append(f"{symbol}: adjusted close missing on {n_gap} row(s) that have a close; "
                           "those rows are gaps in the returns (bases are not mixed)")
    if start is not None or end is not None:
        keep = np.ones(len(dates), dtype=bool)
        if start is not None:
            keep &= dates.asi8 >= pd.Timestamp(start).as_unit("ns").value
        if end is not None:
            keep &= dates.asi8 <= pd.Timestamp(end).as_unit("ns").value
        if not keep.all():
            dates = dates[keep]
            arrays = {c: a[keep] for c, a in arrays.items()}
    index = pd.DatetimeIndex(dates, name="date")
    # one float block (a copy: arrays may be read-only views of pyarrow buffers)
    block = np.column_stack([arrays[c] for c in PRICE_COLUMNS]) if len(index) else np.empty((0, len(PRICE_COLUMNS)))
    frame = pd.DataFrame(block, index=index, columns=list(PRICE_COLUMNS))
    frame.attrs = {
        "symbol": symbol,
        "source": source,
        "file": file,
        "adj_close_fallback": fallback,
        "quality": quality,
    }
    if warn:
        for q in quality:
            warnings.warn(q, DataQualityWarning, stacklevel=3)
    return frame


class PriceSource(ABC):
    """Where price frames come from.

    Subclasses implement :meth:`load`; :meth:`load_many` loops over it unless a source can
    batch (Yahoo). ``name`` is recorded as each frame's provenance (``attrs["source"]``).
    """

    name: str = "prices"

    @abstractmethod
    def load(self, symbol: str, start: Any = None, end: Any = None) -> pd.DataFrame:
        """One symbol's price frame between ``start`` and ``end`` (inclusive dates).

        Raises
        ------
        InputError
            Invalid symbol or malformed data.
        DataUnavailableError
            The source does not have the symbol.
        """

    def load_many(
        self,
        symbols: Iterable[str],
        start: Any = None,
        end: Any = None,
        *,
        progress: bool | None = None,
        errors: str = "raise",
    ) -> dict[str, pd.DataFrame]:
        """Price frames of many symbols, keyed by symbol (input order).

        Parameters
        ----------
        progress : bool, optional
            Show a progress bar (sources that download); ignored by local sources.
        errors : {"raise", "skip"}
            On a symbol the source does not have: raise one :class:`DataUnavailableError`
            naming every missing symbol (after trying all), or leave it out.

        Examples
        --------
        >>> from screener.prices import SnapshotSource
        >>> source = SnapshotSource()
        >>> frames = source.load_many(["ASML.AS", "ASML", "IFX.DE"], start="2025-09-01", errors="skip")
        >>> list(frames)                         # IFX.DE is not in the snapshot: left out
        ['ASML.AS', 'ASML']
        >>> source.load_many(["ASML", "IFX.DE"])
        Traceback (most recent call last):
        ...
        screener.errors.DataUnavailableError: ...IFX.DE...
        """
        if errors not in ("raise", "skip"):
            raise InputError(f"errors must be 'raise' or 'skip', not {errors!r}")
        out: dict[str, pd.DataFrame] = {}
        missing: list[str] = []
        messages: list[str] = []
        for s in dict.fromkeys(symbols):
            try:
                out[s] = self.load(s, start, end)
            except DataUnavailableError as exc:
                missing.append(s)
                messages.append(str(exc))
        if missing and errors == "raise":
            if len(missing) == 1:
                raise DataUnavailableError(messages[0])
            raise DataUnavailableError(
                f"{self.name}: no price data for {len(missing)} symbols: {', '.join(missing)} ({messages[0]}; ...)"
            )
        return out

    def __repr__(self) -> str:
        return f"{type(self).__name__}(name={self.name!r})"
