"""Printing results: one helper for every command that prints a table.

``--format table`` (rich, for people), ``csv``, ``json`` (records) and ``markdown``. Tables go
to stdout; notes and progress go to stderr so pipes stay clean.
"""

from __future__ import annotations

import sys
from enum import Enum
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd


class OutputFormat(str, Enum):
    table = "table"
    csv = "csv"
    json = "json"
    markdown = "markdown"


def _cell(value: object) -> str:
    import math

    if value is None:
        return ""
    if isinstance(value, float):
        if math.isnan(value):
            return ""
        return f"{value:.6g}"
    return str(value)


def emit(frame: "pd.DataFrame", fmt: OutputFormat | str = OutputFormat.table, *, title: str | None = None,
         index: bool = False) -> None:
    """Print ``frame`` to stdout in the chosen format."""
    fmt = OutputFormat(fmt)
    if index:
        frame = frame.reset_index()
    if fmt is OutputFormat.csv:
        frame.to_csv(sys.stdout, index=False, lineterminator="\n")
    elif fmt is OutputFormat.json:
        sys.stdout.write(frame.to_json(orient="records", date_format="iso", force_ascii=False, indent=1))
        sys.stdout.write("\n")
    elif fmt is OutputFormat.markdown:
        cols = [str(c) for c in frame.columns]
        lines = ["| " + " | ".join(cols) + " |", "|" + "|".join("---" for _ in cols) + "|"]
        for row in frame.itertuples(index=False):
            lines.append("| " + " | ".join(_cell(v).replace("|", "\\|") for v in row) + " |")
        if title:
            sys.stdout.write(f"### {title}\n\n")
        sys.stdout.write("\n".join(lines) + "\n")
    else:
        from rich.console import Console
        from rich.table import Table

        table = Table(title=title, show_lines=False, title_justify="left")
        for c in frame.columns:
            numeric = frame[c].dtype.kind in "iuf"
            table.add_column(str(c), justify="right" if numeric else "left", overflow="fold")
        for row in frame.itertuples(index=False):
            table.add_row(*(_cell(v) for v in row))
        # In a terminal, fit the terminal; in a pipe or file, never wrap cells (a wide line is
        # better than a table folded into 80 columns).
        width = None if sys.stdout.isatty() else 400
        Console(soft_wrap=False, width=width).print(table)


def plural(n: int, word: str, many: str | None = None) -> str:
    """``"1 event"``, ``"3 events"``: ``n`` and the word, in the plural unless ``n`` is 1.

    Parameters
    ----------
    n : int
        The count.
    word : str
        The singular (``"event-firm pair"``).
    many : str, optional
        The plural when it is not ``word + "s"``.

    Returns
    -------
    str

    Examples
    --------
    >>> plural(1, "event"), plural(0, "event"), plural(2, "security", "securities")
    ('1 event', '0 events', '2 securities')
    """
    return f"{n} {word if n == 1 else (many or word + 's')}"


def note(message: str) -> None:
    """A note for the user on stderr (silenced by ``--quiet``)."""
    from screener.cli._app import settings

    if not settings.quiet:
        print(message, file=sys.stderr)
