"""Theme exposure: three measured components per (symbol, theme) and their composite.

1. :func:`text_relevance`: how often a security's aliases and a theme's keywords appear in the
   same sentence (or paragraph) of the source documents, with rare keywords weighing more
   (an idf weight over the text units).
2. :func:`event_response`: the mean sign-adjusted standardised CAR of the security over the
   theme's events.
3. :func:`return_exposure`: the OLS loading of the security's daily returns on a theme factor
   (equal-weighted returns of the theme's core securities, leaving the security itself out),
   controlling for its market benchmark.
4. :func:`composite_exposure`: the components z-scored within each theme and combined with
   configurable weights; every input column stays visible.

Every component reports the N behind it (text units, events, return days). Inputs are plain
pandas objects: wide frames indexed by date with one column per symbol, and the universe /
themes / events tables with the columns documented in ``docs/architecture.md``. Formulas and
defaults are documented in ``docs/screening.md``.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np
import pandas as pd

from screener.errors import DataQualityWarning, InputError
from screener.text import Term, compile_terms, normalize, split_terms, split_units

__all__ = [
    "text_relevance",
    "keyword_weights",
    "event_response",
    "return_exposure",
    "composite_exposure",
    "DEFAULT_WEIGHTS",
    "COMPONENT_COLUMNS",
]

#: Default weights of the composite (renormalised over the components present for a row).
DEFAULT_WEIGHTS: dict[str, float] = {"text": 0.4, "return": 0.4, "event": 0.2}

#: For each component: (column z-scored into the composite, column holding the N behind it).
COMPONENT_COLUMNS: dict[str, tuple[str, str]] = {
    "text": ("text_relevance", "text_n_mentions"),
    "event": ("event_mean_scar", "event_n"),
    "return": ("return_beta", "return_n"),
}

_KEYS = ["symbol", "theme_id"]


# --------------------------------------------------------------------------- helpers


def _require_columns(frame: Any, columns: Iterable[str], what: str, *, any_of: Iterable[str] = ()) -> pd.DataFrame:
    if not isinstance(frame, pd.DataFrame):
        raise InputError(f"{what} must be a DataFrame, got {type(frame).__name__}")
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise InputError(
            f"{what} is missing column{'s' if len(missing) > 1 else ''} {', '.join(map(repr, missing))} "
            f"(has: {', '.join(map(str, frame.columns))})"
        )
    any_of = list(any_of)
    if any_of and not any(c in frame.columns for c in any_of):
        raise InputError(f"{what} needs at least one of the columns {', '.join(map(repr, any_of))}")
    return frame


def _unique_ids(frame: pd.DataFrame, column: str, what: str) -> list[str]:
    ids = [str(v).strip() for v in frame[column]]
    seen: set[str] = set()
    for row, v in enumerate(ids):
        if not v or v.lower() == "nan":
            raise InputError(f"{what}, row {row}: empty {column!r}")
        if v in seen:
            raise InputError(f"{what}, row {row}: duplicated {column} {v!r}")
        seen.add(v)
    return ids


def _cells(frame: pd.DataFrame, columns: Iterable[str], row: int) -> list[str]:
    out: list[str] = []
    for c in columns:
        if c in frame.columns:
            out.extend(split_terms(frame[c].iloc[row]))
    return out


# --------------------------------------------------------------------------- 1. text


def _units_of(documents: Mapping[str, str], unit: str) -> tuple[list[str], list[int], list[str]]:
    if not isinstance(documents, Mapping):
        raise InputError(f"documents must be a mapping of document name to text, got {type(documents).__name__}")
    names = sorted(documents)
    units: list[str] = []
    owner: list[int] = []
    for d, name in enumerate(names):
        text = documents[name]
        if not isinstance(text, str):
            raise InputError(f"document {name!r}: text must be a str, got {type(text).__name__}")
        for u in split_units(text, unit):
            units.append(normalize(u))
            owner.append(d)
    return names, owner, units


def _match_matrix(term_lists: list[list[Term]], units: list[str]) -> np.ndarray:
    """Boolean (len(term_lists), len(units)): does any term of list i occur in unit j."""
    out = np.zeros((len(term_lists), len(units)), dtype=bool)
    for i, terms in enumerate(term_lists):
        if not terms:
            continue
        for j, u in enumerate(units):
            out[i, j] = any(t.pattern.search(u) for t in terms)
    return out


def _idf(n_units: int, df: np.ndarray) -> np.ndarray:
    return np.log((1.0 + n_units) / (1.0 + df)) + 1.0


def _theme_keywords(themes: pd.DataFrame) -> tuple[list[str], list[list[Term]]]:
    _require_columns(themes, ["theme_id"], "themes", any_of=["keywords_en", "keywords_zh"])
    ids = _unique_ids(themes, "theme_id", "themes")
    return ids, [compile_terms(_cells(themes, ["keywords_en", "keywords_zh"], i)) for i in range(len(themes))]


def keyword_weights(documents: Mapping[str, str], themes: pd.DataFrame, *, unit: str = "sentence") -> pd.DataFrame:
    """The idf weight of every theme keyword over the documents' text units.

    ``idf(k) = ln((1 + U) / (1 + U_k)) + 1`` with ``U`` the number of units and ``U_k`` the
    number of units containing keyword ``k`` (smoothed, always >= 1 for a keyword that occurs).

    Returns
    -------
    DataFrame
        Columns ``theme_id, keyword, n_units`` (units containing it) and ``idf``.
    """
    _, _, units = _units_of(documents, unit)
    ids, kw = _theme_keywords(themes)
    flat = [[t] for terms in kw for t in terms]
    hits = _match_matrix(flat, units).sum(axis=1)
    rows = []
    i = 0
    for tid, terms in zip(ids, kw):
        for t in terms:
            rows.append({"theme_id": tid, "keyword": t.text, "n_units": int(hits[i]),
                         "idf": float(_idf(len(units), hits[i]))})
            i += 1
    return pd.DataFrame(rows, columns=["theme_id", "keyword", "n_units", "idf"])


def text_relevance(
    documents: Mapping[str, str],
    universe: pd.DataFrame,
    themes: pd.DataFrame,
    *,
    unit: str = "sentence",
    include_names: bool = True,
) -> pd.DataFrame:
    """Co-mention of each security's aliases with each theme's keywords in the documents.

    Every document is split into units (sentences or paragraphs, :mod:`screener.text`), pooled
    over all documents (``U`` units). A security is *mentioned* in a unit when any of its
    aliases (``aliases_en``, ``aliases_zh`` and, with ``include_names``, ``name`` and
    ``name_zh``) occurs in it. Every keyword ``k`` of the themes gets
    ``idf(k) = ln((1 + U) / (1 + U_k)) + 1`` (``U_k``: units containing ``k``). For a unit ``u``
    and theme ``t``, ``w_t(u)`` is the sum of ``idf(k)`` over the distinct keywords of ``t``
    found in ``u``. Then, per (symbol, theme):

    - ``text_n_mentions``: units mentioning the security (the N behind the component);
    - ``text_n_comentions``: of those, units with at least one keyword of the theme;
    - ``text_idf_sum``: sum of ``w_t(u)`` over the units mentioning the security;
    - ``text_relevance = ln(1 + text_idf_sum)`` (the value the composite uses; the log keeps
      one heavily covered company from dominating a theme);
    - ``text_share = text_n_comentions / text_n_mentions``;
    - ``text_n_documents`` and ``text_documents``: the documents (``;``-joined, sorted) with at
      least one co-mention.

    A security with no alias or a theme with no keyword has ``NaN`` relevance (not measured);
    a security with aliases that is never mentioned has relevance 0 and N 0.

    Parameters
    ----------
    documents : Mapping[str, str]
        Document name -> text. English and Chinese may be mixed; every alias and keyword is
        searched in every document.
    universe : DataFrame
        Columns ``symbol`` and ``aliases_en`` and/or ``aliases_zh`` (``;``-separated);
        ``name`` and ``name_zh`` are used when present and ``include_names`` is set.
    themes : DataFrame
        Columns ``theme_id`` and ``keywords_en`` and/or ``keywords_zh`` (``;``-separated).
    unit : {"sentence", "paragraph"}
        The text unit within which a co-mention counts.
    include_names : bool
        Also match the ``name`` / ``name_zh`` columns as aliases.

    Returns
    -------
    DataFrame
        One row per (symbol, theme), columns ``symbol, theme_id, text_n_mentions,
        text_n_comentions, text_idf_sum, text_relevance, text_share, text_n_documents,
        text_documents``. ``attrs`` holds ``unit``, ``n_units`` and ``n_documents``.

    Raises
    ------
    InputError
        Unknown ``unit``, missing columns, duplicated symbols or theme ids, a non-text document.
    """
    names, owner, units = _units_of(documents, unit)
    _require_columns(universe, ["symbol"], "universe", any_of=["aliases_en", "aliases_zh"])
    symbols = _unique_ids(universe, "symbol", "universe")
    alias_cols = ["aliases_en", "aliases_zh"] + (["name", "name_zh"] if include_names else [])
    aliases = [compile_terms(_cells(universe, alias_cols, i)) for i in range(len(universe))]
    theme_ids, kw = _theme_keywords(themes)

    n_units = len(units)
    mention = _match_matrix(aliases, units)  # (S, U)
    flat = [[t] for terms in kw for t in terms]
    kw_hits = _match_matrix(flat, units)  # (K, U)
    idf = _idf(n_units, kw_hits.sum(axis=1))
    weight = np.zeros((len(theme_ids), n_units))  # (T, U)
    i = 0
    for ti, terms in enumerate(kw):
        for _ in terms:
            weight[ti] += idf[i] * kw_hits[i]
            i += 1
    on_theme = weight > 0
    m = mention.astype(float)
    n_mentions = mention.sum(axis=1)  # (S,)
    n_co = m @ on_theme.T.astype(float)  # (S, T)
    idf_sum = m @ weight.T  # (S, T)
    owner_arr = np.asarray(owner, dtype=int)
    per_doc = np.stack(
        [m[:, owner_arr == d] @ on_theme[:, owner_arr == d].T.astype(float) for d in range(len(names))]
    ) if names and n_units else np.zeros((0, len(symbols), len(theme_ids)))  # (D, S, T)

    rows = []
    for si, sym in enumerate(symbols):
        measured_s = bool(aliases[si])
        for ti, tid in enumerate(theme_ids):
            measured = measured_s and bool(kw[ti])
            docs = [names[d] for d in range(len(names)) if per_doc[d, si, ti] > 0]
            n_m = int(n_mentions[si])
            rows.append({
                "symbol": sym,
                "theme_id": tid,
                "text_n_mentions": n_m,
                "text_n_comentions": int(n_co[si, ti]),
                "text_idf_sum": float(idf_sum[si, ti]) if measured else np.nan,
                "text_relevance": float(np.log1p(idf_sum[si, ti])) if measured else np.nan,
                "text_share": float(n_co[si, ti] / n_m) if measured and n_m else np.nan,
                "text_n_documents": len(docs),
                "text_documents": ";".join(docs),
            })
    out = pd.DataFrame(rows, columns=["symbol", "theme_id", "text_n_mentions", "text_n_comentions", "text_idf_sum",
                                      "text_relevance", "text_share", "text_n_documents", "text_documents"])
    out.attrs.update({"unit": unit, "n_units": n_units, "n_documents": len(names)})
    return out


# --------------------------------------------------------------------------- 2. events


def _event_theme_pairs(events_themes: Any) -> pd.DataFrame:
    """Normalise the events' themes to a long frame ``event_id, theme_id`` (unique pairs)."""
    pairs: list[tuple[str, str]] = []
    if isinstance(events_themes, pd.DataFrame):
        _require_columns(events_themes, ["event_id"], "events_themes", any_of=["theme_id", "themes"])
        col = "theme_id" if "theme_id" in events_themes.columns else "themes"
        for eid, cell in zip(events_themes["event_id"], events_themes[col]):
            pairs.extend((str(eid), t) for t in split_terms(cell))
    elif isinstance(events_themes, Mapping):
        for eid, cell in events_themes.items():
            items = split_terms(cell) if isinstance(cell, str) or cell is None else [str(t).strip() for t in cell]
            pairs.extend((str(eid), t) for t in items if t)
    else:
        raise InputError(
            "events_themes must be a DataFrame (event_id + themes or theme_id) or a mapping "
            f"event_id -> themes, got {type(events_themes).__name__}"
        )
    return pd.DataFrame(pairs, columns=["event_id", "theme_id"]).drop_duplicates(ignore_index=True)


def _same(value: Any, window: Any) -> bool:
    try:
        return bool(value == window)
    except (TypeError, ValueError):  # array-like labels
        return False


def _select_window(frame: pd.DataFrame, window: Any) -> pd.DataFrame:
    if "window" not in frame.columns:
        if window is not None:
            raise InputError(f"window {window!r} was given but scar_frame has no 'window' column")
        return frame
    labels = frame["window"].astype("object")
    available = list(dict.fromkeys(labels.tolist()))
    if window is None:
        if len(available) > 1:
            raise InputError(
                "scar_frame holds several windows; choose one with window= "
                f"(available: {', '.join(map(str, available))})"
            )
        return frame
    mask = np.array([_same(v, window) for v in labels], dtype=bool)
    if not mask.any():
        mask = np.array([str(v) == str(window) for v in labels], dtype=bool)
    if not mask.any():
        raise InputError(f"window {window!r} is not in scar_frame (available: {', '.join(map(str, available))})")
    return frame[mask]


def event_response(
    scar_frame: pd.DataFrame,
    events_themes: pd.DataFrame | Mapping[str, Any],
    *,
    window: Any = None,
    unsigned: str = "exclude",
) -> pd.DataFrame:
    """Mean sign-adjusted standardised CAR per (symbol, theme) over the theme's events.

    For event-firm pair ``i`` with standardised CAR ``SCAR_i`` and expected sign ``s_i``
    (``+1`` the event should help the security, ``-1`` hurt it), the sign-adjusted value is
    ``x_i = s_i * SCAR_i``: positive when the security moved the way the event implies. An
    event tagged with several themes counts for each of them. Per (symbol, theme) over its
    ``n`` events:

    - ``event_mean_scar = mean(x_i)`` (the value the composite uses);
    - ``event_t = mean / (sd / sqrt(n))`` (sample sd, ``ddof=1``; ``NaN`` for ``n < 2``);
    - ``event_z = sum(x_i) / sqrt(n)``: approximately standard normal under no response when
      each SCAR has unit variance (Patell 1976 style; defined for ``n = 1``).

    Unknown signs (``0``, blank, ``NaN``) are never guessed: with ``unsigned="exclude"``
    (default) such pairs are left out and counted in ``event_n_unsigned``; with
    ``unsigned="raw"`` they enter unadjusted (sign ``+1``: a move up counts as exposure) and
    are still counted in ``event_n_unsigned``. Pairs whose SCAR is ``NaN`` are left out and
    counted in ``event_n_missing``.

    Parameters
    ----------
    scar_frame : DataFrame
        Tidy event-firm results: ``event_id, symbol, scar, expected_sign`` and optionally
        ``window`` (then one window is used: ``window=``, required when there are several).
    events_themes : DataFrame or Mapping
        The events' themes: ``event_id`` with ``themes`` (``;``-separated, as in
        ``events.csv``) or ``theme_id`` (long form), or a mapping ``event_id -> themes``.
    window : optional
        The window label to use (matched by equality, then by its string form).
    unsigned : {"exclude", "raw"}
        What to do with pairs whose expected sign is unknown.

    Returns
    -------
    DataFrame
        Columns ``symbol, theme_id, event_n, event_n_unsigned, event_n_missing,
        event_mean_scar, event_sd, event_t, event_z, event_ids``, one row per (symbol, theme)
        with at least one event-firm pair.

    Raises
    ------
    InputError
        Missing columns, an unknown window, a duplicated (event_id, symbol), an expected sign
        other than -1/0/1 (names the row), events that have no themes, a bad ``unsigned``.
    """
    if unsigned not in ("exclude", "raw"):
        raise InputError(f"unsigned must be 'exclude' or 'raw', not {unsigned!r}")
    _require_columns(scar_frame, ["event_id", "symbol", "scar", "expected_sign"], "scar_frame")
    frame = _select_window(scar_frame, window).reset_index(drop=True)
    frame = frame.assign(event_id=frame["event_id"].astype("str"), symbol=frame["symbol"].astype("str"))
    dup = frame.duplicated(["event_id", "symbol"])
    if dup.any():
        r = frame[dup].iloc[0]
        raise InputError(f"scar_frame: event_id {r['event_id']!r}, symbol {r['symbol']!r} appears more than once"
                         + (" in the chosen window" if "window" in frame.columns else ""))
    sign = pd.to_numeric(frame["expected_sign"], errors="coerce")
    bad = frame["expected_sign"].notna() & (sign.isna() | ~sign.isin([-1, 0, 1]))
    blank = frame["expected_sign"].astype("object").map(lambda v: isinstance(v, str) and not v.strip())
    bad &= ~blank
    if bad.any():
        row = int(np.flatnonzero(bad.to_numpy())[0])
        raise InputError(f"scar_frame, row {row}, column 'expected_sign': must be -1, 0 or 1 "
                         f"(value {frame['expected_sign'].iloc[row]!r})")
    scar = pd.to_numeric(frame["scar"], errors="coerce")
    pairs = _event_theme_pairs(events_themes)
    known = set(pairs["event_id"])
    unknown = sorted(set(frame["event_id"]) - known)
    if unknown:
        raise InputError(f"events without themes in events_themes: {', '.join(unknown[:10])}"
                         + (f" (and {len(unknown) - 10} more)" if len(unknown) > 10 else ""))
    work = pd.DataFrame({
        "event_id": frame["event_id"],
        "symbol": frame["symbol"],
        "scar": scar.astype(float),
        "unsigned": (sign.fillna(0) == 0).to_numpy(),
        "sign": sign.fillna(0).astype(float),
    })
    work = work.merge(pairs, on="event_id", how="inner")
    rows = []
    for (sym, tid), g in work.groupby(["symbol", "theme_id"], sort=True):
        missing = g["scar"].isna()
        usable = g[~missing]
        n_unsigned = int(usable["unsigned"].sum())
        if unsigned == "exclude":
            usable = usable[~usable["unsigned"]]
            x = (usable["sign"] * usable["scar"]).to_numpy()
        else:
            x = (usable["sign"].where(~usable["unsigned"], 1.0) * usable["scar"]).to_numpy()
        n = len(x)
        sd = float(np.std(x, ddof=1)) if n >= 2 else np.nan
        mean = float(x.mean()) if n else np.nan
        t = mean / (sd / math.sqrt(n)) if n >= 2 and sd > 0 else np.nan
        rows.append({
            "symbol": sym,
            "theme_id": tid,
            "event_n": n,
            "event_n_unsigned": n_unsigned,
            "event_n_missing": int(missing.sum()),
            "event_mean_scar": mean,
            "event_sd": sd,
            "event_t": t,
            "event_z": float(x.sum() / math.sqrt(n)) if n else np.nan,
            "event_ids": ";".join(sorted(usable["event_id"])),
        })
    return pd.DataFrame(rows, columns=["symbol", "theme_id", "event_n", "event_n_unsigned", "event_n_missing",
                                       "event_mean_scar", "event_sd", "event_t", "event_z", "event_ids"])


# --------------------------------------------------------------------------- 3. returns


def _ols(y: np.ndarray, X: np.ndarray) -> tuple[np.ndarray, np.ndarray, float, np.ndarray] | None:
    """OLS with classical errors: (params, std errors, R^2, covariance); None if rank-deficient."""
    n, k = X.shape
    if n <= k or np.linalg.matrix_rank(X) < k:
        return None
    xtx_inv = np.linalg.inv(X.T @ X)
    params = xtx_inv @ (X.T @ y)
    resid = y - X @ params
    rss = float(resid @ resid)
    s2 = rss / (n - k)
    se = np.sqrt(np.diag(xtx_inv) * s2)
    tss = float(((y - y.mean()) ** 2).sum())
    return params, se, (1.0 - rss / tss if tss > 0 else np.nan), xtx_inv * s2


def _panel(frame: Any, what: str) -> pd.DataFrame:
    if isinstance(frame, pd.Series):
        frame = frame.to_frame(frame.name if frame.name is not None else "benchmark")
    if not isinstance(frame, pd.DataFrame) or not isinstance(frame.index, pd.DatetimeIndex):
        raise InputError(f"{what} must be a DataFrame indexed by date (DatetimeIndex), one column per symbol")
    if frame.index.has_duplicates:
        raise InputError(f"{what} has a duplicated date: {frame.index[frame.index.duplicated()][0].date()}")
    return frame.sort_index().apply(pd.to_numeric, errors="coerce").astype(float)


_RETURN_COLUMNS = ["symbol", "theme_id", "return_beta", "return_se", "return_t", "return_beta_market",
                   "return_t_market", "return_beta_lag", "return_t_lag", "return_beta_total", "return_t_total",
                   "return_r2", "return_n", "return_n_constituents", "return_is_core", "return_benchmark"]


def return_exposure(
    returns: pd.DataFrame,
    themes: pd.DataFrame,
    benchmark_returns: pd.DataFrame | pd.Series,
    benchmarks: Mapping[str, str] | None = None,
    *,
    lookback: int = 252,
    min_obs: int = 60,
    sessions: Mapping[str, Any] | None = None,
    as_of: Any = None,
    symbols: Iterable[str] | None = None,
    factor_lag: bool = False,
) -> pd.DataFrame:
    """Loading of each security on each theme factor, controlling for its market benchmark.

    For security ``s`` and theme ``t`` the theme factor on date ``d`` is the equal-weighted
    mean of the simple returns of the theme's core symbols **other than s** that have a return
    on ``d`` (``NaN`` when none has). Over the last ``lookback`` of the security's own
    sessions up to ``as_of`` (``sessions[s]`` when given, else the dates on which ``s`` has a
    return), dates where the security, the factor or the benchmark return is missing are
    dropped (never filled), leaving ``return_n`` days. If ``return_n >= min_obs``:

        r_s,d = a + b_m * r_benchmark,d + b_t * F_t,d [+ b_lag * F_t,prev(d)] + e_d

    by OLS with classical standard errors (as statsmodels ``OLS().fit()``):
    ``return_beta = b_t`` (the value the composite uses), ``return_t = b_t / se(b_t)``,
    ``return_beta_market = b_m``.

    Time zones: the panel aligns returns by **local session date**. A US factor's day ``d``
    closes after an Asian market's day ``d``, so an Asian stock can only react to it on
    ``d + 1``; a same-date regression then understates the loading of Asian names on US-led
    themes. With ``factor_lag=True`` a lagged factor term ``F_t,prev(d)`` (the factor's last
    value dated strictly before ``d``) is added, as in Dimson (1979): ``return_beta_lag`` is its
    loading and ``return_beta_total = b_t + b_lag`` (with ``return_t_total`` from the full
    covariance) the combined exposure. The lag columns are ``NaN`` without ``factor_lag``.

    Parameters
    ----------
    returns : DataFrame
        Daily simple returns, dates x symbols (``NaN`` where a symbol has none).
    themes : DataFrame
        Columns ``theme_id`` and ``core_symbols`` (``;``-separated).
    benchmark_returns : DataFrame or Series
        Daily simple returns of the benchmarks, dates x benchmark columns.
    benchmarks : Mapping[str, str], optional
        ``{symbol: benchmark column}``; with a Series ``benchmark_returns`` it may be omitted.
    lookback : int
        Sessions in the regression window (252).
    min_obs : int
        Minimum usable days; below it the estimates are ``NaN`` (``return_n`` still shown).
    sessions : Mapping[str, DatetimeIndex], optional
        Each security's own trading sessions.
    as_of : date-like, optional
        Last date used (default: the panel's last date).
    symbols : iterable of str, optional
        Securities to measure; default every column of ``returns`` that has a benchmark.
    factor_lag : bool
        Add the lagged theme factor (see "Time zones").

    Returns
    -------
    DataFrame
        One row per (symbol, theme), columns ``symbol, theme_id, return_beta, return_se,
        return_t, return_beta_market, return_t_market, return_beta_lag, return_t_lag,
        return_beta_total, return_t_total, return_r2, return_n, return_n_constituents``
        (core symbols other than the security that are in ``returns``), ``return_is_core``,
        ``return_benchmark``.

    Raises
    ------
    InputError
        Malformed frames, a symbol not in ``returns``, a symbol without a benchmark, a
        benchmark column that is not in ``benchmark_returns``, ``min_obs`` too small.

    Warns
    -----
    DataQualityWarning
        When core symbols of a theme are not columns of ``returns`` (they are left out).
    """
    returns = _panel(returns, "returns")
    bench = _panel(benchmark_returns, "benchmark_returns")
    if benchmarks is None:
        if bench.shape[1] != 1:
            raise InputError("benchmarks (symbol -> benchmark column) is required when benchmark_returns "
                             "has several columns")
        benchmarks = {s: bench.columns[0] for s in returns.columns}
    # Blank benchmarks (indices in the universe) mean "no benchmark".
    benchmarks = {str(k): v for k, v in dict(benchmarks).items() if split_terms(v)}
    if symbols is None:
        symbols = [s for s in returns.columns if s in benchmarks]
    else:
        symbols = [str(s) for s in symbols]
        for s in symbols:
            if s not in returns.columns:
                raise InputError(f"symbol {s!r} is not a column of returns")
            if s not in benchmarks:
                raise InputError(f"symbol {s!r} has no benchmark in benchmarks")
    for s in symbols:
        if benchmarks[s] not in bench.columns:
            raise InputError(f"benchmark {benchmarks[s]!r} of symbol {s!r} is not a column of benchmark_returns "
                             f"(columns: {', '.join(map(str, bench.columns))})")
    k = 4 if factor_lag else 3
    if min_obs <= k:
        raise InputError(f"min_obs must exceed the number of regression parameters ({k}), got {min_obs}")
    _require_columns(themes, ["theme_id", "core_symbols"], "themes")
    theme_ids = _unique_ids(themes, "theme_id", "themes")
    if as_of is None:
        as_of_ts = returns.index[-1] if len(returns) else pd.NaT
    else:
        try:
            as_of_ts = pd.Timestamp(as_of)
        except (TypeError, ValueError) as exc:
            raise InputError(f"as_of is not a date: {as_of!r}") from exc

    # Per security (numpy, once): its own dates, its returns and its benchmark's on them, and
    # where each date falls in the panel (for the factor and the lagged factor).
    R = returns.to_numpy()
    col = {c: j for j, c in enumerate(returns.columns)}
    per_symbol: dict[str, tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]] = {}
    for s in symbols:
        sess = sessions.get(s) if sessions is not None else None
        if sess is not None:
            own_dates = pd.DatetimeIndex(sess)
            own_dates = (own_dates.tz_localize(None) if own_dates.tz is not None else own_dates).normalize()
            own_dates = own_dates.unique().sort_values()
        else:
            own_dates = returns.index[~np.isnan(R[:, col[s]])]
        own_dates = own_dates[own_dates <= as_of_ts][-lookback:] if not pd.isna(as_of_ts) else own_dates[:0]
        at = returns.index.get_indexer(own_dates)  # row of each own date in the panel, -1 if absent
        y = np.where(at >= 0, R[np.clip(at, 0, None), col[s]], np.nan) if len(R) else np.full(len(at), np.nan)
        m = bench[benchmarks[s]].reindex(own_dates).to_numpy()
        before = returns.index.searchsorted(own_dates, side="left")  # panel rows strictly before each date
        per_symbol[s] = (at, y, m, before)

    rows = []
    for ti, tid in enumerate(theme_ids):
        core_all = split_terms(themes["core_symbols"].iloc[ti])
        core = [c for c in dict.fromkeys(core_all) if c in col]
        absent = [c for c in core_all if c not in col]
        if absent:
            warnings.warn(f"theme {tid!r}: core symbols not in returns, left out of its factor: {', '.join(absent)}",
                          DataQualityWarning, stacklevel=2)
        core_r = R[:, [col[c] for c in core]] if core else np.full((len(R), 0), np.nan)
        total = np.nansum(core_r, axis=1)
        count = (~np.isnan(core_r)).sum(axis=1)
        for s in symbols:
            is_core = s in core
            if is_core:
                own = R[:, col[s]]
                f_sum, f_cnt = total - np.nan_to_num(own), count - (~np.isnan(own)).astype(int)
            else:
                f_sum, f_cnt = total, count
            with np.errstate(invalid="ignore", divide="ignore"):
                factor = np.where(f_cnt > 0, f_sum / np.where(f_cnt > 0, f_cnt, 1), np.nan)
            at, y, m, before = per_symbol[s]
            f = np.where(at >= 0, factor[np.clip(at, 0, None)], np.nan) if len(factor) else np.full(len(at), np.nan)
            columns = [y, m, f]
            if factor_lag:
                # Last factor value dated strictly before each own date.
                last_valid = np.maximum.accumulate(np.where(~np.isnan(factor), np.arange(len(factor)), -1))
                lag_row = np.where(before > 0, last_valid[np.clip(before - 1, 0, None)], -1) if len(factor) else (
                    np.full(len(at), -1))
                columns.append(np.where(lag_row >= 0, factor[np.clip(lag_row, 0, None)], np.nan)
                               if len(factor) else np.full(len(at), np.nan))
            data = np.column_stack(columns) if len(at) else np.empty((0, len(columns)))
            data = data[~np.isnan(data).any(axis=1)]
            row: dict[str, Any] = {c: np.nan for c in _RETURN_COLUMNS}
            row.update({"symbol": s, "theme_id": tid, "return_n": len(data), "return_is_core": is_core,
                        "return_n_constituents": len(core) - int(is_core), "return_benchmark": benchmarks[s]})
            if len(data) >= min_obs:
                X = np.column_stack([np.ones(len(data)), data[:, 1:]])
                fit = _ols(data[:, 0], X)
                if fit is not None:
                    params, se, r2, cov = fit
                    row.update({"return_beta": params[2], "return_se": se[2], "return_t": params[2] / se[2],
                                "return_beta_market": params[1], "return_t_market": params[1] / se[1],
                                "return_r2": r2})
                    if factor_lag:
                        total_b = params[2] + params[3]
                        total_se = math.sqrt(cov[2, 2] + cov[3, 3] + 2 * cov[2, 3])
                        row.update({"return_beta_lag": params[3], "return_t_lag": params[3] / se[3],
                                    "return_beta_total": total_b, "return_t_total": total_b / total_se})
            rows.append(row)
    out = pd.DataFrame(rows, columns=_RETURN_COLUMNS)
    out["return_n"] = out["return_n"].astype("int64")
    out["return_n_constituents"] = out["return_n_constituents"].astype("int64")
    out["return_is_core"] = out["return_is_core"].astype(bool)
    return out


# --------------------------------------------------------------------------- 4. composite


def composite_exposure(
    components: Mapping[str, pd.DataFrame],
    weights: Mapping[str, float] | None = None,
    *,
    value_columns: Mapping[str, str] | None = None,
    missing: str = "reweight",
    min_cross_section: int = 3,
    min_weight: float = 0.0,
) -> pd.DataFrame:
    """Combine exposure components into one score per (symbol, theme), keeping every input.

    Each component's value column (:data:`COMPONENT_COLUMNS`: ``text_relevance``,
    ``event_mean_scar``, ``return_beta``) is standardised **within each theme** over the
    securities that have it: ``z = (x - mean) / sd`` (``ddof=1``), written to ``z_<component>``.
    A theme with fewer than ``min_cross_section`` values gets ``NaN`` z-scores; a theme where
    all values are equal gets z = 0 (no information to rank on). Then

        composite = sum_c w_c z_c / sum_c w_c    over the components c with a z-score,

    i.e. with ``missing="reweight"`` (default) the weights are renormalised over the
    components present for that row, and ``composite_weight`` shows the share of the total
    weight that was present (1.0 = all components); rows with ``composite_weight < min_weight``
    get ``NaN`` (e.g. ``min_weight=0.5`` demands more than the text component alone). With
    ``missing="require"`` a row missing any component gets ``NaN``. ``composite_rank`` is 1 for the highest composite in a theme.

    Parameters
    ----------
    components : Mapping[str, DataFrame]
        Component name -> its frame (with ``symbol`` and ``theme_id``), e.g.
        ``{"text": text_relevance(...), "event": event_response(...), "return":
        return_exposure(...)}``. All columns of every frame are kept in the output.
    weights : Mapping[str, float], optional
        Non-negative weight per component; default :data:`DEFAULT_WEIGHTS` restricted to the
        components given. Components without a weight get 0.
    value_columns : Mapping[str, str], optional
        Override the column z-scored for a component (needed for components not in
        :data:`COMPONENT_COLUMNS`), e.g. ``{"return": "return_t"}``.
    missing : {"reweight", "require"}
        How a row with a missing component is scored.
    min_cross_section : int
        Minimum securities with a value in a theme for its z-scores.
    min_weight : float
        Minimum share of the total weight that must be present for a composite (0 to 1).

    Returns
    -------
    DataFrame
        One row per (symbol, theme) in any component: ``symbol, theme_id``, every component
        column, ``z_<component>`` for each component, ``composite``,
        ``composite_n_components``, ``composite_weight``, ``composite_rank``; sorted by theme
        and rank.

    Raises
    ------
    InputError
        No components, a component without ``symbol``/``theme_id`` or its value column,
        duplicated (symbol, theme) rows, weights for unknown components, negative or all-zero
        weights, a bad ``missing``.
    """
    if not isinstance(components, Mapping) or not components:
        raise InputError("components must be a non-empty mapping of component name -> DataFrame")
    if missing not in ("reweight", "require"):
        raise InputError(f"missing must be 'reweight' or 'require', not {missing!r}")
    if not 0.0 <= min_weight <= 1.0:
        raise InputError(f"min_weight must be between 0 and 1, got {min_weight!r}")
    if min_cross_section < 2:
        raise InputError(f"min_cross_section must be at least 2, got {min_cross_section}")
    names = list(components)
    value_columns = dict(value_columns or {})
    cols: dict[str, str] = {}
    for name in names:
        if name in value_columns:
            cols[name] = value_columns[name]
        elif name in COMPONENT_COLUMNS:
            cols[name] = COMPONENT_COLUMNS[name][0]
        else:
            raise InputError(f"component {name!r} is not one of {', '.join(COMPONENT_COLUMNS)}; "
                             f"give its column with value_columns={{{name!r}: ...}}")
    if weights is None:
        w = {n: DEFAULT_WEIGHTS.get(n, 0.0) for n in names}
    else:
        unknown = [k for k in weights if k not in names]
        if unknown:
            raise InputError(f"weights for components that were not given: {', '.join(map(repr, unknown))} "
                             f"(components: {', '.join(names)})")
        w = {n: float(weights.get(n, 0.0)) for n in names}
    neg = [k for k, v in w.items() if not v >= 0]
    if neg:
        raise InputError(f"weights must be non-negative numbers; bad weight for {', '.join(map(repr, neg))}")
    if sum(w.values()) <= 0:
        raise InputError(f"weights sum to zero for the components given ({', '.join(names)})")

    merged: pd.DataFrame | None = None
    for name in names:
        frame = components[name]
        _require_columns(frame, _KEYS + [cols[name]], f"component {name!r}")
        frame = frame.assign(symbol=frame["symbol"].astype("str"), theme_id=frame["theme_id"].astype("str"))
        dup = frame.duplicated(_KEYS)
        if dup.any():
            r = frame[dup].iloc[0]
            raise InputError(f"component {name!r}: symbol {r['symbol']!r}, theme {r['theme_id']!r} "
                             "appears more than once")
        if merged is None:
            merged = frame.copy()
        else:
            clash = [c for c in frame.columns if c in merged.columns and c not in _KEYS]
            if clash:
                raise InputError(f"component {name!r} repeats columns of another component: {', '.join(clash)}")
            merged = merged.merge(frame, on=_KEYS, how="outer")
    assert merged is not None

    zcols = []
    for name in names:
        x = pd.to_numeric(merged[cols[name]], errors="coerce").astype(float)
        grp = x.groupby(merged["theme_id"])
        mean = grp.transform("mean")
        sd = grp.transform(lambda v: v.std(ddof=1))
        cnt = grp.transform("count")
        z = (x - mean) / sd
        z = z.where(~((sd == 0) & x.notna()), 0.0)
        z = z.where(cnt >= min_cross_section)
        merged[f"z_{name}"] = z
        zcols.append(f"z_{name}")

    Z = merged[zcols].to_numpy(dtype=float)
    W = np.array([w[n] for n in names], dtype=float)
    present = ~np.isnan(Z)
    wp = present * W
    wsum = wp.sum(axis=1)
    comp = np.where(wsum > 0, np.nansum(np.nan_to_num(Z) * W, axis=1) / np.where(wsum > 0, wsum, 1.0), np.nan)
    if missing == "require":
        comp = np.where(present.all(axis=1), comp, np.nan)
    comp = np.where(wsum / W.sum() >= min_weight - 1e-12, comp, np.nan)
    merged["composite"] = comp
    merged["composite_n_components"] = present.sum(axis=1).astype("int64")
    merged["composite_weight"] = wsum / W.sum()
    merged["composite_rank"] = (
        merged.groupby("theme_id")["composite"].rank(ascending=False, method="min").astype("Int64")
    )
    merged = merged.sort_values(["theme_id", "composite_rank", "symbol"], na_position="last", kind="stable")
    return merged.reset_index(drop=True)
