"""The HTML report: structure (parsed with html.parser), embedded PNGs, escaping, Chromium render."""

from __future__ import annotations

import base64
import shutil
import subprocess
from html.parser import HTMLParser

import pandas as pd
import pytest

from screener.report.charts import PNG_SIGNATURE, report_charts
from screener.report.demo import demo_report
from screener.report.html import html_table, render_html
from screener.report.model import format_value, screen_anchor

HOSTILE_NAME = '<script>alert(1)</script> "quotes" & ampersands'
HOSTILE_HEADLINE = 'Chips <img src=x onerror=alert(2)> & "more" <script>alert(3)</script>'


class PageParser(HTMLParser):
    """Collects what the tests look at: tags, ids, images, links and the visible text."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[str] = []
        self.ids: list[str] = []
        self.images: list[dict[str, str]] = []
        self.links: list[str] = []
        self.external: list[str] = []
        self.text: list[str] = []
        self.attributes: list[tuple[str, str]] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        attrs = {k: (v or "") for k, v in attrs}
        self.attributes += list(attrs.items())
        if "id" in attrs:
            self.ids.append(attrs["id"])
        if tag == "img":
            self.images.append(attrs)
        if tag == "a" and "href" in attrs:
            self.links.append(attrs["href"])
        for key in ("src", "href"):
            value = attrs.get(key, "")
            if value and not (value.startswith("#") or value.startswith("data:image/png;base64,")):
                self.external.append(value)

    def handle_data(self, data):
        self.text.append(data)


def parse(page: str) -> PageParser:
    parser = PageParser()
    parser.feed(page)
    parser.close()
    return parser


@pytest.fixture(scope="module")
def data():
    report = demo_report(n_events=3, n_securities=12, seed=5, headlines=[HOSTILE_HEADLINE, "Second", "Third"],
                         names={"SYM01": HOSTILE_NAME, "SYM02": "A | B"})
    report.events[1].notes = HOSTILE_NAME
    report.warnings.append(HOSTILE_NAME)
    report.provenance["price_source"] = HOSTILE_NAME
    report.outcomes.loc[0, "note"] = HOSTILE_NAME
    return report


@pytest.fixture(scope="module")
def charts(data):
    return report_charts(data)


@pytest.fixture(scope="module")
def page(data, charts):
    return render_html(data, charts=charts)


def test_every_chart_is_an_embedded_png(page, charts):
    parsed = parse(page)
    assert len(parsed.images) == len(charts)
    embedded = []
    for img in parsed.images:
        src = img["src"]
        assert src.startswith("data:image/png;base64,")
        png = base64.b64decode(src.split(",", 1)[1], validate=True)
        assert png.startswith(PNG_SIGNATURE)
        assert img.get("alt")
        embedded.append(png)
    assert sorted(embedded) == sorted(charts.values())


def test_sections_and_table_of_contents(page, data):
    parsed = parse(page)
    for required in ("provenance", "contents", "summary", "exposure", "outcomes", "warnings"):
        assert required in parsed.ids
    for ev in data.events:
        assert ev.anchor in parsed.ids
        assert f"#{ev.anchor}" in parsed.links  # in the contents and the summary table
        assert parsed.links.count(f"#{ev.anchor}") == 2
    for theme in data.screens:
        assert screen_anchor(theme) in parsed.ids
    assert len(parsed.ids) == len(set(parsed.ids))
    # every in-page link points at an existing id; nothing is loaded from outside
    assert all(link[1:] in parsed.ids for link in parsed.links)
    assert parsed.external == []


def test_no_script_anywhere(page):
    parsed = parse(page)
    assert "script" not in parsed.tags
    assert "<script" not in page.lower()
    assert not any(key.startswith("on") for key, _ in parsed.attributes)


def test_hostile_text_is_escaped_and_shown_as_text(page, data):
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &quot;quotes&quot; &amp; ampersands" in page
    assert "&lt;img src=x onerror=alert(2)&gt;" in page
    parsed = parse(page)
    assert "img" in parsed.tags and all("onerror" not in img for img in parsed.images)
    text = "".join(parsed.text)
    assert HOSTILE_NAME in text  # the reader sees the name as written
    assert HOSTILE_HEADLINE in text
    assert text.count(HOSTILE_NAME) >= 5  # firms table, screen/exposure names, notes, warning, provenance...


def test_numbers_are_formatted(page, data):
    text = "".join(parse(page).text)
    tests = data.events[0].tests
    for _, row in tests.iterrows():
        assert format_value(row["pvalue"], "pvalue") in text
        assert format_value(row["estimate"], "estimate").endswith("%")
        assert format_value(row["estimate"], "estimate") in text
    caar_first = data.summary_frame().iloc[0]["CAAR [0,0]"]
    assert f"{caar_first * 100:.2f}%" in text


def test_rendering_is_deterministic(data, charts, page):
    assert render_html(data, charts=charts) == page


def test_html_table_escapes_headers_and_links():
    frame = pd.DataFrame({"<b>col</b>": ["x"], "event_id": ["e-1"]})
    out = html_table(frame, links={"event_id": lambda v: f"event-{v}"})
    assert "&lt;b&gt;col&lt;/b&gt;" in out
    assert '<a href="#event-e-1">e-1</a>' in out


def test_long_tables_fold_without_javascript():
    out = html_table(pd.DataFrame({"x": range(40)}), collapse=30)
    assert out.startswith("<details>") and "Show all 40 rows" in out
    assert "<details>" not in html_table(pd.DataFrame({"x": range(10)}), collapse=30)


def _chromium() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.mark.skipif(_chromium() is None, reason="no Chromium on this machine")
def test_chromium_renders_the_page(tmp_path, page):
    html_file = tmp_path / "report.html"
    html_file.write_text(page, encoding="utf-8")
    shot = tmp_path / "shot.png"
    cmd = [_chromium(), "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
           "--disable-component-update", "--disable-sync", "--no-first-run", f"--user-data-dir={tmp_path / 'profile'}",
           "--window-size=1200,2000", f"--screenshot={shot}", html_file.as_uri()]
    subprocess.run(cmd, capture_output=True, timeout=60, check=False)
    assert shot.is_file()
    png = shot.read_bytes()
    assert png.startswith(PNG_SIGNATURE) and len(png) > 20_000
    import io

    import numpy as np
    from PIL import Image

    pixels = np.asarray(Image.open(io.BytesIO(png)).convert("L"))
    assert pixels.std() > 5  # not a blank page
