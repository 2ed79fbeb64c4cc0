"""Reproduction of the published estudy2 example (validation anchor).

The reference data and table are described in ``../shared/data/estudy2/README.md``: 7 firms,
single-index market model fitted by OLS on 2019-04-01 .. 2020-03-13, event days 2020-03-16 ..
2020-03-20. Only the small printed numbers are copied here.

Two layers:

(a) the event-study arrays are built here from the shared CSVs with plain numpy OLS (an
    independent reference for the model stage, following the README's conventions), and the
    statistics are checked against every printed number; textbook mode is checked against the
    README's textbook values, and must differ from estudy2 exactly where a listed convention
    of the statistics differs;
(b) end to end through ``EventStudy(..., compat="estudy2")``, skipped while ``events.study`` is
    not available.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from events import statistics as st
from events.arrays import EventArrays

FIRMS = ["AMZN", "ZM", "UBER", "NFLX", "SHOP", "FB", "UPWK"]
EVENT_DAYS = ["2020-03-16", "2020-03-17", "2020-03-18", "2020-03-19", "2020-03-20"]
ESTIMATION = ("2019-04-01", "2020-03-13")
DAILY_WINDOWS = [(t, t) for t in range(5)]

# Published estudy2 output, one list per statistic over the five event days, with the number of
# decimals printed.
PRINTED: dict[str, tuple[list[float], int]] = {
    "mean": ([0.02329740, -0.03157867, -0.01617850, 0.07672027, 0.05840545], 8),
    "brown_warner_1980": ([2.486449, -3.370281, -1.726675, 8.188085, 6.233409], 6),
    "brown_warner_1985": ([1.858514, -2.519140, -1.290615, 6.120241, 4.659205], 6),
    "cross_sectional_t": ([1.3941497, -1.2769075, -0.4023135, 1.7958275, 5.1233281], 7),
    "patell": ([2.5507399, -2.9495613, 0.3283654, 8.4216222, 6.3196352], 7),
    "bmp": ([1.20471169, -1.17531339, 0.07606284, 2.16657728, 8.65212561], 8),
    "lamb": ([1.620049, -2.435456, -1.254626, 6.105794, 4.565195], 6),
    "sign_test": ([1.1338934, 0.3779645, 1.1338934, 1.8898224, 2.6457513], 7),
    "generalized_sign": ([1.1516761, 0.3957301, 1.1516761, 1.9076220, 2.6635680], 7),
    "corrado_sign": ([0.8636930, 0.2878977, 0.8636930, 1.4394883, 2.0152836], 7),
    "corrado_rank": ([0.7962064, -0.1857202, 1.0205417, 2.1127972, 2.9255529], 7),
    "corrado_zivney_rank": ([0.8499246, -0.2283881, 0.9865178, 2.1665371, 2.9786668], 7),
    "wilcoxon": ([23, 10, 15, 27, 28], 0),
}
PRINTED_P_HAT = (0.4966443, 7)
PRINTED_CAR_MEAN = (0.02213319, 8)  # estudy2's "car_mean": the mean of the daily AARs
PRINTED_CAAR = (0.11066595, 8)

# Textbook values on the same data (README): the daily sums are true sums over the firms
# present that day instead of estudy2's rowMeans(x) * ncol(x).
TEXTBOOK: dict[str, tuple[list[float], int]] = {
    "corrado_rank": ([0.8165955, -0.1904761, 1.0466755, 2.1669011, 3.0004697], 7),
    "corrado_zivney_rank": ([0.8673324, -0.2330659, 1.0067232, 2.2109112, 3.0396747], 7),
    "corrado_sign": ([0.8858513, 0.2952838, 0.8858513, 1.4764188, 2.0669863], 7),
}

# Statistics whose estudy2 convention differs from the textbook once the arrays are the same
# (model-stage conventions aside): p-hat pooled, rank denominators, Lamb's 1/mean(M).
DIFFERING = {"generalized_sign", "corrado_sign", "corrado_rank", "corrado_zivney_rank", "lamb"}


def assert_printed(actual: float, printed: float, decimals: int, label: str) -> None:
    """``actual`` rounds to the printed value (half a unit of the last printed digit)."""
    tolerance = 0.5 * 10.0**-decimals + 1e-12
    assert abs(actual - printed) <= tolerance, f"{label}: {actual!r} does not print as {printed}"


def _read(estudy2_dir: Path) -> tuple[pd.DataFrame, pd.Series]:
    rates = pd.read_csv(estudy2_dir / "rates.csv", index_col="date", parse_dates=True)
    market = pd.read_csv(estudy2_dir / "rates_indx.csv", index_col="date", parse_dates=True)
    return rates[FIRMS], market.iloc[:, 0]


def build_arrays(estudy2_dir: Path, compat: str | None) -> EventArrays:
    """Market-model arrays with a per-firm numpy OLS, following the README's conventions.

    estudy2: sigma with divisor M - 1; the market mean and sum of squares of the forecast-error
    correction over every market day of the estimation window. Textbook: divisor M - 2; market
    moments over the firm's own estimation days.
    """
    rates, market = _read(estudy2_dir)
    in_est = (rates.index >= ESTIMATION[0]) & (rates.index <= ESTIMATION[1])
    in_evt = rates.index.isin(pd.to_datetime(EVENT_DAYS))
    y_est, y_evt = rates.to_numpy().T[:, in_est], rates.to_numpy().T[:, in_evt]
    x_est, x_evt = market.to_numpy()[in_est], market.to_numpy()[in_evt]
    n, le, L = len(FIRMS), int(in_est.sum()), int(in_evt.sum())
    est_ar = np.full((n, le), np.nan)
    evt_ar = np.empty((n, L))
    evt_cov = np.empty((n, L, L))
    sigma, n_est = np.empty(n), np.empty(n, dtype=np.int64)
    for i in range(n):
        ok = np.isfinite(y_est[i])
        X = np.column_stack([np.ones(ok.sum()), x_est[ok]])
        coef, *_ = np.linalg.lstsq(X, y_est[i, ok], rcond=None)
        est_ar[i, ok] = y_est[i, ok] - X @ coef
        evt_ar[i] = y_evt[i] - coef[0] - coef[1] * x_evt
        m = int(ok.sum())
        n_est[i] = m
        rss = float(np.sum(est_ar[i, ok] ** 2))
        if compat == "estudy2":
            sigma[i] = np.sqrt(rss / (m - 1))
            x_mean, sxx = x_est.mean(), np.sum((x_est - x_est.mean()) ** 2)
            leverage = 1.0 / m + np.outer(x_evt - x_mean, x_evt - x_mean) / sxx
        else:
            sigma[i] = np.sqrt(rss / (m - 2))
            X_evt = np.column_stack([np.ones(L), x_evt])
            leverage = X_evt @ np.linalg.inv(X.T @ X) @ X_evt.T
        evt_cov[i] = sigma[i] ** 2 * (np.eye(L) + leverage)
    days = rates.index.to_numpy().astype("datetime64[D]").astype(np.int64)
    est_day = np.where(np.isfinite(est_ar), days[in_est][None, :], -1)
    return EventArrays(
        est_ar=est_ar,
        est_rel=np.arange(-le, 0),
        est_day=est_day,
        evt_ar=evt_ar,
        evt_cov=evt_cov,
        rel_days=np.arange(L),
        evt_day=np.broadcast_to(days[in_evt], (n, L)).copy(),
        sigma=sigma,
        n_est=n_est,
        dof=(n_est - 2).astype(float),
        k=2,
        compat=compat,
    )


@pytest.fixture(scope="module")
def compat_arrays(estudy2_dir) -> EventArrays:
    return build_arrays(estudy2_dir, "estudy2")


@pytest.fixture(scope="module")
def textbook_arrays(estudy2_dir) -> EventArrays:
    return build_arrays(estudy2_dir, None)


def _by_test(results) -> dict[str, list]:
    table: dict[str, list] = {}
    for r in results:
        table.setdefault(r.test, []).append(r)
    return table


# ---------------------------------------------------------------------------------------------
# (a) statistics on independently built arrays
# ---------------------------------------------------------------------------------------------


def test_reference_arrays_have_the_published_estimation_sizes(compat_arrays):
    assert compat_arrays.n_est.tolist() == [240, 227, 212, 240, 240, 240, 240]


def test_estudy2_mode_reproduces_every_printed_statistic(compat_arrays):
    table = _by_test(st.run_tests(compat_arrays, DAILY_WINDOWS))
    for test, (printed, decimals) in PRINTED.items():
        if test == "mean":
            continue
        assert [r.window for r in table[test]] == DAILY_WINDOWS
        for day, r, value in zip(EVENT_DAYS, table[test], printed):
            assert_printed(r.statistic, value, decimals, f"{test} on {day}")
            assert r.n == 7


def test_estudy2_mode_reproduces_the_printed_mean_abnormal_returns(compat_arrays):
    printed, decimals = PRINTED["mean"]
    for t, value in enumerate(printed):
        r = st.cross_sectional_t(compat_arrays, (t, t))
        assert_printed(r.estimate, value, decimals, f"mean AR on {EVENT_DAYS[t]}")


def test_estudy2_mode_reproduces_the_pooled_p_hat(compat_arrays):
    r = st.generalized_sign(compat_arrays, (0, 0))
    assert_printed(r.extra["p_hat"], *PRINTED_P_HAT, "p-hat")


def test_car_mean_is_reported_beside_the_caar_in_estudy2_mode(compat_arrays, textbook_arrays):
    for test in ["brown_warner_1985", "lamb", "corrado_rank"]:
        r = getattr(st, test)(compat_arrays, (0, 4))
        assert_printed(r.extra["car_mean"], *PRINTED_CAR_MEAN, f"{test} car_mean")
        assert_printed(r.estimate, *PRINTED_CAAR, f"{test} CAAR")
        textbook = getattr(st, test)(textbook_arrays, (0, 4))
        assert "car_mean" not in textbook.extra
        assert_printed(textbook.estimate, *PRINTED_CAAR, f"{test} textbook CAAR")


def test_textbook_mode_gives_the_readme_textbook_values(textbook_arrays, compat_arrays):
    # the rank and sign statistics do not depend on the model-stage conventions
    for arrays in (textbook_arrays, dataclasses.replace(compat_arrays, compat=None)):
        table = _by_test(st.run_tests(arrays, DAILY_WINDOWS, tests=list(TEXTBOOK)))
        for test, (values, decimals) in TEXTBOOK.items():
            for day, r, value in zip(EVENT_DAYS, table[test], values):
                assert_printed(r.statistic, value, decimals, f"textbook {test} on {day}")


def test_textbook_differs_from_estudy2_exactly_where_a_statistics_convention_differs(
    compat_arrays,
):
    textbook = dataclasses.replace(compat_arrays, compat=None)
    estudy2 = _by_test(st.run_tests(compat_arrays, DAILY_WINDOWS))
    plain = _by_test(st.run_tests(textbook, DAILY_WINDOWS))
    assert set(estudy2) == set(st.available_tests())
    for test in estudy2:
        same = all(
            a.statistic == pytest.approx(b.statistic, rel=1e-12, abs=1e-15)
            for a, b in zip(estudy2[test], plain[test])
        )
        if test in DIFFERING:
            assert not same, f"{test}: textbook and estudy2 conventions should differ"
        else:
            assert same, f"{test}: no convention difference, yet the statistics differ"


def test_textbook_model_stage_moves_the_sigma_based_statistics(textbook_arrays):
    """With textbook sigma (divisor M - 2) BW1980 and Patell no longer print as estudy2."""
    for test in ["brown_warner_1980", "patell"]:
        printed, decimals = PRINTED[test]
        r = getattr(st, test)(textbook_arrays, (0, 0))
        assert abs(r.statistic - printed[0]) > 10.0**-decimals, test


# ---------------------------------------------------------------------------------------------
# (b) end to end through the estimation stage
# ---------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def end_to_end(estudy2_dir):
    try:
        from events.study import EventStudy
    except ImportError as exc:
        pytest.skip(f"events.study is not available yet ({exc})")
    rates, market = _read(estudy2_dir)
    event_firms = pd.DataFrame(
        {"event_id": "covid-2020-03-16", "symbol": FIRMS, "event_date": pd.Timestamp(EVENT_DAYS[0])}
    )
    study = EventStudy(
        rates,
        market=market,
        model="market",
        estimation=(-240, -1),
        windows=DAILY_WINDOWS + [(0, 4)],
        compat="estudy2",
        # the firms trade on the same US sessions; ZM and UBER simply have no returns before
        # their listing, so their estimation windows span the same market days as the others
        sessions={symbol: rates.index for symbol in FIRMS},
    )
    return study.fit(event_firms)


def test_end_to_end_arrays_match_the_reference_arrays(end_to_end, compat_arrays):
    arrays = end_to_end.arrays
    assert arrays.compat == "estudy2"
    assert arrays.n_est.tolist() == compat_arrays.n_est.tolist()
    np.testing.assert_allclose(arrays.evt_ar, compat_arrays.evt_ar, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(arrays.sigma, compat_arrays.sigma, rtol=1e-9)
    np.testing.assert_allclose(arrays.evt_cov, compat_arrays.evt_cov, rtol=1e-9, atol=1e-15)


def test_end_to_end_reproduces_every_printed_statistic(end_to_end):
    table = end_to_end.tests(bhar=False)
    for test, (printed, decimals) in PRINTED.items():
        if test == "mean":
            continue
        rows = table[(table["test"] == test) & (table["t1"] == table["t2"])].sort_values("t1")
        assert rows["t1"].tolist() == [0, 1, 2, 3, 4]
        for day, value, stat in zip(EVENT_DAYS, printed, rows["statistic"]):
            assert_printed(stat, value, decimals, f"end to end {test} on {day}")
    mean = table[(table["test"] == "cross_sectional_t") & (table["t1"] == table["t2"])]
    for value, estimate in zip(PRINTED["mean"][0], mean.sort_values("t1")["estimate"]):
        assert_printed(estimate, value, PRINTED["mean"][1], "end to end mean AR")
    car = table[(table["test"] == "brown_warner_1985") & (table["t1"] == 0) & (table["t2"] == 4)]
    assert_printed(float(car["car_mean"].iloc[0]), *PRINTED_CAR_MEAN, "end to end car_mean")
