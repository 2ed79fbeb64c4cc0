"""The report input model: formats, window labels, the summary table and validation."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from screener.errors import InputError, ValidationError
from screener.report.demo import DEMO_TESTS, DEMO_WINDOWS, demo_report
from screener.report.model import (
    EventSection,
    ReportData,
    car_column,
    display_frame,
    format_value,
    is_pvalue_column,
    is_return_column,
    provenance_items,
    screen_value_column,
    window_label,
)


@pytest.mark.parametrize(
    ("window", "label"),
    [((0, 0), "[0,0]"), ((-1, 1), "[-1,+1]"), ((0, 5), "[0,+5]"), ((-10, -2), "[-10,-2]"), ([2, 10], "[+2,+10]"),
     ("[-1,+1]", "[-1,+1]")],
)
def test_window_label(window, label):
    assert window_label(window) == label
    assert car_column(window) == "car" + label


def test_pvalues_have_three_significant_digits():
    for p in (0.123456, 0.0012345, 0.5, 1.0, 3.21e-07):
        text = format_value(p, "pvalue")
        # three significant digits: parsing back is within half a unit of the third digit
        assert math.isclose(float(text), p, rel_tol=5e-3)
        digits = text.split("e")[0].replace(".", "").replace("-", "").lstrip("0")
        assert len(digits) <= 3
    assert format_value(0.0012345, "p bmp [0,0]") == "0.00123"


def test_returns_are_percentages():
    assert format_value(0.01234, "caar") == "1.23%"
    assert format_value(-0.5, "car[-1,+1]") == "-50.00%"
    assert format_value(0.02, "CAAR [0,+5]") == "2.00%"
    assert format_value(0.02, "estimate") == "2.00%"
    # a standardised CAR and a test statistic are not returns
    assert format_value(1.5, "scar") == "1.5"
    assert format_value(2.345678, "statistic") == "2.346"


def test_column_classification():
    assert all(is_return_column(c) for c in ("caar", "car[0,0]", "bhar", "ci_lower", "ci_upper", "estimate", "aar"))
    assert not any(is_return_column(c) for c in ("scar", "carry", "n", "statistic", "symbol", "arm"))
    assert all(is_pvalue_column(c) for c in ("pvalue", "p bmp [0,0]", "bmp_p", "p_value"))
    assert not any(is_pvalue_column(c) for c in ("price", "pe", "symbol"))


def test_missing_and_special_values():
    assert format_value(np.nan, "caar") == "\u2013"
    assert format_value(None) == "\u2013"
    assert format_value(pd.NaT) == "\u2013"
    assert format_value(pd.Timestamp("2025-03-04")) == "2025-03-04"
    assert format_value(np.int64(7), "n") == "7"
    assert format_value(4.0, "df") == "4"
    assert format_value(True) == "yes"


def test_summary_frame_takes_values_from_the_tests_tables():
    data = demo_report(n_events=2, n_securities=12, seed=3)
    summary = data.summary_frame()
    assert list(summary["event_id"]) == [ev.event_id for ev in data.events]
    for ev, (_, row) in zip(data.events, summary.iterrows()):
        for w in DEMO_WINDOWS:
            sub = ev.tests[[tuple(x) == w for x in ev.tests["window"]]]
            label = window_label(w)
            first = sub[sub["test"] == DEMO_TESTS[0]]
            assert row[f"CAAR {label}"] == pytest.approx(first["estimate"].iloc[0])
            for t in DEMO_TESTS:
                assert row[f"p {t} {label}"] == pytest.approx(sub.loc[sub["test"] == t, "pvalue"].iloc[0])
        assert row["n_firms"] == len(ev.firms)


def test_summary_caar_falls_back_to_a_test_with_an_estimate():
    tests = pd.DataFrame({"window": [(0, 1), (0, 1)], "test": ["rank", "t"], "estimate": [np.nan, 0.03],
                          "statistic": [1.0, 2.0], "pvalue": [0.3, 0.04], "n": [4, 4]})
    data = ReportData(events=[EventSection("e1", tests=tests)], summary_tests=["rank"])
    row = data.summary_frame().iloc[0]
    assert row["CAAR [0,+1]"] == pytest.approx(0.03)
    assert row["p rank [0,+1]"] == pytest.approx(0.3)
    assert "p t [0,+1]" not in row.index


def test_default_summary_tests_are_the_first_three_in_order():
    data = demo_report(n_events=1, n_securities=6)
    assert data.chosen_summary_tests() == DEMO_TESTS[:3]


def test_validate_lists_every_problem():
    bad = ReportData(
        events=[
            EventSection("e1", caar_path=pd.DataFrame({"rel_day": [0]}), tests=pd.DataFrame({"window": []})),
            EventSection("e1"),
        ],
        screens={"t": pd.DataFrame({"score": [1.0]})},
        tables={"../evil": pd.DataFrame()},
    )
    with pytest.raises(ValidationError) as info:
        bad.validate()
    messages = [str(p) for p in info.value.problems]
    assert isinstance(info.value, InputError)  # exit code 2
    joined = "\n".join(messages)
    for col in ("caar", "ci_lower", "ci_upper", "test", "pvalue"):
        assert f"'{col}'" in joined
    assert "duplicate event id" in joined
    assert "screen 't'" in joined and "'symbol'" in joined
    assert "../evil" in joined


def test_screen_value_column():
    assert screen_value_column(pd.DataFrame({"symbol": ["A"], "x": [1.0], "score": [2.0]})) == "score"
    assert screen_value_column(pd.DataFrame({"symbol": ["A"], "composite": [2.0], "n": [3]})) == "composite"
    assert screen_value_column(pd.DataFrame({"symbol": ["A"], "a": [1.0], "b": [2]})) == "b"
    with pytest.raises(ValidationError, match="no numeric column"):
        screen_value_column(pd.DataFrame({"symbol": ["A"]}))


def test_provenance_items_flatten_nested_parameters():
    items = dict(provenance_items({"version": "1.0", "parameters": {"windows": [[0, 0], [-1, 1]], "model": "market"},
                                   "symbols": ["A", "B"]}))
    assert items == {"version": "1.0", "parameters.windows": "[[0, 0], [-1, 1]]", "parameters.model": "market",
                     "symbols": "A, B"}


def test_display_frame_keeps_named_index_and_drops_unnamed():
    named = pd.DataFrame({"x": [1, 2]}, index=pd.Index(["a", "b"], name="symbol"))
    assert list(display_frame(named).columns) == ["symbol", "x"]
    filtered = pd.DataFrame({"x": [1, 2, 3]}).iloc[[2, 0]]
    out = display_frame(filtered)
    assert list(out.columns) == ["x"] and list(out["x"]) == [3, 1]
    windows = display_frame(pd.DataFrame({"window": [(0, 0), (-1, 1)]}))
    assert list(windows["window"]) == ["[0,0]", "[-1,+1]"]
