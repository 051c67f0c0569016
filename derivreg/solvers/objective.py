"""The mean loss of a generated kernel module as a function of ``theta = (w, b)``.

Solvers see only :class:`Evaluation` values: the mean loss, its gradient and,
its Hessian ``X~^T diag(d2J/dz2) X~ / m`` with ``X~ = [X, 1]``, from the
kernel module's generated ``hessian`` (or a per-sample ``curvature``).  The data are
visited in row blocks through :func:`block_sums`, the one function that
touches rows; :mod:`derivreg.distributed` maps the same function over the
chunks of a Dask array, so in-memory and out-of-core fits differ only in
the order of summation.

Examples
--------
>>> import numpy as np
>>> from derivreg.kernels import KERNELS
>>> obj = KernelObjective(KERNELS["mse"], np.array([[1.0], [2.0]]), np.array([1.0, 3.0]))
>>> obj.evaluate(np.array([0.0, 0.0])).value  # (1 + 9) / 2
5.0
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from types import ModuleType
from typing import Any

import numpy as np

from derivreg._sparse import issparse

__all__ = ["Evaluation", "KernelObjective", "block_sums", "no_hessian", "split_theta"]

#: Per-sample curvature: ``d2J/dz2`` from the scores z and the labels y.
Curvature = Callable[[np.ndarray, np.ndarray], np.ndarray]

#: Rows per block for in-memory sums: bounds the Hessian's temporaries to
#: BLOCK_ROWS x (n + 1) floats.
BLOCK_ROWS = 65536


@dataclass(frozen=True)
class Evaluation:
    """The mean loss at ``theta``, its gradient, and its Hessian when asked for."""

    value: float
    grad: np.ndarray
    hessian: np.ndarray | None = None


def split_theta(theta: np.ndarray, fit_intercept: bool) -> tuple[np.ndarray, float]:
    """``(w, b)`` from ``theta``: the last entry is ``b`` when the intercept is fitted.

    Examples
    --------
    >>> split_theta(np.array([1.0, 2.0, 3.0]), True)
    (array([1., 2.]), 3.0)
    >>> split_theta(np.array([1.0, 2.0]), False)
    (array([1., 2.]), 0.0)
    """
    if fit_intercept:
        return theta[:-1], float(theta[-1])
    return theta, 0.0


def block_sums(
    X: np.ndarray,
    y: np.ndarray,
    theta: np.ndarray,
    kernels: ModuleType,
    *,
    fit_intercept: bool = True,
    curvature: Curvature | None = None,
    hessian: bool = False,
    sample_weight: np.ndarray | None = None,
) -> np.ndarray:
    """Sum over the rows of one block: ``[m * J, m * dJ/dtheta, m * H (flat), m]``.

    The kernels return means; a mean times the block's rows is the block's sum
    up to one rounding.  Summing these over blocks and dividing by the total
    rows gives the mean over the whole data set.  ``H`` is there when
    ``hessian`` is True (from the module's generated ``hessian``) or a
    ``curvature`` is given (``X~^T diag(curvature) X~`` with ``X~ = [X, 1]``).
    With ``sample_weight``, the block's weighted mean times its total weight,
    which stands for ``m`` (a block of weights all zero adds nothing).

    Examples
    --------
    >>> from derivreg.kernels import KERNELS
    >>> block_sums(np.array([[1.0], [2.0]]), np.array([1.0, 3.0]), np.zeros(2), KERNELS["mse"])
    array([ 10., -14.,  -8.,   2.])
    """
    w, b = split_theta(theta, fit_intercept)
    m = X.shape[0]
    n_params = theta.size
    if sample_weight is not None and not np.any(sample_weight):
        return np.zeros(2 + n_params + (n_params**2 if curvature is not None or hessian else 0))
    if sample_weight is not None:
        m = float(np.sum(sample_weight))  # the weighted means times the block's weight
    # one check of the block and one z, not three: a Dask pass's cost
    fused = getattr(kernels, "newton_terms", None) if hessian and not issparse(X) else None
    if fused is not None and curvature is None and sample_weight is None:
        value, g, H = fused(X, y, w, b)
        if not fit_intercept:
            g, H = g[:-1], H[:-1, :-1]
        return np.concatenate([[value * m], g * m, H.ravel() * m, [float(m)]])
    weighted = {} if sample_weight is None else {"sample_weight": sample_weight}
    value = kernels.loss(X, y, w, b, **weighted) * m
    dJ_dw, dJ_db = kernels.grad(X, y, w, b, **weighted)
    grad = np.append(dJ_dw, dJ_db) if fit_intercept else np.asarray(dJ_dw)
    parts = [np.array([value]), grad * m]
    if curvature is not None or hessian:
        parts.append(_hessian_sum(X, y, w, b, kernels, fit_intercept, curvature, sample_weight))
    parts.append(np.array([float(m)]))
    return np.concatenate(parts)


def _sparse_hessian(X: Any, c: np.ndarray, fit_intercept: bool) -> np.ndarray:
    """``[X, 1]^T diag(c) [X, 1]`` (or ``X^T diag(c) X``) for a CSR X, as a dense array."""
    cX = X.multiply(c[:, None]).tocsr()  # c_i x_i, same pattern
    top = np.asarray((X.T @ cX).todense())
    if not fit_intercept:
        return top
    side = np.asarray(cX.sum(axis=0)).ravel()  # sum_i c_i x_i
    return np.block([[top, side[:, None]], [side[None, :], np.array([[c.sum()]])]])


def _hessian_sum(  # noqa: PLR0917 - block_sums' arguments, passed on
    X: np.ndarray,
    y: np.ndarray,
    w: np.ndarray,
    b: float,
    kernels: ModuleType,
    fit_intercept: bool,
    curvature: Curvature | None,
    sample_weight: np.ndarray | None = None,
) -> np.ndarray:
    """``m H`` of one block, flat: the module's generated ``hessian``, else from a curvature.

    Weighted, ``X~^T diag(s c) X~`` with the weights unscaled, as ``block_sums``' ``m`` is.
    """
    m = X.shape[0]
    generated = getattr(kernels, "hessian", None)
    plain = curvature is None and sample_weight is None and not issparse(X)
    if plain and generated is not None:
        H = generated(X, y, w, b) * m  # (n + 1, n + 1), the intercept last
        return (H if fit_intercept else H[:-1, :-1]).ravel()
    c = (curvature or kernels.curvature)(X @ w + b, y)
    if sample_weight is not None:
        c = c * sample_weight
    if issparse(X):  # X^T diag(c) X without densifying X: the n x n result is dense
        return _sparse_hessian(X, c, fit_intercept).ravel()
    Xt = np.hstack([X, np.ones((m, 1))]) if fit_intercept else X
    return (Xt.T @ (c[:, None] * Xt)).ravel()


def no_hessian(kernels: ModuleType) -> ValueError:
    """Return the error for a Hessian asked of a kernel module with no per-sample curvature.

    Examples
    --------
    >>> from derivreg.kernels import KERNELS
    >>> str(no_hessian(KERNELS["mse"]))[:45]
    'derivreg.kernels.mse provides no per-sample c'
    """
    return ValueError(
        f"{kernels.__name__} provides no per-sample curvature, so no Hessian; "
        "use a first-order solver ('gd' or 'lbfgs')"
    )


def unpack(total: np.ndarray, n_params: int, hessian: bool) -> Evaluation:
    """Turn summed :func:`block_sums` into means: an :class:`Evaluation`."""
    m = total[-1]
    grad = total[1 : 1 + n_params] / m
    hess = None
    if hessian:
        hess = total[1 + n_params : 1 + n_params + n_params**2].reshape(n_params, n_params) / m
        hess = (hess + hess.T) / 2  # exact symmetry; the two triangles agree to rounding
    return Evaluation(float(total[0] / m), grad, hess)


class KernelObjective:
    """The mean loss of a kernel module over in-memory ``X`` (m, n) and ``y`` (m,).

    Parameters
    ----------
    kernels : module
        A generated kernel module (``derivreg.kernels.KERNELS[name]`` or a
        user's), providing ``loss`` and ``grad``; its ``hessian`` (or, for a
        user's module without one, its per-sample ``curvature(z, y)``) gives
        the Hessian.
    X, y : ndarray
        The data, float64; they are never modified.
    fit_intercept : bool, default True
        Whether ``theta`` ends with the intercept ``b`` (else ``b = 0``).
    curvature : callable, optional
        Overrides the module's Hessian: ``X~^T diag(curvature(z, y)) X~ / m``.
    sample_weight : ndarray of shape (m,), optional
        Weights of the rows: the objective is the weighted mean.
    alpha : float, default 0.0
        L2 strength: the objective adds ``alpha/2 ||w||^2`` (never on ``b``),
        its gradient the kernel's ``dR_dw(w, alpha)``, its Hessian
        ``alpha`` on the weights' diagonal.
    validated : bool, default False
        True when the caller has checked X and y as the kernels would
        (float64, shapes, finite; :func:`derivreg.train.train` does): the
        fused kernel then runs unchecked from its first call, after the
        labels' domain check, so a fit checks its inputs once.
    quiet : bool, default False
        True when the caller runs the solver under
        ``np.errstate(divide="ignore", over="ignore", invalid="ignore")``
        (:func:`derivreg.train.train` does): the fused kernel then runs
        without entering that state itself, once per evaluation.  The
        results are checked for finiteness either way.

    Examples
    --------
    >>> from derivreg.kernels import KERNELS
    >>> obj = KernelObjective(KERNELS["bce"], np.array([[1.0], [-1.0]]), np.array([1.0, 0.0]))
    >>> obj.n_params, obj.has_hessian
    (2, True)
    >>> obj.evaluate(np.zeros(2), hessian=True).hessian  # sigma(0) sigma(-0) = 1/4
    array([[0.25, 0.  ],
           [0.  , 0.25]])
    """

    def __init__(
        self,
        kernels: ModuleType,
        X: np.ndarray,
        y: np.ndarray,
        *,
        fit_intercept: bool = True,
        curvature: Curvature | None = None,
        sample_weight: np.ndarray | None = None,
        alpha: float = 0.0,
        validated: bool = False,
        quiet: bool = False,
    ) -> None:
        self.kernels = kernels
        self.sample_weight, self.alpha = sample_weight, float(alpha)
        self.X, self.y = X, y
        self.fit_intercept = fit_intercept
        self._override = curvature
        self.curvature = curvature if curvature is not None else getattr(kernels, "curvature", None)
        self.n_params = X.shape[1] + int(fit_intercept)
        self.n_samples = X.shape[0]
        # the generated fused kernel (loss, gradient and Hessian from one z) where it
        # applies: dense X, no weights, no curvature override
        plain = curvature is None and sample_weight is None and not issparse(X)
        self._fused = getattr(kernels, "newton_terms", None) if plain else None
        # the fused kernel's inputs: checked on its first call, unless the caller has
        self._checked = False
        self._quiet = quiet
        if validated and self._fused is not None:
            in_domain = getattr(kernels, "_in_domain", None)  # the generated label check
            if in_domain is not None and not in_domain(y):
                raise ValueError(
                    f"Some value(s) of y are out of the valid range of the loss "
                    f"{kernels.NAME!r}: y must lie in {kernels.DOMAIN}; got values in "
                    f"[{y.min()}, {y.max()}]"
                )
            self._checked = in_domain is not None

    @property
    def has_hessian(self) -> bool:
        """Whether :meth:`evaluate` can return the Hessian."""
        return self.curvature is not None

    def evaluate(self, theta: np.ndarray, *, hessian: bool = False) -> Evaluation:
        """Return the mean loss, gradient (and Hessian) at ``theta``, summed block by block."""
        if hessian and self.curvature is None:
            raise no_hessian(self.kernels)
        if hessian and self._fused is not None:
            found = self._newton_terms(theta)
            if found is not None:
                return found if not self.alpha else self._penalized(found, theta)
        sw = self.sample_weight
        total = sum(
            block_sums(
                self.X[i : i + BLOCK_ROWS],
                self.y[i : i + BLOCK_ROWS],
                theta,
                self.kernels,
                fit_intercept=self.fit_intercept,
                curvature=self._override if hessian else None,
                hessian=hessian,
                sample_weight=None if sw is None else sw[i : i + BLOCK_ROWS],
            )
            for i in range(0, self.n_samples, BLOCK_ROWS)
        )
        found = unpack(np.asarray(total), self.n_params, hessian)
        return found if not self.alpha else self._penalized(found, theta)

    def _newton_terms(self, theta: np.ndarray) -> Evaluation | None:
        """Return the fused kernel's loss, gradient and Hessian; None unless all are finite.

        The first call is the checked ``newton_terms``, which checks ``X`` and
        ``y`` (float64 arrays, as the constructor's ``shape`` reads needed);
        later calls run its unchecked kernel ``_newton_terms`` on them, with
        ``theta`` the solver's (finite: a sum of finite steps).  A non-finite
        result (an overflow, or a limit the checked kernels compute apart)
        returns None: the caller then takes the checked kernels' path, which
        gives the limit or raises ``FloatingPointError``.
        """
        w, b = split_theta(theta, self.fit_intercept)
        # overflow is seen in the result, as the checked kernels see it (they raise their
        # own errors, not NumPy's); a sum of finite terms may overflow too
        if self._quiet:  # the caller holds np.errstate(divide, over, invalid="ignore")
            value, g, H, finite = self._fused_terms(w, b)
        else:
            with np.errstate(divide="ignore", over="ignore", invalid="ignore"):
                value, g, H, finite = self._fused_terms(w, b)
        if not finite:
            return None
        if not self.fit_intercept:
            g, H = g[:-1], H[:-1, :-1]
        return Evaluation(float(value), g, (H + H.T) / 2)

    def _fused_terms(self, w: np.ndarray, b: float) -> tuple[float, np.ndarray, np.ndarray, bool]:
        """Return the fused kernel's terms at ``(w, b)`` and whether all are finite.

        Checked on the first call, unless the caller has checked (``validated``).
        """
        if self._checked:
            value, g, H = self.kernels._newton_terms(self.X, self.y, w, b)
        else:
            fused = self._fused
            assert fused is not None  # evaluate calls this only where the kernel has one
            value, g, H = fused(self.X, self.y, w, b)
            self._checked = True
        return value, g, H, math.isfinite(value + g.sum() + H.sum())

    def _penalized(self, found: Evaluation, theta: np.ndarray) -> Evaluation:
        """Add the L2 term: its value, the kernel's ``dR_dw`` and ``alpha`` on the Hessian.

        The Hessian of ``alpha/2 ||w||^2`` is ``alpha I`` on the weights and 0
        on the intercept (for Newton and the Fisher information of a
        penalised fit).
        """
        w, _ = split_theta(theta, self.fit_intercept)
        dR = self.kernels.dR_dw(w, self.alpha)
        grad = found.grad.copy()
        grad[: w.size] += dR
        hess = found.hessian
        if hess is not None:
            hess = hess.copy()
            hess[np.arange(w.size), np.arange(w.size)] += self.alpha
        return Evaluation(found.value + float(w @ dR) / 2, grad, hess)
