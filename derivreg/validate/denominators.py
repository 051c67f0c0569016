r"""Prove a printed denominator nonzero, before SymPy sees the quotient.

SymPy cancels as it builds: ``z / z`` is 1 the moment it is written, so a
hole whose value is a quotient must have its denominator checked *before*
the quotient is formed (:func:`~derivreg.validate.semantics.meaning` calls
:func:`nonzero` on each denominator and each base of a negative power).

A denominator is accepted when it is nonzero for every real input, each
``exp(u)`` taken as only *nonnegative*: positive over the reals, float64's
``exp`` underflows to 0 below ``u = -745``, where ``t0 / t0`` (``t0 =
exp(-|z|)``) is 0/0 = NaN; ``t0 + 1`` is at least 1 all the same.  Proven:

1. by SymPy's assumptions on the symbols (``z`` and ``y`` real, ``phi`` and
   ``J_mean`` positive, Gamma's labels positive) and on the functions
   (``exp(-|z|) + 1`` is positive, its exponential nonnegative);
2. else factor by factor (a product is nonzero iff each factor is), after
   :func:`~derivreg.proof.algebra.settle_extrema` (``max(1, exp(-|z|))`` is 1);
3. else in every case of the signs of the symbols under ``|.|``, ``max``,
   ``min`` or a branch (``< 0``, ``= 0``, ``> 0``: every real), each case
   by 1 and 2.

A factor left unproven is accepted only where the derivation's own
expression divides by it too (``poles``): there the derivation has no value
either (BCE's ``dJ/dyhat`` at ``yhat`` in {0, 1}), so NumPy's inf or NaN
is no disagreement; the fixed code takes the limits there (``_at_edges``).

Examples
--------
>>> from derivreg.symbolic import yhat, z
>>> nonzero(sp.exp(-sp.Abs(z)) + 1), nonzero(sp.exp(-sp.Abs(z)) - 1), nonzero(z)
(True, False, False)
>>> nonzero(sp.exp(-sp.Abs(z))), nonzero(sp.exp(z) + sp.exp(-z))  # each exp on its own: >= 0
(False, False)
>>> nonzero(yhat * (yhat - 1), poles=singular_factors(1 / yhat + 1 / (1 - yhat)))
True
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable

import sympy as sp

from derivreg.proof.algebra import settle_extrema

__all__ = ["nonzero", "singular_factors"]

#: Nodes whose arguments' signs split the proof into cases.
_BRANCHING = (sp.Abs, sp.Max, sp.Min, sp.Piecewise, sp.sign, sp.Heaviside)


def _factors(t: sp.Basic) -> list[sp.Basic]:
    """Return the nonconstant factors of ``t`` (SymPy's, as a polynomial in its generators)."""
    try:
        _, found = sp.factor_list(t)
    except (sp.PolynomialError, TypeError, ValueError, NotImplementedError):
        return [t]
    return [f for f, _ in found]


def singular_factors(expr: sp.Basic) -> frozenset[sp.Basic]:
    """Return the factors of each denominator (negative power's base) in ``expr``, and negatives.

    Examples
    --------
    >>> from derivreg.symbolic import yhat
    >>> sorted(singular_factors(1 / yhat), key=str)
    [-yhat, yhat]
    """
    found: set[sp.Basic] = set()
    for node in sp.preorder_traversal(expr):
        if isinstance(node, sp.Pow) and node.exp.is_negative:
            for f in _factors(node.base):
                found |= {f, sp.expand(-f)}
    return frozenset(found)


def _definite(f: sp.Basic, depth: int = 2) -> bool:
    """Whether ``f`` has one strict sign for every real input: assumptions, or a quadratic.

    ``a s**2 + b s + c`` in a real symbol ``s`` has the sign of ``a`` for every
    real ``s`` when ``4 a c - b**2 > 0`` (no real root): Geman-McClure's
    ``y**2 - 2 y z + z**2 + 1`` is positive, ``4 (z**2 + 1) - 4 z**2 = 4``.
    """
    if f.is_positive or f.is_negative:
        return True
    if depth == 0:
        return False
    for s in sorted(f.free_symbols, key=str):
        try:
            poly = sp.Poly(f, s)
        except sp.PolynomialError:
            continue
        if poly.degree() != 2:
            continue
        a, b, c = poly.all_coeffs()
        gap = sp.expand(4 * a * c - b**2)
        if (gap.is_positive or (_definite(gap, depth - 1) and _sign(gap) > 0)) and _definite(
            a, depth - 1
        ):
            return True
    return False


def _sign(f: sp.Basic) -> int:
    """Return the sign of a definite ``f``, read at one point (every input gives the same)."""
    point = {s: sp.Integer(0) if not s.is_positive else sp.Integer(1) for s in f.free_symbols}
    return 1 if f.xreplace(point) > 0 else -1


def _proven(t: sp.Basic, poles: frozenset[sp.Basic]) -> bool:
    if t.is_zero is not None:
        return not t.is_zero
    for f in _factors(settle_extrema(t)):
        if f.is_zero is False or f in poles or sp.expand(f) in poles:
            continue
        if not (f.is_polynomial() and _definite(f)):
            return False
    return True


def _cases(t: sp.Basic) -> Iterable[dict[sp.Symbol, sp.Basic]]:
    """Substitutions covering every value of each branching symbol: < 0, = 0, > 0 (or >= 0)."""
    present: set[sp.Symbol] = set()
    for node in sp.preorder_traversal(t):
        if isinstance(node, _BRANCHING):
            present |= {s for s in node.free_symbols if s.is_real and s.is_zero is None}
    symbols = sorted(present, key=str)

    def sides(s: sp.Symbol) -> tuple[sp.Basic, ...]:
        positive = sp.Symbol(f"{s.name}_pos", positive=True)
        if s.is_nonnegative:  # an exponential that may underflow: > 0 or 0
            return (positive, sp.Integer(0))
        return (positive, -positive, sp.Integer(0))

    for combo in itertools.product(*map(sides, symbols)):
        yield dict(zip(symbols, combo, strict=True))


#: ``exp(u)`` below this many e-folds of a number argument is kept: its float64 is not 0.
_NO_UNDERFLOW = -700


def _underflowing(t: sp.Basic) -> sp.Basic:
    """``t`` with each ``exp(u)`` a nonnegative symbol of its own: float64's exp underflows to 0."""
    seen: dict[sp.Basic, sp.Symbol] = {}

    def floor(e: sp.Basic) -> sp.Basic:
        u = e.args[0]
        if u.is_number and u.is_real and u > _NO_UNDERFLOW:
            return e
        return seen.setdefault(e, sp.Dummy(f"exp{len(seen)}", nonnegative=True))

    return t.replace(lambda e: isinstance(e, sp.exp), floor)


def nonzero(t: sp.Basic, poles: frozenset[sp.Basic] = frozenset()) -> bool:
    """Whether ``t`` is nonzero for every real input (but at the derivation's own ``poles``).

    ``poles`` are factors the derivation's expression divides by
    (:func:`singular_factors`); a factor of ``t`` among them is accepted.
    Each ``exp(u)`` counts as only nonnegative (it underflows to 0 below
    ``u = -745``): ``exp(-|z|) + 1`` is nonzero, ``exp(-|z|)`` alone is not.
    """
    if isinstance(t, sp.core.relational.Relational) or t.is_zero is True:
        return False  # a comparison is 0 where it fails (NumPy casts False to 0)
    t = _underflowing(t)
    if _proven(t, poles):
        return True
    cases = list(_cases(t))
    if len(cases) <= 1:
        return False
    return all(_proven(t.xreplace(case), poles) for case in cases)
