"""Returns on each exchange's calendar: gaps stay gaps, spans count sessions."""

from __future__ import annotations

import os
import tempfile
import warnings
from pathlib import Path

os.environ.setdefault("SEMISCREEN_CALENDAR_CACHE", str(Path(tempfile.gettempdir()) / "semiscreen-test-calendars"))

import numpy as np
import pandas as pd
import pytest

from screener.errors import CalendarError, DataQualityWarning, InputError
from screener.prices import LocalDirectorySource, make_price_frame, price_panel, returns_panel, security_returns

DATA = Path(__file__).parent / "data" / "prices"
T = pd.Timestamp


def _frame(symbol, dates, prices):
    dates = pd.DatetimeIndex(dates).as_unit("ns")
    p = np.asarray(prices, dtype=float)
    table = pd.DataFrame({"date": dates, "open": np.nan, "high": np.nan, "low": np.nan, "close": p,
                          "adj_close": p, "volume": np.nan})
    return make_price_frame(table, symbol=symbol, source="test")


def test_simple_and_log_returns_follow_the_definition():
    frame = LocalDirectorySource(DATA).load("TEST")
    r = security_returns(frame)
    p = frame["adj_close"].to_numpy()
    np.testing.assert_allclose(r["return"].to_numpy(), p[1:] / p[:-1] - 1)
    lr = security_returns(frame, kind="log")
    np.testing.assert_allclose(lr["return"].to_numpy(), np.log(p[1:] / p[:-1]))
    # 2025-06-06 (a Friday NYSE session) is missing from the file: the Monday return spans 2
    assert r.loc[T("2025-06-09"), "span"] == 2
    assert (r["span"].drop(T("2025-06-09")) == 1).all()
    assert T("2025-06-06") not in r.index


def test_gap_is_never_a_zero_return_in_the_panel():
    frame = LocalDirectorySource(DATA).load("TEST")
    panel = returns_panel({"TEST": frame})
    assert np.isnan(panel.returns.loc[T("2025-06-06"), "TEST"])  # a session with no price
    assert panel.spans.loc[T("2025-06-06"), "TEST"] == 0
    assert T("2025-06-06") in panel.sessions["TEST"]
    assert panel.sessions["TEST"][0] == T("2025-06-02") and panel.sessions["TEST"][-1] == T("2025-06-13")
    assert (panel.returns.fillna(1.0) != 0).all().all()


def test_panel_aligns_securities_on_their_own_calendars():
    # Shanghai closed 2025-10-01..08 (Golden Week); New York open.
    us_dates = pd.bdate_range("2025-09-29", "2025-10-10")
    cn_dates = [T("2025-09-29"), T("2025-09-30"), T("2025-10-09"), T("2025-10-10")]
    frames = {"NVDA": _frame("NVDA", us_dates, np.linspace(100, 110, len(us_dates))),
              "688256.SS": _frame("688256.SS", cn_dates, [10, 11, 12.1, 12.1])}
    panel = returns_panel(frames)
    cn = panel.returns["688256.SS"]
    assert cn.loc[T("2025-10-09")] == pytest.approx(12.1 / 11 - 1)
    assert panel.spans.loc[T("2025-10-09"), "688256.SS"] == 1  # holidays are not gaps
    assert cn.loc[T("2025-10-10")] == 0.0  # a real unchanged close is a zero return
    assert np.isnan(cn.loc[T("2025-10-03")])
    assert panel.spans["NVDA"].max() == 1
    assert panel.calendars == {"NVDA": "XNYS", "688256.SS": "XSHG"}
    assert T("2025-10-03") not in panel.sessions["688256.SS"]


def test_explicit_mic_changes_the_calendar():
    dates = [T("2025-10-09"), T("2025-10-10"), T("2025-10-13")]
    frames = {"FOO": _frame("FOO", dates, [1, 2, 3])}
    # on XNYS, 10-10 → 10-13 spans one session; on Taipei 10-10 is a holiday (no row expected)
    assert returns_panel(frames).spans.loc[T("2025-10-13"), "FOO"] == 1
    with pytest.warns(DataQualityWarning, match="not XTAI sessions"):
        p = returns_panel(frames, mics={"FOO": "XTAI"})
    assert T("2025-10-10") not in p.returns.index  # not a Taipei session: not a row at all
    assert p.returns.loc[T("2025-10-13"), "FOO"] == pytest.approx(3 / 1 - 1)


def test_start_end_and_errors():
    frame = LocalDirectorySource(DATA).load("TEST")
    panel = returns_panel({"TEST": frame}, start="2025-06-04", end="2025-06-11")
    assert panel.returns.index[0] == T("2025-06-04") and panel.returns.index[-1] == T("2025-06-11")
    assert panel.returns.loc[T("2025-06-04"), "TEST"] == pytest.approx(10.6 / 10.1 - 1)
    with pytest.raises(InputError):
        returns_panel({"TEST": frame}, kind="pct")
    late = _frame("688256.SS", [T("2026-12-30"), T("2026-12-31"), T("2027-01-04")], [1, 2, 3])
    with pytest.raises(CalendarError, match="2026-12-31"):
        security_returns(late)


def test_price_panel():
    frames = {"TEST": LocalDirectorySource(DATA).load("TEST"), "X": _frame("X", [T("2025-06-06")], [5])}
    panel = price_panel(frames)
    assert list(panel.columns) == ["TEST", "X"]
    assert panel.loc[T("2025-06-06"), "X"] == 5 and np.isnan(panel.loc[T("2025-06-06"), "TEST"])
    assert panel["TEST"].notna().sum() == 9


# --- real data -----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def real_panel(shared_prices_dir):
    src = LocalDirectorySource(shared_prices_dir)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataQualityWarning)
        frames = src.load_many(["NVDA", "688041.SS", "2317.TW", "2330.TW", "^TWII"])
    return frames, returns_panel(frames)


@pytest.mark.realdata
def test_nvda_split_shows_no_jump(real_panel):
    frames, panel = real_panel
    r = panel.returns["NVDA"]
    assert abs(r.loc[T("2024-06-10")]) < 0.05  # 10:1 split that day: no -90% return
    assert r.loc["2024-01-01":"2025-12-31"].abs().max() < 0.5
    close_ratio = frames["NVDA"]["close"].loc[T("2024-06-10")] / frames["NVDA"]["close"].loc[T("2024-06-07")]
    assert 0.9 < close_ratio < 1.1  # split-adjusted series


@pytest.mark.realdata
def test_hygon_halt_is_one_return_spanning_eleven_sessions(real_panel):
    frames, panel = real_panel
    spans = panel.spans["688041.SS"]
    r = panel.returns["688041.SS"]
    halt = r.loc["2025-05-26":"2025-06-09"]
    assert halt.isna().all() and len(halt) > 0  # no zeros during the halt
    long = spans[spans > 1]
    assert list(long.index) == [T("2025-06-10")] and long.iloc[0] == 11
    prices = frames["688041.SS"]["adj_close"]
    before = prices.loc[:"2025-05-25"].iloc[-1]
    assert r.loc[T("2025-06-10")] == pytest.approx(prices.loc[T("2025-06-10")] / before - 1)


@pytest.mark.realdata
def test_hon_hai_missing_day_is_a_gap(real_panel):
    _, panel = real_panel
    assert np.isnan(panel.returns.loc[T("2025-08-01"), "2317.TW"])
    assert panel.spans.loc[T("2025-08-04"), "2317.TW"] == 2
    assert not np.isnan(panel.returns.loc[T("2025-08-01"), "^TWII"])  # the market traded


@pytest.mark.realdata
def test_tsmc_uses_close_with_fallback_flag(real_panel):
    frames, panel = real_panel
    assert frames["2330.TW"].attrs["adj_close_fallback"] is True
    assert any("2330.TW" in q for q in panel.quality["2330.TW"])
