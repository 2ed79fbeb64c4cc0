"""Screening metrics (screener.metrics) on synthetic panels with planted answers."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm

from screener.errors import InputError
from screener.metrics import METRIC_COLUMNS, screening_metrics


@pytest.fixture()
def panel():
    """Two years of business days; A has beta 1.5 on M, B tracks M."""
    rng = np.random.default_rng(42)
    idx = pd.bdate_range("2024-01-01", "2025-10-31")
    m = rng.normal(0.0, 0.01, len(idx))
    ra = 0.0003 + 1.5 * m + rng.normal(0.0, 0.004, len(idx))
    prices = pd.DataFrame({"A": 100 * np.cumprod(1 + ra), "B": 50 * np.cumprod(1 + m)}, index=idx)
    bench = pd.DataFrame({"M": m}, index=idx)
    return prices, bench


def row(out: pd.DataFrame, symbol: str) -> pd.Series:
    return out.set_index("symbol").loc[symbol]


def test_columns_and_one_row_per_symbol(panel):
    prices, bench = panel
    out = screening_metrics(prices, benchmark_returns=bench, benchmarks={"A": "M", "B": "M"})
    assert list(out.columns) == list(METRIC_COLUMNS)
    assert list(out["symbol"]) == ["A", "B"]


def test_trailing_returns_match_pandas_asof(panel):
    prices, _ = panel
    as_of = pd.Timestamp("2025-08-15")
    out = row(screening_metrics(prices, as_of=as_of), "A")
    p = prices["A"]
    anchor = p[:as_of].index[-1]
    for label, months in (("1m", 1), ("3m", 3), ("6m", 6)):
        base = p.asof(anchor - pd.DateOffset(months=months))
        assert out[f"ret_{label}"] == pytest.approx(p[anchor] / base - 1)
        assert out[f"ret_{label}_from"] <= anchor - pd.DateOffset(months=months)
    assert out["ret_ytd"] == pytest.approx(p[anchor] / p.asof(pd.Timestamp("2024-12-31")) - 1)
    assert out["ret_ytd_from"] == pd.Timestamp("2024-12-31")


def test_month_end_offsets_are_clipped():
    idx = pd.date_range("2025-01-01", "2025-03-31", freq="D")
    prices = pd.DataFrame({"X": np.arange(1, len(idx) + 1, dtype=float)}, index=idx)
    out = row(screening_metrics(prices), "X")
    assert out["ret_1m_from"] == pd.Timestamp("2025-02-28")
    assert out["ret_1m"] == pytest.approx(prices.at[idx[-1], "X"] / prices.at[pd.Timestamp("2025-02-28"), "X"] - 1)
    # 6 months back is before the history starts: NaN, not a made-up number.
    assert np.isnan(out["ret_6m"]) and pd.isna(out["ret_6m_from"])
    assert np.isnan(out["ret_ytd"])


def test_volatility_is_sample_sd_of_last_60_simple_returns(panel):
    prices, _ = panel
    out = row(screening_metrics(prices), "A")
    r = prices["A"].pct_change().dropna().iloc[-60:]
    assert out["vol_60d_n"] == 60
    assert out["vol_60d"] == pytest.approx(r.std(ddof=1) * np.sqrt(252))


def test_beta_matches_statsmodels_and_planted_value(panel):
    prices, bench = panel
    out = row(screening_metrics(prices, benchmark_returns=bench, benchmarks={"A": "M"}), "A")
    r = prices["A"].pct_change().iloc[-252:]
    fit = sm.OLS(r.to_numpy(), sm.add_constant(bench["M"].iloc[-252:].to_numpy())).fit()
    assert out["beta_n"] == 252
    assert out["beta"] == pytest.approx(fit.params[1], rel=1e-10)
    assert out["beta"] == pytest.approx(1.5, abs=0.1)
    assert out["beta_benchmark"] == "M"
    assert np.isnan(row(screening_metrics(prices, benchmark_returns=bench, benchmarks={"A": "M"}), "B")["beta"])


def test_beta_with_series_benchmark(panel):
    prices, bench = panel
    out = row(screening_metrics(prices, benchmark_returns=bench["M"]), "B")
    assert out["beta"] == pytest.approx(1.0, abs=1e-9)


def test_max_drawdown_of_known_path():
    idx = pd.bdate_range("2025-01-01", periods=40)
    path = np.concatenate([np.linspace(80, 100, 10), np.linspace(100, 60, 10), np.linspace(60, 120, 10),
                           np.linspace(120, 90, 10)])
    out = row(screening_metrics(pd.DataFrame({"X": path}, index=idx)), "X")
    assert out["max_drawdown_1y"] == pytest.approx(60 / 100 - 1)
    assert out["max_drawdown_1y_n"] == 40


def test_drawdown_window_is_one_year():
    idx = pd.bdate_range("2023-01-02", "2025-06-30")
    values = np.full(len(idx), 100.0)
    values[idx < pd.Timestamp("2024-01-01")] = np.linspace(200, 100, (idx < pd.Timestamp("2024-01-01")).sum())
    values[-30:] = 80.0  # a 20 % drop inside the last year
    out = row(screening_metrics(pd.DataFrame({"X": values}, index=idx)), "X")
    assert out["max_drawdown_1y"] == pytest.approx(-0.2)


def test_adv_uses_close_times_volume_and_skips_missing_or_zero_volume():
    idx = pd.bdate_range("2025-01-01", periods=80)
    close = pd.DataFrame({"X": np.linspace(10, 20, 80)}, index=idx)
    volume = pd.DataFrame({"X": np.full(80, 1000.0)}, index=idx)
    volume.iloc[-5:, 0] = np.nan
    volume.iloc[-10, 0] = 0.0
    out = row(screening_metrics(close, volume=volume, currencies={"X": "CNY"}), "X")
    last60 = idx[-60:]
    keep = volume.loc[last60, "X"] > 0
    expected = (close.loc[last60, "X"] * volume.loc[last60, "X"])[keep].mean()
    assert out["adv_60d_n"] == 54
    assert out["adv_60d"] == pytest.approx(expected)
    assert out["currency"] == "CNY"


def test_gaps_are_never_zero_filled_and_spanning_returns_are_dropped_with_sessions():
    idx = pd.bdate_range("2025-01-01", periods=100)
    rng = np.random.default_rng(3)
    p = pd.Series(100 * np.cumprod(1 + rng.normal(0, 0.02, 100)), index=idx)
    halted = p.copy()
    halted.iloc[80:85] = np.nan  # a 5-session halt
    prices = pd.DataFrame({"X": halted})
    # Without sessions the gap is invisible: the return across it is one observation.
    out = row(screening_metrics(prices), "X")
    consecutive = halted.dropna().pct_change().dropna()
    assert out["vol_60d"] == pytest.approx(consecutive.iloc[-60:].std(ddof=1) * np.sqrt(252))
    # With sessions the return spanning the halt is excluded.
    out_s = row(screening_metrics(prices, sessions={"X": idx}), "X")
    window = idx[-60:]
    r = halted.pct_change(fill_method=None)  # NaN on and right after the halt
    r = r[r.index.isin(window)].dropna()
    assert out_s["vol_60d_n"] == len(r) == 54
    assert out_s["vol_60d"] == pytest.approx(r.std(ddof=1) * np.sqrt(252))
    assert out_s["coverage_1y"] == pytest.approx(95 / 100)
    assert (out_s["coverage_1y_expected"], out_s["coverage_1y_observed"]) == (100, 95)


def test_as_of_anchor_on_own_last_price():
    idx = pd.bdate_range("2025-01-01", periods=60)
    prices = pd.DataFrame({"X": np.linspace(10, 15, 60), "Y": np.linspace(10, 20, 60)}, index=idx)
    prices.loc[idx[-3:], "Y"] = np.nan  # Y's market was closed for its last three dates
    out = screening_metrics(prices, as_of=idx[-1], sessions={"Y": idx[:-3], "X": idx})
    y = row(out, "Y")
    assert y["last_price_date"] == idx[-4]
    assert y["coverage_1y"] == pytest.approx(1.0)  # closed days are not expected sessions
    later = screening_metrics(prices, as_of=idx[30])
    assert row(later, "X")["last_price_date"] == idx[30]


def test_too_little_data_gives_nan_with_n():
    idx = pd.bdate_range("2025-01-01", periods=15)
    prices = pd.DataFrame({"X": np.linspace(1, 2, 15)}, index=idx)
    bench = pd.DataFrame({"M": np.full(15, 0.001)}, index=idx)
    out = row(screening_metrics(prices, benchmark_returns=bench, benchmarks={"X": "M"}), "X")
    assert np.isnan(out["vol_60d"]) and out["vol_60d_n"] == 14
    assert np.isnan(out["beta"]) and out["beta_n"] == 14
    assert np.isnan(out["max_drawdown_1y"]) and out["max_drawdown_1y_n"] == 15


def test_empty_symbol_row():
    idx = pd.bdate_range("2025-01-01", periods=5)
    out = row(screening_metrics(pd.DataFrame({"X": np.nan, "Y": 1.0}, index=idx)), "X")
    assert pd.isna(out["last_price_date"]) and out["coverage_1y"] == 0.0


def test_errors_name_the_problem(panel):
    prices, bench = panel
    bad = prices.copy()
    bad.iloc[5, 0] = -1.0
    with pytest.raises(InputError, match=r"non-positive price .* symbol 'A' on 2024-01-08"):
        screening_metrics(bad)
    with pytest.raises(InputError, match="benchmark 'NOPE' of symbol 'A'"):
        screening_metrics(prices, benchmark_returns=bench, benchmarks={"A": "NOPE"})
    with pytest.raises(InputError, match="duplicated date"):
        screening_metrics(pd.concat([prices.iloc[:3], prices.iloc[:1]]))
    with pytest.raises(InputError, match="DatetimeIndex"):
        screening_metrics(prices.reset_index(drop=True))
    with pytest.raises(InputError, match="as_of is not a date"):
        screening_metrics(prices, as_of="yesterday-ish")


@pytest.mark.realdata
@pytest.mark.filterwarnings("ignore:Series.values returning an ndarray:DeprecationWarning")
@pytest.mark.filterwarnings("ignore:Series.values returning an ndarray")
def test_real_halt_shows_in_coverage_and_returns(shared_prices_dir):
    """Hygon (688041.SS) was halted for 10 XSHG sessions (2025-05-26..06-10, per SOURCES)."""
    xc = pytest.importorskip("exchange_calendars")
    path = shared_prices_dir / "688041.SS.csv"
    if not path.exists():
        pytest.skip("688041.SS.csv not in the shared price folder")
    frame = pd.read_csv(path, parse_dates=["date"], index_col="date")
    prices = frame[["close"]].rename(columns={"close": "688041.SS"})
    sessions = xc.get_calendar("XSHG").sessions_in_range("2024-01-02", "2025-10-31")
    out = row(screening_metrics(prices, sessions={"688041.SS": sessions}, as_of="2025-10-31"), "688041.SS")
    window = sessions[sessions > pd.Timestamp("2024-10-31")]
    assert out["coverage_1y_expected"] == len(window)
    assert out["coverage_1y_observed"] == len(window) - 10
    # The return that spans the halt is not a daily return: excluded from the 252-session beta window,
    # which here holds no benchmark, so check the drawdown and trailing return instead.
    p = prices["688041.SS"]
    assert out["ret_3m"] == pytest.approx(p["2025-10-31"] / p.asof(pd.Timestamp("2025-07-31")) - 1)
    assert -1 < out["max_drawdown_1y"] < 0


class TestFieldDictionary:
    def test_metric_columns_are_documented(self):
        from screener.fields import FIELDS

        assert [c for c in METRIC_COLUMNS if c not in FIELDS] == []

    def test_validate_field_suggests_close_names(self):
        from screener.fields import validate_field

        assert validate_field("vol_60d").unit == "annualised fraction"
        with pytest.raises(InputError, match=r"unknown field 'vol_60'\. Did you mean 'vol_60d'.*Valid fields: symbol"):
            validate_field("vol_60")
        with pytest.raises(InputError, match="Did you mean 'ret_1m'"):
            validate_field("RET_1M")
        with pytest.raises(InputError, match="Valid fields"):
            validate_field("zzzz")

    def test_table_is_consistent(self):
        from screener.fields import COMPONENTS, FIELDS, field_names, field_table

        table = field_table()
        assert list(table.columns) == ["name", "meaning", "unit", "dtype", "component", "n_field"]
        assert table["name"].is_unique and len(table) == len(FIELDS)
        assert set(table["component"]) <= set(COMPONENTS)
        assert (table["meaning"].str.len() > 0).all() and (table["unit"].str.len() > 0).all()
        n_fields = table["n_field"].dropna()
        assert set(n_fields) <= set(FIELDS)
        assert all(FIELDS[n].unit == "count" for n in n_fields)
        assert field_names("composite")[-1] == "composite_rank"
        with pytest.raises(InputError, match="unknown component"):
            field_names("nope")


def test_docs_describe_every_field():
    from pathlib import Path

    from screener.fields import FIELDS

    doc = (Path(__file__).resolve().parent.parent / "docs" / "screening.md").read_text(encoding="utf-8")
    assert [name for name in FIELDS if f"`{name}`" not in doc] == []
