"""Fits on Dask arrays: the generated kernels per chunk, tree reductions of their sums.

``X`` is a ``dask.array`` chunked by rows (one chunk along the features) and
``y`` a 1-D dask array with the same row chunks.  Every evaluation maps
:func:`derivreg.solvers.block_sums` (the in-memory objective's own
per-block function: the generated ``loss``, ``grad`` and ``hessian``) over
the chunks, sums the per-chunk vectors with a tree reduction, and computes
once: the only values gathered are the loss, the gradient and, for Newton,
the ``(n + 1) x (n + 1)`` Hessian.  Sample weights, the L2 penalty and
``fit_intercept`` mean what they mean in memory
(:class:`~derivreg.solvers.KernelObjective`, whose penalty code is reused),
and the solvers of :mod:`derivreg.solvers` run unchanged on it.

Dask's default scheduler (threads) is used unless a ``dask.distributed``
``Client`` is active, in which case Dask sends the work to its cluster.
On the threaded scheduler every compute holds the BLAS to one thread
(:func:`blas_limit`, with threadpoolctl where it is installed): the
scheduler's threads already use the cores, and a multi-threaded BLAS in each
of them makes them wait on each other (``benchmarks/dask_blas.py``).
Dask is the optional extra ``dask``: ``pip install 'derivreg[dask]'``.

Examples
--------
>>> import numpy as np, dask.array as da
>>> from derivreg.kernels import KERNELS
>>> X = da.from_array(np.array([[0.0], [1.0], [2.0], [3.0]]), chunks=(2, 1))
>>> y = da.from_array(np.array([1.0, 3.0, 5.0, 7.0]), chunks=2)
>>> obj = DaskObjective(KERNELS["mse"], X, y)
>>> obj.evaluate(np.zeros(2)).value  # (1 + 9 + 25 + 49) / 4
21.0
"""

from __future__ import annotations

import contextlib
import warnings
from collections.abc import Callable, Iterator
from types import ModuleType
from typing import Any, TypeGuard

import numpy as np

from derivreg import _losses
from derivreg.solvers.objective import (
    Curvature,
    Evaluation,
    KernelObjective,
    block_sums,
    no_hessian,
    unpack,
)

__all__ = ["DaskObjective", "blas_limit", "is_dask", "require_dask"]


def is_dask(a: object) -> TypeGuard[Any]:
    """Whether ``a`` is a Dask collection (checked without importing Dask).

    To a type checker, ``a`` is then Any: an Array, a DataFrame or another collection.

    Examples
    --------
    >>> is_dask(np.zeros(3))
    False
    """
    return hasattr(a, "__dask_graph__") and callable(a.__dask_graph__)


def require_dask() -> Any:
    """Import ``dask.array``, or raise an ImportError naming the extra.

    Examples
    --------
    >>> require_dask().__name__
    'dask.array'
    """
    try:
        import dask.array as da
    except ImportError:  # pragma: no cover - exercised without dask
        raise ImportError(
            "fitting on Dask arrays needs Dask: pip install 'derivreg[dask]'"
        ) from None
    return da


#: Warned once per process: no threadpoolctl, so the BLAS keeps its threads.
_WARNED: list[bool] = []


@contextlib.contextmanager
def blas_limit(*collections: Any) -> Iterator[bool]:
    """Hold the BLAS to one thread while the threaded scheduler computes ``collections``.

    Yields whether a limit is in force.  On the threaded scheduler (Dask's
    default) the tasks run in this process, on as many threads as cores; a
    BLAS call in each with its own threads oversubscribes the cores
    (``benchmarks/dask_blas.py``: the Hessian's ``X~^T diag(c) X~`` many
    times slower).  threadpoolctl's limit holds for the whole process, so it
    is set here, around the compute, and restored after it, rather than in
    each task: tasks entering and leaving it on several threads at once
    would restore each other's limits.  Elsewhere (a ``dask.distributed``
    cluster, whose workers start with one BLAS thread, or the synchronous
    scheduler) nothing changes.  Without threadpoolctl (optional) the BLAS
    keeps its threads and a warning says so, once.

    Examples
    --------
    >>> import dask.array as da
    >>> x = da.ones((4, 2), chunks=(2, 2))
    >>> with blas_limit(x) as limited:
    ...     total = float(x.sum().compute())
    >>> total
    8.0
    """
    import dask
    import dask.base
    import dask.threaded

    if dask.base.get_scheduler(collections=list(collections)) is not dask.threaded.get:
        yield False
        return
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        if not _WARNED:
            _WARNED.append(True)
            warnings.warn(
                "threadpoolctl is not installed, so the BLAS keeps its threads on Dask's "
                "threaded scheduler, where they compete with the scheduler's (many times "
                "slower): pip install threadpoolctl, or use a dask.distributed Client",
                RuntimeWarning,
                stacklevel=3,
            )
        yield False
        return
    with threadpool_limits(1, user_api="blas"):
        yield True


def _like_rows(da: Any, name: str, v: Any, X: Any) -> Any:
    """Return a 1-D ``v`` (dask or NumPy) as a float64 dask array with X's row chunks."""
    if v.ndim != 1 or v.shape[0] != X.shape[0]:
        raise ValueError(f"{name} must have shape ({X.shape[0]},) to match X of shape {X.shape}")
    if not is_dask(v):
        v = da.from_array(np.asarray(v), chunks=(X.chunks[0],))
    elif v.chunks[0] != X.chunks[0]:
        v = v.rechunk((X.chunks[0],))
    return v.astype(np.float64)


def rows_only(X: Any, y: Any, sample_weight: Any = None) -> tuple[Any, Any, Any]:
    """X with one chunk along the features; y (and the weights) with X's row chunks.

    Raises a ValueError naming the problem for a shape that does not fit.

    Examples
    --------
    >>> import dask.array as da
    >>> X, y, _ = rows_only(da.ones((6, 4), chunks=(3, 2)), np.zeros(6))
    >>> X.chunks, y.chunks
    (((3, 3), (4,)), ((3, 3),))
    """
    da = require_dask()
    if not is_dask(X):
        X = da.from_array(np.asarray(X))
    if X.ndim != 2:
        raise ValueError(f"Expected 2D array X of shape (m, n), got {X.ndim}D array instead")
    if any(np.isnan(s) for s in X.shape):
        raise ValueError("X has unknown chunk sizes; call X.compute_chunk_sizes() first")
    if X.shape[0] == 0 or X.shape[1] == 0:
        raise ValueError(f"X must have at least one sample and one feature, got shape {X.shape}")
    if len(X.chunks[1]) != 1:
        X = X.rechunk({1: -1})
    y = _like_rows(da, "y", y, X)
    if sample_weight is not None:
        if np.ndim(sample_weight) == 0:
            sample_weight = da.full(X.shape[0], float(sample_weight), chunks=(X.chunks[0],))
        sample_weight = _like_rows(da, "sample_weight", sample_weight, X)
    return X.astype(np.float64), y, sample_weight


class DaskObjective(KernelObjective):
    """The (weighted, penalised) mean loss of a kernel module over a row-chunked Dask array.

    Parameters
    ----------
    kernels : module
        A generated kernel module (see :class:`derivreg.solvers.KernelObjective`).
    X : dask.array.Array of shape (m, n)
        Chunked by rows; rechunked to one chunk along the features if needed.
    y : dask.array.Array or ndarray of shape (m,)
        Rechunked to X's row chunks if needed.
    fit_intercept : bool, default True
        Whether ``theta`` ends with the intercept ``b``.
    curvature : callable, optional
        Overrides the module's generated ``hessian``, as in memory.
    sample_weight : dask.array.Array, ndarray or float, optional
        Weights of the rows (scikit-learn's rules, checked chunk by chunk
        by the kernels): the objective is the weighted mean.
    alpha : float, default 0.0
        L2 strength: adds ``alpha/2 ||w||^2`` (never on ``b``).
    split_every : int, default 8
        Fan-in of the tree reduction.
    on_pass : callable, optional
        Called as ``on_pass(passes, evaluation)`` after every pass.

    Examples
    --------
    >>> import dask.array as da
    >>> from derivreg.kernels import KERNELS
    >>> X = da.ones((10, 3), chunks=(5, 3)); y = da.zeros(10, chunks=5)
    >>> DaskObjective(KERNELS["bce"], X, y).n_params
    4
    """

    # Dask arrays where KernelObjective holds NumPy ones: a dask.array.Array is no ndarray
    # (nor the reverse), so to a type checker these are Any here
    X: Any
    y: Any
    sample_weight: Any

    def __init__(
        self,
        kernels: ModuleType,
        X: Any,
        y: Any,
        *,
        fit_intercept: bool = True,
        curvature: Curvature | None = None,
        sample_weight: Any = None,
        alpha: float = 0.0,
        split_every: int = 8,
        on_pass: Callable[[int, Evaluation], object] | None = None,
    ) -> None:
        self.da = require_dask()
        X, y, sample_weight = rows_only(X, y, sample_weight)
        super().__init__(
            kernels,
            X,
            y,
            fit_intercept=fit_intercept,
            curvature=curvature,
            sample_weight=sample_weight,
            alpha=alpha,
        )
        self.split_every, self.on_pass = split_every, on_pass
        self.passes = 0

    def evaluate(self, theta: np.ndarray, *, hessian: bool = False) -> Evaluation:
        """Return the mean loss, gradient (and Hessian) at ``theta``: one pass, one compute.

        The first pass also checks the labels a classifier needs (0 or 1),
        chunk by chunk; the kernels check the rest (finite, in the domain).
        """
        if hessian and self.curvature is None:
            raise no_hessian(self.kernels)
        p = self.n_params
        width = 2 + p + (p * p if hessian else 0)
        weights = () if self.sample_weight is None else (self.sample_weight[:, None],)
        parts = self.da.map_blocks(
            _chunk,
            self.X,
            self.y[:, None],
            *weights,
            theta=np.asarray(theta, dtype=np.float64),
            kernels=self.kernels,
            fit_intercept=self.fit_intercept,
            curvature=self._override if hessian else None,
            hessian=hessian,
            binary=self.passes == 0 and _losses.is_classifier(self.kernels),
            chunks=((1,) * self.X.numblocks[0], (width,)),
            dtype=np.float64,
            meta=np.empty((0, 0)),
        )
        total = parts.sum(axis=0, split_every=self.split_every)
        with blas_limit(total):
            total = total.compute()
        self.passes += 1
        found = unpack(total, p, hessian)
        found = found if not self.alpha else self._penalized(found, theta)
        if self.on_pass is not None:
            self.on_pass(self.passes, found)
        return found


def _chunk(X: np.ndarray, y: np.ndarray, sw: np.ndarray | None = None, **kwargs: Any) -> np.ndarray:
    """One chunk's :func:`block_sums`, as a 1-row block (the labels checked if asked)."""
    if kwargs.pop("binary") and not np.isin(y, (0.0, 1.0)).all():
        raise ValueError(
            f"{kwargs['kernels'].NAME} targets must be 0 or 1; got values outside {{0, 1}}"
        )
    weights = None if sw is None else sw[:, 0]
    return block_sums(X, y[:, 0], sample_weight=weights, **kwargs)[None, :]
