"""The vectorized engine against statsmodels OLS/WLS fitted one event-firm pair at a time.

The reference re-derives event time with a plain loop (bisect on each security's own session
list), fits statsmodels on each pair's valid estimation days and computes the forecast-error
covariance from statsmodels' ``get_prediction`` (diagonal) and ``cov_params`` (full matrix,
``V = s^2 I + X0 Cov(b) X0'``). Agreement is required to 1e-10.
"""

from __future__ import annotations

import bisect
import warnings

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm

from events import EventStudy
from screener.errors import EstimationWarning

EST = (-120, -6)
EVT = (-3, 5)
WINDOWS = [(0, 0), (-1, 1), (0, 5)]


def _panel(seed: int = 7):
    """Random panel: gaps, a security on a different calendar, one with halts and sessions."""
    rng = np.random.default_rng(seed)
    dates = pd.bdate_range("2022-01-03", periods=420)
    m = pd.Series(rng.normal(0.0003, 0.01, len(dates)), index=dates)
    m.iloc[rng.choice(len(dates), 6, replace=False)] = np.nan  # market gaps
    syms = ["AAA", "BBB", "CCC", "DDD"]
    betas = [0.8, 1.3, 1.0, 0.5]
    data = {}
    for s, b in zip(syms, betas):
        data[s] = 0.0002 + b * m.fillna(0).to_numpy() + rng.normal(0, 0.02, len(dates))
    R = pd.DataFrame(data, index=dates)
    # AAA: random missing days (no sessions given: missing returns on days the market traded)
    R.iloc[rng.choice(len(dates), 25, replace=False), 0] = np.nan
    # BBB: more missing days (without sessions=, gaps in event time where the market traded)
    bbb_holidays = rng.choice(len(dates), 15, replace=False)
    R.iloc[bbb_holidays, 1] = np.nan
    # CCC: sessions given; halts inside sessions -> the next return spans several sessions
    ccc_sessions = dates.delete(rng.choice(len(dates), 10, replace=False))
    R.loc[~R.index.isin(ccc_sessions), "CCC"] = np.nan
    halts = rng.choice(np.arange(5, len(ccc_sessions) - 5), 12, replace=False)
    R.loc[ccc_sessions[halts], "CCC"] = np.nan
    sessions = {"CCC": ccc_sessions}
    # events: several per security, some on weekends (date policy "next")
    rows = []
    for s in syms:
        for j, d in enumerate(pd.to_datetime(rng.choice(dates[150:400], 4, replace=False))):
            d = d + pd.Timedelta(days=int(rng.integers(0, 3)))  # may fall on a weekend
            rows.append({"event_id": f"ev{j}-{s}", "symbol": s, "event_date": d})
    return R, m, sessions, pd.DataFrame(rows)


def _reference(R, m, sessions, ef, model="market"):
    """Per-pair loop with statsmodels."""
    out = []
    for row in ef.itertuples():
        s = row.symbol
        if s in sessions:
            ses = sessions[s]
        elif model == "constant_mean":  # no market: the dates with a return
            ses = R.index[R[s].notna()]
        else:  # default: the dates on which the security or its benchmark has a return
            ses = R.index[R[s].notna() | m.reindex(R.index).notna()]
        y = R[s].reindex(ses).to_numpy()
        x = m.reindex(ses).to_numpy()
        # span of each return in the security's sessions (gaps and halts inside its sessions)
        span = np.ones(len(ses))
        last = None
        for p in range(len(ses)):
            if np.isfinite(y[p]):
                span[p] = 1 if last is None else p - last
                last = p
        p0 = bisect.bisect_left(list(ses), row.event_date)
        est = [p0 + t for t in range(EST[0], EST[1] + 1) if 0 <= p0 + t < len(ses)]
        need_x = model == "market"
        est = [p for p in est if np.isfinite(y[p]) and (np.isfinite(x[p]) or not need_x) and span[p] == 1]
        X = sm.add_constant(x[est], has_constant="add")
        if model == "market":
            fit = sm.OLS(y[est], X).fit()
        else:  # constant mean
            fit = sm.OLS(y[est], np.ones((len(est), 1))).fit()
        evt = [p0 + t for t in range(EVT[0], EVT[1] + 1)]
        yv = np.array([y[p] if 0 <= p < len(ses) and span[p] == 1 else np.nan for p in evt])
        xv = np.array([x[p] if 0 <= p < len(ses) else np.nan for p in evt])
        X0 = sm.add_constant(xv, has_constant="add") if model == "market" else np.ones((len(evt), 1))
        ar = yv - X0 @ fit.params
        ok = np.isfinite(ar)
        pred = fit.get_prediction(X0[ok])
        diag = np.full(len(evt), np.nan)
        diag[ok] = pred.se_mean**2 + fit.scale
        V = fit.scale * np.eye(len(evt)) + X0 @ fit.cov_params() @ X0.T
        V[~ok, :] = np.nan
        V[:, ~ok] = np.nan
        out.append(dict(event_id=row.event_id, symbol=s, params=np.asarray(fit.params), sigma=np.sqrt(fit.scale),
                        M=len(est), ar=ar, diag=diag, V=V, date=ses[p0]))
    return out


@pytest.fixture(scope="module")
def fitted():
    R, m, sessions, ef = _panel()
    study = EventStudy(R, market=m, model="market", estimation=EST, windows=WINDOWS, event_window=EVT,
                       sessions=sessions, min_estimation_obs=60)
    with warnings.catch_warnings():
        warnings.simplefilter("error", EstimationWarning)  # every pair must be estimated
        res = study.fit(ef)
    return R, m, sessions, ef, res


def test_every_pair_estimated_and_day0_matches_reference(fitted):
    R, m, sessions, ef, res = fitted
    ref = _reference(R, m, sessions, ef)
    assert res.n_pairs == len(ef)
    got = res.outcomes.set_index(["event_id", "symbol"])["event_date"]
    for r in ref:
        assert got[(r["event_id"], r["symbol"])] == r["date"]


def test_market_model_matches_statsmodels(fitted):
    R, m, sessions, ef, res = fitted
    ref = _reference(R, m, sessions, ef)
    params = res.params.set_index(["event_id", "symbol"])
    keys = list(zip(res.params["event_id"], res.params["symbol"]))
    a = res.arrays
    # the halted security has excluded multi-session returns, so the check is not vacuous
    assert res.outcomes.loc[res.outcomes["symbol"] == "CCC", "n_est_excluded_span"].sum() > 0
    for r in ref:
        i = keys.index((r["event_id"], r["symbol"]))
        p = params.loc[(r["event_id"], r["symbol"])]
        np.testing.assert_allclose([p["alpha"], p["beta"]], r["params"], rtol=0, atol=1e-10)
        np.testing.assert_allclose(p["sigma"], r["sigma"], rtol=1e-10)
        assert p["n_est"] == r["M"] and p["dof"] == r["M"] - 2
        np.testing.assert_allclose(a.evt_ar[i], r["ar"], rtol=0, atol=1e-10, equal_nan=True)
        np.testing.assert_allclose(np.diagonal(a.evt_cov[i]), r["diag"], rtol=1e-10, equal_nan=True)
        np.testing.assert_allclose(a.evt_cov[i], r["V"], rtol=1e-10, atol=1e-16, equal_nan=True)


def test_car_variance_is_the_full_quadratic_form(fitted):
    R, m, sessions, ef, res = fitted
    ref = {(r["event_id"], r["symbol"]): r for r in _reference(R, m, sessions, ef)}
    car = res.car
    checked = 0
    for row in car.itertuples():
        r = ref[(row.event_id, row.symbol)]
        s = slice(row.t1 - EVT[0], row.t2 - EVT[0] + 1)
        ar = r["ar"][s]
        ok = np.isfinite(ar)
        Vw = r["V"][s, s][np.ix_(ok, ok)]
        if not ok.any():  # no return at all in the window: no CAR (never a zero)
            assert np.isnan(row.car) and row.n_days == 0
            continue
        np.testing.assert_allclose(row.car, ar[ok].sum(), atol=1e-12)
        np.testing.assert_allclose(row.car_sd**2, Vw.sum(), rtol=1e-10)
        assert row.n_days == ok.sum()
        if row.t2 > row.t1 and ok.sum() > 1:
            # the covariance the shared estimates create is really there
            assert abs(Vw.sum() - np.trace(Vw)) > 0
            checked += 1
    assert checked > 0


def test_constant_mean_matches_statsmodels():
    R, m, sessions, ef = _panel(11)
    res = EventStudy(R, model="constant_mean", estimation=EST, windows=WINDOWS, event_window=EVT,
                     sessions=sessions, min_estimation_obs=60).fit(ef)
    ref = _reference(R, m, sessions, ef, model="constant_mean")
    keys = list(zip(res.params["event_id"], res.params["symbol"]))
    for r in ref:
        i = keys.index((r["event_id"], r["symbol"]))
        np.testing.assert_allclose(res.params["alpha"].iloc[i], r["params"][0], atol=1e-12)
        np.testing.assert_allclose(res.arrays.evt_ar[i], r["ar"], atol=1e-10, equal_nan=True)
        np.testing.assert_allclose(res.arrays.evt_cov[i], r["V"], rtol=1e-10, equal_nan=True)


def test_chunking_does_not_change_results(fitted):
    R, m, sessions, ef, res = fitted
    small = EventStudy(R, market=m, model="market", estimation=EST, windows=WINDOWS, event_window=EVT,
                       sessions=sessions, min_estimation_obs=60, chunk_size=3).fit(ef)
    np.testing.assert_array_equal(small.arrays.evt_ar, res.arrays.evt_ar)
    np.testing.assert_array_equal(small.arrays.evt_cov, res.arrays.evt_cov)
    np.testing.assert_array_equal(small.arrays.est_ar, res.arrays.est_ar)
    pd.testing.assert_frame_equal(small.car, res.car)


def test_estimation_arrays_are_residuals_on_their_dates(fitted):
    R, m, sessions, ef, res = fitted
    a = res.arrays
    params = res.params
    for i in range(a.n_pairs):
        sym = params["symbol"].iloc[i]
        have = a.est_day[i] >= 0
        dates = pd.to_datetime(a.est_day[i][have], unit="D")
        y = R[sym].reindex(dates).to_numpy()
        x = m.reindex(dates).to_numpy()
        expected = y - params["alpha"].iloc[i] - params["beta"].iloc[i] * x
        got = a.est_ar[i][have]
        fin = np.isfinite(got)
        np.testing.assert_allclose(got[fin], expected[fin], atol=1e-12)
        assert fin.sum() == a.n_est[i]
        # dates strictly increase and end before day 0
        assert np.all(np.diff(a.est_day[i][have]) > 0)
        assert a.est_day[i][have][-1] < a.evt_day[i][-EVT[0]]
