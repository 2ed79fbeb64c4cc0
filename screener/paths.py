"""Where the project's bundled datasets live.

The seed datasets (``seeds/``: events, universe, themes, document manifest and the Parquet
price snapshot) sit at the root of the source tree. ``$SEMISCREEN_SEEDS`` overrides the
location (e.g. for an installed, non-editable copy).
"""

from __future__ import annotations

import os
from pathlib import Path

from screener.errors import DataUnavailableError

__all__ = ["project_root", "seeds_dir", "snapshot_dir"]


def project_root() -> Path:
    """The source tree's root (the folder that holds ``seeds/``)."""
    return Path(__file__).resolve().parent.parent


def seeds_dir() -> Path:
    """The seed-datasets folder: ``$SEMISCREEN_SEEDS`` or ``<project root>/seeds``."""
    env = os.environ.get("SEMISCREEN_SEEDS")
    path = Path(env) if env else project_root() / "seeds"
    if not path.is_dir():
        raise DataUnavailableError(
            f"seed datasets not found at {path} (set SEMISCREEN_SEEDS to the project's seeds/ folder)"
        )
    return path


def snapshot_dir() -> Path:
    """The bundled price snapshot (``seeds/prices``)."""
    return seeds_dir() / "prices"
