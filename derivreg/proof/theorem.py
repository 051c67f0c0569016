"""A theorem: its statement (SymPy relations over a domain) and the steps that prove it."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import TypedDict, Unpack

import sympy as sp

from derivreg.proof._base import RELATIONS, Case, Identity, Relation, Step, as_expr
from derivreg.rendering import Block

#: SymPy's relation classes, as the relations of a chain.
RELATION_OF: dict[type, str] = {
    sp.Equality: "=",
    sp.Unequality: "≠",
    sp.LessThan: "≤",
    sp.StrictLessThan: "<",
    sp.GreaterThan: "≥",
    sp.StrictGreaterThan: ">",
}


class How(TypedDict, total=False):
    """How a step is checked: the keywords of :meth:`Theorem.relate` after ``reason``.

    Examples
    --------
    >>> How(restate=True)
    {'restate': True}
    """

    cases: Sequence[Case]
    by: Identity | Sequence[Identity]
    certificate: sp.Basic | None
    cite: str
    restate: bool
    nonzero: Sequence[sp.Basic]


def _identities(by: Identity | Sequence[Identity]) -> tuple[Identity, ...]:
    """One (theorem, substitution) pair, or a sequence of them, as a tuple of pairs."""
    if isinstance(by, tuple) and len(by) == 2 and isinstance(by[0], Theorem):
        return (by,)
    return tuple(by)


class Theorem:
    """A named theorem: a statement over a domain, and a calculational proof.

    Build it with :meth:`start` and the relation methods (each returns the
    theorem, so calls chain), then :meth:`check` it.  What is proven is the
    :attr:`statement`: SymPy relations that each chain (or claim) must
    conclude, for every value of the symbols in their domain.  The
    ``summary`` is prose, for readers only.

    Parameters
    ----------
    name : str
        Stable dotted name, e.g. ``"stability.softplus_stable_form"``.
    summary : str
        The theorem in words, for readers (a title; never checked).
    statement : sympy relation or sequence of them, optional
        What the theorem claims, e.g. ``sp.Eq(lhs, rhs, evaluate=False)``
        or ``x**2 >= 0``.  Each must be concluded by a chain or claim.
        Without it, the theorem states exactly its :attr:`conclusions`.
    where : mapping of symbol to set, optional
        Domains narrower than the symbols' assumptions.  Numeric witnesses
        sample them, ends included; case splits must cover them.
    defs : mapping, optional
        Named functions and their definitions, ``{softplus: Lambda(t, ...)}``.
    points : int, default 8
        Random points per step (at least 1), beyond the domain's edges.

    Examples
    --------
    >>> x = sp.Symbol("x", real=True)
    >>> claim = sp.StrictGreaterThan(x**2 + 1, 0, evaluate=False)  # else SymPy says True
    >>> t = Theorem("demo.square", "a square plus 1", statement=claim)
    >>> t.start(x**2 + 1).gt(0, "a square plus 1").check().conclusions
    [(x**2 + 1, '>', 0)]
    """

    def __init__(
        self,
        name: str,
        summary: str,
        *,
        statement: sp.Basic | Sequence[sp.Basic] | None = None,
        where: Mapping[sp.Symbol, sp.Set] | None = None,
        defs: Mapping[sp.Basic, sp.Lambda] | None = None,
        points: int = 8,
    ) -> None:
        if not isinstance(points, int) or isinstance(points, bool) or points < 1:
            raise ValueError(f"theorem {name!r}: points must be an int >= 1, got {points!r}")
        if not isinstance(name, str) or not isinstance(summary, str):
            raise TypeError("a theorem's name and summary are str")
        self.name, self.summary, self.points = name, summary, points
        items = (
            []
            if statement is None
            else [statement]
            if isinstance(statement, sp.Basic)
            else list(statement)
        )
        self.statement: tuple[sp.Basic, ...] = tuple(as_expr(s) for s in items)
        self.where: dict[sp.Symbol, sp.Set] = {
            as_expr(k): as_expr(v) for k, v in (where or {}).items()
        }
        self.defs: dict[sp.Basic, sp.Lambda] = dict(defs or {})
        self.steps: list[Step] = []
        self.checked = False

    # -- building ---------------------------------------------------------
    def start(self, expr: sp.Basic, reason: str = "") -> Theorem:
        """Begin a chain at ``expr`` (a new chain if one is running)."""
        expr = as_expr(expr)
        return self._add(Step("start", expr, expr, "", reason))

    def eq(self, expr: sp.Basic, reason: str, **how: Unpack[How]) -> Theorem:
        """Continue the chain with ``= expr``; ``how`` as in :meth:`relate`."""
        return self.relate("=", expr, reason, **how)

    def le(self, expr: sp.Basic, reason: str, **how: Unpack[How]) -> Theorem:
        """Continue the chain with ``≤ expr``."""
        return self.relate("≤", expr, reason, **how)

    def lt(self, expr: sp.Basic, reason: str, **how: Unpack[How]) -> Theorem:
        """Continue the chain with ``< expr``."""
        return self.relate("<", expr, reason, **how)

    def ge(self, expr: sp.Basic, reason: str, **how: Unpack[How]) -> Theorem:
        """Continue the chain with ``≥ expr``."""
        return self.relate("≥", expr, reason, **how)

    def gt(self, expr: sp.Basic, reason: str, **how: Unpack[How]) -> Theorem:
        """Continue the chain with ``> expr``."""
        return self.relate(">", expr, reason, **how)

    def relate(
        self,
        relation: Relation,
        expr: sp.Basic,
        reason: str,
        *,
        cases: Sequence[Case] = (),
        by: Identity | Sequence[Identity] = (),
        certificate: sp.Basic | None = None,
        cite: str = "",
        restate: bool = False,
        nonzero: Sequence[sp.Basic] = (),
    ) -> Theorem:
        """Continue the chain: ``previous relation expr``, because ``reason``.

        Parameters
        ----------
        relation : {"=", "≤", "<", "≥", ">"}
        expr : sympy expression or Matrix
            As it should read: keep it unevaluated (``sp.Mul(a, b,
            evaluate=False)``, ``sp.UnevaluatedExpr``) to show the algebra;
            the checks use its evaluated form.
        reason : str
        cases : sequence of Case
            Check the step in each case; together they must cover the domain.
        by : (Theorem, substitution) or a sequence of them
            Proven identities to substitute into the previous expression.
        certificate : expression, optional
            For an inequality: the gap is shown equal to it, and its sign is
            read off by SymPy's assumptions.
        cite : str
            An entry of :data:`derivreg.proof.facts.CITED` replacing the
            symbolic check (the numeric witness still runs).
        restate : bool
            The step may print as the line before it: it names the same
            value (the derivation's own expression, say).  It is then shown
            as "(the same)" with its reason, not as a repeated line.
        nonzero : sequence of expressions
            Factors the step divides by (or cancels): it holds where they
            are nonzero, and the theorem then holds only there.
        """
        if relation not in RELATIONS[:5]:
            raise ValueError(f"relation must be one of = ≤ < ≥ >, got {relation!r}")
        chain = [s for s in self.steps if s.kind in ("start", "step")]
        if not chain:
            raise ValueError(f"theorem {self.name!r}: start() a chain before {relation}")
        used = _identities(by)
        step = Step("step", chain[-1].after, as_expr(expr), relation, reason, tuple(cases), used)
        step.certificate = None if certificate is None else as_expr(certificate)
        step.cite, step.restate = cite, restate
        step.nonzero = tuple(as_expr(f) for f in nonzero)
        self._add(step)
        self.chain_relation(len(self.steps) - 1)  # reject ≤ mixed with ≥ now
        return self

    def claim(
        self,
        lhs: sp.Basic,
        relation: Relation,
        rhs: sp.Basic,
        reason: str,
        *,
        cases: Sequence[Case] = (),
        certificate: sp.Basic | None = None,
        nonzero: Sequence[sp.Basic] = (),
    ) -> Theorem:
        """State ``lhs relation rhs`` on its own (``=``, ``≠``, ``≤``, ``<``, ``≥`` or ``>``)."""
        if relation not in RELATIONS:
            raise ValueError(f"relation must be one of = ≤ < ≥ > ≠, got {relation!r}")
        step = Step("claim", as_expr(lhs), as_expr(rhs), relation, reason, tuple(cases))
        step.certificate = None if certificate is None else as_expr(certificate)
        step.nonzero = tuple(as_expr(f) for f in nonzero)
        return self._add(step)

    def solve(self, relation: sp.Basic, var: sp.Symbol, solution: sp.Set, reason: str) -> Theorem:
        """State ``{var real : relation} = solution`` (checked with ``solveset``)."""
        step = Step("solve", as_expr(relation), as_expr(solution), "=", reason, var=as_expr(var))
        return self._add(step)

    def external(self, claim: str, reason: str, run: Callable[[], str]) -> Theorem:
        """Add a step checked by a named procedure, e.g. a translation validator.

        ``run()`` returns a one-line summary of what it proved (and how: it
        must bring its own symbolic and numeric evidence), or raises
        AssertionError or ValueError, which becomes a :class:`ProofError`
        carrying the procedure's message.  ``claim`` is displayed only.
        """
        shown = sp.Symbol(claim)  # a name to display; never parsed
        return self._add(Step("external", shown, shown, "", reason, run=run))

    def _add(self, step: Step) -> Theorem:
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
                    out.append((s.after, self.chain_relation(last), self.steps[last].after))
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

    def chain_relation(self, last: int) -> str:
        """Return the relation a chain ending at step index ``last`` concludes (strict wins)."""
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

    @property
    def cited(self) -> list[str]:
        """The facts of :data:`derivreg.proof.facts.CITED` the steps cite, in order."""
        return list(dict.fromkeys(s.cite for s in self.steps if s.cite))

    @property
    def conditions(self) -> list[sp.Basic]:
        """Factors declared nonzero by the steps: the theorem holds where none vanishes."""
        return list(dict.fromkeys(f for s in self.steps for f in s.nonzero))

    def expand(self, expr: sp.Basic) -> sp.Basic:
        """``expr`` with the named functions replaced by their definitions."""
        for _ in range(8):
            new = expr
            for f, definition in self.defs.items():
                new = new.replace(f, definition)
            if new == expr:
                return expr
            expr = new
        return expr

    # -- checking and rendering -------------------------------------------
    def check(self) -> Theorem:
        """Check every step, the case coverage and the statement; raise on the first gap.

        Returns
        -------
        Theorem
            ``self``; the result is cached, so a theorem used as an identity
            is checked once.

        Raises
        ------
        ProofError
            On the first step that fails, or a statement no chain concludes.
        """
        from derivreg.proof.checker import check

        if not self.checked:
            check(self)
            self.checked = True
        return self

    @property
    def title(self) -> str:
        """``Theorem <name>``."""
        return f"Theorem {self.name}"

    def blocks(self) -> list[Block]:
        """One block: the statement and domain as its note, one row per step.

        Examples
        --------
        >>> from derivreg.rendering import render
        >>> x = sp.Symbol("x", real=True)
        >>> t = Theorem("demo.sq", "a square").claim(x**2, "≥", 0, "a square")
        >>> print(render(t, "text").splitlines()[-1].strip())
        (a square [not checked])
        """
        from derivreg.proof.display import blocks

        return blocks(self)
