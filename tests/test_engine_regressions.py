"""Regressions found by reviewing the engine's memory work (2026-12-07)."""

from __future__ import annotations

import copy
import pickle
import warnings

import numpy as np
import pandas as pd
import pytest

import events.study as study_module
from events import EventStudy
from events.arrays import ForecastCovariance, WindowDays
from screener.errors import EstimationWarning


# ---- A factor whose name starts with 'market' (e.g. 'market_rf') was lost on the fast path.


def _data():
    rng = np.random.default_rng(0)
    dates = pd.bdate_range("2020-01-01", periods=300)
    f = pd.DataFrame({"market_rf": rng.normal(0, 0.01, 300), "smb": rng.normal(0, 0.01, 300)}, index=dates)
    rets = pd.DataFrame({f"S{i}": 0.9 * f["market_rf"] + rng.normal(0, 0.01, 300) for i in range(4)})
    ev = pd.DataFrame({"event_id": "e", "symbol": rets.columns, "event_date": dates[280]})
    return rets, f, ev


def test_factor_named_market_rf_default_sessions():
    rets, f, ev = _data()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = EventStudy(rets, factors=f, model="factor").fit(ev)
    assert res.n_pairs == 4, res.outcomes[["symbol", "outcome"]].to_string()


def test_same_with_own_sessions_works():
    rets, f, ev = _data()
    res = EventStudy(rets, factors=f, model="factor",
                     sessions={s: rets.index for s in rets.columns}).fit(ev)
    assert res.n_pairs == 4
    np.testing.assert_allclose(res.params["market_rf"], 0.9, atol=0.2)


def test_factor_named_market_rf_with_market_given():
    """market= is optional for model='factor'; giving it must not replace the factor column."""
    rets, f, ev = _data()
    other = pd.Series(np.random.default_rng(9).normal(0, 0.01, len(rets)), index=rets.index)
    res = EventStudy(rets, factors=f, model="factor", market=other).fit(ev)
    ref = EventStudy(rets, factors=f, model="factor", sessions={s: rets.index for s in rets.columns}).fit(ev)
    np.testing.assert_allclose(res.params["market_rf"], ref.params["market_rf"])

# ---- WindowDays keeps a sliding-window view of the day table; pickle and deepcopy must not turn
# that view into a dense (T, Le) array (120 MB for 50 pairs, where est_ar is 96 kB).


def _days():
    table = np.arange(500_000, dtype=np.int32)  # a panel's day column (T positions)
    return WindowDays(table, np.arange(0, 50_000, 1000), 240)  # 50 pairs, Le = 240


def test_pickle_size_is_that_of_the_table():
    wd = _days()
    blob = pickle.dumps(wd)
    assert len(blob) < 3 * wd.table.nbytes, f"{len(blob) / 1e6:.0f} MB pickled"
    back = pickle.loads(blob)
    np.testing.assert_array_equal(np.asarray(back), np.asarray(wd))


def test_deepcopy_does_not_densify():
    wd = _days()
    cp = copy.deepcopy(wd)
    assert cp._windows.base is not None and cp._windows.strides == wd._windows.strides
    np.testing.assert_array_equal(np.asarray(cp), np.asarray(wd))

# ---- Scholes-Williams on a constant benchmark divides 0/0 (rho): no RuntimeWarning may leak out of
# fit(), and a caller's np.errstate must apply however the pairs are chunked (worker
# threads start with numpy's default errstate: numpy 2 keeps it in a contextvar).


def _study(chunk_size):
    rng = np.random.default_rng(0)
    dates = pd.bdate_range("2020-01-01", periods=300)
    market = pd.DataFrame({"A": rng.normal(0, 0.01, 300), "B": 0.0}, index=dates)
    rets = pd.DataFrame({f"S{i}": rng.normal(0, 0.01, 300) for i in range(6)}, index=dates)
    bm = {s: ("B" if i % 2 else "A") for i, s in enumerate(rets.columns)}
    ev = pd.DataFrame({"event_id": "e", "symbol": rets.columns, "event_date": dates[280]})
    return EventStudy(rets, model="scholes_williams", market=market, benchmarks=bm, chunk_size=chunk_size), ev


def test_no_floating_point_warning_from_fit():
    st, ev = _study(10_000)
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        warnings.simplefilter("ignore", EstimationWarning)
        res = st.fit(ev)  # singular pairs are reported as outcome singular_design, not warned twice
    assert (res.outcomes["outcome"] == "singular_design").sum() == 3


def _raises(chunk_size, monkeypatch):
    monkeypatch.setattr(study_module, "_WORKERS", 2)
    st, ev = _study(chunk_size)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with np.errstate(all="raise"):
            try:
                st.fit(ev)
            except FloatingPointError:
                return True
    return False


def test_callers_errstate_does_not_depend_on_chunking(monkeypatch):
    assert _raises(10_000, monkeypatch) == _raises(1, monkeypatch)


# ---- WindowDays / ForecastCovariance index like the (N, Le) / (N, L, L) arrays: a pair of
# index arrays is paired element by element (numpy's rule), not applied as an outer product.


def test_window_days_paired_fancy_index():
    table = np.arange(40, dtype=np.int32)
    wd = WindowDays(table, np.array([0, 5, 10]), 4)
    full = np.asarray(wd)
    rows, cols = np.array([0, 2]), np.array([1, 3])
    np.testing.assert_array_equal(wd[rows, cols], full[rows, cols])  # [1, 13]


def test_forecast_covariance_paired_fancy_index():
    rng = np.random.default_rng(0)
    n, L, k = 3, 4, 2
    cov = ForecastCovariance(np.ones(n), np.ones((n, L)), rng.normal(size=(n, L, k)),
                             np.broadcast_to(np.eye(k), (n, k, k)).copy(), np.zeros((n, L), bool))
    full = np.asarray(cov)
    rows, i = np.array([0, 2]), np.array([1, 3])
    np.testing.assert_allclose(cov[rows, i, i], full[rows, i, i])
