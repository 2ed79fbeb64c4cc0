"""Kolari-Pynnonen adjustment weighted by the calendar overlap of the event windows.

``patell_kp`` and ``bmp_kp`` use r_w = sum_{i != j} r_ij O_ij / (L N (N - 1)), with r_ij the
calendar-aligned correlation of the estimation residuals and O_ij the number of calendar
dates that the two event windows share (see docs/methodology.md, "Kolari-Pynnönen r̄ when the
event dates differ"). The references here are brute-force double loops over pairs, the
classic all-pairs r̄ of KP (2010) when every window covers the same dates, and simulations
where the residual correlation is a common shock on calendar dates.
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from events import statistics as st
from events.arrays import EventArrays
from screener.errors import InputError

ALPHA = 0.05


def constant_mean_arrays(
    residuals: np.ndarray, dates: np.ndarray, n_est: int, rel_days: np.ndarray
) -> EventArrays:
    """EventArrays of the constant-mean model (k = 1) fitted by hand.

    ``residuals`` (N x (n_est + L)) are the pairs' returns, ``dates`` their calendar keys;
    NaN returns are missing. V_i = s_i^2 (I + 11'/M_i) is the exact forecast-error covariance.
    """
    est, evt = residuals[:, :n_est], residuals[:, n_est:]
    m = np.isfinite(est).sum(axis=1)
    mean = np.nanmean(est, axis=1)
    est_ar = est - mean[:, None]
    evt_ar = evt - mean[:, None]
    dof = (m - 1).astype(float)
    s2 = np.nansum(est_ar**2, axis=1) / dof
    L = evt.shape[1]
    cov = s2[:, None, None] * (np.eye(L)[None] + 1.0 / m[:, None, None])
    est_day = np.where(np.isfinite(est), dates[:, :n_est], -1)
    return EventArrays(
        est_ar=est_ar, est_rel=np.arange(rel_days[0] - n_est, rel_days[0]), est_day=est_day,
        evt_ar=evt_ar, evt_cov=cov, rel_days=rel_days, evt_day=dates[:, n_est:],
        sigma=np.sqrt(s2), n_est=m, dof=dof, k=1,
    )


def correlated_study(
    rng: np.random.Generator,
    day0: np.ndarray,
    *,
    n_est: int = 100,
    rel_days: tuple[int, int] = (-1, 1),
    rho: float = 0.3,
    effect: float = 0.0,
    calendar_days: int = 2000,
) -> EventArrays:
    """Residuals sqrt(rho) f_d + sqrt(1 - rho) u_it with f_d a shock on calendar date d.

    Pair i's estimation and event windows are the consecutive dates day0[i] - n_est + rel[0]
    ... day0[i] + rel[-1]; ``effect`` (in residual sds) is added on day 0.
    """
    rel = np.arange(rel_days[0], rel_days[1] + 1)
    offsets = np.arange(rel[0] - n_est, rel[-1] + 1)
    dates = day0[:, None] + offsets[None, :]
    shock = rng.standard_normal(calendar_days)
    u = rng.standard_normal(dates.shape)
    x = np.sqrt(rho) * shock[dates] + np.sqrt(1 - rho) * u
    x[:, n_est - rel[0]] += effect
    return constant_mean_arrays(0.02 * x, dates + 18000, n_est, rel)


def brute_force_r_bar(arrays: EventArrays, window: tuple[int, int], rows=None) -> float:
    """sum_{i != j} r_ij O_ij / (L N (N - 1)) by a double loop over pairs."""
    rows = np.arange(arrays.n_pairs) if rows is None else np.asarray(rows)
    cols = arrays.window_slice(window)
    L = window[1] - window[0] + 1
    z, window_dates = {}, {}
    for i in rows:
        ok = np.isfinite(arrays.est_ar[i]) & (arrays.est_day[i] >= 0)
        e = arrays.est_ar[i, ok] - arrays.est_ar[i, ok].mean()
        z[i] = dict(zip(arrays.est_day[i, ok].tolist(), (e / np.sqrt((e**2).sum())).tolist()))
        window_dates[i] = set(arrays.evt_day[i, cols].tolist())
    total = 0.0
    for i in rows:
        for j in rows:
            if i == j:
                continue
            r_ij = sum(v * z[j].get(d, 0.0) for d, v in z[i].items())
            total += r_ij * len(window_dates[i] & window_dates[j]) / L
    n = len(rows)
    return total / (n * (n - 1))


# ---------------------------------------------------------------------------------------------
# Exactness
# ---------------------------------------------------------------------------------------------


def test_same_event_dates_reproduce_the_classic_kp_adjustment_exactly():
    """KP (2010) is the special case where every window covers the same calendar dates."""
    rng = np.random.default_rng(1)
    arrays = correlated_study(rng, np.full(25, 500), rel_days=(-2, 3))
    for window in [(0, 0), (-1, 1), (-2, 3)]:
        classic = st.mean_offdiagonal_correlation(arrays)
        n = arrays.n_pairs
        bmp, bmp_kp = st.bmp(arrays, window), st.bmp_kp(arrays, window)
        patell, patell_kp = st.patell(arrays, window), st.patell_kp(arrays, window)
        for r in (bmp_kp, patell_kp):
            assert r.extra["r_bar"] == pytest.approx(classic, abs=1e-12)
            assert r.extra["r_bar_classic"] == pytest.approx(classic, abs=1e-12)
            assert r.extra["window_overlap"] == pytest.approx(1.0, abs=1e-12)
        assert bmp_kp.statistic == pytest.approx(
            bmp.statistic * np.sqrt((1 - classic) / (1 + (n - 1) * classic)), abs=1e-12
        )
        assert patell_kp.statistic == pytest.approx(
            patell.statistic / np.sqrt(1 + (n - 1) * classic), abs=1e-12
        )
    assert classic > 0.15  # the common shock is there: the comparison is not trivially zero


def test_overlap_weighted_r_bar_matches_a_double_loop_over_pairs():
    """Partly overlapping windows, missing residuals and a pair left out of one window."""
    rng = np.random.default_rng(2)
    day0 = np.array([300, 300, 301, 303, 305, 305, 340, 341, 360, 300])
    arrays = correlated_study(rng, day0, n_est=60, rel_days=(-2, 4))
    est = arrays.est_ar.copy()
    est[rng.random(est.shape) < 0.1] = np.nan
    evt = arrays.evt_ar.copy()
    evt[4, 3] = np.nan  # relative day +1 missing: pair 4 leaves windows containing day +1
    arrays = EventArrays(**{**arrays.__dict__, "est_ar": est, "evt_ar": evt,
                            "est_day": np.where(np.isfinite(est), arrays.est_day, -1)})
    for window in [(0, 0), (-1, 1), (0, 4), (2, 4)]:
        result = st.patell_kp(arrays, window)
        rows = np.flatnonzero(np.isfinite(evt[:, arrays.window_slice(window)]).all(axis=1))
        assert result.n == rows.size
        assert result.extra["r_bar"] == pytest.approx(
            brute_force_r_bar(arrays, window, rows), rel=1e-10, abs=1e-14
        )
        assert result.extra["r_bar_classic"] == pytest.approx(
            st.mean_offdiagonal_correlation(arrays, rows), rel=1e-10
        )
        # the adjusted statistics use the overlap-weighted r
        r = result.extra["r_bar"]
        assert result.statistic == pytest.approx(
            result.extra["statistic_unadjusted"] / np.sqrt(1 + (rows.size - 1) * r), rel=1e-12
        )
        bmp_kp = st.bmp_kp(arrays, window)
        assert bmp_kp.statistic == pytest.approx(
            bmp_kp.extra["statistic_unadjusted"] * np.sqrt((1 - r) / (1 + (rows.size - 1) * r)),
            rel=1e-12,
        )
    # pairs 6..8 share no window date with the cluster around day 300: their weight is zero
    far = st.overlap_weighted_correlation(arrays, (0, 0), rows=[0, 6, 8])
    assert far == pytest.approx(0.0, abs=1e-15)
    assert st.mean_offdiagonal_correlation(arrays, [0, 6, 8]) > 0.05


def test_window_overlap_is_the_mean_shared_share_of_the_windows():
    day0 = np.array([100, 100, 101, 200])
    arrays = correlated_study(np.random.default_rng(3), day0, n_est=40, rel_days=(0, 1))
    # windows {100, 101}, {100, 101}, {101, 102}, {200, 201}: shared dates 2, 1, 1 (twice each)
    expected = 2 * (2 + 1 + 1) / (2 * 4 * 3)
    assert st.patell_kp(arrays, (0, 1)).extra["window_overlap"] == pytest.approx(expected)


def test_overlap_weighted_correlation_validates_its_window():
    arrays = correlated_study(np.random.default_rng(4), np.array([100, 200]), n_est=30)
    with pytest.raises(InputError, match="outside the event days"):
        st.overlap_weighted_correlation(arrays, (0, 5))


# ---------------------------------------------------------------------------------------------
# Simulations: size and power
# ---------------------------------------------------------------------------------------------


def _rejections(rng, reps: int, make_day0, effect: float) -> dict[str, float]:
    hits = {"patell": 0, "patell_kp": 0, "bmp_kp": 0, "patell_kp_classic": 0, "bmp_kp_classic": 0}
    for _ in range(reps):
        arrays = correlated_study(rng, make_day0(rng), effect=effect)
        results = {r.test: r for r in st.run_tests(arrays, [(-1, 1)], ["patell", "patell_kp",
                                                                           "bmp_kp"])}
        for name in ("patell", "patell_kp", "bmp_kp"):
            hits[name] += results[name].pvalue < ALPHA
        # the same statistics adjusted with the all-pairs r-bar of KP (2010)
        pk, bk = results["patell_kp"], results["bmp_kp"]
        n = pk.n
        rc = pk.extra["r_bar_classic"]
        z = pk.extra["statistic_unadjusted"] / np.sqrt(1 + (n - 1) * rc)
        hits["patell_kp_classic"] += 2 * stats.norm.sf(abs(z)) < ALPHA
        rc = bk.extra["r_bar_classic"]
        t = bk.extra["statistic_unadjusted"] * np.sqrt((1 - rc) / (1 + (bk.n - 1) * rc))
        hits["bmp_kp_classic"] += 2 * stats.t.sf(abs(t), bk.n - 1) < ALPHA
    return {name: count / reps for name, count in hits.items()}


def _small_clusters(rng: np.random.Generator) -> np.ndarray:
    """40 pairs: 8 event dates, 5 pairs each, spread over 200 calendar days (windows of
    different dates rarely overlap, estimation windows mostly do)."""
    dates = 400 + np.sort(rng.choice(200, 8, replace=False))
    return np.repeat(dates, 5)


def _one_date(rng: np.random.Generator) -> np.ndarray:
    return np.full(40, 500)


def test_overlap_adjustment_keeps_its_size_without_needless_conservatism():
    reps = 200
    rates = _rejections(np.random.default_rng(7), reps, _small_clusters, effect=0.0)
    lo, hi = (v / reps for v in stats.binom.interval(1 - 0.01 / 3, reps, ALPHA))
    # within a cluster SCARs correlate (1 + 4 rho = 2.2 times the variance): Patell over-rejects
    assert rates["patell"] > hi
    assert lo <= rates["patell_kp"] <= hi
    assert lo <= rates["bmp_kp"] <= hi
    # the all-pairs r-bar also counts the pairs whose windows never meet: far below 5 %
    assert rates["patell_kp_classic"] < lo


def test_overlap_adjustment_has_more_power_than_the_all_pairs_adjustment():
    # 1.2 residual sds on day 0 of a 3-day window: z about 2.9 once clustering is allowed for
    rates = _rejections(np.random.default_rng(8), 100, _small_clusters, effect=1.2)
    assert rates["patell_kp"] > rates["patell_kp_classic"] + 0.3
    assert rates["bmp_kp"] > rates["bmp_kp_classic"] + 0.3
    assert rates["patell_kp"] > 0.6 and rates["bmp_kp"] > 0.6


def test_clustered_events_behave_as_before():
    """One event date: overlap-weighted and classic r-bar coincide, sizes as KP (2010)."""
    reps = 150
    rates = _rejections(np.random.default_rng(9), reps, _one_date, effect=0.0)
    lo, hi = (v / reps for v in stats.binom.interval(1 - 0.01 / 3, reps, ALPHA))
    assert rates["patell"] > 0.25
    assert rates["patell_kp"] == rates["patell_kp_classic"]
    assert rates["bmp_kp"] == rates["bmp_kp_classic"]
    assert lo <= rates["patell_kp"] <= hi
    assert lo <= rates["bmp_kp"] <= hi
