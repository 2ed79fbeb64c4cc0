"""``semiscreen screen`` and ``semiscreen fields`` through ``screener.cli.main``."""

from __future__ import annotations

import io
import json

import pandas as pd
import pytest

from screener.cli import main
from screener.fields import FIELDS

THEME = "china-self-sufficiency"


def _csv(capsys, *args: str) -> pd.DataFrame:
    assert main(["screen", *args, "--format", "csv"]) == 0
    return pd.read_csv(io.StringIO(capsys.readouterr().out), dtype={"symbol": str})


def test_theme_screen_contains_cambricon_and_smic(capsys):
    frame = _csv(capsys, "--theme", THEME)
    assert {"688256.SS", "688981.SS", "0981.HK"} <= set(frame["symbol"])
    assert "composite" in frame.columns and "vol_60d" in frame.columns
    assert (frame["asset_type"] == "equity").all()


def test_exchange_segment_where_sort_and_top(capsys):
    frame = _csv(capsys, "--theme", THEME, "--exchange", "XSHG,XHKG", "--segment", "foundry",
                 "--where", "vol_60d < 1.5", "--sort", "-composite", "--top", "20")
    assert len(frame) >= 2 and len(frame) <= 20
    assert set(frame["exchange"]) <= {"XSHG", "XHKG"} and set(frame["segment"]) == {"foundry"}
    assert (frame["vol_60d"] < 1.5).all()
    c = frame["composite"].dropna().to_numpy()
    assert (c[:-1] >= c[1:]).all()
    assert {"688981.SS", "0981.HK"} <= set(frame["symbol"])


def test_top_cuts_the_sorted_list(capsys):
    full = _csv(capsys, "--theme", THEME, "--sort", "-ret_ytd")
    top = _csv(capsys, "--theme", THEME, "--sort", "-ret_ytd", "--top", "3")
    assert list(top["symbol"]) == list(full["symbol"].head(3))


def test_unknown_theme_exits_2_listing_themes(capsys):
    assert main(["screen", "--theme", "chips"]) == 2
    err = capsys.readouterr().err
    assert "unknown theme 'chips'" in err
    for theme in ("ai-compute", "china-self-sufficiency", "export-controls"):
        assert theme in err


def test_filter_on_a_missing_column_exits_2(capsys):
    assert main(["screen", "--theme", THEME, "--where", "pe_ratio < 20"]) == 2
    err = capsys.readouterr().err
    assert "no column 'pe_ratio'" in err and "vol_60d" in err


def test_unparsable_filter_and_empty_screen_exit_2(capsys):
    assert main(["screen", "--where", "vol_60d <<< 2"]) == 2
    assert "cannot parse filter" in capsys.readouterr().err
    assert main(["screen", "--where", "vol_60d < 0.0001"]) == 2
    assert "removed the remaining" in capsys.readouterr().err


def test_columns_option_and_json(capsys):
    assert main(["screen", "--theme", THEME, "--columns", "symbol,composite", "--top", "4", "--format", "json"]) == 0
    records = json.loads(capsys.readouterr().out)
    assert len(records) == 4 and set(records[0]) == {"symbol", "composite"}
    assert main(["screen", "--columns", "symbol,nope"]) == 2
    assert "no column 'nope'" in capsys.readouterr().err


def test_preset_file(tmp_path, capsys):
    preset = tmp_path / "my.toml"
    preset.write_text('theme = "china-self-sufficiency"\nexchange = ["XSHG"]\ntop = 2\n', encoding="utf-8")
    frame = _csv(capsys, "--preset", str(preset))
    assert len(frame) == 2 and set(frame["exchange"]) == {"XSHG"} and set(frame["theme_id"]) == {THEME}


def test_table_format_prints_a_readable_subset(capsys):
    assert main(["screen", "--theme", THEME, "--top", "3"]) == 0
    out = capsys.readouterr().out
    assert "composite" in out and "ret_1m_from" not in out


def test_fields_lists_every_field_with_meaning_and_unit(capsys):
    assert main(["fields", "--format", "csv"]) == 0
    table = pd.read_csv(io.StringIO(capsys.readouterr().out), keep_default_na=False)
    assert list(table["name"]) == list(FIELDS)
    assert (table["meaning"].str.len() > 0).all() and (table["unit"].str.len() > 0).all()
    assert main(["fields", "--component", "nope"]) == 2


def test_as_of_moves_the_metrics_date(capsys):
    frame = _csv(capsys, "--as-of", "2025-06-30", "--columns", "symbol,ret_ytd_from,last_price_date,ret_ytd")
    last = pd.to_datetime(frame["last_price_date"]).dropna()  # NaT: symbols without prices
    assert (last <= pd.Timestamp("2025-06-30")).all() and (last >= pd.Timestamp("2025-06-20")).any()
    assert set(frame["ret_ytd_from"].dropna()) <= {"2024-12-31", "2024-12-30", "2024-12-27"}
    assert main(["screen", "--as-of", "June"]) == 2
    assert "as_of is not a date" in capsys.readouterr().err


@pytest.fixture
def _reset_settings():
    from screener.cli._app import settings

    yield
    settings.prices_dir = settings.cache_dir = None
    settings.offline = settings.quiet = settings.debug = False


def test_no_prices_at_all_under_offline_exits_3(tmp_path, capsys, _reset_settings):
    # was: a screen of 61 empty rows, exit 0
    assert main(["--offline", "--cache-dir", str(tmp_path), "screen", "--theme", THEME]) == 3
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err.count("\n") == 1
    assert captured.err.startswith("error: no prices at all: the cache(yahoo) source has none of the 75 symbols "
                                   "the analysis needs (e.g. NVDA, AMD, AVGO); --offline reads only the cache in ")
    assert main(["--prices", str(tmp_path), "screen"]) == 3
    assert f"add their price files (SYMBOL.csv or SYMBOL.parquet) to {tmp_path}" in capsys.readouterr().err


def test_screen_says_when_the_source_documents_are_missing(tmp_path, monkeypatch, capsys):
    # was: the composite silently built from two components (text relevance NaN)
    monkeypatch.setenv("SEMISCREEN_DOCUMENTS", str(tmp_path / "nowhere"))
    assert main(["screen", "--theme", THEME, "--columns", "symbol,text_relevance,composite_n_components",
                 "--format", "csv"]) == 0
    captured = capsys.readouterr()
    frame = pd.read_csv(io.StringIO(captured.out))
    assert frame["text_relevance"].isna().all()
    assert "note: source documents not found (set SEMISCREEN_DOCUMENTS): text relevance left out" in captured.err
    # notes about other themes are not this screen's
    assert "theme 'rare-earths'" not in captured.err


def test_screen_with_the_source_documents_has_text_relevance(shared_seeds_dir, monkeypatch, capsys):
    monkeypatch.setenv("SEMISCREEN_DOCUMENTS", str(shared_seeds_dir))
    assert main(["screen", "--theme", THEME, "--columns", "symbol,text_relevance", "--format", "csv"]) == 0
    captured = capsys.readouterr()
    assert pd.read_csv(io.StringIO(captured.out))["text_relevance"].notna().any()
    assert "source documents not found" not in captured.err


def test_screen_title_is_singular_for_one_security(capsys):
    assert main(["screen", "--where", "symbol == 'NVDA'", "--format", "markdown", "-c", "symbol"]) == 0
    assert capsys.readouterr().out.startswith("### all themes: 1 of 1 security, as of ")
