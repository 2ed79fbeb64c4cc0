"""Theme exposure components (screener.exposure): planted effects and hand-countable text."""

from __future__ import annotations

import math
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
from scipy import stats

from screener.errors import DataQualityWarning, InputError
from screener.exposure import (
    DEFAULT_WEIGHTS,
    composite_exposure,
    event_response,
    keyword_weights,
    return_exposure,
    text_relevance,
)
from screener.fields import FIELDS

# --------------------------------------------------------------------------- text relevance

DOCS = {
    "doc_b": "Export controls tighten on Nvidia. 英伟达受出口管制影响。\nFarmers sell a farm.",
    "doc_a": (
        "Cambricon wins a domestic chip order. 寒武纪获得国产替代订单。Nvidia faces export controls.\n"
        "AMD launches a GPU. Cambricon also sells a GPU."
    ),
}
UNIVERSE = pd.DataFrame({
    "symbol": ["C", "N", "A", "R", "Z"],
    "aliases_en": ["Cambricon", "Nvidia", "AMD", "ARM", ""],
    "aliases_zh": ["寒武纪", "英伟达", "", "", None],
})
THEMES = pd.DataFrame({
    "theme_id": ["self", "export", "gpu"],
    "keywords_en": ["domestic", "export controls", "GPU"],
    "keywords_zh": ["国产替代", "出口管制", ""],
    "core_symbols": ["C", "N", "A;N"],
})


def idf(n_units: int, df: int) -> float:
    return math.log((1 + n_units) / (1 + df)) + 1


def cell(out: pd.DataFrame, symbol: str, theme: str, column: str):
    return out.set_index(["symbol", "theme_id"]).loc[(symbol, theme), column]


class TestTextRelevance:
    # Sentences (8): doc_a: [C domestic] [C 国产替代] [N export controls] [A GPU] [C GPU];
    #                doc_b: [N export controls] [N 出口管制] [farm: nothing]
    def test_sentence_counts_by_hand(self):
        out = text_relevance(DOCS, UNIVERSE, THEMES, unit="sentence")
        assert out.attrs["n_units"] == 8 and out.attrs["n_documents"] == 2
        assert len(out) == 5 * 3
        assert cell(out, "C", "self", "text_n_mentions") == 3
        assert cell(out, "C", "self", "text_n_comentions") == 2
        assert cell(out, "C", "self", "text_idf_sum") == pytest.approx(2 * idf(8, 1))
        assert cell(out, "C", "gpu", "text_idf_sum") == pytest.approx(idf(8, 2))
        assert cell(out, "C", "export", "text_n_comentions") == 0
        assert cell(out, "C", "export", "text_relevance") == 0.0
        n_export = 2 * idf(8, 2) + idf(8, 1)
        assert cell(out, "N", "export", "text_idf_sum") == pytest.approx(n_export)
        assert cell(out, "N", "export", "text_relevance") == pytest.approx(math.log1p(n_export))
        assert cell(out, "N", "export", "text_share") == pytest.approx(1.0)
        assert cell(out, "C", "self", "text_share") == pytest.approx(2 / 3)
        assert cell(out, "N", "export", "text_documents") == "doc_a;doc_b"
        assert cell(out, "N", "export", "text_n_documents") == 2
        assert cell(out, "A", "gpu", "text_n_comentions") == 1

    def test_word_boundaries_and_unmeasured_rows(self):
        out = text_relevance(DOCS, UNIVERSE, THEMES)
        # "ARM" never matches "farm"/"Farmers": measured, zero.
        assert cell(out, "R", "gpu", "text_n_mentions") == 0
        assert cell(out, "R", "gpu", "text_relevance") == 0.0
        assert np.isnan(cell(out, "R", "gpu", "text_share"))
        # No alias at all: not measured.
        assert np.isnan(cell(out, "Z", "gpu", "text_relevance"))

    def test_paragraph_unit_widens_the_window(self):
        out = text_relevance(DOCS, UNIVERSE, THEMES, unit="paragraph")
        # Paragraphs (4): [C N domestic 国产替代 export] [A C GPU] [N export 出口管制] [nothing]
        assert out.attrs["n_units"] == 4
        assert cell(out, "C", "export", "text_n_comentions") == 1
        assert cell(out, "C", "self", "text_idf_sum") == pytest.approx(idf(4, 1) + idf(4, 1))
        assert cell(out, "C", "self", "text_n_mentions") == 2

    def test_keyword_weights_table(self):
        kw = keyword_weights(DOCS, THEMES).set_index("keyword")
        assert kw.loc["export controls", "n_units"] == 2
        assert kw.loc["export controls", "idf"] == pytest.approx(idf(8, 2))
        assert kw.loc["出口管制", "idf"] == pytest.approx(idf(8, 1))

    def test_rare_keyword_weighs_more(self):
        docs = {"d": "Foo and common. Bar and rare. common. common. common."}
        uni = pd.DataFrame({"symbol": ["F", "B"], "aliases_en": ["Foo", "Bar"]})
        th = pd.DataFrame({"theme_id": ["t"], "keywords_en": ["common;rare"]})
        out = text_relevance(docs, uni, th)
        assert cell(out, "B", "t", "text_relevance") > cell(out, "F", "t", "text_relevance")

    def test_errors(self):
        with pytest.raises(InputError, match="unit must be one of"):
            text_relevance(DOCS, UNIVERSE, THEMES, unit="word")
        with pytest.raises(InputError, match="duplicated symbol 'C'"):
            text_relevance(DOCS, pd.concat([UNIVERSE, UNIVERSE.iloc[:1]]), THEMES)
        with pytest.raises(InputError, match="document 'x'"):
            text_relevance({"x": b"bytes"}, UNIVERSE, THEMES)
        with pytest.raises(InputError, match="aliases_en"):
            text_relevance(DOCS, UNIVERSE[["symbol"]], THEMES)

    def test_real_documents_paragraph_counts(self, shared_seeds_dir: Path):
        docs = {p.name: p.read_text(encoding="utf-8") for p in sorted(shared_seeds_dir.glob("*.txt"))}
        uni = pd.DataFrame({"symbol": ["688256.SS", "ASML"], "aliases_en": ["Cambricon", "ASML"],
                            "aliases_zh": ["寒武纪", "阿斯麦"]})
        th = pd.DataFrame({"theme_id": ["china-self-sufficiency"], "keywords_en": ["self-sufficiency"],
                           "keywords_zh": ["自主可控"]})
        out = text_relevance(docs, uni, th, unit="paragraph")
        # Independent count: lines containing both strings (plain lower-case substring tests).
        lines = [(name, ln.lower()) for name, text in docs.items() for ln in text.splitlines() if ln.strip()]
        expected_mentions = sum(("cambricon" in ln or "寒武纪" in ln) for _, ln in lines)
        expected_co = [name for name, ln in lines
                       if ("cambricon" in ln or "寒武纪" in ln) and ("self-sufficiency" in ln or "自主可控" in ln)]
        assert expected_mentions > 0 and expected_co
        assert cell(out, "688256.SS", "china-self-sufficiency", "text_n_mentions") == expected_mentions
        assert cell(out, "688256.SS", "china-self-sufficiency", "text_n_comentions") == len(expected_co)
        assert cell(out, "688256.SS", "china-self-sufficiency", "text_documents") == ";".join(sorted(set(expected_co)))


# --------------------------------------------------------------------------- event response


def scar_frame() -> pd.DataFrame:
    return pd.DataFrame({
        "event_id": ["e1", "e2", "e4", "e3", "e1", "e2"],
        "symbol": ["X", "X", "X", "X", "Y", "Y"],
        "window": ["(0, 1)"] * 6,
        "scar": [2.0, -1.0, 0.5, np.nan, 0.3, 0.9],
        "expected_sign": [1, -1, 0, 1, -1, 1],
    })


EVENT_THEMES = pd.DataFrame({"event_id": ["e1", "e2", "e3", "e4"], "themes": ["t1", "t1;t2", "t2", "t1"]})


class TestEventResponse:
    def test_sign_adjusted_mean_t_and_z(self):
        out = event_response(scar_frame(), EVENT_THEMES)
        x = np.array([2.0, 1.0])  # e1: +1 * 2.0, e2: -1 * -1.0; e4 (sign 0) excluded
        assert cell(out, "X", "t1", "event_n") == 2
        assert cell(out, "X", "t1", "event_n_unsigned") == 1
        assert cell(out, "X", "t1", "event_mean_scar") == pytest.approx(x.mean())
        assert cell(out, "X", "t1", "event_t") == pytest.approx(stats.ttest_1samp(x, 0.0).statistic)
        assert cell(out, "X", "t1", "event_z") == pytest.approx(x.sum() / math.sqrt(2))
        assert cell(out, "X", "t1", "event_ids") == "e1;e2"
        # t2: e2 counts (multi-theme event), e3 has no SCAR.
        assert cell(out, "X", "t2", "event_n") == 1 and cell(out, "X", "t2", "event_n_missing") == 1
        assert np.isnan(cell(out, "X", "t2", "event_t"))
        assert cell(out, "X", "t2", "event_z") == pytest.approx(1.0)
        assert cell(out, "Y", "t1", "event_mean_scar") == pytest.approx((-0.3 + 0.9) / 2)

    def test_unsigned_raw_keeps_unknown_signs_unadjusted(self):
        out = event_response(scar_frame(), EVENT_THEMES, unsigned="raw")
        assert cell(out, "X", "t1", "event_n") == 3
        assert cell(out, "X", "t1", "event_mean_scar") == pytest.approx((2.0 + 1.0 + 0.5) / 3)

    def test_mapping_and_long_theme_inputs_agree(self):
        a = event_response(scar_frame(), EVENT_THEMES)
        b = event_response(scar_frame(), {"e1": ["t1"], "e2": "t1;t2", "e3": "t2", "e4": ("t1",)})
        long = pd.DataFrame({"event_id": ["e1", "e2", "e2", "e3", "e4"], "theme_id": ["t1", "t1", "t2", "t2", "t1"]})
        c = event_response(scar_frame(), long)
        pd.testing.assert_frame_equal(a, b)
        pd.testing.assert_frame_equal(a, c)

    def test_window_selection(self):
        two = pd.concat([scar_frame(), scar_frame().assign(window="(0, 5)", scar=lambda f: f["scar"] * 10)])
        with pytest.raises(InputError, match=r"several windows.*\(0, 1\), \(0, 5\)"):
            event_response(two, EVENT_THEMES)
        out = event_response(two, EVENT_THEMES, window=(0, 5))
        assert cell(out, "X", "t1", "event_mean_scar") == pytest.approx(15.0)
        with pytest.raises(InputError, match="window '9' is not in scar_frame"):
            event_response(two, EVENT_THEMES, window="9")

    def test_errors_name_rows_and_ids(self):
        bad = scar_frame()
        bad.loc[2, "expected_sign"] = 2
        with pytest.raises(InputError, match="row 2, column 'expected_sign'"):
            event_response(bad, EVENT_THEMES)
        with pytest.raises(InputError, match="event_id 'e1', symbol 'X' appears more than once"):
            event_response(pd.concat([scar_frame(), scar_frame().iloc[:1]]), EVENT_THEMES)
        with pytest.raises(InputError, match="events without themes.*e4"):
            event_response(scar_frame(), EVENT_THEMES.iloc[:3])
        with pytest.raises(InputError, match="unsigned must be"):
            event_response(scar_frame(), EVENT_THEMES, unsigned="abs")


# --------------------------------------------------------------------------- return exposure


@pytest.fixture(scope="module")
def return_panel():
    """US core A, B, C; Asian core D with its own holidays; X outside with planted loadings."""
    rng = np.random.default_rng(7)
    idx = pd.bdate_range("2024-01-01", periods=330)
    n = len(idx)
    m = rng.normal(0, 0.01, n)
    common = rng.normal(0, 0.012, n)
    r = pd.DataFrame({c: 0.6 * m + common + rng.normal(0, 0.01, n) for c in "ABCD"}, index=idx)
    holidays = idx[rng.choice(n, 25, replace=False)]
    r.loc[holidays, "D"] = np.nan  # D's exchange is closed on other days
    us_missing = idx[rng.choice(n, 10, replace=False)]
    r.loc[us_missing, ["A", "B", "C"]] = np.nan  # US holidays
    factor_all = r[list("ABCD")].mean(axis=1)
    r["X"] = 0.8 * m + 1.3 * factor_all + rng.normal(0, 0.008, n)
    r.loc[us_missing, "X"] = np.nan
    lagged = factor_all.dropna().shift(1).reindex(idx)
    r["Y"] = 0.5 * m + 0.2 * factor_all + 1.0 * lagged + rng.normal(0, 0.008, n)
    bench = pd.DataFrame({"M": m, "M2": m}, index=idx)
    bench.loc[idx[:3], "M"] = np.nan
    themes = pd.DataFrame({"theme_id": ["t"], "core_symbols": ["A;B;C;D"]})
    benchmarks = {s: "M" for s in "ABCDXY"}
    return r, bench, themes, benchmarks


def reference_ols(r, bench, symbol, factor, lookback=252, lag=False):
    own = r[symbol].dropna().index[-lookback:]
    data = pd.DataFrame({"y": r[symbol], "m": bench["M"], "f": factor}).reindex(own)
    if lag:
        data["f_lag"] = factor.dropna().shift(1).reindex(own)
    data = data.dropna()
    return sm.OLS(data["y"], sm.add_constant(data.drop(columns="y"))).fit()


class TestReturnExposure:
    def test_matches_statsmodels_with_leave_one_out_factor(self, return_panel):
        r, bench, themes, benchmarks = return_panel
        out = return_exposure(r, themes, bench, benchmarks)
        for sym in "ABCDX":
            others = [c for c in "ABCD" if c != sym]
            fit = reference_ols(r, bench, sym, r[others].mean(axis=1))
            assert cell(out, sym, "t", "return_n") == fit.nobs
            assert cell(out, sym, "t", "return_beta") == pytest.approx(fit.params["f"], rel=1e-9)
            assert cell(out, sym, "t", "return_se") == pytest.approx(fit.bse["f"], rel=1e-9)
            assert cell(out, sym, "t", "return_t") == pytest.approx(fit.tvalues["f"], rel=1e-9)
            assert cell(out, sym, "t", "return_beta_market") == pytest.approx(fit.params["m"], rel=1e-9)
            assert cell(out, sym, "t", "return_r2") == pytest.approx(fit.rsquared, rel=1e-9)
            assert cell(out, sym, "t", "return_is_core") == (sym != "X")
            assert cell(out, sym, "t", "return_n_constituents") == len(others)
        assert cell(out, "X", "t", "return_beta") == pytest.approx(1.3, abs=0.15)
        assert np.isnan(cell(out, "X", "t", "return_beta_lag"))

    def test_missing_days_are_dropped_not_filled(self, return_panel):
        r, bench, themes, benchmarks = return_panel
        out = return_exposure(r, themes, bench, benchmarks, lookback=1000)
        own = r["D"].dropna().index
        f = r[["A", "B", "C"]].mean(axis=1).reindex(own)
        expected = int((f.notna() & bench["M"].reindex(own).notna()).sum())
        assert cell(out, "D", "t", "return_n") == expected < len(own)

    def test_lagged_factor_term(self, return_panel):
        r, bench, themes, benchmarks = return_panel
        out = return_exposure(r, themes, bench, benchmarks, factor_lag=True)
        fit = reference_ols(r, bench, "Y", r[list("ABCD")].mean(axis=1), lag=True)
        assert cell(out, "Y", "t", "return_beta_lag") == pytest.approx(fit.params["f_lag"], rel=1e-9)
        assert cell(out, "Y", "t", "return_t_lag") == pytest.approx(fit.tvalues["f_lag"], rel=1e-9)
        total = fit.t_test("f + f_lag = 0")
        assert cell(out, "Y", "t", "return_beta_total") == pytest.approx(float(total.effect[0]), rel=1e-9)
        assert cell(out, "Y", "t", "return_t_total") == pytest.approx(float(total.tvalue[0][0]), rel=1e-9)
        assert cell(out, "Y", "t", "return_beta_lag") == pytest.approx(1.0, abs=0.15)

    def test_min_obs_gives_nan_with_n(self, return_panel):
        r, bench, themes, benchmarks = return_panel
        out = return_exposure(r, themes, bench, benchmarks, lookback=30, min_obs=60)
        assert out["return_beta"].isna().all()
        assert (out["return_n"] > 0).all() and (out["return_n"] <= 30).all()

    def test_sessions_and_as_of(self, return_panel):
        r, bench, themes, benchmarks = return_panel
        as_of = r.index[200]
        out = return_exposure(r, themes, bench, benchmarks, as_of=as_of, sessions={"X": r.index}, symbols=["X"])
        own = r.index[r.index <= as_of][-252:]
        data = pd.DataFrame({"y": r["X"], "m": bench["M"], "f": r[list("ABCD")].mean(axis=1)}).reindex(own).dropna()
        assert cell(out, "X", "t", "return_n") == len(data)

    def test_errors_and_warnings(self, return_panel):
        r, bench, themes, benchmarks = return_panel
        with pytest.raises(InputError, match="symbol 'Q' is not a column of returns"):
            return_exposure(r, themes, bench, benchmarks, symbols=["Q"])
        with pytest.raises(InputError, match="benchmark 'NOPE' of symbol 'A'"):
            return_exposure(r, themes, bench, {"A": "NOPE"})
        with pytest.raises(InputError, match="symbol 'X' has no benchmark"):
            return_exposure(r, themes, bench, {"A": "M"}, symbols=["X"])
        wide = themes.assign(core_symbols="A;B;GONE")
        with pytest.warns(DataQualityWarning, match="GONE"):
            out = return_exposure(r, wide, bench, benchmarks, symbols=["X"])
        assert cell(out, "X", "t", "return_n_constituents") == 2


# --------------------------------------------------------------------------- composite


def components():
    text = pd.DataFrame({
        "symbol": ["a", "b", "c", "d", "a", "b", "c"],
        "theme_id": ["t1"] * 4 + ["t2"] * 3,
        "text_relevance": [3.0, 1.0, 0.0, 2.0, 1.0, 1.0, 1.0],
        "text_n_mentions": [9, 4, 0, 5, 3, 3, 3],
    })
    event = pd.DataFrame({
        "symbol": ["a", "b", "c", "a", "b"],
        "theme_id": ["t1", "t1", "t1", "t2", "t2"],
        "event_mean_scar": [0.5, -0.2, 1.1, 0.4, 0.1],
        "event_n": [2, 1, 3, 1, 1],
    })
    ret = pd.DataFrame({
        "symbol": ["a", "b", "c", "d", "a", "b", "c"],
        "theme_id": ["t1"] * 4 + ["t2"] * 3,
        "return_beta": [0.9, 0.1, np.nan, 0.5, 0.2, 0.8, 0.3],
        "return_n": [250, 250, 10, 250, 250, 250, 250],
    })
    return {"text": text, "event": event, "return": ret}


def zscores(values: dict[str, float]) -> dict[str, float]:
    keys = [k for k, v in values.items() if not np.isnan(v)]
    z = stats.zscore(np.array([values[k] for k in keys]), ddof=1)
    return dict(zip(keys, z))


class TestComposite:
    def test_zscores_weights_and_reweighting(self):
        comp = components()
        out = composite_exposure(comp)
        zt = zscores({"a": 3.0, "b": 1.0, "c": 0.0, "d": 2.0})
        ze = zscores({"a": 0.5, "b": -0.2, "c": 1.1})
        zr = zscores({"a": 0.9, "b": 0.1, "d": 0.5})
        for s in "abcd":
            assert cell(out, s, "t1", "z_text") == pytest.approx(zt[s])
        w = DEFAULT_WEIGHTS
        full = (w["text"] * zt["a"] + w["event"] * ze["a"] + w["return"] * zr["a"]) / sum(w.values())
        assert cell(out, "a", "t1", "composite") == pytest.approx(full)
        assert cell(out, "a", "t1", "composite_weight") == pytest.approx(1.0)
        # c has no return beta, d has no event: weights renormalised over what is there.
        c = (w["text"] * zt["c"] + w["event"] * ze["c"]) / (w["text"] + w["event"])
        assert cell(out, "c", "t1", "composite") == pytest.approx(c)
        assert cell(out, "c", "t1", "composite_weight") == pytest.approx((w["text"] + w["event"]) / sum(w.values()))
        assert cell(out, "d", "t1", "composite_n_components") == 2
        # Every input column stays visible.
        for col in ("text_n_mentions", "event_n", "return_n", "return_beta", "event_mean_scar"):
            assert col in out.columns

    def test_constant_and_thin_cross_sections(self):
        out = composite_exposure(components())
        assert cell(out, "a", "t2", "z_text") == 0.0  # all equal: no information
        assert np.isnan(cell(out, "a", "t2", "z_event"))  # only 2 values < min_cross_section
        assert cell(out, "b", "t2", "composite") == pytest.approx(cell(out, "b", "t2", "z_return") * 0.4 / 0.8)

    def test_rank_order_and_require_mode(self):
        out = composite_exposure(components())
        t1 = out[out["theme_id"] == "t1"]
        assert list(t1["composite_rank"]) == [1, 2, 3, 4]
        assert t1["composite"].is_monotonic_decreasing
        req = composite_exposure(components(), missing="require")
        assert np.isnan(cell(req, "c", "t1", "composite")) and not np.isnan(cell(req, "a", "t1", "composite"))
        # b in t2 has text (0.4) and return (0.4) but no usable event z: weight share 0.8.
        strict = composite_exposure(components(), min_weight=0.9)
        assert np.isnan(cell(strict, "b", "t2", "composite")) and not np.isnan(cell(strict, "a", "t1", "composite"))
        assert not np.isnan(cell(composite_exposure(components(), min_weight=0.8), "b", "t2", "composite"))

    def test_custom_weights_and_columns(self):
        comp = components()
        only_text = composite_exposure(comp, weights={"text": 1.0})
        assert cell(only_text, "a", "t1", "composite") == pytest.approx(cell(only_text, "a", "t1", "z_text"))
        by_n = composite_exposure({"return": comp["return"]}, value_columns={"return": "return_n"})
        assert "z_return" in by_n.columns

    def test_errors(self):
        comp = components()
        with pytest.raises(InputError, match="weights for components that were not given: 'news'"):
            composite_exposure(comp, weights={"news": 1.0})
        with pytest.raises(InputError, match="non-negative"):
            composite_exposure(comp, weights={"text": -1.0})
        with pytest.raises(InputError, match="sum to zero"):
            composite_exposure(comp, weights={"text": 0.0, "event": 0.0, "return": 0.0})
        with pytest.raises(InputError, match="symbol 'a', theme 't1' appears more than once"):
            composite_exposure({"text": pd.concat([comp["text"], comp["text"].iloc[:1]])})
        with pytest.raises(InputError, match="min_weight must be between 0 and 1"):
            composite_exposure(comp, min_weight=2)
        with pytest.raises(InputError, match="value_columns"):
            composite_exposure({"other": comp["text"]})
        with pytest.raises(InputError, match="missing column 'text_relevance'"):
            composite_exposure({"text": comp["event"]})


def test_every_output_column_is_in_the_field_dictionary(return_panel):
    r, bench, themes, benchmarks = return_panel
    frames = [
        text_relevance(DOCS, UNIVERSE, THEMES),
        event_response(scar_frame(), EVENT_THEMES),
        return_exposure(r, themes, bench, benchmarks, symbols=["X"]),
    ]
    comp = composite_exposure({"text": frames[0], "event": frames[1], "return": frames[2]})
    for frame in frames + [comp]:
        missing = [c for c in frame.columns if c not in FIELDS]
        assert not missing, missing
