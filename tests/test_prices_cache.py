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
