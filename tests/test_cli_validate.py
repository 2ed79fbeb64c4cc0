"""``semiscreen validate`` and ``semiscreen events`` driven through ``screener.cli.main``."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from screener.cli import main

FIXTURE = Path(__file__).parent / "data" / "seeds_min"
ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def seeds(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A private copy of the fixture set, installed as the project's seeds."""
    target = tmp_path / "seeds"
    shutil.copytree(FIXTURE, target)
    monkeypatch.setenv("SEMISCREEN_SEEDS", str(target))
    monkeypatch.setenv("SEMISCREEN_DOCUMENTS", str(target / "documents"))
    return target


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


# ----- validate -------------------------------------------------------------------------------


def test_validate_ok_prints_one_line(seeds, capsys):
    assert main(["validate"]) == 0
    out = capsys.readouterr().out.strip().splitlines()
    assert len(out) == 1
    assert out[0].startswith("OK") and "events (3 rows)" in out[0] and "universe (8 rows)" in out[0]


def test_validate_prints_every_problem_and_exits_2(seeds, capsys):
    edit(seeds / "event_securities.csv", "asml-ai-stake,ASML.AS", "asml-ai-stake,NOPE")
    edit(seeds / "events.csv", "export-controls;ai-compute", "export-controls;quantum")
    (seeds / "documents" / "doc_b.txt").write_text("changed\n", encoding="utf-8")
    assert main(["validate"]) == 2
    out = capsys.readouterr().out
    lines = out.strip().splitlines()
    assert lines[-1].startswith("FAILED: 3 problems")
    problem_lines = lines[:-1]
    assert len(problem_lines) == 3
    assert any(line.startswith(f"{seeds / 'event_securities.csv'}:7:") and "'NOPE'" in line
               and "not in the universe" in line for line in problem_lines)
    assert any(line.startswith(f"{seeds / 'events.csv'}:3:") and "'quantum'" in line for line in problem_lines)
    assert any(line.startswith(f"{seeds / 'documents.csv'}:3:") and "checksum" in line for line in problem_lines)


def test_validate_json(seeds, capsys):
    edit(seeds / "events.csv", "us-export-rule,2025-01-13T07:00:00-05:00", "us-export-rule,2025-01-13 07:00")
    assert main(["validate", "--format", "json"]) == 2
    payload = json.loads(capsys.readouterr().out)
    assert payload["ok"] is False
    assert set(payload["checked"]) == {"documents", "events", "event_securities", "universe", "themes"}
    assert payload["checked"]["events"]["rows"] == 3
    [problem] = payload["problems"]
    assert problem == {
        "file": str(seeds / "events.csv"),
        "row": 3,
        "column": "announced_at",
        "value": "2025-01-13 07:00",
        "message": problem["message"],
    }
    assert "UTC offset" in problem["message"]


def test_validate_json_ok(seeds, capsys):
    assert main(["validate", "-f", "json"]) == 0
    payload = json.loads(capsys.readouterr().out)
    assert payload["ok"] is True and payload["problems"] == []


def test_validate_user_event_files(seeds, tmp_path, capsys):
    mine = tmp_path / "mine"
    mine.mkdir()
    shutil.copy(seeds / "events.csv", mine / "my_events.csv")
    shutil.copy(seeds / "event_securities.csv", mine / "my_event_securities.csv")
    args = ["validate", str(mine / "my_events.csv"), str(mine / "my_event_securities.csv")]
    assert main(args) == 0
    captured = capsys.readouterr()
    assert "events (3 rows)" in captured.out and "event_securities (6 rows)" in captured.out
    assert "documents" in captured.err  # a note says the documents were not checked

    edit(mine / "my_event_securities.csv", "ai-chip-results,NVDA", "ai-chip-results,XYZ")
    assert main(args) == 2
    out = capsys.readouterr().out
    assert f"{mine / 'my_event_securities.csv'}:4:" in out and "'XYZ'" in out


def test_validate_unrecognised_file(seeds, tmp_path, capsys):
    other = tmp_path / "notes.csv"
    other.write_text("a,b\n1,2\n", encoding="utf-8")
    assert main(["validate", str(other)]) == 2
    assert "cannot tell which dataset" in capsys.readouterr().out


def test_validate_encoding_problem(seeds, capsys):
    path = seeds / "themes.csv"
    path.write_bytes(path.read_text(encoding="utf-8").encode("utf-16"))
    assert main(["validate"]) == 2
    assert "UTF-16" in capsys.readouterr().out


# ----- events ---------------------------------------------------------------------------------


def events_json(capsys, *args: str) -> list[dict]:
    assert main(["events", *args, "--format", "json"]) == 0
    return json.loads(capsys.readouterr().out)


def test_events_lists_the_catalog(seeds, capsys):
    rows = events_json(capsys)
    assert [r["event_id"] for r in rows] == ["ai-chip-results", "us-export-rule", "asml-ai-stake"]
    first = rows[0]
    assert set(first) == {"event_id", "announced_at", "timing", "precision", "headline", "themes", "securities"}
    assert first["securities"][0] == "688256.SS (primary)"
    assert rows[1]["announced_at"] == "2025-01-13T07:00:00-05:00"


def test_events_filters(seeds, capsys):
    assert [r["event_id"] for r in events_json(capsys, "--theme", "export-controls")] == ["us-export-rule"]
    assert [r["event_id"] for r in events_json(capsys, "--symbol", "NVDA")] == ["ai-chip-results", "us-export-rule"]
    assert [r["event_id"] for r in events_json(capsys, "--since", "2025-08-26", "--until", "2025-09-01")] == [
        "ai-chip-results"
    ]
    # SOXX is in the universe but in no event: an empty list, not an error
    assert events_json(capsys, "--symbol", "SOXX") == []


def test_events_table_and_csv(seeds, capsys, monkeypatch):
    monkeypatch.setenv("COLUMNS", "250")  # a wide terminal: rich does not fold the cells
    assert main(["events", "--format", "csv"]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert lines[0] == "event_id,announced_at,timing,precision,headline,themes,securities"
    assert len(lines) == 4
    assert main(["events"]) == 0
    table = capsys.readouterr().out
    assert "3 events" in table
    assert all(e in table for e in ("ai-chip-results", "us-export-rule", "asml-ai-stake"))
    assert "NVDA (primary), 688256.SS (competitor)" in table


def test_events_unknown_theme_lists_valid_ones(seeds, capsys):
    assert main(["events", "--theme", "quantum"]) == 2
    err = capsys.readouterr().err
    assert "quantum" in err and "ai-compute" in err and "export-controls" in err


@pytest.mark.parametrize("args", [["--since", "2025/01/01"], ["--symbol", "NOPE"], ["--since", "2025-09-01", "--until", "2025-01-01"]])
def test_events_bad_options_exit_2(seeds, capsys, args):
    assert main(["events", *args]) == 2
    assert capsys.readouterr().err.startswith("error:")


def test_events_invalid_catalog_exits_2_naming_the_file(seeds, capsys):
    edit(seeds / "events.csv", "ai-chip-results,2025-08-26,after_close", "ai-chip-results,2025-08-26,late")
    assert main(["events"]) == 2
    err = capsys.readouterr().err
    assert "events.csv" in err and "row 2" in err and "timing" in err


# ----- pre-commit hook ------------------------------------------------------------------------


def test_pre_commit_hook_definition():
    text = (ROOT / ".pre-commit-hooks.yaml").read_text(encoding="utf-8")
    assert "- id: semiscreen-validate" in text
    assert "entry: semiscreen validate" in text
    assert "language: python" in text
    import re

    files = re.search(r"^\s*files:\s*'([^']+)'", text, flags=re.M).group(1)
    pattern = re.compile(files)
    for name in ("seeds/events.csv", "seeds/event_securities.csv", "research/my_events.csv"):
        assert pattern.search(name), name
    for name in ("seeds/universe.csv", "seeds/themes.csv", "events/catalog.py"):
        assert not pattern.search(name), name
