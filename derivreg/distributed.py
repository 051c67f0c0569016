"""Fits on Dask arrays: the generated kernels per chunk, tree reductions of their sums.

``X`` is a ``dask.array`` chunked by rows (one chunk along the features) and
``y`` a 1-D dask array with the same row chunks.  Every evaluation maps
:func:`derivreg.solvers.block_sums` (the in-memory objective's own
per-block function) over the chunks, sums the per-chunk vectors with a tree
reduction, and computes once: the only values gathered are the loss, the
gradient and, for Newton, the ``(n + 1) x (n + 1)`` Hessian.  The solvers of
:mod:`derivreg.solvers` run unchanged on it.

Dask's default scheduler (threads) is used unless a ``dask.distributed``
``Client`` is active, in which case Dask sends the work to its cluster.
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

from types import ModuleType
from typing import Any

import numpy as np

from derivreg.solvers.objective import Curvature, Evaluation, block_sums, no_hessian, unpack

__all__ = ["DaskObjective", "require_dask"]


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


def _rows_only(da: Any, X: Any, y: Any) -> tuple[Any, Any]:
    """X with one chunk along features, y with X's row chunks; a clear error otherwise."""
    if X.ndim != 2:
        raise ValueError(f"Expected 2D array X of shape (m, n), got {X.ndim}D array instead")
    if y.ndim != 1 or y.shape[0] != X.shape[0]:
        raise ValueError(f"y must have shape ({X.shape[0]},) to match X of shape {X.shape}")
    if any(np.isnan(s) for s in X.shape):
        raise ValueError("X has unknown chunk sizes; call X.compute_chunk_sizes() first")
    if len(X.chunks[1]) != 1:
        X = X.rechunk({1: -1})
    if not isinstance(y, da.Array):
        y = da.from_array(np.asarray(y), chunks=(X.chunks[0],))
    elif y.chunks[0] != X.chunks[0]:
        y = y.rechunk((X.chunks[0],))
    return X.astype(np.float64), y.astype(np.float64)


class DaskObjective:
    """The mean loss of a kernel module over a row-chunked Dask array.

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
        Per-sample ``d2J/dz2`` of ``(z, y)``; defaults to the module's own.
    split_every : int, default 8
        Fan-in of the tree reduction.

    Examples
    --------
    >>> import dask.array as da
    >>> from derivreg.kernels import KERNELS
    >>> X = da.ones((10, 3), chunks=(5, 3)); y = da.zeros(10, chunks=5)
    >>> DaskObjective(KERNELS["bce"], X, y).n_params
    4
    """

    def __init__(
        self,
        kernels: ModuleType,
        X: Any,
        y: Any,
        *,
        fit_intercept: bool = True,
        curvature: Curvature | None = None,
        split_every: int = 8,
    ) -> None:
        self.da = require_dask()
        self.X, self.y = _rows_only(self.da, X, y)
        self.kernels = kernels
        self.fit_intercept = fit_intercept
        self.curvature = curvature if curvature is not None else getattr(kernels, "curvature", None)
        self.n_params = self.X.shape[1] + int(fit_intercept)
        self.n_samples = self.X.shape[0]
        self.split_every = split_every
        self.passes = 0

    @property
    def has_hessian(self) -> bool:
        """Whether :meth:`evaluate` can return the Hessian."""
        return self.curvature is not None

    def evaluate(self, theta: np.ndarray, *, hessian: bool = False) -> Evaluation:
        """Return the mean loss, gradient (and Hessian) at ``theta``: one pass, one compute."""
        if hessian and self.curvature is None:
            raise no_hessian(self.kernels)
        p = self.n_params
        width = 2 + p + (p * p if hessian else 0)
        parts = self.da.map_blocks(
            _chunk,
            self.X,
            self.y[:, None],
            theta=np.asarray(theta, dtype=np.float64),
            kernels=self.kernels,
            fit_intercept=self.fit_intercept,
            curvature=self.curvature if hessian else None,
            chunks=((1,) * self.X.numblocks[0], (width,)),
            dtype=np.float64,
            meta=np.empty((0, 0)),
        )
        total = parts.sum(axis=0, split_every=self.split_every).compute()
        self.passes += 1
        return unpack(total, p, hessian)


def _chunk(X: np.ndarray, y: np.ndarray, **kwargs: Any) -> np.ndarray:
    """One chunk's :func:`block_sums`, as a 1-row block."""
    return block_sums(X, y[:, 0], **kwargs)[None, :]
