"""Event time, date policies, outcome codes and argument errors, each pinned."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

from events import EventStudy
from screener.errors import EstimationWarning, InputError

DATES = pd.bdate_range("2023-01-02", "2024-12-31")


def _returns(seed=1, syms=("AAA", "BBB")):
    rng = np.random.default_rng(seed)
    m = pd.Series(rng.normal(0, 0.01, len(DATES)), index=DATES)
    R = pd.DataFrame({s: 1.1 * m.to_numpy() + rng.normal(0, 0.02, len(DATES)) for s in syms}, index=DATES)
    return R, m


def _fit(R, m, ef, **kw):
    kw.setdefault("windows", [(0, 0), (0, 5)])
    kw.setdefault("estimation", (-250, -11))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        res = EventStudy(R, market=m, **kw).fit(ef)
    est_warnings = [w for w in caught if issubclass(w.category, EstimationWarning)]
    return res, est_warnings


def _one(symbol="AAA", date="2024-03-02", event_id="ev"):
    return pd.DataFrame({"event_id": [event_id], "symbol": [symbol], "event_date": [date]})


@pytest.mark.parametrize(
    "policy, used, outcome, included, warned",
    [
        ("next", "2024-03-04", "date_shifted", True, False),
        ("previous", "2024-03-01", "date_shifted", True, False),
        ("exact", None, "event_day_missing", False, True),
        ("skip", None, "skipped", False, False),
    ],
)
def test_weekend_event_date_policies(policy, used, outcome, included, warned):
    R, m = _returns()
    res, w = _fit(R, m, _one(date="2024-03-02"), date_policy=policy)  # a Saturday
    row = res.outcomes.iloc[0]
    assert row["outcome"] == outcome and bool(row["included"]) is included
    assert row["requested_date"] == pd.Timestamp("2024-03-02")
    if used is None:
        assert pd.isna(row["event_date"])
        assert res.n_pairs == 0
    else:
        assert row["event_date"] == pd.Timestamp(used)
        assert "date_shifted" in row["flags"]
        ar = res.ar
        assert ar.loc[ar.rel_day == 0, "date"].iloc[0] == pd.Timestamp(used)
    assert (len(w) == 1) is warned


def test_session_event_date_is_day_zero_under_every_policy():
    R, m = _returns()
    for policy in ("next", "previous", "exact", "skip"):
        res, w = _fit(R, m, _one(date="2024-03-05"), date_policy=policy)
        assert res.outcomes["outcome"].iloc[0] == "ok" and not w
        assert res.ar.loc[res.ar.rel_day == 0, "date"].iloc[0] == pd.Timestamp("2024-03-05")


def test_event_time_counts_the_securitys_own_sessions():
    """Days the market traded and the security did not stay in event time as missing returns.

    Without ``sessions=``, a security's sessions are the dates on which it or its benchmark has
    a return, so a two-day gap is not squeezed out of event time; the return after the gap spans
    three sessions and is left out (outcome ``halt_in_event_window``), never taken as a one-day
    return.
    """
    R, m = _returns()
    R.loc["2024-03-06":"2024-03-07", "BBB"] = np.nan  # BBB did not trade these two days
    ef = pd.DataFrame({"event_id": ["e", "e"], "symbol": ["AAA", "BBB"], "event_date": ["2024-03-05"] * 2})
    res, _ = _fit(R, m, ef)
    ar = res.ar.set_index(["symbol", "rel_day"])
    assert ar.loc[("AAA", 1), "date"] == pd.Timestamp("2024-03-06")
    assert ar.loc[("BBB", 1), "date"] == pd.Timestamp("2024-03-06")
    assert ar.loc[("BBB", 3), "date"] == pd.Timestamp("2024-03-08")
    assert ar.loc[[("BBB", 1), ("BBB", 2), ("BBB", 3)], "ar"].isna().all()  # day 3 spans 3 sessions
    outcomes = res.outcomes.set_index("symbol")["outcome"]
    assert outcomes["AAA"] == "ok" and outcomes["BBB"] == "halt_in_event_window"


def test_default_sessions_match_explicit_sessions():
    """The benchmark-based default gives the same estimates as passing the calendar's sessions."""
    R, m = _returns()
    R.loc["2024-03-06":"2024-03-07", "BBB"] = np.nan
    R.iloc[10:14, R.columns.get_loc("AAA")] = np.nan  # a gap inside the estimation window
    ef = pd.DataFrame({"event_id": ["e", "e"], "symbol": ["AAA", "BBB"], "event_date": ["2024-03-05"] * 2})
    res_default, _ = _fit(R, m, ef)
    res_explicit, _ = _fit(R, m, ef, sessions={"AAA": DATES, "BBB": DATES})
    cols = ["symbol", "rel_day", "date", "ar"]
    pd.testing.assert_frame_equal(res_default.ar[cols], res_explicit.ar[cols])
    pd.testing.assert_frame_equal(res_default.params, res_explicit.params)


def test_halt_across_event_window_with_sessions():
    R, m = _returns()
    R.loc["2024-03-05":"2024-03-07", "AAA"] = np.nan  # halted on days 0..2, trades again on day 3
    sessions = {"AAA": DATES}
    res, w = _fit(R, m, _one(date="2024-03-05"), sessions=sessions)
    row = res.outcomes.iloc[0]
    assert row["outcome"] == "halt_in_event_window" and row["included"]
    assert "day0_return_missing" in row["flags"]
    ar = res.ar.set_index("rel_day")
    # days 0-2 missing; day 3's return spans 4 sessions and is left out by default
    assert ar.loc[[0, 1, 2, 3], "ar"].isna().all() and ar.loc[[4, 5], "ar"].notna().all()
    car = res.car.set_index("window").loc["(0, 5)"]
    assert car["n_days"] == 2
    np.testing.assert_allclose(car["car"], ar.loc[[4, 5], "ar"].sum())
    assert np.isnan(res.bhar.set_index("window").loc["(0, 5)", "bhar"])  # no compounding over a gap
    # with trade-to-trade the spanning return is used, against the compounded market
    t2t, _ = _fit(R, m, _one(date="2024-03-05"), sessions=sessions, trade_to_trade=True)
    ar2 = t2t.ar.set_index("rel_day")
    assert np.isfinite(ar2.loc[3, "ar"])
    p = t2t.params.iloc[0]
    mspan = np.prod(1 + m.loc["2024-03-05":"2024-03-08"].to_numpy()) - 1
    np.testing.assert_allclose(ar2.loc[3, "ar"], R.loc["2024-03-08", "AAA"] - 4 * p["alpha"] - p["beta"] * mspan)
    np.testing.assert_allclose(ar2.loc[3, "ar_sd"] ** 2 > 4 * p["sigma"] ** 2, True)


def test_outcome_codes_and_one_summarising_warning():
    R, m = _returns(syms=("AAA", "NEW", "FLAT", "INF", "GAP"))
    R.loc[:"2024-01-31", "NEW"] = np.nan  # listed recently: too short a history
    R["FLAT"] = 0.0  # constant returns
    R.loc["2024-02-01", "INF"] = np.inf
    R.loc["2023-06-01":"2023-12-31", "GAP"] = np.nan
    ef = pd.DataFrame({
        "event_id": ["a", "b", "c", "d", "e", "f", "g", "a", "h"],
        "symbol": ["AAA", "NEW", "FLAT", "INF", "NOPE", "AAA", "AAA", "AAA", "GAP"],
        "event_date": ["2024-05-01", "2024-05-01", "2024-05-01", "2024-05-01", "2024-05-01",
                       "2031-01-01", "not a date", "2024-06-03", "2024-02-01"],
        "note": list("123456789"),
    })
    # GAP's exchange was open during its gap (sessions given): the gap eats its estimation window
    res, w = _fit(R, m, ef, sessions={"GAP": DATES})
    got = dict(zip(zip(res.outcomes.event_id, res.outcomes.symbol, res.outcomes.note), res.outcomes.outcome))
    assert got[("a", "AAA", "1")] == "ok"
    assert got[("b", "NEW", "2")] == "insufficient_estimation"
    assert got[("c", "FLAT", "3")] == "constant_returns"
    assert got[("d", "INF", "4")] == "non_finite_returns"
    assert got[("e", "NOPE", "5")] == "unknown_symbol"
    assert got[("f", "AAA", "6")] == "no_data"
    assert got[("g", "AAA", "7")] == "invalid_date"
    assert got[("a", "AAA", "8")] == "duplicate"
    assert got[("h", "GAP", "9")] == "insufficient_estimation"
    assert res.n_pairs == 1
    # n_est reports M for every estimated-or-tried pair
    assert res.outcomes.set_index("note").loc["9", "n_est"] < 120
    assert len(w) == 1
    msg = str(w[0].message)
    assert "8 of 9" in msg and "insufficient_estimation: 2" in msg and "unknown_symbol: 1" in msg
    # extra columns are kept
    assert "note" in res.car.columns and res.car["note"].unique().tolist() == ["1"]


def test_event_window_past_the_last_session_is_flagged():
    R, m = _returns()
    last = R.index[-1]
    res, w = _fit(R, m, _one(date=R.index[-3]))  # days +3..+5 do not exist yet
    row = res.outcomes.iloc[0]
    assert row["outcome"] == "ok" and row["flags"] == "event_window_truncated" and not w
    car = res.car.set_index("window")
    assert car.loc["(0, 5)", "n_days"] == 3
    assert np.isnan(res.bhar.set_index("window").loc["(0, 5)", "bhar"])
    assert res.ar["date"].max() == last


def test_no_benchmark_per_security():
    R, m = _returns()
    M = pd.DataFrame({"IDX1": m, "IDX2": m * 0.5})
    ef = pd.DataFrame({"event_id": ["e", "e"], "symbol": ["AAA", "BBB"], "event_date": ["2024-05-01"] * 2})
    with pytest.warns(EstimationWarning, match="no_benchmark: 1"):
        res = EventStudy(R, market=M, benchmarks={"AAA": "IDX2"}, windows=[(0, 0)]).fit(ef)
    assert res.outcomes["outcome"].tolist() == ["ok", "no_benchmark"]
    # AAA's expected return used IDX2
    p = res.params.iloc[0]
    ar0 = res.ar.set_index("rel_day").loc[0]
    expected = p["alpha"] + p["beta"] * M.loc["2024-05-01", "IDX2"]
    np.testing.assert_allclose(ar0["ar"], R.loc["2024-05-01", "AAA"] - expected)


def test_clean_estimation_drops_other_event_windows_of_the_same_firm():
    R, m = _returns()
    ef = pd.DataFrame({"event_id": ["first", "second", "other"], "symbol": ["AAA", "AAA", "BBB"],
                       "event_date": ["2024-04-01", "2024-05-01", "2024-04-01"]})
    base, _ = _fit(R, m, ef, windows=[(-2, 5)])
    clean, _ = _fit(R, m, ef, windows=[(-2, 5)], clean_estimation=True)
    oc = clean.outcomes.set_index("event_id")
    ob = base.outcomes.set_index("event_id")
    # "first"'s event window (8 sessions) lies in "second"'s estimation window
    assert oc.loc["second", "n_est_excluded_overlap"] == 8
    assert oc.loc["second", "n_est"] == ob.loc["second", "n_est"] - 8
    assert oc.loc["second", "outcome"] == "overlapping_event"
    assert ob.loc["second", "outcome"] == "overlapping_event"  # noted even when not cleaned
    assert oc.loc["other", "outcome"] == "ok" and oc.loc["first", "n_est_excluded_overlap"] == 0
    # N counts event-firms: three pairs, no duplicated rows
    assert clean.n_pairs == 3 and len(clean.car) == 3
    # the dropped days really are the other event's window
    a = clean.arrays
    i = clean.params.index[clean.params.event_id == "second"][0]
    dropped = np.isnan(a.est_ar[i]) & (a.est_day[i] >= 0)
    dates = pd.to_datetime(a.est_day[i][dropped], unit="D")
    first_day0 = pd.Timestamp("2024-04-01")
    pos = DATES.get_loc(first_day0)
    assert list(dates) == list(DATES[pos - 2: pos + 6])


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(model="capm"), "model='capm'.*valid: market_adjusted"),
        (dict(windows=[(0, 5)], event_window=(-1, 3)), r"windows: \(0, 5\) is outside event_window"),
        (dict(estimation=(-250, 0)), "overlaps the event window"),
        (dict(date_policy="nearest"), "date_policy='nearest'.*valid: next, previous, exact, skip"),
        (dict(min_estimation_obs=300), "min_estimation_obs=300 exceeds"),
        (dict(windows=[(3, 1)]), "first day 3 is after the last day 1"),
        (dict(returns_kind="pct"), "returns_kind"),
        (dict(compat="eventus"), "compat"),
        (dict(model="factor"), "factors"),
        (dict(trade_to_trade=True, model="dimson"), "trade_to_trade"),
    ],
)
def test_bad_arguments_raise_input_error(kwargs, match):
    R, m = _returns()
    with pytest.raises(InputError, match=match):
        EventStudy(R, market=m, **kwargs)


def test_bad_inputs_raise_input_error():
    R, m = _returns()
    with pytest.raises(InputError, match="DatetimeIndex"):
        EventStudy(R.reset_index(drop=True), market=m)
    with pytest.raises(InputError, match="needs market"):
        EventStudy(R, model="market")
    with pytest.raises(InputError, match="not in market: NOPE"):
        EventStudy(R, market=pd.DataFrame({"I": m}), benchmarks={"AAA": "NOPE"})
    bad = R.copy()
    bad.index = bad.index.insert(0, bad.index[5])[: len(bad)]
    with pytest.raises(InputError, match="duplicated date"):
        EventStudy(bad.sort_index(), market=m)
    with pytest.raises(InputError, match="missing column.*event_date"):
        EventStudy(R, market=m).fit(pd.DataFrame({"event_id": ["a"], "symbol": ["AAA"]}))


def test_nothing_estimable_gives_empty_results_not_a_crash():
    R, m = _returns()
    res, w = _fit(R, m, _one(symbol="NOPE"))
    assert res.n_pairs == 0 and len(w) == 1
    assert res.car.empty and res.params.empty and np.isnan(res.caar["caar"]).all()
    assert "unknown_symbol" in str(res.summary())
    empty, w = _fit(R, m, pd.DataFrame(columns=["event_id", "symbol", "event_date"]))
    assert empty.n_pairs == 0 and empty.outcomes.empty and not w


def test_spans_frame_marks_multi_session_returns():
    R, m = _returns()
    spans = pd.DataFrame(1.0, index=R.index, columns=R.columns)
    spans.loc["2024-02-01", "AAA"] = 3  # the return of that day covers three sessions
    base, _ = _fit(R, m, _one(date="2024-05-01"))
    marked, _ = _fit(R, m, _one(date="2024-05-01"), spans=spans)
    ob, om = base.outcomes.iloc[0], marked.outcomes.iloc[0]
    assert om["n_est_excluded_span"] == 1 and ob["n_est_excluded_span"] == 0
    assert om["n_est"] == ob["n_est"] - 1
    i = np.flatnonzero(marked.arrays.est_day[0] == (pd.Timestamp("2024-02-01") - pd.Timestamp("1970-01-01")).days)
    assert len(i) == 1 and np.isnan(marked.arrays.est_ar[0, i[0]])
