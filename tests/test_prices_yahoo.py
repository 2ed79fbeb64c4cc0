"""YahooSource without the network: a stand-in downloader returns what yf.download returns
(or raises what it raises), or yf.download itself is replaced by a fake that logs yfinance's own
error messages."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from screener.errors import DataUnavailableError, InputError
from screener.prices import PriceDownloadError, SourceUnreachableError, YahooSource

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
    source = YahooSource(stand_in)
    source.load_many(["INTC"], errors="skip")  # Yahoo has answered once: later downloads are whole batches
    stand_in.calls.clear()
    frames = source.load_many(["NVDA", "AMD"], "2025-06-02", "2025-06-09")
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


def test_rate_limit_is_retried_with_exponential_backoff_and_a_reset_once():
    from yfinance.exceptions import YFRateLimitError

    waits: list[float] = []
    ok = yf_frame({"NVDA": np.arange(1.0, 7.0)})
    stand_in = StandIn(YFRateLimitError(), ConnectionError("reset"), ok)
    frame = YahooSource(stand_in, sleep=waits.append, backoff=0.5).load("NVDA")
    assert len(frame) == 6
    assert waits == [0.5, 1.0]
    assert len(stand_in.calls) == 3


def test_server_errors_are_retried_a_bounded_number_of_times():
    from yfinance.exceptions import YFRateLimitError

    waits: list[float] = []
    stand_in = StandIn(YFRateLimitError())
    with pytest.raises(PriceDownloadError, match="failed after 3 attempts") as err:
        YahooSource(stand_in, sleep=waits.append).load("NVDA")
    assert not isinstance(err.value, SourceUnreachableError)  # the server answered
    assert waits == [1.0, 2.0] and len(stand_in.calls) == 3  # by default at most 3 s of waiting
    # a server that is up again is asked again
    stand_in.responses = [yf_frame({"NVDA": np.arange(1.0, 7.0)})]
    assert len(YahooSource(stand_in, sleep=waits.append).load("NVDA")) == 6


def test_a_timeout_is_not_retried_and_fails_every_later_download_at_once():
    waits: list[float] = []
    stand_in = StandIn(TimeoutError("read timed out"))
    source = YahooSource(stand_in, sleep=waits.append)
    with pytest.raises(SourceUnreachableError, match="cannot reach Yahoo Finance .*timeout"):
        source.load("NVDA")
    assert waits == [] and len(stand_in.calls) == 1
    with pytest.raises(SourceUnreachableError):
        source.load_many(["AMD", "INTC"], errors="skip")  # errors="skip" does not hide it
    assert len(stand_in.calls) == 1


# yfinance 1.7's log lines for one symbol when the host name cannot be resolved (no network)
_DNS_LOG = ["Failed to get ticker 'NVDA' reason: Failed to perform, curl: (6) Could not resolve host: "
            "query2.finance.yahoo.com (Domain name not found). See https://curl.se/libcurl/c/libcurl-errors.html "
            "first for more details.",
            "\n1 Failed download:",
            "['NVDA']: DNSError('Failed to perform, curl: (6) Could not resolve host: query2.finance.yahoo.com')"]


class FakeYfDownload:
    """Stands for ``yf.download``: logs yfinance's error lines and returns no rows, or returns ``frame``."""

    def __init__(self, log: list[str] | None = None, frame=None):
        self.log = log or []
        self.frame = frame
        self.calls: list[list[str]] = []

    def __call__(self, tickers, **kwargs):
        import logging

        self.calls.append(list(tickers))
        for line in self.log:
            logging.getLogger("yfinance").error(line)
        if self.frame is not None:
            return self.frame(tickers) if callable(self.frame) else self.frame
        return empty_yf_frame()


def test_no_network_fails_fast_with_one_message_that_names_the_remedy(monkeypatch):
    import time

    import yfinance as yf

    fake = FakeYfDownload(_DNS_LOG)
    monkeypatch.setattr(yf, "download", fake)
    waits: list[float] = []
    source = YahooSource(sleep=waits.append)  # the real downloader over the fake yf.download
    symbols = [f"S{i}" for i in range(75)]
    with pytest.raises(SourceUnreachableError) as err:
        source.load_many(symbols, errors="skip")
    message = str(err.value)
    assert message == (
        "cannot reach Yahoo Finance (download of S0 failed after 2 attempts: DNS failure: Could not resolve host: "
        "query2.finance.yahoo.com (Domain name not found)): use --offline with a filled cache, or --prices DIR")
    assert isinstance(err.value, DataUnavailableError)  # exit code 3 in the CLI
    # the first symbol alone, retried once after 1 s: not 75 symbols x 4 attempts
    assert fake.calls == [["S0"], ["S0"]] and waits == [1.0]
    t0 = time.perf_counter()
    with pytest.raises(SourceUnreachableError) as again:
        source.load("S1")  # the second symbol fails at once, without asking yfinance
    assert time.perf_counter() - t0 < 0.5 and len(fake.calls) == 2
    assert str(again.value) == message


def test_the_network_is_tried_again_after_recheck_after():
    stand_in = StandIn(ConnectionRefusedError("[Errno 111] Connection refused"), ConnectionRefusedError("refused"),
                       yf_frame({"NVDA": np.arange(1.0, 7.0)}))
    source = YahooSource(stand_in, sleep=lambda s: None, recheck_after=0.0)
    with pytest.raises(SourceUnreachableError, match="connection refused"):
        source.load("NVDA")
    assert len(source.load("NVDA")) == 6 and source.unreachable is None


def test_a_symbol_yahoo_does_not_know_is_not_a_network_failure(monkeypatch):
    import yfinance as yf

    fake = FakeYfDownload(["\n1 Failed download:", "['XYZQ']: YFTzMissingError('possibly delisted; no timezone found')"])
    monkeypatch.setattr(yf, "download", fake)
    source = YahooSource(sleep=lambda s: None)
    with pytest.raises(DataUnavailableError, match="no price data for 'XYZQ'") as err:
        source.load("XYZQ")
    assert not isinstance(err.value, PriceDownloadError)
    with pytest.raises(DataUnavailableError):
        source.load("XYZQ")
    assert len(fake.calls) == 2  # not retried, and the next download is still tried


@pytest.mark.parametrize("log, raised", [
    (_DNS_LOG, ConnectionError),
    (["['NVDA']: ConnectError('Failed to perform, curl: (7) Failed to connect to query2.finance.yahoo.com port 443')"],
     ConnectionError),
    (["['NVDA']: Timeout('Failed to perform, curl: (28) Operation timed out after 10001 milliseconds')"], TimeoutError),
    (["['NVDA']: YFRateLimitError('Too Many Requests. Rate limited. Try after a while.')"], "YFRateLimitError"),
    (["['NVDA']: HTTPError('HTTP Error 503: Service Unavailable')"], "_ServerError"),
])
def test_the_default_downloader_raises_by_kind_of_failure(monkeypatch, log, raised):
    import yfinance as yf

    from screener.prices.yahoo import yfinance_download

    monkeypatch.setattr(yf, "download", FakeYfDownload(log))
    with pytest.raises(Exception) as err:
        yfinance_download(["NVDA"], pd.Timestamp("2025-06-02"), pd.Timestamp("2025-06-09"))
    if isinstance(raised, str):
        assert type(err.value).__name__ == raised
    else:
        assert type(err.value) is raised


def test_connection_failures_are_told_apart_from_server_errors():
    import socket

    import requests
    from curl_cffi.requests import exceptions as curl
    from yfinance.exceptions import YFRateLimitError

    from screener.prices.yahoo import _connection_failure

    assert _connection_failure(socket.gaierror(-2, "Name or service not known")) == "DNS failure"
    assert _connection_failure(curl.DNSError("Could not resolve host", 6)) == "DNS failure"
    assert _connection_failure(ConnectionRefusedError(111, "Connection refused")) == "connection refused"
    assert _connection_failure(ConnectionResetError(104, "Connection reset by peer")) == "connection reset"
    assert _connection_failure(requests.exceptions.ConnectTimeout("x")) == "timeout"
    assert _connection_failure(curl.ConnectionError("Failed to connect", 7)) == "connection failed"
    assert _connection_failure(ConnectionError("curl: (6) Could not resolve host: x")) == "DNS failure"
    wrapped = RuntimeError("download failed")
    wrapped.__cause__ = ConnectionResetError("reset")
    assert _connection_failure(wrapped) == "connection reset"
    for reached in (YFRateLimitError(), requests.exceptions.HTTPError("503"), curl.HTTPError("500", 22),
                    ValueError("no timezone found")):
        assert _connection_failure(reached) is None


def test_other_exceptions_are_not_swallowed():
    with pytest.raises(KeyError):
        YahooSource(StandIn(KeyError("bug"))).load("NVDA")


def test_batches_and_invalid_symbols():
    stand_in = StandIn(lambda syms: yf_frame({s: np.arange(1.0, 7.0) for s in syms}))
    source = YahooSource(stand_in, batch_size=2)
    frames = source.load_many(["A", "B", "C", "D", "E"])
    # until Yahoo has answered, the first symbol goes alone (a quick check of the network)
    assert len(frames) == 5 and [c[0] for c in stand_in.calls] == [["A"], ["B", "C"], ["D", "E"]]
    stand_in.calls.clear()
    assert len(source.load_many(["A", "B", "C", "D", "E"])) == 5
    assert [len(c[0]) for c in stand_in.calls] == [2, 2, 1]
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


def test_each_download_is_noted_on_stderr_unless_quiet(capsys):
    stand_in = StandIn(lambda syms: yf_frame({s: np.arange(1.0, 7.0) for s in syms}))
    YahooSource(stand_in, batch_size=2).load_many(["A", "B", "C"], "2025-06-02", "2025-06-09")
    assert capsys.readouterr().err.splitlines() == [
        "Yahoo Finance: downloading A (1 of 3 symbols, 2025-06-02..2025-06-09)...",
        "Yahoo Finance: downloading B, C (2-3 of 3 symbols, 2025-06-02..2025-06-09)...",
    ]
    YahooSource(stand_in).load("NVDA", "2025-06-02")
    assert capsys.readouterr().err == "Yahoo Finance: downloading NVDA (2025-06-02..today)...\n"
    YahooSource(stand_in, batch_size=1, quiet=True).load_many(["A", "B"])
    YahooSource(stand_in).load_many(["A", "B"], progress=False)
    assert capsys.readouterr().err == ""


@pytest.mark.parametrize("quiet", [False, True])
def test_study_command_without_network_ends_in_seconds_with_one_error_line(monkeypatch, tmp_path, capsys, quiet):
    # was: `semiscreen --cache-dir DIR study EVENT` ran for over 300 s with nothing on stderr
    # (75 universe symbols, 4 attempts each)
    import os
    import tempfile
    import time
    from pathlib import Path

    import yfinance as yf

    from screener.cli import main
    from screener.cli._app import settings

    monkeypatch.setenv("SEMISCREEN_CALENDAR_CACHE",
                       os.environ.get("SEMISCREEN_CALENDAR_CACHE",
                                      str(Path(tempfile.gettempdir()) / "semiscreen-test-calendars")))
    fake = FakeYfDownload(_DNS_LOG)
    monkeypatch.setattr(yf, "download", fake)
    t0 = time.perf_counter()
    try:
        rc = main((["-q"] if quiet else []) + ["--cache-dir", str(tmp_path), "study",
                                               "intel-us-government-stake-2025-08"])
    finally:
        settings.prices_dir = settings.cache_dir = None
        settings.offline = settings.quiet = settings.debug = False
    elapsed = time.perf_counter() - t0
    err = capsys.readouterr().err.splitlines()
    assert rc == 3 and elapsed < 15  # one symbol, one retry after 1 s
    assert fake.calls == [["INTC"], ["INTC"]]
    assert err[-1].startswith("error: cannot reach Yahoo Finance (download of INTC failed after 2 attempts: "
                              "DNS failure: Could not resolve host")
    assert err[-1].endswith("use --offline with a filled cache, or --prices DIR")
    if quiet:
        assert len(err) == 1
    else:  # the download is announced (a slow network is visible); 5 symbols: the event's 4 and ^GSPC
        assert len(err) == 2 and err[0].startswith("Yahoo Finance: downloading INTC (1 of 5 symbols, 2015-01-01..")
