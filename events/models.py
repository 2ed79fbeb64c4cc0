"""Expected-return models, estimated for many event-firm pairs at once.

Every model is fitted on the estimation window of each event-firm pair and predicts the
event-window returns; the abnormal return is the prediction error. All pairs of a chunk are
estimated together, without a Python loop over pairs: closed forms for the constant-mean and
market models, stacked normal equations (``einsum`` + ``np.linalg.solve`` on ``(N, k, k)``) for
the others.

Models (``k`` is the number of estimated parameters, which sets the residual degrees of
freedom ``M - k``):

=====================  ======  ===========================================================
name                   k       expected return
=====================  ======  ===========================================================
``market_adjusted``    0       ``R_m``
``constant_mean``      1       ``mu``
``market``             2       ``alpha + beta R_m`` (OLS)
``factor``             1 + K   ``alpha + b' F`` (OLS on user-supplied factor returns)
``scholes_williams``   2       ``alpha + beta_SW R_m``, Scholes and Williams (1977) beta
``dimson``             2L + 2  ``alpha + sum_j b_j R_m,t+j``, j = -L..L, Dimson (1979)
=====================  ======  ===========================================================

With ``trade_to_trade=True`` (Maynes and Rumsey 1993; ``market_adjusted``, ``constant_mean``
and ``market`` only) a return spanning ``n`` sessions is modelled as
``alpha n + beta R_m(n) + e`` with ``R_m(n)`` the market compounded over the same span and
``Var(e) = n s^2``; the model is fitted by weighted least squares with weights ``1/n``.

The forecast-error covariance of the event-window abnormal returns is the textbook one
(Campbell, Lo and MacKinlay 1997, eq. 4.4.9): ``V = s^2 (D + Z0 (Z'WZ)^-1 Z0')`` with
``D = I`` (or ``diag(n)`` for trade-to-trade), ``s^2 = e'We / (M - k)``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from events.arrays import ForecastCovariance
from screener.errors import InputError

__all__ = ["ModelSpec", "ModelFit", "MODELS", "get_model", "fit_models"]

#: Valid model names and a one-line description of each.
MODELS: dict[str, str] = {
    "market_adjusted": "AR = R - R_m (k = 0)",
    "constant_mean": "AR = R - mean(R) over the estimation window (k = 1)",
    "market": "market model, OLS of R on R_m (k = 2)",
    "factor": "multi-factor model, OLS of R on user-supplied factor returns (k = 1 + K)",
    "scholes_williams": "market model with the Scholes-Williams (1977) beta (k = 2)",
    "dimson": "market model with Dimson (1979) lead/lag betas (k = 2 + 2 * lags)",
}

# Status codes of a fit (index into STATUS_NAMES).
OK, INSUFFICIENT, CONSTANT, SINGULAR = 0, 1, 2, 3
STATUS_NAMES = ("ok", "insufficient_estimation", "constant_returns", "singular_design")


@dataclass(frozen=True)
class ModelSpec:
    """What a model regresses on.

    Attributes
    ----------
    name : str
        One of :data:`MODELS`.
    k : int
        Number of estimated parameters.
    regressors : tuple of str
        Names of the non-constant regressor columns the alignment must supply, in order
        (``"market"``, ``"market_lag1"``, ``"market_lead1"``, factor names...).
    param_names : tuple of str
        Names of the estimated parameters (``alpha``, ``beta``, factor loadings...).
    """

    name: str
    k: int
    regressors: tuple[str, ...]
    param_names: tuple[str, ...]
    lags: int = 0
    factor_names: tuple[str, ...] = field(default=())

    @property
    def needs_market(self) -> bool:
        return self.name != "constant_mean" and self.name != "factor"


def get_model(name: str, *, factor_names: list[str] | tuple[str, ...] = (), lags: int = 1) -> ModelSpec:
    """Return the :class:`ModelSpec` of a model name.

    Parameters
    ----------
    name : str
        One of :data:`MODELS`.
    factor_names : sequence of str
        The factor columns (``factor`` model only).
    lags : int
        Number of leads and lags of the market return (``dimson`` only).

    Raises
    ------
    InputError
        For an unknown model name or inconsistent options.
    """
    if name not in MODELS:
        raise InputError(f"model={name!r} is not a known model; valid: {', '.join(MODELS)}")
    if name == "market_adjusted":
        return ModelSpec(name, 0, ("market",), ())
    if name == "constant_mean":
        return ModelSpec(name, 1, (), ("alpha",))
    if name == "market":
        return ModelSpec(name, 2, ("market",), ("alpha", "beta"))
    if name == "scholes_williams":
        return ModelSpec(name, 2, ("market", "market_lag1", "market_lead1"), ("alpha", "beta"), lags=1)
    if name == "dimson":
        if int(lags) != lags or lags < 1:
            raise InputError(f"dimson_lags={lags!r} must be a positive integer")
        lags = int(lags)
        cols = tuple(f"market_lag{j}" for j in range(lags, 0, -1)) + ("market",) + tuple(
            f"market_lead{j}" for j in range(1, lags + 1)
        )
        names = ("alpha",) + tuple(f"beta_lag{j}" for j in range(lags, 0, -1)) + ("beta_0",) + tuple(
            f"beta_lead{j}" for j in range(1, lags + 1)
        )
        return ModelSpec(name, 2 + 2 * lags, cols, names, lags=lags)
    # factor
    factor_names = tuple(str(f) for f in factor_names)
    if not factor_names:
        raise InputError("model='factor' needs factors=DataFrame with at least one factor column")
    return ModelSpec(name, 1 + len(factor_names), factor_names, ("alpha",) + factor_names,
                     factor_names=factor_names)


@dataclass
class ModelFit:
    """Estimates for a chunk of N pairs (pure numpy).

    ``params`` has one column per ``spec.param_names``; ``status`` holds codes from
    ``STATUS_NAMES``. Rows whose status is not ``ok`` carry ``NaN``.
    """

    params: np.ndarray  # (N, k)
    sigma: np.ndarray  # (N,)
    n_est: np.ndarray  # (N,) int
    dof: np.ndarray  # (N,)
    r2: np.ndarray  # (N,)
    est_ar: np.ndarray  # (N, Le)
    evt_ar: np.ndarray  # (N, L)
    expected_evt: np.ndarray  # (N, L)
    cov_scale: np.ndarray  # (N,): s^2 (NaN where not estimated)
    cov_diag: np.ndarray  # (N, L): d, 1 (or the sessions a return spans)
    cov_design: np.ndarray  # (N, L, k): event-window regressors Z0, with the intercept
    cov_inverse: np.ndarray  # (N, k, k): A = (Z'WZ)^-1
    status: np.ndarray  # (N,) int8

    @property
    def covariance(self) -> ForecastCovariance:
        """V_i = s^2 (diag(d) + Z0 A Z0'), NaN where the AR is missing (factored)."""
        return ForecastCovariance(self.cov_scale, self.cov_diag, self.cov_design, self.cov_inverse,
                                  ~np.isfinite(self.evt_ar))

    @property
    def evt_cov(self) -> np.ndarray:
        """The (N, L, L) forecast-error covariances, materialised."""
        return np.asarray(self.covariance)


def _masked(a: np.ndarray, valid: np.ndarray) -> np.ndarray:
    return np.where(valid, a, 0.0)


def fit_models(
    spec: ModelSpec,
    y_est: np.ndarray,
    X_est: np.ndarray,
    valid: np.ndarray,
    y_evt: np.ndarray,
    X_evt: np.ndarray,
    *,
    span_est: np.ndarray | None = None,
    span_evt: np.ndarray | None = None,
    market_ok_est: np.ndarray | None = None,
    min_obs: int = 1,
    compat: str | None = None,
) -> ModelFit:
    """Fit ``spec`` for N pairs at once and compute abnormal returns and their covariance.

    Parameters
    ----------
    spec : ModelSpec
    y_est : ndarray (N, Le)
        Estimation-window returns (``NaN`` where missing).
    X_est : ndarray (N, Le, len(spec.regressors))
        Estimation-window regressors.
    valid : ndarray of bool (N, Le)
        Which estimation observations enter the fit (finite, not excluded).
    y_evt, X_evt : ndarray (N, L), (N, L, len(spec.regressors))
        Event-window returns and regressors.
    span_est, span_evt : ndarray, optional
        Sessions each return spans; given only for trade-to-trade estimation.
    market_ok_est : ndarray of bool (N, Le), optional
        Estimation days with a market return (estudy2 compatibility: the market mean and sum
        of squares of the forecast-error correction are taken over these days).
    min_obs : int
        Minimum number of valid estimation observations (at least ``k + 1`` is enforced).
    compat : {None, "estudy2"}
        ``"estudy2"``: sigma with divisor ``M - 1`` and the estudy2 forecast-error correction.

    Returns
    -------
    ModelFit
    """
    n, le = y_est.shape
    L = y_evt.shape[1]
    k = spec.k
    t2t = span_est is not None
    M = valid.sum(axis=1)
    status = np.zeros(n, dtype=np.int8)
    status[M < max(min_obs, k + 1)] = INSUFFICIENT
    y0 = _masked(y_est, valid)
    Mf = np.maximum(M, 1).astype(float)
    ybar = y0.sum(axis=1) / Mf
    # constant returns: no variation at all in the estimation window (up to rounding of the mean)
    dy = np.where(valid, y_est - ybar[:, None], 0.0)
    syy = np.einsum("ij,ij->i", dy, dy)
    status[(status == OK) & (syy <= M * (8 * np.finfo(float).eps * np.abs(ybar)) ** 2)] = CONSTANT

    name = spec.name
    params = np.full((n, k), np.nan)
    if name == "market_adjusted":
        if t2t:
            w = 1.0 / span_est
            e_est = y_est - X_est[..., 0]
            e_evt = y_evt - X_evt[..., 0]
            sse = (_masked(e_est, valid) ** 2 * np.where(valid, w, 0.0)).sum(axis=1)
            d_evt = np.where(np.isfinite(span_evt), span_evt, 1.0)
        else:
            e_est = y_est - X_est[..., 0]
            e_evt = y_evt - X_evt[..., 0]
            sse = (_masked(e_est, valid) ** 2).sum(axis=1)
            d_evt = np.ones((n, L))
        expected = X_evt[..., 0]
        Z, A = np.zeros((n, L, 0)), np.zeros((n, 0, 0))  # no estimated parameter
        dof = M.astype(float)
        if compat == "estudy2":
            ebar = _masked(e_est, valid).sum(axis=1) / Mf
            sse = (_masked(e_est - ebar[:, None], valid) ** 2).sum(axis=1)
            s2 = sse / np.maximum(M - 1, 1)
        else:
            s2 = sse / np.maximum(dof, 1)
        d = d_evt
        r2 = np.full(n, np.nan)
    elif name in ("constant_mean", "market") and not t2t:
        if name == "constant_mean":
            mu = ybar
            params[:, 0] = mu
            e_est = y_est - mu[:, None]
            expected = np.broadcast_to(mu[:, None], (n, L)).copy()
            e_evt = y_evt - expected
            sse = syy
            Z = np.ones((n, L, 1))
            A = (1.0 / Mf)[:, None, None]
            r2 = np.zeros(n)
        else:
            x = X_est[..., 0]
            xbar = _masked(x, valid).sum(axis=1) / Mf
            dx = _masked(x - xbar[:, None], valid)
            sxx = np.einsum("ij,ij->i", dx, dx)
            sxy = np.einsum("ij,ij->i", dx, dy)
            bad = ~(sxx > 1e-300)
            status[(status == OK) & bad] = SINGULAR
            beta = sxy / np.where(bad, 1.0, sxx)
            alpha = ybar - beta * xbar
            params[:, 0] = alpha
            params[:, 1] = beta
            # residuals on the valid days: (y - ybar) - beta (x - xbar); zero elsewhere
            e0 = dy - beta[:, None] * dx
            e_est = np.where(valid, e0, np.nan)
            expected = alpha[:, None] + beta[:, None] * X_evt[..., 0]
            e_evt = y_evt - expected
            sse = np.einsum("ij,ij->i", e0, e0)
            r2 = 1.0 - sse / np.where(syy > 0, syy, np.nan)
            if compat == "estudy2" and market_ok_est is not None:
                # estudy2: market mean and sum of squares over every market day of the window
                mk = market_ok_est & np.isfinite(x)
                cnt = np.maximum(mk.sum(axis=1), 1)
                xbar_c = _masked(x, mk).sum(axis=1) / cnt
                sxx_c = (_masked(x - xbar_c[:, None], mk) ** 2).sum(axis=1)
            else:
                xbar_c, sxx_c = xbar, sxx
            dxe = X_evt[..., 0] - xbar_c[:, None]
            # Z0 A Z0' = 1/M + dxe dxe' / sxx: intercept and centred market, A diagonal
            Z = np.stack([np.ones((n, L)), dxe], axis=2)
            A = np.zeros((n, 2, 2))
            A[:, 0, 0] = 1.0 / Mf
            A[:, 1, 1] = 1.0 / np.where(sxx_c > 0, sxx_c, np.nan)
        dof = (M - k).astype(float)
        if compat == "estudy2":
            ebar = _masked(e_est, valid).sum(axis=1) / Mf
            s2 = (_masked(e_est - ebar[:, None], valid) ** 2).sum(axis=1) / np.maximum(M - 1, 1)
        else:
            s2 = sse / np.maximum(dof, 1)
        d = np.ones((n, L))
    elif name == "scholes_williams":
        params, e_est, expected, e_evt, s2, dof, r2, d, Z, A = _scholes_williams(
            y_est, X_est, valid, y_evt, X_evt, M, status, compat
        )
    elif not t2t and name in ("factor", "dimson"):
        params, e_est, expected, e_evt, s2, dof, r2, d, Z, A = _centered_ols(
            spec, X_est, valid, dy, ybar, syy, y_evt, X_evt, M, status, compat
        )
    else:
        params, e_est, expected, e_evt, s2, dof, r2, d, Z, A = _general_ols(
            spec, y_est, X_est, valid, y_evt, X_evt, M, status, span_est, span_evt, compat
        )

    bad = status != OK
    sigma = np.sqrt(s2)
    e_est = np.where(valid, e_est, np.nan)
    params[bad] = np.nan
    for a in (sigma, r2):
        a[bad] = np.nan
    e_est[bad] = np.nan
    e_evt = np.where(bad[:, None], np.nan, e_evt)
    expected = np.where(bad[:, None], np.nan, expected)
    scale = np.where(bad, np.nan, s2)
    d = np.broadcast_to(d, (n, L))
    Z = np.broadcast_to(Z, (n, L, k))
    A = np.broadcast_to(A, (n, k, k))
    return ModelFit(params, sigma, M.astype(np.int64), dof, r2, e_est, e_evt, expected, scale, d, Z, A, status)


def _scholes_williams(y_est, X_est, valid, y_evt, X_evt, M, status, compat):
    """Scholes and Williams (1977): beta = (b_-1 + b_0 + b_+1) / (1 + 2 rho_m)."""
    n = y_est.shape[0]
    L = y_evt.shape[1]
    Mf = np.maximum(M, 1).astype(float)
    ybar = _masked(y_est, valid).sum(axis=1) / Mf
    dy = _masked(y_est - ybar[:, None], valid)
    slopes = []
    dxs = []
    for j in range(3):  # market, lag1, lead1 (3 fixed columns, not a loop over pairs)
        x = X_est[..., j]
        xbar = _masked(x, valid).sum(axis=1) / Mf
        dx = _masked(x - xbar[:, None], valid)
        sxx = (dx * dx).sum(axis=1)
        slopes.append((dx * dy).sum(axis=1) / np.where(sxx > 0, sxx, np.nan))
        dxs.append(dx)
    # first-order autocorrelation of the market over the same days (0/0 for a constant
    # market: the pair is flagged singular_design below, without a RuntimeWarning)
    d0, dl = dxs[0], dxs[1]
    with np.errstate(divide="ignore", invalid="ignore"):
        rho = (d0 * dl).sum(axis=1) / np.sqrt((d0 * d0).sum(axis=1) * (dl * dl).sum(axis=1))
        beta = (slopes[0] + slopes[1] + slopes[2]) / (1.0 + 2.0 * rho)
    x = X_est[..., 0]
    xbar = _masked(x, valid).sum(axis=1) / Mf
    alpha = ybar - beta * xbar
    bad = ~np.isfinite(beta)
    status[(status == OK) & bad] = SINGULAR
    params = np.column_stack([alpha, beta])
    e_est = y_est - alpha[:, None] - beta[:, None] * x
    expected = alpha[:, None] + beta[:, None] * X_evt[..., 0]
    e_evt = y_evt - expected
    sse = (_masked(e_est, valid) ** 2).sum(axis=1)
    syy = (dy * dy).sum(axis=1)
    r2 = 1.0 - sse / np.where(syy > 0, syy, np.nan)
    dof = (M - 2).astype(float)
    if compat == "estudy2":
        ebar = _masked(e_est, valid).sum(axis=1) / Mf
        s2 = (_masked(e_est - ebar[:, None], valid) ** 2).sum(axis=1) / np.maximum(M - 1, 1)
    else:
        s2 = sse / np.maximum(dof, 1)
    # forecast-error correction of the market model (an approximation for the SW beta)
    dx = dxs[0]
    sxx = (dx * dx).sum(axis=1)
    dxe = X_evt[..., 0] - xbar[:, None]
    Z = np.stack([np.ones((n, L)), dxe], axis=2)
    A = np.zeros((n, 2, 2))
    A[:, 0, 0] = 1.0 / Mf
    A[:, 1, 1] = 1.0 / np.where(sxx > 0, sxx, np.nan)
    return params, e_est, expected, e_evt, s2, dof, r2, np.ones((n, L)), Z, A


def _scaled_inverse(B: np.ndarray, status: np.ndarray) -> np.ndarray:
    """Inverse of stacked symmetric (N, m, m) matrices; near-singular ones (eigenvalue ratio
    below 1e-12 after scaling to a unit diagonal) are flagged ``SINGULAR``."""
    m = B.shape[-1]
    scale = np.sqrt(np.einsum("nkk->nk", B))
    scale = np.where(scale > 0, scale, 1.0)
    Bs = B / scale[:, :, None] / scale[:, None, :]
    with np.errstate(all="ignore"):
        eig = np.linalg.eigvalsh(np.where(np.isfinite(Bs), Bs, 0.0))
        singular = ~(eig[:, 0] > 1e-12 * eig[:, -1])
    status[(status == OK) & singular] = SINGULAR
    Bs = np.where(singular[:, None, None], np.eye(m)[None], Bs)
    return np.linalg.inv(Bs) / scale[:, :, None] / scale[:, None, :]


def _centered_ols(spec, X_est, valid, dy, ybar, syy, y_evt, X_evt, M, status, compat):
    """OLS with an intercept via centred regressors (Frisch-Waugh): slopes from
    dX'dX b = dX'dy, alpha = ybar - xbar'b, and z0'(Z'Z)^-1 z0 = 1/M + dx0' (dX'dX)^-1 dx0."""
    n = dy.shape[0]
    L = y_evt.shape[1]
    k = spec.k
    Mf = np.maximum(M, 1).astype(float)
    Xz = np.where(valid[..., None], X_est, 0.0)
    xbar = Xz.sum(axis=1) / Mf[:, None]  # (N, kx)
    dX = np.where(valid[..., None], X_est - xbar[:, None, :], 0.0)
    dXT = np.swapaxes(dX, 1, 2)
    Binv = _scaled_inverse(dXT @ dX, status)
    slopes = (Binv @ (dXT @ dy[..., None]))[..., 0]  # (N, kx)
    alpha = ybar - np.einsum("nk,nk->n", xbar, slopes)
    e0 = dy - (dX @ slopes[..., None])[..., 0]  # zero outside the valid days
    e_est = np.where(valid, e0, np.nan)
    expected = alpha[:, None] + (X_evt @ slopes[..., None])[..., 0]
    e_evt = y_evt - expected
    sse = np.einsum("ij,ij->i", e0, e0)
    r2 = 1.0 - sse / np.where(syy > 0, syy, np.nan)
    dof = (M - k).astype(float)
    if compat == "estudy2":
        ebar = e0.sum(axis=1) / Mf
        s2 = (_masked(e0 - ebar[:, None], valid) ** 2).sum(axis=1) / np.maximum(M - 1, 1)
    else:
        s2 = sse / np.maximum(dof, 1)
    # Z0 A Z0' = 1/M + dX0 Binv dX0': intercept and centred regressors, A block-diagonal
    dX0 = X_evt - xbar[:, None, :]
    ok0 = np.isfinite(dX0).all(axis=2)
    Z = np.concatenate([np.ones((n, L, 1)), np.where(ok0[..., None], dX0, np.nan)], axis=2)
    A = np.zeros((n, k, k))
    A[:, 0, 0] = 1.0 / Mf
    A[:, 1:, 1:] = Binv
    params = np.column_stack([alpha, slopes])
    return params, e_est, expected, e_evt, s2, dof, r2, np.ones((n, L)), Z, A


def _general_ols(spec, y_est, X_est, valid, y_evt, X_evt, M, status, span_est, span_evt, compat):
    """Stacked (weighted) least squares: Z'WZ by batched matmul, inverted on (N, k, k)."""
    n, le = y_est.shape
    L = y_evt.shape[1]
    k = spec.k
    t2t = span_est is not None
    if t2t:
        c_est = np.where(np.isfinite(span_est), span_est, 1.0)
        c_evt = np.where(np.isfinite(span_evt), span_evt, 1.0)
        w = np.where(valid, 1.0 / c_est, 0.0)
    else:
        c_est = np.ones((n, le))
        c_evt = np.ones((n, L))
        w = valid.astype(float)
    if spec.name == "constant_mean":
        Z = c_est[..., None]
        Z0 = c_evt[..., None]
    else:
        Z = np.concatenate([c_est[..., None], X_est], axis=2)
        Z0 = np.concatenate([c_evt[..., None], X_evt], axis=2)
    Zz = np.where(valid[..., None], Z, 0.0)
    y0 = _masked(y_est, valid)
    Zw = Zz * w[..., None]
    ZwT = np.swapaxes(Zw, 1, 2)
    A = ZwT @ Zz  # (N, k, k): Z'WZ
    b = (ZwT @ y0[..., None])[..., 0]  # (N, k): Z'Wy
    # singular designs (e.g. a factor constant over the window) are flagged
    Ainv = _scaled_inverse(A, status)
    theta = (Ainv @ b[..., None])[..., 0]
    e_est = y_est - (Z @ theta[..., None])[..., 0]
    expected = (Z0 @ theta[..., None])[..., 0]
    e_evt = y_evt - expected
    sse = (w * _masked(e_est, valid) ** 2).sum(axis=1)
    dof = (M - k).astype(float)
    sw = w.sum(axis=1)
    ybar_w = (w * y0).sum(axis=1) / np.where(sw > 0, sw, np.nan)
    syy = (w * _masked(y_est - ybar_w[:, None], valid) ** 2).sum(axis=1)
    r2 = 1.0 - sse / np.where(syy > 0, syy, np.nan) if spec.name != "constant_mean" else np.zeros(n)
    if compat == "estudy2":
        Mf = np.maximum(M, 1).astype(float)
        ebar = _masked(e_est, valid).sum(axis=1) / Mf
        s2 = (_masked(e_est - ebar[:, None], valid) ** 2).sum(axis=1) / np.maximum(M - 1, 1)
    else:
        s2 = sse / np.maximum(dof, 1)
    # rows with a missing regressor are NaN in Z0 (their ARs are missing too)
    Z0 = np.where(np.isfinite(Z0).all(axis=2)[..., None], Z0, np.nan)
    params = theta
    return params, e_est, expected, e_evt, s2, dof, r2, c_evt, Z0, Ainv
