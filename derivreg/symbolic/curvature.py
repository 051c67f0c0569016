"""One order further: d2J/dz2, its supremum over the domain, canonical links, convexity.

``dJ/dz`` is a function of ``y`` and ``yhat``; differentiating it along
``yhat`` and multiplying by ``dyhat/dz`` gives ``d2J/dz2``, again in terms of
``yhat``: 2 for MSE, ``yhat(1 - yhat)`` for BCE, ``yhat`` for Poisson,
``y/yhat`` for Gamma.  Its supremum over the labels' domain and the
activation's range bounds the per-sample step size
(``lr < 2 / sup / ||(x, 1)||^2``); its infimum says whether the loss is
convex in ``z``.

Bounds are found by SymPy (``maximum``/``minimum`` along ``yhat``, the ends of
the domain along ``y`` where the expression is linear in ``y``).  Where SymPy
cannot decide, the supremum is taken as unbounded and convexity as not
shown: both are the safe direction (a line search instead of a fixed step).
Every finite bound is also checked at seeded points of the domain.

Examples
--------
>>> from derivreg.symbolic import derive
>>> d = derive("bce", features=1)
>>> d.d2J_dz2, d.curvature_bound, d.convex_in_z
(yhat*(1 - yhat), 1/4, True)
"""

from __future__ import annotations

import random
from collections.abc import Callable

import sympy as sp
from sympy.calculus.util import function_range, maximum

from derivreg.symbolic.checks import is_zero
from derivreg.symbolic.derivation import DerivationError, Step
from derivreg.symbolic.forms import tidy
from derivreg.symbolic.registry import Pair
from derivreg.symbolic.symbols import y, yhat, z

__all__ = ["bounds", "canonical_scale", "curvature_steps"]

Fail = Callable[[str, str, sp.Basic], DerivationError]


def curvature_steps(
    pair: Pair, dJ_dz: sp.Expr, dyhat_dz: sp.Expr, fail: Fail
) -> tuple[tuple[Step, ...], sp.Expr | None, bool]:
    """Return the curvature stage's steps, the canonical scale and convexity in z.

    ``d2J/dz2`` is checked against SymPy's direct second derivative of the
    composed loss, and against the registry's claim where it states one.

    Examples
    --------
    >>> from derivreg.symbolic import derive
    >>> [s.label for s in derive("mse").steps if s.stage == "curvature"]
    ['d2J_dz2', 'curvature_bound']
    """
    d2 = tidy(sp.factor(sp.cancel(sp.diff(dJ_dz, yhat) * dyhat_dz)))
    activation = pair.activation(z)
    residual = d2.subs(yhat, activation) - sp.diff(pair.loss(y, activation), z, 2)
    if not is_zero(residual):
        raise fail("d2J_dz2", "differs from d2/dz2 of the composed loss", residual)
    out_range = function_range(activation, z, sp.S.Reals)
    sup, inf, how = bounds(d2, pair.domain, out_range)
    _witness(pair, d2, sup, inf, out_range, fail=fail)
    steps = (
        Step(
            "curvature",
            "d2J_dz2",
            d2,
            "differentiate dJ/dz along yhat, times dyhat/dz",
        ),
        Step(
            "curvature",
            "curvature_bound",
            sup,
            f"supremum for y in {_show(pair.domain)}, yhat in {_show(out_range)}: {how}",
        ),
    )
    return steps, canonical_scale(dJ_dz), bool(inf.is_extended_nonnegative)


def canonical_scale(dJ_dz: sp.Expr) -> sp.Expr | None:
    """Return the constant ``c`` with ``dJ/dz = c (yhat - y)``, or ``None``.

    Examples
    --------
    >>> from derivreg.symbolic import y, yhat
    >>> canonical_scale(yhat - y), canonical_scale(-2 * (y - yhat)), canonical_scale(1 - y / yhat)
    (1, 2, None)
    """
    ratio = sp.cancel(dJ_dz / (yhat - y))
    return ratio if ratio.is_number and ratio != 0 else None


def bounds(expr: sp.Expr, y_domain: sp.Set, yhat_range: sp.Set) -> tuple[sp.Expr, sp.Expr, str]:
    """Supremum and infimum of ``expr(y, yhat)`` over the product set, and how they were found.

    Examples
    --------
    >>> import sympy as sp
    >>> from derivreg.symbolic import y, yhat
    >>> bounds(y / yhat, sp.Interval.open(0, sp.oo), sp.Interval.open(0, sp.oo))[:2]
    (oo, 0)
    """
    try:
        sup = _sup(expr, y_domain, yhat_range)
        inf = -_sup(-expr, y_domain, yhat_range)
    except (NotImplementedError, ValueError, TypeError):
        return sp.oo, -sp.oo, "SymPy could not bound it: taken as unbounded"
    if not (sup.is_extended_real and inf.is_extended_real):
        return sp.oo, -sp.oo, "SymPy could not bound it: taken as unbounded"
    return sup, inf, "unbounded" if sup == sp.oo else "found by SymPy, checked at sampled points"


def _sup(expr: sp.Expr, y_domain: sp.Set, yhat_range: sp.Set) -> sp.Expr:
    """Take the supremum over y, then over yhat (degree <= 1 in y only)."""
    if yhat not in expr.free_symbols:
        return _sup_along(expr, y, y_domain)
    if y not in expr.free_symbols:
        return _sup_along(expr, yhat, yhat_range)
    residual = _of_residual(expr, y_domain, yhat_range)
    if residual is not None:
        return residual
    try:
        poly = sp.Poly(expr, y)
    except sp.PolynomialError as err:  # not a polynomial in y: taken as unbounded
        raise ValueError(f"d2J/dz2 is not a polynomial in y: {err}") from None
    if poly.degree() > 1:
        raise ValueError("d2J/dz2 of degree > 1 in y: not bounded here")  # taken as unbounded
    slope = poly.coeff_monomial(y)
    low, high = y_domain.inf, y_domain.sup
    lowest, highest = -_sup_along(-slope, yhat, yhat_range), _sup_along(slope, yhat, yhat_range)
    ends = []
    if highest > 0:  # somewhere increasing in y: y at the top of its domain
        ends.append(high)
    if lowest < 0:  # somewhere decreasing: y at the bottom
        ends.append(low)
    if not ends:  # slope identically 0 on the range
        ends.append(low if low.is_finite else high)
    if any(not e.is_finite for e in ends):
        return sp.oo
    return sp.Max(*(_sup_along(expr.subs(y, e), yhat, yhat_range) for e in ends))


def _of_residual(expr: sp.Expr, y_domain: sp.Set, yhat_range: sp.Set) -> sp.Expr | None:
    """Return the supremum of a function of ``r = yhat - y`` alone; None if it is not one.

    A robust loss (log-cosh, pseudo-Huber) has ``d2J/dz2`` a function of
    ``yhat - y``; over intervals ``y in [a, b]`` and ``yhat in [c, d]`` the
    residual ranges over ``[c - b, d - a]``.
    """
    if not (isinstance(y_domain, sp.Interval) and isinstance(yhat_range, sp.Interval)):
        return None
    r = sp.Dummy("r", real=True)
    along = sp.simplify(expr.subs(yhat, y + r))
    if y in along.free_symbols:
        return None
    low, high = yhat_range.inf - y_domain.sup, yhat_range.sup - y_domain.inf
    return _sup_along(along, r, sp.Interval(low, high))


def _sup_along(expr: sp.Expr, var: sp.Symbol, domain: sp.Set) -> sp.Expr:
    if var not in expr.free_symbols:
        return expr
    return maximum(expr, var, domain)


def _witness(
    pair: Pair, d2: sp.Expr, sup: sp.Expr, inf: sp.Expr, out_range: sp.Set, *, fail: Fail
) -> None:
    """``inf <= d2J/dz2 <= sup`` at seeded points of the domain (a second route for the bounds)."""
    rng = random.Random(20261201)  # noqa: S311 - seeded sampling, not cryptography
    for _ in range(16):
        point = {y: _draw(rng, pair.domain), yhat: _draw(rng, out_range)}
        value = d2.xreplace(point)
        if not value.is_number:
            continue
        if not value.is_Rational:  # e.g. cosh(9008)**-2: compared at 50 digits
            try:
                value = value.evalf(50, strict=True)
            except sp.core.evalf.PrecisionExhausted:
                continue  # no digit of it is known: the point decides nothing
        if (sup.is_finite and value > sup) or (inf.is_finite and value < inf):
            raise fail(
                "curvature_bound", f"d2J/dz2 = {value} at {point} escapes [{inf}, {sup}]", value
            )


def _draw(rng: random.Random, domain: sp.Set) -> sp.Rational:
    """Draw a rational point of ``domain`` (an interval or a finite set), far values included."""
    if isinstance(domain, sp.FiniteSet):
        return rng.choice(sorted(domain.args))
    low, high = domain.inf, domain.sup
    for _ in range(100):
        if low.is_finite and high.is_finite:
            t = sp.Rational(rng.randint(0, 10**6), 10**6)
            value = low + (high - low) * t
        else:
            magnitude = sp.Rational(10) ** rng.randint(-6, 6) * rng.randint(1, 9)
            base = low if low.is_finite else high if high.is_finite else sp.Integer(0)
            sign = 1 if low.is_finite else -1 if high.is_finite else rng.choice((1, -1))
            value = base + sign * magnitude
        if domain.contains(value) is sp.true:
            return value
    raise ValueError(f"cannot sample a point of {domain}")


def _show(s: sp.Set) -> str:
    """Show an interval in bracket notation, e.g. ``[0, oo)``; other sets as SymPy prints them."""
    if s == sp.S.Reals:
        return "(-oo, oo)"
    if isinstance(s, sp.Interval):
        left = "(" if s.left_open or s.inf == -sp.oo else "["
        right = ")" if s.right_open or s.sup == sp.oo else "]"
        return f"{left}{s.inf}, {s.sup}{right}"
    return sp.sstr(s)
