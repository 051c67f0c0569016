"""Family 6: both losses are convex in (w, b).

With x~ = (x, 1), the Hessian of the per-sample loss in (w, b) is c x~ x~^T,
c = 2 for the squared error and c = σ(z)(1 - σ(z)) for the cross-entropy;
c >= 0, and v^T (c a a^T) v = c (a.v)^2 >= 0 for every v, so the Hessian
is positive semi-definite.

What is proven for which n: the Hessian's entries for every n (the four
kinds of entry, (w_j, w_k) with j != k, (w_k, w_k), (w_k, b), (b, b), each
with the rest of the score a symbol r independent of the two variables);
the whole matrix for n = 2 explicitly; the rank-one quadratic form for
vectors of length 2, 3 and 4 (n = 1, 2, 3 features).

Run ``python proofs/convexity.py`` to check and print the proofs.
"""

import sympy as sp

from derivreg.proof import Theorem, load, main
from derivreg.symbolic import REGISTRY, b, derive, y, z

common = load("_common")
sigma, DEFS = common.sigma, common.DEFS
x_j, x_k, w_j, w_k, r = common.x_j, common.x_k, common.w_j, common.w_k, common.r
LABELS = {y: sp.Interval(0, 1)}

#: The curvature factor c(z) of each loss, as the lecture's algebra gives it,
#: and the same written so that SymPy sees its sign.
CURVATURE = {"mse": lambda _: sp.Integer(2), "bce": lambda t: sigma(t) * (1 - sigma(t))}
POSITIVE = {"mse": lambda _: sp.Integer(2), "bce": lambda t: sp.exp(-t) / (1 + sp.exp(-t)) ** 2}


def hessian_entries(name: str) -> Theorem:
    d = derive(REGISTRY[name], features=1)
    c = CURVATURE[name]

    def loss_at(score: sp.Expr) -> sp.Expr:
        return d.yhat_of_z(d.loss).subs(z, score)

    two = x_j * w_j + x_k * w_k + r + b
    one = x_k * w_k + r + b
    return (
        Theorem(
            f"convexity.{name}_hessian_entries",
            f"for every n, the Hessian of the {name} loss in (w, b) is c x~ x~^T with "
            f"c = {c(z)}: each kind of entry",
            where=LABELS,
            defs=DEFS,
        )
        .start(sp.Derivative(loss_at(two), w_j, w_k), "entry (w_j, w_k), j != k")
        .eq(c(two) * x_j * x_k, "chain rule twice: c(z) dz/dw_j dz/dw_k")
        .start(sp.Derivative(loss_at(one), (w_k, 2)), "entry (w_k, w_k)")
        .eq(c(one) * x_k**2, "chain rule twice: c(z) (dz/dw_k)^2")
        .start(sp.Derivative(loss_at(one), w_k, b), "entry (w_k, b)")
        .eq(c(one) * x_k * 1, "chain rule twice: c(z) dz/dw_k dz/db; the last entry of x~ is 1")
        .start(sp.Derivative(loss_at(one), (b, 2)), "entry (b, b)")
        .eq(c(one) * 1 * 1, "chain rule twice: c(z) (dz/db)^2")
    )


def hessian_matrix(name: str, n: int = 2) -> Theorem:
    d = derive(REGISTRY[name], features=1)
    c = CURVATURE[name]
    xs, ws = common.explicit_vectors(n)
    v = sp.Matrix(sp.symbols(f"v_1:{n + 2}", real=True))
    theta = [*ws, b]
    score = (xs.T * ws)[0, 0] + b
    loss = d.yhat_of_z(d.loss).subs(z, score)
    xt = xs.col_join(sp.Matrix([1]))
    H = c(score) * xt * xt.T
    return (
        Theorem(
            f"convexity.{name}_hessian[n={n}]",
            f"explicit n = {n}: the Hessian of the {name} loss in (w, b) is c x~ x~^T, "
            "and v^T H v = c (x~.v)^2 >= 0",
            where=LABELS,
            defs=DEFS,
        )
        .start(
            sp.Matrix([[sp.Derivative(loss, p, q) for q in theta] for p in theta]),
            "all second derivatives of the loss of x.w + b",
        )
        .eq(H, "the entries (convexity.*_hessian_entries)")
        .start((v.T * H * v)[0, 0], "the quadratic form of the Hessian")
        .eq(c(score) * (xt.T * v)[0, 0] ** 2, "v^T a a^T v = (a.v)^2")
        .ge(
            0,
            "c > 0 (convexity.*_curvature) times a square",
            certificate=POSITIVE[name](score) * (xt.T * v)[0, 0] ** 2,
        )
    )


MSE_C = Theorem("convexity.mse_curvature", "c = 2 > 0 for the squared error").claim(
    CURVATURE["mse"](z), ">", 0, "a positive constant"
)
BCE_C = (
    Theorem("convexity.bce_curvature", "c = σ(z)(1 - σ(z)) > 0 for every real z", defs=DEFS)
    .start(CURVATURE["bce"](z))
    .eq(
        sp.exp(-z) / (1 + sp.exp(-z)) ** 2,
        "σ(z) = 1/(1 + exp(-z)), 1 - σ(z) = exp(-z)/(1 + exp(-z))",
    )
    .gt(0, "positive over positive")
)

a_c = sp.Symbol("c", nonnegative=True)
RANK_ONE = Theorem(
    "convexity.rank_one_psd",
    "v^T (c a a^T) v = c (a.v)^2 >= 0 for c >= 0 and real vectors a, v of length m = 2, 3, 4",
)
for m in (2, 3, 4):
    a = sp.Matrix(sp.symbols(f"a_1:{m + 1}", real=True))
    v = sp.Matrix(sp.symbols(f"v_1:{m + 1}", real=True))
    (
        RANK_ONE.start((v.T * (a_c * a * a.T) * v)[0, 0], f"m = {m}")
        .eq(a_c * (a.T * v)[0, 0] ** 2, "v^T a = a^T v, a scalar")
        .ge(0, "a nonnegative number times a square")
    )

THEOREMS = [
    hessian_entries("mse"),
    hessian_entries("bce"),
    MSE_C,
    BCE_C,
    RANK_ONE,
    hessian_matrix("mse"),
    hessian_matrix("bce"),
]

if __name__ == "__main__":
    raise SystemExit(main(THEOREMS))
