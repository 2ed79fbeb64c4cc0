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
        from rich.cells import cell_len
        from rich.console import Console
        from rich.table import Table

        table = Table(title=title, show_lines=False, title_justify="left")
        cells = [[_cell(v) for v in row] for row in frame.itertuples(index=False)]
        needed = 1
        for k, c in enumerate(frame.columns):
            numeric = frame[c].dtype.kind in "iuf"
            # numbers and identifiers (no spaces: symbols, event ids, dates, windows) are never
            # split across lines; columns of prose (names, notes) take the wrapping
            atomic = numeric or all(" " not in row[k] for row in cells)
            widest = max([cell_len(str(c))] + [cell_len(row[k]) for row in cells])  # (CJK: 2 cells)
            table.add_column(str(c), justify="right" if numeric else "left", overflow="fold", no_wrap=atomic,
                             min_width=widest if atomic else min(widest, 12))
            needed += (widest if atomic else min(widest, 12)) + 3
        for row in cells:
            table.add_row(*row)
        # In a terminal, fit the terminal as far as the numbers and identifiers allow (a table
        # that cannot fit is drawn wider than the terminal, never with a number split or a
        # column cut off); in a pipe or file, never wrap cells.
        if sys.stdout.isatty():
            import shutil

            width = max(shutil.get_terminal_size().columns, needed)
        else:
            width = 400
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
