"""Run the generated per-sample loops, in CPython or compiled by numba.

``derivreg/kernels/<loss>_loop.py`` holds ``sgd_epoch``, one epoch of the
lecture's per-sample SGD printed from the derivation and proven equal to it
(:func:`derivreg.codegen.validate_loop`).  This module adds no arithmetic:
:func:`epoch` runs that function on flat lists of floats in CPython (``"python"``,
always available) or on arrays after ``numba.njit`` compiles the very same
function (``"numba"``, the optional ``fast`` extra: ``pip install
derivreg[fast]``).  numba compiles it without ``fastmath``, so the stable
formulas are evaluated as written, in the same order.

Examples
--------
>>> import numpy as np
>>> X, y = np.array([[1.0], [2.0]]), np.array([3.0, 5.0])
>>> r = epoch("mse", X, y, np.zeros(1), 0.0, 0.1)
>>> np.round(r.J, 6).tolist(), np.round(r.w, 6).tolist(), round(r.b, 6)
([9.0, 10.24], [1.88], 1.24)
"""

from __future__ import annotations

import importlib
import importlib.util
from collections.abc import Callable
from functools import cache
from typing import Literal, NamedTuple

import numpy as np

from derivreg._sparse import issparse

__all__ = ["BACKENDS", "Epoch", "available", "compiled", "epoch"]

Backend = Literal["python", "numba"]

#: The backends :func:`epoch` knows.
BACKENDS: tuple[str, ...] = ("python", "numba")


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
    """

    w: np.ndarray
    b: float
    J: np.ndarray
    w_track: np.ndarray
    b_track: np.ndarray


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


def _loop(loss: str, csr: bool = False) -> Callable[..., float]:
    from derivreg.kernels import KERNELS

    if loss not in KERNELS:
        raise ValueError(f"unknown loss {loss!r}; expected one of {sorted(KERNELS)}")
    module = importlib.import_module(f"derivreg.kernels.{loss}_loop")
    return module.sgd_epoch_csr if csr else module.sgd_epoch


@cache
def compiled(loss: str, csr: bool = False) -> Callable[..., float]:
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
    try:
        import numba
    except ImportError:
        raise ImportError(
            "the compiled backend needs numba: pip install 'derivreg[fast]'"
        ) from None
    # No fastmath: IEEE semantics, the formulas evaluated as printed and proven.
    return numba.njit(nogil=True)(fn)


def epoch(  # noqa: PLR0917
    loss: str,
    X: np.ndarray,
    y: np.ndarray,
    w: np.ndarray,
    b: float,
    lr: float,
    every: int = 1,
    first: int = 0,
    backend: str = "python",
) -> Epoch:
    """One epoch of per-sample SGD over the rows of X, in order.

    No input checks: callers (:func:`derivreg.train.train`) validate once.

    Parameters
    ----------
    loss : {"mse", "bce"}
    X : ndarray (m, n), float64, or a float64 CSR matrix or array
        A CSR X (as :func:`derivreg._sparse.as_csr` leaves it) runs the
        generated ``sgd_epoch_csr`` on its stored entries.
    y : ndarray (m,), float64
    w : ndarray (n,)
        Initial weights; not modified.
    b, lr : float
        Initial bias, constant learning rate.
    every, first : int
        Record ``w`` and ``b`` before update ``i`` when ``i % every == first``.
    backend : {"python", "numba"}

    Returns
    -------
    Epoch

    Examples
    --------
    >>> import numpy as np
    >>> r = epoch("bce", np.array([[0.0]]), np.array([1.0]), np.zeros(1), 0.0, 1.0)
    >>> round(float(r.J[0]), 6), r.b  # log 2, then b - (sigma(0) - 1)
    (0.693147, 0.5)
    """
    m, n = X.shape
    k = len(range(first, m, every))
    if issparse(X):  # the CSR loop: only the stored entries are visited
        return _epoch_csr(loss, X, y, w, b, lr, (every, first, k), backend)
    if backend == "python":
        fn = _loop(loss)
        w_list = w.tolist()
        J = [0.0] * m
        w_track = [0.0] * (k * n)
        b_track = [0.0] * k
        b = fn(
            X.ravel().tolist(),
            y.tolist(),
            w_list,
            float(b),
            float(lr),
            J,
            every,
            first,
            w_track,
            b_track,
        )
        return Epoch(
            np.array(w_list, dtype=np.float64),
            float(b),
            np.array(J, dtype=np.float64),
            np.array(w_track, dtype=np.float64).reshape(k, n),
            np.array(b_track, dtype=np.float64),
        )
    if backend == "numba":
        fn = compiled(loss)
        w_arr = np.array(w, dtype=np.float64)  # a copy: updated in place
        J_arr = np.empty(m)
        w_tr = np.empty(k * n)
        b_tr = np.empty(k)
        b = fn(
            np.ascontiguousarray(X, dtype=np.float64).ravel(),
            np.ascontiguousarray(y, dtype=np.float64),
            w_arr,
            float(b),
            float(lr),
            J_arr,
            every,
            first,
            w_tr,
            b_tr,
        )
        return Epoch(w_arr, float(b), J_arr, w_tr.reshape(k, n), b_tr)
    raise ValueError(f"unknown backend {backend!r}; expected one of {BACKENDS}")


def _epoch_csr(  # noqa: PLR0917
    loss: str,
    X: object,
    y: np.ndarray,
    w: np.ndarray,
    b: float,
    lr: float,
    schedule: tuple[int, int, int],
    backend: str,
) -> Epoch:
    """:func:`epoch` on a CSR X: ``sgd_epoch_csr`` on its data, indices and row pointers."""
    every, first, k = schedule
    m, n = X.shape  # type: ignore[attr-defined]
    parts = (X.data, X.indices, X.indptr)  # type: ignore[attr-defined]
    if backend == "python":
        fn, w_out = _loop(loss, csr=True), w.tolist()
        J, w_tr, b_tr = [0.0] * m, [0.0] * (k * n), [0.0] * k
        args = [p.tolist() for p in parts] + [y.tolist()]
    elif backend == "numba":
        fn, w_out = compiled(loss, csr=True), np.array(w, dtype=np.float64)
        J, w_tr, b_tr = np.empty(m), np.empty(k * n), np.empty(k)
        args = [np.ascontiguousarray(p) for p in parts] + [np.ascontiguousarray(y)]
    else:
        raise ValueError(f"unknown backend {backend!r}; expected one of {BACKENDS}")
    b = fn(*args, w_out, float(b), float(lr), J, every, first, w_tr, b_tr)
    return Epoch(
        np.array(w_out, dtype=np.float64),
        float(b),
        np.array(J, dtype=np.float64),
        np.array(w_tr, dtype=np.float64).reshape(k, n),
        np.array(b_tr, dtype=np.float64),
    )
