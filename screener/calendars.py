"""Trading calendars: Yahoo symbol / MIC → exchange calendar, and announcement → day 0.

Every security is studied on its own exchange's sessions (``exchange_calendars``). This module
maps a Yahoo symbol (by its suffix, or an explicit listing MIC) to the calendar to use, builds
each calendar once over a FIXED range (:data:`CALENDAR_START` .. :data:`CALENDAR_END`, clipped
to what the calendar supports) so results never depend on today's date, and turns an
announcement (timestamp, or local date + timing) into day 0 on any exchange.

The day-0 rule
--------------
An announcement becomes an instant:

- a tz-aware timestamp is that instant;
- a date is the local date of the primary market ``P`` with a timing:
  ``before_open`` and ``unknown`` → just before ``P``'s open that day; ``during`` → just after
  ``P``'s open (the earliest the news could be out); ``after_close`` → just after ``P``'s close.
  On a date that is not a session of ``P`` (weekend, holiday) the open and close times of
  ``P``'s next session are placed on that date's local clock.

Day 0 on exchange ``X`` is the first session of ``X`` whose close is after that instant. Lunch
breaks are inside the session. See ``docs/prices.md`` for worked examples.
"""

from __future__ import annotations

import contextlib
import functools
import os
import re
import subprocess
import sys
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterable, Iterator, Sequence

import numpy as np
import pandas as pd

from screener.errors import CalendarError, InputError

if TYPE_CHECKING:  # pragma: no cover
    import exchange_calendars

__all__ = [
    "CALENDAR_START",
    "CALENDAR_END",
    "TIMINGS",
    "SUFFIX_TO_MIC",
    "SYMBOL_TO_MIC",
    "MIC_TO_CALENDAR",
    "ExchangeSessions",
    "listing_mic",
    "calendar_name",
    "get_calendar",
    "exchange_sessions",
    "sessions_for",
    "to_session",
    "announcement_instant",
    "day_zero",
    "day_zero_many",
    "prepare_calendars",
]

#: Every calendar is built from this date, so results never depend on when the code runs.
CALENDAR_START = pd.Timestamp("2015-01-01")
#: ... and to this date, or the calendar's own last session if earlier (XSHG: 2026-12-31).
CALENDAR_END = pd.Timestamp("2027-12-31")

#: Allowed values of an announcement's ``timing``.
TIMINGS = ("before_open", "during", "after_close", "unknown")

#: Yahoo symbol suffix → listing MIC. No suffix means a US listing.
SUFFIX_TO_MIC: dict[str, str] = {
    "": "XNYS",
    ".SS": "XSHG",
    ".SZ": "XSHE",
    ".HK": "XHKG",
    ".TW": "XTAI",
    ".KS": "XKRX",
    ".T": "XTKS",
    ".AS": "XAMS",
    ".DE": "XETR",
}

#: Symbols whose exchange the suffix does not tell (indices), → MIC of the calendar they follow.
SYMBOL_TO_MIC: dict[str, str] = {
    "^GSPC": "XNYS",
    "^IXIC": "XNYS",
    "^NDX": "XNYS",
    "^SOX": "XNYS",
    "^HSI": "XHKG",
    "^N225": "XTKS",
    "^KS11": "XKRX",
    "^TWII": "XTAI",
    # Euro Stoxx 50: constituents trade on several euro-area venues; Xetra's calendar
    # (TARGET holidays) is the documented choice.
    "^STOXX50E": "XETR",
    "000001.SS": "XSHG",
    "000300.SS": "XSHG",
    "000688.SS": "XSHG",
    "399006.SZ": "XSHE",
}

#: Listing MIC → exchange_calendars calendar name. Shenzhen has no calendar of its own in
#: exchange_calendars; it shares the Shanghai exchange's holidays, so XSHE uses XSHG.
MIC_TO_CALENDAR: dict[str, str] = {
    "XNYS": "XNYS",
    "XNAS": "XNYS",
    "ARCX": "XNYS",
    "BATS": "XNYS",
    "XASE": "XNYS",
    "XSHG": "XSHG",
    "XSHE": "XSHG",
    "XHKG": "XHKG",
    "XTAI": "XTAI",
    "XKRX": "XKRX",
    "XTKS": "XTKS",
    "XAMS": "XAMS",
    "XETR": "XETR",
}

_SUFFIX_RE = re.compile(r"(\.[A-Za-z]{1,3})$")


def listing_mic(symbol: str, mic: str | None = None) -> str:
    """The listing MIC of a Yahoo symbol.

    Parameters
    ----------
    symbol : str
        Yahoo symbol, e.g. ``"NVDA"``, ``"0981.HK"``, ``"^N225"``.
    mic : str, optional
        An explicit MIC (e.g. from the universe's ``exchange`` column); it wins over the guess.

    Returns
    -------
    str
        The MIC, e.g. ``"XHKG"``.

    Raises
    ------
    InputError
        The symbol's suffix (or index) is unknown; the message lists the known ones.
    """
    if mic is not None and str(mic).strip():
        return str(mic).strip().upper()
    if not isinstance(symbol, str) or not symbol.strip():
        raise InputError(f"symbol must be a non-empty string, got {symbol!r}")
    sym = symbol.strip()
    if sym.upper() in SYMBOL_TO_MIC:
        return SYMBOL_TO_MIC[sym.upper()]
    if sym.startswith("^"):
        raise InputError(
            f"unknown index symbol {sym!r}: no exchange known for it; known indices: "
            f"{', '.join(sorted(k for k in SYMBOL_TO_MIC if k.startswith('^')))} (or give its MIC explicitly)"
        )
    match = _SUFFIX_RE.search(sym)
    suffix = match.group(1).upper() if match else ""
    if suffix in SUFFIX_TO_MIC:
        return SUFFIX_TO_MIC[suffix]
    known = ", ".join(repr(s) if s else "'' (US)" for s in SUFFIX_TO_MIC)
    raise InputError(f"unknown Yahoo suffix {suffix!r} in symbol {sym!r}; known suffixes: {known}")


def calendar_name(symbol: str | None = None, mic: str | None = None) -> str:
    """The exchange_calendars name for a symbol or a MIC (an explicit MIC wins).

    Raises
    ------
    InputError
        Unknown suffix or a MIC with no calendar.
    """
    code = listing_mic(symbol, mic) if symbol is not None else (mic or "").strip().upper()
    if not code:
        raise InputError("give a symbol or a MIC")
    if code in MIC_TO_CALENDAR:
        return MIC_TO_CALENDAR[code]
    import exchange_calendars as xc

    if code in xc.get_calendar_names(include_aliases=False):
        return code
    raise InputError(
        f"no trading calendar for MIC {code!r}; known MICs: {', '.join(sorted(MIC_TO_CALENDAR))}"
    )


def _bounds(name: str) -> tuple[pd.Timestamp, pd.Timestamp]:
    from exchange_calendars.calendar_utils import _default_calendar_factories

    cls = _default_calendar_factories[name]
    end = CALENDAR_END
    bound_max = cls.bound_max()
    if bound_max is not None and bound_max < end:
        end = pd.Timestamp(bound_max).normalize()
    return CALENDAR_START, end


_HOLIDAY_RANGE_LOCK = threading.Lock()


@contextlib.contextmanager
def _holiday_range(start: pd.Timestamp, end: pd.Timestamp) -> Iterator[None]:
    """Make pandas holiday calendars default to ``start``..``end`` instead of 1970..2200.

    exchange_calendars builds a calendar's business-day offset from ``holidays()`` of its
    pandas holiday calendar, which without arguments spans
    ``AbstractHolidayCalendar.start_date``..``end_date`` (documented pandas defaults). For
    XKRX that is 80 years of lunar-date conversions (1.3 s of its 1.4 s). Sessions inside the
    calendar's bounds only depend on the holidays inside them, so the range given here (the
    bounds plus a year on each side, for observance shifts across a new year) yields the same
    arrays; ``tests/test_calendars.py`` compares them with an unrestricted build.
    """
    from pandas.tseries.holiday import AbstractHolidayCalendar as holiday_calendar

    with _HOLIDAY_RANGE_LOCK:
        saved = holiday_calendar.__dict__.get("start_date"), holiday_calendar.__dict__.get("end_date")
        if saved[0] is None or saved[1] is None:  # another pandas: leave it alone
            yield
            return
        holiday_calendar.start_date, holiday_calendar.end_date = start, end
        try:
            yield
        finally:
            holiday_calendar.start_date, holiday_calendar.end_date = saved


@functools.lru_cache(maxsize=None)
def get_calendar(name: str) -> "exchange_calendars.ExchangeCalendar":
    """The exchange_calendars calendar ``name`` over the fixed range (built once, cached)."""
    import exchange_calendars as xc

    import warnings

    start, end = _bounds(name)
    margin = (pd.Timestamp(start.year - 1, 1, 1), pd.Timestamp(end.year + 1, 12, 31))
    with warnings.catch_warnings(), _holiday_range(*margin):
        # exchange_calendars' own pandas deprecations are not the user's business
        warnings.simplefilter("ignore", DeprecationWarning)
        warnings.simplefilter("ignore", FutureWarning)
        return xc.get_calendar(name, start=start, end=end)


@dataclass(frozen=True)
class ExchangeSessions:
    """A calendar's sessions with their open and close instants: all day 0 needs.

    Attributes
    ----------
    name : str
        exchange_calendars name (``"XNYS"``).
    tz : str
        The exchange's time zone.
    sessions : DatetimeIndex
        Session dates (tz-naive), increasing.
    opens, closes : ndarray of int64
        Open and close of each session, nanoseconds since the epoch, UTC.
    """

    name: str
    tz: str
    sessions: pd.DatetimeIndex
    opens: np.ndarray
    closes: np.ndarray

    @property
    def first_session(self) -> pd.Timestamp:
        return self.sessions[0]

    @property
    def last_session(self) -> pd.Timestamp:
        return self.sessions[-1]

    def bounds_text(self) -> str:
        return f"{self.first_session.date()}..{self.last_session.date()}"

    def check_date(self, date: pd.Timestamp, what: str = "date") -> None:
        """Raise CalendarError if ``date`` is outside the calendar's bounds."""
        if date < self.first_session or date > self.last_session:
            raise CalendarError(
                f"{what} {date.date()} is outside the {self.name} calendar ({self.bounds_text()}); "
                "semiscreen cannot tell its sessions there"
            )


_ISO_RE = re.compile(r"^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?)?$")


def _timestamp(value: Any, what: str = "date") -> pd.Timestamp:
    """``value`` as a Timestamp; a string must be ISO 8601 (``YYYY-MM-DD[THH:MM[:SS][±HH:MM]]``).

    Raises
    ------
    InputError
        Missing, not ISO (``25-08-22`` would otherwise be read as 2022-08-25), not a calendar
        date (``2025-02-30``) or outside the years pandas can hold.
    """
    if isinstance(value, str):
        text = value.strip()
        if not _ISO_RE.match(text):
            raise InputError(f"{what} {value!r} is not an ISO date YYYY-MM-DD (or YYYY-MM-DDTHH:MM±HH:MM)")
        value = text
    try:
        ts = pd.Timestamp(value)
    except (ValueError, TypeError, OverflowError) as exc:
        raise InputError(f"{what} {value!r} is not a valid date ({exc})") from None
    if ts is pd.NaT:
        raise InputError(f"{what} is missing")
    try:
        return ts.as_unit("ns")
    except (ValueError, OverflowError):
        raise CalendarError(f"{what} {value!r} is outside every exchange calendar") from None


def _cache_root() -> Path | None:
    env = os.environ.get("SEMISCREEN_CALENDAR_CACHE")
    if env == "0":
        return None
    if env:
        return Path(env)
    try:
        from platformdirs import user_cache_dir

        return Path(user_cache_dir("semiscreen")) / "calendars"
    except Exception:  # pragma: no cover - platformdirs missing
        return None


def _build_sessions(name: str) -> ExchangeSessions:
    cal = get_calendar(name)
    sessions = pd.DatetimeIndex(cal.sessions).as_unit("ns")
    opens = pd.DatetimeIndex(cal.opens.to_numpy()).as_unit("ns").asi8.copy()
    closes = pd.DatetimeIndex(cal.closes.to_numpy()).as_unit("ns").asi8.copy()
    return ExchangeSessions(name, str(cal.tz), sessions, opens, closes)


def _cache_key(name: str) -> str:
    import exchange_calendars as xc

    return f"{name}-{xc.__version__}-{CALENDAR_START.date()}-{CALENDAR_END.date()}.npz"


def _read_cache(root: Path, name: str) -> ExchangeSessions | None:
    """The cached arrays of calendar ``name``, or None if the file is missing or damaged."""
    path = root / _cache_key(name)
    if not path.is_file():
        return None
    try:
        with np.load(path, allow_pickle=False) as z:
            result = ExchangeSessions(
                name,
                str(z["tz"]),
                pd.DatetimeIndex(z["sessions"].astype("datetime64[ns]")),
                z["opens"].astype("int64"),
                z["closes"].astype("int64"),
            )
    except Exception:  # truncated, not a zip, a key missing: rebuild
        return None
    n = len(result.sessions)
    if n == 0 or len(result.opens) != n or len(result.closes) != n:
        return None
    return result


def _write_cache(root: Path, name: str, result: ExchangeSessions) -> None:
    """Write the arrays atomically: a temporary file in ``root``, then renamed over the key.

    Readers (other processes included) see the old file, no file, or the whole new one; the
    temporary file is removed if writing fails.
    """
    from screener.files import atomic_write

    def write(tmp: Path) -> None:
        with open(tmp, "wb") as fh:  # (a file object: np.savez would add ".npz" to a path)
            np.savez(fh, tz=np.array(result.tz), sessions=result.sessions.asi8.astype("datetime64[ns]"),
                     opens=result.opens, closes=result.closes)

    atomic_write(root / _cache_key(name), write)


_MEMORY: dict[str, ExchangeSessions] = {}


def exchange_sessions(name: str) -> ExchangeSessions:
    """Sessions, opens and closes of calendar ``name`` (memory- and disk-cached).

    Building some calendars costs seconds (XKRX); the arrays are kept in the user cache dir
    (``calendars/``), keyed by the exchange_calendars version and the fixed range.
    ``$SEMISCREEN_CALENDAR_CACHE`` overrides that folder (``0`` disables it). To build several
    missing calendars at once, in parallel, see :func:`prepare_calendars`.
    """
    hit = _MEMORY.get(name)
    if hit is not None:
        return hit
    root = _cache_root()
    result = _read_cache(root, name) if root is not None else None
    if result is None:
        result = _build_sessions(name)
        if root is not None:
            try:
                _write_cache(root, name, result)
            except OSError:  # read-only cache dir: fine, just slower next time
                pass
    _MEMORY[name] = result
    return result


# ``exchange_sessions.cache_clear()`` forgets the calendars held in memory (not the disk cache).
exchange_sessions.cache_clear = _MEMORY.clear  # type: ignore[attr-defined]

#: Seconds to build a calendar here (exchange_calendars 4.13, 2 vCPU; others ~0.04 s): the
#: slowest are handed out first, and workers are only started when there is enough to build.
_BUILD_SECONDS: dict[str, float] = {
    "XKRX": 0.5, "XNYS": 0.07, "XHKG": 0.05, "XAMS": 0.04, "XTAI": 0.03, "XTKS": 0.03, "XETR": 0.02,
    "XSHG": 0.01,
}
_DEFAULT_BUILD_SECONDS = 0.04
#: A worker process needs ~0.4 s to start (imports) and competes for the cores: below about this
#: much work (the seeds' eight calendars: ~0.75 s) building here alone is as fast.
_PARALLEL_FROM_SECONDS = 1.0

_WORKER_CODE = "import sys; from screener.calendars import _worker_main; _worker_main(sys.argv[1])"


def _worker_main(root: str) -> None:
    """Body of a calendar worker process: build each name read from stdin into the cache ``root``.

    Protocol (one line each): the worker prints ``ready`` once its imports are done, then for
    every calendar name it reads, builds the arrays, writes the cache file and prints
    ``ok NAME`` (or ``failed NAME``). It stops at the end of its input.
    """
    import exchange_calendars  # noqa: F401 - the start-up cost, paid before "ready"

    out = sys.stdout
    out.write("ready\n")
    out.flush()
    for line in sys.stdin:
        name = line.strip()
        if not name:
            break
        try:
            _write_cache(Path(root), name, _build_sessions(name))
            status = "ok"
        except Exception:
            status = "failed"
        out.write(f"{status} {name}\n")
        out.flush()


def _start_worker(root: Path) -> "subprocess.Popen[str] | None":
    """A fresh interpreter running :func:`_worker_main`, or None if none can be started.

    A new interpreter (not ``multiprocessing``) so that the caller's ``__main__`` script is never
    imported again in the worker, whatever the platform's start method.
    """
    if not sys.executable or getattr(sys, "frozen", False):
        return None
    env = dict(os.environ)
    package_root = str(Path(__file__).resolve().parent.parent)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (package_root, env.get("PYTHONPATH", "")) if p)
    try:
        return subprocess.Popen(
            [sys.executable, "-c", _WORKER_CODE, str(root)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
            text=True, encoding="utf-8", env=env,
        )
    except (OSError, ValueError):
        return None


def _expect(proc: "subprocess.Popen[str]", reply: str) -> bool:
    """Read the worker's output up to the line ``reply`` (True), a ``failed`` line or its end."""
    assert proc.stdout is not None
    for line in proc.stdout:
        text = line.strip()
        if text == reply:
            return True
        if text.startswith("failed "):
            return False
    return False


def _build_parallel(names: Sequence[str], root: Path, workers: int, *, here: bool = True) -> None:
    """Build ``names`` into the cache ``root`` with ``workers`` worker processes (and this one).

    The names are handed out one at a time, slowest first, to whoever is free: this process
    (``here=True``) starts at once, each worker once its imports are done. A calendar whose
    worker fails or never starts is left for the caller, which builds it in-process.
    """
    from concurrent.futures import ThreadPoolExecutor

    todo = sorted(names, key=lambda n: -_BUILD_SECONDS.get(n, _DEFAULT_BUILD_SECONDS))
    lock = threading.Lock()
    state: dict[int, str] = {}  # worker -> "idle" (starting or between calendars) | "busy" | "done"
    procs: dict[int, "subprocess.Popen[str]"] = {}

    def claim() -> str | None:
        with lock:
            return todo.pop(0) if todo else None

    def feed(i: int) -> None:
        proc = _start_worker(root)
        with lock:
            if proc is None or state[i] == "done":  # not started, or no longer wanted
                state[i] = "done"
                if proc is not None:
                    proc.kill()
                    proc.wait()
                return
            procs[i] = proc
        assert proc.stdin is not None
        try:
            ok = _expect(proc, "ready")
            while ok:
                with lock:
                    if state[i] == "done" or not todo:
                        break
                    name = todo.pop(0)
                    state[i] = "busy"
                proc.stdin.write(name + "\n")
                proc.stdin.flush()
                ok = _expect(proc, f"ok {name}")  # failed: the caller builds it, this worker stops
                with lock:
                    state[i] = "idle" if ok else "done"
        except OSError:  # the worker died (broken pipe)
            pass
        finally:
            with lock:
                state[i] = "done"
            try:
                proc.stdin.close()
            except OSError:
                pass
            try:
                proc.wait(timeout=5)
            except subprocess.TimeoutExpired:  # pragma: no cover - a stuck worker
                proc.kill()
                proc.wait()

    state.update({i: "idle" for i in range(workers)})
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="semiscreen-calendars") as pool:
        futures = [pool.submit(feed, i) for i in range(workers)]
        try:
            while here and (name := claim()) is not None:
                exchange_sessions(name)
        except BaseException:
            with lock:
                todo.clear()
            raise
        finally:
            # nothing left to hand out: idle workers (still starting, or done with their
            # calendars) are not waited for
            with lock:
                for i, st in state.items():
                    if st == "idle" and not todo:
                        state[i] = "done"
                        if i in procs:
                            procs[i].kill()
            for f in futures:
                f.result()


def prepare_calendars(names: Iterable[str], *, max_workers: int | None = None) -> dict[str, ExchangeSessions]:
    """Make the sessions of several calendars ready at once, building missing ones in parallel.

    Calendars already in memory or in the disk cache are just loaded. When the ones missing from
    the disk cache would take more than about a second to build here (a worker process needs
    ~0.4 s to start; the seeds' eight calendars take ~0.75 s, so they are built here), they are
    built concurrently: this process and up to ``max_workers - 1`` worker processes (fresh
    interpreters, so the caller's ``__main__`` is never re-run) each take the next calendar,
    slowest first, and write it to the cache, from which it is then loaded. A worker that
    cannot start or fails leaves its calendars to this process. With the disk cache disabled
    (``$SEMISCREEN_CALENDAR_CACHE=0``) there is nowhere to hand the arrays back, so the
    calendars are built here, one after another.

    Parameters
    ----------
    names : iterable of str
        Calendar names or listing MICs (``"XKRX"``, ``"XNAS"``); repeats are fine.
    max_workers : int, optional
        Processes to use in all, this one included (default ``os.cpu_count()``); ``1`` builds
        serially in this process.

    Returns
    -------
    dict of str to ExchangeSessions
        Each calendar name (as :func:`calendar_name` gives it), in first-seen order.

    Raises
    ------
    InputError
        A name is not a known MIC or calendar.

    Examples
    --------
    >>> ready = prepare_calendars(["XNYS", "XNAS", "XSHG"])
    >>> list(ready)
    ['XNYS', 'XSHG']
    >>> ready["XSHG"].last_session
    Timestamp('2026-12-31 00:00:00')
    """
    wanted = list(dict.fromkeys(calendar_name(mic=str(n)) for n in names))
    missing = [n for n in wanted if n not in _MEMORY]
    if not missing:
        return {n: _MEMORY[n] for n in wanted}
    root = _cache_root()
    if root is not None:
        for n in missing:
            hit = _read_cache(root, n)
            if hit is not None:
                _MEMORY[n] = hit
        missing = [n for n in missing if n not in _MEMORY]
    limit = (os.cpu_count() or 1) if max_workers is None else int(max_workers)
    workers = min(limit, len(missing)) - 1  # this process is one of them
    if sum(_BUILD_SECONDS.get(n, _DEFAULT_BUILD_SECONDS) for n in missing) < _PARALLEL_FROM_SECONDS:
        workers = 0  # not worth starting a process
    if root is not None and workers >= 1:
        try:
            root.mkdir(parents=True, exist_ok=True)
        except OSError:  # cache folder not writable: build here
            workers = 0
        if workers >= 1:
            _build_parallel(missing, root, workers)
    return {n: exchange_sessions(n) for n in wanted}


def _sessions_of(symbol: str | None = None, mic: str | None = None) -> ExchangeSessions:
    return exchange_sessions(calendar_name(symbol, mic))


def sessions_for(symbol: str, start: Any = None, end: Any = None, *, mic: str | None = None) -> pd.DatetimeIndex:
    """The trading sessions of ``symbol``'s exchange between ``start`` and ``end`` (inclusive).

    Raises
    ------
    CalendarError
        ``start`` or ``end`` lies outside the calendar's bounds.
    """
    cal = _sessions_of(symbol, mic)
    lo = cal.first_session if start is None else _timestamp(start, "start").normalize()
    hi = cal.last_session if end is None else _timestamp(end, "end").normalize()
    cal.check_date(lo, "start")
    cal.check_date(hi, "end")
    s = cal.sessions
    return s[(s >= lo) & (s <= hi)]


def to_session(date: Any, symbol: str | None = None, *, mic: str | None = None, direction: str = "none") -> pd.Timestamp:
    """The session of ``date`` on a symbol's (or MIC's) exchange.

    Parameters
    ----------
    direction : {"none", "next", "previous"}
        What to do when ``date`` is not a session: raise (``"none"``), or take the next or the
        previous session.

    Raises
    ------
    CalendarError
        Not a session (with ``direction="none"``; the message names the neighbours), or outside
        the calendar's bounds.
    """
    if direction not in ("none", "next", "previous"):
        raise InputError(f"direction must be 'none', 'next' or 'previous', not {direction!r}")
    cal = _sessions_of(symbol, mic)
    d = _timestamp(date)
    if d.tzinfo is not None:
        raise InputError(f"to_session takes a date, not a timestamp with a time zone ({date!r})")
    d = d.normalize()
    cal.check_date(d)
    i = cal.sessions.searchsorted(d)
    if i < len(cal.sessions) and cal.sessions[i] == d:
        return d
    if direction == "next":
        return cal.sessions[i]
    if direction == "previous":
        return cal.sessions[i - 1]
    raise CalendarError(
        f"{d.date()} is not a {cal.name} session (previous {cal.sessions[i - 1].date()}, "
        f"next {cal.sessions[i].date()}); pass direction='next' or 'previous'"
    )


def _check_timing(timing: str) -> str:
    if timing not in TIMINGS:
        raise InputError(f"timing must be one of {', '.join(TIMINGS)}, not {timing!r}")
    return timing


def _instants(dates_ns: np.ndarray, timings: np.ndarray, cal: ExchangeSessions) -> np.ndarray:
    """UTC instants (ns) for local dates on ``cal`` (the primary market) with timings."""
    sessions_ns = cal.sessions.asi8
    idx = np.searchsorted(sessions_ns, dates_ns, side="left")
    if np.any(idx >= len(sessions_ns)):
        bad = pd.Timestamp(dates_ns[idx >= len(sessions_ns)][0])
        cal.check_date(bad, "announcement date")
    if np.any(dates_ns < sessions_ns[0]):
        cal.check_date(pd.Timestamp(dates_ns[dates_ns < sessions_ns[0]][0]), "announcement date")
    is_session = sessions_ns[idx] == dates_ns
    # Offsets of open/close from the session's local midnight, from the session itself or
    # (non-session dates) from the next session, applied to the date's own local midnight.
    ref = pd.DatetimeIndex(sessions_ns[idx]).tz_localize(cal.tz)
    own = pd.DatetimeIndex(dates_ns).tz_localize(cal.tz)
    ref_mid = ref.as_unit("ns").asi8
    own_mid = own.as_unit("ns").asi8
    open_ns = np.where(is_session, cal.opens[idx], own_mid + (cal.opens[idx] - ref_mid))
    close_ns = np.where(is_session, cal.closes[idx], own_mid + (cal.closes[idx] - ref_mid))
    out = np.where(timings == "after_close", close_ns + 1, open_ns - 1)
    out = np.where(timings == "during", open_ns + 1, out)
    return out


def _first_close_after(instants_ns: np.ndarray, cal: ExchangeSessions) -> np.ndarray:
    pos = np.searchsorted(cal.closes, instants_ns, side="right")
    if np.any(pos >= len(cal.closes)):
        bad = pd.Timestamp(instants_ns[pos >= len(cal.closes)][0], tz="UTC")
        raise CalendarError(
            f"no {cal.name} session closes after {bad.isoformat()}: the calendar ends on "
            f"{cal.last_session.date()} (bounds {cal.bounds_text()})"
        )
    if np.any(pos == 0):
        bad = pd.Timestamp(instants_ns[pos == 0][0], tz="UTC")
        if bad.value < cal.opens[0]:
            raise CalendarError(
                f"{bad.isoformat()} is before the {cal.name} calendar's first session "
                f"(bounds {cal.bounds_text()})"
            )
    return cal.sessions.asi8[pos]


def announcement_instant(announced_at: Any, timing: str = "unknown", primary_mic: str | None = None) -> pd.Timestamp:
    """The UTC instant an announcement stands for (see the module docstring).

    Parameters
    ----------
    announced_at : str, date or Timestamp
        A tz-aware timestamp (used as is) or a local date of the primary market.
    timing : {"before_open", "during", "after_close", "unknown"}
    primary_mic : str, optional
        The primary market's MIC; required for a date.
    """
    _check_timing(timing)
    ts = _timestamp(announced_at, "announcement")
    if ts.tzinfo is not None:
        return ts.tz_convert("UTC")
    if primary_mic is None:
        raise InputError(f"announcement {announced_at!r} is a date: give the primary market's MIC")
    if ts != ts.normalize():
        raise InputError(f"announcement {announced_at!r} has a time but no UTC offset; give one (e.g. +08:00)")
    cal = exchange_sessions(calendar_name(mic=primary_mic))
    ns = _instants(np.array([ts.as_unit("ns").value], dtype="int64"), np.array([timing]), cal)
    return pd.Timestamp(int(ns[0]), tz="UTC")


def day_zero(announced_at: Any, timing: str, mic: str, primary_mic: str | None = None) -> pd.Timestamp:
    """Day 0 of an announcement on exchange ``mic``: the first session that could react.

    Parameters
    ----------
    announced_at : str, date or Timestamp
        A tz-aware timestamp, or the local date of the primary market.
    timing : {"before_open", "during", "after_close", "unknown"}
        Relative to the primary market's session on that date (ignored for a timestamp).
    mic : str
        The exchange on which day 0 is wanted (a listing MIC, e.g. ``"XSHG"``).
    primary_mic : str, optional
        The primary market's MIC (default: ``mic``).

    Returns
    -------
    Timestamp
        The session date (tz-naive).

    Raises
    ------
    CalendarError
        The announcement falls outside a calendar's bounds.

    Examples
    --------
    >>> day_zero("2025-08-08", "after_close", "XSHG", primary_mic="XNYS")  # a Friday
    Timestamp('2025-08-11 00:00:00')
    """
    return day_zero_many([announced_at], [timing], [mic], [primary_mic or mic])[0]


def day_zero_many(
    announced_at: Sequence[Any] | pd.Series,
    timing: Sequence[str] | pd.Series,
    mic: Sequence[str] | pd.Series,
    primary_mic: Sequence[str | None] | pd.Series | None = None,
) -> pd.DatetimeIndex:
    """Vectorised :func:`day_zero` for many (event, security) rows.

    All arguments have one entry per row; ``primary_mic`` defaults to ``mic``. Rows are
    grouped by calendar, so thousands of rows cost a few array searches.

    Returns
    -------
    DatetimeIndex
        Day 0 of each row, in input order.
    """
    announced = list(announced_at)
    timings = np.asarray([_check_timing(str(t)) for t in timing], dtype=object)
    mics = [str(m) for m in mic]
    primaries = list(primary_mic) if primary_mic is not None else list(mics)
    n = len(announced)
    if not (len(timings) == len(mics) == len(primaries) == n):
        raise InputError("announced_at, timing, mic and primary_mic must have the same length")
    instants = np.empty(n, dtype="int64")
    is_date = np.zeros(n, dtype=bool)
    dates = np.zeros(n, dtype="int64")
    for i, a in enumerate(announced):
        if a is None or (not isinstance(a, str) and pd.isna(a)) or (isinstance(a, str) and not a.strip()):
            raise InputError(f"row {i}: announcement time is missing")
        ts = _timestamp(a, f"row {i}: announcement")
        if ts.tzinfo is not None:
            instants[i] = ts.tz_convert("UTC").as_unit("ns").value
        else:
            if ts != ts.normalize():
                raise InputError(f"row {i}: announcement {a!r} has a time but no UTC offset")
            is_date[i] = True
            dates[i] = ts.as_unit("ns").value
    prim_names = np.array(
        [calendar_name(mic=(p if p else m)) if is_date[i] else "" for i, (p, m) in enumerate(zip(primaries, mics))],
        dtype=object,
    )
    target_names = np.array([calendar_name(mic=m) for m in mics], dtype=object)
    # build the calendars missing from the disk cache together (in parallel) on a first run
    prepare_calendars(dict.fromkeys([*prim_names[is_date], *target_names]))
    for name in set(prim_names[is_date]):
        rows = is_date & (prim_names == name)
        instants[rows] = _instants(dates[rows], timings[rows], exchange_sessions(name))
    out = np.empty(n, dtype="int64")
    for name in set(target_names):
        rows = target_names == name
        out[rows] = _first_close_after(instants[rows], exchange_sessions(name))
    return pd.DatetimeIndex(out.astype("datetime64[ns]"))


def calendars_for(symbols: Iterable[str], mics: dict[str, str] | None = None) -> dict[str, str]:
    """Calendar name of each symbol (``mics`` maps a symbol to an explicit MIC)."""
    mics = mics or {}
    return {s: calendar_name(s, mics.get(s)) for s in symbols}
