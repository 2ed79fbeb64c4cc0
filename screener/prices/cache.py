"""A Parquet cache in front of any price source, with incremental refresh.

Layout: ``<cache_dir>/prices/<symbol>.parquet`` (the full price frame) and
``<symbol>.json`` (source, fetched_at, first/last date, the date range already asked of the
upstream). Both are written atomically (temp file + ``os.replace``), data first, so a crash
leaves the previous pair or a new data file with stale metadata, never a half file.
"""

from __future__ import annotations

import json
import os
import warnings
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Iterable

import numpy as np
import pandas as pd

from screener.errors import DataQualityWarning, DataUnavailableError, InputError
from screener.files import atomic_write
from screener.prices.base import (
    PRICE_COLUMNS,
    PriceSource,
    check_symbol,
    make_price_frame,
    price_frame_from_arrays,
)
from screener.prices.yahoo import PriceDownloadError

__all__ = ["CachedSource", "default_cache_dir"]

_FORMAT = 1
# Where no start is given, the cache asks the upstream for history from this date.
DEFAULT_HISTORY_START = pd.Timestamp("2015-01-01")


def default_cache_dir() -> Path:
    """``platformdirs.user_cache_dir("semiscreen")``."""
    from platformdirs import user_cache_dir

    return Path(user_cache_dir("semiscreen"))


def _today() -> pd.Timestamp:
    return pd.Timestamp(datetime.now(timezone.utc).date())


class CachedSource(PriceSource):
    """Cache an upstream source's frames as Parquet, refreshing only missing date ranges.

    Parameters
    ----------
    upstream : PriceSource
        Where missing data comes from (usually :class:`~screener.prices.yahoo.YahooSource`).
    cache_dir : str or Path, optional
        Cache root (default :func:`default_cache_dir`); files go under ``prices/``.
    offline : bool
        Never call the upstream; a symbol not in the cache is a :class:`DataUnavailableError`.

    Notes
    -----
    A refresh re-asks the upstream for the last cached session too. If the upstream's adjusted
    close on that overlap differs from the cached one (a dividend or split rebased the series),
    the whole range is fetched again instead of splicing two adjustment bases.
    """

    def __init__(self, upstream: PriceSource, cache_dir: str | Path | None = None, *, offline: bool = False):
        self.upstream = upstream
        self.root = Path(cache_dir) if cache_dir is not None else default_cache_dir()
        self.dir = self.root / "prices"
        self.offline = offline
        self.name = f"cache({upstream.name})"
        self._dir_abs = os.path.abspath(self.dir)

    # -- paths ---------------------------------------------------------------------------
    def paths(self, symbol: str) -> tuple[Path, Path]:
        """The (data, metadata) files of ``symbol``; rejects symbols that are not safe file names."""
        check_symbol(symbol)
        data = self.dir / f"{symbol}.parquet"
        meta = self.dir / f"{symbol}.json"
        if os.path.dirname(os.path.abspath(data)) != self._dir_abs:  # defence in depth
            raise InputError(f"invalid symbol {symbol!r}: would leave the cache directory")
        return data, meta

    def metadata(self, symbol: str) -> dict[str, Any] | None:
        """The cached metadata record of ``symbol`` (None if not cached)."""
        data, meta = self.paths(symbol)
        if not (data.is_file() and meta.is_file()):
            return None
        import pyarrow.parquet as pq

        try:
            # a damaged pair (not written by us: disk error, hand edit) counts as not cached,
            # so the next fetch/load downloads it again instead of failing on it forever
            pq.read_metadata(data)
            record = json.loads(meta.read_text(encoding="utf-8"))
            pd.Timestamp(record["requested_start"]), pd.Timestamp(record["requested_end"])
        except (OSError, ValueError, TypeError, KeyError):
            return None
        return record

    # -- read / write --------------------------------------------------------------------
    def _read_arrays(self, symbol: str) -> tuple[pd.DatetimeIndex, dict[str, np.ndarray]]:
        from screener.prices.snapshot import read_parquet_arrays

        data, _ = self.paths(symbol)
        return read_parquet_arrays(data, PRICE_COLUMNS)

    def _read(self, symbol: str) -> pd.DataFrame:
        dates, arrays = self._read_arrays(symbol)
        return pd.DataFrame({"date": dates, **arrays})

    def _write(self, symbol: str, frame: pd.DataFrame, meta: dict[str, Any]) -> None:
        import pyarrow as pa
        import pyarrow.parquet as pq

        data_path, meta_path = self.paths(symbol)
        adj = frame["adj_close"].to_numpy(dtype="float64", na_value=np.nan)
        if frame.attrs.get("adj_close_fallback"):
            adj = np.full(len(frame), np.nan)  # keep the source's raw column; re-derived on read
        arrays = {"date": pa.array(frame.index.to_numpy().astype("datetime64[D]"), type=pa.date32())}
        for c in PRICE_COLUMNS:
            values = adj if c == "adj_close" else frame[c].to_numpy(dtype="float64", na_value=np.nan)
            arrays[c] = pa.array(values, type=pa.float64(), from_pandas=True)
        table = pa.table(arrays)
        atomic_write(data_path, lambda tmp: pq.write_table(table, tmp, compression="zstd"))
        text = json.dumps(meta, indent=1, sort_keys=True)
        atomic_write(meta_path, lambda tmp: tmp.write_text(text, encoding="utf-8"))

    def _cached_frame(self, symbol: str, start: Any, end: Any, meta: dict[str, Any] | None) -> pd.DataFrame:
        data, _ = self.paths(symbol)
        dates, arrays = self._read_arrays(symbol)
        origin = (meta or {}).get("source", self.upstream.name)
        return price_frame_from_arrays(dates, arrays, symbol=symbol, source=f"cache({origin})", file=str(data),
                                       start=start, end=end)

    # -- PriceSource ---------------------------------------------------------------------
    def load(self, symbol: str, start: Any = None, end: Any = None) -> pd.DataFrame:
        """``symbol``'s frame from the cache, fetching only what the cache lacks.

        Raises
        ------
        DataUnavailableError
            Offline and not cached, or the upstream has nothing for the symbol.
        """
        check_symbol(symbol)
        lo = pd.Timestamp(start).normalize() if start is not None else DEFAULT_HISTORY_START
        hi = pd.Timestamp(end).normalize() if end is not None else _today()
        if lo > hi:
            raise InputError(f"start {lo.date()} is after end {hi.date()}")
        meta = self.metadata(symbol)
        if self.offline:
            if meta is None:
                raise DataUnavailableError(
                    f"{symbol!r} is not in the price cache {self.dir} and --offline forbids downloading it "
                    f"(run `semiscreen fetch {symbol}` while online, or pass --prices DIR)"
                )
            frame = self._cached_frame(symbol, start, end, meta)
            if frame.empty:
                raise DataUnavailableError(
                    f"the price cache has {symbol!r} only for {meta.get('first_date')}..{meta.get('last_date')}, "
                    f"nothing in {lo.date()}..{hi.date()} (offline)"
                )
            return frame
        meta = self.refresh(symbol, lo, hi, meta=meta)
        return self._cached_frame(symbol, start, end, meta)

    def load_many(
        self,
        symbols: Iterable[str],
        start: Any = None,
        end: Any = None,
        *,
        progress: bool | None = None,
        errors: str = "raise",
    ) -> dict[str, pd.DataFrame]:
        """Price frames of many symbols from the cache, downloading what it lacks.

        Symbols the cache lacks entirely are asked of the upstream together
        (``upstream.load_many``: batched downloads, with the upstream's progress notes); the
        others are read from the cache and refreshed one by one where ``start..end`` reaches
        past what was fetched before.

        Parameters
        ----------
        symbols : iterable of str
        start, end : date-like, optional
            As in :meth:`load` (default 2015-01-01 .. today).
        progress : bool, optional
            Passed to the upstream's ``load_many``.
        errors : {"raise", "skip"}
            A symbol the upstream has no data for: raise one
            :class:`~screener.errors.DataUnavailableError` naming every such symbol (after
            trying all), or leave it out.

        Returns
        -------
        dict of str to DataFrame
            Keyed by symbol, in input order.

        Raises
        ------
        PriceDownloadError
            A download failed (e.g. :class:`~screener.prices.yahoo.SourceUnreachableError`:
            no network), whatever ``errors`` says; nothing is recorded for the range that failed.
        DataUnavailableError
            ``errors="raise"`` and some symbols could not be had (offline and not cached, or not
            at the upstream).
        """
        if errors not in ("raise", "skip"):
            raise InputError(f"errors must be 'raise' or 'skip', not {errors!r}")
        symbols = [check_symbol(s) for s in dict.fromkeys(symbols)]
        messages: dict[str, str] = {}
        if not self.offline:
            lo = pd.Timestamp(start).normalize() if start is not None else DEFAULT_HISTORY_START
            hi = pd.Timestamp(end).normalize() if end is not None else _today()
            if lo > hi:
                raise InputError(f"start {lo.date()} is after end {hi.date()}")
            fresh = [s for s in symbols if self.metadata(s) is None]
            if fresh:
                frames = self.upstream.load_many(fresh, lo, hi, progress=progress, errors="skip")
                for s in fresh:
                    frame = frames.get(s)
                    if frame is not None and len(frame):
                        self._store(s, frame, lo, hi)
                    else:
                        messages[s] = f"{self.upstream.name}: no price data for {s!r} in {lo.date()}..{hi.date()}"
        out: dict[str, pd.DataFrame] = {}
        for s in symbols:
            if s in messages:
                continue
            try:
                out[s] = self.load(s, start, end)
            except PriceDownloadError:
                raise
            except DataUnavailableError as exc:
                messages[s] = str(exc)
        missing = [s for s in symbols if s not in out]
        if missing and errors == "raise":
            if len(missing) == 1:
                raise DataUnavailableError(messages[missing[0]])
            raise DataUnavailableError(
                f"{self.name}: no price data for {len(missing)} symbols: {', '.join(missing)} "
                f"({messages[missing[0]]}; ...)"
            )
        return out

    def refresh(self, symbol: str, start: Any, end: Any, *, meta: dict[str, Any] | None = None) -> dict[str, Any]:
        """Make the cache cover ``start..end`` for ``symbol``; return its metadata record.

        Only the missing ranges are asked of the upstream. Nothing is written unless the
        merged frame validates.
        """
        if self.offline:
            raise DataUnavailableError("offline: the price cache cannot be refreshed")
        lo, hi = pd.Timestamp(start).normalize(), pd.Timestamp(end).normalize()
        if meta is None:
            meta = self.metadata(symbol)
        if meta is None:
            new = self.upstream.load(symbol, lo, hi)
            if new.empty:
                raise DataUnavailableError(f"{self.upstream.name}: no price data for {symbol!r} in {lo.date()}..{hi.date()}")
            return self._store(symbol, new, lo, hi)
        have_lo = pd.Timestamp(meta["requested_start"])
        have_hi = pd.Timestamp(meta["requested_end"])
        if lo >= have_lo and hi <= have_hi:
            return meta
        raw = self._read(symbol)
        data_path, _ = self.paths(symbol)
        cached = make_price_frame(raw, symbol=symbol, source=self.name, file=str(data_path), warn=False)
        parts = [cached]
        if lo < have_lo:
            parts.insert(0, self._fetch_part(symbol, lo, have_lo - pd.Timedelta(days=1)))
        if hi > have_hi:
            overlap_from = cached.index[-1] if len(cached) else have_hi
            tail = self._fetch_part(symbol, overlap_from, hi)
            if len(cached) and len(tail) and cached.index[-1] in tail.index:
                old = cached["adj_close"].iloc[-1]
                new = tail.loc[cached.index[-1], "adj_close"]
                if not np.isclose(old, new, rtol=1e-6, atol=0):
                    # rebased series (dividend/split): refetch everything on the new basis
                    full = self.upstream.load(symbol, min(lo, have_lo), hi)
                    return self._store(symbol, full, min(lo, have_lo), hi)
            parts.append(tail)
        merged = pd.concat([p for p in parts if len(p)])
        merged = merged[~merged.index.duplicated(keep="last")].sort_index()
        return self._store(symbol, merged, min(lo, have_lo), max(hi, have_hi))

    def _fetch_part(self, symbol: str, lo: pd.Timestamp, hi: pd.Timestamp) -> pd.DataFrame:
        if lo > hi:
            return self.upstream_empty()
        try:
            return self.upstream.load(symbol, lo, hi)
        except PriceDownloadError:
            raise  # the download failed: the range must not be recorded as fetched
        except DataUnavailableError:
            return self.upstream_empty()  # no sessions in that range yet: nothing to add

    @staticmethod
    def upstream_empty() -> pd.DataFrame:
        from screener.prices.base import empty_price_frame

        return empty_price_frame()

    def _store(self, symbol: str, frame: pd.DataFrame, lo: pd.Timestamp, hi: pd.Timestamp) -> dict[str, Any]:
        # Validate the merged frame before anything touches the disk.
        table = frame.reset_index()
        table["date"] = table["date"].astype("datetime64[ns]")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DataQualityWarning)
            checked = make_price_frame(table, symbol=symbol, source=self.upstream.name, file=f"<{self.upstream.name}>")
        checked.attrs["adj_close_fallback"] = bool(frame.attrs.get("adj_close_fallback", False))
        meta = {
            "format": _FORMAT,
            "symbol": symbol,
            "source": self.upstream.name,
            "fetched_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
            "first_date": str(checked.index[0].date()) if len(checked) else None,
            "last_date": str(checked.index[-1].date()) if len(checked) else None,
            "rows": int(len(checked)),
            "requested_start": str(lo.date()),
            "requested_end": str(hi.date()),
        }
        self._write(symbol, checked, meta)
        return meta

    def fetch(self, symbols: Iterable[str], start: Any = None, end: Any = None, *, progress: bool | None = None,
              errors: str = "raise") -> dict[str, dict[str, Any]]:
        """Fill the cache for many symbols; return each one's metadata.

        Symbols the cache lacks entirely are downloaded in one batch
        (``upstream.load_many``); the others are refreshed incrementally.
        """
        symbols = [check_symbol(s) for s in dict.fromkeys(symbols)]
        lo = pd.Timestamp(start).normalize() if start is not None else DEFAULT_HISTORY_START
        hi = pd.Timestamp(end).normalize() if end is not None else _today()
        if lo > hi:
            raise InputError(f"start {lo.date()} is after end {hi.date()}")
        if errors not in ("raise", "skip"):
            raise InputError(f"errors must be 'raise' or 'skip', not {errors!r}")
        if self.offline:
            raise DataUnavailableError("offline: the price cache cannot be filled")
        fresh = [s for s in symbols if self.metadata(s) is None]
        out: dict[str, dict[str, Any]] = {}
        if fresh:
            # every symbol that did download is stored (each file complete) before reporting the rest
            frames = self.upstream.load_many(fresh, lo, hi, progress=progress, errors="skip")
            for s, frame in frames.items():
                if len(frame):
                    out[s] = self._store(s, frame, lo, hi)
        for s in symbols:
            if s not in fresh:
                out[s] = self.refresh(s, lo, hi)
        missing = [s for s in symbols if s not in out]
        if missing and errors == "raise":
            raise DataUnavailableError(
                f"{self.upstream.name}: no price data for {', '.join(repr(m) for m in missing)} "
                f"(the other {len(out)} symbol(s) were cached)"
            )
        return {s: out[s] for s in symbols if s in out}
