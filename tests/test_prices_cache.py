"""CachedSource: Parquet cache, incremental refresh, offline mode, safe file names."""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any

os.environ.setdefault("SEMISCREEN_CALENDAR_CACHE", str(Path(tempfile.gettempdir()) / "semiscreen-test-calendars"))

import numpy as np
import pandas as pd
import pytest

from screener.errors import DataUnavailableError, InputError, ValidationError
from screener.prices import CachedSource, LocalDirectorySource, PriceSource, make_price_frame

DATA = Path(__file__).parent / "data" / "prices"


class Recording(PriceSource):
    """Upstream over a fixed frame that records each requested range."""

    name = "fake"

    def __init__(self, frame: pd.DataFrame):
        self.frame = frame
        self.calls: list[tuple[Any, Any]] = []

    def load(self, symbol, start=None, end=None):
        self.calls.append((pd.Timestamp(start).date() if start is not None else None,
                           pd.Timestamp(end).date() if end is not None else None))
        f = self.frame
        if start is not None:
            f = f.loc[f.index >= pd.Timestamp(start)]
        if end is not None:
            f = f.loc[f.index <= pd.Timestamp(end)]
        if f.empty:
            raise DataUnavailableError(f"fake: nothing for {symbol}")
        out = f.copy()
        out.attrs = dict(self.frame.attrs)
        return out


def _frame(n=30, start="2025-06-02", scale=1.0):
    dates = pd.bdate_range(start, periods=n)
    close = 100 + np.arange(n, dtype=float)
    table = pd.DataFrame({"date": dates.as_unit("ns"), "open": close, "high": close + 1, "low": close - 1,
                          "close": close, "adj_close": close * scale, "volume": np.full(n, 10.0)})
    return make_price_frame(table, symbol="NVDA", source="fake")


def test_first_load_fills_cache_and_second_is_served_from_it(tmp_path):
    up = Recording(_frame())
    cache = CachedSource(up, tmp_path)
    a = cache.load("NVDA", "2025-06-02", "2025-06-20")
    b = cache.load("NVDA", "2025-06-05", "2025-06-12")
    assert len(up.calls) == 1
    pd.testing.assert_frame_equal(b, a.loc["2025-06-05":"2025-06-12"], check_freq=False)
    meta = json.loads((tmp_path / "prices" / "NVDA.json").read_text())
    assert meta["source"] == "fake" and meta["first_date"] == "2025-06-02" and meta["last_date"] == "2025-06-20"
    assert "fetched_at" in meta and meta["rows"] == 15


def test_refresh_fetches_only_the_missing_range(tmp_path):
    up = Recording(_frame())
    cache = CachedSource(up, tmp_path)
    cache.load("NVDA", "2025-06-09", "2025-06-20")
    cache.load("NVDA", "2025-06-02", "2025-07-03")
    # head: up to the day before the cached range; tail: from the last cached session (overlap check)
    assert up.calls == [(pd.Timestamp("2025-06-09").date(), pd.Timestamp("2025-06-20").date()),
                        (pd.Timestamp("2025-06-02").date(), pd.Timestamp("2025-06-08").date()),
                        (pd.Timestamp("2025-06-20").date(), pd.Timestamp("2025-07-03").date())]
    full = cache.load("NVDA", "2025-06-02", "2025-07-03")
    pd.testing.assert_series_equal(full["close"], up.frame.loc["2025-06-02":"2025-07-03", "close"],
                                   check_freq=False)


def test_rebased_adjusted_close_triggers_a_full_refetch(tmp_path):
    up = Recording(_frame())
    cache = CachedSource(up, tmp_path)
    cache.load("NVDA", "2025-06-02", "2025-06-13")
    up.frame = _frame(scale=0.97)  # a dividend rebased the adjusted series
    full = cache.load("NVDA", "2025-06-02", "2025-07-03")
    np.testing.assert_allclose(full["adj_close"].to_numpy(), full["close"].to_numpy() * 0.97)
    assert up.calls[-1] == (pd.Timestamp("2025-06-02").date(), pd.Timestamp("2025-07-03").date())


def test_offline_never_touches_upstream(tmp_path):
    up = Recording(_frame())
    with pytest.raises(DataUnavailableError, match="not in the price cache.*offline"):
        CachedSource(up, tmp_path, offline=True).load("NVDA")
    assert up.calls == []
    CachedSource(up, tmp_path).load("NVDA", "2025-06-02", "2025-06-20")
    n = len(up.calls)
    frame = CachedSource(up, tmp_path, offline=True).load("NVDA", "2025-06-02", "2025-12-31")
    assert len(up.calls) == n and frame.index[-1] == pd.Timestamp("2025-06-20")


@pytest.mark.parametrize("symbol", ["^GSPC", "0981.HK", "BRK-B", "GC=F"])
def test_yahoo_symbols_are_safe_file_names(tmp_path, symbol):
    frame = _frame()
    frame.attrs["symbol"] = symbol
    cache = CachedSource(Recording(frame), tmp_path)
    cache.load(symbol, "2025-06-02", "2025-06-10")
    assert (tmp_path / "prices" / f"{symbol}.parquet").is_file()


@pytest.mark.parametrize("symbol", ["../x", "a/b", "", "..", ".hidden", "a\\b", "NV\nDA", "NV\x00DA", "/etc/passwd", "x" * 40])
def test_unsafe_symbols_are_rejected_and_nothing_escapes(tmp_path, symbol):
    cache_dir = tmp_path / "cache"
    cache = CachedSource(Recording(_frame()), cache_dir)
    with pytest.raises(InputError):
        cache.load(symbol, "2025-06-02", "2025-06-10")
    written = [p for p in tmp_path.rglob("*") if p.is_file()]
    assert written == []


def test_upstream_failure_leaves_the_cache_untouched(tmp_path, monkeypatch):
    up = Recording(_frame())
    cache = CachedSource(up, tmp_path)
    cache.load("NVDA", "2025-06-02", "2025-06-13")
    before = {p.name: p.read_bytes() for p in (tmp_path / "prices").iterdir()}
    bad = _frame()
    bad.loc[pd.Timestamp("2025-06-30"), "close"] = -1.0  # a bad tick in the new range
    up.frame = bad
    with pytest.raises(ValidationError, match="2025-06-30"):
        cache.load("NVDA", "2025-06-02", "2025-07-03")
    after = {p.name: p.read_bytes() for p in (tmp_path / "prices").iterdir()}
    assert after == before  # no temp files, no half-written data


def test_unknown_symbol_miss_writes_nothing(tmp_path):
    cache = CachedSource(LocalDirectorySource(DATA), tmp_path)
    with pytest.raises(DataUnavailableError, match="ZZZZ"):
        cache.load("ZZZZ", "2025-06-02", "2025-06-10")
    assert not any(p.is_file() for p in tmp_path.rglob("*"))


def test_fetch_fills_many_symbols_and_keeps_fallback_flag(tmp_path):
    import warnings

    from screener.errors import DataQualityWarning

    cache = CachedSource(LocalDirectorySource(DATA), tmp_path)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataQualityWarning)
        records = cache.fetch(["TEST", "CLOSEONLY.T"], "2025-01-01", "2025-12-31")
        assert records["TEST"]["rows"] == 9 and records["CLOSEONLY.T"]["rows"] == 5
        frame = CachedSource(LocalDirectorySource(DATA), tmp_path, offline=True).load("CLOSEONLY.T")
    assert frame.attrs["adj_close_fallback"] is True


def test_fetch_stores_what_it_got_and_names_what_it_did_not(tmp_path):
    cache = CachedSource(LocalDirectorySource(DATA), tmp_path)
    with pytest.raises(DataUnavailableError, match="'NOPE'.*1 symbol"):
        cache.fetch(["TEST", "NOPE"], "2025-01-01", "2025-12-31")
    assert (tmp_path / "prices" / "TEST.parquet").is_file()
    assert not (tmp_path / "prices" / "NOPE.parquet").exists()
    assert set(cache.fetch(["TEST", "NOPE"], "2025-01-01", "2025-12-31", errors="skip")) == {"TEST"}


def test_malformed_upstream_file_leaves_the_cache_untouched(tmp_path):
    src = tmp_path / "src"
    src.mkdir()
    (src / "TEST.csv").write_text((DATA / "TEST.csv").read_text())
    cache_dir = tmp_path / "cache"
    CachedSource(LocalDirectorySource(src), cache_dir).load("TEST", "2025-06-02", "2025-06-05")
    before = {p.name: p.read_bytes() for p in (cache_dir / "prices").iterdir()}
    (src / "TEST.csv").write_text((DATA / "TEST.csv").read_text() + "2025-06-16,1,1,1,n/a?,1,1\n")
    with pytest.raises(InputError, match="line 11.*'close'"):
        CachedSource(LocalDirectorySource(src), cache_dir).load("TEST", "2025-06-02", "2025-06-30")
    assert {p.name: p.read_bytes() for p in (cache_dir / "prices").iterdir()} == before


# --------------------------------------------------------------------------- many symbols, network failures


def _yf_frame(symbols, dates=pd.bdate_range("2025-06-02", periods=6, name="Date")):
    """A frame shaped like yf.download(group_by="column", multi_level_index=True) for ``symbols``."""
    fields = ["Adj Close", "Close", "High", "Low", "Open", "Volume"]
    cols = pd.MultiIndex.from_product([fields, list(symbols)], names=["Price", "Ticker"])
    frame = pd.DataFrame(np.nan, index=dates, columns=cols)
    for s in symbols:
        close = float(ord(s[0])) + np.arange(len(dates))  # A: 65, 66, ...
        for f in ("Adj Close", "Close", "High", "Low", "Open"):
            frame[(f, s)] = close
        frame[("Volume", s)] = 1000.0
    return frame


class FakeDownloader:
    """The YahooSource downloader: returns frames for the symbols it knows, or raises ``error``."""

    def __init__(self, known=None, error=None):
        self.known = known
        self.error = error
        self.calls: list[list[str]] = []

    def __call__(self, symbols, start, end):
        self.calls.append(list(symbols))
        if self.error is not None:
            raise self.error
        return _yf_frame([s for s in symbols if self.known is None or s in self.known])


def test_load_many_downloads_what_the_cache_lacks_in_batches_then_serves_it(tmp_path, capsys):
    from screener.prices import YahooSource

    fake = FakeDownloader(known={"A", "B", "C"})
    cache = CachedSource(YahooSource(fake, sleep=lambda s: None), tmp_path)
    frames = cache.load_many(["A", "B", "C", "NOPE"], "2025-06-02", "2025-06-09", errors="skip")
    assert list(frames) == ["A", "B", "C"]
    assert fake.calls == [["A"], ["B", "C", "NOPE"]]  # one symbol first, then one batch: not one call per symbol
    np.testing.assert_allclose(frames["B"]["close"].to_numpy(), 66.0 + np.arange(6))
    assert "downloading B, C, NOPE (2-4 of 4 symbols" in capsys.readouterr().err
    again = cache.load_many(["A", "B", "C"], "2025-06-02", "2025-06-09")
    assert len(fake.calls) == 2  # served from the cache
    pd.testing.assert_frame_equal(again["C"], frames["C"])
    with pytest.raises(DataUnavailableError, match="'NOPE'"):
        cache.load_many(["A", "NOPE"], "2025-06-02", "2025-06-09")


def test_load_many_without_network_fails_fast_and_writes_nothing(tmp_path):
    import time

    from screener.prices import SourceUnreachableError, YahooSource

    fake = FakeDownloader(error=ConnectionError("Failed to perform, curl: (6) Could not resolve host: "
                                                "query2.finance.yahoo.com"))
    cache = CachedSource(YahooSource(fake, sleep=lambda s: None), tmp_path)
    t0 = time.perf_counter()
    with pytest.raises(SourceUnreachableError, match=r"cannot reach Yahoo Finance .*DNS failure.*--offline"):
        cache.load_many([f"S{i}" for i in range(75)], errors="skip")  # skip: for missing symbols, not no network
    assert time.perf_counter() - t0 < 2 and fake.calls == [["S0"], ["S0"]]
    with pytest.raises(SourceUnreachableError):
        cache.load("S1")  # the next symbol: at once
    assert len(fake.calls) == 2
    assert not any(p.is_file() for p in tmp_path.rglob("*"))


def test_a_failed_refresh_is_not_recorded_as_fetched(tmp_path):
    from screener.prices import SourceUnreachableError

    class Unreachable(Recording):
        def load(self, symbol, start=None, end=None):
            raise SourceUnreachableError("cannot reach Yahoo Finance (...): use --offline with a filled cache, "
                                         "or --prices DIR")

    CachedSource(Recording(_frame()), tmp_path).load("NVDA", "2025-06-02", "2025-06-13")
    meta = tmp_path / "prices" / "NVDA.json"
    before = meta.read_text()
    with pytest.raises(SourceUnreachableError):
        CachedSource(Unreachable(_frame()), tmp_path).load("NVDA", "2025-06-02", "2025-07-03")
    # was: the failure counted as "no sessions yet" and the range was recorded as fetched
    assert meta.read_text() == before and json.loads(before)["requested_end"] == "2025-06-13"
    up = Recording(_frame())
    CachedSource(up, tmp_path).load("NVDA", "2025-06-02", "2025-07-03")  # once back online: fetched
    assert up.calls == [(pd.Timestamp("2025-06-13").date(), pd.Timestamp("2025-07-03").date())]


def test_offline_load_many_never_touches_upstream(tmp_path):
    up = Recording(_frame())
    CachedSource(up, tmp_path).load("NVDA", "2025-06-02", "2025-06-20")
    n = len(up.calls)
    offline = CachedSource(up, tmp_path, offline=True)
    assert list(offline.load_many(["NVDA", "AMD"], errors="skip")) == ["NVDA"]
    with pytest.raises(DataUnavailableError, match="'AMD' is not in the price cache"):
        offline.load_many(["NVDA", "AMD"])
    assert len(up.calls) == n
