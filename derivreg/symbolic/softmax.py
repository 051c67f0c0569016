"""Softmax regression with the cross-entropy, derived in matrix form.

The model's output is a vector: ``z = Wᵀx + b`` with ``W`` of shape (n, k)
and ``b`` of shape (k,), ``ŷ = softmax(z)`` and ``J = -Σ_c y_c log ŷ_c``
for a one-hot ``y``.  :func:`derive_softmax` takes every derivative SymPy
can take on explicit components (k classes, n features, both
:data:`~derivreg.symbolic.CHECK_DIMENSION` by default), writes it back in
terms of the output ``ŷ`` and *recognises* the matrix it forms
(:mod:`derivreg.symbolic.matrix_forms`):

* ``∂ŷ_i/∂z_j`` on components, recognised as ``diag(ŷ) - ŷŷᵀ``;
* the chain rule ``(∂ŷ/∂z)ᵀ ∂J/∂ŷ``, multiplied out: ``-y_i + ŷ_i Σ_c y_c``;
* the one-hot label's ``Σ_c y_c = 1``: ``∂J/∂z = ŷ - y``.

Nothing of the result is stated in advance; each step is checked against
the derivative SymPy takes of the composed loss on the same components.

Examples
--------
>>> from derivreg.symbolic.softmax import derive_softmax
>>> d = derive_softmax()
>>> d.step("dJ_dz").expr
-y_i + yhat_i
>>> d.curvature_bound, d.step_size_numerator
(1/2, 4)
"""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache
from types import MappingProxyType

import sympy as sp

from derivreg.symbolic.checks import is_zero
from derivreg.symbolic.derivation import DerivationError, Step
from derivreg.symbolic.matrix_chain import MatrixChain, matrix_chain
from derivreg.symbolic.matrix_forms import (
    Components,
    Notation,
    components,
    diag_plus_outer,
    generic_entry,
    gershgorin_bound,
    one_hot,
    softmax,
)
from derivreg.symbolic.symbols import CHECK_DIMENSION, alpha
from derivreg.symbolic.vector_derivation import VectorDerivation

__all__ = ["NAME", "TITLE", "VectorDerivation", "derive_softmax"]

#: The name ``derive`` knows this model by, and its title.
NAME = "softmax"
#: Builds the error a failed check raises: (step, message, residual).
Fail = Callable[[str, str, sp.Basic], DerivationError]
TITLE = "Softmax regression, cross-entropy"

#: The matrix-form quantities, as the slides write them: (LaTeX, text).
_Z = (r"W^{T} \vec{x} + b", "Wᵀx + b")
_DIAG = (r"\operatorname{diag}(\hat{y}) - \hat{y} \hat{y}^{T}", "diag(ŷ) - ŷŷᵀ")
_RESIDUAL = (r"\hat{y} - y", "ŷ - y")


@lru_cache(maxsize=8)
def derive_softmax(
    classes: int = CHECK_DIMENSION, features: int = CHECK_DIMENSION
) -> VectorDerivation:
    """Derive softmax regression's gradient on ``classes`` x ``features`` components.

    Parameters
    ----------
    classes : int, default 3
        k, the number of classes (at least 2).
    features : int, default 3
        n, the number of features (at least 1).

    Returns
    -------
    VectorDerivation
        Every step checked; cached per (classes, features).

    Raises
    ------
    DerivationError
        If a step disagrees with SymPy's derivative of the composed loss,
        or a derivative is not of the matrix form the step recognises.

    Examples
    --------
    >>> derive_softmax(classes=2).step("dyhat_dz").expr
    -yhat_i*yhat_j + yhat_i*KroneckerDelta(i, j)
    >>> derive_softmax(classes=1)
    Traceback (most recent call last):
    ...
    ValueError: softmax needs at least 2 classes and 1 feature, got classes=1, features=3
    """
    if not (isinstance(classes, int) and isinstance(features, int)) or classes < 2 or features < 1:
        raise ValueError(
            "softmax needs at least 2 classes and 1 feature, "
            f"got classes={classes!r}, features={features!r}"
        )
    c = components(classes, features)

    def fail(step: str, message: str, residual: sp.Basic) -> DerivationError:
        return DerivationError(NAME, step, message, residual)

    forward, matrices, display = _forward(c)
    # the matrix-form chain every model takes (the scalar pairs are its k = 1 case),
    # each step checked against SymPy's derivatives of the composed loss
    shared = matrix_chain(
        NAME, c, matrices["yhat"], matrices["J"][0, 0], c.in_terms_of_yhat,
        label_rule=lambda product: one_hot(product, c), composed_rule=c.label_sums_to_one,
    )  # fmt: skip
    local = _local(c, matrices, display, shared, fail)
    chain = _chain(c, matrices, display, shared, fail)
    update = _update(c, matrices, display)
    curvature, bound = _curvature(c, matrices, display, shared, fail)
    return VectorDerivation(
        name=NAME,
        title=TITLE,
        classes=classes,
        features=features,
        steps=forward + local + chain + update + curvature,
        matrices=MappingProxyType(matrices),
        display=MappingProxyType(display),
        curvature_bound=bound,
        symbols=c,
    )


def _forward(c: Components) -> tuple[tuple[Step, ...], dict, dict]:
    g = c.generic
    score = c.W.T * c.x + c.b
    probabilities = softmax(c.z)
    loss = -sum(y * sp.log(p) for y, p in zip(c.y, c.yhat, strict=True))
    matrices = {"z": score, "yhat": probabilities, "J": sp.Matrix([loss])}
    display = {
        "z": [("z", "z")],
        "yhat": [(r"\hat{y}_{i}", "ŷ_i")],
        "J": [("J", "J")],
    }
    sum_j = sp.Sum(sp.exp(g.z_j), (g.j, 1, g.k))
    steps = (
        Step("forward", "z", Notation(*_Z), "the linear model, one score per class"),
        Step("forward", "yhat", sp.exp(g.z_i) / sum_j, "softmax: exponentiate, then normalise"),
        Step(
            "forward",
            "J",
            -sp.Sum(g.y_c * sp.log(g.yhat_c), (g.c, 1, g.k)),
            "cross-entropy of the one-hot y",
        ),
    )
    return steps, matrices, display


def _local(
    c: Components, matrices: dict, display: dict, shared: MatrixChain, fail: Fail
) -> tuple[Step, ...]:
    g = c.generic
    # dJ/dyhat_c: J is a function of the k outputs, differentiated one at a time.
    dJ_dyhat = shared.matrices["dJ_dyhat"]
    entry_J = generic_entry(dJ_dyhat, c, "c", fail("dJ_dyhat", "no common entry", dJ_dyhat))
    # dyhat_i/dz_j on components, then written in terms of yhat (exp(z_l) = yhat_l * S).
    jacobian_z = shared.matrices["dyhat_dz_of_z"]
    jacobian = shared.matrices["dyhat_dz"]
    diagonal, scale = diag_plus_outer(jacobian, c, fail("dyhat_dz", "not diag + outer", jacobian))
    entry_D = g.yhat_i * sp.KroneckerDelta(g.i, g.j) * diagonal + scale * g.yhat_i * g.yhat_j
    matrices.update(dJ_dyhat=dJ_dyhat, dyhat_dz=jacobian, dyhat_dz_of_z=jacobian_z)
    # The generic entries, for the chain-rule row that multiplies them.
    matrices.update(dJ_dyhat_generic=entry_J, dyhat_dz_generic=sp.expand(entry_D))
    matrix_form = (r"\operatorname{diag}(\hat{y}) - \hat{y} \hat{y}^{T}", "diag(ŷ) - ŷŷᵀ")
    display.update(
        dJ_dyhat=[(r"\frac{\partial J}{\partial \hat{y}_{c}}", "∂J/∂ŷ_c")],
        dyhat_dz=[(r"\frac{\partial \hat{y}_{i}}{\partial z_{j}}", "∂ŷ_i/∂z_j")],
        dyhat_dz_matrix=[(r"\frac{\partial \hat{y}}{\partial z}", "∂ŷ/∂z")],
        dz_dW=[(r"\frac{\partial z_{c}}{\partial W_{ic}}", "∂z_c/∂W_ic")],
        dz_db=[(r"\frac{\partial z}{\partial b}", "∂z/∂b")],
    )
    matrices["dyhat_dz_matrix"] = jacobian
    dz_dW = sp.diff(matrices["z"][0], c.W[0, 0]).subs(c.x[0], g.x_i)
    return (
        Step("local", "dJ_dyhat", entry_J, "differentiate J with respect to each ŷ_c"),
        Step(
            "local",
            "dyhat_dz",
            sp.expand(entry_D),
            "differentiate softmax on components; exp(z_l) = ŷ_l·Σ_j exp(z_j)",
        ),
        Step(
            "local",
            "dyhat_dz_matrix",
            Notation(*matrix_form),
            "recognise the matrix: diagonal ŷ_i, every entry -ŷ_i·ŷ_j",
        ),
        Step("local", "dz_dW", dz_dW, "z is linear in W: z_c = Σ_i W_ic x_i + b_c"),
        Step("local", "dz_db", Notation("I", "I"), "z is linear in b: the identity"),
    )


def _chain(
    c: Components, matrices: dict, display: dict, shared: MatrixChain, fail: Fail
) -> tuple[Step, ...]:
    g = c.generic
    # The product (dyhat/dz)^T dJ/dyhat, multiplied out; the one-hot label's sum is 1.
    # Both routes (this one, and SymPy's d/dz of the composed loss) were compared there.
    product = shared.matrices["chain"]
    entry = generic_entry(product, c, "i", fail("dJ_dz", "no common entry", product), total=True)
    labelled = shared.matrices["dJ_dz"]
    result = generic_entry(labelled, c, "i", fail("dJ_dz", "no common entry", labelled))
    if result != g.yhat_i - g.y_i:
        raise fail("dJ_dz", "the chain does not come to a residual yhat - y", result)
    matrices["chain"] = product
    matrices.update(dJ_dz=labelled, dJ_dW=c.x * labelled.T, dJ_db=labelled)
    display.update(
        dJ_dz=[
            (r"\frac{\partial J}{\partial z_{i}}", "∂J/∂z_i"),
            (
                r"\left(\frac{\partial \hat{y}}{\partial z}\right)^{T} "
                r"\frac{\partial J}{\partial \hat{y}}",
                "(∂ŷ/∂z)ᵀ · ∂J/∂ŷ",
            ),
            _transposed_product(c, matrices),
            entry,
        ],
        dJ_dz_matrix=[(r"\frac{\partial J}{\partial z}", "∂J/∂z")],
        dJ_dW=[
            (r"\frac{\partial J}{\partial W}", "∂J/∂W"),
            (r"\vec{x} \left(\frac{\partial J}{\partial z}\right)^{T}", "x·(∂J/∂z)ᵀ"),
        ],
        dJ_db=[(r"\frac{\partial J}{\partial b}", "∂J/∂b")],
    )
    return (
        Step(
            "chain",
            "dJ_dz",
            result,
            "chain rule; the factor ŷ_c cancels; the one-hot label has Σ_c y_c = 1",
            ("dyhat_dz", "dJ_dyhat"),
        ),
        Step("chain", "dJ_dz_matrix", Notation(*_RESIDUAL), "the same, as a k-vector"),
        Step(
            "chain",
            "dJ_dW",
            Notation(r"\vec{x} (\hat{y} - y)^{T}", "x·(ŷ - y)ᵀ"),
            "chain rule: ∂J/∂W_ic = x_i·∂J/∂z_c",
        ),
        Step("chain", "dJ_db", Notation(*_RESIDUAL), "chain rule: ∂z/∂b is the identity"),
    )


def _transposed_product(c: Components, matrices: dict) -> sp.Basic:
    """``Σ_c (∂ŷ_c/∂z_i)(∂J/∂ŷ_c)``, from the two local steps' generic entries."""
    g = c.generic
    jacobian = matrices["dyhat_dz_generic"].xreplace(
        {g.yhat_i: g.yhat_c, g.yhat_j: g.yhat_i, g.i: g.c, g.j: g.i}
    )
    local = matrices["dJ_dyhat_generic"]
    if local.could_extract_minus_sign():  # -Σ_c (...)·y_c/ŷ_c reads better than "· -y_c"
        return -sp.Sum(sp.Mul(jacobian, -local, evaluate=False), (g.c, 1, g.k))
    return sp.Sum(sp.Mul(jacobian, local, evaluate=False), (g.c, 1, g.k))


def _update(c: Components, matrices: dict, display: dict) -> tuple[Step, ...]:
    matrices.update(
        update_W=c.W - alpha * matrices["dJ_dW"], update_b=c.b - alpha * matrices["dJ_db"]
    )
    display.update(
        update_W=[("W", "W"), (r"W - \alpha \frac{\partial J}{\partial W}", "W - α·∂J/∂W")],
        update_b=[("b", "b"), (r"b - \alpha \frac{\partial J}{\partial b}", "b - α·∂J/∂b")],
    )
    return (
        Step(
            "update",
            "update_W",
            Notation(r"W - \alpha \vec{x} (\hat{y} - y)^{T}", "W - α·x·(ŷ - y)ᵀ"),
            "gradient descent on W",
        ),
        Step(
            "update",
            "update_b",
            Notation(r"b - \alpha (\hat{y} - y)", "b - α·(ŷ - y)"),
            "gradient descent on b",
        ),
    )


def _curvature(
    c: Components, matrices: dict, display: dict, shared: MatrixChain, fail: Fail
) -> tuple[tuple, sp.Expr]:
    # d2J/dz2 = d(yhat - y)/dz: the chain's, checked there against SymPy's Hessian.
    second = shared.matrices["d2J_dz2"]
    if any(not is_zero(a - b) for a, b in zip(second, matrices["dyhat_dz"], strict=True)):
        raise fail("d2J_dz2", "is not the Jacobian of softmax", second)
    row_sum, bound = gershgorin_bound(second, c)
    matrices["d2J_dz2"] = second
    display.update(
        d2J_dz2=[
            (r"\frac{\partial^{2} J}{\partial z^{2}}", "∂²J/∂z²"),
            (r"\frac{\partial (\hat{y} - y)}{\partial z}", "∂(ŷ - y)/∂z"),
        ],
        curvature_bound=[
            (r"\lambda_{\max}", "λ_max"),
            (
                r"\max_{i} \left(H_{ii} + \sum_{j \ne i} \lvert H_{ij} \rvert\right)",
                "max_i (H_ii + Σ_{j≠i} |H_ij|)",
            ),
            row_sum,
        ],
    )
    steps = (
        Step("curvature", "d2J_dz2", Notation(*_DIAG), "y does not depend on z"),
        Step(
            "curvature",
            "curvature_bound",
            bound,
            "Gershgorin: off-diagonal entries are -ŷ_i·ŷ_j and Σ_j ŷ_j = 1; "
            "sup of 2t(1 - t) over t in [0, 1]",
        ),
    )
    return steps, bound
