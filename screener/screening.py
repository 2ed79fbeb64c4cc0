"""Screens: the universe with its screening metrics and a theme's exposure, filtered and sorted.

>>> import screener
>>> res = screener.screen(theme="china-self-sufficiency", filters=["vol_60d < 0.8"],
...                       exchange=["XSHG", "XHKG"], sort="-composite", top=20)  # doctest: +SKIP
>>> res.frame            # tidy DataFrame, one row per security      # doctest: +SKIP
>>> print(res.summary())                                              # doctest: +SKIP

A screen's columns (see ``semiscreen fields`` / :mod:`screener.fields`):

- universe: ``symbol, name, name_zh, asset_type, exchange`` (MIC), ``currency, country, segment,
  benchmark``;
- screening metrics (:func:`screener.metrics.screening_metrics`): trailing returns, 60-day
  volatility, beta, drawdown, average daily traded value (in ``currency``), coverage, each with
  the N behind it;
- with a theme: ``theme_id``, the three exposure components with their N and the composite
  (:func:`screener.exposure.composite_exposure`).

Only equities are screened unless ``include_funds=True`` (then ETFs and indices too). Results
are complete: every security that passes the filters is returned, unless ``top`` is given.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from screener.analysis import UNIVERSE_COLUMNS
from screener.errors import InputError
from screener.filters import Filter, ScreenSpec, parse_filter

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

    from screener.analysis import Analysis

__all__ = ["screen", "ScreenResult", "UNIVERSE_COLUMNS", "DISPLAY_COLUMNS", "default_analysis", "parse_sort"]

#: Columns shown by :meth:`ScreenResult.display` (a readable subset; the frame has them all).
DISPLAY_COLUMNS: tuple[str, ...] = (
    "symbol", "name", "exchange", "segment", "ret_3m", "ret_ytd", "vol_60d", "beta", "adv_60d", "currency",
    "coverage_1y", "text_relevance", "text_n_mentions", "event_mean_scar", "event_n", "return_beta", "return_n",
    "composite", "composite_rank",
)

_DEFAULT: dict[str, Any] = {}


def default_analysis() -> "Analysis":
    """The analysis of the bundled snapshot with default parameters (built once per process)."""
    if "analysis" not in _DEFAULT:
        from screener.analysis import Analysis

        _DEFAULT["analysis"] = Analysis()
    return _DEFAULT["analysis"]


def _suggest(value: str, valid: Sequence[str]) -> str:
    close = difflib.get_close_matches(str(value), list(valid), n=3, cutoff=0.6)
    return f" Did you mean {' or '.join(map(repr, close))}?" if close else ""


def parse_sort(sort: str | Sequence[str] | None) -> list[tuple[str, bool]]:
    """``"-composite,symbol"`` -> ``[("composite", False), ("symbol", True)]`` (column, ascending)."""
    if sort is None:
        return []
    items = sort.split(",") if isinstance(sort, str) else list(sort)
    out = []
    for item in items:
        item = str(item).strip()
        if not item:
            continue
        desc = item.startswith("-")
        name = item.lstrip("+-").strip()
        if not name:
            raise InputError(f"sort key {item!r} has no column name (e.g. -composite)")
        out.append((name, not desc))
    return out


@dataclass
class ScreenResult:
    """The result of :func:`screen`.

    Attributes
    ----------
    frame : DataFrame
        One row per security that passed, sorted, cut to ``top``. All columns (see the module
        docstring).
    theme : str or None
        The theme whose exposure columns are included.
    filters : list of Filter
        The conditions applied, in order.
    sort : list of (str, bool)
        Sort keys (column, ascending).
    top : int or None
        The cut applied after sorting.
    as_of : Timestamp
        Date of the metrics and return exposure.
    steps : list of (str, int)
        Rows left after each stage: the universe, the asset-type restriction, then each filter.
    n_matched : int
        Rows that passed every filter (before ``top``).
    """

    frame: "pd.DataFrame"
    theme: str | None
    filters: list[Filter]
    sort: list[tuple[str, bool]]
    top: int | None
    as_of: Any
    steps: list[tuple[str, int]] = field(default_factory=list)
    n_matched: int = 0

    def __len__(self) -> int:
        return len(self.frame)

    def display_columns(self) -> list[str]:
        """The readable subset of columns (those of :data:`DISPLAY_COLUMNS` present, plus sort keys)."""
        cols = [c for c in DISPLAY_COLUMNS if c in self.frame.columns]
        for name, _ in self.sort:
            if name not in cols:
                cols.append(name)
        for f in self.filters:
            if f.field not in cols:
                cols.append(f.field)
        return cols

    def display(self) -> "pd.DataFrame":
        """The frame restricted to :meth:`display_columns`."""
        return self.frame[self.display_columns()]

    def summary(self) -> str:
        """One paragraph: theme, as-of date, filters, sort and how many rows each step left."""
        import pandas as pd

        as_of = "" if self.as_of is None or pd.isna(self.as_of) else f" as of {pd.Timestamp(self.as_of).date()}"
        lines = [f"Screen{' for theme ' + repr(self.theme) if self.theme else ''}{as_of}: "
                 f"{len(self.frame)} of {self.n_matched} matching securities shown"]
        for text, n in self.steps:
            lines.append(f"  {text}: {n} left")
        if self.sort:
            lines.append("  sorted by " + ", ".join(("" if asc else "-") + c for c, asc in self.sort))
        if self.top is not None:
            lines.append(f"  top {self.top}")
        return "\n".join(lines)

    def __repr__(self) -> str:
        return (f"<ScreenResult theme={self.theme!r} rows={len(self.frame)} matched={self.n_matched} "
                f"filters={[f.text or f.field for f in self.filters]}>")

    def _repr_html_(self) -> str:
        import html

        return f"<p>{html.escape(self.summary()).replace(chr(10), '<br>')}</p>" + self.display().to_html(index=False)


def _as_filters(filters: Any) -> list[Filter]:
    if filters is None:
        return []
    if isinstance(filters, (str, Filter)):
        filters = [filters]
    out = []
    for f in filters:
        if isinstance(f, Filter):
            out.append(f)
        elif isinstance(f, str):
            out.append(parse_filter(f))
        else:
            raise InputError(f"a filter must be a string such as 'vol_60d < 0.5' or a Filter, got {f!r}")
    return out


def _as_list(values: str | Iterable[str] | None) -> list[str]:
    if values is None:
        return []
    if isinstance(values, str):
        values = [values]
    out: list[str] = []
    for v in values:
        out += [p.strip() for p in str(v).split(",") if p.strip()]
    return out


def _check_values(option: str, given: list[str], valid: Iterable[str]) -> None:
    valid = sorted({str(v) for v in valid})
    unknown = [v for v in given if v not in valid]
    if unknown:
        raise InputError(f"unknown {option} {', '.join(map(repr, unknown))}.{_suggest(unknown[0], valid)} "
                         f"Valid: {', '.join(valid)}")


def base_frame(analysis: "Analysis", theme: str | None = None) -> "pd.DataFrame":
    """Every universe security with its metrics (and the theme's exposure), before any filter."""
    frame = analysis.universe_metrics.copy()
    if theme is not None:
        exp = analysis.exposure
        exp = exp[exp["theme_id"] == theme]
        frame = frame.merge(exp, on="symbol", how="left", validate="one_to_one")
        frame["theme_id"] = theme
        from screener.analysis import _COUNT_COLUMNS

        for col in _COUNT_COLUMNS:  # indices have no exposure row: their counts are missing, not 0
            if col in frame.columns:
                frame[col] = frame[col].astype("Int64")
    frame.attrs["as_of"] = analysis.as_of
    return frame


def screen(
    theme: str | None = None,
    filters: str | Filter | Iterable[str | Filter] | None = None,
    sort: str | Sequence[str] | None = None,
    top: int | None = None,
    analysis: "Analysis | None" = None,
    *,
    exchange: str | Iterable[str] | None = None,
    segment: str | Iterable[str] | None = None,
    include_funds: bool = False,
    preset: "ScreenSpec | str | None" = None,
) -> ScreenResult:
    """Screen the universe: metrics + a theme's exposure, filtered, sorted, cut to ``top``.

    Parameters
    ----------
    theme : str, optional
        Theme id (``themes.csv``); adds its exposure columns. Default sort then ``-composite``.
    filters : str, Filter or list of them, optional
        Conditions such as ``"vol_60d < 0.5"`` or ``"exchange in XSHG,XHKG"``
        (:func:`screener.filters.parse_filter`); missing values never pass.
    sort : str or list of str, optional
        Column names, ``-`` for descending, e.g. ``"-composite"`` or ``"segment,-ret_ytd"``;
        missing values sort last, ties by symbol. Default ``-composite`` with a theme,
        else ``symbol``.
    top : int, optional
        Keep the first ``top`` rows after sorting (default: all).
    analysis : Analysis, optional
        The data and parameters (default: the bundled snapshot, see :func:`default_analysis`).
    exchange, segment : str or list of str, optional
        Keep these listing MICs / segments (validated against the universe).
    include_funds : bool
        Also screen ETFs and indices (default: equities only).
    preset : ScreenSpec or path, optional
        A saved screen (:func:`screener.filters.load_preset`); explicit arguments win, its
        ``where`` filters come before ``filters``.

    Returns
    -------
    ScreenResult

    Raises
    ------
    InputError
        Unknown theme, exchange, segment or column (the message lists the valid ones); a filter
        or sort on a column the screen does not have; a bad ``top``; a screen that keeps no
        security (the message names the filter that removed the last ones).

    Examples
    --------
    On the bundled snapshot (the first call computes the metrics, about a second):

    >>> import screener
    >>> res = screener.screen(exchange=["XSHG", "XSHE"], filters=["coverage_1y >= 0.9"],
    ...                       sort="-ret_ytd", top=3)
    >>> print(res.summary())                          # doctest: +ELLIPSIS
    Screen as of ...: 3 of ... matching securities shown
      universe: ... left
      equities only: ... left
      coverage_1y >= 0.9: ... left
      exchange in XSHG,XSHE: ... left
      sorted by -ret_ytd
      top 3
    >>> sorted(set(res.frame["exchange"])) <= ["XSHE", "XSHG"], len(res)
    (True, 3)
    >>> screener.screen(theme="ai-computing")
    Traceback (most recent call last):
    ...
    screener.errors.InputError: unknown theme 'ai-computing'. Did you mean 'ai-compute'? ...
    """
    if preset is not None:
        from screener.filters import load_preset

        spec = preset if isinstance(preset, ScreenSpec) else load_preset(preset)
        theme = theme if theme is not None else spec.theme
        filters = [parse_filter(w) for w in spec.where] + _as_filters(filters)
        exchange = _as_list(exchange) or list(spec.exchange)
        segment = _as_list(segment) or list(spec.segment)
        sort = sort if sort is not None else spec.sort
        top = top if top is not None else spec.top
    if top is not None and (isinstance(top, bool) or not isinstance(top, int) or top <= 0):
        raise InputError(f"top must be a positive integer, got {top!r}")
    a = analysis if analysis is not None else default_analysis()
    if theme is not None:
        valid = list(a.themes["theme_id"])
        if theme not in valid:
            raise InputError(f"unknown theme {theme!r}.{_suggest(theme, valid)} Valid themes: {', '.join(valid)}")
    conds = _as_filters(filters)
    exchanges = [e.upper() for e in _as_list(exchange)]
    segments = _as_list(segment)
    if exchanges:
        _check_values("exchange", exchanges, a.universe["exchange"])
        conds.append(Filter("exchange", "in", exchanges, "exchange in " + ",".join(exchanges)))
    if segments:
        _check_values("segment", segments, a.universe["segment"])
        conds.append(Filter("segment", "in", segments, "segment in " + ",".join(segments)))

    frame = base_frame(a, theme)
    columns = [str(c) for c in frame.columns]
    for f in conds:
        if f.field not in frame.columns:
            raise InputError(_missing_column(f"filter {f.text or f.field!r}", f.field, columns, theme))
    keys = parse_sort(sort) or ([("composite", False)] if theme is not None else [("symbol", True)])
    for name, _ in keys:
        if name not in frame.columns:
            raise InputError(_missing_column(f"sort {name!r}", name, columns, theme))

    steps = [("universe", len(frame))]
    if not include_funds:
        frame = frame[frame["asset_type"] == "equity"]
        steps.append(("equities only", len(frame)))
    for f in conds:
        before = len(frame)
        frame = frame[f.mask(frame).to_numpy()]
        steps.append((f.text or f"{f.field} {f.op} {f.value}", len(frame)))
        if len(frame) == 0:
            raise InputError(
                f"empty screen: the filter {f.text or f.field!r} removed the remaining {before} securities "
                f"({'; '.join(f'{t}: {n}' for t, n in steps)})"
            )
    if len(frame) == 0:
        raise InputError("empty screen: no security to screen (" + "; ".join(f"{t}: {n}" for t, n in steps) + ")")
    by = [k for k, _ in keys]
    asc = [b for _, b in keys]
    if "symbol" not in by:
        by.append("symbol")
        asc.append(True)
    frame = frame.sort_values(by=by, ascending=asc, na_position="last", kind="stable").reset_index(drop=True)
    n_matched = len(frame)
    if top is not None:
        frame = frame.head(top)
    frame.attrs["as_of"] = a.as_of
    return ScreenResult(frame=frame, theme=theme, filters=conds, sort=keys, top=top, as_of=a.as_of,
                        steps=steps, n_matched=n_matched)


def _missing_column(what: str, name: str, columns: list[str], theme: str | None) -> str:
    from screener.fields import FIELDS

    if name in FIELDS and theme is None:
        return (f"{what}: column {name!r} is an exposure column; choose a theme (--theme) to screen on it")
    return f"{what}: no column {name!r}.{_suggest(name, columns)} Valid columns: {', '.join(columns)}"
