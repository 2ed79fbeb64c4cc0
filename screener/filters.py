"""Screen filters and presets: ``--where "vol_60d < 0.5"`` and ``--preset my_screen.toml``.

Filters are parsed by a small grammar, never ``eval``: ``FIELD OP VALUE`` where ``OP`` is one of
``< <= > >= == !=`` or ``in`` / ``not in`` with a comma-separated list, e.g.

- ``vol_60d < 0.5``
- ``exchange in XSHG,XHKG``
- ``segment != foundry``
- ``ret_ytd >= 10%`` (a trailing ``%`` divides by 100)

A preset is a small TOML file that saves a screen so it can be shared::

    # my_screen.toml
    theme = "china-self-sufficiency"
    where = ["vol_60d < 0.8", "coverage_1y >= 0.9"]
    exchange = ["XSHG", "XHKG"]
    segment = ["foundry", "equipment"]
    sort = "-composite"
    top = 20
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from screener.errors import InputError

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

__all__ = ["Filter", "ScreenSpec", "parse_filter", "load_preset"]

_OPS = ("<=", ">=", "==", "!=", "<", ">")
_FILTER_RE = re.compile(
    r"^\s*(?P<field>[A-Za-z_][A-Za-z0-9_]*)\s*"
    r"(?P<op><=|>=|==|!=|<|>|=|\bnot\s+in\b|\bin\b)\s*"
    r"(?P<value>.+?)\s*$",
    re.IGNORECASE,
)


def _parse_scalar(text: str) -> Any:
    text = text.strip().strip("'\"")
    percent = text.endswith("%")
    core = text[:-1] if percent else text
    try:
        number = float(core.replace("_", ""))
    except ValueError:
        if percent:
            raise InputError(f"{text!r} is not a number") from None
        return text
    return number / 100.0 if percent else number


@dataclass(frozen=True)
class Filter:
    """One condition on one screen column."""

    field: str
    op: str
    value: Any
    text: str = ""

    def mask(self, frame: "pd.DataFrame") -> "pd.Series":
        """Boolean mask of the rows that satisfy the condition (missing values never do)."""
        import pandas as pd

        if self.field not in frame.columns:
            raise InputError(
                f"filter {self.text or self.field!r}: no column {self.field!r}; "
                f"valid columns: {', '.join(map(str, frame.columns))}"
            )
        col = frame[self.field]
        if self.op in ("in", "not in"):
            values = [str(v) for v in self.value]
            m = col.astype("string").isin(values)
            m = m.fillna(False).astype(bool)
            return ~m & col.notna() if self.op == "not in" else m
        value = self.value
        numeric = pd.api.types.is_numeric_dtype(col) and not pd.api.types.is_bool_dtype(col)
        if numeric and not isinstance(value, float):
            raise InputError(
                f"filter {self.text!r}: column {self.field!r} is numeric but {value!r} is not a number"
            )
        if not numeric:
            col = col.astype("string")
            value = str(value) if not isinstance(value, float) else f"{value:g}"
        ops = {
            "<": col.__lt__, "<=": col.__le__, ">": col.__gt__, ">=": col.__ge__,
            "==": col.__eq__, "!=": col.__ne__,
        }
        result = ops[self.op](value)
        return (result & col.notna()).fillna(False).astype(bool)


def parse_filter(text: str) -> Filter:
    """Parse ``FIELD OP VALUE`` (see module docstring) into a :class:`Filter`.

    Raises
    ------
    InputError
        If the text is not of that form.

    Examples
    --------
    >>> from screener.filters import parse_filter
    >>> parse_filter("vol_60d < 0.5")
    Filter(field='vol_60d', op='<', value=0.5, text='vol_60d < 0.5')
    >>> parse_filter("ret_ytd > 20%").value            # percentages become fractions
    0.2
    >>> parse_filter("exchange in XSHG,XHKG").value
    ['XSHG', 'XHKG']
    >>> parse_filter("vol_60d <")
    Traceback (most recent call last):
    ...
    screener.errors.InputError: cannot parse filter 'vol_60d <': expected 'FIELD OP VALUE' ...
    """
    m = _FILTER_RE.match(text)
    if not m:
        raise InputError(
            f"cannot parse filter {text!r}: expected 'FIELD OP VALUE' with OP one of "
            "<, <=, >, >=, ==, !=, in, not in (e.g. 'vol_60d < 0.5' or 'exchange in XSHG,XHKG')"
        )
    op = re.sub(r"\s+", " ", m.group("op").lower())
    op = "==" if op == "=" else op
    raw = m.group("value")
    if raw[:1] in "<>=!":
        raise InputError(f"cannot parse filter {text!r}: unexpected {raw[:1]!r} after the operator")
    if op in ("in", "not in"):
        value: Any = [v.strip().strip("'\"") for v in raw.split(",") if v.strip()]
        if not value:
            raise InputError(f"filter {text!r}: empty list after {op!r}")
    else:
        value = _parse_scalar(raw)
    return Filter(m.group("field"), op, value, text.strip())


@dataclass
class ScreenSpec:
    """A saved screen: theme, filters, sort and size."""

    theme: str | None = None
    where: list[str] = field(default_factory=list)
    exchange: list[str] = field(default_factory=list)
    segment: list[str] = field(default_factory=list)
    sort: str | None = None
    top: int | None = None

    def filters(self) -> list[Filter]:
        out = [parse_filter(w) for w in self.where]
        if self.exchange:
            out.append(Filter("exchange", "in", [e.upper() for e in self.exchange], "exchange in " + ",".join(self.exchange)))
        if self.segment:
            out.append(Filter("segment", "in", list(self.segment), "segment in " + ",".join(self.segment)))
        return out


_PRESET_KEYS = {"theme", "where", "exchange", "segment", "sort", "top"}


def load_preset(path: str | Path) -> ScreenSpec:
    """Read a screen preset from a TOML file.

    Raises
    ------
    InputError
        If the file is missing, not TOML, or has unknown keys or wrong types.
    """
    path = Path(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InputError(f"{path}: preset file not found") from None
    except UnicodeDecodeError:
        raise InputError(f"{path}: preset is not UTF-8 text") from None
    except tomllib.TOMLDecodeError as exc:
        raise InputError(f"{path}: not valid TOML ({exc})") from None
    unknown = sorted(set(data) - _PRESET_KEYS)
    if unknown:
        raise InputError(f"{path}: unknown key(s) {', '.join(unknown)}; valid keys: {', '.join(sorted(_PRESET_KEYS))}")

    def _list(key: str) -> list[str]:
        v = data.get(key, [])
        if isinstance(v, str):
            v = [s.strip() for s in v.split(",") if s.strip()] if key != "where" else [v]
        if not isinstance(v, list) or not all(isinstance(x, str) for x in v):
            raise InputError(f"{path}: {key!r} must be a string or a list of strings")
        return v

    top = data.get("top")
    if top is not None and (not isinstance(top, int) or isinstance(top, bool) or top <= 0):
        raise InputError(f"{path}: 'top' must be a positive integer, got {top!r}")
    for key in ("theme", "sort"):
        if key in data and not isinstance(data[key], str):
            raise InputError(f"{path}: {key!r} must be a string")
    spec = ScreenSpec(
        theme=data.get("theme"), where=_list("where"), exchange=_list("exchange"),
        segment=_list("segment"), sort=data.get("sort"), top=top,
    )
    spec.filters()  # parse now so a bad filter is reported with the file name
    return spec
