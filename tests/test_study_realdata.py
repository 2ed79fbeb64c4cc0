"""The engine on real prices: an M&A trading halt of Hygon (688041.SS) against the STAR 50.

Per SOURCES_ASIA.md, 688041.SS was halted from 2025-05-26 for about two weeks (10 sessions
missing; the file resumes on 2025-06-10); the STAR 50 index (000688.SS) traded, so its dates are
the exchange's sessions. The first return after the halt spans it: excluded by default, modelled with the index compounded over the same span
under trade-to-trade (Maynes and Rumsey 1993). The reference compounds the index from its
closes directly.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

from events import EventStudy

pytestmark = pytest.mark.realdata


def _close(prices_dir, symbol: str) -> pd.Series:
    df = pd.read_csv(prices_dir / f"{symbol}.csv", parse_dates=["date"], index_col="date")
    col = df["adj_close"] if df["adj_close"].notna().any() else df["close"]
    return col.dropna()


@pytest.fixture(scope="module")
def hygon(shared_prices_dir):
    stock = _close(shared_prices_dir, "688041.SS")
    index = _close(shared_prices_dir, "000688.SS")
    # returns on each series' own rows (never zero-filled)
    r_stock = stock.pct_change().iloc[1:]
    r_index = index.pct_change().iloc[1:]
    returns = r_stock.to_frame("688041.SS").reindex(r_index.index.union(r_stock.index))
    sessions = {"688041.SS": r_index.index}
    return stock, index, returns, r_index, sessions


def test_halt_is_excluded_by_default_and_modelled_trade_to_trade(hygon):
    stock, index, returns, r_index, sessions = hygon
    ef = pd.DataFrame({"event_id": ["hygon-halt"], "symbol": ["688041.SS"], "event_date": ["2025-05-26"]})
    kw = dict(market=r_index, model="market", estimation=(-200, -11), windows=[(0, 12)],
              event_window=(-1, 12), sessions=sessions, min_estimation_obs=120)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        default = EventStudy(returns, **kw).fit(ef)
        t2t = EventStudy(returns, trade_to_trade=True, **kw).fit(ef)
    row = default.outcomes.iloc[0]
    assert row["outcome"] == "halt_in_event_window" and "day0_return_missing" in row["flags"]
    ar = default.ar.set_index("date")
    last_trade = stock.index[stock.index < "2025-05-26"][-1]
    resume = stock.index[stock.index > last_trade][0]
    assert np.isnan(ar.loc[resume, "ar"])  # the return spanning the halt is left out
    halted = ar.loc[(ar.index > last_trade) & (ar.index < resume), "ar"]
    assert len(halted) == 10 and halted.isna().all()  # 10 sessions missing, as documented
    assert np.isfinite(ar.loc[ar.index > resume, "ar"]).all()
    # trade-to-trade: the same return against the index compounded over the halt
    ar2 = t2t.ar.set_index("date")
    p = t2t.params.iloc[0]
    r_span = stock.loc[resume] / stock.loc[last_trade] - 1
    m_span = index.loc[resume] / index.loc[last_trade] - 1
    n_span = int(((r_index.index > last_trade) & (r_index.index <= resume)).sum())
    assert n_span == 11
    np.testing.assert_allclose(ar2.loc[resume, "ar"], r_span - n_span * p["alpha"] - p["beta"] * m_span, rtol=1e-10)
    # its forecast-error variance is scaled by the span
    assert ar2.loc[resume, "ar_sd"] ** 2 > n_span * p["sigma"] ** 2
    np.testing.assert_allclose(p["beta"], default.params["beta"].iloc[0], rtol=0.1)


def test_event_time_on_the_securitys_own_sessions(hygon):
    _stock, _index, returns, r_index, sessions = hygon
    ef = pd.DataFrame({"event_id": ["e"], "symbol": ["688041.SS"], "event_date": ["2025-05-24"]})  # Saturday
    res = EventStudy(returns, market=r_index, estimation=(-200, -11), windows=[(0, 0)], sessions=sessions,
                     min_estimation_obs=120, date_policy="previous").fit(ef)
    assert res.outcomes["event_date"].iloc[0] == pd.Timestamp("2025-05-23")
    assert res.outcomes["outcome"].iloc[0] == "date_shifted"
    assert res.params["n_est"].iloc[0] == 190  # no gap in the estimation window
