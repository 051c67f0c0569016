"""train's full-batch side: the solvers of :mod:`derivreg.solvers` on a kernel's mean loss.

Also the checks a fit makes before it starts (the solver's needs) and after it
stops (stationarity, separable classes).  :func:`derivreg.train.train` calls
these; the names here are re-exported there.

Examples
--------
>>> SOLVERS
('sgd', 'gd', 'newton', 'lbfgs')
"""

from __future__ import annotations

import warnings
from types import ModuleType, SimpleNamespace
from typing import Literal, Protocol

import numpy as np

from derivreg import solvers
from derivreg._history import History, TrainResult

__all__ = ["SEPARATION_MAX_CELLS", "SOLVERS"]

#: ``solver`` values: the lecture's (mini-batch) SGD loop, and the full-batch
#: solvers of :mod:`derivreg.solvers` run on a
#: :class:`~derivreg.solvers.KernelObjective`.
Solver = Literal["sgd", "gd", "newton", "lbfgs"]

SOLVERS: tuple[Solver, ...] = ("sgd", "gd", "newton", "lbfgs")

#: The separation LP runs when ``m * (n + 1)`` is at most this.  Measured with
#: SciPy's HiGHS on this project's 2-core machine: 0.03 s on breast cancer
#: (569 x 30), 0.16 s at 10,000 x 10, 1.7 s at 20,000 x 50 and 2.3 s at
#: 100,000 x 10 (about 2 s per million cells), so 200,000 cells bound it to
#: a few tenths of a second (3 ms on iris, 15 ms on all of breast cancer,
#: against 1-2 ms for a Newton fit there).  Past it there is no check, even
#: with ``check_separation=True``: call :func:`derivreg.separation.is_separable`.
SEPARATION_MAX_CELLS = 200_000

#: Gradient tolerance of the full-batch solvers when ``tol`` is None.
_FULL_BATCH_TOL = 1e-8


def _grad_norm(
    kernel: ModuleType | SimpleNamespace, X: np.ndarray, y: np.ndarray, w: np.ndarray, b: float
) -> float:
    """Return the largest absolute entry of the full-batch ``dJ/d(w, b)`` (one pass).

    ``kernel`` is a kernel module, or anything with its ``grad`` (a compiled one).
    """
    with np.errstate(over="ignore", invalid="ignore"):
        dJ_dw, dJ_db = kernel.grad(X, y, w, b)
    return float(max(np.max(np.abs(dJ_dw)), abs(float(dJ_db))))


class _Solver(Protocol):
    """What the full-batch solvers of :mod:`derivreg.solvers` share."""

    def __call__(
        self, obj: solvers.Objective, theta0: np.ndarray, *, max_iter: int = ..., tol: float = ...
    ) -> solvers.FitResult: ...  # pragma: no cover


def _check_solver(solver: str, kernel: ModuleType) -> None:
    """Refuse, before any work, a solver whose needs the kernel module or install lack."""
    if solver == "newton" and getattr(kernel, "curvature", None) is None:
        working = ", ".join(repr(s) for s in SOLVERS if s != "newton")
        raise ValueError(
            f"solver='newton' needs the per-sample curvature d2J/dz2 of the loss, and the "
            f"kernel module {kernel.__name__} has no 'curvature' attribute (generated "
            f"modules have one; regenerate it).  Use one of the solvers {working}, or a "
            "kernel module with a 'curvature(z, y)' function"
        )
    if solver == "lbfgs":
        try:
            import scipy.optimize  # noqa: F401
        except ImportError:
            raise ImportError(
                "solver='lbfgs' needs SciPy, which is not installed: "
                "pip install 'derivreg[scipy]' (or use solver='gd')"
            ) from None


def _warn_if_separable(kernel: ModuleType, X: np.ndarray, y: np.ndarray) -> None:
    """Warn when a classification kernel's two classes are linearly separable (the LP)."""
    if kernel.TARGETS != "binary" or X.shape[0] * (X.shape[1] + 1) > SEPARATION_MAX_CELLS:
        return
    if np.unique(y).size != 2:
        return
    try:
        from derivreg.separation import SeparationWarning, is_separable, separation_message

        separable = is_separable(X, y)
    except ImportError:  # no SciPy: no check (documented in train)
        return
    if separable:
        warnings.warn(separation_message(X.shape[0]), SeparationWarning, stacklevel=3)


def _full_batch(
    solver: str,
    kernel: ModuleType,
    X: np.ndarray,
    y: np.ndarray,
    *,
    w: np.ndarray,
    b: float,
    max_iter: int | None,
    tol: float | None,
    record: str,
    weights: np.ndarray | None = None,
    alpha: float = 0.0,
    fit_intercept: bool = True,
) -> TrainResult:
    """Run a full-batch solver of :mod:`derivreg.solvers` on the kernel's mean loss.

    With ``weights`` the weighted mean, with ``alpha`` plus ``alpha/2 ||w||^2``
    (b unpenalised), and without an intercept ``b = 0`` throughout.
    """
    run: dict[str, _Solver] = {
        "gd": solvers.gradient_descent,
        "newton": solvers.newton,
        "lbfgs": solvers.lbfgs,
    }
    solve, stop = run[solver], _FULL_BATCH_TOL if tol is None else tol
    objective = solvers.KernelObjective(
        kernel, X, y, fit_intercept=fit_intercept, sample_weight=weights, alpha=alpha,
        validated=True,  # train's _validate: float64, shapes, finite (the labels' domain: here)
        quiet=True,  # the errstate below
    )  # fmt: skip
    # A trial step may overflow the loss; the line searches reject non-finite trials.
    with np.errstate(divide="ignore", over="ignore", invalid="ignore"):
        start = np.concatenate((w, (b,))) if fit_intercept else w
        found = (
            solve(objective, start, tol=stop)
            if max_iter is None
            else solve(objective, start, tol=stop, max_iter=max_iter)
        )
    losses = np.asarray(found.losses, dtype=np.float64)
    history = History(
        step=np.arange(losses.size, dtype=np.intp),
        loss=None if record == "none" else losses,
        w=None,
        b=None,
        accuracy=None,
        epoch_loss=losses[1:],
        n_updates=found.n_iter,
        stopped_early=found.converged,
        solver=solver,
        converged=found.converged,
        grad_norm=found.grad_norm,
        n_iter=found.n_iter,
        line_search=found.line_search,
        # the likelihood's Hessian at the returned point, for the standard errors
        hessian=found.hessian if alpha == 0 and weights is None and fit_intercept else None,
    )
    w_end, b_end = solvers.split_theta(found.theta, fit_intercept)
    return TrainResult(np.array(w_end, dtype=np.float64), float(b_end), history)
