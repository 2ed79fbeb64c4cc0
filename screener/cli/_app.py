"""The Typer application, its global options and the shared CLI settings.

Commands live in their own modules (``screener/cli/cmd_*.py``); each defines a
``register(app)`` function. Heavy libraries (pandas, numpy, matplotlib...) are imported
inside the command functions, never at module level, so ``semiscreen --help`` stays fast.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Optional

import typer

from screener._version import __version__

app = typer.Typer(
    name="semiscreen",
    help=(
        "Event studies and theme screens for semiconductor equities.\n\n"
        "Exit codes: 0 ok, 2 bad input, 3 data unavailable."
    ),
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)


@dataclass
class Settings:
    """Global options, set by the app callback and read by every command."""

    prices_dir: Path | None = None
    cache_dir: Path | None = None
    offline: bool = False
    quiet: bool = False
    debug: bool = False
    #: The exit code a command has decided on before it prints (e.g. 2 for problems found):
    #: kept when the reader of the output goes away early (``| head``).
    pending_exit: int = 0


settings = Settings()


def _version_callback(value: bool) -> None:
    if value:
        typer.echo(f"semiscreen {__version__}")
        raise typer.Exit()


@app.callback()
def _main_options(
    version: Annotated[
        Optional[bool],
        typer.Option("--version", callback=_version_callback, is_eager=True, help="Print the version and exit."),
    ] = None,
    prices: Annotated[
        Optional[Path],
        typer.Option(
            "--prices",
            help="Read prices from this directory (one CSV or Parquet file per Yahoo symbol) "
            "instead of the bundled snapshot.",
            file_okay=False,
        ),
    ] = None,
    cache_dir: Annotated[
        Optional[Path],
        typer.Option("--cache-dir", help="Price cache directory (default: the user cache dir)."),
    ] = None,
    offline: Annotated[
        bool, typer.Option("--offline", help="Never touch the network; fail clearly on a cache miss.")
    ] = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress bars or notes.")] = False,
    debug: Annotated[bool, typer.Option("--debug", help="Show the full traceback on errors.")] = False,
) -> None:
    settings.prices_dir = prices
    settings.cache_dir = cache_dir
    settings.offline = offline
    settings.quiet = quiet
    settings.debug = debug
