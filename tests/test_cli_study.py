"""``semiscreen study``: per-firm CARs and tests of catalog events, through ``screener.cli.main``."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq
import pytest

from screener.cli import main
from screener.paths import seeds_dir, snapshot_dir

INTEL_STAKE = "intel-us-government-stake-2025-08"


def _close(symbol: str) -> pd.Series:
    t = pq.read_table(snapshot_dir() / f"{symbol}.parquet").to_pandas()
    return pd.Series(t["close"].to_numpy(dtype=float), index=pd.DatetimeIndex(pd.to_datetime(t["date"])))


def _study_json(capsys, *args: str) -> dict:
    assert main(["study", *args, "--format", "json"]) == 0
    return json.loads(capsys.readouterr().out)


def test_intel_stake_gives_a_positive_day0_car_for_intel(capsys):
    out = _study_json(capsys, INTEL_STAKE, "--window", "0,0", "--window=-1,1")
    cars = pd.DataFrame(out["cars"]).set_index("symbol")
    # the real move, read independently from the snapshot: INTC closed up on 2025-08-22
    close = _close("INTC")
    raw = close.loc["2025-08-22"] / close.loc["2025-08-21"] - 1
    assert raw > 0.03
    car = cars.loc["INTC", "car[0,0]"]
    assert car > 0
    # a market-model AR is the raw move less a small market-explained part (S&P 500 that day)
    spx = _close("^GSPC")
    market = spx.loc["2025-08-22"] / spx.loc["2025-08-21"] - 1
    assert abs(car - raw) < 3 * abs(market) + 0.01
    assert cars.loc["INTC", "event_date"] == "2025-08-22"
    assert cars.loc["INTC", "outcome"] == "ok"
    assert out["parameters"] == {"model": "market", "estimation": [-250, -11], "windows": [[0, 0], [-1, 1]]}


def test_tests_table_covers_each_window(capsys):
    out = _study_json(capsys, INTEL_STAKE, "--window", "0,0", "--window", "-1,1")
    tests = pd.DataFrame(out["tests"])
    assert set(tests["window"]) == {"[0,0]", "[-1,+1]"}
    assert {"estimate", "statistic", "pvalue", "n"} <= set(tests.columns)
    assert (tests["pvalue"].dropna().between(0, 1)).all()
    # the CAAR estimate on [0,0] is the mean of the estimated pairs' CARs
    cars = pd.DataFrame(out["cars"])
    mean_car = cars.loc[cars["outcome"].isin(["ok", "overlapping_event", "date_shifted"]), "car[0,0]"].mean()
    t = tests[(tests["window"] == "[0,0]") & (tests["test"] == "cross_sectional_t")]
    assert t["estimate"].iloc[0] == pytest.approx(mean_car, rel=1e-9)


def test_unknown_event_exits_2_with_a_close_match(capsys):
    assert main(["study", "intel-us-government-stake"]) == 2
    err = capsys.readouterr().err
    assert "unknown event id 'intel-us-government-stake'" in err
    assert INTEL_STAKE in err and "Did you mean" in err


def test_bad_window_and_model_exit_2(capsys):
    assert main(["study", INTEL_STAKE, "--window", "1"]) == 2
    assert "expected two integers" in capsys.readouterr().err
    assert main(["study", INTEL_STAKE, "--model", "capm"]) == 2
    err = capsys.readouterr().err
    assert err == ("error: --model 'capm' is not a model. Valid: market, market-adjusted, constant-mean, "
                   "scholes-williams, dimson\n")


def test_model_errors_use_the_cli_spelling_and_point_factor_to_python(tmp_path, capsys):
    # was: "model 'factor' is not available here; valid: market_adjusted, constant_mean, ..."
    # while --help lists market-adjusted, constant-mean
    assert main(["study", INTEL_STAKE, "-m", "factor"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("error: --model factor needs factor returns")
    assert 'EventStudy(returns, market=..., model="factor", factors=...)' in err
    assert "market-adjusted, constant-mean, scholes-williams" in err and "_" not in err.split("valid here:")[1]
    assert main(["report", "--out", str(tmp_path / "r"), "-m", "constant_means"]) == 2
    err = capsys.readouterr().err
    assert "Did you mean 'constant-mean'? Valid: market, market-adjusted, constant-mean," in err
    assert not (tmp_path / "r").exists()


def test_model_accepts_either_spelling_and_titles_use_the_cli_one(capsys):
    assert main(["study", INTEL_STAKE, "-m", "market_adjusted", "-w", "0,0", "--part", "cars", "-f", "markdown"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("### CARs: 4 event-firm pairs, market-adjusted model, estimation (-250, -11); scar = car/sd on [0,0]\n")


def test_market_adjusted_model_ar_is_return_minus_market(capsys):
    out = _study_json(capsys, INTEL_STAKE, "--model", "market-adjusted", "--window", "0,0")
    car = pd.DataFrame(out["cars"]).set_index("symbol").loc["INTC", "car[0,0]"]
    intc, spx = _close("INTC"), _close("^GSPC")
    expected = (intc.loc["2025-08-22"] / intc.loc["2025-08-21"] - 1) - (spx.loc["2025-08-22"] / spx.loc["2025-08-21"] - 1)
    # the snapshot's INTC and ^GSPC adjusted closes equal the closes over these days (no dividend)
    assert car == pytest.approx(expected, abs=1e-4)


def test_csv_part_cars_reads_into_pandas(capsys):
    assert main(["study", INTEL_STAKE, "--format", "csv", "--part", "cars"]) == 0
    cars = pd.read_csv(io.StringIO(capsys.readouterr().out))
    assert list(cars["symbol"]) == ["INTC", "GFS", "TSM", "SOXX"]
    assert {"car[0,0]", "car[-1,+1]", "car[0,+5]", "scar"} <= set(cars.columns)
    assert main(["study", INTEL_STAKE, "--format", "csv", "--part", "tests", "-w", "0,0"]) == 0
    tests = pd.read_csv(io.StringIO(capsys.readouterr().out))
    assert list(tests.columns) == ["window", "test", "estimate", "statistic", "pvalue", "n", "df"]
    assert set(tests["window"]) == {"[0,0]"} and (tests["n"] == 4).all()


def test_csv_with_both_tables_is_refused(capsys):
    # was: the CAR table and the test table printed one after the other (pandas read garbage)
    assert main(["study", INTEL_STAKE, "--format", "csv"]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.count("\n") == 1
    assert "--part cars" in captured.err and "--part tests" in captured.err


def test_json_all_is_one_loadable_object_and_parts_are_records(capsys):
    assert main(["study", INTEL_STAKE, "-w", "0,0", "--format", "json"]) == 0
    obj = json.loads(capsys.readouterr().out)
    assert set(obj) == {"parameters", "cars", "tests"}
    assert len(pd.DataFrame(obj["cars"])) == 4 and set(pd.DataFrame(obj["tests"])["window"]) == {"[0,0]"}
    assert main(["study", INTEL_STAKE, "-w", "0,0", "--format", "json", "--part", "cars"]) == 0
    cars = pd.read_json(io.StringIO(capsys.readouterr().out), orient="records")
    assert list(cars["symbol"]) == ["INTC", "GFS", "TSM", "SOXX"]


def _events_with_new_event(tmp_path) -> str:
    events = pd.read_csv(seeds_dir() / "events.csv", dtype=str, keep_default_na=False)
    new = events[events["event_id"] == INTEL_STAKE].assign(event_id="weekend-2025-03")
    path = tmp_path / "ev2.csv"
    pd.concat([events, new]).to_csv(path, index=False)
    return str(path)


def test_event_without_securities_is_an_error_naming_the_file(tmp_path, capsys):
    # was: "CARs: 0 event-firm pairs", empty tables, exit 0
    events = _events_with_new_event(tmp_path)
    assert main(["study", "weekend-2025-03", "--events-file", events]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    default = seeds_dir() / "event_securities.csv"
    try:  # shown relative to the working directory when it lies below it
        shown = default.resolve().relative_to(Path.cwd().resolve())
    except ValueError:
        shown = default
    assert captured.err == (
        f"error: no event-firm pairs to study: the securities file {shown} has no "
        "rows for event 'weekend-2025-03'; pass --securities-file FILE with rows (event_id, symbol, role, "
        "expected_sign) for it\n")
    links = tmp_path / "links.csv"
    links.write_text("event_id,symbol,role,expected_sign,rationale\n"
                     f"{INTEL_STAKE},INTC,primary,1,x\n", encoding="utf-8")
    assert main(["study", "weekend-2025-03", "--events-file", events, "--securities-file", str(links)]) == 2
    err = capsys.readouterr().err
    assert f"the securities file {links} has no rows for event 'weekend-2025-03'; add rows" in err


def test_event_without_securities_among_others_is_left_out_with_a_note(tmp_path, capsys):
    events = _events_with_new_event(tmp_path)
    assert main(["study", INTEL_STAKE, "weekend-2025-03", "--events-file", events, "--part", "cars",
                 "-f", "csv"]) == 0
    captured = capsys.readouterr()
    assert set(pd.read_csv(io.StringIO(captured.out))["event_id"]) == {INTEL_STAKE}
    assert "note: the securities file" in captured.err and "'weekend-2025-03': left out of the study" in captured.err


def test_no_prices_under_offline_exits_3_with_the_outcome_counts(tmp_path, capsys):
    # was: every pair no_data and exit 0, although --offline promises exit 3 on a cache miss
    assert main(["--offline", "--cache-dir", str(tmp_path), "study", INTEL_STAKE, "--part", "cars", "-f", "csv"]) == 3
    captured = capsys.readouterr()
    cars = pd.read_csv(io.StringIO(captured.out))   # the table still says why, pair by pair
    assert (cars["outcome"] == "no_data").all() and len(cars) == 4
    last = captured.err.splitlines()[-1]
    assert last.startswith("error: none of the 4 event-firm pairs could be estimated (no_data: 4): no usable "
                           "prices for them in the cache(yahoo) source; --offline reads only the cache in ")
    assert f"semiscreen --cache-dir {tmp_path} fetch SYMBOL..." in last
    assert "Traceback" not in captured.err and "4 of 4 event-firm pairs were not estimated" not in captured.err


def test_no_pair_estimated_for_another_reason_exits_2(capsys):
    # the snapshot starts in January 2024, too late for the (-250, -11) window of an April 2024 event
    assert main(["study", "tsmc-chips-act-preliminary-award-2024-04", "--part", "tests", "-f", "csv"]) == 2
    last = capsys.readouterr().err.splitlines()[-1]
    assert last.startswith("error: none of the 4 event-firm pairs could be estimated (insufficient_estimation: 4); "
                           "each pair's note (--part cars) says why; too few estimation returns: shorten --estimation")
    # with a shorter estimation window the same event is estimated: exit 0
    assert main(["study", "tsmc-chips-act-preliminary-award-2024-04", "--estimation", "-40,-2", "--part", "tests",
                 "-f", "csv"]) == 0


def test_titles_use_the_singular_for_one(tmp_path, capsys):
    events = pd.read_csv(seeds_dir() / "events.csv", dtype=str, keep_default_na=False)
    links = pd.read_csv(seeds_dir() / "event_securities.csv", dtype=str, keep_default_na=False)
    events[events["event_id"] == INTEL_STAKE].to_csv(tmp_path / "events.csv", index=False)
    links[(links["event_id"] == INTEL_STAKE) & (links["symbol"] == "INTC")].to_csv(tmp_path / "links.csv", index=False)
    assert main(["study", INTEL_STAKE, "--events-file", str(tmp_path / "events.csv"), "--securities-file",
                 str(tmp_path / "links.csv"), "-w", "0,0", "-f", "markdown"]) == 0
    out = capsys.readouterr().out
    assert "### CARs: 1 event-firm pair, market model" in out and "### Tests (1 estimated pair)" in out


def test_user_event_files(tmp_path, capsys):
    events = pd.read_csv(seeds_dir() / "events.csv", dtype=str, keep_default_na=False)
    links = pd.read_csv(seeds_dir() / "event_securities.csv", dtype=str, keep_default_na=False)
    mine = events[events["event_id"] == INTEL_STAKE].assign(event_id="my-intel-event")
    mine.to_csv(tmp_path / "events.csv", index=False)
    my_links = links[(links["event_id"] == INTEL_STAKE) & (links["symbol"] == "INTC")].assign(event_id="my-intel-event")
    my_links.to_csv(tmp_path / "event_securities.csv", index=False)
    out = _study_json(capsys, "my-intel-event", "--events-file", str(tmp_path / "events.csv"),
                      "--securities-file", str(tmp_path / "event_securities.csv"), "--window", "0,0")
    cars = pd.DataFrame(out["cars"])
    assert list(cars["symbol"]) == ["INTC"] and cars["car[0,0]"].iloc[0] > 0


def test_window_past_the_last_price_is_flagged_not_passed_off_as_complete(capsys):
    # was: car[0,+1000] printed with "estimated, no remark" for CARs covering 125..241 of the
    # 1001 sessions (the snapshot ends in 2026), and nothing said why the tests had n = 0
    assert main(["study", INTEL_STAKE, "-w", "0,1000", "-w", "0,5", "--format", "json"]) == 0
    captured = capsys.readouterr()
    out = json.loads(captured.out)
    cars = pd.DataFrame(out["cars"]).set_index("symbol")
    for sym in cars.index:
        last = _close(sym).index.max()
        # day 0 .. the last price: every session of the window that has data
        n = int(((_close(sym).index >= "2025-08-22")).sum())
        assert (f"car[0,+1000] covers {n} of 1001 sessions: the window runs past the last price "
                f"({last.date()}); left out of the CAAR and tests") in cars.loc[sym, "note"]
        assert cars.loc[sym, "outcome"] == "ok" and pd.notna(cars.loc[sym, "car[0,+5]"])
    tests = pd.DataFrame(out["tests"])
    assert (tests.loc[tests["window"] == "[0,+1000]", "n"] == 0).all()
    assert (tests.loc[tests["window"] == "[0,+5]", "n"] == 4).all()
    lines = [line for line in captured.err.splitlines() if "[0,+1000]" in line]
    assert len(lines) == 1
    assert lines[0].startswith("note: CAR window [0,+1000] runs past the last price for 4 of 4 estimated pairs")
    assert "[0,+5]" not in captured.err


def test_complete_windows_get_no_partial_note(capsys):
    assert main(["study", INTEL_STAKE, "-w", "0,5"]) == 0
    assert "runs past" not in capsys.readouterr().err


def test_partial_notes_name_each_reason():
    from screener.cli.cmd_study import partial_notes

    day = pd.Timestamp
    partial = pd.DataFrame({
        "t1": [0, 0, -5, 0], "t2": [20, 20, 5, 5], "after_last": [3, 5, 0, 0], "before_first": [0, 0, 2, 0],
        "missing": [0, 1, 0, 2], "last_date": [day("2026-02-11"), day("2026-02-20"), day("2026-02-20"), day("2026-02-20")],
    })
    notes = partial_notes(partial, 7)
    assert notes == [
        "CAR window [0,+20] runs past the last price for 2 of 7 estimated pairs (last prices "
        "2026-02-11..2026-02-20): their CARs cover fewer sessions and are left out of the CAAR and tests; "
        "use a shorter window or later prices",
        "CAR window [-5,+5] starts before the first price for 1 of 7 estimated pairs: their CARs are partial "
        "and left out of the CAAR and tests",
        "CAR window [0,+5] has sessions without a return (e.g. a halt) for 1 of 7 estimated pairs: their "
        "CARs are partial and left out of the CAAR and tests",
    ]


def test_role_keeps_only_those_securities_and_recomputes_the_tests(capsys):
    event = "nvidia-h20-license-requirement-2025-04"
    every = _study_json(capsys, event, "--window", "0,0")
    some = _study_json(capsys, event, "--window", "0,0", "--role", "primary,peer")
    roles_all = {c["role"] for c in every["cars"]}
    assert {"primary", "peer"} < roles_all
    assert {c["role"] for c in some["cars"]} == {"primary", "peer"}
    assert len(some["cars"]) < len(every["cars"])
    t_all = {t["test"]: t for t in every["tests"]}["cross_sectional_t"]
    t_some = {t["test"]: t for t in some["tests"]}["cross_sectional_t"]
    assert t_some["n"] < t_all["n"]
    assert main(["study", event, "--role", "ceo"]) == 2
    assert "no such role" in capsys.readouterr().err
    # a role the event does not have is named in a note; the others are kept
    partial = _study_json(capsys, "intel-us-government-stake-2025-08", "--window", "0,0", "--role", "primary,peer")
    assert {c["role"] for c in partial["cars"]} == {"primary"}


def test_overlapping_event_note_names_the_other_event(capsys):
    out = _study_json(capsys, "nvidia-h20-license-requirement-2025-04", "deepseek-r1-release-2025-01",
                      "--window", "0,0")
    cars = pd.DataFrame(out["cars"])
    nvda = cars[(cars["symbol"] == "NVDA") & (cars["event_id"] == "nvidia-h20-license-requirement-2025-04")].iloc[0]
    assert nvda["outcome"] == "overlapping_event"
    assert "estimation window: deepseek-r1-release-2025-01" in nvda["note"]
