"""``semiscreen study``: the event study of chosen catalog events (or of your own event files)."""

from __future__ import annotations

from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Optional

import typer

from screener.cli._output import OutputFormat, plural

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

    from screener.analysis import Analysis

__all__ = ["register", "make_analysis", "progress_reporter", "partial_notes", "relevant_notes", "cli_model",
           "require_prices", "unestimated_error", "CLI_MODELS", "MODEL_HELP", "ESTIMATION_HELP", "WINDOW_HELP"]

#: The models the command line offers, in its spelling (the Python API also takes ``_``).
CLI_MODELS = ("market", "market-adjusted", "constant-mean", "scholes-williams", "dimson")
MODEL_HELP = ("Expected-return model: market (default), market-adjusted, constant-mean, scholes-williams, dimson "
              "(the factor model is in the Python API).")
ESTIMATION_HELP = "Estimation window FIRST,LAST in the security's sessions relative to day 0."
WINDOW_HELP = "CAR window FIRST,LAST (repeatable; default 0,0 -1,1 0,5)."


class StudyPart(str, Enum):
    all = "all"
    cars = "cars"
    tests = "tests"


_ANALYSES: dict[Any, "Analysis"] = {}


def _file_key(value: Any) -> Any:
    if isinstance(value, Path):
        try:
            return (str(value.resolve()), value.stat().st_mtime_ns)
        except OSError:
            return str(value)
    if isinstance(value, list):
        return tuple(value)
    return value


def cli_model(value: str) -> str:
    """The ``--model`` value checked against :data:`CLI_MODELS` (``_`` read as ``-``).

    Parameters
    ----------
    value : str
        What the user typed after ``--model``.

    Returns
    -------
    str
        The model in the command line's spelling, e.g. ``market-adjusted``.

    Raises
    ------
    InputError
        ``factor`` (it needs factor returns, which only the Python API takes) or an unknown
        model; the message lists the valid ones in the command line's spelling.
    """
    import difflib

    from screener.errors import InputError

    name = value.strip().lower().replace("_", "-")
    if name in CLI_MODELS:
        return name
    valid = ", ".join(CLI_MODELS)
    if name == "factor":
        raise InputError("--model factor needs factor returns, which the command line cannot take; the factor "
                         "model is available from Python: EventStudy(returns, market=..., model=\"factor\", "
                         f"factors=...); valid here: {valid}")
    close = difflib.get_close_matches(name, CLI_MODELS, n=1, cutoff=0.6)
    hint = f" Did you mean {close[0]!r}?" if close else ""
    raise InputError(f"--model {value!r} is not a model.{hint} Valid: {valid}")


def _source_hint() -> str:
    """What to do when the price source the global options chose lacks prices."""
    from screener.cli._app import settings

    if settings.prices_dir is not None:
        return f"; add their price files (SYMBOL.csv or SYMBOL.parquet) to {settings.prices_dir}"
    if settings.cache_dir is not None:
        if settings.offline:
            return (f"; --offline reads only the cache in {settings.cache_dir}: fill it first with `semiscreen "
                    f"--cache-dir {settings.cache_dir} fetch SYMBOL...` (or --prices DIR), or drop --offline")
        return f"; fill the cache with `semiscreen --cache-dir {settings.cache_dir} fetch SYMBOL...` or use --prices DIR"
    return "; the bundled snapshot lacks them: read other prices with --prices DIR or --cache-dir DIR"


def require_prices(analysis: "Analysis") -> None:
    """Raise :class:`~screener.errors.DataUnavailableError` (exit 3) if the source has no prices at all.

    Parameters
    ----------
    analysis : Analysis
        The analysis of the command (its prices are read here).

    Raises
    ------
    DataUnavailableError
        None of the symbols the analysis needs has prices in the source.
    """
    from screener.errors import DataUnavailableError

    if not analysis.prices:
        n = len(analysis.symbols)
        raise DataUnavailableError(
            f"no prices at all: the {analysis.source_name} source has none of the {n} symbols the analysis "
            f"needs (e.g. {', '.join(analysis.symbols[:3])}){_source_hint()}"
        )


def unestimated_error(analysis: "Analysis", cars: "pd.DataFrame", shown: bool = True) -> Exception:
    """The error of a study in which no event-firm pair could be estimated.

    Parameters
    ----------
    analysis : Analysis
        The analysis that ran the study.
    cars : DataFrame
        Its :meth:`~screener.analysis.Analysis.car_table` (``symbol`` and ``outcome`` are read).
    shown : bool
        Whether the CAR table was printed (the message points to it, or to ``--part cars``).

    Returns
    -------
    DataUnavailableError or InputError
        :class:`~screener.errors.DataUnavailableError` (exit 3) when every pair failed for lack
        of prices (``no_data``, ``unknown_symbol``, or ``no_benchmark`` because the benchmark has
        no prices), else :class:`~screener.errors.InputError` (exit 2). The message gives the
        outcome counts.
    """
    from screener.errors import DataUnavailableError, InputError

    counts = cars["outcome"].value_counts()
    text = ", ".join(f"{k}: {int(v)}" for k, v in counts.items())
    head = f"none of the {plural(len(cars), 'event-firm pair')} could be estimated ({text})"
    benchmark = dict(zip(analysis.universe["symbol"], analysis.universe["benchmark"]))
    # (only the pairs' securities and benchmarks: not the whole universe, for an error message)
    missing = set(analysis.unavailable_among(
        [*cars["symbol"], *(b for b in map(benchmark.get, cars["symbol"]) if isinstance(b, str))]))
    lacks_prices = [
        o in ("no_data", "unknown_symbol") or (o == "no_benchmark" and benchmark.get(s) in missing)
        for s, o in zip(cars["symbol"], cars["outcome"])
    ]
    if all(lacks_prices):
        return DataUnavailableError(f"{head}: no usable prices for them in the {analysis.source_name} source"
                                    f"{_source_hint()}")
    why = "each pair's note in the CAR table says why" if shown else "each pair's note (--part cars) says why"
    if "insufficient_estimation" in counts.index:
        why += ("; too few estimation returns: shorten --estimation, or read prices that start earlier "
                "(--prices DIR)")
    return InputError(f"{head}; {why}")


def make_analysis(**kwargs: Any) -> "Analysis":
    """An :class:`~screener.analysis.Analysis` on the price source the global options choose.

    Analyses are reused within one process for the same options, source and (unchanged) files,
    so repeated ``screener.cli.main([...])`` calls from a notebook or a test do not recompute.
    """
    import os

    from screener.analysis import Analysis
    from screener.cli._app import settings

    key = (settings.prices_dir, settings.cache_dir, settings.offline, os.environ.get("SEMISCREEN_DOCUMENTS"),
           tuple(sorted((k, _file_key(v)) for k, v in kwargs.items())))
    if key in _ANALYSES:
        return _ANALYSES[key]
    source = None
    if settings.prices_dir is not None or settings.cache_dir is not None:
        from screener.prices import open_source

        source = open_source(settings.prices_dir, settings.cache_dir, settings.offline, quiet=settings.quiet)
    analysis = Analysis(source, **kwargs)
    _ANALYSES.clear()  # keep one: an analysis holds every price frame
    _ANALYSES[key] = analysis
    return analysis


class progress_reporter:  # noqa: N801 - used as a context manager, reads like a function
    """A rich progress bar on stderr, silent when stderr is not a terminal or with ``--quiet``.

    Call the object with ``(stage, i, n)`` (the signature of ``Analysis.compute``'s callback).
    """

    def __init__(self, total: int, description: str = "working") -> None:
        import sys

        from screener.cli._app import settings

        self.enabled = sys.stderr.isatty() and not settings.quiet
        self.total = total
        self.description = description
        self._progress: Any = None
        self._task: Any = None

    def __enter__(self) -> "progress_reporter":
        if self.enabled:
            from rich.console import Console
            from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

            self._progress = Progress(TextColumn("{task.description}"), BarColumn(), TimeElapsedColumn(),
                                      console=Console(stderr=True), transient=True)
            self._progress.__enter__()
            self._task = self._progress.add_task(self.description, total=self.total)
        return self

    def __call__(self, stage: str, i: int | None = None, n: int | None = None) -> None:
        if self._progress is not None:
            self._progress.update(self._task, description=stage.replace("_", " "),
                                  completed=i if i is not None else None)

    def advance(self, stage: str) -> None:
        if self._progress is not None:
            self._progress.update(self._task, description=stage.replace("_", " "), advance=1)

    def __exit__(self, *exc: Any) -> None:
        if self._progress is not None:
            self._progress.update(self._task, completed=self.total)
            self._progress.__exit__(*exc)


def _tests_table(results: Any) -> "pd.DataFrame":
    """The test table with windows labelled ``[t1,t2]`` (empty when no pair was estimated)."""
    import warnings

    import pandas as pd

    from screener.report.model import window_label

    columns = ["window", "test", "estimate", "statistic", "pvalue", "n", "df"]
    if results.n_pairs == 0:
        return pd.DataFrame(columns=columns)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        t = results.tests()
    t = t.assign(window=[window_label((int(a), int(b))) for a, b in zip(t["t1"], t["t2"])])
    return t[columns]


def register(app: typer.Typer) -> None:
    """Add the ``study`` command to ``app``."""

    @app.command("study")
    def study_command(
        event_ids: Annotated[list[str], typer.Argument(metavar="EVENT_ID...", help="Event ids (see `semiscreen events`).")],
        model: Annotated[str, typer.Option("--model", "-m", help=MODEL_HELP)] = "market",
        estimation: Annotated[str, typer.Option("--estimation", help=ESTIMATION_HELP)] = "-250,-11",
        window: Annotated[Optional[list[str]], typer.Option("--window", "-w", metavar="FIRST,LAST", help=WINDOW_HELP)] = None,
        events_file: Annotated[Optional[Path], typer.Option("--events-file", help="An events CSV instead of the project's.", dir_okay=False)] = None,
        securities_file: Annotated[Optional[Path], typer.Option("--securities-file", help="An event-securities CSV instead of the project's.", dir_okay=False)] = None,
        part: Annotated[StudyPart, typer.Option("--part", help="Which table to print: cars, tests or all (csv: one of cars, tests; json: all is one object).")] = StudyPart.all,
        fmt: Annotated[OutputFormat, typer.Option("--format", "-f", help="Output format.")] = OutputFormat.table,
        role: Annotated[Optional[list[str]], typer.Option("--role", metavar="ROLE[,ROLE]", help="Keep only securities with these roles (primary, peer, competitor, supplier, customer, index; repeatable or comma-separated): the CAAR and tests are computed on them.")] = None,
    ) -> None:
        """Event study of EVENT_ID...: the per-firm CAR table and the test table.

        Each security is studied on its own exchange's sessions against its benchmark from the
        universe. Pairs that cannot be estimated are listed with their outcome (e.g. no_data);
        if none can be, the command exits 3 (no prices for them) or 2 (another reason).
        """
        import json
        import re
        import sys

        from screener.cli._output import emit, note
        from screener.errors import InputError

        if fmt is OutputFormat.csv and part is StudyPart.all:
            raise InputError("--format csv prints one table: add --part cars (the per-firm CARs) or --part tests "
                             "(the test table); --format json gives both in one object")
        model = cli_model(model)
        a = make_analysis(model=model, estimation=estimation, windows=window or None,
                          events_file=events_file, securities_file=securities_file)
        ids = list(dict.fromkeys(event_ids))
        earlier = len(a.notes)  # notes of an earlier study in this process are not repeated
        unlinked = _events_without_securities(a, ids)
        if unlinked and len(unlinked) == len(ids):
            raise InputError(_no_pairs_message(a, unlinked, securities_file is not None))
        with progress_reporter(1, "event study") as bar:
            bar("event study")
            res = a.study_events(ids)
        if role:
            roles = [r.strip() for item in role for r in item.split(",") if r.strip()]
            present = set(res.outcomes["role"].astype(str)) if "role" in res.outcomes.columns else set()
            if not roles:
                raise InputError(f"--role: no role given; roles there: {', '.join(sorted(present)) or 'none'}")
            unknown = [r for r in roles if r not in present]
            if len(unknown) == len(roles):
                raise InputError(f"--role {','.join(unknown)}: no such role among the securities of "
                                 f"{', '.join(ids)}; roles there: {', '.join(sorted(present)) or 'none'}")
            if unknown:  # e.g. --role primary,peer on an event without peers: keep the others
                note(f"note: no {' or '.join(unknown)} among the securities of {', '.join(ids)} "
                     f"(roles there: {', '.join(sorted(present))})")
            res = res.select(role=[r for r in roles if r in present])
        cars = a.car_table(res)
        cars["event_date"] = cars["event_date"].dt.strftime("%Y-%m-%d")
        tests = _tests_table(res)
        p = a.params
        failure = unestimated_error(a, cars, shown=part is not StudyPart.tests) if res.n_pairs == 0 else None
        if failure is not None:
            from screener.cli._app import settings

            settings.pending_exit = failure.exit_code  # (kept if the reader of the output leaves early)
        if fmt is OutputFormat.json and part is StudyPart.all:
            payload = {
                "parameters": {"model": p.model, "estimation": list(p.estimation),
                               "windows": [list(w) for w in p.windows]},
                "cars": json.loads(cars.to_json(orient="records", date_format="iso", force_ascii=False)),
                "tests": json.loads(tests.to_json(orient="records", force_ascii=False)),
            }
            sys.stdout.write(json.dumps(payload, ensure_ascii=False, indent=1) + "\n")
        else:
            if part in (StudyPart.all, StudyPart.cars):
                from screener.report.model import window_label

                scar_on = (f"; scar = car/sd on {window_label(p.exposure_window)}"
                           if "scar" in cars.columns else "")
                emit(cars, fmt, title=f"CARs: {plural(len(cars), 'event-firm pair')}, {model} model, "
                                      f"estimation {p.estimation}{scar_on}")
            if part is StudyPart.all and fmt is OutputFormat.markdown:
                sys.stdout.write("\n")
            if part in (StudyPart.all, StudyPart.tests):
                emit(tests, fmt, title=f"Tests ({plural(res.n_pairs, 'estimated pair')})")
        for message in relevant_notes(a.notes, set(cars["symbol"]), since=earlier):
            if res.n_pairs == 0 and re.match(r"^\d+ of \d+ event-firm pairs", message):
                continue  # the error below gives the outcome counts
            note(f"note: {message}")
        for message in partial_notes(a.partial_cars(res), res.n_pairs):
            note(f"note: {message}")
        if unlinked:
            note(f"note: {_no_pairs_message(a, unlinked, securities_file is not None, left_out=True)}")
        if failure is not None:
            raise failure


def _events_without_securities(analysis: "Analysis", event_ids: list[str]) -> list[str]:
    """The known ``event_ids`` with no row in the securities file (unknown ids are left to the study)."""
    known = set(analysis.catalog["event_id"])
    if any(e not in known for e in event_ids):
        return []  # study_events names the unknown id
    linked = set(analysis.event_securities["event_id"])
    return [e for e in event_ids if e not in linked]


def _shown(path: Path) -> str:
    """``path`` relative to the working directory when it lies below it, else as it is."""
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except (OSError, ValueError):
        return str(path)


def _no_pairs_message(analysis: "Analysis", event_ids: list[str], given: bool, left_out: bool = False) -> str:
    """Why ``event_ids`` have no event-firm pairs, and what to do."""
    path = _shown(analysis.seed_paths["event_securities"])
    which = ", ".join(map(repr, event_ids))
    what = plural(len(event_ids), "event").split(" ", 1)[1]
    them = "it" if len(event_ids) == 1 else "them"
    fix = (f"add rows (event_id, symbol, role, expected_sign) for {them}" if given else
           f"pass --securities-file FILE with rows (event_id, symbol, role, expected_sign) for {them}")
    if left_out:
        return f"the securities file {path} has no rows for {what} {which}: left out of the study; {fix}"
    return f"no event-firm pairs to study: the securities file {path} has no rows for {what} {which}; {fix}"


def partial_notes(partial: "pd.DataFrame", n_pairs: int) -> list[str]:
    """One line per CAR window whose CARs are partial for some pairs, saying why.

    Parameters
    ----------
    partial : DataFrame
        :meth:`screener.analysis.Analysis.partial_cars` of the results.
    n_pairs : int
        Estimated pairs of the results.

    Returns
    -------
    list of str
        E.g. ``CAR window [0,+1000] runs past the last price for 4 of 4 estimated pairs (last
        prices 2026-02-11..2026-08-07): ...``.
    """
    from screener.report.model import window_label

    out = []
    for (t1, t2), g in partial.groupby(["t1", "t2"], sort=False):
        label = window_label((int(t1), int(t2)))
        past = g[g["after_last"] > 0]
        if len(past):
            lo, hi = past["last_date"].min().date(), past["last_date"].max().date()
            when = f"last price {lo}" if lo == hi else f"last prices {lo}..{hi}"
            out.append(f"CAR window {label} runs past the last price for {len(past)} of {n_pairs} estimated "
                       f"pairs ({when}): their CARs cover fewer sessions and are left out of the CAAR and "
                       "tests; use a shorter window or later prices")
        early = g[(g["before_first"] > 0) & ~(g["after_last"] > 0)]
        if len(early):
            out.append(f"CAR window {label} starts before the first price for {len(early)} of {n_pairs} "
                       "estimated pairs: their CARs are partial and left out of the CAAR and tests")
        gaps = g[(g["missing"] > 0) & (g["after_last"] == 0) & (g["before_first"] == 0)]
        if len(gaps):
            out.append(f"CAR window {label} has sessions without a return (e.g. a halt) for {len(gaps)} of "
                       f"{n_pairs} estimated pairs: their CARs are partial and left out of the CAAR and tests")
    return out


def relevant_notes(notes: list[str], symbols: set[str], since: int = 0) -> list[str]:
    """The notes that name one of ``symbols``, and the study's own summary (notes from ``since`` on)."""
    import re

    out = []
    for i, message in enumerate(notes):
        named = set(re.findall(r"[A-Za-z0-9^][A-Za-z0-9.^=_-]*", message))
        if named & symbols or (i >= since and re.match(r"^\d+ of \d+ event-firm pairs", message)):
            out.append(message)
    return out
