"""``semiscreen report``: every seed event studied, theme exposure and screens, written as a report."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from screener.cli.cmd_study import ESTIMATION_HELP, MODEL_HELP, WINDOW_HELP

__all__ = ["register"]


def register(app: typer.Typer) -> None:
    """Add the ``report`` command to ``app``."""

    @app.command("report")
    def report_command(
        out: Annotated[Path, typer.Option("--out", "-o", help="Report directory (created; an earlier semiscreen report there is replaced).", file_okay=False)] = Path("report"),
        force: Annotated[bool, typer.Option("--force", help="Replace --out even if it is a non-empty directory semiscreen did not write.")] = False,
        model: Annotated[str, typer.Option("--model", "-m", help=MODEL_HELP)] = "market",
        estimation: Annotated[str, typer.Option("--estimation", help=ESTIMATION_HELP)] = "-250,-11",
        window: Annotated[Optional[list[str]], typer.Option("--window", "-w", metavar="FIRST,LAST", help=WINDOW_HELP)] = None,
        as_of: Annotated[Optional[str], typer.Option("--as-of", metavar="DATE", help="Date of the screening metrics (default: the latest date ~all equities have a price).")] = None,
    ) -> None:
        """Write the full report: HTML, Markdown, tidy CSV/JSON/Parquet tables, charts and provenance.

        Every catalog event is studied on the price source (the bundled snapshot unless --prices
        or --cache-dir is given); theme exposure and a screen for every theme follow.
        """
        from screener.cli._output import note
        from screener.cli.cmd_study import cli_model, make_analysis, progress_reporter, require_prices
        from screener.report.build import build_report
        from screener.errors import InputError
        from screener.report.writer import MARKER, write_report

        target = Path(out)
        # Refuse a foreign non-empty directory before any work (write_report checks again).
        if target.is_dir() and not force and not (target / MARKER).is_file() and any(target.iterdir()):
            raise InputError(f"report directory {target} exists, is not empty and was not written by semiscreen "
                             f"(no {MARKER} file); choose another --out or pass --force to replace it")
        analysis = make_analysis(model=cli_model(model), estimation=estimation, windows=window or None, as_of=as_of)
        require_prices(analysis)  # exit 3 before any work when the source has no prices at all
        n_steps = 2 + len(analysis.catalog) + len(analysis.themes) + 2
        with progress_reporter(n_steps, "report") as bar:
            data = build_report(analysis, progress=bar.advance)
            bar.advance("writing files and charts")
            written = write_report(data, target, force=force)
        note(f"report written to {target} ({len(written.files)} files); open {target / 'report.html'}")
        for message in analysis.notes:
            note(f"note: {message}")
