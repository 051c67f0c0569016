"""What printed expressions mean: NumPy (and ``math``) on the reals, as a table.

A hole of a generated module (a printed right-hand side) may use only the
operations below.  Each maps to a SymPy function that is *real* exactly
where NumPy computes a number; where NumPy would give NaN (``sqrt`` or
``log`` of a negative), SymPy would give a complex number, so every entry
with a restricted domain carries its condition, which must be proven for
the argument (by SymPy's assumptions, for every real input) before the hole
is accepted.  ``np.sqrt(z)**2`` in place of ``z`` is therefore rejected:
``z >= 0`` does not hold for every real ``z``.

Division is a restricted domain too, and the one SymPy hides: it cancels as
it builds, so ``z / z`` is 1 before anything can look at it, while NumPy
gives NaN at ``z = 0`` (and Python's ``/`` in the per-sample loop raises).
So each denominator, and each base of a negative power (``z**-1``,
``z**(-1.0)``), is proven nonzero *before* the quotient is formed
(:func:`~derivreg.validate.denominators.nonzero`): for every real input,
under the symbols' assumptions, with each ``exp`` counted as only
nonnegative (float64's underflows to 0), factor by factor and in every
sign case of the values under ``|.|``, ``max`` or a branch.  ``np.sqrt(z)``
and ``np.log(z)`` keep their own domains (``log``'s pole at 0 is its
"zero or negative"); ``np.divide`` and ``np.reciprocal`` are not in the
table, so the only spellings of a division are ``/`` and a negative power.
``z**0`` is accepted: it is 1 in NumPy and Python at every ``z``, 0 and NaN
included (IEEE ``pow(x, 0) = 1``), as it is in SymPy.  A denominator may
vanish only where the derivation's own expression divides by zero (BCE's
``dJ/dyhat`` at ``yhat`` in {0, 1}): there the derivation has no value to
differ from, and the fixed code takes the limits (``_at_edges``).

Not modelled: overflow.  On the reals ``exp(z) - exp(z)`` is 0 and
``(exp(z) + 1) / (exp(z) + 1)`` is 1 (SymPy cancels both as it builds
them), while float64 gives ``inf - inf`` and ``inf / inf``, NaN, past
``z = 709.78``: a known gap, kept as a strict xfail in
``tests/test_validate_attacks.py``.

Nothing read is passed to ``sympify``, ``eval`` or ``exec``: constants are
converted exactly from their Python values, and a string where a number
belongs is a rejection.

Examples
--------
>>> import ast
>>> from derivreg.symbolic import z
>>> meaning(ast.parse("np.maximum(0, z)", mode="eval").body, {"z": z})
Max(0, z)
>>> meaning(ast.parse("np.sqrt(z)**2", mode="eval").body, {"z": z})  # doctest: +ELLIPSIS
Traceback (most recent call last):
...
derivreg.validate.report.ValidationError: `np.sqrt(z)`: the argument z may be negative, ...
>>> meaning(ast.parse("2 * z * (z / z)", mode="eval").body, {"z": z})  # doctest: +ELLIPSIS
Traceback (most recent call last):
...
derivreg.validate.report.ValidationError: `z / z`: the denominator z may be zero, where NumPy ...
"""

from __future__ import annotations

import ast
import functools
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass

import sympy as sp

from derivreg.validate.denominators import nonzero
from derivreg.validate.report import ValidationError

__all__ = ["BUILTINS", "CHECKED", "MATH", "NUMPY", "Meaning", "constant", "meaning"]

#: Factors a denominator may share with the derivation's own expression.
Poles = frozenset[sp.Basic]


@dataclass(frozen=True)
class Meaning:
    """One function a hole may call: its SymPy meaning and its real domain.

    Attributes
    ----------
    function : callable
        Builds the SymPy value from the arguments' values.
    arity : int
        The number of positional arguments (no keywords are ever allowed).
    domain : callable or None
        Maps the arguments to ``(condition, words)``; the condition must be
        proven True for the call to be accepted; the words say what the
        argument must not be.

    Examples
    --------
    >>> NUMPY["log"].domain(sp.Integer(2))
    (True, 'zero or negative')
    """

    function: Callable[..., sp.Basic]
    arity: int
    domain: Callable[..., tuple[bool | None, str]] | None = None


def _positive(t: sp.Basic) -> tuple[bool | None, str]:
    return t.is_positive, "zero or negative"


def _nonnegative(t: sp.Basic) -> tuple[bool | None, str]:
    return t.is_nonnegative, "negative"


def _above_minus_one(t: sp.Basic) -> tuple[bool | None, str]:
    return (1 + t).is_positive, "-1 or less"


def _where(cond: sp.Basic, a: sp.Basic, b: sp.Basic) -> sp.Basic:
    if not isinstance(cond, sp.core.relational.Relational):
        raise ValidationError(f"the condition of a branch must be a comparison, got {cond}")
    return sp.Piecewise((a, cond), (b, True))


def _number(t: sp.Basic) -> sp.Basic:
    """Read a comparison where a number belongs as its 0 or 1 (NumPy casts booleans so)."""
    if isinstance(t, sp.core.relational.Relational):
        return sp.Piecewise((1, t), (0, True))
    return t


def _maximum(a: sp.Basic, b: sp.Basic) -> sp.Basic:
    return sp.Max(_number(a), _number(b))


def _minimum(a: sp.Basic, b: sp.Basic) -> sp.Basic:
    return sp.Min(_number(a), _number(b))


def _log1p(t: sp.Basic) -> sp.Basic:
    return sp.log(1 + t)


def _expm1(t: sp.Basic) -> sp.Basic:
    return sp.exp(t) - 1


#: ``np.<name>``: elementwise, so a hole means the same on each element.
NUMPY: Mapping[str, Meaning] = {
    "exp": Meaning(sp.exp, 1),
    "log": Meaning(sp.log, 1, _positive),
    "log1p": Meaning(_log1p, 1, _above_minus_one),
    "sqrt": Meaning(sp.sqrt, 1, _nonnegative),
    "expm1": Meaning(_expm1, 1),
    "abs": Meaning(sp.Abs, 1),
    "sinh": Meaning(sp.sinh, 1),
    "cosh": Meaning(sp.cosh, 1),
    "tanh": Meaning(sp.tanh, 1),
    "maximum": Meaning(_maximum, 2),
    "minimum": Meaning(_minimum, 2),
    "where": Meaning(_where, 3),
}

#: ``math.<name>`` of the per-sample loop (``math.log`` of a negative raises).
MATH: Mapping[str, Meaning] = {
    "exp": Meaning(sp.exp, 1),
    "log": Meaning(sp.log, 1, _positive),
    "log1p": Meaning(_log1p, 1, _above_minus_one),
    "sqrt": Meaning(sp.sqrt, 1, _nonnegative),
    "expm1": Meaning(_expm1, 1),
    "sinh": Meaning(sp.sinh, 1),
    "cosh": Meaning(sp.cosh, 1),
    "tanh": Meaning(sp.tanh, 1),
}


def _one_positive_float(t: sp.Basic) -> tuple[bool | None, str]:
    """``math.lgamma``'s domain: one float (no label, score or yhat: those are arrays) > 0."""
    if any(s.name in ("y", "z", "yhat") for s in t.free_symbols):
        return False, "an array (it reads y, z or yhat), where math.lgamma takes one float"
    return t.is_positive, "zero or negative"


#: The kernels' checks a hole may call (``derivreg/kernels/_checks.py``, compared node for
#: node with the generator's): ``_lgamma(t) = math.lgamma(float(t))``, log Gamma(t), real
#: for t > 0 (NumPy has no log-gamma: the Gamma's normaliser needs lgamma(1/phi));
#: ``_lgammas(t)``, math.lgamma of each entry of an array, elementwise as NumPy's (nan at
#: t <= 0, so t > 0 must be proven: Poisson's lgamma(y + 1), with the labels y >= 0).
CHECKED: Mapping[str, Meaning] = {
    "_lgamma": Meaning(sp.loggamma, 1, _one_positive_float),
    "_lgammas": Meaning(sp.loggamma, 1, _positive),
}

#: Builtins of the per-sample loop, on floats.
BUILTINS: Mapping[str, Meaning] = {
    "abs": Meaning(sp.Abs, 1),
    "max": Meaning(sp.Max, 2),
    "min": Meaning(sp.Min, 2),
}

_BINARY: Mapping[type, Callable[[sp.Basic, sp.Basic], sp.Basic]] = {
    ast.Add: lambda a, b: a + b,
    ast.Sub: lambda a, b: a - b,
    ast.Mult: lambda a, b: a * b,
}
_COMPARE = {ast.GtE: sp.Ge, ast.LtE: sp.Le, ast.Gt: sp.Gt, ast.Lt: sp.Lt}


def constant(node: ast.Constant) -> sp.Rational:
    """Return the exact value of a numeric literal; anything else is a rejection.

    Examples
    --------
    >>> constant(ast.Constant(0.5))
    1/2
    >>> constant(ast.Constant("1"))
    Traceback (most recent call last):
    ...
    derivreg.validate.report.ValidationError: `'1'`: a str constant where a number belongs
    """
    value = node.value
    if type(value) is int:
        return sp.Integer(value)
    if type(value) is float and math.isfinite(value):
        return sp.Rational(*value.as_integer_ratio())
    name = type(value).__name__
    raise ValidationError(f"`{ast.unparse(node)}`: a {name} constant where a number belongs")


def _call(node: ast.Call, env: Mapping[str, sp.Basic], loop: bool, poles: Poles) -> sp.Basic:
    table: Mapping[str, Meaning] | None = None
    match node.func:
        case ast.Attribute(value=ast.Name(id="np"), attr=attr) if not loop:
            table, name = NUMPY, attr
        case ast.Attribute(value=ast.Name(id="math"), attr=attr) if loop:
            table, name = MATH, attr
        case ast.Name(id=name) if loop:
            table = BUILTINS
        case ast.Name(id=name) if name in CHECKED:
            table = CHECKED
    if table is None or name not in table or node.keywords:
        raise ValidationError(f"`{ast.unparse(node)}` is not a function printed expressions use")
    entry = table[name]
    if len(node.args) != entry.arity or any(isinstance(a, ast.Starred) for a in node.args):
        raise ValidationError(f"`{ast.unparse(node)}`: {name} takes {entry.arity} arguments")
    args = [meaning(a, env, loop=loop, poles=poles) for a in node.args]
    if entry.domain is not None:
        holds, words = entry.domain(*args)
        if holds is not True:
            where = "" if table is CHECKED else ", where NumPy gives NaN"
            raise ValidationError(
                f"`{ast.unparse(node)}`: the argument {args[0]} may be {words}{where}"
            )
    return entry.function(*args)


def _refuse_zero(node: ast.expr, denominator: sp.Basic, loop: bool) -> None:
    """Refuse a quotient whose denominator may be zero (Python raises, NumPy gives inf or NaN)."""
    where = "where Python raises ZeroDivisionError" if loop else "where NumPy gives inf or NaN"
    raise ValidationError(
        f"`{ast.unparse(node)}`: the denominator {denominator} may be zero, {where}"
    )


def _quotient(node: ast.BinOp, env: Mapping[str, sp.Basic], loop: bool, poles: Poles) -> sp.Basic:
    """Return ``a / b``, ``b`` proven nonzero before the quotient is built (SymPy cancels z/z)."""
    a = meaning(node.left, env, loop=loop, poles=poles)
    b = _number(meaning(node.right, env, loop=loop, poles=poles))
    if not nonzero(b, poles):
        _refuse_zero(node, b, loop)
    return a / b


def _power(node: ast.BinOp, env: Mapping[str, sp.Basic], loop: bool, poles: Poles) -> sp.Basic:
    base = meaning(node.left, env, loop=loop, poles=poles)
    exponent = meaning(node.right, env, loop=loop, poles=poles)
    if not (exponent.is_Integer or base.is_positive is True):
        raise ValidationError(
            f"`{ast.unparse(node)}`: a non-integer power of {base}, which may be negative"
        )
    if exponent.is_negative and not nonzero(base, poles):  # 0**-1: a division by zero
        _refuse_zero(node, base, loop)
    return base**exponent


def meaning(  # noqa: PLR0911 - one return per kind of node
    node: ast.expr, env: Mapping[str, sp.Basic], *, loop: bool = False, poles: Poles = frozenset()
) -> sp.Basic:
    """Return the SymPy value of a printed expression, over the reals, or a rejection.

    ``env`` maps the names the expression may read to their values;
    ``loop`` selects the per-sample loop's ``math`` functions and builtins
    (and its conditional expressions) instead of NumPy's; ``poles`` are
    the factors the derivation's own expression divides by, which a
    denominator may share (:func:`~derivreg.validate.denominators.nonzero`).
    """
    m = functools.partial(meaning, env=env, loop=loop, poles=poles)
    match node:
        case ast.Constant():
            return constant(node)
        case ast.Name(id=name, ctx=ast.Load()):
            if name not in env:
                raise ValidationError(f"`{name}` is not a value this expression may read")
            return env[name]
        case ast.UnaryOp(op=ast.USub(), operand=operand):
            return -m(operand)
        case ast.BinOp(op=ast.Pow()):
            return _power(node, env, loop, poles)
        case ast.BinOp(op=ast.Div()):
            return _quotient(node, env, loop, poles)
        case ast.BinOp(left=left, op=op, right=right) if type(op) in _BINARY:
            return _BINARY[type(op)](m(left), m(right))
        case ast.Compare(left=left, ops=[op], comparators=[right]) if type(op) in _COMPARE:
            return _COMPARE[type(op)](m(left), m(right))
        case ast.IfExp(test=test, body=body, orelse=orelse) if loop:
            return _where(m(test), m(body), m(orelse))
        case ast.Call():
            return _call(node, env, loop, poles)
        case ast.Attribute(value=ast.Name(id="np"), attr="pi") if not loop:
            return sp.pi  # the float nearest pi, as a literal is its exact value
    raise ValidationError(f"`{ast.unparse(node)}` is not a printed expression")
