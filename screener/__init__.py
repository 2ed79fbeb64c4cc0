"""semiscreen's screener: prices, calendars, universe, themes, exposure, screens, reports, CLI.

Public names are imported lazily so that ``import screener`` (and the CLI's ``--help``) is cheap.
"""

from __future__ import annotations

import importlib
from typing import Any

from screener._version import __version__

__all__ = [
    "__version__",
    "load_universe",
    "load_themes",
    "screen",
    "screening_metrics",
    "composite_exposure",
    "validate_field",
]

_LAZY = {
    "load_universe": "screener.universe",
    "load_themes": "screener.themes",
    "screen": "screener.screening",
    "screening_metrics": "screener.metrics",
    "composite_exposure": "screener.exposure",
    "validate_field": "screener.fields",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'screener' has no attribute {name!r}")
