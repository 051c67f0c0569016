"""Explicit components of a vector-output model, and the matrices recognised from them.

:func:`derivreg.symbolic.softmax.derive_softmax` differentiates on explicit
components (``z_1..z_k``, ``ŷ_1..ŷ_k``, ``W_11..W_nk``) and reads the
matrix form off the entries it gets:

* :func:`generic_entry`: every entry of a vector is one expression in a
  generic index (``-y_c/ŷ_c``);
* :func:`diag_plus_outer`: a k x k matrix is ``diag(d ŷ) + s ŷŷᵀ`` for a
  scalar ``s`` and an entry ``d`` (softmax's Jacobian: ``d = 1, s = -1``);
* :func:`label_total`: an entry is ``A + ŷ_i Σ_c y_c``, which a one-hot
  label turns into ``A + ŷ_i``;
* :func:`gershgorin_bound`: the largest row sum of ``|H|`` over the simplex.

Examples
--------
>>> c = components(2, 1)
>>> c.in_terms_of_yhat(sp.Matrix([sp.diff(softmax(c.z)[0], c.z[0])]))
Matrix([[-yhat_1**2 + yhat_1]])
"""

from __future__ import annotations

from dataclasses import dataclass
from types import SimpleNamespace

import sympy as sp

__all__ = [
    "Components",
    "Notation",
    "components",
    "diag_plus_outer",
    "generic_entry",
    "gershgorin_bound",
    "label_total",
    "softmax",
]


class Notation(sp.Expr):
    """A matrix form as the slides write it, e.g. ``diag(ŷ) - ŷŷᵀ``: display only.

    Built only from the derivation's own (LaTeX, text) constants, never from
    user input; it has no value and takes part in no check.

    Examples
    --------
    >>> from derivreg._printing import text
    >>> text(Notation("a", "ŷ - y"))
    'ŷ - y'
    """

    is_commutative = True

    def __new__(cls, tex: str, plain: str) -> Notation:  # noqa: D102 - see the class
        return sp.Expr.__new__(cls, sp.Symbol(tex), sp.Symbol(plain))

    def _latex(self, printer: object) -> str:  # noqa: ARG002 - SymPy's printer protocol
        return self.args[0].name

    def _sympystr(self, printer: object) -> str:  # noqa: ARG002 - SymPy's printer protocol
        return self.args[1].name


def softmax(z: sp.Matrix) -> sp.Matrix:
    """``exp(z_i) / Σ_j exp(z_j)`` for an explicit column ``z``.

    Examples
    --------
    >>> softmax(sp.Matrix([0, 0]))
    Matrix([
    [1/2],
    [1/2]])
    """
    total = sum(sp.exp(t) for t in z)
    return sp.Matrix([sp.exp(t) / total for t in z])


@dataclass(frozen=True)
class Components:
    """Explicit symbols of a k-class, n-feature model, and the rewrites between them."""

    k: int
    n: int
    z: sp.Matrix
    yhat: sp.Matrix
    y: sp.Matrix
    x: sp.Matrix
    W: sp.Matrix
    b: sp.Matrix
    generic: SimpleNamespace

    def in_terms_of_yhat(self, expr: sp.Matrix) -> sp.Matrix:
        """Write ``expr`` (in ``z``) in terms of ``ŷ``: ``exp(z_l) = ŷ_l S``, ``S = Σ_j exp(z_j)``.

        The symbol ``S`` must cancel; the result is checked by the caller.
        """
        total = sp.Symbol("S", positive=True)
        sums = {sum(sp.exp(t) for t in self.z): total}
        outputs = {t: p * total for t, p in zip(self.z, self.yhat, strict=True)}

        def power(argument: sp.Expr) -> sp.Expr:
            # exp(2 z_1 - z_2) = (yhat_1 S)^2 (yhat_2 S)^-1; any other exponent stays.
            terms = sp.Add.make_args(sp.expand(argument))
            parts = [t.as_coeff_Mul() for t in terms]
            if all(m.is_Integer and v in outputs for m, v in parts):
                return sp.Mul(*(outputs[v] ** m for m, v in parts))
            return sp.exp(argument)

        out = expr.xreplace(sums).replace(sp.exp, power).applyfunc(sp.cancel)
        return out if not out.has(total) else expr

    def at_softmax(self, expr: sp.Basic) -> sp.Basic:
        """Put ``ŷ = softmax(z)`` into ``expr``."""
        return expr.xreplace(dict(zip(self.yhat, softmax(self.z), strict=True)))

    def label_sums_to_one(self, expr: sp.Basic) -> sp.Basic:
        """Put ``y_k = 1 - Σ_{c<k} y_c`` into ``expr``: a one-hot label sums to 1."""
        return expr.subs(self.y[-1], 1 - sum(self.y[:-1]))


def components(k: int, n: int) -> Components:
    """Build the explicit components of a k-class, n-feature model, and generic index symbols.

    Examples
    --------
    >>> components(2, 3).W.shape
    (3, 2)
    """

    def column(name: str, size: int, **assumptions: bool) -> sp.Matrix:
        return sp.Matrix(sp.symbols(f"{name}_1:{size + 1}", **assumptions))

    W = sp.Matrix(n, k, lambda i, j: sp.Symbol(f"W_{i + 1}{j + 1}", real=True))
    i, j, c = sp.symbols("i j c", integer=True, positive=True)
    generic = SimpleNamespace(i=i, j=j, c=c, k=sp.Symbol("k", integer=True, positive=True))
    for name, positive in (("z", False), ("y", False), ("yhat", True), ("x", False)):
        for index in "ijc":
            symbol = sp.Symbol(f"{name}_{index}", positive=True) if positive else None
            symbol = symbol or sp.Symbol(f"{name}_{index}", real=True)
            setattr(generic, f"{name}_{index}", symbol)
    return Components(
        k=k,
        n=n,
        z=column("z", k, real=True),
        yhat=column("yhat", k, positive=True),
        y=column("y", k, real=True),
        x=column("x", n, real=True),
        W=W,
        b=column("b", k, real=True),
        generic=generic,
    )


def _to_generic(expr: sp.Basic, c: Components, row: int, col: int | None, names: str) -> sp.Basic:
    """Rename component ``row`` (and ``col``) to the generic index names, e.g. ŷ_2 -> ŷ_c."""
    g = c.generic
    swap = {}
    for index, letter in ((row, names[0]), (col, names[-1])):
        if index is None:
            continue
        for name in ("z", "y", "yhat"):
            swap[getattr(c, name)[index]] = getattr(g, f"{name}_{letter}")
    return expr.xreplace(swap)


def _component_symbols(c: Components) -> set[sp.Symbol]:
    return set(c.z) | set(c.y) | set(c.yhat)


def generic_entry(
    vector: sp.Matrix, c: Components, index: str, error: Exception, total: bool = False
) -> sp.Basic:
    """Return the one expression every entry of ``vector`` is, in the generic index ``index``.

    With ``total``, a factor ``Σ_c y_c`` (:func:`label_total`) is kept as a sum.

    Examples
    --------
    >>> c = components(3, 1)
    >>> generic_entry(sp.Matrix([-y / p for y, p in zip(c.y, c.yhat)]), c, "c", ValueError())
    -y_c/yhat_c
    """
    entries = []
    for row, element in enumerate(vector):
        e = element
        if total:
            rest, coefficient = label_total(element, c, row)
            labels = sp.Sum(c.generic.y_c, (c.generic.c, 1, c.generic.k))
            e = rest + c.yhat[row] * labels if coefficient == 1 else element
        entry = _to_generic(e, c, row, None, index)
        if entry.free_symbols & _component_symbols(c):
            raise error
        entries.append(entry)
    if any(sp.expand(e - entries[0]) != 0 for e in entries):
        raise error
    return entries[0]


def label_total(entry: sp.Basic, c: Components, row: int) -> tuple[sp.Basic, sp.Basic]:
    """Split ``entry = A + ŷ_row B``: ``(A, 1)`` when ``B`` is ``Σ_c y_c``, else ``(entry, 0)``.

    Examples
    --------
    >>> c = components(2, 1)
    >>> label_total(-c.y[0] + c.yhat[0] * (c.y[0] + c.y[1]), c, 0)
    (-y_1, 1)
    """
    expanded = sp.expand(entry)
    coefficient = expanded.coeff(c.yhat[row])
    rest = sp.expand(expanded - c.yhat[row] * coefficient)
    if rest.has(*c.yhat) or sp.expand(coefficient - sum(c.y)) != 0:
        return entry, sp.Integer(0)
    return rest, sp.Integer(1)


def one_hot(vector: sp.Matrix, c: Components) -> sp.Matrix:
    """Each entry ``A + ŷ_i Σ_c y_c`` as ``A + ŷ_i``: a one-hot label sums to 1.

    Entries not of that form are returned unchanged.

    Examples
    --------
    >>> c = components(2, 1)
    >>> one_hot(sp.Matrix([-c.y[0] + c.yhat[0] * (c.y[0] + c.y[1])]), c)
    Matrix([[-y_1 + yhat_1]])
    """
    out = []
    for row, e in enumerate(vector):
        rest, coefficient = label_total(e, c, row)
        out.append(rest + c.yhat[row] if coefficient == 1 else e)
    return sp.Matrix(out)


def diag_plus_outer(
    matrix: sp.Matrix, c: Components, error: Exception
) -> tuple[sp.Basic, sp.Basic]:
    """Recognise ``matrix = diag(d ŷ) + s ŷŷᵀ``; return ``(d, s)`` (``d`` in generic ``i``).

    ``s`` is read off the off-diagonal entries (each ``s ŷ_i ŷ_j``, the same
    constant ``s`` everywhere), ``d`` off the diagonal, the same generic
    expression in every row.

    Examples
    --------
    >>> c = components(2, 1)
    >>> p = c.yhat
    >>> diag_plus_outer(sp.Matrix([[p[0] - p[0]**2, -p[0]*p[1]], [-p[0]*p[1], p[1] - p[1]**2]]),
    ...                 c, ValueError())
    (1, -1)
    """
    p = c.yhat
    scales = {
        sp.cancel(matrix[i, j] / (p[i] * p[j])) for i in range(c.k) for j in range(c.k) if i != j
    }
    if len(scales) != 1 or next(iter(scales)).free_symbols:
        raise error
    scale = scales.pop()
    diagonal = [sp.cancel((matrix[i, i] - scale * p[i] ** 2) / p[i]) for i in range(c.k)]
    generic = {_to_generic(d, c, i, None, "i") for i, d in enumerate(diagonal)}
    if (
        len(generic) != 1
        or generic & _component_symbols(c)
        or any(g.free_symbols & _component_symbols(c) for g in generic)
    ):
        raise error
    return generic.pop(), scale


def gershgorin_bound(matrix: sp.Matrix, c: Components) -> tuple[sp.Basic, sp.Basic]:
    """Largest row sum of ``|H|`` on the simplex (``ŷ > 0``, ``Σ ŷ = 1``): (row sum, its sup).

    Every eigenvalue lies in a Gershgorin disc, so ``λ_max <= max_i Σ_j |H_ij|``.

    Examples
    --------
    >>> c = components(3, 1)
    >>> p = c.yhat
    >>> gershgorin_bound(sp.diag(*p) - p * p.T, c)
    (2*yhat_i*(1 - yhat_i), 1/2)
    """
    g = c.generic
    rows = set()
    for i in range(c.k):
        other = (i + 1) % c.k
        total = matrix[i, i] + sum(sp.Abs(matrix[i, j]) for j in range(c.k) if j != i)
        on_simplex = total.subs(c.yhat[other], 1 - (sum(c.yhat) - c.yhat[other]))
        rows.add(_to_generic(sp.factor(sp.expand(on_simplex)), c, i, None, "i"))
    if len(rows) != 1 or next(iter(rows)).free_symbols - {g.yhat_i}:
        raise ValueError(f"the row sums are not one function of yhat_i: {rows}")
    row = rows.pop()
    t = sp.Symbol("t", real=True)
    bound = sp.maximum(row.xreplace({g.yhat_i: t}), t, sp.Interval(0, 1))
    return _slides(row), bound


def _slides(expr: sp.Basic) -> sp.Basic:
    """``-2ŷ(ŷ - 1)`` as the slides write it, ``2ŷ(1 - ŷ)``."""
    flipped = []
    sign = 1
    for factor in sp.Mul.make_args(expr):
        if factor.is_Add and factor.as_coeff_Add()[0] < 0:
            flipped.append(-factor)
            sign = -sign
        else:
            flipped.append(factor)
    return sign * sp.Mul(*flipped)
