"""The analysis pipeline (screener.analysis) on the bundled snapshot and on planted synthetic data.

Numbers are checked against independent computations: prices read straight from the snapshot's
Parquet files with pyarrow, statsmodels OLS for the market model, hashlib for checksums, and a
synthetic price folder with a planted day-0 effect.
"""

from __future__ import annotations

import hashlib
import json
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest
import statsmodels.api as sm

from screener.analysis import Analysis, parse_window
from screener.errors import InputError
from screener.paths import seeds_dir, snapshot_dir
from screener.prices import PriceSource, SnapshotSource

INTEL_STAKE = "intel-us-government-stake-2025-08"


def _closes(symbol: str) -> pd.Series:
    """Adjusted close (close where the adjusted one is missing) read straight from the snapshot."""
    t = pq.read_table(snapshot_dir() / f"{symbol}.parquet").to_pandas()
    price = t["adj_close"].where(t["adj_close"].notna(), t["close"]) if t["adj_close"].notna().any() else t["close"]
    return pd.Series(price.to_numpy(dtype=float), index=pd.DatetimeIndex(pd.to_datetime(t["date"])), name=symbol)


@pytest.fixture(scope="module")
def analysis() -> Analysis:
    a = Analysis()
    a.compute()
    return a


def test_parse_window_accepts_the_usual_spellings_and_rejects_the_rest():
    assert parse_window("-1,1") == (-1, 1)
    assert parse_window("(0, 5)") == (0, 5)
    assert parse_window([-250, -11]) == (-250, -11)
    for bad in ("1", "a,b", "3,1", "1,2,3"):
        with pytest.raises(InputError):
            parse_window(bad)


def test_bad_parameters_fail_before_any_data_is_read():
    with pytest.raises(InputError, match="valid:"):
        Analysis(model="capm")
    with pytest.raises(InputError, match="overlaps"):
        Analysis(estimation="-250,0")
    with pytest.raises(InputError, match="not one of the windows"):
        Analysis(windows=["0,0"], exposure_window="-1,1")
    # hyphenated names from the CLI are accepted
    assert Analysis(model="market-adjusted").params.model == "market_adjusted"


def test_unavailable_symbols_are_those_the_manifest_lacks(analysis):
    manifest = json.loads((snapshot_dir() / "manifest.json").read_text(encoding="utf-8"))
    have = set(manifest["symbols"]) - set(manifest.get("missing", []))
    universe = pd.read_csv(seeds_dir() / "universe.csv", dtype=str)
    expected = sorted(set(universe["symbol"]) - have)
    assert sorted(analysis.unavailable_symbols) == expected
    assert expected, "the snapshot is expected to lack a few universe symbols"
    assert any(all(s in n for s in expected[:2]) for n in analysis.notes)


def test_pairs_without_prices_get_no_data_not_a_crash(analysis):
    out = analysis.outcomes
    links = pd.read_csv(seeds_dir() / "event_securities.csv", dtype=str)
    assert len(out) == len(links)
    lacking = out[out["symbol"].isin(analysis.unavailable_symbols)]
    assert len(lacking) > 0
    assert set(lacking["outcome"]) == {"no_data"}
    assert not lacking["included"].any()
    assert lacking["note"].str.contains("no prices").all()


def test_returns_are_computed_on_the_snapshot_prices(analysis):
    closes = _closes("INTC")
    expected = closes.loc["2025-08-22"] / closes.loc["2025-08-21"] - 1
    assert analysis.returns.returns.loc["2025-08-22", "INTC"] == pytest.approx(expected, rel=1e-12)
    # a Shanghai security is on its own calendar: no return on a Chinese holiday (1 Oct 2025)
    assert np.isnan(analysis.returns.returns.loc["2025-10-01", "688256.SS"])


def test_day_zero_of_the_intel_stake_is_the_announcement_session(analysis):
    ef = analysis.event_firms
    row = ef[(ef["event_id"] == INTEL_STAKE) & (ef["symbol"] == "INTC")].iloc[0]
    assert row["event_date"] == pd.Timestamp("2025-08-22")


def test_intel_day0_abnormal_return_matches_statsmodels_market_model(analysis):
    intc = _closes("INTC").pct_change()
    spx = _closes("^GSPC").pct_change()
    from screener.calendars import sessions_for

    sessions = sessions_for("INTC", "2024-01-01", "2025-12-31")
    pos = sessions.get_loc(pd.Timestamp("2025-08-22"))
    est_days = sessions[pos - 250: pos - 10]  # relative days -250..-11
    frame = pd.DataFrame({"y": intc.reindex(est_days), "x": spx.reindex(est_days)}).dropna()
    fit = sm.OLS(frame["y"], sm.add_constant(frame["x"])).fit()
    day0 = pd.Timestamp("2025-08-22")
    expected_ar = intc[day0] - (fit.params["const"] + fit.params["x"] * spx[day0])
    car = analysis.results.car
    got = car[(car["event_id"] == INTEL_STAKE) & (car["symbol"] == "INTC") & (car["t1"] == 0) & (car["t2"] == 0)]
    assert got["car"].iloc[0] == pytest.approx(expected_ar, abs=1e-10)
    assert expected_ar > 0


def test_metrics_match_an_independent_computation(analysis):
    m = analysis.metrics.set_index("symbol")
    as_of = analysis.as_of
    p = _closes("NVDA").loc[:as_of]
    expected_ytd = p.iloc[-1] / p.loc[:"2024-12-31"].iloc[-1] - 1
    assert m.loc["NVDA", "ret_ytd"] == pytest.approx(expected_ytd, rel=1e-12)
    assert m.loc["NVDA", "currency"] == "USD"
    assert m.loc["688256.SS", "currency"] == "CNY"
    # every universe symbol has a row; those without prices have no numbers
    universe = pd.read_csv(seeds_dir() / "universe.csv", dtype=str)
    assert set(m.index) == set(universe["symbol"])
    for s in analysis.unavailable_symbols:
        assert np.isnan(m.loc[s, "ret_ytd"]) and m.loc[s, "vol_60d_n"] == 0


def test_default_as_of_leaves_most_equities_with_a_price(analysis):
    m = analysis.metrics.set_index("symbol")
    u = analysis.universe
    equities = [s for s in u.loc[u["asset_type"] == "equity", "symbol"] if s in analysis.prices]
    on_or_after = [analysis.prices[s].index.max() >= analysis.as_of for s in equities]
    assert np.mean(on_or_after) >= 0.9
    assert (m.loc[equities, "last_price_date"] <= analysis.as_of).all()


def test_exposure_has_every_security_and_theme_with_counts(analysis):
    exp = analysis.exposure
    u = analysis.universe
    expected_symbols = set(u.loc[u["asset_type"] != "index", "symbol"])
    assert set(exp["symbol"]) == expected_symbols
    assert set(exp["theme_id"]) == set(analysis.themes["theme_id"])
    assert len(exp) == len(expected_symbols) * len(analysis.themes)
    for col in ("text_n_mentions", "event_n", "return_n", "composite_n_components"):
        assert exp[col].dtype == "int64" and (exp[col] >= 0).all()
    # the composite is the weighted mean of the available z-scores (default weights)
    w = analysis.params.weights
    z = exp[["z_text", "z_event", "z_return"]].to_numpy()
    weights = np.array([w["text"], w["event"], w["return"]])
    have = ~np.isnan(z)
    with np.errstate(invalid="ignore", divide="ignore"):
        expected = np.where(have.any(axis=1), np.nansum(z * weights, axis=1) / (have * weights).sum(axis=1), np.nan)
    np.testing.assert_allclose(exp["composite"].to_numpy(), expected, rtol=1e-12, equal_nan=True)


def test_event_exposure_uses_the_standardised_car_of_the_exposure_window(analysis):
    scar = analysis.scar()
    assert set(zip(scar["t1"], scar["t2"])) == {analysis.params.exposure_window}
    ok = scar["car_sd"] > 0
    np.testing.assert_allclose(scar.loc[ok, "scar"], scar.loc[ok, "car"] / scar.loc[ok, "car_sd"])


def test_provenance_records_versions_parameters_and_checksums(analysis):
    prov = analysis.provenance
    from screener import __version__

    assert prov["package_version"] == __version__
    assert prov["parameters"]["model"] == "market"
    assert prov["parameters"]["estimation"] == [-250, -11]
    assert prov["price_source"]["name"] == "snapshot"
    manifest = snapshot_dir() / "manifest.json"
    assert prov["snapshot_manifest_sha256"] == hashlib.sha256(manifest.read_bytes()).hexdigest()
    for name, file in (("events", "events.csv"), ("universe", "universe.csv"), ("themes", "themes.csv")):
        assert prov["seed_files_sha256"][name] == hashlib.sha256((seeds_dir() / file).read_bytes()).hexdigest()
    json.dumps(prov)  # serialisable as is


def test_study_events_fits_only_the_chosen_events(analysis):
    res = analysis.study_events([INTEL_STAKE])
    assert set(res.outcomes["event_id"]) == {INTEL_STAKE}
    with pytest.raises(InputError, match="Did you mean"):
        analysis.study_events(["intel-us-government-stake"])


# --------------------------------------------------------------------------- planted effect


def _write_prices(folder: Path, symbol: str, dates: pd.DatetimeIndex, returns: np.ndarray) -> None:
    price = 100 * np.cumprod(1 + returns)
    pd.DataFrame({"date": dates.strftime("%Y-%m-%d"), "open": price, "high": price, "low": price, "close": price,
                  "adj_close": price, "volume": 1_000_000.0}).to_csv(folder / f"{symbol}.csv", index=False)


def _write_planted_event(folder: Path) -> None:
    """``events.csv`` and ``event_securities.csv`` in ``folder``: one event on 2025-08-22
    (before the open) with NVDA as its primary security."""
    events = pd.read_csv(seeds_dir() / "events.csv", dtype=str, keep_default_na=False).head(1)
    events = events.assign(event_id="planted-2025-08", announced_at="2025-08-22", timing="before_open",
                           themes="ai-compute")
    events.to_csv(folder / "events.csv", index=False)
    pd.DataFrame({"event_id": ["planted-2025-08"], "symbol": ["NVDA"], "role": ["primary"], "expected_sign": ["1"],
                  "rationale": ["planted"]}).to_csv(folder / "event_securities.csv", index=False)


def test_a_planted_day0_effect_is_recovered_from_a_local_price_folder(tmp_path):
    from screener.calendars import sessions_for

    sessions = sessions_for("NVDA", "2024-06-03", "2025-10-31")
    rng = np.random.default_rng(7)
    market = rng.normal(0.0003, 0.01, len(sessions))
    stock = 0.0002 + 1.3 * market + rng.normal(0, 0.012, len(sessions))
    day0 = pd.Timestamp("2025-08-22")
    stock[sessions.get_loc(day0)] += 0.08
    prices = tmp_path / "prices"
    prices.mkdir()
    _write_prices(prices, "^GSPC", sessions, market)
    _write_prices(prices, "NVDA", sessions, stock)
    _write_planted_event(tmp_path)

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        a = Analysis(prices, events_file=tmp_path / "events.csv",
                     securities_file=tmp_path / "event_securities.csv", windows=["0,0", "-1,1"])
        car = a.results.car
    got = car[(car["symbol"] == "NVDA") & (car["t1"] == 0) & (car["t2"] == 0)]["car"].iloc[0]
    # the planted 8 % plus that day's noise (sd 1.2 %): well away from zero, close to 0.08
    assert got == pytest.approx(0.08, abs=0.04)
    assert "NVDA" not in a.unavailable_symbols and "AMD" in a.unavailable_symbols
    assert a.provenance["snapshot_manifest_sha256"] is None


def test_car_table_has_every_pair_and_nan_cars_for_pairs_not_estimated(analysis):
    table = analysis.car_table()
    out = analysis.outcomes
    assert list(zip(table["event_id"], table["symbol"])) == list(zip(out["event_id"], out["symbol"]))
    not_estimated = ~out["included"].to_numpy()
    assert table.loc[not_estimated, "car[0,0]"].isna().all()
    assert table.loc[~not_estimated, "car[0,0]"].notna().any()
    car = analysis.results.car
    w = car[(car["t1"] == -1) & (car["t2"] == 1)].set_index(["event_id", "symbol"])
    t = table.set_index(["event_id", "symbol"]).loc[w.index]
    np.testing.assert_allclose(t["scar"], w["car"] / w["car_sd"], rtol=1e-12)


def test_too_short_estimation_window_is_rejected():
    from screener.analysis import Analysis
    from screener.errors import InputError

    with pytest.raises(InputError, match="at least 30"):
        Analysis(estimation=(-5, -1))


def test_as_of_before_any_price_is_an_error_and_after_the_last_a_note():
    from screener.analysis import Analysis
    from screener.errors import InputError

    with pytest.raises(InputError, match="before the first price"):
        Analysis(as_of="1990-01-01").as_of
    late = Analysis(as_of="2030-01-02")
    assert str(late.as_of.date()) == "2030-01-02"
    assert any("after the last price" in n for n in late.notes)


# --------------------------------------------------------------------------- partial CARs


def _gap_and_end_folder(tmp_path: Path) -> tuple[Path, Path, Path]:
    """Prices ending 9 sessions after day 0 (2025-08-22; 09-01 is Labor Day), NVDA without a
    price on day +2."""
    from screener.calendars import sessions_for

    sessions = sessions_for("NVDA", "2024-06-03", "2025-09-05")
    rng = np.random.default_rng(11)
    market = rng.normal(0.0003, 0.01, len(sessions))
    stock = 0.0002 + 1.3 * market + rng.normal(0, 0.012, len(sessions))
    prices = tmp_path / "prices"
    prices.mkdir()
    _write_prices(prices, "^GSPC", sessions, market)
    _write_prices(prices, "NVDA", sessions, stock)
    nvda = pd.read_csv(prices / "NVDA.csv")
    nvda[nvda["date"] != "2025-08-26"].to_csv(prices / "NVDA.csv", index=False)  # day +2: no price
    _write_planted_event(tmp_path)
    return prices, tmp_path / "events.csv", tmp_path / "event_securities.csv"


def test_partial_cars_say_how_many_sessions_a_car_covers_and_why(tmp_path):
    # was: a CAR over a window running past the last price (or over a halt) was listed under
    # car[0,+20] with the note "estimated, no remark", as if it covered the whole window
    prices, events, securities = _gap_and_end_folder(tmp_path)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        a = Analysis(prices, events_file=events, securities_file=securities, windows=["0,0", "0,5", "0,20"])
        res = a.study_events(["planted-2025-08"])
    partial = a.partial_cars(res).set_index("window")
    # day 0 .. +9 are the sessions with prices; day +2 has none and day +3's return spans two
    # sessions, so both are left out of the event window
    assert "(0, 0)" not in partial.index
    w5, w20 = partial.loc["(0, 5)"], partial.loc["(0, 20)"]
    assert (w5["n_days"], w5["missing"], w5["after_last"], w5["before_first"]) == (4, 2, 0, 0)
    assert (w20["n_days"], w20["missing"], w20["after_last"], w20["length"]) == (8, 2, 11, 21)
    assert w20["last_date"] == pd.Timestamp("2025-09-05")
    car = res.car.set_index("window")
    assert car.loc["(0, 20)", "n_days"] == 8
    assert res.caar.set_index("window").loc["(0, 20)", ["n", "n_partial"]].tolist() == [0, 1]
    note = a.car_table(res).set_index("symbol").loc["NVDA", "note"]
    assert "car[0,+20] covers 8 of 21 sessions: the window runs past the last price (2025-09-05)" in note
    assert "2 sessions without a return" in note and "left out of the CAAR and tests" in note
    assert res.outcomes.set_index("symbol").loc["NVDA", "outcome"] == "halt_in_event_window"


def test_partial_cars_is_empty_when_every_window_is_complete(analysis):
    res = analysis.study_events([INTEL_STAKE])
    assert analysis.partial_cars(res).empty
    notes = analysis.car_table(res)["note"]
    assert not notes.str.contains("covers").any()


def test_insufficient_estimation_note_gives_m_and_the_first_price(analysis):
    # was: only "fewer valid estimation observations than min_estimation_obs" for an April 2024
    # event on the snapshot, whose prices start in January 2024
    res = analysis.study_events(["tsmc-chips-act-preliminary-award-2024-04"])
    out = res.outcomes.set_index("symbol")
    table = analysis.car_table(res).set_index("symbol")
    assert (out["outcome"] == "insufficient_estimation").all()
    for sym in out.index:
        first = analysis.prices[sym].index.min().date()
        m = int(out.loc[sym, "n_est"])
        assert m < 120
        assert (f"({m} valid of the 240 sessions of the estimation window (-250, -11), at least 120 needed; "
                f"the prices of {sym} start {first})") in table.loc[sym, "note"]


def test_exposure_keeps_its_columns_without_the_source_documents(tmp_path, analysis):
    """Without documents, text relevance is not measured: its columns stay, NaN with N 0."""
    a = Analysis(documents_dir=tmp_path / "no-such-folder")
    exp = a.exposure
    full = analysis.exposure
    core = ["text_relevance", "text_n_mentions", "z_text", "event_mean_scar", "event_n", "z_event",
            "return_beta", "return_n", "z_return", "composite", "composite_n_components", "composite_rank"]
    assert set(core) <= set(exp.columns) and set(core) <= set(full.columns)
    assert exp["text_relevance"].isna().all() and exp["z_text"].isna().all()
    assert (exp["text_n_mentions"] == 0).all() and exp["text_n_mentions"].dtype == "int64"
    assert any("source documents not found" in n for n in a.notes)
    # the other components are the same numbers as with documents
    key = ["symbol", "theme_id"]
    both = exp.merge(full, on=key, suffixes=("", "_full"))
    np.testing.assert_allclose(both["return_beta"], both["return_beta_full"], equal_nan=True)
    assert (both["composite_n_components"] <= both["composite_n_components_full"]).all()


# --------------------------------------------------------------------------- reading only what a study needs


class _CountingSource(PriceSource):
    """The bundled snapshot, recording every symbol asked of it."""

    name = "counting"

    def __init__(self) -> None:
        self.inner = SnapshotSource()
        self.asked: list[str] = []

    def load(self, symbol, start=None, end=None):
        self.asked.append(symbol)
        return self.inner.load(symbol, start, end)


def _event_symbols(event_ids=None) -> set[str]:
    """The events' securities and the universe benchmarks of those securities, read from the seeds."""
    links = pd.read_csv(seeds_dir() / "event_securities.csv", dtype=str)
    if event_ids is not None:
        links = links[links["event_id"].isin(event_ids)]
    u = pd.read_csv(seeds_dir() / "universe.csv", dtype=str)
    bench = dict(zip(u["symbol"], u["benchmark"]))
    secs = set(links["symbol"])
    return secs | {bench[s] for s in secs if isinstance(bench.get(s), str)}


def test_a_study_reads_only_its_securities_and_their_benchmarks(analysis):
    # was: study_events (and car_table) read the prices of every universe symbol (75), so a
    # study through the Yahoo cache downloaded the whole universe
    src = _CountingSource()
    a = Analysis(src)
    res = a.study_events([INTEL_STAKE])
    table = a.car_table(res)
    a.partial_cars(res)
    expected = _event_symbols([INTEL_STAKE])
    assert sorted(src.asked) == sorted(expected)  # each once, nothing else
    assert {"INTC", "GFS", "TSM", "SOXX"} < expected and len(expected) < len(a.symbols) / 5
    assert "prices" not in a.__dict__ and "returns" not in a.__dict__
    # the same numbers as the study on the full panel
    full = analysis.study_events([INTEL_STAKE])
    pd.testing.assert_frame_equal(res.car, full.car)
    pd.testing.assert_frame_equal(res.outcomes, full.outcomes)
    pd.testing.assert_frame_equal(res.tests(), full.tests())
    pd.testing.assert_frame_equal(table, analysis.car_table(full))


def test_every_event_reads_the_event_securities_and_the_report_the_rest_once(analysis):
    src = _CountingSource()
    a = Analysis(src)
    res = a.results
    expected = _event_symbols()
    assert set(src.asked) == expected and expected < set(a.symbols)
    pd.testing.assert_frame_equal(res.car, analysis.results.car)
    pd.testing.assert_frame_equal(res.tests(), analysis.results.tests())
    cols = [c for c in analysis.outcomes.columns if c != "note"]  # the note names the source
    pd.testing.assert_frame_equal(a.outcomes[cols], analysis.outcomes[cols])
    # one event of the full study is a selection of it (its pairs keep what the full fit found)
    pd.testing.assert_frame_equal(a.event_results(INTEL_STAKE).car, analysis.event_results(INTEL_STAKE).car)
    # the screens need the universe: the rest is read, each symbol once in all
    pd.testing.assert_frame_equal(a.metrics, analysis.metrics)
    assert sorted(src.asked) == sorted(a.symbols)
    assert a.unavailable_symbols == analysis.unavailable_symbols


def _yf_frame_from(frames: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """What yf.download(group_by="column", multi_level_index=True, auto_adjust=False) returns."""
    names = {"Adj Close": "adj_close", "Close": "close", "High": "high", "Low": "low", "Open": "open",
             "Volume": "volume"}
    cols = {(f, s): fr[c] for s, fr in frames.items() for f, c in names.items()}
    out = pd.DataFrame(cols)
    out.columns = pd.MultiIndex.from_tuples(list(cols), names=["Price", "Ticker"])
    out.index.name = "Date"
    return out


def test_a_study_through_the_yahoo_cache_downloads_only_its_symbols(tmp_path, analysis):
    from screener.prices import CachedSource, YahooSource

    snapshot = SnapshotSource()
    calls: list[list[str]] = []

    def downloader(symbols, start, end):  # Yahoo, serving the snapshot's prices
        calls.append(list(symbols))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return _yf_frame_from(snapshot.load_many(symbols, start, end, errors="skip"))

    a = Analysis(CachedSource(YahooSource(downloader, quiet=True), tmp_path))
    res = a.study_events([INTEL_STAKE])
    expected = _event_symbols([INTEL_STAKE])
    assert sorted(s for c in calls for s in c) == sorted(expected)
    assert len(calls) == 2  # the first symbol alone (is Yahoo there?), then one batch
    full = analysis.study_events([INTEL_STAKE])
    pd.testing.assert_frame_equal(res.car, full.car)
    pd.testing.assert_frame_equal(res.tests(), full.tests())
    # a second study of the same event is served from the cache
    Analysis(CachedSource(YahooSource(downloader, quiet=True), tmp_path)).study_events([INTEL_STAKE])
    assert len(calls) == 2


def test_a_study_without_network_fails_fast_naming_the_remedy(tmp_path):
    import time

    from screener.prices import CachedSource, SourceUnreachableError, YahooSource

    calls: list[list[str]] = []

    def offline(symbols, start, end):
        calls.append(list(symbols))
        raise ConnectionError("Failed to perform, curl: (6) Could not resolve host: query2.finance.yahoo.com")

    a = Analysis(CachedSource(YahooSource(offline, quiet=True, sleep=lambda s: None), tmp_path))
    t0 = time.perf_counter()
    with pytest.raises(SourceUnreachableError, match="cannot reach Yahoo Finance.*use --offline with a filled cache"):
        a.study_events([INTEL_STAKE])
    assert time.perf_counter() - t0 < 5
    assert len(calls) == 2 and len(calls[0]) == 1  # one symbol, retried once; not every symbol
    assert not list(tmp_path.rglob("*.parquet"))


def test_as_of_past_the_known_calendars_measures_up_to_the_last_prices():
    a = Analysis(as_of="2030-01-01")  # after every calendar's last known session (2026-12-31 for XSHG)
    m = a.metrics.set_index("symbol")
    assert m["ret_1m"].notna().sum() > 40
    assert any("after the last price" in n for n in a.notes)
