"""``semiscreen report``: the full report on the bundled snapshot, written once per module.

The report run takes several seconds (charts for every event), so it is built once by a
module-scoped fixture and every test reads the same directory.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pandas as pd
import pytest

from screener.cli import main
from screener.paths import seeds_dir
from screener.report.model import slug

pytestmark = pytest.mark.slow

TIDY = ("events", "caar", "tests", "firms", "summary", "exposure", "screens", "outcomes")


@pytest.fixture(scope="module")
def report_dir(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("report") / "report"
    assert main(["--quiet", "report", "--out", str(out)]) == 0
    return out


@pytest.fixture(scope="module")
def seed_events() -> pd.DataFrame:
    return pd.read_csv(seeds_dir() / "events.csv", dtype=str, keep_default_na=False)


def test_report_writes_every_file(report_dir, seed_events):
    for name in ("report.html", "report.md", "provenance.json", ".semiscreen-report"):
        assert (report_dir / name).is_file(), name
    for table in TIDY + ("car", "metrics", "screen_all"):
        for ext in ("csv", "json", "parquet"):
            assert (report_dir / "data" / f"{table}.{ext}").is_file(), f"{table}.{ext}"
    for event_id in seed_events["event_id"]:
        assert (report_dir / "charts" / f"caar-{slug(event_id)}.png").is_file(), event_id


def test_every_seed_event_appears_in_the_html(report_dir, seed_events):
    html = (report_dir / "report.html").read_text(encoding="utf-8")
    for event_id in seed_events["event_id"]:
        assert f'id="event-{slug(event_id)}"' in html, event_id
    md = (report_dir / "report.md").read_text(encoding="utf-8")
    assert all(e in md for e in seed_events["event_id"])
    for theme in pd.read_csv(seeds_dir() / "themes.csv")["theme_id"]:
        assert f'id="screen-{slug(theme)}"' in html, theme


def test_tidy_tables_hold_the_numbers(report_dir, seed_events):
    events = pd.read_csv(report_dir / "data" / "events.csv")
    assert list(events["event_id"]) == list(seed_events["event_id"])
    firms = pd.read_csv(report_dir / "data" / "firms.csv", dtype={"symbol": str})
    links = pd.read_csv(seeds_dir() / "event_securities.csv", dtype=str)
    assert len(firms) == len(links)  # every pair, estimated or not
    intel = firms[(firms["event_id"] == "intel-us-government-stake-2025-08") & (firms["symbol"] == "INTC")]
    assert intel["car[0,0]"].iloc[0] > 0
    screens = pd.read_csv(report_dir / "data" / "screens.csv", dtype={"symbol": str})
    assert set(screens["theme_id"]) == set(pd.read_csv(seeds_dir() / "themes.csv")["theme_id"])
    full = pd.read_parquet(report_dir / "data" / "screen_all.parquet")
    cs = full[full["theme_id"] == "china-self-sufficiency"]
    assert {"688256.SS", "688981.SS"} <= set(cs["symbol"])


def test_provenance_lists_checksums_of_every_file(report_dir):
    prov = json.loads((report_dir / "provenance.json").read_text(encoding="utf-8"))
    files = prov["files"]
    assert "report.html" in files and "data/firms.csv" in files
    for name, digest in files.items():
        assert hashlib.sha256((report_dir / name).read_bytes()).hexdigest() == digest, name
    inner = prov["provenance"]
    assert inner["parameters"]["model"] == "market"
    manifest = seeds_dir() / "prices" / "manifest.json"
    assert inner["snapshot_manifest_sha256"] == hashlib.sha256(manifest.read_bytes()).hexdigest()


def test_refuses_a_foreign_non_empty_directory(tmp_path, capsys):
    foreign = tmp_path / "mine"
    foreign.mkdir()
    (foreign / "notes.txt").write_text("keep me", encoding="utf-8")
    assert main(["report", "--out", str(foreign)]) == 2
    assert "--force" in capsys.readouterr().err
    assert (foreign / "notes.txt").read_text(encoding="utf-8") == "keep me"
    assert sorted(p.name for p in foreign.iterdir()) == ["notes.txt"]


def test_bad_options_exit_2_before_writing(tmp_path, capsys):
    out = tmp_path / "never"
    assert main(["report", "--out", str(out), "--estimation", "-250,0"]) == 2
    assert "overlaps" in capsys.readouterr().err
    assert not out.exists()


def test_no_prices_at_all_exits_3_before_writing(tmp_path, capsys):
    # was: a report of empty tables written, exit 0
    from screener.cli._app import settings

    out = tmp_path / "report"
    try:
        assert main(["--offline", "--cache-dir", str(tmp_path / "cache"), "report", "--out", str(out)]) == 3
    finally:
        settings.cache_dir, settings.offline = None, False
    err = capsys.readouterr().err
    assert err.startswith("error: no prices at all: the cache(yahoo) source has none of the ")
    assert err.count("\n") == 1 and not out.exists()


def test_factor_model_is_refused_with_the_python_route(tmp_path, capsys):
    assert main(["report", "--out", str(tmp_path / "r"), "--model", "factor"]) == 2
    err = capsys.readouterr().err
    assert 'model="factor", factors=...' in err and not (tmp_path / "r").exists()
