"""The engine's factored forecast-error covariance V_i = s^2 (diag(d) + Z A Z')."""

from __future__ import annotations

import tracemalloc
import warnings

import numpy as np
import pandas as pd
import pytest

from events import EventStudy
from events.arrays import ForecastCovariance, ar_variances, car_variance, cumulative_car_variance


@pytest.fixture(scope="module")
def factors():
    rng = np.random.default_rng(11)
    n, L, k = 9, 6, 3
    Z = rng.normal(size=(n, L, k))
    B = rng.normal(size=(n, k, k))
    A = B @ np.swapaxes(B, 1, 2) + np.eye(k)  # symmetric positive definite
    d = rng.uniform(1, 3, size=(n, L))
    scale = rng.uniform(0.5, 2, size=n)
    missing = rng.random((n, L)) < 0.2
    missing[0] = False  # a complete pair
    missing[1] = True  # a pair with nothing
    Z[missing] = np.where(rng.random(missing.sum()) < 0.5, np.nan, 1.0)[:, None]  # NaN or junk
    return ForecastCovariance(scale, d, Z, A, missing), (scale, d, Z, A, missing)


def _dense(parts):
    scale, d, Z, A, missing = parts
    V = np.stack([scale[i] * (np.diag(d[i]) + Z[i] @ A[i] @ Z[i].T) for i in range(len(scale))])
    V[missing[:, :, None] | missing[:, None, :]] = np.nan
    return V


def test_materialised_matrices_match_the_definition(factors):
    cov, parts = factors
    V = _dense(parts)
    np.testing.assert_allclose(np.asarray(cov), V, rtol=1e-12)
    np.testing.assert_allclose(cov[3], V[3], rtol=1e-12)
    np.testing.assert_allclose(cov[2:5], V[2:5], rtol=1e-12)
    np.testing.assert_allclose(cov[:, 1, 2], V[:, 1, 2], rtol=1e-12)
    np.testing.assert_allclose(cov[np.array([4, 0])], V[[4, 0]], rtol=1e-12)
    assert cov.shape == V.shape and len(cov) == len(V)
    np.testing.assert_allclose(np.asarray(cov.take(np.array([5, 2]))), V[[5, 2]], rtol=1e-12)


@pytest.mark.parametrize("cols", [slice(0, 1), slice(1, 4), slice(0, 6)])
def test_variances_from_the_factors_equal_sums_of_the_matrices(factors, cols):
    cov, parts = factors
    V = _dense(parts)
    np.testing.assert_allclose(ar_variances(cov), np.diagonal(V, axis1=1, axis2=2), rtol=1e-12)
    # every day present: 1'V1; a missing day: NaN, or the sum over the days present
    np.testing.assert_allclose(car_variance(cov, cols), V[:, cols, cols].sum(axis=(1, 2)), rtol=1e-12)
    np.testing.assert_allclose(car_variance(cov, cols, available_only=True),
                               np.nansum(V[:, cols, cols], axis=(1, 2)), rtol=1e-12)
    # the same functions on the dense array (the contract accepts both)
    np.testing.assert_allclose(car_variance(V, cols, available_only=True),
                               car_variance(cov, cols, available_only=True), rtol=1e-12)
    rows = np.array([0, 3, 6])
    np.testing.assert_allclose(car_variance(cov, cols, rows), car_variance(V, cols, rows), rtol=1e-12)
    csum = np.cumsum(np.cumsum(V[:, cols, cols], axis=1), axis=2)
    np.testing.assert_allclose(cumulative_car_variance(cov, cols), np.einsum("ntt->nt", csum), rtol=1e-12)
    np.testing.assert_allclose(cumulative_car_variance(V, cols), np.einsum("ntt->nt", csum), rtol=1e-12)


def test_long_event_windows_over_many_pairs_fit_in_memory():
    """A (-1, 600) event window on 400 pairs: the full (N, L, L) covariances would take
    1.2 GB; the factored ones take a few MB, and every result is computed from them."""
    rng = np.random.default_rng(5)
    n_days, n_sec = 1400, 40
    dates = pd.bdate_range("2015-01-01", periods=n_days)
    market = pd.Series(rng.normal(0, 0.01, n_days), index=dates)
    returns = pd.DataFrame({f"S{i}": market * rng.uniform(0.5, 1.5) + rng.normal(0, 0.02, n_days)
                            for i in range(n_sec)})
    firms = pd.DataFrame({"event_id": [f"e{i}" for i in range(400)],
                          "symbol": [f"S{i % n_sec}" for i in range(400)],
                          "event_date": dates[rng.integers(260, 780, 400)]})
    windows = [(0, 0), (0, 250), (0, 600)]
    tracemalloc.start()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            res = EventStudy(returns, market=market, windows=windows, event_window=(-1, 600)).fit(firms)
            tests = res.tests(["cross_sectional_t", "patell", "bmp", "bmp_kp"])
            car = res.car
            path = res.caar_path((0, 600))
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert res.n_pairs == 400
    assert peak < 300e6, f"peak {peak / 1e6:.0f} MB"
    long = car[car["window"] == "(0, 600)"]
    assert np.isfinite(long["car_sd"]).all() and (long["car_sd"] > 0).all()
    # the CAR sd over 601 days is that of 601 (roughly) independent days, plus estimation error
    sigma = res.params["sigma"].to_numpy()
    ratio = long["car_sd"].to_numpy() / (sigma * np.sqrt(601))
    assert (ratio > 1.0).all() and (ratio < 3.0).all()
    assert np.isfinite(tests["statistic"]).all()
    assert np.isfinite(path["se"]).all() and (np.diff(path["se"]) > 0).all()
