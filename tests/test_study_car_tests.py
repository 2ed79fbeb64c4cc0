"""Per-firm inference in ``EventStudyResults.car`` and the N of ``caar`` versus ``tests()``.

The reference for one pair is the J-statistic of Campbell, Lo and MacKinlay (1997, sect. 4.4)
computed by hand: OLS of the security on the market over the estimation window (statsmodels),
V = s^2 (I + X0 (X'X)^-1 X0'), SCAR = CAR / sqrt(1'V1), p-value from scipy.stats.t with
M - 2 degrees of freedom.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
from scipy import stats

from events import EventStudy
from events.statistics import available_tests

ESTIMATION = (-120, -6)
WINDOWS = [(0, 0), (-1, 1), (0, 5)]


def _panel(n_securities: int = 6, seed: int = 3, effect: float = 0.0):
    rng = np.random.default_rng(seed)
    dates = pd.bdate_range("2023-01-02", periods=260)
    market = pd.Series(rng.normal(0.0003, 0.01, len(dates)), index=dates)
    returns = pd.DataFrame(
        {f"S{i}": 0.0002 + rng.uniform(0.5, 1.5) * market + rng.normal(0, 0.02, len(dates))
         for i in range(n_securities)}
    )
    returns.index = dates
    day0 = dates[200]
    returns.loc[day0] += effect
    firms = pd.DataFrame({"event_id": "e1", "symbol": list(returns.columns), "event_date": day0})
    return returns, market, firms, day0


def _hand_scar(returns, market, symbol, day0, window):
    """SCAR, dof and p-value of one pair from statsmodels OLS and the CLM formulas."""
    pos = returns.index.get_loc(day0)
    est = slice(pos + ESTIMATION[0], pos + ESTIMATION[1] + 1)
    evt = slice(pos + window[0], pos + window[1] + 1)
    y, x = returns[symbol].iloc[est], market.iloc[est]
    ok = y.notna() & x.notna()
    X = sm.add_constant(x[ok].to_numpy())
    fit = sm.OLS(y[ok].to_numpy(), X).fit()
    X0 = sm.add_constant(market.iloc[evt].to_numpy(), has_constant="add")
    ar = returns[symbol].iloc[evt].to_numpy() - X0 @ fit.params
    V = fit.scale * (np.eye(len(ar)) + X0 @ np.linalg.inv(X.T @ X) @ X0.T)
    car = ar.sum()
    scar = car / np.sqrt(V.sum())
    dof = fit.df_resid
    return car, scar, dof, 2 * stats.t.sf(abs(scar), dof)


def test_car_carries_the_per_firm_scar_dof_and_pvalue():
    returns, market, firms, day0 = _panel()
    res = EventStudy(returns, market=market, estimation=ESTIMATION, windows=WINDOWS,
                     min_estimation_obs=100).fit(firms)
    car = res.car.set_index(["symbol", "window"])
    assert {"scar", "dof", "pvalue"} <= set(res.car.columns)
    for symbol in ["S0", "S3"]:
        for window in WINDOWS:
            label = f"({window[0]}, {window[1]})"
            row = car.loc[(symbol, label)]
            ref_car, ref_scar, ref_dof, ref_p = _hand_scar(returns, market, symbol, day0, window)
            assert row["car"] == pytest.approx(ref_car, rel=1e-10)
            assert row["scar"] == pytest.approx(ref_scar, rel=1e-9)
            assert row["dof"] == ref_dof == 115 - 2
            assert row["pvalue"] == pytest.approx(ref_p, rel=1e-8)
    np.testing.assert_allclose(res.car["scar"], res.car["car"] / res.car["car_sd"], rtol=1e-14)


def test_a_single_firm_event_has_a_usable_per_firm_test_and_nan_cross_sections():
    """N = 1: the J-statistic of the pair; tests needing a cross-section are NaN."""
    returns, market, firms, day0 = _panel(n_securities=1, effect=0.08)
    res = EventStudy(returns, market=market, estimation=ESTIMATION, windows=WINDOWS,
                     min_estimation_obs=100).fit(firms)
    assert res.n_pairs == 1
    one = res.car[res.car["window"] == "(0, 0)"].iloc[0]
    _, ref_scar, ref_dof, ref_p = _hand_scar(returns, market, "S0", day0, (0, 0))
    assert one["scar"] == pytest.approx(ref_scar, rel=1e-9)
    assert one["pvalue"] == pytest.approx(ref_p, rel=1e-8)
    assert one["pvalue"] < 0.01  # a 4-sd shock on day 0 is found by the pair's own test
    t = res.tests(bhar=False).set_index(["window", "test"])
    for name in ["cross_sectional_t", "bmp", "bmp_kp", "patell_kp", "grank"]:
        assert np.isnan(t.loc[("(0, 0)", name), "statistic"]), name
    # Patell on one pair is the SCAR scaled by sqrt((M-k-2)/(M-k)): a z version of the same test
    patell = t.loc[("(0, 0)", "patell"), "statistic"]
    assert patell == pytest.approx(ref_scar / np.sqrt(ref_dof / (ref_dof - 2)), rel=1e-9)
    assert set(t.index.get_level_values("test")) == set(available_tests())


def test_caar_counts_pairs_without_any_return_in_the_window():
    returns, market, firms, day0 = _panel(n_securities=6, effect=0.01)
    pos = returns.index.get_loc(day0)
    returns.iloc[pos, 1] = np.nan  # S1 has no day-0 return: its (0, 0) window is empty
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = EventStudy(returns, market=market, estimation=ESTIMATION, windows=WINDOWS,
                         min_estimation_obs=100).fit(firms)
    caar = res.caar.set_index("window")
    assert caar.loc["(0, 0)", ["n", "n_partial", "n_missing"]].tolist() == [5, 0, 1]
    assert (caar[["n", "n_partial", "n_missing"]].sum(axis=1) == res.n_pairs).all()


def test_caar_and_tests_use_the_same_pairs_when_a_window_is_partial():
    returns, market, firms, day0 = _panel(n_securities=8, effect=0.01)
    pos = returns.index.get_loc(day0)
    returns.iloc[pos + 3, 2] = np.nan  # S2 lacks day +3: its (0, 5) window is partial
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = EventStudy(returns, market=market, estimation=ESTIMATION, windows=WINDOWS,
                     min_estimation_obs=100).fit(firms)
    caar = res.caar.set_index("window")
    assert caar.loc["(0, 5)", "n"] == 7 and caar.loc["(0, 5)", "n_partial"] == 1
    assert caar.loc["(0, 0)", "n"] == 8 and caar.loc["(0, 0)", "n_partial"] == 0
    car = res.car[res.car["window"] == "(0, 5)"]
    complete = car[car["n_days"] == 6]
    assert caar.loc["(0, 5)", "caar"] == pytest.approx(complete["car"].mean(), rel=1e-12)
    # the partial CAR is still shown: day +3 is missing and day +4's return spans two
    # sessions (a halt), so it is left out too
    assert car.loc[car["symbol"] == "S2", "n_days"].item() == 4
    t = res.tests(bhar=False)
    for window, row in caar.iterrows():
        sub = t[(t["window"] == window) & (t["test"] == "cross_sectional_t")].iloc[0]
        assert sub["n"] == row["n"]
        assert sub["estimate"] == pytest.approx(row["caar"], rel=1e-12)
