"""Chunked and threaded estimation give exactly the results of one pass over all pairs."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

import events.study as study_module
from events import EventStudy


@pytest.fixture(scope="module")
def panel():
    rng = np.random.default_rng(7)
    dates = pd.bdate_range("2019-01-01", periods=700)
    market = pd.Series(rng.normal(0.0003, 0.01, len(dates)), index=dates)
    symbols = [f"S{i}" for i in range(12)]
    returns = pd.DataFrame(
        {s: 0.0002 + rng.uniform(0.5, 1.5) * market + rng.normal(0, 0.02, len(dates)) for s in symbols}
    )
    returns = returns.mask(rng.random(returns.shape) < 0.03)  # scattered missing days
    returns.iloc[500:503, 3] = np.nan  # a halt: S3 returns after three missing sessions
    returns.iloc[:, 5] = 0.0  # constant returns: not estimable
    n = 150
    firms = pd.DataFrame({
        "event_id": [f"e{i}" for i in range(n)],
        "symbol": rng.choice(symbols + ["NOPE"], n),  # with an unknown symbol
        "event_date": dates[rng.integers(200, 700, n)],  # some windows run past the data
    })
    return returns, market, firms


def _fit(panel, chunk_size, workers, monkeypatch, **kw):
    returns, market, firms = panel
    monkeypatch.setattr(study_module, "_WORKERS", workers)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return EventStudy(returns, market=market, estimation=(-120, -11), windows=[(0, 0), (-1, 1), (0, 5)],
                          event_window=(-2, 5), min_estimation_obs=60, chunk_size=chunk_size, **kw).fit(firms)


@pytest.mark.parametrize("clean_estimation", [False, True])
@pytest.mark.parametrize("chunk_size,workers", [(1, 2), (7, 2), (7, 1), (64, 3)])
def test_chunks_and_threads_change_nothing(panel, monkeypatch, chunk_size, workers, clean_estimation):
    ref = _fit(panel, 10_000, 1, monkeypatch, clean_estimation=clean_estimation)
    res = _fit(panel, chunk_size, workers, monkeypatch, clean_estimation=clean_estimation)
    # the fixture exercises every path: estimated, unknown symbol, constant returns, overlaps
    outcomes = set(ref.outcomes["outcome"])
    assert {"ok", "unknown_symbol", "constant_returns", "overlapping_event"} <= outcomes, outcomes
    assert 0 < ref.n_pairs < len(panel[2])
    assert ref.outcomes["flags"].str.contains("event_window_truncated").any()
    # remarks on estimation (overlap, halt) only on estimated pairs
    o = ref.outcomes
    assert (o["outcome"] == "constant_returns").sum() >= 3
    assert not o.loc[~o["included"], "flags"].str.contains("overlapping_event|halt_in_event_window").any()
    pd.testing.assert_frame_equal(res.outcomes, ref.outcomes)
    for name in ("est_ar", "est_day", "evt_ar", "evt_cov", "evt_day", "sigma", "n_est", "dof"):
        np.testing.assert_array_equal(getattr(res.arrays, name), getattr(ref.arrays, name), err_msg=name)
    pd.testing.assert_frame_equal(res.car, ref.car)
    pd.testing.assert_frame_equal(res.tests(), ref.tests())


def test_blockwise_test_statistics_match_one_block(panel, monkeypatch):
    """The tests' block-by-block passes over the estimation residuals (r-bar, overlap-weighted
    r-bar, Brown-Warner AAR sd, rank series) agree with a single block to rounding."""
    import events.statistics as statistics

    res = _fit(panel, 10_000, 1, monkeypatch)
    windows = [(0, 0), (-1, 1), (0, 5)]
    monkeypatch.setattr(statistics, "_BLOCK_ROWS", 1_000_000)
    ref = statistics.run_tests(res.arrays, windows)
    monkeypatch.setattr(statistics, "_BLOCK_ROWS", 7)
    got = statistics.run_tests(res.arrays, windows)
    assert len(got) == len(ref) and len(ref) >= 3 * 15
    for a, b in zip(got, ref):
        assert (a.test, a.window, a.n) == (b.test, b.window, b.n)
        np.testing.assert_allclose(a.statistic, b.statistic, rtol=1e-12, atol=1e-14, err_msg=a.test)
        for key, value in b.extra.items():
            if isinstance(value, float):
                np.testing.assert_allclose(a.extra[key], value, rtol=1e-12, atol=1e-14, err_msg=f"{a.test} {key}")
    r_bars = [b.extra["r_bar"] for b in ref if "r_bar" in b.extra]
    assert r_bars and np.isfinite(r_bars).all()


@pytest.mark.parametrize("model", ["market", "dimson", "factor", "constant_mean"])
def test_panel_written_in_blocks_of_securities_is_the_same(panel, monkeypatch, model):
    """The panel is written a block of securities at a time; a block per security (and one
    block for all) give the same estimates, with market lags and factors."""
    import events._align as align

    returns, market, firms = panel
    kw = {}
    if model == "factor":
        rng = np.random.default_rng(3)
        factors = pd.DataFrame({"mkt": market, "smb": rng.normal(0, 0.005, len(market))}, index=market.index)
        kw = {"factors": factors.iloc[5:]}  # (the first factor days missing)
    ref = None
    for block in (10**9, 1):
        monkeypatch.setattr(align, "_BLOCK_POSITIONS", block)
        res = _fit(panel, 10_000, 1, monkeypatch, model=model, **kw)
        if ref is None:
            ref = res
            assert ref.n_pairs > 50
            continue
        pd.testing.assert_frame_equal(res.outcomes, ref.outcomes)
        pd.testing.assert_frame_equal(res.params, ref.params)
        np.testing.assert_array_equal(res.arrays.evt_cov, ref.arrays.evt_cov)
        np.testing.assert_array_equal(res.arrays.est_ar, ref.arrays.est_ar)


def test_window_days_index_like_the_full_array():
    from events.arrays import WindowDays

    table = np.array([-1, -1, 5, 6, 8, 9, 12, -1, -1, 20, 21, 22, -1], dtype=np.int32)
    starts = np.array([1, 2, 8, 9])
    days = WindowDays(table, starts, 4)
    full = np.stack([table[s:s + 4] for s in starts])
    assert days.shape == full.shape and len(days) == 4 and days.dtype == np.int32
    np.testing.assert_array_equal(np.asarray(days), full)
    np.testing.assert_array_equal(days[2], full[2])
    np.testing.assert_array_equal(days[1:3], full[1:3])
    np.testing.assert_array_equal(days[np.array([3, 0])], full[[3, 0]])
    np.testing.assert_array_equal(days[np.array([True, False, True, False])], full[[0, 2]])
    np.testing.assert_array_equal(days[1, 2:], full[1, 2:])
    np.testing.assert_array_equal(days[:, 0], full[:, 0])
    out = days[0]
    out[0] = 99  # a copy: the table is untouched
    assert table[1] == -1
    assert WindowDays(np.zeros(0, np.int32), np.zeros(0, np.int64), 5).shape == (0, 5)
