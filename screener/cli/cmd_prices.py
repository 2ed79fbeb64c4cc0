"""``semiscreen fetch`` and ``semiscreen prices``: fill the price cache; summarise coverage."""

from __future__ import annotations

from typing import Annotated, List, Optional

import typer

from screener.cli._output import OutputFormat

__all__ = ["register"]


def _date(value: str | None, option: str):
    if value is None:
        return None
    import pandas as pd

    from screener.errors import InputError

    import re

    if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", value.strip()):  # pandas reads "25-01-02" as 2002-01-25
        raise InputError(f"{option}: give a plain date (YYYY-MM-DD), not {value!r}")
    try:
        ts = pd.Timestamp(value.strip())
    except (ValueError, TypeError):
        raise InputError(f"{option}: not a date (YYYY-MM-DD): {value!r}") from None
    if ts is pd.NaT or ts.tzinfo is not None or ts != ts.normalize():
        raise InputError(f"{option}: give a plain date (YYYY-MM-DD), not {value!r}")
    return ts


def fetch(
    symbols: Annotated[List[str], typer.Argument(help="Yahoo symbols, e.g. NVDA ^GSPC 0981.HK.")],
    start: Annotated[Optional[str], typer.Option("--start", help="First date (YYYY-MM-DD); default 2015-01-01.")] = None,
    end: Annotated[Optional[str], typer.Option("--end", help="Last date (YYYY-MM-DD); default today.")] = None,
    fmt: Annotated[OutputFormat, typer.Option("--format", "-f", help="Output format.")] = OutputFormat.table,
) -> None:
    """Fill the price cache from Yahoo (or from --prices DIR); only missing dates are fetched."""
    import pandas as pd

    from screener.cli._app import settings
    from screener.cli._output import emit, note
    from screener.errors import DataUnavailableError, InputError
    from screener.prices import CachedSource, LocalDirectorySource, YahooSource, check_symbol

    for s in symbols:
        check_symbol(s)
    lo, hi = _date(start, "--start"), _date(end, "--end")
    if lo is not None and hi is not None and lo > hi:
        raise InputError(f"--start {lo.date()} is after --end {hi.date()}")
    if settings.prices_dir is not None:
        upstream = LocalDirectorySource(settings.prices_dir)
    else:
        if settings.offline:
            raise DataUnavailableError("fetch downloads from Yahoo, which --offline forbids (or pass --prices DIR)")
        upstream = YahooSource(quiet=settings.quiet)
    cache = CachedSource(upstream, settings.cache_dir)
    records = cache.fetch(symbols, lo, hi)
    frame = pd.DataFrame(
        [{"symbol": s, "source": m["source"], "first_date": m["first_date"], "last_date": m["last_date"],
          "rows": m["rows"]} for s, m in records.items()]
    )
    emit(frame, fmt, title="Price cache")
    note(f"cache: {cache.dir}")


def prices(
    symbols: Annotated[List[str], typer.Argument(help="Yahoo symbols, e.g. NVDA ^GSPC 0981.HK.")],
    fmt: Annotated[OutputFormat, typer.Option("--format", "-f", help="Output format.")] = OutputFormat.table,
) -> None:
    """Summarise each symbol's prices: source, range, rows, gaps against its exchange calendar."""
    import warnings

    import pandas as pd

    from screener.cli._app import settings
    from screener.cli._output import emit
    from screener.errors import DataQualityWarning
    from screener.prices import check_symbol, open_source
    from screener.prices.summary import coverage_summary
    from screener import calendars

    for s in symbols:
        check_symbol(s)
        calendars.calendar_name(s)  # unknown suffix: exit 2 before any loading
    source = open_source(settings.prices_dir, settings.cache_dir, settings.offline, quiet=settings.quiet)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataQualityWarning)  # shown as the adj_close_fallback column
        frames = source.load_many(symbols)
        rows = [coverage_summary(frames[s], s) for s in dict.fromkeys(symbols)]
    emit(pd.DataFrame(rows), fmt, title="Prices")


def register(app: typer.Typer) -> None:
    """Add ``fetch`` and ``prices`` to the app."""
    app.command("fetch")(fetch)
    app.command("prices")(prices)
