"""The event catalog: schemas, loaders and the event-firm table.

Three datasets describe the events (see ``docs/architecture.md``, "Seed datasets"):

- ``documents.csv``: the source documents (file name, sha256, language, period covered);
- ``events.csv``: one row per event, keyed by ``event_id``: when it was first announced
  (a local date of the primary market or a timestamp with UTC offset), the timing relative to
  that market's session, the themes it bears on;
- ``event_securities.csv``: which securities each event touches, keyed by
  (``event_id``, ``symbol``): role and expected sign.

An event is keyed by its id, never by a symbol: one security can have many events and one event
many securities. :func:`event_firms` joins the three into the engine's input, one row per
(event, security), with day 0 on that security's own exchange.

Each dataset's schema is a pandera ``DataFrameModel``, declared here and applied by
:mod:`screener.validate` (reading, parsing, lazy validation, problems by CSV line).
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any, Iterable

import pandas as pd
import pandera.pandas as pa
from pandera.typing import Series

from screener.errors import CalendarError, InputError, Problem
from screener.validate import FILE_NAME_PATTERN, SLUG_PATTERN, SYMBOL_PATTERN, DatasetSpec, load_dataset

if TYPE_CHECKING:  # pragma: no cover
    from pathlib import Path

__all__ = [
    "TIMINGS",
    "DATE_PRECISIONS",
    "ROLES",
    "LANGUAGES",
    "DocumentSchema",
    "EventSchema",
    "EventSecuritySchema",
    "load_documents",
    "load_catalog",
    "load_event_securities",
    "event_firms",
    "primary_markets",
    "timing_of",
]

TIMINGS = ("before_open", "during", "after_close", "unknown")
DATE_PRECISIONS = ("exact", "day", "approximate")
ROLES = ("primary", "peer", "supplier", "customer", "competitor", "index")
LANGUAGES = ("en", "zh")
_SHA256_PATTERN = r"^[0-9a-f]{64}$"


def _is_slug_list(value: Any) -> bool:
    import re

    return isinstance(value, list) and all(isinstance(v, str) and re.match(SLUG_PATTERN, v) for v in value)


class DocumentSchema(pa.DataFrameModel):
    """``documents.csv``: the source documents the events were read from."""

    document: Series[str] = pa.Field(str_matches=FILE_NAME_PATTERN, unique=True)
    sha256: Series[str] = pa.Field(str_matches=_SHA256_PATTERN)
    language: Series[str] = pa.Field(isin=list(LANGUAGES))
    period_start: Series[pd.Timestamp] = pa.Field()
    period_end: Series[pd.Timestamp] = pa.Field()
    title: Series[str] = pa.Field()

    class Config:
        name = "documents"
        strict = True
        ordered = True


class EventSchema(pa.DataFrameModel):
    """``events.csv``: one row per event.

    ``announced_at`` holds a ``Timestamp`` per row: tz-naive midnight for a date (the primary
    market's local date), tz-aware (with the file's UTC offset) for a timestamp. ``themes`` is
    a list of theme ids.
    """

    event_id: Series[str] = pa.Field(str_matches=SLUG_PATTERN, unique=True)
    announced_at: Series[object] = pa.Field()
    timing: Series[str] = pa.Field(isin=list(TIMINGS))
    date_precision: Series[str] = pa.Field(isin=list(DATE_PRECISIONS))
    document: Series[str] = pa.Field(str_matches=FILE_NAME_PATTERN)
    document_date: Series[pd.Timestamp] = pa.Field(nullable=True)
    headline: Series[str] = pa.Field()
    themes: Series[object] = pa.Field()
    notes: Series[str] = pa.Field(nullable=True)

    class Config:
        name = "events"
        strict = True
        ordered = True

    @pa.check("announced_at", element_wise=True, error="must be a date or a timestamp with UTC offset")
    def _announced_is_timestamp(cls, value: Any) -> bool:
        return isinstance(value, pd.Timestamp)

    @pa.check("themes", element_wise=True,
              error="must be ';'-separated theme ids (lowercase slugs), at least one")
    def _themes_are_slugs(cls, value: Any) -> bool:
        return _is_slug_list(value) and len(value) > 0


class EventSecuritySchema(pa.DataFrameModel):
    """``event_securities.csv``: the securities each event touches, keyed by (event_id, symbol)."""

    event_id: Series[str] = pa.Field(str_matches=SLUG_PATTERN)
    symbol: Series[str] = pa.Field(str_matches=SYMBOL_PATTERN)
    role: Series[str] = pa.Field(isin=list(ROLES))
    expected_sign: Series[int] = pa.Field(isin=[-1, 0, 1])
    rationale: Series[str] = pa.Field()

    class Config:
        name = "event_securities"
        strict = True
        ordered = True
        unique = ["event_id", "symbol"]


DOCUMENTS_SPEC = DatasetSpec(
    "documents", "documents.csv", DocumentSchema,
    {"document": "str", "sha256": "str", "language": "str", "period_start": "date",
     "period_end": "date", "title": "str"},
)
#: What to write in the ``document`` column (shown when a cell is blank or malformed).
DOCUMENT_HINT = (
    "give the source the event was read from: in the project's catalog, the document's file name "
    "as listed in documents.csv (e.g. 000_5e242675252dc545.txt); for your own events, any "
    "identifier of the source without '/' or '\\' (e.g. reuters-2025-04-15 or a report's file name)"
)

EVENTS_SPEC = DatasetSpec(
    "events", "events.csv", EventSchema,
    {"event_id": "str", "announced_at": "announced_at", "timing": "str", "date_precision": "str",
     "document": "str", "document_date": "optional_date", "headline": "str", "themes": "list",
     "notes": "optional_str"},
    hints={"document": DOCUMENT_HINT},
)
EVENT_SECURITIES_SPEC = DatasetSpec(
    "event_securities", "event_securities.csv", EventSecuritySchema,
    {"event_id": "str", "symbol": "str", "role": "str", "expected_sign": "int", "rationale": "str"},
)


def _seed_path(path: str | os.PathLike[str] | None, filename: str) -> "Path":
    from pathlib import Path

    from screener.paths import seeds_dir

    return Path(path) if path is not None else seeds_dir() / filename


def load_documents(path: str | os.PathLike[str] | None = None) -> pd.DataFrame:
    """Load ``documents.csv`` (default: the project's ``seeds/``), typed and validated.

    Raises
    ------
    ValidationError
        Every problem in the file (file, line, column, value, message).
    """
    return load_dataset(_seed_path(path, DOCUMENTS_SPEC.filename), DOCUMENTS_SPEC)


def load_catalog(path: str | os.PathLike[str] | None = None) -> pd.DataFrame:
    """Load the event catalog ``events.csv`` (default: the project's ``seeds/``).

    Parameters
    ----------
    path : path-like, optional
        A CSV file with the events columns (see ``docs/architecture.md``).

    Returns
    -------
    DataFrame
        One row per event, columns as in the file: ``announced_at`` a ``Timestamp`` per row
        (tz-aware when the file gives a time), ``document_date`` datetime64, ``themes`` a list.

    Raises
    ------
    ValidationError
        Every problem in the file. Cross-dataset checks (themes exist, documents listed, ...)
        are :func:`screener.validate.validate_seeds`'s job.

    Examples
    --------
    >>> import events
    >>> catalog = events.load_catalog()                     # the project's seeds/events.csv
    >>> event = catalog.set_index("event_id").loc["cambricon-revenue-surge-2025-04"]
    >>> event["announced_at"], event["timing"], event["date_precision"], event["themes"]
    (Timestamp('2025-04-18 00:00:00'), 'after_close', 'day', ['china-self-sufficiency', 'ai-compute'])
    >>> export = catalog[catalog["themes"].map(lambda themes: "export-controls" in themes)]
    >>> "nvidia-h20-license-requirement-2025-04" in set(export["event_id"])
    True
    """
    return load_dataset(_seed_path(path, EVENTS_SPEC.filename), EVENTS_SPEC)


def load_event_securities(path: str | os.PathLike[str] | None = None) -> pd.DataFrame:
    """Load ``event_securities.csv`` (default: the project's ``seeds/``), typed and validated.

    Returns
    -------
    DataFrame
        Columns ``event_id, symbol, role, expected_sign (int), rationale``.

    Raises
    ------
    ValidationError
        Every problem in the file.

    Examples
    --------
    >>> import events
    >>> links = events.load_event_securities()
    >>> asml = links[links["event_id"] == "asml-mistral-investment-2025-09"].reset_index(drop=True)
    >>> asml[["symbol", "role", "expected_sign"]]
          symbol     role  expected_sign
    0    ASML.AS  primary              0
    1       ASML     peer              0
    2       NVDA     peer              0
    3  ^STOXX50E    index              0
    """
    return load_dataset(_seed_path(path, EVENT_SECURITIES_SPEC.filename), EVENT_SECURITIES_SPEC)


# --------------------------------------------------------------------------------------------
# Calendars: the primary market and day 0
# --------------------------------------------------------------------------------------------


def primary_markets(securities: pd.DataFrame, universe: pd.DataFrame) -> pd.Series:
    """The primary market (MIC) of each event: the exchange of its first ``primary`` security.

    Returns
    -------
    Series
        MIC indexed by ``event_id``; events without a primary security (or whose primary is not
        in the universe) are absent.
    """
    exchange = universe.drop_duplicates("symbol").set_index("symbol")["exchange"]
    primaries = securities[securities["role"] == "primary"].drop_duplicates("event_id")
    mics = primaries.set_index("event_id")["symbol"].map(exchange)
    return mics.dropna()


def timing_of(announced_at: pd.Timestamp, mic: str) -> str:
    """Where a tz-aware timestamp falls relative to ``mic``'s session that local day.

    Returns
    -------
    str
        ``"before_open"``, ``"during"`` (lunch breaks included) or ``"after_close"``; on a day
        that is not a session, ``"before_open"`` (the market next reacts at its next open).

    Raises
    ------
    CalendarError
        The day is outside the exchange calendar's bounds.
    """
    from screener.calendars import calendar_name, exchange_sessions

    cal = exchange_sessions(calendar_name(mic=mic))
    local = announced_at.tz_convert(cal.tz)
    day = pd.Timestamp(local.date())
    cal.check_date(day, "announcement date")
    i = cal.sessions.searchsorted(day)
    if i >= len(cal.sessions) or cal.sessions[i] != day:
        return "before_open"
    instant = announced_at.tz_convert("UTC").as_unit("ns").value
    if instant < cal.opens[i]:
        return "before_open"
    if instant < cal.closes[i]:
        return "during"
    return "after_close"


def _announcement_instant(announced_at: pd.Timestamp, timing: str, primary_mic: str) -> pd.Timestamp:
    from screener.calendars import announcement_instant

    return announcement_instant(announced_at, timing, primary_mic)


def _day_zero(announced_at: pd.Timestamp, timing: str, mic: str, primary_mic: str) -> pd.Timestamp:
    """Day 0 on ``mic`` (with :func:`_announcement_instant`, where this module meets the calendars)."""
    from screener.calendars import day_zero

    return day_zero(announced_at, timing, mic, primary_mic=primary_mic)


def calendar_problems(
    events: pd.DataFrame,
    securities: pd.DataFrame,
    universe: pd.DataFrame,
    *,
    events_file: str = "events.csv",
    securities_file: str = "event_securities.csv",
) -> tuple[list[Problem], list[str]]:
    """Calendar checks of the catalog: day 0 exists on each linked exchange; timing agrees.

    ``events`` and ``securities`` may be indexed by CSV line (as :mod:`screener.validate`
    reads them), so problems name the line. Rows whose cells failed to parse are skipped (they
    have their own problems).

    Returns
    -------
    problems : list of Problem
    notes : list of str
        Checks that could not run.
    """
    problems: list[Problem] = []
    notes: list[str] = []
    from screener.calendars import calendar_name

    exchange = universe.dropna(subset=["symbol", "exchange"]).drop_duplicates("symbol").set_index("symbol")["exchange"]
    # Securities on an exchange without a calendar are the universe's problem (reported there).
    with_calendar = {}
    for mic in set(exchange):
        try:
            calendar_name(mic=mic)
            with_calendar[mic] = True
        except InputError:
            with_calendar[mic] = False
    exchange = exchange[exchange.map(with_calendar)]
    primary = primary_markets(securities.dropna(subset=["event_id", "symbol"]), universe.dropna(subset=["symbol"]))
    primary = primary[primary.isin(list(exchange))]
    by_event = {e: (line, row) for line, row in events.iterrows() if isinstance(e := row["event_id"], str)}

    for line, row in by_event.values():
        ts, timing, event_id = row["announced_at"], row["timing"], row["event_id"]
        if not isinstance(ts, pd.Timestamp) or ts.tzinfo is None or event_id not in primary.index:
            continue
        if timing not in TIMINGS:
            continue
        try:
            actual = timing_of(ts, primary[event_id])
        except (CalendarError, InputError) as exc:
            problems.append(Problem(events_file, _line(line), "announced_at", ts.isoformat(), str(exc)))
            continue
        if timing != actual:
            problems.append(Problem(
                events_file, _line(line), "timing", timing,
                f"announced_at {ts.isoformat()} falls {actual.replace('_', ' ')} on the primary market "
                f"{primary[event_id]}; timing should be {actual!r}",
            ))

    # A date is placed on the primary market's clock first: if that fails, say so once, on the event.
    unplaced: set[str] = set()
    for line, row in by_event.values():
        ts, timing, event_id = row["announced_at"], row["timing"], row["event_id"]
        if not isinstance(ts, pd.Timestamp) or ts.tzinfo is not None or event_id not in primary.index:
            continue
        if timing not in TIMINGS:
            continue
        try:
            _announcement_instant(ts, timing, primary[event_id])
        except (CalendarError, InputError) as exc:
            unplaced.add(event_id)
            problems.append(Problem(events_file, _line(line), "announced_at", _show(ts),
                                    f"cannot be placed on the primary market {primary[event_id]}: {exc}"))

    for line, link in securities.iterrows():
        event_id, symbol = link["event_id"], link["symbol"]
        if event_id not in by_event or symbol not in exchange.index or event_id not in primary.index:
            continue
        if event_id in unplaced:
            continue
        _, ev = by_event[event_id]
        ts, timing = ev["announced_at"], ev["timing"]
        if not isinstance(ts, pd.Timestamp) or timing not in TIMINGS:
            continue
        mic = exchange[symbol]
        try:
            _day_zero(ts, timing, mic, primary[event_id])
        except (CalendarError, InputError) as exc:
            problems.append(Problem(
                securities_file, _line(line), "symbol", symbol,
                f"event {event_id!r} announced {_show(ts)} has no day 0 on {mic}: {exc}",
            ))
    return problems, notes


def _line(index_value: Any) -> int | None:
    try:
        return int(index_value)
    except (TypeError, ValueError):
        return None


def _show(ts: pd.Timestamp) -> str:
    if not isinstance(ts, pd.Timestamp):  # a caller's own frame may hold strings
        return str(ts)
    return ts.isoformat() if ts.tzinfo is not None else str(ts.date())


# --------------------------------------------------------------------------------------------
# The event-firm table
# --------------------------------------------------------------------------------------------


def _theme_filter(events: pd.DataFrame, themes: Iterable[str]) -> pd.DataFrame:
    wanted = [themes] if isinstance(themes, str) else list(themes)
    known = sorted({t for items in events["themes"] for t in items})
    unknown = [t for t in wanted if t not in known]
    if unknown:
        raise InputError(f"unknown theme {', '.join(map(repr, unknown))}; themes in the catalog: {', '.join(known)}")
    return events[events["themes"].map(lambda items: any(t in items for t in wanted))]


def event_firms(
    events: pd.DataFrame,
    securities: pd.DataFrame,
    universe: pd.DataFrame,
    *,
    event_ids: Iterable[str] | str | None = None,
    themes: Iterable[str] | str | None = None,
    symbols: Iterable[str] | str | None = None,
) -> pd.DataFrame:
    """The engine's input: one row per (event, security), day 0 on the security's exchange.

    Parameters
    ----------
    events, securities, universe : DataFrame
        As returned by :func:`load_catalog`, :func:`load_event_securities` and
        :func:`screener.load_universe`.
    event_ids : str or iterable of str, optional
        Keep these events only.
    themes : str or iterable of str, optional
        Keep events bearing on any of these themes.
    symbols : str or iterable of str, optional
        Keep these securities only.

    Returns
    -------
    DataFrame
        Columns ``event_id, symbol, role, expected_sign, exchange, primary_exchange,
        announced_at, timing, event_date``. ``event_date`` (datetime64, tz-naive) is day 0 on
        the security's own exchange: the first session that could react to the announcement,
        with the timing read on the event's primary market (the exchange of its ``primary``
        security); see :func:`screener.calendars.day_zero`. Rows are in catalog order.

    Raises
    ------
    InputError
        An unknown event id, theme or symbol; an event without a primary security; a security
        not in the universe.
    CalendarError
        An announcement outside an exchange calendar's bounds.

    Examples
    --------
    Nvidia's disclosure after the New York close of 2025-04-15 reaches New York and Shanghai on
    the next session of each (16:00 in New York is 04:00 in Shanghai, before its open):

    >>> import events, screener
    >>> ef = events.event_firms(events.load_catalog(), events.load_event_securities(),
    ...                         screener.load_universe(), event_ids="nvidia-h20-license-requirement-2025-04")
    >>> ef[["symbol", "role", "exchange", "primary_exchange", "timing", "event_date"]]
          symbol        role exchange primary_exchange       timing event_date
    0       NVDA     primary     XNAS             XNAS  after_close 2025-04-16
    1        AMD        peer     XNAS             XNAS  after_close 2025-04-16
    2        TSM    supplier     XNYS             XNAS  after_close 2025-04-16
    3  688256.SS  competitor     XSHG             XNAS  after_close 2025-04-16
    4  688041.SS  competitor     XSHG             XNAS  after_close 2025-04-16
    5       SOXX       index     XNAS             XNAS  after_close 2025-04-16
    """
    for frame, what, needed in ((events, "events", ("event_id", "announced_at", "timing")),
                                (securities, "securities", ("event_id", "symbol", "role", "expected_sign")),
                                (universe, "universe", ("symbol", "exchange"))):
        if not isinstance(frame, pd.DataFrame):
            raise InputError(f"{what} must be a DataFrame, got {type(frame).__name__}")
        missing = [c for c in needed if c not in frame.columns]
        if missing:
            raise InputError(f"{what} has no column {', '.join(map(repr, missing))} (needs {', '.join(needed)})")
    ev = events
    if event_ids is not None:
        wanted = [event_ids] if isinstance(event_ids, str) else list(event_ids)
        unknown = [e for e in wanted if e not in set(ev["event_id"])]
        if unknown:
            raise InputError(f"unknown event id {', '.join(map(repr, unknown))}; "
                             f"{len(ev)} events in the catalog (see `semiscreen events`)")
        ev = ev[ev["event_id"].isin(wanted)]
    if themes is not None:
        ev = _theme_filter(ev, themes)
    links = securities[securities["event_id"].isin(ev["event_id"])]
    if symbols is not None:
        wanted_symbols = [symbols] if isinstance(symbols, str) else list(symbols)
        unknown = [s for s in wanted_symbols if s not in set(universe["symbol"])]
        if unknown:
            raise InputError(f"unknown symbol {', '.join(map(repr, unknown))}: not in the universe")
        links = links[links["symbol"].isin(wanted_symbols)]

    exchange = universe.drop_duplicates("symbol").set_index("symbol")["exchange"]
    missing = sorted(set(links["symbol"]) - set(exchange.index))
    if missing:
        raise InputError(f"symbol {', '.join(map(repr, missing))} of the event securities is not in the universe")
    primary = primary_markets(securities[securities["event_id"].isin(ev["event_id"])], universe)
    no_primary = [e for e in ev["event_id"] if e not in primary.index and e in set(links["event_id"])]
    if no_primary:
        raise InputError(f"event {', '.join(map(repr, no_primary))} has no security with role 'primary'")

    table = links.merge(ev[["event_id", "announced_at", "timing"]], on="event_id", how="inner", validate="many_to_one")
    order = {e: i for i, e in enumerate(ev["event_id"])}
    table = table.assign(_order=table["event_id"].map(order)).sort_values("_order", kind="stable")
    table["exchange"] = table["symbol"].map(exchange)
    table["primary_exchange"] = table["event_id"].map(primary)
    if len(table):
        from screener.calendars import day_zero_many

        try:
            dates = day_zero_many(table["announced_at"], table["timing"], table["exchange"], table["primary_exchange"])
        except InputError as exc:  # CalendarError, or an announcement that is not a date
            bad = _first_failing(table)
            raise (CalendarError if isinstance(exc, CalendarError) else InputError)(f"{bad}: {exc}") from None
        table["event_date"] = dates.to_numpy()
    else:
        table["event_date"] = pd.Series(dtype="datetime64[ns]")
    columns = ["event_id", "symbol", "role", "expected_sign", "exchange", "primary_exchange",
               "announced_at", "timing", "event_date"]
    return table[columns].reset_index(drop=True)


def _first_failing(table: pd.DataFrame) -> str:
    for row in table.itertuples(index=False):
        try:
            _day_zero(row.announced_at, row.timing, row.exchange, row.primary_exchange)
        except (CalendarError, InputError):
            return f"event {row.event_id!r} ({_show(row.announced_at)}) on {row.symbol} ({row.exchange})"
    return "an event"  # pragma: no cover - day_zero_many failed but no single row does

