"""Family 11: d2J/dz2 >= 0 over the domain, hence the generated Hessian is positive semidefinite.

For every registered pair where it holds (the derivation's ``convex_in_z``),
two theorems, built from the derivation alone (no pair is named here):

1. ``hessian.<pair>_curvature``: the derivation's d2J/dz2, at yhat = g(z),
   is >= 0 for every real z and every label of the pair's domain.  The
   label is a symbol carrying the domain's sign (nonnegative for [0, 1] and
   [0, oo), positive for (0, oo)), so SymPy's assumptions read the sign off
   the expression put over a common denominator.
2. ``hessian.<pair>_psd[m=2, n=2]``: the mean loss's Hessian as the kernels
   compute it, H = X~^T diag(c) X~ / m with X~ = [X, 1] (the skeleton
   validator proves the kernels compute exactly this), has the quadratic
   form v^T H v = (1/m) sum_i c_i (x~_i . v)^2 >= 0: convexity in (w, b).
   Explicit for two rows and two features; the rank-one argument is the
   same for any m and n (proofs/convexity.py, ``rank_one_psd``).

A pair where d2J/dz2 >= 0 is not shown (``convex_in_z`` False) gets a
theorem saying so: its solver falls back to steepest descent under the line
search (derivreg.solvers.newton), which needs no convexity.

Run ``python proofs/hessian.py`` to check and print the proofs.
"""

import sympy as sp

from derivreg.proof import Theorem, main
from derivreg.symbolic import REGISTRY, derive, y, z


def label_symbol(domain: sp.Set) -> sp.Symbol:
    """The label as a symbol whose assumptions carry its domain's sign."""
    if domain.is_subset(sp.Interval.open(0, sp.oo)):
        return sp.Symbol("y", positive=True)
    if domain.is_subset(sp.Interval(0, sp.oo)):
        return sp.Symbol("y", nonnegative=True)
    return sp.Symbol("y", real=True)


def curvature_of_z(name: str) -> tuple[sp.Expr, sp.Expr, sp.Symbol]:
    """d2J/dz2 at yhat = g(z) with the signed label; and over a common denominator."""
    d = derive(REGISTRY[name], features=1)
    label = label_symbol(d.pair.domain)
    c = d.yhat_of_z(d.d2J_dz2).subs(y, label)
    return c, sp.factor(sp.together(c)), label


def curvature_theorem(name: str) -> Theorem:
    d = derive(REGISTRY[name], features=1)
    c, together, label = curvature_of_z(name)
    if not d.convex_in_z:
        return Theorem(
            f"hessian.{name}_not_shown_convex",
            f"the {name} derivation does not show d2J/dz2 >= 0 over its domain: no "
            "convexity is claimed, and Newton falls back to a line search",
        ).claim(sp.Integer(0), "=", 0, "nothing is claimed")
    theorem = Theorem(
        f"hessian.{name}_curvature",
        f"d2J/dz2 of {name} is >= 0 for every real z and y in {d.pair.domain}",
        where={label: d.pair.domain},
    ).start(c, "the derivation's d2J_dz2 at yhat = g(z)")
    if together != c:
        theorem = theorem.eq(together, "over a common denominator")
    return theorem.ge(0, "each factor's sign is read off its assumptions")


def psd_theorem(name: str, m: int = 2, n: int = 2) -> Theorem:
    _, together, label = curvature_of_z(name)
    X = sp.Matrix(m, n, lambda i, j: sp.Symbol(f"x_{i + 1}{j + 1}", real=True))
    w = sp.Matrix(sp.symbols(f"w_1:{n + 1}", real=True))
    b = sp.Symbol("b", real=True)
    v = sp.Matrix(sp.symbols(f"v_1:{n + 2}", real=True))
    labels = [label.func(f"y_{i + 1}", **label.assumptions0) for i in range(m)]
    Xt = X.row_join(sp.ones(m, 1))
    scores = [(X[i, :] * w)[0, 0] + b for i in range(m)]
    cs = [together.subs({z: scores[i], label: labels[i]}) for i in range(m)]
    H = Xt.T * sp.diag(*cs) * Xt / m
    forms = [(Xt[i, :] * v)[0, 0] for i in range(m)]
    spread = sp.Add(*[cs[i] * forms[i] ** 2 for i in range(m)]) / m
    domain = REGISTRY[name].domain
    return (
        Theorem(
            f"hessian.{name}_psd[m={m}, n={n}]",
            f"the {name} Hessian X~^T diag(d2J/dz2) X~ / m has v^T H v >= 0: "
            "the mean loss is convex in (w, b)",
            where=dict.fromkeys(labels, domain),
        )
        .start((v.T * H * v)[0, 0], "the quadratic form of the kernels' Hessian")
        .eq(spread, "v^T X~^T diag(c) X~ v = sum_i c_i (x~_i . v)^2")
        .ge(0, "c_i >= 0 (hessian.*_curvature) times squares", certificate=spread)
    )


THEOREMS = [
    theorem
    for name in sorted(REGISTRY)
    for theorem in (
        (curvature_theorem(name), psd_theorem(name))
        if derive(REGISTRY[name], features=1).convex_in_z
        else (curvature_theorem(name),)
    )
]

if __name__ == "__main__":
    raise SystemExit(main(THEOREMS))
