"""Full-batch solvers as plain functions of an objective: gradient descent, Newton, L-BFGS.

Each takes an objective with ``n_params`` and ``evaluate(theta, hessian=...)``
(:class:`~derivreg.solvers.objective.KernelObjective` in memory,
:class:`~derivreg.distributed.DaskObjective` out of core) and returns a
:class:`~derivreg.solvers.result.FitResult`.  Every iteration costs one
evaluation, i.e. one pass over the data, unless its line search backtracks.
They stop when the gradient's largest entry is at most ``tol``, and warn with
:class:`~derivreg.solvers.result.ConvergenceWarning` when ``max_iter`` runs
out first.

Examples
--------
>>> import numpy as np
>>> from derivreg.kernels import KERNELS
>>> from derivreg.solvers import KernelObjective
>>> X = np.array([[0.0], [1.0], [2.0]]); y = 2 * X[:, 0] + 1
>>> r = gradient_descent(KernelObjective(KERNELS["mse"], X, y), np.zeros(2), tol=1e-10)
>>> np.round(r.theta, 6), r.converged
(array([2., 1.]), True)
"""

from __future__ import annotations

import math
import warnings
from typing import Any, Protocol

import numpy as np

from derivreg.solvers.objective import Evaluation
from derivreg.solvers.result import ConvergenceWarning, FitResult

__all__ = ["Objective", "gradient_descent", "lbfgs", "newton"]

#: Sufficient decrease (Armijo) constant and the most halvings of a step.
ARMIJO = 1e-4
MAX_HALVINGS = 60


class Objective(Protocol):
    """What a solver needs: the number of parameters and one evaluation per pass."""

    n_params: int

    def evaluate(self, theta: np.ndarray, *, hessian: bool = False) -> Evaluation:
        """Mean loss, gradient and (if asked) Hessian at ``theta``."""
        ...


def _check(theta0: object, obj: Objective, max_iter: object, tol: object) -> np.ndarray:
    theta = np.array(theta0, dtype=np.float64)
    if theta.shape != (obj.n_params,):
        raise ValueError(f"theta0 must have shape ({obj.n_params},), got {theta.shape}")
    if not np.isfinite(theta).all():
        raise ValueError("theta0 must be finite")
    if isinstance(max_iter, bool) or not isinstance(max_iter, (int, np.integer)) or max_iter < 1:
        raise ValueError(f"max_iter must be a positive integer, got {max_iter!r}")
    if isinstance(tol, bool) or not isinstance(tol, (int, float)) or not tol > 0:
        raise ValueError(f"tol must be a number > 0, got {tol!r}")
    return theta


def _finish(
    solver: str,
    theta: np.ndarray,
    it: int,
    at: Evaluation,
    losses: list[float],
    *,
    tol: float,
    passes: int,
    line_search: str | None = None,
) -> FitResult:
    norm = _largest(at.grad)
    converged = norm <= tol
    message = "gradient within tol" if converged else f"max_iter={it} reached"
    if not converged:
        warnings.warn(
            f"{solver} stopped after {it} iterations with gradient norm {norm:.3g} > tol={tol:g}; "
            "raise max_iter, or check the data (separable classes have no finite optimum)",
            ConvergenceWarning,
            stacklevel=3,
        )
    # at is the evaluation at theta: its Hessian (Newton's) is the returned point's
    return FitResult(
        theta,
        it,
        converged,
        norm,
        np.array(losses),
        solver,
        message,
        passes,
        line_search,
        at.hessian,
    )


def _largest(grad: np.ndarray) -> float:
    """Return the gradient's largest absolute entry (NaN if one is NaN): the stopping test."""
    return float(np.abs(grad).max())


class _Counted:
    """An objective that counts its evaluations (passes over the data)."""

    def __init__(self, obj: Objective) -> None:
        self.obj, self.n_params, self.passes = obj, obj.n_params, 0

    def evaluate(self, theta: np.ndarray, *, hessian: bool = False) -> Evaluation:
        self.passes += 1
        return self.obj.evaluate(theta, hessian=hessian)


def _line_search(
    obj: Objective,
    theta: np.ndarray,
    at: Evaluation,
    direction: np.ndarray,
    step: float,
    *,
    hessian: bool = False,
) -> tuple[np.ndarray, Evaluation, float] | None:
    """Halve ``step`` until the Armijo condition holds; None if it never does.

    Each trial is evaluated with the Hessian when the caller asks, so that an
    accepted trial serves the next iteration: one pass per iteration when no
    step is halved.
    """
    slope = float(at.grad @ direction)
    for _ in range(MAX_HALVINGS):
        trial = theta + step * direction
        try:
            new = obj.evaluate(trial, hessian=hessian)
        except FloatingPointError:  # the trial's loss does not fit float64: too far
            step /= 2
            continue
        if math.isfinite(new.value) and new.value <= at.value + ARMIJO * step * slope:
            return trial, new, step
        step /= 2
    return None


def gradient_descent(
    obj: Objective,
    theta0: np.ndarray,
    *,
    lr: float | None = None,
    max_iter: int = 10_000,
    tol: float = 1e-8,
) -> FitResult:
    """Full-batch gradient descent, with a fixed ``lr`` or (default) a line search.

    Without ``lr``, each step tries the Barzilai-Borwein length
    ``s^T s / s^T r`` (``s`` the last step, ``r`` the change of gradient),
    then halves it until the mean loss decreases enough (Armijo).  This needs
    neither a curvature bound nor convexity, so it serves pairs whose
    curvature is unbounded (Poisson, Gamma), and the loss never increases.

    Examples
    --------
    >>> from derivreg.kernels import KERNELS
    >>> from derivreg.solvers import KernelObjective
    >>> X = np.array([[1.0], [3.0]]); y = np.array([2.0, 6.0])
    >>> r = gradient_descent(KernelObjective(KERNELS["mse"], X, y, fit_intercept=False), [0.0])
    >>> round(float(r.theta[0]), 6)
    2.0
    """
    theta = _check(theta0, obj, max_iter, tol)
    obj = _Counted(obj)
    at = obj.evaluate(theta)
    losses, step, it = [at.value], 1.0 if lr is None else float(lr), 0
    while it < max_iter and _largest(at.grad) > tol:
        it += 1
        if lr is not None:
            theta = theta - step * at.grad
            at = obj.evaluate(theta)
        else:
            found = _line_search(obj, theta, at, -at.grad, step)
            if found is None:
                break
            new_theta, new_at, _ = found
            s, r = new_theta - theta, new_at.grad - at.grad
            curvature = float(s @ r)
            step = float(s @ s) / curvature if curvature > 0 else 2 * step
            theta, at = new_theta, new_at
        losses.append(at.value)
    searched = None if lr is not None else "armijo"
    return _finish("gd", theta, it, at, losses, tol=tol, passes=obj.passes, line_search=searched)


def newton(
    obj: Objective, theta0: np.ndarray, *, max_iter: int = 100, tol: float = 1e-8
) -> FitResult:
    """Newton's method (IRLS for a canonical link): a Cholesky solve, then step halving.

    Where the Hessian is not positive definite (a non-convex pair, or
    directions the data do not determine), the step falls back to steepest
    descent under the same line search, which needs no convexity.

    Examples
    --------
    >>> from derivreg.kernels import KERNELS
    >>> from derivreg.solvers import KernelObjective
    >>> X = np.array([[0.0], [1.0], [2.0]]); y = 2 * X[:, 0] + 1
    >>> two = lambda z, y: np.full_like(z, 2.0)  # MSE's d2J/dz2
    >>> r = newton(KernelObjective(KERNELS["mse"], X, y, curvature=two), np.zeros(2))
    >>> np.round(r.theta, 9), r.n_iter
    (array([2., 1.]), 1)
    """
    theta = _check(theta0, obj, max_iter, tol)
    obj = _Counted(obj)
    at = obj.evaluate(theta, hessian=True)
    losses, it = [at.value], 0
    while it < max_iter and _largest(at.grad) > tol:
        it += 1
        found = _line_search(obj, theta, at, _newton_direction(at), 1.0, hessian=True)
        if found is None:
            break
        theta, at, _ = found
        losses.append(at.value)
    return _finish(
        "newton", theta, it, at, losses, tol=tol, passes=obj.passes, line_search="armijo"
    )


def _newton_direction(at: Evaluation) -> np.ndarray:
    assert at.hessian is not None
    try:  # the factorisation is the test of positive definiteness
        np.linalg.cholesky(at.hessian)
    except np.linalg.LinAlgError:
        return -at.grad
    # one LU solve: NumPy has no triangular solve, and two general solves on the
    # factor cost more than one on H (a few microseconds each at these sizes)
    return -np.linalg.solve(at.hessian, at.grad)


def lbfgs(
    obj: Objective, theta0: np.ndarray, *, max_iter: int = 1000, tol: float = 1e-8
) -> FitResult:
    """L-BFGS through ``scipy.optimize.minimize`` (needs the extra 'scipy').

    Examples
    --------
    >>> from derivreg.kernels import KERNELS
    >>> from derivreg.solvers import KernelObjective
    >>> X = np.array([[0.0], [1.0], [2.0]]); y = 2 * X[:, 0] + 1
    >>> r = lbfgs(KernelObjective(KERNELS["mse"], X, y), np.zeros(2), tol=1e-10)
    >>> np.round(r.theta, 6)
    array([2., 1.])
    """
    try:
        from scipy.optimize import minimize
    except ImportError:  # pragma: no cover - exercised without SciPy
        raise ImportError("solver='lbfgs' needs SciPy: pip install 'derivreg[scipy]'") from None
    theta = _check(theta0, obj, max_iter, tol)
    obj = _Counted(obj)
    losses: list[float] = []

    def fun(t: np.ndarray) -> tuple[float, np.ndarray]:
        at = obj.evaluate(t)
        losses.append(at.value)
        return at.value, at.grad

    options: dict[str, Any] = {"maxiter": max_iter, "gtol": tol, "ftol": 0.0}
    found = minimize(fun, theta, jac=True, method="L-BFGS-B", options=options)
    at = obj.evaluate(found.x)
    losses.append(at.value)
    return _finish("lbfgs", found.x, int(found.nit), at, losses, tol=tol, passes=obj.passes)
