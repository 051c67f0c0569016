""":class:`~derivreg.multiclass.SoftmaxRegressionSGD` on Dask arrays, with the same kernels.

Private: :mod:`derivreg.multiclass` calls it for Dask input (the input
checks and lazy predictions are :mod:`derivreg._dask_estimators`').

* ``solver="gd"``: each iteration one pass, the chunks' gradient sums
  (the generated ``grad`` in each chunk, times its rows or weight) tree-reduced;
  the step ``lr="auto"`` is ``1/L`` with ``L = lambda_max(X~^T S X~) / (2m)``
  as in memory, from the ``(n + 1) x (n + 1)`` Gram matrix of one more pass.
  Only ``W``, ``b`` and that matrix are gathered.  The iterates are the
  in-memory ones up to summation order.
* ``solver="sgd"``: each epoch the generated ``sgd_epoch`` runs chunk by
  chunk in a Dask task, ``W`` and ``b`` carried from chunk to chunk; with
  ``shuffle`` the chunks' order and each chunk's row order are drawn from
  the estimator's random state.  Without shuffling it is the in-memory run,
  update for update.

Examples
--------
>>> import numpy as np, dask.array as da
>>> from derivreg.multiclass import SoftmaxRegressionSGD
>>> X = da.from_array(np.array([[-2.0], [-1.9], [0.0], [0.1], [2.0], [2.1]]), chunks=(2, 1))
>>> clf = SoftmaxRegressionSGD(random_state=0).fit(X, np.array(["a", "a", "b", "b", "c", "c"]))
>>> clf.predict(X).compute().tolist()
['a', 'a', 'b', 'b', 'c', 'c']
"""

from __future__ import annotations

from typing import Any

import numpy as np

from derivreg.distributed import blas_limit, require_dask
from derivreg.kernels import softmax as _kernel
from derivreg.kernels import softmax_loop as _loop

__all__ = ["DaskGrad", "gd_step", "sgd_epochs"]


def _blocks(X: Any, Y: Any, sw: Any) -> tuple:
    return (X, Y) if sw is None else (X, Y, sw[:, None])


def _grad_sums(X: np.ndarray, Y: np.ndarray, sw: np.ndarray | None = None, **kw: Any) -> Any:
    """One chunk's ``[mass * dJ/dW (flat), mass * dJ/db, mass]`` as a 1-row block."""
    mass = float(X.shape[0]) if sw is None else float(np.sum(sw))
    width = kw["W"].size + kw["b"].size + 1
    if mass == 0.0:  # a chunk of weights all zero adds nothing
        return np.zeros((1, width))
    weights = None if sw is None else sw[:, 0]
    dW, db = _kernel.grad(X, Y, kw["W"], kw["b"], sample_weight=weights)
    return np.concatenate([dW.ravel() * mass, db * mass, [mass]])[None, :]


class DaskGrad:
    """``_kernel.grad``'s signature over Dask ``X`` and one-hot ``Y``: one pass per call."""

    def __init__(self) -> None:
        self.passes = 0

    def __call__(
        self, X: Any, Y: Any, W: np.ndarray, b: np.ndarray, *, sample_weight: Any, alpha: float
    ) -> tuple[np.ndarray, np.ndarray]:
        """Return the weighted mean gradient plus the L2 term, as the kernel's ``grad``."""
        da = require_dask()
        width = W.size + b.size + 1
        parts = da.map_blocks(
            _grad_sums,
            *_blocks(X, Y, sample_weight),
            W=W,
            b=b,
            chunks=((1,) * X.numblocks[0], (width,)),
            dtype=np.float64,
            meta=np.empty((0, 0)),
        )
        total = parts.sum(axis=0, split_every=8)
        with blas_limit(total):
            total = np.asarray(total.compute())
        self.passes += 1
        mass = total[-1]
        dW = total[: W.size].reshape(W.shape) / mass + _kernel.dR_dw(W, alpha)
        return dW, total[W.size : W.size + b.size] / mass


def _gram(X: np.ndarray, sw: np.ndarray | None = None, *, intercept: bool) -> np.ndarray:
    """One chunk's ``X~^T S X~`` (weights unscaled), flat, and its weight sum, as a 1-row block."""
    Xt = np.column_stack([X, np.ones(len(X))]) if intercept else X
    s = np.ones(len(X)) if sw is None else sw[:, 0]
    return np.concatenate([(Xt.T @ (s[:, None] * Xt)).ravel(), [np.sum(s)]])[None, :]


def gd_step(X: Any, weights: Any, *, l2: float, fit_intercept: bool) -> float:
    """``lr="auto"`` for ``"gd"``: ``1 / (lambda_max(X~^T S X~) / (2m) + alpha_l2)``, S of mean 1.

    The multiclass estimator's in-memory rule (``||S^1/2 X~||_2^2`` is the
    Gram matrix's largest eigenvalue), from one pass that gathers the Gram matrix.
    """
    da = require_dask()
    p = X.shape[1] + int(fit_intercept)
    blocks = (X,) if weights is None else (X, weights[:, None])
    parts = da.map_blocks(
        _gram,
        *blocks,
        intercept=fit_intercept,
        chunks=((1,) * X.numblocks[0], (p * p + 1,)),
        dtype=np.float64,
        meta=np.empty((0, 0)),
    )
    total = parts.sum(axis=0, split_every=8)
    with blas_limit(total):
        total = np.asarray(total.compute())
    m = X.shape[0]
    G = total[:-1].reshape(p, p) * (m / total[-1])  # the weights scaled to mean 1
    curvature = float(np.linalg.eigvalsh((G + G.T) / 2)[-1]) / (2 * m) + l2
    return 1.0 / curvature if curvature > 0 else 1.0


def _epoch(X: np.ndarray, Y: np.ndarray, sw: np.ndarray | None, state: dict) -> tuple:
    """One chunk's generated ``sgd_epoch`` (in a Dask task)."""
    return _loop.sgd_epoch(
        X, Y, state["W"], state["b"], state["lr"], order=state["order"], sample_weight=sw,
        alpha=state["alpha"], l1=state["l1"], fit_intercept=state["fit_intercept"],
    )  # fmt: skip


def sgd_epochs(X: Any, Y: Any, W: np.ndarray, b: np.ndarray, **fit: Any) -> tuple:
    """``fit["epochs"]`` epochs of per-sample SGD over the chunks; return the new ``(W, b)``.

    ``fit``: ``lr``, ``alpha``, ``l1``, ``fit_intercept``, ``sample_weight``,
    ``shuffle`` and ``rng`` (a RandomState: each epoch a chunk order, then a
    row order per chunk).
    """
    import dask

    sw, rng = fit["sample_weight"], fit["rng"]
    sizes = X.chunks[0]
    state = {k: fit[k] for k in ("lr", "alpha", "l1", "fit_intercept")}
    for _ in range(fit["epochs"]):
        chunks = rng.permutation(len(sizes)) if fit["shuffle"] else range(len(sizes))
        for i in chunks:
            order = rng.permutation(sizes[i]) if fit["shuffle"] else None
            weights = None if sw is None else sw.blocks[i]
            task = dask.delayed(_epoch, pure=False)(
                X.blocks[i], Y.blocks[i], weights, {**state, "W": W, "b": b, "order": order}
            )
            W, b = dask.compute(task)[0]
    return W, b
