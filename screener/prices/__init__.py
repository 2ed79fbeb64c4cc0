"""Price sources (Yahoo, local folder, bundled snapshot, Parquet cache), the price-frame schema
and returns on each exchange's calendar.

>>> from screener.prices import open_source, returns_panel
>>> source = open_source()                      # the bundled snapshot
>>> frames = source.load_many(["NVDA", "688256.SS"])
>>> panel = returns_panel(frames)               # returns, spans, sessions
"""

from __future__ import annotations

from pathlib import Path

from screener.prices.base import PRICE_COLUMNS, PriceSource, check_symbol, make_price_frame
from screener.prices.cache import CachedSource, default_cache_dir
from screener.prices.local import LocalDirectorySource
from screener.prices.returns import ReturnsPanel, price_panel, returns_panel, security_returns
from screener.prices.schema import validate_price_frame
from screener.prices.snapshot import SnapshotSource
from screener.prices.yahoo import PriceDownloadError, SourceUnreachableError, YahooSource

__all__ = [
    "PRICE_COLUMNS",
    "PriceSource",
    "YahooSource",
    "PriceDownloadError",
    "SourceUnreachableError",
    "LocalDirectorySource",
    "SnapshotSource",
    "CachedSource",
    "default_cache_dir",
    "check_symbol",
    "make_price_frame",
    "validate_price_frame",
    "security_returns",
    "returns_panel",
    "ReturnsPanel",
    "price_panel",
    "open_source",
]


def open_source(
    prices_dir: str | Path | None = None,
    cache_dir: str | Path | None = None,
    offline: bool = False,
    *,
    quiet: bool = False,
) -> PriceSource:
    """The price source the CLI's global options ask for.

    Parameters
    ----------
    prices_dir : path, optional
        ``--prices DIR``: read that folder (:class:`LocalDirectorySource`).
    cache_dir : path, optional
        ``--cache-dir DIR``: use the Parquet cache there, filled from Yahoo
        (:class:`CachedSource`; with ``offline`` it never downloads).
    offline : bool
        ``--offline``: never touch the network.
    quiet : bool
        No progress bars.

    Returns
    -------
    PriceSource
        ``--prices`` wins; then ``--cache-dir``; otherwise the bundled snapshot
        (:class:`SnapshotSource`), which raises :class:`~screener.errors.DataUnavailableError`
        if it has not been built.

    Examples
    --------
    >>> from screener.prices import open_source
    >>> source = open_source()                      # no options: the bundled snapshot
    >>> source
    SnapshotSource(name='snapshot')
    >>> frames = source.load_many(["NVDA", "688256.SS"], start="2025-04-14", end="2025-04-22")
    >>> list(frames["NVDA"].columns)
    ['open', 'high', 'low', 'close', 'adj_close', 'volume']
    >>> frames["NVDA"].index.strftime("%m-%d").tolist()       # Good Friday 04-18: New York closed
    ['04-14', '04-15', '04-16', '04-17', '04-21', '04-22']
    >>> frames["688256.SS"].index.strftime("%m-%d").tolist()  # Shanghai open
    ['04-14', '04-15', '04-16', '04-17', '04-18', '04-21', '04-22']
    """
    if prices_dir is not None:
        return LocalDirectorySource(prices_dir)
    if cache_dir is not None:
        return CachedSource(YahooSource(quiet=quiet), cache_dir, offline=offline)
    return SnapshotSource()
