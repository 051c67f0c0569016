"""The per-sample loops, run in CPython or compiled by numba: :func:`epoch`.

``derivreg/kernels/<loss>_loop.py`` holds ``sgd_epoch``, one epoch of the
lecture's per-sample SGD printed from the derivation and proven equal to it
(:func:`derivreg.codegen.validate_loop`), and ``sgd_epoch_csr``, the same
loop over a CSR X's stored entries.  :func:`epoch` runs that function on
flat lists of floats in CPython (``"python"``, always available) or on
arrays after ``numba.njit`` compiles the very same function (``"numba"``,
the ``fast`` extra), without ``fastmath``.  The names here are re-exported
by :mod:`derivreg.fast`, the public face.

Examples
--------
>>> import numpy as np
>>> r = epoch("mse", np.array([[1.0]]), np.array([2.0]), np.zeros(1), 0.0, 0.25)
>>> r.J.tolist(), r.w.tolist(), r.b
([4.0], [1.0], 1.0)
"""

from __future__ import annotations

import importlib
import importlib.util
import math
from collections.abc import Callable
from functools import cache
from types import ModuleType
from typing import Any, Literal, NamedTuple

import numpy as np

from derivreg._sparse import issparse

__all__ = [
    "AUTO_NUMBA_UPDATES",
    "BACKENDS",
    "Epoch",
    "auto",
    "available",
    "compiled",
    "epoch",
    "numba_module",
]

Backend = Literal["python", "numba"]

#: The backends :func:`epoch` knows (documented in :mod:`derivreg.fast`).
BACKENDS: tuple[str, ...] = ("python", "numba")

#: From how many per-sample updates on :func:`auto` compiles the loop (documented in
#: :mod:`derivreg.fast`, the public face).
AUTO_NUMBA_UPDATES = 100_000


class Epoch(NamedTuple):
    """What one epoch of :func:`epoch` returns.

    Attributes
    ----------
    w : ndarray (n,)
        Weights after the epoch.
    b : float
        Bias after the epoch.
    J : ndarray (m,)
        Each sample's loss before its update.
    w_track : ndarray (k, n)
        Weights before updates ``first, first + every, ...``.
    b_track : ndarray (k,)
        Bias before the same updates.
    total : float
        The sum of each sample's weight times its loss ``J``, accumulated in
        order by the loop.
    Z : ndarray (m,) or None
        Each sample's score z, before its update: a classifier's labels are
        read off it.

    Examples
    --------
    >>> import numpy as np
    >>> r = epoch("bce", np.zeros((2, 1)), np.array([1.0, 0.0]), np.zeros(1), 0.0, 1.0)
    >>> r.Z.tolist(), r.b_track.tolist()  # z = b: 0, then b - (sigma(0) - 1)
    ([0.0, 0.5], [0.0, 0.5])
    """

    w: np.ndarray
    b: float
    J: np.ndarray
    w_track: np.ndarray
    b_track: np.ndarray
    total: float = math.nan
    Z: np.ndarray | None = None


def available(backend: str) -> bool:
    """Whether a backend can run here (``"numba"`` needs numba installed).

    Examples
    --------
    >>> available("python")
    True
    """
    if backend == "python":
        return True
    if backend == "numba":
        return importlib.util.find_spec("numba") is not None
    raise ValueError(f"unknown backend {backend!r}; expected one of {BACKENDS}")


def auto(updates: int, n: int, *, per_sample: bool) -> str:
    """``train(backend="auto")``'s choice: ``"numba"`` where it pays its start-up, else ``"numpy"``.

    Examples
    --------
    >>> auto(10, 1, per_sample=True)
    'numpy'
    >>> auto(10**6, 8, per_sample=False)  # batches run the NumPy kernels
    'numpy'
    """
    worth = per_sample and (updates >= AUTO_NUMBA_UPDATES or n > 32)
    return "numba" if worth and available("numba") else "numpy"


def numba_module() -> ModuleType:
    """Return numba, or raise an ImportError naming the ``fast`` extra.

    Examples
    --------
    >>> numba_module().__name__  # doctest: +SKIP
    'numba'
    """
    try:
        import numba
    except ImportError:
        raise ImportError(
            "the compiled backend needs numba: pip install 'derivreg[fast]'"
        ) from None
    return numba


def _loop(loss: str | ModuleType, csr: bool = False) -> Callable[..., tuple[float, float]]:
    from derivreg.kernels import KERNELS

    if isinstance(loss, ModuleType):  # a kernel module: its loop is generated beside it
        from derivreg._losses import loop_module

        loop = loop_module(loss)
        if loop is None:
            raise ValueError(f"no per-sample loop module {loss.__name__}_loop beside {loss}")
        return loop.sgd_epoch_csr if csr else loop.sgd_epoch

    if loss not in KERNELS:
        raise ValueError(f"unknown loss {loss!r}; expected one of {sorted(KERNELS)}")
    module = importlib.import_module(f"derivreg.kernels.{loss}_loop")
    return module.sgd_epoch_csr if csr else module.sgd_epoch


@cache
def compiled(loss: str | ModuleType, csr: bool = False) -> Callable[..., tuple[float, float]]:
    """Return the generated ``sgd_epoch`` of ``loss`` compiled by numba (cached per process).

    With ``csr``, its ``sgd_epoch_csr`` (the same loop over a CSR X's stored entries).

    Raises
    ------
    ImportError
        If numba is not installed.

    Examples
    --------
    >>> compiled("bce").py_func.__module__  # doctest: +SKIP
    'derivreg.kernels.bce_loop'
    """
    fn = _loop(loss, csr)
    numba = numba_module()
    # No fastmath: IEEE semantics, the formulas evaluated as printed and proven.
    return numba.njit(nogil=True)(fn)


def _settings(  # noqa: PLR0917
    m: int,
    lr: float | np.ndarray,
    weights: np.ndarray | None,
    alpha: float,
    l1: float,
    fit_intercept: bool,
) -> list[object]:
    """Return the loop's arguments after ``b``: rates, weights (with strides), penalty, fit."""
    rates = np.ascontiguousarray(lr, dtype=np.float64).reshape(-1)
    if len(rates) not in (1, m):
        raise ValueError(f"lr must be a float or hold one rate per sample ({m}), got {len(rates)}")
    S = np.ones(1) if weights is None else np.ascontiguousarray(weights, dtype=np.float64)
    penalized = int(alpha != 0.0 or l1 != 0.0)
    strides = int(len(rates) > 1), int(weights is not None)
    return [
        rates,
        strides[0],
        S,
        strides[1],
        float(alpha),
        float(l1),
        penalized,
        int(fit_intercept),
    ]


def epoch(  # noqa: PLR0917
    loss: str | ModuleType,
    X: np.ndarray,
    y: np.ndarray,
    w: np.ndarray,
    b: float,
    lr: float | np.ndarray,
    every: int = 1,
    first: int = 0,
    backend: str = "python",
    *,
    weights: np.ndarray | None = None,
    alpha: float = 0.0,
    l1: float = 0.0,
    fit_intercept: bool = True,
) -> Epoch:
    """One epoch of per-sample SGD over the rows of X, in order.

    No input checks: callers (:func:`derivreg.train.train`) validate once.

    Parameters
    ----------
    loss : str or kernel module
        A key of :data:`derivreg.kernels.KERNELS`, or a kernel module whose loop
        is generated beside it.
    X : ndarray (m, n), float64, or a float64 CSR matrix or array
        A CSR X (as :func:`derivreg._sparse.as_csr` leaves it) runs the
        generated ``sgd_epoch_csr`` on its stored entries.
    y : ndarray (m,), float64
    w : ndarray (n,)
        Initial weights; not modified.
    b : float
        Initial bias.
    lr : float or ndarray (m,)
        The learning rate: one for every update, or one per sample (a schedule's).
    every, first : int
        Record ``w`` and ``b`` before update ``i`` when ``i % every == first``.
    backend : {"python", "numba"}
    weights : ndarray (m,) or None
        Sample weights: each scales its sample's step (not the penalty's).
    alpha, l1 : float
        The L2 strength (gradient ``alpha w``) and the L1 strength (proximal
        step at ``lr * l1``); 0.0 for none.
    fit_intercept : bool
        False keeps ``b`` where it is.

    Returns
    -------
    Epoch

    Examples
    --------
    >>> import numpy as np
    >>> r = epoch("bce", np.array([[0.0]]), np.array([1.0]), np.zeros(1), 0.0, 1.0)
    >>> round(float(r.J[0]), 6), r.b, round(r.total, 6)  # log 2, then b - (sigma(0) - 1)
    (0.693147, 0.5, 0.693147)
    """
    m = X.shape[0]
    settings = _settings(m, lr, weights, alpha, l1, fit_intercept)
    return _run(loss, X, y, w, b, settings, (every, first, len(range(first, m, every))), backend)


def _run(  # noqa: PLR0917
    loss: str | ModuleType,
    X: object,
    y: np.ndarray,
    w: np.ndarray,
    b: float,
    settings: list[object],
    schedule: tuple[int, int, int],
    backend: str,
) -> Epoch:
    """Call the generated loop of :func:`epoch` on ``backend``: a dense X's, or a CSR X's.

    A CSR X runs ``sgd_epoch_csr`` on its data, indices and row pointers: only
    the stored entries are visited.  ``"python"`` hands the loop lists of floats,
    ``"numba"`` contiguous arrays (``w`` copied: the loop updates it in place).
    """
    every, first, k = schedule
    m, n = X.shape  # type: ignore[attr-defined]
    csr = issparse(X)
    parts: tuple[Any, ...] = (X.data, X.indices, X.indptr) if csr else (X,)  # type: ignore[attr-defined]
    fn: Callable[..., tuple[float, float]]
    J: list[float] | np.ndarray
    Z: list[float] | np.ndarray
    w_tr: list[float] | np.ndarray
    b_tr: list[float] | np.ndarray
    w_out: list[float] | np.ndarray
    args: list[Any]
    if backend == "python":
        fn, w_out = _loop(loss, csr), w.tolist()
        J, Z, w_tr, b_tr = [0.0] * m, [0.0] * m, [0.0] * (k * n), [0.0] * k
        args = [p.ravel().tolist() for p in parts] + [y.tolist()]
        settings = [a.tolist() if isinstance(a, np.ndarray) else a for a in settings]
    elif backend == "numba":
        fn, w_out = compiled(loss, csr), np.array(w, dtype=np.float64)
        J, Z, w_tr, b_tr = np.empty(m), np.empty(m), np.empty(k * n), np.empty(k)
        if csr:
            args = [np.ascontiguousarray(p) for p in parts] + [np.ascontiguousarray(y)]
        else:
            args = [np.ascontiguousarray(X, dtype=np.float64).ravel()]
            args.append(np.ascontiguousarray(y, dtype=np.float64))
    else:
        raise ValueError(f"unknown backend {backend!r}; expected one of {BACKENDS}")
    b, total = fn(*args, w_out, float(b), *settings, J, Z, every, first, w_tr, b_tr)
    return Epoch(
        np.asarray(w_out, dtype=np.float64),
        float(b),
        np.asarray(J, dtype=np.float64),
        np.asarray(w_tr, dtype=np.float64).reshape(k, n),
        np.asarray(b_tr, dtype=np.float64),
        float(total),
        np.asarray(Z, dtype=np.float64),
    )
