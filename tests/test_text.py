"""Text units and alias/keyword matching (screener.text), English and Chinese."""

from __future__ import annotations

import math

import pytest

from screener.errors import InputError
from screener.text import (
    compile_term,
    compile_terms,
    contains_term,
    count_term,
    is_cjk_term,
    split_paragraphs,
    split_sentences,
    split_terms,
    split_units,
)


class TestSentences:
    def test_chinese_terminators_split_without_spaces(self):
        text = "寒武纪发布新芯片。股价大涨！这是真的吗？还有；最后一句"
        assert split_sentences(text) == ["寒武纪发布新芯片。", "股价大涨！", "这是真的吗？", "还有；", "最后一句"]

    def test_latin_terminators_need_whitespace(self):
        text = "Nvidia fell 3.5% today. Is that right? Yes! The end"
        assert split_sentences(text) == ["Nvidia fell 3.5% today.", "Is that right?", "Yes!", "The end"]

    def test_abbreviations_and_initials_do_not_split(self):
        text = "The U.S. and Apple Inc. reacted. J. Smith said e.g. chips. Next one."
        assert split_sentences(text) == ["The U.S. and Apple Inc. reacted.", "J. Smith said e.g. chips.", "Next one."]

    def test_newlines_split_and_blank_lines_vanish(self):
        text = "first line without stop\n\n  second line  \nthird"
        assert split_sentences(text) == ["first line without stop", "second line", "third"]

    def test_mixed_language_line(self):
        text = "Cambricon rose. 寒武纪股价上涨!海光信息下跌"
        assert split_sentences(text) == ["Cambricon rose.", "寒武纪股价上涨!", "海光信息下跌"]

    def test_paragraphs_are_non_blank_lines(self):
        text = "\nPara one. Two sentences.\n\n第二段。两句。\n"
        assert split_paragraphs(text) == ["Para one. Two sentences.", "第二段。两句。"]
        assert split_units(text, "paragraph") == split_paragraphs(text)
        assert len(split_units(text, "sentence")) == 4

    def test_unknown_unit(self):
        with pytest.raises(InputError, match="unit must be one of"):
            split_units("x", "word")


class TestLatinMatching:
    @pytest.mark.parametrize(
        ("term", "text", "expected"),
        [
            ("ARM", "a farm, a harm, an armchair", 0),
            ("ARM", "ARM rose; Arm's licence; arm-based", 3),
            ("AMD", "AMDX and XAMD are other tickers", 0),
            ("AMD", "AMD, AMD's, AMD-based, (AMD)", 4),
            ("AMD", "ＡＭＤ in full width", 1),
            ("AMD", "AMD芯片和AMD", 2),
            ("SK hynix", "SK  Hynix, SK\nhynix, SKhynix", 2),
            ("H20", "the H20 chip, H200 and H20s", 1),
            ("U.S.", "the U.S. market", 1),
        ],
    )
    def test_word_boundaries_and_case(self, term, text, expected):
        assert count_term(term, text) == expected

    def test_contains_any(self):
        assert contains_term(["Cambricon", "寒武纪"], "the stock of 寒武纪 rose")
        assert not contains_term(["Cambricon"], "Cambriconx")


class TestCJKMatching:
    def test_plain_substring(self):
        assert count_term("寒武纪", "寒武纪科技与寒武纪") == 2
        # Known limitation: an alias embedded in a longer name matches too.
        assert count_term("中芯", "中芯国际") == 1

    def test_is_cjk(self):
        assert is_cjk_term("寒武纪") and is_cjk_term("AI芯片") and not is_cjk_term("Cambricon")

    def test_mixed_term_is_substring(self):
        assert count_term("AI芯片", "国产AI芯片需求") == 1
        assert compile_term("AI芯片").cjk


class TestTermLists:
    def test_split_terms(self):
        assert split_terms("Cambricon; 寒武纪 ;;Cambricon Technologies") == ["Cambricon", "寒武纪", "Cambricon Technologies"]
        assert split_terms("甲；乙") == ["甲", "乙"]
        assert split_terms(None) == [] and split_terms(math.nan) == [] and split_terms("  ") == []

    def test_compile_terms_dedupes_after_normalisation(self):
        terms = compile_terms(["AMD", "amd", "ＡＭＤ", "Nvidia"])
        assert [t.text for t in terms] == ["AMD", "Nvidia"]

    def test_empty_term(self):
        with pytest.raises(InputError, match="empty alias or keyword"):
            compile_term("   ")
