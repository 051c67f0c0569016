"""Presentation that keeps value: expressions written the way the slides write them.

Examples
--------
>>> from derivreg.symbolic import yhat
>>> tidy(-yhat * (yhat - 1))
yhat*(1 - yhat)
"""

from __future__ import annotations

import sympy as sp

from derivreg.symbolic.checks import is_zero
from derivreg.symbolic.derivation import DerivationError
from derivreg.symbolic.registry import Pair
from derivreg.symbolic.symbols import y, yhat, z

__all__ = ["in_terms_of_output", "tidy"]


def in_terms_of_output(pair: Pair, derivative: sp.Expr, activation: sp.Expr) -> sp.Expr:
    """Rewrite ``g'(z)`` in terms of ``yhat = g(z)`` by inverting ``g``.

    The inverse is found by SymPy (``solve``); the result must reproduce
    ``g'(z)`` when ``yhat = g(z)`` is put back.
    """
    if not derivative.has(z):
        return derivative
    direct = derivative.subs(activation, yhat)
    candidates = [direct] if not direct.has(z) else []
    candidates += [sp.simplify(derivative.subs(z, r)) for r in sp.solve(sp.Eq(yhat, activation), z)]
    for found in candidates:
        candidate = sp.factor(found)
        if candidate.has(z):
            continue
        if is_zero(candidate.subs(yhat, activation) - derivative):
            return tidy(candidate)
    raise DerivationError(
        pair.name,
        "dyhat_dz",
        "cannot express the activation's derivative in terms of yhat",
        derivative,
    )


def tidy(expr: sp.Expr) -> sp.Expr:
    """Present ``expr`` the way the slides do, without changing its value.

    ``c*(y - yhat)`` keeps its factor, and a factor such as ``(yhat - 1)``
    with a negative constant term is written ``-(1 - yhat)``, so that
    ``-yhat*(yhat - 1)`` reads ``yhat*(1 - yhat)``.
    """
    residual = y - yhat
    ratio = sp.cancel(expr / residual)
    if not ratio.free_symbols & {y, yhat} and ratio not in (1, -1):
        return sp.Mul(ratio, residual, evaluate=False)
    if not expr.is_Mul:
        return expr
    sign = 1
    factors = []
    for factor in expr.args:
        base, power = factor.as_base_exp()
        if base.is_Add and base.as_coeff_Add()[0] < 0 and power.is_integer and power.is_odd:
            sign = -sign
            factors.append((-base) ** power)
        else:
            factors.append(factor)
    tidied = sign * sp.Mul(*factors)
    return tidied if sp.cancel(tidied - expr) == 0 else expr
