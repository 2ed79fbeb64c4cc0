"""Build the bundled price snapshot ``seeds/prices/`` from a folder of per-symbol CSVs.

Usage::

    .venv/bin/python scripts/build_snapshot.py [--source /work/shared/data/prices]
        [--out seeds/prices] [--symbols NVDA ^GSPC ...] [--start 2024-01-01]

Symbols: ``--symbols`` if given; else every ``symbol``, ``benchmark`` and ``sector_benchmark``
of ``seeds/universe.csv`` if it exists; else every CSV in the source folder. Each symbol is read
through :class:`~screener.prices.LocalDirectorySource` (so it is validated), cut to
``--start``..latest, and written as ``<symbol>.parquet`` (zstd; date, close, adj_close, volume).
``manifest.json`` records per symbol the source file, the SOURCES notes that document it,
first/last date, rows, sha256 and whether the adjusted close was missing; symbols the source
does not have are listed under ``missing`` (never invented). Same input → same bytes.
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
import warnings
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

DEFAULT_SOURCE = Path("/work/shared/data/prices")
MAX_BYTES = 3 * 1024 * 1024


def universe_symbols(path: Path) -> list[str]:
    """Symbols, benchmarks and sector benchmarks named in the universe file, in order."""
    out: dict[str, None] = {}
    with open(path, newline="", encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            for col in ("symbol", "benchmark", "sector_benchmark"):
                value = (row.get(col) or "").strip()
                if value:
                    out[value] = None
    return list(out)


def sources_note(folder: Path, symbol: str) -> str | None:
    """The SOURCES_*.md file in ``folder`` whose table documents ``symbol`` (None if none)."""
    for notes in sorted(folder.glob("SOURCES*.md")):
        for line in notes.read_text(encoding="utf-8").splitlines():
            if line.startswith("|"):
                first = line.strip("|").split("|")[0].strip()
                if first.split(" ")[0] == symbol:
                    return notes.name
    return None


def build(source: Path, out: Path, symbols: list[str], start: str) -> dict:
    """Write the snapshot; return the manifest."""
    import pandas as pd

    from screener.errors import DataQualityWarning, DataUnavailableError
    from screener.prices import LocalDirectorySource
    from screener.prices.snapshot import sha256_file, write_snapshot_file

    local = LocalDirectorySource(source)
    out.mkdir(parents=True, exist_ok=True)
    entries: dict[str, dict] = {}
    missing: list[str] = []
    for symbol in sorted(symbols):
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", DataQualityWarning)
                frame = local.load(symbol, start=pd.Timestamp(start))
        except DataUnavailableError:
            missing.append(symbol)
            continue
        if frame.empty:
            missing.append(symbol)
            continue
        path = out / f"{symbol}.parquet"
        write_snapshot_file(frame, path)
        entries[symbol] = {
            "file": path.name,
            "source": local.file_for(symbol).name,
            "notes": sources_note(source, symbol),
            "first_date": str(frame.index[0].date()),
            "last_date": str(frame.index[-1].date()),
            "rows": int(len(frame)),
            "sha256": sha256_file(path),
            "adj_close_fallback": bool(frame.attrs.get("adj_close_fallback")),
        }
    # drop files of symbols no longer in the snapshot
    for p in out.glob("*.parquet"):
        if p.stem not in entries:
            p.unlink()
    manifest = {
        "format": 1,
        "built_by": "scripts/build_snapshot.py",
        "source_folder": source.name,
        "start": start,
        "columns": ["date", "close", "adj_close", "volume"],
        "symbols": entries,
        "missing": sorted(missing),
    }
    text = json.dumps(manifest, indent=1, sort_keys=True, ensure_ascii=False) + "\n"
    tmp = out / ".manifest.json.tmp"
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(out / "manifest.json")
    total = sum(p.stat().st_size for p in out.iterdir() if p.is_file())
    if total > MAX_BYTES:
        raise SystemExit(f"snapshot is {total} bytes, over the {MAX_BYTES}-byte budget")
    return manifest


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--source", type=Path, default=DEFAULT_SOURCE, help="folder of <symbol>.csv files")
    parser.add_argument("--out", type=Path, default=ROOT / "seeds" / "prices", help="snapshot folder")
    parser.add_argument("--symbols", nargs="+", help="symbols (default: universe.csv, else every CSV)")
    parser.add_argument("--universe", type=Path, default=ROOT / "seeds" / "universe.csv")
    parser.add_argument("--start", default="2024-01-01", help="first date kept")
    args = parser.parse_args(argv)
    if args.symbols:
        symbols = list(dict.fromkeys(args.symbols))
    elif args.universe.is_file():
        symbols = universe_symbols(args.universe)
    else:
        symbols = sorted(p.stem for p in args.source.glob("*.csv"))
    manifest = build(args.source, args.out, symbols, args.start)
    size = sum(p.stat().st_size for p in args.out.iterdir() if p.is_file())
    print(f"{len(manifest['symbols'])} symbols written to {args.out} ({size / 1024:.0f} KiB); "
          f"missing: {', '.join(manifest['missing']) or 'none'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
