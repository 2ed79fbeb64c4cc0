"""Cross-dataset validation: every kind of corruption is caught, named by file, line and column.

Each test corrupts a temporary copy of the tiny consistent fixture set in
``tests/data/seeds_min`` and checks that :func:`screener.validate.validate_seeds` reports the
problem where it is (the line of the CSV file, header = 1) and says what is wrong.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pandas as pd
import pytest

from screener.errors import Problem, ValidationError
from screener.paths import project_root, seeds_dir
from screener.validate import DATASET_KINDS, ValidationReport, detect_kind, validate_seeds

FIXTURE = Path(__file__).parent / "data" / "seeds_min"


@pytest.fixture
def seeds(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A private copy of the fixture set (documents and snapshot manifest included).

    It is also installed as the project's seeds, the reference data for files given alone.
    """
    target = tmp_path / "seeds"
    shutil.copytree(FIXTURE, target)
    monkeypatch.setenv("SEMISCREEN_SEEDS", str(target))
    return target


def run(seeds: Path, *paths: Path, **kwargs) -> ValidationReport:
    kwargs.setdefault("documents_dir", seeds / "documents")
    kwargs.setdefault("snapshot", seeds / "prices")
    return validate_seeds(list(paths) or [seeds], **kwargs)


def edit(path: Path, old: str, new: str, count: int = 1) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, f"fixture changed: {old!r} not in {path.name}"
    path.write_text(text.replace(old, new, count), encoding="utf-8")


def line_of(path: Path, needle: str) -> int:
    """1-based line of the first line containing ``needle`` (header = 1)."""
    for i, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if needle in line:
            return i
    raise AssertionError(f"{needle!r} not in {path}")


def find(report: ValidationReport, file: str, message: str) -> list[Problem]:
    return [p for p in report.problems if Path(p.file).name == file and message in p.message]


# --------------------------------------------------------------------------------------------


def test_fixture_set_is_valid(seeds):
    report = run(seeds)
    assert report.ok, str(report)
    assert list(report.checked) == list(DATASET_KINDS)
    for kind, info in report.checked.items():
        data_lines = len((seeds / f"{kind}.csv").read_text(encoding="utf-8").strip().splitlines()) - 1
        assert info["rows"] == data_lines
    assert report.summary().startswith("OK")
    report.raise_if_failed()  # no exception


def test_unknown_symbol(seeds):
    edit(seeds / "event_securities.csv", "asml-ai-stake,ASML.AS", "asml-ai-stake,ASMLX.AS")
    report = run(seeds)
    [p] = find(report, "event_securities.csv", "not in the universe")
    assert (p.row, p.column, p.value) == (line_of(seeds / "event_securities.csv", "ASMLX.AS"), "symbol", "ASMLX.AS")


def test_unknown_core_symbol_of_a_theme(seeds):
    edit(seeds / "themes.csv", "NVDA;688981.SS", "NVDA;688982.SS")
    [p] = find(run(seeds), "themes.csv", "not in the universe")
    assert (p.column, p.value) == ("core_symbols", "688982.SS")


@pytest.mark.parametrize(
    "old,new,column,message",
    [
        ("ai-chip-results,2025-08-26,", "ai-chip-results,2025-02-30,", "announced_at", "not a valid calendar date"),
        ("ai-chip-results,2025-08-26,", "ai-chip-results,26/08/2025,", "announced_at", "not a date or timestamp"),
        ("2025-01-13T07:00:00-05:00", "2025-01-13T07:00:00", "announced_at", "without a UTC offset"),
        (",doc_a.txt,2025-08-27,", ",doc_a.txt,2025-8-27,", "document_date", "expected YYYY-MM-DD"),
    ],
)
def test_bad_dates_in_events(seeds, old, new, column, message):
    edit(seeds / "events.csv", old, new)
    report = run(seeds)
    [p] = [p for p in report.problems if p.column == column]
    assert message in p.message
    assert p.row == line_of(seeds / "events.csv", new.strip(","))
    assert Path(p.file).name == "events.csv"


def test_bad_date_and_reversed_period_in_documents(seeds):
    edit(seeds / "documents.csv", "en,2025-01-01,2025-08-31", "en,2025-13-01,2025-08-31")
    edit(seeds / "documents.csv", "zh,2025-09-01,2025-09-30", "zh,2025-09-30,2025-09-01")
    report = run(seeds)
    [bad] = [p for p in report.problems if p.column == "period_start"]
    assert bad.row == 2 and "not a valid calendar date" in bad.message
    [rev] = find(report, "documents.csv", "before period_start")
    assert rev.row == 3 and rev.column == "period_end"


def test_duplicate_event_id(seeds):
    path = seeds / "events.csv"
    with path.open("a", encoding="utf-8") as fh:
        fh.write("asml-ai-stake,2025-09-10,unknown,day,doc_b.txt,,Same id again,ai-compute,\n")
    report = run(seeds)
    dups = [p for p in report.problems if p.column == "event_id" and "duplicate" in p.message]
    assert sorted(p.row for p in dups) == [4, 5]
    assert "also on line 5" in next(p for p in dups if p.row == 4).message


def test_duplicate_event_security_pair(seeds):
    with (seeds / "event_securities.csv").open("a", encoding="utf-8") as fh:
        fh.write("us-export-rule,NVDA,peer,0,Listed twice\n")
    report = run(seeds)
    dups = find(report, "event_securities.csv", "duplicate (event_id, symbol)")
    first = line_of(seeds / "event_securities.csv", "us-export-rule,NVDA")
    assert sorted(p.row for p in dups) == [first, 8]
    assert all(p.value == "us-export-rule/NVDA" for p in dups)


def test_unknown_theme(seeds):
    edit(seeds / "events.csv", "export-controls;ai-compute", "export-controls;quantum")
    [p] = find(run(seeds), "events.csv", "unknown theme")
    assert (p.row, p.column, p.value) == (3, "themes", "quantum")
    assert "ai-compute" in p.message and "export-controls" in p.message  # lists the valid ones


def test_wrong_checksum(seeds):
    (seeds / "documents" / "doc_b.txt").write_text("tampered\n", encoding="utf-8")
    [p] = find(run(seeds), "documents.csv", "checksum mismatch")
    assert (p.row, p.column) == (3, "sha256")


def test_missing_document_file_and_unlisted_document(seeds):
    (seeds / "documents" / "doc_a.txt").unlink()
    edit(seeds / "events.csv", ",doc_b.txt,,", ",doc_c.txt,,")
    report = run(seeds)
    [missing] = find(report, "documents.csv", "source document not found")
    assert missing.row == 2
    [unlisted] = find(report, "events.csv", "not listed in")
    assert (unlisted.row, unlisted.value) == (4, "doc_c.txt")


def test_documents_folder_absent_skips_checksum_with_a_note(seeds, tmp_path):
    report = run(seeds, documents_dir=tmp_path / "nowhere")
    assert report.ok
    assert any("sha256 check skipped" in n for n in report.notes)


def test_empty_file(seeds):
    (seeds / "themes.csv").write_bytes(b"")
    report = run(seeds)
    [p] = find(report, "themes.csv", "file is empty")
    assert p.row is None
    # the datasets that refer to themes are still checked, no crash
    assert report.checked["themes"]["rows"] == 0


def test_latin1_bytes(seeds):
    path = seeds / "universe.csv"
    text = path.read_text(encoding="utf-8").replace("NVIDIA Corp.", "NVIDIA Société")
    text = text.replace("英伟达", "").replace("寒武纪", "").replace("中芯国际", "").replace("阿斯麦尔", "")
    text = text.replace("阿斯麦", "").replace("标普500", "").replace("科创50", "")
    path.write_bytes(text.encode("latin-1"))
    [p] = find(run(seeds), "universe.csv", "not UTF-8")
    assert p.row == 2  # the NVIDIA line
    assert "0xe9" in p.message


def test_utf16_bytes(seeds):
    path = seeds / "event_securities.csv"
    path.write_bytes(path.read_text(encoding="utf-8").encode("utf-16"))
    [p] = find(run(seeds), "event_securities.csv", "UTF-16")
    assert "not UTF-8" in p.message


def test_extra_column(seeds):
    path = seeds / "event_securities.csv"
    lines = path.read_text(encoding="utf-8").splitlines()
    path.write_text("\n".join(line + (",weight" if i == 0 else ",1") for i, line in enumerate(lines)) + "\n",
                    encoding="utf-8")
    [p] = [p for p in run(seeds).problems if "unexpected column" in p.message]
    assert (Path(p.file).name, p.row, p.column) == ("event_securities.csv", 1, "weight")


def test_missing_column(seeds):
    df = pd.read_csv(seeds / "universe.csv", dtype=str, keep_default_na=False)
    df.loc[df["symbol"] == "NVDA", "segment"] = "gpu"
    df.drop(columns="currency").to_csv(seeds / "universe.csv", index=False)
    report = run(seeds)
    [p] = find(report, "universe.csv", "missing column")
    assert (p.row, p.column) == (1, "currency")
    # the columns that are there are still checked
    [segment] = [p for p in report.problems if p.column == "segment"]
    assert (segment.row, segment.value) == (2, "gpu")


def test_columns_out_of_order(seeds):
    df = pd.read_csv(seeds / "themes.csv", dtype=str, keep_default_na=False)
    cols = list(df.columns)
    cols[1], cols[2] = cols[2], cols[1]
    df[cols].to_csv(seeds / "themes.csv", index=False)
    [p] = find(run(seeds), "themes.csv", "out of order")
    assert p.row == 1


def test_semicolon_delimiter(seeds):
    df = pd.read_csv(seeds / "themes.csv", dtype=str, keep_default_na=False)
    df.to_csv(seeds / "themes.csv", index=False, sep=";")
    [p] = find(run(seeds), "themes.csv", "delimiter")
    assert "';'" in p.message and p.row == 1


def test_row_with_wrong_field_count(seeds):
    with (seeds / "event_securities.csv").open("a", encoding="utf-8") as fh:
        fh.write("asml-ai-stake,SOXX,peer\n")
    [p] = find(run(seeds), "event_securities.csv", "3 fields")
    assert p.row == 8


def test_event_without_security(seeds):
    edit(seeds / "event_securities.csv", "asml-ai-stake,ASML.AS,primary,0,The investor\n", "")
    [p] = find(run(seeds), "events.csv", "has no security")
    assert (p.row, p.value) == (4, "asml-ai-stake")


def test_event_without_primary(seeds):
    edit(seeds / "event_securities.csv", "asml-ai-stake,ASML.AS,primary", "asml-ai-stake,ASML.AS,peer")
    [p] = find(run(seeds), "events.csv", "no security with role 'primary'")
    assert (p.row, p.value) == (4, "asml-ai-stake")


def test_benchmark_without_prices(seeds):
    manifest_path = seeds / "prices" / "manifest.json"
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    del manifest["symbols"]["000688.SS"]
    manifest["missing"] = ["000688.SS"]
    manifest_path.write_text(json.dumps(manifest), encoding="utf-8")
    problems = find(run(seeds), "universe.csv", "no prices in the snapshot")
    assert {p.value for p in problems} == {"000688.SS"}
    assert sorted(p.row for p in problems) == [line_of(seeds / "universe.csv", "688256.SS,"),
                                               line_of(seeds / "universe.csv", "688981.SS,")]
    assert {p.column for p in problems} == {"benchmark"}


def test_benchmark_not_in_universe(seeds):
    edit(seeds / "universe.csv", "XAMS,EUR,NL,equipment,^STOXX50E", "XAMS,EUR,NL,equipment,^AEX")
    report = run(seeds)
    [p] = find(report, "universe.csv", "not itself in the universe")
    assert (p.column, p.value) == ("benchmark", "^AEX")
    assert find(report, "universe.csv", "no prices in the snapshot")  # and no prices either


def test_snapshot_absent_skips_price_check_with_a_note(seeds, tmp_path):
    report = run(seeds, snapshot=tmp_path / "no-snapshot")
    assert report.ok
    assert any("benchmark price check skipped" in n for n in report.notes)


def test_announcement_past_xshg_last_session(seeds):
    # XSHG's calendar ends on 2026-12-31. A 2027 date on a Shanghai-primary event cannot even be
    # placed on its primary market's clock: one problem, on the event's line.
    edit(seeds / "events.csv", "ai-chip-results,2025-08-26,after_close,day,doc_a.txt,2025-08-27",
         "ai-chip-results,2027-01-05,after_close,day,doc_a.txt,2027-01-05")
    report = run(seeds)
    [p] = report.problems
    assert (Path(p.file).name, p.row, p.column, p.value) == ("events.csv", 2, "announced_at", "2027-01-05")
    assert "XSHG" in p.message and "2026-12-31" in p.message


def test_timestamp_past_xshg_last_session_flags_the_shanghai_links_only(seeds):
    # A New York-primary event in 2027: NVDA (XNYS calendar runs to 2027-12-31) has a day 0,
    # the Shanghai-listed security linked to the same event does not.
    edit(seeds / "events.csv", "2025-01-13T07:00:00-05:00", "2027-01-05T07:00:00-05:00")
    report = run(seeds)
    [p] = report.problems
    securities = seeds / "event_securities.csv"
    assert (Path(p.file).name, p.row, p.value) == ("event_securities.csv",
                                                   line_of(securities, "us-export-rule,688256.SS"), "688256.SS")
    assert "XSHG" in p.message and "2026-12-31" in p.message


def test_exchange_without_calendar(seeds):
    edit(seeds / "universe.csv", "ASML.AS,ASML Holding,阿斯麦,equity,XAMS", "ASML.AS,ASML Holding,阿斯麦,equity,XQQQ")
    report = run(seeds)
    [p] = report.problems  # once, on the universe; not again on the event linked to ASML.AS
    assert (p.row, p.column, p.value) == (line_of(seeds / "universe.csv", "ASML.AS,"), "exchange", "XQQQ")
    assert "no trading calendar" in p.message


@pytest.mark.parametrize("kind", DATASET_KINDS)
def test_byte_order_mark_is_accepted_in_every_dataset(seeds, kind):
    # was: a BOM (Excel's "CSV UTF-8" export) was a problem in events and the other datasets
    # although price files accepted it; now every dataset CSV is read as utf-8-sig.
    path = seeds / f"{kind}.csv"
    rows_before = run(seeds).checked[kind]["rows"]
    path.write_bytes(b"\xef\xbb\xbf" + path.read_bytes())
    assert detect_kind(path) == kind          # the first column name is not "\ufeffevent_id"
    report = run(seeds)
    assert report.ok, str(report)
    assert report.checked[kind]["rows"] == rows_before


def test_byte_order_mark_is_accepted_by_the_loaders(seeds, tmp_path):
    import events
    import screener

    for name, loader in (("events.csv", events.load_catalog), ("event_securities.csv", events.load_event_securities),
                         ("universe.csv", screener.load_universe), ("themes.csv", screener.load_themes),
                         ("documents.csv", events.load_documents)):
        plain = loader(seeds / name)
        with_bom = tmp_path / name
        with_bom.write_bytes(b"\xef\xbb\xbf" + (seeds / name).read_bytes())
        pd.testing.assert_frame_equal(loader(with_bom), plain)


def test_timing_disagrees_with_timestamp(seeds):
    # 07:00 New York time is before the open: 'during' is wrong and the report says what is right.
    edit(seeds / "events.csv", "-05:00,before_open,exact", "-05:00,during,exact")
    [p] = [p for p in run(seeds).problems if p.column == "timing"]
    assert p.row == 3 and p.value == "during" and "'before_open'" in p.message


def test_timestamp_after_close_is_recognised(seeds):
    # 16:30 New York time on a session day is after the close; the matching timing passes.
    edit(seeds / "events.csv", "2025-01-13T07:00:00-05:00,before_open", "2025-01-13T21:30:00+00:00,after_close")
    assert run(seeds).ok


def test_precision_must_match_announcement(seeds):
    edit(seeds / "events.csv", "2025-08-26,after_close,day", "2025-08-26,after_close,exact")
    [p] = find(run(seeds), "events.csv", "has no time")
    assert (p.row, p.column) == (2, "date_precision")


def test_controlled_vocabularies(seeds):
    edit(seeds / "event_securities.csv", "NVDA,competitor,-1", "NVDA,rival,-2")
    edit(seeds / "universe.csv", "equity,XNAS,USD,US,ai_accelerator", "equity,XNAS,USD,US,gpu")
    report = run(seeds)
    by_col = {p.column: p for p in report.problems}
    assert "must be one of" in by_col["role"].message and by_col["role"].value == "rival"
    assert by_col["expected_sign"].value == -2
    assert by_col["segment"].value == "gpu"
    assert by_col["role"].row == by_col["expected_sign"].row == 4


def test_blank_and_unparsable_cells_are_reported_once_each(seeds):
    edit(seeds / "event_securities.csv", "NVDA,competitor,-1", "NVDA,competitor,x")
    edit(seeds / "event_securities.csv", "ASML.AS,primary,0", "ASML.AS,primary,")
    edit(seeds / "events.csv", "2025-08-26,after_close,day,doc_a.txt", ",after_close,day,doc_a.txt")
    report = run(seeds)
    got = sorted((Path(p.file).name, p.row, p.column, p.message) for p in report.problems)
    assert got == [
        ("event_securities.csv", 4, "expected_sign", "not an integer"),
        ("event_securities.csv", 7, "expected_sign", "is required but blank"),
        ("events.csv", 2, "announced_at", "is required but blank"),
    ]


def test_multiline_cell_keeps_line_numbers(seeds):
    # A quoted note spanning two lines: the rows after it are still numbered by file line.
    edit(seeds / "events.csv", "Fixture: results filed after the Shanghai close.",
         '"Fixture: results filed\nafter the Shanghai close."')
    edit(seeds / "events.csv", "asml-ai-stake,2025-09-09", "asml-ai-stake,2025-09-31")
    [p] = [p for p in run(seeds).problems if p.column == "announced_at"]
    assert p.row == 5 == line_of(seeds / "events.csv", "2025-09-31")


def test_all_problems_are_collected_at_once(seeds):
    edit(seeds / "event_securities.csv", "asml-ai-stake,ASML.AS", "asml-ai-stake,NOPE")
    edit(seeds / "events.csv", "export-controls;ai-compute", "export-controls;quantum")
    (seeds / "documents" / "doc_a.txt").write_text("changed\n", encoding="utf-8")
    edit(seeds / "themes.csv", "AI chip;accelerator", "AI chip;accelerator,extra")
    report = run(seeds)
    assert not report.ok
    messages = " | ".join(p.message for p in report.problems)
    for expected in ("not in the universe", "unknown theme", "checksum mismatch", "fields, the header has"):
        assert expected in messages
    frame = report.to_frame()
    assert list(frame.columns) == ["file", "row", "column", "value", "message"]
    assert len(frame) == len(report.problems)
    with pytest.raises(ValidationError) as info:
        report.raise_if_failed()
    assert info.value.problems == report.problems


def test_user_event_files_against_project_reference_data(seeds, tmp_path):
    mine = tmp_path / "research"
    mine.mkdir()
    # Names that say nothing: the header tells which dataset each file is.
    shutil.copy(seeds / "events.csv", mine / "a.csv")
    shutil.copy(seeds / "event_securities.csv", mine / "b.csv")
    assert detect_kind(mine / "a.csv") == "events"
    assert detect_kind(mine / "b.csv") == "event_securities"
    report = validate_seeds([mine / "a.csv", mine / "b.csv"], snapshot=seeds / "prices")
    assert report.ok, str(report)
    assert set(report.checked) == {"events", "event_securities", "universe", "themes"}
    assert any("documents" in n for n in report.notes)

    edit(mine / "b.csv", "ai-chip-results,NVDA", "ai-chip-results,XYZ")
    [p] = validate_seeds([mine / "a.csv", mine / "b.csv"], snapshot=seeds / "prices").problems
    assert p.file == str(mine / "b.csv") and p.value == "XYZ"


def test_one_seed_file_is_checked_with_its_partners_in_the_same_folder(seeds):
    edit(seeds / "event_securities.csv", "asml-ai-stake,ASML.AS,primary,0,The investor\n", "")
    report = validate_seeds([seeds / "events.csv"], documents_dir=seeds / "documents", snapshot=seeds / "prices")
    assert set(report.checked) == set(DATASET_KINDS)
    [p] = report.problems
    assert "has no security" in p.message and p.row == 4


def test_file_of_unknown_kind(seeds, tmp_path):
    other = tmp_path / "quotes_2025.csv"
    other.write_text("ticker,when,last\nNVDA,2025-01-02,1.0\n", encoding="utf-8")
    assert detect_kind(other) is None
    report = run(seeds, other)
    [p] = report.problems
    assert "cannot tell which dataset" in p.message and p.file == str(other)
    assert "price file" in p.message  # the message names every kind it knows


def test_unreadable_file_of_unknown_kind_says_why(seeds, tmp_path):
    # was: "cannot tell which dataset this file is" for a file that is simply not UTF-8
    other = tmp_path / "quotes.csv"
    other.write_bytes("ticker,name\nX,Soci\xe9t\xe9\n".encode("latin-1"))
    [p] = run(seeds, other).problems
    assert p.file == str(other) and p.row == 2 and "not UTF-8" in p.message


def test_kind_from_file_name_when_header_unreadable(seeds, tmp_path):
    broken = tmp_path / "my_event_securities.csv"
    broken.write_bytes(b"")
    assert detect_kind(broken) == "event_securities"


def test_shipped_seeds_are_valid(shared_seeds_dir):
    seeds = project_root() / "seeds"
    needed = [seeds / f"{kind}.csv" for kind in DATASET_KINDS]
    if not all(p.exists() for p in needed):
        pytest.skip("the shipped seeds/*.csv are not all present yet")
    report = validate_seeds(seeds, documents_dir=shared_seeds_dir)
    assert report.ok, str(report)
    assert all(info["rows"] > 0 for info in report.checked.values())


# --------------------------------------------------------------------------------------------
# A header and no rows


@pytest.mark.parametrize("name", ["events.csv", "event_securities.csv", "universe.csv", "themes.csv", "documents.csv"])
def test_header_without_rows_is_a_problem_naming_the_file(seeds, tmp_path, name):
    # was: an events (or securities, universe, themes) file with only its header validated OK
    header = (seeds / name).read_text(encoding="utf-8").splitlines()[0]
    given = tmp_path / f"my_{name}"
    given.write_text(header + "\n\n", encoding="utf-8")  # a trailing blank line is not a row
    report = run(seeds, given)
    assert not report.ok
    [p] = find(report, given.name, "has a header but no rows")
    assert (p.file, p.row, p.column) == (str(given), None, None)
    assert str(p).startswith(f"{given}: has a header but no rows")


def test_header_without_rows_fails_the_loader_too(seeds, tmp_path):
    from events.catalog import load_catalog

    path = tmp_path / "events.csv"
    path.write_text((seeds / "events.csv").read_text(encoding="utf-8").splitlines()[0] + "\n", encoding="utf-8")
    with pytest.raises(ValidationError, match="events.csv: has a header but no rows"):
        load_catalog(path)


def test_a_file_whose_rows_are_all_malformed_is_not_called_empty(seeds, tmp_path):
    path = tmp_path / "events.csv"
    header = (seeds / "events.csv").read_text(encoding="utf-8").splitlines()[0]
    path.write_text(header + "\nonly,three,fields\n", encoding="utf-8")
    report = run(seeds, path)
    assert find(report, "events.csv", "row has 3 fields")
    assert not find(report, "events.csv", "no rows")


# --------------------------------------------------------------------------------------------
# The Yahoo suffix and the exchange column agree


@pytest.mark.parametrize("symbol, old_mic, new_mic, says", [
    ("688256.SS", "XSHG", "XNYS", "the Yahoo suffix .SS means exchange XSHG, but the exchange column says XNYS"),
    ("688256.SS", "XSHG", "XSHE", "the Yahoo suffix .SS means exchange XSHG, but the exchange column says XSHE"),
    ("NVDA", "XNAS", "XSHG", "a Yahoo symbol without a suffix is a US listing (e.g. XNYS, XNAS), but the "
                             "exchange column says XSHG (Yahoo symbols on XSHG end in .SS)"),
    ("ASML.AS", "XAMS", "XETR", "the Yahoo suffix .AS means exchange XAMS, but the exchange column says XETR"),
    ("^GSPC", "XNYS", "XHKG", "this index follows the XNYS calendar, but the exchange column says XHKG"),
])
def test_suffix_disagreeing_with_the_exchange_is_a_problem(seeds, symbol, old_mic, new_mic, says):
    # was: nothing compared them; the study silently used the exchange column's calendar
    path = seeds / "universe.csv"
    row = next(line for line in path.read_text(encoding="utf-8").splitlines() if line.startswith(symbol + ","))
    edit(path, row, row.replace(f",{old_mic},", f",{new_mic},", 1))
    report = run(seeds)
    [p] = find(report, "universe.csv", says)
    lines = path.read_text(encoding="utf-8").splitlines()
    line = next(i for i, text in enumerate(lines, start=1) if text.startswith(symbol + ","))
    assert (p.row, p.column, p.value) == (line, "exchange", new_mic)
    assert p.message.startswith(f"{symbol}: ")


@pytest.mark.parametrize("symbol, old_mic, new_mic", [
    ("NVDA", "XNAS", "XNYS"),      # a US symbol on any US venue
    ("SOXX", "XNAS", "ARCX"),
    ("^GSPC", "XNYS", "XNAS"),     # an index only follows its market's calendar
])
def test_legitimate_listings_are_accepted(seeds, symbol, old_mic, new_mic):
    path = seeds / "universe.csv"
    row = next(line for line in path.read_text(encoding="utf-8").splitlines() if line.startswith(symbol + ","))
    edit(path, row, row.replace(f",{old_mic},", f",{new_mic},", 1))
    assert not find(run(seeds), "universe.csv", "exchange column says")


def test_shipped_universe_listings_agree_with_their_suffixes():
    # ADRs on US exchanges (TSM, BABA, NIO), Shenzhen .SZ on XSHE, indices on their calendars
    report = validate_seeds()
    assert not [p for p in report.problems if "exchange column says" in p.message]


def test_unknown_suffix_with_an_explicit_exchange_is_left_to_the_exchange():
    from screener.validate import _listing_mismatch

    assert _listing_mismatch("VOD.L", "XLON") is None           # no suffix rule known: the MIC decides
    assert _listing_mismatch("300750.SZ", "XSHE") is None
    assert _listing_mismatch("399006.SZ", "XSHE", "index") is None
    assert "means exchange XSHE" in _listing_mismatch("300750.SZ", "XSHG")


# --------------------------------------------------------------------------------------------
# Reference datasets that cannot be found fail the check (was: "OK" with a note on stderr)


def test_missing_reference_datasets_are_problems_not_notes(seeds, tmp_path, monkeypatch):
    # An installed copy without its seeds used to print "OK" for an unknown theme and symbol.
    mine = tmp_path / "mine"
    mine.mkdir()
    shutil.copy(seeds / "events.csv", mine / "my_events.csv")
    shutil.copy(seeds / "event_securities.csv", mine / "my_links.csv")
    edit(mine / "my_events.csv", "ai-compute", "no-such-theme")
    edit(mine / "my_links.csv", "ai-chip-results,NVDA", "ai-chip-results,NOPE")
    monkeypatch.setenv("SEMISCREEN_SEEDS", str(tmp_path / "absent"))
    report = validate_seeds([mine / "my_events.csv", mine / "my_links.csv"])
    assert not report.ok
    by_file = {Path(p.file).name: p for p in report.problems}
    assert set(by_file) == {"my_events.csv", "my_links.csv"}
    assert "theme ids cannot be checked" in by_file["my_events.csv"].message
    assert "symbols" in by_file["my_links.csv"].message and "cannot be checked" in by_file["my_links.csv"].message
    for p in report.problems:
        assert str(tmp_path / "absent") in p.message and "SEMISCREEN_SEEDS" in p.message
    with pytest.raises(ValidationError):
        report.raise_if_failed()


def test_a_seeds_folder_without_the_needed_reference_is_a_problem(seeds, tmp_path, monkeypatch):
    reference = tmp_path / "reference"
    reference.mkdir()
    shutil.copy(seeds / "universe.csv", reference / "universe.csv")  # no themes.csv
    monkeypatch.setenv("SEMISCREEN_SEEDS", str(reference))
    mine = tmp_path / "mine"
    mine.mkdir()
    shutil.copy(seeds / "events.csv", mine / "my_events.csv")
    [p] = validate_seeds([mine / "my_events.csv"]).problems
    assert p.file == str(mine / "my_events.csv") and "theme ids cannot be checked" in p.message
    assert "themes.csv" in p.message


def test_a_universe_alone_needs_no_other_reference(seeds, tmp_path, monkeypatch):
    mine = tmp_path / "mine"
    mine.mkdir()
    shutil.copy(seeds / "universe.csv", mine / "my_universe.csv")
    monkeypatch.setenv("SEMISCREEN_SEEDS", str(tmp_path / "absent"))
    report = validate_seeds([mine / "my_universe.csv"], snapshot=seeds / "prices")
    assert report.ok, str(report)


def test_cli_validate_exits_2_when_the_reference_datasets_are_missing(seeds, tmp_path, monkeypatch, capsys):
    from screener.cli import main

    mine = tmp_path / "mine"
    mine.mkdir()
    shutil.copy(seeds / "events.csv", mine / "my_events.csv")
    shutil.copy(seeds / "event_securities.csv", mine / "my_links.csv")
    monkeypatch.setenv("SEMISCREEN_SEEDS", str(tmp_path / "absent"))
    assert main(["validate", str(mine / "my_events.csv"), str(mine / "my_links.csv")]) == 2
    out = capsys.readouterr().out
    assert "FAILED: 2 problems" in out and "OK" not in out


# --------------------------------------------------------------------------------------------
# Price files and folders


PRICE_HEADER = "date,open,high,low,close,adj_close,volume\n"


def _price_csv(folder: Path, symbol: str, body: str, header: str = PRICE_HEADER) -> Path:
    path = folder / f"{symbol}.csv"
    path.write_text(header + body, encoding="utf-8")
    return path


def test_price_files_are_recognised(tmp_path):
    assert detect_kind(_price_csv(tmp_path, "NVDA", "2025-06-02,1,2,1,1.5,1.5,100\n")) == "prices"
    yahoo = _price_csv(tmp_path, "AMD", "2025-06-02,1,2,1,1.5,1.5,100\n",
                       header="Date,Open,High,Low,Close,Adj Close,Volume\n")
    assert detect_kind(yahoo) == "prices"
    assert detect_kind(_price_csv(tmp_path, "CL", "2025-06-02,1.5\n", header="date,close\n")) == "prices"
    assert detect_kind(project_root() / "seeds" / "prices" / "NVDA.parquet") == "prices"


def test_price_file_every_problem_listed_with_file_row_and_date(seeds, tmp_path):
    # was: "cannot tell which dataset this file is", although price errors point here
    path = _price_csv(tmp_path, "NVDA", (
        "2025-06-02,1,2,1,1.5,1.5,100\n"
        "2025-06-02,1,2,1,1.5,1.5,100\n"     # line 3: duplicate date
        "2025-06-04,1,2,1,abc,1.5,100\n"     # line 4: not a number
        "2025-06-05,1,2,1\n"                 # line 5: 4 fields
        "2025-06-06,1,0.5,0.9,1,1,10\n"      # line 6: high below low
        "06/09/2025,1,2,1,1.5,1.5,100\n"     # line 7: not an ISO date
        "2025-06-10,1,2,1,-1,1.5,100\n"      # line 8: negative close
    ))
    report = validate_seeds([path])
    assert not report.ok
    assert set(report.checked) == {"prices"}          # no dataset was dragged in
    assert report.checked["prices"]["files"] == 1
    assert all(p.file == str(path) for p in report.problems)
    rows = {(p.row, p.column): p for p in report.problems}
    assert "duplicate date" in rows[(3, "date")].message and "2025-06-02" in rows[(3, "date")].message
    assert "not a number" in rows[(4, "close")].message and rows[(4, "close")].value == "abc"
    assert "row has 4 fields" in rows[(5, None)].message
    assert "high is below low" in rows[(6, "high")].message and "2025-06-06" in rows[(6, "high")].message
    assert "not an ISO date" in rows[(7, "date")].message
    assert "positive" in rows[(8, "close")].message and "2025-06-10" in rows[(8, "close")].message


def test_valid_price_files_pass(tmp_path):
    shutil.copy(project_root() / "seeds" / "prices" / "NVDA.parquet", tmp_path / "NVDA.parquet")
    path = _price_csv(tmp_path, "AMD", "2025-06-02,1,2,1,1.5,1.5,100\n2025-06-03,1,2,1,1.6,1.6,90\n")
    path.write_bytes(b"\xef\xbb\xbf" + path.read_bytes())  # a BOM is fine here too
    report = validate_seeds([tmp_path / "NVDA.parquet", path])
    assert report.ok, str(report)
    assert report.checked["prices"]["files"] == 2 and report.checked["prices"]["rows"] > 2
    assert report.summary().startswith("OK: prices (2 files,")


def _bad_price_folder(folder: Path) -> Path:
    folder.mkdir()
    _price_csv(folder, "NVDA", "2025-06-02,1,2,1,1.5,1.5,100\n2025-06-02,1,2,1,1.5,1.5,100\n")
    (folder / "AMD.csv").write_bytes(b"date,close\n2025-06-02,1\n2025-06-03,\xe9\n")  # Latin-1
    shutil.copy(project_root() / "seeds" / "prices" / "TSM.parquet", folder / "TSM.parquet")
    (folder / "README.md").write_text("not a price file\n", encoding="utf-8")
    return folder


def test_price_folder_problems_are_found(seeds, tmp_path):
    # was: `semiscreen validate DIR` printed OK for a folder with a duplicate date and a non-UTF-8 file
    folder = _bad_price_folder(tmp_path / "px")
    report = validate_seeds([folder])
    assert not report.ok
    assert report.checked["prices"]["files"] == 3
    [dup, dup2] = [p for p in report.problems if "duplicate date" in p.message]
    assert Path(dup.file).name == "NVDA.csv" and {dup.row, dup2.row} == {2, 3}
    [latin] = [p for p in report.problems if Path(p.file).name == "AMD.csv"]
    assert latin.row == 3 and "not UTF-8" in latin.message
    assert not [p for p in report.problems if Path(p.file).name in ("TSM.parquet", "README.md")]


def test_explicit_snapshot_folder_is_checked_file_by_file(seeds, tmp_path):
    # was: `semiscreen validate --snapshot DIR` only read DIR/manifest.json
    folder = _bad_price_folder(tmp_path / "px")
    shutil.copy(seeds / "prices" / "manifest.json", folder / "manifest.json")
    report = validate_seeds(None, snapshot=folder, documents_dir=seeds / "documents")
    assert {Path(p.file).name for p in report.problems} == {"NVDA.csv", "AMD.csv"}
    assert report.checked["prices"]["files"] == 3


def test_price_folder_with_a_dataset_like_csv_notes_it_as_skipped(seeds, tmp_path):
    folder = tmp_path / "px"
    folder.mkdir()
    _price_csv(folder, "NVDA", "2025-06-02,1,2,1,1.5,1.5,100\n")
    shutil.copy(seeds / "events.csv", folder / "my_events.csv")
    report = validate_seeds([folder])
    assert report.ok and report.checked["prices"]["files"] == 1
    assert any("my_events.csv" in n and "skipped" in n for n in report.notes)


def test_folder_with_nothing_to_check_is_a_problem(tmp_path):
    (tmp_path / "empty").mkdir()
    [p] = validate_seeds([tmp_path / "empty"]).problems
    assert p.file == str(tmp_path / "empty") and "nothing to check" in p.message


def test_the_hinted_validate_command_lists_every_price_problem(tmp_path, capsys):
    # A price error ends with "run `semiscreen validate FILE` to list them all": that command
    # must accept the price file and list the problems the load reported.
    from screener.cli import main

    folder = tmp_path / "px"
    folder.mkdir()
    body = "".join(f"2025-06-{d:02d},1,2,1,1.5,1.5,100\n" for d in (2, 3, 3, 4, 5, 5))
    path = _price_csv(folder, "NVDA", body)
    assert main(["--prices", str(folder), "prices", "NVDA"]) == 2
    err = capsys.readouterr().err
    assert f"run `semiscreen validate {path}` to list them all" in err
    assert main(["validate", str(path)]) == 2
    out = capsys.readouterr().out
    lines = [line for line in out.splitlines() if line.startswith(str(path))]
    assert [line.split(":")[1] for line in lines] == ["3", "4", "6", "7"]
    assert all("duplicate date" in line for line in lines)
    assert "FAILED: 4 problems in prices (1 file, 6 rows)" in out


def test_blank_document_in_validate_says_what_to_write(seeds):
    edit(seeds / "events.csv", "ai-chip-results,2025-08-26,after_close,day,doc_a.txt,",
         "ai-chip-results,2025-08-26,after_close,day,,")
    [p] = run(seeds).problems
    assert (Path(p.file).name, p.row, p.column) == ("events.csv", 2, "document")
    assert p.message.startswith("is required but blank: give the source")
    assert "as listed in documents.csv" in p.message and "any identifier of the source" in p.message


# --------------------------------------------------------------------------------------------
# A suffix semiscreen does not know, on an exchange whose suffix it knows, is a typo


@pytest.mark.parametrize("symbol, mic, says", [
    ("600519.SH", "XSHG", "600519.SH: unknown Yahoo suffix .SH for exchange XSHG; Yahoo writes Shanghai "
                          "symbols as 600519.SS"),
    ("0981.HKG", "XHKG", "Yahoo writes Hong Kong symbols as 0981.HK"),
    ("000001.SZE", "XSHE", "Yahoo writes Shenzhen symbols as 000001.SZ"),
    ("ABC.XX", "XNYS", "ABC.XX: unknown Yahoo suffix .XX on the US venue XNYS; Yahoo writes US symbols "
                       "without a suffix"),
    ("BRK.B", "XNYS", "a share class with '-' (BRK-B): BRK-B"),
    ("000905.SH", "XSHG", "Yahoo writes Shanghai symbols as 000905.SS"),  # an index too
])
def test_unknown_suffix_on_a_known_exchange_is_a_typo(seeds, symbol, mic, says):
    # was: accepted, because an unknown suffix left the decision to the exchange column
    path = seeds / "universe.csv"
    row = next(line for line in path.read_text(encoding="utf-8").splitlines() if line.startswith("688981.SS,"))
    asset = "index" if symbol.startswith("000905") else "equity"
    new = row.replace("688981.SS,", f"{symbol},", 1).replace(",equity,XSHG,", f",{asset},{mic},", 1)
    edit(path, row, new)
    edit(seeds / "event_securities.csv", "688981.SS", symbol, count=99)
    edit(seeds / "themes.csv", "688981.SS", symbol, count=99)
    problems = [p for p in run(seeds).problems if p.column == "exchange"]
    [p] = problems
    assert (Path(p.file).name, p.row, p.value) == ("universe.csv", line_of(path, symbol + ","), mic)
    assert says in p.message


@pytest.mark.parametrize("symbol, mic", [("VOD.L", "XLON"), ("091990.KQ", "XKRX"), ("6488.TWO", "XTAI"),
                                         ("600519.SS", "XSHG"), ("BRK-B", "XNYS")])
def test_other_boards_and_unknown_exchanges_are_not_typos(symbol, mic):
    from screener.validate import _listing_mismatch

    assert _listing_mismatch(symbol, mic) is None


def test_the_projects_reference_files_are_not_blamed_for_a_users_file(tmp_path):
    """A user's two-row universe: its own problems fail the check; the project's themes.csv,
    whose core symbols are not in it, gets one note instead of dozens of problems."""
    lines = (seeds_dir() / "universe.csv").read_text(encoding="utf-8").splitlines()
    mine = tmp_path / "my_universe.csv"
    mine.write_text("\n".join(lines[:3]) + "\n", encoding="utf-8")
    report = validate_seeds([mine])
    assert not report.ok
    assert {p.file for p in report.problems} == {str(mine)}
    assert any("the project's themes.csv has" in n and "give your own themes file" in n for n in report.notes)
