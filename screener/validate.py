"""Reading and validating the seed datasets, alone and against each other.

Two layers, after pandera (schemas declared apart from validation, every failure collected
before anything is raised):

1. **One dataset**: :func:`read_dataset` reads a CSV file strictly (UTF-8, a byte-order mark
   such as Excel's "CSV UTF-8" writes is allowed; comma separated; a header row), parses every cell into its type (dates, ``;``-separated lists,
   integers) and validates the typed frame against the dataset's pandera ``DataFrameModel``
   with ``lazy=True``. Every reading, parsing and schema failure becomes a
   :class:`~screener.errors.Problem` whose ``row`` is the line of the CSV file (header = 1).
   The loaders (:func:`events.load_catalog`, :func:`screener.load_universe`, ...) raise a
   :class:`~screener.errors.ValidationError` holding all of them.
2. **Across datasets**: :func:`validate_seeds` checks the references between the datasets
   (every event security is in the universe, every theme exists, every document is listed and
   has the right sha256, every benchmark has prices in the snapshot, every announcement maps
   to a session on each linked security's exchange, ...) and returns a
   :class:`ValidationReport`.

``validate_seeds`` also checks a researcher's own files (e.g. ``my_events.csv`` and
``my_event_securities.csv``) against the project's universe and themes: the dataset of each
file is recognised by its header (or, failing that, its file name). When a check needs a
reference dataset that cannot be found (no universe to check the symbols against), that is a
problem, not a pass. Price files (one CSV or Parquet file per symbol, and folders of them)
are recognised too and checked against the price schema
(:func:`screener.prices.local.validate_price_file`).
"""

from __future__ import annotations

import csv
import io
import json
import os
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from screener.errors import DataUnavailableError, InputError, Problem, ValidationError
from screener.files import sha256_file as _sha256

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

__all__ = [
    "DatasetSpec",
    "ValidationReport",
    "DATASET_KINDS",
    "read_dataset",
    "read_header",
    "load_dataset",
    "detect_kind",
    "PRICES",
    "validate_seeds",
    "default_documents_dir",
]

#: The seed datasets, in the order they are read and reported.
DATASET_KINDS: tuple[str, ...] = ("documents", "events", "event_securities", "universe", "themes")
#: The kind :func:`detect_kind` gives a price file (``date,open,high,low,close,adj_close,volume``).
PRICES = "prices"

#: ``event_id`` and ``theme_id`` slugs.
SLUG_PATTERN = r"^[a-z0-9]+(-[a-z0-9]+)*$"
#: A Yahoo symbol: ``NVDA``, ``000688.SS``, ``^GSPC``, ``BRK-B``.
SYMBOL_PATTERN = r"^\^?[A-Z0-9][A-Z0-9.\-=]*$"
#: A plain file name (no folder).
FILE_NAME_PATTERN = r"^[^/\\]+$"

_DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_TIMESTAMP_RE = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$")
_INT_RE = re.compile(r"^[+-]?\d+$")


# --------------------------------------------------------------------------------------------
# Dataset specifications
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class DatasetSpec:
    """How one dataset is read: its file name, pandera model and cell parsers.

    Parameters
    ----------
    kind : str
        Dataset name (``"events"``, ``"universe"``...).
    filename : str
        Its file name in ``seeds/``.
    model : type
        The pandera ``DataFrameModel`` the typed frame must satisfy (column set and order
        included).
    parsers : dict of str to str
        Cell parser per column: ``"str"`` (required text), ``"optional_str"`` (blank → missing),
        ``"date"`` / ``"optional_date"`` (``YYYY-MM-DD``), ``"announced_at"`` (date or timestamp
        with UTC offset), ``"int"``, ``"list"`` (``;``-separated, blank → empty list).
    hints : dict of str to str, optional
        What to write in a column, added to the message when a cell is blank or malformed
        (e.g. ``document``: the source document's file name).
    """

    kind: str
    filename: str
    model: type
    parsers: dict[str, str]
    hints: Mapping[str, str] = field(default_factory=dict, compare=False)

    @property
    def columns(self) -> list[str]:
        """The dataset's columns, in file order."""
        return list(self.parsers)


def _specs() -> dict[str, DatasetSpec]:
    # Imported here: the dataset modules import this one.
    from events import catalog
    from screener import themes, universe

    return {
        "documents": catalog.DOCUMENTS_SPEC,
        "events": catalog.EVENTS_SPEC,
        "event_securities": catalog.EVENT_SECURITIES_SPEC,
        "universe": universe.UNIVERSE_SPEC,
        "themes": themes.THEMES_SPEC,
    }


# --------------------------------------------------------------------------------------------
# Reading one file
# --------------------------------------------------------------------------------------------


def _read_text(path: Path) -> tuple[str | None, list[Problem]]:
    """The file's text, or the problems that stop it being read."""
    name = str(path)
    if not path.exists():
        return None, [Problem(name, None, None, None, "file not found")]
    if path.is_dir():
        return None, [Problem(name, None, None, None, "is a folder, expected a CSV file")]
    data = path.read_bytes()
    if not data.strip():
        return None, [Problem(name, None, None, None, "file is empty (expected a header row and data rows)")]
    if data.startswith((b"\xff\xfe", b"\xfe\xff")) or (len(data) > 1 and (data[0] == 0 or data[1] == 0)):
        return None, [Problem(name, None, None, None,
                              "not UTF-8: the file looks like UTF-16; save it as UTF-8")]
    problems: list[Problem] = []
    if data.startswith(b"\xef\xbb\xbf"):  # Excel's "CSV UTF-8": the mark is not part of the header
        data = data[3:]
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        byte = data[exc.start : exc.start + 1]
        return None, problems + [Problem(
            name, line, None, None,
            f"not UTF-8: byte 0x{byte.hex()} at offset {exc.start} cannot be decoded "
            "(the file may be Latin-1 or Windows-1252); save it as UTF-8",
        )]
    return text, problems


def read_header(path: str | os.PathLike[str]) -> list[str] | None:
    """The column names of a CSV file's first row, or ``None`` when it cannot be read."""
    text, _ = _read_text(Path(path))
    if text is None:
        return None
    first = next(csv.reader(io.StringIO(text)), None)
    return None if first is None else [c.strip() for c in first]


_OUT_OF_RANGE = "year out of range: dates must lie between 1678 and 2261"


def _timestamp_in_range(text: str) -> Any:
    """``pd.Timestamp(text)``; OverflowError when it cannot be held in nanoseconds (9999-12-31),
    which later steps (datetime64[ns] columns, calendars) need."""
    import pandas as pd

    ts = pd.Timestamp(text)
    try:
        ts.as_unit("ns")
    except (ValueError, OverflowError):
        raise OverflowError(text) from None
    return ts


def _parse_cell(kind: str, raw: str) -> tuple[Any, str | None]:
    """Parse one cell; return ``(value, error message or None)``."""
    import pandas as pd

    text = raw.strip()
    if kind == "str":
        return (raw if text else None), None
    if kind == "optional_str":
        return (raw if text else None), None
    if kind == "list":
        return [item.strip() for item in raw.split(";") if item.strip()], None
    if kind in ("date", "optional_date"):
        if not text:
            return None, None
        if not _DATE_RE.match(text):
            return None, "not a date: expected YYYY-MM-DD"
        try:
            return _timestamp_in_range(text), None
        except OverflowError:
            return None, _OUT_OF_RANGE
        except ValueError:
            return None, "not a valid calendar date"
    if kind == "announced_at":
        if not text:
            return None, None
        if _DATE_RE.match(text):
            try:
                return _timestamp_in_range(text), None
            except OverflowError:
                return None, _OUT_OF_RANGE
            except ValueError:
                return None, "not a valid calendar date"
        if _TIMESTAMP_RE.match(text):
            try:
                return _timestamp_in_range(text), None
            except OverflowError:
                return None, _OUT_OF_RANGE
            except ValueError:
                return None, "not a valid timestamp"
        if re.match(r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}", text):
            return None, "timestamp without a UTC offset: write e.g. 2025-03-14T09:30:00+08:00"
        return None, "not a date or timestamp: expected YYYY-MM-DD or YYYY-MM-DDTHH:MM[:SS]+HH:MM"
    if kind == "int":
        if not text:
            return None, None
        if not _INT_RE.match(text):
            return None, "not an integer"
        return int(text), None
    raise ValueError(f"unknown cell parser {kind!r}")  # pragma: no cover - programming error


def _column_series(kind: str, values: list[Any], index: list[int]) -> "pd.Series":
    import pandas as pd

    if kind in ("date", "optional_date"):
        dates = pd.to_datetime(pd.Series(values, dtype=object)).astype("datetime64[ns]")
        return pd.Series(dates.to_numpy(), index=index)
    if kind == "int":
        s = pd.Series(values, index=index, dtype=object)
        return s.astype("int64") if s.notna().all() else s.astype("Float64")
    if kind in ("list", "announced_at"):
        return pd.Series(values, index=index, dtype=object)
    return pd.Series(values, index=index, dtype="str")


def read_dataset(path: str | os.PathLike[str], spec: DatasetSpec) -> tuple["pd.DataFrame | None", list[Problem]]:
    """Read and validate one dataset file.

    Parameters
    ----------
    path : path-like
        The CSV file.
    spec : DatasetSpec
        The dataset's specification.

    Returns
    -------
    frame : DataFrame or None
        The typed frame, indexed by CSV line number (index name ``line``); ``None`` when the
        file could not be read at all. Cells that failed to parse are missing.
    problems : list of Problem
        Every reading, parsing and schema failure (empty when the file is valid). A file with
        a header and no data rows is a problem too ("has a header but no rows").
    """
    import pandas as pd

    path = Path(path)
    name = str(path)
    text, problems = _read_text(path)
    if text is None:
        return None, problems

    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = next(reader)
    except csv.Error as exc:
        return None, problems + [Problem(name, 1, None, None, f"cannot parse the header: {exc}")]
    header = [h.strip() for h in header]
    if len(header) == 1 and len(spec.columns) > 1:
        sep = next((s for s in (";", "\t", "|") if s in header[0]), None)
        hint = f": it seems to use {sep!r} as delimiter; use commas" if sep else ""
        problems.append(Problem(name, 1, None, header[0],
                                f"the header has a single column, expected the comma-separated columns "
                                f"{', '.join(spec.columns)}{hint}"))
        return None, problems
    known = [c for c in header if c in spec.parsers]
    dup_cols = sorted({c for c in header if header.count(c) > 1})
    for c in dup_cols:
        problems.append(Problem(name, 1, c, None, "column appears more than once in the header"))

    rows: list[list[str]] = []
    lines: list[int] = []
    n_records = 0  # non-blank records after the header, well-formed or not
    last_line = reader.line_num
    try:
        for record in reader:
            start = last_line + 1
            last_line = reader.line_num
            if not record or all(not cell.strip() for cell in record):
                continue
            n_records += 1
            if len(record) != len(header):
                problems.append(Problem(name, start, None, None,
                                        f"row has {len(record)} fields, the header has {len(header)}"))
                continue
            rows.append(record)
            lines.append(start)
    except csv.Error as exc:
        problems.append(Problem(name, last_line + 1, None, None, f"malformed CSV: {exc}"))
        n_records += 1
    if not n_records:
        # A header alone is not a dataset: an empty events file would "validate" and then
        # study nothing; an empty universe would make every reference fail elsewhere.
        problems.append(Problem(name, None, None, None,
                                "has a header but no rows: add at least one data row below the header"))

    data: dict[str, Any] = {}
    for col in header:
        if col in dup_cols and col in data:
            continue
        j = header.index(col)
        kind = spec.parsers.get(col, "optional_str")
        values = []
        for record, line in zip(rows, lines):
            value, error = _parse_cell(kind, record[j])
            if error:
                problems.append(Problem(name, line, col, record[j], error))
            values.append(value)
        data[col] = _column_series(kind, values, lines)
    frame = pd.DataFrame(data, index=pd.Index(lines, name="line", dtype="int64"))
    parsed_bad = {(p.row, p.column) for p in problems if p.column}
    problems += [p for p in _schema_problems(frame, spec, name) if (p.row, p.column) not in parsed_bad]
    problems.sort(key=lambda p: p.row or 0)
    if not known:
        return None, problems
    return frame, problems


_CHECK_MESSAGES: dict[str, Callable[[str], str]] = {
    "isin": lambda arg: f"must be one of {arg}",
    "str_matches": lambda arg: f"must match the pattern {arg}",
    "in_range": lambda arg: f"must be in the range {arg}",
    "greater_than_or_equal_to": lambda arg: f"must be >= {arg}",
}


def _check_message(check: str, column: str | None, frame: "pd.DataFrame", row: Any, value: Any,
                   hints: Mapping[str, str] | None = None) -> str:
    """A readable sentence for one pandera failure case (with the column's hint, if any)."""
    hint = (hints or {}).get(column or "")
    if check == "not_nullable":
        return "is required but blank" + (f": {hint}" if hint else "")
    if hint and check.startswith("str_matches("):
        return f"{_CHECK_MESSAGES['str_matches'](check[12:-1])}: {hint}"
    if check == "field_uniqueness" and column in frame.columns:
        same = [int(i) for i, v in frame[column].items() if v == value and i != row]
        return f"duplicate {column}: also on line{'s' if len(same) > 1 else ''} {', '.join(map(str, same))}"
    if check.startswith("dtype("):
        return f"wrong type: expected {check[6:-1]}"
    m = re.match(r"^(\w+)\((.*)\)$", check, flags=re.S)
    if m and m.group(1) in _CHECK_MESSAGES:
        return _CHECK_MESSAGES[m.group(1)](m.group(2))
    return check


def _plain(value: Any) -> Any:
    """A numpy scalar as the Python value (for JSON); missing as ``None``."""
    if hasattr(value, "item") and not isinstance(value, (list, tuple)):
        try:
            value = value.item()
        except (ValueError, AttributeError):
            pass
    if value is None or (isinstance(value, float) and value != value) or type(value).__name__ in ("NAType", "NaTType"):
        return None
    return value


def _schema_problems(frame: "pd.DataFrame", spec: DatasetSpec, name: str) -> list[Problem]:
    """Validate ``frame`` against the spec's pandera model (lazy) and turn failures into problems."""
    import pandera.pandas as pa

    try:
        spec.model.validate(frame, lazy=True)
    except pa.errors.SchemaErrors as exc:
        cases = exc.failure_cases
    else:
        return []
    problems: list[Problem] = []
    pairs_done: set[int] = set()
    order_reported = False
    for case in cases.itertuples(index=False):
        check = str(case.check)
        column = None if case.column is None else str(case.column)
        value = _plain(case.failure_case)
        row = None if case.index is None or case.index != case.index else int(case.index)
        if check.startswith("dtype(") and column in frame.columns and frame[column].isna().any():
            continue  # blank or unparsable cells, reported one by one
        if check == "column_in_schema":
            problems.append(Problem(name, 1, str(value), None,
                                    f"unexpected column; {spec.kind} has exactly the columns {', '.join(spec.columns)}"))
        elif check == "column_in_dataframe":
            problems.append(Problem(name, 1, str(value), None, f"missing column (required by {spec.kind})"))
        elif check == "column_ordered":
            if not order_reported:
                problems.append(Problem(name, 1, None, None,
                                        f"columns out of order: expected {', '.join(spec.columns)}"))
                order_reported = True
        elif check == "multiple_fields_uniqueness":
            if row is None or row in pairs_done:
                continue
            pairs_done.add(row)
            keys = list(spec.model.Config.unique)
            if not all(k in frame.columns for k in keys):
                continue
            key = tuple(frame.loc[row, k] for k in keys)
            same = [int(i) for i, r in frame[keys].iterrows() if tuple(r) == key and i != row]
            problems.append(Problem(name, row, ", ".join(keys), "/".join(map(str, key)),
                                    f"duplicate ({', '.join(keys)}) pair: also on line "
                                    f"{', '.join(map(str, same))}"))
        else:
            problems.append(Problem(name, row, column, value,
                                    _check_message(check, column, frame, row, value, spec.hints)))
    problems.sort(key=lambda p: (p.row is not None, p.row or 0))
    return problems


def load_dataset(path: str | os.PathLike[str], spec: DatasetSpec) -> "pd.DataFrame":
    """Read, parse and validate one dataset; raise if anything is wrong.

    Returns
    -------
    DataFrame
        The typed frame (default ``RangeIndex``).

    Raises
    ------
    ValidationError
        Listing every problem found in the file.
    """
    frame, problems = read_dataset(path, spec)
    if problems or frame is None:
        raise ValidationError(problems or [Problem(str(path), None, None, None, "could not be read")])
    return frame.reset_index(drop=True)


# --------------------------------------------------------------------------------------------
# The report
# --------------------------------------------------------------------------------------------


@dataclass
class ValidationReport:
    """The outcome of :func:`validate_seeds`.

    Attributes
    ----------
    problems : list of Problem
        Every failure found, in file order.
    checked : dict of str to dict
        Per dataset: ``{"file": path, "rows": n}``; for price files (kind ``"prices"``)
        ``{"file": folder, "files": n_files, "rows": n}``.
    notes : list of str
        Checks that were skipped and why (e.g. the source-document folder is absent).
    """

    problems: list[Problem] = field(default_factory=list)
    checked: dict[str, dict[str, Any]] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """``True`` when no problem was found."""
        return not self.problems

    def to_frame(self) -> "pd.DataFrame":
        """The problems as a tidy frame (columns ``file, row, column, value, message``)."""
        import pandas as pd

        records = [p.to_dict() for p in self.problems]
        frame = pd.DataFrame(records, columns=["file", "row", "column", "value", "message"])
        frame["row"] = frame["row"].astype("Int64")
        return frame

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: ``{"ok", "checked", "notes", "problems"}``."""
        return {
            "ok": self.ok,
            "checked": self.checked,
            "notes": list(self.notes),
            "problems": [p.to_dict() for p in self.problems],
        }

    def summary(self) -> str:
        """One line: what was checked and how many problems were found."""
        parts = [f"{kind} ({info['files']} file{'s' if info['files'] != 1 else ''}, {info['rows']} rows)"
                 if "files" in info else f"{kind} ({info['rows']} rows)" for kind, info in self.checked.items()]
        what = ", ".join(parts) if parts else "the files given"
        if self.ok:
            return f"OK: {what} checked, no problems"
        n = len(self.problems)
        return f"FAILED: {n} problem{'s' if n != 1 else ''} in {what}"

    def raise_if_failed(self) -> None:
        """Raise :class:`~screener.errors.ValidationError` listing every problem, if any."""
        if self.problems:
            raise ValidationError(self.problems)

    def __str__(self) -> str:
        lines = [self.summary()]
        lines += [f"  {p}" for p in self.problems]
        lines += [f"  note: {n}" for n in self.notes]
        return "\n".join(lines)

    def __repr__(self) -> str:
        return f"<ValidationReport ok={self.ok} problems={len(self.problems)} datasets={list(self.checked)}>"


# --------------------------------------------------------------------------------------------
# Locating the datasets
# --------------------------------------------------------------------------------------------


def default_documents_dir() -> Path:
    """Where the source documents are: ``$SEMISCREEN_DOCUMENTS`` or ``../shared/seeds``."""
    from screener.paths import project_root

    env = os.environ.get("SEMISCREEN_DOCUMENTS")
    return Path(env) if env else project_root().parent / "shared" / "seeds"


def detect_kind(path: str | os.PathLike[str]) -> str | None:
    """Which dataset a file holds, from its header (or, failing that, its name).

    Returns the kind (one of :data:`DATASET_KINDS`, or :data:`PRICES` for a price file: a
    ``.parquet`` file, or a CSV file whose header is ``date,open,high,low,close,adj_close,volume``
    or a part of it with ``date`` and ``close``), or ``None`` when it cannot tell.

    Examples
    --------
    >>> from screener.paths import seeds_dir
    >>> detect_kind(seeds_dir() / "events.csv"), detect_kind(seeds_dir() / "prices" / "NVDA.parquet")
    ('events', 'prices')
    """
    from screener.prices.base import is_price_header

    if Path(path).suffix.lower() == ".parquet":
        return PRICES
    specs = _specs()
    header = read_header(path)
    if header:
        if is_price_header(header):
            return PRICES
        for kind, spec in specs.items():
            if header == spec.columns:
                return kind
        best, score = None, 0.0
        for kind, spec in specs.items():
            common = len(set(header) & set(spec.columns))
            s = common / len(set(header) | set(spec.columns))
            if s > score:
                best, score = kind, s
        if score >= 0.5:
            return best
    stem = Path(path).name.lower()
    for kind, words in (
        ("event_securities", ("event_securities", "securities", "event-securities")),
        ("events", ("event",)),
        ("universe", ("universe",)),
        ("themes", ("theme",)),
        ("documents", ("document",)),
    ):
        if any(w in stem for w in words):
            return kind
    return None


@dataclass
class _Inputs:
    """What :func:`validate_seeds` checks: dataset files by kind, price files, and why the
    project's reference datasets could not be found (if they could not)."""

    files: dict[str, Path]
    supplied: set[str]
    prices: list[Path] = field(default_factory=list)
    seeds_error: str | None = None


def _price_files_in(folder: Path, notes: list[str], *, skip: set[Path] | frozenset = frozenset()) -> list[Path]:
    """The price files of a folder: every ``.parquet`` file, and every ``.csv`` file that is not
    a seed dataset (a CSV whose header cannot be read is taken as a price file, so that its
    problem is reported). Other CSV files are noted as skipped."""
    from screener.prices.local import PRICE_FILE_SUFFIXES

    found = []
    for p in sorted(folder.iterdir()):
        if p in skip or p.name.startswith(".") or not p.is_file() or p.suffix.lower() not in PRICE_FILE_SUFFIXES:
            continue
        kind = detect_kind(p)
        if kind == PRICES or (kind is None and read_header(p) is None):
            found.append(p)
        else:
            if kind:
                why = f"it holds {kind} rows but is not named {_specs()[kind].filename}"
            else:
                why = "neither a seed dataset nor a price file (header date,open,high,low,close,adj_close,volume)"
            notes.append(f"{p}: skipped: {why}; give it by name to check it")
    return found


def _resolve_paths(paths: Sequence[str | os.PathLike[str]] | Mapping[str, Any] | str | os.PathLike[str] | None,
                   problems: list[Problem], notes: list[str]) -> _Inputs:
    """Map each dataset kind to a file and list the price files to check."""
    from screener.paths import seeds_dir

    given: dict[str, Path] = {}
    prices: list[Path] = []
    if paths is None:
        base = seeds_dir()
        return _Inputs({k: base / _specs()[k].filename for k in DATASET_KINDS}, set(DATASET_KINDS))
    if isinstance(paths, Mapping):
        for kind, p in paths.items():
            if kind not in DATASET_KINDS:
                raise InputError(f"unknown dataset {kind!r}; expected one of {', '.join(DATASET_KINDS)}")
            given[kind] = Path(p)
    else:
        if isinstance(paths, (str, os.PathLike)):
            paths = [paths]
        for p in map(Path, paths):
            if p.is_dir():
                standard = set()
                for kind in DATASET_KINDS:
                    candidate = p / _specs()[kind].filename
                    if candidate.exists():
                        given.setdefault(kind, candidate)
                        standard.add(candidate)
                in_folder = _price_files_in(p, notes, skip=standard)
                prices += [f for f in in_folder if f not in prices]
                if not standard and not in_folder:
                    problems.append(Problem(
                        str(p), None, None, None,
                        "nothing to check in this folder: no seed dataset (events.csv, event_securities.csv, "
                        "universe.csv, themes.csv, documents.csv) and no price file (<SYMBOL>.csv or "
                        "<SYMBOL>.parquet)",
                    ))
                continue
            if not p.exists():
                problems.append(Problem(str(p), None, None, None, "file not found"))
                continue
            kind = detect_kind(p)
            if kind == PRICES:
                if p not in prices:
                    prices.append(p)
                continue
            if kind is None:
                _, unreadable = _read_text(p)
                if unreadable:  # not UTF-8, empty: say that, not "cannot tell"
                    problems += unreadable
                    continue
                problems.append(Problem(
                    str(p), 1, None, None,
                    "cannot tell which dataset this file is: its header matches none of "
                    f"{', '.join(DATASET_KINDS)} nor a price file's (date,open,high,low,close,adj_close,volume) "
                    "and its name does not say; use the documented header (see docs/data.md) or name it "
                    "e.g. my_events.csv / my_event_securities.csv",
                ))
                continue
            if kind in given:
                problems.append(Problem(str(p), None, None, None,
                                        f"a second {kind} file (already checking {given[kind]}); give one per dataset"))
                continue
            given[kind] = p
    supplied = set(given)
    # A file's partners under their standard names in the same folder are checked with it
    # (``semiscreen validate seeds/events.csv`` also checks the links to event_securities.csv).
    for p in list(given.values()):
        for kind in DATASET_KINDS:
            sibling = p.parent / _specs()[kind].filename
            if kind not in given and sibling.is_file():
                given[kind] = sibling
                supplied.add(kind)
    # Reference datasets the user did not give come from the project's seeds.
    seeds_error = None
    if given:
        try:
            base: Path | None = seeds_dir()
        except DataUnavailableError as exc:  # no project seeds at all (e.g. a broken install)
            base, seeds_error = None, str(exc)
        if base is not None:
            for kind in ("universe", "themes"):
                if kind not in given and (base / _specs()[kind].filename).exists():
                    given[kind] = base / _specs()[kind].filename
            if not all(k in given for k in ("universe", "themes")):
                seeds_error = f"the project's seeds ({base}) have no " + " or ".join(
                    _specs()[k].filename for k in ("universe", "themes") if k not in given)
    return _Inputs(given, supplied, prices, seeds_error)


def _snapshot_folder(snapshot: str | os.PathLike[str]) -> Path:
    path = Path(snapshot)
    return path.parent if path.name == "manifest.json" or path.suffix.lower() == ".json" else path


def _read_manifest(snapshot: str | os.PathLike[str] | None) -> tuple[set[str] | None, str]:
    """Symbols with prices in the snapshot manifest (``None`` if there is no manifest)."""
    if snapshot is None:
        from screener.paths import seeds_dir

        try:
            snapshot = seeds_dir() / "prices"
        except DataUnavailableError:
            return None, "<no seeds>"
    path = Path(snapshot)
    if path.is_dir():
        path = path / "manifest.json"
    if not path.exists():
        return None, str(path)
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError) as exc:
        raise ValidationError(Problem(str(path), None, None, None, f"not valid JSON: {exc}")) from None
    return _manifest_symbols(manifest), str(path)


def _manifest_symbols(manifest: Any) -> set[str]:
    """The symbols a manifest lists as present (tolerant of a dict or list of entries)."""
    missing: set[str] = set()
    if isinstance(manifest, dict):
        raw_missing = manifest.get("missing", [])
        if isinstance(raw_missing, dict):
            missing = set(raw_missing)
        elif isinstance(raw_missing, list):
            missing = {m if isinstance(m, str) else str(m.get("symbol")) for m in raw_missing}
        entries = manifest.get("symbols", manifest.get("files", {}))
    else:
        entries = manifest
    present: set[str] = set()
    if isinstance(entries, dict):
        for sym, info in entries.items():
            if isinstance(info, dict) and (info.get("missing") or info.get("status") == "missing" or info.get("rows") == 0):
                continue
            present.add(sym)
    elif isinstance(entries, list):
        for e in entries:
            if isinstance(e, str):
                present.add(e)
            elif isinstance(e, dict) and "symbol" in e:
                if e.get("missing") or e.get("status") == "missing" or e.get("rows") == 0:
                    continue
                present.add(str(e["symbol"]))
    return present - missing


# --------------------------------------------------------------------------------------------
# Cross-dataset checks
# --------------------------------------------------------------------------------------------




def _col(frame: "pd.DataFrame | None", column: str) -> bool:
    return frame is not None and column in frame.columns


def validate_seeds(
    paths: Sequence[str | os.PathLike[str]] | Mapping[str, Any] | str | os.PathLike[str] | None = None,
    *,
    documents_dir: str | os.PathLike[str] | None = None,
    snapshot: str | os.PathLike[str] | None = None,
) -> ValidationReport:
    """Validate the seed datasets, each against its schema and all against each other.

    Parameters
    ----------
    paths : None, path, sequence of paths, or mapping of kind to path
        ``None``: the project's ``seeds/`` (see :func:`screener.paths.seeds_dir`). A folder:
        the seed files in it. Files: each file's dataset is recognised by its header (or its
        name); the universe and themes that are not given are the project's. A mapping
        ``{"events": ..., "event_securities": ...}`` names the kinds explicitly.
    documents_dir : path, optional
        Folder of the source documents whose sha256 ``documents.csv`` records. Default
        ``$SEMISCREEN_DOCUMENTS`` or ``../shared/seeds`` beside the checkout; when the folder
        is absent the checksum check is skipped (and a note says so).
    snapshot : path, optional
        The price snapshot folder or its ``manifest.json``. Default ``seeds/prices``; when
        absent the price-availability check is skipped (with a note).

    Returns
    -------
    ValidationReport
        ``.ok``, ``.problems``, ``.to_frame()``, ``.raise_if_failed()``.

    Examples
    --------
    >>> from screener.validate import validate_seeds
    >>> validate_seeds().ok                             # the project's seeds/
    True

    A copy of ``events.csv`` with an impossible date: every problem names file, row and column.

    >>> import pathlib, shutil, tempfile
    >>> from screener.paths import seeds_dir
    >>> header, first = (seeds_dir() / "events.csv").read_text(encoding="utf-8").splitlines()[:2]
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> bad = folder / "events.csv"
    >>> _ = bad.write_text(header + "\\n" + first.replace(first.split(",")[1], "2024-04-31", 1) + "\\n",
    ...                    encoding="utf-8")
    >>> report = validate_seeds([bad])
    >>> report.ok
    False
    >>> print(str(report.problems[0]).replace(str(folder), "<tmp>"))
    <tmp>/events.csv, row 2, column 'announced_at': not a valid calendar date (value '2024-04-31')
    >>> shutil.rmtree(folder)
    """
    problems: list[Problem] = []
    notes: list[str] = []
    inputs = _resolve_paths(paths, problems, notes)
    files, supplied = inputs.files, inputs.supplied
    price_files = list(inputs.prices)
    if snapshot is not None and _snapshot_folder(snapshot).is_dir():
        # an explicit snapshot (``--snapshot DIR``) is checked file by file, not only its manifest
        folder = _snapshot_folder(snapshot)
        price_files += [f for f in _price_files_in(folder, notes) if f not in price_files]
    specs = _specs()
    frames: dict[str, Any] = {}
    checked: dict[str, dict[str, Any]] = {}
    for kind in DATASET_KINDS:
        if kind not in files:
            continue
        frame, found = read_dataset(files[kind], specs[kind])
        problems += found
        frames[kind] = frame
        checked[kind] = {"file": str(files[kind]), "rows": 0 if frame is None else len(frame)}
    if price_files:
        checked[PRICES] = _check_price_files(price_files, problems)

    _check_rows(frames, files, problems)
    _check_references(frames, files, supplied, problems, notes, inputs.seeds_error)
    _check_documents(frames, files, documents_dir, problems, notes)
    snapshot_problems: list[Problem] = []
    _check_prices(frames, files, snapshot, snapshot_problems, notes)
    if snapshot is None:  # (the project's snapshot: as any other reference check)
        problems += snapshot_problems
        snapshot_problems = []
    _check_calendars(frames, files, problems, notes)
    if supplied:
        # Problems found in the project's own reference files (the universe or themes the
        # user did not give) concern the combination, not the user's files: a note each.
        reference = {str(files[k]): k for k in files if k not in supplied}
        for name, kind in reference.items():
            found = [p for p in problems if p.file == name]
            if found:
                first = found[0]
                notes.append(
                    f"the project's {Path(name).name} has {len(found)} problem{'s' if len(found) != 1 else ''} "
                    f"with the files given (e.g. line {first.row}, {first.column} {first.value!r}: "
                    f"{first.message}); they are not in your files: give your own {kind} file to check "
                    "it together with them")
        problems = [p for p in problems if p.file not in reference]
    # a snapshot the user gave is the user's: what is missing from it is a problem wherever
    # the benchmark was listed
    problems += snapshot_problems
    sources = [files[k] for k in DATASET_KINDS if k in files] + price_files
    order = {str(path): i for i, path in enumerate(sources)}
    ordered = sorted(_dedupe(problems), key=lambda p: (order.get(p.file, -1), p.row or 0))
    return ValidationReport(problems=ordered, checked=checked, notes=notes)


def _check_price_files(paths: list[Path], problems: list[Problem]) -> dict[str, Any]:
    """Validate each price file (every problem listed); return the ``checked`` entry."""
    from screener.prices.local import validate_price_file

    rows = 0
    for path in paths:
        n, found = validate_price_file(path)
        rows += n
        problems += found
    folders = {str(p.parent) for p in paths}
    return {"file": folders.pop() if len(folders) == 1 else ", ".join(sorted(folders)),
            "files": len(paths), "rows": rows}


def _dedupe(problems: list[Problem]) -> list[Problem]:
    seen: set[tuple[Any, ...]] = set()
    out = []
    for p in problems:
        key = (p.file, p.row, p.column, str(p.value), p.message)
        if key not in seen:
            seen.add(key)
            out.append(p)
    return out


def _check_rows(frames: dict[str, Any], files: dict[str, Path], problems: list[Problem]) -> None:
    """Checks inside one dataset that involve several columns of a row."""
    import pandas as pd

    docs = frames.get("documents")
    if _col(docs, "period_start") and _col(docs, "period_end"):
        for line, row in docs.iterrows():
            if pd.notna(row["period_start"]) and pd.notna(row["period_end"]) and row["period_start"] > row["period_end"]:
                problems.append(Problem(str(files["documents"]), int(line), "period_end", str(row["period_end"].date()),
                                        f"period_end is before period_start ({row['period_start'].date()})"))
    events = frames.get("events")
    if _col(events, "announced_at") and _col(events, "date_precision"):
        for line, row in events.iterrows():
            ts, precision = row["announced_at"], row["date_precision"]
            if not isinstance(ts, pd.Timestamp) or pd.isna(precision):
                continue
            has_time = ts.tzinfo is not None
            if precision == "exact" and not has_time:
                problems.append(Problem(str(files["events"]), int(line), "date_precision", precision,
                                        "date_precision is 'exact' but announced_at has no time: give a "
                                        "timestamp with UTC offset, or use 'day'"))
            elif precision != "exact" and has_time:
                problems.append(Problem(str(files["events"]), int(line), "date_precision", precision,
                                        f"announced_at has a time ({ts.isoformat()}) so date_precision "
                                        "should be 'exact'"))
    universe = frames.get("universe")
    if _col(universe, "asset_type") and _col(universe, "benchmark"):
        for line, row in universe.iterrows():
            if row["asset_type"] == "index":
                for c in ("benchmark", "sector_benchmark"):
                    if c in universe.columns and pd.notna(row[c]):
                        problems.append(Problem(str(files["universe"]), int(line), c, row[c],
                                                "must be blank for an index"))
            elif row["asset_type"] == "equity" and pd.isna(row["benchmark"]):
                problems.append(Problem(str(files["universe"]), int(line), "benchmark", None,
                                        "an equity needs its local market index as benchmark"))


#: The reference dataset each dataset's cross-checks need, and what they check.
_NEEDS: tuple[tuple[str, str, str], ...] = (
    ("event_securities", "universe", "the symbols (and each announcement's day 0 on their exchanges)"),
    ("events", "themes", "the theme ids"),
    ("themes", "universe", "the core symbols"),
)


def _check_references(frames: dict[str, Any], files: dict[str, Path], supplied: set[str],
                      problems: list[Problem], notes: list[str], seeds_error: str | None = None) -> None:
    import pandas as pd

    universe, themes = frames.get("universe"), frames.get("themes")
    events, securities, docs = frames.get("events"), frames.get("event_securities"), frames.get("documents")
    symbols = set(universe["symbol"].dropna()) if _col(universe, "symbol") else None
    theme_ids = set(themes["theme_id"].dropna()) if _col(themes, "theme_id") else None
    # A check that cannot run because its reference dataset is missing fails: passing would
    # tell the user that unknown symbols and themes are fine.
    for kind, needed, what in _NEEDS:
        if kind in files and needed not in files:
            why = seeds_error or f"no {_specs()[needed].filename} was found"
            problems.append(Problem(
                str(files[kind]), None, None, None,
                f"{what} cannot be checked: no {needed} dataset to check them against ({why}); "
                f"give a {_specs()[needed].filename} too, or set SEMISCREEN_SEEDS to a folder that has one",
            ))

    if securities is not None and symbols is not None and "symbol" in securities.columns:
        for line, sym in securities["symbol"].items():
            if pd.notna(sym) and sym not in symbols:
                problems.append(Problem(str(files["event_securities"]), int(line), "symbol", sym,
                                        f"unknown symbol: not in the universe ({files['universe']})"))
    if events is not None and theme_ids is not None and "themes" in events.columns:
        for line, items in events["themes"].items():
            for t in items if isinstance(items, list) else []:
                if t not in theme_ids:
                    problems.append(Problem(str(files["events"]), int(line), "themes", t,
                                            f"unknown theme id; valid: {', '.join(sorted(theme_ids))}"))
    if themes is not None and symbols is not None and "core_symbols" in themes.columns:
        for line, items in themes["core_symbols"].items():
            for s in items if isinstance(items, list) else []:
                if s not in symbols:
                    problems.append(Problem(str(files["themes"]), int(line), "core_symbols", s,
                                            f"unknown symbol: not in the universe ({files['universe']})"))
    if universe is not None and symbols is not None:
        for c in ("benchmark", "sector_benchmark"):
            if c not in universe.columns:
                continue
            for line, sym in universe[c].items():
                if pd.notna(sym) and sym not in symbols:
                    problems.append(Problem(str(files["universe"]), int(line), c, sym,
                                            "benchmark is not itself in the universe"))

    if events is not None and "document" in events.columns:
        if docs is not None and "document" in docs.columns:
            listed = set(docs["document"].dropna())
            for line, d in events["document"].items():
                if pd.notna(d) and d not in listed:
                    problems.append(Problem(str(files["events"]), int(line), "document", d,
                                            f"document not listed in {files['documents']}"))
        elif "documents" not in files:
            notes.append("no documents.csv given: the events' documents were not checked")

    if events is not None and securities is not None and _col(events, "event_id") and _col(securities, "event_id"):
        event_ids = set(events["event_id"].dropna())
        linked = set(securities["event_id"].dropna())
        for line, e in securities["event_id"].items():
            if pd.notna(e) and e not in event_ids:
                problems.append(Problem(str(files["event_securities"]), int(line), "event_id", e,
                                        f"unknown event_id: not in {files['events']}"))
        primaries = set(securities.loc[securities.get("role") == "primary", "event_id"]) if "role" in securities.columns else None
        for line, e in events["event_id"].items():
            if pd.isna(e):
                continue
            if e not in linked:
                problems.append(Problem(str(files["events"]), int(line), "event_id", e,
                                        f"event has no security in {files['event_securities']}"))
            elif primaries is not None and e not in primaries:
                problems.append(Problem(str(files["events"]), int(line), "event_id", e,
                                        f"event has no security with role 'primary' in {files['event_securities']}"))
    elif ("events" in supplied) != ("event_securities" in supplied):
        notes.append("events and event_securities were not both given: the links between them were not checked")


def _check_documents(frames: dict[str, Any], files: dict[str, Path], documents_dir: Any,
                     problems: list[Problem], notes: list[str]) -> None:
    docs = frames.get("documents")
    if not _col(docs, "document") or not _col(docs, "sha256"):
        return
    folder = Path(documents_dir) if documents_dir is not None else default_documents_dir()
    if not folder.is_dir():
        notes.append(f"source-document folder {folder} not found: sha256 check skipped "
                     "(set SEMISCREEN_DOCUMENTS or give --documents DIR (documents_dir= in Python))")
        return
    for line, row in docs.iterrows():
        name, digest = row["document"], row["sha256"]
        if not isinstance(name, str):
            continue
        path = folder / name
        if not path.is_file():
            problems.append(Problem(str(files["documents"]), int(line), "document", name,
                                    f"source document not found in {folder}"))
        elif isinstance(digest, str) and _sha256(path) != digest.lower():
            problems.append(Problem(str(files["documents"]), int(line), "sha256", digest,
                                    f"checksum mismatch: {path} has sha256 {_sha256(path)}"))


def _check_prices(frames: dict[str, Any], files: dict[str, Path], snapshot: Any,
                  problems: list[Problem], notes: list[str]) -> None:
    import pandas as pd

    universe = frames.get("universe")
    if not _col(universe, "benchmark"):
        return
    present, where = _read_manifest(snapshot)
    if present is None:
        notes.append(f"price snapshot manifest {where} not found: benchmark price check skipped")
        return
    for c in ("benchmark", "sector_benchmark"):
        if c not in universe.columns:
            continue
        for line, sym in universe[c].items():
            if pd.notna(sym) and sym not in present:
                problems.append(Problem(str(files["universe"]), int(line), c, sym,
                                        f"benchmark has no prices in the snapshot ({where})"))


def _check_calendars(frames: dict[str, Any], files: dict[str, Path],
                     problems: list[Problem], notes: list[str]) -> None:
    """Each announcement maps to a session on each linked security's exchange."""
    from events.catalog import calendar_problems
    from screener.calendars import calendar_name

    events, securities, universe = frames.get("events"), frames.get("event_securities"), frames.get("universe")
    if _col(universe, "exchange"):
        for line, mic in universe["exchange"].items():
            if not isinstance(mic, str) or not re.match(r"^[A-Z0-9]{4}$", mic):
                continue  # the schema reports it
            try:
                calendar_name(mic=mic)
            except InputError as exc:
                problems.append(Problem(str(files["universe"]), int(line), "exchange", mic, str(exc)))
    if _col(universe, "symbol") and _col(universe, "exchange"):
        types = universe["asset_type"] if "asset_type" in universe.columns else None
        for line, sym in universe["symbol"].items():
            message = _listing_mismatch(sym, universe.at[line, "exchange"],
                                        None if types is None else types.get(line))
            if message:
                problems.append(Problem(str(files["universe"]), int(line), "exchange",
                                        universe.at[line, "exchange"], message))
    needed = (
        _col(events, "announced_at") and _col(events, "timing") and _col(events, "event_id")
        and _col(securities, "symbol") and _col(securities, "role") and _col(universe, "exchange")
    )
    if not needed:
        return
    found, skipped = calendar_problems(events, securities, universe, events_file=str(files["events"]),
                                       securities_file=str(files["event_securities"]))
    problems += found
    notes += skipped



def _listing_mismatch(symbol: Any, mic: Any, asset_type: Any = None) -> str | None:
    """Why a universe row's Yahoo suffix disagrees with its ``exchange`` MIC, or ``None``.

    A suffixed security must be listed on the suffix's own exchange (``.SZ`` on XSHE, not on
    XSHG, although the two share a calendar). A symbol without a suffix is a US listing (an ADR
    too): any US venue (XNYS, XNAS, ARCX, ...) is right. An index only has to follow the
    calendar of its market (``^IXIC`` on XNAS or XNYS). A suffix semiscreen does not know is
    a typo when the exchange's own suffix is known (``600519.SH`` on XSHG: Yahoo writes
    ``.SS``; ``ABC.XX`` on a US venue: no suffix), except another board's suffix on the same
    exchange (KOSDAQ ``.KQ`` on XKRX, TPEx ``.TWO`` on XTAI); on an exchange whose suffix is
    unknown (``VOD.L`` on XLON) the explicit MIC is all there is to go by. Rules of
    :func:`screener.calendars.listing_mic` and :func:`screener.calendars.calendar_name`.
    """
    from screener.calendars import SUFFIX_TO_MIC, SYMBOL_TO_MIC, calendar_name, listing_mic

    if not isinstance(symbol, str) or not re.match(SYMBOL_PATTERN, symbol):
        return None  # the schema reports it
    if not isinstance(mic, str) or not re.match(r"^[A-Z0-9]{4}$", mic):
        return None
    if not symbol.startswith("^") and symbol.upper() not in SYMBOL_TO_MIC:
        dot = symbol.rfind(".")
        suffix = symbol[dot:].upper() if dot > 0 else ""
        if suffix and suffix not in SUFFIX_TO_MIC:
            return _unknown_suffix(symbol, suffix, mic)
    try:
        expected = listing_mic(symbol)
        expected_calendar = calendar_name(mic=expected)
        given_calendar = calendar_name(mic=mic)
    except InputError:
        return None  # unknown suffix or index (the MIC decides), or a MIC without calendar (reported)
    index = symbol.startswith("^") or symbol.upper() in SYMBOL_TO_MIC or asset_type == "index"
    suffixed = "." in symbol and not index
    if suffixed:
        if mic == expected:
            return None
        suffix = symbol[symbol.rfind("."):]
        return (f"{symbol}: the Yahoo suffix {suffix} means exchange {expected}, but the exchange "
                f"column says {mic}; fix the symbol or the exchange")
    if given_calendar == expected_calendar:
        return None
    if index:
        follows = expected_calendar if expected == expected_calendar else f"{expected_calendar} ({expected})"
        return (f"{symbol}: this index follows the {follows} calendar, but the exchange column "
                f"says {mic} (calendar {given_calendar})")
    suffixes = [s for s, m in SUFFIX_TO_MIC.items() if m == mic and s]
    hint = f" (Yahoo symbols on {mic} end in {suffixes[0]})" if suffixes else ""
    return (f"{symbol}: a Yahoo symbol without a suffix is a US listing (e.g. XNYS, XNAS), but the "
            f"exchange column says {mic}{hint}; fix the symbol or the exchange")


#: Readable names of the exchanges whose Yahoo suffix is known (for hints).
_MARKET_NAMES: dict[str, str] = {
    "XSHG": "Shanghai", "XSHE": "Shenzhen", "XHKG": "Hong Kong", "XTAI": "Taiwan Stock Exchange",
    "XKRX": "Korea Exchange", "XTKS": "Tokyo", "XAMS": "Amsterdam", "XETR": "Xetra",
}
#: Yahoo suffixes of other boards that share an exchange's MIC and calendar here: not typos.
_OTHER_BOARDS: dict[str, tuple[str, ...]] = {"XKRX": (".KQ",), "XTAI": (".TWO",)}


def _unknown_suffix(symbol: str, suffix: str, mic: str) -> str | None:
    """The problem with a suffix semiscreen does not know on exchange ``mic``, or ``None``
    when the exchange's own suffix is not known either (the MIC decides)."""
    from screener.calendars import MIC_TO_CALENDAR, SUFFIX_TO_MIC

    if suffix in _OTHER_BOARDS.get(mic, ()):
        return None
    base = symbol[: len(symbol) - len(suffix)]
    if MIC_TO_CALENDAR.get(mic) == "XNYS":  # a US venue
        share_class = len(suffix) == 2 and suffix[1].isalpha()  # BRK.B
        guess = f"{base}-{suffix[1:]}" if share_class else base
        return (f"{symbol}: unknown Yahoo suffix {suffix} on the US venue {mic}; Yahoo writes US symbols "
                f"without a suffix, a share class with '-' (BRK-B): {guess}; fix the symbol or the exchange")
    known = [sfx for sfx, m in SUFFIX_TO_MIC.items() if m == mic and sfx]
    if not known:
        return None
    place = _MARKET_NAMES.get(mic, mic)
    return (f"{symbol}: unknown Yahoo suffix {suffix} for exchange {mic}; Yahoo writes {place} symbols "
            f"as {base}{known[0]}; fix the symbol or the exchange")
