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

__all__ = ["EventArrays", "TestResult"]


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
    est_day : ndarray of int32 or int64, shape (N, Le)
        Calendar key of each estimation observation: days since 1970-01-01 of its session
        date, ``-1`` where there is none (int32 in the engine's output: half the memory of
        the largest array after ``est_ar``). Used to align residuals of different firms on the
        same calendar date (Kolari-Pynnonen 2010 cross-correlation).
    evt_ar : ndarray, shape (N, L)
        Event-window abnormal returns on relative days ``rel_days``; ``NaN`` where missing.
    evt_cov : ndarray, shape (N, L, L)
        Forecast-error covariance V_i of ``evt_ar`` (see module docstring). Its diagonal is the
        forecast-error-corrected variance of each AR; ``1' V_i 1`` over a window is the variance
        of that window's CAR including the covariance the shared estimates create.
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
    est_day: np.ndarray
    evt_ar: np.ndarray
    evt_cov: np.ndarray
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
