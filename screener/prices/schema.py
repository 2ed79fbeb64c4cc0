"""The price-frame contract as a pandera schema, validated lazily.

A price frame (docs/architecture.md, "Prices") is one symbol's daily bars. The schema checks:
unique, increasing dates; positive prices; ``high >= low`` where both are present;
non-negative volume; and, for a long frame of many symbols, no duplicate (symbol, date).
:func:`validate_price_frame` runs every check at once and raises one
:class:`~screener.errors.ValidationError` whose problems name the file, row, symbol and date.
"""

from __future__ import annotations

import functools
from typing import Any

import numpy as np
import pandas as pd

from screener.errors import Problem, ValidationError

__all__ = ["PRICE_COLUMNS", "price_frame_schema", "validate_price_frame", "validate_arrays"]

#: Float columns of a price frame, in order.
PRICE_COLUMNS: tuple[str, ...] = ("open", "high", "low", "close", "adj_close", "volume")

_POSITIVE = ("open", "high", "low", "close", "adj_close")


def _increasing(dates: pd.Series) -> pd.Series:
    diff = dates.diff()
    return diff.isna() | (diff >= pd.Timedelta(0))


@functools.lru_cache(maxsize=2)
def price_frame_schema(long: bool = False):
    """The pandera schema of a price frame with a ``date`` column (and ``symbol`` if ``long``).

    Parameters
    ----------
    long : bool
        A long frame of many symbols (``symbol`` column; (symbol, date) unique) instead of one
        symbol's frame (dates unique and increasing).
    """
    import pandera.pandas as pa

    columns: dict[str, Any] = {
        "date": pa.Column(
            "datetime64[ns]",
            nullable=False,
            unique=not long,
            checks=[] if long else [pa.Check(_increasing, error="dates must increase")],
        ),
    }
    finite = pa.Check(lambda s: ~np.isinf(s), error="must be finite (not inf)")
    for name in _POSITIVE:
        columns[name] = pa.Column(float, [pa.Check.gt(0, error="price must be positive"), finite], nullable=True)
    columns["volume"] = pa.Column(float, [pa.Check.ge(0, error="volume must not be negative"), finite],
                                  nullable=True)
    if long:
        columns["symbol"] = pa.Column(str, nullable=False)
    return pa.DataFrameSchema(
        columns,
        checks=[pa.Check(lambda df: ~(df["high"] < df["low"]), error="high is below low")],
        unique=["symbol", "date"] if long else None,
        strict=False,
        ordered=False,
    )


def _arrays_ok(dates_ns: np.ndarray, arrays: dict[str, np.ndarray]) -> bool:
    """A numpy pre-check equivalent to the schema for the happy path (pandera is the judge)."""
    if len(dates_ns) > 1 and not (np.diff(dates_ns) > 0).all():
        return False
    if len(dates_ns) and (dates_ns == np.iinfo("int64").min).any():  # NaT
        return False
    with np.errstate(invalid="ignore"):
        for name in _POSITIVE:
            if (arrays[name] <= 0).any() or np.isinf(arrays[name]).any():
                return False
        if (arrays["volume"] < 0).any() or np.isinf(arrays["volume"]).any():
            return False
        return not (arrays["high"] < arrays["low"]).any()


def validate_arrays(
    dates: pd.DatetimeIndex,
    arrays: dict[str, np.ndarray],
    *,
    symbol: str,
    file: str | None = None,
    rows: np.ndarray | None = None,
) -> None:
    """:func:`validate_price_frame` on arrays: a fast numpy check, pandera when it fails."""
    if _arrays_ok(dates.asi8, arrays):
        return
    frame = pd.DataFrame({"date": dates, **{c: arrays[c] for c in PRICE_COLUMNS}})
    _run_pandera(frame, symbol, file, rows)


def validate_price_frame(
    frame: pd.DataFrame,
    *,
    symbol: str,
    file: str | None = None,
    rows: np.ndarray | None = None,
) -> None:
    """Validate one symbol's bars (a frame with a ``date`` column and the price columns).

    Parameters
    ----------
    frame : DataFrame
        Columns ``date`` (datetime64[ns]) and :data:`PRICE_COLUMNS` (float), in file order.
    symbol : str
        Named in every problem.
    file : str, optional
        Where the data came from (named in every problem; default ``<symbol>``).
    rows : ndarray of int, optional
        The row number (e.g. the line in a CSV) of each frame row; default 1, 2, ...

    Raises
    ------
    ValidationError
        Every failed check at once, each naming the file, row, column, symbol and date.
    """
    frame = frame.reset_index(drop=True)
    dates = pd.DatetimeIndex(frame["date"]).as_unit("ns")
    arrays = {c: frame[c].to_numpy(dtype="float64", na_value=np.nan) for c in PRICE_COLUMNS}
    if _arrays_ok(dates.asi8, arrays):
        return
    _run_pandera(frame, symbol, file, rows)


def _run_pandera(frame: pd.DataFrame, symbol: str, file: str | None, rows) -> None:
    import pandera.errors as pae

    try:
        price_frame_schema(False).validate(frame, lazy=True)
    except pae.SchemaErrors as exc:
        raise ValidationError(_problems(exc.failure_cases, frame, symbol, file, rows)) from None
    # pandera found nothing the quick check disliked (e.g. NaT handled by pandera): accept


def _problems(fc: pd.DataFrame, frame: pd.DataFrame, symbol: str, file: str | None, rows) -> list[Problem]:
    where = file or f"<{symbol}>"
    problems: list[Problem] = []
    seen: set[tuple] = set()
    for rec in fc.to_dict("records"):
        idx = rec.get("index")
        pos = None if idx is None or (isinstance(idx, float) and np.isnan(idx)) else int(idx)
        column = rec.get("column")
        check = str(rec.get("check"))
        if column == frame.columns.name or column is None or (isinstance(column, float)):
            column = None
        if check.startswith("field_uniqueness") or check == "field_uniqueness":
            message = "duplicate date"
            if pos is not None and column == "date":
                same = np.flatnonzero(frame["date"].to_numpy() == frame["date"].iloc[pos])
                others = [int(rows[j]) if rows is not None else int(j) + 1 for j in same if j != pos]
                if others:
                    message += f" (also on row{'s' if len(others) > 1 else ''} {', '.join(map(str, others))})"
        elif "high is below low" in check or column in ("high", "low") and "below" in check:
            # a frame-wide check: pandera reports every column of the row; name the pair once
            message = "high is below low"
            if pos is not None:
                column = "high"
                rec = dict(rec, failure_case=f"high {float(frame['high'].iloc[pos])} < low {float(frame['low'].iloc[pos])}")
        elif check == "not_nullable":
            message = f"missing {column or 'value'}"
        else:
            message = check
        date = None if pos is None else frame["date"].iloc[pos]
        row = None if pos is None else (int(rows[pos]) if rows is not None else pos + 1)
        key = (row, column, message)
        if key in seen:
            continue
        seen.add(key)
        when = "" if date is None or pd.isna(date) else f" on {pd.Timestamp(date).date()}"
        value = rec.get("failure_case")
        if column == "date" or column is None:
            value = None if date is None or pd.isna(date) else str(pd.Timestamp(date).date())
        problems.append(Problem(where, row, column, value, f"{symbol}{when}: {message}"))
    problems.sort(key=lambda p: (p.row if p.row is not None else -1, p.column or ""))
    return problems
