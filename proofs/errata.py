"""Family 9: three errata of the lecture, as computed statements.

1. The 1-feature linear code updates with ``w - 2*lr*dJ_dw`` although
   dJ_dw already holds the factor -2: its step is twice the slide's.
2. The 1-feature logistic labels are ``t_w*x + t_b > t_decision_boundary``
   with ``t_decision_boundary = -t_b/t_w``: they compare a logit with an
   x-position, so with t_w = 5, t_b = -3 the labels switch at x = 0.72, not
   at the model's boundary 0.6.
3. With separable labels (y = [z* > 0], z* = x.w* + b* != 0 for every
   sample) each sample's loss decreases strictly along c (w*, b*) as c
   grows, stays positive and tends to 0: the infimum 0 of the total loss
   is not attained, so the likelihood has no maximiser and |w| grows
   without bound under gradient descent.

Run ``python proofs/errata.py`` to check and print the proofs.
"""

import sympy as sp

from derivreg.proof import Case, Theorem, load, main
from derivreg.symbolic import alpha, b, derive, w_scalar, x_scalar, yhat

common = load("_common")
sigma, softplus, DEFS = common.sigma, common.softplus, common.DEFS
MSE, BCE = derive("mse", features=1), derive("bce", features=1)
y = MSE.symbols["y"]

DOUBLE_STEP = (
    Theorem(
        "errata.double_step",
        "the lecture's 1-feature linear code, w - 2*lr*dJ_dw, takes twice the slide's step "
        "w + 2 alpha (y - yhat) x (and likewise for b)",
    )
    .start(
        -2 * alpha * sp.UnevaluatedExpr(MSE.dJ_dw), "the code's step on w: w - 2 lr dJ_dw, minus w"
    )
    .eq(4 * alpha * (y - yhat) * x_scalar, "dJ_dw = -2(y - yhat)x already holds the -2")
    .eq(
        sp.Mul(2, MSE.update_w - w_scalar, evaluate=False),
        "twice the derivation's (and the slide's) step",
    )
    .start(-2 * alpha * sp.UnevaluatedExpr(MSE.dJ_db), "the code's step on b")
    .eq(sp.Mul(2, MSE.update_b - b, evaluate=False), "twice the derivation's step")
)

t_w, t_b = sp.Integer(5), sp.Integer(-3)
xx = sp.Symbol("x", real=True)
tw, tb, tdb = (
    sp.Symbol("t_w", positive=True),
    sp.Symbol("t_b", real=True),
    sp.Symbol("d", real=True),
)
LABEL_BOUNDARY = (
    Theorem(
        "errata.label_boundary",
        "labels t_w x + t_b > -t_b/t_w with t_w = 5, t_b = -3 are 1 exactly for x > 18/25 = 0.72, "
        "while the model's boundary is -t_b/t_w = 3/5 = 0.6",
    )
    .start(tw * xx + tb - tdb, "the labels compare the logit with a number d (t_w > 0)")
    .eq(tw * (xx - (tdb - tb) / tw), "so they switch at x = (d - t_b)/t_w")
    .start(
        sp.Subs((-tb / tw - tb) / tw, (tw, tb), (t_w, t_b)),
        "with d = t_decision_boundary = -t_b/t_w, at t_w = 5, t_b = -3",
    )
    .eq(sp.Rational(18, 25), "= 0.72")
    .solve(
        t_w * xx + t_b > -t_b / t_w,
        xx,
        sp.Interval.open(sp.Rational(18, 25), sp.oo),
        "the lecture's label rule, solved for x",
    )
    .claim(sp.Rational(18, 25), "≠", -t_b / t_w, "0.72 is not the model's boundary 0.6")
)

zstar = sp.Symbol("zstar", real=True, nonzero=True)
c = sp.Symbol("c", real=True)
p = sp.Symbol("p", positive=True)
label = sp.Piecewise((1, zstar > 0), (0, True))
loss_along = BCE.loss.subs(yhat, BCE.activation.subs(BCE.symbols["z"], c * zstar)).subs(
    BCE.symbols["y"], label
)
SIDES = (Case("z* > 0 (label 1)", {zstar: p}), Case("z* < 0 (label 0)", {zstar: -p}))
SEPARABLE = (
    Theorem(
        "errata.separable_no_maximiser",
        "a sample labelled by the sign of z* = x.w* + b* != 0: its loss at c (w*, b*) is "
        "softplus(-c|z*|), positive, strictly decreasing in c, and tends to 0 as c grows",
        defs=DEFS,
    )
    .start(loss_along, "the derivation's loss at yhat = σ(c z*), y = [z* > 0]")
    .eq(
        softplus(-c * sp.Abs(zstar)),
        "label 1: -log σ(c|z*|); label 0: -log(1 - σ(-c|z*|))",
        cases=SIDES,
    )
    .gt(0, "log of a number > 1", cases=SIDES)
    .start(sp.Derivative(loss_along, c), "its derivative in c")
    .eq(-sp.Abs(zstar) * sigma(-c * sp.Abs(zstar)), "chain rule (bce.cancellation)", cases=SIDES)
    .lt(0, "|z*| > 0 and σ > 0", cases=SIDES)
    .start(sp.Limit(loss_along, c, sp.oo), "as c grows")
    .eq(0, "softplus(-t) -> 0 as t -> oo", cases=SIDES)
)

THEOREMS = [DOUBLE_STEP, LABEL_BOUNDARY, SEPARABLE]

if __name__ == "__main__":
    raise SystemExit(main(THEOREMS))
