"""Family: softmax regression with the cross-entropy (k classes, explicit k = 3).

The softmax's Jacobian is diag(ŷ) - ŷŷᵀ; times the cross-entropy's
∂J/∂ŷ = -y/ŷ it cancels to ŷ - y once the one-hot label's Σ y_c = 1 is
used; adding a constant to every score changes nothing (so the kernels may
subtract max(z) exactly); the loss is convex in z, and the Hessian's
largest eigenvalue is at most 1/2 (the step-size bound 2/(1/2) = 4 over
||(x, 1)||²); with k = 2 it is logistic regression on z₁ - z₀.

The statements are for k = 3 classes with explicit components (the
derivation's own k): a point of the open simplex is written ŷ = a/Σa with
a > 0, so that no constraint needs stating; a one-hot label is y with
y₃ = 1 - y₁ - y₂.

Run ``python proofs/softmax.py`` to check and print the proofs.
"""

import sympy as sp

from derivreg.proof import Theorem, load, main
from derivreg.symbolic import derive
from derivreg.symbolic.matrix_forms import components, softmax

common = load("_common")
sigma, DEFS, eq = common.sigma, common.DEFS, common.eq
D = derive("softmax")
C = D.symbols
K = C.k
z, p, y = C.z, C.yhat, C.y
a = sp.Matrix(sp.symbols(f"a_1:{K + 1}", positive=True))
v = sp.Matrix(sp.symbols(f"v_1:{K + 1}", real=True))
t = sp.Symbol("t", real=True)
S = softmax(z)
#: A point of the open simplex, ŷ = a/Σa with a > 0.
SIMPLEX = {pi: ai / sum(a) for pi, ai in zip(p, a, strict=True)}
ONE_HOT = {y[-1]: 1 - sum(y[:-1])}
#: ŷ = softmax(z), put into an expression in ŷ.
AT_S = dict(zip(p, S, strict=True))
H = sp.diag(*p) - p * p.T


def at(expr: sp.Basic, values: dict) -> sp.Basic:
    """``expr`` with ``values`` put in (kept as a plain substitution)."""
    return expr.xreplace(values)


JACOBIAN = (
    Theorem(
        "softmax.jacobian",
        "∂ softmax(z)_i / ∂z_j = ŷ_i (δ_ij - ŷ_j): the matrix diag(ŷ) - ŷŷᵀ, k = 3",
        statement=eq(sp.Matrix(K, K, lambda i, j: sp.Derivative(S[i], z[j])), at(H, AT_S)),
    )
    .start(sp.Matrix(K, K, lambda i, j: sp.Derivative(S[i], z[j])), "softmax, differentiated")
    .eq(
        sp.Matrix(
            K,
            K,
            lambda i, j: (
                (sp.exp(z[i]) if i == j else 0) / sum(sp.exp(u) for u in z)
                - sp.exp(z[i]) * sp.exp(z[j]) / sum(sp.exp(u) for u in z) ** 2
            ),
        ),
        "quotient rule: ∂exp(z_i)/∂z_j = δ_ij exp(z_i), ∂Σ/∂z_j = exp(z_j)",
    )
    .eq(
        sp.Matrix(K, K, lambda i, j: sp.Mul(S[i], sp.KroneckerDelta(i, j) - S[j], evaluate=False)),
        "exp(z_i)/Σ exp(z_l) = ŷ_i: entry (i, j) is ŷ_i (δ_ij - ŷ_j)",
    )
    .eq(
        at(D.matrices["dyhat_dz"], AT_S),
        "the derivation's dyhat_dz at ŷ = softmax(z)",
        restate=True,
    )
)

_LABEL_SUM = sp.Add(*y[:-1], sp.UnevaluatedExpr(ONE_HOT[y[-1]]), evaluate=False)
_PRODUCT = D.matrices["dyhat_dz"].T * D.matrices["dJ_dyhat"]
CANCELLATION = (
    Theorem(
        "softmax.cancellation",
        "(∂ŷ/∂z)ᵀ ∂J/∂ŷ = ŷ - y for a label summing to 1: the factor ŷ_c cancels",
        statement=[
            eq(at(_PRODUCT, ONE_HOT), at(p - y, ONE_HOT)),
            eq(
                sp.Matrix(
                    [sp.Derivative(at(at(D.matrices["J"][0, 0], AT_S), ONE_HOT), u) for u in z]
                ),
                at(S - y, ONE_HOT),
            ),
        ],
    )
    .start(at(_PRODUCT, ONE_HOT), "the derivation's dyhat_dz transposed times its dJ_dyhat")
    .eq(
        sp.Matrix(
            [at(-y[i], ONE_HOT) + sp.Mul(p[i], _LABEL_SUM, evaluate=False) for i in range(K)]
        ),
        "entry i: Σ_c (ŷ_c δ_ci - ŷ_c ŷ_i)(-y_c/ŷ_c) = -y_i + ŷ_i Σ_c y_c",
    )
    .eq(at(p - y, ONE_HOT), "Σ_c y_c = 1", restate=True)
    .eq(at(D.matrices["dJ_dz"], ONE_HOT), "the derivation's dJ_dz", restate=True)
    .start(
        sp.Matrix([sp.Derivative(at(at(D.matrices["J"][0, 0], AT_S), ONE_HOT), u) for u in z]),
        "without the cancellation: the loss of z, differentiated",
    )
    .eq(at(S - y, ONE_HOT), "what the chain rule gave, at ŷ = softmax(z)")
)

SHIFT = (
    Theorem(
        "softmax.shift_invariance",
        "softmax(z + t·1) = softmax(z) and log Σ exp(z_j) = t + log Σ exp(z_j - t) for every "
        "real t: so the kernels' shift by max(z) is exact",
        statement=[
            eq(softmax(z + t * sp.ones(K, 1)), S),
            eq(sp.log(sum(sp.exp(u) for u in z)), t + sp.log(sum(sp.exp(u - t) for u in z))),
        ],
    )
    .start(softmax(z + t * sp.ones(K, 1)))
    .eq(
        sp.Matrix(
            [
                sp.Mul(
                    sp.Mul(sp.exp(t), sp.exp(u), evaluate=False),
                    sp.Pow(sp.Mul(sp.exp(t), sum(sp.exp(w) for w in z), evaluate=False), -1),
                    evaluate=False,
                )
                for u in z
            ]
        ),
        "exp(z_i + t) = exp(t) exp(z_i), in every term",
    )
    .eq(S, "exp(t) > 0 cancels", nonzero=[sp.exp(t)])
    .start(sp.log(sum(sp.exp(u) for u in z)))
    .eq(sp.log(sp.exp(t) * sum(sp.exp(u - t) for u in z)), "exp(z_j) = exp(t) exp(z_j - t)")
    .eq(t + sp.log(sum(sp.exp(u - t) for u in z)), "log of a product of positive numbers")
)

r_ = sp.Matrix(sp.symbols(f"r_2:{K + 1}", nonnegative=True))
#: exp(z_j - m) for the maximum m = z_1 is 1, for the others 1/(1 + r_j), r_j = exp(q_j) - 1 ≥ 0.
_SHIFTED = 1 + sum(1 / (1 + u) for u in r_)
SHIFT_RANGE = (
    Theorem(
        "softmax.shifted_sum_range",
        "with m = max(z) = z₁ (the classes renumbered), z_j = m - q_j, q_j ≥ 0, and "
        "exp(q_j) = 1 + r_j, r_j ≥ 0: 1 ≤ Σ_j exp(z_j - m) ≤ k, so its log is in [0, log k] "
        "and never overflows",
        statement=[
            sp.GreaterThan(_SHIFTED, 1, evaluate=False),
            sp.LessThan(_SHIFTED, K, evaluate=False),
        ],
    )
    .claim(_SHIFTED, "≥", 1, "the term of the maximum is exp(0) = 1, the rest positive")
    .claim(
        _SHIFTED,
        "≤",
        K,
        "each exp(-q_j) = 1/(1 + r_j) ≤ 1",
        certificate=sum(u / (1 + u) for u in r_),
    )
)

_QUADRATIC = (v.T * at(H, SIMPLEX) * v)[0, 0]
_MEAN = sum(ai * vi for ai, vi in zip(a, v, strict=True)) / sum(a)
_VARIANCE = sum(ai / sum(a) * (vi - _MEAN) ** 2 for ai, vi in zip(a, v, strict=True))
CONVEX = (
    Theorem(
        "softmax.convex_in_z",
        "∂²J/∂z² = diag(ŷ) - ŷŷᵀ, and vᵀ(diag(ŷ) - ŷŷᵀ)v = Σ_i ŷ_i (v_i - Σ_j ŷ_j v_j)² ≥ 0: "
        "the loss is convex in z (and so in (W, b), z being linear in them)",
        statement=[
            eq(
                sp.hessian(at(at(D.matrices["J"][0, 0], AT_S), ONE_HOT), list(z)),
                at(H, AT_S),
            ),
            sp.GreaterThan(_QUADRATIC, 0),
        ],
    )
    .start(
        sp.Matrix(
            K,
            K,
            lambda i, j: sp.Derivative(at(at(D.matrices["J"][0, 0], AT_S), ONE_HOT), z[i], z[j]),
        ),
        "the loss of z at a label summing to 1, differentiated twice",
    )
    .eq(at(H, AT_S), "∂(ŷ - y)/∂z: y does not depend on z (softmax.jacobian)")
    .start(_QUADRATIC, "the quadratic form at ŷ = a/Σa")
    .eq(_VARIANCE, "Σ ŷ_i v_i² - (Σ ŷ_i v_i)², a variance under the weights ŷ (Σ ŷ_i = 1)")
    .ge(0, "positive weights times squares", certificate=_VARIANCE)
)

_HALF_GAP = sum(
    2 * vi**2 * (ai / sum(a) - sp.Rational(1, 2)) ** 2 for ai, vi in zip(a, v, strict=True)
) + sum(
    sp.Rational(1, 2) * a[i] * a[j] / sum(a) ** 2 * (v[i] + v[j]) ** 2
    for i in range(K)
    for j in range(K)
    if i != j
)
_EDGE = sp.Matrix([1, -1, 0])
_HALF = sp.Matrix([sp.Rational(1, 2), sp.Rational(1, 2), 0])
CURVATURE = (
    Theorem(
        "softmax.curvature_bound",
        "vᵀ(diag(ŷ) - ŷŷᵀ)v ≤ vᵀv/2 for every real v: λ_max ≤ 1/2, reached as ŷ → (1/2, 1/2, 0); "
        "the per-sample step-size bound is 2/(1/2) = 4 over ||(x, 1)||²",
        statement=[
            sp.LessThan(_QUADRATIC, (v.T * v)[0, 0] / 2),
            eq(
                (_EDGE.T * at(H, dict(zip(p, _HALF, strict=True))) * _EDGE)[0, 0],
                (_EDGE.T * _EDGE)[0, 0] / 2,
            ),
        ],
    )
    .start(_QUADRATIC, "the quadratic form at ŷ = a/Σa")
    .le(
        (v.T * v)[0, 0] / 2,
        "the gap is Σ_i 2v_i²(ŷ_i - 1/2)² + (1/2) Σ_{i≠j} ŷ_i ŷ_j (v_i + v_j)² ≥ 0",
        certificate=_HALF_GAP,
    )
    .claim(
        (_EDGE.T * at(H, dict(zip(p, _HALF, strict=True))) * _EDGE)[0, 0],
        "=",
        (_EDGE.T * _EDGE)[0, 0] / 2,
        "v = (1, -1, 0) at the simplex's edge ŷ = (1/2, 1/2, 0): the bound is tight",
    )
)

# k = 2: the same model is logistic regression on the score difference.
two = components(2, 1)
z0, z1 = two.z
y1 = sp.Symbol("y", real=True)
label = {two.y[0]: 1 - y1, two.y[1]: y1}
loss_2 = -sum(yc * sp.log(pc) for yc, pc in zip(two.y, softmax(two.z), strict=True))
BCE_OF_DIFFERENCE = -(y1 * sp.log(sigma(z1 - z0)) + (1 - y1) * sp.log(1 - sigma(z1 - z0)))
BINARY = (
    Theorem(
        "softmax.binary_is_logistic",
        "k = 2: softmax(z)₁ = σ(z₁ - z₀), the cross-entropy is the BCE at ŷ = σ(z₁ - z₀), "
        "and ∂J/∂z₁ = -∂J/∂z₀ = σ(z₁ - z₀) - y",
        statement=[
            eq(softmax(two.z)[1], sigma(z1 - z0)),
            eq(at(loss_2, label), BCE_OF_DIFFERENCE),
            eq(sp.Derivative(at(loss_2, label), z1), sigma(z1 - z0) - y1),
            eq(sp.Derivative(at(loss_2, label), z0), y1 - sigma(z1 - z0)),
        ],
        where={y1: sp.Interval(0, 1)},
        defs=DEFS,
    )
    .start(softmax(two.z)[1])
    .eq(1 / (1 + sp.exp(-(z1 - z0))), "divide by exp(z₁)")
    .eq(sigma(z1 - z0), "definition of σ")
    .start(at(loss_2, label), "the label (1 - y, y)")
    .eq(BCE_OF_DIFFERENCE, "softmax(z)₀ = 1 - σ(z₁ - z₀)")
    .start(sp.Derivative(at(loss_2, label), z1))
    .eq(sigma(z1 - z0) - y1, "the BCE's cancellation, with ∂(z₁ - z₀)/∂z₁ = 1")
    .start(sp.Derivative(at(loss_2, label), z0))
    .eq(y1 - sigma(z1 - z0), "and ∂(z₁ - z₀)/∂z₀ = -1")
)

THEOREMS = [JACOBIAN, CANCELLATION, SHIFT, SHIFT_RANGE, CONVEX, CURVATURE, BINARY]

if __name__ == "__main__":
    raise SystemExit(main(THEOREMS))
