"""The wheel: a normal (non-editable) install ships the seed datasets and finds them.

Regression: ``pip install .`` (and the pre-commit hook, which installs that way) used to ship
without ``seeds/``; ``semiscreen events`` then failed with "seed datasets not found at
.../site-packages/seeds" and ``semiscreen validate`` printed OK for an unknown theme and
symbol. The wheel is built offline from a copy of the source tree (``pip wheel --no-deps
--no-build-isolation``, with the setuptools of the test environment: the ``dev`` extra
installs a recent enough one), unpacked, and run from a separate process.
"""

from __future__ import annotations

import csv
import json
import os
import shutil
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

import pytest

from screener.paths import bundled_seeds_dir, project_root, seeds_dir

ROOT = project_root()
SEEDS = ROOT / "seeds"
FIXTURE = Path(__file__).parent / "data" / "seeds_min"


def _setuptools_version() -> tuple[int, ...] | None:
    try:
        import setuptools
    except ImportError:
        return None
    return tuple(int(part) for part in setuptools.__version__.split(".")[:2] if part.isdigit())


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The project's wheel, built offline from a copy of the source tree."""
    version = _setuptools_version()
    if version is None or version < (77,):
        pytest.skip(f"building the wheel offline needs setuptools>=77 in the test environment "
                    f"(found {version}); `pip install -e '.[dev]'` installs it")
    if not (SEEDS / "events.csv").is_file():
        pytest.skip("not a source checkout: seeds/ is absent")
    work = tmp_path_factory.mktemp("wheel")
    src = work / "src"
    src.mkdir()
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", ".tmp-*")
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, src / name)
    for name in ("events", "screener", "seeds"):
        shutil.copytree(ROOT / name, src / name, ignore=ignore)
    out = work / "dist"
    try:
        done = subprocess.run(
            [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "--no-index",
             "--quiet", "-w", str(out), str(src)],
            capture_output=True, text=True, timeout=240, cwd=work,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        pytest.skip(f"pip could not build the wheel here: {exc}")
    if done.returncode != 0 and "No module named pip" in done.stderr:
        pytest.skip("pip is not installed in the test environment")
    assert done.returncode == 0, done.stdout + done.stderr
    [built] = out.glob("semiscreen-*.whl")
    return built


def test_every_package_is_listed_in_pyproject():
    # The packages are listed by hand (the seeds mapping needs it): a new subpackage must be added.
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["setuptools"]
    listed = set(config["packages"])
    on_disk = {
        ".".join(init.parent.relative_to(ROOT).parts)
        for top in ("events", "screener")
        for init in (ROOT / top).rglob("__init__.py")
    }
    assert on_disk <= listed, f"add to [tool.setuptools] packages: {sorted(on_disk - listed)}"
    assert config["package-dir"] == {"screener._seeds": "seeds"}


def test_wheel_contains_the_seed_datasets_and_every_module(wheel):
    names = set(zipfile.ZipFile(wheel).namelist())
    for csv in ("documents", "events", "event_securities", "universe", "themes"):
        assert f"screener/_seeds/{csv}.csv" in names
    assert "screener/_seeds/prices/manifest.json" in names
    snapshot = sorted(p.name for p in (SEEDS / "prices").glob("*.parquet"))
    assert len(snapshot) > 50
    assert {f"screener/_seeds/prices/{n}" for n in snapshot} <= names
    modules = {p.relative_to(ROOT).as_posix() for top in ("events", "screener") for p in (ROOT / top).rglob("*.py")}
    assert modules <= names, sorted(modules - names)
    assert not [n for n in names if n.startswith("seeds/")]  # no top-level "seeds" package in site-packages
    seeds_size = sum(zipfile.ZipFile(wheel).getinfo(n).file_size for n in names if n.startswith("screener/_seeds/"))
    assert seeds_size < 5_000_000


_PROBE = r"""
import json, os, sys
import screener, screener.paths as paths
from screener.cli import main
out = {"screener": screener.__file__, "seeds": str(paths.seeds_dir())}
out["validate_seeds"] = main(["validate"])
out["validate_mine"] = main(["validate", "my_events.csv", "my_links.csv"])
out["events"] = main(["events", "--format", "csv"])
os.environ["SEMISCREEN_SEEDS"] = sys.argv[1]
out["override"] = str(paths.seeds_dir())
print("PROBE" + json.dumps(out))
"""


def test_installed_wheel_finds_its_seeds_and_validate_checks_against_them(wheel, tmp_path):
    site = tmp_path / "site-packages"
    zipfile.ZipFile(wheel).extractall(site)
    # my own files: an unknown theme and an unknown symbol, checked against the bundled seeds
    with open(SEEDS / "events.csv", newline="", encoding="utf-8") as fh:
        header, first = list(csv.reader(fh))[:2]
    first[header.index("themes")] = "no-such-theme"
    event_id = first[0]
    with open(tmp_path / "my_events.csv", "w", newline="", encoding="utf-8") as fh:
        csv.writer(fh, lineterminator="\n").writerows([header, first])
    (tmp_path / "my_links.csv").write_text("event_id,symbol,role,expected_sign,rationale\n"
                                           f"{event_id},NOPE,primary,1,a symbol nobody lists\n", encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if k not in ("SEMISCREEN_SEEDS", "PYTHONPATH")}
    env["PYTHONPATH"] = str(site)
    done = subprocess.run([sys.executable, "-c", _PROBE, str(FIXTURE)], capture_output=True, text=True,
                          timeout=240, cwd=tmp_path, env=env)
    assert done.returncode == 0, done.stderr
    [line] = [line for line in done.stdout.splitlines() if line.startswith("PROBE")]
    probe = json.loads(line[len("PROBE"):])
    assert Path(probe["screener"]).parent == site / "screener"           # the unpacked wheel, not the checkout
    assert Path(probe["seeds"]) == site / "screener" / "_seeds"
    assert probe["validate_seeds"] == 0                                   # the bundled seeds are valid
    assert probe["validate_mine"] == 2                                    # was: 0 and "OK"
    assert "no-such-theme" in done.stdout and "NOPE" in done.stdout
    assert probe["events"] == 0                                           # was: "seed datasets not found"
    assert Path(probe["override"]) == FIXTURE                             # $SEMISCREEN_SEEDS still wins


def test_checkout_and_editable_layout_use_the_source_seeds(monkeypatch):
    monkeypatch.delenv("SEMISCREEN_SEEDS", raising=False)
    assert not bundled_seeds_dir().exists()          # only a wheel has screener/_seeds
    assert seeds_dir() == SEEDS
    monkeypatch.setenv("SEMISCREEN_SEEDS", str(FIXTURE))
    assert seeds_dir() == FIXTURE


def test_seeds_env_that_is_not_a_folder_says_so(monkeypatch, tmp_path):
    from screener.errors import DataUnavailableError

    monkeypatch.setenv("SEMISCREEN_SEEDS", str(tmp_path / "nope"))
    with pytest.raises(DataUnavailableError, match=r"SEMISCREEN_SEEDS is set but is not a folder"):
        seeds_dir()
