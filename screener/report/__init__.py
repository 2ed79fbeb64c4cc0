"""Reports: the input model, charts, HTML and Markdown renderers and the atomic writer.

>>> from screener.report import ReportData, EventSection, write_report
>>> write_report(ReportData(...), "report/")          # doctest: +SKIP

Names are imported lazily (pandas and matplotlib load on first use), so importing the package
is cheap.
"""

from __future__ import annotations

import importlib
from typing import Any

__all__ = [
    "EventSection",
    "ReportData",
    "write_report",
    "WrittenReport",
    "tidy_tables",
    "render_html",
    "render_markdown",
    "report_charts",
    "caar_chart",
    "exposure_heatmap",
    "screen_bar_chart",
    "MARKER",
]

_LAZY = {
    "EventSection": "screener.report.model",
    "ReportData": "screener.report.model",
    "write_report": "screener.report.writer",
    "WrittenReport": "screener.report.writer",
    "tidy_tables": "screener.report.writer",
    "MARKER": "screener.report.writer",
    "render_html": "screener.report.html",
    "render_markdown": "screener.report.markdown",
    "report_charts": "screener.report.charts",
    "caar_chart": "screener.report.charts",
    "exposure_heatmap": "screener.report.charts",
    "screen_bar_chart": "screener.report.charts",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'screener.report' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(__all__)
