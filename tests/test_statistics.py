"""Formula checks of events.statistics on small arrays, against independent references.

References are scipy (t test, Wilcoxon, binomial test, ranks), per-pair loops written from
the papers' formulas, and brute-force pairwise correlations. Null, power and cross-correlation
simulations live in ``test_statistics_simulation.py``.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from scipy import stats

from events import arrays as engine_arrays
from events.arrays import EventArrays
from events import statistics as st
from screener.errors import InputError


def make_arrays(
    est_ar: np.ndarray,
    evt_ar: np.ndarray,
    *,
    sigma: np.ndarray | None = None,
    evt_cov: np.ndarray | None = None,
    est_day: np.ndarray | None = None,
    rel_days: np.ndarray | None = None,
    k: int = 2,
    compat: str | None = None,
) -> EventArrays:
    """EventArrays from raw residuals; by default V_i = s_i^2 I and a shared calendar."""
    est_ar = np.asarray(est_ar, dtype=float)
    evt_ar = np.asarray(evt_ar, dtype=float)
    n, le = est_ar.shape
    L = evt_ar.shape[1]
    n_est = np.isfinite(est_ar).sum(axis=1)
    dof = (n_est - k).astype(float)
    if sigma is None:
        sigma = np.sqrt(np.nansum(est_ar**2, axis=1) / dof)
    if evt_cov is None:
        evt_cov = sigma[:, None, None] ** 2 * np.eye(L)[None]
    if est_day is None:
        est_day = np.broadcast_to(np.arange(le, dtype=np.int64), (n, le)).copy()
    if rel_days is None:
        rel_days = np.arange(L)
    evt_day = np.broadcast_to(np.arange(le, le + L, dtype=np.int64), (n, L)).copy()
    return EventArrays(
        est_ar=est_ar,
        est_rel=np.arange(-le, 0),
        est_day=est_day,
        evt_ar=evt_ar,
        evt_cov=evt_cov,
        rel_days=np.asarray(rel_days),
        evt_day=evt_day,
        sigma=np.asarray(sigma, dtype=float),
        n_est=n_est,
        dof=dof,
        k=k,
        compat=compat,
    )


@pytest.fixture()
def rng() -> np.random.Generator:
    return np.random.default_rng(20250101)


@pytest.fixture()
def small(rng) -> EventArrays:
    """12 pairs, 60 estimation days with a few gaps, 7 event days; one pair misses day 2."""
    n, le, L = 12, 60, 7
    est = rng.standard_normal((n, le)) * rng.uniform(0.01, 0.03, (n, 1))
    est[rng.random((n, le)) < 0.05] = np.nan
    evt = rng.standard_normal((n, L)) * 0.02 + 0.004
    evt[3, 2] = np.nan
    a = rng.standard_normal((n, L, L)) * 0.002
    sigma = np.sqrt(np.nansum(est**2, axis=1) / (np.isfinite(est).sum(axis=1) - 2))
    cov = sigma[:, None, None] ** 2 * (np.eye(L) + 0.02) + a @ a.transpose(0, 2, 1) * 0.01
    return make_arrays(est, evt, sigma=sigma, evt_cov=cov, rel_days=np.arange(-3, 4))


def _window_data(arrays: EventArrays, window):
    cols = arrays.window_slice(window)
    keep = np.isfinite(arrays.evt_ar[:, cols]).all(axis=1)
    car = arrays.evt_ar[keep][:, cols].sum(axis=1)
    var = np.array([c[cols, cols].sum() for c in arrays.evt_cov[keep]])
    return keep, car, var


# ---------------------------------------------------------------------------------------------
# API
# ---------------------------------------------------------------------------------------------


def test_available_tests_are_the_parametric_then_nonparametric_names():
    names = st.available_tests()
    assert names == st.PARAMETRIC + st.NONPARAMETRIC
    assert len(set(names)) == len(names)
    for name in names:
        assert callable(getattr(st, name))


def test_run_tests_returns_every_test_on_every_window(small):
    windows = [(0, 0), (-1, 1), (0, 3)]
    results = st.run_tests(small, windows)
    assert len(results) == len(windows) * len(st.available_tests())
    assert all(isinstance(r, engine_arrays.TestResult) for r in results)
    assert [r.window for r in results[: len(st.available_tests())]] == [(0, 0)] * len(
        st.available_tests()
    )
    # run_tests shares intermediate results but must agree with each public function
    for r in results:
        single = getattr(st, r.test)(small, r.window)
        assert single.statistic == pytest.approx(r.statistic, rel=1e-12, nan_ok=True)
        assert single.n == r.n


def test_run_tests_accepts_a_group_name(small):
    results = st.run_tests(small, [(0, 0)], tests="nonparametric")
    assert [r.test for r in results] == st.NONPARAMETRIC


def test_unknown_test_name_is_an_input_error_listing_the_choices(small):
    with pytest.raises(InputError, match="unknown test 'patel'.*patell"):
        st.run_tests(small, [(0, 0)], tests=["patel"])


@pytest.mark.parametrize("window", [(-5, 0), (2, 9), (3, 1)])
def test_window_outside_the_event_days_is_an_input_error(small, window):
    with pytest.raises(InputError, match=r"window"):
        st.run_tests(small, [window])


def test_inconsistent_arrays_are_an_input_error(small):
    bad = dataclasses.replace(small, sigma=small.sigma[:-1])
    with pytest.raises(InputError, match="sigma has shape"):
        st.run_tests(bad, [(0, 0)])


def test_unknown_compat_mode_is_an_input_error(small):
    with pytest.raises(InputError, match="compat"):
        st.patell(dataclasses.replace(small, compat="eventus"), (0, 0))


def test_a_pair_enters_a_window_only_with_every_ar_finite(small):
    # pair 3 misses relative day -1 (column 2)
    assert st.cross_sectional_t(small, (0, 0)).n == 12
    assert st.cross_sectional_t(small, (-1, -1)).n == 11
    assert st.cross_sectional_t(small, (-3, 3)).n == 11
    for r in st.run_tests(small, [(-2, 0)]):
        assert r.n <= 11, r.test


# ---------------------------------------------------------------------------------------------
# Parametric tests
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("window", [(0, 0), (-3, 3), (-1, 2)])
def test_cross_sectional_t_matches_scipy_one_sample_t(small, window):
    _, car, _ = _window_data(small, window)
    ref = stats.ttest_1samp(car, 0.0)
    r = st.cross_sectional_t(small, window)
    assert r.statistic == pytest.approx(ref.statistic, rel=1e-12)
    assert r.pvalue == pytest.approx(ref.pvalue, rel=1e-10)
    assert r.df == len(car) - 1
    assert r.estimate == pytest.approx(car.mean(), rel=1e-12)


def test_brown_warner_1980_on_a_hand_computable_case():
    est = np.array([[1.0, -1.0, 2.0, -2.0], [0.5, -0.5, 0.5, -0.5]])
    evt = np.array([[3.0, 1.0], [1.0, 0.0]])
    arrays = make_arrays(est, evt)
    # s^2 = 10/2 = 5 and 1/2 = 0.5 (dof = 4 - 2); CAAR over both days = (4 + 1)/2 = 2.5
    r = st.brown_warner_1980(arrays, (0, 1))
    assert r.statistic == pytest.approx(2.5 / (np.sqrt(2 * (5 + 0.5)) / 2))
    assert r.df == 2


def test_brown_warner_1985_uses_the_time_series_sd_of_estimation_aars():
    est = np.array([[1.0, -1.0, 2.0, -2.0], [1.0, 1.0, 0.0, -2.0]])
    evt = np.array([[3.0, 1.0], [1.0, 0.0]])
    arrays = make_arrays(est, evt)
    aar = np.array([1.0, 0.0, 1.0, -2.0])
    sd = np.std(aar, ddof=1)
    r = st.brown_warner_1985(arrays, (0, 1))
    assert r.statistic == pytest.approx(2.5 / (np.sqrt(2) * sd))
    assert r.df == 3
    assert r.extra["sd_aar"] == pytest.approx(sd)


def test_lamb_with_no_estimation_error_equals_the_crude_dependence_adjustment(small):
    # with V_i = s_i^2 I the leverage is zero, so Lamb's factor is 1 per day
    no_leverage = dataclasses.replace(
        small, evt_cov=small.sigma[:, None, None] ** 2 * np.eye(7)[None]
    )
    for window in [(0, 0), (-2, 2)]:
        lamb = st.lamb(no_leverage, window)
        bw = st.brown_warner_1985(no_leverage, window)
        assert lamb.statistic == pytest.approx(bw.statistic, rel=1e-12)


def test_lamb_scales_by_the_mean_leverage(small):
    h = 0.25
    levered = dataclasses.replace(
        small, evt_cov=small.sigma[:, None, None] ** 2 * (1 + h) * np.eye(7)[None]
    )
    lamb = st.lamb(levered, (0, 0))
    bw = st.brown_warner_1985(levered, (0, 0))
    assert lamb.statistic == pytest.approx(bw.statistic / np.sqrt(1 + h), rel=1e-12)


@pytest.mark.parametrize("window", [(0, 0), (-3, 3), (1, 2)])
def test_patell_from_its_formula(small, window):
    keep, car, var = _window_data(small, window)
    scar = car / np.sqrt(var)
    dof = small.dof[keep]
    z = scar.sum() / np.sqrt((dof / (dof - 2)).sum())
    r = st.patell(small, window)
    assert r.statistic == pytest.approx(z, rel=1e-12)
    assert r.pvalue == pytest.approx(2 * stats.norm.sf(abs(z)), rel=1e-10)
    assert r.df is None
    assert r.n == keep.sum()


@pytest.mark.parametrize("window", [(0, 0), (-3, 3)])
def test_bmp_is_a_one_sample_t_test_of_the_standardized_cars(small, window):
    _, car, var = _window_data(small, window)
    ref = stats.ttest_1samp(car / np.sqrt(var), 0.0)
    r = st.bmp(small, window)
    assert r.statistic == pytest.approx(ref.statistic, rel=1e-12)
    assert r.pvalue == pytest.approx(ref.pvalue, rel=1e-10)


def test_patell_in_estudy2_mode_uses_m_minus_2_over_m_minus_4(small):
    compat = dataclasses.replace(small, compat="estudy2", dof=small.dof - 3)  # k = 5
    _, car, var = _window_data(small, (0, 0))
    m = small.n_est
    z = (car / np.sqrt(var)).sum() / np.sqrt(((m - 2) / (m - 4)).sum())
    assert st.patell(compat, (0, 0)).statistic == pytest.approx(z, rel=1e-12)
    dof = small.dof - 3
    z_textbook = (car / np.sqrt(var)).sum() / np.sqrt((dof / (dof - 2)).sum())
    textbook = dataclasses.replace(compat, compat=None)
    assert st.patell(textbook, (0, 0)).statistic == pytest.approx(z_textbook, rel=1e-12)


# ---------------------------------------------------------------------------------------------
# Kolari-Pynnonen cross-correlation adjustment
# ---------------------------------------------------------------------------------------------


def test_r_bar_equals_the_mean_offdiagonal_pearson_correlation_on_common_dates(rng):
    n, le = 9, 80
    common = rng.standard_normal(le)
    est = 0.5 * common + rng.standard_normal((n, le))
    arrays = make_arrays(est, rng.standard_normal((n, 3)))
    corr = np.corrcoef(est)
    brute = corr[~np.eye(n, dtype=bool)].mean()
    assert st.mean_offdiagonal_correlation(arrays) == pytest.approx(brute, rel=1e-10)
    subset = np.array([0, 2, 5, 8])
    sub = corr[np.ix_(subset, subset)]
    assert st.mean_offdiagonal_correlation(arrays, subset) == pytest.approx(
        sub[~np.eye(4, dtype=bool)].mean(), rel=1e-10
    )


def test_r_bar_aligns_pairs_on_calendar_dates_not_relative_days(rng):
    """Pairs of different events overlap only in part; brute force over the shared dates."""
    n, le = 7, 50
    market = rng.standard_normal(200)
    start = rng.integers(0, 60, n)
    est_day = start[:, None] + np.arange(le)[None, :]
    est = 0.8 * market[est_day] + rng.standard_normal((n, le))
    est[rng.random((n, le)) < 0.1] = np.nan
    est_day = np.where(np.isfinite(est), est_day, -1)
    arrays = make_arrays(est, rng.standard_normal((n, 2)), est_day=est_day)

    z = {}
    for i in range(n):
        ok = np.isfinite(est[i])
        e = est[i, ok] - est[i, ok].mean()
        z[i] = dict(zip(est_day[i, ok].tolist(), (e / np.sqrt((e**2).sum())).tolist()))
    pairs = [(i, j) for i in range(n) for j in range(n) if i != j]
    brute = np.mean([sum(v * z[j].get(d, 0.0) for d, v in z[i].items()) for i, j in pairs])
    assert st.mean_offdiagonal_correlation(arrays) == pytest.approx(brute, rel=1e-10)
    assert brute > 0.1  # the shared market makes the residuals correlated


def test_kp_adjustments_scale_bmp_and_patell_by_the_kp_factors(rng):
    n, le = 15, 100
    common = rng.standard_normal(le)
    est = 0.6 * common + rng.standard_normal((n, le))
    evt = rng.standard_normal((n, 3)) + 0.5
    arrays = make_arrays(est, evt)
    r = np.corrcoef(est)[~np.eye(n, dtype=bool)].mean()
    bmp, bmp_kp = st.bmp(arrays, (0, 1)), st.bmp_kp(arrays, (0, 1))
    assert bmp_kp.extra["r_bar"] == pytest.approx(r, rel=1e-10)
    assert bmp_kp.statistic == pytest.approx(
        bmp.statistic * np.sqrt((1 - r) / (1 + (n - 1) * r)), rel=1e-10
    )
    patell, patell_kp = st.patell(arrays, (0, 1)), st.patell_kp(arrays, (0, 1))
    assert patell_kp.statistic == pytest.approx(
        patell.statistic / np.sqrt(1 + (n - 1) * r), rel=1e-10
    )


# ---------------------------------------------------------------------------------------------
# Rank and sign tests: per-pair loops written from the papers
# ---------------------------------------------------------------------------------------------


def _series_reference(arrays: EventArrays, window, kind: str) -> float:
    """Corrado (1989) / Corrado-Zivney (1992) statistics with a Python loop over pairs."""
    full = np.concatenate([arrays.est_ar, arrays.evt_ar], axis=1)
    n, t_total = full.shape
    u = np.full(full.shape, np.nan)
    counts = np.zeros(n)
    for i in range(n):
        ok = np.isfinite(full[i])
        counts[i] = ok.sum()
        if kind == "sign":
            u[i, ok] = np.sign(full[i, ok] - np.median(full[i, ok]))
        else:
            ranks = stats.rankdata(full[i, ok])
            if kind == "rank":
                u[i, ok] = ranks - (ok.sum() + 1) / 2
            else:
                u[i, ok] = ranks / (ok.sum() + 1) - 0.5
    day_n = np.isfinite(u).sum(axis=0)
    scale = day_n if kind == "rank" else np.sqrt(day_n)
    daily = np.nansum(u, axis=0)[day_n > 0] / scale[day_n > 0]
    sd = np.sqrt((daily**2).sum() / counts.mean())
    cols = arrays.window_slice(window)
    keep = np.isfinite(arrays.evt_ar[:, cols]).all(axis=1)
    le = arrays.est_ar.shape[1]
    block = u[keep][:, le + cols.start : le + cols.stop]
    m = keep.sum()
    per_day = block.sum(axis=0) / (m if kind == "rank" else np.sqrt(m))
    return per_day.sum() / (np.sqrt(block.shape[1]) * sd)


@pytest.mark.parametrize("window", [(0, 0), (-1, 1), (-3, 3)])
@pytest.mark.parametrize(
    ("test", "kind"),
    [("corrado_rank", "rank"), ("corrado_zivney_rank", "zivney"), ("corrado_sign", "sign")],
)
def test_corrado_type_tests_match_a_per_pair_loop(small, window, test, kind):
    expected = _series_reference(small, window, kind)
    assert getattr(st, test)(small, window).statistic == pytest.approx(expected, rel=1e-10)


def test_ranks_with_ties_and_gaps_match_scipy_rankdata(rng):
    x = rng.integers(0, 6, (40, 30)).astype(float)
    x[rng.random(x.shape) < 0.2] = np.nan
    ranks, _ = st._row_ranks(x)
    for row, got in zip(x, ranks):
        ok = np.isfinite(row)
        np.testing.assert_allclose(got[ok], stats.rankdata(row[ok]))
        assert np.isnan(got[~ok]).all()


def test_corrado_rank_with_tied_returns_matches_the_loop(rng):
    est = np.round(rng.standard_normal((10, 40)), 1)
    evt = np.round(rng.standard_normal((10, 3)), 1)
    arrays = make_arrays(est, evt)
    for test, kind in [("corrado_rank", "rank"), ("corrado_zivney_rank", "zivney")]:
        got = getattr(st, test)(arrays, (0, 2)).statistic
        assert got == pytest.approx(_series_reference(arrays, (0, 2), kind), rel=1e-10)


def _grank_reference(arrays: EventArrays, window) -> tuple[float, float]:
    keep, car, var = _window_data(arrays, window)
    scar = car / np.sqrt(var)
    scar_star = scar / np.std(scar, ddof=1)
    est = arrays.est_ar[keep] / arrays.sigma[keep][:, None]
    n, le = est.shape
    gsar = np.concatenate([est, scar_star[:, None]], axis=1)
    u = np.full(gsar.shape, np.nan)
    for i in range(n):
        ok = np.isfinite(gsar[i])
        u[i, ok] = stats.rankdata(gsar[i, ok]) / (ok.sum() + 1) - 0.5
    n_t = np.isfinite(u).sum(axis=0)
    u_bar = np.nansum(u, axis=0) / np.where(n_t > 0, n_t, 1)
    t_positions = le + 1
    s = np.sqrt(((n_t / n) * u_bar**2).sum() / t_positions)
    z = u_bar[-1] / s
    return z, z * np.sqrt((t_positions - 2) / (t_positions - 1 - z**2))


@pytest.mark.parametrize("window", [(0, 0), (-3, 3), (0, 2)])
def test_grank_matches_a_per_pair_loop(small, window):
    z, t = _grank_reference(small, window)
    r = st.grank(small, window)
    assert r.extra["z"] == pytest.approx(z, rel=1e-10)
    assert r.statistic == pytest.approx(t, rel=1e-10)
    assert r.df == small.est_ar.shape[1] - 1
    assert r.pvalue == pytest.approx(2 * stats.t.sf(abs(t), r.df), rel=1e-10)


def test_sign_test_matches_the_binomial_test(small):
    _, car, _ = _window_data(small, (-1, 1))
    w, n = int((car > 0).sum()), len(car)
    r = st.sign_test(small, (-1, 1))
    assert r.extra["positive"] == w
    assert r.statistic == pytest.approx((w - n / 2) / np.sqrt(n / 4))
    assert r.extra["pvalue_exact"] == pytest.approx(stats.binomtest(w, n, 0.5).pvalue)


def test_generalized_sign_uses_the_mean_share_of_positive_estimation_ars(small):
    est = small.est_ar
    shares = [np.mean(row[np.isfinite(row)] > 0) for row in est]
    p_hat = np.mean(shares)
    _, car, _ = _window_data(small, (0, 0))
    w, n = int((car > 0).sum()), len(car)
    r = st.generalized_sign(small, (0, 0))
    assert r.extra["p_hat"] == pytest.approx(p_hat)
    assert r.statistic == pytest.approx((w - n * p_hat) / np.sqrt(n * p_hat * (1 - p_hat)))
    assert r.extra["pvalue_exact"] == pytest.approx(stats.binomtest(w, n, p_hat).pvalue)
    pooled = np.mean(est[np.isfinite(est)] > 0)
    compat = st.generalized_sign(dataclasses.replace(small, compat="estudy2"), (0, 0))
    assert compat.extra["p_hat"] == pytest.approx(pooled)


@pytest.mark.parametrize("n", [9, 30, 120])
def test_wilcoxon_matches_scipy(rng, n):
    evt = rng.standard_normal((n, 1)) + 0.3
    arrays = make_arrays(rng.standard_normal((n, 20)), evt)
    r = st.wilcoxon(arrays, (0, 0))
    ref_stat = stats.wilcoxon(evt[:, 0], alternative="greater").statistic
    assert r.statistic == pytest.approx(ref_stat)
    assert r.extra["w_plus"] == pytest.approx(ref_stat)
    method = "exact" if n <= 50 else "approx"
    ref = stats.wilcoxon(evt[:, 0], method=method)
    assert r.pvalue == pytest.approx(ref.pvalue, rel=1e-8)


def test_wilcoxon_with_ties_and_zeros_matches_scipy_normal_approximation(rng):
    evt = np.round(rng.standard_normal((80, 1)), 1)
    evt[:3] = 0.0
    arrays = make_arrays(rng.standard_normal((80, 20)), evt)
    r = st.wilcoxon(arrays, (0, 0))
    ref = stats.wilcoxon(evt[:, 0], method="approx", zero_method="wilcox")
    assert r.pvalue == pytest.approx(ref.pvalue, rel=1e-8)
    assert r.extra["n_nonzero"] == int((evt != 0).sum()) < 78
    assert r.n == 80


# ---------------------------------------------------------------------------------------------
# Skewness-adjusted t for BHARs
# ---------------------------------------------------------------------------------------------


def test_skewness_adjusted_t_from_its_formula(rng):
    x = rng.lognormal(0.0, 0.6, 200) - 1.0
    n = x.size
    s = x.mean() / x.std(ddof=1)
    # scipy's biased skewness uses the population sd; LBT use the sample sd
    gamma = stats.skew(x, bias=True) * ((n - 1) / n) ** 1.5
    t_sa = np.sqrt(n) * (s + gamma * s**2 / 3 + gamma / (6 * n))
    r = st.skewness_adjusted_t(x, (0, 20))
    assert r.statistic == pytest.approx(t_sa, rel=1e-10)
    assert r.extra["gamma"] == pytest.approx(gamma, rel=1e-10)
    assert r.extra["t_conventional"] == pytest.approx(stats.ttest_1samp(x, 0).statistic)
    assert r.window == (0, 20) and r.n == n and r.df == n - 1


def test_skewness_adjusted_t_bootstrap_is_reproducible_and_calibrated(rng):
    x = rng.lognormal(0.0, 0.6, 400)
    x = x - x.mean()  # mean zero: no effect
    a = st.skewness_adjusted_t(x, (0, 5), bootstrap=True, n_boot=500, seed=7)
    b = st.skewness_adjusted_t(x, (0, 5), bootstrap=True, n_boot=500, seed=7)
    assert a.pvalue == b.pvalue
    assert a.pvalue > 0.2
    shifted = st.skewness_adjusted_t(x + 0.3, (0, 5), bootstrap=True, n_boot=500, seed=7)
    assert shifted.pvalue < 0.01


def test_skewness_adjusted_t_drops_missing_bhars(rng):
    x = rng.standard_normal(50)
    with_nan = np.concatenate([x, [np.nan, np.nan]])
    assert st.skewness_adjusted_t(with_nan, (0, 1)).statistic == pytest.approx(
        st.skewness_adjusted_t(x, (0, 1)).statistic
    )
    assert st.skewness_adjusted_t(with_nan, (0, 1)).n == 50


def test_grank_with_tied_returns_matches_the_loop(rng):
    est = np.round(rng.standard_normal((10, 40)), 1)
    est[rng.random(est.shape) < 0.1] = np.nan
    evt = np.round(rng.standard_normal((10, 3)), 1)
    arrays = make_arrays(est, evt, sigma=np.ones(10))
    z, t = _grank_reference(arrays, (0, 2))
    r = st.grank(arrays, (0, 2))
    assert r.extra["z"] == pytest.approx(z, rel=1e-10)
    assert r.statistic == pytest.approx(t, rel=1e-10)


def test_blocked_parallel_rank_pass_matches_the_single_block(small, monkeypatch):
    compat = dataclasses.replace(small, compat="estudy2")
    names = ["corrado_rank", "corrado_zivney_rank", "corrado_sign", "grank"]
    expected = [st.run_tests(a, [(0, 0), (-2, 3)], tests=names) for a in (small, compat)]
    monkeypatch.setattr(st, "_BLOCK_ROWS", 5)
    monkeypatch.setattr(st, "_WORKERS", 2)
    for arrays, before in zip((small, compat), expected):
        after = st.run_tests(arrays, [(0, 0), (-2, 3)], tests=names)
        for a, b in zip(after, before):
            assert a.statistic == pytest.approx(b.statistic, rel=1e-12), a.test


def test_no_usable_pair_gives_nan_results_with_n_zero(small):
    gone = small.evt_ar.copy()
    gone[:, 3] = np.nan  # relative day 0 missing for everyone
    results = st.run_tests(dataclasses.replace(small, evt_ar=gone), [(0, 0), (1, 1)])
    for r in results:
        if r.window == (0, 0):
            assert r.n == 0 and np.isnan(r.statistic) and np.isnan(r.pvalue), r.test
        else:
            assert r.n == 12 and np.isfinite(r.statistic), r.test


def test_empty_arrays_give_nan_results(small):
    empty = make_arrays(np.empty((0, 60)), np.empty((0, 7)), rel_days=np.arange(-3, 4))
    results = st.run_tests(empty, [(0, 0)])
    assert len(results) == len(st.available_tests())
    assert all(r.n == 0 and np.isnan(r.statistic) for r in results)
