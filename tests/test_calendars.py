"""Calendars: suffix/MIC mapping, fixed bounds, and the day-0 rule on each exchange.

Expected sessions come from the exchanges' published 2025 holiday lists (not from
exchange_calendars): US Independence Day and weekends; China's Golden Week (2025-10-01..08);
Japan's Mountain Day (2025-08-11); Taiwan's National Day (2025-10-10).
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

os.environ.setdefault("SEMISCREEN_CALENDAR_CACHE", str(Path(tempfile.gettempdir()) / "semiscreen-test-calendars"))

import pandas as pd
import pytest

from screener import calendars as cal
from screener.errors import CalendarError, InputError

T = pd.Timestamp


@pytest.mark.parametrize(
    "symbol, listing, calendar",
    [
        ("NVDA", "XNYS", "XNYS"),
        ("BRK-B", "XNYS", "XNYS"),
        ("^GSPC", "XNYS", "XNYS"),
        ("SOXX", "XNYS", "XNYS"),
        ("688256.SS", "XSHG", "XSHG"),
        ("002371.SZ", "XSHE", "XSHG"),  # Shenzhen shares Shanghai's holidays
        ("399006.SZ", "XSHE", "XSHG"),
        ("000001.SS", "XSHG", "XSHG"),
        ("0981.HK", "XHKG", "XHKG"),
        ("^HSI", "XHKG", "XHKG"),
        ("2330.TW", "XTAI", "XTAI"),
        ("^TWII", "XTAI", "XTAI"),
        ("005930.KS", "XKRX", "XKRX"),
        ("^KS11", "XKRX", "XKRX"),
        ("8035.T", "XTKS", "XTKS"),
        ("^N225", "XTKS", "XTKS"),
        ("ASML.AS", "XAMS", "XAMS"),
        ("IFX.DE", "XETR", "XETR"),
        ("^STOXX50E", "XETR", "XETR"),
    ],
)
def test_symbol_maps_to_listing_and_calendar(symbol, listing, calendar):
    assert cal.listing_mic(symbol) == listing
    assert cal.calendar_name(symbol) == calendar


def test_explicit_mic_overrides_the_suffix_guess():
    assert cal.listing_mic("ASML", "XNAS") == "XNAS"
    assert cal.calendar_name("ASML", "XNAS") == "XNYS"
    assert cal.calendar_name("TSM", "XTAI") == "XTAI"


def test_unknown_suffix_lists_the_known_ones():
    with pytest.raises(InputError) as err:
        cal.listing_mic("FOO.QQ")
    msg = str(err.value)
    assert "'.QQ'" in msg and "FOO.QQ" in msg
    for suffix in (".SS", ".SZ", ".HK", ".TW", ".KS", ".T", ".AS", ".DE"):
        assert f"'{suffix}'" in msg


def test_unknown_index_and_unknown_mic_are_input_errors():
    with pytest.raises(InputError, match=r"\^FOO"):
        cal.listing_mic("^FOO")
    with pytest.raises(InputError, match="ZZZZ"):
        cal.calendar_name(mic="ZZZZ")


def test_calendars_have_fixed_bounds_and_are_cached():
    xshg = cal.exchange_sessions("XSHG")
    assert xshg.last_session == T("2026-12-31")  # the last year with listed holidays
    assert xshg.first_session == T("2015-01-05")  # first session on or after CALENDAR_START
    xnys = cal.exchange_sessions("XNYS")
    assert xnys.first_session == T("2015-01-02")
    assert xnys.last_session <= cal.CALENDAR_END  # never depends on today's date
    assert cal.get_calendar("XNYS") is cal.get_calendar("XNYS")
    assert cal.exchange_sessions("XNYS") is cal.exchange_sessions("XNYS")
    # the arrays agree with exchange_calendars
    c = cal.get_calendar("XHKG")
    s = cal.exchange_sessions("XHKG")
    assert list(s.sessions[:5]) == list(c.sessions[:5])
    assert pd.Timestamp(int(s.closes[100]), tz="UTC") == c.closes.iloc[100]


def test_sessions_for_respects_holidays():
    s = cal.sessions_for("NVDA", "2025-07-01", "2025-07-08")
    assert T("2025-07-04") not in s  # Independence Day
    assert list(s) == [T(d) for d in ("2025-07-01", "2025-07-02", "2025-07-03", "2025-07-07", "2025-07-08")]
    golden = cal.sessions_for("688256.SS", "2025-09-30", "2025-10-10")
    assert list(golden) == [T("2025-09-30"), T("2025-10-09"), T("2025-10-10")]


def test_to_session_on_a_holiday():
    with pytest.raises(CalendarError) as err:
        cal.to_session("2025-10-03", "688256.SS")
    assert "2025-10-03" in str(err.value) and "2025-09-30" in str(err.value) and "2025-10-09" in str(err.value)
    assert cal.to_session("2025-10-03", "688256.SS", direction="next") == T("2025-10-09")
    assert cal.to_session("2025-10-03", "688256.SS", direction="previous") == T("2025-09-30")
    assert cal.to_session("2025-10-09", "688256.SS") == T("2025-10-09")


def test_dates_outside_the_calendar_are_calendar_errors():
    with pytest.raises(CalendarError, match="2026-12-31"):
        cal.to_session("2027-01-04", "688256.SS")
    with pytest.raises(CalendarError, match="2026-12-31"):
        cal.sessions_for("688256.SS", "2026-06-01", "2027-03-01")
    with pytest.raises(CalendarError, match="2015"):
        cal.to_session("2010-01-04", "NVDA")


# --- day 0 ---------------------------------------------------------------------------------


def test_us_friday_after_close_is_monday_in_new_york_and_shanghai():
    assert T("2025-08-08").day_name() == "Friday"
    assert cal.day_zero("2025-08-08", "after_close", "XNYS") == T("2025-08-11")
    assert cal.day_zero("2025-08-08", "after_close", "XSHG", primary_mic="XNYS") == T("2025-08-11")
    assert cal.day_zero("2025-08-08", "after_close", "XSHE", primary_mic="XNAS") == T("2025-08-11")


def test_beijing_evening_announcement():
    ts = "2025-08-12T20:00+08:00"  # Tuesday 20:00 Beijing = 08:00 New York
    assert cal.day_zero(ts, "after_close", "XSHG") == T("2025-08-13")
    assert cal.day_zero(ts, "after_close", "XHKG") == T("2025-08-13")
    # New York has not opened yet: it can react the same day
    assert cal.day_zero(ts, "after_close", "XNYS", primary_mic="XSHG") == T("2025-08-12")
    # the same as a date with timing after_close
    assert cal.day_zero("2025-08-12", "after_close", "XSHG") == T("2025-08-13")


def test_announcement_on_a_shanghai_holiday_maps_to_the_first_session_after():
    for timing in ("before_open", "during", "after_close", "unknown"):
        assert cal.day_zero("2025-10-03", timing, "XSHG") == T("2025-10-09"), timing
    assert cal.day_zero("2025-10-05T10:00+08:00", "unknown", "XSHG") == T("2025-10-09")
    # Hong Kong is open on 2025-10-03 (its National Day closure is 10-01 only)
    assert cal.day_zero("2025-10-03", "before_open", "XHKG", primary_mic="XSHG") == T("2025-10-03")


def test_us_before_open_is_same_day_in_new_york_next_day_in_shanghai():
    assert T("2025-08-13").day_name() == "Wednesday"
    assert cal.day_zero("2025-08-13", "before_open", "XNYS") == T("2025-08-13")
    assert cal.day_zero("2025-08-13", "before_open", "XSHG", primary_mic="XNYS") == T("2025-08-14")
    assert cal.day_zero("2025-08-13", "before_open", "XTKS", primary_mic="XNYS") == T("2025-08-14")


def test_tokyo_taipei_and_seoul_holidays():
    # Tokyo results after the close on Friday 2025-08-08; Monday 08-11 is Mountain Day in Japan.
    assert cal.day_zero("2025-08-08", "after_close", "XTKS") == T("2025-08-12")
    assert cal.day_zero("2025-08-08", "after_close", "XKRX", primary_mic="XTKS") == T("2025-08-11")
    assert cal.day_zero("2025-08-08", "after_close", "XTAI", primary_mic="XTKS") == T("2025-08-11")
    # Taiwan's National Day, Friday 2025-10-10: Taipei reacts on Monday 10-13, Tokyo on 10-10.
    assert cal.day_zero("2025-10-10", "during", "XTAI") == T("2025-10-13")
    assert cal.day_zero("2025-10-10T11:00+08:00", "during", "XTKS", primary_mic="XTAI") == T("2025-10-10")
    # Seoul announcement at 14:00 KST (session runs to 15:30): same day in Seoul and Tokyo.
    assert cal.day_zero("2025-09-10T14:00+09:00", "during", "XKRX") == T("2025-09-10")
    assert cal.day_zero("2025-09-10T14:00+09:00", "during", "XTKS") == T("2025-09-10")


def test_lunch_break_is_inside_the_session_and_close_instant_is_next_day():
    assert cal.day_zero("2025-08-13T12:00+08:00", "during", "XSHG") == T("2025-08-13")
    assert cal.day_zero("2025-08-13T12:30+08:00", "during", "XHKG") == T("2025-08-13")
    # exactly at the close the market can no longer react
    assert cal.day_zero("2025-08-13T15:00+08:00", "after_close", "XSHG") == T("2025-08-14")
    assert cal.day_zero("2025-08-13T14:59+08:00", "during", "XSHG") == T("2025-08-13")


def test_unknown_timing_is_the_primary_session_of_that_date_or_next():
    assert cal.day_zero("2025-08-13", "unknown", "XSHG") == T("2025-08-13")
    assert cal.day_zero("2025-08-16", "unknown", "XSHG") == T("2025-08-18")  # Saturday


def test_instant_rule():
    i = cal.announcement_instant("2025-08-13", "before_open", "XNYS")
    assert i < T("2025-08-13 13:30", tz="UTC") and i > T("2025-08-13 13:29", tz="UTC")  # 09:30 EDT
    i = cal.announcement_instant("2025-08-13", "after_close", "XSHG")
    assert T("2025-08-13 07:00", tz="UTC") < i < T("2025-08-13 07:01", tz="UTC")  # 15:00 CST


def test_past_the_last_session_is_a_calendar_error():
    with pytest.raises(CalendarError, match="2026-12-31"):
        cal.day_zero("2027-01-04", "before_open", "XSHG")
    with pytest.raises(CalendarError, match="XSHG"):
        cal.day_zero("2026-12-31", "after_close", "XSHG", primary_mic="XNYS")


def test_bad_timing_and_naive_times_are_input_errors():
    with pytest.raises(InputError, match="timing"):
        cal.day_zero("2025-08-13", "lunchtime", "XNYS")
    with pytest.raises(InputError, match="UTC offset"):
        cal.day_zero("2025-08-13 10:00", "during", "XNYS")


def test_vectorised_day_zero_matches_row_by_row():
    rows = [
        ("2025-08-08", "after_close", "XSHG", "XNYS"),
        ("2025-08-12T20:00+08:00", "after_close", "XNYS", "XSHG"),
        ("2025-10-03", "before_open", "XSHG", "XSHG"),
        ("2025-10-03", "before_open", "XHKG", "XSHG"),
        ("2025-08-13", "before_open", "XNYS", "XNYS"),
        ("2025-08-08", "after_close", "XTKS", "XTKS"),
        ("2025-10-10", "during", "XTAI", "XTAI"),
        ("2025-08-13", "unknown", "XKRX", "XNYS"),
        ("2025-08-13", "during", "XAMS", "XNYS"),
    ] * 3
    a, t, m, p = zip(*rows)
    many = cal.day_zero_many(a, t, m, p)
    assert list(many) == [cal.day_zero(*r[:3], primary_mic=r[3]) for r in rows]
