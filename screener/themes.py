"""Themes: the stories semiscreen screens for (AI compute, export controls, ...).

``themes.csv`` (see ``docs/architecture.md``): one row per theme id, with names in English and
Chinese, a description, keywords for matching news, and the core symbols whose equal-weighted
returns form the theme factor.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

import pandas as pd
import pandera.pandas as pa
from pandera.typing import Series

from screener.validate import SLUG_PATTERN, SYMBOL_PATTERN, DatasetSpec, load_dataset

__all__ = ["ThemeSchema", "THEMES_SPEC", "load_themes"]


class ThemeSchema(pa.DataFrameModel):
    """``themes.csv``: one row per theme (``theme_id`` unique)."""

    theme_id: Series[str] = pa.Field(str_matches=SLUG_PATTERN, unique=True)
    name_en: Series[str] = pa.Field()
    name_zh: Series[str] = pa.Field(nullable=True)
    description: Series[str] = pa.Field()
    keywords_en: Series[object] = pa.Field()
    keywords_zh: Series[object] = pa.Field()
    core_symbols: Series[object] = pa.Field()

    class Config:
        name = "themes"
        strict = True
        ordered = True

    @pa.check("keywords_en", "keywords_zh", element_wise=True, error="must be ';'-separated keywords")
    def _keywords_are_lists(cls, value: Any) -> bool:
        return isinstance(value, list) and all(isinstance(v, str) and v for v in value)

    @pa.check("core_symbols", element_wise=True, error="must be ';'-separated Yahoo symbols, at least one")
    def _core_symbols(cls, value: Any) -> bool:
        return (isinstance(value, list) and len(value) > 0
                and all(isinstance(v, str) and re.match(SYMBOL_PATTERN, v) for v in value))


THEMES_SPEC = DatasetSpec(
    "themes", "themes.csv", ThemeSchema,
    {"theme_id": "str", "name_en": "str", "name_zh": "optional_str", "description": "str",
     "keywords_en": "list", "keywords_zh": "list", "core_symbols": "list"},
)


def load_themes(path: str | os.PathLike[str] | None = None) -> pd.DataFrame:
    """Load ``themes.csv`` (default: the project's ``seeds/``), typed and validated.

    Returns
    -------
    DataFrame
        One row per theme; ``keywords_en``, ``keywords_zh`` and ``core_symbols`` are lists.

    Raises
    ------
    ValidationError
        Every problem in the file (file, line, column, value, message).

    Examples
    --------
    >>> import screener
    >>> themes = screener.load_themes().set_index("theme_id")
    >>> "688256.SS" in themes.loc["china-self-sufficiency", "core_symbols"]   # lists, not strings
    True
    """
    from screener.paths import seeds_dir

    return load_dataset(Path(path) if path is not None else seeds_dir() / THEMES_SPEC.filename, THEMES_SPEC)
