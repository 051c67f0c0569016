"""Softmax kernels with one planted bug each: every property must catch its own.

Each look-alike wraps the real generated modules (never edited) and
replaces one function with a plausible wrong version.
"""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np

from derivreg.kernels import softmax, softmax_loop


def real() -> SimpleNamespace:
    """The generated kernels, as one namespace."""
    return SimpleNamespace(
        log_softmax=softmax.log_softmax,
        predict_proba=softmax.predict_proba,
        losses=softmax.losses,
        loss=softmax.loss,
        grad=softmax.grad,
        dJ_dz=softmax.dJ_dz,
        sgd_epoch=softmax_loop.sgd_epoch,
    )


def _with(**replaced: object) -> SimpleNamespace:
    kernel = real()
    for name, value in replaced.items():
        setattr(kernel, name, value)
    return kernel


def _quiet(f):
    def g(*args):
        with np.errstate(all="ignore"):
            return f(*args)

    return g


@_quiet
def _naive_log_softmax(Z):
    Z = np.asarray(Z, dtype=float)
    return Z - np.log(np.sum(np.exp(Z), axis=1, keepdims=True))


@_quiet
def _log_not_log1p(Z):
    Z = np.asarray(Z, dtype=float)
    s = Z - Z.max(axis=1, keepdims=True)
    return s - np.log(np.sum(np.exp(s), axis=1, keepdims=True))


def _losses_from(log_softmax):
    def losses(X, Y, W, b):
        X, Y, W, b = softmax._check_batch(X, Y, W, b)
        return -np.sum(np.where(Y > 0, log_softmax(X @ W + b), 0.0), axis=1)

    return losses


@_quiet
def _subtracted_residual(Z, Y):
    Z = np.asarray(Z, dtype=float)
    s = Z - Z.max(axis=1, keepdims=True)
    e = np.exp(s)
    return e / e.sum(axis=1, keepdims=True) - np.asarray(Y, dtype=float)


@_quiet
def _without_two_sum(Z, Y):
    # the kernel's cancellation-free residual, but exp(s) without TwoSum's (1 + err)
    Z, Y = np.asarray(Z, dtype=float), np.asarray(Y, dtype=float)
    e = np.exp(Z - Z.max(axis=1, keepdims=True))
    wrong = np.sum(np.where(Y > 0, 0.0, e), axis=1, keepdims=True)
    return np.where(Y > 0, -wrong, e) / e.sum(axis=1, keepdims=True)


def _grad_without_mean(X, Y, W, b):
    dW, db = softmax.grad(X, Y, W, b)
    return dW * len(X), db * len(X)


def _unnormalised_proba(X, W, b):
    X, W, b = softmax._check_params(X, W, b)
    Z = X @ W + b
    return np.exp(Z - Z.max(axis=1, keepdims=True))


def _sgd_in_place(X, Y, W, b, lr, *, order=None):
    new_W, new_b = softmax_loop.sgd_epoch(X, Y, W, b, lr, order=order)
    W[...] = new_W  # writes into the caller's array
    return W, new_b


def _unchecked_losses(X, Y, W, b):
    X, Y, W, b = (np.asarray(a, dtype=float) for a in (X, Y, W, b))
    return softmax._losses(X, Y, W, b)


def _wrong_class_in_binary(X, Y, W, b):
    # the probability of the other class where the label's belongs
    return softmax.losses(X, Y[:, ::-1], W, b)


#: name -> (look-alike, the property test that must catch it)
PLANTED = {
    "naive log-softmax (no shift)": (
        _with(log_softmax=_naive_log_softmax, losses=_losses_from(_naive_log_softmax)),
        "stability",
    ),
    "log(S) instead of log1p(others)": (_with(losses=_losses_from(_log_not_log1p)), "ulp_loss"),
    "yhat - y by subtraction": (_with(dJ_dz=_subtracted_residual), "ulp_dJ_dz"),
    "TwoSum correction dropped from exp(z - m)": (_with(dJ_dz=_without_two_sum), "ulp_dJ_dz"),
    "gradient not divided by m": (_with(grad=_grad_without_mean), "finite_differences"),
    "probabilities not normalised": (_with(predict_proba=_unnormalised_proba), "rows_sum_to_one"),
    "SGD writes into W": (_with(sgd_epoch=_sgd_in_place), "arguments_unchanged"),
    "no input check": (_with(losses=_unchecked_losses), "bad_input"),
    "labels reversed": (_with(losses=_wrong_class_in_binary), "binary_is_logistic"),
}


# ---------------------------------------------------------------------------
# Sample weights, the penalty and the intercept: one wrong look-alike each.
# ---------------------------------------------------------------------------
def _grad_ignoring_weights(X, Y, W, b, *, sample_weight=None, alpha=0.0):
    del sample_weight
    return softmax.grad(X, Y, W, b, alpha=alpha)


def _grad_weights_not_normalised(X, Y, W, b, *, sample_weight=None, alpha=0.0):
    # sum(s g) / m with the raw weights: the weighted mean times mean(s)
    dW, db = softmax.grad(X, Y, W, b, sample_weight=sample_weight)
    scale = 1.0 if sample_weight is None else float(np.mean(sample_weight))
    return dW * scale + softmax.dR_dw(np.asarray(W, dtype=float), alpha), db * scale


def _grad_penalising_b(X, Y, W, b, *, sample_weight=None, alpha=0.0):
    dW, db = softmax.grad(X, Y, W, b, sample_weight=sample_weight, alpha=alpha)
    return dW, db + alpha * np.asarray(b, dtype=float)


def _sgd_ignoring_weights(X, Y, W, b, lr, **settings):
    settings.pop("sample_weight", None)
    return softmax_loop.sgd_epoch(X, Y, W, b, lr, **settings)


def _sgd_penalty_once_per_epoch(X, Y, W, b, lr, *, alpha=0.0, **settings):
    # the estimator's old convention: an epoch without the penalty, then one shrink
    W, b = softmax_loop.sgd_epoch(X, Y, W, b, lr, **settings)
    return W * (1 - lr * alpha), b


def _sgd_moving_b_anyway(X, Y, W, b, lr, **settings):
    settings["fit_intercept"] = True
    return softmax_loop.sgd_epoch(X, Y, W, b, lr, **settings)


def _sgd_threshold_without_lr(X, Y, W, b, lr, *, l1=0.0, **settings):
    W, b = softmax_loop.sgd_epoch(X, Y, W, b, lr, **settings)
    return softmax.soft_threshold(W, l1), b


#: name -> (look-alike, the property of test_softmax_weights.py that must catch it)
WEIGHT_PLANTED = {
    "grad ignores sample_weight": (_with(grad=_grad_ignoring_weights), "repeated_rows"),
    "weights not scaled to mean 1": (_with(grad=_grad_weights_not_normalised), "repeated_rows"),
    "the intercept penalised": (_with(grad=_grad_penalising_b), "finite_differences"),
    "SGD ignores sample_weight": (_with(sgd_epoch=_sgd_ignoring_weights), "zero_weight"),
    "SGD penalty once per epoch": (_with(sgd_epoch=_sgd_penalty_once_per_epoch), "per_step"),
    "b moves without an intercept": (_with(sgd_epoch=_sgd_moving_b_anyway), "no_intercept"),
    "L1 threshold not times lr": (_with(sgd_epoch=_sgd_threshold_without_lr), "proximal"),
}
