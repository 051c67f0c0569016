"""The stable rewrites, as data: each a theorem of ``proofs/stability.py``.

:data:`RULES` is the table the generator applies (and the only one): a
pattern, its replacement and the theorem that proves the two equal.  The
stable functions :class:`Sigmoid`, :class:`Softplus` and :class:`LogCosh`
stay whole through the rewrites and are expanded into overflow-free NumPy
only when printed (:mod:`derivreg.codegen.stable`, whose names are
re-exported here).

Examples
--------
>>> from derivreg.symbolic import sigmoid, z
>>> stabilize(sp.log(sigmoid(z)))
(-Softplus(-z), ('sigmoid', 'log_sigmoid'))
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import sympy as sp

# re-exported: the stable functions were defined here, and are imported from here
from derivreg.codegen.stable import (
    EXPANSIONS,
    FORMS,
    LOG_COSH_SWITCH,
    LogCosh,
    Sigmoid,
    Softplus,
    expand_stable,
    indicator,
)
from derivreg.symbolic import y

__all__ = [
    "EXPANSIONS",
    "FORMS",
    "LOG_COSH_SWITCH",
    "RULES",
    "LogCosh",
    "Rule",
    "Sigmoid",
    "Softplus",
    "expand_stable",
    "indicator",
    "stabilize",
]


# ---------------------------------------------------------------------------
# The rewrites, as data.
# ---------------------------------------------------------------------------
@dataclass(frozen=True)
class Rule:
    """One stable rewrite: a pattern, its replacement, and its proof.

    Parameters
    ----------
    name : str
        Short name, used in generated comments.
    statement : str
        The identity, in words.
    theorem : str
        Name of the theorem in ``proofs/stability.py`` that proves it.
    apply : callable
        Rewrites one SymPy node, or returns ``None`` where it does not match.

    Examples
    --------
    >>> RULES[0].name
    'sigmoid'
    """

    name: str
    statement: str
    theorem: str
    apply: Callable[[sp.Basic], sp.Basic | None] = field(repr=False)


def _as_sigmoid(node: sp.Basic) -> sp.Basic | None:
    # 1/(1 + exp(-t))  ->  Sigmoid(t)
    if node.is_Pow and node.exp == -1 and node.base.is_Add and len(node.base.args) == 2:
        one, other = sorted(node.base.args, key=lambda a: a != 1)
        if one == 1 and isinstance(other, sp.exp):
            return Sigmoid(-other.args[0])
    return None


def _log_sigmoid(node: sp.Basic) -> sp.Basic | None:
    # log(Sigmoid(t)) -> -Softplus(-t);  log(1 - Sigmoid(t)) -> -Softplus(t)
    if isinstance(node, sp.log):
        (arg,) = node.args
        if isinstance(arg, Sigmoid):
            return -Softplus(-arg.args[0])
        complement = _complement(arg)
        if complement is not None:
            return -Softplus(complement)
    return None


def _complement(expr: sp.Basic) -> sp.Expr | None:
    """``t`` if ``expr`` is ``1 - Sigmoid(t)``, else ``None``."""
    if expr.is_Add and len(expr.args) == 2 and 1 in expr.args:
        other = expr.args[0] if expr.args[1] == 1 else expr.args[1]
        coeff, rest = other.as_coeff_Mul()
        if coeff == -1 and isinstance(rest, Sigmoid):
            return rest.args[0]
    return None


def _one_minus_sigmoid(node: sp.Basic) -> sp.Basic | None:
    # 1 - Sigmoid(t) -> Sigmoid(-t)
    t = _complement(node)
    return Sigmoid(-t) if t is not None else None


def _residual_split(node: sp.Basic) -> sp.Basic | None:
    # Sigmoid(t) - y -> (1 - y) Sigmoid(t) - y Sigmoid(-t): no cancellation for y in {0, 1}.
    if node.is_Add and len(node.args) == 2 and -y in node.args:
        other = node.args[0] if node.args[1] == -y else node.args[1]
        if isinstance(other, Sigmoid):
            t = other.args[0]
            return (1 - y) * Sigmoid(t) - y * Sigmoid(-t)
    return None


def _tanh(node: sp.Basic) -> sp.Basic | None:
    # sinh(t) / cosh(t) -> tanh(t): |tanh| <= 1 where sinh and cosh overflow
    if not node.is_Mul:
        return None
    factors = list(node.args)
    for i, f in enumerate(factors):
        if isinstance(f, sp.sinh):
            over = sp.Pow(sp.cosh(f.args[0]), -1)
            if over in factors:
                rest = [g for j, g in enumerate(factors) if j != i]
                rest.remove(over)
                return sp.Mul(sp.tanh(f.args[0]), *rest)
    return None


def _cosh_sinh(node: sp.Basic) -> sp.Basic | None:
    # cosh(t) + sinh(t) -> exp(t);  cosh(t) - sinh(t) -> exp(-t)
    if not (node.is_Add and len(node.args) == 2):
        return None
    first, second = node.args
    for c, other in ((first, second), (second, first)):
        if isinstance(c, sp.cosh):
            (t,) = c.args
            if other == sp.sinh(t):
                return sp.exp(t)
            if other == -sp.sinh(t):
                return sp.exp(-t)
    return None


def _exp_product(node: sp.Basic) -> sp.Basic | None:
    # exp(a) exp(b) -> exp(a + b): exp(t) exp(-t) would be inf * 0 past |t| = 709.8
    if not node.is_Mul:
        return None
    exps = [f for f in node.args if isinstance(f, sp.exp)]
    if len(exps) < 2:
        return None
    rest = [f for f in node.args if not isinstance(f, sp.exp)]
    return sp.Mul(sp.exp(sp.Add(*(e.args[0] for e in exps))), *rest)


def _log_cosh(node: sp.Basic) -> sp.Basic | None:
    # log(cosh(t)) -> LogCosh(t)
    if isinstance(node, sp.log) and isinstance(node.args[0], sp.cosh):
        return LogCosh(node.args[0].args[0])
    return None


def _exp_ratio(node: sp.Basic) -> sp.Basic | None:
    # c exp(-t) (a + b exp(t)) -> c (a exp(-t) + b): no inf * 0 past exp(t) overflow
    if not node.is_Mul:
        return None
    coeff, rest = node.as_coeff_Mul()
    factors: tuple[sp.Basic, ...] = rest.args if rest.is_Mul else (rest,)
    if len(factors) != 2:
        return None
    first, second = factors
    for decay, total in ((first, second), (second, first)):
        if isinstance(decay, sp.exp) and total.is_Add:
            grows = sp.exp(-decay.args[0])
            if any(term.as_independent(grows)[1] == grows for term in total.args):
                return coeff * sp.Add(*(term * decay for term in total.args))
    return None


#: The stable rewrites, applied in order until nothing changes.  Each is a
#: theorem of ``proofs/stability.py``; the generator applies no other.
RULES: tuple[Rule, ...] = (
    Rule("sigmoid", "1/(1 + exp(-t)) = sigma(t)", "sigmoid_stable_form", _as_sigmoid),
    Rule(
        "log_sigmoid",
        "log sigma(t) = -softplus(-t) and log(1 - sigma(t)) = -softplus(t)",
        "log_sigmoid",
        _log_sigmoid,
    ),
    Rule("one_minus_sigmoid", "1 - sigma(t) = sigma(-t)", "one_minus_sigmoid", _one_minus_sigmoid),
    Rule(
        "residual_split",
        "sigma(t) - y = (1 - y) sigma(t) - y sigma(-t)",
        "dJ_dz_stable_form",
        _residual_split,
    ),
    Rule("tanh", "sinh(t)/cosh(t) = tanh(t)", "tanh_quotient", _tanh),
    Rule(
        "cosh_sinh",
        "cosh(t) + sinh(t) = exp(t) and cosh(t) - sinh(t) = exp(-t)",
        "cosh_plus_sinh",
        _cosh_sinh,
    ),
    Rule("exp_product", "exp(a) exp(b) = exp(a + b)", "exp_product", _exp_product),
    Rule("log_cosh", "log(cosh(t)) = logcosh(t)", "log_cosh", _log_cosh),
    Rule(
        "exp_ratio",
        "exp(-t) (a + b exp(t)) = a exp(-t) + b",
        "exp_ratio_stable_form",
        _exp_ratio,
    ),
)


def stabilize(expr: sp.Basic) -> tuple[sp.Basic, tuple[str, ...]]:
    """Apply :data:`RULES` bottom-up until nothing changes.

    Returns the rewritten expression and the names of the rules used.

    Examples
    --------
    >>> from derivreg.symbolic import sigmoid, z
    >>> stabilize(sp.log(sigmoid(z)))
    (-Softplus(-z), ('sigmoid', 'log_sigmoid'))
    """
    used: list[str] = []

    def visit(node: sp.Basic) -> sp.Basic:
        if node.args:
            node = node.func(*(visit(a) for a in node.args))
        for rule in RULES:
            new = rule.apply(node)
            if new is not None:
                if rule.name not in used:
                    used.append(rule.name)
                return visit(new)
        return node

    previous = None
    while previous != expr:
        previous, expr = expr, visit(expr)
    return expr, tuple(used)
