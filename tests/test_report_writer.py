"""The report writer: layout, provenance, round-trips, atomic replacement and refusals."""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import screener.report.writer as writer
from screener.errors import InputError, SemiscreenError, ValidationError
from screener.report.demo import demo_report
from screener.report.writer import MARKER, TIDY_TABLES, tidy_tables, write_report


def snapshot(root: Path) -> dict[str, str]:
    """sha256 of every file under root, by relative path."""
    return {p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file()}


def leftovers(parent: Path, name: str) -> list[str]:
    return sorted(p.name for p in parent.iterdir() if p.name.startswith(f".{name}."))


@pytest.fixture(scope="module")
def data():
    return demo_report(n_events=2, n_securities=8, seed=7)


@pytest.fixture(scope="module")
def small():
    """A second, different report (no extra tables)."""
    report = demo_report(n_events=1, n_securities=5, seed=8, event_ids=["other-event"])
    report.tables = {}
    return report


#: Data-only formats: the atomicity tests do not need charts (and run faster without them).
DATA_ONLY = ("csv", "json", "parquet")


@pytest.fixture(scope="module")
def written(data, tmp_path_factory):
    out = tmp_path_factory.mktemp("w") / "report"
    result = write_report(data, out)
    return out, result


def test_layout_and_result(written, data):
    out, result = written
    assert result.path == out
    files = set(result.files)
    assert {"report.html", "report.md", "provenance.json", MARKER} <= files
    assert {f"charts/{ev.chart_name}" for ev in data.events} <= files
    names = list(TIDY_TABLES) + list(data.tables)
    assert {f"data/{n}.{ext}" for n in names for ext in ("csv", "json", "parquet")} <= files
    assert files == set(snapshot(out))


def test_provenance_lists_every_file_with_its_checksum(written, data):
    out, _ = written
    prov = json.loads((out / "provenance.json").read_text(encoding="utf-8"))
    assert prov["provenance"] == json.loads(json.dumps(data.provenance))
    assert prov["report"]["generated_at"] == data.generated_at
    assert prov["report"]["n_events"] == len(data.events)
    assert prov["warnings"] == data.warnings
    actual = snapshot(out)
    del actual["provenance.json"], actual[MARKER]
    assert prov["files"] == actual


def _assert_same(original: pd.DataFrame, loaded: pd.DataFrame, where: str) -> None:
    assert list(loaded.columns) == [str(c) for c in original.columns], where
    assert len(loaded) == len(original), where
    for col in original.columns:
        a, b = original[col], loaded[str(col)]
        if pd.api.types.is_datetime64_any_dtype(a):
            assert (pd.to_datetime(b).to_numpy() == a.to_numpy()).all(), f"{where}:{col}"
        elif pd.api.types.is_numeric_dtype(a) and not pd.api.types.is_bool_dtype(a):
            x = pd.to_numeric(a).astype("float64").to_numpy()
            y = pd.to_numeric(b).astype("float64").to_numpy()
            np.testing.assert_allclose(y, x, rtol=1e-13, atol=0, equal_nan=True, err_msg=f"{where}:{col}")
        else:
            xs = ["" if v is None or (isinstance(v, float) and np.isnan(v)) else str(v) for v in a]
            ys = ["" if v is None or (isinstance(v, float) and np.isnan(v)) else str(v) for v in b]
            assert xs == ys, f"{where}:{col}"


def test_csv_json_parquet_round_trip(written, data):
    out, _ = written
    tables = tidy_tables(data)
    assert set(tables) == set(TIDY_TABLES) | set(data.tables)
    for name, frame in tables.items():
        prepared = writer._prepare(frame)
        if prepared.empty:
            continue
        _assert_same(prepared, pd.read_parquet(out / "data" / f"{name}.parquet"), f"{name}.parquet")
        _assert_same(prepared, pd.read_csv(out / "data" / f"{name}.csv", keep_default_na=False,
                                           na_values=[""]), f"{name}.csv")
        records = json.loads((out / "data" / f"{name}.json").read_text(encoding="utf-8"))
        _assert_same(prepared, pd.DataFrame.from_records(records, columns=list(prepared.columns)), f"{name}.json")


def test_parquet_files_carry_the_provenance(written, data):
    import pyarrow.parquet as pq

    out, _ = written
    for name in ("tests", "exposure", "params"):
        meta = pq.read_schema(out / "data" / f"{name}.parquet").metadata[writer.PARQUET_METADATA_KEY]
        info = json.loads(meta)
        assert info["table"] == name
        assert info["provenance"] == json.loads(json.dumps(data.provenance))
        assert info["generated_at"] == data.generated_at


def test_tidy_tables_are_long_and_keyed(data):
    tables = tidy_tables(data)
    tests = tables["tests"]
    assert set(tests["event_id"]) == {ev.event_id for ev in data.events}
    assert len(tests) == sum(len(ev.tests) for ev in data.events)
    first = data.events[0].tests.iloc[1]
    row = tests.iloc[1]
    assert (row["window_start"], row["window_end"]) == tuple(first["window"])
    assert row["pvalue"] == first["pvalue"]
    assert len(tables["caar"]) == sum(len(ev.caar_path) for ev in data.events)
    screens = tables["screens"]
    for theme, frame in data.screens.items():
        sub = screens[screens["theme_id"] == theme]
        assert list(sub["symbol"]) == list(frame["symbol"])
        assert list(sub["rank"]) == list(range(1, len(frame) + 1))


def test_same_input_same_bytes(data, written, tmp_path):
    again = write_report(data, tmp_path / "again")
    assert snapshot(again.path) == snapshot(written[0])


def test_replaces_a_report_semiscreen_wrote(data, small, tmp_path):
    out = tmp_path / "report"
    write_report(data, out, formats=DATA_ONLY)
    assert (out / "data" / "params.csv").is_file()
    write_report(small, out, formats=DATA_ONLY)
    assert not (out / "data" / "params.csv").exists()  # nothing stale from the first report
    assert list(pd.read_csv(out / "data" / "events.csv")["event_id"]) == ["other-event"]
    assert leftovers(tmp_path, "report") == []
    assert sorted(p.name for p in tmp_path.iterdir()) == ["report"]


def test_refuses_a_foreign_non_empty_directory(data, tmp_path):
    out = tmp_path / "mine"
    out.mkdir()
    (out / "thesis.tex").write_text("precious", encoding="utf-8")
    with pytest.raises(InputError) as info:
        write_report(data, out)
    assert info.value.exit_code == 2
    assert str(out) in str(info.value) and "--force" in str(info.value) and MARKER in str(info.value)
    assert snapshot(out) == {"thesis.tex": hashlib.sha256(b"precious").hexdigest()}
    assert leftovers(tmp_path, "mine") == []


def test_force_replaces_a_foreign_directory_and_nothing_else(data, tmp_path):
    out = tmp_path / "mine"
    out.mkdir()
    (out / "old.txt").write_text("x", encoding="utf-8")
    (tmp_path / "neighbour.txt").write_text("keep me", encoding="utf-8")
    write_report(data, out, force=True, formats=DATA_ONLY)
    assert not (out / "old.txt").exists() and (out / MARKER).is_file()
    assert (tmp_path / "neighbour.txt").read_text(encoding="utf-8") == "keep me"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["mine", "neighbour.txt"]


def test_empty_existing_directory_and_missing_parents(data, tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    write_report(data, empty, formats=("csv",))
    assert (empty / "data" / "events.csv").is_file()
    deep = tmp_path / "a" / "b" / "c"
    write_report(data, deep, formats=("json",))
    assert (deep / "data" / "events.json").is_file()


def test_failure_while_writing_keeps_the_old_report(data, small, tmp_path, monkeypatch):
    out = tmp_path / "report"
    write_report(data, out, formats=DATA_ONLY)
    before = snapshot(out)
    calls = {"n": 0}
    real = writer._write_table

    def failing(frame, stem, formats, *args):
        calls["n"] += 1
        if calls["n"] == 3:
            raise OSError(28, "No space left on device")
        return real(frame, stem, formats, *args)

    monkeypatch.setattr(writer, "_write_table", failing)
    with pytest.raises(OSError, match="No space left"):
        write_report(small, out, formats=DATA_ONLY)
    assert calls["n"] == 3
    assert snapshot(out) == before
    assert leftovers(tmp_path, "report") == []


def test_failure_while_swapping_restores_the_old_report(data, small, tmp_path, monkeypatch):
    out = tmp_path / "report"
    write_report(data, out, formats=DATA_ONLY)
    before = snapshot(out)
    real_rename = os.rename
    calls = []

    def rename(src, dst):
        calls.append((Path(src).name, Path(dst).name))
        if len(calls) == 2:  # old report moved aside; now moving the new one in fails
            raise OSError(5, "Input/output error")
        return real_rename(src, dst)

    monkeypatch.setattr(writer.os, "rename", rename)
    with pytest.raises(InputError, match="could not put the report in place"):
        write_report(small, out, formats=DATA_ONLY)
    assert calls[0][0] == "report" and calls[1][1] == "report"
    assert snapshot(out) == before
    assert leftovers(tmp_path, "report") == []


def test_a_first_report_that_fails_leaves_nothing(data, tmp_path, monkeypatch):
    def boom(*args, **kwargs):
        raise RuntimeError("renderer crashed")

    monkeypatch.setattr(writer, "_write_table", boom)
    with pytest.raises(RuntimeError):
        write_report(data, tmp_path / "report", formats=DATA_ONLY)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("formats", [("pdf",), ("html", "xlsx"), ()])
def test_unknown_formats_are_refused(data, tmp_path, formats):
    with pytest.raises(InputError, match="choose from html, md, csv, json, parquet"):
        write_report(data, tmp_path / "r", formats=formats)
    assert list(tmp_path.iterdir()) == []


def test_only_the_requested_formats(data, tmp_path):
    result = write_report(data, tmp_path / "r", formats=("csv", "CSV"))
    assert {f.split("/")[0] for f in result.files} == {"data", "provenance.json", MARKER}
    assert all(f.endswith(".csv") for f in result.files if f.startswith("data/"))


def test_refuses_files_symlinks_and_the_current_directory(data, tmp_path, monkeypatch):
    a_file = tmp_path / "file"
    a_file.write_text("x", encoding="utf-8")
    with pytest.raises(InputError, match="not a directory"):
        write_report(data, a_file, force=True)
    target = tmp_path / "target"
    target.mkdir()
    link = tmp_path / "link"
    link.symlink_to(target, target_is_directory=True)
    with pytest.raises(InputError, match="symbolic link"):
        write_report(data, link, force=True)
    work = tmp_path / "work"
    (work / "sub").mkdir(parents=True)
    monkeypatch.chdir(work / "sub")
    for out in (work / "sub", work, Path("."), Path(".."), work / "sub" / ".." / "sub"):
        with pytest.raises(InputError, match="current directory"):
            write_report(data, out, force=True)
    assert (work / "sub").is_dir() and a_file.read_text(encoding="utf-8") == "x"
    # a path through ".." means the directory it names, not a sibling called ".."
    result = write_report(data, work / "sub" / ".." / "other", formats=("csv",))
    assert result.path == work / "other" and (work / "other" / MARKER).is_file()


def test_table_name_clash_and_bad_names(data, tmp_path):
    clash = demo_report(n_events=1, n_securities=4)
    clash.tables = {"tests": pd.DataFrame({"x": [1]})}
    with pytest.raises(ValidationError, match="clashes with a built-in table"):
        write_report(clash, tmp_path / "r")
    bad = demo_report(n_events=1, n_securities=4)
    bad.tables = {"../escape": pd.DataFrame({"x": [1]})}
    with pytest.raises(ValidationError):
        write_report(bad, tmp_path / "r")
    assert list(tmp_path.iterdir()) == []
    assert issubclass(ValidationError, SemiscreenError)


def test_an_empty_report_is_written(tmp_path):
    from screener.report.model import ReportData

    result = write_report(ReportData(title="empty", generated_at="2025-01-01"), tmp_path / "r")
    html = (result.path / "report.html").read_text(encoding="utf-8")
    assert "(no events)" in html and "(no exposure data)" in html and "(no screens)" in html
    assert not any(f.startswith("charts/") and f.endswith(".png") for f in result.files)
    assert pd.read_csv(result.path / "data" / "events.csv").empty


def test_provenance_json_is_strict_json(tmp_path):
    report = demo_report(n_events=1, n_securities=4)
    report.provenance = {"version": "0.1.0", "threshold": float("nan"), "path": Path("/x/y"),
                         "when": pd.Timestamp("2025-01-02"), "beta": np.float64(1.5)}
    result = write_report(report, tmp_path / "r", formats=("csv",))
    text = (result.path / "provenance.json").read_text(encoding="utf-8")
    prov = json.loads(text)["provenance"]  # NaN is not valid JSON: it must have become null
    assert "NaN" not in text
    assert prov == {"version": "0.1.0", "threshold": None, "path": "/x/y", "when": "2025-01-02T00:00:00", "beta": 1.5}
