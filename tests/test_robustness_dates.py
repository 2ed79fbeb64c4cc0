"""Odd dates: weekends, holidays, half days, calendar bounds, DST, impossible or ambiguous
strings, out-of-range years. Day 0 is checked against the exchanges' published 2025 calendars;
bad dates give an InputError/CalendarError naming the value, never a pandas exception or a
silently different date."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

os.environ.setdefault("SEMISCREEN_CALENDAR_CACHE", str(Path(tempfile.gettempdir()) / "semiscreen-test-calendars"))

import pandas as pd
import pytest

from screener.calendars import announcement_instant, day_zero, day_zero_many, sessions_for, to_session
from screener.errors import CalendarError, InputError

# -- day 0 on holidays, half days and DST boundaries (guards; hand-checked against the 2025
#    holiday lists of each exchange) ------------------------------------------------------


@pytest.mark.parametrize(
    "announced, timing, mic, primary, expected",
    [
        ("2025-08-09", "unknown", "XNAS", None, "2025-08-11"),        # Saturday -> Monday
        ("2025-07-04", "before_open", "XNYS", None, "2025-07-07"),    # Independence Day (Friday)
        ("2025-07-03", "after_close", "XNYS", None, "2025-07-07"),    # half day, then the holiday
        ("2025-07-03", "during", "XNYS", None, "2025-07-03"),
        ("2025-10-01", "unknown", "XSHG", None, "2025-10-09"),        # Golden Week 10-01..10-08
        ("2025-09-30", "after_close", "XSHG", None, "2025-10-09"),
        ("2025-01-29", "unknown", "XHKG", None, "2025-02-03"),        # Lunar New Year 01-29..01-31
        ("2025-01-27", "unknown", "XTAI", None, "2025-02-03"),        # closed 01-27..01-31
        ("2025-01-28", "unknown", "XKRX", None, "2025-01-31"),        # closed 01-27..01-30
        ("2025-03-09T09:00-04:00", "unknown", "XNYS", None, "2025-03-10"),  # US DST starts (Sunday)
        ("2025-03-10T09:31-04:00", "unknown", "XNYS", None, "2025-03-10"),  # after the first EDT open
        ("2025-03-30T09:00+02:00", "unknown", "XAMS", None, "2025-03-31"),  # EU DST starts (Sunday)
        ("2025-11-02T23:59+08:00", "unknown", "XNYS", None, "2025-11-03"),  # US DST ends
        # near midnight in another zone: 23:59 in Tokyo is 10:59 in New York the same day
        ("2025-08-22T23:59+09:00", "unknown", "XNYS", None, "2025-08-22"),
        ("2025-08-22T23:59+08:00", "unknown", "XSHG", None, "2025-08-25"),
        ("2025-08-22", "after_close", "XSHG", "XNYS", "2025-08-25"),
    ],
)
def test_day_zero_on_odd_dates(announced, timing, mic, primary, expected):
    assert day_zero(announced, timing, mic, primary_mic=primary) == pd.Timestamp(expected)


@pytest.mark.parametrize(
    "announced, mic",
    [("2027-01-04", "XSHG"), ("2026-12-31T16:00+08:00", "XSHG"), ("1990-01-05", "XNYS"), ("2015-01-01", "XNYS")],
)
def test_outside_a_calendar_is_a_calendar_error(announced, mic):
    with pytest.raises(CalendarError, match=mic):
        day_zero(announced, "unknown", mic)


# -- impossible, ambiguous and missing dates (regressions) ---------------------------------------


@pytest.mark.parametrize(
    "value, message",
    [
        ("2025-02-30", "not a valid date"),      # was: pandas DateParseError
        ("2025-13-01", "not a valid date"),
        ("25-08-22", "not an ISO date"),         # was: silently read as 2022-08-25
        ("Aug 22 2025", "not an ISO date"),
        ("22/08/2025", "not an ISO date"),
        ("", "missing"),
        (None, "missing"),
        (float("nan"), "missing"),
    ],
)
def test_day_zero_rejects_bad_announcement_strings(value, message):
    with pytest.raises(InputError, match=message):
        day_zero(value, "unknown", "XNYS")


def test_ambiguous_string_is_never_read_as_another_date():
    # the bug: pd.Timestamp("25-08-22") is 2022-08-25; an error is the only honest answer
    with pytest.raises(InputError, match="'25-08-22'"):
        day_zero_many(["2025-08-22", "25-08-22"], ["unknown"] * 2, ["XNYS"] * 2)


def test_trailing_spaces_are_fine():
    assert day_zero("2025-08-22  ", "unknown", "XNYS") == pd.Timestamp("2025-08-22")


@pytest.mark.parametrize("value", ["9999-12-31", "0001-01-01", "0001-01-01T10:00+08:00"])
def test_years_pandas_cannot_hold_are_calendar_errors(value):
    # was: OutOfBoundsDatetime from Timestamp.as_unit("ns")
    with pytest.raises(CalendarError, match="outside every exchange calendar"):
        day_zero(value, "unknown", "XNYS")
    with pytest.raises(CalendarError):
        announcement_instant(value, "unknown", "XNYS")


@pytest.mark.parametrize("value", [pd.NaT, "", None])
def test_to_session_missing_date_is_an_input_error(value):
    # was: AttributeError: 'NaTType' object has no attribute 'normalize'
    with pytest.raises(InputError):
        to_session(value, "NVDA")


def test_to_session_and_sessions_for_reject_impossible_dates():
    with pytest.raises(InputError, match="'2025-02-30'"):
        to_session("2025-02-30", "NVDA")
    with pytest.raises(InputError, match="start '2025-02-30'"):
        sessions_for("NVDA", "2025-02-30", "2025-03-31")
    # valid input still works, and dates/Timestamps are still accepted
    assert to_session("2025-07-04", "NVDA", direction="next") == pd.Timestamp("2025-07-07")
    assert to_session(pd.Timestamp("2025-07-07").date(), "NVDA") == pd.Timestamp("2025-07-07")


def test_timestamp_without_offset_is_refused():
    with pytest.raises(InputError, match="no UTC offset"):
        day_zero("2025-03-09T02:30", "unknown", "XNYS")
