"""The stable functions: kept whole through the rewrites, printed overflow-free.

:class:`Sigmoid`, :class:`Softplus` and :class:`LogCosh` are opaque to the
rewrites of :data:`derivreg.codegen.rules.RULES`, so that a rule can
recognise them, and each is expanded into NumPy that neither overflows nor
cancels only when printed (:func:`expand_stable`).  Every printed form is a
theorem of ``proofs/stability.py``: :data:`EXPANSIONS` names it for each
function, :data:`FORMS` for each of the sigmoid's forms.

Examples
--------
>>> from derivreg.symbolic import z
>>> expand_stable(Softplus(z))
log1p(exp(-Abs(z))) + Max(0, z)
"""

from __future__ import annotations

from collections.abc import Mapping

import sympy as sp
from sympy.codegen.cfunctions import log1p

__all__ = [
    "EXPANSIONS",
    "FORMS",
    "LOG_COSH_SWITCH",
    "LogCosh",
    "Sigmoid",
    "Softplus",
    "expand_stable",
    "indicator",
]


class Sigmoid(sp.Function):
    """The logistic function, kept whole so rewrites can recognise it.

    Its stable form is ``where(t >= 0, 1, e) / (1 + e)`` with ``e =
    exp(-|t|)``, which never overflows.  Every sigmoid of ``z`` or ``-z`` in
    an expression shares the one ``e`` (``|-z|`` is ``|z|``), so the sigmoid
    family costs one ``exp`` per element.  The per-sample printer writes the
    selection as a conditional expression.  The NumPy printer writes it
    ``np.maximum(e, t >= 0)`` (:data:`FORMS` ``"maximum"``): ``e <= 1``
    everywhere and ``e > 0``, so the larger of ``e`` and the comparison's
    0 or 1 is the same float as the branch's, and NumPy takes it with one
    vectorised instruction per few elements where ``np.where`` branched
    on every element, mispredicted on scores of random sign
    (``benchmarks/blocks.py``: 5.3 against 0.95 ns per element at 1e6).
    The branch-free ``exp(min(t, 0))`` form is the same again at the cost
    of an ``exp`` per sigmoid.

    Examples
    --------
    >>> from derivreg.symbolic import z
    >>> Sigmoid(z).rewrite(sp.exp)
    1/(1 + exp(-z))
    >>> Sigmoid(z).stable()
    Piecewise((1, z >= 0), (exp(-Abs(z)), True))/(1 + exp(-Abs(z)))
    >>> Sigmoid(z).stable("maximum")
    Max(Piecewise((1, z >= 0), (0, True)), exp(-Abs(z)))/(1 + exp(-Abs(z)))
    """

    nargs = 1

    def _eval_rewrite_as_exp(self, t: sp.Expr, **_: object) -> sp.Expr:
        return 1 / (1 + sp.exp(-t))

    def stable(self, form: str = "where") -> sp.Expr:
        """Return the overflow-free form a printer emits (one of :data:`FORMS`).

        Each form is a theorem of ``proofs/stability.py``, named in :data:`FORMS`.
        """
        if form not in FORMS:
            raise ValueError(f"form must be one of {sorted(FORMS)}, got {form!r}")
        (t,) = self.args
        e = sp.exp(-sp.Abs(t))
        if form == "exp_min":
            return sp.exp(sp.Min(t, 0)) / (1 + e)
        if form == "maximum":
            return sp.Max(e, indicator(t >= 0)) / (1 + e)
        return sp.Piecewise((1, t >= 0), (e, True)) / (1 + e)


#: The sigmoid's printed forms and the theorems of ``proofs/stability.py`` that prove them.
FORMS: Mapping[str, str] = {
    "where": "sigmoid_stable_form",
    "maximum": "sigmoid_maximum_form",
    "exp_min": "sigmoid_branch_free_form",
}


def indicator(condition: sp.Basic) -> sp.Piecewise:
    """1 where ``condition`` holds, else 0: a comparison's value as NumPy casts it to a float.

    Examples
    --------
    >>> from derivreg.symbolic import z
    >>> indicator(z >= 0)
    Piecewise((1, z >= 0), (0, True))
    """
    return sp.Piecewise((1, condition), (0, True))


class Softplus(sp.Function):
    """``log(1 + exp(t))``, kept whole so rewrites can recognise it.

    Prints as ``max(t, 0) + log1p(exp(-|t|))``, which never overflows and is
    accurate where ``log(1 + exp(t))`` rounds to 0 or overflows.

    Examples
    --------
    >>> from derivreg.symbolic import z
    >>> Softplus(z).rewrite(sp.log)
    log(exp(z) + 1)
    """

    nargs = 1

    def _eval_rewrite_as_log(self, t: sp.Expr, **_: object) -> sp.Expr:
        return sp.log(1 + sp.exp(t))

    def stable(self) -> sp.Expr:
        """Return the overflow-free form the printer emits."""
        (t,) = self.args
        return sp.Max(t, 0) + log1p(sp.exp(-sp.Abs(t)))


#: Where :class:`LogCosh` switches from its form for small ``|t|`` to its form
#: for large ``|t|``: both are accurate on both sides of 1 (measured against
#: mpmath, ``tests/test_log_cosh.py``), the first cannot be used far out
#: (``sinh(t)**2`` overflows past ``|t| = 355``), the second not near 0
#: (``|t| - log 2`` cancels there).
LOG_COSH_SWITCH = 1


class LogCosh(sp.Function):
    """``log(cosh(t))``, kept whole so that it prints in a form without cancellation.

    Prints as ``where(|t| < 1, log1p(sinh(t)**2)/2, |t| - log 2 + log1p(exp(-2|t|)))``:
    near 0, where ``log cosh t ~ t**2/2``, the first branch has no
    cancellation (``log cosh t = log(cosh(t)**2)/2 = log1p(sinh(t)**2)/2``);
    far out, where ``cosh`` and ``sinh**2`` overflow, the second is finite
    (``cosh t = exp(|t|)(1 + exp(-2|t|))/2``).  Both branches equal
    ``log cosh t`` for every real ``t`` (``proofs/stability.py``), so the
    value does not depend on which one the condition picks.

    Examples
    --------
    >>> from derivreg.symbolic import z
    >>> LogCosh(z).rewrite(sp.cosh)
    log(cosh(z))
    >>> LogCosh(-z)
    LogCosh(z)
    """

    nargs = 1

    # SymPy's Function.eval hook (automatic simplification of LogCosh(t) on
    # construction), not Python's eval: it runs no text, only this method.
    @classmethod
    def eval(cls, t: sp.Expr) -> sp.Expr | None:
        """``LogCosh`` is even: a negated argument is turned round, as ``cosh`` turns it."""
        if t.could_extract_minus_sign():
            return cls(-t)
        return None

    def _eval_rewrite_as_cosh(self, t: sp.Expr, **_: object) -> sp.Expr:
        return sp.log(sp.cosh(t))

    def stable(self) -> sp.Expr:
        """Return the form the printers emit: accurate near 0, finite for every float."""
        (t,) = self.args
        a = sp.Abs(t)
        near = log1p(sp.sinh(t) ** 2) / 2
        far = a - sp.log(2) + log1p(sp.exp(-2 * a))
        return sp.Piecewise((near, a < LOG_COSH_SWITCH), (far, True))


#: How the stable functions print, each also a theorem of ``proofs/stability.py``.
EXPANSIONS: Mapping[type, str] = {
    Sigmoid: "sigmoid_stable_form",
    Softplus: "softplus_stable_form",
    LogCosh: "log_cosh_stable_form",
}


def expand_stable(expr: sp.Basic, form: str = "where") -> sp.Basic:
    """Replace every stable function by the form it prints as (the sigmoid's in ``form``).

    Examples
    --------
    >>> from derivreg.symbolic import z
    >>> expand_stable(Softplus(z))
    log1p(exp(-Abs(z))) + Max(0, z)
    """
    expr = expr.replace(lambda e: isinstance(e, LogCosh), lambda e: e.stable())
    return expr.replace(lambda e: isinstance(e, Softplus), lambda e: e.stable()).replace(
        lambda e: isinstance(e, Sigmoid), lambda e: e.stable(form)
    )
