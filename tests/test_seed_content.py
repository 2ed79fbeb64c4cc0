"""Content checks of the bundled seed datasets (``seeds/*.csv``).

The schema and cross-dataset rules are tested with ``screener.validate``; this file checks what
the data *says*: the flagship events carry the dates established in ``docs/data.md``, every
event is tied to a listed source document and to a primary security, the figures quoted in the
headlines are the ones the source documents give, no text field copies the documents, and the
real prices move the way the catalog expects on the clearest events.

The tests read the CSV files with the standard library only, so they do not depend on the
loaders they are meant to feed.
"""

from __future__ import annotations

import csv
import hashlib
import re
from datetime import date, timedelta
from pathlib import Path

import pandas as pd
import pytest

SEEDS = Path(__file__).resolve().parent.parent / "seeds"


def _rows(name: str) -> list[dict[str, str]]:
    with open(SEEDS / name, encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


@pytest.fixture(scope="module")
def documents() -> dict[str, dict[str, str]]:
    return {r["document"]: r for r in _rows("documents.csv")}


@pytest.fixture(scope="module")
def events() -> dict[str, dict[str, str]]:
    return {r["event_id"]: r for r in _rows("events.csv")}


@pytest.fixture(scope="module")
def links() -> list[dict[str, str]]:
    return _rows("event_securities.csv")


@pytest.fixture(scope="module")
def universe() -> dict[str, dict[str, str]]:
    return {r["symbol"]: r for r in _rows("universe.csv")}


@pytest.fixture(scope="module")
def themes() -> dict[str, dict[str, str]]:
    return {r["theme_id"]: r for r in _rows("themes.csv")}


def _split(cell: str) -> list[str]:
    return [item.strip() for item in cell.split(";") if item.strip()]


def _announced_date(event: dict[str, str]) -> date:
    return date.fromisoformat(event["announced_at"][:10])


# ---------------------------------------------------------------------------------------------
# Flagship events and their dates
# ---------------------------------------------------------------------------------------------

FLAGSHIPS = {
    # event_id: (announced_at, timing, primary symbol)
    "cambricon-revenue-surge-2025-04": ("2025-04-18", "after_close", "688256.SS"),
    "intel-us-government-stake-2025-08": ("2025-08-22", "during", "INTC"),
    "asml-mistral-investment-2025-09": ("2025-09-07", "unknown", "ASML.AS"),
}


@pytest.mark.parametrize("event_id", sorted(FLAGSHIPS))
def test_flagship_event_has_established_date_and_primary(event_id, events, links):
    announced, timing, primary = FLAGSHIPS[event_id]
    assert event_id in events, f"flagship event {event_id} missing from events.csv"
    ev = events[event_id]
    assert ev["announced_at"] == announced
    assert ev["timing"] == timing
    primaries = [l["symbol"] for l in links if l["event_id"] == event_id and l["role"] == "primary"]
    assert primaries == [primary]


def test_first_reports_precede_official_announcements(events):
    # Where a report came first, the catalog keeps both steps, the report strictly earlier.
    pairs = [
        ("intel-us-government-stake-report-2025-08", "intel-us-government-stake-2025-08"),
        ("asml-mistral-investment-2025-09", "asml-mistral-partnership-official-2025-09"),
        ("foxconn-mitsubishi-ev-deal-report-2025-03", "foxtron-mitsubishi-ev-mou-2025-05"),
        ("microsoft-lease-cancellations-first-report-2025-02", "microsoft-data-center-pullback-2gw-2025-03"),
        ("china-battery-tech-export-controls-draft-2025-01", "china-battery-tech-export-controls-2025-07"),
        ("nvidia-h20-license-requirement-2025-04", "nvidia-h20-sales-resume-2025-07"),
        ("cambricon-revenue-surge-2025-04", "cambricon-h1-results-2025-08"),
    ]
    for first, later in pairs:
        assert _announced_date(events[first]) < _announced_date(events[later]), (first, later)


def test_asml_report_fell_on_a_sunday_and_official_release_on_a_tuesday(events):
    assert _announced_date(events["asml-mistral-investment-2025-09"]).weekday() == 6
    assert _announced_date(events["asml-mistral-partnership-official-2025-09"]).weekday() == 1


def test_event_ids_end_with_the_announcement_month(events):
    # The slug convention <what>-<yyyy>-<mm> must agree with announced_at.
    for event_id, ev in events.items():
        match = re.search(r"-(\d{4})-(\d{2})$", event_id)
        assert match, f"{event_id}: slug does not end with -YYYY-MM"
        assert ev["announced_at"][:7] == f"{match.group(1)}-{match.group(2)}", event_id


# ---------------------------------------------------------------------------------------------
# Events, documents and securities hang together
# ---------------------------------------------------------------------------------------------


def test_catalog_size_is_in_the_planned_range(events):
    assert 20 <= len(events) <= 30


def test_every_event_cites_a_listed_document(events, documents):
    for event_id, ev in events.items():
        assert ev["document"] in documents, event_id


def test_every_document_is_cited_by_an_event(events, documents):
    cited = {ev["document"] for ev in events.values()}
    assert cited == set(documents)


def test_document_date_is_within_the_document_period_and_not_before_the_event(events, documents):
    for event_id, ev in events.items():
        if not ev["document_date"]:
            continue
        doc = documents[ev["document"]]
        reported = date.fromisoformat(ev["document_date"])
        assert date.fromisoformat(doc["period_start"]) <= reported <= date.fromisoformat(doc["period_end"]), event_id
        assert _announced_date(ev) <= reported, f"{event_id}: reported before it was announced"


def test_every_event_has_one_primary_security_in_the_universe(events, links, universe):
    for event_id in events:
        primaries = [l["symbol"] for l in links if l["event_id"] == event_id and l["role"] == "primary"]
        assert len(primaries) == 1, f"{event_id}: primaries {primaries}"
        assert primaries[0] in universe


def test_every_link_points_to_a_known_event_and_symbol(events, links, universe):
    for link in links:
        assert link["event_id"] in events
        assert link["symbol"] in universe, link
        assert link["expected_sign"] in {"-1", "0", "1"}
        assert link["rationale"].strip()


def test_event_themes_exist_and_every_theme_is_used(events, themes):
    used = set()
    for event_id, ev in events.items():
        ids = _split(ev["themes"])
        assert ids, event_id
        assert set(ids) <= set(themes), event_id
        used.update(ids)
    assert used == set(themes)


def test_required_themes_have_three_to_ten_core_symbols(themes, universe):
    required = {
        "ai-compute", "ai-capex-risk", "china-self-sufficiency", "export-controls",
        "us-industrial-policy", "european-tech-sovereignty", "rare-earths", "ev-supply-chain",
    }
    assert required <= set(themes)
    for theme_id, theme in themes.items():
        core = _split(theme["core_symbols"])
        assert 3 <= len(core) <= 10, theme_id
        assert len(set(core)) == len(core), theme_id
        assert all(s in universe and universe[s]["asset_type"] == "equity" for s in core), theme_id
        assert _split(theme["keywords_en"]) and _split(theme["keywords_zh"]), theme_id


def test_aliases_cover_the_names_the_documents_use(universe):
    # Forms that occur in the source documents must resolve to the right security.
    expected = {
        "寒武纪": "688256.SS", "Cambricon": "688256.SS", "屹唐股份": "688729.SS", "应用材料": "AMAT",
        "新易盛": "300502.SZ", "New Yisheng": "300502.SZ", "工业富联": "601138.SS",
        "Industrial Fulian": "601138.SS", "英伟达": "NVDA", "NVIDIA": "NVDA", "阿斯麦": "ASML.AS",
        "台积电": "2330.TW", "英特尔": "INTC", "蔚来": "NIO", "宁德时代": "300750.SZ",
        "比亚迪": "002594.SZ", "北方稀土": "600111.SS", "中芯国际": "688981.SS", "海光": "688041.SS",
        "Foxconn": "2317.TW", "鸿海": "2317.TW", "Mitsubishi Motors": "7211.T", "三星": "005930.KS",
    }
    for alias, symbol in expected.items():
        names = _split(universe[symbol]["aliases_en"]) + _split(universe[symbol]["aliases_zh"])
        assert alias in names, f"{alias!r} is not an alias of {symbol}"


def test_equity_benchmarks_are_indices_of_the_same_market(universe):
    for symbol, row in universe.items():
        if row["asset_type"] != "equity":
            continue
        bench = universe[row["benchmark"]]
        assert bench["asset_type"] == "index", symbol
        # Same exchange, except the euro-area proxy for Amsterdam and Xetra listings and the
        # Shanghai-listed CSI 300 used for Shenzhen main-board stocks.
        if row["benchmark"] == "^STOXX50E":
            assert row["currency"] == "EUR", symbol
        elif row["benchmark"] == "000300.SS":
            assert row["exchange"] in {"XSHG", "XSHE"}, symbol
        else:
            assert bench["exchange"] == row["exchange"] or (row["currency"] == "USD" and row["benchmark"] == "^GSPC"), symbol


# ---------------------------------------------------------------------------------------------
# Against the source documents
# ---------------------------------------------------------------------------------------------


def test_document_checksums_match_the_source_files(documents, shared_seeds_dir):
    for name, row in documents.items():
        digest = hashlib.sha256((shared_seeds_dir / name).read_bytes()).hexdigest()
        assert digest == row["sha256"], name


def test_document_language_matches_its_script(documents, shared_seeds_dir):
    # The Chinese digest keeps its articles' Chinese titles beside English summaries; the
    # English documents contain no Chinese characters at all.
    for name, row in documents.items():
        text = (shared_seeds_dir / name).read_text(encoding="utf-8")
        titles_in_chinese = len(re.findall(r"[\u4e00-\u9fff]", text)) > 50
        assert (row["language"] == "zh") == titles_in_chinese, name


@pytest.mark.parametrize(
    "event_id, figures",
    [
        # Figures quoted in the catalog that the cited document must contain (as written there).
        ("cambricon-revenue-surge-2025-04", ["4,230%"]),
        ("intel-us-government-stake-2025-08", ["433", "20.47"]),
        ("asml-mistral-investment-2025-09", ["1.3 billion", "11.7 billion"]),
        ("samsung-tesla-foundry-contract-2025-07", ["16.5 billion"]),
        ("yitang-sues-applied-materials-2025-08", ["9999万"]),
        ("shanghai-composite-breaks-2024-high-2025-08", ["3683", "3674"]),
        ("microsoft-data-center-pullback-2gw-2025-03", ["2 gigawatts"]),
        ("nio-shenji-chip-in-production-2025-07", ["NX9031"]),
        ("mistral-compute-nvidia-2025-06", ["18,000"]),
    ],
)
def test_quoted_figures_come_from_the_cited_document(event_id, figures, events, shared_seeds_dir):
    text = (shared_seeds_dir / events[event_id]["document"]).read_text(encoding="utf-8")
    for figure in figures:
        assert figure in text, f"{figure!r} not in the document cited by {event_id}"


def _words(text: str) -> list[str]:
    return re.findall(r"[a-z0-9%$.,'-]+", text.lower())


def test_text_fields_do_not_copy_the_documents(events, links, themes, documents, shared_seeds_dir):
    # Own words only: no run of 8 consecutive English words, and no run of 12 consecutive CJK
    # characters, may be shared with a source document.
    sources = [(shared_seeds_dir / name).read_text(encoding="utf-8") for name in documents]
    shingles: set[tuple[str, ...]] = set()
    cjk_runs: set[str] = set()
    for text in sources:
        words = _words(text)
        shingles.update(tuple(words[i:i + 8]) for i in range(len(words) - 7))
        for run in re.findall(r"[\u4e00-\u9fff]{12,}", text):
            cjk_runs.update(run[i:i + 12] for i in range(len(run) - 11))
    fields = [(e["event_id"], e[c]) for e in events.values() for c in ("headline", "notes")]
    fields += [(l["event_id"], l["rationale"]) for l in links]
    fields += [(t["theme_id"], t["description"]) for t in themes.values()]
    fields += [(d["document"], d["title"]) for d in documents.values()]
    for where, text in fields:
        words = _words(text)
        copied = [w for w in (tuple(words[i:i + 8]) for i in range(len(words) - 7)) if w in shingles]
        assert not copied, f"{where}: copies the source text: {' '.join(copied[0])!r}"
        for run in re.findall(r"[\u4e00-\u9fff]{12,}", text):
            assert not any(run[i:i + 12] in cjk_runs for i in range(len(run) - 11)), where


# ---------------------------------------------------------------------------------------------
# Against real prices (supporting evidence, not proof)
# ---------------------------------------------------------------------------------------------

#: Events whose date and timing are firm and whose primary has a price file; on day 0 the
#: primary's return minus its benchmark's must have the catalog's expected sign.
CLEAN_EVENTS = [
    "cambricon-revenue-surge-2025-04",
    "cambricon-h1-results-2025-08",
    "intel-us-government-stake-report-2025-08",
    "nvidia-h20-license-requirement-2025-04",
    "nvidia-h20-sales-resume-2025-07",
    "samsung-tesla-foundry-contract-2025-07",
]


def _returns(prices_dir: Path, symbol: str) -> pd.Series:
    frame = pd.read_csv(prices_dir / f"{symbol}.csv", parse_dates=["date"], index_col="date")
    close = frame["adj_close"].fillna(frame["close"])
    return close.pct_change().dropna()


def _day_zero(sessions: pd.DatetimeIndex, announced: date, timing: str) -> pd.Timestamp:
    start = pd.Timestamp(announced + timedelta(days=1) if timing == "after_close" else announced)
    return sessions[sessions.searchsorted(start)]


@pytest.mark.parametrize("event_id", CLEAN_EVENTS)
def test_day_zero_abnormal_return_has_expected_sign(event_id, events, links, universe, shared_prices_dir):
    ev = events[event_id]
    primary = next(l for l in links if l["event_id"] == event_id and l["role"] == "primary")
    sign = int(primary["expected_sign"])
    assert sign != 0, "clean events must have a directional expectation"
    symbol = primary["symbol"]
    stock = _returns(shared_prices_dir, symbol)
    bench = _returns(shared_prices_dir, universe[symbol]["benchmark"])
    day0 = _day_zero(stock.index, _announced_date(ev), ev["timing"])
    abnormal = stock[day0] - bench.get(day0, 0.0)
    assert sign * abnormal > 0.01, f"{event_id}: {symbol} on {day0.date()} abnormal return {abnormal:+.4f}"
