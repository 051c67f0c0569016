"""Prove each printed expression (hole) equal to the derivation's, over the reals.

A hole is given its meaning by :mod:`~derivreg.validate.semantics` (every
``log`` and ``sqrt`` argument proven in its real domain, every denominator
proven nonzero, or zero only where the derivation's own expression divides
by zero: :mod:`~derivreg.validate.denominators`), then proven equal
to the generator's stable form of the derivation's expression; the stable
form is equal to the derivation's own by the rewrites of
:data:`~derivreg.codegen.rules.RULES`, each a theorem of
``proofs/stability.py``.  The proof splits on the sign of each value under
``|.|``, ``max``, ``min`` or a branch (< 0, = 0, > 0: every real), and
simplifies each case with no forced rewrite of logarithms.  A numeric
witness then evaluates the *unforced* residual against the derivation's
own expression at 80 digits (WITNESS_DIGITS), at points of every case.

Examples
--------
>>> from derivreg.symbolic import z
>>> proven_zero(sp.Max(z, 0) - sp.Abs(z) / 2 - z / 2, z - z)
True
>>> proven_zero(sp.Abs(z) - z, sp.Abs(z) - z)
False
"""

from __future__ import annotations

import ast
import itertools
from collections.abc import Mapping, Sequence

import sympy as sp
from sympy.codegen.cfunctions import log1p

from derivreg.codegen.penalized import PENALTY_INPUTS
from derivreg.codegen.rules import expand_stable
from derivreg.codegen.templates import Hole
from derivreg.proof.algebra import settle_extrema
from derivreg.symbolic import J_mean, phi, y, yhat, z
from derivreg.validate.denominators import singular_factors
from derivreg.validate.report import ValidationError, ValidationReport
from derivreg.validate.semantics import constant, meaning

__all__ = ["label_symbols", "positive_labels", "prove_holes", "proven_zero"]

#: The values each hole input takes, by name (the penalty's: w, alpha, v, t).
INPUTS: Mapping[str, sp.Symbol] = {
    "z": z,
    "y": y,
    "yhat": yhat,
    "phi": phi,
    "J_mean": J_mean,
    **PENALTY_INPUTS,
    "w_j": PENALTY_INPUTS["w"],  # one weight, in the per-sample loop (where w is the array)
}

#: The labels where the pair's domain is positive (Gamma's y > 0): a positive symbol, so
#: that ``log(y)`` is real and proven so, as it is for every label the kernels accept.
Y_POSITIVE = sp.Symbol("y", positive=True)


def positive_labels(domain: sp.Set | None) -> dict[sp.Symbol, sp.Symbol]:
    """``{y: Y_POSITIVE}`` where the labels' domain lies in ``(0, oo)``, else ``{}``.

    Examples
    --------
    >>> positive_labels(sp.Interval.open(0, sp.oo)), positive_labels(sp.Interval(0, sp.oo))
    ({y: y}, {})
    """
    if domain is not None and domain.is_subset(sp.Interval.open(0, sp.oo)):
        return {y: Y_POSITIVE}
    return {}


#: The labels where the pair's domain is non-negative (Poisson's counts y >= 0): a
#: non-negative symbol, so that ``lgamma(y + 1)`` is real and proven so.
Y_NONNEGATIVE = sp.Symbol("y", nonnegative=True)


def label_symbols(domain: sp.Set | None) -> dict[sp.Symbol, sp.Symbol]:
    """:func:`positive_labels`, else ``{y: Y_NONNEGATIVE}`` where the domain is in ``[0, oo)``.

    Examples
    --------
    >>> label_symbols(sp.Interval(0, sp.oo))[y].is_nonnegative, label_symbols(sp.Reals)
    (True, {})
    """
    if positive_labels(domain) or domain is None:
        return positive_labels(domain)
    return {y: Y_NONNEGATIVE} if domain.is_subset(sp.Interval(0, sp.oo)) else {}


#: The witness's working precision: 80 digits, so that a residual of two equal terms
#: near 1e30 (Gamma's squared Pearson residual (y exp(-z) - 1)^2 at z = -31, y = 31)
#: rounds to ~1e-50, far inside the 1e-30 that a wrong hole exceeds.
WITNESS_DIGITS = 80

#: Witness points: both signs, zero, small and large magnitudes (within
#: 50-digit reach of the textbook forms), by input and label domain.
_Z_POINTS = (-31.0, -3.7, -0.61, -1e-9, 0.0, 1e-9, 0.43, 2.9, 29.5)
_POINTS = {
    ("y", "binary"): (0.0, 1.0, 0.35),
    ("y", "real"): (-1.3, 0.0, 2.2),
    ("yhat", "binary"): (0.2, 0.7),
    ("yhat", "real"): (-1.1, 0.8),
}


def _branching(expr: sp.Basic) -> list[sp.Symbol]:
    """Symbols inside ``|.|``, ``max``, ``min``, ``sign`` or a branch condition."""
    kinds = (sp.Abs, sp.Max, sp.Min, sp.Piecewise, sp.sign, sp.Heaviside)
    found: set[sp.Symbol] = set()
    for node in sp.preorder_traversal(expr):
        if isinstance(node, kinds):
            found |= node.free_symbols
    return sorted(found, key=str)


def _cases(expr: sp.Basic) -> list[dict[sp.Symbol, sp.Expr]]:
    """Substitutions covering every real value of each branching symbol: < 0, = 0, > 0."""
    present = _branching(expr)

    def sides(s: sp.Symbol) -> tuple[sp.Expr, ...]:
        positive = sp.Symbol(f"{s.name}_pos", positive=True)
        return (positive, -positive, sp.Integer(0))

    return [
        dict(zip(present, combo, strict=True)) for combo in itertools.product(*map(sides, present))
    ]


def _zero(expr: sp.Basic) -> bool:
    expr = settle_extrema(expr)
    if expr == 0:
        return True
    for attempt in (sp.expand, sp.cancel, sp.simplify):
        try:
            if attempt(expr) == 0:
                return True
        except (TypeError, sp.PolynomialError):
            continue
    return False


def _witness(residual: sp.Basic, targets: str) -> bool:
    """Evaluate the unforced residual at WITNESS_DIGITS at points of every case; all ~0."""
    free = sorted(residual.free_symbols, key=str)
    grids: list[tuple[float, ...]] = []
    for s in free:
        if s == z:
            grids.append(_Z_POINTS)
        elif s in (y, yhat):
            grids.append(_POINTS[s.name, targets])
        elif s == Y_POSITIVE:  # labels of a positive domain: small, near 1, large
            grids.append((0.013, 0.35, 2.2, 31.0))
        elif s == Y_NONNEGATIVE:  # counts: zero, small, near 1, large
            grids.append((0.0, 0.013, 0.35, 2.2, 31.0))
        elif s in (phi, J_mean):  # a dispersion and a mean loss: positive
            grids.append((0.37, 2.9))
        else:  # a parameter of a lemma (x, w, alpha): any real
            grids.append((-1.7, 0.9))
    for point in itertools.product(*grids):
        at = {s: sp.Float(v, WITNESS_DIGITS) for s, v in zip(free, point, strict=True)}
        value = sp.N(residual.xreplace(at), WITNESS_DIGITS)
        if not value.is_number or not value.is_real or not value.is_finite:
            return False
        if abs(value) > sp.Float(10, 50) ** -30:
            return False
    return True


def proven_zero(residual: sp.Basic, witness: sp.Basic, targets: str = "real") -> bool:
    """Whether ``residual`` is 0 for every real input, split on signs, and ``witness`` vanishes.

    ``residual`` is the hole minus the stable form; ``witness`` the hole
    minus the derivation's own expression, evaluated numerically, unforced.
    """
    residual = residual.replace(lambda e: isinstance(e, log1p), lambda e: sp.log(1 + e.args[0]))
    for case in _cases(residual):
        if not _zero(residual.xreplace(case) if case else residual):
            return False
    return _witness(witness, targets)


def _value(
    node: ast.expr, hole: Hole, env: Mapping[str, sp.Basic], loop: bool, labels: dict
) -> sp.Basic:
    """Return the hole's meaning; a denominator may vanish only where the derivation's does."""
    if hole.fill:
        if not isinstance(node, ast.Constant):
            raise ValidationError(f"`{ast.unparse(node)}`: a constant belongs here")
        return constant(node)
    own = hole.original.xreplace(labels) if hole.original is not None else sp.Integer(0)
    return meaning(node, env, loop=loop, poles=singular_factors(own))


def prove_holes(
    found: Sequence[tuple[ast.expr, Hole]],
    report: ValidationReport,
    targets: str,
    *,
    loop: bool = False,
    domain: sp.Set | None = None,
) -> None:
    """Prove every hole found by the skeleton comparison; record failures in ``report``.

    Holes of one function are evaluated in order, so that a shared
    subexpression ``t0`` is known to the outputs after it.  Where ``domain``
    (the labels') is positive, ``y`` is a positive symbol (``positive_labels``), where
    non-negative a non-negative one (``label_symbols``).
    """
    labels = label_symbols(domain)
    env: dict[str, sp.Basic] = {}
    function = None
    cache: dict[tuple[sp.Basic, sp.Basic], bool] = {}
    for node, hole in found:
        if hole.function != function:
            function, env = hole.function, {}
        where = f"{hole.function}, line {node.lineno}: {hole.target} = `{ast.unparse(node)}`"
        scope = {**{n: INPUTS[n].xreplace(labels) for n in hole.inputs}, **env}
        try:
            value = _value(node, hole, scope, loop, labels)
        except (ValidationError, TypeError, ValueError) as err:
            report.failures.append(f"{where}: {err}")
            continue
        if hole.stable is None or hole.original is None:
            env[hole.target] = value  # a shared subexpression, for the outputs after it
            continue
        stable = expand_stable(hole.stable).xreplace(labels)
        key = (value, stable)
        if key not in cache:
            try:
                original = hole.original.xreplace(labels)
                cache[key] = proven_zero(value - stable, value - original, targets)
            except Exception:  # SymPy failing to decide is "not proven"
                cache[key] = False
        if cache[key]:
            report.proven.append(f"hole {hole.function}.{hole.target}")
            report.rules += [r for r in hole.rules if r not in report.rules]
        else:
            report.failures.append(f"{where}: not proven equal to the derivation's {hole.original}")
