"""Prices from a local folder: one CSV or Parquet file per Yahoo symbol."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from screener.errors import DataUnavailableError, InputError
from screener.prices.base import (
    PRICE_COLUMNS,
    PriceSource,
    check_symbol,
    make_price_frame,
    parse_raw_table,
    price_frame_from_arrays,
)

_NS_PER_DAY = 86_400_000_000_000


def _fast_csv(path: Path):
    """Read a well-formed price CSV with pyarrow; None if anything is unusual (the careful
    pandas path then finds and reports the exact line)."""
    import pyarrow as pa
    import pyarrow.csv as pc

    types = {"date": pa.date32(), **{c: pa.float64() for c in PRICE_COLUMNS}}
    try:
        table = pc.read_csv(
            path,
            read_options=pc.ReadOptions(use_threads=False),
            parse_options=pc.ParseOptions(ignore_empty_lines=False),
            convert_options=pc.ConvertOptions(column_types=types, strings_can_be_null=True),
        )
    except (pa.ArrowInvalid, pa.ArrowTypeError, UnicodeDecodeError, OSError):
        return None
    names = table.column_names
    if len(set(names)) != len(names):
        return None  # a repeated column: the careful path names it
    if "date" not in names or "close" not in names or not set(names) <= set(types):
        return None
    date_col = table.column("date")
    if date_col.null_count:
        return None
    dates = pd.DatetimeIndex((date_col.cast(pa.int32()).to_numpy().astype("int64") * _NS_PER_DAY).view("datetime64[ns]"))
    n = table.num_rows
    arrays = {}
    for c in PRICE_COLUMNS:
        if c in names:
            arrays[c] = np.array(table.column(c).to_numpy(zero_copy_only=False), dtype="float64")
        else:
            arrays[c] = np.full(n, np.nan)
    return dates, arrays

__all__ = ["LocalDirectorySource", "read_price_file"]


def _check_csv_rows(path: Path) -> None:
    """Raise InputError on the first row whose number of fields differs from the header's
    (pandas would pad a short row with NaN, or shift a long one into the index)."""
    import csv

    try:
        with open(path, newline="", encoding="utf-8-sig") as fh:
            reader = csv.reader(fh)
            header = next(reader, None)
            if header is None:
                return
            names = [h.strip().lower() for h in header]
            dup = next((h for h in names if names.count(h) > 1), None)
            if dup is not None:  # pandas would rename the second one "date.1" and read on
                raise InputError(f"{path}: column {dup!r} appears more than once in the header "
                                 f"({','.join(names)})")
            for record in reader:
                if record and any(cell.strip() for cell in record) and len(record) != len(header):
                    raise InputError(
                        f"{path}, line {reader.line_num}: {len(record)} fields, the header has {len(header)} "
                        f"({','.join(h.strip() for h in header)})"
                    )
    except UnicodeDecodeError as exc:
        raise InputError(f"{path}: not a UTF-8 CSV file ({exc}); save it as UTF-8") from None
    except csv.Error as exc:
        raise InputError(f"{path}: not a readable CSV file ({exc})") from None


def read_price_file(path: Path, symbol: str, *, source: str = "local", start: Any = None, end: Any = None,
                    warn: bool = True) -> pd.DataFrame:
    """Read one CSV/Parquet price file into a validated price frame.

    Parameters
    ----------
    path : Path
        ``<symbol>.csv`` or ``<symbol>.parquet`` with columns
        ``date,open,high,low,close,adj_close,volume`` (``date`` and ``close`` required).

    Raises
    ------
    InputError
        Malformed row (file, line, column, value; a row with too few or too many fields), a
        missing or repeated column, not UTF-8. A CSV file's rows are named by their line
        (header = line 1); a Parquet file's by ``row N``, the data row counted from 1.
    DataUnavailableError
        The file has a header and no data rows.
    ValidationError
        Schema failures (duplicate date, negative price, ...), all listed.
    """
    if path.suffix.lower() != ".parquet":
        fast = _fast_csv(path)
        if fast is not None:
            dates, arrays = fast
            if not len(dates):
                raise DataUnavailableError(f"{path}: no data rows, only a header")
            return price_frame_from_arrays(dates, arrays, symbol=symbol, source=source, file=str(path),
                                           rows=np.arange(2, 2 + len(dates)), start=start, end=end, warn=warn)
    if path.suffix.lower() == ".parquet":
        try:
            raw = pd.read_parquet(path)
        except Exception as exc:  # pyarrow raises several types for a broken file
            raise InputError(f"{path}: not a readable Parquet file ({exc})") from None
        if "date" not in [str(c).lower() for c in raw.columns] and raw.index.name == "date":
            raw = raw.reset_index()
        first_line, unit = 1, "row"  # data rows, 1-based: a Parquet file has no lines
    else:
        _check_csv_rows(path)
        try:
            raw = pd.read_csv(path, dtype={"date": "string"}, skip_blank_lines=False)
        except (pd.errors.ParserError, UnicodeDecodeError) as exc:
            raise InputError(f"{path}: not a readable CSV file ({exc})") from None
        except pd.errors.EmptyDataError:
            raise InputError(f"{path}: empty file (expected a header date,open,high,low,close,adj_close,volume)") from None
        first_line, unit = 2, "line"
    table, lines = parse_raw_table(raw, file=str(path), first_line=first_line, unit=unit)
    if not len(table):
        raise DataUnavailableError(f"{path}: no data rows, only a header")
    return make_price_frame(table, symbol=symbol, source=source, file=str(path), rows=lines,
                            start=start, end=end, warn=warn)


class LocalDirectorySource(PriceSource):
    """Prices read from ``path/<symbol>.csv`` (or ``.parquet``), e.g. /work/shared/data/prices.

    Parameters
    ----------
    path : str or Path
        The folder. File names are the Yahoo symbol (``^GSPC.csv``, ``0981.HK.csv``).

    Notes
    -----
    A file without adjusted closes falls back to the close, with a
    :class:`~screener.errors.DataQualityWarning` that is also recorded in the frame's
    ``attrs["quality"]`` (``attrs["adj_close_fallback"]`` is True).
    """

    def __init__(self, path: str | Path):
        self.path = Path(path)
        if not self.path.is_dir():
            raise DataUnavailableError(f"price folder {self.path} does not exist or is not a folder")
        self.name = f"local:{self.path}"

    def file_for(self, symbol: str) -> Path:
        """The file holding ``symbol``'s prices.

        Raises
        ------
        DataUnavailableError
            Neither ``<symbol>.csv`` nor ``<symbol>.parquet`` exists.
        """
        check_symbol(symbol)
        for ext in (".csv", ".parquet"):
            p = self.path / f"{symbol}{ext}"
            if p.is_file():
                return p
        raise DataUnavailableError(
            f"no price file for {symbol!r} in {self.path} (looked for {symbol}.csv and {symbol}.parquet)"
        )

    def symbols(self) -> list[str]:
        """Every symbol with a file in the folder, sorted."""
        names = {p.stem for p in self.path.iterdir() if p.suffix.lower() in (".csv", ".parquet")}
        return sorted(n for n in names if not n.startswith("."))

    def load(self, symbol: str, start: Any = None, end: Any = None) -> pd.DataFrame:
        return read_price_file(self.file_for(symbol), symbol, source=self.name, start=start, end=end)
