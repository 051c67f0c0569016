"""Family 3: logistic regression with the binary cross-entropy.

dJ/dyhat = (yhat - y)/(yhat(1 - yhat)); times dyhat/dz = yhat(1 - yhat) it
cancels to dJ/dz = yhat - y, so dJ/dw = (yhat - y) x and the update is
w := w + alpha (y - yhat) x: the shape of the MSE rule, without its
factor 2.  Vector statements hold for every n (component k; see mse.py).

Run ``python proofs/bce.py`` to check and print the proofs.
"""

import sympy as sp

from derivreg.proof import Theorem, load, main
from derivreg.symbolic import alpha, derive, x_scalar, y, yhat, z

common = load("_common")
sigma, DEFS = common.sigma, common.DEFS
BCE = derive("bce", features=1)
MSE = derive("mse", features=1)
#: Labels in [0, 1]; a prediction strictly inside (0, 1), where log yhat is finite.
DOMAIN = {y: sp.Interval(0, 1), yhat: sp.Interval.open(0, 1)}

DJ_DYHAT = (
    Theorem(
        "bce.dJ_dyhat",
        "dJ/dyhat = (yhat - y)/(yhat(1 - yhat)) for J = -[y log yhat + (1 - y) log(1 - yhat)]",
        statement=sp.Eq(
            sp.Derivative(-(y * sp.log(yhat) + (1 - y) * sp.log(1 - yhat)), yhat),
            (yhat - y) / (yhat * (1 - yhat)),
            evaluate=False,
        ),
        where=DOMAIN,
    )
    .start(sp.Derivative(BCE.loss, yhat), "the registry's loss, in yhat")
    .eq(-y / yhat + (1 - y) / (1 - yhat), "d log u = du/u, and d(1 - yhat) = -dyhat")
    .eq((yhat - y) / (yhat * (1 - yhat)), "common denominator: -y(1 - yhat) + (1 - y)yhat")
    .eq(BCE.dJ_dyhat, "the derivation's dJ_dyhat", restate=True)
)

#: The two factors as the slides write them, kept unevaluated so that they print so.
FACTOR = sp.Mul(yhat, 1 - yhat, evaluate=False)
DJ_DYHAT_SLIDES = sp.Mul(yhat - y, sp.Pow(FACTOR, -1, evaluate=False), evaluate=False)

CANCELLATION = (
    Theorem(
        "bce.cancellation",
        "dJ/dz = dJ/dyhat * dyhat/dz = yhat - y: the factor yhat(1 - yhat) cancels",
        statement=[
            sp.Eq(sp.Mul(BCE.dJ_dyhat, BCE.dyhat_dz, evaluate=False), yhat - y, evaluate=False),
            sp.Eq(sp.Derivative(BCE.yhat_of_z(BCE.loss), z), sigma(z) - y, evaluate=False),
        ],
        where=DOMAIN,
        defs=DEFS,
    )
    .start(
        sp.Mul(BCE.dJ_dyhat, BCE.dyhat_dz, evaluate=False),
        "chain rule: the derivation's dJ/dyhat times its dyhat/dz",
    )
    .eq(
        sp.Mul(DJ_DYHAT_SLIDES, FACTOR, evaluate=False),
        "dJ/dyhat (bce.dJ_dyhat) times dyhat/dz (sigmoid.derivative), as the slides write them",
    )
    .eq(
        yhat - y,
        "yhat(1 - yhat) cancels: it is nonzero for yhat in (0, 1)",
        nonzero=[FACTOR],
    )
    .eq(BCE.dJ_dz, "the derivation's dJ_dz", restate=True)
    .start(
        sp.Derivative(BCE.yhat_of_z(BCE.loss), z),
        "without the cancellation: the loss of z, in z",
    )
    .eq(
        (-y + (1 - y) * sp.exp(z)) / (sp.exp(z) + 1),
        "what SymPy finds from the composed expression",
    )
    .eq(sigma(z) - y, "(exp(z) - y(1 + exp(z)))/(1 + exp(z)), and exp(z)/(1 + exp(z)) = σ(z)")
    .eq(BCE.yhat_of_z(BCE.dJ_dz), "the derivation's dJ_dz at yhat = σ(z)")
)

SAME_SHAPE = (
    Theorem(
        "bce.same_shape_as_mse",
        "the MSE's dJ/dz is 2 times the BCE's, as functions of (y, yhat); so is each update's "
        "increment (yhat = z for MSE, σ(z) for BCE)",
        where=DOMAIN,
    )
    .start(MSE.dJ_dz, "the MSE derivation's dJ_dz")
    .eq(2 * (yhat - y), "-2(y - yhat) = 2(yhat - y)")
    .eq(sp.Mul(2, BCE.dJ_dz, evaluate=False), "2 times the BCE derivation's dJ_dz")
    .start(sp.Add(MSE.update_w, -MSE.symbols["w"], evaluate=False), "the MSE step on w, 1 feature")
    .eq(2 * alpha * (y - yhat) * x_scalar, "2 alpha (y - yhat) x")
    .eq(sp.Mul(2, BCE.update_w - BCE.symbols["w"], evaluate=False), "2 times the BCE step on w")
)

THEOREMS = [
    DJ_DYHAT,
    CANCELLATION,
    *common.gradient_theorems("bce", yhat - y, {y: sp.Interval(0, 1)}, "(yhat - y)"),
    SAME_SHAPE,
]

if __name__ == "__main__":
    raise SystemExit(main(THEOREMS))
