"""Broken price files and caches: each gives one clear error (file, line, column) and the right
exit code, or is read correctly; regression tests for bugs found by feeding the product
hostile input (fixtures: tests/data/broken/prices, see its README)."""

from __future__ import annotations

import io
import os
import re
import tempfile
from pathlib import Path

os.environ.setdefault("SEMISCREEN_CALENDAR_CACHE", str(Path(tempfile.gettempdir()) / "semiscreen-test-calendars"))

import numpy as np
import pandas as pd
import pytest

from screener.cli import main
from screener.cli._app import settings
from screener.errors import DataUnavailableError, InputError, ValidationError
from screener.prices import CachedSource, LocalDirectorySource

BROKEN = Path(__file__).parent / "data" / "broken" / "prices"
GOOD = Path(__file__).parent / "data" / "prices"


@pytest.fixture(autouse=True)
def _reset_settings():
    yield
    settings.prices_dir = settings.cache_dir = None
    settings.offline = settings.quiet = settings.debug = False


@pytest.fixture(scope="module")
def broken() -> LocalDirectorySource:
    return LocalDirectorySource(BROKEN)


def _cli(capsys, *args: str) -> tuple[int, str]:
    rc = main(["--prices", str(BROKEN), "--offline", *args])
    return rc, capsys.readouterr().err


# -- header problems ----------------------------------------------------------------------


def test_repeated_column_is_an_input_error_not_a_traceback(broken, capsys):
    # was: KeyError from pyarrow ('Field "date" exists 2 times'), exit 1 with a traceback
    with pytest.raises(InputError, match=r"DUPCOL\.csv: column 'date' appears more than once"):
        broken.load("DUPCOL")
    rc, err = _cli(capsys, "prices", "DUPCOL")
    assert rc == 2 and err.startswith("error: ") and "Traceback" not in err and err.count("\n") == 1


def test_repeated_column_in_parquet_differing_only_in_case(tmp_path):
    pd.DataFrame({"date": pd.to_datetime(["2025-01-02"]), "close": [1.0], "Close": [2.0]}).to_parquet(
        tmp_path / "X.parquet")
    with pytest.raises(InputError, match="column 'close' appears more than once"):
        LocalDirectorySource(tmp_path).load("X")


def test_yahoo_export_header_reads_the_adjusted_close(broken):
    # was: "Adj Close" was not recognised, so the close was used (not dividend-adjusted) with a warning
    frame = broken.load("YAHOOHDR")
    assert frame.attrs["adj_close_fallback"] is False
    np.testing.assert_array_equal(frame["adj_close"].to_numpy(), [10.4, 10.5])
    np.testing.assert_array_equal(frame["close"].to_numpy(), [10.5, 10.6])


# -- row problems ---------------------------------------------------------------------------


def test_short_row_names_its_line(broken, capsys):
    # was: accepted, the missing close read as NaN
    with pytest.raises(InputError, match=r"SHORTROW\.csv, line 3: 3 fields, the header has 7"):
        broken.load("SHORTROW")
    rc, err = _cli(capsys, "prices", "SHORTROW")
    assert rc == 2 and "line 3" in err


def test_long_row_names_its_line_not_a_shifted_date(broken):
    # was: "line 2, column 'date': not an ISO date: '2'" (pandas shifted the row into the index)
    with pytest.raises(InputError, match=r"LONGROW\.csv, line 2: 9 fields, the header has 7"):
        broken.load("LONGROW")


def test_blank_lines_are_skipped_and_line_numbers_kept(broken, tmp_path):
    # was: "line 3, column 'date': not an ISO date: <NA>" for a blank line, even a trailing one
    frame = broken.load("BLANKLINES")
    assert list(frame.index.strftime("%Y-%m-%d")) == ["2025-01-02", "2025-01-03"]
    np.testing.assert_array_equal(frame["close"].to_numpy(), [10.5, 10.6])
    # after a blank line, errors still name the line in the file
    text = (BROKEN / "BLANKLINES.csv").read_text().replace("2025-01-03,10,11,9,10.6", "2025-01-03,10,11,9,abc")
    (tmp_path / "B.csv").write_text(text)
    with pytest.raises(InputError, match=r"B\.csv, line 4, column 'close': not a number: 'abc'"):
        LocalDirectorySource(tmp_path).load("B")


def test_header_only_file_is_data_unavailable(broken, capsys):
    # was: an empty price frame, exit 0, "rows 0"
    with pytest.raises(DataUnavailableError, match=r"HEADERONLY\.csv: no data rows"):
        broken.load("HEADERONLY")
    rc, err = _cli(capsys, "prices", "HEADERONLY")
    assert rc == 3 and "HEADERONLY.csv" in err


def test_empty_parquet_is_data_unavailable(tmp_path):
    pd.DataFrame({"date": pd.to_datetime([]), "close": pd.Series([], dtype=float)}).to_parquet(tmp_path / "E.parquet")
    with pytest.raises(DataUnavailableError, match=r"E\.parquet: no data rows"):
        LocalDirectorySource(tmp_path).load("E")


def test_utf16_file_is_an_input_error(tmp_path):
    (tmp_path / "U.csv").write_text("date,close\n2025-01-02,10\n", encoding="utf-16")
    with pytest.raises(InputError, match=r"U\.csv, line 1 \(byte 0xff\): not UTF-8; save it as UTF-8"):
        LocalDirectorySource(tmp_path).load("U")


def test_latin1_byte_names_its_line(tmp_path):
    (tmp_path / "L.csv").write_bytes(b"date,close\n2025-01-02,10\n2025-01-03,1\xe9\n")
    with pytest.raises(InputError, match=r"L\.csv, line 3 \(byte 0xe9\): not UTF-8"):
        LocalDirectorySource(tmp_path).load("L")


# -- values -------------------------------------------------------------------------------------


@pytest.mark.parametrize("symbol, line, column", [("INFPRICE", 3, "close"), ("HUGEPRICE", 2, "close")])
def test_infinite_prices_are_rejected(broken, symbol, line, column):
    # was: accepted; "last_close inf" and infinite returns downstream
    with pytest.raises(ValidationError) as info:
        broken.load(symbol)
    found = [p for p in info.value.problems if (p.row, p.column) == (line, column)]
    assert len(found) == 1, info.value.problems
    assert "finite" in found[0].message and np.isinf(found[0].value)


def test_infinite_volume_is_rejected(tmp_path):
    (tmp_path / "V.csv").write_text("date,close,volume\n2025-01-02,10,inf\n")
    with pytest.raises(ValidationError, match="column 'volume'.*finite"):
        LocalDirectorySource(tmp_path).load("V")


def test_nan_strings_are_missing_values_not_errors(tmp_path):
    # documented: missing values are NaN; "NaN"/"nan" in a file mean missing
    (tmp_path / "N.csv").write_text("date,close,adj_close\n2025-01-02,NaN,nan\n2025-01-03,10,9.5\n")
    frame = LocalDirectorySource(tmp_path).load("N")
    assert frame["close"].isna().tolist() == [True, False] and frame["adj_close"].iloc[1] == 9.5


def test_high_below_low_is_one_problem_naming_both_values(broken):
    # was: seven problems for one row, one per column, the first naming column 'adj_close'
    with pytest.raises(ValidationError) as info:
        broken.load("HIGHLOW")
    problems = info.value.problems
    assert len(problems) == 1
    assert (problems[0].row, problems[0].column) == (2, "high")
    assert problems[0].value == "high 9.0 < low 11.0" and "high is below low" in problems[0].message


def test_missing_date_in_parquet_says_missing(tmp_path):
    # was: the message was pandera's check name "not_nullable"
    pd.DataFrame({"date": pd.to_datetime(["2025-01-02", None]), "close": [1.0, 2.0]}).to_parquet(tmp_path / "D.parquet")
    with pytest.raises(ValidationError) as info:
        LocalDirectorySource(tmp_path).load("D")
    p = info.value.problems[0]
    assert (p.row, p.column) == (2, "date") and p.message.endswith("missing date")


def test_parquet_dates_with_a_time_of_day_are_rejected(tmp_path):
    # was: accepted; the index held 2025-01-02 10:00, which matches no session
    pd.DataFrame({"date": pd.to_datetime(["2025-01-02 10:00:00", "2025-01-03 00:00:00"]), "close": [1.0, 2.0]}).to_parquet(
        tmp_path / "T.parquet")
    with pytest.raises(InputError, match=r"T\.parquet, row 1, column 'date'.*2025-01-02 10:00"):
        LocalDirectorySource(tmp_path).load("T")


@pytest.mark.parametrize("column, cells, bad_row, message", [
    ("date", ["2025-01-02", "2025-01-03", "2025-01-06x"], 3, "not an ISO date (YYYY-MM-DD): '2025-01-06x'"),
    ("close", ["1.5", "abc", "2.5"], 2, "not a number: 'abc'"),
])
def test_parquet_errors_name_the_data_row_and_csv_errors_the_line(tmp_path, column, cells, bad_row, message):
    # was: "P.parquet, line 3" for data row 3 of a Parquet file, which has no lines (CSV wording)
    data = {"date": ["2025-01-02", "2025-01-03", "2025-01-06"], "close": ["1.5", "2.0", "2.5"]}
    data[column] = cells
    pd.DataFrame(data).to_parquet(tmp_path / "P.parquet")
    pd.DataFrame(data).to_csv(tmp_path / "C.csv", index=False)
    source = LocalDirectorySource(tmp_path)
    with pytest.raises(InputError) as parquet:
        source.load("P")
    assert str(parquet.value) == f"{tmp_path / 'P.parquet'}, row {bad_row}, column {column!r}: {message}"
    with pytest.raises(InputError) as csv:
        source.load("C")  # the header is line 1: data row N is line N + 1
    assert str(csv.value) == f"{tmp_path / 'C.csv'}, line {bad_row + 1}, column {column!r}: {message}"


def test_parquet_schema_problems_count_data_rows_from_one(tmp_path):
    pd.DataFrame({"date": pd.to_datetime(["2025-01-02", "2025-01-03", "2025-01-06"]),
                  "close": [1.0, -2.0, 3.0]}).to_parquet(tmp_path / "N.parquet")
    with pytest.raises(ValidationError) as info:
        LocalDirectorySource(tmp_path).load("N")
    [p] = info.value.problems
    assert (p.row, p.column) == (2, "close") and str(p).startswith(f"{tmp_path / 'N.parquet'}, row 2, column 'close'")


def test_parse_raw_table_rejects_an_unknown_unit():
    from screener.prices.base import parse_raw_table

    with pytest.raises(ValueError, match="unit must be 'line' or 'row'"):
        parse_raw_table(pd.DataFrame({"date": ["2025-01-02"], "close": [1.0]}), file="x", unit="cell")


def test_parse_raw_table_collect_mode_lists_every_bad_cell_and_drops_undated_rows():
    from screener.errors import Problem
    from screener.prices.base import parse_raw_table

    raw = pd.DataFrame({"date": ["2025-01-02", "bad", None, "2025-01-07"],
                        "close": ["1", "2", "3", "x"], "volume": ["1", "2", "y", "4"]})
    found: list[Problem] = []
    table, lines = parse_raw_table(raw, file="F.csv", problems=found)
    assert [(p.row, p.column, p.value) for p in found] == [
        (3, "date", "bad"), (4, "date", None), (5, "close", "x"), (4, "volume", "y")]
    assert "missing date" in found[1].message and "not a number" in found[2].message
    assert list(lines) == [2, 5]                     # rows without a usable date are left out
    assert table["date"].dt.day.tolist() == [2, 7] and np.isnan(table["close"].iloc[1])
    with pytest.raises(InputError, match=r"F\.csv, line 3, column 'date'"):  # the default still raises
        parse_raw_table(raw, file="F.csv")


@pytest.mark.parametrize("name", sorted(p.name for p in BROKEN.iterdir() if p.suffix in (".csv", ".parquet")))
def test_validate_reports_every_broken_fixture(name, capsys):
    # `semiscreen validate FILE` accepts each broken price file and exits 2 naming it: the
    # command the load errors point to works on every kind of breakage
    from screener.prices.local import validate_price_file

    path = BROKEN / name
    try:
        LocalDirectorySource(BROKEN).load(path.name[: -len(path.suffix)])
        broken_on_load = False
    except (InputError, DataUnavailableError):
        broken_on_load = True
    _, problems = validate_price_file(path)
    assert bool(problems) == broken_on_load, (name, problems)
    if problems:
        assert all(p.file == str(path) for p in problems)
        assert main(["validate", str(path)]) == 2
        out = capsys.readouterr().out
        assert str(path) in out and "FAILED" in out


# -- the cache ------------------------------------------------------------------------------


def test_damaged_cache_entry_is_fetched_again(tmp_path):
    # was: a corrupt cached Parquet failed every later run, and `fetch` did not repair it
    # because its metadata still said the range was covered
    upstream = LocalDirectorySource(GOOD)
    cache = CachedSource(upstream, tmp_path)
    want = upstream.load("TEST")
    cache.fetch(["TEST"], "2025-06-01", "2025-06-30")
    data, meta = cache.paths("TEST")
    data.write_bytes(os.urandom(300))
    assert cache.metadata("TEST") is None                       # damaged: not cached
    with pytest.raises(DataUnavailableError, match="not in the price cache"):
        CachedSource(upstream, tmp_path, offline=True).load("TEST")
    cache.fetch(["TEST"], "2025-06-01", "2025-06-30")          # repairs it
    got = CachedSource(upstream, tmp_path, offline=True).load("TEST")
    np.testing.assert_allclose(got["close"].to_numpy(), want["close"].to_numpy())
    meta.write_text("{}")                                       # valid JSON, no range
    assert cache.metadata("TEST") is None


def test_failed_fetch_writes_nothing(tmp_path, capsys):
    rc = main(["--prices", str(BROKEN), "--cache-dir", str(tmp_path), "fetch", "YAHOOHDR", "SHORTROW"])
    assert rc == 2 and "SHORTROW.csv, line 3" in capsys.readouterr().err
    assert not list(tmp_path.rglob("*.parquet"))


def test_prices_accepts_short_format_option(capsys):
    # every other command has -f; prices and fetch did not
    rc = main(["--prices", str(BROKEN), "prices", "YAHOOHDR", "-f", "csv"])
    out = capsys.readouterr()
    assert rc == 0, out.err
    assert out.out.splitlines()[0].startswith("symbol,")


# -- history older than the calendars ------------------------------------------------------------


def _with_old_history(tmp_path: Path) -> Path:
    lines = (GOOD / "TEST.csv").read_text().splitlines()
    header, body = lines[0], lines[1:]
    width = len(header.split(","))
    old = ["2014-12-30" + ",10.0" * (width - 2) + ",100", "2014-12-31" + ",10.0" * (width - 2) + ",100"]
    (tmp_path / "TEST.csv").write_text("\n".join([header, *old, *body]) + "\n")
    return tmp_path


def test_history_before_the_calendar_does_not_break_the_returns_panel(tmp_path):
    # was: CalendarError "prices run 2014-12-30..; restrict the date range" from returns_panel,
    # so `semiscreen study` failed for any --prices file with history before 2015
    from screener.errors import DataQualityWarning
    from screener.prices import returns_panel

    frame = LocalDirectorySource(_with_old_history(tmp_path)).load("TEST")
    reference = returns_panel({"TEST": LocalDirectorySource(GOOD).load("TEST")})
    with pytest.warns(DataQualityWarning, match="2 price row.*outside the XNYS calendar"):
        panel = returns_panel({"TEST": frame})
    pd.testing.assert_frame_equal(panel.returns, reference.returns)
    assert any("outside the XNYS calendar" in q for q in panel.quality["TEST"])


def test_prices_summary_accepts_history_before_the_calendar(tmp_path, capsys):
    rc = main(["--prices", str(_with_old_history(tmp_path)), "prices", "TEST", "--format", "csv"])
    out = capsys.readouterr()
    assert rc == 0, out.err
    row = pd.read_csv(io.StringIO(out.out)).iloc[0]
    assert row["first_date"] == "2014-12-30" and row["rows"] == 11


# -- fetch's date options ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "args, message",
    [
        (["--start", "25-06-02"], "give a plain date"),          # was: read as 2002-06-25, exit 0
        (["--start", "2025-06-30", "--end", "2025-06-01"], "is after --end"),   # was: exit 0
        (["--start", "2099-01-01"], "is after end"),             # was: exit 0, nothing fetched
    ],
)
def test_fetch_rejects_bad_or_reversed_dates(tmp_path, capsys, args, message):
    rc = main(["--prices", str(GOOD), "--cache-dir", str(tmp_path), "fetch", "TEST", *args])
    assert rc == 2 and message in capsys.readouterr().err
    assert not list(tmp_path.rglob("*.parquet"))


def test_cached_source_fetch_rejects_reversed_range(tmp_path):
    with pytest.raises(InputError, match="start 2025-06-30 is after end 2025-06-01"):
        CachedSource(LocalDirectorySource(GOOD), tmp_path).fetch(["TEST"], "2025-06-30", "2025-06-01")


def test_yahoo_network_failure_is_one_line(capsys):
    # was: yfinance's multi-line message made the CLI's "one line" error span two lines
    from screener.prices import YahooSource

    def offline(symbols, start, end):
        raise ConnectionError("Failed to get ticker 'NVDA'\n1 Failed download: ['NVDA']")

    with pytest.raises(DataUnavailableError) as info:
        YahooSource(offline, sleep=lambda s: None, max_retries=1).load("NVDA")
    message = str(info.value)
    assert "\n" not in message
    assert "Failed to get ticker 'NVDA' 1 Failed download" in message and "failed after 2 attempts" in message


@pytest.mark.parametrize("sep", [";", "\t"])
def test_wrong_delimiter_gets_a_hint(tmp_path, sep):
    (tmp_path / "S.csv").write_text(sep.join(["date", "close"]) + "\n" + sep.join(["2025-01-02", "10"]) + "\n")
    with pytest.raises(InputError, match=r"S\.csv: missing columns date, close.*seems to use " + re.escape(repr(sep))):
        LocalDirectorySource(tmp_path).load("S")
