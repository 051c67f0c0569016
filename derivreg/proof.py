"""Calculational proofs, each step checked by SymPy and again by mpmath.

A :class:`Theorem` has a name, a statement, assumptions and one or more
chains ``e0 R1 e1 R2 e2 ...`` whose relations ``R`` are ``=``, ``≤``, ``<``,
``≥`` or ``>``; it may also state standalone claims (``a R b``, including
``≠``) and solution sets (``{v : relation} = S``).  Every step is checked
twice, and both checks must pass:

* **Symbolic.**  For ``=`` the difference of the two sides simplifies to 0;
  for an inequality the difference is nonnegative (positive if strict) by
  SymPy's assumptions, optionally after it is shown equal to a given
  ``certificate`` whose sign SymPy can see (a sum of squares, say).  A step
  may split into :class:`Case` s (:func:`sign_cases` splits a real symbol
  into ``> 0``, ``< 0`` and ``= 0``); it must hold in each.  It may apply a
  proven identity (``by=``): one member of an equality chain of another
  (checked) theorem, instantiated, is replaced by another member in the
  previous expression before the comparison.  A
  solution-set step compares :func:`sympy.solveset` with the stated set.
  A step whose symbolic part is a standard theorem of calculus (Taylor's,
  say) may ``cite`` it instead; it is then reported as cited.
* **Numeric.**  Both sides are evaluated with mpmath at :data:`DIGITS`
  digits at seeded random points of the domain and of every case
  (derivatives by ``mpmath.diff``, limits by ``mpmath.limit``, so that
  SymPy's calculus is not its own witness), and must agree to
  :data:`TOLERANCE`, relative to ``1 + |lhs| + |rhs|``.

The domain of a symbol is its SymPy assumptions (``real``, ``positive``,
...) narrowed by ``where={symbol: set}`` (an :class:`sympy.Interval`, whose
ends may depend on other symbols, or a :class:`sympy.FiniteSet`).  The
``where`` sets restrict the numeric sampling; symbolic checks use only the
assumptions and the cases, so a step whose truth depends on an interval
encodes it as a case (e.g. ``alpha = 8/(s (1 + u))`` with ``u >= 0`` for
``0 < alpha <= 8/s``).  ``defs`` define named functions (an undefined
SymPy function mapped to a ``Lambda``): shown as written, expanded
before checking.

A failed step raises :class:`ProofError`.  Theorems render with
:func:`derivreg.rendering.render` (text, LaTeX, Markdown), one row per step
with its reason and check status.

Examples
--------
>>> import sympy as sp
>>> z = sp.Symbol("z", real=True)
>>> t = (
...     Theorem("demo.complement", "1 - σ(z) = σ(-z)")
...     .start(1 - 1 / (1 + sp.exp(-z)))
...     .eq(sp.exp(-z) / (1 + sp.exp(-z)), "common denominator")
...     .eq(1 / (1 + sp.exp(z)), "multiply by exp(z)/exp(z)")
...     .check()
... )
>>> t.conclusions[0]
(1 - 1/(1 + exp(-z)), '=', 1/(exp(z) + 1))
>>> print(t.results[1])
checked: simplifies to 0; numeric at 8 points
"""

from __future__ import annotations

import importlib.util
import itertools
import sys
import zlib
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import IO, Literal

import mpmath as mp
import numpy as np
import sympy as sp

from derivreg.rendering import Block, Row, latex, render, text

__all__ = [
    "DIGITS",
    "PROOFS_DIR",
    "TOLERANCE",
    "Case",
    "ProofError",
    "Theorem",
    "explicit",
    "families",
    "load",
    "main",
    "sign_cases",
    "verify",
]

#: Working precision of the numeric witness, in decimal digits.
DIGITS = 50
#: Relative agreement the numeric witness requires: 20 digits of the 50
#: are left for cancellation inside an expression, while a wrong step is
#: off by far more than 1e-30 at almost every point.
TOLERANCE = "1e-30"
#: Where ``proofs/`` lives in a source checkout.
PROOFS_DIR = Path(__file__).resolve().parents[1] / "proofs"

Relation = Literal["=", "≤", "<", "≥", ">", "≠"]
_RELATIONS: tuple[str, ...] = ("=", "≤", "<", "≥", ">", "≠")
_ASSUMPTIONS = ("real", "positive", "negative", "nonnegative", "nonpositive", "nonzero", "integer")


class ProofError(AssertionError):
    """A step of a theorem does not check.

    An :class:`AssertionError`, so that pytest reports a wrong proof as a
    failed assertion.  The message names the theorem, the step number
    (1-based, the start of a chain not counted), its reason, both sides and
    the residual.

    Attributes
    ----------
    theorem : str
    step : int
    before, after : sympy.Basic
        The previous expression (or a claim's left side) and the new one.
    residual : object
        What should have vanished (or had a sign): a simplified SymPy
        expression, or a number with the point it was evaluated at.

    Examples
    --------
    >>> err = ProofError(
    ...     "demo", 2, reason="algebra", before=1, after=2, residual=-1,
    ...     detail="symbolic check failed",
    ... )
    >>> str(err).splitlines()[0]
    "theorem 'demo', step 2 (algebra): symbolic check failed"
    """

    def __init__(
        self,
        theorem: str,
        step: int,
        *,
        reason: str,
        before: object,
        after: object,
        residual: object,
        detail: str,
    ) -> None:
        self.theorem, self.step, self.reason = theorem, step, reason
        self.before, self.after, self.residual = before, after, residual
        super().__init__(
            f"theorem {theorem!r}, step {step} ({reason}): {detail}\n"
            f"  before:   {_show(before)}\n"
            f"  after:    {_show(after)}\n"
            f"  residual: {_show(residual)}"
        )


@dataclass(frozen=True)
class Case:
    """One case of a case split: a label and a substitution.

    The substitutions of a step's cases must together cover the domain;
    the numeric witness also samples the whole domain, so a gap in the
    split shows up there.

    Examples
    --------
    >>> p = sp.Symbol("p", positive=True)
    >>> Case("z < 0", {sp.Symbol("z", real=True): -p}).label
    'z < 0'
    """

    label: str
    subs: Mapping[sp.Basic, sp.Basic]


def sign_cases(*symbols: sp.Symbol) -> tuple[Case, ...]:
    """Split real symbols on their signs: ``> 0``, ``< 0``, ``= 0`` (all combinations).

    Examples
    --------
    >>> z = sp.Symbol("z", real=True)
    >>> [c.label for c in sign_cases(z)]
    ['z > 0', 'z < 0', 'z = 0']
    """
    options = []
    for s in symbols:
        p = sp.Symbol(f"{s.name}_pos", positive=True)
        options.append(((f"{s.name} > 0", p), (f"{s.name} < 0", -p), (f"{s.name} = 0", 0)))
    return tuple(
        Case(
            ", ".join(label for label, _ in combo),
            {s: v for s, (_, v) in zip(symbols, combo, strict=True)},
        )
        for combo in itertools.product(*options)
    )


Identity = tuple["Theorem", Mapping[sp.Basic, sp.Basic]]


@dataclass
class _Step:
    kind: Literal["start", "step", "claim", "solve", "external"]
    before: sp.Basic
    after: sp.Basic
    relation: str
    reason: str
    cases: tuple[Case, ...] = ()
    by: tuple[Identity, ...] = ()
    certificate: sp.Basic | None = None
    cite: str = ""
    var: sp.Symbol | None = None
    run: Callable[[], str] | None = None
    status: str = "not checked"


class Theorem:
    """A named theorem with a calculational proof.

    Build it with :meth:`start` and the relation methods (each returns the
    theorem, so calls chain), then :meth:`check` it.

    Parameters
    ----------
    name : str
        Stable dotted name, e.g. ``"stability.softplus_stable_form"``.
    statement : str
        The theorem in words and symbols, for readers.
    where : mapping of symbol to set, optional
        Domains narrower than the symbols' assumptions (sampling only).
    defs : mapping, optional
        Named functions and their definitions, ``{softplus: Lambda(t, ...)}``.
    points : int, default 8
        Random points of the whole domain per step (plus 4 per case).

    Examples
    --------
    >>> x = sp.Symbol("x", real=True)
    >>> t = Theorem("demo.square", "x^2 + 1 > 0").start(x**2 + 1).gt(0, "a square plus 1")
    >>> t.check().conclusions
    [(x**2 + 1, '>', 0)]
    """

    def __init__(
        self,
        name: str,
        statement: str,
        *,
        where: Mapping[sp.Symbol, sp.Set] | None = None,
        defs: Mapping[sp.Basic, sp.Lambda] | None = None,
        points: int = 8,
    ) -> None:
        self.name, self.statement, self.points = name, statement, points
        self.where: dict[sp.Symbol, sp.Set] = dict(where or {})
        self.defs: dict[sp.Basic, sp.Lambda] = dict(defs or {})
        self.steps: list[_Step] = []
        self.checked = False

    # -- building ---------------------------------------------------------
    def start(self, expr: object, reason: str = "") -> Theorem:
        """Begin a chain at ``expr`` (a new chain if one is running)."""
        expr = _sympify(expr)
        return self._add(_Step("start", expr, expr, "", reason))

    def eq(self, expr: object, reason: str, **how: object) -> Theorem:
        """Continue the chain with ``= expr``; ``how`` as in :meth:`relate`."""
        return self.relate("=", expr, reason, **how)

    def le(self, expr: object, reason: str, **how: object) -> Theorem:
        """Continue the chain with ``≤ expr``."""
        return self.relate("≤", expr, reason, **how)

    def lt(self, expr: object, reason: str, **how: object) -> Theorem:
        """Continue the chain with ``< expr``."""
        return self.relate("<", expr, reason, **how)

    def ge(self, expr: object, reason: str, **how: object) -> Theorem:
        """Continue the chain with ``≥ expr``."""
        return self.relate("≥", expr, reason, **how)

    def gt(self, expr: object, reason: str, **how: object) -> Theorem:
        """Continue the chain with ``> expr``."""
        return self.relate(">", expr, reason, **how)

    def relate(
        self,
        relation: Relation,
        expr: object,
        reason: str,
        *,
        cases: Sequence[Case] = (),
        by: Identity | Sequence[Identity] = (),
        certificate: object = None,
        cite: str = "",
    ) -> Theorem:
        """Continue the chain: ``previous relation expr``, because ``reason``.

        Parameters
        ----------
        relation : {"=", "≤", "<", "≥", ">"}
        expr : sympy expression or Matrix
        reason : str
        cases : sequence of Case
            Check the step in each case instead of at once.
        by : (Theorem, substitution) or a sequence of them
            Proven identities to substitute into the previous expression,
            e.g. ``(softplus_thm, {t: -z})``.
        certificate : expression, optional
            For an inequality: the gap ``|after - before|`` is shown equal to
            it, and its sign is read off by SymPy's assumptions.
        cite : str
            A standard theorem replacing the symbolic check (reported).
        """
        if relation not in _RELATIONS[:5]:
            raise ValueError(f"relation must be one of = ≤ < ≥ >, got {relation!r}")
        chain = [s for s in self.steps if s.kind in ("start", "step")]
        if not chain:
            raise ValueError(f"theorem {self.name!r}: start() a chain before {relation}")
        single = isinstance(by, tuple) and len(by) == 2 and isinstance(by[0], Theorem)
        used = (by,) if single else tuple(by)
        self._add(
            _Step(
                "step",
                chain[-1].after,
                _sympify(expr),
                relation,
                reason,
                tuple(cases),
                used,  # type: ignore[arg-type]
                None if certificate is None else _sympify(certificate),
                cite,
            )
        )
        self._chain_relation(len(self.steps) - 1)  # reject ≤ mixed with ≥ now
        return self

    def claim(
        self,
        lhs: object,
        relation: Relation,
        rhs: object,
        reason: str,
        *,
        cases: Sequence[Case] = (),
        certificate: object = None,
    ) -> Theorem:
        """State ``lhs relation rhs`` on its own (``=``, ``≠``, ``≤``, ``<``, ``≥`` or ``>``)."""
        if relation not in _RELATIONS:
            raise ValueError(f"relation must be one of = ≤ < ≥ > ≠, got {relation!r}")
        cert = None if certificate is None else _sympify(certificate)
        return self._add(
            _Step("claim", _sympify(lhs), _sympify(rhs), relation, reason, tuple(cases), (), cert)
        )

    def solve(self, relation: sp.Basic, var: sp.Symbol, solution: sp.Set, reason: str) -> Theorem:
        """State ``{var real : relation} = solution`` (checked with ``solveset``)."""
        return self._add(_Step("solve", relation, solution, "=", reason, var=var))

    def external(self, claim: str, reason: str, run: Callable[[], str]) -> Theorem:
        """Add a step checked by a named procedure, e.g. a translation validator.

        ``run()`` returns a one-line summary of what it proved (and how: it
        must bring its own symbolic and numeric evidence), or raises
        AssertionError or ValueError, which becomes a :class:`ProofError`.
        """
        shown = sp.Symbol(claim)  # displayed only
        return self._add(_Step("external", shown, shown, "", reason, run=run))

    def _add(self, step: _Step) -> Theorem:
        self.steps.append(step)
        self.checked = False  # a new step is unchecked, and so is the theorem
        return self

    # -- what is proven ---------------------------------------------------
    @property
    def conclusions(self) -> list[tuple[sp.Basic, str, sp.Basic]]:
        """``(lhs, relation, rhs)`` for each chain, claim and solution set."""
        out = []
        for i, s in enumerate(self.steps):
            if s.kind == "start":
                last = i
                while last + 1 < len(self.steps) and self.steps[last + 1].kind == "step":
                    last += 1
                if last > i:
                    out.append((s.after, self._chain_relation(last), self.steps[last].after))
            elif s.kind == "claim":
                out.append((s.before, s.relation, s.after))
            elif s.kind == "solve":
                out.append((sp.ConditionSet(s.var, s.before, sp.S.Reals), "=", s.after))
        return out

    def equalities(self) -> list[list[sp.Basic]]:
        """Return the members of each chain (and equality claim) that are all equal.

        A step ``by=`` this theorem may replace any member by the last one,
        or the last one by any member.
        """
        out: list[list[sp.Basic]] = []
        for s in self.steps:
            if s.kind == "start":
                out.append([s.after])
            elif s.kind == "step" and s.relation == "=":
                out[-1].append(s.after)
            elif s.kind == "step":
                out.append([s.after])  # after an inequality, a new run of equal members
            elif s.kind == "claim" and s.relation == "=":
                out.append([s.before, s.after])
        return [c for c in out if len(c) > 1]

    def _chain_relation(self, last: int) -> str:
        relations = []
        for s in reversed(self.steps[: last + 1]):
            if s.kind == "start":
                break
            relations.append(s.relation)
        kinds = {r for r in relations if r != "="}
        if kinds & {"≤", "<"} and kinds & {"≥", ">"}:
            raise ValueError(f"theorem {self.name!r}: a chain mixes ≤ and ≥")
        for strict, weak in (("<", "≤"), (">", "≥")):
            if strict in kinds:
                return strict
            if weak in kinds:
                return weak
        return "="

    @property
    def n_steps(self) -> int:
        """Number of checked steps (chain starts not counted)."""
        return sum(s.kind != "start" for s in self.steps)

    @property
    def results(self) -> list[str]:
        """Check status of every row, in order (chain starts included)."""
        return [s.status for s in self.steps]

    # -- checking ---------------------------------------------------------
    def check(self) -> Theorem:
        """Check every step symbolically and numerically; raise on the first failure.

        Returns
        -------
        Theorem
            ``self``; the result is cached, so a theorem used as an identity
            is checked once.

        Raises
        ------
        ProofError
            On the first step that fails either check.
        """
        if self.checked:
            return self
        number = 0
        for i, step in enumerate(self.steps):
            if step.kind == "start":
                step.status = "start"
                continue
            number += 1
            try:
                if step.kind == "external":
                    step.status = f"checked: {self._external(number, step)}"
                    continue
                symbolic = self._symbolic(number, step)
                count = self._numeric(number, i, step)
            except ProofError as err:
                step.status = "FAILED"
                raise err from None
            points = "1 point" if count == 1 else f"{count} points"
            step.status = f"checked: {symbolic}; numeric at {points}"
        self.checked = True
        return self

    def _expand(self, expr: sp.Basic) -> sp.Basic:
        for _ in range(8):
            new = expr
            for f, definition in self.defs.items():
                new = new.replace(f, definition)
            if new == expr:
                return expr
            expr = new
        return expr

    def _external(self, n: int, s: _Step) -> str:
        if s.run is None:  # pragma: no cover - external() always sets it
            raise TypeError("an external step needs a procedure")
        try:
            return s.run()
        except (AssertionError, ValueError) as err:
            raise self._fail(n, s, str(err), "external check failed") from None

    def _fail(self, n: int, s: _Step, residual: object, detail: str) -> ProofError:
        return ProofError(
            self.name,
            n,
            reason=s.reason,
            before=s.before,
            after=s.after,
            residual=residual,
            detail=detail,
        )

    def _symbolic(self, n: int, s: _Step) -> str:
        if s.cite:
            return f"cited ({s.cite})"
        if s.kind == "solve":
            found = sp.solveset(self._expand(s.before), s.var, sp.S.Reals)
            if not _same_set(found, s.after):
                raise self._fail(n, s, found, "symbolic check failed (solveset finds another set)")
            return "solveset"
        if s.by:
            # The rewritten expression the step shows, else the first few candidates.
            candidates = self._apply(n, s)
            exact = [c for c in candidates if c == s.after]
            candidates = exact or candidates[:4]
        else:
            candidates = [s.before]
        for k, before in enumerate(candidates):
            failure = self._cases_hold(n, s, before)
            if failure is None:
                break
            if k == len(candidates) - 1:
                raise failure
        how = [f"by {t.name}" for t, _ in s.by]
        if s.cases:
            how.append("cases " + "; ".join(c.label for c in s.cases))
        if s.certificate is not None:
            how.append("certificate")
        default = {"=": "simplifies to 0", "≠": "nonzero difference"}.get(s.relation, "sign")
        return ", ".join(how) or default

    def _cases_hold(self, n: int, s: _Step, before: sp.Basic) -> ProofError | None:
        """``None`` if ``before relation after`` holds in every case, else the failure."""
        for case in s.cases or (None,):
            b, a, c = (self._expand(e) for e in (before, s.after, s.certificate or sp.S.Zero))
            if case is not None:
                b, a, c = (e.subs(case.subs, simultaneous=True) for e in (b, a, c))
            ok, residual = _holds(b, s.relation, a, c if s.certificate is not None else None)
            if not ok:
                where = f" in case {case.label}" if case else ""
                return self._fail(n, s, residual, f"symbolic check failed{where}")
        return None

    def _apply(self, n: int, s: _Step) -> list[sp.Basic]:
        """Return the previous expression with each identity of ``s.by`` applied in turn.

        An identity replaces one member of an equality it proves by another
        (any member by the last first, then the last by any member, then any
        other pair); every way that changes the expression is a candidate.
        """
        outs = [s.before]
        for thm, at in s.by:
            thm.check()
            self._instance_ok(n, s, thm, at)
            pairs = []
            for members in thm.equalities():
                chain = [e.subs(at, simultaneous=True) for e in members] if at else members
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
                raise self._fail(
                    n, s, f"no side of {thm.name} occurs", "symbolic check failed (by identity)"
                )
            outs = found[:64]
        return outs

    def _instance_ok(self, n: int, s: _Step, thm: Theorem, at: Mapping) -> None:
        for v, e in at.items():
            for a in _ASSUMPTIONS:
                if v.assumptions0.get(a) and getattr(sp.sympify(e), f"is_{a}") is not True:
                    raise self._fail(n, s, f"{v} -> {e} is not known {a}", "bad instance")
        for v, domain in thm.where.items():
            e = at.get(v, v)
            inside = (
                sp.sympify(domain.contains(e)) is sp.true
                if e.is_number
                else self.where.get(e, sp.S.Reals).is_subset(domain)
            )
            if not inside:
                raise self._fail(n, s, f"{v} -> {e} outside {domain}", "bad instance")

    def _numeric(self, n: int, index: int, s: _Step) -> int:
        rng = np.random.default_rng(zlib.crc32(f"{self.name}#{index}".encode()))
        exprs = [self._expand(e) for e in (s.before, s.after)]
        count = 0
        with mp.workdps(DIGITS):
            for case, k in [(None, self.points)] + [(c, 4) for c in s.cases]:
                b, a = exprs
                if case is not None:
                    b, a = (e.subs(case.subs, simultaneous=True) for e in (b, a))
                constant = not (_free(b) | _free(a)) and s.var is None
                for _ in range(1 if constant else k):
                    point = self._sample(rng, [b, a], extra=s.var)
                    bad = _disagree(b, s.relation, a, point, var=s.var, rng=rng)
                    if bad is not None:
                        where = f" in case {case.label}" if case else ""
                        at = ", ".join(f"{v} = {mp.nstr(x, 8)}" for v, x in point.items())
                        raise self._fail(
                            n, s, f"{bad} at {at or 'the point'}", f"numeric check failed{where}"
                        )
                    count += 1
        return count

    def _sample(
        self, rng: np.random.Generator, exprs: Sequence[sp.Basic], extra: sp.Symbol | None
    ) -> dict[sp.Symbol, mp.mpf]:
        free = set().union(*(_free(e) for e in exprs)) | ({extra} if extra is not None else set())
        todo = sorted(free, key=str)
        point: dict[sp.Symbol, mp.mpf] = {}
        while todo:
            ready = [v for v in todo if not self._needs(v) - set(point)]
            if not ready:
                missing = set().union(*(self._needs(v) for v in todo)) - set(point) - set(todo)
                if not missing:
                    raise ValueError(f"theorem {self.name!r}: circular domains among {todo}")
                todo += sorted(missing, key=str)
                continue
            for v in ready:
                point[v] = _draw(rng, v, self.where.get(v), point)
                todo.remove(v)
        return point

    def _needs(self, v: sp.Symbol) -> set[sp.Basic]:
        domain = self.where.get(v)
        return set() if domain is None else domain.free_symbols - {v}

    # -- rendering --------------------------------------------------------
    @property
    def title(self) -> str:
        """``Theorem <name>``."""
        return f"Theorem {self.name}"

    def blocks(self) -> list[Block]:
        """One block: the statement and assumptions as its note, one row per step.

        Examples
        --------
        >>> x = sp.Symbol("x", real=True)
        >>> t = Theorem("demo.sq", "x^2 ≥ 0").claim(x**2, "≥", 0, "a square")
        >>> print(render(t, "text").splitlines()[-1].strip())
        (a square [not checked])
        """
        rows = []
        for s in self.steps:
            reason = f"{s.reason} [{s.status}]"
            if s.kind == "start":
                rows.append(Row(("", ""), [s.after], s.reason, " "))
            elif s.kind == "step":
                rows.append(Row(("", ""), [s.after], reason, s.relation))
            elif s.kind == "claim":
                rows.append(Row(s.before, [s.after], reason, s.relation))
            elif s.kind == "external":
                claim = s.before.name
                shown = (r"\text{" + claim.replace("_", r"\_") + "}", claim)
                rows.append(Row(("", ""), [shown], reason, " "))
            else:
                v, rel = s.var, s.before
                lhs = (
                    rf"\left\{{{latex(v)} \in \mathbb{{R}} : {latex(rel)}\right\}}",
                    f"{{{text(v)} ∈ ℝ : {_relation_text(rel)}}}",
                )
                rows.append(Row(lhs, [(latex(s.after), _set_text(s.after))], reason, "="))
        return [Block(f"{self.name}: {self.statement}", rows, self._note())]

    def _note(self) -> str:
        symbols: set[sp.Symbol] = set()
        for s in self.steps:
            if s.kind == "external":
                continue
            for e in (s.before, s.after):
                symbols |= {f for f in _free(self._expand(e)) if isinstance(f, sp.Symbol)}
        parts = []
        for v in sorted(symbols, key=str):
            if v in self.where:
                parts.append(f"{text(v)} ∈ {_set_text(self.where[v])}")
            else:
                kind = next((a for a in _ASSUMPTIONS[1:] if v.assumptions0.get(a)), None)
                parts.append(f"{text(v)} {kind or ('real' if v.is_real else 'complex')}")
        used = set()
        for s in self.steps:
            for e in (s.before, s.after, s.certificate):
                if isinstance(e, sp.Basic):
                    used |= {type(a) for a in e.atoms(sp.Function)}
        for f, definition in self.defs.items():
            if f not in used:
                continue
            args = ", ".join(text(a) for a in definition.variables)
            parts.append(f"{f}({args}) := {text(definition.expr)}")
        return "Assumptions: " + "; ".join(parts) + "." if parts else ""


# ---------------------------------------------------------------------------
# Symbolic checks.
# ---------------------------------------------------------------------------
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


def _zero(expr: sp.Basic) -> tuple[bool, sp.Basic]:
    """Whether ``expr`` simplifies to 0; else its simplified form."""
    if isinstance(expr, sp.MatrixBase):
        parts = [_zero(e) for e in expr]
        return all(ok for ok, _ in parts), sp.Matrix(
            expr.shape[0], expr.shape[1], [r for _, r in parts]
        )
    expr = sp.sympify(expr).doit()
    if expr == 0:
        return True, sp.S.Zero
    best = expr
    for attempt in _SIMPLIFIERS:
        try:
            result = attempt(expr)
        except (TypeError, ValueError, NotImplementedError, sp.PolynomialError):
            continue
        if result == 0:
            return True, sp.S.Zero
        if attempt is sp.simplify:
            best = result
    return False, best


def _signed(expr: sp.Basic, strict: bool) -> bool:
    expr = sp.sympify(expr).doit()
    for attempt in (lambda e: e, sp.factor, sp.simplify, lambda e: sp.factor(sp.simplify(e))):
        try:
            value = attempt(expr)
        except (TypeError, ValueError, NotImplementedError, sp.PolynomialError):
            continue
        if (value.is_positive if strict else value.is_nonnegative) is True:
            return True
    return False


def _holds(
    before: sp.Basic, relation: str, after: sp.Basic, certificate: sp.Basic | None
) -> tuple[bool, sp.Basic]:
    """Symbolic check of ``before relation after``; returns (ok, residual)."""
    if relation == "=":
        return _zero(after - before)
    if relation == "≠":
        ok, residual = _zero(after - before)
        return (not ok and residual.is_zero is False), residual
    gap = after - before if relation in ("≤", "<") else before - after
    if certificate is not None:
        ok, residual = _zero(gap - certificate)
        if not ok:
            return False, residual
        gap = certificate
    if _signed(gap, strict=relation in ("<", ">")):
        return True, gap
    return False, sp.simplify(gap)


def _same_set(a: sp.Set, b: sp.Set) -> bool:
    if a == b:
        return True
    try:
        return sp.Complement(a, b) == sp.S.EmptySet and sp.Complement(b, a) == sp.S.EmptySet
    except (TypeError, ValueError, NotImplementedError):
        return False


# ---------------------------------------------------------------------------
# Numeric witness.
# ---------------------------------------------------------------------------
def _free(expr: sp.Basic) -> set[sp.Basic]:
    if isinstance(expr, sp.MatrixBase):
        return set().union(*(_free(e) for e in expr))
    return set(expr.free_symbols)


def _draw(rng: np.random.Generator, v: sp.Symbol, domain: sp.Set | None, point: Mapping) -> mp.mpf:
    """One value of ``v`` from its domain (its assumptions if no domain)."""
    if isinstance(domain, sp.FiniteSet):
        return _value(domain.args[rng.integers(len(domain.args))], point)
    if isinstance(domain, sp.Interval):
        return _in_interval(rng, domain, point)
    if v.is_integer:
        low = 1 if v.is_positive else (0 if v.is_nonnegative else -5)
        return mp.mpf(int(rng.integers(low, 6)))
    if not (v.is_nonnegative or v.is_nonpositive):
        return _real(rng)
    magnitude = mp.exp(mp.mpf(rng.uniform(-4, 4)))
    if not (v.is_positive or v.is_negative) and rng.random() < 0.125:
        magnitude = mp.mpf(0)
    return magnitude if v.is_nonnegative else -magnitude


def _in_interval(rng: np.random.Generator, domain: sp.Interval, point: Mapping) -> mp.mpf:
    """Draw a point of the interval; a closed end itself one time in eight."""
    lo, hi = (_value(e, point) if e.is_finite else None for e in (domain.start, domain.end))
    roll = rng.random()
    if lo is not None and not domain.left_open and roll < 0.125:
        return lo
    if hi is not None and not domain.right_open and roll > 0.875:
        return hi
    if lo is not None and hi is not None:
        return lo + (hi - lo) * mp.mpf(rng.uniform(1e-9, 1 - 1e-9))
    spread = mp.exp(mp.mpf(rng.uniform(-4, 4)))
    if lo is None and hi is None:
        return _real(rng)
    return lo + spread if lo is not None else hi - spread


def _real(rng: np.random.Generator) -> mp.mpf:
    # Mostly moderate values; one in four far out, to reach exp's tails.
    width = 4 if rng.random() < 0.75 else 60
    return mp.mpf(rng.uniform(-width, width))


_COMPILED: dict[tuple[sp.Basic, tuple[sp.Basic, ...]], Callable[..., object]] = {}


def _value(expr: sp.Basic, point: Mapping[sp.Basic, object]) -> mp.mpf | mp.mpc:
    """Evaluate ``expr`` at ``point`` with mpmath at the current precision.

    Derivatives are taken by ``mpmath.diff`` and limits by ``mpmath.limit``
    of the (lambdified) inner expression, never by SymPy.
    """
    expr = sp.sympify(expr)
    special = expr.atoms(sp.Derivative, sp.Subs, sp.Limit)
    outer = [a for a in special if not any(o != a and o.has(a) for o in special)]
    known = dict(point)
    holes = {}
    for k, atom in enumerate(sorted(outer, key=str)):
        hole = sp.Dummy(f"h{k}")
        holes[atom] = hole
        known[hole] = _special(atom, point)
    body = expr.xreplace(holes)
    args = tuple(sorted(body.free_symbols, key=str))
    if not args:
        return _number(body)
    key = (body, args)
    if key not in _COMPILED:
        _COMPILED[key] = sp.lambdify(args, body, modules="mpmath")
    return _COMPILED[key](*(known[a] for a in args))


def _reliable(expr: sp.Basic, point: Mapping[sp.Basic, object]) -> mp.mpf | mp.mpc:
    """Evaluate at DIGITS, then at twice the digits, ..., until two agree.

    A textbook formula can cancel catastrophically at the witness's points
    (``log(1 - σ(z))`` at ``z = 120`` loses 52 digits); a value is accepted
    only once doubling the precision no longer changes it beyond
    :data:`TOLERANCE`, and never if it is infinite or NaN.
    """
    tol = mp.mpf(TOLERANCE)
    previous = None
    digits = DIGITS + _exp_digits(expr, point)
    top = 4 * digits + 32 * DIGITS
    while digits <= top:
        with mp.workdps(digits):
            try:
                value = _value(expr, point)
            except (ValueError, ZeroDivisionError):  # e.g. log(0) inside mpmath.diff
                value = mp.nan
        finite = mp.isfinite(mp.re(value)) and mp.isfinite(mp.im(value))
        if finite and previous is not None and abs(value - previous) <= tol * (1 + abs(value)):
            return value
        previous = value if finite else None
        digits *= 2
    raise ValueError(f"no stable value up to {digits // 2} digits (last: {previous})")


def _exp_digits(expr: sp.Basic, point: Mapping[sp.Basic, object]) -> int:
    """Digits that ``exp`` terms can cancel at ``point``: 1 + exp(-a) - 1 loses a/ln 10.

    Doubling the precision does not reveal a cancellation that swallows
    every digit at both precisions (both give 0), so the witness starts
    with these digits added.
    """
    worst = mp.mpf(0)
    with mp.workdps(15):
        for e in expr.atoms(sp.exp):
            try:
                worst = max(worst, abs(mp.re(_value(e.args[0], point))))
            except (KeyError, ValueError, TypeError, ZeroDivisionError, OverflowError):
                continue  # an argument with a bound variable (Subs, Limit): no estimate
    return int(worst / mp.log(10)) + 10 if worst > 10 else 0


def _number(expr: sp.Basic) -> mp.mpf | mp.mpc:
    value = sp.N(expr, DIGITS)
    if value.is_real:
        return mp.mpf(value)
    return mp.mpc(complex(value))


def _special(atom: sp.Basic, point: Mapping[sp.Basic, object]) -> mp.mpf | mp.mpc:
    if isinstance(atom, sp.Subs):
        inner = dict(point)
        for v, e in zip(atom.variables, atom.point, strict=True):
            inner[v] = _value(e, point)
        return _value(atom.expr, inner)
    if isinstance(atom, sp.Limit):
        f, v, target = atom.args[0], atom.args[1], atom.args[2]
        where = (
            mp.inf if target is sp.oo else (-mp.inf if target is -sp.oo else _value(target, point))
        )
        return mp.limit(lambda t: _value(f, {**point, v: t}), where)
    variables = [v for v, _ in atom.variable_count]
    orders = [int(k) for _, k in atom.variable_count]

    def f(*values: object) -> object:
        value = _value(atom.expr, {**point, **dict(zip(variables, values, strict=True))})
        if not (mp.isfinite(mp.re(value)) and mp.isfinite(mp.im(value))):
            raise ValueError(f"{atom.expr} is not finite near the point")
        return value

    at = [point[v] for v in variables]
    if len(variables) == 1:
        return mp.diff(f, at[0], orders[0])
    return mp.diff(f, tuple(at), tuple(orders))


def _disagree(
    before: sp.Basic,
    relation: str,
    after: sp.Basic,
    point: Mapping[sp.Basic, object],
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
            b, a = _reliable(b_expr, point), _reliable(a_expr, point)
        except (ZeroDivisionError, ValueError, TypeError, OverflowError) as err:
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


def _disagree_set(
    relation: sp.Basic,
    var: sp.Symbol,
    solution: sp.Set,
    point: Mapping[sp.Basic, object],
    rng: np.random.Generator,
) -> str | None:
    """Compare ``relation`` with membership in ``solution`` near its ends too."""
    candidates = [point[var]]
    for end in _ends(solution):
        e = _value(end, point)
        delta = mp.mpf("1e-6") * (1 + abs(e))
        candidates += [e - delta, e + delta, e + delta * mp.mpf(rng.uniform(2, 1e6))]
    for v in candidates:
        at = {**point, var: v}
        lhs, rhs = _reliable(relation.lhs, at), _reliable(relation.rhs, at)
        truth = bool(
            {
                "==": lhs == rhs,
                "<=": lhs <= rhs,
                "<": lhs < rhs,
                ">=": lhs >= rhs,
                ">": lhs > rhs,
                "!=": lhs != rhs,
            }[relation.rel_op]
        )
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


def _member(s: sp.Set, v: mp.mpf, point: Mapping[sp.Basic, object]) -> bool:
    if s == sp.S.Reals:
        return True
    if s == sp.S.EmptySet:
        return False
    if isinstance(s, sp.Union):
        return any(_member(p, v, point) for p in s.args)
    if isinstance(s, sp.FiniteSet):
        return any(abs(v - _value(e, point)) <= mp.mpf(TOLERANCE) for e in s.args)
    if isinstance(s, sp.Interval):
        lo = _value(s.start, point) if s.start.is_finite else -mp.inf
        hi = _value(s.end, point) if s.end.is_finite else mp.inf
        above = lo < v or (lo == v and not s.left_open)
        below = v < hi or (v == hi and not s.right_open)
        return above and below
    raise TypeError(f"cannot test membership in {s}")


# ---------------------------------------------------------------------------
# Helpers for vectors, display, loading and running.
# ---------------------------------------------------------------------------
def explicit(expr: sp.Basic, vectors: Mapping[sp.MatrixSymbol, sp.Matrix]) -> sp.Basic:
    """Replace matrix symbols of symbolic shape by explicit matrices.

    The dimension symbols in their shapes take the explicit sizes; the
    result is evaluated (``doit``) to an explicit scalar or Matrix.

    Examples
    --------
    >>> n = sp.Symbol("n", integer=True, positive=True)
    >>> x, w = sp.MatrixSymbol("x", n, 1), sp.MatrixSymbol("w", n, 1)
    >>> explicit((x.T * w)[0, 0], {x: sp.Matrix([1, 2]), w: sp.Matrix([3, 4])})
    11
    """
    dims = {
        d: k
        for m, value in vectors.items()
        for d, k in zip(m.shape, value.shape, strict=True)
        if d.free_symbols
    }
    swap = {m.subs(dims): sp.ImmutableMatrix(v) for m, v in vectors.items()}
    fixed = sp.sympify(expr).subs(dims).xreplace(swap)
    out = fixed.doit()
    return sp.Matrix(out) if isinstance(out, sp.MatrixExpr) else out


def _sympify(expr: object) -> sp.Basic:
    if isinstance(expr, sp.MatrixBase):
        return sp.ImmutableMatrix(expr)
    return sp.sympify(expr)


def _show(obj: object) -> str:
    return text(obj) if isinstance(obj, sp.Basic) else str(obj)


def _relation_text(rel: sp.Basic) -> str:
    if isinstance(rel, sp.core.relational.Relational):
        op = {"==": "=", "!=": "≠", "<=": "≤", ">=": "≥"}.get(rel.rel_op, rel.rel_op)
        return f"{text(rel.lhs)} {op} {text(rel.rhs)}"
    return text(rel)


def _set_text(s: sp.Set) -> str:
    if isinstance(s, sp.Interval):
        left, right = "(" if s.left_open else "[", ")" if s.right_open else "]"
        ends = [
            "-∞" if e is sp.S.NegativeInfinity else "∞" if e is sp.oo else text(e)
            for e in (s.start, s.end)
        ]
        return f"{left}{ends[0]}, {ends[1]}{right}"
    if isinstance(s, sp.FiniteSet):
        return "{" + ", ".join(text(a) for a in s.args) + "}"
    if s == sp.S.Reals:
        return "ℝ"
    if isinstance(s, sp.Union):
        return " ∪ ".join(_set_text(a) for a in s.args)
    return text(s)


def load(name: str, directory: str | Path | None = None) -> ModuleType:
    """Import ``proofs/<name>.py`` by path (once per process) and return it.

    Parameters
    ----------
    name : str
        File name without ``.py``, e.g. ``"stability"``.
    directory : path, optional
        Defaults to :data:`PROOFS_DIR` (``proofs/`` of the source checkout).

    Examples
    --------
    >>> load("sigmoid").THEOREMS[0].name
    'sigmoid.derivative'
    """
    path = (Path(directory) if directory is not None else PROOFS_DIR) / f"{name}.py"
    if not path.is_file():
        raise FileNotFoundError(f"no proof family {name!r}: {path} does not exist")
    key = f"_derivreg_proofs_{zlib.crc32(str(path.resolve()).encode()):08x}_{name}"
    if key in sys.modules:
        return sys.modules[key]
    spec = importlib.util.spec_from_file_location(key, path)
    if spec is None or spec.loader is None:  # pragma: no cover - a .py file always has one
        raise ImportError(f"cannot import {path}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[key] = module
    try:
        spec.loader.exec_module(module)
    except BaseException:
        del sys.modules[key]
        raise
    return module


def families(directory: str | Path | None = None) -> list[str]:
    """Names of the proof families: ``proofs/*.py`` not starting with ``_``, sorted.

    Examples
    --------
    >>> "stability" in families()
    True
    """
    root = Path(directory) if directory is not None else PROOFS_DIR
    return sorted(p.stem for p in root.glob("*.py") if not p.name.startswith("_"))


def main(theorems: Iterable[Theorem], out: IO[str] | None = None) -> int:
    """Check and print theorems with their steps; the exit status of a proofs file.

    Returns 0 if every theorem checks, 1 otherwise (each failure printed).

    Examples
    --------
    >>> x = sp.Symbol("x", real=True)
    >>> import io
    >>> main([Theorem("demo.bad", "x = x + 1").start(x).eq(x + 1, "wrong")], io.StringIO())
    1
    """
    out = out if out is not None else sys.stdout
    failed = 0
    theorems = list(theorems)
    for t in theorems:
        error = None
        try:
            t.check()
        except ProofError as err:
            error, failed = err, failed + 1
        out.write(render(t, "text") + "\n")
        if error is not None:
            out.write(f"FAILED: {error}\n\n")
    steps = sum(t.n_steps for t in theorems)
    out.write(f"{len(theorems) - failed} of {len(theorems)} theorems checked ({steps} steps)\n")
    return 1 if failed else 0


def verify(out: IO[str] | None = None, directory: str | Path | None = None) -> int:
    r"""Check every theorem of every family; one line each, then a total.

    Returns
    -------
    int
        The number of failures (theorems, or families that did not import).

    Examples
    --------
    >>> import io, pathlib, tempfile
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (folder / "demo.py").write_text(
    ...     "import sympy as sp\n"
    ...     "from derivreg.proof import Theorem\n"
    ...     "x = sp.Symbol('x', real=True)\n"
    ...     "THEOREMS = [Theorem('demo.twice', 'x + x = 2x').start(x + x).eq(2 * x, 'collect')]\n"
    ... )
    >>> out = io.StringIO()
    >>> verify(out, folder), out.getvalue().splitlines()[0]
    (0, 'checked  demo.twice (1 step)')
    """
    out = out if out is not None else sys.stdout
    names = families(directory)
    if not names:
        where = Path(directory) if directory is not None else PROOFS_DIR
        raise FileNotFoundError(f"no proof files (*.py) in {where}")
    failures = theorems = checked = steps = 0
    for family in names:
        try:
            found = list(load(family, directory).THEOREMS)
        except Exception as err:  # reported, counted, and the run goes on
            failures += 1
            out.write(f"FAILED   {family}: cannot load ({type(err).__name__}: {err})\n")
            continue
        for t in found:
            theorems += 1
            try:
                t.check()
            except ProofError as err:
                failures += 1
                out.write(f"FAILED   {t.name}: {str(err).splitlines()[0]}\n")
            else:
                checked += 1
                steps += t.n_steps
                cited = sum(s.cite != "" for s in t.steps)
                note = f", {cited} cited" if cited else ""
                unit = "step" if t.n_steps == 1 else "steps"
                out.write(f"checked  {t.name} ({t.n_steps} {unit}{note})\n")
    out.write(
        f"total: {checked} of {theorems} theorems checked ({steps} steps), {failures} failed\n"
    )
    return failures
