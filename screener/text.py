"""Splitting news text into units and matching aliases and keywords, in English and Chinese.

No tokenizer dependency: Chinese has no spaces between words, so matching is done on
characters with regular expressions.

Rules (also in ``docs/screening.md``):

- **Units.** A *paragraph* is a non-blank line (the source documents put one paragraph per
  line). A *sentence* ends at ``。！？；``, at half-width ``!?;`` directly followed by a CJK
  character, at ``.``, ``!`` or ``?`` followed by whitespace, or at a line break. A full
  stop after a short list of abbreviations (``U.S.``, ``Inc.``, ``Corp.``, ``e.g.`` ...) or
  a single capital letter does not end a sentence, and ``3.5`` has no space so never splits.
- **Normalisation.** Each unit and each term is NFKC-normalised (full-width ``ＡＭＤ`` becomes
  ``AMD``) and case-folded before matching.
- **Latin-script terms** (no CJK character) match whole words only: the characters on either
  side must not be Latin letters or digits, so ``ARM`` does not match ``farm`` and ``AMD``
  does not match ``AMDX``, but ``AMD's``, ``AMD-based`` and ``AMD芯片`` all match. Spaces
  inside a term match any run of whitespace. Matching is case-insensitive, so ``ARM`` also
  matches the common word ``arm``: keep ambiguous short aliases out of the universe.
- **CJK terms** (any CJK character) match as plain substrings. Known limitation: a short CJK
  alias also matches inside a longer name that contains it (``中芯`` inside ``中芯国际``, or
  an alias inside an unrelated company's name), because there are no word boundaries to
  test; prefer full names as CJK aliases.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from screener.errors import InputError

__all__ = [
    "UNITS",
    "Term",
    "normalize",
    "is_cjk_term",
    "split_terms",
    "split_paragraphs",
    "split_sentences",
    "split_units",
    "compile_term",
    "compile_terms",
    "contains_term",
    "count_term",
]

UNITS = ("sentence", "paragraph")

# CJK Unified Ideographs (+ extension A, compatibility), kana, hangul.
_CJK_CLASS = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\u3040-\u30ff\uac00-\ud7af"
_CJK_RE = re.compile(f"[{_CJK_CLASS}]")
# What counts as "part of a Latin-script word" for boundary tests.
_WORD_CHAR = "0-9a-z\u00c0-\u024f"

_ABBREVIATIONS = (
    "u.s", "u.k", "e.u", "u.n", "inc", "corp", "co", "ltd", "plc", "llc", "e.g", "i.e", "vs",
    "mr", "mrs", "ms", "dr", "prof", "no", "st", "jan", "feb", "mar", "apr", "jun", "jul",
    "aug", "sep", "sept", "oct", "nov", "dec", "approx", "est", "etc",
)
# Sentence end: CJK terminators anywhere; Latin terminators before whitespace.
_CJK_END = "。！？；"
_LATIN_END_RE = re.compile(rf"[.!?]+[\"'”’)\]]*(?=\s)|[!?;]+(?=[{_CJK_CLASS}])")
_ABBREV_TAIL_RE = re.compile(r"(?:^|[\s(\"“])((?:[a-z]\.)*[a-z]+|[A-Z])\.$", re.IGNORECASE)


@dataclass(frozen=True)
class Term:
    """A compiled alias or keyword.

    Attributes
    ----------
    text : str
        The term as given.
    cjk : bool
        True when the term holds a CJK character (matched as a plain substring).
    pattern : re.Pattern
        The compiled pattern, applied to :func:`normalize`-d text.
    """

    text: str
    cjk: bool
    pattern: re.Pattern[str]


def normalize(text: str) -> str:
    """NFKC-normalise and case-fold ``text`` (full-width Latin becomes ASCII)."""
    return unicodedata.normalize("NFKC", text).casefold()


def is_cjk_term(term: str) -> bool:
    """Whether ``term`` contains a CJK (Chinese, Japanese kana or Korean) character."""
    return bool(_CJK_RE.search(term))


def split_terms(cell: object) -> list[str]:
    """Split a ``;``-separated cell (aliases, keywords, symbols) into stripped, non-empty items.

    ``None``, ``NaN`` and blank cells give an empty list. Full-width ``；`` also separates.
    """
    if cell is None:
        return []
    if isinstance(cell, (list, tuple, set)):  # already split by a loader
        return [str(t).strip() for t in cell if str(t).strip()]
    if isinstance(cell, float) and cell != cell:  # NaN
        return []
    if not isinstance(cell, str):
        try:
            import pandas as pd

            if pd.isna(cell):
                return []
        except (TypeError, ValueError):
            pass
        cell = str(cell)
    return [t.strip() for t in re.split(r"[;；]", cell) if t.strip()]


def split_paragraphs(text: str) -> list[str]:
    """Split ``text`` into paragraphs: its non-blank lines, stripped."""
    return [line.strip() for line in text.splitlines() if line.strip()]


def _ends_with_abbreviation(chunk: str) -> bool:
    m = _ABBREV_TAIL_RE.search(chunk)
    if not m:
        return False
    word = m.group(1)
    if len(word) == 1 and word.isupper():  # an initial: "J. Smith"
        return True
    return word.lower().rstrip(".") in _ABBREVIATIONS or "." in word  # "U.S." style


def _split_line(line: str) -> list[str]:
    # 1. CJK terminators always end a sentence (kept with their sentence).
    pieces: list[str] = []
    start = 0
    for i, ch in enumerate(line):
        if ch in _CJK_END:
            pieces.append(line[start : i + 1])
            start = i + 1
    pieces.append(line[start:])
    # 2. Latin terminators followed by whitespace, unless after an abbreviation.
    out: list[str] = []
    for piece in pieces:
        start = 0
        for m in _LATIN_END_RE.finditer(piece):
            candidate = piece[start : m.end()]
            if m.group(0).startswith(".") and len(m.group(0).rstrip("\"'”’)]")) == 1:
                if _ends_with_abbreviation(candidate.rstrip("\"'”’)]")):
                    continue
            out.append(candidate)
            start = m.end()
        out.append(piece[start:])
    return [s.strip() for s in out if s.strip()]


def split_sentences(text: str) -> list[str]:
    """Split ``text`` into sentences (see the module docstring for the rules).

    Examples
    --------
    >>> split_sentences("寒武纪发布新品。股价上涨！Nvidia fell. The U.S. reacted")
    ['寒武纪发布新品。', '股价上涨！', 'Nvidia fell.', 'The U.S. reacted']
    """
    sentences: list[str] = []
    for line in split_paragraphs(text):
        sentences.extend(_split_line(line))
    return sentences


def split_units(text: str, unit: str = "sentence") -> list[str]:
    """Split ``text`` into ``"sentence"`` or ``"paragraph"`` units.

    Raises
    ------
    InputError
        If ``unit`` is not one of :data:`UNITS`.
    """
    if unit == "sentence":
        return split_sentences(text)
    if unit == "paragraph":
        return split_paragraphs(text)
    raise InputError(f"unit must be one of {', '.join(map(repr, UNITS))}, not {unit!r}")


def compile_term(term: str) -> Term:
    """Compile an alias or keyword for matching against :func:`normalize`-d text.

    Raises
    ------
    InputError
        If ``term`` is empty after normalisation.
    """
    norm = normalize(term).strip()
    if not norm:
        raise InputError(f"empty alias or keyword: {term!r}")
    body = r"\s+".join(re.escape(part) for part in norm.split())
    if is_cjk_term(norm):
        return Term(term, True, re.compile(body))
    return Term(term, False, re.compile(f"(?<![{_WORD_CHAR}]){body}(?![{_WORD_CHAR}])"))


def _as_term(term: str | Term) -> Term:
    return term if isinstance(term, Term) else compile_term(term)


def count_term(term: str | Term, text: str, *, normalized: bool = False) -> int:
    """Number of non-overlapping matches of ``term`` in ``text``.

    Parameters
    ----------
    term : str or Term
        The alias/keyword (compiled or not).
    text : str
        The text to search.
    normalized : bool
        Set when ``text`` is already :func:`normalize`-d (saves work in loops).
    """
    t = _as_term(term)
    return len(t.pattern.findall(text if normalized else normalize(text)))


def contains_term(terms: str | Term | Iterable[str | Term], text: str, *, normalized: bool = False) -> bool:
    """Whether any of ``terms`` occurs in ``text`` (same rules as :func:`count_term`)."""
    if isinstance(terms, (str, Term)):
        terms = [terms]
    norm = text if normalized else normalize(text)
    return any(_as_term(t).pattern.search(norm) for t in terms)


def compile_terms(terms: Sequence[str]) -> list[Term]:
    """Compile several terms, dropping duplicates that normalise to the same text."""
    seen: set[str] = set()
    out: list[Term] = []
    for t in terms:
        key = normalize(t).strip()
        if key and key not in seen:
            seen.add(key)
            out.append(compile_term(t))
    return out

