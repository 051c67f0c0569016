"""The second routes that check every derivation step.

Each chain-rule result is compared with the derivative SymPy takes directly
of the composed loss; a zero residual is accepted only when it also vanishes
numerically at seeded points (see :func:`is_zero`).

Examples
--------
>>> from derivreg.symbolic import y, yhat
>>> from derivreg.symbolic.checks import is_zero
>>> is_zero((y - yhat) ** 2 - (yhat - y) ** 2)
True
"""

from __future__ import annotations

import random
from collections.abc import Callable

import sympy as sp

from derivreg.symbolic.derivation import Derivation, DerivationError
from derivreg.symbolic.symbols import CHECK_DIMENSION, b, n, w_scalar, x_scalar, y, yhat, z

__all__ = ["check", "explicit", "explicit_components", "is_zero"]


def is_zero(expr: sp.Basic) -> bool:
    """Whether ``expr`` simplifies to zero, with a numeric second witness.

    ``expand_log(force=True)`` splits logarithms as if their arguments were
    positive, which holds where the lecture's losses are defined (labels and
    predictions in (0, 1)).  So that a forced split can never pass off a
    non-zero expression as zero, ``expr`` is also evaluated at seeded
    random points of that domain at 30 digits and must vanish there.
    """
    if expr == 0:
        return True
    for attempt in (sp.cancel, sp.simplify):
        try:
            if attempt(sp.expand_log(expr, force=True)) == 0:
                return _vanishes_numerically(expr)
        except (TypeError, sp.PolynomialError):
            continue
    return False


def _vanishes_numerically(expr: sp.Basic, points: int = 4) -> bool:
    """Evaluate ``expr`` at random points with y, yhat in (0, 1); all must be ~0."""
    rng = random.Random(20261128)  # noqa: S311 - seeded sampling, not cryptography
    free = sorted(expr.free_symbols, key=str)
    for _ in range(points):
        at = {
            s: sp.Float(rng.uniform(0.05, 0.95) if s in (y, yhat) else rng.gauss(0, 1), 30)
            for s in free
        }
        value = sp.N(expr.xreplace(at), 30)
        if not value.is_number or not value.is_finite:
            return False
        if abs(complex(value)) > 1e-20:
            return False
    return True


def explicit_components() -> tuple[sp.Matrix, sp.Matrix]:
    """Explicit real components ``x_1..x_k``, ``w_1..w_k`` for k = CHECK_DIMENSION."""
    k = CHECK_DIMENSION
    xs = sp.Matrix(sp.symbols(f"x_1:{k + 1}", real=True))
    ws = sp.Matrix(sp.symbols(f"w_1:{k + 1}", real=True))
    return xs, ws


def explicit(expr: sp.Basic, xs: sp.Matrix, ws: sp.Matrix) -> sp.Basic:
    """Replace the n-vector symbols by explicit components (n = CHECK_DIMENSION)."""
    k = xs.shape[0]
    fixed = expr.subs(n, k)
    fixed = fixed.xreplace({sp.MatrixSymbol("x", k, 1): xs, sp.MatrixSymbol("w", k, 1): ws})
    return fixed.doit() if hasattr(fixed, "doit") else fixed


def check(d: Derivation, fail: Callable[[str, str, sp.Basic], DerivationError]) -> None:
    """Check every step of ``d`` by a second route; raise on the first failure."""
    vector = d.features == "n"
    pair = d.pair
    activation = pair.activation(z)
    loss = d.loss

    # Local partials against direct differentiation.
    residual = d.dJ_dyhat - sp.diff(loss, yhat)
    if not is_zero(residual):
        raise fail("dJ_dyhat", "differs from d/dyhat of the loss", residual)
    residual = d.dyhat_dz.subs(yhat, activation) - sp.diff(activation, z)
    if not is_zero(residual):
        raise fail("dyhat_dz", "differs from d/dz of the activation", residual)

    # The chain-rule product against the derivative of the composed loss.
    composed = pair.loss(y, activation)
    residual = d.dJ_dz.subs(yhat, activation) - sp.diff(composed, z)
    if not is_zero(residual):
        raise fail("dJ_dz", "differs from d/dz of the composed loss", residual)

    # dJ/dw and dJ/db against the loss composed with the model itself.
    if vector:
        xs, ws = explicit_components()
        model = (xs.T * ws)[0, 0] + b
        chain_w = explicit(d.dJ_dw, xs, ws)
        chain_w = sp.Matrix(chain_w).subs(yhat, pair.activation(model))
        new_w = sp.Matrix(explicit(d.update_w, xs, ws))
        step_w = sp.Matrix(explicit(d.step("step_w").expr, xs, ws))
        coords = [(ws[i], chain_w[i], new_w[i], step_w[i]) for i in range(xs.shape[0])]
        x_components = list(xs)
    else:
        model = x_scalar * w_scalar + b
        chain_w = d.dJ_dw.subs(yhat, pair.activation(model))
        coords = [(w_scalar, chain_w, d.update_w, d.step("step_w").expr)]
        x_components = [x_scalar]
    full = pair.loss(y, pair.activation(model))
    for i, (wi, gi, _, _) in enumerate(coords):
        residual = gi - sp.diff(full, wi)
        if not is_zero(residual):
            raise fail("dJ_dw", f"component {i} differs from d/dw of the composed loss", residual)
    residual = d.dJ_db.subs(yhat, pair.activation(model)) - sp.diff(full, b)
    if not is_zero(residual):
        raise fail("dJ_db", "differs from d/db of the composed loss", residual)

    # Update rules: the simplified form equals the gradient step.
    for i, (_, _, simple, stepped) in enumerate(coords):
        residual = simple - stepped
        if not is_zero(residual):
            raise fail("update_w", f"component {i} differs from w - alpha dJ/dw", residual)
        del i
    residual = d.update_b - d.step("step_b").expr
    if not is_zero(residual):
        raise fail("update_b", "differs from b - alpha dJ/db", residual)
    del x_components

    # The lecture's closed forms, where the registry states them.
    if pair.claims is not None:
        for label, claim in pair.claims(y, yhat).items():
            residual = d.step(label).expr - claim
            if not is_zero(residual):
                raise fail(label, f"differs from the registry's claim {claim}", residual)
