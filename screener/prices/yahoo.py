"""Prices from Yahoo Finance through yfinance, batched, with bounded retries and progress notes.

yfinance's defaults have changed across releases, so every relevant argument is explicit:
``auto_adjust=False`` (keep both Close and Adj Close), ``group_by="column"`` and
``multi_level_index=True`` (columns are always (Price, Ticker)), ``actions=False``. yfinance
swallows per-symbol errors and returns an empty or all-NaN frame for a symbol it could not get
(offline, delisted, wrong symbol); that is detected per symbol. The downloader is injectable
so tests never touch the network.

Failures are told apart: a symbol Yahoo has no data for is a per-symbol
:class:`~screener.errors.DataUnavailableError`; a server that cannot be reached at all (DNS
failure, connection refused or reset, timeout) is a :class:`SourceUnreachableError`, raised at
once for every later download of the same source, so a command without network fails in
seconds instead of retrying every symbol; a reachable server's transient errors (rate limit,
HTTP 5xx) are retried a bounded number of times (:class:`PriceDownloadError` when they persist).
"""

from __future__ import annotations

import logging
import re
import socket
import sys
import time
import warnings
from typing import Any, Callable, Iterable

import numpy as np
import pandas as pd

from screener.errors import DataUnavailableError, InputError
from screener.prices.base import PRICE_COLUMNS, PriceSource, check_symbol, make_price_frame

__all__ = ["YahooSource", "yfinance_download", "PriceDownloadError", "SourceUnreachableError"]


class PriceDownloadError(DataUnavailableError):
    """A download failed (not: the source has no data for the symbol).

    Callers that skip symbols a source lacks (``errors="skip"``) do not skip this one, and the
    cache never records the range as fetched.
    """


class SourceUnreachableError(PriceDownloadError):
    """The price server cannot be reached at all (DNS failure, connection refused or reset, timeout)."""

_YAHOO_COLUMNS = {
    "Open": "open",
    "High": "high",
    "Low": "low",
    "Close": "close",
    "Adj Close": "adj_close",
    "Volume": "volume",
}

# yfinance logs the reason of each failed symbol; these phrases mean the server was never reached
_TIMEOUT_HINTS = ("timed out", "timeout", "curl: (28)")
_DNS_HINTS = ("could not resolve", "dnserror", "name or service not known", "nodename nor servname",
              "temporary failure in name resolution", "getaddrinfo failed", "curl: (6)")
_CONNECT_HINTS = ("failed to connect", "couldn't connect", "could not connect", "connection refused",
                  "connection reset", "connection aborted", "network is unreachable", "no route to host",
                  "connectionerror", "proxyerror", "curl: (5)", "curl: (7)", "curl: (35)", "curl: (52)",
                  "curl: (55)", "curl: (56)")
# a reachable server that failed (retried a bounded number of times)
_SERVER_HINTS = ("failed to perform", "curl", "http error", "internal server error", "bad gateway",
                 "service unavailable", "gateway timeout", "network")

# What the user can do when Yahoo cannot be reached (named in every such error).
UNREACHABLE_REMEDY = "use --offline with a filled cache, or --prices DIR"


class _ServerError(RuntimeError):
    """A reachable Yahoo server failed (HTTP 5xx and the like): worth a retry."""


class _ErrorCapture(logging.Handler):
    def __init__(self) -> None:
        super().__init__(level=logging.ERROR)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:  # pragma: no cover - needs yfinance errors
        self.messages.append(record.getMessage())


def yfinance_download(symbols: list[str], start: pd.Timestamp | None, end: pd.Timestamp | None) -> pd.DataFrame:
    """Call ``yf.download`` with explicit arguments; raise on rate limits and network errors.

    ``end`` is inclusive here (yfinance's is exclusive). yfinance logs per-symbol failures
    instead of raising; those messages are captured, and when no data came back at all the
    failure is raised by kind: ``YFRateLimitError`` (rate limit), ``TimeoutError`` or
    ``ConnectionError`` (the server was not reached: DNS failure, connection refused or reset,
    timeout) or a retryable server error. A symbol Yahoo does not know is not raised: it comes
    back empty.
    """
    import yfinance as yf

    logger = logging.getLogger("yfinance")
    capture = _ErrorCapture()
    logger.addHandler(capture)
    try:
        with warnings.catch_warnings():
            # yfinance's own pandas deprecations (Pandas4Warning, ...) are not the user's business
            warnings.simplefilter("ignore", DeprecationWarning)
            warnings.simplefilter("ignore", FutureWarning)
            data = yf.download(
                symbols,
                start=None if start is None else start.strftime("%Y-%m-%d"),
                end=None if end is None else (end + pd.Timedelta(days=1)).strftime("%Y-%m-%d"),
                interval="1d",
                auto_adjust=False,
                actions=False,
                group_by="column",
                multi_level_index=True,
                progress=False,
                threads=True,
                repair=False,
                keepna=False,
            )
    finally:
        logger.removeHandler(capture)
    text = " ".join(capture.messages).lower()
    nothing = data is None or data.empty or data.isna().all().all()
    if capture.messages and nothing:
        if "rate" in text and "limit" in text or "too many requests" in text:
            from yfinance.exceptions import YFRateLimitError

            raise YFRateLimitError()
        message = " ".join(" ".join(capture.messages).split())[:400]
        if any(h in text for h in _TIMEOUT_HINTS):
            raise TimeoutError(message)
        if any(h in text for h in _DNS_HINTS + _CONNECT_HINTS):
            raise ConnectionError(message)
        if any(h in text for h in _SERVER_HINTS):
            raise _ServerError(message)
    return data if data is not None else pd.DataFrame()


def _retryable() -> tuple[type[BaseException], ...]:
    """Exception types worth another attempt (a connection-level failure among them is then
    told apart by :func:`_connection_failure`)."""
    kinds: list[type[BaseException]] = [ConnectionError, TimeoutError, socket.gaierror, _ServerError]
    try:
        from yfinance.exceptions import YFRateLimitError

        kinds.append(YFRateLimitError)
    except ImportError:  # pragma: no cover
        pass
    try:
        import requests

        kinds.append(requests.exceptions.RequestException)
    except ImportError:  # pragma: no cover
        pass
    try:
        from curl_cffi.requests.exceptions import RequestException as CurlRequestException

        kinds.append(CurlRequestException)
    except ImportError:  # pragma: no cover
        pass
    return tuple(kinds)


def _connection_kinds() -> tuple[tuple[type[BaseException], str], ...]:
    """(exception type, what it means) for failures where the server was never reached, most
    specific first."""
    kinds: list[tuple[type[BaseException], str]] = []
    try:
        from curl_cffi.requests import exceptions as ce

        kinds += [(ce.DNSError, "DNS failure"), (ce.Timeout, "timeout"), (ce.ProxyError, "proxy error"),
                  (ce.ConnectionError, "connection failed")]
    except ImportError:  # pragma: no cover
        pass
    try:
        import requests

        kinds += [(requests.exceptions.Timeout, "timeout"), (requests.exceptions.ConnectionError, "connection failed")]
    except ImportError:  # pragma: no cover
        pass
    kinds += [(socket.gaierror, "DNS failure"), (TimeoutError, "timeout"), (ConnectionRefusedError, "connection refused"),
              (ConnectionResetError, "connection reset"), (ConnectionAbortedError, "connection reset"),
              (ConnectionError, "connection failed")]
    return tuple(kinds)


def _connection_failure(exc: BaseException) -> str | None:
    """What kind of connection-level failure ``exc`` is (``"DNS failure"``, ``"timeout"``,
    ``"connection refused"``...), or None when the server was reached (rate limit, HTTP error,
    anything else)."""
    seen: set[int] = set()
    e: BaseException | None = exc
    while e is not None and id(e) not in seen:  # the exception or what caused it
        seen.add(id(e))
        for kind, label in _connection_kinds():
            if isinstance(e, kind):
                text = str(e).lower()
                if label == "connection failed":  # yfinance's text says more than the type
                    if any(h in text for h in _DNS_HINTS):
                        return "DNS failure"
                    if any(h in text for h in _TIMEOUT_HINTS):
                        return "timeout"
                    if "refused" in text:
                        return "connection refused"
                    if "reset" in text or "aborted" in text:
                        return "connection reset"
                return label
        e = e.__cause__ or e.__context__
    return None


def _reason(exc: BaseException) -> str:
    """One short line saying why a download failed (curl's own words when yfinance passed them on)."""
    text = " ".join(str(exc).split())
    m = re.search(r"curl: \(\d+\) (.+?)(?:\. See https?://\S+|$)", text)
    if m:
        return m.group(1).strip()[:200]
    return f"{type(exc).__name__}: {text[:240]}" if text else type(exc).__name__


def _per_symbol(raw: pd.DataFrame, symbol: str) -> pd.DataFrame | None:
    """One symbol's bars from a yf.download frame (columns (Price, Ticker)), or None if absent."""
    if raw is None or raw.empty:
        return None
    cols = raw.columns
    if isinstance(cols, pd.MultiIndex):
        names = list(cols.names)
        tick_level = names.index("Ticker") if "Ticker" in names else 1
        tickers = cols.get_level_values(tick_level)
        match = [t for t in dict.fromkeys(tickers) if str(t).upper() == symbol.upper()]
        if not match:
            return None
        sub = raw.xs(match[0], axis=1, level=tick_level)
    else:  # a single-level frame (one symbol, multi_level_index=False by someone's default)
        sub = raw
    sub = sub.rename(columns={k: v for k, v in _YAHOO_COLUMNS.items()})
    keep = [c for c in PRICE_COLUMNS if c in sub.columns]
    sub = sub[keep]
    prices = [c for c in ("open", "high", "low", "close", "adj_close") if c in sub.columns]
    sub = sub.dropna(how="all", subset=prices)
    if sub.empty:
        return None
    return sub


def _to_table(sub: pd.DataFrame) -> pd.DataFrame:
    idx = pd.DatetimeIndex(sub.index)
    if idx.tz is not None:
        idx = idx.tz_localize(None)  # keep the exchange-local wall date
    idx = idx.normalize().as_unit("ns")
    out = {"date": idx}
    for c in PRICE_COLUMNS:
        out[c] = sub[c].to_numpy(dtype="float64", na_value=np.nan) if c in sub.columns else np.full(len(sub), np.nan)
    return pd.DataFrame(out)


class YahooSource(PriceSource):
    """Daily bars from Yahoo Finance (network).

    Parameters
    ----------
    downloader : callable, optional
        ``downloader(symbols, start, end) -> DataFrame`` shaped like
        ``yf.download(..., group_by="column", multi_level_index=True)``; default
        :func:`yfinance_download`. Tests pass a stand-in.
    batch_size : int
        Symbols per ``yf.download`` call. Until Yahoo has answered once, the first symbol is
        downloaded alone (a quick check that the server can be reached).
    max_retries : int
        Retries of a batch after a rate limit or a server error of a reachable server
        (exponential backoff: with the defaults at most 1 s + 2 s of waiting per batch).
    backoff : float
        First wait in seconds; doubles at each retry.
    quiet : bool
        No progress notes on stderr (unless ``load_many(progress=True)``).
    sleep : callable
        ``time.sleep`` (replaceable in tests).
    recheck_after : float
        Seconds during which, after Yahoo could not be reached, every download fails at once
        with the same :class:`SourceUnreachableError` instead of trying again.

    Notes
    -----
    A connection-level failure (DNS failure, connection refused or reset: retried once;
    a timeout: not retried) raises :class:`SourceUnreachableError`, whose message names the
    remedy (``--offline`` with a filled cache, or ``--prices DIR``). Later downloads of the same
    source fail immediately with that message for ``recheck_after`` seconds, so a command run
    without network ends in seconds instead of trying every symbol. A symbol Yahoo has no data
    for is a plain :class:`~screener.errors.DataUnavailableError` (``errors="skip"`` leaves it out);
    a download failure never is skipped.
    """

    name = "yahoo"

    def __init__(
        self,
        downloader: Callable[[list[str], pd.Timestamp | None, pd.Timestamp | None], pd.DataFrame] | None = None,
        *,
        batch_size: int = 40,
        max_retries: int = 2,
        backoff: float = 1.0,
        quiet: bool = False,
        sleep: Callable[[float], None] = time.sleep,
        recheck_after: float = 60.0,
    ):
        if batch_size < 1:
            raise InputError("batch_size must be at least 1")
        self.downloader = downloader or yfinance_download
        self.batch_size = batch_size
        self.max_retries = max_retries
        self.backoff = backoff
        self.quiet = quiet
        self.sleep = sleep
        self.recheck_after = recheck_after
        self._unreachable: tuple[float, str] | None = None  # (when, message) of the last connection failure
        self._reached = False  # has Yahoo answered a download yet?

    @property
    def unreachable(self) -> str | None:
        """The message of the last connection-level failure while it still holds (see
        ``recheck_after``), else None."""
        if self._unreachable is None:
            return None
        when, message = self._unreachable
        if time.monotonic() - when >= self.recheck_after:
            self._unreachable = None
            return None
        return message

    def _download(self, batch: list[str], start, end) -> pd.DataFrame:
        known = self.unreachable
        if known is not None:
            raise SourceUnreachableError(known)
        retryable = _retryable()
        attempt = 0
        connection_failures = 0
        while True:
            try:
                data = self.downloader(batch, start, end)
            except retryable as exc:
                kind = _connection_failure(exc)
                if kind is not None:
                    connection_failures += 1
                    # a timeout already waited the client's timeout: not again; others once
                    give_up = kind == "timeout" or connection_failures > min(1, self.max_retries)
                else:
                    give_up = attempt >= self.max_retries
                if give_up:
                    what = f"{', '.join(batch[:5])}{' ...' if len(batch) > 5 else ''}"
                    tries = f"failed after {attempt + 1} attempt{'s' if attempt else ''}"
                    reason = _reason(exc)
                    if kind is not None:
                        plain = kind == "connection failed" and reason.startswith(f"{type(exc).__name__}:")
                        detail = reason if plain else f"{kind}: {reason}"
                        message = f"cannot reach Yahoo Finance (download of {what} {tries}: {detail}): {UNREACHABLE_REMEDY}"
                        self._unreachable = (time.monotonic(), message)
                        raise SourceUnreachableError(message) from None
                    raise PriceDownloadError(
                        f"Yahoo download of {what} {tries} ({reason}); try again later or use --offline"
                    ) from None
                self.sleep(self.backoff * (2 ** attempt))
                attempt += 1
            else:
                self._unreachable = None
                self._reached = True
                return data

    def load(self, symbol: str, start: Any = None, end: Any = None) -> pd.DataFrame:
        return self.load_many([symbol], start, end)[symbol]

    def load_many(self, symbols: Iterable[str], start: Any = None, end: Any = None, *,
                  progress: bool | None = None, errors: str = "raise") -> dict[str, pd.DataFrame]:
        """Price frames of many symbols, ``batch_size`` symbols per download.

        Parameters
        ----------
        progress : bool, optional
            One note per download on stderr (``Yahoo Finance: downloading ...``); default: unless
            ``quiet``.
        errors : {"raise", "skip"}
            A symbol Yahoo has no data for: raise (naming every such symbol) or leave it out.

        Raises
        ------
        SourceUnreachableError
            Yahoo cannot be reached (whatever ``errors`` says).
        PriceDownloadError
            A reachable server kept failing (rate limit, server error) after the retries.
        DataUnavailableError
            ``errors="raise"`` and Yahoo has no data for some symbols.
        """
        if errors not in ("raise", "skip"):
            raise InputError(f"errors must be 'raise' or 'skip', not {errors!r}")
        symbols = [check_symbol(s) for s in dict.fromkeys(symbols)]
        lo = None if start is None else pd.Timestamp(start).normalize()
        hi = None if end is None else pd.Timestamp(end).normalize()
        # Until Yahoo has answered once, the first symbol goes alone: without network a batch of
        # 40 takes yfinance ~10 s to give up, one symbol a fraction of a second.
        first = symbols[:1] if not self._reached and len(symbols) > 1 else []
        rest = symbols[len(first):]
        batches = ([first] if first else []) + [rest[i:i + self.batch_size] for i in range(0, len(rest), self.batch_size)]
        show = progress if progress is not None else not self.quiet
        out: dict[str, pd.DataFrame] = {}
        missing: list[str] = []
        done = 0
        for batch in batches:
            if show and self.unreachable is None:
                print(_progress_note(batch, done, len(symbols), lo, hi), file=sys.stderr, flush=True)
            raw = self._download(batch, lo, hi)
            done += len(batch)
            for s in batch:
                sub = _per_symbol(raw, s)
                if sub is None:
                    missing.append(s)
                    continue
                out[s] = make_price_frame(_to_table(sub), symbol=s, source=self.name, file=f"Yahoo {s}",
                                          start=lo, end=hi)
                if out[s].empty:
                    del out[s]
                    missing.append(s)
        if missing and errors == "raise":
            if len(missing) == 1:
                raise DataUnavailableError(
                    f"no price data for {missing[0]!r} from Yahoo (offline, delisted or wrong symbol?)")
            raise DataUnavailableError(
                f"no price data for {', '.join(repr(m) for m in missing)} from Yahoo (offline, delisted or wrong symbol?)")
        return {s: out[s] for s in symbols if s in out}


def _progress_note(batch: list[str], done: int, total: int, lo: pd.Timestamp | None, hi: pd.Timestamp | None) -> str:
    """``Yahoo Finance: downloading NVDA, AMD (2 of 75 symbols, 2015-01-01..2026-05-04)...``."""
    names = ", ".join(batch[:4]) + (f" and {len(batch) - 4} more" if len(batch) > 4 else "")
    if total == 1:
        count = ""
    elif len(batch) == 1:
        count = f"{done + 1} of {total} symbols, "
    else:
        count = f"{done + 1}-{done + len(batch)} of {total} symbols, "
    if lo is None:
        span = "full history" if hi is None else f"up to {hi.date()}"
    else:
        span = f"{lo.date()}..{hi.date() if hi is not None else 'today'}"
    return f"Yahoo Finance: downloading {names} ({count}{span})..."
