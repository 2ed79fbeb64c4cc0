"""YahooSource without the network: a stand-in downloader returns what yf.download returns."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from screener.errors import DataUnavailableError, InputError
from screener.prices import YahooSource

FIELDS = ["Adj Close", "Close", "High", "Low", "Open", "Volume"]
DATES = pd.bdate_range("2025-06-02", periods=6, name="Date")


def yf_frame(data: dict[str, np.ndarray | None], dates=DATES) -> pd.DataFrame:
    """A frame shaped like yf.download(group_by="column", multi_level_index=True, auto_adjust=False).

    ``data[symbol]`` is a close series (the other fields derived from it) or None for a symbol
    yfinance failed on (all NaN, as yfinance reindexes failed symbols onto the union index).
    """
    cols = pd.MultiIndex.from_product([FIELDS, list(data)], names=["Price", "Ticker"])
    frame = pd.DataFrame(np.nan, index=dates, columns=cols)
    for sym, close in data.items():
        if close is None:
            continue
        frame[("Close", sym)] = close
        frame[("Adj Close", sym)] = close * 0.98
        frame[("Open", sym)] = close * 0.99
        frame[("High", sym)] = close * 1.01
        frame[("Low", sym)] = close * 0.97
        frame[("Volume", sym)] = 1000.0
    return frame


def empty_yf_frame() -> pd.DataFrame:
    """What yf.download returns offline: no rows."""
    cols = pd.MultiIndex.from_product([FIELDS, ["NVDA"]], names=["Price", "Ticker"])
    return pd.DataFrame(columns=cols, index=pd.DatetimeIndex([], name="Date"), dtype="float64")


class StandIn:
    def __init__(self, *responses):
        self.responses = list(responses)
        self.calls: list[tuple] = []

    def __call__(self, symbols, start, end):
        self.calls.append((list(symbols), start, end))
        r = self.responses.pop(0) if len(self.responses) > 1 else self.responses[0]
        if isinstance(r, BaseException):
            raise r
        return r(symbols) if callable(r) else r


def test_batch_is_split_per_symbol_with_close_and_adj_close():
    close = np.array([10.0, 11, 12, 11, 13, 14])
    stand_in = StandIn(yf_frame({"NVDA": close, "AMD": close * 2}))
    frames = YahooSource(stand_in).load_many(["NVDA", "AMD"], "2025-06-02", "2025-06-09")
    assert list(frames) == ["NVDA", "AMD"]
    np.testing.assert_allclose(frames["AMD"]["close"].to_numpy(), close * 2)
    np.testing.assert_allclose(frames["NVDA"]["adj_close"].to_numpy(), close * 0.98)
    assert frames["NVDA"].index.tz is None and frames["NVDA"].index.name == "date"
    assert frames["NVDA"].attrs["source"] == "yahoo"
    assert len(stand_in.calls) == 1  # one batched download
    assert stand_in.calls[0][1] == pd.Timestamp("2025-06-02")


def test_tz_aware_index_becomes_session_dates():
    tz_dates = pd.DatetimeIndex(pd.bdate_range("2025-06-02", periods=6), name="Date").tz_localize("Asia/Hong_Kong")
    stand_in = StandIn(yf_frame({"0981.HK": np.arange(1.0, 7.0)}, dates=tz_dates))
    frame = YahooSource(stand_in).load("0981.HK")
    assert frame.index.tz is None
    assert list(frame.index) == list(pd.bdate_range("2025-06-02", periods=6))


def test_lowercase_symbol_matches_yfinance_upper_case_columns():
    stand_in = StandIn(lambda syms: yf_frame({s.upper(): np.arange(1.0, 7.0) for s in syms}))
    frame = YahooSource(stand_in).load("brk-b")
    assert len(frame) == 6


def test_empty_frame_offline_is_data_unavailable():
    with pytest.raises(DataUnavailableError) as err:
        YahooSource(StandIn(empty_yf_frame())).load("NVDA")
    assert str(err.value) == "no price data for 'NVDA' from Yahoo (offline, delisted or wrong symbol?)"


def test_partial_batch_names_the_all_nan_symbol():
    stand_in = StandIn(yf_frame({"NVDA": np.arange(1.0, 7.0), "XYZ": None}))
    with pytest.raises(DataUnavailableError, match="'XYZ'") as err:
        YahooSource(stand_in).load_many(["NVDA", "XYZ"])
    assert "'NVDA'" not in str(err.value)
    frames = YahooSource(stand_in).load_many(["NVDA", "XYZ"], errors="skip")
    assert list(frames) == ["NVDA"]


def test_rate_limit_is_retried_with_exponential_backoff():
    from yfinance.exceptions import YFRateLimitError

    waits: list[float] = []
    ok = yf_frame({"NVDA": np.arange(1.0, 7.0)})
    stand_in = StandIn(YFRateLimitError(), ConnectionError("reset"), ok)
    frame = YahooSource(stand_in, sleep=waits.append, backoff=0.5).load("NVDA")
    assert len(frame) == 6
    assert waits == [0.5, 1.0]
    assert len(stand_in.calls) == 3


def test_retries_give_up_with_a_clear_error():
    waits: list[float] = []
    stand_in = StandIn(TimeoutError("slow"))
    with pytest.raises(DataUnavailableError, match="failed after 3 attempts"):
        YahooSource(stand_in, sleep=waits.append, max_retries=2).load("NVDA")
    assert waits == [1.0, 2.0]


def test_other_exceptions_are_not_swallowed():
    with pytest.raises(KeyError):
        YahooSource(StandIn(KeyError("bug"))).load("NVDA")


def test_batches_and_invalid_symbols():
    stand_in = StandIn(lambda syms: yf_frame({s: np.arange(1.0, 7.0) for s in syms}))
    frames = YahooSource(stand_in, batch_size=2).load_many(["A", "B", "C", "D", "E"])
    assert len(frames) == 5 and [len(c[0]) for c in stand_in.calls] == [2, 2, 1]
    with pytest.raises(InputError):
        YahooSource(stand_in).load("../etc")


def test_bad_values_from_yahoo_fail_validation():
    from screener.errors import ValidationError

    close = np.array([10.0, -1, 12, 11, 13, 14])
    with pytest.raises(ValidationError, match="NVDA.*2025-06-03"):
        YahooSource(StandIn(yf_frame({"NVDA": close}))).load("NVDA")


def test_default_downloader_passes_explicit_arguments(monkeypatch):
    import yfinance as yf

    from screener.prices.yahoo import yfinance_download

    seen = {}

    def fake_download(tickers, **kwargs):
        seen.update(kwargs, tickers=tickers)
        return yf_frame({"NVDA": np.arange(1.0, 7.0)})

    monkeypatch.setattr(yf, "download", fake_download)
    yfinance_download(["NVDA"], pd.Timestamp("2025-06-02"), pd.Timestamp("2025-06-09"))
    assert seen["auto_adjust"] is False and seen["multi_level_index"] is True
    assert seen["group_by"] == "column" and seen["progress"] is False
    assert seen["end"] == "2025-06-10"  # yfinance's end is exclusive


def test_progress_is_silent_when_stderr_is_not_a_terminal(capsys):
    stand_in = StandIn(lambda syms: yf_frame({s: np.arange(1.0, 7.0) for s in syms}))
    YahooSource(stand_in, batch_size=1).load_many(["A", "B", "C"])
    YahooSource(stand_in, batch_size=1, quiet=True).load_many(["A", "B"], progress=None)
    assert capsys.readouterr().err == ""
