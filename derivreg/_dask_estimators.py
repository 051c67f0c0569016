"""Dask arrays in the estimators: lazy input checks, lazy predictions, scores by chunk.

Private: :mod:`derivreg._estimator_base` and the estimators call it when
``X`` (or ``y``, or ``sample_weight``) is a Dask collection, so Dask is
imported only then.  ``fit`` then goes through :func:`derivreg.train.train`'s
Dask path; the inference on Dask input is :mod:`derivreg._dask_inference`.

What is taken, as dask-ml's estimators take it: ``X`` a ``dask.array`` of
shape (m, n) with known chunk sizes, chunked by rows and in one chunk along
the features (else a ValueError that says to ``X.rechunk({1: -1})``); ``y``
and ``sample_weight`` Dask or NumPy arrays of m rows.  Nothing here reads a
value of X before a pass needs it: the checks that read values run chunk by
chunk inside that pass (the kernels refuse NaN, infinity and labels outside
the loss's domain in the fit's first pass; a prediction's chunk when it is
computed).  The classifier's labels come from ``da.unique`` (one pass over
``y``, the distinct labels gathered).  ``predict``, ``predict_proba`` and
``decision_function`` return lazy Dask arrays (``map_blocks`` of the
generated ``predict``: dask-ml's convention); ``score`` returns a float from
per-chunk sums, in one pass.

Two things differ from a fit in memory, because they need X in one place:
the separability check of an unpenalised classifier (an LP) is not run, so
a Newton fit on separable classes ends unconverged or with a singular
Hessian (``inference_note_`` says which) rather than with a
``SeparationWarning``; and ``lr="auto"`` for mini-batches and full batches
uses the per-sample bound ``max ||x~||^2`` for the top eigenvalue it bounds
(a smaller, as safe step; per-sample SGD's rule is the in-memory one).

Examples
--------
>>> import numpy as np, dask.array as da
>>> from derivreg.estimators import LinearRegressionSGD
>>> X = da.from_array(np.arange(8.0)[:, None], chunks=(4, 1))
>>> reg = LinearRegressionSGD(solver="newton").fit(X, 2 * X[:, 0] + 1)
>>> pred = reg.predict(X)  # lazy: nothing computed yet
>>> type(pred).__name__, pred[:2].compute().round(9).tolist(), reg.score(X, 2 * X[:, 0] + 1)
('Array', [1.0, 3.0], 1.0)
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from types import ModuleType
from typing import Any

import numpy as np
from sklearn.base import is_classifier
from sklearn.exceptions import DataConversionWarning
from sklearn.utils.validation import _check_feature_names, assert_all_finite, check_is_fitted

from derivreg.distributed import blas_limit, is_dask, require_dask
from derivreg.inference import Inference, fisher_inference

__all__ = [
    "auto_lr",
    "check_X",
    "check_fit",
    "fisher",
    "labels",
    "lazy_rows",
    "log_likelihood",
    "logit",
    "score",
]


def _dask_array(name: str, a: Any) -> Any:
    """Return ``a`` if it is a ``dask.array``; a TypeError for another Dask collection."""
    da = require_dask()
    if not isinstance(a, da.Array):
        raise TypeError(
            f"{name} is a {type(a).__name__}, not a dask.array: the estimators take Dask "
            f"arrays (for a Dask DataFrame, pass {name}.to_dask_array(lengths=True))"
        )
    return a


def check_X(estimator: Any, X: Any, *, reset: bool) -> Any:
    """Check a Dask ``X`` without computing it; return it as float64 (lazily).

    Shape, chunks, dtype and the number of features are read off the graph;
    the values (finite) are checked chunk by chunk when a pass reads them.
    ``reset`` records ``n_features_in_`` (fit), else compares with it.
    """
    X = _dask_array("X", X)
    name = type(estimator).__name__
    if X.ndim != 2:
        raise ValueError(
            f"Expected 2D array, got {X.ndim}D array instead. Reshape your data either using "
            "array.reshape(-1, 1) if your data has a single feature or array.reshape(1, -1) "
            "if it contains a single sample."
        )
    if any(np.isnan(s) for s in X.shape):
        raise ValueError("X has unknown chunk sizes; call X.compute_chunk_sizes() first")
    m, n = X.shape
    for count, what in ((m, "sample"), (n, "feature")):
        if count == 0:
            raise ValueError(
                f"Found array with 0 {what}(s) (shape={X.shape}) while a minimum of 1 is "
                f"required by {name}."
            )
    if len(X.chunks[1]) != 1:
        raise ValueError(
            f"X is chunked along its features (chunks {X.chunks[1]} on axis 1): {name} "
            "needs each chunk to hold whole rows; use X.rechunk({1: -1}) (one chunk along "
            "the features, as dask-ml asks)"
        )
    if X.dtype.kind == "c":
        raise ValueError("Complex data not supported")
    if X.dtype.kind not in "biuf":
        raise ValueError(f"X has dtype {X.dtype}: {name} needs numbers (float64 after conversion)")
    _check_feature_names(estimator, X, reset=reset)  # a Dask array has none: a fitted DataFrame's
    if reset:
        estimator.n_features_in_ = n
    elif n != estimator.n_features_in_:
        raise ValueError(
            f"X has {n} features, but {name} is expecting "
            f"{estimator.n_features_in_} features as input."
        )
    return X.astype(np.float64)


def _rows_like(name: str, v: Any, X: Any) -> Any:
    """Return ``v`` (Dask or NumPy, m rows) as a 1-D Dask array with X's row chunks."""
    da = require_dask()
    v = _dask_array(name, v) if is_dask(v) else da.from_array(np.asarray(v), chunks=-1)
    if v.ndim == 2 and v.shape[1] == 1:
        warnings.warn(
            f"A column-vector {name} was passed when a 1d array was expected. Please change "
            f"the shape of {name} to (n_samples, ), for example using ravel().",
            DataConversionWarning,
            stacklevel=4,
        )
        v = v[:, 0]
    if v.ndim != 1:
        raise ValueError(f"{name} should be a 1d array, got an array of shape {v.shape} instead.")
    if np.isnan(v.shape[0]):
        raise ValueError(f"{name} has unknown chunk sizes; call {name}.compute_chunk_sizes() first")
    if v.shape[0] != X.shape[0]:
        raise ValueError(
            "Found input variables with inconsistent numbers of samples: "
            f"[{X.shape[0]}, {v.shape[0]}]"
        )
    return v if v.chunks[0] == X.chunks[0] else v.rechunk((X.chunks[0],))


def check_fit(estimator: Any, X: Any, y: Any, sample_weight: Any, *, reset: bool) -> tuple:
    """Check ``fit``'s Dask input lazily; return X (float64), y and the weights, row-aligned.

    A NumPy ``X`` with a Dask ``y`` is wrapped in one Dask array with y's
    row chunks.  A scalar weight stays a scalar (train broadcasts it).
    """
    da = require_dask()
    if not is_dask(X):
        X = np.asarray(X)
        rows = y.chunks[0] if is_dask(y) and getattr(y, "ndim", 0) == 1 else -1
        X = da.from_array(X, chunks=(rows, -1) if X.ndim == 2 else -1)
    X = check_X(estimator, X, reset=reset)
    y = _rows_like("y", y, X)
    if not is_classifier(estimator):
        if y.dtype.kind not in "biuf":
            raise ValueError(f"y has dtype {y.dtype}: {type(estimator).__name__} needs numbers")
        y = y.astype(np.float64)
    if sample_weight is not None and np.ndim(sample_weight) != 0:
        sample_weight = _rows_like("sample_weight", sample_weight, X).astype(np.float64)
    return X, y, sample_weight


def labels(y: Any) -> np.ndarray:
    """Return the distinct values of a Dask ``y`` (one pass; only they are gathered)."""
    return np.asarray(require_dask().unique(y).compute())


def auto_lr(
    kernel: ModuleType,
    X: Any,
    *,
    batch_size: int,
    penalty: Any,
    weights: Any,
    fit_intercept: bool,
    per_sample: bool,
) -> float:
    """``lr="auto"`` on Dask ``X``: ``1 / L`` with ``L = (2/c) max_i (s_i) ||x~_i||^2 + alpha_l2``.

    One pass: each chunk's largest (weighted) squared row norm, its values
    checked finite there.  This is the in-memory rule for per-sample SGD
    (:func:`derivreg._penalty.auto_lr`); for mini-batches and full batches it
    stands in for the top eigenvalue of the rows' mean ``x~ x~^T`` (at most
    ``max ||x~||^2``), so the step is at most the in-memory one and as safe.
    """
    from derivreg._penalty import auto_lr_unbounded

    c = float(kernel.STEP_SIZE_NUMERATOR)
    if c == 0.0:
        return auto_lr_unbounded(kernel)
    per_row = weights if per_sample else None  # per-sample SGD: the weights scale the steps
    scalar = 1.0
    if per_row is not None and not np.ndim(per_row):  # one weight for every row
        scalar, per_row = float(per_row), None
    blocks = (X,) if per_row is None else (X, per_row[:, None])
    parts = require_dask().map_blocks(
        _row_norm_max,
        *blocks,
        intercept=float(fit_intercept),
        scalar=scalar,
        chunks=((1,) * X.numblocks[0], (1,)),
        dtype=np.float64,
        meta=np.empty((0, 0)),
    )
    largest = parts.max()
    with blas_limit(largest):
        q = float(largest.compute())
    del batch_size  # the bound holds for every batch size
    L = 2.0 / c * q + penalty.l2
    if not np.isfinite(L):
        raise FloatingPointError(
            f"lr='auto' is 1/L with L = (2/{c:g}) max||(x,1)||^2 + alpha, which overflows "
            "float64; rescale X (e.g. standardize it) or pass a number as lr"
        )
    return 1.0 if L == 0.0 else 1.0 / L


def _row_norm_max(
    X: np.ndarray, sw: np.ndarray | None = None, *, intercept: float, scalar: float
) -> np.ndarray:
    """One chunk's ``max_i s_i (||x_i||^2 + intercept)``, its X checked finite, as a 1 x 1 block."""
    assert_all_finite(X, input_name="X")
    with np.errstate(over="ignore"):
        rows = np.einsum("ij,ij->i", X, X) + intercept
        rows = rows * (scalar if sw is None else sw[:, 0])
    return np.array([[np.max(rows)]])


def _apply(block: np.ndarray, *, fn: Callable[..., np.ndarray], args: tuple) -> np.ndarray:
    return fn(block, *args)


def lazy_rows(
    estimator: object,
    X: Any,
    fn: Callable[..., np.ndarray],
    *args: Any,
    columns: int | None = None,
    dtype: Any = np.float64,
) -> Any:
    """``fn(block, *args)`` on every row chunk of a checked Dask ``X``: a lazy Dask array.

    ``fn`` returns one value per row (``columns=None``) or ``columns`` per
    row.  Nothing is computed here.
    """
    X = check_X(estimator, X, reset=False)
    if columns is None:
        return X.map_blocks(
            _apply, fn=fn, args=args, drop_axis=1, dtype=dtype, meta=np.empty(0, dtype)
        )
    return X.map_blocks(
        _apply,
        fn=fn,
        args=args,
        chunks=(X.chunks[0], (columns,)),
        dtype=dtype,
        meta=np.empty((0, 0), dtype),
    )


def score(estimator: Any, X: Any, y: Any, sample_weight: Any = None, *, classifier: bool) -> float:
    """Return the estimator's score on Dask input, from per-chunk sums: one pass, a float.

    A classifier's accuracy ``sum s_i [yhat_i = y_i] / sum s_i``; a
    regressor's ``R^2 = 1 - sum s_i (y_i - yhat_i)^2 / sum s_i (y_i - ybar)^2``
    (scikit-learn's ``accuracy_score`` and ``r2_score``, with their value
    where the denominator is 0), the total sum of squares combined from the
    chunks' own centred sums (Chan et al.'s pairwise rule, no cancellation).
    """
    da = require_dask()
    X = check_X(estimator, X, reset=False)
    y = _rows_like("y", y, X)
    weights: tuple[Any, ...] = ()  # the weights column, if any: one more block argument
    if sample_weight is not None:
        if np.ndim(sample_weight) == 0:
            sample_weight = da.full(X.shape[0], float(sample_weight), chunks=(X.chunks[0],))
        weights = (_rows_like("sample_weight", sample_weight, X).astype(np.float64)[:, None],)
    parts = da.map_blocks(
        _score_sums,
        X,
        y[:, None],
        *weights,
        predict=estimator.predict,
        classifier=classifier,
        chunks=((1,) * X.numblocks[0], (4,)),
        dtype=np.float64,
        meta=np.empty((0, 0)),
    )
    with blas_limit(parts):
        sums = parts.compute()
    return _accuracy(sums) if classifier else _r2(sums)


def _score_sums(
    X: np.ndarray,
    y: np.ndarray,
    sw: np.ndarray | None = None,
    *,
    predict: Callable[[np.ndarray], np.ndarray],
    classifier: bool,
) -> np.ndarray:
    """One chunk's ``[W, sum s y, sum s (y - mean)^2, sum s (y - yhat)^2]`` (or hits, W)."""
    y = y[:, 0]
    s = np.ones(y.shape[0]) if sw is None else sw[:, 0]
    yhat = predict(X)
    W = float(np.sum(s))
    if classifier:
        return np.array([[W, float(np.sum(s * (yhat == y))), 0.0, 0.0]])
    y = y.astype(np.float64)
    mean = float(np.sum(s * y)) / W if W > 0 else 0.0
    return np.array(
        [
            [
                W,
                float(np.sum(s * y)),
                float(np.sum(s * (y - mean) ** 2)),
                float(np.sum(s * (y - yhat) ** 2)),
            ]
        ]
    )


def _accuracy(sums: np.ndarray) -> float:
    return float(sums[:, 1].sum() / sums[:, 0].sum())


def _r2(sums: np.ndarray) -> float:
    W, S, M2, residual = sums.T
    total = W.sum()
    mean = S.sum() / total
    own = np.divide(S, W, out=np.zeros_like(S), where=W > 0)
    ss_tot = float(np.sum(M2 + W * (own - mean) ** 2))
    ss_res = float(residual.sum())
    if ss_tot == 0.0:  # scikit-learn's r2_score (force_finite): 1 for a perfect fit, else 0
        return 1.0 if ss_res == 0.0 else 0.0
    return 1.0 - ss_res / ss_tot


# --- the hooks of derivreg._estimator_base: Dask input, else the in-memory call ----------


def log_likelihood(kernel: Any, X: Any, y: Any, w: np.ndarray, b: float, *, history: Any) -> float:
    """Return the kernel's ``log_likelihood``; on Dask input, from per-chunk sums.

    On Dask input a full-batch fit's last mean loss (its objective at ``(w,
    b)``, unpenalised where the likelihood is asked for) stands for the
    losses' pass.
    """
    if is_dask(X):
        from derivreg._dask_inference import log_likelihood_dask

        mean_loss = None
        if history is not None and history.solver in ("gd", "newton", "lbfgs"):
            ends = history.loss if history.loss is not None else history.epoch_loss
            mean_loss = float(ends[-1]) if ends is not None and len(ends) else None
        return log_likelihood_dask(kernel, X, y, w, b, mean_loss=mean_loss)
    return float(kernel.log_likelihood(X, y, w, b))


def fisher(kernel: Any, X: Any, *args: Any, **kwargs: Any) -> Inference:
    """:func:`~derivreg.inference.fisher_inference`; on Dask input, from per-chunk sums."""
    if is_dask(X):
        from derivreg._dask_inference import fisher_inference_dask

        # the fit's passes checked X and y (the kernels, chunk by chunk)
        return fisher_inference_dask(kernel, X, *args, checked=True, **kwargs)
    return fisher_inference(kernel, X, *args, **kwargs)


def logit(X: np.ndarray, w: np.ndarray, b: float | np.ndarray) -> np.ndarray:
    """``X w + b`` of one Dask chunk, its values checked as ``validate_data`` checks them.

    ``w`` an n-vector and ``b`` a float, or (softmax) ``W`` of shape (n, k) and ``b`` a k-vector.
    """
    assert_all_finite(X, input_name="X")
    return X @ w + b


class _DaskScore:
    """``score`` on Dask input from per-chunk sums; scikit-learn's mixin's otherwise."""

    def score(self, X: Any, y: Any, sample_weight: Any = None) -> float:
        """Return the mixin's score (R^2 or accuracy); on Dask input a float from one pass.

        Examples
        --------
        >>> from derivreg.estimators import LinearRegressionSGD
        >>> X = np.array([[0.0], [1.0], [2.0]])
        >>> LinearRegressionSGD(solver="newton").fit(X, [1.0, 3.0, 5.0]).score(X, [1.0, 3.0, 5.0])
        1.0
        """
        if is_dask(X) or is_dask(y) or is_dask(sample_weight):
            check_is_fitted(self)
            return score(self, X, y, sample_weight, classifier=is_classifier(self))
        return super().score(X, y, sample_weight=sample_weight)  # type: ignore[misc]  # the mixin's
