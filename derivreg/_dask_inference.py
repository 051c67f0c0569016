"""Standard errors and the log-likelihood on Dask arrays, from per-chunk sums.

Private: the estimators call it for a fit on Dask input.  The same numbers
as :func:`derivreg.inference.fisher_inference` and the kernel module's
``log_likelihood``, each sum taken chunk by chunk and tree-reduced: the
Hessian ``X~^T diag(c) X~`` (:class:`~derivreg.distributed.DaskObjective`:
the generated ``hessian``, or ``X~^T diag(c) X~`` from a curvature), the
Pearson sum ``sum_i (dJ_i/dz)^2 / c_i``, the losses' sum and the
normalising constants' sum.  Only ``p x p`` values and a few scalars are
gathered.  A Newton fit's Hessian (``History.hessian``) is reused where
in memory it is.

Examples
--------
>>> import numpy as np, dask.array as da
>>> from derivreg.kernels import KERNELS
>>> X = da.from_array(np.array([[0.0], [1.0], [2.0], [3.0]]), chunks=(2, 1))
>>> y = da.from_array(np.array([1.0, 2.9, 5.2, 6.9]), chunks=2)
>>> inf = fisher_inference_dask(KERNELS["mse"], X, y, np.array([1.99]), 1.0, scale=2.0)
>>> inf.cov.round(3).tolist()  # 2 (m H)^-1 = (X~^T X~)^-1
[[0.2, -0.3], [-0.3, 0.7]]
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from types import ModuleType
from typing import Any

import numpy as np

from derivreg import inference
from derivreg.distributed import DaskObjective, blas_limit, require_dask, rows_only
from derivreg.inference import Curvature, Inference, _from_hessian, _reads_y, no_inference_reason

__all__ = ["fisher_inference_dask", "log_likelihood_dask"]


def _sum_blocks(fn: Any, X: Any, y: Any, width: int, **kwargs: Any) -> np.ndarray:
    """Sum ``fn(X_chunk, y_chunk, **kwargs)`` (a 1 x width block) over the chunks: one compute."""
    da = require_dask()
    parts = da.map_blocks(
        fn,
        X,
        y[:, None],
        chunks=((1,) * X.numblocks[0], (width,)),
        dtype=np.float64,
        meta=np.empty((0, 0)),
        **kwargs,
    )
    total = parts.sum(axis=0, split_every=8)
    with blas_limit(total):
        return np.asarray(total.compute())


def _pearson_sums(
    X: np.ndarray, y: np.ndarray, *, kernels: ModuleType, theta: np.ndarray, weight: Curvature
) -> np.ndarray:
    """One chunk's ``sum_i dJ_dz(z_i, y_i)^2 / weight(z_i, y_i)``, its values checked first."""
    y = y[:, 0]
    kernels.loss(X, y, theta[:-1], theta[-1])  # the kernels' checks: finite, in the domain
    z = X @ theta[:-1] + theta[-1]
    return np.array([[float(np.sum(kernels.dJ_dz(z, y) ** 2 / weight(z, y)))]])


def _checked(X: np.ndarray, y: np.ndarray, *, kernels: ModuleType, theta: np.ndarray) -> np.ndarray:
    """One chunk's inputs checked as the kernels check them (finite, in the domain)."""
    kernels.loss(X, y[:, 0], theta[:-1], theta[-1])
    return np.zeros((1, 1))


def _scale(
    scale: float | str, kernels: ModuleType, weight: Curvature, data: tuple, theta: np.ndarray
) -> float:
    """Return the scale: a number as given, or the Pearson estimate from one pass."""
    X, y = data
    # "auto", where derivreg.inference defines it: its rule (Pearson's or a number), shared
    auto = getattr(inference, "_auto_scale", None)
    if isinstance(scale, str) and scale == "auto" and auto is not None:
        scale = auto(kernels)
    if isinstance(scale, str) and scale == "pearson":
        m, p = X.shape[0], theta.size
        if m <= p:
            raise ValueError(
                f"scale='pearson' needs more samples than parameters; got m={m}, p={p}"
            )
        kw = {"kernels": kernels, "theta": theta, "weight": weight}
        return float(_sum_blocks(_pearson_sums, X, y, 1, **kw)[0]) / (m - p)
    if isinstance(scale, bool) or not isinstance(scale, (int, float)) or not 0 < scale < math.inf:
        raise ValueError(
            "The 'scale' parameter of fisher_inference must be a float in the range "
            f"(0.0, inf) or 'pearson' (on Dask arrays). Got {scale!r} instead."
        )
    return float(scale)


def fisher_inference_dask(
    kernels: ModuleType,
    X: Any,
    y: Any,
    w: np.ndarray,
    b: float,
    *,
    scale: float | str = 1.0,
    curvature: Curvature | None = None,
    names: Sequence[str] | None = None,
    information: str = "expected",
    hessian: np.ndarray | None = None,
    checked: bool = False,
) -> Inference:
    """:func:`derivreg.inference.fisher_inference` on a row-chunked Dask ``X`` and ``y``.

    The same arguments and results; every sum over the rows is taken chunk
    by chunk.  With a given ``hessian`` (a Newton fit's) and a number as
    ``scale``, no sum is needed: the inputs are still checked in one pass
    (as in memory), unless ``checked`` says the caller's passes did (a fit's).

    Examples
    --------
    >>> import dask.array as da
    >>> from derivreg.kernels import KERNELS
    >>> X = da.from_array(np.array([[0.0], [1.0], [2.0], [3.0]]), chunks=(2, 1))
    >>> y = da.from_array(np.array([0.0, 1.0, 0.0, 1.0]), chunks=2)
    >>> s = lambda z, y: 0.25 * np.ones_like(z)  # sigma(0) sigma(-0)
    >>> fisher_inference_dask(KERNELS["bce"], X, y, np.zeros(1), 0.0, curvature=s).stderr.round(4)
    array([0.8944, 1.6733])
    """
    reason = no_inference_reason(kernels, curvature)
    if reason is not None:
        raise ValueError(f"no standard errors: {reason}")
    if information not in ("expected", "observed"):
        raise ValueError(
            "The 'information' parameter of fisher_inference must be a str among "
            f"{{'expected', 'observed'}}. Got {information!r} instead."
        )
    X, y, _ = rows_only(X, y)
    theta = np.append(np.asarray(w, dtype=np.float64), float(b))
    m, p = X.shape[0], theta.size
    if X.shape[1] + 1 != p:
        raise ValueError(f"w has shape ({p - 1},) but X has shape {X.shape}")
    weight = curvature or (kernels.expected_curvature if _reads_y(kernels) else None)
    if curvature is None and information == "expected" and _reads_y(kernels):
        curvature = kernels.expected_curvature
    H: np.ndarray | None
    if hessian is not None and curvature is None:  # the module's own Hessian: reused
        H = np.asarray(hessian, dtype=np.float64)
        if H.shape != (p, p) or not np.isfinite(H).all():
            raise ValueError(
                f"hessian must be a finite array of shape ({p}, {p}) (History.hessian of a "
                f"Newton fit with an intercept); got shape {H.shape}"
            )
        if not checked and not (isinstance(scale, str) and scale == "pearson"):  # no pass below
            _sum_blocks(_checked, X, y, 1, kernels=kernels, theta=theta)
    else:
        found = DaskObjective(kernels, X, y, curvature=curvature).evaluate(theta, hessian=True)
        H = found.hessian
    assert H is not None
    scale = _scale(scale, kernels, weight or curvature or kernels.curvature, (X, y), theta)
    return _from_hessian(H, m, scale, theta, names)


def _loss_sum(X: np.ndarray, y: np.ndarray, *, kernels: ModuleType, w: Any, b: float) -> Any:
    return np.array([[float(np.sum(kernels.losses(X, y[:, 0], w, b))), float(X.shape[0])]])


def _normaliser_sum(y: np.ndarray, *, kernels: ModuleType, phi: float) -> np.ndarray:
    k = np.broadcast_to(kernels.log_normaliser(y, phi), y.shape)
    return np.array([float(np.sum(k))])


def _pearson_sum(X: np.ndarray, y: np.ndarray, *, kernels: ModuleType, w: Any, b: float) -> Any:
    return np.array([[float(np.sum(kernels.pearson_residual(X @ w + b, y[:, 0])))]])


def _dispersion(
    kernels: ModuleType, X: Any, y: Any, w: np.ndarray, b: float, *, J_mean: float
) -> float:
    """Return the dispersion the module's ``log_likelihood`` takes.

    Its ``dispersion(J_mean)`` (the maximum-likelihood one), else Pearson's
    ``sum_i r_i / (m - p)`` from its ``pearson_residual`` (one more pass).
    """
    if hasattr(kernels, "dispersion"):
        return float(kernels.dispersion(J_mean))
    m, p = X.shape[0], X.shape[1] + 1  # the kernels' _pearson_dispersion: p = n + 1
    if m <= p:
        raise ValueError(
            f"the log-likelihood is taken at Pearson's dispersion sum_i r_i / (m - p), which "
            f"needs more samples than parameters; got m={m}, p={p}"
        )
    (total,) = _sum_blocks(_pearson_sum, X, y, 1, kernels=kernels, w=w, b=b)
    return float(total) / (m - p)


def log_likelihood_dask(
    kernels: ModuleType, X: Any, y: Any, w: np.ndarray, b: float, *, mean_loss: float | None = None
) -> float:
    """Return the kernel module's ``log_likelihood`` on Dask arrays: two passes, two scalars each.

    ``log L = sum_i k(y_i, phi) - sum_i J_i / (LOGLIK_SCALE phi)`` with
    ``phi = dispersion(mean J)`` (Pearson's, one more pass, where the module
    has no closed-form ``dispersion``): the losses' sum (a pass over X and y, the
    kernels' checks in it), then the normalising constants' sum (a pass over
    y alone).  ``mean_loss``, where the caller has it (a full-batch fit's last
    objective value at ``(w, b)``), saves the first pass.  A non-finite value
    is returned as it is (the caller says why).

    Examples
    --------
    >>> import dask.array as da
    >>> from derivreg.kernels import KERNELS
    >>> X = da.from_array(np.array([[0.0], [1.0]]), chunks=(1, 1))
    >>> y = da.from_array(np.array([0.0, 1.0]), chunks=1)
    >>> round(log_likelihood_dask(KERNELS["bce"], X, y, np.zeros(1), 0.0), 6)  # 2 log(1/2)
    -1.386294
    """
    X, y, _ = rows_only(X, y)
    w = np.asarray(w, dtype=np.float64)
    if mean_loss is None:
        J, m = _sum_blocks(_loss_sum, X, y, 2, kernels=kernels, w=w, b=float(b))
    else:
        m = float(X.shape[0])
        J = mean_loss * m
    phi = _dispersion(kernels, X, y, w, float(b), J_mean=float(J / m))
    normaliser = y.map_blocks(
        _normaliser_sum,
        kernels=kernels,
        phi=phi,
        chunks=((1,) * y.numblocks[0],),
        dtype=np.float64,
        meta=np.empty(0),
    ).sum()
    with np.errstate(divide="ignore", over="ignore", invalid="ignore"):
        return float(normaliser.compute()) - float(J) / (kernels.LOGLIK_SCALE * phi)
