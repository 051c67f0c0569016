"""The symbolic side of the checker: zero tests, signs, sets and case coverage."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

import sympy as sp

from derivreg.proof._base import Case


def _expand_log(e: sp.Basic) -> sp.Basic:
    return sp.simplify(sp.expand_log(sp.expand_func(e)))


_SIMPLIFIERS: tuple[Callable[[sp.Basic], sp.Basic], ...] = (
    lambda e: sp.cancel(sp.together(e)),
    sp.expand,
    sp.simplify,
    _expand_log,
    lambda e: sp.simplify(sp.expand_func(e).rewrite(sp.exp)),
    lambda e: sp.simplify(sp.logcombine(sp.expand_func(e))),
)
_FAILURES = (TypeError, ValueError, NotImplementedError, sp.PolynomialError)


def _exponent(e: sp.Basic) -> sp.Basic | None:
    """``u`` where ``e`` is ``exp(u)`` or a positive number ``exp(log e)``, else None."""
    if isinstance(e, sp.exp):
        return e.args[0]
    if e.is_number and e.is_extended_real and e.is_positive:
        return sp.log(e)
    return None


def _settled(node: sp.Basic) -> sp.Basic:
    a, b = node.args
    ua, ub = _exponent(a), _exponent(b)
    if ua is None or ub is None:
        return node
    gap = sp.simplify(ua - ub)  # exp is increasing: exp(ua) >= exp(ub) iff ua >= ub
    larger = a if gap.is_nonnegative else b if gap.is_nonpositive else None
    if larger is None:
        return node
    smaller = b if larger is a else a
    return larger if isinstance(node, sp.Max) else smaller


def settle_extrema(expr: sp.Basic) -> sp.Basic:
    """Decide ``Max``/``Min`` of two exponentials (or positive numbers) by their exponents.

    SymPy leaves ``Max(1, exp(-t))`` alone even for a positive ``t``; ``exp``
    is increasing, so the larger is the one of larger exponent (``1`` is
    ``exp(0)``), which needs only the sign of the exponents' difference.
    Anything undecided is left as it is.

    Examples
    --------
    >>> t = sp.Symbol("t", positive=True)
    >>> settle_extrema(sp.Max(1, sp.exp(-t))), settle_extrema(sp.Min(1, sp.exp(t)))
    (1, 1)
    >>> settle_extrema(sp.Max(1, sp.exp(sp.Symbol("u"))))
    Max(1, exp(u))
    """
    kinds = (sp.Max, sp.Min)
    return expr.replace(lambda e: isinstance(e, kinds) and len(e.args) == 2, _settled)


def zero(expr: sp.Basic) -> tuple[bool, sp.Basic]:
    """Whether ``expr`` simplifies to 0; else its simplified form.

    Examples
    --------
    >>> x = sp.Symbol("x")
    >>> zero((x + 1) ** 2 - x**2 - 2 * x - 1)
    (True, 0)
    """
    if isinstance(expr, sp.MatrixBase):
        parts = [zero(e) for e in expr]
        return all(ok for ok, _ in parts), sp.Matrix(
            expr.shape[0], expr.shape[1], [r for _, r in parts]
        )
    expr = settle_extrema(expr.doit())
    if expr == 0:
        return True, sp.S.Zero
    best = expr
    for attempt in _SIMPLIFIERS:
        try:
            result = attempt(expr)
        except _FAILURES:
            continue
        if result == 0:
            return True, sp.S.Zero
        if attempt is sp.simplify:
            best = result
    return False, best


def signed(expr: sp.Basic, strict: bool) -> bool:
    """Whether SymPy's assumptions show ``expr > 0`` (strict) or ``expr >= 0``."""
    expr = expr.doit()
    for attempt in (lambda e: e, sp.factor, sp.simplify, lambda e: sp.factor(sp.simplify(e))):
        try:
            out = attempt(expr)
        except _FAILURES:
            continue
        if (out.is_positive if strict else out.is_nonnegative) is True:
            return True
    return False


def holds(
    before: sp.Basic, relation: str, after: sp.Basic, certificate: sp.Basic | None
) -> tuple[bool, sp.Basic]:
    """Symbolic check of ``before relation after``; returns (ok, residual).

    Examples
    --------
    >>> x = sp.Symbol("x", real=True)
    >>> holds(x**2, "≤", x**2 + 1, None)
    (True, 1)
    """
    if relation == "=":
        return zero(after - before)
    if relation == "≠":
        ok, residual = zero(after - before)
        return (not ok and residual.is_zero is False), residual
    gap = after - before if relation in ("≤", "<") else before - after
    if certificate is not None:
        ok, residual = zero(gap - certificate)
        if not ok:
            return False, residual
        gap = certificate
    if signed(gap, strict=relation in ("<", ">")):
        return True, gap
    return False, sp.simplify(gap)


def same_set(a: sp.Set, b: sp.Set) -> bool:
    """Whether two sets are equal (SymPy shows both differences empty).

    Examples
    --------
    >>> same_set(sp.Interval(0, 1) | sp.Interval(1, 2), sp.Interval(0, 2))
    True
    """
    if a == b:
        return True
    try:
        return sp.Complement(a, b) == sp.S.EmptySet and sp.Complement(b, a) == sp.S.EmptySet
    except _FAILURES:
        return False


# ---------------------------------------------------------------------------
# Domains and the coverage of case splits.
# ---------------------------------------------------------------------------
def assumed_set(v: sp.Symbol) -> sp.Set:
    """Return the set a symbol's assumptions allow (the reals for a plain real symbol).

    Examples
    --------
    >>> assumed_set(sp.Symbol("p", positive=True))
    Interval.open(0, oo)
    """
    if v.is_integer:
        base: sp.Set = sp.S.Integers
    elif v.is_real:
        base = sp.S.Reals
    else:
        raise ValueError(f"{v} is not real: a case split needs a real symbol")
    for flag, part in (
        ("positive", sp.Interval.open(0, sp.oo)),
        ("negative", sp.Interval.open(-sp.oo, 0)),
        ("nonnegative", sp.Interval(0, sp.oo)),
        ("nonpositive", sp.Interval(-sp.oo, 0)),
    ):
        if v.assumptions0.get(flag):
            base = sp.Intersection(base, part)
    if v.assumptions0.get("nonzero") or v.assumptions0.get("zero") is False:
        base = sp.Complement(base, sp.FiniteSet(0))
    return base


def domain_of(v: sp.Symbol, where: Mapping[sp.Symbol, sp.Set]) -> sp.Set:
    """Return a symbol's assumptions narrowed by the theorem's ``where``."""
    base = assumed_set(v)
    return sp.Intersection(base, where[v]) if v in where else base


def image(expr: sp.Basic, fixed: set[sp.Basic], where: Mapping[sp.Symbol, sp.Set]) -> sp.Set:
    """Return the values ``expr`` takes as its one parameter ranges over its domain.

    The parameter is the free symbol of ``expr`` not in ``fixed`` (the
    theorem's own symbols, held fixed).  A constant gives a point; else
    SymPy's image set, or, for a function monotone in the parameter (its
    derivative has a sign), the interval between its values at the
    domain's ends.  Anything else raises ``ValueError``: the coverage of
    the cases cannot be shown.

    Examples
    --------
    >>> u, s = sp.Symbol("u", nonnegative=True), sp.Symbol("s", positive=True)
    >>> image(8 / (s * (1 + u)), {s}, {})
    Interval.Lopen(0, 8/s)
    """
    params = sorted(expr.free_symbols - fixed, key=str)
    if not params:
        return sp.FiniteSet(expr)
    if len(params) != 1:
        raise ValueError(f"a case value must depend on one parameter, {expr} has {params}")
    (u,) = params
    dom = domain_of(u, where)
    found = sp.imageset(sp.Lambda(u, expr), dom)
    if isinstance(found, sp.Interval | sp.FiniteSet | sp.Union) and not found.has(u):
        return found
    return _monotone_image(expr, u, dom)


def _monotone_image(expr: sp.Basic, u: sp.Symbol, dom: sp.Set) -> sp.Set:
    if not isinstance(dom, sp.Interval):
        raise ValueError(f"cannot compute the values of {expr} over {dom}")
    slope = sp.diff(expr, u)
    if signed(slope, strict=True):
        increasing = True
    elif signed(-slope, strict=True):
        increasing = False
    else:
        raise ValueError(f"{expr} is not shown monotone in {u}: its case's values are unknown")
    ends = []
    for end, is_open in ((dom.start, dom.left_open), (dom.end, dom.right_open)):
        at = sp.limit(expr, u, end) if end.is_infinite else expr.subs(u, end)
        ends.append((sp.simplify(at), bool(is_open) or end.is_infinite))
    (lo, lo_open), (hi, hi_open) = ends if increasing else ends[::-1]
    return sp.Interval(lo, hi, lo_open, hi_open)


def uncovered(
    cases: Sequence[Case], fixed: set[sp.Basic], where: Mapping[sp.Symbol, sp.Set]
) -> tuple[tuple[sp.Symbol, ...], sp.Set]:
    """Return the part of the split symbols' domain no case covers (``EmptySet`` if none).

    ``fixed`` are the theorem's symbols (held fixed); each case's value
    depends on one fresh parameter.  Each case is the product of the sets
    its substitutions take (a symbol it leaves alone takes its whole
    domain).  Raises ``ValueError`` when a
    case's values cannot be computed, or two of its symbols share a
    parameter (their values would be tied, not a product).

    Examples
    --------
    >>> from derivreg.proof import sign_cases
    >>> z = sp.Symbol("z", real=True)
    >>> uncovered(sign_cases(z), {z}, {})
    ((z,), EmptySet)
    >>> uncovered(sign_cases(z)[:2], {z}, {})
    ((z,), {0})
    """
    split = tuple(sorted({v for c in cases for v in c.subs}, key=str))
    whole = [domain_of(v, where) for v in split]
    pieces = []
    for case in cases:
        seen: set[sp.Basic] = set()
        sets = []
        for v, full in zip(split, whole, strict=True):
            if v not in case.subs:
                sets.append(full)
                continue
            e = case.subs[v]
            if e.free_symbols & seen:
                raise ValueError(f"case {case.label!r} ties two symbols to one parameter")
            seen |= e.free_symbols
            sets.append(sp.Intersection(image(e, fixed, where), full))
        pieces.append(sets[0] if len(sets) == 1 else sp.ProductSet(*sets))
    total = whole[0] if len(whole) == 1 else sp.ProductSet(*whole)
    return split, sp.Complement(total, sp.Union(*pieces))
