"""``semiscreen study``: the event study of chosen catalog events (or of your own event files)."""

from __future__ import annotations

from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Optional

import typer

from screener.cli._output import OutputFormat

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

    from screener.analysis import Analysis

__all__ = ["register", "make_analysis", "progress_reporter", "partial_notes", "relevant_notes", "MODEL_HELP",
           "ESTIMATION_HELP", "WINDOW_HELP"]

MODEL_HELP = ("Expected-return model: market (default), market-adjusted, constant-mean, scholes-williams, dimson.")
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


def make_analysis(**kwargs: Any) -> "Analysis":
    """An :class:`~screener.analysis.Analysis` on the price source the global options choose.

    Analyses are reused within one process for the same options, source and (unchanged) files,
    so repeated ``screener.cli.main([...])`` calls from a notebook or a test do not recompute.
    """
    from screener.analysis import Analysis
    from screener.cli._app import settings

    key = (settings.prices_dir, settings.cache_dir, settings.offline,
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
        part: Annotated[StudyPart, typer.Option("--part", help="Which table to print: cars, tests or all.")] = StudyPart.all,
        fmt: Annotated[OutputFormat, typer.Option("--format", "-f", help="Output format.")] = OutputFormat.table,
    ) -> None:
        """Event study of EVENT_ID...: the per-firm CAR table and the test table.

        Each security is studied on its own exchange's sessions against its benchmark from the
        universe. Pairs that cannot be estimated are listed with their outcome (e.g. no_data).
        """
        import json
        import sys

        from screener.cli._output import emit, note

        a = make_analysis(model=model, estimation=estimation, windows=window or None,
                          events_file=events_file, securities_file=securities_file)
        earlier = len(a.notes)  # notes of an earlier study in this process are not repeated
        with progress_reporter(1, "event study") as bar:
            bar("event study")
            res = a.study_events(list(dict.fromkeys(event_ids)))
        cars = a.car_table(res)
        cars["event_date"] = cars["event_date"].dt.strftime("%Y-%m-%d")
        tests = _tests_table(res)
        p = a.params
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
                emit(cars, fmt, title=f"CARs: {len(cars)} event-firm pairs, {p.model} model, estimation {p.estimation}")
            if part is StudyPart.all and fmt in (OutputFormat.csv, OutputFormat.markdown):
                sys.stdout.write("\n")
            if part in (StudyPart.all, StudyPart.tests):
                emit(tests, fmt, title=f"Tests ({res.n_pairs} estimated pairs)")
        for message in relevant_notes(a.notes, set(cars["symbol"]), since=earlier):
            note(f"note: {message}")
        for message in partial_notes(a.partial_cars(res), res.n_pairs):
            note(f"note: {message}")


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
