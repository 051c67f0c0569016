"""What a fit returns, and the warning it gives when it stops short.

Examples
--------
>>> import numpy as np
>>> r = FitResult(np.array([1.0, 2.0]), n_iter=3, converged=True, grad_norm=1e-12,
...               losses=np.array([3.0, 1.0, 0.5]), solver="newton")
>>> r.n_iter, r.converged
(3, True)
"""

from __future__ import annotations

import contextlib
import sys
from dataclasses import dataclass, field

import numpy as np

__all__ = ["ConvergenceWarning", "FitResult"]

# scikit-learn's class, so that users' warning filters for it apply, but only
# when scikit-learn is already imported (derivreg.estimators imports it):
# importing it here would cost ``import derivreg`` a second or more.  (mypy: the name is
# rebound, and the class's base is chosen at import.)
_Base: type[Warning] = UserWarning
if sys.modules.get("sklearn") is not None:  # None: an import of it was blocked
    with contextlib.suppress(ImportError):  # a broken scikit-learn: the plain warning
        from sklearn.exceptions import ConvergenceWarning as _Base  # type: ignore[no-redef]


class ConvergenceWarning(_Base):  # type: ignore[misc,valid-type]  # a base chosen at import
    """A solver stopped before its tolerance was met.

    A subclass of scikit-learn's ``ConvergenceWarning`` when scikit-learn was
    imported before derivreg's solvers (as :mod:`derivreg.estimators` does),
    of ``UserWarning`` otherwise.

    Examples
    --------
    >>> issubclass(ConvergenceWarning, UserWarning)
    True
    """


@dataclass(frozen=True)
class FitResult:
    """The outcome of a full-batch fit.

    Attributes
    ----------
    theta : ndarray
        The parameters ``(w, b)`` (``w`` alone without an intercept).
    n_iter : int
        Iterations taken.
    converged : bool
        Whether the gradient's largest entry fell to ``tol``.
    grad_norm : float
        The gradient's largest absolute entry at ``theta``.
    losses : ndarray
        The mean loss before each iteration, and at the end.
    solver : str
        Which solver ran.
    message : str
        Why it stopped.
    passes : int
        Evaluations of the objective, i.e. passes over the data.
    line_search : str or None
        ``"armijo"`` when each step was halved until the mean loss decreased
        enough (gradient descent without ``lr``, Newton); None when the steps
        were given (``lr``) or chosen by SciPy (L-BFGS).
    hessian : ndarray or None
        The objective's Hessian at ``theta``, from the evaluation that gave
        ``grad_norm`` (Newton; None for the first-order solvers).
    """

    theta: np.ndarray
    n_iter: int
    converged: bool
    grad_norm: float
    losses: np.ndarray
    solver: str
    message: str = field(default="")
    passes: int = 0
    line_search: str | None = None
    hessian: np.ndarray | None = None
