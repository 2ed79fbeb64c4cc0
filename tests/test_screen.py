"""Screens (screener.screen, in screener/screening.py) on the bundled snapshot: content, filters, sort, top, errors."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import screener
from screener.analysis import Analysis
from screener.errors import InputError
from screener.filters import parse_filter
from screener.screening import UNIVERSE_COLUMNS, base_frame, screen

THEME = "china-self-sufficiency"
CAMBRICON, SMIC_A, SMIC_H = "688256.SS", "688981.SS", "0981.HK"


@pytest.fixture(scope="module")
def analysis() -> Analysis:
    return Analysis()


def test_china_self_sufficiency_screen_holds_cambricon_and_smic(analysis):
    res = screen(theme=THEME, analysis=analysis)
    symbols = set(res.frame["symbol"])
    assert {CAMBRICON, SMIC_A, SMIC_H} <= symbols
    row = res.frame.set_index("symbol").loc[CAMBRICON]
    from screener.paths import seeds_dir

    universe = pd.read_csv(seeds_dir() / "universe.csv", dtype=str).set_index("symbol")
    assert row["name"] == universe.loc[CAMBRICON, "name"]
    assert row["name_zh"] == universe.loc[CAMBRICON, "name_zh"]
    assert row["exchange"] == "XSHG" and row["currency"] == "CNY" and row["theme_id"] == THEME


def test_screen_columns_are_universe_metrics_and_exposure_with_their_n(analysis):
    frame = screen(theme=THEME, analysis=analysis).frame
    for col in UNIVERSE_COLUMNS + ("ret_1m", "ret_3m", "ret_6m", "ret_ytd", "vol_60d", "vol_60d_n", "beta",
                                   "max_drawdown_1y", "adv_60d", "coverage_1y", "text_relevance",
                                   "text_n_mentions", "event_mean_scar", "event_n", "return_beta", "return_n",
                                   "composite", "composite_n_components"):
        assert col in frame.columns, col
    # the metrics and exposure of a row are the analysis' own numbers
    nvda = frame.set_index("symbol").loc["NVDA"]
    m = analysis.metrics.set_index("symbol").loc["NVDA"]
    e = analysis.exposure.set_index(["symbol", "theme_id"]).loc[("NVDA", THEME)]
    assert nvda["vol_60d"] == m["vol_60d"] and nvda["ret_ytd"] == m["ret_ytd"]
    assert nvda["composite"] == e["composite"] and nvda["return_n"] == e["return_n"]


def test_equities_only_by_default_and_complete(analysis):
    u = analysis.universe
    res = screen(theme=THEME, analysis=analysis)
    assert set(res.frame["asset_type"]) == {"equity"}
    assert len(res.frame) == int((u["asset_type"] == "equity").sum())  # no silent cap
    funds = screen(theme=THEME, analysis=analysis, include_funds=True)
    assert len(funds.frame) == len(u)
    assert {"etf", "index"} <= set(funds.frame["asset_type"])


def test_filters_keep_exactly_the_rows_that_satisfy_them(analysis):
    res = screen(theme=THEME, filters=["vol_60d < 0.5", "coverage_1y >= 90%"], exchange="XSHG,XHKG",
                 analysis=analysis)
    base = base_frame(analysis, THEME)
    expected = base[(base["asset_type"] == "equity") & (base["vol_60d"] < 0.5) & (base["coverage_1y"] >= 0.9)
                    & base["exchange"].isin(["XSHG", "XHKG"])]
    assert sorted(res.frame["symbol"]) == sorted(expected["symbol"])
    assert res.n_matched == len(expected)
    assert [n for _, n in res.steps][-1] == len(expected)


def test_sort_descending_puts_missing_values_last_and_top_cuts(analysis):
    res = screen(theme=THEME, sort="-ret_ytd", analysis=analysis)
    values = res.frame["ret_ytd"].to_numpy(dtype=float)
    finite = values[~np.isnan(values)]
    assert (np.diff(finite) <= 0).all()
    assert not np.isnan(values[: len(finite)]).any()  # NaN only at the end
    top = screen(theme=THEME, sort="-ret_ytd", top=5, analysis=analysis)
    assert list(top.frame["symbol"]) == list(res.frame["symbol"].head(5))
    assert top.n_matched == len(res.frame)


def test_default_sort_is_composite_descending(analysis):
    frame = screen(theme=THEME, analysis=analysis).frame
    c = frame["composite"].dropna().to_numpy()
    assert (np.diff(c) <= 0).all()


def test_sort_on_several_keys(analysis):
    frame = screen(sort="exchange,-ret_ytd", analysis=analysis).frame
    expected = frame.sort_values(["exchange", "ret_ytd"], ascending=[True, False], na_position="last", kind="stable")
    assert list(frame["symbol"]) == list(expected["symbol"])


def test_unknown_theme_lists_the_valid_ones(analysis):
    with pytest.raises(InputError) as err:
        screen(theme="china-self-suficiency", analysis=analysis)
    msg = str(err.value)
    assert "Did you mean 'china-self-sufficiency'" in msg
    for theme in analysis.themes["theme_id"]:
        assert theme in msg


def test_unknown_column_in_filter_or_sort_is_named(analysis):
    with pytest.raises(InputError, match="no column 'vol60'.*vol_60d"):
        screen(theme=THEME, filters="vol60 < 1", analysis=analysis)
    with pytest.raises(InputError, match="sort 'volatility'"):
        screen(theme=THEME, sort="-volatility", analysis=analysis)
    with pytest.raises(InputError, match="choose a theme"):
        screen(filters="composite > 0", analysis=analysis)


def test_empty_screen_names_the_filter_that_removed_everything(analysis):
    with pytest.raises(InputError) as err:
        screen(theme=THEME, filters=["vol_60d < 0.6", "ret_ytd > 100"], analysis=analysis)
    assert "'ret_ytd > 100' removed the remaining" in str(err.value)


def test_unknown_exchange_or_segment_is_refused(analysis):
    with pytest.raises(InputError, match="Did you mean 'XSHG'"):
        screen(exchange="XSHX", analysis=analysis)
    with pytest.raises(InputError, match="unknown segment"):
        screen(segment="foundries", analysis=analysis)


def test_bad_top_is_refused(analysis):
    for bad in (0, -3, 2.5, True):
        with pytest.raises(InputError):
            screen(top=bad, analysis=analysis)


def test_a_preset_file_saves_a_screen(analysis, tmp_path):
    preset = tmp_path / "my.toml"
    preset.write_text('theme = "china-self-sufficiency"\nwhere = ["vol_60d < 0.9"]\nexchange = ["XSHG"]\n'
                      'sort = "-composite"\ntop = 3\n', encoding="utf-8")
    res = screen(preset=str(preset), analysis=analysis)
    assert res.theme == THEME and len(res.frame) <= 3
    assert set(res.frame["exchange"]) == {"XSHG"} and (res.frame["vol_60d"] < 0.9).all()
    # explicit arguments win over the preset
    assert len(screen(preset=str(preset), top=5, analysis=analysis).frame) == min(5, res.n_matched)


def test_filter_objects_are_accepted(analysis):
    res = screen(theme=THEME, filters=[parse_filter("segment == foundry")], analysis=analysis)
    assert set(res.frame["segment"]) == {"foundry"}
    assert SMIC_A in set(res.frame["symbol"])


def test_package_level_screen_is_callable():
    import screener.screening  # noqa: F401 - the module has its own name: no clash with the function

    assert callable(screener.screen)
    assert "summary" in dir(screener.screen(theme=THEME, top=2, analysis=None))


def test_summary_mentions_the_steps(analysis):
    res = screen(theme=THEME, filters="vol_60d < 0.8", analysis=analysis)
    text = res.summary()
    assert "vol_60d < 0.8" in text and THEME in text
    assert list(res.display().columns) == res.display_columns()
    assert isinstance(res.frame, pd.DataFrame)
