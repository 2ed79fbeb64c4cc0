"""Local folder and snapshot sources, and the price-frame schema."""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import warnings
from pathlib import Path

os.environ.setdefault("SEMISCREEN_CALENDAR_CACHE", str(Path(tempfile.gettempdir()) / "semiscreen-test-calendars"))

import numpy as np
import pandas as pd
import pytest

from screener.errors import DataQualityWarning, DataUnavailableError, InputError, ValidationError
from screener.prices import PRICE_COLUMNS, LocalDirectorySource, SnapshotSource, validate_price_frame
from screener.prices.schema import price_frame_schema

DATA = Path(__file__).parent / "data" / "prices"
HEADER = "date,open,high,low,close,adj_close,volume\n"


def _write(folder: Path, symbol: str, body: str) -> Path:
    path = folder / f"{symbol}.csv"
    path.write_text(HEADER + body, encoding="utf-8")
    return path


def test_local_source_reads_a_price_frame():
    frame = LocalDirectorySource(DATA).load("TEST")
    assert list(frame.columns) == list(PRICE_COLUMNS)
    assert frame.index.name == "date" and frame.index.tz is None
    assert frame.index.is_monotonic_increasing and frame.index.is_unique
    assert all(frame[c].dtype == "float64" for c in PRICE_COLUMNS)
    raw = pd.read_csv(DATA / "TEST.csv", parse_dates=["date"]).set_index("date")
    np.testing.assert_allclose(frame["adj_close"].to_numpy(), raw["adj_close"].to_numpy())
    assert frame.attrs["symbol"] == "TEST" and frame.attrs["adj_close_fallback"] is False
    part = LocalDirectorySource(DATA).load("TEST", "2025-06-04", "2025-06-10")
    assert part.index[0] == pd.Timestamp("2025-06-04") and part.index[-1] == pd.Timestamp("2025-06-10")


def test_missing_adj_close_falls_back_to_close_with_a_recorded_warning():
    with pytest.warns(DataQualityWarning, match="CLOSEONLY.T"):
        frame = LocalDirectorySource(DATA).load("CLOSEONLY.T")
    assert frame.attrs["adj_close_fallback"] is True
    assert any("close used instead" in q for q in frame.attrs["quality"])
    np.testing.assert_array_equal(frame["adj_close"].to_numpy(), frame["close"].to_numpy())


def test_missing_file_names_folder_and_symbol(tmp_path):
    with pytest.raises(DataUnavailableError) as err:
        LocalDirectorySource(tmp_path).load("NVDA")
    assert str(tmp_path) in str(err.value) and "'NVDA'" in str(err.value)
    with pytest.raises(DataUnavailableError, match="does not exist"):
        LocalDirectorySource(tmp_path / "nope")


@pytest.mark.parametrize(
    "body, line, column, value",
    [
        ("2025-06-02,1,1,1,1,1,10\n2025-06-03,1,1,1,abc,1,10\n", 3, "close", "abc"),
        ("2025-06-02,1,1,1,1,1,10\n2025-13-03,1,1,1,1,1,10\n", 3, "date", "2025-13-03"),
        ("06/02/2025,1,1,1,1,1,10\n", 2, "date", "06/02/2025"),
        ("2025-06-02,1,1,1,1,1,10\n2025-06-03,1,1,1,1,1,lots\n", 3, "volume", "lots"),
    ],
)
def test_malformed_row_names_file_line_column_value(tmp_path, body, line, column, value):
    path = _write(tmp_path, "BAD", body)
    with pytest.raises(InputError) as err:
        LocalDirectorySource(tmp_path).load("BAD")
    msg = str(err.value)
    assert str(path) in msg and f"line {line}" in msg and repr(column) in msg and value in msg


def test_missing_column_is_an_input_error(tmp_path):
    (tmp_path / "X.csv").write_text("date,open\n2025-06-02,1\n", encoding="utf-8")
    with pytest.raises(InputError, match="missing column close"):
        LocalDirectorySource(tmp_path).load("X")


def test_schema_failures_are_all_listed_with_file_row_symbol_date(tmp_path):
    body = (
        "2025-06-02,1,1,1,1,1,10\n"
        "2025-06-03,1,1,1,-2,1,10\n"     # negative close (line 3)
        "2025-06-03,1,1,1,1,1,10\n"      # duplicate date (line 4)
        "2025-06-05,1,0.5,0.9,1,1,10\n"  # high < low (line 5)
        "2025-06-06,1,1,1,1,1,-5\n"      # negative volume (line 6)
        "2025-06-04,1,1,1,1,1,10\n"      # out of order (line 7)
    )
    path = _write(tmp_path, "BAD", body)
    with pytest.raises(ValidationError) as err:
        LocalDirectorySource(tmp_path).load("BAD")
    problems = err.value.problems
    assert all(p.file == str(path) for p in problems)
    by_row = {}
    for p in problems:
        by_row.setdefault(p.row, []).append(p)
    assert {3, 4, 5, 6, 7} <= set(by_row)
    assert any(p.column == "close" and "positive" in p.message and "2025-06-03" in p.message for p in by_row[3])
    assert any("duplicate" in p.message for p in by_row[4])
    assert any("high is below low" in p.message and "2025-06-05" in p.message for p in by_row[5])
    assert any(p.column == "volume" for p in by_row[6])
    assert any("increase" in p.message for p in by_row[7])
    assert all("BAD" in p.message for p in problems)


def test_quick_check_agrees_with_pandera_on_real_and_bad_frames(tmp_path):
    import pandera.errors as pae

    good = LocalDirectorySource(DATA).load("TEST").reset_index()
    price_frame_schema(False).validate(good)  # passes pandera itself
    validate_price_frame(good, symbol="TEST")
    for column, value in [("close", 0.0), ("volume", -1.0), ("low", 50.0)]:
        bad = good.copy()
        bad.loc[2, column] = value
        with pytest.raises(pae.SchemaErrors):
            price_frame_schema(False).validate(bad, lazy=True)
        with pytest.raises(ValidationError):
            validate_price_frame(bad, symbol="TEST")


def test_long_schema_rejects_duplicate_symbol_date():
    import pandera.errors as pae

    frame = LocalDirectorySource(DATA).load("TEST").reset_index()
    long = pd.concat([frame.assign(symbol="A"), frame.assign(symbol="B")], ignore_index=True)
    price_frame_schema(True).validate(long)
    dup = pd.concat([long, long.iloc[[0]]], ignore_index=True)
    with pytest.raises(pae.SchemaErrors):
        price_frame_schema(True).validate(dup, lazy=True)


# --- snapshot ------------------------------------------------------------------------------


def _builder():
    import importlib.util

    path = Path(__file__).resolve().parent.parent / "scripts" / "build_snapshot.py"
    spec = importlib.util.spec_from_file_location("build_snapshot", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture()
def small_snapshot(tmp_path):
    out = tmp_path / "snap"
    assert _builder().main(["--source", str(DATA), "--out", str(out),
                            "--symbols", "TEST", "CLOSEONLY.T", "ABSENT", "--start", "2025-01-01"]) == 0
    return out


def test_snapshot_round_trip_and_manifest(small_snapshot):
    manifest = json.loads((small_snapshot / "manifest.json").read_text())
    assert manifest["missing"] == ["ABSENT"]
    assert set(manifest["symbols"]) == {"TEST", "CLOSEONLY.T"}
    assert manifest["symbols"]["CLOSEONLY.T"]["adj_close_fallback"] is True
    assert manifest["symbols"]["TEST"]["rows"] == 9
    src = SnapshotSource(small_snapshot)
    snap = src.load("TEST")
    local = LocalDirectorySource(DATA).load("TEST")
    pd.testing.assert_series_equal(snap["adj_close"], local["adj_close"], check_names=False)
    pd.testing.assert_series_equal(snap["volume"], local["volume"], check_names=False)
    assert snap["open"].isna().all()  # the snapshot keeps date, close, adj_close, volume
    with pytest.warns(DataQualityWarning):
        assert src.load("CLOSEONLY.T").attrs["adj_close_fallback"] is True


def test_snapshot_missing_symbols_and_tampering(small_snapshot):
    src = SnapshotSource(small_snapshot)
    with pytest.raises(DataUnavailableError, match="does not have 'ABSENT'.*missing"):
        src.load("ABSENT")
    with pytest.raises(DataUnavailableError, match="does not have 'NVDA'"):
        src.load("NVDA")
    path = small_snapshot / "TEST.parquet"
    path.write_bytes(path.read_bytes()[:-8] + b"\0" * 8)
    with pytest.raises(ValidationError, match="sha256"):
        src.load("TEST")


def test_snapshot_build_is_deterministic(tmp_path):
    builder = _builder()
    digests = []
    for name in ("a", "b"):
        out = tmp_path / name
        assert builder.main(["--source", str(DATA), "--out", str(out), "--symbols", "TEST", "CLOSEONLY.T"]) == 0
        digests.append({p.name: p.read_bytes() for p in sorted(out.iterdir())})
    assert digests[0] == digests[1]
    assert set(digests[0]) == {"TEST.parquet", "CLOSEONLY.T.parquet", "manifest.json"}


def test_no_snapshot_is_a_clear_error(tmp_path):
    with pytest.raises(DataUnavailableError, match="build_snapshot"):
        SnapshotSource(tmp_path)


def test_bundled_snapshot_matches_its_manifest():
    root = Path(__file__).resolve().parent.parent / "seeds" / "prices"
    if not (root / "manifest.json").is_file():
        pytest.skip("bundled snapshot not built")
    src = SnapshotSource(root)
    total = sum(p.stat().st_size for p in root.iterdir())
    assert total <= 3 * 1024 * 1024
    for symbol, entry in list(src.entries.items())[:10]:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DataQualityWarning)
            frame = src.load(symbol)
        assert len(frame) == entry["rows"]
        assert str(frame.index[0].date()) == entry["first_date"] >= "2024-01-01"


# --- real data -----------------------------------------------------------------------------


@pytest.mark.realdata
def test_real_folder_loads_every_symbol(shared_prices_dir):
    src = LocalDirectorySource(shared_prices_dir)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        frames = src.load_many(src.symbols())
    assert len(frames) == len(list(shared_prices_dir.glob("*.csv")))
    fallback = {s for s, f in frames.items() if f.attrs["adj_close_fallback"]}
    assert "2330.TW" in fallback and "NVDA" not in fallback
    assert any(issubclass(w.category, DataQualityWarning) and "2330.TW" in str(w.message) for w in caught)


def test_local_parquet_file_reads_like_the_csv(tmp_path):
    csv_frame = LocalDirectorySource(DATA).load("TEST")
    csv_frame.reset_index().to_parquet(tmp_path / "TEST.parquet", index=False)
    pq_frame = LocalDirectorySource(tmp_path).load("TEST")
    pd.testing.assert_frame_equal(pq_frame, csv_frame, check_freq=False)


def test_careful_parser_agrees_with_the_fast_path(tmp_path):
    from screener.prices.local import _fast_csv, read_price_file

    # a date with a 00:00:00 time makes pyarrow give up; the careful pandas path must give the same frame
    text = (DATA / "TEST.csv").read_text().splitlines()
    (tmp_path / "TEST.csv").write_text("\n".join(text[:3] + ["2025-06-04 00:00:00" + text[3][10:]] + text[4:]) + "\n")
    careful = read_price_file(tmp_path / "TEST.csv", "TEST")
    fast = LocalDirectorySource(DATA).load("TEST")
    assert _fast_csv(tmp_path / "TEST.csv") is None
    pd.testing.assert_frame_equal(careful, fast, check_freq=False)


# ----- validate_price_file: every problem of one file, for `semiscreen validate` ---------------


def test_validate_price_file_lists_parquet_problems_by_data_row(tmp_path):
    from screener.prices.local import validate_price_file

    path = tmp_path / "P.parquet"
    pd.DataFrame({"date": ["2025-06-02", "2025-06-03", "2025-06-03", "2025-06-05x"],
                  "close": ["1", "-1", "2", "3"]}).to_parquet(path)
    rows, problems = validate_price_file(path)
    assert rows == 3  # the undated row is left out after being reported
    assert [(p.row, p.column) for p in problems] == [(2, "close"), (2, "date"), (3, "date"), (4, "date")]
    assert all(p.file == str(path) for p in problems)
    assert all(p.message.startswith("P on 2025-06-03:") for p in problems[:3])  # symbol and date
    assert "positive" in problems[0].message and "2025-06-03" in problems[0].message
    assert "duplicate date (also on row 3)" in problems[1].message
    assert "not an ISO date" in problems[3].message


@pytest.mark.parametrize("content, message", [
    ("date,close\n".encode("utf-16"), "UTF-16"),
    (b"", "file is empty"),
    (b"date,close\n", "has a header but no data rows"),
    (b"date;close\n2025-06-02;1\n", "';' as delimiter"),
    (b"date,close,date\n2025-06-02,1,2025-06-02\n", "'date' appears more than once"),
])
def test_validate_price_file_unreadable_files_are_one_problem(tmp_path, content, message):
    from screener.prices.local import validate_price_file

    path = tmp_path / "X.csv"
    path.write_bytes(content)
    rows, [problem] = validate_price_file(path)
    assert rows == 0 and problem.file == str(path) and message in problem.message


def test_validate_price_file_accepts_the_shipped_snapshot():
    from screener.paths import snapshot_dir
    from screener.prices.local import validate_price_file

    for path in sorted(snapshot_dir().glob("*.parquet"))[:5]:
        rows, problems = validate_price_file(path)
        assert rows > 100 and problems == [], path
