"""Writing a report to disk, atomically.

Layout of a report directory::

    report.html             self-contained page (charts embedded)
    report.md               Markdown, charts referenced from charts/
    charts/*.png            every chart
    data/<table>.csv|json|parquet
                            tidy tables: events, caar, tests, firms, summary, exposure,
                            screens, outcomes, and every table of ``ReportData.tables``
                            (each Parquet file carries the provenance in its schema
                            metadata under the key ``semiscreen``)
    provenance.json         provenance, parameters and the sha256 of every other file
    .semiscreen-report      marker: this directory was written by semiscreen

Everything is written into a temporary sibling directory, which is then renamed into place;
an existing report directory is first renamed aside and deleted only after the new one is in
place. A failure at any point leaves the previous report as it was and no temporary directory
behind. A non-empty directory without the marker is refused unless ``force=True``.
"""

from __future__ import annotations

import json
import math
import os
import shutil
import uuid
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any, Iterable

import numpy as np
import pandas as pd

from screener.errors import InputError
from screener.report.model import TIDY_TABLES, ReportData, display_frame, window_label
from screener.files import sha256_file as _sha256

__all__ = ["write_report", "tidy_tables", "WrittenReport", "MARKER", "FORMATS", "TIDY_TABLES", "PARQUET_METADATA_KEY"]

#: Name of the marker file that identifies a directory written by semiscreen.
MARKER = ".semiscreen-report"
#: Key of the provenance JSON in each Parquet file's schema metadata.
PARQUET_METADATA_KEY = b"semiscreen"
#: Output formats ``write_report`` knows.
FORMATS = ("html", "md", "csv", "json", "parquet")


@dataclass(frozen=True)
class WrittenReport:
    """What :func:`write_report` wrote.

    Attributes
    ----------
    path : Path
        The report directory.
    files : tuple of str
        Every file written, as POSIX paths relative to ``path`` (sorted).
    """

    path: Path
    files: tuple[str, ...]

    def __str__(self) -> str:
        return f"{self.path} ({len(self.files)} files)"


# ----------------------------------------------------------------------------- tidy tables


def _cell_for_file(value: Any) -> Any:
    if isinstance(value, (list, tuple, set, np.ndarray)):
        return "; ".join(str(v) for v in value)
    return value


def _prepare(frame: pd.DataFrame) -> pd.DataFrame:
    """A frame ready for CSV/JSON/Parquet: flat index, string column names, no list cells,
    object columns of mixed types as strings."""
    frame = display_frame(frame)
    frame.columns = [str(c) for c in frame.columns]
    for column in frame.columns:
        series = frame[column]
        if series.dtype == object:
            series = series.map(_cell_for_file)
            kinds = {type(v) for v in series if not (v is None or (isinstance(v, float) and math.isnan(v)))}
            if len(kinds) > 1 or (kinds and not kinds <= {str, int, float, bool, pd.Timestamp, datetime, date}):
                series = series.map(lambda v: v if v is None or (isinstance(v, float) and math.isnan(v)) else str(v))
            frame[column] = series
    return frame


def _with_key(frame: pd.DataFrame, key: str, value: Any) -> pd.DataFrame:
    frame = display_frame(frame)
    if key in frame.columns:
        frame = frame.drop(columns=key)
    frame.insert(0, key, value)
    return frame


def _concat(frames: list[pd.DataFrame], columns: Iterable[str]) -> pd.DataFrame:
    frames = [f for f in frames if len(f)]
    if not frames:
        return pd.DataFrame(columns=list(columns))
    return pd.concat(frames, ignore_index=True, sort=False)


def tidy_tables(data: ReportData) -> dict[str, pd.DataFrame]:
    """The report's tidy (long) tables, by name.

    Returns
    -------
    dict of str to DataFrame
        ``events`` (one row per event), ``caar`` (event_id + CAAR path), ``tests`` (event_id +
        tests, with ``window`` as a label and ``window_start``/``window_end``), ``firms``
        (event_id + firms), ``summary`` (the summary table), ``exposure``, ``screens``
        (theme_id, rank + each screen), ``outcomes``, then every ``ReportData.tables`` entry.

    Raises
    ------
    ValidationError
        When the model is malformed, e.g. a name in ``ReportData.tables`` clashes with a
        built-in table (see :meth:`ReportData.validate`).
    """
    data.validate()
    events = pd.DataFrame(
        [{
            "event_id": ev.event_id, "announced_at": ev.announced_at, "timing": ev.timing,
            "date_precision": ev.date_precision, "document": ev.document, "themes": ";".join(ev.themes),
            "headline": ev.headline, "notes": ev.notes, "n_firms": int(len(ev.firms)),
        } for ev in data.events],
        columns=["event_id", "announced_at", "timing", "date_precision", "document", "themes", "headline",
                 "notes", "n_firms"],
    )
    tests = []
    for ev in data.events:
        raw_windows = list(ev.tests["window"])
        t = _with_key(ev.tests, "event_id", ev.event_id)
        starts, ends = [], []
        for w in raw_windows:
            if isinstance(w, (tuple, list, np.ndarray)) and len(w) == 2:
                starts.append(int(w[0]))
                ends.append(int(w[1]))
            else:
                starts.append(pd.NA)
                ends.append(pd.NA)
        t["window"] = [window_label(w) for w in raw_windows]
        pos = list(t.columns).index("window") + 1
        t.insert(pos, "window_start", pd.array(starts, dtype="Int64"))
        t.insert(pos + 1, "window_end", pd.array(ends, dtype="Int64"))
        tests.append(t)
    screens = []
    for theme, frame in data.screens.items():
        s = _with_key(frame, "theme_id", theme)
        if "rank" not in s.columns:
            s.insert(1, "rank", np.arange(1, len(s) + 1))
        screens.append(s)
    out = {
        "events": events,
        "caar": _concat([_with_key(ev.caar_path, "event_id", ev.event_id) for ev in data.events],
                        ["event_id", "rel_day", "caar", "ci_lower", "ci_upper", "n"]),
        "tests": _concat(tests, ["event_id", "window", "window_start", "window_end", "test", "estimate",
                                 "statistic", "pvalue", "n", "df"]),
        "firms": _concat([_with_key(ev.firms, "event_id", ev.event_id) for ev in data.events],
                         ["event_id", "symbol"]),
        "summary": data.summary_frame(),
        "exposure": display_frame(data.exposure) if data.exposure is not None else pd.DataFrame(),
        "screens": _concat(screens, ["theme_id", "rank", "symbol"]),
        "outcomes": display_frame(data.outcomes),
    }
    for name, frame in data.tables.items():
        out[name] = display_frame(frame)
    return out


# ----------------------------------------------------------------------------- file writers


def _json_default(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, (pd.Timestamp, datetime, date)):
        return value.isoformat()
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, (set, frozenset)):
        return sorted(value, key=str)
    if isinstance(value, np.ndarray):
        return value.tolist()
    return str(value)


def _dump_json(obj: Any) -> str:
    return json.dumps(obj, indent=2, ensure_ascii=False, sort_keys=False, default=_json_default,
                      allow_nan=False) + "\n"


def _clean_json(obj: Any) -> Any:
    """NaN/inf (not valid JSON) become null."""
    if isinstance(obj, dict):
        return {str(k): _clean_json(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_clean_json(v) for v in obj]
    if isinstance(obj, (float, np.floating)) and not math.isfinite(float(obj)):
        return None
    return obj


def _json_scalar(value: Any) -> Any:
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, (pd.Timestamp, datetime, date)):
        return value.isoformat()
    return value


def _records_json(frame: pd.DataFrame) -> str:
    """Records JSON with exact floats (shortest repr, unlike pandas' ``double_precision``);
    missing values as ``null``, dates in ISO 8601."""
    columns = [str(c) for c in frame.columns]
    records = [{c: _json_scalar(v) for c, v in zip(columns, row)} for row in frame.itertuples(index=False, name=None)]
    return json.dumps(records, indent=1, ensure_ascii=False, default=_json_default, allow_nan=False) + "\n"


def _write_parquet(frame: pd.DataFrame, path: Path, metadata: bytes | None) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    table = pa.Table.from_pandas(frame, preserve_index=False)
    if metadata is not None:
        table = table.replace_schema_metadata({**(table.schema.metadata or {}), PARQUET_METADATA_KEY: metadata})
    pq.write_table(table, path, compression="zstd")


def _write_table(frame: pd.DataFrame, stem: Path, formats: tuple[str, ...], metadata: bytes | None = None) -> None:
    frame = _prepare(frame)
    if "csv" in formats:
        frame.to_csv(stem.with_suffix(".csv"), index=False, lineterminator="\n", encoding="utf-8")
    if "json" in formats:
        stem.with_suffix(".json").write_text(_records_json(frame), encoding="utf-8")
    if "parquet" in formats:
        _write_parquet(frame, stem.with_suffix(".parquet"), metadata)




def _write_all(data: ReportData, root: Path, formats: tuple[str, ...]) -> None:
    from screener import __version__
    from screener.report.html import render_html
    from screener.report.markdown import render_markdown

    charts: dict[str, bytes] = {}
    if "html" in formats or "md" in formats:
        from screener.report.charts import report_charts

        charts = report_charts(data)
        (root / "charts").mkdir()
        for name, png in charts.items():
            (root / "charts" / name).write_bytes(png)
    if "html" in formats:
        (root / "report.html").write_text(render_html(data, charts=charts), encoding="utf-8")
    if "md" in formats:
        (root / "report.md").write_text(render_markdown(data, charts=charts), encoding="utf-8")
    file_formats = tuple(f for f in formats if f in ("csv", "json", "parquet"))
    if file_formats:
        (root / "data").mkdir()
        for name, frame in tidy_tables(data).items():
            metadata = {"table": name, "title": data.title, "generated_at": data.generated_at,
                        "written_by": f"semiscreen {__version__}", "provenance": data.provenance}
            encoded = json.dumps(_clean_json(metadata), default=_json_default, ensure_ascii=False, allow_nan=False)
            _write_table(frame, root / "data" / name, file_formats, encoded.encode("utf-8"))

    files = sorted(p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file())
    provenance = {
        "report": {
            "title": data.title,
            "generated_at": data.generated_at,
            "written_by": f"semiscreen {__version__}",
            "formats": list(formats),
            "n_events": len(data.events),
            "n_warnings": len(data.warnings),
        },
        "provenance": data.provenance,
        "warnings": list(data.warnings),
        "files": {f: _sha256(root / f) for f in files},
    }
    (root / "provenance.json").write_text(_dump_json(_clean_json(provenance)), encoding="utf-8")
    marker = {"written_by": "semiscreen", "version": __version__, "generated_at": data.generated_at}
    (root / MARKER).write_text(_dump_json(marker), encoding="utf-8")


# ----------------------------------------------------------------------------- the public entry


def _check_target(out: Path, force: bool) -> None:
    if out.is_symlink():
        raise InputError(f"report directory {out} is a symbolic link; give the real directory")
    if out.exists() and not out.is_dir():
        raise InputError(f"report directory {out} exists and is not a directory")
    resolved = out.resolve()
    try:
        home: Path | None = Path.home().resolve()
    except (RuntimeError, KeyError):  # no home directory known
        home = None
    if resolved == Path(resolved.anchor) or resolved == home:
        raise InputError(f"refusing to write a report over {out}: choose a dedicated directory")
    cwd = Path.cwd().resolve()
    if cwd == resolved or resolved in cwd.parents:
        raise InputError(f"refusing to replace {out}: it is the current directory or one of its parents")
    if out.is_dir() and not (out / MARKER).is_file() and any(out.iterdir()) and not force:
        raise InputError(
            f"report directory {out} exists, is not empty and was not written by semiscreen "
            f"(no {MARKER} file); choose another --out or pass --force to replace it")


def write_report(data: ReportData, out_dir: str | os.PathLike[str], *, force: bool = False,
                 formats: Iterable[str] = FORMATS) -> WrittenReport:
    """Write a report directory atomically.

    Parameters
    ----------
    data : ReportData
        The report's content (validated first).
    out_dir : path
        The report directory. Created if absent (with its parents); replaced if it holds an
        earlier semiscreen report (the ``.semiscreen-report`` marker) or is empty.
    force : bool
        Replace ``out_dir`` even when it is a non-empty directory semiscreen did not write.
        Only ``out_dir`` itself is ever deleted.
    formats : iterable of str
        Any of ``html``, ``md``, ``csv``, ``json``, ``parquet`` (charts are written with
        ``html`` or ``md``; ``provenance.json`` and the marker always).

    Returns
    -------
    WrittenReport
        The directory and the files in it.

    Raises
    ------
    InputError
        Unknown format; ``out_dir`` is a file, a symbolic link, the file-system root, the home
        directory, the current directory or one of its parents; ``out_dir`` is a foreign
        non-empty directory and ``force`` is false; the directory could not be replaced.
    ValidationError
        The model is malformed, e.g. a table name clashes (see :meth:`ReportData.validate`).
    """
    formats = tuple(dict.fromkeys(str(f).lower() for f in formats))
    unknown = [f for f in formats if f not in FORMATS]
    if unknown or not formats:
        raise InputError(f"unknown report format(s) {', '.join(map(repr, unknown)) or '(none given)'}; "
                         f"choose from {', '.join(FORMATS)}")
    data.validate()
    out = Path(os.path.abspath(os.path.expanduser(os.fspath(out_dir))))  # also folds "." and ".."
    _check_target(out, force)
    parent = out.parent
    parent.mkdir(parents=True, exist_ok=True)
    token = uuid.uuid4().hex[:12]
    tmp = parent / f".{out.name}.tmp-{token}"
    tmp.mkdir()
    try:
        _write_all(data, tmp, formats)
        files = tuple(sorted(p.relative_to(tmp).as_posix() for p in tmp.rglob("*") if p.is_file()))
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise

    old: Path | None = None
    try:
        if out.exists():
            _check_target(out, force)  # it may have changed while we were writing
            old = parent / f".{out.name}.old-{token}"
            os.rename(out, old)
        os.rename(tmp, out)
    except BaseException as exc:
        if old is not None and old.exists():
            if not out.exists():
                os.rename(old, out)  # put the previous report back
            else:  # another writer put its report in place meanwhile: ours lost, drop the old copy
                shutil.rmtree(old, ignore_errors=True)
        shutil.rmtree(tmp, ignore_errors=True)
        if isinstance(exc, OSError):
            raise InputError(f"could not put the report in place at {out}: {exc.strerror or exc}") from exc
        raise
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)
    return WrittenReport(out, files)
