"""Hostile event files: years pandas cannot hold, quoted cells with newlines, dates past a
calendar's end. Every problem is reported (file, line, column, value), never a traceback
(fixtures: tests/data/broken/events, see its README; tests/data/seeds_min)."""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

os.environ.setdefault("SEMISCREEN_CALENDAR_CACHE", str(Path(tempfile.gettempdir()) / "semiscreen-test-calendars"))

import pandas as pd
import pytest

import events
from screener import load_universe
from screener.cli import main
from screener.errors import CalendarError, InputError, ValidationError
from screener.validate import validate_seeds

BROKEN = Path(__file__).parent / "data" / "broken" / "events"
SEEDS_MIN = Path(__file__).parent / "data" / "seeds_min"


@pytest.fixture
def seeds(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    target = tmp_path / "seeds"
    shutil.copytree(SEEDS_MIN, target)
    monkeypatch.setenv("SEMISCREEN_SEEDS", str(target))
    monkeypatch.setenv("SEMISCREEN_DOCUMENTS", str(target / "documents"))
    return target


def _append(path: Path, lines: list[str]) -> None:
    text = path.read_text(encoding="utf-8")
    path.write_text(text.rstrip("\n") + "\n" + "\n".join(lines) + "\n", encoding="utf-8")


def test_out_of_range_years_are_problems_not_a_crash(seeds):
    # was: OutOfBoundsDatetime (a traceback, exit 1) from the document_date column, and from the
    # calendar check of announced_at once the event has a primary security
    shutil.copy(BROKEN / "out_of_range_events.csv", seeds / "events.csv")
    _append(seeds / "event_securities.csv", ["far-future,NVDA,primary,1,x", "far-past,NVDA,primary,1,x",
                                             "odd-document-date,NVDA,primary,1,x"])
    report = validate_seeds(None)
    found = {(p.row, p.column) for p in report.problems if "year out of range" in p.message}
    assert found == {(2, "announced_at"), (3, "announced_at"), (4, "document_date")}
    values = {p.value for p in report.problems if "year out of range" in p.message}
    assert values == {"9999-12-31", "0001-01-01T10:00:00+08:00"}


def test_out_of_range_years_through_the_cli(seeds, capsys):
    shutil.copy(BROKEN / "out_of_range_events.csv", seeds / "events.csv")
    assert main(["validate"]) == 2
    out = capsys.readouterr().out
    assert "events.csv:4: column 'document_date' value '9999-12-31': year out of range" in out


def test_load_catalog_lists_every_out_of_range_date():
    with pytest.raises(ValidationError) as info:
        events.load_catalog(BROKEN / "out_of_range_events.csv")
    rows = sorted(p.row for p in info.value.problems if "year out of range" in p.message)
    assert rows == [2, 3, 4]


def test_quoted_cells_with_newlines_are_read_whole():
    catalog = events.load_catalog(BROKEN / "hostile_cells_events.csv")
    assert len(catalog) == 1
    row = catalog.iloc[0]
    assert row["headline"] == 'A headline with a comma, "quotes" and\na newline'
    assert row["notes"].count("\n") == 2 and row["themes"] == ["ai-compute"]
    assert row["announced_at"] == pd.Timestamp("2025-08-26")


def test_event_past_a_calendar_names_event_and_exchange(seeds):
    _append(seeds / "events.csv", ["late-event,2027-01-04,unknown,day,doc_a.txt,,Dated past XSHG's calendar,ai-compute,"])
    _append(seeds / "event_securities.csv", ["late-event,688256.SS,primary,1,x"])
    catalog = events.load_catalog()
    with pytest.raises(CalendarError, match=r"late-event.*688256\.SS.*XSHG"):
        events.event_firms(catalog, events.load_event_securities(), load_universe(),
                           event_ids="late-event")


def test_event_firms_names_the_event_with_a_bad_announcement(seeds):
    # was: "row 0: announcement ... is not an ISO date" (which row of what?), or before that a
    # silently different date; and an AttributeError from the message builder for a string
    catalog = events.load_catalog()
    catalog = catalog.assign(announced_at=["25-08-26", *catalog["announced_at"].iloc[1:]])
    with pytest.raises(InputError, match=r"event 'ai-chip-results' \(25-08-26\) on .*not an ISO date"):
        events.event_firms(catalog, events.load_event_securities(), load_universe())


@pytest.mark.parametrize("which, column", [("events", "timing"), ("securities", "role"), ("universe", "exchange")])
def test_event_firms_missing_column_is_an_input_error(seeds, which, column):
    # was: KeyError
    frames = {"events": events.load_catalog(), "securities": events.load_event_securities(),
              "universe": load_universe()}
    frames[which] = frames[which].drop(columns=column)
    with pytest.raises(InputError, match=f"{which} has no column '{column}'"):
        events.event_firms(frames["events"], frames["securities"], frames["universe"])
