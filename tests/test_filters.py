"""Screen filters and presets (screener/filters.py)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from screener.errors import InputError
from screener.filters import load_preset, parse_filter


@pytest.fixture
def frame() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "symbol": ["A", "B", "C", "D"],
            "exchange": ["XSHG", "XHKG", "XNAS", "XSHG"],
            "vol_60d": [0.3, 0.6, np.nan, 0.45],
            "ret_ytd": [0.12, -0.05, 0.3, 0.08],
        }
    )


@pytest.mark.parametrize(
    "text, expected",
    [
        ("vol_60d < 0.5", ["A", "D"]),
        ("vol_60d>=0.45", ["B", "D"]),
        ("ret_ytd >= 10%", ["A", "C"]),
        ("exchange in XSHG,XHKG", ["A", "B", "D"]),
        ("exchange not in XSHG", ["B", "C"]),
        ("exchange == XNAS", ["C"]),
        ("exchange = XNAS", ["C"]),
        ("exchange != XNAS", ["A", "B", "D"]),
    ],
)
def test_filter_selects_expected_rows(frame, text, expected):
    f = parse_filter(text)
    assert frame.loc[f.mask(frame), "symbol"].tolist() == expected


def test_missing_values_never_pass_a_numeric_filter(frame):
    for text in ("vol_60d < 10", "vol_60d > -10", "vol_60d != 0.3"):
        assert not parse_filter(text).mask(frame).iloc[2]


@pytest.mark.parametrize("text", ["vol_60d", "< 0.5", "vol_60d << 0.5", "exchange in ", "1abc > 2"])
def test_malformed_filter_is_input_error(text):
    with pytest.raises(InputError, match="filter"):
        parse_filter(text)


def test_unknown_column_lists_valid_ones(frame):
    with pytest.raises(InputError, match="no column 'vol_90d'.*vol_60d"):
        parse_filter("vol_90d < 1").mask(frame)


def test_non_numeric_value_on_numeric_column(frame):
    with pytest.raises(InputError, match="numeric"):
        parse_filter("vol_60d < high").mask(frame)


def test_preset_round_trip(tmp_path, frame):
    p = tmp_path / "s.toml"
    p.write_text(
        'theme = "china-self-sufficiency"\nwhere = ["vol_60d < 0.5"]\nexchange = ["xshg"]\n'
        'sort = "-ret_ytd"\ntop = 5\n',
        encoding="utf-8",
    )
    spec = load_preset(p)
    assert spec.theme == "china-self-sufficiency" and spec.top == 5 and spec.sort == "-ret_ytd"
    mask = np.logical_and.reduce([f.mask(frame) for f in spec.filters()])
    assert frame.loc[mask, "symbol"].tolist() == ["A", "D"]


@pytest.mark.parametrize(
    "content, message",
    [
        ("theme = ", "not valid TOML"),
        ('colour = "red"', "unknown key"),
        ("top = -1", "positive integer"),
        ('where = ["vol_60d <"]', "cannot parse filter"),
    ],
)
def test_bad_presets_name_the_file(tmp_path, content, message):
    p = tmp_path / "bad.toml"
    p.write_text(content, encoding="utf-8")
    with pytest.raises(InputError, match=message) as err:
        load_preset(p)
    assert "bad.toml" in str(err.value) or "cannot parse" in str(err.value)


def test_missing_preset(tmp_path):
    with pytest.raises(InputError, match="not found"):
        load_preset(tmp_path / "nope.toml")
