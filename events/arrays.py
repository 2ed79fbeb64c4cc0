"""The engine's internal currency: aligned abnormal-return arrays for N event-firm pairs.

`events.study` (alignment and expected-return models) produces one :class:`EventArrays`;
`events.statistics` (the test statistics) consumes it. Both sides are pure numpy: no pandas,
no I/O. Rows are event-firm pairs that were estimated successfully (outcome ``ok``); pairs that
failed never reach the statistics. Inside a row, a missing return is ``NaN`` (never zero).

Notation (MacKinlay 1997; Campbell, Lo and MacKinlay 1997, ch. 4): for pair i, the estimation
window has M_i valid days, the model has k parameters, AR_it is the abnormal return on
relative day t, and V_i is the forecast-error covariance of the event-window ARs,

    V_i = s_i^2 (I + X_i0 (X_i'X_i)^-1 X_i0'),    s_i^2 = e_i'e_i / (M_i - k),

where X_i is the estimation-window regressor matrix and X_i0 the event-window one.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

__all__ = [
    "EventArrays", "TestResult", "WindowDays", "ForecastCovariance",
    "ar_variances", "car_variance", "cumulative_car_variance",
]


def _split_key(key: Any) -> tuple[Any, tuple]:
    return (key[0], tuple(key[1:])) if isinstance(key, tuple) else (key, ())


def _apply_rest(out: np.ndarray, rows: Any, rest: tuple) -> np.ndarray:
    """Index the remaining axes of rows already selected (``rows`` an int drops the row axis).

    As numpy does, an index array for the rows is paired element by element with index
    arrays among the other axes (``a[[0, 2], [1, 3]]`` is two elements, not a 2 x 2 block).
    """
    if np.ndim(rows) == 0 and not isinstance(rows, slice):
        out = out[0]
        return out[rest] if rest else out
    if not rest:
        return out
    rows_are_array = not isinstance(rows, slice) and np.asarray(rows).dtype != bool
    if rows_are_array and any(not isinstance(r, slice) and np.ndim(r) > 0 for r in rest):
        return out[(np.arange(out.shape[0]).reshape(np.shape(rows)),) + rest]
    return out[(slice(None),) + rest]


class ForecastCovariance:
    """Forecast-error covariances of the event-window ARs of N pairs, in factored form.

    For pair i, V_i = s_i^2 (diag(d_i) + Z_i A_i Z_i'), with ``NaN`` in the rows and columns
    of days whose AR is missing: d_i is 1 on each day (the sessions a return spans, for
    trade-to-trade), Z_i (L x k) the event-window regressors of the model (with the
    intercept) and A_i (k x k) the inverse of the estimation-window cross-product matrix,
    so that Z_i A_i Z_i' is the forecast-error term X_i0 (X_i'X_i)^-1 X_i0' of the module
    docstring. Storing (d, Z, A) takes O(L k) per pair instead of the O(L^2) of the full
    matrices: long event windows over many pairs fit in memory.

    Variances of ARs, of CARs over a window and of the cumulative CAR path are computed from
    the factors (:func:`ar_variances`, :func:`car_variance`, :func:`cumulative_car_variance`).
    Indexing materialises the selected matrices (``cov[i]`` is V_i, ``cov[rows]`` a stack)
    and ``np.asarray(cov)`` all of them, so the object can stand where an (N, L, L) array is
    expected.

    Parameters
    ----------
    scale : ndarray (N,)
        s_i^2 (``NaN`` for a pair that could not be estimated).
    diag : ndarray (N, L)
        d_i.
    design : ndarray (N, L, k)
        Z_i; ``NaN`` rows where a regressor is missing.
    inverse : ndarray (N, k, k)
        A_i, symmetric.
    missing : ndarray of bool (N, L)
        Days whose AR is missing.
    """

    def __init__(self, scale: np.ndarray, diag: np.ndarray, design: np.ndarray, inverse: np.ndarray,
                 missing: np.ndarray):
        self.scale = np.asarray(scale, dtype=float)
        self.diag = np.asarray(diag, dtype=float)
        self.design = np.asarray(design, dtype=float)
        self.inverse = np.asarray(inverse, dtype=float)
        self.missing = np.asarray(missing, dtype=bool)
        n, L = self.diag.shape
        if self.scale.shape != (n,) or self.design.shape[:2] != (n, L) or self.missing.shape != (n, L) \
                or self.inverse.shape != (n, self.design.shape[2], self.design.shape[2]):
            raise ValueError("ForecastCovariance: inconsistent shapes "
                             f"{self.scale.shape}, {self.diag.shape}, {self.design.shape}, "
                             f"{self.inverse.shape}, {self.missing.shape}")

    @property
    def shape(self) -> tuple[int, int, int]:
        n, L = self.diag.shape
        return (n, L, L)

    @property
    def ndim(self) -> int:
        return 3

    @property
    def dtype(self) -> np.dtype:
        return np.dtype(float)

    def __len__(self) -> int:
        return self.shape[0]

    def take(self, rows: Any) -> ForecastCovariance:
        """The covariances of ``rows`` (an index array, a boolean mask or a slice)."""
        return ForecastCovariance(self.scale[rows], self.diag[rows], self.design[rows], self.inverse[rows],
                                  self.missing[rows])

    def _full(self, rows: Any) -> np.ndarray:
        sel = np.atleast_1d(np.arange(self.shape[0])[rows])
        Z = self.design[sel]
        L = self.shape[1]
        with np.errstate(invalid="ignore"):
            V = Z @ self.inverse[sel] @ np.swapaxes(Z, 1, 2)
        V += self.diag[sel][:, :, None] * np.eye(L)[None]
        V *= self.scale[sel][:, None, None]
        miss = self.missing[sel]
        V[miss[:, :, None] | miss[:, None, :]] = np.nan
        return V

    def __getitem__(self, key: Any) -> np.ndarray:
        rows, rest = _split_key(key)
        return _apply_rest(self._full(rows), rows, rest)

    def __array__(self, dtype: Any = None, copy: Any = None) -> np.ndarray:
        out = self._full(slice(None))
        return out if dtype is None else out.astype(dtype)

    def __repr__(self) -> str:
        return f"ForecastCovariance(shape={self.shape}, k={self.design.shape[2]})"

    # --- what the statistics need, from the factors ---------------------------------------
    def variances(self, rows: Any = slice(None)) -> np.ndarray:
        """Diagonal of V_i (N x L): the forecast-error variance of each AR."""
        Z = self.design[rows]
        with np.errstate(invalid="ignore"):
            q = np.einsum("nlk,nkj,nlj->nl", Z, self.inverse[rows], Z)
        out = self.scale[rows][:, None] * (self.diag[rows] + q)
        out[self.missing[rows]] = np.nan
        return out

    def window_variance(self, cols: slice, rows: Any = slice(None), available_only: bool = False) -> np.ndarray:
        """1' V_i 1 over the days ``cols``: the variance of each CAR.

        ``NaN`` where a day of the window is missing, unless ``available_only``: then the sum
        over the days that have an AR (0 where none has).
        """
        Z = self.design[rows, cols]  # (only the window's days are copied)
        ok = ~self.missing[rows, cols]
        d = self.diag[rows, cols]
        if available_only:
            u = np.where(ok[:, :, None], Z, 0.0).sum(axis=1)
            dsum = np.where(ok, d, 0.0).sum(axis=1)
        else:
            u = Z.sum(axis=1)
            dsum = d.sum(axis=1)
        with np.errstate(invalid="ignore"):
            out = self.scale[rows] * (dsum + np.einsum("nk,nkj,nj->n", u, self.inverse[rows], u))
        if not available_only:
            out[~ok.all(axis=1)] = np.nan
        return out

    def cumulative_variances(self, cols: slice, rows: Any = slice(None)) -> np.ndarray:
        """1' V_i[t1..tau] 1 for every tau of the window ``cols`` (N x W): the variance of the
        CAR path; ``NaN`` from the first missing day on."""
        Z = self.design[rows, cols]
        U = np.cumsum(Z, axis=1)
        D = np.cumsum(self.diag[rows, cols], axis=1)
        with np.errstate(invalid="ignore"):
            out = self.scale[rows][:, None] * (D + np.einsum("nwk,nkj,nwj->nw", U, self.inverse[rows], U))
        out[np.cumsum(self.missing[rows, cols], axis=1) > 0] = np.nan
        return out


def ar_variances(evt_cov: np.ndarray | ForecastCovariance, rows: Any = slice(None)) -> np.ndarray:
    """Forecast-error variance of each event-window AR (the diagonals of V_i), N x L."""
    if isinstance(evt_cov, ForecastCovariance):
        return evt_cov.variances(rows)
    return np.array(np.diagonal(evt_cov[rows], axis1=1, axis2=2))


def car_variance(evt_cov: np.ndarray | ForecastCovariance, cols: slice, rows: Any = slice(None),
                 available_only: bool = False) -> np.ndarray:
    """1' V_i 1 over the days ``cols`` for each pair (see :meth:`ForecastCovariance.window_variance`)."""
    if isinstance(evt_cov, ForecastCovariance):
        return evt_cov.window_variance(cols, rows, available_only)
    block = evt_cov[rows][:, cols, cols]
    return np.nansum(block, axis=(1, 2)) if available_only else block.sum(axis=(1, 2))


def cumulative_car_variance(evt_cov: np.ndarray | ForecastCovariance, cols: slice,
                            rows: Any = slice(None)) -> np.ndarray:
    """Variance of each pair's CAR from the window's first day to each day tau (N x W)."""
    if isinstance(evt_cov, ForecastCovariance):
        return evt_cov.cumulative_variances(cols, rows)
    V = evt_cov[rows][:, cols, cols]
    return np.einsum("ntt->nt", np.cumsum(np.cumsum(V, axis=1), axis=2))


class WindowDays:
    """Calendar days of every pair's estimation window, read from one day table.

    Row i is ``table[starts[i]:starts[i] + length]``: the engine keeps the panel's day column
    (one entry per session) and each pair's first position instead of an (N x Le) copy, a
    quarter of the memory of ``est_ar``. Indexing gives ordinary arrays (``days[i]``,
    ``days[rows]``, ``days[rows, cols]``) and ``np.asarray(days)`` the full (N x Le) array.

    Parameters
    ----------
    table : ndarray of int, shape (T,)
        Days since 1970-01-01 of each position, ``-1`` where there is no session.
    starts : ndarray of int, shape (N,)
        First position of each row's window in ``table``.
    length : int
        Window length Le.
    """

    def __init__(self, table: np.ndarray, starts: np.ndarray, length: int):
        self.table = np.asarray(table)
        if len(self.table) < length:  # (an empty panel: no window, but a view needs the length)
            self.table = np.concatenate([self.table, np.full(int(length) - len(self.table), -1, self.table.dtype)])
        self.starts = np.asarray(starts, dtype=np.int64)
        self.length = int(length)
        self._windows = np.lib.stride_tricks.sliding_window_view(self.table, self.length)

    @property
    def shape(self) -> tuple[int, int]:
        return (len(self.starts), self.length)

    @property
    def ndim(self) -> int:
        return 2

    @property
    def dtype(self) -> np.dtype:
        return self.table.dtype

    def __len__(self) -> int:
        return len(self.starts)

    def __getitem__(self, key: Any) -> np.ndarray:
        rows, rest = _split_key(key)
        out = np.array(self._windows[np.atleast_1d(self.starts[rows])])  # (a copy, never a view)
        return _apply_rest(out, rows, rest)

    def __reduce__(self) -> tuple:
        # pickle the table and the starts, not the sliding view (which would copy T x Le)
        return (type(self), (self.table, self.starts, self.length))

    def __array__(self, dtype: Any = None, copy: Any = None) -> np.ndarray:
        out = self._windows[self.starts]
        return out if dtype is None else out.astype(dtype)

    def __repr__(self) -> str:
        return f"WindowDays(shape={self.shape}, dtype={self.dtype})"


@dataclass(frozen=True)
class EventArrays:
    """Aligned arrays for N event-firm pairs.

    Attributes
    ----------
    est_ar : ndarray, shape (N, Le)
        Estimation-window abnormal returns (model residuals), column j on relative day
        ``est_rel[j]``. ``NaN`` where the return is missing or was excluded.
    est_rel : ndarray of int, shape (Le,)
        Relative day of each estimation column (e.g. -250..-11), in the security's own sessions.
    est_day : ndarray of int32 or int64, or WindowDays, shape (N, Le)
        Calendar key of each estimation observation: days since 1970-01-01 of its session
        date, ``-1`` where there is none. Used to align residuals of different firms on the
        same calendar date (Kolari-Pynnonen 2010 cross-correlation). The engine gives a
        :class:`WindowDays` (rows read from the panel's day column, no (N x Le) copy);
        index it like an array or take ``np.asarray(est_day)``.
    evt_ar : ndarray, shape (N, L)
        Event-window abnormal returns on relative days ``rel_days``; ``NaN`` where missing.
    evt_cov : ndarray or ForecastCovariance, shape (N, L, L)
        Forecast-error covariance V_i of ``evt_ar`` (see module docstring). Its diagonal is the
        forecast-error-corrected variance of each AR; ``1' V_i 1`` over a window is the variance
        of that window's CAR including the covariance the shared estimates create. The engine
        gives a :class:`ForecastCovariance` (factored, O(L k) per pair); read it with
        :func:`ar_variances`, :func:`car_variance`, :func:`cumulative_car_variance`, which
        also accept a plain array.
    rel_days : ndarray of int, shape (L,)
        Relative day of each event-window column, ascending and consecutive (e.g. -10..10).
    evt_day : ndarray of int64, shape (N, L)
        Calendar key (days since epoch) of each event-window session, ``-1`` where none.
    sigma : ndarray, shape (N,)
        Residual standard deviation s_i (divisor ``dof``; in estudy2 compatibility mode the
        divisor is M_i - 1, as that package does).
    n_est : ndarray of int, shape (N,)
        M_i, the number of valid estimation observations.
    dof : ndarray, shape (N,)
        Residual degrees of freedom M_i - k.
    k : int
        Number of parameters of the expected-return model (0 market-adjusted, 1 constant mean,
        2 market model, 1+K factor model, ...).
    compat : str or None
        ``"estudy2"`` to reproduce the conventions of the R package estudy2 (see
        ``docs/methodology.md``); ``None`` for the textbook definitions.
    """

    est_ar: np.ndarray
    est_rel: np.ndarray
    est_day: np.ndarray | WindowDays
    evt_ar: np.ndarray
    evt_cov: np.ndarray | ForecastCovariance
    rel_days: np.ndarray
    evt_day: np.ndarray
    sigma: np.ndarray
    n_est: np.ndarray
    dof: np.ndarray
    k: int
    compat: str | None = None

    @property
    def n_pairs(self) -> int:
        return int(self.evt_ar.shape[0])

    def window_slice(self, window: tuple[int, int]) -> slice:
        """Column slice of ``evt_ar`` for an inclusive window (t1, t2) of relative days."""
        t1, t2 = window
        r0 = int(self.rel_days[0])
        if t1 > t2 or t1 < r0 or t2 > int(self.rel_days[-1]):
            raise ValueError(
                f"window {window} is outside the event days {r0}..{int(self.rel_days[-1])}"
            )
        return slice(t1 - r0, t2 - r0 + 1)


@dataclass(frozen=True)
class TestResult:
    """One test statistic on one window (one row of ``EventStudyResults.tests()``).

    Attributes
    ----------
    test : str
        Short stable name, e.g. ``"patell"``, ``"bmp"``, ``"bmp_kp"``, ``"corrado_rank"``.
    window : tuple of int
        Inclusive relative-day window (t1, t2).
    estimate : float
        The quantity tested (CAAR, mean BHAR, median, ...), ``NaN`` where not applicable.
    statistic : float
        The test statistic.
    pvalue : float
        Two-sided p-value under the test's reference distribution.
    n : int
        Event-firm pairs that entered the test.
    df : float or None
        Degrees of freedom of a t reference distribution; ``None`` for normal references.
    extra : dict
        Test-specific figures (e.g. ``r_bar`` for Kolari-Pynnonen, ``p_hat`` for the
        generalized sign test, ``w_plus`` for Wilcoxon).
    """

    test: str
    window: tuple[int, int]
    estimate: float
    statistic: float
    pvalue: float
    n: int
    df: float | None = None
    extra: dict[str, Any] = field(default_factory=dict)
