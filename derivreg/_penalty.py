"""train's penalties, sample weights and ``lr="auto"``: settings, steps and step sizes.

scikit-learn's names and semantics (``SGDRegressor``, ``ElasticNet``): with
``penalty`` one of None, "l2", "l1", "elasticnet", strength ``alpha >= 0`` and
``l1_ratio`` in [0, 1] (elastic net only; "l2" is ``l1_ratio = 0`` and "l1" is
``l1_ratio = 1``), the objective is::

    weighted mean of J  +  alpha * (l1_ratio * ||w||_1 + (1 - l1_ratio) / 2 * ||w||^2)

and the intercept ``b`` is never penalised.  The L2 part is the kernels'
``alpha=`` keyword (its gradient ``alpha * w`` is derived and generated);
the L1 part is the generated proximal step ``soft_threshold`` after each
update, at threshold ``lr * alpha * l1_ratio``.  Note that derivreg's
squared error is ``(y - yhat)^2``, twice scikit-learn's ``squared_error``
(``(y - yhat)^2 / 2``), so ``alpha`` here is twice ``SGDRegressor``'s for the
same fit.  Nothing here names a loss: all comes from the kernel module.

Examples
--------
>>> p = check_penalty("elasticnet", 0.1, 0.25, "train")
>>> p.l2, p.l1
(0.07500000000000001, 0.025)
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from types import ModuleType

import numpy as np
from numpy.typing import ArrayLike

from derivreg import _params
from derivreg._sparse import row_norms2

__all__ = [
    "NO_PENALTY",
    "PENALTIES",
    "Penalty",
    "auto_lr",
    "check_penalty",
    "check_weights",
    "objective",
    "stationarity",
    "step",
    "top_eigenvalue",
]

#: ``penalty`` values, scikit-learn's.
PENALTIES = (None, "l2", "l1", "elasticnet")

#: Power iteration: stop when the estimate changes by less than this (relative),
#: or after POWER_MAX_ITER products with X~ and X~^T.
POWER_TOL = 1e-3
POWER_MAX_ITER = 100


@dataclass(frozen=True)
class Penalty:
    """The checked penalty: its L2 strength (the kernels' ``alpha``) and its L1 strength.

    Examples
    --------
    >>> Penalty(0.0, 0.0).none
    True
    """

    l2: float
    l1: float

    @property
    def none(self) -> bool:
        """Whether there is no penalty at all."""
        return self.l2 == 0.0 and self.l1 == 0.0


#: No penalty at all.
NO_PENALTY = Penalty(0.0, 0.0)


def check_penalty(penalty: object, alpha: object, l1_ratio: object, owner: str) -> Penalty:
    """Check ``penalty``, ``alpha`` and ``l1_ratio``; return the two strengths.

    Examples
    --------
    >>> check_penalty(None, 0.0001, 0.15, "train")
    Penalty(l2=0.0, l1=0.0)
    >>> check_penalty("l1", 0.5, 0.15, "train")
    Penalty(l2=0.0, l1=0.5)
    """
    if penalty is not None and penalty not in PENALTIES:
        raise _params.refuse("penalty", owner, "one of None, 'l2', 'l1', 'elasticnet'", penalty)
    strength = _params.real("alpha", alpha, owner, 0.0, high_open=True)
    ratio = _params.real("l1_ratio", l1_ratio, owner, 0.0, 1.0)
    if penalty is None:
        return NO_PENALTY
    ratio = {"l2": 0.0, "l1": 1.0}.get(penalty, ratio)
    return Penalty(strength * (1.0 - ratio), strength * ratio)


def check_weights(sample_weight: ArrayLike | None, X: np.ndarray) -> np.ndarray | None:
    """Return ``sample_weight`` as float64 (m,), unscaled; None for none.

    Checked by the kernels' own ``_check_sample_weight`` (scikit-learn's rules:
    shape, finite, non-negative, not all zero).
    """
    if sample_weight is None:
        return None
    from derivreg.kernels._checks import _check_sample_weight

    _check_sample_weight(sample_weight, X)
    if np.ndim(sample_weight) == 0:
        return np.full(X.shape[0], float(sample_weight))  # type: ignore[arg-type]  # checked
    return np.array(sample_weight, dtype=np.float64)


def top_eigenvalue(X: np.ndarray, weights: np.ndarray | None, fit_intercept: bool) -> float:
    """Largest eigenvalue of ``X~^T S X~ / m`` (X~ = [X, 1], S the weights of mean 1).

    A power iteration from a seeded Gaussian start (NumPy only, the same
    start every call), stopped when the Rayleigh quotient changes by less
    than :data:`POWER_TOL` (relative) or after :data:`POWER_MAX_ITER` steps.
    The quotient never exceeds the eigenvalue; :func:`auto_lr` allows it to
    be up to 2x low.

    Examples
    --------
    >>> round(top_eigenvalue(np.array([[1.0], [-1.0]]), None, False), 6)
    1.0
    """
    m = X.shape[0]
    s = np.ones(m) if weights is None else weights * (m / float(np.sum(weights)))
    vec = np.random.default_rng(0).standard_normal(X.shape[1] + int(fit_intercept))
    estimate = 0.0
    for _ in range(POWER_MAX_ITER):
        vec = vec / np.linalg.norm(vec)
        z = X @ vec[: X.shape[1]] + (vec[-1] if fit_intercept else 0.0)
        sz = s * z
        image = np.append(X.T @ sz, np.sum(sz)) if fit_intercept else X.T @ sz
        image = image / m
        new = float(vec @ image)
        if not np.any(image) or abs(new - estimate) <= POWER_TOL * abs(new):
            return max(new, 0.0)
        estimate, vec = new, image
    return estimate


def auto_lr(
    kernel: ModuleType,
    X: np.ndarray,
    *,
    batch_size: int,
    penalty: Penalty,
    weights: np.ndarray | None,
    fit_intercept: bool,
    per_sample: bool | None = None,
) -> float:
    """``lr="auto"``: half the step that gradient descent on the batch objective contracts at.

    The batch objective's Hessian is at most ``(2/c) H + alpha_l2 I`` with
    ``c`` the kernel's STEP_SIZE_NUMERATOR (``2 / sup d2J/dz2``) and ``H`` the
    rows' mean ``x~ x~^T`` (weighted); descent contracts for ``lr < 2/L``
    with ``L`` its largest eigenvalue, and "auto" is ``1/L``.  For one row
    (per-sample SGD) ``L = (2/c) max_i s_i ||x~_i||^2 + alpha_l2`` (``s_i``
    the weights, which scale each step); for the whole data ``(2/c)
    lambda_max(H) + alpha_l2`` by :func:`top_eigenvalue`; for a mini-batch
    of B rows the smaller of ``max_i ||x~_i||^2`` and ``lambda_max(X~^T X~) / B``
    (weighted mini-batches: the former; a weighted mean of rows is at most
    their largest).  The factor 2 below the limit is the safety margin: the
    power iteration's estimate is never above the eigenvalue and is taken as
    at least half of it, so ``1/L`` stays below ``2/L`` true.  Where the
    curvature is unbounded (c = 0.0), see :func:`auto_lr_unbounded`.
    ``per_sample`` (default: ``batch_size == 1``) says whether the weights scale
    the steps (per-sample SGD) or weight the mean (any batch, one row included).
    """
    c = float(kernel.STEP_SIZE_NUMERATOR)
    if c == 0.0:
        return auto_lr_unbounded(kernel)
    m = X.shape[0]
    with np.errstate(over="ignore"):
        rows = row_norms2(X) + float(fit_intercept)
    if batch_size == 1 if per_sample is None else per_sample:
        q = float(np.max(rows if weights is None else weights * rows))
    elif batch_size >= m:
        q = top_eigenvalue(X, weights, fit_intercept)
    else:
        q = float(np.max(rows))
        if weights is None:
            q = min(q, top_eigenvalue(X, None, fit_intercept) * m / batch_size)
    L = 2.0 / c * q + penalty.l2
    if not math.isfinite(L):
        raise FloatingPointError(
            f"lr='auto' is 1/L with L = (2/{c:g}) max||(x,1)||^2 + alpha, which overflows "
            "float64; rescale X (e.g. standardize it) or pass a number as lr"
        )
    if L == 0.0:  # all-zero X without an intercept: any step is stable
        return 1.0
    return 1.0 / L


def auto_lr_unbounded(kernel: ModuleType) -> float:
    """``lr="auto"`` where the kernel's curvature is unbounded (STEP_SIZE_NUMERATOR == 0.0).

    No constant step is safe there; a backtracking line search is the
    answer (issue 12, section 4), written apart from the bounded case.

    Raises
    ------
    ValueError
        Always, for now, naming the kernel module.
    """
    raise ValueError(
        f"lr='auto' needs a bounded curvature, and {kernel.__name__} has none "
        "(STEP_SIZE_NUMERATOR = 0.0): pass a number as lr, or use a full-batch solver"
    )


def step(  # noqa: PLR0917
    kernel: ModuleType,
    Xb: np.ndarray,
    yb: np.ndarray,
    w: np.ndarray,
    b: float,
    lr: float,
    weights: np.ndarray | None,
    penalty: Penalty,
    fit_intercept: bool,
    per_sample: bool = False,
) -> tuple[np.ndarray, float]:
    """One update on a batch: the kernel's (weighted, L2-penalised) step, then the L1 prox.

    ``per_sample`` (per-sample SGD, as scikit-learn's ``SGDRegressor``, one row):
    the weight scales the loss's step, not the penalty's, so a zero weight
    still shrinks ``w``.  More rows: the weighted mean (a batch whose weights
    are all zero moves only by the penalty).  Without an intercept ``b`` stays 0.
    """
    if weights is None:  # keywords only when asked for: a kernel module may predate them
        extra = {"alpha": penalty.l2} if penalty.l2 else {}
        w_new, b_new = kernel.update(Xb, yb, w, b, lr, **extra)
    elif per_sample or not np.any(weights):
        rate = lr * float(weights[0]) if per_sample else 0.0
        w_new, b_new = kernel.update(Xb, yb, w, b, rate)
        w_new = w_new - lr * kernel.dR_dw(w, penalty.l2)
    else:
        w_new, b_new = kernel.update(Xb, yb, w, b, lr, sample_weight=weights, alpha=penalty.l2)
    if penalty.l1:
        w_new = kernel.soft_threshold(w_new, lr * penalty.l1)
    return w_new, (float(b_new) if fit_intercept else 0.0)


def weighted_mean(L: np.ndarray, weights: np.ndarray | None) -> float:
    """Return the (weighted) mean of per-sample losses (the plain mean for weights all zero)."""
    total = 0.0 if weights is None else float(np.sum(weights))
    if weights is None or not total > 0:
        return float(np.mean(L))
    return float(np.sum(weights / total * L))


def objective(
    kernel: ModuleType, L: np.ndarray, w: np.ndarray, weights: np.ndarray | None, penalty: Penalty
) -> float:
    """Return the objective from the per-sample losses ``L``: weighted mean plus the penalty.

    The L2 term is ``w . dR_dw(w, alpha) / 2`` from the generated ``dR_dw``.
    """
    value = weighted_mean(L, weights)
    if penalty.l2:
        value += float(w @ kernel.dR_dw(w, penalty.l2)) / 2
    if penalty.l1:
        value += penalty.l1 * float(np.sum(np.abs(w)))
    return value


def stationarity(  # noqa: PLR0917
    kernel: ModuleType,
    X: np.ndarray,
    y: np.ndarray,
    w: np.ndarray,
    b: float,
    weights: np.ndarray | None,
    penalty: Penalty,
    fit_intercept: bool,
) -> float:
    """Return the largest entry of the objective's minimum-norm (sub)gradient over all data.

    With an L1 part, entry j is ``g_j + l1 sign(w_j)`` where ``w_j != 0`` and
    ``soft_threshold(g_j, l1)`` where ``w_j = 0`` (0 when ``|g_j| <= l1``: a
    stationary point of the non-smooth objective).  The intercept's entry
    only when it is fitted.
    """
    extra: dict[str, object] = {} if weights is None else {"sample_weight": weights}
    if penalty.l2:
        extra["alpha"] = penalty.l2
    with np.errstate(over="ignore", invalid="ignore"):
        g, g_b = kernel.grad(X, y, w, b, **extra)
    if penalty.l1:
        shrunk = kernel.soft_threshold(g, penalty.l1)
        g = np.where(w != 0, g + penalty.l1 * np.sign(w), shrunk)
    top = float(np.max(np.abs(g)))
    return max(top, abs(float(g_b))) if fit_intercept else top
