"""Filling the report model from an :class:`~screener.analysis.Analysis`.

:func:`build_report` runs (or reuses) every stage of the analysis and turns it into a
:class:`~screener.report.model.ReportData`: one :class:`~screener.report.model.EventSection`
per catalog event (CAAR path with its band, the test table, the per-firm CARs), the exposure
table, one screen per theme, the event-firm pairs that were dropped or changed, the notes
and the provenance. The renderers and the writer take it from there::

    from screener.analysis import Analysis
    from screener.report.build import build_report
    from screener.report import write_report
    write_report(build_report(Analysis()), "report/")
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Callable
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from screener.report.model import EventSection, ReportData

if TYPE_CHECKING:  # pragma: no cover
    from screener.analysis import Analysis

__all__ = ["build_report", "SCREEN_COLUMNS", "SUMMARY_TESTS", "generated_at"]

#: Columns of each theme's screen in the report (every column: :func:`screener.screen`).
SCREEN_COLUMNS: tuple[str, ...] = (
    "symbol", "name", "exchange", "segment", "composite", "z_text", "z_event", "z_return", "text_n_mentions",
    "event_n", "return_n", "ret_ytd", "vol_60d", "beta", "coverage_1y",
)

#: Tests whose p-values the summary table shows (those the study produced, in this order).
SUMMARY_TESTS: tuple[str, ...] = ("bmp", "corrado_rank", "generalized_sign")


def generated_at() -> str:
    """Now in UTC (ISO 8601, seconds), or ``$SOURCE_DATE_EPOCH`` when set (reproducible builds)."""
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    moment = datetime.fromtimestamp(int(epoch), timezone.utc) if epoch and epoch.isdigit() else datetime.now(timezone.utc)
    return moment.replace(microsecond=0).isoformat()


def _announced_text(ts: Any) -> str:
    if isinstance(ts, pd.Timestamp):
        return ts.isoformat() if ts.tzinfo is not None else str(ts.date())
    return str(ts)


def _caar_path(results: Any, window: tuple[int, int]) -> pd.DataFrame:
    empty = pd.DataFrame({"rel_day": pd.Series(dtype="int64"), "caar": pd.Series(dtype="float64"),
                          "ci_lower": pd.Series(dtype="float64"), "ci_upper": pd.Series(dtype="float64"),
                          "n": pd.Series(dtype="int64")})
    if results.n_pairs == 0:
        return empty
    with warnings.catch_warnings(), np.errstate(invalid="ignore", divide="ignore"):
        warnings.simplefilter("ignore", RuntimeWarning)
        path = results.caar_path(window)
    if int(path["n"].iloc[0]) == 0:
        return empty
    return path.rename(columns={"lower": "ci_lower", "upper": "ci_upper"})[["rel_day", "caar", "ci_lower", "ci_upper",
                                                                           "se", "n"]]


def _tests(results: Any) -> pd.DataFrame:
    if results.n_pairs == 0:
        return pd.DataFrame({c: pd.Series(dtype="float64") for c in ("window", "test", "estimate", "statistic",
                                                                      "pvalue", "n", "df")})
    with warnings.catch_warnings(), np.errstate(invalid="ignore", divide="ignore"):
        warnings.simplefilter("ignore", RuntimeWarning)
        t = results.tests()
    t = t.assign(window=[(int(a), int(b)) for a, b in zip(t["t1"], t["t2"])])
    return t.drop(columns=["t1", "t2"])


def build_report(
    analysis: "Analysis",
    *,
    title: str = "semiscreen: 2025 semiconductor event studies and theme screens",
    progress: Callable[[str], None] | None = None,
    screen_top: int | None = 25,
) -> ReportData:
    """Fill a :class:`ReportData` with every catalog event, the exposure and every theme's screen.

    Parameters
    ----------
    analysis : Analysis
        The data and parameters (its stages are computed as needed and cached).
    title : str
        Page title.
    progress : callable, optional
        Called with a short stage description before each step.
    screen_top : int or None
        Securities shown (and charted) per theme screen, ranked by composite exposure; ``None``
        for all. The complete screens, every column, are in the ``screen_all`` table.

    Returns
    -------
    ReportData
        Validated.
    """
    from screener.screening import screen

    step = progress or (lambda _stage: None)
    a = analysis
    step("loading prices and running the event study")
    results = a.results
    firms_all = a.car_table(results)
    catalog = a.catalog
    sections = []
    event_window = a.params.event_window
    for row in catalog.itertuples(index=False):
        step(f"event {row.event_id}")
        in_event = results.outcomes["event_id"] == row.event_id
        sub = results.select(event_ids=[row.event_id]) if in_event.any() else None
        firms = firms_all[firms_all["event_id"] == row.event_id].drop(columns=["event_id"]).reset_index(drop=True)
        section = EventSection(
            event_id=row.event_id, headline=row.headline, announced_at=_announced_text(row.announced_at),
            timing=row.timing, date_precision=row.date_precision, document=str(row.document),
            themes=list(row.themes), firms=firms, notes=str(row.notes) if isinstance(row.notes, str) else "",
        )
        if sub is not None:
            section.caar_path = _caar_path(sub, event_window)
            section.tests = _tests(sub)
        sections.append(section)

    step("theme exposure")
    exposure = a.exposure.rename(columns={"theme_id": "theme"})
    screens = {}
    full = []
    for theme in a.themes["theme_id"]:
        step(f"screen {theme}")
        frame = screen(theme=theme, analysis=a).frame
        full.append(frame)
        shown = frame if screen_top is None else frame.head(screen_top)
        screens[str(theme)] = shown[[c for c in SCREEN_COLUMNS if c in frame.columns]].reset_index(drop=True)

    outcomes = a.outcomes.copy()
    changed = outcomes[outcomes["outcome"] != "ok"]
    outcomes_table = changed[["event_id", "symbol", "outcome", "flags", "note"]].reset_index(drop=True)

    car = results.car  # per-window scar, dof and p-value included
    tables = {
        "car": car,
        "bhar": results.bhar,
        "params": results.params,
        "metrics": a.metrics.copy(),
        "pairs": outcomes.copy(),
        "screen_all": pd.concat(full, ignore_index=True) if full else pd.DataFrame(),
    }
    for frame in [exposure, outcomes_table, *screens.values(), *tables.values()]:
        frame.attrs = {}  # e.g. metrics' as_of Timestamp: not for the files' metadata
    available = set()
    for s in sections:
        available |= set(s.tests.get("test", []))
    summary_tests = [t for t in SUMMARY_TESTS if t in available]
    data = ReportData(
        title=title,
        generated_at=generated_at(),
        provenance=dict(a.provenance),
        events=sections,
        exposure=exposure,
        screens=screens,
        outcomes=outcomes_table,
        warnings=list(a.notes),
        tables=tables,
        summary_tests=summary_tests,
    )
    return data.validate()
