"""Benchmark: load every symbol of a price folder and build the aligned returns panel.

Usage::

    .venv/bin/python benchmarks/bench_prices.py [--source /work/shared/data/prices] [--repeat 3]

Prints wall time (best of ``--repeat``) and peak Python memory (tracemalloc, separate run) for:
calendar arrays built from scratch vs read from their disk cache; loading the CSV folder and
computing returns ("cold": CSV parsing + validation); filling the Parquet cache; and the same
load + returns served from the Parquet cache. Goals: cold under 1 s, from cache under 0.2 s.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
import tracemalloc
import warnings
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def _best(fn, repeat: int) -> float:
    best = float("inf")
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t)
    return best


def _peak(fn) -> float:
    tracemalloc.start()
    fn()
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return peak / 2**20


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="price-layer benchmark")
    parser.add_argument("--source", type=Path, default=Path("/work/shared/data/prices"))
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args(argv)

    work = Path(tempfile.mkdtemp(prefix="semiscreen-bench-"))
    os.environ["SEMISCREEN_CALENDAR_CACHE"] = str(work / "calendars")
    t = time.perf_counter()
    import pandas  # noqa: F401

    from screener import calendars
    from screener.errors import DataQualityWarning
    from screener.prices import CachedSource, LocalDirectorySource, returns_panel

    t_import = time.perf_counter() - t
    warnings.simplefilter("ignore", DataQualityWarning)
    local = LocalDirectorySource(args.source)
    symbols = local.symbols()
    names = sorted({calendars.calendar_name(s) for s in symbols})

    t = time.perf_counter()
    for n in names:
        calendars.exchange_sessions(n)
    t_cal_build = time.perf_counter() - t
    calendars.exchange_sessions.cache_clear()
    t = time.perf_counter()
    for n in names:
        calendars.exchange_sessions(n)
    t_cal_disk = time.perf_counter() - t

    def cold():
        frames = local.load_many(symbols)
        return returns_panel(frames)

    cache = CachedSource(local, work / "cache")
    t = time.perf_counter()
    cache.fetch(symbols)
    t_fill = time.perf_counter() - t
    cached = CachedSource(local, work / "cache", offline=True)

    def from_cache():
        frames = cached.load_many(symbols)
        return returns_panel(frames)

    panel = cold()
    t_cold = _best(cold, args.repeat)
    t_cache = _best(from_cache, args.repeat)
    m_cold = _peak(cold)
    m_cache = _peak(from_cache)

    print(f"symbols: {len(symbols)}; calendars: {', '.join(names)}; panel {panel.returns.shape[0]} dates x "
          f"{panel.returns.shape[1]} symbols")
    print(f"import pandas + screener.prices          {t_import:7.3f} s")
    print(f"calendar arrays, built (exchange_calendars) {t_cal_build:7.3f} s")
    print(f"calendar arrays, from disk cache            {t_cal_disk:7.3f} s")
    print(f"cold: CSV folder -> validated frames -> returns  {t_cold:7.3f} s   peak {m_cold:6.1f} MiB")
    print(f"fill Parquet cache (once)                        {t_fill:7.3f} s")
    print(f"from Parquet cache -> returns                    {t_cache:7.3f} s   peak {m_cache:6.1f} MiB")
    print(f"goals: cold < 1 s {'OK' if t_cold < 1 else 'MISSED'}; cache < 0.2 s {'OK' if t_cache < 0.2 else 'MISSED'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
