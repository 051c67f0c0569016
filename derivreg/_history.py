"""What :func:`derivreg.train.train` returns and raises: History, TrainResult, DivergenceError.

Importable from :mod:`derivreg.train`, where they are documented with
:func:`~derivreg.train.train`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

__all__ = ["DivergenceError", "History", "TrainResult"]


class DivergenceError(FloatingPointError):
    """Training diverged: a non-finite value, or a loss past the divergence bound.

    Attributes
    ----------
    lr : float
        The learning rate of the failing update.
    step_size_bound : float
        ``c / max ||(x, 1)||^2`` over the samples seen so far (``c`` is 1 for
        MSE, 8 for BCE); per-sample SGD is stable below it.
    update : int
        Index of the update at which divergence was detected.
    loss : float
        The offending loss value (nan when a parameter became non-finite).

    Examples
    --------
    >>> import numpy as np
    >>> from derivreg.train import train
    >>> X, y = np.array([[3.0], [-2.0]]), np.array([1.0, 2.0])
    >>> try:
    ...     train(X, y, lr=1.0, epochs=50)
    ... except DivergenceError as err:
    ...     print(round(err.step_size_bound, 3), err.lr)
    0.1 1.0
    """

    def __init__(
        self, message: str, *, lr: float, step_size_bound: float, update: int, loss: float
    ) -> None:
        super().__init__(message)
        self.lr = lr
        self.step_size_bound = step_size_bound
        self.update = update
        self.loss = loss


@dataclass(frozen=True)
class History:
    """What happened during :func:`train`, one entry per recorded update.

    Each entry is taken *before* its update, as in the lecture: ``loss[k]``
    is the loss of the batch the update ``step[k]`` is about to use, under
    the parameters ``w[k]``, ``b[k]`` it starts from.

    Parameters
    ----------
    step : ndarray of int, shape (k,)
        Index of the update each entry belongs to (``0, every, 2 every, ...``).
    loss : ndarray of shape (k,) or None
        Mean loss of the batch before the update; None with ``record="none"``.
    w : ndarray of shape (k, n) or None
        Weights before the update; only with ``record="all"``.
    b : ndarray of shape (k,) or None
        Bias before the update; only with ``record="all"``.
    accuracy : ndarray of shape (k,) or None
        Accumulated accuracy for classifiers (BCE): correct predictions
        before their update so far / samples seen so far.  None for MSE or
        ``record="none"``.
    epoch_loss : ndarray of shape (epochs run,)
        SGD: each epoch's (weighted) mean of the per-sample losses, each taken
        before its sample's update (what scikit-learn's SGD reports as an
        epoch's average loss; no extra pass over X), plus the penalty at the
        epoch's end.  A full-batch solver: the mean loss after each pass.
    n_updates : int
        Number of updates made.
    stopped_early : bool
        True when the tolerance stopped training before the last epoch.
    solver : str, default "sgd"
        Which solver ran: ``"sgd"`` (the lecture's loop, one entry per
        update), or a full-batch solver ``"gd"``, ``"newton"``, ``"lbfgs"``
        (one entry per iteration, see below).
    converged : bool or None, default None
        Whether the full-batch gradient's largest entry at the end is at most
        ``tol``; None for SGD without ``tol``.
    grad_norm : float or None, default None
        The largest absolute entry of the full-batch gradient of the mean
        loss at the final parameters; None for SGD with ``tol=None`` and
        ``record="none"`` (it costs a pass over X) and for a History built by
        hand.
    n_iter : int or None, default None
        Iterations of a full-batch solver, epochs of SGD.
    backend : str or None, default None
        Which code ran SGD's updates: ``"numba"`` (the generated
        ``sgd_epoch`` compiled), ``"python"`` (the same loop in CPython) or
        ``"numpy"`` (the NumPy kernels, once per batch); None for the
        full-batch solvers.
    line_search : str or None, default None
        How a full-batch solver chose its steps: ``"armijo"`` for
        backtracking on the mean loss (each step halved until the loss
        decreases by at least ``1e-4`` times the step times the slope):
        ``solver="gd"`` and ``"newton"``, and so also ``lr="auto"`` for a pair
        whose curvature is unbounded (the estimators then run ``"gd"``);
        None for SGD (its steps are ``lr``) and L-BFGS (SciPy's own line
        search).
    hessian : ndarray of shape (n + 1, n + 1) or None, default None
        Newton's Hessian of the mean loss at the returned ``(w, b)`` (the
        intercept last), from its last evaluation: what
        :func:`derivreg.inference.fisher_inference` takes as ``hessian``
        to save a pass.  None for the other solvers and for a penalised,
        weighted or intercept-free fit (not the likelihood's Hessian).

    Notes
    -----
    For a full-batch solver, ``loss`` holds the mean loss over all data
    before each iteration and at the end (``step`` is ``0, 1, ...``) and
    ``epoch_loss`` the mean loss after each pass.  L-BFGS (SciPy) reports
    its evaluations, line-search trials included, so its ``loss`` has one
    entry per evaluation of the objective, not per iteration.

    Examples
    --------
    >>> import numpy as np
    >>> from derivreg.train import train
    >>> h = train(np.ones((4, 1)), np.ones(4), record="loss", every=2).history
    >>> h.step.tolist(), h.w is None, len(h), h.n_updates
    ([0, 2], True, 2, 4)
    >>> h.line_search is None  # SGD: the steps are lr
    True
    >>> train(np.ones((4, 1)), np.ones(4), solver="gd").history.line_search
    'armijo'
    """

    step: np.ndarray
    loss: np.ndarray | None
    w: np.ndarray | None
    b: np.ndarray | None
    accuracy: np.ndarray | None
    epoch_loss: np.ndarray
    n_updates: int
    stopped_early: bool
    solver: str = "sgd"
    converged: bool | None = None
    grad_norm: float | None = None
    n_iter: int | None = None
    backend: str | None = None
    line_search: str | None = None
    hessian: np.ndarray | None = None

    def __len__(self) -> int:
        return len(self.step)

    @property
    def n_epochs(self) -> int:
        """Number of epochs run.

        Examples
        --------
        >>> import numpy as np
        >>> from derivreg.train import train
        >>> train(np.ones((4, 1)), np.ones(4), epochs=3).history.n_epochs
        3
        """
        return len(self.epoch_loss)


class TrainResult(NamedTuple):
    """Final parameters and history of :func:`train`; unpacks as ``w, b, history``."""

    w: np.ndarray
    b: float
    history: History
