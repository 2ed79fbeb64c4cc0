"""Expected-return models against independent references.

Factor, Dimson and trade-to-trade (WLS) models against statsmodels fitted pair by pair;
market-adjusted and constant-mean against their exact formulas; Scholes-Williams against the
formula of the paper computed with numpy; the estudy2 model-stage conventions against the
published estudy2 example.
"""

from __future__ import annotations

import bisect
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm

from events import EventStudy
from events.models import MODELS, get_model
from screener.errors import EstimationWarning, InputError

EST = (-150, -6)
EVT = (-2, 4)


def _simple_panel(seed=3, n_days=400, syms=("AAA", "BBB", "CCC")):
    rng = np.random.default_rng(seed)
    dates = pd.bdate_range("2021-01-04", periods=n_days)
    m = pd.Series(rng.normal(0.0004, 0.011, n_days), index=dates)
    F = pd.DataFrame({"mkt": m.to_numpy(), "smb": rng.normal(0, 0.006, n_days),
                      "hml": rng.normal(0, 0.005, n_days)}, index=dates)
    R = pd.DataFrame({s: 0.0003 + F.to_numpy() @ rng.normal([1.0, 0.3, -0.2], 0.2) + 0.2 * np.roll(m, 1)
                      + rng.normal(0, 0.015, n_days) for s in syms}, index=dates)
    R.iloc[rng.choice(n_days, 20, replace=False), 0] = np.nan
    ef = pd.DataFrame([{"event_id": f"e{j}", "symbol": s, "event_date": dates[250 + 40 * j + i]}
                       for i, s in enumerate(syms) for j in range(3)])
    return R, m, F, ef


def _positions(R, sym, date, sessions=None):
    ses = sessions if sessions is not None else R.index[R[sym].notna()]
    p0 = bisect.bisect_left(list(ses), date)
    return ses, p0


def _pair_rows(res):
    return list(zip(res.params["event_id"], res.params["symbol"]))


def test_model_registry_and_unknown_model():
    assert get_model("market").k == 2
    assert get_model("market_adjusted").k == 0
    assert get_model("constant_mean").k == 1
    assert get_model("dimson", lags=2).k == 6
    assert get_model("factor", factor_names=["a", "b", "c"]).k == 4
    with pytest.raises(InputError, match="valid: " + ", ".join(MODELS)):
        get_model("capm")


def test_factor_model_matches_statsmodels():
    R, m, F, ef = _simple_panel()
    res = EventStudy(R, factors=F, model="factor", estimation=EST, windows=[(0, 0), (0, 4)],
                     event_window=EVT, min_estimation_obs=100).fit(ef)
    assert res.arrays.k == 4 and res.n_pairs == len(ef)
    for i, (eid, sym) in enumerate(_pair_rows(res)):
        date = ef.loc[(ef.event_id == eid) & (ef.symbol == sym), "event_date"].iloc[0]
        ses, p0 = _positions(R, sym, date)
        y = R[sym].reindex(ses).to_numpy()
        X = sm.add_constant(F.reindex(ses).to_numpy())
        est = np.arange(p0 + EST[0], p0 + EST[1] + 1)
        fit = sm.OLS(y[est], X[est]).fit()
        evt = np.arange(p0 + EVT[0], p0 + EVT[1] + 1)
        np.testing.assert_allclose(res.params.iloc[i][["alpha", "mkt", "smb", "hml"]].to_numpy(float),
                                   fit.params, atol=1e-10)
        np.testing.assert_allclose(res.params["sigma"].iloc[i], np.sqrt(fit.scale), rtol=1e-10)
        np.testing.assert_allclose(res.params["r2"].iloc[i], fit.rsquared, rtol=1e-9)
        np.testing.assert_allclose(res.arrays.evt_ar[i], y[evt] - X[evt] @ fit.params, atol=1e-10)
        V = fit.scale * np.eye(len(evt)) + X[evt] @ fit.cov_params() @ X[evt].T
        np.testing.assert_allclose(res.arrays.evt_cov[i], V, rtol=1e-9)
        assert res.arrays.dof[i] == len(est) - 4


def test_dimson_matches_statsmodels_with_leads_and_lags():
    R, m, F, ef = _simple_panel(5)
    R = R.drop(columns="AAA")  # no gaps: the security's previous session is the previous date
    ef = ef[ef.symbol != "AAA"]
    res = EventStudy(R, market=m, model="dimson", dimson_lags=1, estimation=EST, windows=[(0, 2)],
                     event_window=EVT, min_estimation_obs=100).fit(ef)
    for i, (eid, sym) in enumerate(_pair_rows(res)):
        date = ef.loc[(ef.event_id == eid) & (ef.symbol == sym), "event_date"].iloc[0]
        ses, p0 = _positions(R, sym, date)
        y = R[sym].reindex(ses).to_numpy()
        mv = m.reindex(ses).to_numpy()
        X = np.column_stack([np.ones(len(ses)), np.roll(mv, 1), mv, np.roll(mv, -1)])
        est = np.arange(p0 + EST[0], p0 + EST[1] + 1)
        fit = sm.OLS(y[est], X[est]).fit()
        p = res.params.iloc[i]
        np.testing.assert_allclose(p[["alpha", "beta_lag1", "beta_0", "beta_lead1"]].to_numpy(float),
                                   fit.params, atol=1e-10)
        np.testing.assert_allclose(p["beta"], fit.params[1:].sum(), atol=1e-10)
        evt = np.arange(p0 + EVT[0], p0 + EVT[1] + 1)
        np.testing.assert_allclose(res.arrays.evt_ar[i], y[evt] - X[evt] @ fit.params, atol=1e-10)
        V = fit.scale * np.eye(len(evt)) + X[evt] @ fit.cov_params() @ X[evt].T
        np.testing.assert_allclose(res.arrays.evt_cov[i], V, rtol=1e-9)


def test_scholes_williams_beta_formula():
    R, m, F, ef = _simple_panel(9)
    R = R.drop(columns="AAA")
    ef = ef[ef.symbol != "AAA"]
    res = EventStudy(R, market=m, model="scholes_williams", estimation=EST, windows=[(0, 0)],
                     event_window=EVT, min_estimation_obs=100).fit(ef)
    for i, (eid, sym) in enumerate(_pair_rows(res)):
        date = ef.loc[(ef.event_id == eid) & (ef.symbol == sym), "event_date"].iloc[0]
        ses, p0 = _positions(R, sym, date)
        y = R[sym].reindex(ses).to_numpy()
        mv = m.reindex(ses).to_numpy()
        est = np.arange(p0 + EST[0], p0 + EST[1] + 1)
        b_lag = np.polyfit(mv[est - 1], y[est], 1)[0]
        b_0 = np.polyfit(mv[est], y[est], 1)[0]
        b_lead = np.polyfit(mv[est + 1], y[est], 1)[0]
        rho = np.corrcoef(mv[est], mv[est - 1])[0, 1]
        beta = (b_lag + b_0 + b_lead) / (1 + 2 * rho)
        alpha = y[est].mean() - beta * mv[est].mean()
        np.testing.assert_allclose(res.params["beta"].iloc[i], beta, rtol=1e-10)
        np.testing.assert_allclose(res.params["alpha"].iloc[i], alpha, atol=1e-12)
        e = y[est] - alpha - beta * mv[est]
        np.testing.assert_allclose(res.params["sigma"].iloc[i], np.sqrt(e @ e / (len(est) - 2)), rtol=1e-10)
        evt = np.arange(p0 + EVT[0], p0 + EVT[1] + 1)
        np.testing.assert_allclose(res.arrays.evt_ar[i], y[evt] - alpha - beta * mv[evt], atol=1e-12)
        # differs from the OLS beta (the data has a lagged market effect)
        assert abs(beta - b_0) > 1e-3


def test_market_adjusted_is_exact():
    R, m, F, ef = _simple_panel(4)
    res = EventStudy(R, market=m, model="market_adjusted", estimation=EST, windows=[(0, 0)],
                     event_window=EVT, min_estimation_obs=100).fit(ef)
    a = res.arrays
    assert a.k == 0
    for i, (eid, sym) in enumerate(_pair_rows(res)):
        date = ef.loc[(ef.event_id == eid) & (ef.symbol == sym), "event_date"].iloc[0]
        # default sessions: dates where the security or its benchmark has a return
        ses, p0 = _positions(R, sym, date, sessions=R.index[R[sym].notna() | m.reindex(R.index).notna()])
        ar_all = (R[sym] - m).reindex(ses).to_numpy()
        # a return right after a missing day spans two sessions and is left out of the estimation
        after_gap = np.r_[False, ~np.isfinite(ar_all[:-1])] & np.isfinite(ar_all)
        est = np.where(after_gap, np.nan, ar_all)[p0 + EST[0]: p0 + EST[1] + 1]
        est = est[np.isfinite(est)]
        evt = np.where(after_gap, np.nan, ar_all)[p0 + EVT[0]: p0 + EVT[1] + 1]
        np.testing.assert_allclose(a.evt_ar[i], evt, atol=1e-15)
        s2 = est @ est / len(est)
        np.testing.assert_allclose(a.sigma[i] ** 2, s2, rtol=1e-12)
        V = s2 * np.eye(EVT[1] - EVT[0] + 1)
        V[~np.isfinite(evt), :] = np.nan  # no variance for a missing abnormal return
        V[:, ~np.isfinite(evt)] = np.nan
        np.testing.assert_allclose(a.evt_cov[i], V, rtol=1e-12)
        assert a.dof[i] == len(est) == a.n_est[i]


def test_trade_to_trade_matches_statsmodels_wls():
    """Maynes-Rumsey: R(n) = a n + b R_m(n) + e, Var(e) = n s^2, fitted by WLS with weights 1/n."""
    rng = np.random.default_rng(21)
    dates = pd.bdate_range("2021-01-04", periods=420)
    m = pd.Series(rng.normal(0.0003, 0.01, len(dates)), index=dates)
    y_all = 0.0002 + 1.1 * m.to_numpy() + rng.normal(0, 0.02, len(dates))
    R = pd.DataFrame({"HLT": y_all}, index=dates)
    halts = rng.choice(np.arange(10, 410), 40, replace=False)
    R.iloc[halts, 0] = np.nan
    sessions = {"HLT": dates}
    ef = pd.DataFrame({"event_id": ["a", "b"], "symbol": "HLT", "event_date": [dates[300], dates[380]]})
    res = EventStudy(R, market=m, model="market", estimation=EST, windows=[(0, 4)], event_window=EVT,
                     sessions=sessions, trade_to_trade=True, min_estimation_obs=80).fit(ef)
    default = EventStudy(R, market=m, model="market", estimation=EST, windows=[(0, 4)], event_window=EVT,
                         sessions=sessions, min_estimation_obs=80).fit(ef)
    y = R["HLT"].to_numpy()
    mv = m.to_numpy()
    n = np.full(len(dates), np.nan)
    mspan = np.full(len(dates), np.nan)
    last = None
    for p in range(len(dates)):
        if np.isfinite(y[p]):
            if last is not None:
                n[p] = p - last
                mspan[p] = np.prod(1 + mv[last + 1: p + 1]) - 1
            last = p
    assert np.nanmax(n) > 1
    for i, (eid, _sym) in enumerate(_pair_rows(res)):
        p0 = dates.get_loc(ef.loc[ef.event_id == eid, "event_date"].iloc[0])
        est = np.arange(p0 + EST[0], p0 + EST[1] + 1)
        est = est[np.isfinite(y[est]) & np.isfinite(n[est])]
        Z = np.column_stack([n, mspan])
        fit = sm.WLS(y[est], Z[est], weights=1 / n[est]).fit()
        np.testing.assert_allclose(res.params.iloc[i][["alpha", "beta"]].to_numpy(float), fit.params, atol=1e-10)
        np.testing.assert_allclose(res.params["sigma"].iloc[i], np.sqrt(fit.scale), rtol=1e-10)
        evt = np.arange(p0 + EVT[0], p0 + EVT[1] + 1)
        ar = y[evt] - Z[evt] @ fit.params
        np.testing.assert_allclose(res.arrays.evt_ar[i], ar, atol=1e-10, equal_nan=True)
        ok = np.isfinite(ar)
        Z0 = np.nan_to_num(Z[evt])
        V = fit.scale * np.diag(np.where(ok, n[evt], 1.0)) + Z0 @ fit.cov_params() @ Z0.T
        np.testing.assert_allclose(res.arrays.evt_cov[i][np.ix_(ok, ok)], V[np.ix_(ok, ok)], rtol=1e-9)
        # the default drops multi-session returns instead and uses fewer observations
        assert default.arrays.n_est[i] < res.arrays.n_est[i]


def test_trade_to_trade_without_halts_equals_ols():
    R, m, F, ef = _simple_panel(8)
    R = R.drop(columns="AAA")
    ef = ef[ef.symbol != "AAA"]
    kw = dict(market=m, model="market", estimation=EST, windows=[(0, 4)], event_window=EVT, min_estimation_obs=100)
    a = EventStudy(R, **kw).fit(ef).arrays
    b = EventStudy(R, trade_to_trade=True, **kw).fit(ef).arrays
    np.testing.assert_allclose(a.evt_ar, b.evt_ar, atol=1e-12)
    np.testing.assert_allclose(a.evt_cov, b.evt_cov, rtol=1e-9)


def _estudy2(estudy2_dir: Path, compat):
    r = pd.read_csv(estudy2_dir / "rates.csv", index_col="date", parse_dates=True)
    m = pd.read_csv(estudy2_dir / "rates_indx.csv", index_col="date", parse_dates=True)["^GSPC"]
    ef = pd.DataFrame({"event_id": "2020-03-16", "symbol": list(r.columns), "event_date": "2020-03-16"})
    n_est = int((r.index <= "2020-03-13").sum())  # estimation window 2019-04-01 .. 2020-03-13
    study = EventStudy(r, market=m, model="market", estimation=(-n_est, -1), windows=[(t, t) for t in range(5)],
                       sessions={s: r.index for s in r.columns}, compat=compat, min_estimation_obs=100)
    return study.fit(ef)


def test_estudy2_model_stage(estudy2_dir):
    """Mean AR and Patell (computed here from the arrays) reproduce the published estudy2 table."""
    res = _estudy2(estudy2_dir, "estudy2")
    a = res.arrays
    assert res.params.set_index("symbol")["n_est"].to_dict() == {
        "AMZN": 240, "ZM": 227, "UBER": 212, "NFLX": 240, "SHOP": 240, "FB": 240, "UPWK": 240}
    mean_ar = [0.02329740, -0.03157867, -0.01617850, 0.07672027, 0.05840545]
    np.testing.assert_allclose(res.aar["aar"], mean_ar, atol=5e-9)
    patell_published = [2.5507399, -2.9495613, 0.3283654, 8.4216222, 6.3196352]
    sar = a.evt_ar / np.sqrt(np.einsum("nll->nl", a.evt_cov))
    patell = sar.sum(axis=0) / np.sqrt(((a.n_est - 2) / (a.n_est - 4)).sum())
    np.testing.assert_allclose(patell, patell_published, atol=5e-7)
    # sigma: sample sd of the estimation ARs (divisor M - 1)
    np.testing.assert_allclose(a.sigma, np.nanstd(a.est_ar, axis=1, ddof=1), rtol=1e-12)


def test_estudy2_textbook_defaults_differ_only_in_model_stage_conventions(estudy2_dir):
    e2 = _estudy2(estudy2_dir, "estudy2").arrays
    tb = _estudy2(estudy2_dir, None).arrays
    np.testing.assert_allclose(tb.evt_ar, e2.evt_ar, atol=1e-15)  # same ARs
    np.testing.assert_allclose(tb.sigma ** 2 * (tb.n_est - 2), e2.sigma ** 2 * (e2.n_est - 1), rtol=1e-10)
    full = tb.n_est == 240  # firms without missing days: the correction terms agree
    ratio_tb = tb.evt_cov / tb.sigma[:, None, None] ** 2
    ratio_e2 = e2.evt_cov / e2.sigma[:, None, None] ** 2
    np.testing.assert_allclose(ratio_tb[full], ratio_e2[full], rtol=1e-10)
    assert not np.allclose(ratio_tb[~full], ratio_e2[~full], rtol=1e-6)


def test_collinear_factors_give_singular_design_not_garbage():
    R, m, F, ef = _simple_panel(12)
    F = F.assign(dup=2.0 * F["smb"])  # perfectly collinear with smb
    with pytest.warns(EstimationWarning, match="singular_design: 9"):
        res = EventStudy(R, factors=F, model="factor", estimation=EST, windows=[(0, 0)], event_window=EVT,
                         min_estimation_obs=100).fit(ef)
    assert res.n_pairs == 0 and (res.outcomes["outcome"] == "singular_design").all()
    # a factor that is constant over one pair's estimation window only
    F2 = F.drop(columns="dup")
    first = ef.iloc[0]
    F2.loc[:first["event_date"], "hml"] = 0.001
    with pytest.warns(EstimationWarning, match="singular_design"):
        res2 = EventStudy(R, factors=F2, model="factor", estimation=EST, windows=[(0, 0)], event_window=EVT,
                          min_estimation_obs=100).fit(ef)
    got = res2.outcomes.set_index(["event_id", "symbol"])["outcome"]
    assert got[(first["event_id"], first["symbol"])] == "singular_design"
    assert (got != "singular_design").sum() >= 1
