"""The bundled price snapshot (``seeds/prices``): per-symbol Parquet plus ``manifest.json``.

Each ``<symbol>.parquet`` holds ``date, close, adj_close, volume`` (zstd). The manifest records,
per symbol, the source file, first/last date, rows, the sha256 of the Parquet file and whether
the adjusted close was missing at the source; symbols the source did not have are listed under
``missing``. The checksum is verified on every load. Built by ``scripts/build_snapshot.py``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Iterable

import numpy as np
import pandas as pd

from screener.errors import DataUnavailableError, InputError, Problem, ValidationError
from screener.files import atomic_write
from screener.prices.base import PriceSource, check_symbol, price_frame_from_arrays
from screener.files import sha256_file

__all__ = ["SnapshotSource", "SNAPSHOT_COLUMNS", "write_snapshot_file", "sha256_file", "read_parquet_arrays"]

#: Columns stored in the snapshot's Parquet files.
SNAPSHOT_COLUMNS = ("date", "close", "adj_close", "volume")




def write_snapshot_file(frame: pd.DataFrame, path: Path) -> None:
    """Write a price frame's snapshot columns to ``path`` (zstd Parquet, deterministic, atomic).

    The raw ``adj_close`` is written as the source had it: a frame whose adjusted close was a
    fallback is written with an empty ``adj_close``, so the flag is re-derived on load.
    """
    import pyarrow as pa
    import pyarrow.parquet as pq

    adj = frame["adj_close"].to_numpy(dtype="float64", na_value=np.nan)
    if frame.attrs.get("adj_close_fallback"):
        adj = np.full(len(frame), np.nan)
    table = pa.table(
        {
            "date": pa.array(frame.index.to_numpy().astype("datetime64[D]"), type=pa.date32()),
            "close": pa.array(frame["close"].to_numpy(dtype="float64", na_value=np.nan), type=pa.float64()),
            "adj_close": pa.array(adj, type=pa.float64(), from_pandas=True),
            "volume": pa.array(frame["volume"].to_numpy(dtype="float64", na_value=np.nan), type=pa.float64()),
        }
    )
    atomic_write(
        path,
        lambda tmp: pq.write_table(table, tmp, compression="zstd", compression_level=9, use_dictionary=False,
                                   write_statistics=False, store_schema=False),
    )


def read_parquet_arrays(path: Path, columns: Iterable[str]) -> tuple[pd.DatetimeIndex, dict[str, np.ndarray]]:
    """Read a price Parquet file (``date`` as date32 or timestamp) into a date index and float arrays.

    Columns of :data:`~screener.prices.PRICE_COLUMNS` absent from the file are all-NaN.

    Raises
    ------
    InputError
        Not a readable Parquet file, or no ``date`` column.
    """
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        # whole small file in memory: skips pyarrow's filesystem resolution and small reads
        table = pq.ParquetFile(pa.BufferReader(Path(path).read_bytes())).read(use_threads=False)
    except Exception as exc:  # pyarrow raises several types for a broken file
        raise InputError(f"{path}: not a readable Parquet file ({exc})") from None
    if "date" not in table.column_names:
        raise InputError(f"{path}: no 'date' column")
    d = table.column("date")
    if pa.types.is_date32(d.type):
        ns = d.cast(pa.int32()).to_numpy(zero_copy_only=False).astype("int64") * 86_400_000_000_000
        dates = pd.DatetimeIndex(ns.view("datetime64[ns]"))
    else:
        dates = pd.DatetimeIndex(d.to_pandas()).as_unit("ns")
    from screener.prices.base import PRICE_COLUMNS

    arrays = {}
    for c in PRICE_COLUMNS:
        if c in table.column_names:
            arrays[c] = np.array(table.column(c).to_numpy(zero_copy_only=False), dtype="float64")
        else:
            arrays[c] = np.full(table.num_rows, np.nan)
    return dates, arrays


class SnapshotSource(PriceSource):
    """The bundled snapshot (default source of the CLI).

    Parameters
    ----------
    path : str or Path, optional
        Snapshot folder (default :func:`screener.paths.snapshot_dir`).
    verify : bool
        Check each file's sha256 against the manifest before reading it.

    Raises
    ------
    DataUnavailableError
        The folder or its ``manifest.json`` does not exist.
    """

    name = "snapshot"

    def __init__(self, path: str | Path | None = None, *, verify: bool = True):
        if path is None:
            from screener.paths import snapshot_dir

            path = snapshot_dir()
        self.path = Path(path)
        self.verify = verify
        manifest = self.path / "manifest.json"
        if not manifest.is_file():
            raise DataUnavailableError(
                f"no price snapshot at {self.path} (manifest.json missing); build it with "
                "scripts/build_snapshot.py or pass --prices DIR"
            )
        try:
            self.manifest: dict[str, Any] = json.loads(manifest.read_text(encoding="utf-8"))
        except json.JSONDecodeError as exc:
            raise InputError(f"{manifest}: not valid JSON ({exc})") from None
        self.entries: dict[str, dict[str, Any]] = self.manifest.get("symbols", {})
        self.missing: list[str] = list(self.manifest.get("missing", []))

    def symbols(self) -> list[str]:
        """Symbols the snapshot has."""
        return sorted(self.entries)

    def load(self, symbol: str, start: Any = None, end: Any = None) -> pd.DataFrame:
        check_symbol(symbol)
        if symbol in self.missing:
            raise DataUnavailableError(
                f"the bundled snapshot does not have {symbol!r} (its source had no data; listed as missing "
                f"in {self.path / 'manifest.json'}); use --prices DIR or fetch it"
            )
        entry = self.entries.get(symbol)
        if entry is None:
            raise DataUnavailableError(
                f"the bundled snapshot does not have {symbol!r} ({len(self.entries)} symbols in "
                f"{self.path}); use --prices DIR or fetch it"
            )
        path = self.path / entry.get("file", f"{symbol}.parquet")
        if not path.is_file():
            raise DataUnavailableError(f"snapshot file {path} listed in the manifest is missing")
        if self.verify:
            digest = sha256_file(path)
            if digest != entry.get("sha256"):
                raise ValidationError(
                    Problem(str(path), None, None, None,
                            f"sha256 {digest[:12]}... does not match the manifest's {str(entry.get('sha256'))[:12]}... "
                            "(file changed or corrupt; rebuild with scripts/build_snapshot.py)")
                )
        dates, arrays = read_parquet_arrays(path, SNAPSHOT_COLUMNS)
        return price_frame_from_arrays(dates, arrays, symbol=symbol, source=self.name, file=str(path),
                                       start=start, end=end)
