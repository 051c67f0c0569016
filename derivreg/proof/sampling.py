"""Where the witness looks: points over the whole domain of a step, and what disagrees there."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from functools import partial
from typing import TYPE_CHECKING, Any

import mpmath as mp
import numpy as np
import sympy as sp

from derivreg.proof._base import TOLERANCE, free
from derivreg.proof.witness import EXP_HUGE, HUGE, TINY, draw, edges, reliable, value

if TYPE_CHECKING:  # pragma: no cover
    from derivreg.proof.theorem import Theorem


def _scale(v: sp.Symbol, exprs: Sequence[sp.Basic]) -> tuple[mp.mpf, mp.mpf]:
    """Return the largest and smallest nonzero magnitudes to try for ``v``.

    1e30 and 1e-30; 700 for the largest inside exp or a derivative (float64
    overflows past 709); 10 and 0.1 inside a limit, which ``mpmath.limit``
    extrapolates from a sequence that converges too slowly beyond them.
    """
    huge, tiny = HUGE, TINY
    for e in exprs:
        for part in e if isinstance(e, sp.MatrixBase) else [e]:
            if any(v in a.free_symbols for a in part.atoms(sp.Limit)):
                return mp.mpf(10), mp.mpf("0.1")
            inner = [a.args[0] for a in part.atoms(sp.exp)]
            inner += list(part.atoms(sp.Derivative, sp.Subs))
            if any(v in a.free_symbols for a in inner):
                huge = mp.mpf(EXP_HUGE)
    return huge, tiny


def _exp_arguments(exprs: Sequence[sp.Basic]) -> list[sp.Basic]:
    out = []
    for e in exprs:
        for part in e if isinstance(e, sp.MatrixBase) else [e]:
            out += [a.args[0] for a in part.atoms(sp.exp) if not a.has(sp.Dummy)]
    return out


def _within(arguments: Sequence[sp.Basic], point: Mapping[sp.Basic, Any]) -> bool:
    with mp.workdps(15):
        for a in arguments:
            try:
                if abs(value(a, point)) > 800:
                    return False
            except (KeyError, ValueError, TypeError, ZeroDivisionError):
                continue  # a bound variable (inside Subs or Limit): no estimate
    return True


def _order(thm: Theorem, exprs: Sequence[sp.Basic], extra: sp.Symbol | None) -> list[sp.Symbol]:
    """Return the symbols to draw, each after those its domain depends on."""
    todo = sorted(set().union(*(free(e) for e in exprs)) | ({extra} if extra else set()), key=str)
    needs = {v: (thm.where[v].free_symbols - {v}) if v in thm.where else set() for v in todo}
    order: list[sp.Symbol] = []
    while todo:
        ready = [v for v in todo if not needs[v] - set(order)]
        if not ready:
            missing = set().union(*(needs[v] for v in todo)) - set(order) - set(todo)
            if not missing:
                raise ValueError(f"theorem {thm.name!r}: circular domains among {todo}")
            for m in sorted(missing, key=str):
                needs[m] = (thm.where[m].free_symbols - {m}) if m in thm.where else set()
            todo += sorted(missing, key=str)
            continue
        order += ready
        todo = [v for v in todo if v not in ready]
    return order


def witness_points(
    thm: Theorem,
    exprs: Sequence[sp.Basic],
    k: int,
    rng: np.random.Generator,
    extra: sp.Symbol | None = None,
) -> list[dict[sp.Basic, Any]]:
    """Return the edges of every symbol (others at random), then ``k`` random points.

    Examples
    --------
    >>> from derivreg.proof import Theorem
    >>> x = sp.Symbol("x", positive=True)
    >>> pts = witness_points(Theorem("demo", ""), [1 / x], 2, np.random.default_rng(0))
    >>> [mp.nstr(p[x], 3) for p in pts[:-2]]  # the edges of (0, oo); then 2 random points
    ['1.0e-30', '1.0e+30', '1.0', '0.5']
    """
    order = _order(thm, exprs, extra)
    scale = {v: _scale(v, exprs) for v in order}
    out = []

    def one(fixed: sp.Symbol | None = None, index: int = 0) -> dict[sp.Basic, Any] | None:
        point: dict[sp.Basic, Any] = {}
        for v in order:
            if v == fixed:
                # The edges of v's domain where the symbols it depends on now are.
                options = edges(v, thm.where.get(v), point, *scale[v])
                if index >= len(options):
                    return None
                point[v] = options[index]
            else:
                point[v] = draw(v, thm.where.get(v), point, rng, huge=scale[v][0], tiny=scale[v][1])
        return point

    arguments = _exp_arguments(exprs)

    def tame(make: Callable[[], dict[sp.Basic, Any] | None]) -> dict[sp.Basic, Any] | None:
        # A point where some exp argument passes 800 in magnitude (a product of
        # two huge values, say) is redrawn: float64 overflows there long before.
        for _ in range(8):
            point = make()
            if point is None or _within(arguments, point):
                return point
        return None

    for v in order:
        for index in range(16):
            point = tame(partial(one, v, index))
            if point is not None:
                out.append(point)
            elif one(v, index) is None:
                break
    out += [p for p in (tame(one) for _ in range(k)) if p is not None]
    return out


def disagree(
    before: sp.Basic,
    relation: str,
    after: sp.Basic,
    point: Mapping[sp.Basic, Any],
    *,
    var: sp.Symbol | None,
    rng: np.random.Generator,
) -> str | None:
    """``None`` if the step holds at ``point``; else what went wrong."""
    tol = mp.mpf(TOLERANCE)
    if var is not None:
        return _disagree_set(before, var, after, point, rng)
    if isinstance(before, sp.MatrixBase) or isinstance(after, sp.MatrixBase):
        pairs = list(zip(sp.Matrix(before), sp.Matrix(after), strict=True))
    else:
        pairs = [(before, after)]
    for b_expr, a_expr in pairs:
        try:
            b, a = reliable(b_expr, point), reliable(a_expr, point)
        except (ZeroDivisionError, ValueError, TypeError, OverflowError, KeyError) as err:
            return f"cannot evaluate ({type(err).__name__}: {err})"
        scale = 1 + abs(a) + abs(b)
        if abs(mp.im(a)) > tol * scale or abs(mp.im(b)) > tol * scale:
            return f"not real: {mp.nstr(b, 8)} vs {mp.nstr(a, 8)}"
        b, a = mp.re(b), mp.re(a)
        gap = a - b if relation in ("≤", "<", "=", "≠") else b - a
        ok = {
            "=": abs(gap) <= tol * scale,
            "≠": abs(gap) > tol * scale,
            "≤": gap >= -tol * scale,
            "≥": gap >= -tol * scale,
            "<": gap > 0,
            ">": gap > 0,
        }[relation]
        if not ok:
            gap_text = mp.nstr(a - b, 5)
            return f"{mp.nstr(b, 12)} {relation} {mp.nstr(a, 12)} fails (difference {gap_text})"
    return None


_TRUTH = {
    "==": lambda a, b: a == b,
    "<=": lambda a, b: a <= b,
    "<": lambda a, b: a < b,
    ">=": lambda a, b: a >= b,
    ">": lambda a, b: a > b,
    "!=": lambda a, b: a != b,
}


def _disagree_set(
    relation: sp.Basic,
    var: sp.Symbol,
    solution: sp.Set,
    point: Mapping[sp.Basic, Any],
    rng: np.random.Generator,
) -> str | None:
    """Compare ``relation`` with membership in ``solution`` near its ends too."""
    candidates = [point[var]]
    for end in _ends(solution):
        e = value(end, point)
        delta = mp.mpf("1e-6") * (1 + abs(e))
        candidates += [e - delta, e + delta, e + delta * mp.mpf(rng.uniform(2, 1e6))]
    for v in candidates:
        at = {**point, var: v}
        lhs, rhs = reliable(relation.lhs, at), reliable(relation.rhs, at)
        truth = bool(_TRUTH[relation.rel_op](lhs, rhs))
        if truth != _member(solution, v, point):
            return f"{var} = {mp.nstr(v, 10)}: relation is {truth}, membership is {not truth}"
    return None


def _ends(s: sp.Set) -> list[sp.Basic]:
    if isinstance(s, sp.Interval):
        return [e for e in (s.start, s.end) if e.is_finite]
    if isinstance(s, sp.Union):
        return [e for part in s.args for e in _ends(part)]
    if isinstance(s, sp.FiniteSet):
        return list(s.args)
    return []


def _member(s: sp.Set, v: mp.mpf, point: Mapping[sp.Basic, Any]) -> bool:
    if s == sp.S.Reals:
        return True
    if s == sp.S.EmptySet:
        return False
    if isinstance(s, sp.Union):
        return any(_member(p, v, point) for p in s.args)
    if isinstance(s, sp.FiniteSet):
        return any(abs(v - value(e, point)) <= mp.mpf(TOLERANCE) for e in s.args)
    if isinstance(s, sp.Interval):
        lo = value(s.start, point) if s.start.is_finite else -mp.inf
        hi = value(s.end, point) if s.end.is_finite else mp.inf
        above = lo < v or (lo == v and not s.left_open)
        below = v < hi or (v == hi and not s.right_open)
        return above and below
    raise TypeError(f"cannot test membership in {s}")
