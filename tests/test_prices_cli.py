"""`semiscreen fetch` and `semiscreen prices` through screener.cli.main (returns the exit code)."""

from __future__ import annotations

import io
import json
import os
import tempfile
from pathlib import Path

os.environ.setdefault("SEMISCREEN_CALENDAR_CACHE", str(Path(tempfile.gettempdir()) / "semiscreen-test-calendars"))

import pandas as pd
import pytest

from screener.cli import main
from screener.cli._app import settings

DATA = Path(__file__).parent / "data" / "prices"


@pytest.fixture(autouse=True)
def _reset_settings():
    yield
    settings.prices_dir = settings.cache_dir = None
    settings.offline = settings.quiet = settings.debug = False


def test_prices_summary_from_a_folder(capsys):
    rc = main(["--prices", str(DATA), "prices", "TEST", "CLOSEONLY.T", "--format", "json"])
    out = capsys.readouterr()
    assert rc == 0, out.err
    rows = {r["symbol"]: r for r in json.loads(out.out)}
    t = rows["TEST"]
    assert (t["first_date"], t["last_date"], t["rows"]) == ("2025-06-02", "2025-06-13", 9)
    # NYSE sessions 06-02..06-13 are 10; 06-06 is missing
    assert (t["sessions_expected"], t["missing_sessions"], t["longest_gap"], t["longest_gap_start"]) == (10, 1, 1, "2025-06-06")
    assert t["adj_close_fallback"] is False and t["last_close"] == 10.6
    c = rows["CLOSEONLY.T"]
    assert c["calendar"] == "XTKS" and c["adj_close_fallback"] is True
    assert c["sessions_expected"] == 5 and c["missing_sessions"] == 0  # 08-11 is Mountain Day


def test_prices_csv_and_markdown(capsys):
    assert main(["--prices", str(DATA), "prices", "TEST", "--format", "csv"]) == 0
    frame = pd.read_csv(io.StringIO(capsys.readouterr().out))
    assert frame.loc[0, "symbol"] == "TEST" and frame.loc[0, "rows"] == 9
    assert main(["--prices", str(DATA), "prices", "TEST", "--format", "markdown"]) == 0
    assert "| symbol |" in capsys.readouterr().out


@pytest.mark.parametrize(
    "args, code, needle",
    [
        (["prices", "FOO.QQ"], 2, "unknown Yahoo suffix"),
        (["prices", "../x"], 2, "invalid symbol"),
        (["prices", "ZZZZ"], 3, "ZZZZ"),
        (["--offline", "--cache-dir", "{tmp}", "prices", "NVDA"], 3, "offline"),
        (["--offline", "fetch", "NVDA"], 3, "offline"),
        (["fetch", "NVDA", "--start", "yesterday-ish"], 2, "--start"),
    ],
)
def test_errors_are_one_line_with_exit_code(capsys, tmp_path, args, code, needle):
    args = [a.replace("{tmp}", str(tmp_path)) for a in args]
    if args[0] == "prices":
        args = ["--prices", str(DATA)] + args
    rc = main(args)
    err = capsys.readouterr().err
    assert rc == code
    assert needle in err and "Traceback" not in err
    assert len(err.strip().splitlines()) == 1


def test_default_source_is_the_snapshot(capsys, tmp_path, monkeypatch):
    monkeypatch.setenv("SEMISCREEN_SEEDS", str(tmp_path))  # a seeds folder with no snapshot
    rc = main(["prices", "NVDA"])
    assert rc == 3 and "no price snapshot" in capsys.readouterr().err


def test_fetch_fills_the_cache_from_a_folder_then_offline_works(capsys, tmp_path):
    cache = tmp_path / "cache"
    rc = main(["--prices", str(DATA), "--cache-dir", str(cache), "-q", "fetch", "TEST", "--start", "2025-01-01",
               "--end", "2025-12-31", "--format", "json"])
    out = capsys.readouterr()
    assert rc == 0, out.err
    assert json.loads(out.out)[0]["rows"] == 9
    assert (cache / "prices" / "TEST.parquet").is_file()
    rc = main(["--offline", "--cache-dir", str(cache), "prices", "TEST", "--format", "json"])
    out = capsys.readouterr()
    assert rc == 0, out.err
    row = json.loads(out.out)[0]
    assert row["rows"] == 9 and row["source"].startswith("cache(")


def test_prices_from_the_bundled_snapshot_shows_the_hygon_halt(capsys):
    root = Path(__file__).resolve().parent.parent / "seeds" / "prices"
    if not (root / "manifest.json").is_file():
        pytest.skip("bundled snapshot not built")
    rc = main(["prices", "688041.SS", "--format", "json"])
    out = capsys.readouterr()
    assert rc == 0, out.err
    row = json.loads(out.out)[0]
    assert row["source"] == "snapshot" and row["calendar"] == "XSHG"
    assert row["longest_gap"] == 10 and row["longest_gap_start"] == "2025-05-26"
