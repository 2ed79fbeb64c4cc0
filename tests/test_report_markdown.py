"""The Markdown report: every event present, images on disk, escaped cells."""

from __future__ import annotations

import re

import pandas as pd
import pytest

from screener.report.demo import demo_report
from screener.report.markdown import markdown_table, md_text, render_markdown
from screener.report.writer import write_report

HOSTILE_NAME = '<script>alert(1)</script> "quotes" & ampersands'


@pytest.fixture(scope="module")
def written(tmp_path_factory):
    data = demo_report(n_events=3, n_securities=12, seed=6, headlines=["One | pipe", "Two", HOSTILE_NAME],
                       names={"SYM01": "Alpha | Beta", "SYM02": HOSTILE_NAME})
    out = tmp_path_factory.mktemp("md") / "report"
    write_report(data, out, formats=("md",))
    return data, out, (out / "report.md").read_text(encoding="utf-8")


def _split_row(line: str) -> list[str]:
    """Split a GFM table row on unescaped pipes (what a Markdown renderer does)."""
    cells = re.split(r"(?<!\\)\|", line.strip())
    return cells[1:-1]


def test_every_event_has_its_section(written):
    data, _, text = written
    for ev in data.events:
        assert f'<a id="{ev.anchor}"></a>' in text
        assert f"### {md_text(ev.event_id)}" in text
        assert f"](#{ev.anchor})" in text


def test_referenced_images_exist_on_disk(written):
    data, out, text = written
    refs = re.findall(r"!\[[^\]]*\]\(([^)]+)\)", text)
    expected = len(data.events) + 1 + len(data.screens)
    assert len(refs) == expected
    for ref in refs:
        assert ref.startswith("charts/")
        path = out / ref
        assert path.is_file() and path.read_bytes().startswith(b"\x89PNG")


def test_table_rows_keep_their_shape_despite_pipes(written):
    data, _, text = written
    lines = text.splitlines()
    for i, line in enumerate(lines):
        if line.startswith("|---") or line.startswith("|--"):
            header = _split_row(lines[i - 1])
            j = i + 1
            while j < len(lines) and lines[j].startswith("| "):
                assert len(_split_row(lines[j])) == len(header), lines[j]
                j += 1
    assert "Alpha \\| Beta" in text
    assert "One \\| pipe" in text


def test_markup_from_data_is_inert(written):
    _, _, text = written
    assert "<script" not in text.lower()
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in text
    assert "&amp; ampersands" in text
    # the only raw HTML is the anchors the renderer writes
    assert set(re.findall(r"<([a-zA-Z]+)", text)) == {"a"}


def test_summary_values_match_the_model(written):
    data, _, text = written
    summary = data.summary_frame()
    for _, row in summary.iterrows():
        line = next(l for l in text.splitlines() if l.startswith(f"| [{row['event_id']}]"))
        cells = [c.strip() for c in _split_row(line)]
        assert f"{row['CAAR [0,0]'] * 100:.2f}%" in cells
        assert f"{row['p bmp [0,0]']:.3g}" in cells


def test_markdown_table_and_empty_frames():
    table = markdown_table(pd.DataFrame({"a|b": ["x\ny"], "n": [3]}))
    assert table.splitlines()[0] == "| a\\|b | n |"
    assert table.splitlines()[1] == "|---|---:|"
    assert table.splitlines()[2] == "| x y | 3 |"
    assert "_(none)_" in markdown_table(pd.DataFrame())


def test_render_without_charts_mentions_them():
    data = demo_report(n_events=1, n_securities=4)
    text = render_markdown(data, charts={})
    assert "![" not in text and "chart not drawn" in text
