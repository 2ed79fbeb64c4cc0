"""Result objects: planted effects, tidy frames, BHARs, subsets, summary, plot, tests()."""

from __future__ import annotations

import importlib.util

import numpy as np
import pandas as pd
import pytest

from events import EventStudy, EventStudyResults
from screener.errors import InputError

WINDOWS = [(0, 0), (-1, 1), (0, 5)]


def _planted(effect: float, n_firms=60, events_per_firm=5, seed=0, sigma=0.02):
    """Market-model panel; ``effect`` is added to every firm's return on each event day."""
    rng = np.random.default_rng(seed)
    dates = pd.bdate_range("2020-01-01", periods=900)
    m = pd.Series(rng.normal(0.0003, 0.01, len(dates)), index=dates)
    syms = [f"F{i:03d}" for i in range(n_firms)]
    betas = rng.uniform(0.5, 1.5, n_firms)
    R = pd.DataFrame(rng.normal(0, sigma, (len(dates), n_firms)) + np.outer(m, betas) + 0.0002,
                     index=dates, columns=syms)
    rows = []
    for j, s in enumerate(syms):
        pos = 300 + 100 * np.arange(events_per_firm) + rng.integers(0, 60, events_per_firm)
        for k, p in enumerate(pos):
            R.iloc[p, j] += effect
            rows.append({"event_id": f"ev{k}", "symbol": s, "event_date": dates[p]})
    return R, m, pd.DataFrame(rows), sigma


@pytest.fixture(scope="module")
def planted():
    R, m, ef, sigma = _planted(0.03)
    res = EventStudy(R, market=m, windows=WINDOWS, event_window=(-10, 10)).fit(ef)
    return R, m, ef, sigma, res


def test_planted_effect_is_recovered(planted):
    _R, _m, ef, sigma, res = planted
    n = len(ef)
    assert res.n_pairs == n
    caar = res.caar.set_index("window")
    for w in ["(0, 0)", "(-1, 1)", "(0, 5)"]:
        length = int(caar.loc[w, "t2"] - caar.loc[w, "t1"] + 1)
        se = sigma * np.sqrt(length / n)
        assert abs(caar.loc[w, "caar"] - 0.03) < 4 * se
        assert caar.loc[w, "n"] == n
    aar = res.aar.set_index("rel_day")["aar"]
    assert abs(aar.loc[0] - 0.03) < 4 * sigma / np.sqrt(n)
    assert (aar.drop(0).abs() < 4 * sigma / np.sqrt(n)).all()


def test_no_planted_effect_means_zero():
    R, m, ef, sigma = _planted(0.0, seed=1)
    res = EventStudy(R, market=m, windows=WINDOWS).fit(ef)
    n = res.n_pairs
    for row in res.caar.itertuples():
        assert abs(row.caar) < 4 * sigma * np.sqrt((row.t2 - row.t1 + 1) / n)


def test_tidy_frames_are_consistent(planted):
    _R, _m, ef, _s, res = planted
    n, L = res.n_pairs, 21
    ar = res.ar
    assert list(ar.columns[:4]) == ["event_id", "symbol", "rel_day", "date"] and len(ar) == n * L
    np.testing.assert_allclose(ar["ar"], ar["ret"] - ar["expected"], atol=1e-15)
    # CAR = sum of the ARs of the window; AAR = mean AR by day; CAAR = mean CAR
    g = ar[(ar.rel_day >= -1) & (ar.rel_day <= 1)].groupby(["event_id", "symbol"])["ar"].sum()
    car = res.car[res.car.window == "(-1, 1)"].set_index(["event_id", "symbol"])["car"]
    pd.testing.assert_series_equal(car.sort_index(), g.sort_index(), check_names=False, atol=1e-14)
    np.testing.assert_allclose(res.aar["aar"], ar.groupby("rel_day")["ar"].mean().to_numpy(), atol=1e-15)
    np.testing.assert_allclose(res.caar.set_index("window").loc["(-1, 1)", "caar"], car.mean(), atol=1e-15)
    assert set(res.car["window"]) == {"(0, 0)", "(-1, 1)", "(0, 5)"} and len(res.car) == 3 * n
    # forecast-error sd of a one-day CAR is the AR's sd
    one = res.car[res.car.window == "(0, 0)"].set_index(["event_id", "symbol"])["car_sd"]
    sd0 = ar[ar.rel_day == 0].set_index(["event_id", "symbol"])["ar_sd"]
    pd.testing.assert_series_equal(one.sort_index(), sd0.sort_index(), check_names=False)
    p = res.params
    assert {"alpha", "beta", "sigma", "n_est", "dof", "r2"} <= set(p.columns) and len(p) == n
    assert (p["dof"] == p["n_est"] - 2).all()


def test_bhar_is_buy_and_hold_minus_expected(planted):
    _R, _m, _ef, _s, res = planted
    ar = res.ar[(res.ar.rel_day >= 0) & (res.ar.rel_day <= 5)]
    g = ar.groupby(["event_id", "symbol"])
    ref = g["ret"].apply(lambda r: np.prod(1 + r)) - g["expected"].apply(lambda e: np.prod(1 + e))
    got = res.bhar[res.bhar.window == "(0, 5)"].set_index(["event_id", "symbol"])["bhar"]
    pd.testing.assert_series_equal(got.sort_index(), ref.sort_index(), check_names=False, atol=1e-14)


def test_bhar_with_log_returns_equals_simple_returns_bhar():
    R, m, ef, _ = _planted(0.02, n_firms=10, events_per_firm=2, seed=3)
    simple = EventStudy(R, market=m, model="market_adjusted", windows=[(0, 5)]).fit(ef)
    logged = EventStudy(np.log1p(R), market=np.log1p(m), model="market_adjusted", windows=[(0, 5)],
                        returns_kind="log").fit(ef)
    np.testing.assert_allclose(logged.bhar["bhar"], simple.bhar["bhar"], rtol=1e-12)
    # a log-return study that ignored returns_kind would compound wrongly
    naive = EventStudy(np.log1p(R), market=np.log1p(m), model="market_adjusted", windows=[(0, 5)]).fit(ef)
    assert not np.allclose(naive.bhar["bhar"], simple.bhar["bhar"], rtol=1e-6)


def test_select_subsets_everything(planted):
    _R, _m, ef, _s, res = planted
    sub = res.select(event_ids=["ev0", "ev1"])
    assert isinstance(sub, EventStudyResults)
    assert set(sub.car["event_id"]) == {"ev0", "ev1"}
    assert sub.n_pairs == (ef.event_id.isin(["ev0", "ev1"])).sum() == len(sub.outcomes)
    keep = res.params.event_id.isin(["ev0", "ev1"]).to_numpy()
    np.testing.assert_array_equal(sub.arrays.evt_ar, res.arrays.evt_ar[keep])
    pd.testing.assert_frame_equal(sub.params, res.params[keep].reset_index(drop=True))
    one = res.select(symbols="F001")
    assert set(one.params.symbol) == {"F001"} and one.n_pairs == 5
    with pytest.raises(InputError, match="unknown event_id nope"):
        res.select(event_ids=["nope"])


def test_caar_path_band_matches_independent_variance(planted):
    _R, _m, _ef, _s, res = planted
    path = res.caar_path((-2, 3))
    a = res.arrays
    s = a.window_slice((-2, 3))
    x = a.evt_ar[:, s]
    V = a.evt_cov[:, s, s]
    n = x.shape[0]
    for j in range(x.shape[1]):
        np.testing.assert_allclose(path["caar"].iloc[j], x[:, : j + 1].sum(axis=1).mean(), atol=1e-15)
        var = sum(V[i, : j + 1, : j + 1].sum() for i in range(n)) / n**2
        np.testing.assert_allclose(path["se"].iloc[j] ** 2, var, rtol=1e-12)
    assert (path["lower"] < path["caar"]).all() and (path["caar"] < path["upper"]).all()
    with pytest.raises(InputError, match="outside the event window"):
        res.caar_path((-30, 10))


def test_summary_repr_and_plot(planted):
    _R, _m, _ef, _s, res = planted
    text = str(res.summary())
    assert "Event study results" in text and "market" in text and "(0, 5)" in text
    assert str(res) == text
    html = res._repr_html_()
    assert "<table" in html and "CAAR by window" in html
    assert "pairs=300/300" in repr(res)
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    ax = res.plot(window=(-10, 10))
    line = ax.get_lines()[0]
    np.testing.assert_allclose(line.get_ydata(), res.caar_path((-10, 10))["caar"])
    plt.close("all")


def test_tests_end_to_end(planted):
    if importlib.util.find_spec("events.statistics") is None:
        pytest.skip("events.statistics is not written yet")
    _R, _m, _ef, _s, res = planted
    t = res.tests()
    assert {"window", "test", "estimate", "statistic", "pvalue", "n", "df"} <= set(t.columns)
    assert set(t["window"]) == {"(0, 0)", "(-1, 1)", "(0, 5)"}
    assert (t["n"] == res.n_pairs).all()
    # the planted 3% effect is found by every parametric test on day 0
    day0 = t[(t.window == "(0, 0)") & t.test.isin(["patell", "bmp", "brown_warner_1980"])]
    assert len(day0) == 3 and (day0["pvalue"] < 1e-6).all()
    # estimates are the CAARs of this results object; select() recomputes them
    np.testing.assert_allclose(
        t[(t.window == "(0, 5)") & (t.test == "patell")]["estimate"].iloc[0],
        res.caar.set_index("window").loc["(0, 5)", "caar"],
    )
    sub = res.select(event_ids=["ev0"]).tests(["patell"], bhar=False)
    assert len(sub) == 3 and (sub["n"] == 60).all()


def test_select_by_any_input_column_recomputes_the_tests():
    rng = np.random.default_rng(4)
    dates = pd.bdate_range("2023-01-02", periods=320)
    market = pd.Series(rng.normal(0, 0.01, 320), index=dates)
    returns = pd.DataFrame({f"S{i}": market + rng.normal(0, 0.01, 320) for i in range(6)})
    returns.iloc[300, :3] += 0.05  # the three primaries react, the others do not
    firms = pd.DataFrame({"event_id": "e1", "symbol": returns.columns, "event_date": dates[300],
                          "role": ["primary"] * 3 + ["peer"] * 3, "expected_sign": [1, 1, 1, 0, 0, -1]})
    res = EventStudy(returns, market=market, windows=[(0, 0)]).fit(firms)
    primary = res.select(role="primary")
    assert primary.n_pairs == 3 and set(primary.outcomes["symbol"]) == {"S0", "S1", "S2"}
    assert primary.caar["caar"].iloc[0] > 0.04 > res.caar["caar"].iloc[0]
    t_all = res.tests(["cross_sectional_t"])["statistic"].iloc[0]
    t_primary = primary.tests(["cross_sectional_t"])["statistic"].iloc[0]
    assert t_primary != t_all
    assert res.select(expected_sign=[0, -1]).n_pairs == 3
    assert res.select(role="peer", expected_sign=-1).outcomes["symbol"].tolist() == ["S5"]
    with pytest.raises(InputError, match="no column 'sector'"):
        res.select(sector="chips")
    with pytest.raises(InputError, match="unknown role ceo"):
        res.select(role="ceo")


def test_overlaps_name_the_other_events_behind_the_overlap_remark():
    rng = np.random.default_rng(8)
    dates = pd.bdate_range("2021-01-04", periods=900)
    market = pd.Series(rng.normal(0, 0.01, 900), index=dates)
    returns = pd.DataFrame({s: market + rng.normal(0, 0.01, 900) for s in "ABCD"})
    n = 40
    firms = pd.DataFrame({"event_id": [f"e{i}" for i in range(n)], "symbol": rng.choice(list("ABCD"), n),
                          "event_date": dates[rng.integers(260, 880, n)]})
    res = EventStudy(returns, market=market, estimation=(-120, -11), event_window=(-5, 5),
                     min_estimation_obs=60).fit(firms)
    ov = res.overlaps
    assert list(ov.columns) == ["event_id", "symbol", "event_date", "window", "other_event_id", "other_event_date"]
    # brute force on session positions of each security (complete data: positions = dates)
    pos = {d: k for k, d in enumerate(dates)}
    o = res.outcomes
    expected = set()
    for _, a in o.iterrows():
        for _, b in o.iterrows():
            if a["event_id"] == b["event_id"] or a["symbol"] != b["symbol"]:
                continue
            p, q = pos[a["event_date"]], pos[b["event_date"]]
            if q - 5 <= p - 11 and q + 5 >= p - 120:
                expected.add((a["event_id"], "estimation", b["event_id"]))
            if abs(p - q) <= 10:
                expected.add((a["event_id"], "event", b["event_id"]))
    assert set(zip(ov["event_id"], ov["window"], ov["other_event_id"])) == expected
    # the remark is set exactly on the estimated pairs that have an overlap
    flagged = set(o.loc[o["flags"].str.contains("overlapping_event"), "event_id"])
    assert flagged == set(ov["event_id"]) & set(o.loc[o["included"], "event_id"])
    assert len(expected) > 5
    # a selection keeps its own pairs and the other events of the whole fit
    sub = res.select(event_ids=sorted(flagged)[:2])
    assert set(sub.overlaps["event_id"]) == set(sorted(flagged)[:2])
