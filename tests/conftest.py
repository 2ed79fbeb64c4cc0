"""Shared fixtures.

Real-data tests read the shared price folder from ``$SEMISCREEN_TEST_PRICES`` or
``../shared/data/prices`` (beside the checkout) and skip with a reason where it is absent.
The estudy2 reference lives in ``../shared/data/estudy2`` (``$SEMISCREEN_TEST_ESTUDY2``).
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def _shared_dir(env: str, relative: str) -> Path | None:
    value = os.environ.get(env)
    candidates = [Path(value)] if value else []
    candidates += [ROOT.parent / "shared" / relative, ROOT.parent.parent / "shared" / relative]
    for c in candidates:
        if c.is_dir():
            return c
    return None


@pytest.fixture(scope="session")
def shared_prices_dir() -> Path:
    path = _shared_dir("SEMISCREEN_TEST_PRICES", "data/prices")
    if path is None:
        pytest.skip("real price data not available: set SEMISCREEN_TEST_PRICES or place ../shared/data/prices")
    return path


@pytest.fixture(scope="session")
def estudy2_dir() -> Path:
    path = _shared_dir("SEMISCREEN_TEST_ESTUDY2", "data/estudy2")
    if path is None:
        pytest.skip("estudy2 reference data not available: set SEMISCREEN_TEST_ESTUDY2 or place ../shared/data/estudy2")
    return path


@pytest.fixture(scope="session")
def shared_seeds_dir() -> Path:
    path = _shared_dir("SEMISCREEN_TEST_DOCUMENTS", "seeds")
    if path is None:
        pytest.skip("source documents not available: set SEMISCREEN_TEST_DOCUMENTS or place ../shared/seeds")
    return path
