"""The matrix-form chain rule, one step sequence for every model: k classes, or k = 1.

A model is ``z = Wᵀx + b`` (``W`` of shape (n, k)), an output map ``ŷ = g(z)``
of the k scores and a loss ``J(y, ŷ)``.  :func:`matrix_chain` takes the
same steps whatever the model, on explicit components
(:class:`~derivreg.symbolic.matrix_forms.Components`):

1. ``∂J/∂ŷ_c`` for each output, and the Jacobian ``∂ŷ_i/∂z_j`` written back in
   terms of ``ŷ`` (by the model's own rewrite);
2. the chain rule ``(∂ŷ/∂z)ᵀ ∂J/∂ŷ``, multiplied out and cancelled;
3. ``∂J/∂W = x (∂J/∂z)ᵀ`` and ``∂J/∂b = ∂J/∂z``;
4. ``∂²J/∂z²``, the Jacobian of ``∂J/∂z`` in ``z``, written in ``ŷ``;

and checks 2, 3 and 4 against SymPy's derivatives of the composed loss
(``J(y, g(Wᵀx + b))`` differentiated in each ``z_i``, ``W_ic``, ``b_c``), after
the model's label rule (softmax's one-hot ``Σ_c y_c = 1``; none for a
scalar pair).  :func:`derivreg.symbolic.softmax.derive_softmax` is its k-class
instance; :func:`derive_k1` its k = 1 instance for a registered scalar pair,
with a 1 x 1 Jacobian, checked against the scalar derivation
(:func:`derivreg.symbolic.derive`) step by step.

Examples
--------
>>> chain = derive_k1("bce", features=2)
>>> chain.matrices["dyhat_dz"], chain.matrices["dJ_dz"]
(Matrix([[yhat_1*(1 - yhat_1)]]), Matrix([[-y_1 + yhat_1]]))
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

import sympy as sp

from derivreg.symbolic.checks import is_zero
from derivreg.symbolic.derivation import DerivationError
from derivreg.symbolic.matrix_forms import Components, components

__all__ = ["K1_CHECKED", "MatrixChain", "derive_k1", "matrix_chain"]

#: The scalar derivation's steps that the k = 1 chain reproduces, by label:
#: (the chain's matrix, its scalar entry).
K1_CHECKED = ("dJ_dyhat", "dyhat_dz", "dJ_dz", "dJ_dw", "dJ_db", "d2J_dz2")


@dataclass(frozen=True)
class MatrixChain:
    """The component matrices of one model's chain, every one checked.

    ``matrices``: ``z``, ``yhat`` (ŷ = g(z) on components), ``J``, ``dJ_dyhat``,
    ``dyhat_dz`` (in ŷ), ``dyhat_dz_of_z``, ``chain`` (the product before the
    label rule), ``dJ_dz`` (after it), ``dJ_dW`` (n x k), ``dJ_db``, ``d2J_dz2``.
    """

    name: str
    symbols: Components
    matrices: MappingProxyType


def matrix_chain(
    name: str,
    c: Components,
    output: sp.Matrix,
    loss: sp.Expr,
    in_terms_of_yhat: Callable[[sp.Matrix], sp.Matrix],
    *,
    label_rule: Callable[[sp.Matrix], sp.Matrix] = lambda m: m,
    composed_rule: Callable[[sp.Basic], sp.Basic] = lambda e: e,
) -> MatrixChain:
    """Run the chain for the output map ``output`` (of ``c.z``) and the loss (of ``c.y, c.yhat``).

    ``in_terms_of_yhat`` rewrites a matrix in ``z`` into one in ``ŷ`` (the
    symbols ``c.yhat``); ``label_rule`` simplifies the chain's product with
    what the label is known to satisfy, and ``composed_rule`` the same on the
    composed loss's derivatives.

    Raises
    ------
    DerivationError
        Where a step cannot be written in ``ŷ`` or disagrees with SymPy's
        derivative of the composed loss.

    Examples
    --------
    >>> c = components(1, 1)
    >>> chain = matrix_chain("toy", c, c.z, (c.y[0] - c.yhat[0]) ** 2, lambda m: m)
    >>> chain.matrices["dJ_dz"]
    Matrix([[-2*(y_1 - yhat_1)]])
    """

    def fail(step: str, message: str, residual: sp.Basic) -> DerivationError:
        return DerivationError(name, step, message, residual)

    at_model = dict(zip(c.yhat, output, strict=True))
    # 1. the local factors: J in each output; g in each score, then in terms of yhat
    dJ_dyhat = sp.Matrix([sp.diff(loss, p) for p in c.yhat])
    of_z = sp.Matrix(c.k, c.k, lambda i, j: sp.diff(output[i], c.z[j]))
    jacobian = in_terms_of_yhat(of_z)
    if jacobian.has(*c.z):
        raise fail("dyhat_dz", "cannot write the Jacobian in terms of yhat", jacobian)
    if any(not is_zero(a.xreplace(at_model) - b) for a, b in zip(jacobian, of_z, strict=True)):
        raise fail("dyhat_dz", "the Jacobian in yhat is not the Jacobian in z", jacobian)
    # 2. the chain rule, multiplied out; then what the label is known to satisfy
    product = (jacobian.T * dJ_dyhat).applyfunc(lambda e: sp.factor(sp.cancel(e)))
    dJ_dz = label_rule(product)
    composed = loss.xreplace(at_model)
    for i in range(c.k):
        direct = composed_rule(sp.diff(composed, c.z[i]))
        if not is_zero(composed_rule(dJ_dz[i].xreplace(at_model)) - direct):
            raise fail("dJ_dz", f"component {i} differs from d/dz of the composed loss", direct)
    # 3. the parameters, against the loss composed all the way to W and b
    full = composed.xreplace(dict(zip(c.z, c.W.T * c.x + c.b, strict=True)))
    at_scores = dict(zip(c.z, c.W.T * c.x + c.b, strict=True))
    for col in range(c.k):
        chained = dJ_dz[col].xreplace(at_model).xreplace(at_scores)
        for row in range(c.n):
            direct = composed_rule(sp.diff(full, c.W[row, col]))
            residual = composed_rule(c.x[row] * chained) - direct
            if not is_zero(residual):
                raise fail("dJ_dW", f"entry ({row}, {col}) differs from d/dW", residual)
        if not is_zero(composed_rule(chained) - composed_rule(sp.diff(full, c.b[col]))):
            raise fail("dJ_db", f"entry {col} differs from d/db", chained)
    # 4. one order further: the Jacobian of dJ/dz in z, in yhat, against SymPy's Hessian
    second = in_terms_of_yhat(
        sp.Matrix(c.k, c.k, lambda i, j: sp.diff(dJ_dz[i].xreplace(at_model), c.z[j]))
    )
    hessian = sp.hessian(composed, list(c.z))
    for i in range(c.k):
        for j in range(c.k):
            residual = second[i, j].xreplace(at_model) - composed_rule(hessian[i, j])
            if second[i, j].has(*c.z) or not is_zero(composed_rule(residual)):
                raise fail("d2J_dz2", f"entry ({i}, {j}) differs from SymPy's Hessian", residual)
    matrices = {
        "z": c.W.T * c.x + c.b,
        "yhat": output,
        "J": sp.Matrix([loss]),
        "dJ_dyhat": dJ_dyhat,
        "dyhat_dz": jacobian,
        "dyhat_dz_of_z": of_z,
        "chain": product,
        "dJ_dz": dJ_dz,
        "dJ_dW": c.x * dJ_dz.T,
        "dJ_db": dJ_dz,
        "d2J_dz2": second,
    }
    return MatrixChain(name, c, MappingProxyType(matrices))


def _scalar_rewrite(pair: Any, c: Components) -> Callable[[sp.Matrix], sp.Matrix]:
    """Return the scalar engine's rewrite of ``g'(z)`` in ``ŷ``, on the 1 x 1 components."""
    from derivreg.symbolic.forms import in_terms_of_output
    from derivreg.symbolic.symbols import yhat, z

    to_scalar = {c.z[0]: z, c.yhat[0]: yhat, c.y[0]: sp.Symbol("y", real=True)}
    back = {v: k for k, v in to_scalar.items()}
    activation = pair.activation(z)

    def rewrite(matrix: sp.Matrix) -> sp.Matrix:
        def entry(e: sp.Basic) -> sp.Basic:
            found = in_terms_of_output(pair, e.xreplace(to_scalar), activation)
            return found.xreplace(back)

        return matrix.applyfunc(entry)

    return rewrite


def derive_k1(name: str, features: int = 3) -> MatrixChain:
    """Run the matrix chain for a registered scalar pair as its k = 1 case, and check it.

    ``ŷ = (g(z_1))``, ``J = L(y_1, ŷ_1)``: the 1 x 1 Jacobian, the 1-vector
    ``∂J/∂z``, the (n, 1) ``∂J/∂W``.  Every entry listed in :data:`K1_CHECKED`
    is then compared with the scalar derivation's step of that label
    (``derive(name)``, n features): equal for every value of the symbols.

    Raises
    ------
    DerivationError
        Where the matrix chain and the scalar derivation disagree.

    Examples
    --------
    >>> derive_k1("mse", features=1).matrices["d2J_dz2"]
    Matrix([[2]])
    """
    from derivreg.symbolic.engine import derive
    from derivreg.symbolic.registry import REGISTRY
    from derivreg.symbolic.symbols import x_vector, y, yhat

    pair = REGISTRY[name]
    c = components(1, features)
    output = sp.Matrix([pair.activation(c.z[0])])
    loss = pair.loss(c.y[0], c.yhat[0])
    chain = matrix_chain(name, c, output, loss, _scalar_rewrite(pair, c))
    scalar = derive(pair)
    to_scalar = {c.yhat[0]: yhat, c.y[0]: y}
    m = chain.matrices
    pairs = {
        "dJ_dyhat": (m["dJ_dyhat"][0], scalar.dJ_dyhat),
        "dyhat_dz": (m["dyhat_dz"][0, 0], scalar.dyhat_dz),
        "dJ_dz": (m["dJ_dz"][0], scalar.dJ_dz),
        "dJ_db": (m["dJ_db"][0], scalar.dJ_db),
        "d2J_dz2": (m["d2J_dz2"][0, 0], scalar.d2J_dz2),
    }
    for label, (ours, theirs) in pairs.items():
        if not is_zero(ours.xreplace(to_scalar) - theirs):
            raise DerivationError(name, label, "the k = 1 chain differs from the scalar step", ours)
    # dJ/dw: the scalar derivation's row (dJ/dz) x^T, entry by entry, against W's column
    for i in range(features):
        ours = m["dJ_dW"][i, 0].xreplace(to_scalar)
        theirs = scalar.dJ_dw[0, i].xreplace({x_vector[i, 0]: c.x[i]})  # a plain symbol
        if not is_zero(ours - theirs):
            raise DerivationError(name, "dJ_dw", f"entry {i} differs from the scalar row", ours)
    return chain
