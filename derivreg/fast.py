"""Run the generated per-sample loops and fused batch kernels, in CPython or compiled by numba.

``derivreg/kernels/<loss>_loop.py`` holds ``sgd_epoch``, one epoch of the
lecture's per-sample SGD printed from the derivation and proven equal to it
(:func:`derivreg.codegen.validate_loop`).  This module adds no arithmetic:
:func:`epoch` runs that function on flat lists of floats in CPython (``"python"``,
always available) or on arrays after ``numba.njit`` compiles the very same
function (``"numba"``, the optional ``fast`` extra: ``pip install
derivreg[fast]``).  numba compiles it without ``fastmath``, so the stable
formulas are evaluated as written, in the same order.

``derivreg/kernels/<loss>_fused.py`` holds the batch ``grad``, ``loss`` and
``update`` as one pass over X per call (:mod:`derivreg.codegen.fused`,
proven by :func:`derivreg.validate.validate_fused`); :func:`grad`,
:func:`loss` and :func:`update` here check their inputs as the NumPy
kernels do and run them compiled by numba (``njit(parallel=True)`` on the
row blocks, no ``fastmath`` but reassociation in the row dot product), on
``numba.get_num_threads()`` threads.

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
import math
import types
from collections.abc import Callable
from functools import cache
from types import ModuleType
from typing import Literal, NamedTuple

import numpy as np

from derivreg._sparse import issparse

__all__ = [
    "AUTO_NUMBA_UPDATES",
    "BACKENDS",
    "PARALLEL_MIN_ELEMENTS",
    "Epoch",
    "auto",
    "available",
    "compile_fused",
    "compiled",
    "epoch",
    "fused",
    "fused_serial",
    "grad",
    "loss",
    "update",
]

Backend = Literal["python", "numba"]

#: The backends :func:`epoch` knows.
BACKENDS: tuple[str, ...] = ("python", "numba")

#: ``train(backend="auto")`` compiles the loop with numba from this many
#: per-sample updates on (or past 32 features, where there is no CPython
#: loop): importing numba and compiling a loop take about a second, what the
#: CPython loop needs for some 1e5 updates of a few features
#: (docs/performance.rst).
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


def _loop(loss: object, csr: bool = False) -> Callable[..., float]:
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


def _fused_module(loss: str) -> ModuleType:
    from derivreg.kernels import KERNELS

    if loss not in KERNELS:
        raise ValueError(f"unknown loss {loss!r}; expected one of {sorted(KERNELS)}")
    return importlib.import_module(f"derivreg.kernels.{loss}_fused")


@cache
def fused(loss: str) -> dict[str, Callable[..., object]]:
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


def compile_fused(module: ModuleType, *, parallel: bool = True) -> dict[str, Callable[..., object]]:
    """Compile the functions of a fused module with numba, as :func:`fused` does (uncached).

    Examples
    --------
    >>> import derivreg.kernels.mse_fused as m
    >>> sorted(compile_fused(m))  # doctest: +SKIP
    ['_grad_blocks', '_loss_blocks', 'grad', 'loss', 'losses', 'update']
    """
    try:
        import numba
    except ImportError:
        raise ImportError(
            "the compiled backend needs numba: pip install 'derivreg[fast]'"
        ) from None
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
def fused_serial(loss: str) -> dict[str, Callable[..., object]]:
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


#: :func:`grad`, :func:`loss` and :func:`update` run their row blocks on numba's
#: threads from this many elements of X on (16 MiB), and on the calling thread
#: below: waking the threads costs tens of microseconds on an idle machine and
#: milliseconds on a busy one.  Both give the same floats (the blocks' sums are
#: added in block order whatever ran them).
PARALLEL_MIN_ELEMENTS = 1 << 21


def _kernels(loss: str, X: np.ndarray) -> dict[str, Callable[..., object]]:
    return fused(loss) if X.size >= PARALLEL_MIN_ELEMENTS else fused_serial(loss)


def _checked(loss: str, X: object, y: object, w: object, b: object) -> tuple:
    from derivreg.kernels import KERNELS

    kernel = KERNELS[_fused_module(loss).NAME]
    return kernel, kernel._check_batch(X, y, w, b, kernel.NAME, kernel._in_domain, kernel.DOMAIN)


def grad(loss: str, X: object, y: object, w: object, b: object) -> tuple[np.ndarray, float]:
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


def loss(loss: str, X: object, y: object, w: object, b: object) -> float:
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
    loss: str, X: object, y: object, w: object, b: object, lr: object
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
    loss: str,
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
    m, n = X.shape
    k = len(range(first, m, every))
    settings = _settings(m, lr, weights, alpha, l1, fit_intercept)
    if issparse(X):  # the CSR loop: only the stored entries are visited
        return _epoch_csr(loss, X, y, w, b, settings, (every, first, k), backend)
    if backend == "python":
        fn = _loop(loss)
        w_list = w.tolist()
        J, Z = [0.0] * m, [0.0] * m
        w_track = [0.0] * (k * n)
        b_track = [0.0] * k
        listed = [a.tolist() if isinstance(a, np.ndarray) else a for a in settings]
        b, total = fn(
            X.ravel().tolist(), y.tolist(), w_list, float(b), *listed, J, Z, every, first,
            w_track, b_track,
        )  # fmt: skip
        return Epoch(
            np.array(w_list, dtype=np.float64),
            float(b),
            np.array(J, dtype=np.float64),
            np.array(w_track, dtype=np.float64).reshape(k, n),
            np.array(b_track, dtype=np.float64),
            float(total),
            np.array(Z, dtype=np.float64),
        )
    if backend == "numba":
        fn = compiled(loss)
        w_arr = np.array(w, dtype=np.float64)  # a copy: updated in place
        J_arr, Z_arr = np.empty(m), np.empty(m)
        w_tr = np.empty(k * n)
        b_tr = np.empty(k)
        b, total = fn(
            np.ascontiguousarray(X, dtype=np.float64).ravel(),
            np.ascontiguousarray(y, dtype=np.float64),
            w_arr, float(b), *settings, J_arr, Z_arr, every, first, w_tr, b_tr,
        )  # fmt: skip
        return Epoch(w_arr, float(b), J_arr, w_tr.reshape(k, n), b_tr, float(total), Z_arr)
    raise ValueError(f"unknown backend {backend!r}; expected one of {BACKENDS}")


def _epoch_csr(  # noqa: PLR0917
    loss: str,
    X: object,
    y: np.ndarray,
    w: np.ndarray,
    b: float,
    settings: list[object],
    schedule: tuple[int, int, int],
    backend: str,
) -> Epoch:
    """:func:`epoch` on a CSR X: ``sgd_epoch_csr`` on its data, indices and row pointers."""
    every, first, k = schedule
    m, n = X.shape  # type: ignore[attr-defined]
    parts = (X.data, X.indices, X.indptr)  # type: ignore[attr-defined]
    if backend == "python":
        fn, w_out = _loop(loss, csr=True), w.tolist()
        J, Z, w_tr, b_tr = [0.0] * m, [0.0] * m, [0.0] * (k * n), [0.0] * k
        args = [p.tolist() for p in parts] + [y.tolist()]
        settings = [a.tolist() if isinstance(a, np.ndarray) else a for a in settings]
    elif backend == "numba":
        fn, w_out = compiled(loss, csr=True), np.array(w, dtype=np.float64)
        J, Z, w_tr, b_tr = np.empty(m), np.empty(m), np.empty(k * n), np.empty(k)
        args = [np.ascontiguousarray(p) for p in parts] + [np.ascontiguousarray(y)]
    else:
        raise ValueError(f"unknown backend {backend!r}; expected one of {BACKENDS}")
    b, total = fn(*args, w_out, float(b), *settings, J, Z, every, first, w_tr, b_tr)
    return Epoch(
        np.array(w_out, dtype=np.float64),
        float(b),
        np.array(J, dtype=np.float64),
        np.array(w_tr, dtype=np.float64).reshape(k, n),
        np.array(b_tr, dtype=np.float64),
        float(total),
        np.array(Z, dtype=np.float64),
    )
