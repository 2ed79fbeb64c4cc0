"""Loaders (typed, validated frames) and the event-firm table (day 0 per security).

Day 0 is checked against exchange_calendars directly: the first session of the security's
exchange whose close is after the announcement instant (the primary market's open or close,
by timing), which is the rule ``docs/architecture.md`` and ``screener.calendars`` state.
"""

from __future__ import annotations

import functools
import shutil
import warnings
from pathlib import Path

import exchange_calendars as xc
import pandas as pd
import pytest

import events
import screener
from events.catalog import event_firms, load_documents, primary_markets, timing_of
from screener.errors import CalendarError, InputError, ValidationError

FIXTURE = Path(__file__).parent / "data" / "seeds_min"


@pytest.fixture(scope="module")
def catalog() -> pd.DataFrame:
    return events.load_catalog(FIXTURE / "events.csv")


@pytest.fixture(scope="module")
def links() -> pd.DataFrame:
    return events.load_event_securities(FIXTURE / "event_securities.csv")


@pytest.fixture(scope="module")
def universe() -> pd.DataFrame:
    return screener.load_universe(FIXTURE / "universe.csv")


@functools.lru_cache(maxsize=None)
def reference_calendar(name: str) -> xc.ExchangeCalendar:
    with warnings.catch_warnings():  # exchange_calendars' own pandas-4 deprecation notices
        warnings.simplefilter("ignore")
        return xc.get_calendar(name, start="2024-06-01", end="2026-06-01")


def first_close_after(calendar: str, instant: pd.Timestamp) -> pd.Timestamp:
    """Reference day 0: the first session of the calendar whose close is after ``instant``."""
    closes = reference_calendar(calendar).closes
    return closes.index[closes > instant][0]


# ----- loaders --------------------------------------------------------------------------------


def test_catalog_types(catalog):
    raw = pd.read_csv(FIXTURE / "events.csv", dtype=str, keep_default_na=False)
    assert list(catalog.columns) == list(raw.columns)
    assert len(catalog) == len(raw)
    by_id = catalog.set_index("event_id")
    stamp = by_id.loc["us-export-rule", "announced_at"]
    assert isinstance(stamp, pd.Timestamp) and stamp.utcoffset() == pd.Timedelta(hours=-5)
    assert stamp.tz_convert("UTC") == pd.Timestamp("2025-01-13 12:00", tz="UTC")
    date = by_id.loc["ai-chip-results", "announced_at"]
    assert date.tzinfo is None and date == pd.Timestamp("2025-08-26")
    assert by_id.loc["us-export-rule", "themes"] == ["export-controls", "ai-compute"]
    assert catalog["document_date"].dtype.kind == "M"
    assert pd.isna(by_id.loc["asml-ai-stake", "document_date"])
    assert "with a comma in the note" in by_id.loc["us-export-rule", "notes"]


def test_event_securities_types(links):
    assert links["expected_sign"].dtype == "int64"
    assert set(links["expected_sign"]) <= {-1, 0, 1}
    assert list(links.columns) == ["event_id", "symbol", "role", "expected_sign", "rationale"]


def test_universe_and_themes_types(universe):
    nvda = universe.set_index("symbol").loc["NVDA"]
    assert nvda["aliases_en"] == ["NVIDIA", "Nvidia"]
    index_row = universe.set_index("symbol").loc["^GSPC"]
    assert pd.isna(index_row["benchmark"]) and pd.isna(index_row["sector_benchmark"])
    themes = screener.load_themes(FIXTURE / "themes.csv")
    assert themes.set_index("theme_id").loc["ai-compute", "core_symbols"] == ["NVDA", "688256.SS"]


def test_documents_types():
    docs = load_documents(FIXTURE / "documents.csv")
    assert docs["period_start"].dtype.kind == "M"
    assert (docs["period_start"] <= docs["period_end"]).all()
    assert set(docs["language"]) == {"en", "zh"}


def test_loader_raises_every_problem_with_file_and_line(tmp_path):
    path = tmp_path / "events.csv"
    text = (FIXTURE / "events.csv").read_text(encoding="utf-8")
    text = text.replace("ai-chip-results,2025-08-26,after_close", "ai-chip-results,2025-08-26,at_night")
    text = text.replace("asml-ai-stake,2025-09-09", "asml-ai-stake,2025-09-99")
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ValidationError) as info:
        events.load_catalog(path)
    problems = info.value.problems
    assert [(p.row, p.column) for p in problems] == [(2, "timing"), (4, "announced_at")]
    assert all(p.file == str(path) for p in problems)
    assert str(path) in str(info.value) and "and 1 more problem" in str(info.value)


@pytest.mark.parametrize(
    "loader", [events.load_catalog, events.load_event_securities, screener.load_universe, screener.load_themes]
)
def test_loader_missing_file(loader, tmp_path):
    with pytest.raises(ValidationError, match="file not found") as info:
        loader(tmp_path / "nope.csv")
    assert info.value.problems[0].file == str(tmp_path / "nope.csv")


@pytest.mark.parametrize("cell", ["", "   ", "sources/doc_a.txt"])
def test_blank_or_malformed_document_says_what_to_write(tmp_path, cell):
    # was: "is required but blank" and nothing about what belongs there
    path = tmp_path / "my_events.csv"
    text = (FIXTURE / "events.csv").read_text(encoding="utf-8")
    path.write_text(text.replace("ai-chip-results,2025-08-26,after_close,day,doc_a.txt,",
                                 f"ai-chip-results,2025-08-26,after_close,day,{cell},", 1), encoding="utf-8")
    with pytest.raises(ValidationError) as info:
        events.load_catalog(path)
    [p] = info.value.problems
    assert (p.file, p.row, p.column) == (str(path), 2, "document")
    assert "documents.csv" in p.message and "file name" in p.message
    assert "for your own events, any identifier of the source" in p.message
    assert ("is required but blank" in p.message) == (not cell.strip())


def test_byte_order_mark_in_the_catalog_is_accepted(tmp_path):
    # was: "starts with a UTF-8 byte-order mark" for events (Excel's "CSV UTF-8"), not for prices
    path = tmp_path / "events.csv"
    path.write_bytes(b"\xef\xbb\xbf" + (FIXTURE / "events.csv").read_bytes())
    loaded = events.load_catalog(path)
    assert list(loaded.columns)[0] == "event_id"
    pd.testing.assert_frame_equal(loaded, events.load_catalog(FIXTURE / "events.csv"))


def test_loader_default_path_is_the_seeds_dir(tmp_path, monkeypatch):
    shutil.copytree(FIXTURE, tmp_path / "s")
    monkeypatch.setenv("SEMISCREEN_SEEDS", str(tmp_path / "s"))
    assert events.load_catalog()["event_id"].tolist() == ["ai-chip-results", "us-export-rule", "asml-ai-stake"]
    assert len(screener.load_universe()) == 8


# ----- primary market, timing, day 0 ----------------------------------------------------------


def test_primary_markets(links, universe):
    assert primary_markets(links, universe).to_dict() == {
        "ai-chip-results": "XSHG",
        "us-export-rule": "XNAS",
        "asml-ai-stake": "XAMS",
    }


@pytest.mark.parametrize(
    "stamp,mic,expected",
    [
        ("2025-01-13T09:29:00-05:00", "XNAS", "before_open"),
        ("2025-01-13T09:31:00-05:00", "XNAS", "during"),
        ("2025-01-13T16:00:00-05:00", "XNAS", "after_close"),
        ("2025-01-13T12:00:00+08:00", "XSHG", "during"),  # lunch break is inside the session
        ("2025-01-11T10:00:00-05:00", "XNAS", "before_open"),  # a Saturday: next reaction at an open
    ],
)
def test_timing_of(stamp, mic, expected):
    assert timing_of(pd.Timestamp(stamp), mic) == expected


def test_event_firms_one_row_per_pair_with_own_day_zero(catalog, links, universe):
    ef = event_firms(catalog, links, universe)
    assert len(ef) == len(links)
    assert not ef.duplicated(["event_id", "symbol"]).any()
    assert {"event_id", "symbol", "role", "expected_sign", "exchange", "event_date"} <= set(ef.columns)
    got = ef.set_index(["event_id", "symbol"])["event_date"]

    # Date + after_close on XSHG (primary): instant = XSHG close that day.
    shanghai_close = reference_calendar("XSHG").session_close("2025-08-26")
    assert got["ai-chip-results", "688256.SS"] == first_close_after("XSHG", shanghai_close).tz_localize(None)
    assert got["ai-chip-results", "688256.SS"] == pd.Timestamp("2025-08-27")
    # The same instant seen from New York is before that day's US open: day 0 is the same date there.
    assert got["ai-chip-results", "NVDA"] == first_close_after("XNYS", shanghai_close).tz_localize(None)
    assert got["ai-chip-results", "NVDA"] == pd.Timestamp("2025-08-26")

    # Timestamp 07:00 New York: same-day session in New York, evening in Shanghai → next day there.
    instant = pd.Timestamp("2025-01-13T07:00:00-05:00").tz_convert("UTC")
    assert got["us-export-rule", "NVDA"] == first_close_after("XNYS", instant).tz_localize(None)
    assert got["us-export-rule", "688256.SS"] == first_close_after("XSHG", instant).tz_localize(None)
    assert got["us-export-rule", "688256.SS"] > got["us-export-rule", "NVDA"]
    assert ef["event_date"].dtype.kind == "M"


def test_one_security_many_events_one_event_many_securities(catalog, links, universe):
    ef = event_firms(catalog, links, universe)
    assert set(ef.loc[ef["symbol"] == "NVDA", "event_id"]) == {"ai-chip-results", "us-export-rule"}
    assert ef.groupby("event_id").size().to_dict() == links.groupby("event_id").size().to_dict()


def test_event_firms_filters(catalog, links, universe):
    by_theme = event_firms(catalog, links, universe, themes="export-controls")
    assert set(by_theme["event_id"]) == {"us-export-rule"}
    by_symbol = event_firms(catalog, links, universe, symbols=["688256.SS"])
    assert set(by_symbol["symbol"]) == {"688256.SS"}
    assert set(by_symbol["event_id"]) == {"ai-chip-results", "us-export-rule"}
    # the primary market of an event stays its primary's exchange when the primary is filtered out
    assert by_symbol.set_index("event_id").loc["us-export-rule", "primary_exchange"] == "XNAS"
    only = event_firms(catalog, links, universe, event_ids=["asml-ai-stake"])
    assert only[["symbol", "exchange"]].values.tolist() == [["ASML.AS", "XAMS"]]


@pytest.mark.parametrize(
    "kwargs,match",
    [
        ({"themes": "quantum"}, "unknown theme 'quantum'.*ai-compute"),
        ({"event_ids": ["no-such-event"]}, "unknown event id 'no-such-event'"),
        ({"symbols": ["XYZ"]}, "unknown symbol 'XYZ'"),
    ],
)
def test_event_firms_unknown_names(catalog, links, universe, kwargs, match):
    with pytest.raises(InputError, match=match):
        event_firms(catalog, links, universe, **kwargs)


def test_event_firms_without_primary(catalog, links, universe):
    peers_only = links.assign(role=links["role"].where(links["event_id"] != "asml-ai-stake", "peer"))
    with pytest.raises(InputError, match="asml-ai-stake.*no security with role 'primary'"):
        event_firms(catalog, peers_only, universe)


def test_event_firms_past_calendar_bounds_names_the_event(catalog, links, universe):
    late = catalog.copy()
    late.loc[late["event_id"] == "ai-chip-results", "announced_at"] = pd.Timestamp("2027-01-05")
    with pytest.raises(CalendarError, match="ai-chip-results.*2026-12-31"):
        event_firms(late, links, universe)
