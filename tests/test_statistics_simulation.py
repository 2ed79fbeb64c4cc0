"""Size, power and cross-correlation simulations of events.statistics.

Returns follow a market model; the arrays are built here with plain numpy OLS (independent of
the estimation stage). Under the null every test must reject about 5% of the time (inside a
binomial band wide enough for the number of comparisons); with a planted abnormal return every
test must reject almost always; with cross-correlated residuals on a clustered date the
unadjusted BMP test over-rejects and the Kolari-Pynnonen adjustment does not.
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from events import statistics as st
from events.arrays import EventArrays

ALPHA = 0.05
SIGMA = 0.02


def simulate(
    rng: np.random.Generator,
    n_pairs: int = 50,
    n_est: int = 120,
    rel_days: tuple[int, int] = (-5, 5),
    *,
    noise: str = "normal",
    effect: dict[int, float] | None = None,
    rho: float = 0.0,
    clustered: bool = False,
) -> EventArrays:
    """Market-model returns, OLS on the estimation window, forecast-error covariances.

    ``rho`` is the correlation of the residuals of different pairs (a common factor on every
    day, orthogonal to the market); ``clustered`` puts every pair on the same calendar dates.
    """
    rel = np.arange(rel_days[0], rel_days[1] + 1)
    L = rel.size
    T = n_est + L
    if noise == "normal":
        eps = rng.standard_normal((n_pairs, T))
    else:  # Student t(4) scaled to unit variance
        eps = rng.standard_t(4, (n_pairs, T)) / np.sqrt(2.0)
    if rho:
        common = rng.standard_normal(T)
        eps = np.sqrt(rho) * common[None, :] + np.sqrt(1 - rho) * eps
    eps *= SIGMA
    if clustered:
        market = np.broadcast_to(rng.standard_normal(T) * 0.01, (n_pairs, T))
    else:
        market = rng.standard_normal((n_pairs, T)) * 0.01
    beta = rng.uniform(0.5, 1.5, (n_pairs, 1))
    returns = 0.0003 + beta * market + eps
    if effect:
        for day, size in effect.items():
            returns[:, n_est + day - rel[0]] += size
    x, y = market[:, :n_est], returns[:, :n_est]
    x_bar, y_bar = x.mean(axis=1, keepdims=True), y.mean(axis=1, keepdims=True)
    sxx = ((x - x_bar) ** 2).sum(axis=1, keepdims=True)
    b = ((x - x_bar) * (y - y_bar)).sum(axis=1, keepdims=True) / sxx
    a = y_bar - b * x_bar
    est_ar = y - a - b * x
    evt_ar = returns[:, n_est:] - a - b * market[:, n_est:]
    dof = np.full(n_pairs, n_est - 2.0)
    s2 = (est_ar**2).sum(axis=1) / dof
    dx = market[:, n_est:] - x_bar
    lev = 1.0 / n_est + dx[:, :, None] * dx[:, None, :] / sxx[:, :, None]
    evt_cov = s2[:, None, None] * (np.eye(L)[None] + lev)
    if clustered:
        start = np.zeros((n_pairs, 1), dtype=np.int64)
    else:
        start = rng.integers(0, 2000, (n_pairs, 1))
    days = start + np.arange(T)[None, :] + 18000
    return EventArrays(
        est_ar=est_ar,
        est_rel=np.arange(rel[0] - n_est, rel[0]),
        est_day=days[:, :n_est],
        evt_ar=evt_ar,
        evt_cov=evt_cov,
        rel_days=rel,
        evt_day=days[:, n_est:],
        sigma=np.sqrt(s2),
        n_est=np.full(n_pairs, n_est),
        dof=dof,
        k=2,
    )


def rejection_rates(rng, reps: int, windows, **kwargs) -> dict[tuple[str, tuple[int, int]], float]:
    hits: dict[tuple[str, tuple[int, int]], int] = {}
    for _ in range(reps):
        for r in st.run_tests(simulate(rng, **kwargs), windows):
            key = (r.test, r.window)
            hits[key] = hits.get(key, 0) + int(r.pvalue < ALPHA)
    return {key: count / reps for key, count in hits.items()}


def binomial_band(reps: int, comparisons: int) -> tuple[float, float]:
    """Two-sided band for a 5% rejection rate, Bonferroni over ``comparisons``."""
    lo, hi = stats.binom.interval(1 - 0.01 / comparisons, reps, ALPHA)
    return lo / reps, hi / reps


@pytest.mark.parametrize("noise", ["normal", "t4"])
def test_every_test_keeps_its_size_under_the_null(noise):
    reps, windows = 150, [(0, 0), (-2, 2)]
    rates = rejection_rates(np.random.default_rng(11 if noise == "normal" else 12), reps,
                            windows, noise=noise)
    lo, hi = binomial_band(reps, len(rates))
    outside = {key: rate for key, rate in rates.items() if not lo <= rate <= hi}
    assert not outside, f"rejection rates outside [{lo:.3f}, {hi:.3f}]: {outside}"
    assert len(rates) == len(st.available_tests()) * len(windows)


@pytest.mark.slow
@pytest.mark.parametrize("noise", ["normal", "t4"])
def test_every_test_keeps_its_size_under_the_null_many_replications(noise):
    reps, windows = 1000, [(0, 0), (-1, 1), (-5, 5)]
    rates = rejection_rates(np.random.default_rng(21 if noise == "normal" else 22), reps,
                            windows, noise=noise, n_pairs=80)
    lo, hi = binomial_band(reps, len(rates))
    outside = {key: rate for key, rate in rates.items() if not lo <= rate <= hi}
    assert not outside, f"rejection rates outside [{lo:.3f}, {hi:.3f}]: {outside}"


def test_every_test_detects_a_planted_abnormal_return():
    reps = 20
    rates = rejection_rates(np.random.default_rng(5), reps, [(0, 0), (0, 2)],
                            effect={0: SIGMA, 1: SIGMA, 2: SIGMA})
    weak = {key: rate for key, rate in rates.items() if rate < 0.9}
    assert not weak, f"power below 90%: {weak}"


def test_planted_effect_is_estimated_by_the_caar():
    arrays = simulate(np.random.default_rng(6), n_pairs=400, effect={0: 0.01})
    r = st.cross_sectional_t(arrays, (0, 0))
    assert r.estimate == pytest.approx(0.01, abs=4 * SIGMA / np.sqrt(400))


def test_kp_adjustment_restores_the_size_of_bmp_under_cross_correlation():
    reps = 150
    rates = rejection_rates(np.random.default_rng(9), reps, [(0, 0)], rho=0.3, clustered=True)
    lo, hi = binomial_band(reps, 4)
    assert rates[("bmp", (0, 0))] > 0.25  # variance understated about 1 + 49 * 0.3 times
    assert rates[("patell", (0, 0))] > 0.25
    assert lo <= rates[("bmp_kp", (0, 0))] <= hi
    assert lo <= rates[("patell_kp", (0, 0))] <= hi


def test_r_bar_recovers_the_planted_residual_correlation():
    arrays = simulate(np.random.default_rng(10), n_pairs=60, n_est=250, rho=0.3, clustered=True)
    r = st.bmp_kp(arrays, (0, 0))
    assert r.extra["r_bar"] == pytest.approx(0.3, abs=0.05)
    independent = simulate(np.random.default_rng(10), n_pairs=60, n_est=250, clustered=True)
    assert abs(st.bmp_kp(independent, (0, 0)).extra["r_bar"]) < 0.02
