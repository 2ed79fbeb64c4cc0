"""``semiscreen events``: list the event catalog, filtered by theme, symbol and date."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from screener.cli._output import OutputFormat, plural


def register(app: typer.Typer) -> None:
    """Add the ``events`` command to ``app``."""

    @app.command("events")
    def events_command(
        theme: Annotated[
            Optional[list[str]], typer.Option("--theme", "-t", metavar="THEME", help="Only events bearing on this theme (repeatable).")
        ] = None,
        symbol: Annotated[
            Optional[list[str]], typer.Option("--symbol", "-s", metavar="SYMBOL", help="Only events touching this Yahoo symbol (repeatable).")
        ] = None,
        since: Annotated[Optional[str], typer.Option("--since", metavar="DATE", help="Announced on or after YYYY-MM-DD.")] = None,
        until: Annotated[Optional[str], typer.Option("--until", metavar="DATE", help="Announced on or before YYYY-MM-DD.")] = None,
        events_file: Annotated[
            Optional[Path], typer.Option("--events-file", help="An events CSV instead of the project's.", dir_okay=False)
        ] = None,
        securities_file: Annotated[
            Optional[Path],
            typer.Option("--securities-file", help="An event-securities CSV instead of the project's.", dir_okay=False),
        ] = None,
        fmt: Annotated[OutputFormat, typer.Option("--format", "-f", help="Output format.")] = OutputFormat.table,
    ) -> None:
        """List events: id, announcement, timing, precision, headline, themes, securities."""
        from screener.cli._output import emit

        frame = list_events(theme=theme, symbol=symbol, since=since, until=until,
                            events_file=events_file, securities_file=securities_file)
        if fmt is not OutputFormat.json:
            frame = frame.assign(
                themes=frame["themes"].map("; ".join),
                securities=frame["securities"].map(", ".join),
            )
        emit(frame, fmt, title=plural(len(frame), "event"))


def _parse_day(value: str | None, option: str):  # noqa: ANN202 - pandas Timestamp
    import re

    import pandas as pd

    from screener.errors import InputError

    if value is None:
        return None
    if not re.match(r"^\d{4}-\d{2}-\d{2}$", value.strip()):
        raise InputError(f"{option} {value!r}: expected a date YYYY-MM-DD")
    try:
        return pd.Timestamp(value.strip())
    except ValueError:
        raise InputError(f"{option} {value!r}: not a valid calendar date") from None


def _local_date(ts):  # noqa: ANN001, ANN202 - pandas Timestamp
    import pandas as pd

    return pd.Timestamp(ts.date())


def _announced_text(ts) -> str:  # noqa: ANN001
    return ts.isoformat() if ts.tzinfo is not None else str(ts.date())


def list_events(
    *,
    theme: list[str] | None = None,
    symbol: list[str] | None = None,
    since: str | None = None,
    until: str | None = None,
    events_file: Path | None = None,
    securities_file: Path | None = None,
):  # noqa: ANN201 - DataFrame
    """The catalog as the ``events`` command shows it (lists kept as lists)."""
    import pandas as pd

    from events.catalog import load_catalog, load_event_securities
    from screener.errors import InputError

    catalog = load_catalog(events_file)
    links = load_event_securities(securities_file)
    start, end = _parse_day(since, "--since"), _parse_day(until, "--until")
    if start is not None and end is not None and start > end:
        raise InputError(f"--since {since} is after --until {until}")

    if theme:
        valid = _valid_themes(catalog)
        unknown = [t for t in theme if t not in valid]
        if unknown:
            raise InputError(f"unknown theme {', '.join(map(repr, unknown))}; valid themes: {', '.join(valid)}")
        catalog = catalog[catalog["themes"].map(lambda items: any(t in items for t in theme))]
    if symbol:
        known = set(links["symbol"]) | _universe_symbols()
        unknown = [s for s in symbol if s not in known]
        if unknown:
            raise InputError(f"unknown symbol {', '.join(map(repr, unknown))}: in no event and not in the universe")
        touched = set(links.loc[links["symbol"].isin(symbol), "event_id"])
        catalog = catalog[catalog["event_id"].isin(touched)]
    dates = catalog["announced_at"].map(_local_date)
    keep = pd.Series(True, index=catalog.index)
    if start is not None:
        keep &= dates >= start
    if end is not None:
        keep &= dates <= end
    catalog = catalog[keep]

    def securities_of(event_id: str) -> list[str]:
        rows = links[links["event_id"] == event_id]
        rows = pd.concat([rows[rows["role"] == "primary"], rows[rows["role"] != "primary"]])
        return [f"{r.symbol} ({r.role})" for r in rows.itertuples(index=False)]

    return pd.DataFrame({
        "event_id": catalog["event_id"].to_numpy(),
        "announced_at": catalog["announced_at"].map(_announced_text).to_numpy(),
        "timing": catalog["timing"].to_numpy(),
        "precision": catalog["date_precision"].to_numpy(),
        "headline": catalog["headline"].to_numpy(),
        "themes": [list(t) for t in catalog["themes"]],
        "securities": [securities_of(e) for e in catalog["event_id"]],
    })


def _valid_themes(catalog) -> list[str]:  # noqa: ANN001
    """Theme ids from themes.csv when available, else those the catalog uses."""
    from screener.errors import SemiscreenError

    try:
        from screener.themes import load_themes

        return sorted(load_themes()["theme_id"])
    except SemiscreenError:
        return sorted({t for items in catalog["themes"] for t in items})


def _universe_symbols() -> set[str]:
    from screener.errors import SemiscreenError

    try:
        from screener.universe import load_universe

        return set(load_universe()["symbol"])
    except SemiscreenError:
        return set()
