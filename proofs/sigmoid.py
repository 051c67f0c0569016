"""Family 2: the sigmoid's derivative, its symmetry, its range and its curvature.

Run ``python proofs/sigmoid.py`` to check and print the proofs.
"""

import sympy as sp

from derivreg.proof import Theorem, load, main
from derivreg.symbolic import derive, z

common = load("_common")
sigma, DEFS = common.sigma, common.DEFS
BCE = derive("bce", features=1)
e = sp.exp(-z)

DERIVATIVE = (
    Theorem(
        "sigmoid.derivative",
        "σ'(z) = σ(z)(1 - σ(z)) for every real z, as the derivation's dyhat/dz says",
        statement=sp.Eq(sp.Derivative(sigma(z), z), sigma(z) * (1 - sigma(z)), evaluate=False),
        defs=DEFS,
    )
    .start(sp.Derivative(BCE.activation, z), "the registry's activation, differentiated")
    .eq(e / (1 + e) ** 2, "chain rule on (1 + exp(-z))^(-1)")
    .eq(sigma(z) * (e / (1 + e)), "one factor 1/(1 + exp(-z)) is σ(z)")
    .eq(sigma(z) * (1 - sigma(z)), "exp(-z)/(1 + exp(-z)) = 1 - 1/(1 + exp(-z))")
    .eq(BCE.yhat_of_z(BCE.dyhat_dz), "the derivation's dyhat/dz = yhat(1 - yhat) at yhat = σ(z)")
)

COMPLEMENT = (
    Theorem(
        "sigmoid.complement",
        "1 - σ(z) = σ(-z) for every real z",
        statement=sp.Eq(1 - sigma(z), sigma(-z), evaluate=False),
        defs=DEFS,
    )
    .start(1 - sigma(z))
    .eq(e / (1 + e), "common denominator")
    .eq(1 / (sp.exp(z) + 1), "multiply numerator and denominator by exp(z)")
    .eq(sigma(-z), "definition of σ at -z")
)

RANGE = (
    Theorem(
        "sigmoid.range",
        "0 < σ(z) < 1 for every real z",
        statement=[sp.StrictGreaterThan(sigma(z), 0), sp.StrictLessThan(sigma(z), 1)],
        defs=DEFS,
    )
    .claim(sigma(z), ">", 0, "1 over a sum of positive numbers")
    .claim(sigma(z), "<", 1, "1 - σ(z) = exp(-z)/(1 + exp(-z)) > 0", certificate=e / (1 + e))
)

CURVATURE = (
    Theorem(
        "sigmoid.curvature_bound",
        "σ(z)(1 - σ(z)) ≤ 1/4, with equality at z = 0",
        statement=[
            sp.LessThan(sigma(z) * (1 - sigma(z)), sp.Rational(1, 4)),
            sp.Eq(sigma(0), sp.Rational(1, 2), evaluate=False),
        ],
        defs=DEFS,
    )
    .start(sigma(z) * (1 - sigma(z)))
    .le(
        sp.Rational(1, 4),
        "1/4 - s(1 - s) = (s - 1/2)^2 ≥ 0 for s = σ(z)",
        certificate=(sigma(z) - sp.Rational(1, 2)) ** 2,
    )
    .claim(sigma(0), "=", sp.Rational(1, 2), "exp(0) = 1")
)

THEOREMS = [DERIVATIVE, COMPLEMENT, RANGE, CURVATURE]

if __name__ == "__main__":
    raise SystemExit(main(THEOREMS))
