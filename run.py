#!/usr/bin/env python3
"""Set up and run semiscreen on a fresh machine that has only python3.

    python3 run.py demo    # venv + install + the main job (the full report on the bundled data)
    python3 run.py test    # venv + install + the whole test suite (what CI runs)

The virtual environment lives in ``.venv/`` beside this file and is reinstalled only when
``pyproject.toml`` changes. Extra arguments after ``test`` go to pytest.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
PY = BIN / ("python.exe" if os.name == "nt" else "python")
STAMP = VENV / ".semiscreen-installed"

# The main job: every seed event studied on the bundled snapshot, written as a report.
DEMO = ["semiscreen", "report", "--out", "semiscreen-report"]
# The test command (CI runs exactly this through .ci/run).
TEST = ["-m", "pytest", "-q"]


def _run(cmd: list[str]) -> None:
    print("+ " + " ".join(str(c) for c in cmd), flush=True)
    subprocess.run(cmd, cwd=ROOT, check=True)


def ensure_env() -> None:
    """Create .venv and install the project with its dev extra, unless already current."""
    want = hashlib.sha256((ROOT / "pyproject.toml").read_bytes()).hexdigest()
    if STAMP.exists() and STAMP.read_text().strip() == want and PY.exists():
        return
    if not PY.exists():
        print(f"creating virtual environment in {VENV}", flush=True)
        venv.EnvBuilder(with_pip=True).create(VENV)
    _run([str(PY), "-m", "pip", "install", "--quiet", "--upgrade", "pip"])
    _run([str(PY), "-m", "pip", "install", "--quiet", "-e", ".[dev]"])
    STAMP.write_text(want + "\n")


def main(argv: list[str]) -> int:
    if not argv or argv[0] not in {"demo", "test"}:
        print(__doc__.strip(), file=sys.stderr)
        return 2
    ensure_env()
    if argv[0] == "demo":
        cmd = [str(BIN / DEMO[0]), *DEMO[1:], *argv[1:]]
    else:
        cmd = [str(PY), *TEST, *argv[1:]]
    print("+ " + " ".join(cmd), flush=True)
    return subprocess.call(cmd, cwd=ROOT)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
