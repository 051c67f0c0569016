"""The engine: :func:`derive` walks the lecture's steps for any registered pair.

It knows nothing about any particular loss.  A model is a linear score
``z = x.w + b`` followed by an activation ``yhat = g(z)`` and a per-sample
loss ``J = L(y, yhat)``.  The engine keeps ``yhat`` a symbol so that
cancellations such as ``dJ/dz = yhat - y`` appear, then goes one order
further (:mod:`derivreg.symbolic.curvature`).

Examples
--------
>>> from derivreg.symbolic import derive
>>> derive("bce").dJ_dz
-y + yhat
"""

from __future__ import annotations

from types import MappingProxyType
from typing import Literal, overload

import sympy as sp

from derivreg.symbolic import softmax
from derivreg.symbolic.checks import check
from derivreg.symbolic.curvature import curvature_steps
from derivreg.symbolic.derivation import Derivation, DerivationError, Features, Step
from derivreg.symbolic.forms import in_terms_of_output, tidy
from derivreg.symbolic.likelihood import estimated_dispersion, likelihood_terms
from derivreg.symbolic.registry import REGISTRY, BuiltinName, Pair
from derivreg.symbolic.symbols import alpha, b, w_scalar, w_vector, x_scalar, x_vector, y, yhat, z

__all__ = ["derive"]


# The return type follows the name where a type checker can see it: the vector-output model,
# a pair or a built-in name, or any other registered name (which may be either).
@overload
def derive(name: Literal["softmax"], *, features: Features = "n") -> softmax.VectorDerivation: ...
@overload
def derive(name: Pair | BuiltinName, *, features: Features = "n") -> Derivation: ...
@overload
def derive(
    name: str | Pair, *, features: Features = "n"
) -> Derivation | softmax.VectorDerivation: ...
def derive(name: str | Pair, *, features: Features = "n") -> Derivation | softmax.VectorDerivation:
    """Derive the gradient and update rule of a registered pair.

    Parameters
    ----------
    name : str or Pair
        A key of :data:`REGISTRY` (``"mse"`` or ``"bce"``), a
        :class:`Pair` not (yet) registered, or ``"softmax"``: the
        vector-output model of :mod:`derivreg.symbolic.softmax` (k = n = 3,
        ``features`` not used).
    features : {"n", 1}, default "n"
        ``"n"`` for the vector form (``x`` and ``w`` are n-vectors),
        ``1`` for the 1-feature scalar form.

    Returns
    -------
    Derivation
        The steps in the lecture's order, each checked.

    Raises
    ------
    ValueError
        If ``name`` is not registered (the message lists the known names).
    DerivationError
        If a step disagrees with the direct derivative of the composed loss
        or with a closed form the registry claims.

    Examples
    --------
    >>> d = derive("bce")
    >>> d.dyhat_dz, d.dJ_dz
    (yhat*(1 - yhat), -y + yhat)
    >>> derive("hinge")
    Traceback (most recent call last):
    ...
    ValueError: unknown loss 'hinge'; known losses: 'bce', 'gamma', 'mse', 'poisson'
    """
    if features not in (1, "n"):
        raise ValueError(f"features must be 1 or 'n', got {features!r}")
    if isinstance(name, Pair):
        return _derive(name, features)
    if name == softmax.NAME:  # the vector-output model: its own derivation
        return softmax.derive_softmax()
    if not isinstance(name, str) or name not in REGISTRY:
        known = ", ".join(repr(k) for k in sorted(REGISTRY))
        raise ValueError(f"unknown loss {name!r}; known losses: {known}")
    return _derive(REGISTRY[name], features)


# One function, about 110 lines, on purpose: it walks the lecture's five stages in
# order, one commented block each, so that it reads like the slides it follows.
def _derive(pair: Pair, features: Features) -> Derivation:
    vector = features == "n"
    x = x_vector if vector else x_scalar
    w = w_vector if vector else w_scalar
    symbols = MappingProxyType(
        {"x": x, "w": w, "b": b, "y": y, "yhat": yhat, "z": z, "alpha": alpha}
    )

    def fail(step: str, message: str, residual: sp.Basic) -> DerivationError:
        return DerivationError(pair.name, step, message, residual)

    # 1. Forward propagation.
    score = (x.T * w)[0, 0] if vector else x * w
    model = _Dot(x, w) + b if vector else score + b
    activation = pair.activation(z)
    loss = pair.loss(y, yhat)
    forward = (
        Step("forward", "z", model, "the linear model f(x; w, b)"),
        Step("forward", "yhat", activation, "the activation applied to z"),
        Step("forward", "J", loss, "the per-sample loss of y and yhat"),
    )

    # 2. Local partial derivatives, each of its own function only.
    dJ_dyhat = tidy(sp.factor(sp.together(sp.diff(loss, yhat))))
    derivative = sp.diff(activation, z)
    dyhat_dz = in_terms_of_output(pair, derivative, activation)
    dz_dw = sp.diff(x.T * w, w).T if vector else sp.diff(score + b, w)
    dz_db = sp.diff(score + b, b) if not vector else sp.Integer(1)
    local = (
        Step("local", "dJ_dyhat", dJ_dyhat, "differentiate J with respect to yhat"),
        Step(
            "local",
            "dyhat_dz",
            dyhat_dz,
            "differentiate the activation, then write it in terms of yhat",
        ),
        Step("local", "dz_dw", dz_dw, "z is linear in w"),
        Step("local", "dz_db", dz_db, "z is linear in b"),
    )

    # 3. Chain rule: multiply the factors, keep yhat a symbol, simplify.
    dJ_dz = tidy(sp.factor(sp.cancel(sp.together(dJ_dyhat * dyhat_dz))))
    dJ_dw = dJ_dz * dz_dw
    dJ_db = dJ_dz * dz_db
    chain = (
        Step(
            "chain",
            "dJ_dz",
            dJ_dz,
            "chain rule: dJ/dz = dJ/dyhat * dyhat/dz",
            ("dJ_dyhat", "dyhat_dz"),
        ),
        Step(
            "chain",
            "dJ_dw",
            dJ_dw,
            "chain rule: dJ/dw = dJ/dz * dz/dw",
            ("dJ_dz", "dz_dw"),
        ),
        Step(
            "chain",
            "dJ_db",
            dJ_db,
            "chain rule: dJ/db = dJ/dz * dz/db",
            ("dJ_dz", "dz_db"),
        ),
    )

    # 4. Update rules: the gradient step, then its simplified form.
    step_w = w - alpha * dJ_dw.T if vector else w - alpha * dJ_dw
    step_b = b - alpha * dJ_db
    descent = -dJ_dz
    ratio = sp.cancel(descent / (y - yhat))
    if not ratio.free_symbols & {y, yhat, z}:
        coefficient = sp.Mul(ratio, alpha, evaluate=False) if ratio != 1 else alpha
        simple_w = w + coefficient * (y - yhat) * x
        simple_b = b + coefficient * (y - yhat)
    else:
        simple_w = w - alpha * dJ_dz * x
        simple_b = b - alpha * dJ_dz
    update = (
        Step(
            "update",
            "step_w",
            step_w,
            "gradient descent: w := w - alpha (dJ/dw)" + ("^T, a column again" if vector else ""),
        ),
        Step("update", "step_b", step_b, "gradient descent: b := b - alpha dJ/db"),
        Step("update", "update_w", simple_w, "substitute dJ/dw and simplify"),
        Step("update", "update_b", simple_b, "substitute dJ/db and simplify"),
    )

    # 5. One order further: d2J/dz2, its bound over the domain, the link's kind.
    curvature, scale, convex = curvature_steps(pair, dJ_dz, dyhat_dz, fail)
    likelihood, why_not = likelihood_terms(pair, loss)
    dispersed, conflict = estimated_dispersion(pair, loss)
    if conflict:
        raise fail("dispersion", conflict, sp.Integer(0))

    derivation = Derivation(
        name=pair.name,
        pair=pair,
        features=features,
        steps=forward + local + chain + update + curvature,
        symbols=symbols,
        canonical_scale=scale,
        convex_in_z=convex,
        likelihood=likelihood,
        likelihood_note=why_not,
        dispersion_estimated=dispersed,
    )
    check(derivation, fail)
    return derivation


class _Dot(sp.Expr):
    """Display-only ``x^T w`` for the n-feature forward step.

    Holds the two n-vector symbols; :meth:`doit` expands to the sum.
    """

    is_commutative = True

    def __new__(cls, left: sp.MatrixSymbol, right: sp.MatrixSymbol) -> _Dot:
        return sp.Expr.__new__(cls, left, right)

    def doit(self, **hints: object) -> sp.Basic:
        left, right = self.args
        return (left.T * right).doit(**hints)[0, 0]

    def _latex(self, printer: sp.printing.latex.LatexPrinter) -> str:
        left, right = (printer._print(a) for a in self.args)
        return rf"{left}^{{T}} {right}"

    def _sympystr(self, printer: sp.printing.str.StrPrinter) -> str:
        left, right = (printer._print(a) for a in self.args)
        return left + getattr(printer, "dot_operator", "^T*") + right
