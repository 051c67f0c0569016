"""``train`` on Dask arrays: full-batch solvers over :class:`DaskObjective`, SGD chunk by chunk.

:func:`derivreg.train.train` hands a Dask ``X`` (or ``y``) to :func:`train_dask`.

* ``solver="gd"``, ``"newton"``, ``"lbfgs"``: the solvers of
  :mod:`derivreg.solvers` on a :class:`~derivreg.distributed.DaskObjective`,
  one pass over the chunks per evaluation.  Each pass sums the same per-block
  sums as in memory, in another order, so the fit is the in-memory fit up to
  summation order (see ``tests/test_distributed.py`` for the bound).
* ``solver="sgd"``: mini-batch SGD over the chunks, :mod:`derivreg._dask_sgd`.

Examples
--------
>>> import numpy as np, dask.array as da
>>> from derivreg.train import train
>>> X = da.from_array(np.arange(8.0)[:, None] / 8, chunks=(4, 1))
>>> w, b, h = train(X, 2 * X[:, 0] + 1, lr=0.5, epochs=200, record="none")
>>> round(float(w[0]), 4), round(b, 4), h.n_updates
(2.0, 1.0, 1600)
"""

from __future__ import annotations

from typing import Any

import numpy as np

from derivreg import _losses, _params
from derivreg import _penalty as _pen
from derivreg._dask_sgd import Chunks
from derivreg._full_batch import _FULL_BATCH_TOL, SOLVERS, _check_solver
from derivreg._history import History, TrainResult
from derivreg.distributed import DaskObjective, rows_only
from derivreg.solvers import split_theta

__all__ = ["train_dask"]


def _start(X: Any, w0: object, b0: object, fit_intercept: bool) -> tuple[np.ndarray, float]:
    n = X.shape[1]
    w = np.zeros(n) if w0 is None else np.array(w0, dtype=np.float64)
    if w.shape != (n,):
        raise ValueError(f"w0 must have shape ({n},) to match X of shape {X.shape}, got {w.shape}")
    if not np.isfinite(w).all():
        raise ValueError("w0 must be finite")
    return w, _params.finite_real("b0", b0, "train") if fit_intercept else 0.0


def train_dask(X: Any, y: Any, **options: Any) -> TrainResult:
    """:func:`derivreg.train.train` with Dask ``X``/``y``; the same keyword arguments.

    ``lr="auto"`` (it needs the whole X) and the separability check (an LP
    in memory) are not available on Dask arrays.

    Examples
    --------
    >>> import numpy as np, dask.array as da
    >>> X = da.from_array(np.array([[0.0], [1.0], [2.0], [3.0]]), chunks=(2, 1))
    >>> w, b, h = train_dask(X, np.array([1.0, 3.0, 5.0, 7.0]), solver="newton", loss="mse")
    >>> np.round(w, 9).tolist(), round(b, 9), h.solver
    ([2.0], 1.0, 'newton')
    """
    o = dict(options)
    solver = _params.choice("solver", o.get("solver", "sgd"), "train", SOLVERS)
    kernel = _losses.kernel_module(o.get("loss"), "train")
    pen = _pen.check_penalty(
        o.get("penalty"), o.get("alpha", 1e-4), o.get("l1_ratio", 0.15), "train"
    )
    fit_intercept = _params.flag("fit_intercept", o.get("fit_intercept", True), "train")
    X, y, sw = rows_only(X, y, o.get("sample_weight"))
    w, b = _start(X, o.get("w0"), o.get("b0", 0.0), fit_intercept)
    record = _params.choice("record", o.get("record", "all"), "train", ("all", "loss", "none"))
    tol = _params.real("tol", o.get("tol"), "train", 0.0, high_open=True, none=True)
    if o.get("check_separation"):
        raise _params.refuse(
            "check_separation",
            "train on Dask arrays",
            "None or False (the LP needs X in memory)",
            True,
        )
    objective = DaskObjective(
        kernel, X, y, sample_weight=sw, alpha=pen.l2, fit_intercept=fit_intercept
    )
    if solver != "sgd":
        if pen.l1:
            raise _params.refuse(
                "penalty", f"train with solver={solver!r}", "None or 'l2'", o.get("penalty")
            )
        if tol is not None and not tol > 0:
            raise _params.refuse("tol", "train", "a float in the range (0.0, inf) or None", tol)
        _check_solver(solver, kernel)
        max_iter = _params.count("max_iter", o.get("max_iter"), "train", none=True)
        return _full_batch(
            solver,
            objective,
            np.append(w, b) if fit_intercept else w,
            tol=tol,
            max_iter=max_iter,
            record=record,
        )
    lr = o.get("lr", 0.01)
    if isinstance(lr, str):
        raise _params.refuse(
            "lr",
            "train on Dask arrays",
            "a float > 0 or a schedule (lr='auto' needs the whole X in memory)",
            lr,
        )
    return Chunks(objective, kernel, pen, o, record=record, tol=tol).run(w, b)


def _full_batch(
    solver: str,
    objective: DaskObjective,
    start: np.ndarray,
    *,
    tol: float | None,
    max_iter: int | None,
    record: str,
) -> TrainResult:
    """Run a solver of :mod:`derivreg.solvers` on the Dask objective; its History as in memory."""
    from derivreg import solvers

    run = {"gd": solvers.gradient_descent, "newton": solvers.newton, "lbfgs": solvers.lbfgs}
    unpenalised = (
        not objective.alpha and objective.sample_weight is None and objective.fit_intercept
    )
    options: dict[str, Any] = {"tol": _FULL_BATCH_TOL if tol is None else tol}
    if max_iter is not None:
        options["max_iter"] = max_iter
    with np.errstate(over="ignore", invalid="ignore"):
        found = run[solver](objective, start, **options)
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
        # the likelihood's Hessian at the returned point, for the standard errors (as in memory)
        hessian=found.hessian if unpenalised else None,
    )
    w, b = split_theta(found.theta, objective.fit_intercept)
    return TrainResult(np.array(w, dtype=np.float64), float(b), history)
