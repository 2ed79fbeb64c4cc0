"""Prices from Yahoo Finance through yfinance, batched, with retries and a progress bar.

yfinance's defaults have changed across releases, so every relevant argument is explicit:
``auto_adjust=False`` (keep both Close and Adj Close), ``group_by="column"`` and
``multi_level_index=True`` (columns are always (Price, Ticker)), ``actions=False``. yfinance
swallows per-symbol errors and returns an empty or all-NaN frame for a symbol it could not get
(offline, delisted, wrong symbol); that is detected per symbol. The downloader is injectable
so tests never touch the network.
"""

from __future__ import annotations

import logging
import sys
import time
import warnings
from typing import Any, Callable, Iterable

import numpy as np
import pandas as pd

from screener.errors import DataUnavailableError, InputError
from screener.prices.base import PRICE_COLUMNS, PriceSource, check_symbol, make_price_frame

__all__ = ["YahooSource", "yfinance_download"]

_YAHOO_COLUMNS = {
    "Open": "open",
    "High": "high",
    "Low": "low",
    "Close": "close",
    "Adj Close": "adj_close",
    "Volume": "volume",
}

_NETWORK_HINTS = ("rate limit", "too many requests", "ratelimit", "timed out", "timeout", "connection",
                  "could not resolve", "failed to perform", "curl", "network")


class _ErrorCapture(logging.Handler):
    def __init__(self) -> None:
        super().__init__(level=logging.ERROR)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:  # pragma: no cover - needs yfinance errors
        self.messages.append(record.getMessage())


def yfinance_download(symbols: list[str], start: pd.Timestamp | None, end: pd.Timestamp | None) -> pd.DataFrame:
    """Call ``yf.download`` with explicit arguments; raise on rate limits and network errors.

    ``end`` is inclusive here (yfinance's is exclusive). yfinance logs per-symbol failures
    instead of raising; those messages are captured, and a rate-limit or network failure with
    no data at all is raised (``YFRateLimitError`` / ``ConnectionError``) so it can be retried.
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
        if any(h in text for h in _NETWORK_HINTS):
            raise ConnectionError(" ".join(capture.messages)[:300])
    return data if data is not None else pd.DataFrame()


def _retryable() -> tuple[type[BaseException], ...]:
    kinds: list[type[BaseException]] = [ConnectionError, TimeoutError]
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
        Symbols per ``yf.download`` call.
    max_retries : int
        Retries of a batch after a rate limit or network error (exponential backoff).
    backoff : float
        First wait in seconds; doubles at each retry.
    quiet : bool
        Never show a progress bar.
    sleep : callable
        ``time.sleep`` (replaceable in tests).
    """

    name = "yahoo"

    def __init__(
        self,
        downloader: Callable[[list[str], pd.Timestamp | None, pd.Timestamp | None], pd.DataFrame] | None = None,
        *,
        batch_size: int = 40,
        max_retries: int = 3,
        backoff: float = 1.0,
        quiet: bool = False,
        sleep: Callable[[float], None] = time.sleep,
    ):
        if batch_size < 1:
            raise InputError("batch_size must be at least 1")
        self.downloader = downloader or yfinance_download
        self.batch_size = batch_size
        self.max_retries = max_retries
        self.backoff = backoff
        self.quiet = quiet
        self.sleep = sleep

    def _download(self, batch: list[str], start, end) -> pd.DataFrame:
        retryable = _retryable()
        attempt = 0
        while True:
            try:
                return self.downloader(batch, start, end)
            except retryable as exc:
                if attempt >= self.max_retries:
                    reason = " ".join(str(exc).split())  # yfinance's messages span lines: keep one
                    raise DataUnavailableError(
                        f"Yahoo download of {', '.join(batch[:5])}{' ...' if len(batch) > 5 else ''} failed "
                        f"after {attempt + 1} attempts ({type(exc).__name__}: {reason}); try again later or use --offline"
                    ) from None
                self.sleep(self.backoff * (2 ** attempt))
                attempt += 1

    def load(self, symbol: str, start: Any = None, end: Any = None) -> pd.DataFrame:
        return self.load_many([symbol], start, end, progress=False)[symbol]

    def load_many(self, symbols: Iterable[str], start: Any = None, end: Any = None, *,
                  progress: bool | None = None, errors: str = "raise") -> dict[str, pd.DataFrame]:
        if errors not in ("raise", "skip"):
            raise InputError(f"errors must be 'raise' or 'skip', not {errors!r}")
        symbols = [check_symbol(s) for s in dict.fromkeys(symbols)]
        lo = None if start is None else pd.Timestamp(start).normalize()
        hi = None if end is None else pd.Timestamp(end).normalize()
        batches = [symbols[i:i + self.batch_size] for i in range(0, len(symbols), self.batch_size)]
        show = progress if progress is not None else (len(symbols) > 1 and not self.quiet and sys.stderr.isatty())
        out: dict[str, pd.DataFrame] = {}
        missing: list[str] = []
        bar = None
        if show:
            from rich.console import Console
            from rich.progress import Progress

            bar = Progress(console=Console(stderr=True), transient=True)
            task = bar.add_task("Yahoo", total=len(symbols))
            bar.start()
        try:
            for batch in batches:
                raw = self._download(batch, lo, hi)
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
                if bar is not None:
                    bar.update(task, advance=len(batch))
        finally:
            if bar is not None:
                bar.stop()
        if missing and errors == "raise":
            if len(missing) == 1:
                raise DataUnavailableError(
                    f"no price data for {missing[0]!r} from Yahoo (offline, delisted or wrong symbol?)")
            raise DataUnavailableError(
                f"no price data for {', '.join(repr(m) for m in missing)} from Yahoo (offline, delisted or wrong symbol?)")
        return {s: out[s] for s in symbols if s in out}
