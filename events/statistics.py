"""Event-study test statistics: one small pure function per test, each citing its paper.

Every test takes an :class:`events.arrays.EventArrays` (the estimation stage's output) and an
inclusive window ``(t1, t2)`` of relative days and returns one :class:`events.arrays.TestResult`.
A pair enters a window's test only if all its abnormal returns in that window are finite; the
number of pairs that entered is ``TestResult.n``.

Notation (see ``docs/methodology.md``): N pairs enter the test; L = t2 - t1 + 1 is the window
length; AR_it is pair i's abnormal return on relative day t; CAR_i its sum over the window and
CAAR the mean of the CAR_i; s_i the residual standard deviation (``arrays.sigma``); M_i the
number of estimation observations and M_i - k their residual degrees of freedom (``arrays.dof``);
V_i the forecast-error covariance of the event-window ARs (``arrays.evt_cov``), so that
``1' V_i 1`` over the window is the variance of CAR_i; SCAR_i = CAR_i / sqrt(1' V_i 1) the
standardized CAR (on one day, the standardized abnormal return SAR_it).

``arrays.compat == "estudy2"`` switches to the conventions of the R package estudy2
(Rudnytskyi, version 0.10.0) where they differ from the textbook; every difference is named in
the docstring of the test concerned and in ``docs/methodology.md``.

Use :func:`run_tests` for all tests on several windows: it shares the expensive pieces (ranks of
the whole series, the cross-correlation sums) between tests. Everything is vectorized over pairs
(no Python loop over pairs), so 100,000 pairs x (250 + 21) days run in seconds.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import cached_property
from typing import Any

import numpy as np
from scipy import special

from events.arrays import EventArrays, TestResult, WindowDays, ar_variances
from events.arrays import car_variance as _car_variance
from screener.errors import InputError

__all__ = [
    "PARAMETRIC",
    "NONPARAMETRIC",
    "available_tests",
    "run_tests",
    "cross_sectional_t",
    "brown_warner_1980",
    "brown_warner_1985",
    "lamb",
    "patell",
    "patell_kp",
    "bmp",
    "bmp_kp",
    "sign_test",
    "generalized_sign",
    "corrado_sign",
    "corrado_rank",
    "corrado_zivney_rank",
    "grank",
    "wilcoxon",
    "skewness_adjusted_t",
    "mean_offdiagonal_correlation",
    "overlap_weighted_correlation",
]

PARAMETRIC: list[str] = [
    "cross_sectional_t",
    "brown_warner_1980",
    "brown_warner_1985",
    "lamb",
    "patell",
    "patell_kp",
    "bmp",
    "bmp_kp",
]
"""Names of the parametric tests, in the order :func:`run_tests` reports them."""

NONPARAMETRIC: list[str] = [
    "sign_test",
    "generalized_sign",
    "corrado_sign",
    "corrado_rank",
    "corrado_zivney_rank",
    "grank",
    "wilcoxon",
]
"""Names of the nonparametric tests, in the order :func:`run_tests` reports them."""

_COMPAT_MODES = (None, "estudy2")
_EXACT_WILCOXON_MAX_N = 50


# ---------------------------------------------------------------------------------------------
# Shared preparation
# ---------------------------------------------------------------------------------------------


def _two_sided_normal(z: float) -> float:
    return float(2.0 * special.ndtr(-abs(z))) if np.isfinite(z) else float("nan")


def _two_sided_t(t: float, df: float) -> float:
    if not (np.isfinite(t) and np.isfinite(df) and df > 0):
        return float("nan")
    return float(2.0 * special.stdtr(df, -abs(t)))


def _exact_binomial_two_sided(successes: int, n: int, p: float) -> float:
    """Two-sided exact binomial p-value (the "minlike" rule of R's binom.test and scipy)."""
    if n == 0 or not (0.0 < p < 1.0):
        return float("nan")
    support = np.arange(n + 1)
    log_pmf = (
        special.gammaln(n + 1)
        - special.gammaln(support + 1)
        - special.gammaln(n - support + 1)
        + support * np.log(p)
        + (n - support) * np.log1p(-p)
    )
    pmf = np.exp(log_pmf)
    observed = pmf[successes]
    return float(min(1.0, pmf[pmf <= observed * (1 + 1e-7)].sum()))


def _sort_rows(values: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Row-wise ``argsort`` with missing values last (as ``+inf``): order, sorted values and
    the indices of the rows that contain ties among their finite values."""
    filled = np.where(np.isfinite(values), values, np.inf)
    order = np.argsort(filled, axis=1)
    sorted_values = np.take_along_axis(filled, order, axis=1)
    if values.shape[1] > 1:
        ties = (sorted_values[:, 1:] == sorted_values[:, :-1]) & np.isfinite(sorted_values[:, 1:])
        tie_rows = np.flatnonzero(ties.any(axis=1))
    else:
        tie_rows = np.zeros(0, dtype=np.int64)
    return order, sorted_values, tie_rows


def _tied_ranks_sorted(sorted_values: np.ndarray) -> np.ndarray:
    """Average ranks (1-based) of already sorted rows, ties averaged."""
    n_cols = sorted_values.shape[1]
    start = np.ones(sorted_values.shape, dtype=bool)
    start[:, 1:] = sorted_values[:, 1:] != sorted_values[:, :-1]
    end = np.ones(sorted_values.shape, dtype=bool)
    end[:, :-1] = start[:, 1:]
    pos = np.broadcast_to(np.arange(n_cols), sorted_values.shape)
    first = np.maximum.accumulate(np.where(start, pos, 0), axis=1)
    last = np.minimum.accumulate(np.where(end, pos, n_cols - 1)[:, ::-1], axis=1)[:, ::-1]
    return (first + last) / 2.0 + 1.0


def _ranks_from_sort(
    values: np.ndarray, order: np.ndarray, sorted_values: np.ndarray, tie_rows: np.ndarray
) -> np.ndarray:
    """Average ranks within rows (``NaN`` where ``values`` is missing) from a row sort."""
    n_rows, n_cols = values.shape
    ranks = np.empty(values.shape)
    np.put_along_axis(
        ranks, order, np.broadcast_to(np.arange(1.0, n_cols + 1.0), values.shape), axis=1
    )
    if tie_rows.size:
        tied = np.empty((tie_rows.size, n_cols))
        averaged = _tied_ranks_sorted(sorted_values[tie_rows])
        np.put_along_axis(tied, order[tie_rows], averaged, axis=1)
        ranks[tie_rows] = tied
    ranks[~np.isfinite(values)] = np.nan
    return ranks


def _row_ranks(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Average ranks (1-based) within each row, ``NaN`` kept; also the row-sorted values."""
    order, sorted_values, tie_rows = _sort_rows(values)
    return _ranks_from_sort(values, order, sorted_values, tie_rows), sorted_values


def _row_medians(sorted_values: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """Median of each row from its sorted finite values (``counts`` of them, ``inf`` after)."""
    rows = np.arange(sorted_values.shape[0])
    lo = np.clip((counts - 1) // 2, 0, None)
    hi = np.clip(counts // 2, 0, None)
    with np.errstate(invalid="ignore"):
        med = (sorted_values[rows, lo] + sorted_values[rows, hi]) / 2.0
    med[counts == 0] = np.nan
    return med


_SERIES_KINDS = ("rank", "zivney", "sign")
_BLOCK_ROWS = 4096
# threads for block-wise work (the cores this process may run on, at most 4)
_WORKERS = max(1, min(4, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1))


def _whole_series_block(
    est_ar: np.ndarray,
    evt_ar: np.ndarray,
    est_ranks_out: np.ndarray,
    counts_out: np.ndarray,
    event_u_out: dict[str, np.ndarray],
) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """Rank-test pieces of a block of pairs; writes the per-pair outputs in place.

    Returns the block's number of pairs present on each day of the whole series and, for each
    kind of Corrado-type statistic, the block's sum over pairs on each day.
    """
    le = est_ar.shape[1]
    full = np.concatenate([est_ar, evt_ar], axis=1)
    finite = np.isfinite(full)
    counts = finite.sum(axis=1)
    counts_out[:] = counts
    day_counts = finite.sum(axis=0)
    order, sorted_values, tie_rows = _sort_rows(full)
    median = _row_medians(sorted_values, counts)
    ranks = _ranks_from_sort(full, order, sorted_values, tie_rows)
    del sorted_values
    # ranks within the estimation window: count the estimation columns in sorted order
    ordinal = np.cumsum(order < le, axis=1, dtype=np.int32)
    est_ranks = np.empty(order.shape)
    np.put_along_axis(est_ranks, order, ordinal, axis=1)
    del order, ordinal
    est_ranks = est_ranks[:, :le]
    if tie_rows.size:
        est_ranks[tie_rows] = _row_ranks(est_ar[tie_rows])[0]
    est_ranks[~finite[:, :le]] = 0.0
    est_ranks_out[:] = est_ranks
    del est_ranks

    ranks[~finite] = 0.0
    c = counts.astype(float)
    finite_f = finite.astype(np.float64)
    rank_sums = ranks.sum(axis=0)
    sums = {
        "rank": rank_sums - ((c + 1.0) / 2.0) @ finite_f,
        "zivney": (1.0 / (c + 1.0)) @ ranks - 0.5 * day_counts,
    }
    evt_ranks = ranks[:, le:]
    evt_finite = finite[:, le:]
    event_u_out["rank"][:] = np.where(evt_finite, evt_ranks - ((c + 1.0) / 2.0)[:, None], np.nan)
    event_u_out["zivney"][:] = np.where(evt_finite, evt_ranks / (c + 1.0)[:, None] - 0.5, np.nan)
    del ranks, finite_f
    with np.errstate(invalid="ignore"):
        above = full > median[:, None]
        below = full < median[:, None]
    sums["sign"] = above.sum(axis=0).astype(float) - below.sum(axis=0)
    event_u_out["sign"][:] = np.where(
        evt_finite, above[:, le:].astype(float) - below[:, le:], np.nan
    )
    return day_counts, sums


@dataclass(frozen=True)
class _Window:
    """The pairs entering one window's tests and their window quantities."""

    window: tuple[int, int]
    columns: slice  # columns of evt_ar
    rows: np.ndarray  # indices of the pairs entering
    length: int
    ar: np.ndarray  # (n, L) abnormal returns of the entering pairs
    car: np.ndarray  # (n,)
    car_variance: np.ndarray  # (n,) 1' V_i 1 over the window

    @property
    def n(self) -> int:
        return int(self.rows.size)

    @cached_property
    def scar(self) -> np.ndarray:
        with np.errstate(divide="ignore", invalid="ignore"):
            return self.car / np.sqrt(self.car_variance)


class _Prepared:
    """Lazily computed pieces shared by several tests on the same :class:`EventArrays`."""

    def __init__(self, arrays: EventArrays):
        _check_arrays(arrays)
        self.arrays = arrays
        self.compat: str | None = arrays.compat
        self.n_pairs = arrays.n_pairs
        self.n_est_cols = int(arrays.est_ar.shape[1])
        self._windows: dict[tuple[int, int], _Window] = {}
        self._series: dict[str, tuple[np.ndarray, float]] = {}
        self._cache: dict[tuple[Any, ...], Any] = {}

    # --- windows --------------------------------------------------------------------------
    def window(self, window: tuple[int, int]) -> _Window:
        key = (int(window[0]), int(window[1]))
        if key not in self._windows:
            a = self.arrays
            try:
                cols = a.window_slice(key)
            except ValueError as exc:
                raise InputError(f"test window {key}: {exc}") from None
            ar_all = a.evt_ar[:, cols]
            rows = np.flatnonzero(np.isfinite(ar_all).all(axis=1))
            ar = ar_all[rows]
            car_variance = _car_variance(a.evt_cov, cols, rows)
            self._windows[key] = _Window(
                key, cols, rows, cols.stop - cols.start, ar, ar.sum(axis=1), car_variance
            )
        return self._windows[key]

    def base_extra(self, w: _Window) -> dict[str, Any]:
        extra: dict[str, Any] = {}
        if self.compat == "estudy2" and w.length > 1 and w.n:
            # estudy2's CAR tests print the mean of the daily AARs as "car_mean" (issue #12).
            extra["car_mean"] = float(w.ar.mean(axis=0).mean())
        return extra

    # --- estimation window ----------------------------------------------------------------
    @cached_property
    def est_finite(self) -> np.ndarray:
        return np.isfinite(self.arrays.est_ar)

    def _row_blocks(self, rows: np.ndarray | None = None) -> Iterator[slice | np.ndarray]:
        """All pairs (``rows=None``) or ``rows``, in blocks of at most ``_BLOCK_ROWS`` rows.

        Working block by block keeps the temporaries of the (N x T) estimation arrays small.
        """
        if rows is None:
            for i in range(0, self.n_pairs, _BLOCK_ROWS):
                yield slice(i, min(i + _BLOCK_ROWS, self.n_pairs))
        else:
            for i in range(0, len(rows), _BLOCK_ROWS):
                yield rows[i:i + _BLOCK_ROWS]

    def _est_column_sums(self, rows: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Per estimation-window column: sum of the finite ARs of ``rows`` and their number."""
        sums = np.zeros(self.n_est_cols)
        counts = np.zeros(self.n_est_cols, dtype=np.int64)
        for r in self._row_blocks(rows):
            finite = self.est_finite[r]
            sums += np.where(finite, self.arrays.est_ar[r], 0.0).sum(axis=0)
            counts += finite.sum(axis=0)
        return sums, counts

    @cached_property
    def _est_column_totals(self) -> tuple[np.ndarray, np.ndarray]:
        return self._est_column_sums()

    def est_aar_sd(self, rows: np.ndarray) -> tuple[float, int]:
        """Time-series sd (divisor T-1) of the estimation-period AARs of ``rows``; T.

        Cached per set of rows; a subset that leaves out few pairs subtracts them from the
        all-pairs column totals.
        """
        key = ("aar_sd", rows.size, hash(rows.tobytes()))
        if key not in self._cache:
            member = np.zeros(self.n_pairs, dtype=bool)
            member[rows] = True
            left_out = np.flatnonzero(~member)
            if left_out.size <= rows.size:
                sums, counts = self._est_column_totals
                out_sums, out_counts = self._est_column_sums(left_out)
                sums, counts = sums - out_sums, counts - out_counts
            else:
                sums, counts = self._est_column_sums(rows)
            aar = sums[counts > 0] / counts[counts > 0]
            sd = float(np.std(aar, ddof=1)) if aar.size >= 2 else float("nan")
            self._cache[key] = (sd, int(aar.size))
        return self._cache[key]

    @cached_property
    def est_positive_share(self) -> tuple[np.ndarray, np.ndarray]:
        """Per pair: number of positive estimation-window ARs and of valid ones."""
        return (self.arrays.est_ar > 0).sum(axis=1), self.est_finite.sum(axis=1)  # NaN > 0 is False

    @cached_property
    def evt_variances(self) -> np.ndarray:
        """Diagonal of V_i: forecast-error-corrected variance of each event-window AR."""
        return ar_variances(self.arrays.evt_cov)

    # --- whole series (estimation + event window) -----------------------------------------
    @cached_property
    def _whole_series(self) -> dict[str, Any]:
        """One row-wise sort of every pair's whole series and what the rank tests keep of it.

        Rows are processed in blocks, in parallel threads for large N (numpy's sorts release
        the GIL). For the Corrado-type statistics u (see :meth:`series`) only the
        event-window columns (N x L) and the daily cross-sectional sums are kept, and for
        GRANK the ranks within the estimation window (from the same sort).
        """
        a = self.arrays
        n, le, L = self.n_pairs, self.n_est_cols, a.evt_ar.shape[1]
        est_ranks = np.zeros((n, le))
        event_u = {kind: np.empty((n, L)) for kind in _SERIES_KINDS}
        counts = np.zeros(n, dtype=np.int64)
        blocks = [slice(i, min(i + _BLOCK_ROWS, n)) for i in range(0, n, _BLOCK_ROWS)]

        def run(rows: slice) -> tuple[np.ndarray, dict[str, np.ndarray]]:
            return _whole_series_block(a.est_ar[rows], a.evt_ar[rows], est_ranks[rows],
                                       counts[rows], {k: v[rows] for k, v in event_u.items()})

        if len(blocks) > 1 and _WORKERS > 1:
            with ThreadPoolExecutor(max_workers=_WORKERS) as pool:
                parts = list(pool.map(run, blocks))
        else:
            parts = [run(rows) for rows in blocks]
        day_counts = np.sum([part[0] for part in parts], axis=0).astype(float)
        t_bar = float(counts.mean()) if n else float("nan")
        present = day_counts > 0
        out: dict[str, Any] = {"est_ranks_filled": est_ranks}
        for kind in _SERIES_KINDS:
            sums = np.sum([part[1][kind] for part in parts], axis=0)
            if self.compat == "estudy2":
                # estudy2: rowMeans(x) * ncol(x), i.e. the mean over the pairs present times N
                with np.errstate(invalid="ignore", divide="ignore"):
                    sums = sums / day_counts * n
            divisor = day_counts if kind == "rank" else np.sqrt(day_counts)
            daily = sums[present] / divisor[present]
            sd = float(np.sqrt((daily**2).sum() / t_bar)) if t_bar > 0 else float("nan")
            out[kind] = (event_u[kind], sd)
        return out

    def series(self, kind: str) -> tuple[np.ndarray, float]:
        """Event-window part (N x L) of a Corrado-type statistic and its standard deviation.

        ``"rank"``: U_it = K_it - (T_i + 1)/2 (Corrado 1989), daily mean over pairs;
        ``"zivney"``: K_it/(T_i + 1) - 1/2 (Corrado and Zivney 1992), daily sum / sqrt(N_t);
        ``"sign"``: sign(AR_it - median_i) (Corrado and Zivney 1992), daily sum / sqrt(N_t).
        The standard deviation is sqrt((1/T̄) sum_t daily_t^2) over every day of the series.
        """
        return self._whole_series[kind]

    # --- estimation-window ranks for GRANK -------------------------------------------------
    @cached_property
    def est_sar(self) -> np.ndarray:
        with np.errstate(divide="ignore", invalid="ignore"):
            return self.arrays.est_ar / self.arrays.sigma[:, None]

    @property
    def est_ranks_filled(self) -> np.ndarray:
        """Ranks within each pair's estimation window, 0 where the AR is missing."""
        return self._whole_series["est_ranks_filled"]

    def scratch(self, shape: tuple[int, ...], purpose: str = "") -> np.ndarray:
        """A reusable float buffer per shape and purpose (GRANK's comparison matrix, the
        group sums of a subset of pairs), kept for the run."""
        buf = self._cache.get(("scratch", purpose, shape))
        if buf is None:
            buf = self._cache[("scratch", purpose, shape)] = np.empty(shape)
        return buf

    # --- cross-correlation of estimation residuals ----------------------------------------
    # The unit residuals z (each pair's estimation residuals centred and scaled to unit sum of
    # squares) form an N x T array as large as est_ar; they are recomputed block by block from
    # est_ar (row by row, so always the same numbers) rather than stored.
    @cached_property
    def _day_range(self) -> tuple[int, int]:
        """First and last calendar day of the estimation windows (0, -1 when there is none)."""
        first, last = None, None
        for r in self._row_blocks():
            days = np.asarray(self.arrays.est_day[r])
            has = days >= 0
            if has.any():
                lo = int(np.min(days, where=has, initial=np.iinfo(days.dtype).max))
                hi = int(days.max())
                first = lo if first is None else min(first, lo)
                last = hi if last is None else max(last, hi)
        return (0, -1) if first is None else (first, last)

    @property
    def _first_day(self) -> int:
        return self._day_range[0]

    @cached_property
    def _calendar_columns(self) -> tuple[np.ndarray, int]:
        """Column of each calendar day (since :attr:`_first_day`) on a compressed axis of the
        days that can carry a residual (-1 for the others: weekends, holidays), and their
        number. From the day table when the engine gives one (the session dates inside the
        windows' range), else from the estimation dates themselves."""
        first, last = self._day_range
        n_days = max(last - first + 1, 1)
        used = np.zeros(n_days, dtype=bool)
        days = self.arrays.est_day
        if isinstance(days, WindowDays):
            table = days.table
            used[table[(table >= first) & (table <= last)] - first] = True
        else:
            for r in self._row_blocks():
                block = np.asarray(days[r])
                used[block[block >= 0] - first] = True
        column = np.where(used, np.cumsum(used) - 1, -1)
        return column, int(used.sum())

    def _unit_block(self, r: slice | np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Unit residuals z of rows ``r`` (0 where there is none and on unusable pairs), the
        calendar index of each entry (days since :attr:`_first_day`; 0 where none) and which
        pairs are usable (at least 3 residuals, not all equal)."""
        a = self.arrays
        days = np.asarray(a.est_day[r])
        valid = self.est_finite[r] & (days >= 0)
        invalid = ~valid
        counts = valid.sum(axis=1)
        z = np.where(valid, a.est_ar[r], 0.0)
        with np.errstate(invalid="ignore", divide="ignore"):
            z -= (z.sum(axis=1) / counts)[:, None]
            np.copyto(z, 0.0, where=invalid)
            norm = np.sqrt(np.einsum("ij,ij->i", z, z))
            z /= norm[:, None]
        usable = (counts >= 3) & (norm > 0) & np.isfinite(norm)
        z[~usable] = 0.0
        index = days.astype(np.int64)
        index -= self._first_day
        np.copyto(index, 0, where=invalid)
        return z, index, usable

    @cached_property
    def _group_residual_pass(self) -> dict[str, Any]:
        """One pass over the unit residuals: sums per (group of pairs, calendar day).

        Groups are the pairs with identical event-window dates (see
        :meth:`_group_residual_sums`); the date sums over all pairs are the column sums.
        Blocks of pairs sorted by group each fill a contiguous range of the sums; their
        residuals are computed in parallel threads.
        """
        a = self.arrays
        if self.n_pairs:
            dates = np.ascontiguousarray(a.evt_day, dtype=np.int64)
            rows_as_bytes = dates.view(np.dtype((np.void, 8 * dates.shape[1]))).ravel()
            _, first, group = np.unique(rows_as_bytes, return_index=True, return_inverse=True)
            group_dates = dates[first]
            group = np.asarray(group).reshape(-1)
        else:
            group_dates = np.zeros((0, a.evt_day.shape[1]), dtype=np.int64)
            group = np.zeros(0, dtype=np.int64)
        n_groups = len(group_dates)
        column, n_used = self._calendar_columns
        usable = np.zeros(self.n_pairs, dtype=bool)
        sums = np.zeros(n_groups * n_used)
        order = np.argsort(group, kind="stable")

        def block(r: np.ndarray) -> tuple[int, np.ndarray]:
            # where a pair has no residual (and on every row of an unusable pair) z is 0:
            # those entries add nothing whatever their column
            z, index, ok = self._unit_block(r)
            usable[r] = ok
            g0 = int(group[r[0]])
            key = column[index]
            key += ((group[r] - g0) * n_used)[:, None]
            return g0, np.bincount(key.ravel(), weights=z.ravel())

        blocks = list(self._row_blocks(order))
        self.est_finite  # (computed once here, not by two threads at once)
        if len(blocks) > 1 and _WORKERS > 1:
            with ThreadPoolExecutor(max_workers=2) as pool:  # (bincount holds the GIL)
                parts = pool.map(block, blocks)
                for g0, part in parts:
                    sums[g0 * n_used:g0 * n_used + part.size] += part
        else:
            for r in blocks:
                g0, part = block(r)
                sums[g0 * n_used:g0 * n_used + part.size] += part
        sums = sums.reshape(n_groups, n_used)
        return {"group": group, "group_dates": group_dates, "usable": usable, "date_sums": sums.sum(axis=0),
                "column": column, "n_used": n_used, "sums": sums}

    @property
    def _usable(self) -> np.ndarray:
        """Pairs whose unit residuals enter the correlations."""
        return self._group_residual_pass["usable"]

    def _date_sums(self, rows: np.ndarray) -> np.ndarray:
        """sum_i z_i on each calendar day over ``rows``."""
        column, n_used = self._calendar_columns
        sums = np.zeros(n_used)
        for r in self._row_blocks(rows):
            z, index, _ = self._unit_block(r)
            sums += np.bincount(column[index].ravel(), weights=z.ravel(), minlength=n_used)
        return sums

    @cached_property
    def _date_sums_all(self) -> np.ndarray:
        return self._group_residual_pass["date_sums"]

    def r_bar(self, rows: np.ndarray) -> tuple[float, int]:
        """Mean off-diagonal correlation of the estimation residuals of ``rows`` (O(N T)).

        The date sums of all pairs are computed once; a subset subtracts the few pairs it
        leaves out (or sums its own pairs when it leaves out most).
        """
        usable = self._usable
        member = np.zeros(self.n_pairs, dtype=bool)
        member[rows] = True
        member &= usable
        n = int(member.sum())
        if n < 2:
            return float("nan"), n
        left_out = np.flatnonzero(usable & ~member)
        if left_out.size <= n:
            sums = self._date_sums_all - self._date_sums(left_out) if left_out.size else self._date_sums_all
        else:
            sums = self._date_sums(np.flatnonzero(member))
        # each usable pair's z has unit sum of squares: the diagonal adds up to n
        return (float(sums @ sums) - n) / (n * (n - 1)), n

    @cached_property
    def _group_residual_sums(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, int]:
        """Unit residuals summed over groups of pairs with identical event-window dates.

        Returns the group of each pair, the event-window dates of each group (G x L, ``-1``
        where none), the group sums S_g on a compressed calendar axis (G x T_u, the session
        dates of the windows' range, see :attr:`_calendar_columns`), the column of each
        calendar date on that axis (``-1`` for a date without sessions) and T_u. Pairs with the same day-0 date on the same exchange
        calendar share a group; every test window is a set of columns of these dates.
        """
        p = self._group_residual_pass
        return p["group"], p["group_dates"], p["sums"], p["column"], p["n_used"]

    def _add_group_sums(self, out: np.ndarray, rows: np.ndarray, sign: float, group: np.ndarray,
                        column: np.ndarray) -> None:
        """Add ``sign`` times the unit residuals of ``rows`` to the group sums ``out``
        (G x n_columns, on the kept dates), in place."""
        flat = out.reshape(-1)  # (a view: out is contiguous)
        n_columns = out.shape[1]
        for r in self._row_blocks(rows):
            z, index, _ = self._unit_block(r)
            col = column[index]
            kept = col >= 0  # every group sums to zero on a dropped date
            key = group[r, None] * n_columns + col
            np.add.at(flat, key[kept], z[kept] if sign > 0 else -z[kept])

    def r_bar_overlap(self, rows: np.ndarray, w: _Window) -> dict[str, float]:
        """Overlap-weighted mean correlation of the SCARs of ``rows`` on window ``w``.

        With O_ij the number of calendar dates the two windows share and r_ij the
        calendar-aligned residual correlation, Cov(SCAR_i, SCAR_j) ~ r_ij O_ij / L, and

            r_w = sum_{i != j} r_ij O_ij / (L N (N - 1))
                = (sum_d ||sum_{i: d in D_i} z_i||^2 - sum_i |D_i|) / (L N (N - 1)),

        the outer sum over the distinct dates d of the windows (D_i the dates of pair i's
        window). Equal to :meth:`r_bar` when all windows cover the same dates. Cost: one pass
        over the residuals (O(N T)) plus G L T_u for G groups of pairs with identical dates.
        """
        key = ("r_bar_overlap", w.window, rows.size, hash(rows.tobytes()))
        if key in self._cache:
            return self._cache[key]
        from scipy import sparse

        usable = self._usable
        member = np.zeros(self.n_pairs, dtype=bool)
        member[rows] = True
        member &= usable
        n = int(member.sum())
        out = {"r_bar": float("nan"), "r_bar_classic": float("nan"), "window_overlap": float("nan")}
        if n < 2:
            self._cache[key] = out
            return out
        group, group_dates, sums_all, column, n_used = self._group_residual_sums
        n_groups = len(group_dates)
        left_out = np.flatnonzero(usable & ~member)
        if left_out.size == 0:
            sums = sums_all
        else:
            # (a reused buffer: a fresh array this size each time costs more than the sums)
            sums = self.scratch(sums_all.shape, "group_sums")
            if left_out.size <= n:
                np.copyto(sums, sums_all)
                self._add_group_sums(sums, left_out, -1.0, group, column)
            else:
                sums.fill(0.0)
                self._add_group_sums(sums, np.flatnonzero(member), 1.0, group, column)
        members_per_group = np.bincount(group[member], minlength=n_groups).astype(float)
        dates = group_dates[:, w.columns]
        has_date = dates >= 0
        g_of, l_of = np.nonzero(has_date & (members_per_group[:, None] > 0))
        distinct, d_of = np.unique(dates[g_of, l_of], return_inverse=True)
        incidence = sparse.csr_matrix(
            (np.ones(g_of.size), (np.asarray(d_of).reshape(-1), g_of)),
            shape=(distinct.size, n_groups),
        )
        total = 0.0
        step = max(1, 4_000_000 // n_used)
        for start in range(0, distinct.size, step):
            block = incidence[start:start + step] @ sums
            total += float(np.einsum("ij,ij->", block, block))
        date_counts = incidence @ members_per_group  # pairs whose window holds date d
        diag = float((has_date.sum(axis=1) * members_per_group).sum())
        scale = w.length * n * (n - 1)
        out = {
            "r_bar": (total - diag) / scale,
            "r_bar_classic": self.r_bar(np.flatnonzero(member))[0],
            "window_overlap": (float(date_counts @ date_counts) - diag) / scale,
        }
        self._cache[key] = out
        return out


def _check_arrays(arrays: EventArrays) -> None:
    if not isinstance(arrays, EventArrays):
        raise InputError(f"expected an events.arrays.EventArrays, got {type(arrays).__name__}")
    if arrays.compat not in _COMPAT_MODES:
        raise InputError(
            f"unknown compat mode {arrays.compat!r}: use None (textbook) or 'estudy2'"
        )
    n, le = arrays.est_ar.shape
    L = arrays.evt_ar.shape[1] if arrays.evt_ar.ndim == 2 else -1
    expected = {
        "est_rel": (le,),
        "est_day": (n, le),
        "evt_ar": (n, L),
        "evt_cov": (n, L, L),
        "rel_days": (L,),
        "evt_day": (n, L),
        "sigma": (n,),
        "n_est": (n,),
        "dof": (n,),
    }
    bad = [
        f"{name} has shape {np.shape(getattr(arrays, name))}, expected {shape}"
        for name, shape in expected.items()
        if np.shape(getattr(arrays, name)) != shape
    ]
    if bad:
        raise InputError("EventArrays are inconsistent: " + "; ".join(bad))


def _prepare(arrays: EventArrays | _Prepared) -> _Prepared:
    return arrays if isinstance(arrays, _Prepared) else _Prepared(arrays)


def _result(
    test: str,
    w: _Window,
    estimate: float,
    statistic: float,
    *,
    df: float | None = None,
    pvalue: float | None = None,
    n: int | None = None,
    extra: dict[str, Any] | None = None,
) -> TestResult:
    statistic = float(statistic)
    if pvalue is None:
        pvalue = _two_sided_normal(statistic) if df is None else _two_sided_t(statistic, df)
    return TestResult(
        test=test,
        window=w.window,
        estimate=float(estimate),
        statistic=statistic,
        pvalue=float(pvalue),
        n=w.n if n is None else int(n),
        df=None if df is None or df < 0 else float(df),  # no pairs: no degrees of freedom, not -1
        extra=extra or {},
    )


def _caar(w: _Window) -> float:
    return float(w.car.mean()) if w.n else float("nan")


# ---------------------------------------------------------------------------------------------
# Parametric tests
# ---------------------------------------------------------------------------------------------


def cross_sectional_t(arrays: EventArrays, window: tuple[int, int]) -> TestResult:
    r"""Cross-sectional t test of the CAAR.

    .. math:: t = \frac{\overline{CAR}}{s_{CAR} / \sqrt{N}}, \qquad
              s_{CAR}^2 = \frac{1}{N-1} \sum_i (CAR_i - \overline{CAR})^2

    Assumes CARs independent across pairs and identically distributed (robust to
    event-induced variance, not to cross-correlation). Reference distribution: Student t with
    N - 1 degrees of freedom. On one day this is estudy2's ``t_test``.

    References
    ----------
    Brown, S. J. and Warner, J. B. (1985). Using daily stock returns: The case of event
    studies. Journal of Financial Economics, 14(1), 3-31.
    MacKinlay, A. C. (1997). Event studies in economics and finance. Journal of Economic
    Literature, 35(1), 13-39.
    """
    return _cross_sectional_t(_prepare(arrays), window)


def _cross_sectional_t(p: _Prepared, window: tuple[int, int]) -> TestResult:
    w = p.window(window)
    n = w.n
    if n < 2:
        return _result("cross_sectional_t", w, _caar(w), np.nan, df=n - 1, extra=p.base_extra(w))
    sd = float(np.std(w.car, ddof=1))
    t = _caar(w) / (sd / np.sqrt(n)) if sd > 0 else np.nan
    return _result("cross_sectional_t", w, _caar(w), t, df=n - 1, extra=p.base_extra(w))


def brown_warner_1980(arrays: EventArrays, window: tuple[int, int]) -> TestResult:
    r"""Brown and Warner (1980) test with cross-sectional independence.

    .. math:: t = \frac{\overline{CAR}}{\sqrt{L \sum_i s_i^2} / N}

    The variance of the portfolio abnormal return is the average of the pairs' estimation
    variances divided by N (pairs assumed independent, no event-induced variance; the
    forecast-error correction is ignored). Reference distribution: Student t with
    mean(M_i - k) degrees of freedom (estudy2: mean(M_i) - 1). estudy2's ``brown_warner_1980``
    uses the sample variance of each pair's estimation ARs (divisor M_i - 1), which is
    ``sigma**2`` in estudy2 mode.

    References
    ----------
    Brown, S. J. and Warner, J. B. (1980). Measuring security price performance. Journal of
    Financial Economics, 8(3), 205-258.
    """
    return _brown_warner_1980(_prepare(arrays), window)


def _brown_warner_1980(p: _Prepared, window: tuple[int, int]) -> TestResult:
    w = p.window(window)
    a = p.arrays
    extra = p.base_extra(w)
    if w.n == 0:
        return _result("brown_warner_1980", w, np.nan, np.nan, df=np.nan, extra=extra)
    sigma = a.sigma[w.rows]
    sd = np.sqrt(w.length * np.sum(sigma**2)) / w.n
    if p.compat == "estudy2":
        df = float(np.mean(a.n_est[w.rows])) - 1.0
    else:
        df = float(np.mean(a.dof[w.rows]))
    extra["sd"] = float(sd)
    return _result("brown_warner_1980", w, _caar(w), _caar(w) / sd, df=df, extra=extra)


def brown_warner_1985(arrays: EventArrays, window: tuple[int, int]) -> TestResult:
    r"""Brown and Warner (1985) test with the crude dependence adjustment.

    .. math:: t = \frac{\overline{CAR}}{\sqrt{L}\, S(\overline{AR})}, \qquad
              S^2(\overline{AR}) = \frac{1}{T-1} \sum_{\tau}
              (\overline{AR}_\tau - \bar{\bar{AR}})^2

    where :math:`\overline{AR}_\tau` is the mean estimation-period AR (over the pairs
    entering the test) on relative estimation day tau and T the number of such days. Using the
    time-series variability of the portfolio return allows for cross-sectional dependence;
    assumes no event-induced variance. Reference distribution: Student t with T - 1 degrees of
    freedom (estudy2: mean(M_i) - 1).

    References
    ----------
    Brown, S. J. and Warner, J. B. (1980). Measuring security price performance. Journal of
    Financial Economics, 8(3), 205-258.
    Brown, S. J. and Warner, J. B. (1985). Using daily stock returns: The case of event
    studies. Journal of Financial Economics, 14(1), 3-31.
    """
    return _brown_warner_1985(_prepare(arrays), window)


def _brown_warner_1985(p: _Prepared, window: tuple[int, int]) -> TestResult:
    w = p.window(window)
    extra = p.base_extra(w)
    sd, days = p.est_aar_sd(w.rows)
    if p.compat == "estudy2":
        df = float(np.mean(p.arrays.n_est[w.rows])) - 1.0 if w.n else np.nan
    else:
        df = float(days - 1)
    extra["sd_aar"] = sd
    stat = _caar(w) / (np.sqrt(w.length) * sd) if w.n and sd > 0 else np.nan
    return _result("brown_warner_1985", w, _caar(w), stat, df=df, extra=extra)


def lamb(arrays: EventArrays, window: tuple[int, int]) -> TestResult:
    r"""Lamb (1995) test: crude dependence adjustment with a forecast-error correction.

    .. math:: z = \frac{\overline{CAR}}{S(\overline{AR}) \sqrt{\sum_{t=t_1}^{t_2} f_t}},
              \qquad f_t = 1 + \frac{1}{N}\sum_i h_{it}

    with :math:`S(\overline{AR})` as in :func:`brown_warner_1985` and
    :math:`h_{it} = V_{i,tt}/s_i^2 - 1` the leverage of event day t (for the market model
    :math:`1/M_i + (R_{mt} - \bar R_m)^2 / \sum (R_{m\tau} - \bar R_m)^2`). estudy2 uses
    :math:`f_t = 1 + 1/\bar M + (R_{mt} - \bar R_m)^2 / SS_m` with the mean of the M_i, which
    is what estudy2 mode computes. Reference distribution: standard normal.

    References
    ----------
    Lamb, R. P. (1995). An exposure-based analysis of property-liability insurer stock values
    around Hurricane Andrew. Journal of Risk and Insurance, 62(1), 111-123.
    """
    return _lamb(_prepare(arrays), window)


def _lamb(p: _Prepared, window: tuple[int, int]) -> TestResult:
    w = p.window(window)
    a = p.arrays
    extra = p.base_extra(w)
    sd, _ = p.est_aar_sd(w.rows)
    if w.n == 0 or not sd > 0:
        return _result("lamb", w, _caar(w), np.nan, extra=extra)
    sigma2 = a.sigma[w.rows] ** 2
    diag = p.evt_variances[w.rows, w.columns]
    leverage = diag / sigma2[:, None] - 1.0
    if p.compat == "estudy2":
        inv_m = 1.0 / a.n_est[w.rows].astype(float)
        factor = 1.0 + 1.0 / np.mean(a.n_est[w.rows]) + (leverage - inv_m[:, None]).mean(axis=0)
    else:
        factor = 1.0 + leverage.mean(axis=0)
    stat = _caar(w) / (sd * np.sqrt(factor.sum()))
    extra["sd_aar"] = sd
    return _result("lamb", w, _caar(w), stat, extra=extra)


def _patell_parts(p: _Prepared, w: _Window) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """SCARs, their null variances and the positions (in ``w.rows``) of usable pairs."""
    a = p.arrays
    if p.compat == "estudy2":
        m = a.n_est[w.rows].astype(float)
        with np.errstate(divide="ignore", invalid="ignore"):
            var = (m - 2.0) / (m - 4.0)
        ok = m > 4
    else:
        dof = a.dof[w.rows].astype(float)
        with np.errstate(divide="ignore", invalid="ignore"):
            var = dof / (dof - 2.0)
        ok = dof > 2
    ok &= np.isfinite(w.scar)
    return w.scar[ok], var[ok], np.flatnonzero(ok)


def patell(arrays: EventArrays, window: tuple[int, int]) -> TestResult:
    r"""Patell (1976) standardized residual test.

    .. math:: SCAR_i = \frac{CAR_i}{\sqrt{1' V_i 1}}, \qquad
              z = \frac{\sum_i SCAR_i}{\sqrt{\sum_i (M_i-k)/(M_i-k-2)}}

    On one day SCAR_i is the SAR with forecast-error-corrected variance V_i,tt. Under the null
    each SCAR_i is Student t with M_i - k degrees of freedom, of variance
    (M_i - k)/(M_i - k - 2); pairs with M_i - k <= 2 are left out. Assumes cross-sectional
    independence and no event-induced variance. Reference distribution: standard normal.
    estudy2 uses (M_i - 2)/(M_i - 4) whatever the model.

    References
    ----------
    Patell, J. M. (1976). Corporate forecasts of earnings per share and stock price behavior:
    Empirical tests. Journal of Accounting Research, 14(2), 246-276.
    """
    return _patell(_prepare(arrays), window)


def _patell(
    p: _Prepared, window: tuple[int, int], kp: dict[str, float] | None = None
) -> TestResult:
    w = p.window(window)
    scar, var, ok = _patell_parts(p, w)
    extra = p.base_extra(w)
    n = int(ok.size)
    z = scar.sum() / np.sqrt(var.sum()) if n else np.nan
    name = "patell"
    if kp is not None:
        name = "patell_kp"
        r_bar = kp["r_bar"]
        extra |= kp
        extra["statistic_unadjusted"] = float(z)
        denom = 1.0 + (n - 1) * r_bar
        z = z / np.sqrt(denom) if denom > 0 else np.nan
    return _result(name, w, _caar(w), z, n=n, extra=extra)


def patell_kp(arrays: EventArrays, window: tuple[int, int]) -> TestResult:
    r"""Patell test adjusted for cross-correlation (Kolari and Pynnonen 2010).

    .. math:: z_{adj} = z_{Patell} \sqrt{\frac{1}{1 + (N-1)\bar r_w}}

    where :math:`\bar r_w` (``extra["r_bar"]``) is the residual correlation weighted by the
    calendar overlap of the pairs' windows (:func:`overlap_weighted_correlation`). With every
    window on the same dates it is the mean off-diagonal correlation :math:`\bar r` of KP
    (2010), reported as ``extra["r_bar_classic"]`` (:func:`mean_offdiagonal_correlation`);
    pairs whose windows share no date weigh zero (semiscreen's extension for event dates that
    differ, derived in ``docs/methodology.md``). ``extra["window_overlap"]`` is the mean
    share of shared window dates, ``extra["statistic_unadjusted"]`` the Patell z. Assumes
    no event-induced variance. Reference distribution: standard normal.

    References
    ----------
    Kolari, J. W. and Pynnonen, S. (2010). Event study testing with cross-sectional
    correlation of abnormal returns. Review of Financial Studies, 23(11), 3996-4025.
    """
    return _patell_kp(_prepare(arrays), window)


def _patell_kp(p: _Prepared, window: tuple[int, int]) -> TestResult:
    w = p.window(window)
    _, _, ok = _patell_parts(p, w)
    return _patell(p, window, kp=p.r_bar_overlap(w.rows[ok], w))


def bmp(arrays: EventArrays, window: tuple[int, int]) -> TestResult:
    r"""Boehmer, Musumeci and Poulsen (1991) standardized cross-sectional test.

    .. math:: t = \frac{\overline{SCAR}}{s_{SCAR}/\sqrt{N}}, \qquad
              s_{SCAR}^2 = \frac{1}{N-1}\sum_i (SCAR_i - \overline{SCAR})^2

    with SCAR_i as in :func:`patell`. The cross-sectional variance of the standardized CARs
    absorbs event-induced variance; assumes cross-sectional independence. Reference
    distribution: Student t with N - 1 degrees of freedom.

    References
    ----------
    Boehmer, E., Musumeci, J. and Poulsen, A. B. (1991). Event-study methodology under
    conditions of event-induced variance. Journal of Financial Economics, 30(2), 253-272.
    """
    return _bmp(_prepare(arrays), window)


def _bmp(p: _Prepared, window: tuple[int, int], kp: dict[str, float] | None = None) -> TestResult:
    w = p.window(window)
    scar = w.scar[np.isfinite(w.scar)]
    n = int(scar.size)
    extra = p.base_extra(w)
    if n >= 2:
        sd = float(np.std(scar, ddof=1))
        t = scar.mean() / (sd / np.sqrt(n)) if sd > 0 else np.nan
    else:
        t = np.nan
    name = "bmp"
    if kp is not None:
        name = "bmp_kp"
        r_bar = kp["r_bar"]
        extra |= kp
        extra["statistic_unadjusted"] = float(t)
        denom = 1.0 + (n - 1) * r_bar
        t = t * np.sqrt((1.0 - r_bar) / denom) if denom > 0 and r_bar < 1 else np.nan
    extra["mean_scar"] = float(scar.mean()) if n else float("nan")
    return _result(name, w, _caar(w), t, df=n - 1, n=n, extra=extra)


def bmp_kp(arrays: EventArrays, window: tuple[int, int]) -> TestResult:
    r"""BMP test adjusted for cross-correlation (Kolari and Pynnonen 2010).

    .. math:: t_{adj} = t_{BMP} \sqrt{\frac{1 - \bar r_w}{1 + (N-1)\bar r_w}}

    with :math:`\bar r_w` (``extra["r_bar"]``) the overlap-weighted residual correlation
    (:func:`overlap_weighted_correlation`; the all-pairs :math:`\bar r` of KP 2010 in
    ``extra["r_bar_classic"]``, equal to it when every window covers the same dates; see
    :func:`patell_kp`). Robust to event-induced variance. Reference distribution: Student t
    with N - 1 degrees of freedom.

    References
    ----------
    Kolari, J. W. and Pynnonen, S. (2010). Event study testing with cross-sectional
    correlation of abnormal returns. Review of Financial Studies, 23(11), 3996-4025.
    """
    return _bmp_kp(_prepare(arrays), window)


def _bmp_kp(p: _Prepared, window: tuple[int, int]) -> TestResult:
    w = p.window(window)
    return _bmp(p, window, kp=p.r_bar_overlap(w.rows[np.isfinite(w.scar)], w))


def mean_offdiagonal_correlation(arrays: EventArrays, rows: np.ndarray | None = None) -> float:
    r"""Mean pairwise correlation of estimation-window residuals on a common date axis.

    Each pair's residuals are centred and scaled to unit sum of squares over its own valid
    days, :math:`z_{it}`, and placed on the calendar-date axis given by ``est_day`` (missing
    days count as zero). The correlation of pairs i and j is
    :math:`\rho_{ij} = \sum_t z_{it} z_{jt}` (the Pearson correlation when both have the same
    days), and

    .. math:: \bar r = \frac{\sum_t (\sum_i z_{it})^2 - \sum_i \sum_t z_{it}^2}{N(N-1)}

    is their mean over i != j, computed in O(N T) without forming the N x N matrix. Pairs
    with fewer than 3 valid days or constant residuals are left out.

    Parameters
    ----------
    arrays : EventArrays
    rows : ndarray of int, optional
        Pairs to use (default: all).

    Returns
    -------
    float
        :math:`\bar r`, ``NaN`` with fewer than two usable pairs.

    References
    ----------
    Kolari, J. W. and Pynnonen, S. (2010). Event study testing with cross-sectional
    correlation of abnormal returns. Review of Financial Studies, 23(11), 3996-4025.
    """
    p = _prepare(arrays)
    rows = np.arange(p.n_pairs) if rows is None else np.asarray(rows, dtype=np.int64)
    return p.r_bar(rows)[0]


def overlap_weighted_correlation(
    arrays: EventArrays, window: tuple[int, int], rows: np.ndarray | Sequence[int] | None = None
) -> float:
    r"""Residual correlation weighted by the calendar overlap of the event windows.

    The cross-correlation that matters for a test of the SCARs on window (t1, t2) of L days.
    With r_ij the calendar-aligned residual correlation of pairs i and j (as in
    :func:`mean_offdiagonal_correlation`) and O_ij the number of calendar dates their two
    windows share, :math:`Cov(SCAR_i, SCAR_j) pprox r_{ij} O_{ij} / L`, and

    .. math:: ar r_w = rac{1}{N(N-1)} \sum_{i 
e j} r_{ij} rac{O_{ij}}{L}
              = rac{\sum_d \lVert \sum_{i: d \in D_i} z_i 
Vert^2 - \sum_i |D_i|}{L N (N-1)}

    (D_i the dates of pair i's window, d running over the distinct dates of all windows, z_i
    the unit residuals). Then :math:`Var(\sum_i SCAR_i) pprox N (1 + (N-1) ar r_w)`,
    which is what :func:`patell_kp` and :func:`bmp_kp` use. When every window covers the
    same dates, O_ij = L and :math:`ar r_w` is the :math:`ar r` of Kolari and Pynnonen
    (2010); pairs whose windows never meet weigh zero (an extension of KP 2010, see
    ``docs/methodology.md``). Pairs with the same event-window dates are summed together,
    so the cost is one pass over the residuals plus G L T for G distinct date sets.

    Parameters
    ----------
    arrays : EventArrays
    window : (int, int)
        Inclusive window of relative days.
    rows : array of int, optional
        Pairs to use (default: every pair).

    Returns
    -------
    float
        :math:`ar r_w`, ``NaN`` with fewer than two usable pairs.

    Raises
    ------
    InputError
        A window outside the event window.

    References
    ----------
    Kolari, J. W. and Pynnonen, S. (2010). Event study testing with cross-sectional
    correlation of abnormal returns. Review of Financial Studies, 23(11), 3996-4025.
    """
    p = _prepare(arrays)
    w = p.window((int(window[0]), int(window[1])))
    rows = np.arange(p.n_pairs) if rows is None else np.asarray(rows, dtype=np.int64)
    return p.r_bar_overlap(rows, w)["r_bar"]


# ---------------------------------------------------------------------------------------------
# Nonparametric tests
# ---------------------------------------------------------------------------------------------


def sign_test(arrays: EventArrays, window: tuple[int, int]) -> TestResult:
    r"""Sign test: is the share of positive CARs one half?

    .. math:: z = \frac{w - N/2}{\sqrt{N/4}}

    with w the number of CAR_i > 0 (a zero counts as not positive, as in estudy2). Assumes
    independence across pairs and a null median of zero. Reference distribution: standard
    normal (``pvalue``); ``extra["pvalue_exact"]`` is the exact binomial p-value.

    References
    ----------
    Boehmer, E., Musumeci, J. and Poulsen, A. B. (1991). Event-study methodology under
    conditions of event-induced variance. Journal of Financial Economics, 30(2), 253-272.
    Cowan, A. R. (1992). Nonparametric event study tests. Review of Quantitative Finance and
    Accounting, 2(4), 343-358.
    """
    return _sign_test(_prepare(arrays), window)


def _sign_test(p: _Prepared, window: tuple[int, int]) -> TestResult:
    w = p.window(window)
    n = w.n
    positive = int((w.car > 0).sum())
    z = (positive - n / 2.0) / np.sqrt(n / 4.0) if n else np.nan
    extra = p.base_extra(w) | {
        "positive": positive,
        "pvalue_exact": _exact_binomial_two_sided(positive, n, 0.5),
    }
    return _result("sign_test", w, _caar(w), z, extra=extra)


def generalized_sign(arrays: EventArrays, window: tuple[int, int]) -> TestResult:
    r"""Generalized sign test (Cowan 1992).

    .. math:: z = \frac{w - N\hat p}{\sqrt{N \hat p (1 - \hat p)}}, \qquad
              \hat p = \frac{1}{N}\sum_i \frac{1}{M_i}\sum_{\tau} 1[AR_{i\tau} > 0]

    w is the number of CAR_i > 0 and :math:`\hat p` the share of positive estimation-window
    ARs (``extra["p_hat"]``), so that a skewed AR distribution does not bias the test.
    estudy2 pools all estimation-window ARs into one share instead of averaging each pair's.
    Reference distribution: standard normal; ``extra["pvalue_exact"]`` is the exact binomial
    p-value with success probability p-hat.

    References
    ----------
    Cowan, A. R. (1992). Nonparametric event study tests. Review of Quantitative Finance and
    Accounting, 2(4), 343-358.
    """
    return _generalized_sign(_prepare(arrays), window)


def _generalized_sign(p: _Prepared, window: tuple[int, int]) -> TestResult:
    w = p.window(window)
    n = w.n
    positive_est, counts = p.est_positive_share
    positive_est, counts = positive_est[w.rows], counts[w.rows]
    if p.compat == "estudy2":
        p_hat = positive_est.sum() / counts.sum() if counts.sum() else np.nan
    else:
        keep = counts > 0
        p_hat = float(np.mean(positive_est[keep] / counts[keep])) if keep.any() else np.nan
    positive = int((w.car > 0).sum())
    with np.errstate(divide="ignore", invalid="ignore"):
        z = (positive - n * p_hat) / np.sqrt(n * p_hat * (1 - p_hat)) if n else np.nan
    extra = p.base_extra(w) | {
        "p_hat": float(p_hat),
        "positive": positive,
        "pvalue_exact": _exact_binomial_two_sided(positive, n, float(p_hat)),
    }
    return _result("generalized_sign", w, _caar(w), z, extra=extra)


def _standardized_series_test(p: _Prepared, w: _Window, kind: str, test: str) -> TestResult:
    """Shared machinery of the Corrado-type tests (see :meth:`_Prepared.series`)."""
    n = w.n
    if n == 0:
        return _result(test, w, _caar(w), np.nan, extra=p.base_extra(w))
    u, sd = p.series(kind)
    extra = p.base_extra(w) | {"sd": sd}
    if not sd > 0:
        return _result(test, w, _caar(w), np.nan, extra=extra)
    window_sums = u[w.rows, w.columns].sum(axis=0)
    if p.compat == "estudy2":
        window_sums = window_sums / n * p.n_pairs
    event_daily = window_sums / (n if kind == "rank" else np.sqrt(n))
    stat = event_daily.sum() / (np.sqrt(w.length) * sd)
    return _result(test, w, _caar(w), stat, extra=extra)


def corrado_sign(arrays: EventArrays, window: tuple[int, int]) -> TestResult:
    r"""Corrado and Zivney (1992) sign test against each pair's median.

    .. math:: G_{it} = \operatorname{sign}(AR_{it} - \operatorname{median}_i), \qquad
              z = \frac{\sum_{t=t_1}^{t_2} N^{-1/2}\sum_i G_{it}}{\sqrt{L}\, S_G}, \qquad
              S_G^2 = \frac{1}{\bar T}\sum_t \Big(N_t^{-1/2}\sum_i G_{it}\Big)^2

    The median and the sum over t run over each pair's whole series (estimation window and
    event window); N_t is the number of pairs with a valid AR on day t and :math:`\bar T` the
    mean number of valid days per pair. Robust to skewness; assumes independence across pairs.
    Reference distribution: standard normal. estudy2 (``corrado_sign_test``) computes the
    daily sums as rowMeans(G) * ncol(G), which overstates them on days where pairs are missing.

    References
    ----------
    Corrado, C. J. and Zivney, T. L. (1992). The specification and power of the sign test in
    event study hypothesis tests using daily stock returns. Journal of Financial and
    Quantitative Analysis, 27(3), 465-478.
    """
    return _corrado_sign(_prepare(arrays), window)


def _corrado_sign(p: _Prepared, window: tuple[int, int]) -> TestResult:
    w = p.window(window)
    return _standardized_series_test(p, w, "sign", "corrado_sign")


def corrado_rank(arrays: EventArrays, window: tuple[int, int]) -> TestResult:
    r"""Corrado (1989) rank test.

    .. math:: U_{it} = K_{it} - \frac{T_i + 1}{2}, \qquad
              z = \frac{\sum_{t=t_1}^{t_2} \bar U_t}{\sqrt{L}\, S_U}, \qquad
              S_U^2 = \frac{1}{\bar T}\sum_t \bar U_t^2, \quad \bar U_t = \frac{1}{N_t}\sum_i U_{it}

    K_it is the rank (ties averaged) of AR_it within pair i's whole series of T_i valid ARs
    (estimation and event window); the sum in S_U runs over all days of the series, N_t is
    the number of pairs with a valid AR on day t and :math:`\bar T` the mean of the T_i
    (Campbell and Wasley 1993 for missing returns). Robust to non-normality; assumes
    independence across pairs. Reference distribution: standard normal. estudy2
    (``rank_test``) computes the daily sums as rowMeans(U) * ncol(U).

    References
    ----------
    Corrado, C. J. (1989). A nonparametric test for abnormal security-price performance in
    event studies. Journal of Financial Economics, 23(2), 385-395.
    Campbell, C. J. and Wasley, C. E. (1993). Measuring security price performance using daily
    NASDAQ returns. Journal of Financial Economics, 33(1), 73-92.
    """
    return _corrado_rank(_prepare(arrays), window)


def _corrado_rank(p: _Prepared, window: tuple[int, int]) -> TestResult:
    w = p.window(window)
    return _standardized_series_test(p, w, "rank", "corrado_rank")


def corrado_zivney_rank(arrays: EventArrays, window: tuple[int, int]) -> TestResult:
    r"""Corrado and Zivney (1992) standardized rank test (estudy2's ``modified_rank_test``).

    .. math:: U_{it} = \frac{K_{it}}{T_i + 1} - \frac12, \qquad
              z = \frac{\sum_{t=t_1}^{t_2} N^{-1/2}\sum_i U_{it}}{\sqrt{L}\, S_U}, \qquad
              S_U^2 = \frac{1}{\bar T}\sum_t \Big(N_t^{-1/2}\sum_i U_{it}\Big)^2

    Dividing each rank by the pair's number of valid ARs plus one makes the U_it uniform on
    (0, 1) whatever the number of missing returns. Notation as in :func:`corrado_rank`.
    Reference distribution: standard normal. estudy2 computes the daily sums as
    rowMeans(U) * ncol(U).

    References
    ----------
    Corrado, C. J. and Zivney, T. L. (1992). The specification and power of the sign test in
    event study hypothesis tests using daily stock returns. Journal of Financial and
    Quantitative Analysis, 27(3), 465-478.
    Kolari, J. W. and Pynnonen, S. (2010). Event study testing with cross-sectional
    correlation of abnormal returns. Review of Financial Studies, 23(11), 3996-4025.
    """
    return _corrado_zivney_rank(_prepare(arrays), window)


def _corrado_zivney_rank(p: _Prepared, window: tuple[int, int]) -> TestResult:
    w = p.window(window)
    return _standardized_series_test(p, w, "zivney", "corrado_zivney_rank")


def grank(arrays: EventArrays, window: tuple[int, int]) -> TestResult:
    r"""Generalized rank test for CARs, GRANK (Kolari and Pynnonen 2011).

    The window's CAR is collapsed into one observation: SCAR_i = CAR_i / sqrt(1' V_i 1),
    re-standardized cross-sectionally, :math:`SCAR^*_i = SCAR_i / s_{SCAR}`, which absorbs
    event-induced volatility. With the estimation-window SAR_it = AR_it / s_i this gives the
    series GSAR_i = (SAR_i1, ..., SAR_iM, SCAR*_i) of T = L_est + 1 positions, and

    .. math:: U_{it} = \frac{\operatorname{rank}(GSAR_{it})}{T_i + 1} - \frac12, \qquad
              Z = \frac{\bar U_0}{S_{\bar U}}, \qquad
              S_{\bar U}^2 = \frac{1}{T}\sum_t \frac{N_t}{N}\bar U_t^2,

    .. math:: t_{grank} = Z \sqrt{\frac{T-2}{T-1-Z^2}}

    with :math:`\bar U_t` the mean of the valid U_it on position t (t = 0 the CAR) and T_i the
    number of valid positions of pair i. Robust to event-induced volatility, serial
    correlation of ARs and (moderate) cross-correlation. Reference distribution: Student t
    with T - 2 degrees of freedom; ``extra["z"]`` is Z.

    References
    ----------
    Kolari, J. W. and Pynnonen, S. (2011). Nonparametric rank tests for event studies.
    Journal of Empirical Finance, 18(5), 953-971.
    """
    return _grank(_prepare(arrays), window)


def _grank(p: _Prepared, window: tuple[int, int]) -> TestResult:
    w = p.window(window)
    scar = w.scar
    ok = np.isfinite(scar)
    rows, scar = w.rows[ok], scar[ok]
    n = int(rows.size)
    extra = p.base_extra(w)
    n_positions = p.n_est_cols + 1
    df = n_positions - 2
    s_scar = float(np.std(scar, ddof=1)) if n >= 2 else float("nan")
    if n < 2 or not s_scar > 0:
        return _result("grank", w, _caar(w), np.nan, df=df, n=n, extra=extra)
    # GSAR of the window position, +inf for pairs outside the test (they then weigh nothing)
    g = np.full(p.n_pairs, np.inf)
    g[rows] = scar / s_scar
    valid_counts = p.est_finite.sum(axis=1)
    weight = np.zeros(p.n_pairs)
    weight[rows] = 1.0 / (valid_counts[rows] + 2.0)  # 1 / (T_i + 1), T_i = valid est days + 1
    est = p.est_sar
    above = p.scratch(est.shape)  # 1.0 where an estimation SAR lies above the window's GSAR
    with np.errstate(invalid="ignore"):
        np.greater(est, g[:, None], out=above, casting="unsafe")
        equal = np.equal(est, g[:, None])
    # U_it = (rank among estimation SARs + [g < e] + [g == e]/2) / (T_i + 1) - 1/2
    n_t = p.est_finite[rows].sum(axis=0).astype(np.float64)
    u_sum_est = weight @ p.est_ranks_filled + weight @ above
    any_equal = bool(equal[rows].any())
    if any_equal:
        u_sum_est = u_sum_est + 0.5 * (weight @ equal.astype(np.float64))
    u_sum_est = u_sum_est - 0.5 * n_t
    above_i = above.sum(axis=1)[rows]
    equal_i = equal.sum(axis=1)[rows] if any_equal else 0
    below_i = valid_counts[rows] - above_i - equal_i
    rank0 = below_i + 1.0 + equal_i / 2.0
    u0 = rank0 * weight[rows] - 0.5
    used = n_t > 0
    u_bar_est = u_sum_est[used] / n_t[used]
    u_bar0 = float(u0.mean())
    s2 = (((n_t[used] / n) * u_bar_est**2).sum() + u_bar0**2) / n_positions
    z = u_bar0 / np.sqrt(s2) if s2 > 0 else np.nan
    with np.errstate(invalid="ignore", divide="ignore"):
        t = z * np.sqrt(df / (n_positions - 1 - z**2)) if np.isfinite(z) else np.nan
    extra |= {"z": float(z), "u_bar0": u_bar0}
    return _result("grank", w, _caar(w), t, df=df, n=n, extra=extra)


def _signed_rank_exact_pvalue(w_plus: float, n: int) -> float:
    """Exact two-sided p-value of the Wilcoxon signed-rank statistic without ties."""
    max_sum = n * (n + 1) // 2
    counts = np.zeros(max_sum + 1)
    counts[0] = 1.0
    for k in range(1, n + 1):
        counts[k:] = counts[k:] + counts[: max_sum + 1 - k].copy()
    pmf = counts / counts.sum()
    cdf = np.cumsum(pmf)
    w = int(round(w_plus))
    lower = cdf[w]
    upper = 1.0 - (cdf[w - 1] if w > 0 else 0.0)
    return float(min(1.0, 2.0 * min(lower, upper)))


def wilcoxon(arrays: EventArrays, window: tuple[int, int]) -> TestResult:
    r"""Wilcoxon (1945) signed-rank test on the CARs.

    Zero CARs are dropped; the |CAR_i| are ranked (ties averaged) and the statistic is
    :math:`W^+ = \sum_{CAR_i > 0} \operatorname{rank}|CAR_i|`, reported as ``statistic`` (as
    estudy2 does). Under the null of a distribution symmetric about zero,

    .. math:: z = \frac{W^+ - n(n+1)/4}
              {\sqrt{n(n+1)(2n+1)/24 - \sum_g (t_g^3 - t_g)/48}}

    (``extra["z"]``, t_g the sizes of tied groups). The p-value is exact for n <= 50 without
    ties and from the normal approximation otherwise. Assumes independence across pairs.

    References
    ----------
    Wilcoxon, F. (1945). Individual comparisons by ranking methods. Biometrics Bulletin, 1(6),
    80-83.
    """
    return _wilcoxon(_prepare(arrays), window)


def _wilcoxon(p: _Prepared, window: tuple[int, int]) -> TestResult:
    w = p.window(window)
    car = w.car[w.car != 0]
    n = int(car.size)
    extra = p.base_extra(w)
    if n == 0:
        return _result("wilcoxon", w, _caar(w), np.nan, pvalue=np.nan, n=0, extra=extra)
    ranks, sorted_abs = _row_ranks(np.abs(car)[None, :])
    ranks = ranks[0]
    w_plus = float(ranks[car > 0].sum())
    _, tie_sizes = np.unique(sorted_abs[0], return_counts=True)
    ties = bool((tie_sizes > 1).any())
    mean = n * (n + 1) / 4.0
    var = n * (n + 1) * (2 * n + 1) / 24.0 - float(((tie_sizes**3 - tie_sizes) / 48.0).sum())
    z = (w_plus - mean) / np.sqrt(var) if var > 0 else np.nan
    if n <= _EXACT_WILCOXON_MAX_N and not ties:
        pvalue = _signed_rank_exact_pvalue(w_plus, n)
    else:
        pvalue = _two_sided_normal(z)
    extra |= {"w_plus": w_plus, "z": float(z), "n_nonzero": n}
    return _result("wilcoxon", w, _caar(w), w_plus, pvalue=pvalue, n=w.n, extra=extra)


# ---------------------------------------------------------------------------------------------
# BHAR test
# ---------------------------------------------------------------------------------------------


def skewness_adjusted_t(
    bhar: np.ndarray,
    window: tuple[int, int],
    *,
    bootstrap: bool = False,
    n_boot: int = 1000,
    seed: int | np.random.Generator | None = None,
) -> TestResult:
    r"""Skewness-adjusted t test for buy-and-hold abnormal returns (Lyon, Barber and Tsai 1999).

    .. math:: t_{sa} = \sqrt{n}\Big(S + \frac{\hat\gamma S^2}{3} + \frac{\hat\gamma}{6n}\Big),
              \qquad S = \frac{\overline{BHAR}}{\sigma(BHAR)}, \qquad
              \hat\gamma = \frac{\sum_i (BHAR_i - \overline{BHAR})^3}{n\, \sigma(BHAR)^3}

    (:math:`\sigma` with divisor n - 1). Corrects the conventional t for the positive skewness
    of long-horizon BHARs. Reference distribution: Student t with n - 1 degrees of freedom;
    with ``bootstrap=True``, the bootstrapped distribution of LBT (1999): ``n_boot`` resamples
    of size n/4 of the BHARs centred at their mean, the two-sided p-value being twice the
    smaller tail share of the resampled statistics beyond t_sa.

    Parameters
    ----------
    bhar : ndarray, shape (n,)
        One BHAR per event-firm pair; ``NaN`` entries are dropped.
    window : tuple of int
        The window the BHARs were compounded over (reported in the result).
    bootstrap : bool, default False
        Use the bootstrapped reference distribution.
    n_boot : int, default 1000
        Number of bootstrap resamples.
    seed : int or numpy.random.Generator, optional
        For a reproducible bootstrap.

    Returns
    -------
    TestResult
        ``test="skewness_adjusted_t"``, ``estimate`` the mean BHAR, ``extra["gamma"]`` the
        skewness and ``extra["t_conventional"]`` the unadjusted t.

    References
    ----------
    Lyon, J. D., Barber, B. M. and Tsai, C.-L. (1999). Improved methods for tests of
    long-run abnormal stock returns. Journal of Finance, 54(1), 165-201.
    """
    x = np.asarray(bhar, dtype=float).ravel()
    x = x[np.isfinite(x)]
    n = int(x.size)
    win = (int(window[0]), int(window[1]))
    if n < 3:
        return TestResult("skewness_adjusted_t", win, float(x.mean()) if n else np.nan,
                          np.nan, np.nan, n, df=n - 1.0 if n else None, extra={})
    t_sa, gamma, t_conv = _skew_adjusted(x)
    extra: dict[str, Any] = {"gamma": gamma, "t_conventional": t_conv}
    if bootstrap:
        rng = np.random.default_rng(seed)
        size = max(n // 4, 3)
        centred = x - x.mean()
        draws = centred[rng.integers(0, n, size=(n_boot, size))]
        boot = _skew_adjusted_rows(draws)
        boot = boot[np.isfinite(boot)]
        pvalue = float(min(1.0, 2 * min((boot <= t_sa).mean(), (boot >= t_sa).mean())))
        extra |= {"bootstrap": True, "n_boot": int(boot.size), "resample_size": size}
        return TestResult("skewness_adjusted_t", win, float(x.mean()), float(t_sa), pvalue, n,
                          df=None, extra=extra)
    return TestResult("skewness_adjusted_t", win, float(x.mean()), float(t_sa),
                      _two_sided_t(t_sa, n - 1), n, df=float(n - 1), extra=extra)


def _skew_adjusted_rows(x: np.ndarray) -> np.ndarray:
    n = x.shape[1]
    mean = x.mean(axis=1)
    sd = x.std(axis=1, ddof=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        s = mean / sd
        gamma = ((x - mean[:, None]) ** 3).sum(axis=1) / (n * sd**3)
        return np.sqrt(n) * (s + gamma * s**2 / 3.0 + gamma / (6.0 * n))


def _skew_adjusted(x: np.ndarray) -> tuple[float, float, float]:
    n = x.size
    mean = x.mean()
    sd = x.std(ddof=1)
    if not sd > 0:
        return float("nan"), float("nan"), float("nan")
    s = mean / sd
    gamma = ((x - mean) ** 3).sum() / (n * sd**3)
    t_sa = np.sqrt(n) * (s + gamma * s**2 / 3.0 + gamma / (6.0 * n))
    return float(t_sa), float(gamma), float(np.sqrt(n) * s)


# ---------------------------------------------------------------------------------------------
# Registry and driver
# ---------------------------------------------------------------------------------------------

_IMPLEMENTATIONS: dict[str, Callable[[_Prepared, tuple[int, int]], TestResult]] = {
    "cross_sectional_t": _cross_sectional_t,
    "brown_warner_1980": _brown_warner_1980,
    "brown_warner_1985": _brown_warner_1985,
    "lamb": _lamb,
    "patell": _patell,
    "patell_kp": _patell_kp,
    "bmp": _bmp,
    "bmp_kp": _bmp_kp,
    "sign_test": _sign_test,
    "generalized_sign": _generalized_sign,
    "corrado_sign": _corrado_sign,
    "corrado_rank": _corrado_rank,
    "corrado_zivney_rank": _corrado_zivney_rank,
    "grank": _grank,
    "wilcoxon": _wilcoxon,
}


def available_tests() -> list[str]:
    """Names of the tests :func:`run_tests` can run (parametric first, then nonparametric).

    Returns
    -------
    list of str
    """
    return PARAMETRIC + NONPARAMETRIC


def run_tests(
    arrays: EventArrays,
    windows: Iterable[tuple[int, int]],
    tests: Sequence[str] | str | None = None,
) -> list[TestResult]:
    """Run tests on windows, sharing the expensive intermediate results.

    Parameters
    ----------
    arrays : EventArrays
        The estimation stage's output; ``arrays.compat`` selects textbook (``None``) or
        estudy2 conventions.
    windows : iterable of (int, int)
        Inclusive windows of relative days, each inside ``arrays.rel_days``.
    tests : sequence of str or str, optional
        Test names from :func:`available_tests`, or ``"parametric"`` / ``"nonparametric"``;
        default all.

    Returns
    -------
    list of TestResult
        Window by window, tests in the order given (default: :func:`available_tests`).

    Raises
    ------
    InputError
        An unknown test name, a malformed window or one outside the event window, or
        inconsistent arrays.
    """
    if tests is None:
        names = available_tests()
    elif isinstance(tests, str):
        groups = {
            "parametric": PARAMETRIC,
            "nonparametric": NONPARAMETRIC,
            "all": available_tests(),
        }
        names = list(groups.get(tests, [tests]))
    else:
        names = list(tests)
    unknown = [t for t in names if t not in _IMPLEMENTATIONS]
    if unknown:
        raise InputError(
            f"unknown test{'s' if len(unknown) > 1 else ''} {', '.join(map(repr, unknown))}; "
            f"available: {', '.join(available_tests())}"
        )
    checked = []
    for window in windows:
        try:
            t1, t2 = (int(v) for v in window)
        except (TypeError, ValueError):
            raise InputError(
                f"a test window must be a pair of relative days (t1, t2), got {window!r}"
            ) from None
        if t1 > t2:
            raise InputError(f"test window {(t1, t2)} starts after it ends")
        checked.append((t1, t2))
    prepared = _Prepared(arrays)
    return [_IMPLEMENTATIONS[name](prepared, window) for window in checked for name in names]
