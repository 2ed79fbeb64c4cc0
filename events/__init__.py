"""semiscreen's event catalog and event-study engine.

Pure pandas in, pandas out: no network, no files (the catalog loader reads the CSV it is
given). The public names are imported lazily so that ``import events`` is cheap.
"""

from __future__ import annotations

import importlib
from typing import Any

__all__ = [
    "EventStudy",
    "EventStudyResults",
    "load_catalog",
    "load_event_securities",
    "load_documents",
    "event_firms",
]

_LAZY = {
    "EventStudy": "events.study",
    "EventStudyResults": "events.study",
    "load_catalog": "events.catalog",
    "load_event_securities": "events.catalog",
    "load_documents": "events.catalog",
    "event_firms": "events.catalog",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'events' has no attribute {name!r}")
