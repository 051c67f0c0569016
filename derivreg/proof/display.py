"""A theorem as rendering blocks: its statement and domain, then one row per step."""

from __future__ import annotations

from typing import TYPE_CHECKING

import sympy as sp

from derivreg.proof._base import ASSUMPTIONS, Step, free
from derivreg.rendering import Block, Row, latex, text

if TYPE_CHECKING:  # pragma: no cover
    from derivreg.proof.theorem import Theorem

_OPS = {"==": "=", "!=": "≠", "<=": "≤", ">=": "≥"}


def relation_text(rel: sp.Basic) -> str:
    """``lhs op rhs`` in one line of text (anything else as text).

    Examples
    --------
    >>> x = sp.Symbol("x")
    >>> relation_text(x**2 >= 0)
    'x² ≥ 0'
    """
    if isinstance(rel, sp.core.relational.Relational):
        return f"{text(rel.lhs)} {_OPS.get(rel.rel_op, rel.rel_op)} {text(rel.rhs)}"
    return text(rel)


def set_text(s: sp.Set) -> str:
    """Write an interval, finite set, union or the reals in one line of text.

    Examples
    --------
    >>> set_text(sp.Interval.Lopen(0, 1))
    '(0, 1]'
    """
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
        return " ∪ ".join(set_text(a) for a in s.args)
    return text(s)


_SAME = (r"\text{(the same)}", "(the same)")


def _row(s: Step) -> Row:
    reason = f"{s.reason} [{s.status}]"
    if s.kind == "start":
        return Row(("", ""), [s.after], s.reason, " ")
    if s.kind == "step":
        same = s.restate and text(s.after) == text(s.before)
        return Row(("", ""), [_SAME if same else s.after], reason, s.relation)
    if s.kind == "claim":
        return Row(s.before, [s.after], reason, s.relation)
    if s.kind == "external":
        claim = s.before.name
        return Row(("", ""), [(r"\text{" + claim.replace("_", r"\_") + "}", claim)], reason, " ")
    v, rel = s.var, s.before
    lhs = (
        rf"\left\{{{latex(v)} \in \mathbb{{R}} : {latex(rel)}\right\}}",
        f"{{{text(v)} ∈ ℝ : {relation_text(rel)}}}",
    )
    return Row(lhs, [(latex(s.after), set_text(s.after))], reason, "=")


def blocks(thm: Theorem) -> list[Block]:
    """One block: the statement, domain and citations as its note, one row per step."""
    rows = [_row(s) for s in thm.steps]
    return [Block(f"{thm.name}: {thm.summary}", rows, note(thm))]


def _domain(thm: Theorem) -> list[str]:
    symbols: set[sp.Symbol] = set()
    for s in thm.steps:
        if s.kind == "external":
            continue
        for e in (s.before, s.after):
            symbols |= {f for f in free(thm.expand(e)) if isinstance(f, sp.Symbol)}
    for claim in thm.statement:
        symbols |= {f for f in claim.free_symbols if isinstance(f, sp.Symbol)}
    parts = []
    for v in sorted(symbols, key=str):
        if v in thm.where:
            parts.append(f"{text(v)} ∈ {set_text(thm.where[v])}")
        else:
            kind = next((a for a in ASSUMPTIONS[1:] if v.assumptions0.get(a)), None)
            parts.append(f"{text(v)} {kind or ('real' if v.is_real else 'complex')}")
    return parts


def _definitions(thm: Theorem) -> list[str]:
    used = set()
    for s in thm.steps:
        for e in (s.before, s.after, s.certificate):
            if isinstance(e, sp.Basic):
                used |= {type(a) for a in e.atoms(sp.Function)}
    out = []
    for f, definition in thm.defs.items():
        if f in used:
            args = ", ".join(text(a) for a in definition.variables)
            out.append(f"{f}({args}) := {text(definition.expr)}")
    return out


def note(thm: Theorem) -> str:
    """Statement, domain, definitions, conditions and citations, as sentences."""
    claims = [relation_text(c) for c in thm.statement]
    out = []
    if claims:
        out.append("Statement: " + "; ".join(claims) + ".")
    domain = _domain(thm) + _definitions(thm)
    if domain:
        out.append("Assumptions: " + "; ".join(domain) + ".")
    if thm.conditions:
        out.append("Where: " + "; ".join(f"{text(f)} ≠ 0" for f in thm.conditions) + ".")
    if thm.cited:
        out.append("Cites: " + "; ".join(thm.cited) + " (derivreg.proof.facts).")
    return " ".join(out)
