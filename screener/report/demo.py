"""A synthetic :class:`ReportData` for previews, examples and tests.

The numbers are made up (seeded random draws with a planted event effect); nothing here is
market data. Useful to look at the layout without running the pipeline::

    from screener.report.demo import demo_report
    from screener.report import write_report
    write_report(demo_report(), "/tmp/semiscreen-demo")
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from screener.report.model import EventSection, ReportData, car_column

__all__ = ["demo_report", "DEMO_WINDOWS", "DEMO_TESTS", "DEMO_THEMES"]

DEMO_WINDOWS = [(0, 0), (-1, 1), (0, 5)]
DEMO_TESTS = ["bmp", "bmp_kp", "corrado_rank"]
DEMO_THEMES = ["ai-compute", "export-controls", "china-self-sufficiency", "rare-earths"]


def demo_report(n_events: int = 3, n_securities: int = 60, *, seed: int = 0, effect: float = 0.02,
                event_ids: list[str] | None = None, headlines: list[str] | None = None,
                names: dict[str, str] | None = None) -> ReportData:
    """Build a synthetic report.

    Parameters
    ----------
    n_events : int
        Events (ids ``demo-event-1``... unless ``event_ids`` is given).
    n_securities : int
        Securities in the exposure table and screens (``SYM01``...).
    seed : int
        Seed of the random draws (same seed, same report).
    effect : float
        Planted day-0 abnormal return of every event (a fraction).
    event_ids, headlines : list of str, optional
        Override the events' ids and headlines.
    names : dict, optional
        Security names by symbol (default ``Company SYMnn``).

    Returns
    -------
    ReportData
    """
    rng = np.random.default_rng(seed)
    symbols = [f"SYM{i:02d}" for i in range(1, n_securities + 1)]
    names = {s: (names or {}).get(s, f"Company {s}") for s in symbols}
    event_ids = event_ids or [f"demo-event-{i}" for i in range(1, n_events + 1)]
    headlines = headlines or [f"Synthetic announcement number {i}" for i in range(1, len(event_ids) + 1)]
    rel = np.arange(-10, 11)
    events = []
    outcomes = []
    for k, event_id in enumerate(event_ids):
        n = min(5, len(symbols))
        aar = rng.normal(0, 0.004, rel.size) + np.where(rel == 0, effect, 0.0)
        caar = np.cumsum(aar)
        se = 0.006 * np.sqrt(np.arange(1, rel.size + 1))
        path = pd.DataFrame({"rel_day": rel, "caar": caar, "ci_lower": caar - 1.96 * se,
                             "ci_upper": caar + 1.96 * se, "n": n})
        rows = []
        for w in DEMO_WINDOWS:
            for t in DEMO_TESTS:
                rows.append({"window": w, "test": t, "estimate": float(aar[(rel >= w[0]) & (rel <= w[1])].sum()),
                             "statistic": float(rng.normal(2, 1)), "pvalue": float(rng.uniform(0, 0.2)),
                             "n": n, "df": float(n - 1) if t != "corrado_rank" else np.nan})
        firm_syms = symbols[k * n:(k + 1) * n] if (k + 1) * n <= len(symbols) else symbols[:n]
        firms = pd.DataFrame({
            "symbol": firm_syms,
            "name": [names[s] for s in firm_syms],
            "role": ["primary"] + ["peer"] * (len(firm_syms) - 1),
            "expected_sign": [1] * len(firm_syms),
            "event_date": pd.Timestamp("2025-03-03") + pd.to_timedelta(7 * k, unit="D"),
            "outcome": "ok",
        })
        for w in DEMO_WINDOWS:
            firms[car_column(w)] = rng.normal(effect, 0.01, len(firm_syms))
        firms["scar"] = rng.normal(1.5, 1.0, len(firm_syms))
        events.append(EventSection(
            event_id=event_id, headline=headlines[k], announced_at=f"2025-03-{3 + 7 * k:02d}",
            timing="after_close", date_precision="day", document=f"{k:03d}_demo.txt",
            themes=[DEMO_THEMES[k % len(DEMO_THEMES)]], caar_path=path, tests=pd.DataFrame(rows),
            firms=firms, notes="Synthetic event for a layout preview.",
        ))
        outcomes.append({"event_id": event_id, "symbol": symbols[-1 - k], "outcome": "no_data",
                         "note": "no prices around day 0"})
    exposure = pd.DataFrame(
        [{"symbol": s, "theme_id": t, "composite": float(rng.normal()), "text_relevance": float(rng.uniform()),
          "text_n": int(rng.integers(0, 20)), "return_beta": float(rng.normal()), "return_n": 252}
         for s in symbols for t in DEMO_THEMES])
    screens = {}
    for t in DEMO_THEMES[:2]:
        sub = exposure[exposure["theme_id"] == t].sort_values("composite", ascending=False).head(20)
        screens[t] = pd.DataFrame({"symbol": sub["symbol"].to_numpy(), "name": [names[s] for s in sub["symbol"]],
                                   "score": sub["composite"].to_numpy()})
    return ReportData(
        title="semiscreen demo report (synthetic numbers)",
        generated_at="2025-12-31T00:00:00+00:00",
        provenance={
            "package_version": "demo",
            "price_source": "synthetic",
            "snapshot_sha256": "0" * 64,
            "parameters": {"model": "market", "estimation": [-250, -11], "windows": [list(w) for w in DEMO_WINDOWS]},
            "seed_checksums": {"events.csv": "1" * 64},
        },
        events=events,
        exposure=exposure,
        screens=screens,
        outcomes=pd.DataFrame(outcomes),
        warnings=["Synthetic data: do not read anything into these numbers."],
        tables={"params": pd.DataFrame({"symbol": symbols[:5], "alpha": rng.normal(0, 1e-4, len(symbols[:5])),
                                        "beta": rng.normal(1, 0.2, len(symbols[:5]))})},
    )
