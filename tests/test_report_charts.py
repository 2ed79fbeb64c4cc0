"""Report charts: valid, deterministic PNGs with no timestamps; heatmap selection and layout."""

from __future__ import annotations

import io
import struct
import subprocess
import sys
import zlib

import numpy as np
import pandas as pd
import pytest

from screener.errors import InputError
from screener.report.charts import (
    DPI,
    PNG_SIGNATURE,
    _heatmap_matrix,
    caar_chart,
    exposure_heatmap,
    report_charts,
    screen_bar_chart,
)
from screener.report.demo import demo_report


def png_chunks(png: bytes) -> list[tuple[bytes, bytes]]:
    """Parse a PNG into (type, data) chunks, checking every CRC (an independent decoder)."""
    assert png[:8] == PNG_SIGNATURE
    chunks, pos = [], 8
    while pos < len(png):
        (length,) = struct.unpack(">I", png[pos:pos + 4])
        kind = png[pos + 4:pos + 8]
        data = png[pos + 8:pos + 8 + length]
        (crc,) = struct.unpack(">I", png[pos + 8 + length:pos + 12 + length])
        assert zlib.crc32(kind + data) == crc, f"bad CRC in chunk {kind!r}"
        chunks.append((kind, data))
        pos += 12 + length
    assert chunks[0][0] == b"IHDR" and chunks[-1][0] == b"IEND"
    return chunks


def png_size(png: bytes) -> tuple[int, int]:
    width, height = struct.unpack(">II", png_chunks(png)[0][1][:8])
    return width, height


def decode(png: bytes) -> np.ndarray:
    from PIL import Image

    return np.asarray(Image.open(io.BytesIO(png)).convert("RGB"))


@pytest.fixture(scope="module")
def data():
    return demo_report(n_events=2, n_securities=60, seed=1)


def test_caar_chart_is_a_valid_deterministic_png(data):
    path = data.events[0].caar_path
    first = caar_chart(path, title="e1")
    second = caar_chart(path.copy(), title="e1")
    assert first == second
    assert png_size(first) == (7 * DPI, int(3.2 * DPI))
    kinds = [k for k, _ in png_chunks(first)]
    assert b"tIME" not in kinds
    text = b"".join(d for k, d in png_chunks(first) if k in (b"tEXt", b"iTXt", b"zTXt"))
    assert b"Software" not in text and b"matplotlib" not in text.lower()
    pixels = decode(first)
    assert pixels.std() > 10  # something was drawn


def test_different_inputs_give_different_charts(data):
    path = data.events[0].caar_path
    moved = path.assign(caar=path["caar"] + 0.01)
    assert caar_chart(path, title="e1") != caar_chart(moved, title="e1")


def test_caar_chart_handles_an_empty_path_and_missing_band():
    empty = pd.DataFrame({"rel_day": [], "caar": [], "ci_lower": [], "ci_upper": []})
    assert png_chunks(caar_chart(empty, title="none"))
    no_band = pd.DataFrame({"rel_day": [-1, 0, 1], "caar": [0.0, 0.01, 0.02], "ci_lower": np.nan, "ci_upper": np.nan})
    assert png_chunks(caar_chart(no_band))


def test_caar_chart_names_missing_columns():
    with pytest.raises(InputError, match="'ci_lower'"):
        caar_chart(pd.DataFrame({"rel_day": [0], "caar": [0.0], "ci_upper": [0.0]}), title="ev-x")


def test_heatmap_matrix_keeps_top_n_per_theme_by_absolute_exposure():
    rng = np.random.default_rng(0)
    symbols = [f"S{i:02d}" for i in range(30)]
    rows = [{"symbol": s, "theme": t, "composite": float(rng.normal())} for s in symbols for t in ("a", "b")]
    frame = pd.DataFrame(rows)
    matrix = _heatmap_matrix(frame, "composite", 5)
    expected = set()
    for theme, sub in frame.groupby("theme"):
        expected |= set(sub.assign(a=sub["composite"].abs()).nlargest(5, "a")["symbol"])
    assert set(matrix.index) == expected
    assert list(matrix.columns) == ["a", "b"]
    # values are the planted ones
    for s in matrix.index:
        for t in ("a", "b"):
            planted = frame.loc[(frame["symbol"] == s) & (frame["theme"] == t), "composite"].iloc[0]
            assert matrix.loc[s, t] == pytest.approx(planted)
    # rows ordered by strongest absolute exposure first
    strength = matrix.abs().max(axis=1).to_numpy()
    assert np.all(np.diff(strength) <= 0)
    assert len(_heatmap_matrix(frame, "composite", None)) == 30


def test_heatmap_grows_with_securities_and_is_deterministic(data):
    small = exposure_heatmap(data.exposure, top_n=3)
    large = exposure_heatmap(data.exposure, top_n=None)
    assert small == exposure_heatmap(data.exposure.sample(frac=1.0, random_state=2), top_n=3)
    w_small, h_small = png_size(small)
    w_large, h_large = png_size(large)
    assert w_small == w_large
    # 60 securities at 0.22 inch per row
    assert h_large == round((1.6 + 0.22 * 60) * DPI)
    assert h_large > h_small


def test_heatmap_colours_are_centred_at_zero():
    # one theme, two securities at +1 and -1: the two cells get mirror-image colours
    frame = pd.DataFrame({"symbol": ["UP", "DOWN"], "theme": ["t", "t"], "composite": [1.0, -1.0]})
    pixels = decode(exposure_heatmap(frame, top_n=None)).astype(int)
    red = (pixels[..., 0] - pixels[..., 2] > 40).sum()
    blue = (pixels[..., 2] - pixels[..., 0] > 40).sum()
    assert red > 1000 and blue > 1000
    assert abs(red - blue) / max(red, blue) < 0.1
    # all-positive values never give a cell a blue colour: only the colour bar is blue
    positive = pd.DataFrame({"symbol": ["A", "B"], "theme": ["t", "t"], "composite": [1.0, 2.0]})
    pixels = decode(exposure_heatmap(positive, top_n=None)).astype(int)
    blue_positive = (pixels[..., 2] - pixels[..., 0] > 40).sum()
    assert blue_positive < blue / 2


def test_screen_bar_chart_validates_and_draws(data):
    screen = next(iter(data.screens.values()))
    png = screen_bar_chart(screen, title="ai-compute")
    assert png == screen_bar_chart(screen.copy(), title="ai-compute")
    assert png_size(png)[1] == round((1.0 + 0.25 * len(screen)) * DPI)
    with pytest.raises(InputError, match="'symbol'"):
        screen_bar_chart(pd.DataFrame({"score": [1.0]}), title="t")
    with pytest.raises(InputError, match="'nope'"):
        screen_bar_chart(screen, value="nope")


def test_report_charts_names_every_chart():
    data = demo_report(n_events=2, n_securities=10, seed=4)
    charts = report_charts(data)
    expected = {ev.chart_name for ev in data.events} | {"exposure-heatmap.png"} | {
        f"screen-{t}.png" for t in data.screens}
    assert set(charts) == expected
    assert all(png.startswith(PNG_SIGNATURE) for png in charts.values())


def test_charts_module_does_not_import_matplotlib_or_touch_pyplot():
    code = ("import sys; import screener.report.charts; print('mpl' in sys.modules or 'matplotlib' in sys.modules); "
            "from screener.report.charts import caar_chart; import pandas as pd; "
            "caar_chart(pd.DataFrame({'rel_day':[0],'caar':[0.0],'ci_lower':[0.0],'ci_upper':[0.0]})); "
            "print('matplotlib.pyplot' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
    assert out == ["False", "False"]


def test_heatmap_reads_theme_id_and_names_a_missing_theme_column(data):
    assert "theme_id" in data.exposure.columns
    matrix = _heatmap_matrix(data.exposure, "composite", None)
    assert sorted(matrix.columns) == sorted(data.exposure["theme_id"].unique())
    with pytest.raises(InputError, match="'theme_id'"):
        exposure_heatmap(data.exposure.drop(columns="theme_id"))
