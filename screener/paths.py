"""Where the project's bundled datasets live.

The seed datasets (events, universe, themes, document manifest and the Parquet price snapshot)
are found, in this order:

1. ``$SEMISCREEN_SEEDS``, when set (it must then be a folder);
2. ``screener/_seeds`` inside the installed package: a wheel (``pip install semiscreen``,
   the pre-commit hook) ships the datasets there (``pyproject.toml`` maps the source tree's
   ``seeds/`` to it);
3. ``seeds/`` at the root of the source tree (a checkout, or an editable install).
"""

from __future__ import annotations

import os
from pathlib import Path

from screener.errors import DataUnavailableError

__all__ = ["project_root", "bundled_seeds_dir", "seeds_dir", "snapshot_dir"]

#: The folder, inside the ``screener`` package, where a wheel carries the seed datasets.
BUNDLED_SEEDS = "_seeds"


def project_root() -> Path:
    """The source tree's root (the folder that holds ``seeds/`` in a checkout)."""
    return Path(__file__).resolve().parent.parent


def bundled_seeds_dir() -> Path:
    """Where an installed (non-editable) copy keeps the seed datasets: ``screener/_seeds``.

    The folder exists only in an installed wheel; in a checkout the datasets are in
    ``<project root>/seeds``.
    """
    return Path(__file__).resolve().parent / BUNDLED_SEEDS


def seeds_dir() -> Path:
    """The seed-datasets folder.

    Returns
    -------
    Path
        ``$SEMISCREEN_SEEDS`` if set; else the datasets bundled in the installed package
        (``screener/_seeds``); else ``<project root>/seeds`` (a checkout or editable install).

    Raises
    ------
    DataUnavailableError
        ``$SEMISCREEN_SEEDS`` is not a folder, or neither default location exists.

    Examples
    --------
    >>> from screener.paths import seeds_dir
    >>> sorted(p.name for p in seeds_dir().glob("*.csv"))
    ['documents.csv', 'event_securities.csv', 'events.csv', 'themes.csv', 'universe.csv']
    """
    env = os.environ.get("SEMISCREEN_SEEDS")
    if env:
        path = Path(env)
        if not path.is_dir():
            raise DataUnavailableError(
                f"seed datasets not found at {path} ($SEMISCREEN_SEEDS is set but is not a folder; "
                "point it at a folder holding events.csv, universe.csv, ... or unset it)"
            )
        return path
    candidates = (bundled_seeds_dir(), project_root() / "seeds")
    for path in candidates:
        if path.is_dir():
            return path
    raise DataUnavailableError(
        f"seed datasets not found at {' or '.join(map(str, candidates))} (the installation is incomplete: "
        "reinstall semiscreen, or set SEMISCREEN_SEEDS to the project's seeds/ folder)"
    )


def snapshot_dir() -> Path:
    """The bundled price snapshot (``<seeds>/prices``)."""
    return seeds_dir() / "prices"
