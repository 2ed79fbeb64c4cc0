"""Report charts as PNG bytes: CAAR paths, the exposure heatmap, screen bar charts.

Charts are drawn on a bare :class:`matplotlib.figure.Figure` with the Agg canvas (no pyplot, so
nothing touches the user's backend or global figure list) inside a fixed ``rc_context``, at a
fixed size and dpi, and saved without the ``Software`` tag or any timestamp: the same input
gives the same bytes. matplotlib is imported when a chart is drawn, not when this module is.
"""

from __future__ import annotations

import io
from typing import TYPE_CHECKING, Any

from screener.errors import InputError
from screener.report.model import REQUIRED_COLUMNS, screen_value_column, theme_column

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd
    from matplotlib.figure import Figure

    from screener.report.model import ReportData

__all__ = ["caar_chart", "exposure_heatmap", "screen_bar_chart", "report_charts", "DPI", "PNG_SIGNATURE"]

#: Resolution of every chart.
DPI = 100
#: The eight bytes every PNG file starts with.
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"

_RC = {
    "font.family": "DejaVu Sans",
    "font.size": 9,
    "axes.titlesize": 10,
    "axes.labelsize": 9,
    "xtick.labelsize": 8,
    "ytick.labelsize": 8,
    "axes.grid": False,
    "figure.facecolor": "white",
    "axes.facecolor": "white",
    "savefig.facecolor": "white",
    "path.simplify": True,
    "svg.hashsalt": "semiscreen",
}


def _new_figure(width: float, height: float, *, layout: str | None = "constrained") -> "Figure":
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height), dpi=DPI, layout=layout)
    FigureCanvasAgg(fig)
    return fig


def _png(fig: "Figure") -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=DPI, metadata={"Software": None})
    return buf.getvalue()


def _require(frame: Any, columns: tuple[str, ...], what: str) -> None:
    import pandas as pd

    if not isinstance(frame, pd.DataFrame):
        raise InputError(f"{what}: expected a pandas DataFrame, got {type(frame).__name__}")
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise InputError(f"{what}: missing column(s) {', '.join(repr(c) for c in missing)}")


def caar_chart(path: "pd.DataFrame", *, title: str = "", confidence: str = "95% band") -> bytes:
    """CAAR path with its confidence band and a vertical line at day 0.

    Parameters
    ----------
    path : DataFrame
        ``rel_day, caar, ci_lower, ci_upper`` (fractions; shown in percent). Rows with a
        missing band are drawn without it.
    title : str
        Chart title (typically the event id).
    confidence : str
        Legend label of the band.

    Returns
    -------
    bytes
        A PNG image, 7 x 3.2 inches at :data:`DPI`.
    """
    import matplotlib
    import numpy as np
    import pandas as pd

    _require(path, REQUIRED_COLUMNS["caar_path"], f"CAAR path of {title or 'an event'}")
    frame = path.sort_values("rel_day")
    x = pd.to_numeric(frame["rel_day"], errors="coerce").to_numpy(dtype=float)
    y = pd.to_numeric(frame["caar"], errors="coerce").to_numpy(dtype=float) * 100
    lo = pd.to_numeric(frame["ci_lower"], errors="coerce").to_numpy(dtype=float) * 100
    hi = pd.to_numeric(frame["ci_upper"], errors="coerce").to_numpy(dtype=float) * 100
    with matplotlib.rc_context(_RC):
        # fixed margins and legend place: the chart is drawn once per event, and the constrained
        # layout / "best" legend search cost more than half of its drawing time
        fig = _new_figure(7.0, 3.2, layout=None)
        fig.subplots_adjust(left=0.09, right=0.98, bottom=0.15, top=0.9 if title else 0.97)
        ax = fig.add_subplot()
        band = np.isfinite(lo) & np.isfinite(hi)
        if band.any():
            ax.fill_between(x, lo, hi, where=band, color="#4c72b0", alpha=0.2, linewidth=0, label=confidence)
        if len(x):
            ax.plot(x, y, color="#1f3b73", marker="o", markersize=3, linewidth=1.5, label="CAAR")
        else:
            ax.text(0.5, 0.5, "no estimated event-firm pairs", ha="center", va="center", transform=ax.transAxes)
        ax.axvline(0, color="#c44e52", linewidth=1, linestyle="--", label="day 0")
        ax.axhline(0, color="#555555", linewidth=0.6)
        from matplotlib.ticker import MaxNLocator

        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.set_xlabel("trading day relative to the event (own exchange's sessions)")
        ax.set_ylabel("CAAR (%)")
        if title:
            ax.set_title(title)
        ax.legend(loc="upper left", frameon=False, fontsize=8)
        return _png(fig)


def _heatmap_matrix(exposure: "pd.DataFrame", value: str, top_n: int | None) -> "pd.DataFrame":
    import pandas as pd

    theme = theme_column(exposure)
    frame = exposure[["symbol", theme, value]].rename(columns={theme: "theme"})
    frame[value] = pd.to_numeric(frame[value], errors="coerce")
    frame["symbol"] = frame["symbol"].astype(str)
    frame["theme"] = frame["theme"].astype(str)
    if top_n is not None and top_n > 0:
        ranked = frame.dropna(subset=[value]).assign(_abs=lambda f: f[value].abs())
        ranked = ranked.sort_values(["theme", "_abs", "symbol"], ascending=[True, False, True], kind="mergesort")
        keep = set(ranked.groupby("theme", sort=True).head(top_n)["symbol"])
        frame = frame[frame["symbol"].isin(keep)]
    matrix = frame.pivot_table(index="symbol", columns="theme", values=value, aggfunc="mean", sort=True)
    if matrix.empty:
        return matrix
    # strongest securities first: by their largest absolute exposure over themes, ties by symbol
    strength = matrix.abs().max(axis=1).fillna(0.0)
    order = sorted(matrix.index, key=lambda s: (-float(strength[s]), s))
    return matrix.loc[order]


def exposure_heatmap(exposure: "pd.DataFrame", *, value: str = "composite", top_n: int | None = 15) -> bytes:
    """Theme-by-security exposure heatmap (securities as rows, themes as columns).

    Parameters
    ----------
    exposure : DataFrame
        Long form with ``symbol``, ``theme_id`` (or ``theme``) and ``value`` columns.
    value : str
        The column shown (default ``composite``).
    top_n : int or None
        Keep, for each theme, the ``top_n`` securities with the largest absolute exposure and
        show the union (``None`` keeps all). Rows are sorted by largest absolute exposure.

    Returns
    -------
    bytes
        A PNG image. The diverging colormap is centred at 0; cells are annotated with their
        value when there are at most 600 of them. The height grows with the number of rows
        (0.22 inch each), so ~60 securities stay readable.
    """
    import matplotlib
    import numpy as np

    _require(exposure, ("symbol", value), "exposure heatmap")
    if theme_column(exposure) is None:
        raise InputError("exposure heatmap: missing column 'theme_id' (or 'theme')")
    matrix = _heatmap_matrix(exposure, value, top_n)
    n_rows, n_cols = matrix.shape
    with matplotlib.rc_context(_RC):
        fig = _new_figure(max(6.0, 1.6 + 0.9 * n_cols), max(2.5, 1.6 + 0.22 * n_rows))
        ax = fig.add_subplot()
        if matrix.empty:
            ax.text(0.5, 0.5, "no exposure data", ha="center", va="center", transform=ax.transAxes)
            ax.set_axis_off()
            return _png(fig)
        data = matrix.to_numpy(dtype=float)
        finite = data[np.isfinite(data)]
        limit = float(np.max(np.abs(finite))) if finite.size else 1.0
        limit = limit if limit > 0 else 1.0
        cmap = matplotlib.colormaps["RdBu_r"].with_extremes(bad="#dddddd")
        image = ax.imshow(np.ma.masked_invalid(data), cmap=cmap, vmin=-limit, vmax=limit, aspect="auto",
                          interpolation="nearest")
        ax.set_xticks(range(n_cols), [str(c) for c in matrix.columns], rotation=35, ha="right")
        ax.set_yticks(range(n_rows), [str(s) for s in matrix.index])
        ax.tick_params(length=0)
        if data.size <= 600:
            for (i, j), v in np.ndenumerate(data):
                if np.isfinite(v):
                    ax.text(j, i, f"{v:.2f}", ha="center", va="center", fontsize=7,
                            color="white" if abs(v) > 0.6 * limit else "black")
        fig.colorbar(image, ax=ax, label=f"{value} (0 = neutral)", shrink=min(1.0, 8 / max(n_rows, 1) + 0.3))
        ax.set_title(f"Theme exposure ({value})")
        return _png(fig)


def screen_bar_chart(screen: "pd.DataFrame", *, title: str = "", value: str | None = None,
                     top_n: int = 25) -> bytes:
    """Horizontal bar chart of a screen's score, best first.

    Parameters
    ----------
    screen : DataFrame
        A ranked screen with a ``symbol`` column.
    title : str
        Chart title (typically the theme id).
    value : str, optional
        The column charted; default :func:`~screener.report.model.screen_value_column`.
    top_n : int
        Bars shown (the highest ``top_n`` values).

    Returns
    -------
    bytes
        A PNG image; positive bars blue, negative red.
    """
    import matplotlib
    import numpy as np
    import pandas as pd

    _require(screen, ("symbol",), f"screen {title!r}")
    value = value or screen_value_column(screen)
    _require(screen, ("symbol", value), f"screen {title!r}")
    frame = pd.DataFrame({"symbol": screen["symbol"].astype(str),
                          "value": pd.to_numeric(screen[value], errors="coerce")}).dropna(subset=["value"])
    frame = frame.sort_values(["value", "symbol"], ascending=[False, True], kind="mergesort").head(top_n)
    n = len(frame)
    with matplotlib.rc_context(_RC):
        height = max(2.0, 1.0 + 0.25 * n)
        fig = _new_figure(7.0, height, layout=None)  # fixed margins: constrained layout is slow
        longest = max((len(s) for s in frame["symbol"]), default=4)
        fig.subplots_adjust(left=min(0.45, (0.25 + 0.075 * longest) / 7.0), right=0.97,
                            bottom=0.55 / height, top=1 - 0.4 / height)
        ax = fig.add_subplot()
        if n == 0:
            ax.text(0.5, 0.5, "no scored securities", ha="center", va="center", transform=ax.transAxes)
            ax.set_axis_off()
            return _png(fig)
        y = np.arange(n)
        values = frame["value"].to_numpy(dtype=float)
        colors = np.where(values >= 0, "#4c72b0", "#c44e52")
        ax.barh(y, values, color=colors)
        ax.set_yticks(y, frame["symbol"].tolist())
        ax.invert_yaxis()
        ax.axvline(0, color="#555555", linewidth=0.6)
        ax.set_xlabel(value)
        if title:
            ax.set_title(title)
        return _png(fig)


def report_charts(data: "ReportData", *, workers: int | None = None) -> dict[str, bytes]:
    """Every chart of a report, keyed by its file name under ``charts/``.

    ``caar-<event>.png`` per event, ``exposure-heatmap.png`` when there is exposure data, and
    ``screen-<theme>.png`` per screen. Drawing dominates the report's run time, so on a machine
    with several cores the charts are drawn in worker processes (``workers``: default the number
    of CPUs, at most 4; ``1`` draws in this process). Each chart is deterministic, so the bytes do
    not depend on the number of workers.
    """
    from screener.report.model import HEATMAP_CHART, screen_chart_name

    jobs: list[tuple[str, Any, tuple, dict]] = []
    for ev in data.events:
        jobs.append((ev.chart_name, caar_chart, (ev.caar_path,), {"title": ev.event_id}))
    if data.exposure is not None and not data.exposure.empty:
        jobs.append((HEATMAP_CHART, exposure_heatmap, (data.exposure,), {"top_n": data.heatmap_top_n}))
    for theme, frame in data.screens.items():
        jobs.append((screen_chart_name(theme), screen_bar_chart, (frame,), {"title": str(theme)}))
    return dict(zip([j[0] for j in jobs], _draw_all(jobs, workers)))


def _draw_one(job: tuple[str, Any, tuple, dict]) -> bytes:
    _name, func, args, kwargs = job
    return func(*args, **kwargs)


def _draw_all(jobs: list, workers: int | None) -> list[bytes]:
    """Draw ``jobs`` in order, in worker processes where that pays (fork start only)."""
    import multiprocessing
    import os

    if workers is None:
        workers = min(4, os.cpu_count() or 1)
    if workers > 1 and len(jobs) >= 8 and "fork" in multiprocessing.get_all_start_methods():
        from concurrent.futures import ProcessPoolExecutor

        try:
            ctx = multiprocessing.get_context("fork")
            with ProcessPoolExecutor(max_workers=workers, mp_context=ctx) as pool:
                return list(pool.map(_draw_one, jobs, chunksize=max(1, len(jobs) // (4 * workers))))
        except (OSError, RuntimeError):  # no processes to be had here: draw in this one
            pass
    return [_draw_one(job) for job in jobs]
