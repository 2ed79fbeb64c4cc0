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

import numpy as np
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


# --- disk cache and prepare_calendars -------------------------------------------------------
# Two cheap calendars (XNYS, XLON: ~0.2 s each to build) keep these tests fast.


def _arrays_equal(a: cal.ExchangeSessions, b: cal.ExchangeSessions) -> bool:
    return (
        a.name == b.name
        and a.tz == b.tz
        and a.sessions.equals(b.sessions)
        and np.array_equal(a.opens, b.opens)
        and np.array_equal(a.closes, b.closes)
    )


@pytest.fixture
def fresh_cache(tmp_path, monkeypatch):
    """An empty calendar cache folder, and nothing held in memory (restored afterwards)."""
    root = tmp_path / "calendars"
    monkeypatch.setenv("SEMISCREEN_CALENDAR_CACHE", str(root))
    saved = dict(cal._MEMORY)
    cal._MEMORY.clear()
    yield root
    cal._MEMORY.clear()
    cal._MEMORY.update(saved)


@pytest.fixture(scope="module")
def serial_builds():
    """XNYS and XLON built in this process straight from exchange_calendars (no cache)."""
    return {n: cal._build_sessions(n) for n in ("XNYS", "XLON")}


def test_prepare_calendars_into_an_empty_cache_equals_the_serial_build(fresh_cache, serial_builds):
    ready = cal.prepare_calendars(["XNYS", "XLON", "XNAS"], max_workers=2)
    assert list(ready) == ["XNYS", "XLON"]  # XNAS is the XNYS calendar
    for name, built in serial_builds.items():
        assert _arrays_equal(ready[name], built)
        assert cal.exchange_sessions(name) is ready[name]  # held in memory for later calls
        assert (fresh_cache / cal._cache_key(name)).is_file()
    assert not list(fresh_cache.glob("*.tmp"))  # no temporary file left behind
    # a new process would read the same arrays back from disk
    for name, built in serial_builds.items():
        assert _arrays_equal(cal._read_cache(fresh_cache, name), built)


def test_calendar_workers_build_into_the_cache(fresh_cache, serial_builds):
    # this process stays out of it (here=False): both calendars come from worker processes
    fresh_cache.mkdir()
    cal._build_parallel(["XNYS", "XLON"], fresh_cache, workers=2, here=False)
    assert not cal._MEMORY  # nothing was built in this process
    for name, built in serial_builds.items():
        assert _arrays_equal(cal._read_cache(fresh_cache, name), built)


def test_workers_that_cannot_start_leave_the_build_to_this_process(fresh_cache, serial_builds, monkeypatch):
    monkeypatch.setattr(cal, "_start_worker", lambda root: None)
    monkeypatch.setitem(cal._BUILD_SECONDS, "XLON", 5.0)  # worth building in parallel
    ready = cal.prepare_calendars(["XNYS", "XLON"], max_workers=2)
    for name, built in serial_builds.items():
        assert _arrays_equal(ready[name], built)
        assert (fresh_cache / cal._cache_key(name)).is_file()


def test_workers_are_started_only_when_there_is_enough_to_build(fresh_cache, monkeypatch):
    calls = []
    monkeypatch.setattr(cal, "_build_parallel", lambda names, root, workers: calls.append((list(names), workers)))
    cal.prepare_calendars(["XNYS", "XLON"], max_workers=4)  # ~0.1 s of work: built here
    assert calls == []
    cal._MEMORY.clear()
    for f in fresh_cache.iterdir():
        f.unlink()
    monkeypatch.setitem(cal._BUILD_SECONDS, "XLON", 5.0)
    cal.prepare_calendars(["XNYS", "XLON", "XNAS"], max_workers=4)
    assert calls == [(["XNYS", "XLON"], 1)]  # two calendars: this process and one worker
    calls.clear()
    cal._MEMORY.clear()
    cal.prepare_calendars(["XNYS", "XLON"], max_workers=4)  # all on disk now: nothing to build
    assert calls == []


@pytest.mark.filterwarnings("ignore::DeprecationWarning", "ignore::FutureWarning")  # exchange_calendars' own
def test_holiday_range_gives_the_same_sessions_and_is_restored(serial_builds):
    from exchange_calendars.calendar_utils import _default_calendar_factories
    from pandas.tseries.holiday import AbstractHolidayCalendar

    before = (AbstractHolidayCalendar.start_date, AbstractHolidayCalendar.end_date)
    for name, built in serial_builds.items():  # built with the narrow range (cal._build_sessions)
        start, end = cal._bounds(name)
        full = _default_calendar_factories[name](start=start, end=end)  # pandas' default range
        assert built.sessions.equals(pd.DatetimeIndex(full.sessions).as_unit("ns"))
        assert np.array_equal(built.closes, pd.DatetimeIndex(full.closes.to_numpy()).as_unit("ns").asi8)
    assert (AbstractHolidayCalendar.start_date, AbstractHolidayCalendar.end_date) == before
    with pytest.raises(RuntimeError):
        with cal._holiday_range(T("2014-01-01"), T("2028-12-31")):
            assert AbstractHolidayCalendar.start_date == T("2014-01-01")
            raise RuntimeError("boom")
    assert (AbstractHolidayCalendar.start_date, AbstractHolidayCalendar.end_date) == before


def test_korean_lunar_holidays_at_both_ends_of_the_range():
    # XKRX is the calendar the narrow holiday range speeds up (lunar dates): Seollal and Chuseok
    # in the first and the last year of the range are still holidays.
    s = cal._build_sessions("XKRX").sessions
    for holiday in ("2015-02-18", "2015-02-19", "2015-02-20", "2015-09-28", "2015-09-29",
                    "2027-02-08", "2027-02-09", "2027-09-14", "2027-09-15", "2027-09-16"):
        assert T(holiday) not in s, holiday
    for session in ("2015-02-17", "2015-02-23", "2015-09-30", "2027-02-10", "2027-09-17"):
        assert T(session) in s, session


def test_a_failing_worker_leaves_its_calendar_to_this_process(fresh_cache, serial_builds, monkeypatch):
    # the worker's interpreter cannot import its entry point: it exits without "ready"
    monkeypatch.setattr(cal, "_WORKER_CODE", "import sys; sys.exit(3)")
    fresh_cache.mkdir()
    cal._build_parallel(["XNYS", "XLON"], fresh_cache, workers=1, here=False)
    assert not list(fresh_cache.iterdir())
    ready = cal.prepare_calendars(["XNYS", "XLON"], max_workers=1)
    for name, built in serial_builds.items():
        assert _arrays_equal(ready[name], built)


@pytest.mark.parametrize("damage", [b"", b"not a zip file", "truncated"])
def test_a_corrupt_cache_file_is_rebuilt(fresh_cache, serial_builds, damage):
    cal.prepare_calendars(["XNYS", "XLON"], max_workers=1)
    path = fresh_cache / cal._cache_key("XLON")
    good = path.read_bytes()
    path.write_bytes(good[: len(good) // 2] if damage == "truncated" else damage)
    cal._MEMORY.clear()
    assert cal._read_cache(fresh_cache, "XLON") is None
    ready = cal.prepare_calendars(["XNYS", "XLON"], max_workers=2)
    assert _arrays_equal(ready["XLON"], serial_builds["XLON"])
    assert _arrays_equal(cal._read_cache(fresh_cache, "XLON"), serial_builds["XLON"])  # rewritten
    assert _arrays_equal(ready["XNYS"], serial_builds["XNYS"])


def test_cache_file_with_arrays_of_different_lengths_is_rebuilt(fresh_cache, serial_builds):
    fresh_cache.mkdir()
    b = serial_builds["XLON"]
    np.savez(fresh_cache / cal._cache_key("XLON"), tz=np.array(b.tz),
             sessions=b.sessions.asi8.astype("datetime64[ns]"), opens=b.opens[:-1], closes=b.closes)
    assert cal._read_cache(fresh_cache, "XLON") is None
    assert _arrays_equal(cal.exchange_sessions("XLON"), b)


def test_disabled_cache_builds_in_this_process(fresh_cache, serial_builds, monkeypatch):
    monkeypatch.setenv("SEMISCREEN_CALENDAR_CACHE", "0")
    started = []
    monkeypatch.setattr(cal, "_start_worker", lambda root: started.append(root))
    ready = cal.prepare_calendars(["XLON", "XNYS"], max_workers=4)
    assert list(ready) == ["XLON", "XNYS"]
    for name, built in serial_builds.items():
        assert _arrays_equal(ready[name], built)
    assert started == []  # no worker: there is no cache to hand the arrays back through
    assert not fresh_cache.exists()


def test_prepare_calendars_rejects_an_unknown_mic(fresh_cache):
    with pytest.raises(InputError, match="ZZZZ"):
        cal.prepare_calendars(["XNYS", "ZZZZ"])


def test_day_zero_many_builds_its_missing_calendars_together(fresh_cache, monkeypatch):
    seen = []
    real = cal.prepare_calendars
    monkeypatch.setattr(cal, "prepare_calendars", lambda names, **kw: seen.append(list(names)) or real(names, **kw))
    out = cal.day_zero_many(["2025-08-08", "2025-08-08"], ["after_close"] * 2, ["XLON", "XNAS"], ["XNYS", "XNYS"])
    assert seen == [["XNYS", "XLON"]]
    assert list(out) == [T("2025-08-11"), T("2025-08-11")]
