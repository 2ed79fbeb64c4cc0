"""Side-by-side comparison of semiscreen with the other Python event-study packages.

Correctness on the same data for everyone, then wall time and peak memory for the same job:

(a) the estudy2 reference set (``../shared/data/estudy2``: 7 firms, market model, estimation
    2019-04-01 .. 2020-03-13, event days 2020-03-16 .. 2020-03-20, published table in its
    README);
(b) a synthetic panel with a planted abnormal return (known truth): complete data on NYSE
    sessions 2016-2022, a +2 % abnormal return on day 0 of every pair;
(c) one real seed event of semiscreen's catalog (``nvidia-h20-license-requirement-2025-04``, its
    US securities against ^GSPC, day 0 from ``events.event_firms``, shared prices in
    ``../shared/data/prices``).

Every package runs on its own documented entry point where it can take local data. A package
that is not installed is skipped with the command that installs it. The other packages must
never go into semiscreen's own environment: use a throwaway venv (they pin pandas < 3 and
numpy < 2, which semiscreen also supports)::

    python3 -m venv /tmp/cmpvenv
    /tmp/cmpvenv/bin/pip install -e . eventstudy ffjr-eventstudies event-studies easy-es \\
        event-study-toolkit myeventstudy eventstudysuite
    /tmp/cmpvenv/bin/pip install --no-deps eventstudystatistics clicksql  # pin numpy==1.22.3; undeclared
    /tmp/cmpvenv/bin/python benchmarks/compare_packages.py --skip-speed   # correctness only
    /tmp/cmpvenv/bin/python benchmarks/compare_packages.py --skip-correctness --sizes 100 1000 --repeat 3
    .venv/bin/python benchmarks/compare_packages.py --skip-correctness --packages semiscreen \\
        --sizes 100 1000 10000 100000 --repeat 3        # semiscreen alone, in its own venv

Speed: each (package, size) runs in a fresh child process (``--worker``), so peak RSS is that
package's alone; input building is not timed, imports are done before the clock starts.
See ``docs/comparison.md`` for the results and their explanation.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import resource
import subprocess
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

SHARED = Path(os.environ.get("SEMISCREEN_SHARED", ROOT.parent / "shared"))
ESTUDY2 = SHARED / "data" / "estudy2"
PRICES = SHARED / "data" / "prices"

#: package -> (import name, what to pip install)
PACKAGES: dict[str, tuple[str, str]] = {
    "eventstudy": ("eventstudy", "eventstudy"),
    "ffjr-eventstudies": ("eventstudies", "ffjr-eventstudies"),
    "event-studies": ("event_studies", "event-studies"),
    "easy-es": ("easy_es", "easy-es"),
    "event-study-toolkit": ("event_study_toolkit", "event-study-toolkit"),
    "eventstudystatistics": ("eventstudystatistics", "eventstudystatistics --no-deps"),
    "myeventstudy": ("myeventstudy", "myeventstudy"),
    "EasyEventStudies": ("EasyEventStudies", "easyeventstudies"),
    "EventStudySuite": ("EventStudySuite", "eventstudysuite, then pip install --no-deps clicksql"),
}
#: In the speed workers, adapters call only what the package needs for its own CARs and tests
#: (no extra calls made just to read per-pair numbers out for the correctness tables).
SPEED_ONLY = False
SPEED_PACKAGES = ["semiscreen", "semiscreen-estudy2", "eventstudy", "ffjr-eventstudies",
                  "event-studies", "easy-es", "event-study-toolkit", "EventStudySuite"]


def installed(pkg: str) -> bool:
    return importlib.util.find_spec(PACKAGES[pkg][0]) is not None


def skip_note(pkg: str) -> str:
    return f"{pkg}: not installed, skipped (pip install {PACKAGES[pkg][1]} in a throwaway venv)"


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


# =============================================================================================
# A common problem description: wide returns on one calendar, a market series, event pairs
# =============================================================================================


class Job:
    """Returns (dates x symbols), market returns, pairs (event_id, symbol, event_date) and the
    windows in relative sessions: estimation (e0, e1) and event window (a, b), e1 < a."""

    def __init__(self, returns: pd.DataFrame, market: pd.Series, pairs: pd.DataFrame,
                 estimation: tuple[int, int], event: tuple[int, int]):
        self.returns, self.market, self.pairs = returns, market, pairs.reset_index(drop=True)
        self.estimation, self.event = estimation, event
        self.est_size = estimation[1] - estimation[0] + 1
        self.buffer = event[0] - estimation[1] - 1
        self.L = event[1] - event[0] + 1
        pos = returns.index.get_indexer(pd.to_datetime(self.pairs["event_date"]))
        if (pos < 0).any():
            raise ValueError("every event date must be a row of the returns")
        self.pos = pos
        self.col = returns.columns.get_indexer(self.pairs["symbol"])

    def block(self, i: int) -> tuple[np.ndarray, np.ndarray]:
        """(security, market) returns from the first estimation day to the last event day."""
        p, c = self.pos[i], self.col[i]
        lo, hi = p + self.estimation[0], p + self.event[1] + 1
        return self.returns.iloc[lo:hi, c].to_numpy(), self.market.iloc[lo:hi].to_numpy()


# =============================================================================================
# Adapters: prepare (untimed) and run (timed); each returns per-pair numbers and statistics
# =============================================================================================


def run_semiscreen(job: Job, compat: str | None = None, min_obs: int | None = None):
    from events import EventStudy

    daily = [(t, t) for t in range(job.event[0], job.event[1] + 1)]
    study = EventStudy(job.returns, market=job.market, model="market", estimation=job.estimation,
                       windows=[job.event] + daily, event_window=job.event, compat=compat,
                       min_estimation_obs=min_obs or min(120, job.est_size))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = study.fit(job.pairs)
        tests = res.tests(bhar=False)
    car = res.car[res.car["window"] == f"({job.event[0]}, {job.event[1]})"]
    ar = res.ar.pivot(index=["event_id", "symbol"], columns="rel_day", values="ar")
    per = res.params.merge(car[["event_id", "symbol", "car", "car_sd"]], on=["event_id", "symbol"])
    per = per.set_index(["event_id", "symbol"]).join(ar)
    full = tests[(tests["t1"] == job.event[0]) & (tests["t2"] == job.event[1])]
    stats = dict(zip(full["test"], full["statistic"]))
    stats["caar"] = float(full["estimate"].iloc[0])
    # MacKinlay's J1 from semiscreen's own forecast-error covariance (1'V_i 1 = car_sd**2)
    ok = car["car"].notna()
    stats["J1 (from car_sd)"] = float(car.loc[ok, "car"].mean() / (np.sqrt((car.loc[ok, "car_sd"] ** 2).sum()) / ok.sum()))
    day0 = tests[(tests["t1"] == 0) & (tests["t2"] == 0)]
    stats.update({f"{k}@0": v for k, v in zip(day0["test"], day0["statistic"])})
    return per, stats, res


def _keys(job: Job) -> pd.MultiIndex:
    return pd.MultiIndex.from_frame(job.pairs[["event_id", "symbol"]])


def run_eventstudy(job: Job):
    """eventstudy 0.1a12 (Lemaire): Single per pair on numpy inputs, Multiple for the CAAR."""
    import eventstudy as es
    from eventstudy import models

    singles, rows = [], []
    for i in range(len(job.pairs)):
        y, x = job.block(i)
        s = es.Single(models.market_model, {"security_returns": y, "market_returns": x},
                      event_window=job.event, estimation_size=job.est_size,
                      buffer_size=job.buffer, keep_model=True)
        singles.append(s)
        rows.append([s.model.params[0], s.model.params[1], np.sqrt(s.var_AR[0]), s.CAR[-1], *s.AR])
    agg = es.Multiple(singles)
    per = pd.DataFrame(rows, index=_keys(job),
                       columns=["alpha", "beta", "sigma", "car", *range(job.event[0], job.event[1] + 1)])
    return per, {"caar": float(agg.CAAR[-1]), "t (BW1980-type)": float(agg.tstat[-1]),
                 "t (BW1980-type)@0": float(agg.AAR[-job.event[0]] / np.sqrt(agg.var_AAR[-job.event[0]]))}


def prepare_ffjr(job: Job):
    from eventstudies import SingleEvent

    frame = job.returns.copy()
    frame["MKT__"] = job.market
    frame.index.name = "date"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        SingleEvent.import_returns(dataframe=frame)   # zero-fills missing returns (package behaviour)
    return job


def run_ffjr(job: Job):
    """ffjr-eventstudies 0.2.0 (fork of eventstudy): class-level returns, MarketModel, MultipleEvents."""
    from eventstudies import MultipleEvents, SingleEvent

    singles, rows = [], []
    for i, r in job.pairs.iterrows():
        s = SingleEvent.MarketModel(ticker=r["symbol"], mkt_idx="MKT__",
                                    event_date=np.datetime64(pd.Timestamp(r["event_date"]).date()),
                                    event_window=job.event, est_size=job.est_size,
                                    buffer_size=job.buffer)
        singles.append(s)
        rows.append([s.model.params[0], s.model.params[1], np.sqrt(s.var_AR[0]), s.CAR[-1], *s.AR])
    agg = MultipleEvents(singles)
    per = pd.DataFrame(rows, index=_keys(job),
                       columns=["alpha", "beta", "sigma", "car", *range(job.event[0], job.event[1] + 1)])
    return per, {"caar": float(agg.CAAR[-1]), "t (BW1980-type)": float(agg.tstat[-1])}


def prepare_event_studies(job: Job):
    """Prices whose log returns are exactly the job's returns (the package takes prices)."""
    dates = job.returns.index
    events = []
    for i in range(len(job.pairs)):
        p, c = job.pos[i], job.col[i]
        lo, hi = p + job.estimation[0], p + job.event[1] + 1
        y = job.returns.iloc[lo:hi, c].to_numpy()
        x = job.market.iloc[lo:hi].to_numpy()
        # a base price on the session before the first return (a day before when there is none);
        # a missing return makes the later prices missing, as a gap in a price series would
        py = np.exp(np.concatenate([[0.0], np.cumsum(y)]))
        px = np.exp(np.concatenate([[0.0], np.cumsum(x)]))
        base = dates[lo - 1] if lo > 0 else dates[lo] - pd.Timedelta(days=1)
        d = pd.DatetimeIndex([base]).append(dates[lo:hi])
        n_est = job.est_size + 1
        n_gap = job.buffer
        events.append({
            "firm": "FIRM", "date_col": "Date", "start": 0, "end": job.L - 1,
            "estimation_data": pd.DataFrame({"Date": d[:n_est], "FIRM": py[:n_est]}),
            "event_data": pd.DataFrame({"Date": d[n_est + n_gap - 1:], "FIRM": py[n_est + n_gap - 1:]}),
            "market": pd.DataFrame({"Date": d, "MKT": px}),
        })
    return events


def run_event_studies(job: Job, events):
    """event-studies 0.1.4: MarketModel with the full forecast-error covariance; J1, J2, rank, sign."""
    from event_studies.models.finance import MarketModel, tests

    rows, aggs = [], []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for ev in events:
            mm = MarketModel(ev["market"], "MKT")
            mm.fit(firm_estimation_data=ev["estimation_data"], price_col="FIRM", date_col="Date")
            agg = mm.abnormal_return_aggregations(ev["start"], ev["end"], firm_event_data=ev["event_data"],
                                                  price_col="FIRM", date_col="Date")
            aggs.append(agg)
            if SPEED_ONLY:
                continue
            ar = mm.abnormal_returns(ev["event_data"], "FIRM", "Date")[:, 0]
            rows.append([mm.ols_.params_[0, 0], mm.ols_.params_[1, 0], np.sqrt(mm.ols_.residuals_variance_),
                         agg["parametric"]["car"], np.sqrt(agg["parametric"]["var_car"]), *ar])
        stats = {"caar": float(np.mean([a["parametric"]["car"] for a in aggs])),
                 "J1": tests.j1(aggs), "J2": tests.j2(aggs), "rank": tests.rank_test(aggs),
                 "generalized sign": tests.generalized_sign_test(aggs)}
    if SPEED_ONLY:
        return None, stats
    per = pd.DataFrame(rows, index=_keys(job),
                       columns=["alpha", "beta", "sigma", "car", "car_sd", *range(job.event[0], job.event[1] + 1)])
    return per, stats


def prepare_easy_es(job: Job):
    long = job.returns.stack(future_stack=True).rename("Ret").reset_index()
    long.columns = ["Date", "ticker", "Ret"]
    # easy-es converts Date with .loc[:, "Date"] = ....dt.date, which pandas >= 2 keeps as
    # datetime64 when the column already is one, and its merge then fails: pass dates as objects
    long["Date"] = long["Date"].dt.date.astype(object)
    long["Volume"] = 1.0
    factors = pd.DataFrame({"Date": job.returns.index.date, "Mkt-RF": job.market.to_numpy(), "RF": 0.0,
                            "SMB": 0.0, "HML": 0.0})
    events = pd.DataFrame({"ticker": job.pairs["symbol"], "event_date": pd.to_datetime(job.pairs["event_date"])})
    return long, factors, events


def run_easy_es(job: Job, long, factors, events):
    """easy-es 0.1.2: EventStudy.run_study (CAPM estimator = market model on Mkt-RF), n_cores=1."""
    from easy_es import EventStudy, calculate_car_stats

    es = EventStudy(estimation_days=job.est_size, gap_days=job.buffer, window_before=-job.event[0],
                    window_after=job.event[1], min_estimation_days=1, estimator_type="capm", n_cores=1)
    es.add_returns(ret_df=long.copy())
    es.add_factors(factors)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        out = es.run_study(events.copy())
        stats_tab = calculate_car_stats(out)
    last = stats_tab.loc[job.event[1]]
    out = out.sort_values(["event_id", "Offset"])
    keys = _keys(job)
    ar = out.pivot(index="event_id", columns="Offset", values="ar")
    car = out.groupby("event_id")["car"].last()
    sigma = out.groupby("event_id")["estimation_std"].first()
    per = pd.DataFrame({"sigma": sigma, "car": car}).join(ar)
    per.index = keys[per.index.to_numpy().astype(int)]
    per = per.reindex(keys)
    return per, {"caar": float(last["mean"]), "t (cross-sectional, normal)": float(last["t_stat"])}


def prepare_toolkit(job: Job):
    rows = []
    for i in range(len(job.pairs)):
        p, c = job.pos[i], job.col[i]
        lo, hi = p + job.estimation[0], p + job.event[1] + 1
        rows.append(pd.DataFrame({"date": job.returns.index[lo:hi], "pid": i,
                                  "ret_dlst_adj": job.returns.iloc[lo:hi, c].to_numpy(),
                                  "vwretd": job.market.iloc[lo:hi].to_numpy()}))
    data = pd.concat(rows, ignore_index=True)
    events = pd.DataFrame({"pid": np.arange(len(job.pairs)), "EVT_DATE": pd.to_datetime(job.pairs["event_date"]),
                           "GRP": 1})
    return data, events


def run_toolkit(job: Job, data, events):
    """event-study-toolkit 1.0.0: NYSE calendar windows, statsmodels formula OLS per security."""
    from event_study_toolkit.eventstudy import eventstudy

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        st = eventstudy(estperiod=job.est_size, gap=job.buffer, start=job.event[0], end=job.event[1],
                        data=data, events=events, unique_id="pid", calType="NYSE", groups=["GRP"])
        stats = st.getFullSampleTestStatistic("market").iloc[0]   # computes the CARs itself
        if SPEED_ONLY:
            return None, {"caar": float(stats["car_mean"])}
        cars = st.getCARS("market")
        fit = st.runModel("market")
    cars = cars.set_index("pid").sort_index()
    keys = _keys(job)
    per = pd.DataFrame({"alpha": fit["Intercept"], "beta": fit["vwretd"],
                        "sigma": cars["sigma"], "car": cars["car"]})
    per.index = keys[per.index.to_numpy()]
    per = per.reindex(keys)
    return per, {"caar": float(stats["car_mean"]), "t (cross-sectional)": float(stats["car_t"]),
                 "Patell (no FE corr.)": float(stats["tpatell"]), "BMP (no FE corr.)": float(stats["scar_t"]),
                 "sign": float(stats["tsign"]), "generalized sign": float(stats["gen_z"])}


def run_easyeventstudies(job: Job):
    """EasyEventStudies 2.0: its entry point downloads from Yahoo; its estimation functions
    (Campbell, Lo and MacKinlay 1997) are called here on the job's matrices, pair by pair.
    Pairs with a missing return are skipped (its OLS has no missing-data handling)."""
    from EasyEventStudies import easy_event_studies as ees

    keys = _keys(job)
    rows = {}
    n_est = job.est_size
    for i in range(len(job.pairs)):
        y, x = job.block(i)
        if not np.isfinite(y).all():
            continue
        X = np.column_stack([np.ones(n_est), x[:n_est]])
        X_star = np.column_stack([np.ones(job.L), x[-job.L:]])
        model, s2 = ees.estimate_return_model(X, y[:n_est], "market_model")
        _, ar = ees.estimate_normal_abnormal_returns(model, X_star, y[-job.L:])
        var = ees.estimate_variance_of_abnormal_returns(X, y[:n_est], X_star, y[-job.L:], s2)
        car = ees.calculate_cumulative_abnormal_returns(ar, job.L - 1)
        var_car = ees.calculate_variance_of_cumulative_abnormal_returns(var)
        rows[keys[i]] = [model.params[0], model.params[1], np.sqrt(s2), car, np.sqrt(var_car), *ar]
    per = pd.DataFrame.from_dict(rows, orient="index",
                                 columns=["alpha", "beta", "sigma", "car", "car_sd", *range(job.event[0], job.event[1] + 1)])
    per.index = pd.MultiIndex.from_tuples(per.index)
    return per.reindex(keys), {"pairs used": len(rows), "caar": float(per["car"].mean())}


def prepare_suite(job: Job):
    """EventStudySuite returns NaN (None) for a pair with any missing estimation return, and its
    statistics then fail on the object column: keep complete pairs only (reported)."""
    complete = [i for i in range(len(job.pairs)) if np.isfinite(job.block(i)[0]).all()]
    frame = job.returns.copy()
    frame["Mkt_RF"] = job.market
    frame = frame.reset_index(names="Date")
    frame["Date"] = frame["Date"].dt.strftime("%Y-%m-%d")
    events: dict[str, list[str]] = {}
    for i in complete:
        r = job.pairs.iloc[i]
        events.setdefault(r["symbol"], []).append(pd.Timestamp(r["event_date"]).strftime("%Y-%m-%d"))
    return frame, events, complete


def run_suite(job: Job, frame, events, complete):
    """EventStudySuite 0.1.3.1: EventStudy(model=MarketModel) over a wide frame, AAR t test."""
    from EventStudySuite.core.es_base import EventStudy
    from EventStudySuite.model.MarketModel import MarketModel

    info = (job.est_size - 1, job.L - 1, -job.event[0], job.buffer + 1)  # before, window, post, gap
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        es = EventStudy(model=MarketModel, event_info=info)
        result = es(frame.copy(), event_dict=events, date="Date", factors=["Mkt_RF"], event_info=info)
        resid = es.residual
    stats = {"pairs used": len(complete), "caar": float(result["car"].iloc[-1]),
             "t (AAR var. over the event window)": float(result["t_stats"].iloc[-1])}
    if SPEED_ONLY:
        return None, stats
    keys = _keys(job)
    # its residual columns are unnamed, in the order of its task loop: dates in first-seen
    # order of its event dict, securities within a date in dict order
    by_date: dict[str, list[str]] = {}
    for name, day in es.event_dict.items():
        by_date.setdefault(day, []).append(name)
    order = [name for names in by_date.values() for name in names]
    where = {f"{job.pairs.iloc[i]['symbol']}_{pd.Timestamp(job.pairs.iloc[i]['event_date']).strftime('%Y%m%d')}": i
             for i in complete}
    rows = {}
    for j, name in enumerate(order):
        ar = resid.iloc[:, j].to_numpy(dtype=float)
        rows[keys[where[name]]] = [ar.sum(), *ar]
    per = pd.DataFrame.from_dict(rows, orient="index", columns=["car", *range(job.event[0], job.event[1] + 1)])
    per.index = pd.MultiIndex.from_tuples(per.index)
    return per.reindex(keys), stats


def run_eventstudystatistics(job: Job, semi_res):
    """eventstudystatistics 1.0.0: adjusted BMP (Kolari-Pynnonen) and GRANK on semiscreen's ARs."""
    from eventstudystatistics import statistical_tests as est

    a = semi_res.arrays
    L = a.evt_ar.shape[1]
    ok = np.isfinite(a.evt_ar).all(axis=1)
    mkt = job.market.to_numpy()
    m_est = np.full(a.est_ar.shape, np.nan)
    m_evt = np.full(a.evt_ar.shape, np.nan)
    days = job.returns.index.to_numpy().astype("datetime64[D]").astype(np.int64)
    pos = {d: k for k, d in enumerate(days)}
    for i in range(a.n_pairs):
        for j, d in enumerate(a.est_day[i]):
            if d >= 0 and np.isfinite(a.est_ar[i, j]):
                m_est[i, j] = mkt[pos[d]]
        for j, d in enumerate(a.evt_day[i]):
            if d >= 0:
                m_evt[i, j] = mkt[pos[d]]
    AR, eps = a.evt_ar[ok], a.est_ar[ok]
    me, mv = m_est[ok], m_evt[ok]
    out = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        out["adjBMP (full window)"] = float(est.adjBMP(AR, eps, me, mv, [0, L - 1]).statistic)
        out["BMP, no adj. (full window)"] = float(est.adjBMP(AR, eps, me, mv, [0, L - 1], adjustment=False).statistic)
        t0 = -job.event[0]
        out["BMP, no adj.@0"] = float(est.adjBMP_daily(AR, eps, me, mv, t0, adjustment=False).statistic)
        try:
            out["GRANK (full window)"] = float(est.grank(AR, eps, me, mv, [0, L - 1]).statistic)
        except Exception as exc:  # noqa: BLE001 - report the package's failure, do not hide it
            out["GRANK (full window)"] = f"error: {type(exc).__name__}: {exc}"[:80]
    return out


# =============================================================================================
# Data sets
# =============================================================================================


def estudy2_job() -> Job:
    rates = pd.read_csv(ESTUDY2 / "rates.csv", index_col="date", parse_dates=True)
    market = pd.read_csv(ESTUDY2 / "rates_indx.csv", index_col="date", parse_dates=True).iloc[:, 0]
    firms = ["AMZN", "ZM", "UBER", "NFLX", "SHOP", "FB", "UPWK"]
    pairs = pd.DataFrame({"event_id": "covid", "symbol": firms, "event_date": pd.Timestamp("2020-03-16")})
    return Job(rates[firms], market, pairs, estimation=(-240, -1), event=(0, 4))


def nyse_sessions(start: str, end: str) -> pd.DatetimeIndex:
    import exchange_calendars as xcals

    return pd.DatetimeIndex(xcals.get_calendar("XNYS").sessions_in_range(start, end)).tz_localize(None)


def synthetic_job(n_pairs: int, n_firms: int | None = None, seed: int = 7, effect: float = 0.02) -> Job:
    """Market model plus noise on NYSE sessions 2016-2022, +``effect`` planted on day 0."""
    rng = np.random.default_rng(seed)
    dates = nyse_sessions("2016-01-04", "2022-12-30")
    n_firms = n_firms or max(1, min(2000, n_pairs // 5))
    T = len(dates)
    market = pd.Series(rng.normal(0.0004, 0.011, T), index=dates)
    alpha = rng.normal(0.0002, 0.0005, n_firms)
    beta = rng.uniform(0.5, 1.6, n_firms)
    sd = rng.uniform(0.01, 0.03, n_firms)
    R = alpha + np.outer(market.to_numpy(), beta) + rng.standard_normal((T, n_firms)) * sd
    firm = rng.integers(0, n_firms, n_pairs)
    day = rng.integers(260, T - 10, n_pairs)
    # one event per (firm, day): distinct pairs; overlapping windows of one firm are allowed
    pairs = pd.DataFrame({"event_id": [f"ev{i:06d}" for i in range(n_pairs)],
                          "symbol": [f"F{j:05d}" for j in firm], "event_date": dates[day]})
    R[day, firm] += effect
    returns = pd.DataFrame(R, index=dates, columns=[f"F{j:05d}" for j in range(n_firms)])
    return Job(returns, market, pairs, estimation=(-252, -3), event=(-2, 2))


SEED_EVENT = "nvidia-h20-license-requirement-2025-04"


def seed_event_job(event_id: str = SEED_EVENT) -> Job:
    """One catalog event, its US securities against ^GSPC; day 0 from ``events.event_firms``."""
    import events
    import screener

    ef = events.event_firms(events.load_catalog(), events.load_event_securities(), screener.load_universe(),
                            event_ids=event_id)
    ef = ef[ef["exchange"].isin(["XNAS", "XNYS", "ARCX", "BATS"])]
    ef = ef[[(PRICES / f"{s}.csv").exists() for s in ef["symbol"]]]

    def ret(sym: str) -> pd.Series:
        p = pd.read_csv(PRICES / f"{sym}.csv", index_col="date", parse_dates=True)["adj_close"]
        return p.pct_change().iloc[1:]

    returns = pd.DataFrame({s: ret(s) for s in ef["symbol"]})
    market = ret("^GSPC")
    idx = returns.index.intersection(market.index)
    pairs = ef[["event_id", "symbol", "event_date"]]
    return Job(returns.loc[idx], market.loc[idx], pairs, estimation=(-250, -11), event=(-1, 1))


# =============================================================================================
# Correctness report
# =============================================================================================


def fmt(v) -> str:
    if isinstance(v, str):
        return v
    if v is None or (isinstance(v, float) and not np.isfinite(v)):
        return "nan"
    return f"{v:.6g}"


def max_abs_diff(a: pd.Series, b: pd.Series) -> str:
    d = (a.astype(float) - b.astype(float)).abs()
    n_nan = int(d.isna().sum())
    txt = f"{d.max():.2e}" if d.notna().any() else "n/a"
    return txt + (f" ({n_nan} NaN)" if n_nan else "")


def compare_per_pair(name: str, per: pd.DataFrame, ref: pd.DataFrame, cols: list) -> str:
    parts = []
    for c in cols:
        if c in per.columns and c in ref.columns:
            parts.append(f"{c} {max_abs_diff(per[c], ref[c].reindex(per.index))}")
    return f"  {name:<22} max |diff| vs semiscreen: " + ", ".join(parts)


def correctness(dataset: str, job: Job, truth: float | None = None) -> None:
    print(f"\n=== correctness: {dataset} ({len(job.pairs)} pairs, estimation {job.estimation}, "
          f"event window {job.event}) ===")
    text, stats_text, res_text = run_semiscreen(job)
    compat, stats_compat, _ = run_semiscreen(job, compat="estudy2")
    day_cols = list(range(job.event[0], job.event[1] + 1))
    cols = ["alpha", "beta", "sigma", "car", "car_sd", *day_cols]
    results: dict[str, tuple[pd.DataFrame, dict]] = {}
    runners = {
        "eventstudy": lambda: run_eventstudy(job),
        "ffjr-eventstudies": lambda: run_ffjr(prepare_ffjr(job)),
        "event-studies": lambda: run_event_studies(job, prepare_event_studies(job)),
        "easy-es": lambda: run_easy_es(job, *prepare_easy_es(job)),
        "event-study-toolkit": lambda: run_toolkit(job, *prepare_toolkit(job)),
        "EventStudySuite": lambda: run_suite(job, *prepare_suite(job)),
        "EasyEventStudies": lambda: run_easyeventstudies(job),
    }
    for pkg, fn in runners.items():
        if not installed(pkg):
            print("  " + skip_note(pkg))
            continue
        if pkg == "event-study-toolkit" and job.returns.index[-1] > pd.Timestamp("2023-07-10"):
            print(f"  {pkg}: skipped, its NYSE calendar is hard-coded to end on 2023-07-10")
            continue
        try:
            results[pkg] = fn()
        except Exception as exc:  # noqa: BLE001 - a failing package is a result, reported as such
            print(f"  {pkg}: FAILED on this data: {type(exc).__name__}: {str(exc)[:160]}")
    # per-pair numbers for the first pairs
    show = text.index[: min(7, len(text))]
    print("  per pair (first pairs): alpha / beta / sigma / CAR over the event window")
    header = f"  {'pair':<28}" + "".join(f"{n:>22}" for n in ["semiscreen", "semiscreen estudy2", *results])
    print(header)
    for key in show:
        for c in ["alpha", "beta", "sigma", "car"]:
            vals = [text.at[key, c], compat.at[key, c]]
            for pkg, (per, _) in results.items():
                vals.append(per.at[key, c] if c in per.columns and key in per.index else float("nan"))
            label = f"{key[1]} {c}"
            print(f"  {label:<28}" + "".join(f"{fmt(v):>22}" for v in vals))
    print("  agreement over all pairs (alpha, beta, sigma, CAR, ARs by relative day):")
    print(compare_per_pair("semiscreen estudy2", compat, text, cols))
    for pkg, (per, _) in results.items():
        print(compare_per_pair(pkg, per, text, cols))
    print("  sigma ratio to semiscreen textbook (divisor M-2):")
    for pkg, (per, _) in [("semiscreen estudy2", (compat, None)), *results.items()]:
        if "sigma" not in per.columns:
            continue
        r = (per["sigma"] / text["sigma"].reindex(per.index)).dropna()
        if len(r):
            print(f"    {pkg:<22} median {r.median():.6f}  min {r.min():.6f}  max {r.max():.6f}")
    print(f"  statistics for the window {job.event} (and day 0 where marked @0):")
    print(f"    {'semiscreen':<22} CAAR {fmt(stats_text['caar'])}; " + ", ".join(
        f"{k} {fmt(v)}" for k, v in stats_text.items() if k != "caar" and "@" not in k))
    print(f"    {'semiscreen estudy2':<22} " + ", ".join(
        f"{k} {fmt(v)}" for k, v in stats_compat.items() if k in ("brown_warner_1980", "patell", "bmp", "lamb")))
    for pkg, (_, st) in results.items():
        print(f"    {pkg:<22} " + ", ".join(f"{k} {fmt(v)}" for k, v in st.items()))
    if installed("eventstudystatistics"):
        try:
            st = run_eventstudystatistics(job, res_text)
            print(f"    {'eventstudystatistics':<22} (on semiscreen's textbook ARs) " +
                  ", ".join(f"{k} {fmt(v)}" for k, v in st.items()))
            print(f"    {'semiscreen (same)':<22} bmp_kp {fmt(stats_text['bmp_kp'])}, bmp {fmt(stats_text['bmp'])}, "
                  f"bmp@0 {fmt(stats_text['bmp@0'])}, grank {fmt(stats_text['grank'])}")
        except Exception as exc:  # noqa: BLE001
            print(f"    eventstudystatistics: FAILED: {type(exc).__name__}: {str(exc)[:160]}")
    else:
        print("  " + skip_note("eventstudystatistics"))
    if truth is not None:
        print(f"  planted CAAR over the window: {truth:.6g} (every pair +{truth:.2%} on day 0)")


def myeventstudy_on_estudy2() -> None:
    """myeventstudy takes one long frame and writes Excel files; run it once on the estudy2 set."""
    if not installed("myeventstudy"):
        print("  " + skip_note("myeventstudy"))
        return
    import tempfile

    from myeventstudy import event_analysis

    job = estudy2_job()
    long = job.returns.stack().rename("sreturn").reset_index()
    long.columns = ["date", "stockid", "sreturn"]
    long["mreturn"] = long["date"].map(job.market)
    long["eventdate"] = pd.Timestamp("2020-03-16")
    with tempfile.TemporaryDirectory() as tmp, warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            event_analysis.event_study(df_eventstudy=long, event_window_list=[(0, 4)], est_window=(-240, -1),
                                       predict_model="market", save_path=tmp)
            files = sorted(os.listdir(tmp))
            out = pd.read_excel(Path(tmp) / files[0]) if files else None
            print(f"  myeventstudy on estudy2: wrote {files}; result:\n{out}")
        except Exception as exc:  # noqa: BLE001
            print(f"  myeventstudy: FAILED on estudy2: {type(exc).__name__}: {str(exc)[:200]}")


# =============================================================================================
# Speed (one child process per package and size)
# =============================================================================================


def worker(pkg: str, n_pairs: int) -> dict:
    import gc

    global SPEED_ONLY
    SPEED_ONLY = True
    job = synthetic_job(n_pairs)
    # import the package and build its inputs before the clock starts
    if pkg.startswith("semiscreen"):
        import events  # noqa: F401
        compat = "estudy2" if pkg.endswith("estudy2") else None
        def go():
            return run_semiscreen(job, compat=compat)
    elif pkg == "eventstudy":
        import eventstudy  # noqa: F401
        def go():
            return run_eventstudy(job)
    elif pkg == "ffjr-eventstudies":
        prepare_ffjr(job)
        def go():
            return run_ffjr(job)
    elif pkg == "event-studies":
        import event_studies.models.finance  # noqa: F401
        prepared = prepare_event_studies(job)
        def go():
            return run_event_studies(job, prepared)
    elif pkg == "easy-es":
        import easy_es  # noqa: F401
        prepared = prepare_easy_es(job)
        def go():
            return run_easy_es(job, *prepared)
    elif pkg == "EventStudySuite":
        import EventStudySuite.core.es_base  # noqa: F401
        prepared = prepare_suite(job)
        def go():
            return run_suite(job, *prepared)
    elif pkg == "event-study-toolkit":
        import event_study_toolkit  # noqa: F401
        prepared = prepare_toolkit(job)
        def go():
            return run_toolkit(job, *prepared)
    else:
        raise SystemExit(f"unknown package {pkg}")
    gc.collect()
    rss0 = peak_rss_mb()
    t0 = time.perf_counter()
    per, stats, *_ = go()
    wall = time.perf_counter() - t0
    return {"pkg": pkg, "pairs": n_pairs, "wall_s": wall, "peak_rss_mb": peak_rss_mb(),
            "rss_before_mb": rss0, "caar": stats.get("caar")}


def _one_run(pkg: str, n: int, timeout: float) -> dict | str:
    cmd = [sys.executable, str(Path(__file__).resolve()), "--worker", pkg, "--pairs", str(n)]
    try:
        out = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return "timeout"
    line = out.stdout.strip().splitlines()[-1] if out.stdout.strip() else ""
    if out.returncode or not line.startswith("{"):
        err = (out.stderr.strip().splitlines() or ["?"])[-1]
        return f"FAILED: {err[:120]}"
    return json.loads(line)


def speed(sizes: list[int], timeout: float, packages: list[str], repeat: int = 1) -> None:
    print(f"\n=== speed: market model, estimation (-252, -3), event window (-2, 2), CARs + the package's tests ===")
    print(f"machine: {os.cpu_count()} cores, load average {os.getloadavg()[0]:.2f} "
          f"{os.getloadavg()[1]:.2f} {os.getloadavg()[2]:.2f}; python {sys.version.split()[0]}, "
          f"pandas {pd.__version__}, numpy {np.__version__}")
    print(f"  {'package':<22}{'pairs':>8}{'wall s':>10}{'peak RSS MB':>13}{'RSS before MB':>15}{'CAAR':>10}")
    too_slow: set[str] = set()
    for n in sizes:
        for pkg in packages:
            if not pkg.startswith("semiscreen") and not installed(pkg):
                print(f"  {pkg:<22}{n:>8}  skipped: not installed")
                continue
            if pkg in too_slow:
                print(f"  {pkg:<22}{n:>8}  skipped: timed out at a smaller size")
                continue
            runs = []
            for _ in range(repeat):
                r = _one_run(pkg, n, timeout)
                if not isinstance(r, dict):
                    break
                runs.append(r)
            if not runs:
                if r == "timeout":
                    too_slow.add(pkg)
                    print(f"  {pkg:<22}{n:>8}  > {timeout:.0f} s (timed out)", flush=True)
                else:
                    print(f"  {pkg:<22}{n:>8}  {r}", flush=True)
                continue
            walls = sorted(x["wall_s"] for x in runs)
            spread = f"  ({walls[0]:.2f}-{walls[-1]:.2f} s over {len(runs)} runs)" if len(runs) > 1 else ""
            best = min(runs, key=lambda x: x["wall_s"])
            print(f"  {pkg:<22}{n:>8}{best['wall_s']:>10.2f}{max(x['peak_rss_mb'] for x in runs):>13.0f}"
                  f"{best['rss_before_mb']:>15.0f}{fmt(best['caar']):>10}{spread}", flush=True)


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", type=int, nargs="+", default=[100, 1000, 10000], help="pairs for the speed runs")
    ap.add_argument("--timeout", type=float, default=600.0, help="seconds per (package, size) run")
    ap.add_argument("--packages", nargs="+", default=SPEED_PACKAGES, help="packages in the speed runs")
    ap.add_argument("--repeat", type=int, default=1, help="runs per (package, size); the best wall time is shown")
    ap.add_argument("--skip-speed", action="store_true")
    ap.add_argument("--skip-correctness", action="store_true")
    ap.add_argument("--synthetic-pairs", type=int, default=1000)
    ap.add_argument("--datasets", nargs="+", default=["a", "b", "c"], choices=["a", "b", "c"],
                    help="correctness data sets: a estudy2, b synthetic, c seed event")
    ap.add_argument("--worker", help=argparse.SUPPRESS)
    ap.add_argument("--pairs", type=int, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.worker:
        print(json.dumps(worker(args.worker, args.pairs)))
        return
    print(f"python {sys.executable}; pandas {pd.__version__}, numpy {np.__version__}")
    for pkg in PACKAGES:
        print(f"  {pkg}: " + ("installed" if installed(pkg) else "not installed"))
    if not args.skip_correctness:
        if "a" in args.datasets:
            if ESTUDY2.is_dir():
                correctness("(a) estudy2 reference set", estudy2_job())
                myeventstudy_on_estudy2()
            else:
                print(f"(a) skipped: {ESTUDY2} is absent")
        if "b" in args.datasets:
            correctness("(b) synthetic panel, planted +2 % on day 0", synthetic_job(args.synthetic_pairs, 200),
                        truth=0.02)
        if "c" in args.datasets:
            if PRICES.is_dir():
                correctness(f"(c) seed event {SEED_EVENT} (US securities vs ^GSPC)", seed_event_job())
            else:
                print(f"(c) skipped: {PRICES} is absent")
    if not args.skip_speed:
        speed(args.sizes, args.timeout, args.packages, args.repeat)


if __name__ == "__main__":
    main()
