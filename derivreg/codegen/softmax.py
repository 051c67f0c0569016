# ruff: noqa: E501 - the templates are the generated kernels' text, exempt from E501 as they are
"""Print the vector-output kernels of :func:`derivreg.symbolic.softmax.derive_softmax`.

Scores are a matrix (one row per sample, one column per class), so the
kernels are printed from a template of row-wise NumPy code (reductions over
``axis=1``, fixed and compared exactly by the validator) with elementwise
*holes*: the right-hand sides below, written as SymPy expressions of the
arrays in scope and printed by :class:`~derivreg.codegen.printers.KernelPrinter`.

=============  ==================================  =====================================
hole           printed from                        what it is over the reals
=============  ==================================  =====================================
``s``          ``Z - m``, m the row maximum        the shift (softmax.shift_invariance)
``e``          ``exp(s)(1 + err)``                 exp(z_j - m); err, the rounding error
                                                   of s (TwoSum), is 0 over the reals
``log_yhat``   ``s + err - log1p(others)``         log ŷ_j; others = Σ_{i≠argmax} e_i
``yhat``       ``e/S``, S = Σ_j e_j                ŷ_j
``dJ_dz``      ``where(Y > 0, -wrong, e)/S``       ŷ_j - y_j; wrong = Σ_{i≠class} e_i
=============  ==================================  =====================================

:mod:`derivreg.validate.softmax` proves each hole equal to the derivation's
component, in every case of the row maximum and the one-hot class.

The penalty's pieces, ``dR_dw`` (``alpha*w``) and ``soft_threshold`` (the L1
proximal step), are the scalar kernels' own: printed by
:class:`~derivreg.codegen.penalized.Penalized` from
:func:`~derivreg.symbolic.penalty.derive_penalty` and proven by the scalar
validator's hole prover; they act entrywise on ``W``.

Examples
--------
>>> printed = generate_softmax_module()
>>> [h.target for h in printed.holes][:3]
['s', 'e', 'log_yhat']
"""

from __future__ import annotations

from dataclasses import dataclass

import sympy as sp
from sympy.codegen.cfunctions import log1p

from derivreg.codegen.penalized import Penalized
from derivreg.codegen.printers import KernelPrinter
from derivreg.codegen.softmax_loop import generate_softmax_loop
from derivreg.codegen.templates import COMMAND, Hole, Printed
from derivreg.symbolic.softmax import NAME, TITLE, derive_softmax

__all__ = [
    "HOLES",
    "SoftmaxPrinted",
    "generate_softmax",
    "generate_softmax_loop",
    "generate_softmax_module",
]

Z, m, s, err, e, others, S, Y, wrong = sp.symbols("Z m s err e others S Y wrong", real=True)

#: The holes, in the order they are printed: (function, target, inputs, stable form).
HOLES: tuple[Hole, ...] = (
    Hole("_terms", "s", ("Z", "m"), Z - m, Z - m),
    Hole("_terms", "e", ("s", "err"), sp.exp(s) * (1 + err), sp.exp(s)),
    Hole("log_softmax", "log_yhat", ("s", "err", "others"), s + err - log1p(others), None),
    Hole("_losses", "log_yhat", ("s", "err", "others"), s + err - log1p(others), None),
    Hole("predict_proba", "yhat", ("e", "S"), e / S, None),
    Hole(
        "_dJ_dz",
        "dJ_dz",
        ("Y", "e", "S", "wrong"),
        sp.Piecewise((-wrong, Y > 0), (e, True)) / S,
        None,
    ),
)

#: Rows per block of the batch gradient: an (r, k) block of dJ/dz at a time.
BLOCK_ROWS = 4096


class _PrintingContext:
    """What :class:`~derivreg.codegen.penalized.Penalized` prints with: the printer and text."""

    def __init__(self) -> None:
        from derivreg.rendering import text

        self.show = text
        self.printer = KernelPrinter(
            {"fully_qualified_modules": True, "allow_unknown_functions": False}
        )


def penalty_functions() -> tuple[Printed, ...]:
    """Print ``dR_dw`` and ``soft_threshold`` exactly as the scalar kernels have them.

    Examples
    --------
    >>> [p.holes[0].function for p in penalty_functions()]
    ['dR_dw', 'soft_threshold']
    """
    return tuple(Penalized(_PrintingContext()).elementwise())


@dataclass(frozen=True)
class SoftmaxPrinted:
    """A printed module and its holes, in order."""

    source: str
    holes: tuple[Hole, ...]


def _hole(function: str, target: str) -> str:
    """Print the right-hand side of ``target`` in ``function``."""
    for hole in HOLES:
        if hole.function == function and hole.target == target:
            return KernelPrinter().doprint(hole.stable)
    raise KeyError((function, target))  # pragma: no cover - a generator bug


def generate_softmax_module() -> SoftmaxPrinted:
    """Print ``derivreg/kernels/softmax.py`` and list its holes.

    Examples
    --------
    >>> "def grad(" in generate_softmax_module().source
    True
    """
    d = derive_softmax()
    penalty = penalty_functions()
    source = _TEMPLATE.format(
        penalty="\n\n\n".join(p.source for p in penalty),
        command=COMMAND,
        name=NAME,
        title=TITLE,
        numerator=float(d.step_size_numerator),
        block=BLOCK_ROWS,
        s=_hole("_terms", "s"),
        e=_hole("_terms", "e"),
        log_yhat=_hole("log_softmax", "log_yhat"),
        yhat=_hole("predict_proba", "yhat"),
        dJ_dz=_hole("_dJ_dz", "dJ_dz"),
    )
    return SoftmaxPrinted(source, HOLES + tuple(h for p in penalty for h in p.holes))


def generate_softmax() -> str:
    """Print ``derivreg/kernels/softmax.py``.

    Examples
    --------
    >>> generate_softmax().startswith("# GENERATED")
    True
    """
    return generate_softmax_module().source


_TEMPLATE = '''\
# GENERATED by `{command}` from derivreg.derive("{name}"). Do not edit by hand.
# {title}. Change derivreg/symbolic/ or derivreg/codegen/, then run `{command}`.
"""
{title}: log-softmax, probabilities, loss and gradient, printed from ``derivreg.derive('{name}')``.

Batch-first: X has shape (m, n), Y shape (m, k) (one-hot rows), W shape
(n, k), b shape (k,).  Every function leaves its arguments unchanged.
"""

import numpy as np

from derivreg.kernels._checks import _check_alpha, _check_sample_weight

NAME = {name!r}
#: Per-sample SGD contracts for lr < STEP_SIZE_NUMERATOR / ||(x, 1)||^2:
#: 2 / sup lambda_max(diag(yhat) - yhat yhat^T) = 2 / (1/2).
STEP_SIZE_NUMERATOR = {numerator!r}
#: Rows per block of the batch gradient (no (m, n, k) temporary, ever).
BLOCK_ROWS = {block!r}


def _as_array(name: str, value: "np.typing.ArrayLike", ndim: int) -> np.ndarray:
    """``value`` as a finite float64 array of ``ndim`` dimensions, or a ValueError naming it."""
    if isinstance(value, (str, bytes)) or value is None:
        raise ValueError(f"{{name}} must be a numeric array, got {{type(value).__name__}}")
    array = np.asarray(value)
    if array.dtype == bool or not (np.issubdtype(array.dtype, np.integer) or np.issubdtype(array.dtype, np.floating)):
        raise ValueError(f"{{name}} must be a real numeric array, got dtype {{array.dtype}}")
    array = array.astype(np.float64)
    if array.ndim != ndim:
        raise ValueError(f"{{name}} must be {{ndim}}-dimensional, got shape {{array.shape}}")
    if not np.all(np.isfinite(array)):
        raise ValueError(f"Input {{name}} contains NaN or infinity.")
    return array


def _check_params(X: "np.typing.ArrayLike", W: "np.typing.ArrayLike", b: "np.typing.ArrayLike") -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """X (m, n), W (n, k), b (k,) as finite float64 arrays of matching shapes."""
    X, W, b = _as_array("X", X, 2), _as_array("W", W, 2), _as_array("b", b, 1)
    if X.shape[1] != W.shape[0]:
        raise ValueError(f"X has {{X.shape[1]}} features, but W has {{W.shape[0]}} rows")
    if W.shape[1] != b.shape[0] or W.shape[1] < 2:
        raise ValueError(f"W has {{W.shape[1]}} columns and b {{b.shape[0]}} entries: need the same k >= 2")
    return X, W, b


def _check_batch(X: "np.typing.ArrayLike", Y: "np.typing.ArrayLike", W: "np.typing.ArrayLike", b: "np.typing.ArrayLike") -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The parameters as in ``_check_params``, and Y (m, k) one-hot: 0 or 1, one 1 per row."""
    X, W, b = _check_params(X, W, b)
    Y = _as_array("Y", Y, 2)
    if Y.shape != (X.shape[0], W.shape[1]):
        raise ValueError(f"Y must have shape {{(X.shape[0], W.shape[1])}}, got {{Y.shape}}")
    if X.shape[0] == 0:
        raise ValueError(f"Found array with 0 sample(s) (shape=(0, {{X.shape[1]}})) while a minimum of 1 is required.")
    if not (np.all((Y == 0) | (Y == 1)) and np.all(Y.sum(axis=1) == 1)):
        raise ValueError("Y must be one-hot: entries 0 or 1, exactly one 1 per row")
    return X, Y, W, b


{penalty}


def _scores(X: np.ndarray, W: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Z = X W + b, or a ValueError where a finite input overflows it."""
    with np.errstate(over="ignore", invalid="ignore"):
        Z = X @ W + b
    if not np.all(np.isfinite(Z)):
        raise ValueError("the scores X W + b overflow float64 for these inputs")
    return Z


def _terms(Z: np.ndarray) -> tuple[np.ndarray, ...]:
    """The stable pieces of softmax on the rows of Z (r, k): s, err, e, others, S."""
    with np.errstate(over="ignore", invalid="ignore"):
        # the row maximum: softmax(z) = softmax(z - m) (softmax.shift_invariance)
        m = np.max(Z, axis=1, keepdims=True)
        s = {s}
        # TwoSum: the rounding error of s = Z - m, exactly (0 over the reals)
        back = s - Z
        err = np.where(np.isfinite(s), (Z - (s - back)) + (-m - back), 0.0)
        # exp(z - m) <= 1: never overflows; the maximum's term is exactly 1
        e = {e}
        top = np.arange(Z.shape[1]) == np.argmax(Z, axis=1)[:, None]
        # the sum of the other terms, without the 1 (log1p keeps its digits)
        others = np.sum(np.where(top, 0.0, e), axis=1, keepdims=True)
        S = np.sum(e, axis=1, keepdims=True)
    return s, err, e, others, S


def log_softmax(Z: "np.typing.ArrayLike") -> np.ndarray:
    """log yhat for each row of scores Z (m, k), over the whole float64 range.

    Examples
    --------
    >>> [round(float(v), 6) for v in log_softmax(np.array([[1.0, 2.0, 3.0]]))[0]]
    [-2.407606, -1.407606, -0.407606]
    """
    Z = _as_array("Z", Z, 2)
    s, err, _e, others, _S = _terms(Z)
    with np.errstate(over="ignore", invalid="ignore"):
        # log yhat_j = z_j - m - log(1 + others): a sum of two terms <= 0
        log_yhat = {log_yhat}
    return log_yhat


def predict_proba(X: "np.typing.ArrayLike", W: "np.typing.ArrayLike", b: "np.typing.ArrayLike") -> np.ndarray:
    """Class probabilities yhat for each row of X, shape (m, k); each row sums to 1.

    Examples
    --------
    >>> [round(float(v), 6) for v in predict_proba(np.array([[1.0]]), np.array([[0.0, 1.0]]), np.zeros(2))[0]]
    [0.268941, 0.731059]
    """
    X, W, b = _check_params(X, W, b)
    _s, _err, e, _others, S = _terms(_scores(X, W, b))
    yhat = {yhat}
    return yhat


def _losses(X: np.ndarray, Y: np.ndarray, W: np.ndarray, b: np.ndarray) -> np.ndarray:
    """``losses`` without the input checks."""
    s, err, _e, others, _S = _terms(_scores(X, W, b))
    with np.errstate(over="ignore", invalid="ignore"):
        log_yhat = {log_yhat}
        # J = -sum_c y_c log yhat_c: for a one-hot y, the true class's term only
        J = -np.sum(np.where(Y > 0, log_yhat, 0.0), axis=1)
    return J


def losses(X: "np.typing.ArrayLike", Y: "np.typing.ArrayLike", W: "np.typing.ArrayLike", b: "np.typing.ArrayLike") -> np.ndarray:
    """Per-sample cross-entropy J for each row, shape (m,).

    Examples
    --------
    >>> round(float(losses(np.array([[1.0]]), np.array([[0.0, 1.0]]), np.array([[0.0, 1.0]]), np.zeros(2))[0]), 6)
    0.313262
    """
    X, Y, W, b = _check_batch(X, Y, W, b)
    J = _losses(X, Y, W, b)
    if not np.all(np.isfinite(J)):
        raise ValueError("the loss overflows float64: a true class's probability is below exp(-1.8e308)")
    return J


def loss(X: "np.typing.ArrayLike", Y: "np.typing.ArrayLike", W: "np.typing.ArrayLike", b: "np.typing.ArrayLike", *, sample_weight: "np.typing.ArrayLike | None" = None, alpha: float = 0.0) -> float:
    """Mean cross-entropy over the rows (weighted by ``sample_weight``) plus ``alpha/2 ||W||^2``.

    b is never penalised.  The weights are scikit-learn's (shape (m,) or a
    scalar, finite, >= 0, not all zero); the mean is sum(sw J) / sum(sw).

    Examples
    --------
    >>> round(loss(np.array([[1.0]]), np.array([[0.0, 1.0]]), np.array([[0.0, 1.0]]), np.zeros(2)), 6)
    0.313262
    """
    J = losses(X, Y, W, b)
    s = _check_sample_weight(sample_weight, J)
    alpha = _check_alpha(alpha)
    W = _as_array("W", W, 2)
    # J >= 0 and the weights s / m sum to 1: no partial sum exceeds max J
    mean = float(np.mean(J)) if s is None else float(np.sum(J * (s / J.shape[0])))
    # penalty: R = sum of (alpha/2) W_ic^2 = sum of W * dR_dw(W, alpha) / 2; b is not penalised
    with np.errstate(over="ignore", invalid="ignore"):
        total = mean + float(np.sum(W * dR_dw(W, alpha))) / 2
    if not np.isfinite(total):
        raise ValueError("the penalised loss overflows float64: alpha/2 ||W||^2 is too large")
    return total


def _dJ_dz(Z: np.ndarray, Y: np.ndarray) -> np.ndarray:
    """dJ/dz = yhat - y for each row of scores Z and one-hot labels Y, shape (r, k)."""
    _s, _err, e, _others, S = _terms(Z)
    # the terms of the wrong classes: 1 - yhat_c = wrong / S, with no cancellation
    wrong = np.sum(np.where(Y > 0, 0.0, e), axis=1, keepdims=True)
    dJ_dz = {dJ_dz}
    return dJ_dz


def dJ_dz(Z: "np.typing.ArrayLike", Y: "np.typing.ArrayLike") -> np.ndarray:
    """The chain rule's yhat - y for scores Z (m, k) and one-hot Y (m, k).

    Examples
    --------
    >>> [round(float(v), 6) for v in dJ_dz(np.array([[0.0, 1.0]]), np.array([[0.0, 1.0]]))[0]]
    [0.268941, -0.268941]
    """
    Z = _as_array("Z", Z, 2)
    Y = _as_array("Y", Y, 2)
    if Y.shape != Z.shape:
        raise ValueError(f"Y must have the shape of Z, {{Z.shape}}, got {{Y.shape}}")
    return _dJ_dz(Z, Y)


def grad(X: "np.typing.ArrayLike", Y: "np.typing.ArrayLike", W: "np.typing.ArrayLike", b: "np.typing.ArrayLike", *, sample_weight: "np.typing.ArrayLike | None" = None, alpha: float = 0.0) -> tuple[np.ndarray, np.ndarray]:
    """Gradient (dJ/dW of shape (n, k), dJ/db of shape (k,)) of ``loss``.

    dJ/dW = X^T S (Yhat - Y) / m + alpha W, S the weights scaled to mean 1
    (the identity without weights), summed block by block of BLOCK_ROWS rows;
    dJ/db = 1^T S (Yhat - Y) / m, never penalised.

    Examples
    --------
    >>> dW, db = grad(np.array([[1.0]]), np.array([[0.0, 1.0]]), np.array([[0.0, 1.0]]), np.zeros(2))
    >>> [round(float(v), 6) for v in dW[0]], [round(float(v), 6) for v in db]
    ([0.268941, -0.268941], [0.268941, -0.268941])
    """
    X, Y, W, b = _check_batch(X, Y, W, b)
    s = _check_sample_weight(sample_weight, X)
    alpha = _check_alpha(alpha)
    rows = X.shape[0]
    dJ_dW = np.zeros(W.shape)
    dJ_db = np.zeros(b.shape)
    for start in range(0, rows, BLOCK_ROWS):
        block = slice(start, start + BLOCK_ROWS)
        D = _dJ_dz(_scores(X[block], W, b), Y[block])
        if s is not None:
            # sample weights s (mean 1): the mean of s (yhat - y) x^T is the weighted mean
            D = s[block, None] * D
        dJ_dW += X[block].T @ D
        dJ_db += D.sum(axis=0)
    # penalty: dR/dW = alpha W, entrywise; b is not penalised
    return dJ_dW / rows + dR_dw(W, alpha), dJ_db / rows
'''
