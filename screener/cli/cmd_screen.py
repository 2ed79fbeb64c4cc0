"""``semiscreen screen`` (theme screens with filters) and ``semiscreen fields`` (the field dictionary)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from screener.cli._output import OutputFormat, plural

__all__ = ["register"]


def _split(values: list[str] | None) -> list[str]:
    out: list[str] = []
    for v in values or []:
        out += [p.strip() for p in v.split(",") if p.strip()]
    return out


def register(app: typer.Typer) -> None:
    """Add the ``screen`` and ``fields`` commands to ``app``."""

    @app.command("screen")
    def screen_command(
        theme: Annotated[Optional[str], typer.Option("--theme", "-t", help="Theme id (see themes.csv); adds its exposure columns.")] = None,
        exchange: Annotated[Optional[list[str]], typer.Option("--exchange", "-e", metavar="MIC[,MIC]", help="Keep these listing MICs, e.g. XSHG,XHKG (repeatable).")] = None,
        segment: Annotated[Optional[list[str]], typer.Option("--segment", "-s", metavar="SEGMENT[,SEGMENT]", help="Keep these segments, e.g. foundry,equipment (repeatable).")] = None,
        where: Annotated[Optional[list[str]], typer.Option("--where", metavar="FILTER", help="A condition such as \"vol_60d < 0.5\" or \"ret_ytd >= 10%\" (repeatable; all must hold).")] = None,
        sort: Annotated[Optional[str], typer.Option("--sort", metavar="[-]COLUMN[,...]", help="Sort keys, '-' for descending (default -composite with a theme, else symbol).")] = None,
        top: Annotated[Optional[int], typer.Option("--top", "-n", min=1, help="Keep the first N rows (default: all).")] = None,
        preset: Annotated[Optional[Path], typer.Option("--preset", help="A saved screen (TOML: theme, where, exchange, segment, sort, top); options given here win.", dir_okay=False)] = None,
        all_assets: Annotated[bool, typer.Option("--all-assets", help="Also screen ETFs and indices (default: equities only).")] = False,
        columns: Annotated[Optional[str], typer.Option("--columns", "-c", metavar="COL[,COL]", help="Columns to print (default: a readable subset for table/markdown, every column for csv/json).")] = None,
        as_of: Annotated[Optional[str], typer.Option("--as-of", metavar="DATE", help="Date of the metrics (default: the latest date ~all equities have a price).")] = None,
        fmt: Annotated[OutputFormat, typer.Option("--format", "-f", help="Output format.")] = OutputFormat.table,
    ) -> None:
        """Screen semiconductor equities: metrics and a theme's exposure, filtered and sorted.

        Notes on stderr say what the numbers rest on, e.g. that the source documents were not
        found, so the theme composite has no text-relevance component.
        """
        import re

        from screener.cli._output import emit, note
        from screener.cli.cmd_study import make_analysis, progress_reporter, require_prices
        from screener.errors import InputError
        from screener.screening import screen

        analysis = make_analysis(as_of=as_of)
        require_prices(analysis)  # exit 3 when the source has no prices at all
        with progress_reporter(1, "screen") as bar:
            bar("computing metrics and exposure")
            result = screen(theme=theme, filters=where or None, sort=sort, top=top, analysis=analysis,
                            exchange=_split(exchange) or None, segment=_split(segment) or None,
                            include_funds=all_assets, preset=preset)
        if columns:
            wanted = _split([columns])
            unknown = [c for c in wanted if c not in result.frame.columns]
            if unknown:
                raise InputError(f"--columns: no column {', '.join(map(repr, unknown))} in this screen; valid: "
                                 f"{', '.join(map(str, result.frame.columns))}")
            frame = result.frame[wanted]
        elif fmt in (OutputFormat.table, OutputFormat.markdown):
            frame = result.display()
        else:
            frame = result.frame
        frame = frame.copy()
        for c in frame.columns:
            if frame[c].dtype.kind == "M":
                frame[c] = frame[c].dt.strftime("%Y-%m-%d")
        title = f"{result.theme or 'all themes'}: {len(result.frame)} of {plural(result.n_matched, 'security', 'securities')}" + (
            f", as of {result.as_of.date()}" if result.as_of is not None and result.as_of == result.as_of else "")
        emit(frame, fmt, title=title)
        note(result.summary())
        # what the numbers rest on: e.g. no source documents (text relevance left out of the
        # composite), symbols without prices; notes about other themes are left out
        for message in analysis.notes:
            other = re.match(r"^theme '([^']+)'", message)
            if other and other.group(1) != result.theme:
                continue
            note(f"note: {message}")

    @app.command("fields")
    def fields_command(
        component: Annotated[Optional[str], typer.Option("--component", help="Only one producer: universe, metrics, text, event, return, composite.")] = None,
        fmt: Annotated[OutputFormat, typer.Option("--format", "-f", help="Output format.")] = OutputFormat.table,
    ) -> None:
        """List every field a screen can hold: meaning, unit, dtype, producer and the N behind it."""
        from screener.cli._output import emit
        from screener.fields import field_table

        table = field_table(component)
        emit(table, fmt, title=plural(len(table), "field"))
