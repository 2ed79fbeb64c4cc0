"""The universe: every security semiscreen knows, with its exchange and benchmarks.

``universe.csv`` (see ``docs/architecture.md``): one row per Yahoo symbol, with its listing
exchange (ISO 10383 MIC), currency, country, segment, the local market index (``benchmark``)
and a sector benchmark, and the names it goes by in English and Chinese news.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pandas as pd
import pandera.pandas as pa
from pandera.typing import Series

from screener.validate import SYMBOL_PATTERN, DatasetSpec, load_dataset

__all__ = ["ASSET_TYPES", "SEGMENTS", "UniverseSchema", "UNIVERSE_SPEC", "load_universe"]

ASSET_TYPES = ("equity", "etf", "index")
SEGMENTS = (
    "foundry", "equipment", "chip_design", "ai_accelerator", "memory", "analog", "ip_licensing",
    "optical_modules", "server_odm", "datacenter_infra", "hyperscaler", "internet", "ev_automaker",
    "battery", "rare_earths", "electronics_manufacturing", "index", "etf",
)


def _is_name_list(value: Any) -> bool:
    return isinstance(value, list) and all(isinstance(v, str) and v for v in value)


class UniverseSchema(pa.DataFrameModel):
    """``universe.csv``: one row per security (Yahoo symbol, unique)."""

    symbol: Series[str] = pa.Field(str_matches=SYMBOL_PATTERN, unique=True)
    name: Series[str] = pa.Field()
    name_zh: Series[str] = pa.Field(nullable=True)
    asset_type: Series[str] = pa.Field(isin=list(ASSET_TYPES))
    exchange: Series[str] = pa.Field(str_matches=r"^[A-Z0-9]{4}$")
    currency: Series[str] = pa.Field(str_matches=r"^[A-Z]{3}$")
    country: Series[str] = pa.Field(str_matches=r"^[A-Z]{2}$")
    segment: Series[str] = pa.Field(isin=list(SEGMENTS))
    benchmark: Series[str] = pa.Field(str_matches=SYMBOL_PATTERN, nullable=True)
    sector_benchmark: Series[str] = pa.Field(str_matches=SYMBOL_PATTERN, nullable=True)
    aliases_en: Series[object] = pa.Field()
    aliases_zh: Series[object] = pa.Field()

    class Config:
        name = "universe"
        strict = True
        ordered = True

    @pa.check("aliases_en", "aliases_zh", element_wise=True, error="must be ';'-separated names")
    def _aliases_are_lists(cls, value: Any) -> bool:
        return _is_name_list(value)


UNIVERSE_SPEC = DatasetSpec(
    "universe", "universe.csv", UniverseSchema,
    {"symbol": "str", "name": "str", "name_zh": "optional_str", "asset_type": "str", "exchange": "str",
     "currency": "str", "country": "str", "segment": "str", "benchmark": "optional_str",
     "sector_benchmark": "optional_str", "aliases_en": "list", "aliases_zh": "list"},
)


def load_universe(path: str | os.PathLike[str] | None = None) -> pd.DataFrame:
    """Load ``universe.csv`` (default: the project's ``seeds/``), typed and validated.

    Parameters
    ----------
    path : path-like, optional
        A CSV file with the universe columns.

    Returns
    -------
    DataFrame
        One row per symbol; ``aliases_en`` / ``aliases_zh`` are lists, blank optional cells
        (``name_zh``, benchmarks of an index) are missing.

    Raises
    ------
    ValidationError
        Every problem in the file (file, line, column, value, message).

    Examples
    --------
    >>> import screener
    >>> u = screener.load_universe()
    >>> cambricon = u.set_index("symbol").loc["688256.SS"]
    >>> cambricon["exchange"], cambricon["currency"], cambricon["benchmark"], cambricon["aliases_zh"]
    ('XSHG', 'CNY', '000688.SS', ['寒武纪', '寒武纪-U'])
    >>> print(u.loc[u["symbol"] == "2330.TW", ["symbol", "exchange", "segment", "benchmark"]].to_string(index=False))
     symbol exchange segment benchmark
    2330.TW     XTAI foundry     ^TWII
    """
    from screener.paths import seeds_dir

    return load_dataset(Path(path) if path is not None else seeds_dir() / UNIVERSE_SPEC.filename, UNIVERSE_SPEC)
