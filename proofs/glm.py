"""Family 10: canonical links, where dJ/dz = yhat - y for every one-parameter exponential family.

A family in canonical form has the per-sample loss J = A(z) - y z, with A its
cumulant function and the prediction yhat = A'(z).  Then dJ/dz = A'(z) - y =
yhat - y, whatever A is: the lecture's cancellation is the Bernoulli case
(A = softplus, yhat = sigma), Poisson regression the case A = exp, and the
Gaussian case A = z^2/2 is half the squared error up to a term free of z,
which is why MSE's dJ/dz is 2(yhat - y).  Gamma regression with the log link
is not canonical: dJ/dz = 1 - y/yhat, and yhat - y only at y = yhat or yhat = 1.

Run ``python proofs/glm.py`` to check and print the proofs.
"""

import sympy as sp

from derivreg.proof import Theorem, load, main
from derivreg.symbolic import GAMMA, POISSON, derive, y, yhat, z

common = load("_common")
sigma, softplus, DEFS = common.sigma, common.softplus, common.DEFS
A = sp.Function("A")
BCE = derive("bce", features=1)
MSE = derive("mse", features=1)
PO = derive(POISSON, features=1)
GA = derive(GAMMA, features=1)
#: A cumulant with the properties the general statement uses (smooth, any real z).
CUMULANT = {A: sp.Lambda(common.t, sp.exp(common.t) + common.t**2 / 2)}

CANONICAL = (
    Theorem(
        "glm.canonical",
        "for J = A(z) - y z and yhat = A'(z), dJ/dz = yhat - y for every cumulant A",
        statement=sp.Eq(sp.Derivative(A(z) - y * z, z), sp.Derivative(A(z), z) - y),
        defs=CUMULANT,
    )
    .start(sp.Derivative(A(z) - y * z, z), "the canonical form's loss, in z")
    .eq(sp.Derivative(A(z), z) - y, "linearity, and d(y z)/dz = y: A'(z) - y, i.e. yhat - y")
)

BERNOULLI = (
    Theorem(
        "glm.bernoulli",
        "the binary cross-entropy of sigma(z) is softplus(z) - y z: the case A = softplus",
        where={y: sp.Interval(0, 1)},
        defs=DEFS,
    )
    .start(BCE.yhat_of_z(BCE.loss), "the registry's loss at yhat = sigma(z)")
    .eq(softplus(z) - y * z, "log sigma(z) = z - softplus(z), log(1 - sigma(z)) = -softplus(z)")
    .start(sp.Derivative(softplus(z), z), "A' for A = softplus")
    .eq(sigma(z), "d log(1 + e^z)/dz = e^z/(1 + e^z)")
)

POISSON_CASE = (
    Theorem(
        "glm.poisson",
        "the Poisson loss of exp(z) is exp(z) - y z: the case A = exp, so dJ/dz = yhat - y",
        where={y: sp.Interval(0, sp.oo)},
    )
    .start(PO.loss, "the Poisson pair's loss, yhat - y log yhat")
    .start(PO.yhat_of_z(PO.loss), "at yhat = exp(z), where log exp(z) = z for real z")
    .eq(sp.exp(z) - y * z, "as SymPy writes it: A(z) = exp(z)", restate=True)
    .start(PO.dJ_dz, "the derivation's dJ_dz")
    .eq(yhat - y, "the canonical form (glm.canonical) with A' = exp", restate=True)
)

GAUSSIAN = (
    Theorem(
        "glm.gaussian",
        "half the squared error is z^2/2 - y z + y^2/2: A = z^2/2 up to a term free of z, "
        "so MSE's dJ/dz is 2(yhat - y)",
    )
    .start(MSE.yhat_of_z(MSE.loss) / 2, "half the registry's loss at yhat = z")
    .eq(z**2 / 2 - y * z + y**2 / 2, "expand the square")
    .start(MSE.dJ_dz, "the derivation's dJ_dz")
    .eq(sp.Mul(2, yhat - y, evaluate=False), "twice the canonical yhat - y")
)

GAMMA_CASE = (
    Theorem(
        "glm.gamma_not_canonical",
        "Gamma with the log link: dJ/dz = 1 - y/yhat, which differs from yhat - y",
        where={y: sp.Interval.open(0, sp.oo), yhat: sp.Interval.open(0, sp.oo)},
    )
    .start(GA.dJ_dz, "the derivation's dJ_dz")
    .eq(1 - y / yhat, "(yhat - y)/yhat")
    .start(GA.dJ_dz - (yhat - y), "its distance from the canonical form")
    .eq((yhat - y) * (1 - yhat) / yhat, "common denominator: (yhat - y)(1/yhat - 1)")
)

#: A positive label, as the Gamma family's domain requires.
y_pos = sp.Symbol("y", positive=True)

CONVEX = (
    Theorem(
        "glm.convex_in_z",
        "d2J/dz2 = exp(z) > 0 (Poisson) and y exp(-z) > 0 (Gamma, y > 0): both losses are "
        "convex in z",
    )
    .start(PO.yhat_of_z(PO.d2J_dz2), "the Poisson derivation's d2J_dz2 = yhat at yhat = exp(z)")
    .gt(0, "exp is positive on the reals")
    .start(
        GA.yhat_of_z(GA.d2J_dz2).subs(y, y_pos),
        "the Gamma derivation's d2J_dz2 = y/yhat at yhat = exp(z), for a label y > 0",
    )
    .gt(0, "a positive label times exp(-z) > 0")
)

#: Any positive level the curvature is to reach.
level = sp.Symbol("t", positive=True)

UNBOUNDED = (
    Theorem(
        "glm.curvature_unbounded",
        "d2J/dz2 takes every positive value t (Poisson at z = log t, Gamma at z = log(y/t)): "
        "no supremum, so no constant step size is safe and the kernels' "
        "STEP_SIZE_NUMERATOR is 0",
    )
    .start(PO.yhat_of_z(PO.d2J_dz2).subs(z, sp.log(level)), "Poisson's exp(z) at z = log t")
    .eq(level, "exp(log t) = t for t > 0 (SymPy evaluates it on substitution)", restate=True)
    .start(
        GA.yhat_of_z(GA.d2J_dz2).subs(y, y_pos).subs(z, sp.log(y_pos / level)),
        "Gamma's y exp(-z) at z = log(y/t), for a label y > 0",
    )
    .eq(level, "y exp(-log(y/t)) = y t/y (SymPy evaluates it on substitution)", restate=True)
)

THEOREMS = [CANONICAL, BERNOULLI, POISSON_CASE, GAUSSIAN, GAMMA_CASE, CONVEX, UNBOUNDED]

if __name__ == "__main__":
    raise SystemExit(main(THEOREMS))
