r"""SymPy's own printers, subclassed for the kernels, and the guards on what they print.

Every name that reaches generated source passes :func:`identifier`, every
expression :func:`check_names`, and every piece of prose goes through
:func:`comment` or :func:`prose`: no text given to the generator can end a
comment or a docstring and become a statement.

Examples
--------
>>> identifier("dJ_dz")
'dJ_dz'
>>> print(comment("two\nlines"))
two\nlines
"""

from __future__ import annotations

import keyword

import sympy as sp
from sympy.core.function import AppliedUndef
from sympy.printing.numpy import NumPyPrinter
from sympy.printing.precedence import precedence
from sympy.printing.pycode import PythonCodePrinter

__all__ = [
    "CORRECTED_LOG1P",
    "KernelPrinter",
    "LoopPrinter",
    "check_names",
    "comment",
    "identifier",
    "prose",
]


def identifier(name: str) -> str:
    """Return ``name`` if it may appear in generated source, else raise ValueError.

    A Python identifier, not a keyword, and not starting with ``__`` (no
    dunder attribute or builtin can be reached by a generated name).

    Examples
    --------
    >>> identifier("__import__")
    Traceback (most recent call last):
    ...
    ValueError: '__import__' is not a name generated code may use (it starts with '__')
    """
    if not isinstance(name, str) or not name.isidentifier() or keyword.iskeyword(name):
        raise ValueError(f"{name!r} is not a Python identifier")
    if name.startswith("__"):
        raise ValueError(f"{name!r} is not a name generated code may use (it starts with '__')")
    return name


def check_names(expr: sp.Basic) -> sp.Basic:
    """Return ``expr`` if every symbol and undefined function in it has a safe name.

    SymPy prints a symbol's name verbatim (cf. sympy#24990), so a symbol
    named ``"__import__('os').system('...')"`` would otherwise become code.

    Examples
    --------
    >>> check_names(sp.Symbol("z") + 1)
    z + 1
    >>> check_names(sp.Symbol("os.system('x')"))  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ValueError: symbol "os.system('x')" cannot be printed: ...
    """
    for atom in sorted(expr.atoms(sp.Symbol), key=str):
        try:
            identifier(atom.name)
        except ValueError as err:
            raise ValueError(f"symbol {atom.name!r} cannot be printed: {err}") from None
    for applied in sorted(expr.atoms(AppliedUndef), key=str):
        try:
            identifier(applied.func.__name__)
        except ValueError as err:
            raise ValueError(
                f"function {applied.func.__name__!r} cannot be printed: {err}"
            ) from None
    return expr


def comment(text: str) -> str:
    """Escape ``text`` for one comment line: no character of it can end the line.

    Examples
    --------
    >>> comment("ŷ - y")
    'ŷ - y'
    """
    return "".join(ch if ch.isprintable() else repr(ch)[1:-1] for ch in str(text))


def prose(text: str) -> str:
    r"""Escape ``text`` for the inside of a triple-quoted docstring, on one line.

    Backslashes and double quotes are escaped, so the docstring cannot be
    closed early; non-printable characters (newlines) are written as escapes.

    Examples
    --------
    >>> print(prose('say "hi"'))
    say \"hi\"
    """
    escaped = str(text).replace("\\", "\\\\").replace('"', '\\"')
    return comment(escaped)


# ---------------------------------------------------------------------------
# The printer.
# ---------------------------------------------------------------------------
class KernelPrinter(NumPyPrinter):
    """SymPy's NumPy printer, writing ``np.`` and binary NumPy calls.

    ``Max(a, b)`` prints as ``np.maximum(a, b)`` and a two-branch
    ``Piecewise`` as ``np.where``, so nothing stacks arrays.  An argument of
    ``Max`` or ``Min`` that is an :func:`~derivreg.codegen.rules.indicator`
    prints as its bare comparison: NumPy casts the booleans to 0.0 and 1.0
    inside the one call.  The sigmoid prints in its ``"maximum"`` form.

    Examples
    --------
    >>> from derivreg.symbolic import z
    >>> KernelPrinter().doprint(sp.Max(z, 0) + sp.exp(-sp.Abs(z)))
    'np.maximum(0, z) + np.exp(-np.abs(z))'
    >>> KernelPrinter().doprint(sp.Max(sp.exp(-z), sp.Piecewise((1, z >= 0), (0, True))))
    'np.maximum(np.exp(-z), (z >= 0))'
    """

    #: The form of ``Sigmoid.stable`` this printer writes (``derivreg.codegen.rules.FORMS``).
    sigmoid_form = "maximum"

    def _module_format(self, fqn: str, register: bool = True) -> str:
        name = super()._module_format(fqn, register)
        return "np." + name[len("numpy.") :] if name.startswith("numpy.") else name

    def doprint(self, expr: sp.Basic, assign_to: object = None) -> str:
        """Print ``expr`` after :func:`check_names` has accepted it."""
        return super().doprint(check_names(expr), assign_to)

    def _print_loggamma(self, expr: sp.Function) -> str:
        # one float (phi is a scalar): the checks' math.lgamma; the validator refuses it
        # of an array (derivreg.validate.semantics.CHECKED).  Of an array (it reads a
        # label, a score or yhat: Poisson's lgamma(y + 1)), the checks' elementwise one
        arg = self._print(expr.args[0])
        arrays = {"y", "z", "yhat"} & {s.name for s in expr.free_symbols}
        return f"_lgammas({arg})" if arrays else f"_lgamma({arg})"

    def _extremum(self, name: str, expr: sp.Max | sp.Min) -> str:
        # indicators last: np.maximum(e, (z >= 0)) reads as the branch it stands for
        first, *rest = sorted(expr.args, key=lambda a: _condition(a) is not None)
        out = self._print_arg(first)
        for arg in rest:
            out = f"{self._module_format(name)}({out}, {self._print_arg(arg)})"
        return out

    def _print_arg(self, arg: sp.Basic) -> str:
        cond = _condition(arg)
        return self._print(arg) if cond is None else self._print(cond)

    def _print_Max(self, expr: sp.Max) -> str:
        return self._extremum("numpy.maximum", expr)

    def _print_Min(self, expr: sp.Min) -> str:
        return self._extremum("numpy.minimum", expr)

    def _print_Abs(self, expr: sp.Abs) -> str:
        return f"{self._module_format('numpy.abs')}({self._print(expr.args[0])})"

    def _print_Relational(self, expr: sp.core.relational.Relational) -> str:
        return f"({self._print(expr.lhs)} {expr.rel_op} {self._print(expr.rhs)})"

    def _print_Piecewise(self, expr: sp.Piecewise) -> str:
        (value, cond), (other, default) = expr.args
        if len(expr.args) != 2 or default is not sp.true:
            return super()._print_Piecewise(expr)
        where = self._module_format("numpy.where")
        # an integer constant as a float: NumPy then selects without converting it
        a, b = (repr(float(v)) if v.is_Integer else self._print(v) for v in (value, other))
        return f"{where}({self._print(cond)}, {a}, {b})"


def _condition(expr: sp.Basic) -> sp.Basic | None:
    """Return the comparison ``c`` of an indicator ``Piecewise((1, c), (0, True))``, else None."""
    if isinstance(expr, sp.Piecewise) and len(expr.args) == 2:
        (one, cond), (zero, default) = expr.args
        relational = isinstance(cond, sp.core.relational.Relational)
        if one == 1 and zero == 0 and default is sp.true and relational:
            return cond
    return None


class LoopPrinter(PythonCodePrinter):
    """SymPy's Python printer for one sample: ``math.`` functions on floats.

    ``Max`` prints as the builtin ``max`` and a two-branch ``Piecewise`` as a
    conditional expression; CPython and numba both run the result.  With
    ``corrected_log``, ``log1p`` of a named value prints as
    :data:`CORRECTED_LOG1P` says: ``math.log`` with the rounding of ``1 + t``
    taken off, equal to ``log1p`` over the reals.

    Examples
    --------
    >>> from derivreg.symbolic import z
    >>> LoopPrinter().doprint(sp.Max(z, 0) + sp.exp(-sp.Abs(z)))
    'max(0, z) + math.exp(-abs(z))'
    >>> LoopPrinter().doprint(sp.Symbol("a") / (z + 1) ** 2)
    'a/((z + 1)*(z + 1))'
    >>> from sympy.codegen.cfunctions import log1p
    >>> LoopPrinter(corrected_log=True).doprint(log1p(sp.Symbol("t")))
    'math.log(t + 1) - ((t + 1) - 1 - t)/(t + 1)'
    """

    #: The form of ``Sigmoid.stable`` this printer writes: a conditional expression.
    sigmoid_form = "where"

    def __init__(self, *, corrected_log: bool = False) -> None:
        super().__init__({"fully_qualified_modules": True, "allow_unknown_functions": False})
        self._whole: sp.Basic | None = None  # the expression doprint was given
        self._corrected_log = corrected_log
        #: whether a log1p was printed as :data:`CORRECTED_LOG1P`'s form
        self.corrected = False

    def doprint(self, expr: sp.Basic, assign_to: object = None) -> str:
        """Print ``expr`` after :func:`check_names` has accepted it."""
        self._whole = check_names(expr)
        return super().doprint(self._whole, assign_to)

    def _print_Pow(self, expr: sp.Pow, rational: bool = False) -> str:
        # t**2 as t*t: one correctly rounded product, and no OverflowError in CPython.
        # Inside a larger expression, in parentheses: the product stands where SymPy
        # put a power, which binds tighter than its neighbours (a/q**2 is a/(q*q),
        # not a/q*q, which is a)
        if expr.exp == 2:
            base = self.parenthesize(expr.base, precedence(expr))
            return f"{base}*{base}" if expr is self._whole else f"({base}*{base})"
        return super()._print_Pow(expr, rational)

    def _print_log1p(self, expr: sp.Function) -> str:
        # With corrected_log, log1p(t) of a named t prints as CORRECTED_LOG1P says: one
        # libm log in place of the slower log1p (glibc's), within about 1 ulp
        t = expr.args[0]
        if not (self._corrected_log and t.is_Symbol):
            return super()._print_log1p(expr)
        self.corrected = True
        name, log = self._print(t), self._module_format("math.log")
        text = f"{log}({name} + 1) - (({name} + 1) - 1 - {name})/({name} + 1)"
        return text if expr is self._whole else f"({text})"


#: How :class:`LoopPrinter` (``corrected_log=True``) prints ``log1p(t)``, in the
#: generated comment.  With u = fl(1 + t) = 1 + t + d, ``(u - 1) - t`` is d exactly
#: for t > -1/2 (u - 1 is exact by Sterbenz's lemma; d, a sum's rounding error, is a
#: float), and log(u) - d/u is
#: log(1 + t) + O(d^2): glibc's log (< 1 ulp), one division and one subtraction.
#: Measured within 1.05 ulp of log1p(t) over 1.2e7 t in (0, 1], numba and CPython
#: alike (glibc's log1p: 0.82); the loop's accuracy test holds it to MAX_ULP.
CORRECTED_LOG1P = (
    "log1p(t) as log(u) - ((u - 1) - t)/u, u = t + 1: (u - 1) - t is u's rounding, exactly;\n"
    "one log in place of log1p (glibc's, ~10 ns more a call), within ~1 ulp of it"
)
