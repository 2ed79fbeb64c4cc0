"""Prices from a local folder: one CSV or Parquet file per Yahoo symbol."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from screener.errors import DataUnavailableError, InputError, Problem, ValidationError
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

__all__ = ["LocalDirectorySource", "read_price_file", "validate_price_file", "PRICE_FILE_SUFFIXES"]

#: File suffixes of price files (one file per Yahoo symbol).
PRICE_FILE_SUFFIXES: tuple[str, ...] = (".csv", ".parquet")


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
    except UnicodeDecodeError:
        raise InputError(f"{path}, {_first_undecodable(Path(path))}: not UTF-8; save it as UTF-8") from None
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


def _decode_csv(path: Path, problems: list[Problem]) -> str | None:
    """The text of a CSV file (a UTF-8 byte-order mark is dropped), or ``None`` after
    appending the problem that stops it being read."""
    name = str(path)
    data = path.read_bytes()
    if not data.strip():
        problems.append(Problem(name, None, None, None,
                                "file is empty (expected a header date,open,high,low,close,adj_close,volume)"))
        return None
    if data.startswith((b"\xff\xfe", b"\xfe\xff")) or (len(data) > 1 and (data[0] == 0 or data[1] == 0)):
        problems.append(Problem(name, None, None, None, "not UTF-8: the file looks like UTF-16; save it as UTF-8"))
        return None
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        byte = data[exc.start : exc.start + 1]
        problems.append(Problem(name, line, None, None,
                                f"not UTF-8: byte 0x{byte.hex()} at offset {exc.start} cannot be decoded "
                                "(the file may be Latin-1 or Windows-1252); save it as UTF-8"))
        return None


def validate_price_file(path: str | Path, symbol: str | None = None) -> tuple[int, list[Problem]]:
    """Check one CSV or Parquet price file and list every problem (``semiscreen validate``).

    Unlike :func:`read_price_file`, which stops at the first malformed cell, this collects
    everything: undecodable bytes, rows with the wrong number of fields, cells that are not a
    date or a number, then the price schema (duplicate or decreasing dates, non-positive
    prices, high below low, negative volume), each naming the file, line (a CSV file, header =
    line 1) or data row (a Parquet file), column, symbol and date.

    Parameters
    ----------
    path : str or Path
        ``<symbol>.csv`` (header ``date,open,high,low,close,adj_close,volume``; ``date`` and
        ``close`` required) or ``<symbol>.parquet``.
    symbol : str, optional
        Named in the problems (default: the file name without its suffix).

    Returns
    -------
    rows : int
        Data rows read.
    problems : list of Problem
        Empty when the file is valid.

    Examples
    --------
    >>> import pathlib, tempfile
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> bad = folder / "NVDA.csv"
    >>> _ = bad.write_text("date,open,high,low,close,adj_close,volume\\n"
    ...                    "2025-06-02,1,2,1,1.5,1.5,100\\n"
    ...                    "2025-06-02,1,2,1,1.5,1.5,100\\n"
    ...                    "2025-06-04,1,2,1,abc,1.5,100\\n", encoding="utf-8")
    >>> rows, problems = validate_price_file(bad)
    >>> for p in problems:
    ...     print(str(p).replace(str(folder), "<tmp>"))
    <tmp>/NVDA.csv, row 2, column 'date': NVDA on 2025-06-02: duplicate date (also on row 3) (value '2025-06-02')
    <tmp>/NVDA.csv, row 3, column 'date': NVDA on 2025-06-02: duplicate date (also on row 2) (value '2025-06-02')
    <tmp>/NVDA.csv, row 4, column 'close': not a number: 'abc' (value 'abc')
    >>> bad.unlink(); folder.rmdir()
    """
    import csv
    import io

    path = Path(path)
    name = str(path)
    symbol = symbol or (path.name[: -len(path.suffix)] if path.suffix else path.name)
    problems: list[Problem] = []
    if not path.is_file():
        return 0, [Problem(name, None, None, None, "file not found" if not path.exists() else "not a file")]
    if path.suffix.lower() == ".parquet":
        try:
            raw = pd.read_parquet(path)
        except Exception as exc:  # pyarrow raises several types for a broken file
            return 0, [Problem(name, None, None, None, f"not a readable Parquet file ({exc})")]
        if "date" not in [str(c).lower() for c in raw.columns] and raw.index.name == "date":
            raw = raw.reset_index()
        table, lines = parse_raw_table(raw, file=name, first_line=1, unit="row", problems=problems)
    else:
        text = _decode_csv(path, problems)
        if text is None:
            return 0, problems
        reader = csv.reader(io.StringIO(text, newline=""))
        try:
            header = [h.strip() for h in next(reader)]
        except (csv.Error, StopIteration) as exc:
            return 0, [Problem(name, 1, None, None, f"cannot parse the header: {exc}")]
        names = [" ".join(h.lower().split()).replace(" ", "_") for h in header]
        if "date" not in names or "close" not in names:  # the header is wrong: the rows say nothing more
            parse_raw_table(pd.DataFrame(columns=header), file=name, unit="line", problems=problems)
            return 0, problems
        records: list[list[str | None]] = []
        numbers: list[int] = []
        last = reader.line_num
        try:
            for record in reader:
                start, last = last + 1, reader.line_num
                if not record or all(not cell.strip() for cell in record):
                    continue
                if len(record) != len(header):
                    problems.append(Problem(name, start, None, None,
                                            f"row has {len(record)} fields, the header has {len(header)} "
                                            f"({','.join(header)})"))
                    continue
                records.append([cell if cell.strip() else None for cell in record])
                numbers.append(start)
        except csv.Error as exc:
            problems.append(Problem(name, last + 1, None, None, f"malformed CSV: {exc}"))
        raw = pd.DataFrame(records, columns=header, dtype=object) if records else pd.DataFrame(columns=header)
        table, lines = parse_raw_table(raw, file=name, unit="line", lines=np.asarray(numbers, dtype="int64"),
                                       problems=problems)
    n_rows = len(table)
    if not n_rows and not problems:
        problems.append(Problem(name, None, None, None, "has a header but no data rows"))
    if n_rows:
        from screener.prices.schema import validate_price_frame

        try:
            validate_price_frame(table, symbol=symbol, file=name, rows=lines)
        except ValidationError as exc:
            problems += exc.problems
    problems.sort(key=lambda p: (p.row is not None, p.row or 0))
    return n_rows, problems


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


def _first_undecodable(path: Path) -> str:
    """Where a file stops being UTF-8: ``"line N (byte 0xXX)"`` (the line counted from 1)."""
    data = path.read_bytes()
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        return f"line {line} (byte 0x{data[exc.start]:02x})"
    return "somewhere"
