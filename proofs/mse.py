"""Family 1: linear regression with the squared error, 1 feature and n features.

dJ/dyhat = -2(y - yhat), dyhat/dz = 1, dJ/dw = -2(y - yhat) x, dJ/db = -2(y - yhat),
and the update w := w + 2 alpha (y - yhat) x.  Vector statements hold for
every n: they are proven for component k, with the rest of the score x.w
a symbol r that does not depend on w_k; an explicit n = 2 instance checks
the derivation's matrix expression as a whole.

Run ``python proofs/mse.py`` to check and print the proofs.
"""

import sympy as sp

from derivreg.proof import Theorem, load, main
from derivreg.symbolic import derive, y, yhat, z

common = load("_common")
MSE = derive("mse", features=1)
#: The slides' dJ/dyhat (unevaluated, so that it prints as the slides write it).
LECTURE = sp.Mul(-2, y - yhat, evaluate=False)

DJ_DYHAT = (
    Theorem(
        "mse.dJ_dyhat",
        "dJ/dyhat = -2(y - yhat) for J = (y - yhat)^2",
        statement=sp.Eq(sp.Derivative((y - yhat) ** 2, yhat), LECTURE, evaluate=False),
    )
    .start(sp.Derivative(MSE.loss, yhat), "the registry's loss, in yhat")
    .eq(LECTURE, "power rule, and d(y - yhat)/dyhat = -1")
    .eq(MSE.dJ_dyhat, "the derivation's dJ_dyhat", restate=True)
)

DJ_DZ = (
    Theorem(
        "mse.dJ_dz",
        "yhat = z, so dyhat/dz = 1 and dJ/dz = dJ/dyhat = -2(y - yhat)",
        statement=[
            sp.Eq(MSE.dyhat_dz, 1, evaluate=False),
            sp.Eq(MSE.dJ_dz, LECTURE, evaluate=False),
            sp.Eq(sp.Derivative((y - z) ** 2, z), -2 * (y - z), evaluate=False),
        ],
    )
    .start(sp.Derivative(MSE.activation, z), "the registry's activation, in z")
    .eq(1, "the identity has slope 1")
    .eq(MSE.dyhat_dz, "the derivation's dyhat_dz", restate=True)
    .start(sp.Mul(LECTURE, MSE.dyhat_dz, evaluate=False), "chain rule: dJ/dyhat times dyhat/dz")
    .eq(LECTURE, "times 1")
    .eq(MSE.dJ_dz, "the derivation's dJ_dz", restate=True)
    .start(sp.Derivative(MSE.yhat_of_z(MSE.loss), z), "directly: the loss of z, in z")
    .eq(-2 * (y - z), "power rule")
    .eq(MSE.yhat_of_z(MSE.dJ_dz), "the derivation's dJ_dz at yhat = z", restate=True)
)

THEOREMS = [
    DJ_DYHAT,
    DJ_DZ,
    *common.gradient_theorems("mse", -2 * (y - yhat), {}, "-2(y - yhat)"),
]

if __name__ == "__main__":
    raise SystemExit(main(THEOREMS))
