"""The report's input model: everything a report shows, already computed.

The renderers (:mod:`screener.report.html`, :mod:`screener.report.markdown`), the charts
(:mod:`screener.report.charts`) and the writer (:mod:`screener.report.writer`) read a
:class:`ReportData` and nothing else: they compute no statistics and touch no data source. The
builder that runs the event studies, exposures and screens fills the model; tests fill it with
synthetic frames.

Frames and their columns
------------------------
``EventSection.caar_path``
    ``rel_day`` (int), ``caar`` (fraction), ``ci_lower``, ``ci_upper`` (fractions, the confidence
    band; may be ``NaN``), ``n`` (event-firm pairs behind the point).
``EventSection.tests``
    ``window``, ``test``, ``estimate``, ``statistic``, ``pvalue``, ``n``, ``df`` (one row per
    window and test, as ``EventStudyResults.tests()`` returns it; extra columns are kept).
    ``window`` is a ``(t1, t2)`` tuple or a label such as ``"[-1,+1]"``.
``EventSection.firms``
    ``symbol``, ``name``, ``role``, ``expected_sign``, ``event_date``, ``outcome``, one CAR
    column per window (named ``car[t1,t2]``, see :func:`car_column`), ``scar``.
``ReportData.exposure``
    Long form, one row per (``symbol``, ``theme_id``): ``composite`` and the component columns
    with their N (what :func:`screener.exposure.composite_exposure` returns; a column named
    ``theme`` is accepted instead of ``theme_id``).
``ReportData.screens``
    ``theme_id`` -> one ranked frame per screen with a ``symbol`` column and a score column
    (``score``, else ``composite``, else the last numeric column; see :func:`screen_value_column`).
``ReportData.outcomes``
    One row per event-firm pair that was dropped or changed (``event_id``, ``symbol``,
    ``outcome``, and a reason/note column).

Only the columns the renderers need are required (:data:`REQUIRED_COLUMNS`); a missing one is a
:class:`~screener.errors.ValidationError` listing every problem at once.

Number formats (used by both renderers): columns holding returns (``caar``, ``ci_lower``,
``ci_upper``, ``estimate``, CAR/BHAR columns) are shown as percentages, p-values with three
significant digits (see :func:`format_value`).
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Mapping

import numpy as np
import pandas as pd

from screener.errors import Problem, ValidationError

__all__ = [
    "EventSection",
    "ReportData",
    "REQUIRED_COLUMNS",
    "car_column",
    "window_label",
    "format_value",
    "is_return_column",
    "is_pvalue_column",
    "screen_value_column",
    "slug",
    "HEATMAP_CHART",
    "screen_chart_name",
    "screen_anchor",
    "provenance_items",
    "TIDY_TABLES",
    "theme_column",
    "display_frame",
]

#: Columns every frame of the model must have (extra columns are kept and shown).
REQUIRED_COLUMNS: dict[str, tuple[str, ...]] = {
    "caar_path": ("rel_day", "caar", "ci_lower", "ci_upper"),
    "tests": ("window", "test", "estimate", "statistic", "pvalue", "n"),
    "firms": ("symbol",),
    "exposure": ("symbol", "composite"),  # plus a theme column: ``theme_id`` (or ``theme``)
    "screen": ("symbol",),
}

#: Names of the tidy tables the writer builds from the model (``ReportData.tables`` may not reuse them).
TIDY_TABLES = ("events", "caar", "tests", "firms", "summary", "exposure", "screens", "outcomes")

_RETURN_RE = re.compile(r"^(c?a?ar|c?bhar|caar|estimate|ci_lower|ci_upper|mean_car|median_car)([_\[( ].*)?$", re.I)
_PVALUE_RE = re.compile(r"^(p|pvalue|p_value|pval)([_\[( ].*)?$|.*_(p|pvalue)$", re.I)
_SLUG_RE = re.compile(r"[^a-z0-9]+")


def window_label(window: Any) -> str:
    """Label of an event window: ``(-1, 1)`` -> ``"[-1,+1]"``; ``(0, 0)`` -> ``"[0,0]"``.

    Strings are returned unchanged, so a frame whose windows are already labels is untouched.
    """
    if isinstance(window, str):
        return window
    if isinstance(window, (tuple, list, np.ndarray)) and len(window) == 2:
        t1, t2 = (int(w) for w in window)
        return f"[{t1:+d},{t2:+d}]".replace("+0", "0")
    return str(window)


def car_column(window: Any) -> str:
    """Name of the firms-table CAR column for a window: ``(-1, 1)`` -> ``"car[-1,+1]"``."""
    return f"car{window_label(window)}"


def slug(text: str) -> str:
    """A lower-case ``[a-z0-9-]`` form of ``text`` for anchors and file names."""
    s = _SLUG_RE.sub("-", str(text).lower()).strip("-")
    return s or "x"


#: File name of the exposure heatmap under ``charts/``.
HEATMAP_CHART = "exposure-heatmap.png"


def screen_chart_name(theme: str) -> str:
    """File name of a screen's bar chart under ``charts/``."""
    return f"screen-{slug(theme)}.png"


def screen_anchor(theme: str) -> str:
    """HTML id of a screen's section."""
    return f"screen-{slug(theme)}"


def is_return_column(name: object) -> bool:
    """Whether a column holds returns (fractions shown as percentages)."""
    return bool(_RETURN_RE.match(str(name)))


def is_pvalue_column(name: object) -> bool:
    """Whether a column holds p-values (shown with three significant digits)."""
    return bool(_PVALUE_RE.match(str(name)))


def _is_missing(value: Any) -> bool:
    if value is None or value is pd.NA or value is pd.NaT:
        return True
    if isinstance(value, (float, np.floating)):
        return math.isnan(float(value))
    return False


def format_value(value: Any, column: object = "") -> str:
    """Format one cell for display (plain text, not escaped).

    Parameters
    ----------
    value : object
        The cell.
    column : str
        Its column name, which decides the format: returns as percentages with two decimals,
        p-values with three significant digits, other floats with four significant digits,
        windows as ``[t1,t2]``, dates as ``YYYY-MM-DD``, missing values as an en dash.
    """
    if isinstance(value, (tuple, list)) and len(value) == 2 and str(column) == "window":
        return window_label(value)
    if isinstance(value, (list, tuple)):
        return "; ".join(format_value(v) for v in value)
    if _is_missing(value):
        return "\u2013"
    if isinstance(value, (bool, np.bool_)):
        return "yes" if value else "no"
    if isinstance(value, (int, np.integer)):
        return str(int(value))
    if isinstance(value, pd.Timestamp):
        return value.strftime("%Y-%m-%d") if value == value.normalize() and value.tz is None else value.isoformat()
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, (float, np.floating)):
        x = float(value)
        if math.isinf(x):
            return "\u221e" if x > 0 else "-\u221e"
        if is_pvalue_column(column):
            return f"{x:.3g}"
        if is_return_column(column):
            return f"{x * 100:.2f}%"
        if x == int(x) and abs(x) < 1e15 and str(column) in {"n", "df", "N"}:
            return str(int(x))
        return f"{x:.4g}"
    return str(value)


def screen_value_column(frame: pd.DataFrame) -> str:
    """The column a screen is ranked and charted by.

    ``score`` if present, else ``composite``, else the last numeric column.

    Raises
    ------
    ValidationError
        When the frame has no numeric column.
    """
    for name in ("score", "composite"):
        if name in frame.columns:
            return name
    numeric = [c for c in frame.columns if pd.api.types.is_numeric_dtype(frame[c]) and not pd.api.types.is_bool_dtype(frame[c])]
    if not numeric:
        raise ValidationError("screen frame has no numeric column to rank by (expected 'score' or 'composite')")
    return str(numeric[-1])


def theme_column(frame: pd.DataFrame) -> str | None:
    """The exposure frame's theme column: ``theme_id``, else ``theme``, else ``None``."""
    for name in ("theme_id", "theme"):
        if name in frame.columns:
            return name
    return None


def _check_columns(frame: Any, kind: str, where: str, problems: list[Problem]) -> None:
    if not isinstance(frame, pd.DataFrame):
        problems.append(Problem(where, None, None, type(frame).__name__, "expected a pandas DataFrame"))
        return
    for col in REQUIRED_COLUMNS[kind]:
        if col not in frame.columns:
            problems.append(Problem(where, None, col, None, f"required column {col!r} is missing"))
    if kind == "exposure" and theme_column(frame) is None:
        problems.append(Problem(where, None, "theme_id", None, "required column 'theme_id' (or 'theme') is missing"))


def _empty(columns: tuple[str, ...]) -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series(dtype="float64") for c in columns})


@dataclass
class EventSection:
    """One event's part of the report.

    Attributes
    ----------
    event_id : str
        The event's slug (``events.csv``); also the HTML anchor ``event-<event_id>``.
    headline : str
        One-line description (from ``events.csv``; escaped on output).
    announced_at : str
        The announcement date or timestamp as given in ``events.csv``.
    timing : str
        ``before_open`` | ``during`` | ``after_close`` | ``unknown``.
    date_precision : str
        ``exact`` | ``day`` | ``approximate``.
    document : str
        The source document's file name.
    themes : list of str
        Theme ids of the event.
    caar_path : DataFrame
        ``rel_day, caar, ci_lower, ci_upper`` (+ ``n``): the CAAR path with its confidence band.
    tests : DataFrame
        ``window, test, estimate, statistic, pvalue, n`` (+ ``df`` and extras).
    firms : DataFrame
        One row per event-firm pair: ``symbol, name, role, expected_sign, event_date, outcome``,
        one ``car[t1,t2]`` column per window, ``scar``.
    notes : str
        How the date was established (free text; escaped on output).
    """

    event_id: str
    headline: str = ""
    announced_at: str = ""
    timing: str = "unknown"
    date_precision: str = "day"
    document: str = ""
    themes: list[str] = field(default_factory=list)
    caar_path: pd.DataFrame = field(default_factory=lambda: _empty(REQUIRED_COLUMNS["caar_path"] + ("n",)))
    tests: pd.DataFrame = field(default_factory=lambda: _empty(REQUIRED_COLUMNS["tests"] + ("df",)))
    firms: pd.DataFrame = field(default_factory=lambda: _empty(REQUIRED_COLUMNS["firms"]))
    notes: str = ""

    @property
    def anchor(self) -> str:
        """HTML id of the event's section."""
        return f"event-{slug(self.event_id)}"

    @property
    def chart_name(self) -> str:
        """File name of the event's CAAR chart under ``charts/``."""
        return f"caar-{slug(self.event_id)}.png"

    def problems(self) -> list[Problem]:
        """Every structural problem of this section (empty when it is usable)."""
        where = f"event {self.event_id!r}"
        out: list[Problem] = []
        if not str(self.event_id).strip():
            out.append(Problem("report input", None, "event_id", self.event_id, "event_id is empty"))
        _check_columns(self.caar_path, "caar_path", f"{where} caar_path", out)
        _check_columns(self.tests, "tests", f"{where} tests", out)
        _check_columns(self.firms, "firms", f"{where} firms", out)
        return out

    def windows(self) -> list[str]:
        """Window labels in the order they appear in ``tests``."""
        if self.tests.empty:
            return []
        return list(dict.fromkeys(window_label(w) for w in self.tests["window"]))


@dataclass
class ReportData:
    """Everything one report shows.

    Attributes
    ----------
    title : str
        Page title.
    generated_at : str
        When the numbers were produced (ISO 8601). Supplied by the builder, never read from the
        clock by the renderers, so the same model gives the same bytes.
    provenance : dict
        How to reproduce the report: package version, parameters (a nested dict), price source,
        snapshot sha256 / manifest checksum, seed dataset checksums, Python and pandas versions.
        Shown at the top of every page and written to ``provenance.json``.
    events : list of EventSection
        One section per event, in display order.
    exposure : DataFrame
        Long form (``symbol, theme_id, composite`` + components and their N).
    screens : dict of str to DataFrame
        Theme id -> ranked screen (``symbol`` + a score column, see :func:`screen_value_column`).
    outcomes : DataFrame
        Event-firm pairs dropped or changed, and why.
    warnings : list of str
        Messages for the reader (shown in a Warnings section).
    tables : dict of str to DataFrame
        Extra tidy tables written as ``data/<name>.csv|json|parquet`` (names ``[A-Za-z0-9_-]``,
        not one of :data:`TIDY_TABLES`).
    summary_tests : list of str
        Tests whose p-values appear in the summary table (default: up to three, in the order
        they first appear in the events' test tables).
    heatmap_top_n : int
        Securities per theme kept in the exposure heatmap (the union over themes is shown,
        ranked by absolute composite exposure), so ~60 securities stay readable.
    """

    title: str = "semiscreen report"
    generated_at: str = ""
    provenance: dict[str, Any] = field(default_factory=dict)
    events: list[EventSection] = field(default_factory=list)
    exposure: pd.DataFrame = field(default_factory=lambda: _empty(REQUIRED_COLUMNS["exposure"]))
    screens: dict[str, pd.DataFrame] = field(default_factory=dict)
    outcomes: pd.DataFrame = field(default_factory=pd.DataFrame)
    warnings: list[str] = field(default_factory=list)
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)
    summary_tests: list[str] = field(default_factory=list)
    heatmap_top_n: int = 15

    def validate(self) -> "ReportData":
        """Check the model's structure; raise one error listing every problem.

        Returns
        -------
        ReportData
            ``self``, so calls can be chained.

        Raises
        ------
        ValidationError
            Missing columns, duplicate event ids, a non-frame where a frame belongs, or a
            table name that is not a safe file name.
        """
        problems: list[Problem] = []
        seen: set[str] = set()
        for i, ev in enumerate(self.events):
            if not isinstance(ev, EventSection):
                problems.append(Problem("report input", i, "events", type(ev).__name__, "expected an EventSection"))
                continue
            problems += ev.problems()
            if ev.anchor in seen:
                problems.append(Problem("report input", i, "event_id", ev.event_id, "duplicate event id"))
            seen.add(ev.anchor)
        if self.exposure is not None and not (isinstance(self.exposure, pd.DataFrame) and self.exposure.empty):
            _check_columns(self.exposure, "exposure", "exposure", problems)
        screen_names: set[str] = set()
        for theme, frame in self.screens.items():
            _check_columns(frame, "screen", f"screen {theme!r}", problems)
            if screen_chart_name(theme) in screen_names:
                problems.append(Problem("screens", None, None, theme, "two screen names map to the same anchor"))
            screen_names.add(screen_chart_name(theme))
        if not isinstance(self.outcomes, pd.DataFrame):
            problems.append(Problem("outcomes", None, None, type(self.outcomes).__name__, "expected a pandas DataFrame"))
        for name, frame in self.tables.items():
            if name in TIDY_TABLES:
                problems.append(Problem("tables", None, None, name,
                                        f"table name clashes with a built-in table ({', '.join(TIDY_TABLES)})"))
            if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_-]*", str(name)):
                problems.append(Problem("tables", None, None, name, "table name must match [A-Za-z0-9][A-Za-z0-9_-]*"))
            if not isinstance(frame, pd.DataFrame):
                problems.append(Problem(f"table {name!r}", None, None, type(frame).__name__, "expected a pandas DataFrame"))
        if not isinstance(self.provenance, Mapping):
            problems.append(Problem("provenance", None, None, type(self.provenance).__name__, "expected a dict"))
        if problems:
            raise ValidationError(problems)
        return self

    def chosen_summary_tests(self) -> list[str]:
        """The tests shown in the summary table (see ``summary_tests``)."""
        if self.summary_tests:
            return list(self.summary_tests)
        names: list[str] = []
        for ev in self.events:
            for t in ev.tests.get("test", []):
                if t not in names:
                    names.append(str(t))
        return names[:3]

    def windows(self) -> list[str]:
        """Window labels over all events, in order of first appearance."""
        out: list[str] = []
        for ev in self.events:
            for w in ev.windows():
                if w not in out:
                    out.append(w)
        return out

    def summary_frame(self) -> pd.DataFrame:
        """One row per event: id, date, themes, N, and per window the CAAR and the p-values.

        The CAAR of a window is the ``estimate`` of the first test (in ``summary_tests`` order,
        then any test) with a finite estimate on that window; p-values come from the chosen
        summary tests. Column names: ``CAAR [t1,t2]``, ``p <test> [t1,t2]``.
        """
        tests = self.chosen_summary_tests()
        windows = self.windows()
        rows = []
        for ev in self.events:
            row: dict[str, Any] = {
                "event_id": ev.event_id,
                "announced_at": ev.announced_at,
                "themes": "; ".join(ev.themes),
                "n_firms": int(len(ev.firms)),
            }
            t = ev.tests.copy()
            if not t.empty:
                t["_w"] = [window_label(w) for w in t["window"]]
            for w in windows:
                sub = t[t["_w"] == w] if not t.empty else t
                caar = np.nan
                order = list(tests) + [x for x in sub.get("test", []) if x not in tests]
                for name in order:
                    est = sub.loc[sub["test"] == name, "estimate"]
                    est = pd.to_numeric(est, errors="coerce").dropna()
                    if len(est):
                        caar = float(est.iloc[0])
                        break
                row[f"CAAR {w}"] = caar
                for name in tests:
                    p = sub.loc[sub["test"] == name, "pvalue"] if not sub.empty else []
                    row[f"p {name} {w}"] = float(p.iloc[0]) if len(p) else np.nan
            rows.append(row)
        columns = ["event_id", "announced_at", "themes", "n_firms"]
        for w in windows:
            columns += [f"CAAR {w}"] + [f"p {name} {w}" for name in tests]
        return pd.DataFrame(rows, columns=columns)


def provenance_items(provenance: Mapping[str, Any], prefix: str = "") -> list[tuple[str, str]]:
    """Flatten a (nested) provenance dict into ``(dotted key, text)`` pairs for display.

    Nested dicts become dotted keys (``parameters.estimation``); lists are joined with ``, ``.
    """
    items: list[tuple[str, str]] = []
    for key, value in provenance.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping):
            if value:
                items += provenance_items(value, prefix=f"{name}.")
            else:
                items.append((name, "{}"))
        elif isinstance(value, (list, tuple)):
            if all(isinstance(v, (str, int, float, bool, np.generic)) or v is None for v in value):
                items.append((name, ", ".join(format_value(v) for v in value)))
            else:
                items.append((name, json.dumps(value, default=str, ensure_ascii=False)))
        else:
            items.append((name, format_value(value) if not isinstance(value, str) else value))
    return items


def display_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """The frame as shown: a named index becomes columns (an unnamed one is dropped), windows
    become labels."""
    named = any(n is not None for n in frame.index.names)
    frame = frame.reset_index(drop=not named)
    if "window" in frame.columns:
        frame = frame.assign(window=[window_label(w) for w in frame["window"]])
    return frame
