"""Benchmark of the event-study engine on a synthetic panel.

Builds a panel of simple returns (market model plus noise, a few missing days), places
``--pairs`` event-firm pairs on it and times: the estimation stage (alignment + market model +
AR/CAR arrays), the parametric tests, and all tests (including ranks), on three windows.
Prints wall times and the process's peak resident memory.

Usage::

    .venv/bin/python benchmarks/bench_event_study.py --pairs 100000
    .venv/bin/python benchmarks/bench_event_study.py --pairs 400000 --skip-tests
"""

from __future__ import annotations

import argparse
import resource
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from events import EventStudy  # noqa: E402


def build_panel(n_pairs: int, n_symbols: int, n_days: int, seed: int = 0):
    rng = np.random.default_rng(seed)
    dates = pd.bdate_range("2010-01-04", periods=n_days)
    m = pd.Series(rng.normal(0.0003, 0.01, n_days), index=dates)
    betas = rng.uniform(0.5, 1.5, n_symbols).astype(np.float32)
    noise = rng.standard_normal((n_days, n_symbols), dtype=np.float32) * np.float32(0.02)
    values = noise + np.outer(m.to_numpy(np.float32), betas)
    values[rng.random(values.shape) < 0.01] = np.nan  # 1% missing days
    R = pd.DataFrame(values.astype(np.float64), index=dates, columns=[f"S{i:05d}" for i in range(n_symbols)])
    sym = rng.integers(0, n_symbols, n_pairs)
    day = rng.integers(300, n_days - 20, n_pairs)
    ef = pd.DataFrame({
        "event_id": np.char.add("ev", np.arange(n_pairs).astype(str)),
        "symbol": R.columns.to_numpy()[sym],
        "event_date": dates[day],
    })
    return R, m, ef


def peak_rss_mb() -> float:
    # ru_maxrss is in kilobytes on Linux
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--pairs", type=int, default=100_000, help="event-firm pairs (default 100000)")
    ap.add_argument("--symbols", type=int, default=2_000, help="securities in the panel (default 2000)")
    ap.add_argument("--days", type=int, default=2_500, help="trading days in the panel (default 2500)")
    ap.add_argument("--chunk-size", type=int, default=2_048, help="pairs estimated together (default 2048)")
    ap.add_argument("--model", default="market",
                    help="market (default), market_adjusted, constant_mean, scholes_williams, dimson, "
                         "factor (three synthetic factors)")
    ap.add_argument("--skip-tests", action="store_true", help="time the estimation only")
    ap.add_argument("--repeat", type=int, default=3,
                    help="timed runs in the same process (default 3): the first pays for fresh memory")
    args = ap.parse_args(argv)

    t0 = time.perf_counter()
    R, m, ef = build_panel(args.pairs, args.symbols, args.days)
    t_build = time.perf_counter() - t0
    rss_data = peak_rss_mb()
    windows = [(0, 0), (-1, 1), (0, 5)]
    factors = None
    if args.model == "factor":  # three factors: the market and two synthetic ones
        rng = np.random.default_rng(1)
        factors = pd.DataFrame({"mkt": m, "smb": rng.normal(0, 0.005, len(m)),
                                "hml": rng.normal(0, 0.005, len(m))}, index=m.index)
    study = EventStudy(R, market=m, model=args.model, factors=factors, estimation=(-250, -11),
                       windows=windows, event_window=(-1, 5), chunk_size=args.chunk_size)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        warm = study.fit(ef.head(200))  # imports and first-touch costs, not timed
    try:
        from events import statistics
    except ImportError:  # (an engine without tests)
        statistics = None
    if statistics is not None and not args.skip_tests:
        warm.tests()  # imports, not timed
    print(f"pairs={args.pairs} symbols={args.symbols} days={args.days} model={args.model} "
          f"estimation=(-250,-11) windows={windows} chunk_size={args.chunk_size} repeat={args.repeat}")
    print(f"panel build (synthetic data, not timed below): {t_build:.2f} s, peak RSS {rss_data:.0f} MB")
    runs = []
    for run in range(1, args.repeat + 1):
        res = None  # (the previous run's results are freed first)
        t0, c0 = time.perf_counter(), time.process_time()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            res = study.fit(ef)
        t_fit, c_fit = time.perf_counter() - t0, time.process_time() - c0
        line = f"run {run}: estimation {t_fit:.2f} s ({c_fit:.2f} s CPU, {res.n_pairs} pairs estimated)"
        t_par = t_all = float("nan")
        if statistics is not None and not args.skip_tests:
            t0, c0 = time.perf_counter(), time.process_time()
            statistics.run_tests(res.arrays, windows, statistics.PARAMETRIC)
            t_par, c_par = time.perf_counter() - t0, time.process_time() - c0
            t0, c0 = time.perf_counter(), time.process_time()
            res.tests()
            t_all, c_all = time.perf_counter() - t0, time.process_time() - c0
            line += (f"; {len(statistics.PARAMETRIC)} parametric tests {t_par:.2f} s ({c_par:.2f} s CPU)"
                     f" -> estimation + parametric {t_fit + t_par:.2f} s"
                     f"; all {len(statistics.available_tests())} tests + BHAR skewness-adjusted t"
                     f" {t_all:.2f} s ({c_all:.2f} s CPU) -> estimation + all tests {t_fit + t_all:.2f} s")
        print(line + f"; peak RSS so far {peak_rss_mb():.0f} MB", flush=True)
        runs.append((t_fit, t_fit + t_par, t_fit + t_all))
    first, best = runs[0], [min(r[k] for r in runs) for k in range(3)]

    def figures(r: tuple[float, float, float] | list[float]) -> str:
        text = f"estimation {r[0]:.2f} s"
        if statistics is not None and not args.skip_tests:
            text += f", + parametric {r[1]:.2f} s, + all tests {r[2]:.2f} s"
        return text

    print(f"first run (fresh process: includes the first touch of the memory): {figures(first)}")
    print(f"best of {len(runs)}: {figures(best)}")
    print(f"peak RSS of the process: {peak_rss_mb():.0f} MB")


if __name__ == "__main__":
    main()
