"""The analysis pipeline: one object per data source and parameter set, computed lazily.

:class:`Analysis` ties the pieces together in the order of ``docs/architecture.md``::

    seed datasets -> price frames (universe + benchmarks) -> returns on each exchange's calendar
      -> event-firm table (day 0 per security) -> event study of every catalog event
      -> screening metrics -> text / event / return exposure -> composite exposure

Every stage is a cached property, computed on first access and reused afterwards, so a
notebook, the CLI and the report builder share one set of numbers. Nothing is fatal about a
symbol the price source lacks: it is listed in :attr:`Analysis.unavailable_symbols`, its
event-firm pairs get the outcome ``no_data`` and its metrics are ``NaN``.

Prices are read per symbol and kept (:meth:`Analysis.prices_for`). A study of some events
(:meth:`Analysis.study_events`, :meth:`Analysis.event_results`, :meth:`Analysis.car_table` of
their results) reads only the events' securities and their benchmarks, not the universe, so it
downloads little from a network source; the screens, the exposure and the report need the
whole universe (:attr:`Analysis.prices`).

On the bundled snapshot (every seed event, every theme)::

    >>> from screener.analysis import Analysis
    >>> a = Analysis()
    >>> a.results.caar                                # doctest: +SKIP
    >>> a.exposure.query("theme_id == 'ai-compute'")  # doctest: +SKIP
    >>> a.provenance                                  # doctest: +SKIP
"""

from __future__ import annotations

import os
import threading
import warnings
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

from screener.errors import InputError, SemiscreenWarning
from screener.files import sha256_file as _sha256

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

    from events.study import EventStudy, EventStudyResults
    from screener.prices import PriceSource, ReturnsPanel

__all__ = ["Analysis", "AnalysisParameters", "DEFAULT_WINDOWS", "STAGES", "UNIVERSE_COLUMNS", "parse_window"]

#: Default CAR windows (relative sessions, inclusive).
DEFAULT_WINDOWS: tuple[tuple[int, int], ...] = ((0, 0), (-1, 1), (0, 5))

#: Stages :meth:`Analysis.compute` runs, in order (each is a cached attribute).
STAGES: tuple[str, ...] = (
    "seeds", "prices", "returns", "event_firms", "results", "metrics",
    "text_exposure", "event_exposure", "return_exposure", "exposure",
)

#: Universe columns a screen starts from (:attr:`Analysis.universe_metrics`).
UNIVERSE_COLUMNS: tuple[str, ...] = (
    "symbol", "name", "name_zh", "asset_type", "exchange", "currency", "country", "segment", "benchmark",
)

#: Count columns of the exposure frame (filled with 0 where a component was not measured).
_COUNT_COLUMNS = ("text_n_mentions", "text_n_comentions", "text_n_documents", "event_n", "event_n_unsigned",
                  "event_n_missing", "return_n", "return_n_constituents", "composite_n_components")

#: Model names accepted with a hyphen, as the CLI spells them.
_MODEL_ALIASES = {"market-adjusted": "market_adjusted", "constant-mean": "constant_mean",
                  "scholes-williams": "scholes_williams"}


def parse_window(text: str | Sequence[int], option: str = "window") -> tuple[int, int]:
    """Read a window such as ``"-1,1"``, ``"(-1, 1)"`` or ``[-1, 1]`` into ``(t1, t2)``.

    Raises
    ------
    InputError
        Not two integers, or the first after the second.
    """
    if isinstance(text, str):
        parts = [p.strip() for p in text.strip().strip("()[]").split(",")]
    else:
        parts = list(text)
    try:
        if len(parts) != 2:
            raise ValueError
        t1, t2 = (int(str(p).strip()) for p in parts)
    except ValueError:
        raise InputError(f"{option} {text!r}: expected two integers 'FIRST,LAST', e.g. -1,1") from None
    if t1 > t2:
        raise InputError(f"{option} {text!r}: the first day {t1} is after the last day {t2}")
    return t1, t2




#: Shortest estimation window the pipeline accepts (sessions).
MIN_ESTIMATION_LENGTH = 30


@dataclass(frozen=True)
class AnalysisParameters:
    """The parameters of an :class:`Analysis` (recorded in the provenance).

    Attributes
    ----------
    model : str
        Expected-return model, one of ``events.models.MODELS`` (``market`` by default).
    estimation : (int, int)
        Estimation window in the security's own sessions relative to day 0.
    windows : tuple of (int, int)
        CAR windows.
    event_window : (int, int)
        Days kept around day 0 (CAAR paths, charts).
    date_policy : str
        How day 0 is moved to a session (see ``events.study.DATE_POLICIES``).
    min_estimation_obs : int
        Pairs with fewer valid estimation returns are not estimated.
    exposure_window : (int, int)
        The window whose standardised CARs feed the event-response exposure.
    weights : dict
        Weights of the composite exposure (text, event, return).
    text_unit : str
        ``paragraph`` (default: news digests name a company and its theme in neighbouring
        sentences) or ``sentence``: the unit of a co-mention.
    as_of : str or None
        Date of the screening metrics and return exposure (default: the last price date).
    """

    model: str = "market"
    estimation: tuple[int, int] = (-250, -11)
    windows: tuple[tuple[int, int], ...] = DEFAULT_WINDOWS
    event_window: tuple[int, int] = (-10, 10)
    date_policy: str = "next"
    min_estimation_obs: int = 120
    exposure_window: tuple[int, int] = (-1, 1)
    weights: dict[str, float] = field(default_factory=dict)
    text_unit: str = "paragraph"
    as_of: str | None = None

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["estimation"] = list(self.estimation)
        d["windows"] = [list(w) for w in self.windows]
        d["event_window"] = list(self.event_window)
        d["exposure_window"] = list(self.exposure_window)
        return d


def _default_event_window(estimation: tuple[int, int], windows: Sequence[tuple[int, int]]) -> tuple[int, int]:
    lo = min(w[0] for w in windows)
    hi = max(w[1] for w in windows)
    start = min(lo, max(-10, estimation[1] + 1))
    return start, max(hi, 10)


class Analysis:
    """Everything semiscreen computes from one price source and one set of parameters.

    Parameters
    ----------
    source : PriceSource, path or None
        Where prices come from: a :class:`~screener.prices.PriceSource`, a folder of per-symbol
        CSV/Parquet files, or ``None`` for the bundled snapshot (``seeds/prices``).
    model : str
        Expected-return model (``market``, ``market_adjusted``, ``constant_mean``,
        ``scholes_williams``, ``dimson``; hyphens are accepted).
    estimation : (int, int)
        Estimation window, default ``(-250, -11)``.
    windows : sequence of (int, int)
        CAR windows, default ``(0, 0), (-1, 1), (0, 5)``.
    event_window : (int, int), optional
        Days kept around day 0; default covers the windows and at least -10..10 (starting
        after the estimation window).
    date_policy : str
        ``next`` (default), ``previous``, ``exact`` or ``skip``.
    min_estimation_obs : int, optional
        Minimum valid estimation returns (default: half the estimation window, 120 of 240).
    exposure_window : (int, int), optional
        Window of the standardised CARs behind the event-response exposure; default
        ``(-1, 1)`` when it is one of ``windows``, else the first window.
    weights : mapping, optional
        Composite weights (default :data:`screener.exposure.DEFAULT_WEIGHTS`).
    text_unit : {"paragraph", "sentence"}
        Unit of a co-mention in the text relevance (default ``paragraph``).
    as_of : date-like, optional
        Date of the screening metrics and return exposure (default: the last price date).
    events_file, securities_file, universe_file, themes_file : path, optional
        Datasets to use instead of the project's ``seeds/`` files.
    documents_dir : path, optional
        Folder of the source documents (default ``$SEMISCREEN_DOCUMENTS`` or ``../shared/seeds``).
        Without it the text component is left out (noted in :attr:`notes`).

    Attributes
    ----------
    params : AnalysisParameters
    notes : list of str
        What the reader should know: symbols without prices, data-quality warnings, pairs
        that could not be estimated, components that could not be computed.

    Raises
    ------
    InputError
        Invalid parameters (checked before any data is read).

    Examples
    --------
    Parameters are checked at once; data is read on first use of a stage:

    >>> from screener.analysis import Analysis
    >>> a = Analysis(model="market-adjusted", windows=["0,0", "-1,1"])
    >>> a.params.model, a.params.windows, a.params.min_estimation_obs
    ('market_adjusted', ((0, 0), (-1, 1)), 120)
    >>> Analysis(estimation="-250,0")
    Traceback (most recent call last):
    ...
    screener.errors.InputError: estimation=(-250, 0) overlaps the event window ...
    """

    def __init__(
        self,
        source: "PriceSource | str | os.PathLike[str] | None" = None,
        *,
        model: str = "market",
        estimation: Sequence[int] | str = (-250, -11),
        windows: Iterable[Sequence[int] | str] | None = None,
        event_window: Sequence[int] | str | None = None,
        date_policy: str = "next",
        min_estimation_obs: int | None = None,
        exposure_window: Sequence[int] | str | None = None,
        weights: Mapping[str, float] | None = None,
        text_unit: str = "paragraph",
        as_of: Any = None,
        events_file: str | os.PathLike[str] | None = None,
        securities_file: str | os.PathLike[str] | None = None,
        universe_file: str | os.PathLike[str] | None = None,
        themes_file: str | os.PathLike[str] | None = None,
        documents_dir: str | os.PathLike[str] | None = None,
    ) -> None:
        from events.models import MODELS

        model = _MODEL_ALIASES.get(model, model)
        if model not in MODELS or model == "factor":
            valid = ", ".join(m for m in MODELS if m != "factor")
            raise InputError(f"model {model!r} is not available here; valid: {valid}")
        est = parse_window(estimation, "estimation")
        wins = tuple(parse_window(w) for w in (windows if windows is not None else DEFAULT_WINDOWS))
        if not wins:
            raise InputError("give at least one window")
        wins = tuple(dict.fromkeys(wins))
        evw = parse_window(event_window, "event_window") if event_window is not None else _default_event_window(est, wins)
        if exposure_window is None:
            xw = (-1, 1) if (-1, 1) in wins else wins[0]
        else:
            xw = parse_window(exposure_window, "exposure_window")
            if xw not in wins:
                raise InputError(f"exposure_window {xw} is not one of the windows {list(wins)}")
        if est[1] - est[0] + 1 < MIN_ESTIMATION_LENGTH:
            raise InputError(
                f"estimation window {est} has {est[1] - est[0] + 1} sessions; at least "
                f"{MIN_ESTIMATION_LENGTH} are needed (the textbook default is (-250, -11))"
            )
        if min_estimation_obs is None:
            # half the estimation window: 120 of the default 240 days
            min_estimation_obs = max((est[1] - est[0] + 1) // 2, 3)
        if text_unit not in ("sentence", "paragraph"):
            raise InputError(f"text_unit must be 'sentence' or 'paragraph', not {text_unit!r}")
        if as_of is not None:
            import re

            import pandas as pd

            text = str(as_of.date()) if isinstance(as_of, pd.Timestamp) else str(as_of).strip()
            try:
                if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
                    raise ValueError
                as_of = str(pd.Timestamp(text).date())
            except (TypeError, ValueError):
                raise InputError(f"as_of is not a date YYYY-MM-DD: {as_of!r}") from None
        from screener.exposure import DEFAULT_WEIGHTS

        self.params = AnalysisParameters(
            model=model, estimation=est, windows=wins, event_window=evw, date_policy=date_policy,
            min_estimation_obs=int(min_estimation_obs), exposure_window=xw,
            weights=dict(weights) if weights is not None else dict(DEFAULT_WEIGHTS),
            text_unit=text_unit, as_of=as_of,
        )
        self._source_arg = source
        self._files = {
            "events": events_file, "event_securities": securities_file,
            "universe": universe_file, "themes": themes_file,
        }
        self._documents_dir = documents_dir
        self.notes: list[str] = []
        self._frames: dict[str, "pd.DataFrame"] = {}  # price frames read so far, by symbol
        self._asked: set[str] = set()  # symbols already asked of the source (with or without prices)
        self._prices_lock = threading.RLock()
        # Check the study's parameters now, on an empty frame, so a bad option fails fast.
        self._make_study(_empty_returns(), check_only=True)

    def __repr__(self) -> str:
        p = self.params
        return (f"Analysis(source={self.source_name!r}, model={p.model!r}, estimation={p.estimation}, "
                f"windows={list(p.windows)})")

    # ------------------------------------------------------------------ notes and warnings
    def _note(self, message: str) -> None:
        if message not in self.notes:
            self.notes.append(message)

    def _collect(self, caught: list[warnings.WarningMessage]) -> None:
        import re

        no_adjusted: list[str] = []
        for w in caught:
            if issubclass(w.category, SemiscreenWarning):
                m = re.match(r"^(\S+): no adjusted close in ", str(w.message))
                if m:
                    no_adjusted.append(m.group(1))
                else:
                    self._note(str(w.message))
            else:  # not ours: pass it on
                warnings.showwarning(w.message, w.category, w.filename, w.lineno)
        if no_adjusted:
            self._note(f"no adjusted close for {len(no_adjusted)} symbol(s), close used instead (returns not "
                       f"dividend-adjusted): {', '.join(no_adjusted)}")

    # ------------------------------------------------------------------ seed datasets
    def _path(self, name: str, filename: str) -> Path:
        given = self._files.get(name)
        if given is not None:
            return Path(given)
        from screener.paths import seeds_dir

        return seeds_dir() / filename

    @cached_property
    def seed_paths(self) -> dict[str, Path]:
        """The dataset files in use, by dataset name."""
        return {
            "events": self._path("events", "events.csv"),
            "event_securities": self._path("event_securities", "event_securities.csv"),
            "universe": self._path("universe", "universe.csv"),
            "themes": self._path("themes", "themes.csv"),
        }

    @cached_property
    def universe(self) -> "pd.DataFrame":
        """The universe (``universe.csv``), validated."""
        from screener.universe import load_universe

        return load_universe(self.seed_paths["universe"])

    @cached_property
    def themes(self) -> "pd.DataFrame":
        """The themes (``themes.csv``), validated."""
        from screener.themes import load_themes

        return load_themes(self.seed_paths["themes"])

    @cached_property
    def catalog(self) -> "pd.DataFrame":
        """The event catalog (``events.csv``), validated."""
        from events.catalog import load_catalog

        return load_catalog(self.seed_paths["events"])

    @cached_property
    def event_securities(self) -> "pd.DataFrame":
        """The event-security links (``event_securities.csv``), validated."""
        from events.catalog import load_event_securities

        return load_event_securities(self.seed_paths["event_securities"])

    @property
    def seeds(self) -> dict[str, "pd.DataFrame"]:
        """The four datasets, loaded (``events``, ``event_securities``, ``universe``, ``themes``)."""
        return {"events": self.catalog, "event_securities": self.event_securities,
                "universe": self.universe, "themes": self.themes}

    @cached_property
    def documents_dir(self) -> Path | None:
        """The folder of the source documents, or ``None`` when it cannot be found."""
        if self._documents_dir is not None:
            path = Path(self._documents_dir)
        else:
            from screener.validate import default_documents_dir

            path = default_documents_dir()
        return path if path.is_dir() else None

    @cached_property
    def documents(self) -> dict[str, str]:
        """Source documents' text by file name (those listed in ``documents.csv`` when present)."""
        folder = self.documents_dir
        if folder is None:
            self._note("source documents not found (set SEMISCREEN_DOCUMENTS): text relevance left out")
            return {}
        names: list[str] | None = None
        listing = self.seed_paths["events"].parent / "documents.csv"
        if listing.is_file():
            from events.catalog import load_documents

            names = list(load_documents(listing)["document"])
        paths = [folder / n for n in names] if names is not None else sorted(folder.glob("*.txt"))
        texts: dict[str, str] = {}
        for p in paths:
            if not p.is_file():
                self._note(f"source document {p.name} not found in {folder}: left out of the text relevance")
                continue
            texts[p.name] = p.read_text(encoding="utf-8")
        return texts

    # ------------------------------------------------------------------ prices
    @cached_property
    def source(self) -> "PriceSource":
        """The price source (the bundled snapshot unless one was given)."""
        from screener.prices import LocalDirectorySource, PriceSource, SnapshotSource

        src = self._source_arg
        if src is None:
            return SnapshotSource()
        if isinstance(src, PriceSource):
            return src
        path = Path(src)
        if (path / "manifest.json").is_file():
            return SnapshotSource(path)
        return LocalDirectorySource(path)

    @property
    def source_name(self) -> str:
        src = self._source_arg
        if src is None:
            return "snapshot"
        return getattr(src, "name", None) or str(src)

    @cached_property
    def symbols(self) -> list[str]:
        """Every symbol the analysis needs: the universe, its benchmarks and the events' securities."""
        u = self.universe
        out = list(u["symbol"])
        for col in ("benchmark", "sector_benchmark"):
            out += [s for s in u[col].dropna() if isinstance(s, str) and s]
        out += list(self.event_securities["symbol"])
        return list(dict.fromkeys(out))

    def prices_for(self, symbols: Iterable[str]) -> dict[str, "pd.DataFrame"]:
        """Price frames of some symbols only, reading from the source those not read yet.

        Frames are kept, so each symbol is asked of the source once per analysis. Symbols the
        source lacks are left out (and named in :attr:`notes`).

        Parameters
        ----------
        symbols : iterable of str
            Yahoo symbols.

        Returns
        -------
        dict of str to DataFrame
            The frames of the symbols that have prices, in the order given.

        Raises
        ------
        DataUnavailableError
            The source could not be read at all, e.g. Yahoo cannot be reached
            (:class:`~screener.prices.SourceUnreachableError`); a symbol it merely lacks is not
            an error.

        Examples
        --------
        >>> from screener.analysis import Analysis
        >>> a = Analysis()
        >>> sorted(a.prices_for(["INTC", "^GSPC", "IFX.DE"]))   # IFX.DE: not in the snapshot
        ['INTC', '^GSPC']
        """
        wanted = list(dict.fromkeys(symbols))
        with self._prices_lock:  # (threads sharing an analysis ask the source once per symbol)
            todo = [s for s in wanted if s not in self._asked]
            if todo:
                with warnings.catch_warnings(record=True) as caught:
                    warnings.simplefilter("always")
                    try:
                        frames = self.source.load_many(todo, errors="skip")
                    finally:
                        self._collect(caught)
                self._frames.update(frames)
                self._asked.update(todo)
                missing = [s for s in todo if s not in frames]
                if missing:
                    self._note(f"no prices in the {self.source_name} source for {len(missing)} symbol(s): "
                               f"{', '.join(missing)} (their pairs get outcome no_data, their metrics are empty)")
            return {s: self._frames[s] for s in wanted if s in self._frames}

    @cached_property
    def prices(self) -> dict[str, "pd.DataFrame"]:
        """Price frames of every symbol the analysis needs (:attr:`symbols`: the universe, its
        benchmarks, the events' securities); symbols the source lacks are left out, see
        :attr:`unavailable_symbols`."""
        return self.prices_for(self.symbols)

    @property
    def unavailable_symbols(self) -> list[str]:
        """Symbols the price source does not have (listed missing in the snapshot manifest, or absent)."""
        return [s for s in self.symbols if s not in self.prices]

    def unavailable_among(self, symbols: Iterable[str]) -> list[str]:
        """The ``symbols`` the price source does not have (reading only those symbols).

        Examples
        --------
        >>> from screener.analysis import Analysis
        >>> Analysis().unavailable_among(["INTC", "IFX.DE"])
        ['IFX.DE']
        """
        wanted = list(dict.fromkeys(symbols))
        have = self.prices_for(wanted)
        return [s for s in wanted if s not in have]

    def _returns_panel(self, frames: Mapping[str, "pd.DataFrame"]) -> "ReturnsPanel":
        from screener.prices import returns_panel

        mics = {s: m for s, m in zip(self.universe["symbol"], self.universe["exchange"])}
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            panel = returns_panel(frames, mics={s: mics[s] for s in frames if s in mics})
        self._collect(caught)
        return panel

    def _benchmarks_in(self, have: Iterable[str]) -> dict[str, str]:
        """``{symbol: benchmark}`` from the universe, for benchmarks among ``have``."""
        have = set(have)
        out = {}
        for sym, bm in zip(self.universe["symbol"], self.universe["benchmark"]):
            if isinstance(bm, str) and bm and bm in have:
                out[sym] = bm
        return out

    @cached_property
    def returns(self) -> "ReturnsPanel":
        """Simple returns on each security's own exchange calendar (``ReturnsPanel``)."""
        return self._returns_panel(self.prices)

    @cached_property
    def benchmarks(self) -> dict[str, str]:
        """``{symbol: benchmark}`` from the universe, for benchmarks that have returns."""
        return self._benchmarks_in(self.returns.returns.columns)

    @cached_property
    def benchmark_returns(self) -> "pd.DataFrame":
        """Returns of the benchmarks in use (dates x benchmark symbols)."""
        cols = sorted(set(self.benchmarks.values()))
        return self.returns.returns[cols]

    @cached_property
    def as_of(self) -> "pd.Timestamp":
        """Date of the screening metrics and return exposure.

        Default: the latest date by which at least 90 % of the equities with prices still have
        one (price histories in a snapshot end on different dates; a common date keeps trailing
        returns comparable). Each security is then measured up to its own last price on or
        before that date (see :func:`screener.metrics.screening_metrics`).
        """
        import pandas as pd

        u = self.universe
        equities = [s for s in u.loc[u["asset_type"] == "equity", "symbol"] if s in self.prices]
        last = sorted(self.prices[s].index.max() for s in equities if len(self.prices[s]))
        if self.params.as_of is not None:
            as_of = pd.Timestamp(self.params.as_of)
            if last:
                first = min(self.prices[s].index.min() for s in equities if len(self.prices[s]))
                if as_of < first:
                    raise InputError(
                        f"as_of {as_of.date()} is before the first price ({first.date()}) of "
                        f"{self.source_name}: nothing to measure"
                    )
                if as_of > last[-1]:
                    self._note(
                        f"as_of {as_of.date()} is after the last price ({last[-1].date()}): "
                        "every security is measured up to its own last price"
                    )
            return as_of
        if not last:
            return pd.NaT
        # The latest date by which at least 90 % of the priced equities still have a price, so
        # every screen compares securities over (nearly) the same dates.
        return pd.Timestamp(last[int(0.1 * (len(last) - 1))]).normalize()

    # ------------------------------------------------------------------ event study
    @cached_property
    def event_firms(self) -> "pd.DataFrame":
        """One row per (event, security) of the catalog, day 0 on the security's exchange."""
        from events.catalog import event_firms

        return event_firms(self.catalog, self.event_securities, self.universe)

    def _make_study(self, returns: "pd.DataFrame", *, check_only: bool = False,
                    panel: "ReturnsPanel | None" = None) -> "EventStudy":
        """The configured EventStudy on ``returns`` (sessions, spans and benchmarks from
        ``panel``, default the full :attr:`returns`)."""
        from events.study import EventStudy

        p = self.params
        if check_only:  # a tiny frame: only the parameters are checked
            import pandas as pd

            index = pd.DatetimeIndex(["2025-01-02", "2025-01-03", "2025-01-06"], name="date")
            returns = pd.DataFrame({"X": [0.01, -0.01, 0.0]}, index=index)
            market = pd.Series([0.0, 0.01, -0.01], index=index, name="m")
            return EventStudy(returns, market=market, model=p.model, estimation=p.estimation,
                              windows=list(p.windows), event_window=p.event_window, date_policy=p.date_policy,
                              min_estimation_obs=p.min_estimation_obs)
        if panel is None:
            panel, benchmarks, market = self.returns, self.benchmarks, self.benchmark_returns
        else:
            benchmarks = self._benchmarks_in(panel.returns.columns)
            market = panel.returns[sorted(set(benchmarks.values()))]
        sessions = dict(panel.sessions)
        for s in returns.columns:
            sessions.setdefault(s, _empty_returns().index)
        spans = panel.spans.reindex(columns=returns.columns, fill_value=0)
        return EventStudy(returns, market=market, benchmarks=benchmarks, model=p.model,
                          estimation=p.estimation, windows=list(p.windows), event_window=p.event_window,
                          date_policy=p.date_policy, min_estimation_obs=p.min_estimation_obs,
                          sessions=sessions, spans=spans)

    def _study_of(self, symbols: Iterable[str]) -> "EventStudy":
        """An EventStudy over ``symbols`` and their benchmarks only (reads only their prices).

        The full :attr:`study` when it or the full :attr:`returns` has been built already (the
        pairs' results are the same either way).
        """
        if "study" in self.__dict__ or "returns" in self.__dict__:
            return self.study
        symbols = list(dict.fromkeys(symbols))
        bench_of = dict(zip(self.universe["symbol"], self.universe["benchmark"]))
        needed = symbols + [b for b in (bench_of.get(s) for s in symbols) if isinstance(b, str) and b]
        frames = self.prices_for(needed)
        panel = self._returns_panel(frames)
        r = panel.returns
        missing = [s for s in symbols if s not in r.columns]
        if missing:
            r = r.reindex(columns=list(r.columns) + missing)
        return self._make_study(r, panel=panel)

    @cached_property
    def study(self) -> "EventStudy":
        """The configured :class:`~events.study.EventStudy` over every needed security.

        Securities without prices are all-``NaN`` columns, so their pairs get ``no_data``.
        """
        r = self.returns.returns
        missing = [s for s in dict.fromkeys(self.event_firms["symbol"]) if s not in r.columns]
        if missing:
            r = r.reindex(columns=list(r.columns) + missing)
        return self._make_study(r)

    @cached_property
    def results(self) -> "EventStudyResults":
        """The event study of every catalog event (all pairs in one fit).

        Reads only the prices of the events' securities and their benchmarks (not the whole
        universe) unless they have been read already.
        """
        study = self._study_of(self.event_firms["symbol"])
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            res = study.fit(self.event_firms)
        self._collect(caught)
        return res

    @cached_property
    def outcomes(self) -> "pd.DataFrame":
        """Every event-firm pair with its outcome, flags, and ``note`` explaining the outcome."""
        from events.study import OUTCOMES

        out = self.results.outcomes
        note = out["outcome"].map(OUTCOMES).astype("object")
        nodata = out["symbol"].isin(self.unavailable_among(out["symbol"]))
        note = note.where(~nodata, f"no prices for the symbol in the {self.source_name} source")
        out["note"] = note.astype("str")
        return out

    def event_results(self, event_id: str) -> "EventStudyResults":
        """The results of one event (tests recomputed on its pairs only).

        A selection of :attr:`results`: the pairs keep what the study of every event found
        (e.g. ``overlapping_event`` where another event falls in a pair's window), unlike
        :meth:`study_events`, which fits the event alone.

        Raises
        ------
        InputError
            Unknown event id (the message lists the valid ones).
        """
        ids = list(self.catalog["event_id"])
        if event_id not in ids:
            raise InputError(_unknown_message("event id", event_id, ids))
        return self.results.select(event_ids=[event_id])

    def study_events(self, event_ids: Sequence[str]) -> "EventStudyResults":
        """A separate event study of some catalog events only (their pairs alone in the fit).

        Only the prices of the events' securities and of their benchmarks are read (unless the
        study of every event has been built already), so a study downloads little from a
        network source.

        Raises
        ------
        InputError
            An unknown event id (the message suggests close matches and lists the valid ones).
        DataUnavailableError
            The price source could not be read at all (e.g. no network).
        """
        ids = list(self.catalog["event_id"])
        for e in event_ids:
            if e not in ids:
                raise InputError(_unknown_message("event id", e, ids))
        ef = self.event_firms[self.event_firms["event_id"].isin(list(event_ids))]
        study = self._study_of(ef["symbol"])
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            res = study.fit(ef)
        self._collect(caught)
        return res

    def car_table(self, results: "EventStudyResults | None" = None) -> "pd.DataFrame":
        """One row per event-firm pair: who, day 0, outcome, a ``car[t1,t2]`` column per window, ``scar``.

        Parameters
        ----------
        results : EventStudyResults, optional
            Default :attr:`results` (every catalog event).

        Returns
        -------
        DataFrame
            ``event_id, symbol, name, role, expected_sign, event_date, outcome``, ``car[t1,t2]``
            per window (``NaN`` for pairs not estimated), ``scar`` (the CAR of the exposure
            window divided by its standard deviation) and ``note`` (what the outcome means).
        """
        import numpy as np
        import pandas as pd

        from events.study import OUTCOMES
        from screener.report.model import car_column, window_label

        res = self.results if results is None else results
        out = res.outcomes
        names = dict(zip(self.universe["symbol"], self.universe["name"]))
        table = pd.DataFrame({
            "event_id": out["event_id"].astype(str),
            "symbol": out["symbol"].astype(str),
            "name": out["symbol"].map(names).astype("str"),
            "role": out["role"] if "role" in out.columns else "",
            "expected_sign": out["expected_sign"] if "expected_sign" in out.columns else np.nan,
            "event_date": out["event_date"],
            "outcome": out["outcome"].astype(str),
        })
        car = res.car
        keys = ["event_id", "symbol"]
        for w in res.windows:
            sub = car[(car["t1"] == w[0]) & (car["t2"] == w[1])][keys + ["car", "car_sd"]]
            sub = sub.rename(columns={"car": car_column(w), "car_sd": f"sd{window_label(w)}"})
            table = table.merge(sub, on=keys, how="left", validate="one_to_one")
        xw = self.params.exposure_window
        if xw in res.windows:
            num = table[car_column(xw)].to_numpy(dtype=float)
            den = table[f"sd{window_label(xw)}"].to_numpy(dtype=float)
            with np.errstate(invalid="ignore", divide="ignore"):
                table["scar"] = np.where(den > 0, num / den, np.nan)
        table = table.drop(columns=[c for c in table.columns if c.startswith("sd[")])
        table["note"] = out["outcome"].map(OUTCOMES).astype("str").to_numpy()
        self._explain_estimation(table, out)
        _name_overlapping_events(table, res)
        partial = self.partial_cars(res)
        if len(partial):
            remarks = partial.groupby(keys, sort=False)["remark"].agg("; ".join)
            at = table.set_index(keys).index
            hit = at.isin(remarks.index)
            extra = remarks.reindex(at[hit]).to_numpy(dtype=object)
            base = table.loc[hit, "note"].replace({OUTCOMES["ok"]: "estimated"}).to_numpy(dtype=object)
            table.loc[hit, "note"] = [f"{b}; {e}; left out of the CAAR and tests" for b, e in zip(base, extra)]
        lacking = table["symbol"].isin(set(self.unavailable_among(table["symbol"]))).to_numpy()
        table.loc[lacking, "note"] = f"no prices for the symbol in the {self.source_name} source"
        return table

    def _explain_estimation(self, table: "pd.DataFrame", outcomes: "pd.DataFrame") -> None:
        """Add M, the estimation window and the first price to the note of each
        ``insufficient_estimation`` pair (in place): why there were too few observations."""
        est = self.params.estimation
        length = est[1] - est[0] + 1
        short = (outcomes["outcome"] == "insufficient_estimation").to_numpy()
        for i in map(int, short.nonzero()[0]):
            sym = str(outcomes["symbol"].iloc[i])
            frame = self.prices_for([sym]).get(sym)
            first = f"; the prices of {sym} start {frame.index.min().date()}" if frame is not None and len(frame) else ""
            table.loc[table.index[i], "note"] = (
                f"{table['note'].iloc[i]} ({int(outcomes['n_est'].iloc[i])} valid of the {length} sessions of "
                f"the estimation window {est}, at least {self.params.min_estimation_obs} needed{first})"
            )

    def partial_cars(self, results: "EventStudyResults | None" = None) -> "pd.DataFrame":
        """The CARs of estimated pairs that cover fewer sessions than their window, and why.

        A CAR window can run past the security's last price (a window longer than the data
        after a recent event: the pair is flagged ``event_window_truncated``), start before its
        first price, or contain sessions without a return (a halt). Such CARs are sums over the
        sessions that have a return; ``caar`` (``n_partial``) and ``tests()`` leave them out.

        Parameters
        ----------
        results : EventStudyResults, optional
            Default :attr:`results` (every catalog event).

        Returns
        -------
        DataFrame
            One row per (pair, window) with ``n_days`` below the window length: ``event_id,
            symbol, window, t1, t2, n_days, length``, ``after_last`` / ``before_first`` (sessions
            of the window past the security's last price / before its first price),
            ``missing`` (sessions inside the data without a return), ``first_date`` /
            ``last_date`` (the first and last session of the pair's event window within the
            security's data: its first / last price where the window is cut there) and ``remark``
            (one sentence, e.g. ``car[0,+1000] covers 125 of 1001 sessions: the window runs
            past the last price (2026-02-20)``).

        Examples
        --------
        A thousand-session window after an August 2025 event runs past the snapshot's prices:

        >>> from screener.analysis import Analysis
        >>> a = Analysis(windows=["0,5", "0,1000"])
        >>> res = a.study_events(["intel-us-government-stake-2025-08"])
        >>> partial = a.partial_cars(res)
        >>> print(partial[["symbol", "window", "n_days", "after_last", "last_date"]].to_string(index=False))
        symbol    window  n_days  after_last  last_date
          INTC (0, 1000)     169         832 2026-04-24
           GFS (0, 1000)     236         765 2026-07-31
           TSM (0, 1000)     125         876 2026-02-20
          SOXX (0, 1000)     241         760 2026-08-07
        >>> res.caar[["window", "n", "n_partial"]].to_string(index=False).splitlines()[1:]
        ['   (0, 5) 4          0', '(0, 1000) 0          4']
        """
        import numpy as np
        import pandas as pd

        from screener.report.model import car_column

        res = self.results if results is None else results
        columns = ["event_id", "symbol", "window", "t1", "t2", "n_days", "length", "after_last", "before_first",
                   "missing", "first_date", "last_date", "remark"]
        a = res.arrays
        if not res.n_pairs:
            return pd.DataFrame(columns=columns)
        car = res.car
        valid = a.evt_day >= 0  # a pair's sessions are one block of its event window; -1 is padding
        L = valid.shape[1]
        i_first = valid.argmax(axis=1)
        i_last = L - 1 - valid[:, ::-1].argmax(axis=1)
        rows = np.arange(len(valid))
        first_day, last_day = a.evt_day[rows, i_first], a.evt_day[rows, i_last]
        frames = []
        for w in res.windows:
            sub = car[(car["t1"] == w[0]) & (car["t2"] == w[1])]
            nd = sub["n_days"].to_numpy(dtype=np.int64)
            length = w[1] - w[0] + 1
            idx = np.flatnonzero(nd < length)
            if not len(idx):
                continue
            s = a.window_slice(w)
            pos = np.arange(s.start, s.stop)[None, :]
            after = (pos > i_last[idx, None]).sum(axis=1)
            before = (pos < i_first[idx, None]).sum(axis=1)
            frames.append(pd.DataFrame({
                "event_id": sub["event_id"].to_numpy()[idx], "symbol": sub["symbol"].to_numpy()[idx],
                "window": sub["window"].to_numpy()[idx], "t1": w[0], "t2": w[1], "n_days": nd[idx],
                "length": length, "after_last": after, "before_first": before,
                "missing": length - nd[idx] - after - before,
                "first_date": pd.to_datetime(first_day[idx], unit="D"),
                "last_date": pd.to_datetime(last_day[idx], unit="D"),
            }))
        if not frames:
            return pd.DataFrame(columns=columns)
        out = pd.concat(frames, ignore_index=True)
        remarks = []
        for r in out.itertuples(index=False):
            why = []
            if r.after_last:
                why.append(f"the window runs past the last price ({r.last_date.date()})")
            if r.before_first:
                why.append(f"the window starts before the first price ({r.first_date.date()})")
            if r.missing:
                why.append(f"{r.missing} session{'s' if r.missing != 1 else ''} without a return (e.g. a halt)")
            remarks.append(f"{car_column((r.t1, r.t2))} covers {r.n_days} of {r.length} sessions: {', '.join(why)}")
        out["remark"] = remarks
        return out[columns]

    def scar(self, window: tuple[int, int] | None = None) -> "pd.DataFrame":
        """Per pair: CAR, its sd and the standardised CAR ``scar = car / car_sd`` on one window."""
        import numpy as np

        w = window or self.params.exposure_window
        car = self.results.car
        car = car[(car["t1"] == w[0]) & (car["t2"] == w[1])].reset_index(drop=True)
        sd = car["car_sd"].to_numpy(dtype=float)
        with np.errstate(invalid="ignore", divide="ignore"):
            car["scar"] = np.where(sd > 0, car["car"].to_numpy(dtype=float) / sd, np.nan)
        return car

    # ------------------------------------------------------------------ screening metrics
    @cached_property
    def metrics(self) -> "pd.DataFrame":
        """Screening metrics of every universe symbol with prices (one row per symbol)."""
        import pandas as pd

        from screener import calendars
        from screener.metrics import METRIC_COLUMNS, screening_metrics
        from screener.prices import price_panel

        u = self.universe
        have = [s for s in u["symbol"] if s in self.prices]
        frames = {s: self.prices[s] for s in have}
        mics = dict(zip(u["symbol"], u["exchange"]))
        as_of = self.as_of
        sessions = {}
        for s in have:
            first = frames[s].index.min() if len(frames[s]) else None
            if first is None or pd.isna(as_of):
                continue
            # (an as_of past the calendar's known sessions: each security is measured up to
            # its own last price anyway, see the as_of note)
            last_known = calendars.exchange_sessions(calendars.calendar_name(s, mics[s])).last_session
            sessions[s] = calendars.sessions_for(s, first, min(max(as_of, first), last_known), mic=mics[s])
        bench = {s: b for s, b in self.benchmarks.items() if s in have}
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            m = screening_metrics(
                price_panel(frames, "adj_close"), volume=price_panel(frames, "volume"),
                close=price_panel(frames, "close"), benchmark_returns=self.benchmark_returns,
                benchmarks=bench, currencies=dict(zip(u["symbol"], u["currency"])), sessions=sessions,
                as_of=as_of,
            ) if have else pd.DataFrame(columns=list(METRIC_COLUMNS))
        self._collect(caught)
        missing = [s for s in u["symbol"] if s not in self.prices]
        if missing:
            blank = pd.DataFrame({"symbol": missing, "currency": [dict(zip(u["symbol"], u["currency"]))[s] for s in missing]})
            m = pd.concat([m, blank], ignore_index=True)
            for key in ("vol_60d_n", "beta_n", "max_drawdown_1y_n", "adv_60d_n", "coverage_1y_expected",
                        "coverage_1y_observed"):
                m[key] = m[key].fillna(0).astype("int64")
        m.attrs["as_of"] = as_of
        return m

    @cached_property
    def universe_metrics(self) -> "pd.DataFrame":
        """The universe's descriptive columns (:data:`UNIVERSE_COLUMNS`) with the screening
        metrics, one row per universe symbol: the start of every screen."""
        metrics = self.metrics.drop(columns=["currency"])
        frame = self.universe[list(UNIVERSE_COLUMNS)].merge(metrics, on="symbol", how="left", validate="one_to_one")
        frame.attrs = {"as_of": self.as_of}
        return frame

    # ------------------------------------------------------------------ exposure
    @cached_property
    def exposure_universe(self) -> "pd.DataFrame":
        """The securities theme exposure is measured on: equities and ETFs (not indices)."""
        u = self.universe
        return u[u["asset_type"] != "index"].reset_index(drop=True)

    @cached_property
    def text_exposure(self) -> "pd.DataFrame | None":
        """Text relevance per (symbol, theme), or ``None`` without source documents."""
        from screener.exposure import text_relevance

        docs = self.documents
        if not docs:
            return None
        return text_relevance(docs, _joined(self.exposure_universe), _joined(self.themes), unit=self.params.text_unit)

    @cached_property
    def event_exposure(self) -> "pd.DataFrame | None":
        """Event response per (symbol, theme) on the exposure window, or ``None`` without pairs."""
        from screener.exposure import event_response

        scar = self.scar()
        scar = scar[scar["symbol"].isin(set(self.exposure_universe["symbol"]))]
        if scar.empty:
            self._note("no estimated event-firm pairs: event response left out of the exposure")
            return None
        known = set(self.themes["theme_id"])
        pairs = [(e, [t for t in ts if t in known]) for e, ts in zip(self.catalog["event_id"], self.catalog["themes"])]
        themes_of = {e: ts for e, ts in pairs if ts}
        scar = scar[scar["event_id"].isin(themes_of)]
        if scar.empty:
            return None
        return event_response(scar[["event_id", "symbol", "scar", "expected_sign"]], themes_of)

    @cached_property
    def return_exposure(self) -> "pd.DataFrame | None":
        """Loading on each theme factor controlling for the benchmark, or ``None`` without returns."""
        from screener.exposure import return_exposure

        r = self.returns.returns
        symbols = [s for s in self.exposure_universe["symbol"] if s in r.columns and s in self.benchmarks]
        if not symbols:
            self._note("no security has both returns and a benchmark: return exposure left out")
            return None
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            out = return_exposure(r, _joined(self.themes), self.benchmark_returns, self.benchmarks,
                                  sessions=self.returns.sessions, as_of=self.as_of, symbols=symbols)
        self._collect(caught)
        return out

    @cached_property
    def exposure(self) -> "pd.DataFrame":
        """The composite exposure with every component column and its N, one row per (symbol, theme).

        Rows cover every exposure-universe security and every theme, whether or not a
        component could be measured for it.
        """
        import pandas as pd

        from screener.exposure import COMPONENT_COLUMNS, composite_exposure

        components = {name: frame for name, frame in (
            ("text", self.text_exposure), ("event", self.event_exposure), ("return", self.return_exposure))
            if frame is not None}
        grid = pd.MultiIndex.from_product(
            [list(self.exposure_universe["symbol"]), list(self.themes["theme_id"])], names=["symbol", "theme_id"]
        ).to_frame(index=False)
        if not components:
            self._note("no exposure component could be computed")
            comp = grid.assign(composite=float("nan"), composite_n_components=0, composite_weight=0.0,
                               composite_rank=pd.array([pd.NA] * len(grid), dtype="Int64"))
        else:
            weights = {k: v for k, v in self.params.weights.items() if k in components}
            if not any(weights.values()):
                weights = None
            comp = composite_exposure(components, weights)
            comp = grid.merge(comp, on=["symbol", "theme_id"], how="left")
        # The same columns whether or not a component could be measured (e.g. text relevance
        # without the source documents): its value and z-score NaN, its N 0.
        for name, (value_col, n_col) in COMPONENT_COLUMNS.items():
            if name not in components:
                comp[value_col] = float("nan")
                comp[n_col] = 0
                comp[f"z_{name}"] = float("nan")
        # An N is a count: a component not measured for a row rests on 0 observations.
        for col in _COUNT_COLUMNS:
            if col in comp.columns:
                comp[col] = comp[col].fillna(0).astype("int64")
        comp = comp.sort_values(["theme_id", "composite_rank", "symbol"], na_position="last", kind="stable")
        return comp.reset_index(drop=True)

    # ------------------------------------------------------------------ running and provenance
    def compute(self, stages: Iterable[str] | None = None,
                progress: Callable[[str, int, int], None] | None = None) -> "Analysis":
        """Compute the stages now (all by default), calling ``progress(stage, i, n)`` before each.

        Returns
        -------
        Analysis
            ``self``.
        """
        todo = list(stages) if stages is not None else list(STAGES)
        unknown = [s for s in todo if s not in STAGES]
        if unknown:
            raise InputError(f"unknown stage(s) {', '.join(unknown)}; valid: {', '.join(STAGES)}")
        for i, stage in enumerate(todo):
            if progress is not None:
                progress(stage, i, len(todo))
            if stage == "seeds":
                _ = self.seeds
            else:
                getattr(self, stage)
        return self

    @cached_property
    def provenance(self) -> dict[str, Any]:
        """How to reproduce the numbers: versions, parameters, price source, checksums."""
        import platform

        import numpy as np
        import pandas as pd

        from screener._version import __version__
        from screener.prices import SnapshotSource

        src = self.source
        source: dict[str, Any] = {"name": getattr(src, "name", type(src).__name__)}
        path = getattr(src, "path", None) or getattr(src, "root", None) or getattr(src, "dir", None)
        if path is not None:
            source["path"] = str(path)
        manifest_sha = None
        if isinstance(src, SnapshotSource):
            manifest = Path(src.path) / "manifest.json"
            manifest_sha = _sha256(manifest)
            source["manifest_start"] = src.manifest.get("start")
        seeds = {name: _sha256(p) for name, p in self.seed_paths.items() if p.is_file()}
        docs_listing = self.seed_paths["events"].parent / "documents.csv"
        if docs_listing.is_file():
            seeds["documents"] = _sha256(docs_listing)
        documents = {}
        if self.documents_dir is not None:
            for name in sorted(self.documents):
                documents[name] = _sha256(self.documents_dir / name)
        as_of = self.as_of
        return {
            "package": "semiscreen",
            "package_version": __version__,
            "parameters": self.params.to_dict() | {"as_of": None if pd.isna(as_of) else str(as_of.date())},
            "price_source": source,
            "snapshot_manifest_sha256": manifest_sha,
            "seed_files_sha256": seeds,
            "documents_sha256": documents,
            "unavailable_symbols": self.unavailable_symbols,
            "python": platform.python_version(),
            "pandas": pd.__version__,
            "numpy": np.__version__,
        }


def _joined(frame: "pd.DataFrame") -> "pd.DataFrame":
    """``frame`` with its list cells (aliases, keywords, core symbols) as ``;``-joined text.

    The loaders return lists; the exposure functions read ``;``-separated cells.
    """
    out = frame.copy()
    for col in out.columns:
        if out[col].dtype == object and out[col].map(lambda v: isinstance(v, (list, tuple))).any():
            out[col] = out[col].map(lambda v: ";".join(map(str, v)) if isinstance(v, (list, tuple)) else v)
    return out


def _empty_returns() -> "pd.DataFrame":
    import pandas as pd

    return pd.DataFrame(index=pd.DatetimeIndex([], name="date", dtype="datetime64[ns]"))


def _unknown_message(what: str, value: str, valid: Sequence[str]) -> str:
    """``unknown <what> 'x'. Did you mean 'y'? Valid: ...``."""
    import difflib

    close = difflib.get_close_matches(str(value), list(valid), n=3, cutoff=0.5)
    hint = f" Did you mean {' or '.join(map(repr, close))}?" if close else ""
    return f"unknown {what} {value!r}.{hint} Valid: {', '.join(valid)}"


def _name_overlapping_events(table: "pd.DataFrame", res: "EventStudyResults") -> None:
    """In the notes of ``overlapping_event`` pairs, name the other events and the window they
    fall in (from ``res.overlaps``), in place of the generic remark."""
    from events.study import OUTCOMES

    flagged = (table["outcome"] == "overlapping_event").to_numpy()
    if not flagged.any():
        return
    ov = res.overlaps
    text = {}
    for (event_id, symbol), group in ov.groupby(["event_id", "symbol"], sort=False):
        parts = []
        for window in ("estimation", "event"):
            others = list(dict.fromkeys(group.loc[group["window"] == window, "other_event_id"]))
            if others:
                parts.append(f"in its {window} window: {', '.join(others)}")
        text[(event_id, symbol)] = "estimated; another event of the same security falls " + "; ".join(parts)
    generic = OUTCOMES["overlapping_event"]
    keys = [k for k, f in zip(zip(table["event_id"], table["symbol"]), flagged) if f]
    table.loc[flagged, "note"] = [n.replace(generic, text[k], 1) if k in text else n
                                  for k, n in zip(keys, table.loc[flagged, "note"])]
