"""Family 4: what w and b do to the sigmoid of a 1-feature model.

sigma(wx + b) = sigma(w(x - (-b/w))): the curve is the standard sigmoid
shifted to x = -b/w, where sigma = 1/2 (the decision boundary), and
scaled by w, its slope there being w/4.  All for w != 0.

Run ``python proofs/sigmoid_params.py`` to check and print the proofs.
"""

import sympy as sp

from derivreg.proof import Theorem, load, main
from derivreg.symbolic import b, derive, w_scalar, x_scalar, z

common = load("_common")
sigma, DEFS = common.sigma, common.DEFS
BCE = derive("bce", features=1)
x = x_scalar
#: The weight, nonzero: with w = 0 the model is a constant and has no boundary.
w = sp.Symbol("w", real=True, nonzero=True)
score = BCE.step("z").expr.subs(w_scalar, w)
boundary = -b / w

SHIFT = (
    Theorem(
        "sigmoid_params.shift_form",
        "σ(wx + b) = σ(w(x - (-b/w))) for w != 0: a shift by -b/w and a scaling by w",
        defs=DEFS,
    )
    .start(BCE.activation.subs(z, score), "the derivation's yhat at z = xw + b")
    .eq(sigma(w * x + b), "definition of σ")
    .eq(sigma(w * (x + b / w)), "factor out w != 0")
    .eq(sigma(w * (x - sp.UnevaluatedExpr(boundary))), "x + b/w = x - (-b/w)")
)

BOUNDARY = (
    Theorem(
        "sigmoid_params.decision_boundary",
        "σ(wx + b) = 1/2 exactly at x = -b/w, where the logit is 0",
        defs=DEFS,
    )
    .solve(
        sp.Eq(BCE.activation.subs(z, score), sp.Rational(1, 2)),
        x,
        sp.FiniteSet(boundary),
        "σ(t) = 1/2 iff exp(-t) = 1 iff t = 0, and wx + b = 0 iff x = -b/w",
    )
    .start(sp.Subs(score, x, boundary), "the logit at the boundary")
    .eq(0, "w(-b/w) + b = 0")
)

SLOPE = (
    Theorem(
        "sigmoid_params.slope_at_boundary",
        "d/dx σ(wx + b) at x = -b/w is w/4: w sets the steepness",
        defs=DEFS,
    )
    .start(
        sp.Subs(sp.Derivative(BCE.activation.subs(z, score), x), x, boundary),
        "the slope of the derivation's yhat at the boundary",
    )
    .eq(
        sp.Subs(w * sigma(score) * (1 - sigma(score)), x, boundary),
        "chain rule with σ' = σ(1 - σ) (sigmoid.derivative)",
    )
    .eq(w * sigma(0) * (1 - sigma(0)), "the logit is 0 at the boundary")
    .eq(w / 4, "σ(0) = 1/2")
)

THEOREMS = [SHIFT, BOUNDARY, SLOPE]

if __name__ == "__main__":
    raise SystemExit(main(THEOREMS))
