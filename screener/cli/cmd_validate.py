"""``semiscreen validate``: check the seed datasets (or your own event files) and report every problem."""

from __future__ import annotations

from enum import Enum
from pathlib import Path
from typing import Annotated, Optional

import typer


class ValidateFormat(str, Enum):
    table = "table"
    json = "json"


def register(app: typer.Typer) -> None:
    """Add the ``validate`` command to ``app``."""

    @app.command("validate")
    def validate(
        paths: Annotated[
            Optional[list[Path]],
            typer.Argument(
                metavar="PATH",
                help="Dataset files or folders to check (default: the project's seeds/): events, "
                "event securities, universe, themes, and price files (CSV with a date,open,high,low,"
                "close[,adj_close],volume header, or Parquet) or folders of them. Each file's dataset is "
                "recognised by its header, or its name (e.g. my_events.csv, my_event_securities.csv); "
                "the universe and themes not given are the project's.",
                show_default=False,
            ),
        ] = None,
        fmt: Annotated[
            ValidateFormat, typer.Option("--format", "-f", help="table: one line per problem; json: for machines.")
        ] = ValidateFormat.table,
        documents: Annotated[
            Optional[Path],
            typer.Option("--documents", help="Folder of the source documents (sha256 check); default "
                         "$SEMISCREEN_DOCUMENTS or ../shared/seeds.", file_okay=False),
        ] = None,
        snapshot: Annotated[
            Optional[Path],
            typer.Option("--snapshot", help="Price snapshot folder or manifest.json (default seeds/prices): "
                         "the manifest and each of its files are checked."),
        ] = None,
    ) -> None:
        """Validate datasets: schemas and cross-references. Exit 2 if any problem is found."""
        import json
        import sys

        from screener.cli._output import note
        from screener.validate import validate_seeds

        report = validate_seeds(paths or None, documents_dir=documents, snapshot=snapshot)
        if not report.ok:
            from screener.cli._app import settings

            settings.pending_exit = 2
        if fmt is ValidateFormat.json:
            sys.stdout.write(json.dumps(report.to_dict(), ensure_ascii=False, indent=1, default=str) + "\n")
        else:
            for problem in report.problems:
                print(_problem_line(problem))
            print(report.summary())
            for message in report.notes:
                note(f"note: {message}")
        if not report.ok:
            raise typer.Exit(2)


def _problem_line(problem) -> str:  # noqa: ANN001 - screener.errors.Problem
    """``file:row: column 'c' (value 'v'): message``, the shape editors and CI logs link."""
    where = problem.file + (f":{problem.row}" if problem.row is not None else "")
    parts = []
    if problem.column:
        parts.append(f"column {problem.column!r}")
    if problem.value is not None:
        parts.append(f"value {problem.value!r}")
    prefix = f" {' '.join(parts)}:" if parts else ""
    return f"{where}:{prefix} {problem.message}"
