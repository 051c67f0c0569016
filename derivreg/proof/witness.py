"""The numeric witness: points of the whole domain, and mpmath values at them.

Every step is evaluated with mpmath at :data:`~derivreg.proof.DIGITS`
digits (more where a textbook formula cancels) at seeded points that
cover the domain: for each free symbol its *edges* (closed ends, points
just inside open ends, 0 and ±1e-30 where the domain allows, ±1 and a huge
magnitude on each unbounded side) with the other symbols drawn at random,
then random points whose magnitudes range from 1e-30 to 1e30 (to 700 for a
symbol inside ``exp``, where float64 itself overflows), with both signs
where the domain allows.  Derivatives are taken by ``mpmath.diff`` and
limits by ``mpmath.limit``, so that SymPy's calculus is not its own witness.

Expressions are evaluated by :func:`value`, a walk over the SymPy tree that
calls mpmath for each known head; no source code is generated or run.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import mpmath as mp
import numpy as np
import sympy as sp
from sympy.codegen.cfunctions import expm1, log1p

from derivreg.proof._base import DIGITS, TOLERANCE

Point = dict[sp.Basic, Any]

#: Largest magnitude drawn for a symbol that appears inside exp (float64 overflows past 709).
EXP_HUGE = 700
#: Largest magnitude drawn otherwise, and the smallest nonzero one.
HUGE, TINY = mp.mpf("1e30"), mp.mpf("1e-30")


# ---------------------------------------------------------------------------
# Points.
# ---------------------------------------------------------------------------
def edges(
    v: sp.Symbol, domain: sp.Set | None, point: Point, huge: mp.mpf, tiny: mp.mpf = TINY
) -> list[mp.mpf]:
    """Return the special values of ``v``: ends, near-ends, 0, ±tiny, ±1, ±huge, as allowed."""
    if isinstance(domain, sp.FiniteSet):
        return [value(e, point) for e in domain.args]
    if v.is_integer:
        low = 1 if v.is_positive else (0 if v.is_nonnegative else -5)
        return [mp.mpf(low), mp.mpf(low + 1), mp.mpf(10)]
    lo, hi, lo_open, hi_open = _bounds(v, domain, point)
    out = []
    for end, is_open, inward in ((lo, lo_open, 1), (hi, hi_open, -1)):
        if end is None:
            out.append(-inward * huge)
        elif is_open:
            out.append(end + inward * tiny * (1 + abs(end)))
        else:
            out.append(end)
    for c in (mp.mpf(0), tiny, -tiny, mp.mpf(1), mp.mpf(-1), mp.mpf(1) / 2):
        # Compared to 1e-8 relative, not exactly: an end computed at the
        # process's current precision can differ from ``tiny`` (made at import
        # time, perhaps at another precision) in its last bits.
        new = all(not mp.almosteq(c, o, rel_eps=1e-8, abs_eps=0) for o in out)
        if _inside(c, lo, hi, lo_open, hi_open) and new:
            out.append(c)
    if v.is_nonzero or (domain is not None and domain.contains(0) is sp.false):
        out = [c for c in out if c != 0]
    return out


def draw(
    v: sp.Symbol,
    domain: sp.Set | None,
    point: Point,
    rng: np.random.Generator,
    *,
    huge: mp.mpf = HUGE,
    tiny: mp.mpf = TINY,
) -> mp.mpf:
    """One random value of ``v`` from its domain (its assumptions if no domain)."""
    if isinstance(domain, sp.FiniteSet):
        return value(domain.args[rng.integers(len(domain.args))], point)
    if v.is_integer:
        low = 1 if v.is_positive else (0 if v.is_nonnegative else -5)
        return mp.mpf(int(rng.integers(low, 6)))
    lo, hi, _, _ = _bounds(v, domain, point)
    if lo is not None and hi is not None:
        return lo + (hi - lo) * mp.mpf(rng.uniform(1e-9, 1 - 1e-9))
    # Mostly moderate magnitudes; one in four anywhere from tiny to huge.
    if rng.random() < 0.75:
        magnitude = mp.exp(mp.mpf(rng.uniform(-4, 4)))
    else:
        magnitude = mp.exp(mp.mpf(rng.uniform(float(mp.log(tiny)), float(mp.log(huge)))))
    if lo is not None:
        return lo + magnitude
    if hi is not None:
        return hi - magnitude
    return magnitude if rng.random() < 0.5 else -magnitude


def _bounds(
    v: sp.Symbol, domain: sp.Set | None, point: Mapping[sp.Basic, Any]
) -> tuple[mp.mpf | None, mp.mpf | None, bool, bool]:
    """Numeric ends of ``v``'s interval (None if unbounded) and whether each is open."""
    lo = hi = None
    lo_open = hi_open = True
    if v.is_nonnegative:
        lo, lo_open = mp.mpf(0), bool(v.is_positive)
    if v.is_nonpositive:
        hi, hi_open = mp.mpf(0), bool(v.is_negative)
    if isinstance(domain, sp.Interval):
        if domain.start.is_finite:
            start = value(domain.start, point)
            if lo is None or start >= lo:
                lo, lo_open = start, bool(domain.left_open) or (start == lo and lo_open)
        if domain.end.is_finite:
            end = value(domain.end, point)
            if hi is None or end <= hi:
                hi, hi_open = end, bool(domain.right_open) or (end == hi and hi_open)
    return lo, hi, lo_open, hi_open


def _inside(c: mp.mpf, lo: object, hi: object, lo_open: bool, hi_open: bool) -> bool:
    above = lo is None or c > lo or (c == lo and not lo_open)
    below = hi is None or c < hi or (c == hi and not hi_open)
    return above and below


# ---------------------------------------------------------------------------
# Values.
# ---------------------------------------------------------------------------
_FUNCTIONS: dict[type, Callable[..., Any]] = {
    sp.exp: mp.exp,
    sp.log: mp.log,
    log1p: mp.log1p,
    expm1: mp.expm1,
    sp.Abs: abs,
    sp.sin: mp.sin,
    sp.cos: mp.cos,
    sp.sinh: mp.sinh,
    sp.cosh: mp.cosh,
    sp.tanh: mp.tanh,
    sp.loggamma: mp.loggamma,
    sp.sqrt: mp.sqrt,
    sp.sign: mp.sign,
    sp.floor: mp.floor,
    sp.ceiling: mp.ceil,
}
_CONSTANTS = {sp.pi: lambda: +mp.pi, sp.E: lambda: mp.e, sp.oo: lambda: mp.inf}
_RELATIONAL: dict[type, Callable[[Any, Any], bool]] = {
    sp.StrictLessThan: lambda a, b: a < b,
    sp.LessThan: lambda a, b: a <= b,
    sp.StrictGreaterThan: lambda a, b: a > b,
    sp.GreaterThan: lambda a, b: a >= b,
    sp.Equality: lambda a, b: a == b,
    sp.Unequality: lambda a, b: a != b,
}


def value(expr: sp.Basic, point: Mapping[sp.Basic, Any]) -> Any:  # noqa: PLR0911
    """Evaluate ``expr`` at ``point`` with mpmath at the current precision.

    A walk over the expression tree (no generated code); derivatives by
    ``mpmath.diff``, limits by ``mpmath.limit``.  The heads of ``_FUNCTIONS`` are enough for
    the proofs; any other raises ``TypeError`` (and the step fails).

    Examples
    --------
    >>> x = sp.Symbol("x")
    >>> value(sp.exp(x) + sp.Rational(1, 2), {x: mp.mpf(0)})
    mpf('1.5')
    """
    if expr in point:
        return point[expr]
    if isinstance(expr, sp.Rational):
        return mp.mpf(expr.p) / expr.q
    if isinstance(expr, sp.Float):
        return mp.mpf(expr)
    if expr is sp.S.ImaginaryUnit:
        return mp.mpc(0, 1)
    for k, make in _CONSTANTS.items():
        if expr == k:
            return make()
    if expr is sp.true or expr is sp.false:
        return bool(expr)
    if isinstance(expr, sp.Derivative | sp.Subs | sp.Limit):
        return _special(expr, point)
    args = expr.args
    if isinstance(expr, sp.Add):
        return mp.fsum(value(a, point) for a in args)
    if isinstance(expr, sp.Mul):
        out = mp.mpf(1)
        for a in args:
            out *= value(a, point)
        return out
    if isinstance(expr, sp.Pow):
        base, power = value(args[0], point), value(args[1], point)
        if args[1].is_Integer:
            return base ** int(args[1])
        return mp.power(base, power)
    if isinstance(expr, sp.UnevaluatedExpr):
        return value(args[0], point)
    return _value_other(expr, point)


def _value_other(expr: sp.Basic, point: Mapping[sp.Basic, Any]) -> Any:
    args = expr.args
    if type(expr) in _FUNCTIONS:
        return _FUNCTIONS[type(expr)](*(value(a, point) for a in args))
    if isinstance(expr, sp.Max | sp.Min):
        pick = max if isinstance(expr, sp.Max) else min
        return pick(value(a, point) for a in args)
    if isinstance(expr, sp.Piecewise):
        for e, cond in args:
            if value(cond, point):
                return value(e, point)
        raise ValueError(f"no piece of {expr} applies")
    if type(expr) in _RELATIONAL:
        return _RELATIONAL[type(expr)](value(args[0], point), value(args[1], point))
    if isinstance(expr, sp.And | sp.Or | sp.Not):
        parts = [bool(value(a, point)) for a in args]
        return (
            all(parts)
            if isinstance(expr, sp.And)
            else any(parts)
            if isinstance(expr, sp.Or)
            else not parts[0]
        )
    if isinstance(expr, sp.Heaviside):
        v = value(args[0], point)
        return mp.mpf(1) if v > 0 else (mp.mpf(0) if v < 0 else value(args[1], point))
    if isinstance(expr, sp.Symbol):
        raise KeyError(f"no value for {expr}")
    raise TypeError(f"the witness cannot evaluate {type(expr).__name__}")


def _special(atom: sp.Basic, point: Mapping[sp.Basic, Any]) -> Any:
    if isinstance(atom, sp.Subs):
        inner = dict(point)
        for v, e in zip(atom.variables, atom.point, strict=True):
            inner[v] = value(e, point)
        return value(atom.expr, inner)
    if isinstance(atom, sp.Limit):
        body, v, target = atom.args[0], atom.args[1], atom.args[2]
        where = (
            mp.inf if target is sp.oo else (-mp.inf if target is -sp.oo else value(target, point))
        )
        return mp.limit(lambda t: value(body, {**point, v: t}), where)
    variables = [v for v, _ in atom.variable_count]
    orders = [int(k) for _, k in atom.variable_count]

    def f(*values: object) -> object:
        out = value(atom.expr, {**point, **dict(zip(variables, values, strict=True))})
        if not (mp.isfinite(mp.re(out)) and mp.isfinite(mp.im(out))):
            raise ValueError(f"{atom.expr} is not finite near the point")
        return out

    at = [point[v] for v in variables]
    if len(variables) == 1:
        return mp.diff(f, at[0], orders[0])
    return mp.diff(f, tuple(at), tuple(orders))


def reliable(expr: sp.Basic, point: Mapping[sp.Basic, Any]) -> Any:
    """Evaluate at DIGITS, then at twice the digits, ..., until two agree.

    A textbook formula can cancel catastrophically at the witness's points
    (``log(1 - σ(z))`` at ``z = 120`` loses 52 digits); a value is accepted
    only once doubling the precision no longer changes it beyond
    :data:`~derivreg.proof.TOLERANCE`, and never if it is infinite or NaN.
    """
    tol = mp.mpf(TOLERANCE)
    previous = None
    digits = DIGITS + exp_digits(expr, point)
    top = 4 * digits + 32 * DIGITS
    while digits <= top:
        with mp.workdps(digits):
            try:
                out = value(expr, point)
            except (ValueError, ZeroDivisionError):  # e.g. log(0) inside mpmath.diff
                out = mp.nan
            out = mp.mpf(out) if isinstance(out, bool | int) else out
        finite = mp.isfinite(mp.re(out)) and mp.isfinite(mp.im(out))
        if finite and previous is not None and abs(out - previous) <= tol * (1 + abs(out)):
            return out
        previous = out if finite else None
        digits *= 2
    raise ValueError(f"no stable value up to {digits // 2} digits (last: {previous})")


def exp_digits(expr: sp.Basic, point: Mapping[sp.Basic, Any]) -> int:
    """Digits that ``exp`` terms can cancel at ``point``: 1 + exp(-a) - 1 loses a/ln 10.

    Doubling the precision does not reveal a cancellation that swallows
    every digit at both precisions (both give 0), so the witness starts
    with these digits added.
    """
    worst = mp.mpf(0)
    with mp.workdps(15):
        for e in expr.atoms(sp.exp):
            try:
                worst = max(worst, abs(mp.re(value(e.args[0], point))))
            except (KeyError, ValueError, TypeError, ZeroDivisionError, OverflowError):
                continue  # an argument with a bound variable (Subs, Limit): no estimate
    return int(worst / mp.log(10)) + 10 if worst > 10 else 0
