"""train's checks of its data and the end of a run: the data checked once, the final report.

:func:`_validate` checks X, y, w0 and b0 once, before any work (no epoch
checks them again); :func:`_finish` computes the full-batch gradient's
largest entry at the end where it is asked for (a ``tol``, or a History that
records), and warns when SGD stopped far from a stationary point.
"""

from __future__ import annotations

import dataclasses
import math
import types
import warnings
from types import ModuleType

import numpy as np
from numpy.typing import ArrayLike

from derivreg import _losses, _params, fast
from derivreg import _penalty as _pen
from derivreg._full_batch import _grad_norm
from derivreg._history import History
from derivreg._step_size import _as_float, _finite
from derivreg.solvers.result import ConvergenceWarning

__all__: list[str] = []


def _kernel(loss: object) -> ModuleType:
    return _losses.kernel_module(loss, "train")


def _loop_key(kernel: ModuleType) -> str | ModuleType | None:
    """Return what :mod:`derivreg.fast` runs per-sample epochs of.

    A registered name, or the module (whose loop is generated beside it); None
    when it has no loop.
    """
    from derivreg.kernels import KERNELS

    if KERNELS.get(kernel.NAME) is kernel:
        return kernel.NAME
    return kernel if _losses.loop_module(kernel) is not None else None


def _validate(
    X: ArrayLike, y: ArrayLike, w0: ArrayLike | None, b0: object, kernel: ModuleType
) -> tuple[np.ndarray, np.ndarray, np.ndarray, float]:
    X = _as_float("X", X)
    y = _as_float("y", y)
    if X.ndim != 2:
        raise ValueError(f"Expected 2D array X of shape (m, n), got {X.ndim}D array instead")
    m, n = X.shape
    if m == 0 or n == 0:
        raise ValueError(f"X must have at least one sample and one feature, got shape {X.shape}")
    if y.shape != (m,):
        raise ValueError(f"y must have shape ({m},) to match X of shape {X.shape}, got {y.shape}")
    _finite("X", X)
    # a classifier's labels: the two comparisons np.isin makes for two values, without its
    # dispatch; labels that are all 0 or 1 are finite (no pass of their own), and any others
    # are checked for NaN and infinity first, whose message comes first
    if not _losses.is_classifier(kernel):
        _finite("y", y)
    elif not ((y == 0.0) | (y == 1.0)).all():
        _finite("y", y)
        raise ValueError(f"{kernel.NAME} targets must be 0 or 1; got values outside {{0, 1}}")
    if w0 is None:  # zeros: finite, of the right shape
        return X, y, np.zeros(n), _params.finite_real("b0", b0, "train")
    w = _as_float("w0", w0, copy=True)
    if w.shape != (n,):
        raise ValueError(f"w0 must have shape ({n},) to match X of shape {X.shape}, got {w.shape}")
    _finite("w0", w)
    return X, y, w, _params.finite_real("b0", b0, "train")


def _full_batch_penalty(solver: str, pen: _pen.Penalty, penalty: object) -> None:
    """Refuse an L1 part with a full-batch solver (only SGD takes the proximal step)."""
    if pen.l1:
        raise _params.refuse(
            "penalty",
            f"train with solver={solver!r}",
            "None or 'l2' (the L1 part needs the proximal step: use solver='sgd', "
            "batch_size=None for proximal gradient descent)",
            penalty,
        )


def _finish(  # noqa: PLR0917
    history: History, kernel: ModuleType, key: object, fit: tuple, loop: str | None, settings: dict
) -> History:
    """Return the History with the end's verdict: ``grad_norm``, ``converged``, ``backend``.

    ``fit`` is ``(X, y, w, b, weights, penalty, fit_intercept)``; ``settings``
    holds ``tol``, ``record``, ``epochs`` and ``stopped``.  The gradient costs a
    pass over X, so it is computed only with a ``tol`` (``converged`` needs
    it) or a History that records (``record != "none"``); else ``grad_norm``
    is None.
    """
    X, y, w, b, weights, pen, fit_intercept = fit
    tol, stopped = settings["tol"], settings["stopped"]
    norm: float | None = None
    if tol is not None or settings["record"] != "none":
        norm = math.nan
        if loop == "numba" and isinstance(key, str) and weights is None and pen.none:
            fused = types.SimpleNamespace(grad=fast.fused_serial(key)["grad"])
            norm = _grad_norm(fused, X, y, w, b)  # one compiled pass, the same checks
            norm = norm if fit_intercept or not math.isfinite(norm) else math.nan
        if not math.isfinite(norm):
            try:
                norm = _pen.stationarity(kernel, X, y, w, float(b), weights, pen, fit_intercept)
            except FloatingPointError:  # finite parameters whose gradient is past float64
                norm = math.inf
    converged = None if tol is None or norm is None else norm <= tol
    if converged is False:
        # "Far" from stationarity: the full-batch gradient's largest entry above tol, the
        # criterion the full-batch solvers stop at, so converged means one thing for all
        # solvers.  SGD's own stop (the loss plateau) cannot tell a noise ball from an optimum.
        ended = "stopped on the loss plateau" if stopped else f"ran its {settings['epochs']} epochs"
        warnings.warn(
            f"sgd {ended} with the full-batch gradient's largest entry {norm:.3g} > "
            f"tol={tol:g}: w, b are not at a stationary point of the mean loss.  Raise "
            "epochs or lower lr, or use a full-batch solver (solver='gd', 'lbfgs' or "
            "'newton')",
            ConvergenceWarning,
            stacklevel=3,
        )
    ran = loop or "numpy"  # which code ran the updates
    return dataclasses.replace(
        history, converged=converged, grad_norm=norm, n_iter=history.n_epochs, backend=ran
    )


def _which_loop(backend: str, key: object, kernel: ModuleType, sparse: bool, n: int) -> str | None:
    """Which per-sample loop runs: "numba", "python" (CPython) or None (the kernels per sample).

    A sparse X always runs the CSR loop: its cost is per stored entry, not per feature.
    """
    loop = "numba" if backend == "numba" else "python" if n <= 32 or sparse else None
    if key is None:  # a module built in memory: its batch kernels, one sample at a time
        if backend == "numba":
            raise ValueError(
                f"backend='numba' runs the per-sample loop generated beside the kernel "
                f"module, and {kernel.__name__!r} has none ({kernel.__name__}_loop): write "
                f"it with derivreg.codegen.write(pair, directory)"
            )
        return None
    if backend == "numba":
        fast.compiled(key, sparse)  # ImportError naming the extra, before any work
    return loop
