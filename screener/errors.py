"""Exceptions and warnings shared by the whole project.

The hierarchy is small on purpose (after exchange_calendars and linearmodels): every error a
user can cause derives from :class:`SemiscreenError` and carries the exit code the CLI returns.

- :class:`InputError` (exit 2): bad input: a malformed file, a bad symbol or date, an unknown
  theme, event id or column. Messages name the file, row, column, symbol or date.
- :class:`ValidationError` (exit 2): a dataset broke its schema; ``problems`` lists every
  failure at once (file, row, column, value, what is wrong).
- :class:`DataUnavailableError` (exit 3): the data could not be had (offline, empty download,
  cache miss with ``--offline``).
- :class:`CalendarError` (exit 2): a date outside an exchange calendar's bounds or not a session.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

__all__ = [
    "SemiscreenError",
    "InputError",
    "ValidationError",
    "Problem",
    "DataUnavailableError",
    "CalendarError",
    "SemiscreenWarning",
    "DataQualityWarning",
    "EstimationWarning",
]


class SemiscreenError(Exception):
    """Base class of every error semiscreen raises on purpose."""

    exit_code: int = 1


class InputError(SemiscreenError, ValueError):
    """Bad input from the user: a file, a symbol, a date, an option value."""

    exit_code = 2


@dataclass(frozen=True)
class Problem:
    """One failed check of a dataset (one row of a validation report)."""

    file: str
    row: int | None
    column: str | None
    value: Any
    message: str

    def __str__(self) -> str:
        where = self.file
        if self.row is not None:
            where += f", row {self.row}"
        if self.column:
            where += f", column {self.column!r}"
        value = "" if self.value is None else f" (value {self.value!r})"
        return f"{where}: {self.message}{value}"

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        if d["value"] is not None and not isinstance(d["value"], (str, int, float, bool)):
            d["value"] = str(d["value"])
        return d


class ValidationError(InputError):
    """A dataset failed validation; ``problems`` holds every failure found."""

    def __init__(self, problems: list[Problem] | Problem | str, *, file: str | None = None):
        if isinstance(problems, str):
            problems = [Problem(file or "<input>", None, None, None, problems)]
        elif isinstance(problems, Problem):
            problems = [problems]
        self.problems: list[Problem] = list(problems)
        n = len(self.problems)
        head = str(self.problems[0]) if self.problems else "validation failed"
        more = f" (and {n - 1} more problem{'s' if n > 2 else ''})" if n > 1 else ""
        super().__init__(head + more)


class DataUnavailableError(SemiscreenError):
    """Price or reference data could not be obtained (offline, empty download, cache miss)."""

    exit_code = 3


class CalendarError(InputError):
    """A date is outside an exchange calendar's bounds, or is not a session where one is required."""


class SemiscreenWarning(UserWarning):
    """Base class of semiscreen's warnings."""


class DataQualityWarning(SemiscreenWarning):
    """The data was usable but not as expected (e.g. no adjusted close: close used instead)."""


class EstimationWarning(SemiscreenWarning):
    """Some event-firm pairs could not be estimated; see the results' ``outcomes``."""
