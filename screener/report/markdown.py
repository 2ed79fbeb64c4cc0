"""The report as Markdown (GitHub-flavoured tables), charts referenced as ``charts/*.png``.

Same content and order as the HTML page. Text from data files is made inert: ``&``, ``<`` and
``>`` become HTML entities (so a name holding markup shows as text in any renderer), pipes in
table cells are escaped as ``\\|`` and line breaks inside a cell become spaces.
"""

from __future__ import annotations

import html
from typing import Any, Mapping

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

__all__ = ["render_markdown", "markdown_table", "md_text"]

DASH = "\u2013"


def md_text(value: Any) -> str:
    """Inert Markdown text: HTML-escaped, pipes escaped, on one line."""
    text = html.escape(str(value), quote=False)
    text = text.replace("\\", "\\\\").replace("|", "\\|")
    for ch in ("`", "*", "[", "]"):
        text = text.replace(ch, "\\" + ch)
    return " ".join(text.splitlines())


def markdown_table(frame: pd.DataFrame, *, links: Mapping[str, Any] | None = None) -> str:
    """Render a frame as a GitHub-flavoured Markdown table (cells formatted and escaped).

    Parameters
    ----------
    frame : DataFrame
        The table (a named index becomes columns).
    links : mapping, optional
        Column -> function giving the in-page anchor a cell links to.
    """
    frame = display_frame(frame)
    links = dict(links or {})
    if len(frame.columns) == 0:
        return "_(none)_\n"
    numeric = [pd.api.types.is_numeric_dtype(frame[c]) and not pd.api.types.is_bool_dtype(frame[c])
               for c in frame.columns]
    lines = ["| " + " | ".join(md_text(c) for c in frame.columns) + " |",
             "|" + "|".join("---:" if num else "---" for num in numeric) + "|"]
    for row in frame.itertuples(index=False, name=None):
        cells = []
        for column, value in zip(frame.columns, row):
            text = md_text(format_value(value, column))
            if column in links and text != "\u2013":
                text = f"[{text}](#{links[column](value)})"
            cells.append(text)
        lines.append("| " + " | ".join(cells) + " |")
    if frame.empty:
        lines.append("| " + " | ".join(["_(no rows)_"] + [""] * (len(frame.columns) - 1)) + " |")
    return "\n".join(lines) + "\n"


def render_markdown(data: ReportData, *, chart_dir: str = "charts",
                    charts: Mapping[str, bytes] | None = None) -> str:
    """Render the report as Markdown.

    Parameters
    ----------
    data : ReportData
        The report's content (validated first).
    chart_dir : str
        Folder, relative to the Markdown file, holding the chart PNGs (the writer puts them in
        ``charts/`` beside ``report.md``).
    charts : mapping, optional
        The charts that exist (file name -> bytes); a chart absent from it is not referenced.
        ``None`` references every chart the report has.

    Returns
    -------
    str
        The Markdown text. Anchors match the HTML ids (``<a id="event-...">``).
    """
    data.validate()

    def image(name: str, alt: str) -> str:
        if charts is not None and name not in charts:
            return f"_(chart not drawn: {md_text(alt)})_\n"
        return f"![{md_text(alt)}]({chart_dir}/{name})\n"

    out: list[str] = [f"# {md_text(data.title)}\n"]
    if data.generated_at:
        out.append(f"Generated {md_text(data.generated_at)}\n")
    out.append('<a id="provenance"></a>\n## Provenance\n')
    items = provenance_items(data.provenance)
    if items:
        out += [f"- **{md_text(k)}**: {md_text(v)}" for k, v in items]
        out.append("")
    else:
        out.append("_(no provenance recorded)_\n")

    out.append('<a id="contents"></a>\n## Contents\n')
    out.append("- [Summary of events](#summary)")
    for ev in data.events:
        label = f"{ev.event_id}: {ev.headline}" if ev.headline else ev.event_id
        out.append(f"- [{md_text(label)}](#{ev.anchor})")
    out.append("- [Theme exposure](#exposure)")
    for theme in data.screens:
        out.append(f"- [Screen: {md_text(theme)}](#{screen_anchor(theme)})")
    out.append("- [Event-firm outcomes](#outcomes)")
    out.append(f"- [Warnings ({len(data.warnings)})](#warnings)\n")

    out.append('<a id="summary"></a>\n## Summary of events\n')
    if data.events:
        by_id = {ev.event_id: ev.anchor for ev in data.events}
        out.append("CAAR per window and the p-values of the main tests "
                   f"({md_text(', '.join(data.chosen_summary_tests()) or 'none')}).\n")
        out.append(markdown_table(data.summary_frame(), links={"event_id": lambda v: by_id[v]}))
    else:
        out.append("_(no events)_\n")

    out.append("## Events\n")
    for ev in data.events:
        out.append(f'<a id="{ev.anchor}"></a>\n### {md_text(ev.event_id)}\n')
        if ev.headline:
            out.append(f"**{md_text(ev.headline)}**\n")
        out.append(f"- **announced**: {md_text(ev.announced_at or DASH)}")
        out.append(f"- **timing**: {md_text(ev.timing)}")
        out.append(f"- **date precision**: {md_text(ev.date_precision)}")
        out.append(f"- **document**: {md_text(ev.document or DASH)}")
        out.append(f"- **themes**: {md_text('; '.join(ev.themes) or DASH)}\n")
        if ev.notes:
            out.append(f"> {md_text(ev.notes)}\n")
        out.append(image(ev.chart_name, f"CAAR path of {ev.event_id}"))
        out.append("#### Tests\n")
        out.append(markdown_table(ev.tests))
        out.append("#### Firms\n")
        out.append(markdown_table(ev.firms))

    out.append('<a id="exposure"></a>\n## Theme exposure\n')
    if data.exposure is not None and not data.exposure.empty:
        out.append(image(HEATMAP_CHART, "theme exposure heatmap"))
        out.append(markdown_table(data.exposure))
    else:
        out.append("_(no exposure data)_\n")

    out.append("## Screens\n")
    if not data.screens:
        out.append("_(no screens)_\n")
    for theme, frame in data.screens.items():
        out.append(f'<a id="{screen_anchor(theme)}"></a>\n### Screen: {md_text(theme)}\n')
        out.append(image(screen_chart_name(theme), f"screen {theme}"))
        out.append(markdown_table(frame))

    out.append('<a id="outcomes"></a>\n## Event-firm outcomes\n')
    if len(data.outcomes.columns):
        out.append(markdown_table(data.outcomes))
    else:
        out.append("_(every event-firm pair was estimated)_\n")

    out.append('<a id="warnings"></a>\n## Warnings\n')
    if data.warnings:
        out += [f"- {md_text(w)}" for w in data.warnings]
        out.append("")
    else:
        out.append("_(none)_\n")
    return "\n".join(out).rstrip("\n") + "\n"
