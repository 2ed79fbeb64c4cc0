"""``semiscreen study``: per-firm CARs and tests of catalog events, through ``screener.cli.main``."""

from __future__ import annotations

import io
import json

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
    assert "valid" in capsys.readouterr().err


def test_market_adjusted_model_ar_is_return_minus_market(capsys):
    out = _study_json(capsys, INTEL_STAKE, "--model", "market-adjusted", "--window", "0,0")
    car = pd.DataFrame(out["cars"]).set_index("symbol").loc["INTC", "car[0,0]"]
    intc, spx = _close("INTC"), _close("^GSPC")
    expected = (intc.loc["2025-08-22"] / intc.loc["2025-08-21"] - 1) - (spx.loc["2025-08-22"] / spx.loc["2025-08-21"] - 1)
    # the snapshot's INTC and ^GSPC adjusted closes equal the closes over these days (no dividend)
    assert car == pytest.approx(expected, abs=1e-4)


def test_csv_output_has_both_tables(capsys):
    assert main(["study", INTEL_STAKE, "--format", "csv", "--part", "cars"]) == 0
    cars = pd.read_csv(io.StringIO(capsys.readouterr().out))
    assert list(cars["symbol"]) == ["INTC", "GFS", "TSM", "SOXX"]
    assert {"car[0,0]", "car[-1,+1]", "car[0,+5]", "scar"} <= set(cars.columns)


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
