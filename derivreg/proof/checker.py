"""Checking a theorem: every step twice, its cases, singular points, citations, statement.

Every step is checked by SymPy, then by mpmath; then the coverage of its
cases, the singular points of its expressions and its citation; last, the
theorem's statement against what its chains conclude.

Each check names the gap it finds in :attr:`ProofError.detail`:
``"repeats the line before it"``, ``"uncited fact"``, ``"symbolic check
failed"``, ``"uncovered case"``, ``"singular point"``, ``"numeric check
failed"``, ``"statement mismatch"`` or ``"external check failed"``.
"""

from __future__ import annotations

import zlib
from collections.abc import Mapping, Sequence

import mpmath as mp
import numpy as np
import sympy as sp

from derivreg.proof import algebra, facts, witness
from derivreg.proof._base import ASSUMPTIONS, DIGITS, TOLERANCE, ProofError, Step, evaluated, free
from derivreg.proof.display import relation_text
from derivreg.proof.sampling import disagree, witness_points
from derivreg.proof.theorem import RELATION_OF, Theorem
from derivreg.rendering import text


def check(thm: Theorem) -> None:
    """Check ``thm`` (see :meth:`Theorem.check`); statuses are recorded on its steps."""
    number = 0
    for i, step in enumerate(thm.steps):
        if step.kind == "start":
            step.status = "start"
            continue
        number += 1
        try:
            step.status = f"checked: {_step(thm, number, i, step)}"
        except ProofError:
            step.status = "FAILED"
            raise
    _statement(thm)


def _step(thm: Theorem, n: int, index: int, s: Step) -> str:
    if s.kind == "external":
        return _external(thm, n, s)
    _not_repeated(thm, n, s)
    symbolic = _symbolic(thm, n, s)
    if s.cases:
        _covered(thm, n, s)
    _no_singular_point(thm, n, index, s)
    count = _numeric(thm, n, index, s)
    return f"{symbolic}; numeric at {count} point{'s' if count != 1 else ''}"


def fail(thm: Theorem, n: int, s: Step | None, residual: object, detail: str) -> ProofError:
    """Return the error for step ``n`` of ``thm`` (``s`` None: the theorem as a whole)."""
    return ProofError(
        thm.name,
        n,
        reason=s.reason if s is not None else thm.summary,
        before=s.before if s is not None else "",
        after=s.after if s is not None else "",
        residual=residual,
        detail=detail,
    )


def _external(thm: Theorem, n: int, s: Step) -> str:
    if s.run is None:  # pragma: no cover - external() always sets it
        raise TypeError("an external step needs a procedure")
    try:
        return s.run()
    except (AssertionError, ValueError) as err:
        first = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        raise fail(thm, n, s, str(err), f"external check failed: {first}") from None


def _not_repeated(thm: Theorem, n: int, s: Step) -> None:
    if s.kind != "step":
        return
    same = text(s.after) == text(s.before)
    if same and not s.restate:
        raise fail(thm, n, s, text(s.after), "repeats the line before it (restate=True if meant)")


def _symbolic(thm: Theorem, n: int, s: Step) -> str:
    if s.cite:
        try:
            facts.fact(s.cite)
        except KeyError as err:
            raise fail(thm, n, s, err.args[0], "uncited fact") from None
        return f"cited ({s.cite})"
    if s.kind == "solve":
        found = sp.solveset(evaluated(thm.expand(s.before)), s.var, sp.S.Reals)
        if not algebra.same_set(found, s.after):
            raise fail(thm, n, s, found, "symbolic check failed (solveset finds another set)")
        return "solveset"
    after = evaluated(s.after)
    if s.by:
        candidates = _apply(thm, n, s)
        exact = [c for c in candidates if c == after]
        candidates = exact or candidates[:4]
    else:
        candidates = [evaluated(s.before)]
    for k, before in enumerate(candidates):
        failure = _cases_hold(thm, n, s, before)
        if failure is None:
            break
        if k == len(candidates) - 1:
            raise failure
    how = [f"by {t.name}" for t, _ in s.by]
    if s.cases:
        how.append("cases " + "; ".join(c.label for c in s.cases))
    if s.certificate is not None:
        how.append("certificate")
    if s.nonzero:
        how.append("where " + ", ".join(f"{text(f)} ≠ 0" for f in s.nonzero))
    default = {"=": "simplifies to 0", "≠": "nonzero difference"}.get(s.relation, "sign")
    return ", ".join(how) or default


def _cases_hold(thm: Theorem, n: int, s: Step, before: sp.Basic) -> ProofError | None:
    """``None`` if ``before relation after`` holds in every case, else the failure."""
    cert = s.certificate
    for case in s.cases or (None,):
        b, a, c = (evaluated(thm.expand(e)) for e in (before, s.after, cert or sp.S.Zero))
        if case is not None:
            b, a, c = (e.subs(case.subs, simultaneous=True) for e in (b, a, c))
        ok, residual = algebra.holds(b, s.relation, a, c if cert is not None else None)
        if not ok:
            where = f" in case {case.label}" if case else ""
            return fail(thm, n, s, residual, f"symbolic check failed{where}")
    return None


def _apply(thm: Theorem, n: int, s: Step) -> list[sp.Basic]:
    """Return the previous expression with each identity of ``s.by`` applied in turn.

    An identity replaces one member of an equality it proves by another
    (any member by the last first, then the last by any member, then any
    other pair); every way that changes the expression is a candidate.
    """
    outs = [evaluated(s.before)]
    for other, at in s.by:
        other.check()
        _instance_ok(thm, n, s, other, at)
        pairs = []
        for members in other.equalities():
            chain = [evaluated(e.subs(at, simultaneous=True) if at else e) for e in members]
            last = chain[-1]
            pairs += [(m, last) for m in chain[:-1]] + [(last, m) for m in chain[:-1]]
            pairs += [(a, c) for a in chain[:-1] for c in chain[:-1] if a != c]
        found: list[sp.Basic] = []
        for out in outs:
            for old, new in pairs:
                replaced = out.xreplace({old: new})
                if replaced == out and (old.is_Add or old.is_Mul):
                    replaced = out.subs(old, new)  # a sum or product inside a larger one
                if replaced != out and replaced not in found:
                    found.append(replaced)
        if not found:
            raise fail(
                thm, n, s, f"no side of {other.name} occurs", "symbolic check failed (by identity)"
            )
        outs = found[:64]
    return outs


def _instance_ok(thm: Theorem, n: int, s: Step, other: Theorem, at: Mapping) -> None:
    for v, e in at.items():
        for a in ASSUMPTIONS:
            if v.assumptions0.get(a) and getattr(e, f"is_{a}") is not True:
                raise fail(thm, n, s, f"{v} -> {e} is not known {a}", "bad instance")
    for v, domain in other.where.items():
        e = at.get(v, v)
        inside = (
            domain.contains(e) is sp.true
            if e.is_number
            else thm.where.get(e, sp.S.Reals).is_subset(domain)
        )
        if not inside:
            raise fail(thm, n, s, f"{v} -> {e} outside {domain}", "bad instance")


def _symbols_of(thm: Theorem, s: Step) -> set[sp.Basic]:
    exprs = [s.before, s.after] + ([s.certificate] if s.certificate is not None else [])
    return set().union(*(free(evaluated(thm.expand(e))) for e in exprs)) | set(thm.where)


def _covered(thm: Theorem, n: int, s: Step) -> None:
    """Refuse a step whose cases do not cover the domain of the symbols they split."""
    try:
        split, rest = algebra.uncovered(s.cases, _symbols_of(thm, s), thm.where)
    except ValueError as err:
        raise fail(thm, n, s, str(err), "uncovered case (the cases' values are unknown)") from None
    if rest != sp.S.EmptySet:
        names = ", ".join(text(v) for v in split)
        raise fail(thm, n, s, f"({names}) ∈ {rest} is in no case", "uncovered case")


def _denominators(expr: sp.Basic) -> list[sp.Basic]:
    if isinstance(expr, sp.MatrixBase):
        return [d for e in expr for d in _denominators(e)]
    out = []
    for sub in sp.preorder_traversal(expr):
        negative = isinstance(sub, sp.Pow) and sub.exp.is_negative
        if negative and sub.base.free_symbols and sub.base not in out:
            out.append(sub.base)
    return out


def _no_singular_point(thm: Theorem, n: int, index: int, s: Step) -> None:
    """No denominator of the step vanishes in the domain, unless the step declares it nonzero.

    For each denominator polynomial in one of its symbols, its roots in that
    symbol are evaluated at random points of the others (and their edges);
    a root inside the symbol's domain is a point where the step, as written,
    is undefined: an unguarded cancellation.
    """
    rng = np.random.default_rng(zlib.crc32(f"{thm.name}#{index}#singular".encode()))
    written = [thm.expand(e) for e in (s.before, s.after) if isinstance(e, sp.Basic)]
    # As written and evaluated: evaluation may cancel the very factor a step divides by.
    exprs = written + [evaluated(e) for e in written]
    if s.kind == "solve":
        return
    guards = [evaluated(thm.expand(f)) for f in s.nonzero]
    for d in {d for e in exprs for d in _denominators(e)}:
        for v in sorted(d.free_symbols, key=str):
            for root in _roots(d, v):
                at = _root_in_domain(thm, v, root, guards, rng)
                if at is not None:
                    raise fail(
                        thm, n, s, f"{text(d)} = 0 at {at}, inside the domain", "singular point"
                    )


def _roots(d: sp.Basic, v: sp.Symbol) -> list[sp.Basic]:
    """Return the real zeros of ``d`` in ``v`` that the checker can find.

    A polynomial's roots (degree <= 4), or, for a transcendental ``d`` of
    ``v`` alone, a finite ``solveset`` over the reals.  Other denominators
    (transcendental in several symbols) are left to the random and edge
    points of the numeric witness.
    """
    if not v.is_real:
        return []
    if d.is_polynomial(v):
        return list(sp.solve(d, v)) if 1 <= sp.degree(d, v) <= 4 else []
    if d.free_symbols == {v}:
        found = sp.solveset(d, v, sp.S.Reals)
        if isinstance(found, sp.FiniteSet):
            return list(found)
    return []


def _root_in_domain(
    thm: Theorem, v: sp.Symbol, root: sp.Basic, guards: Sequence[sp.Basic], rng: np.random.Generator
) -> str | None:
    with mp.workdps(DIGITS):
        for point in witness_points(thm, [root], 3, rng) or [{}]:
            try:
                r = witness.value(root, point)
            except (ValueError, TypeError, KeyError, ZeroDivisionError):
                continue
            if abs(mp.im(r)) > mp.mpf(TOLERANCE) * (1 + abs(r)):
                continue
            at = {**point, v: mp.re(r)}
            if not _in_domain(thm, v, at):
                continue
            if any(abs(witness.value(g, at)) <= mp.mpf(TOLERANCE) for g in guards):
                continue  # the step says it holds only where this factor is nonzero
            return ", ".join(f"{k} = {mp.nstr(x, 8)}" for k, x in sorted(at.items(), key=str))
    return None


def _in_domain(thm: Theorem, v: sp.Symbol, point: Mapping) -> bool:
    x = point[v]
    lo, hi, lo_open, hi_open = witness._bounds(v, thm.where.get(v), point)
    if v.is_nonzero and x == 0:
        return False
    dom = thm.where.get(v)
    if isinstance(dom, sp.FiniteSet):
        return any(abs(x - witness.value(e, point)) <= mp.mpf(TOLERANCE) for e in dom.args)
    return witness._inside(x, lo, hi, lo_open, hi_open)


def _guarded(guards: Sequence[sp.Basic], point: Mapping) -> bool:
    for g in guards:
        try:
            if abs(witness.value(g, point)) <= mp.mpf(TOLERANCE):
                return True
        except (KeyError, ValueError, TypeError, ZeroDivisionError):
            continue
    return False


def _numeric(thm: Theorem, n: int, index: int, s: Step) -> int:
    rng = np.random.default_rng(zlib.crc32(f"{thm.name}#{index}".encode()))
    exprs = [evaluated(thm.expand(e)) for e in (s.before, s.after)]
    guards = [evaluated(thm.expand(f)) for f in s.nonzero]
    count = 0
    with mp.workdps(DIGITS):
        for case, k in [(None, thm.points)] + [(c, 4) for c in s.cases]:
            b, a = exprs
            if case is not None:
                b, a = (e.subs(case.subs, simultaneous=True) for e in (b, a))
            constant = not (free(b) | free(a)) and s.var is None
            points = [{}] if constant else witness_points(thm, [b, a], k, rng, extra=s.var)
            for point in points:
                if _guarded(guards, point):
                    continue  # the step holds only where its declared factors are nonzero
                bad = disagree(b, s.relation, a, point, var=s.var, rng=rng)
                if bad is not None:
                    where = f" in case {case.label}" if case else ""
                    at = ", ".join(f"{v} = {mp.nstr(x, 8)}" for v, x in point.items())
                    raise fail(
                        thm, n, s, f"{bad} at {at or 'the point'}", f"numeric check failed{where}"
                    )
                count += 1
    return count


# ---------------------------------------------------------------------------
# The statement.
# ---------------------------------------------------------------------------
_FLIP = {"≥": "≤", ">": "<"}
_PROVES = {"=": {"=", "≤"}, "<": {"<", "≤"}, "≤": {"≤"}, "≠": {"≠"}}


def _normal(lhs: sp.Basic, rel: str, rhs: sp.Basic) -> tuple[sp.Basic, str, sp.Basic]:
    return (rhs, _FLIP[rel], lhs) if rel in _FLIP else (lhs, rel, rhs)


def _same(thm: Theorem, a: sp.Basic, b: sp.Basic) -> bool:
    if a == b:
        return True
    if isinstance(a, sp.Set) or isinstance(b, sp.Set):
        return False
    if getattr(a, "shape", ()) != getattr(b, "shape", ()):  # a matrix is never a scalar
        return False
    return algebra.zero(evaluated(thm.expand(a)) - evaluated(thm.expand(b)))[0]


def _concludes(thm: Theorem, claim: sp.Basic) -> bool:
    want = _normal(claim.lhs, RELATION_OF[type(claim)], claim.rhs)
    for lhs, rel, rhs in thm.conclusions:
        got = _normal(lhs, rel, rhs)
        strong = want[1] in _PROVES[got[1]]
        sides = [(got[0], got[2])] + ([(got[2], got[0])] if got[1] in ("=", "≠") else [])
        if strong and any(
            _same(thm, want[0], left) and _same(thm, want[2], right) for left, right in sides
        ):
            return True
    return False


def _statement(thm: Theorem) -> None:
    """Each relation of the statement is concluded by a chain or claim."""
    for k, claim in enumerate(thm.statement, 1):
        if type(claim) not in RELATION_OF:
            raise fail(
                thm,
                0,
                None,
                claim,
                f"statement mismatch: item {k} is not a relation "
                "(SymPy may have decided it when it was built; use evaluate=False)",
            )
        if not _concludes(thm, claim):
            shown = "; ".join(f"{text(a)} {r} {text(c)}" for a, r, c in thm.conclusions)
            raise fail(
                thm,
                0,
                None,
                f"the steps conclude: {shown}",
                f"statement mismatch: no chain or claim concludes {relation_text(claim)}",
            )
