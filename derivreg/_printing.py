"""The two expression printers behind :mod:`derivreg.rendering`: LaTeX and one-line Unicode.

Both keep a product that a proof wrote unevaluated as written (factor by
factor), write n-vectors as vectors, and put the parameter first in an
update rule (``w := w + ...``), as the slides do.

Examples
--------
>>> from derivreg.symbolic import y, yhat
>>> text(yhat * (1 - yhat)), text(yhat - y)
('ŷ·(1 - ŷ)', 'ŷ - y')
"""

from __future__ import annotations

from typing import ClassVar

import sympy as sp
from sympy.printing.latex import LatexPrinter
from sympy.printing.str import StrPrinter

from derivreg.symbolic import w_vector, x_vector

__all__ = ["latex", "text"]

_VECTOR_NAMES = {x_vector: r"\vec{x}", w_vector: r"\vec{w}"}


class _TextPrinter(StrPrinter):
    """One-line Unicode printer: ŷ, α, ·, superscripts, vectors as ``x``."""

    #: How :class:`~derivreg.symbolic._Dot` joins x and w in this printer.
    dot_operator = "ᵀ·"
    _names: ClassVar[dict[str, str]] = {"yhat": "ŷ", "alpha": "α", "sigma": "σ"}
    _superscripts = str.maketrans("0123456789-", "⁰¹²³⁴⁵⁶⁷⁸⁹⁻")

    def _print_Symbol(self, expr: sp.Symbol) -> str:
        head, _, index = expr.name.partition("_")
        if index and head in self._names:  # a component, e.g. yhat_i -> ŷ_i
            return f"{self._names[head]}_{index}"
        return self._names.get(expr.name, expr.name)

    def _print_KroneckerDelta(self, expr: sp.KroneckerDelta) -> str:
        return "δ_" + "".join(self._print(a) for a in expr.args)

    def _print_Sum(self, expr: sp.Sum) -> str:
        # Σ_c (...): the index only, as the slides write a sum over the classes.
        body = self.parenthesize(expr.function, sp.printing.precedence.PRECEDENCE["Mul"])
        return f"Σ_{''.join(self._print(limit[0]) for limit in expr.limits)} {body}"

    def _print_MatrixSymbol(self, expr: sp.MatrixSymbol) -> str:
        return expr.name

    def _print_Transpose(self, expr: sp.Transpose) -> str:
        return f"{self._print(expr.arg)}ᵀ"

    def _print_Mul(self, expr: sp.Mul) -> str:
        if _as_written(expr):
            return self._written_product(expr)
        return super()._print_Mul(expr).replace("*", "·")

    def _written_product(self, expr: sp.Mul) -> str:
        """Print a product kept as written: a fraction ``num/den``, else factors joined by `` · ``.

        Inside it, a factor that is itself a product juxtaposes a
        parenthesised sum, as the slides write ``ŷ(1 - ŷ)``.
        """
        num = [a for a in expr.args if not _reciprocal(a)]
        den = [a.base for a in expr.args if _reciprocal(a)]
        if den:
            top = " · ".join(self._factor(a, len(num) > 1) for a in num) if num else "1"
            if len(num) == 1 and isinstance(num[0], sp.Add):
                top = f"({self._print(num[0])})"
            bottom = " · ".join(self._factor(a, True) for a in den)
            bare = len(den) == 1 and (den[0].is_Atom or isinstance(den[0], sp.Function))
            return f"{top}/{bottom if bare else f'({bottom})'}"
        return " · ".join(self._factor(a, True) for a in num)

    def _factor(self, a: sp.Basic, paren_sum: bool) -> str:
        if isinstance(a, sp.Add) and paren_sum:
            return f"({self._print(a)})"
        if isinstance(a, sp.Mul) and not _as_written(a):
            return self._print(a).replace("·(", "(")
        return self._print(a)

    def _print_MatMul(self, expr: sp.MatMul) -> str:
        # A scalar coefficient prints as it would in a product of scalars:
        # 2·α·(y - ŷ)·x rather than (2·α·(y - ŷ))·x.
        coeff, matrices = expr.as_coeff_matrices()
        if coeff != 1 and len(matrices) == 1:
            if coeff.as_coeff_Mul()[0] < 0:
                return "-" + self._print(sp.MatMul(-coeff, matrices[0]))
            scalar = self.parenthesize(coeff, sp.printing.precedence.PRECEDENCE["Mul"], strict=True)
            return f"{scalar}·{self._print(matrices[0])}"
        return super()._print_MatMul(expr).replace("*", "·")

    def _print_MatAdd(self, expr: sp.MatAdd) -> str:
        # The parameter first, then its step, as the slides write w := w + ...
        terms = sorted(expr.args, key=lambda t: not isinstance(t, sp.MatrixSymbol))
        out = self._print(terms[0])
        for term in terms[1:]:
            printed = self._print(term)
            out += f" - {printed[1:]}" if printed.startswith("-") else f" + {printed}"
        return out

    def _print_Pow(self, expr: sp.Pow, rational: bool = False) -> str:
        base, power = expr.as_base_exp()
        if power.is_Integer and 1 < power < 10:
            inner = self.parenthesize(base, sp.printing.precedence.PRECEDENCE["Pow"])
            return inner + str(power).translate(self._superscripts)
        return super()._print_Pow(expr, rational)

    def _print_exp(self, expr: sp.Expr) -> str:
        return f"exp({self._print(expr.args[0])})"

    def _print_Function(self, expr: sp.Function) -> str:
        name = self._names.get(expr.func.__name__, expr.func.__name__)
        return f"{name}({', '.join(self._print(a) for a in expr.args)})"

    def _print_Derivative(self, expr: sp.Derivative) -> str:
        # ∂/∂ŷ [J], ∂²/∂z² [J]: the operator, then what it applies to.
        parts = []
        for v, k in expr.variable_count:
            power = str(k).translate(self._superscripts) if k != 1 else ""
            parts.append((f"∂{self._print(v)}{power}", power))
        top = "".join(p for _, p in parts[:1]) if len(parts) == 1 else ""
        order = sum(int(k) for _, k in expr.variable_count)
        top = str(order).translate(self._superscripts) if order > 1 else top
        return f"∂{top}/{''.join(d for d, _ in parts)} [{self._print(expr.expr)}]"


def _reciprocal(a: sp.Basic) -> bool:
    return isinstance(a, sp.Pow) and a.exp == -1 and not a.base.is_Number


def _as_written(expr: sp.Basic) -> bool:
    """Whether a product was kept unevaluated (SymPy would rebuild it otherwise).

    A number times one factor (``-2(y - ŷ)``) prints as an ordinary product.
    """
    if not isinstance(expr, sp.Mul) or (len(expr.args) == 2 and expr.args[0].is_Number):
        return False
    return sp.Mul(*expr.args).args != expr.args


class _LatexPrinter(LatexPrinter):
    """SymPy's LaTeX printer, with an unevaluated factor kept in parentheses.

    SymPy prints ``-2 a UnevaluatedExpr(-2 x)`` as ``- 2 a - 2 x``, which
    reads as a difference; proofs use unevaluated factors to show a product
    as written, so they are parenthesised here.
    """

    def _print_Mul(self, expr: sp.Mul) -> str:
        # A product kept as written shows its factors, joined by a dot.
        if _as_written(expr) and not any(_reciprocal(a) for a in expr.args):
            parts = [self._print(a) for a in expr.args]
            parts = [
                rf"\left({p}\right)" if isinstance(a, sp.Add) else p
                for a, p in zip(expr.args, parts, strict=True)
            ]
            return r" \cdot ".join(parts)
        return super()._print_Mul(expr)

    def _print_MatAdd(self, expr: sp.MatAdd) -> str:
        # The parameter first, then its step, as the text printer and the slides write it.
        terms = sorted(expr.args, key=lambda t: not isinstance(t, sp.MatrixSymbol))
        out = self._print(terms[0])
        for term in terms[1:]:
            printed = self._print(term)
            out += f" - {printed[1:].lstrip()}" if printed.startswith("-") else f" + {printed}"
        return out

    def _print_UnevaluatedExpr(self, expr: sp.UnevaluatedExpr) -> str:
        inner = self._print(expr.args[0])
        # A sum is parenthesised by the enclosing product already; a signed
        # product is not.
        return rf"\left({inner}\right)" if inner.startswith("-") else inner


def latex(expr: sp.Basic) -> str:
    r"""LaTeX for an expression, with n-vectors written ``\\vec{x}``.

    Examples
    --------
    >>> from derivreg.symbolic import y, yhat
    >>> latex(yhat - y)
    '\\hat{y} - y'
    >>> latex(3 * sp.UnevaluatedExpr(-2 * y))
    '3 \\left(- 2 y\\right)'
    """
    return _LatexPrinter({"symbol_names": _VECTOR_NAMES, "order": "old"}).doprint(expr)


def text(expr: sp.Basic) -> str:
    """One-line Unicode text for an expression.

    Examples
    --------
    >>> from derivreg.symbolic import y, yhat, alpha
    >>> text(alpha * (y - yhat) ** 2)
    'α·(y - ŷ)²'
    """
    return _TextPrinter({"order": "old"}).doprint(expr)
