"""EventStudy fed odd event dates and odd arguments: each pair gets an outcome code (one
warning for the lot) or the call gets an InputError; never a silently different date. Numbers in
odd cases are checked against a hand OLS (numpy.polyfit) on a planted effect."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

from events import EventStudy
from screener.errors import EstimationWarning, InputError

DATES = pd.bdate_range("2024-01-01", periods=400)
DAY0 = 300
PLANTED = 0.05


@pytest.fixture(scope="module")
def data() -> tuple[pd.DataFrame, pd.Series]:
    rng = np.random.default_rng(7)
    market = pd.Series(rng.normal(0, 0.01, len(DATES)), index=DATES, name="mkt")
    returns = pd.DataFrame({s: 0.001 + 1.2 * market + rng.normal(0, 0.01, len(DATES)) for s in "AB"}, index=DATES)
    returns.iloc[DAY0, 0] += PLANTED
    return returns, market


def _hand_ar0(returns: pd.DataFrame, market: pd.Series, symbol: str) -> float:
    est = slice(DAY0 - 250, DAY0 - 10)                              # days -250..-11
    beta, alpha = np.polyfit(market.iloc[est], returns[symbol].iloc[est], 1)
    return float(returns[symbol].iloc[DAY0] - (alpha + beta * market.iloc[DAY0]))


def _fit(data, event_dates, symbols=("A", "B")):
    returns, market = data
    ef = pd.DataFrame({"event_id": [f"e{i}" for i in range(len(event_dates))],
                       "symbol": list(symbols)[: len(event_dates)], "event_date": event_dates})
    study = EventStudy(returns, market=market, estimation=(-250, -11), windows=[(0, 0)])
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        res = study.fit(ef)
    return res, [w for w in caught if issubclass(w.category, EstimationWarning)]


def test_mixed_naive_and_tz_aware_strings_are_read_row_by_row(data):
    # was: the naive "2025-02-24" became NaT (outcome invalid_date) because pandas could not
    # parse a column mixing offsets and no offsets
    day0 = DATES[DAY0]
    res, warned = _fit(data, [f"{day0.date()}T10:00+08:00", str(day0.date())])
    assert res.outcomes["outcome"].tolist() == ["ok", "ok"] and not warned
    assert (res.outcomes["event_date"] == day0).all()
    car = res.car.set_index("symbol")["car"]
    assert car["A"] == pytest.approx(_hand_ar0(*data, "A"), abs=1e-12)
    assert car["A"] > PLANTED / 2


def test_timestamps_in_several_zones_keep_their_local_date(data):
    # was: a column of Tokyo and New York timestamps became NaT for one of them
    day0 = DATES[DAY0]
    stamps = [pd.Timestamp(day0.date(), tz="Asia/Tokyo"), pd.Timestamp(day0.date(), tz="America/New_York")]
    res, _ = _fit(data, stamps)
    assert res.outcomes["outcome"].tolist() == ["ok", "ok"]
    assert (res.outcomes["event_date"] == day0).all()


@pytest.mark.parametrize("bad", ["25-02-24", "02/24/2025", 20250224, "2025-02-30", "9999-12-31"])
def test_unreadable_dates_are_invalid_date_not_another_date(data, bad):
    # was: "25-02-24" -> 2024-02-26 and 20250224 -> 1970 (nanoseconds): silently other dates
    res, warned = _fit(data, [bad], symbols=("A",))
    assert res.outcomes["outcome"].tolist() == ["invalid_date"]
    assert res.outcomes["event_date"].isna().all()
    assert len(warned) == 1 and "invalid_date: 1" in str(warned[0].message)


def test_out_of_range_timestamp_column_does_not_crash(data):
    day0 = DATES[DAY0]
    res, _ = _fit(data, pd.Series([day0, pd.Timestamp("9999-12-31")]))  # a datetime64[us] column
    assert res.outcomes["outcome"].tolist() == ["ok", "invalid_date"]


def test_one_bad_pair_does_not_stop_the_others(data):
    res, warned = _fit(data, [DATES[DAY0], "not a date"])
    assert res.outcomes["outcome"].tolist() == ["ok", "invalid_date"]
    assert res.car.set_index("symbol")["car"]["A"] == pytest.approx(_hand_ar0(*data, "A"), abs=1e-12)
    assert len(warned) == 1


@pytest.mark.parametrize("chunk_size", ["a", 2.5, 0])
def test_bad_chunk_size_is_an_input_error(data, chunk_size):
    # was: ValueError from int("a")
    returns, market = data
    with pytest.raises(InputError, match="chunk_size"):
        EventStudy(returns, market=market, chunk_size=chunk_size)


def test_a_window_with_no_pairs_has_no_negative_degrees_of_freedom(data):
    # was: df = n - 1 = -1 for cross_sectional_t, brown_warner_1985, bmp, bmp_kp and the
    # skewness-adjusted t when no pair had a complete window
    returns, market = data
    ef = pd.DataFrame({"event_id": ["e0", "e1"], "symbol": ["A", "B"], "event_date": [DATES[DAY0]] * 2})
    res = EventStudy(returns, market=market, estimation=(-250, -11), windows=[(0, 0), (0, 150)]).fit(ef)
    table = res.tests()
    late = table[table["t2"] == 150]
    assert (late["n"] == 0).all() and late["statistic"].isna().all()
    assert not (late["df"] < 0).any()
    # the complete window is unaffected: n = 2 pairs, df = n - 1 for the cross-sectional t
    first = table[(table["t2"] == 0) & (table["test"] == "cross_sectional_t")].iloc[0]
    assert first["n"] == 2 and first["df"] == 1


# -- a missing day-0 return ------------------------------------------------------------------
#
# The rule (events/_align.py, documented in docs/methodology.md "Halts"): without ``spans=`` a
# return that follows a session without one is taken to span the sessions since the previous
# return, so it is left out and the pair is flagged ``halt_in_event_window``: a missing day-0
# return also removes day +1. With ``spans=`` saying day +1 covers one session there is no gap
# to span: the pair is ``ok`` with ``day0_return_missing``.

_WINDOWS = [(0, 0), (1, 1), (-1, 1)]


def _missing_day0(data) -> tuple[pd.DataFrame, pd.Series, pd.DataFrame]:
    returns, market = data
    r = returns.copy()
    r.iloc[DAY0, 0] = np.nan  # A: no return on day 0, every other return present
    ef = pd.DataFrame({"event_id": ["e", "e"], "symbol": ["A", "B"], "event_date": [DATES[DAY0]] * 2})
    return r, market, ef


def _one_session_spans(returns: pd.DataFrame) -> pd.DataFrame:
    spans = pd.DataFrame(1.0, index=returns.index, columns=returns.columns)
    return spans.where(returns.notna())


def _row_and_ars(res, symbol="A"):
    row = res.outcomes.set_index("symbol").loc[symbol]
    ar = res.ar[res.ar["symbol"] == symbol].set_index("rel_day")["ar"]
    return row, ar


def _hand_ar(returns, market, symbol, pos):
    est = slice(DAY0 - 250, DAY0 - 10)
    beta, alpha = np.polyfit(market.iloc[est], returns[symbol].iloc[est], 1)
    return float(returns[symbol].iloc[pos] - (alpha + beta * market.iloc[pos]))


def test_missing_day0_return_without_spans_is_a_halt_like_gap(data):
    r, market, ef = _missing_day0(data)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        res = EventStudy(r, market=market, estimation=(-250, -11), windows=_WINDOWS).fit(ef)
    row, ar = _row_and_ars(res)
    assert row["event_date"] == DATES[DAY0] and row["included"]
    assert row["outcome"] == "halt_in_event_window"
    assert row["flags"] == "halt_in_event_window;day0_return_missing"
    # day +1's return is taken to cover days 0 and +1: left out with day 0
    assert np.isnan(ar.loc[0]) and np.isnan(ar.loc[1])
    assert ar.loc[-1] == pytest.approx(_hand_ar(r, market, "A", DAY0 - 1), abs=1e-12)
    caar = res.caar.set_index("window")
    assert caar.loc["(-1, 1)", ["n", "n_partial"]].tolist() == [1, 1]
    assert res.outcomes.set_index("symbol").loc["B", "outcome"] == "ok"


def test_missing_day0_return_with_one_session_spans_is_not_a_halt(data):
    r, market, ef = _missing_day0(data)
    res = EventStudy(r, market=market, estimation=(-250, -11), windows=_WINDOWS,
                     spans=_one_session_spans(r), sessions={"A": DATES, "B": DATES}).fit(ef)
    row, ar = _row_and_ars(res)
    assert (row["outcome"], row["flags"]) == ("ok", "day0_return_missing")
    assert row["event_date"] == DATES[DAY0]
    assert np.isnan(ar.loc[0])
    assert ar.loc[1] == pytest.approx(_hand_ar(r, market, "A", DAY0 + 1), abs=1e-12)


def test_spans_without_sessions_keep_day0_on_its_session(data):
    r, market, ef = _missing_day0(data)
    res = EventStudy(r, market=market, estimation=(-250, -11), windows=_WINDOWS,
                     spans=_one_session_spans(r)).fit(ef)
    row, ar = _row_and_ars(res)
    assert row["event_date"] == DATES[DAY0]
    assert (row["outcome"], row["flags"]) == ("ok", "day0_return_missing")
    assert np.isnan(ar.loc[0])
    assert ar.loc[1] == pytest.approx(_hand_ar(r, market, "A", DAY0 + 1), abs=1e-12)


def test_trade_to_trade_without_sessions_keeps_day0_on_its_session(data):
    r, market, ef = _missing_day0(data)
    res = EventStudy(r, market=market, estimation=(-250, -11), windows=_WINDOWS, trade_to_trade=True).fit(ef)
    row, ar = _row_and_ars(res)
    assert row["event_date"] == DATES[DAY0]
    assert (row["outcome"], row["flags"]) == ("ok", "day0_return_missing")
    assert np.isnan(ar.loc[0])
    p = res.params.set_index("symbol").loc["A"]
    m2 = (1 + market.iloc[DAY0]) * (1 + market.iloc[DAY0 + 1]) - 1  # the market over both sessions
    assert ar.loc[1] == pytest.approx(r["A"].iloc[DAY0 + 1] - 2 * p["alpha"] - p["beta"] * m2, abs=1e-12)
