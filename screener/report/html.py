"""The report as one self-contained HTML page.

Charts are embedded as base64 PNG data URIs and the style sheet is inline: the page has no
external assets and no JavaScript. Every piece of text that reaches the page (names, headlines,
notes, column names, provenance values, warnings) goes through :func:`html.escape`.
"""

from __future__ import annotations

import base64
import html
from typing import Any, Callable, Mapping

import pandas as pd

from screener.report.model import (
    HEATMAP_CHART,
    ReportData,
    display_frame,
    format_value,
    provenance_items,
    screen_anchor,
    screen_chart_name,
)

__all__ = ["render_html", "html_table", "summary_table", "COLLAPSE_ROWS"]

#: Tables longer than this are folded in a ``<details>`` element (still no JavaScript).
COLLAPSE_ROWS = 30

_CSS = """
body{font-family:-apple-system,"Segoe UI",Helvetica,Arial,sans-serif;margin:0 auto;max-width:1100px;
padding:1.5rem;color:#1d1d1f;line-height:1.45}
h1{margin-bottom:.2rem}h2{border-bottom:2px solid #e3e3e3;padding-bottom:.2rem;margin-top:2.2rem}
h3{margin-top:1.8rem}
table{border-collapse:collapse;margin:.6rem 0 1rem;font-size:.85rem}
th,td{border:1px solid #ddd;padding:.25rem .5rem;vertical-align:top}
th{background:#f3f4f6;text-align:left}td.num{text-align:right;font-variant-numeric:tabular-nums}
tr:nth-child(even) td{background:#fafafa}
table.summary th{text-align:center}table.summary td:first-child{white-space:nowrap}
figure{margin:.8rem 0}figure img{max-width:100%;height:auto;border:1px solid #eee}
figcaption{font-size:.8rem;color:#555}
dl.meta{display:grid;grid-template-columns:max-content auto;gap:.15rem 1rem;font-size:.9rem}
dl.meta dt{font-weight:600}dl.meta dd{margin:0}
.note{color:#444;font-size:.9rem}.warn li{color:#8a4b00}
nav ul{columns:2}
.table-wrap{overflow-x:auto}
"""


def _e(value: Any) -> str:
    return html.escape(str(value), quote=True)


def _is_numeric(frame: pd.DataFrame, column: Any) -> bool:
    return pd.api.types.is_numeric_dtype(frame[column]) and not pd.api.types.is_bool_dtype(frame[column])


def html_table(frame: pd.DataFrame, *, links: Mapping[str, Callable[[Any], str]] | None = None,
               caption: str | None = None, collapse: int | None = COLLAPSE_ROWS) -> str:
    """Render a frame as an escaped HTML table.

    Parameters
    ----------
    frame : DataFrame
        The table; a named index becomes columns. Cells are formatted by
        :func:`~screener.report.model.format_value` from their column name.
    links : mapping, optional
        Column -> function giving the in-page anchor (without ``#``) a cell links to.
    caption : str, optional
        Table caption.
    collapse : int or None
        Fold tables with more rows than this in a ``<details>`` element.
    """
    frame = display_frame(frame)
    links = dict(links or {})
    if frame.empty and len(frame.columns) == 0:
        return '<p class="note">(none)</p>'
    numeric = {c: _is_numeric(frame, c) for c in frame.columns}
    out = ['<div class="table-wrap"><table>']
    if caption:
        out.append(f"<caption>{_e(caption)}</caption>")
    out.append("<thead><tr>" + "".join(f'<th scope="col">{_e(c)}</th>' for c in frame.columns) + "</tr></thead>")
    out.append("<tbody>")
    for row in frame.itertuples(index=False, name=None):
        cells = []
        for column, value in zip(frame.columns, row):
            text = _e(format_value(value, column))
            if column in links and text != "\u2013":
                text = f'<a href="#{_e(links[column](value))}">{text}</a>'
            cls = ' class="num"' if numeric[column] else ""
            cells.append(f"<td{cls}>{text}</td>")
        out.append("<tr>" + "".join(cells) + "</tr>")
    if frame.empty:
        out.append(f'<tr><td colspan="{len(frame.columns)}" class="note">(no rows)</td></tr>')
    out.append("</tbody></table></div>")
    table = "".join(out)
    if collapse is not None and len(frame) > collapse:
        table = f"<details><summary>Show all {len(frame)} rows</summary>{table}</details>"
    return table


def summary_table(data: ReportData) -> str:
    """The summary of events with a two-row header: one column group per window.

    Same cells as :meth:`ReportData.summary_frame`; the event id links to its section.
    """
    frame = data.summary_frame()
    windows = data.windows()
    tests = data.chosen_summary_tests()
    fixed = ["event_id", "announced_at", "themes", "n_firms"]
    labels = {"event_id": "event", "announced_at": "announced", "themes": "themes", "n_firms": "firms"}
    head1 = "".join(f'<th scope="col" rowspan="2">{_e(labels[c])}</th>' for c in fixed)
    head1 += "".join(f'<th scope="colgroup" colspan="{1 + len(tests)}">{_e(w)}</th>' for w in windows)
    head2 = "".join('<th scope="col">CAAR</th>' + "".join(f'<th scope="col">p {_e(t)}</th>' for t in tests)
                    for _ in windows)
    rows = []
    for ev, (_, row) in zip(data.events, frame.iterrows()):
        cells = [f'<td><a href="#{_e(ev.anchor)}">{_e(ev.event_id)}</a></td>',
                 f"<td>{_e(format_value(row['announced_at'], 'announced_at'))}</td>",
                 f"<td>{_e(row['themes'])}</td>",
                 f'<td class="num">{_e(format_value(row["n_firms"], "n"))}</td>']
        for w in windows:
            for column in [f"CAAR {w}"] + [f"p {t} {w}" for t in tests]:
                cells.append(f'<td class="num">{_e(format_value(row[column], column))}</td>')
        rows.append("<tr>" + "".join(cells) + "</tr>")
    return ('<div class="table-wrap"><table class="summary"><thead>'
            f"<tr>{head1}</tr><tr>{head2}</tr></thead><tbody>{''.join(rows)}</tbody></table></div>")


def _img(png: bytes | None, alt: str, caption: str) -> str:
    if png is None:
        return f'<p class="note">(chart not drawn: {_e(alt)})</p>'
    data = base64.b64encode(png).decode("ascii")
    return (f'<figure><img src="data:image/png;base64,{data}" alt="{_e(alt)}">'
            f"<figcaption>{_e(caption)}</figcaption></figure>")


def _meta(items: list[tuple[str, str]]) -> str:
    return '<dl class="meta">' + "".join(f"<dt>{_e(k)}</dt><dd>{_e(v)}</dd>" for k, v in items) + "</dl>"


def render_html(data: ReportData, *, charts: Mapping[str, bytes] | None = None) -> str:
    """Render the report as a self-contained HTML page.

    Parameters
    ----------
    data : ReportData
        The report's content (validated first).
    charts : mapping of str to bytes, optional
        PNG bytes by chart file name (as :func:`~screener.report.charts.report_charts`
        returns); drawn here when not given.

    Returns
    -------
    str
        The page. Sections carry stable ids: ``provenance``, ``contents``, ``summary``,
        ``event-<event_id>`` per event, ``exposure``, ``screen-<theme>`` per screen,
        ``outcomes``, ``warnings``.
    """
    data.validate()
    if charts is None:
        from screener.report.charts import report_charts

        charts = report_charts(data)
    parts: list[str] = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{_e(data.title)}</title><style>{_CSS}</style></head><body>",
        f"<header><h1>{_e(data.title)}</h1>",
    ]
    if data.generated_at:
        parts.append(f'<p class="note">Generated {_e(data.generated_at)}</p>')
    parts.append("</header>")

    # provenance
    parts.append('<section id="provenance"><h2>Provenance</h2>')
    items = provenance_items(data.provenance)
    parts.append(_meta(items) if items else '<p class="note">(no provenance recorded)</p>')
    parts.append("</section>")

    # table of contents
    toc = ['<nav id="contents"><h2>Contents</h2><ul>', '<li><a href="#summary">Summary of events</a></li>']
    for ev in data.events:
        label = f"{ev.event_id}: {ev.headline}" if ev.headline else ev.event_id
        toc.append(f'<li><a href="#{_e(ev.anchor)}">{_e(label)}</a></li>')
    toc.append('<li><a href="#exposure">Theme exposure</a></li>')
    for theme in data.screens:
        toc.append(f'<li><a href="#{_e(screen_anchor(theme))}">Screen: {_e(theme)}</a></li>')
    toc.append('<li><a href="#outcomes">Event-firm outcomes</a></li>')
    toc.append(f'<li><a href="#warnings">Warnings ({len(data.warnings)})</a></li></ul></nav>')
    parts += toc

    # summary
    parts.append('<section id="summary"><h2>Summary of events</h2>')
    if data.events:
        parts.append('<p class="note">CAAR per window and the p-values of the main tests '
                     f"({_e(', '.join(data.chosen_summary_tests()) or 'none')}).</p>")
        parts.append(summary_table(data))
    else:
        parts.append('<p class="note">(no events)</p>')
    parts.append("</section>")

    # events
    parts.append('<section id="events"><h2>Events</h2>')
    for ev in data.events:
        parts.append(f'<section id="{_e(ev.anchor)}" class="event"><h3>{_e(ev.event_id)}</h3>')
        if ev.headline:
            parts.append(f"<p><strong>{_e(ev.headline)}</strong></p>")
        parts.append(_meta([
            ("announced", ev.announced_at or "\u2013"),
            ("timing", ev.timing),
            ("date precision", ev.date_precision),
            ("document", ev.document or "\u2013"),
            ("themes", "; ".join(ev.themes) or "\u2013"),
        ]))
        if ev.notes:
            parts.append(f'<p class="note">{_e(ev.notes)}</p>')
        parts.append(_img(charts.get(ev.chart_name), f"CAAR path of {ev.event_id}",
                          "Cumulative average abnormal return with its confidence band; dashed line: day 0."))
        parts.append("<h4>Tests</h4>" + html_table(ev.tests))
        parts.append("<h4>Firms</h4>" + html_table(ev.firms))
        parts.append("</section>")
    parts.append("</section>")

    # exposure
    parts.append('<section id="exposure"><h2>Theme exposure</h2>')
    if data.exposure is not None and not data.exposure.empty:
        parts.append(_img(charts.get(HEATMAP_CHART), "theme exposure heatmap",
                          f"Composite exposure by security and theme (top {data.heatmap_top_n} per theme; "
                          "red positive, blue negative, grey missing)."))
        parts.append(html_table(data.exposure))
    else:
        parts.append('<p class="note">(no exposure data)</p>')
    parts.append("</section>")

    # screens
    parts.append('<section id="screens"><h2>Screens</h2>')
    if not data.screens:
        parts.append('<p class="note">(no screens)</p>')
    for theme, frame in data.screens.items():
        parts.append(f'<section id="{_e(screen_anchor(theme))}" class="screen"><h3>Screen: {_e(theme)}</h3>')
        parts.append(_img(charts.get(screen_chart_name(theme)), f"screen {theme}", f"Screen scores for {theme}."))
        parts.append(html_table(frame))
        parts.append("</section>")
    parts.append("</section>")

    # outcomes and warnings
    parts.append('<section id="outcomes"><h2>Event-firm outcomes</h2>'
                 '<p class="note">Event-firm pairs that were dropped or changed, and why.</p>')
    parts.append(html_table(data.outcomes) if not data.outcomes.empty or len(data.outcomes.columns)
                 else '<p class="note">(every event-firm pair was estimated)</p>')
    parts.append("</section>")
    parts.append('<section id="warnings"><h2>Warnings</h2>')
    if data.warnings:
        parts.append('<ul class="warn">' + "".join(f"<li>{_e(w)}</li>" for w in data.warnings) + "</ul>")
    else:
        parts.append('<p class="note">(none)</p>')
    parts.append("</section></body></html>")
    return "\n".join(parts) + "\n"
