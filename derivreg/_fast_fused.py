"""The fused batch kernels, compiled by numba: :func:`grad`, :func:`loss`, :func:`update`.

``derivreg/kernels/<loss>_fused.py`` holds the batch ``grad``, ``loss`` and
``update`` as one pass over X per call (:mod:`derivreg.codegen.fused`,
proven by :func:`derivreg.validate.validate_fused`).  :func:`fused` compiles
its functions with numba (``njit(parallel=True)`` on the row blocks, no
``fastmath`` but reassociation in the row dot product); :func:`grad`,
:func:`loss` and :func:`update` check their inputs as the NumPy kernels do
and run them, on ``numba.get_num_threads()`` threads from
:data:`PARALLEL_MIN_ELEMENTS` on.  The names here are re-exported by
:mod:`derivreg.fast`, the public face.

Examples
--------
>>> PARALLEL_MIN_ELEMENTS
2097152
"""

from __future__ import annotations

import importlib
import math
import types
from collections.abc import Callable
from functools import cache
from types import ModuleType
from typing import TYPE_CHECKING, Any

import numpy as np

from derivreg._fast_loop import numba_module

if TYPE_CHECKING:
    from numpy.typing import ArrayLike

__all__ = [
    "PARALLEL_MIN_ELEMENTS",
    "compile_fused",
    "fused",
    "fused_serial",
    "grad",
    "loss",
    "update",
]


def _fused_module(loss: str) -> ModuleType:
    from derivreg.kernels import KERNELS

    if loss not in KERNELS:
        raise ValueError(f"unknown loss {loss!r}; expected one of {sorted(KERNELS)}")
    return importlib.import_module(f"derivreg.kernels.{loss}_fused")


@cache
def fused(loss: str) -> dict[str, Callable[..., Any]]:
    """Return the generated fused kernels of ``loss`` compiled by numba (cached per process).

    Every function of ``<loss>_fused.py`` is compiled with ``nogil=True`` and
    no ``fastmath`` (IEEE semantics: no reassociation, no contraction into
    FMA), except the module's ``REASSOCIATE`` (its row dot product alone, with
    ``fastmath={"reassoc"}``), with the module's ``ERROR_MODEL`` (``"numpy"``:
    IEEE division), and those with a ``prange`` loop (``PARALLEL``) with
    ``parallel=True``; the module's ``prange = range`` becomes ``numba.prange``
    and the calls between the functions the compiled ones.  Nothing else changes.

    Raises
    ------
    ImportError
        If numba is not installed (naming the ``fast`` extra).

    Examples
    --------
    >>> sorted(fused("mse"))  # doctest: +SKIP
    ['_grad_blocks', '_loss_blocks', 'grad', 'loss', 'losses', 'update']
    """
    return compile_fused(_fused_module(loss))


def compile_fused(module: ModuleType, *, parallel: bool = True) -> dict[str, Callable[..., Any]]:
    """Compile the functions of a fused module with numba, as :func:`fused` does (uncached).

    Examples
    --------
    >>> import derivreg.kernels.mse_fused as m
    >>> sorted(compile_fused(m))  # doctest: +SKIP
    ['_grad_blocks', '_loss_blocks', 'grad', 'loss', 'losses', 'update']
    """
    numba = numba_module()
    namespace = dict(vars(module))
    namespace["prange"] = numba.prange
    for name in module.FUNCTIONS:
        fn = getattr(module, name)
        rebound = types.FunctionType(fn.__code__, namespace, name)
        threads = parallel and name in module.PARALLEL  # prange is range without parallel
        # The module's own flags: IEEE division, and reassociation for its dot product alone.
        flags = {"error_model": getattr(module, "ERROR_MODEL", "python")}
        if name in getattr(module, "REASSOCIATE", ()):
            flags["fastmath"] = {"reassoc"}
        namespace[name] = numba.njit(nogil=True, parallel=threads, **flags)(rebound)
    return {name: namespace[name] for name in module.FUNCTIONS}


@cache
def fused_serial(loss: str) -> dict[str, Callable[..., Any]]:
    """:func:`fused`, compiled without ``parallel``: every function on the calling thread.

    For :func:`derivreg.train.train`'s passes around its (serial) per-sample
    epochs: a parallel region wakes every thread, which dominates a short
    pass and, on a busy machine, waits for the other threads' time slices.

    Examples
    --------
    >>> sorted(fused_serial("mse")) == sorted(fused("mse"))  # doctest: +SKIP
    True
    """
    return compile_fused(_fused_module(loss), parallel=False)


#: From how many elements of X on the row blocks run on numba's threads (documented in
#: :mod:`derivreg.fast`, the public face).
PARALLEL_MIN_ELEMENTS = 1 << 21


def _kernels(loss: str, X: np.ndarray) -> dict[str, Callable[..., Any]]:
    return fused(loss) if X.size >= PARALLEL_MIN_ELEMENTS else fused_serial(loss)


def _checked(
    loss: str, X: ArrayLike, y: ArrayLike, w: ArrayLike, b: float
) -> tuple[ModuleType, tuple[np.ndarray, np.ndarray, np.ndarray, float]]:
    from derivreg.kernels import KERNELS

    kernel = KERNELS[_fused_module(loss).NAME]
    return kernel, kernel._check_batch(X, y, w, b, kernel.NAME, kernel._in_domain, kernel.DOMAIN)


def grad(loss: str, X: ArrayLike, y: ArrayLike, w: ArrayLike, b: float) -> tuple[np.ndarray, float]:
    """Gradient of the mean loss, one compiled pass over X: the kernels' ``grad``.

    Same inputs, checks and errors as ``derivreg.kernels.<loss>.grad``.

    Examples
    --------
    >>> grad("mse", [[1.0], [2.0]], [3.0, 5.0], [0.0], 0.0)  # doctest: +SKIP
    (array([-13.]), -8.0)
    """
    kernel, (X, y, w, b) = _checked(loss, X, y, w, b)
    dJ_dw, dJ_db = _kernels(loss, X)["grad"](X, y, w, b)
    if not (math.isfinite(dJ_db) and np.all(np.isfinite(dJ_dw))):
        return kernel.grad(X, y, w, b)  # a non-finite score or result: recomputed at scale
    return dJ_dw, float(dJ_db)


def loss(loss: str, X: ArrayLike, y: ArrayLike, w: ArrayLike, b: float) -> float:
    """Mean loss, one compiled pass over X: the kernels' ``loss``.

    Examples
    --------
    >>> loss("mse", [[1.0], [2.0]], [3.0, 5.0], [0.0], 0.0)  # doctest: +SKIP
    17.0
    """
    name = loss
    kernel, (X, y, w, b) = _checked(name, X, y, w, b)
    J = float(_kernels(name, X)["loss"](X, y, w, b))
    if not math.isfinite(J):  # a non-finite score or loss: the checked kernel's outcome
        return kernel.loss(X, y, w, b)
    return J


def update(  # noqa: PLR0917  (the kernels' update, with the loss first)
    loss: str, X: ArrayLike, y: ArrayLike, w: ArrayLike, b: float, lr: float
) -> tuple[np.ndarray, float]:
    """One gradient step on the mean loss, one compiled pass over X: the kernels' ``update``.

    Examples
    --------
    >>> update("mse", [[1.0], [2.0]], [3.0, 5.0], [0.0], 0.0, 0.1)  # doctest: +SKIP
    (array([1.3]), 0.8)
    """
    kernel, (X, y, w, b) = _checked(loss, X, y, w, b)
    lr = kernel._as_finite_scalar("lr", lr)
    new_w, new_b = _kernels(loss, X)["update"](X, y, w, b, lr)
    if not (math.isfinite(new_b) and np.all(np.isfinite(new_w))):
        return kernel.update(X, y, w, b, lr)  # a non-finite score or step: at scale
    return new_w, float(new_b)
