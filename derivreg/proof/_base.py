"""What every part of the checker shares: errors, cases, steps, expressions."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

import sympy as sp

from derivreg.rendering import text

if TYPE_CHECKING:  # pragma: no cover
    from derivreg.proof.theorem import Theorem

#: Working precision of the numeric witness, in decimal digits.
DIGITS = 50
#: Relative agreement the numeric witness requires: 20 digits of the 50
#: are left for cancellation inside an expression, while a wrong step is
#: off by far more than 1e-30 at almost every point.
TOLERANCE = "1e-30"

Relation = Literal["=", "≤", "<", "≥", ">", "≠"]
RELATIONS: tuple[str, ...] = ("=", "≤", "<", "≥", ">", "≠")
ASSUMPTIONS = ("real", "positive", "negative", "nonnegative", "nonpositive", "nonzero", "integer")


class ProofError(AssertionError):
    """A step of a theorem does not check, or the theorem claims more than its steps.

    An :class:`AssertionError`, so that pytest reports a wrong proof as a
    failed assertion.  The message names the theorem, the step number
    (1-based, the start of a chain not counted; 0 for the theorem as a
    whole), its reason, the gap (``detail``), both sides and the residual.

    Attributes
    ----------
    theorem : str
    step : int
    detail : str
        What is missing: ``"symbolic check failed"``, ``"uncovered case"``,
        ``"singular point"``, ``"statement mismatch"``, ``"uncited fact"`` ...
    before, after : sympy.Basic
        The previous expression (or a claim's left side) and the new one.
    residual : object
        What should have vanished (or had a sign), or the point where it did not.

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
        self.theorem, self.step, self.reason, self.detail = theorem, step, reason, detail
        self.before, self.after, self.residual = before, after, residual
        super().__init__(
            f"theorem {theorem!r}, step {step} ({reason}): {detail}\n"
            f"  before:   {show(before)}\n"
            f"  after:    {show(after)}\n"
            f"  residual: {show(residual)}"
        )


@dataclass(frozen=True)
class Case:
    """One case of a case split: a label and a substitution.

    A symbol is replaced by an expression of fresh parameters whose
    assumptions (and nothing else) say which values the case takes: ``z ->
    -p`` with ``p`` positive is the case ``z < 0``.  The checker computes
    each case's set of values from its substitution and requires the union
    over a step's cases to equal the domain of the symbols split.

    Examples
    --------
    >>> p = sp.Symbol("p", positive=True)
    >>> Case("z < 0", {sp.Symbol("z", real=True): -p}).label
    'z < 0'
    """

    label: str
    subs: Mapping[sp.Basic, sp.Basic]

    def __post_init__(self) -> None:
        # SymPy objects only: a value given as a Python int becomes an Integer.
        object.__setattr__(self, "subs", {as_expr(k): as_expr(v) for k, v in self.subs.items()})


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
            dict(zip(symbols, (v for _, v in combo), strict=True)),
        )
        for combo in itertools.product(*options)
    )


Identity = tuple["Theorem", Mapping[sp.Basic, sp.Basic]]


@dataclass
class Step:
    """One row of a theorem: a chain's start or step, a claim, a solution set, a procedure."""

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
    restate: bool = False
    nonzero: tuple[sp.Basic, ...] = ()
    status: str = "not checked"
    extra: dict = field(default_factory=dict)


def as_expr(obj: object) -> sp.Basic:
    """Return a SymPy object as it is, a Python int as an Integer; refuse anything else.

    Strings are never parsed: a theorem is built from SymPy objects only.

    Examples
    --------
    >>> as_expr(2)
    2
    >>> as_expr("x + 1")
    Traceback (most recent call last):
    ...
    TypeError: a theorem takes SymPy objects only, not str ('x + 1')
    """
    if isinstance(obj, sp.MatrixBase):
        return sp.ImmutableMatrix(obj)
    if isinstance(obj, sp.Basic):
        return obj
    if isinstance(obj, int) and not isinstance(obj, bool):
        return sp.Integer(obj)
    raise TypeError(f"a theorem takes SymPy objects only, not {type(obj).__name__} ({obj!r})")


def evaluated(expr: sp.Basic) -> sp.Basic:
    """Rebuild ``expr`` with SymPy's evaluation on: what a step kept as written, computed.

    ``UnevaluatedExpr`` wrappers are removed and unevaluated sums, products
    and powers are evaluated; derivatives, limits and substitutions stay
    unevaluated (the witness computes them with mpmath).

    Examples
    --------
    >>> x = sp.Symbol("x")
    >>> evaluated(sp.Mul(x, 1 / x, evaluate=False))
    1
    """
    if isinstance(expr, sp.MatrixBase):
        return sp.ImmutableMatrix(expr.applyfunc(evaluated))
    if isinstance(expr, sp.UnevaluatedExpr):
        return evaluated(expr.args[0])
    if not isinstance(expr, sp.Basic) or expr.is_Atom or not expr.args:
        return expr
    args = [evaluated(a) for a in expr.args]
    if isinstance(expr, sp.Add | sp.Mul | sp.Pow):
        return expr.func(*args)
    return expr.func(*args) if args != list(expr.args) else expr


def free(expr: sp.Basic) -> set[sp.Basic]:
    """Free symbols of an expression or matrix."""
    if isinstance(expr, sp.MatrixBase):
        return set().union(*(free(e) for e in expr))
    return set(expr.free_symbols)


def show(obj: object) -> str:
    """One-line text of an expression (or str of anything else), for messages."""
    return text(obj) if isinstance(obj, sp.Basic) else str(obj)
