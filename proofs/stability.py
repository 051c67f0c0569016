"""Family 5: the numerically stable forms the code generator prints, proven equal.

The generator (``derivreg.codegen``) may apply only the rewrites proven
here; :data:`REWRITES` maps the names it cites to the theorems.  Each holds
for every real ``t`` (or ``z``) and every ``y`` (the labels' range
``[0, 1]`` included), with a case split on the sign where ``|t|``,
``max`` or ``where`` appear:

=========================  ===================================================
``softplus_stable_form``   softplus(t) = max(t, 0) + log1p(exp(-|t|))
``log_sigmoid``            log σ(t) = -softplus(-t);  log(1 - σ(t)) = -softplus(t)
``one_minus_sigmoid``      1 - σ(t) = σ(-t)
``sigmoid_stable_form``    σ(t) = where(t ≥ 0, 1, e)/(1 + e),  e = exp(-|t|)
``sigmoid_branch_free_form`` σ(t) = exp(min(t, 0))/(1 + e): the same, with no branch
``sigmoid_maximum_form``   σ(t) = max(e, [t ≥ 0])/(1 + e), [t ≥ 0] the comparison's
                           0 or 1: NumPy's printed form, no branch and no second exp
``sigmoid_neg_stable_form`` σ(-t) = where(t ≥ 0, e, 1)/(1 + e)
``bce_stable_form``        BCE at yhat = σ(z) = y softplus(-z) + (1 - y) softplus(z)
                           = max(z, 0) - y z + log1p(exp(-|z|))
``dJ_dz_stable_form``      σ(t) - y = (1 - y) σ(t) - y σ(-t); the derivation's
                           dJ/dz at yhat = σ(z) in where-form
``tanh_quotient``          sinh(t)/cosh(t) = tanh(t), which is finite where both overflow
``cosh_plus_sinh``         cosh(t) + sinh(t) = exp(t);  cosh(t) - sinh(t) = exp(-t)
``exp_product``            exp(u) exp(v) = exp(u + v): no inf * 0 where u = -v is large
``log_cosh``               log cosh(t) = logcosh(t), the stable function's name
``log_cosh_stable_form``   logcosh(t) = where(|t| < 1, log1p(sinh(t)²)/2,
                           |t| - log 2 + log1p(exp(-2|t|))): each branch is
                           log cosh t for every real t (the first has no
                           cancellation near 0, the second no overflow far out)
``exp_ratio_stable_form``  -(y - exp(t)) exp(-t) = 1 - y exp(-t): Gamma's dJ/dz
                           at yhat = exp(z), with no inf * 0 past exp(t) overflow
=========================  ===================================================

Run ``python proofs/stability.py`` to check and print the proofs.
"""

import sympy as sp
from sympy.codegen.cfunctions import log1p

from derivreg.proof import Theorem, load, main, sign_cases
from derivreg.symbolic import derive, y, z

common = load("_common")
sigmoid_family = load("sigmoid")
sigma, softplus, t, DEFS = common.sigma, common.softplus, common.t, common.DEFS
#: log cosh, named (the generator's ``LogCosh``), with its definition.
logcosh = sp.Function("logcosh")
DEFS_LOG_COSH = {logcosh: sp.Lambda(t, sp.log(sp.cosh(t)))}
DEFS_HYPERBOLIC = {**DEFS, **DEFS_LOG_COSH}
BCE = derive("bce", features=1)
GAMMA = derive("gamma", features=1)
LABELS = {y: sp.Interval(0, 1)}


def where(condition: sp.Basic, then: sp.Basic, otherwise: sp.Basic) -> sp.Piecewise:
    """NumPy's where(condition, then, otherwise), as SymPy."""
    return sp.Piecewise((then, condition), (otherwise, True))


def e(v: sp.Basic) -> sp.Basic:
    """exp(-|v|): at most 1, so it never overflows."""
    return sp.exp(-sp.Abs(v))


m = sp.Max(t, 0)
SOFTPLUS = (
    Theorem(
        "stability.softplus_stable_form",
        "softplus(t) = max(t, 0) + log1p(exp(-|t|)) for every real t",
        statement=sp.Eq(softplus(t), m + log1p(e(t)), evaluate=False),
        defs=DEFS,
    )
    .start(softplus(t))
    .eq(sp.log(1 + sp.exp(t)), "definition of softplus")
    .eq(
        m + sp.log(sp.exp(-m) + sp.exp(t - m)),
        "log(1 + exp(t)) = m + log(exp(-m)(1 + exp(t))) for any m; take m = max(t, 0)",
        cases=sign_cases(t),
    )
    .eq(
        m + sp.log(1 + e(t)),
        "t ≥ 0: exp(-t) + 1; t < 0: 1 + exp(t) = 1 + exp(-|t|)",
        cases=sign_cases(t),
    )
    .eq(m + log1p(e(t)), "printed with log1p(u) = log(1 + u), accurate for small u")
)

LOG_SIGMOID = (
    Theorem(
        "stability.log_sigmoid",
        "log σ(t) = -softplus(-t) and log(1 - σ(t)) = -softplus(t) for every real t",
        statement=[
            sp.Eq(sp.log(sigma(t)), -softplus(-t), evaluate=False),
            sp.Eq(sp.log(1 - sigma(t)), -softplus(t), evaluate=False),
        ],
        defs=DEFS,
    )
    .start(sp.log(sigma(t)))
    .eq(sp.log(1 / (1 + sp.exp(-t))), "definition of σ")
    .eq(-sp.log(1 + sp.exp(-t)), "log(1/u) = -log(u) for u > 0")
    .eq(-softplus(-t), "definition of softplus at -t")
    .start(sp.log(1 - sigma(t)))
    .eq(sp.log(sigma(-t)), "1 - σ(t) = σ(-t)", by=(sigmoid_family.COMPLEMENT, {z: t}))
    .eq(-sp.log(1 + sp.exp(t)), "definition of σ at -t, and log(1/u) = -log(u)")
    .eq(-softplus(t), "definition of softplus")
)

ONE_MINUS_SIGMOID = (
    Theorem(
        "stability.one_minus_sigmoid",
        "1 - σ(t) = σ(-t) for every real t",
        statement=sp.Eq(1 - sigma(t), sigma(-t), evaluate=False),
        defs=DEFS,
    )
    .start(1 - sigma(t))
    .eq(
        sigma(-t), "the theorem sigmoid.complement at z = t", by=(sigmoid_family.COMPLEMENT, {z: t})
    )
)

SIGMOID = (
    Theorem(
        "stability.sigmoid_stable_form",
        "σ(t) = where(t ≥ 0, 1, e)/(1 + e) with e = exp(-|t|) ≤ 1, for every real t",
        defs=DEFS,
    )
    .start(1 / (1 + sp.exp(-t)), "the derivation's activation, as the generator finds it")
    .eq(sigma(t), "definition of σ")
    .eq(
        where(t >= 0, 1, e(t)) / (1 + e(t)),
        "t ≥ 0: as written; t < 0: multiply by exp(t)/exp(t)",
        cases=sign_cases(t),
    )
)

SIGMOID_BRANCH_FREE = (
    Theorem(
        "stability.sigmoid_branch_free_form",
        "σ(t) = exp(min(t, 0))/(1 + e) with e = exp(-|t|), for every real t: the stable form "
        "without a branch (in floating point exp(min(t, 0)) is where(t ≥ 0, 1, e) bit for bit)",
        defs=DEFS,
    )
    .start(sigma(t))
    .eq(where(t >= 0, 1, e(t)) / (1 + e(t)), "the stable form", by=(SIGMOID, {}))
    .eq(
        sp.exp(sp.Min(t, 0)) / (1 + e(t)),
        "t ≥ 0: exp(0) = 1; t < 0: exp(t) = exp(-|t|)",
        cases=sign_cases(t),
    )
)

SIGMOID_MAXIMUM = (
    Theorem(
        "stability.sigmoid_maximum_form",
        "σ(t) = max(e, [t ≥ 0])/(1 + e) with e = exp(-|t|) and [t ≥ 0] its 0 or 1, for every "
        "real t: the stable form without a branch or a second exp (e ≤ 1 everywhere and e > 0, "
        "so the maximum is 1 where t ≥ 0 and e where t < 0, the same float as the branch's)",
        defs=DEFS,
    )
    .start(sigma(t))
    .eq(where(t >= 0, 1, e(t)) / (1 + e(t)), "the stable form", by=(SIGMOID, {}))
    .eq(
        sp.Max(e(t), where(t >= 0, 1, 0)) / (1 + e(t)),
        "t ≥ 0: max(exp(-t), 1) = 1 as -t ≤ 0; t < 0: max(exp(t), 0) = exp(t)",
        cases=sign_cases(t),
    )
)

SIGMOID_NEG = (
    Theorem(
        "stability.sigmoid_neg_stable_form",
        "σ(-t) = where(t ≥ 0, e, 1)/(1 + e) with e = exp(-|t|), for every real t",
        defs=DEFS,
    )
    .start(sigma(-t))
    .eq(1 / (1 + sp.exp(t)), "definition of σ at -t")
    .eq(
        where(t >= 0, e(t), 1) / (1 + e(t)),
        "t ≥ 0: multiply by exp(-t)/exp(-t); t < 0: as written",
        cases=sign_cases(t),
    )
)

BCE_LOSS = (
    Theorem(
        "stability.bce_stable_form",
        "-[y log σ(z) + (1-y) log(1 - σ(z))] = max(z, 0) - y z + log1p(exp(-|z|)) "
        "for every real z and y in [0, 1]",
        statement=sp.Eq(
            -(y * sp.log(sigma(z)) + (1 - y) * sp.log(1 - sigma(z))),
            sp.Max(z, 0) - y * z + log1p(e(z)),
            evaluate=False,
        ),
        where=LABELS,
        defs=DEFS,
    )
    .start(BCE.yhat_of_z(BCE.loss), "the derivation's loss J at yhat = σ(z)")
    .eq(-(y * sp.log(sigma(z)) + (1 - y) * sp.log(1 - sigma(z))), "definition of σ")
    .eq(
        y * softplus(-z) + (1 - y) * softplus(z),
        "log σ(z) = -softplus(-z), log(1 - σ(z)) = -softplus(z)",
        by=[(LOG_SIGMOID, {t: z}), (LOG_SIGMOID, {t: z})],
    )
    .eq(
        y * (sp.Max(-z, 0) + log1p(e(z))) + (1 - y) * (sp.Max(z, 0) + log1p(e(z))),
        "the stable softplus, at -z and at z",
        by=[(SOFTPLUS, {t: -z}), (SOFTPLUS, {t: z})],
    )
    .eq(
        sp.Max(z, 0) - y * z + log1p(e(z)),
        "max(-z, 0) = max(z, 0) - z",
        cases=sign_cases(z),
    )
)

DJ_DZ = (
    Theorem(
        "stability.dJ_dz_stable_form",
        "σ(t) - y = (1 - y) σ(t) - y σ(-t), which has no cancellation for y in {0, 1}; "
        "so the derivation's dJ/dz at yhat = σ(z) is "
        "((1 - y) where(z ≥ 0, 1, e) - y where(z ≥ 0, e, 1))/(1 + e), e = exp(-|z|)",
        where=LABELS,
        defs=DEFS,
    )
    .start(sigma(t) - y)
    .eq((1 - y) * sigma(t) - y * (1 - sigma(t)), "σ - y = (1 - y)σ - y(1 - σ)")
    .eq(
        (1 - y) * sigma(t) - y * sigma(-t),
        "1 - σ(t) = σ(-t)",
        by=(ONE_MINUS_SIGMOID, {}),
    )
    .start(BCE.yhat_of_z(BCE.dJ_dz), "the derivation's dJ/dz at yhat = σ(z)")
    .eq(sigma(z) - y, "definition of σ")
    .eq((1 - y) * sigma(z) - y * (1 - sigma(z)), "as in the first chain")
    .eq((1 - y) * sigma(z) - y * sigma(-z), "1 - σ(z) = σ(-z)", by=(ONE_MINUS_SIGMOID, {t: z}))
    .eq(
        ((1 - y) * where(z >= 0, 1, e(z)) - y * where(z >= 0, e(z), 1)) / (1 + e(z)),
        "the stable σ(z) and σ(-z)",
        by=[(SIGMOID, {t: z}), (SIGMOID_NEG, {t: z})],
    )
)

TANH = (
    Theorem(
        "stability.tanh_quotient",
        "sinh(t)/cosh(t) = tanh(t) for every real t (cosh(t) >= 1)",
        statement=sp.Eq(sp.sinh(t) / sp.cosh(t), sp.tanh(t), evaluate=False),
    )
    .start(sp.sinh(t) / sp.cosh(t))
    .eq(sp.tanh(t), "definition of tanh; cosh(t) >= 1 is never 0")
)

COSH_SINH = (
    Theorem(
        "stability.cosh_plus_sinh",
        "cosh(t) + sinh(t) = exp(t) and cosh(t) - sinh(t) = exp(-t) for every real t",
        statement=[
            sp.Eq(sp.cosh(t) + sp.sinh(t), sp.exp(t), evaluate=False),
            sp.Eq(sp.cosh(t) - sp.sinh(t), sp.exp(-t), evaluate=False),
        ],
    )
    .start(sp.cosh(t) + sp.sinh(t))
    .eq(sp.exp(t), "(exp(t) + exp(-t))/2 + (exp(t) - exp(-t))/2: the exp(-t) terms cancel")
    .start(sp.cosh(t) - sp.sinh(t))
    .eq(sp.exp(-t), "(exp(t) + exp(-t))/2 - (exp(t) - exp(-t))/2: the exp(t) terms cancel")
)

u, v = sp.symbols("u v", real=True)
EXP_PRODUCT = (
    Theorem(
        "stability.exp_product",
        "exp(u) exp(v) = exp(u + v) for all real u, v",
        statement=sp.Eq(sp.exp(u) * sp.exp(v), sp.exp(u + v), evaluate=False),
    )
    .start(sp.exp(u) * sp.exp(v))
    .eq(sp.exp(u + v), "the exponential turns sums into products")
)

LOG_COSH = (
    Theorem(
        "stability.log_cosh",
        "log cosh(t) = logcosh(t) for every real t: the stable function's name for it",
        statement=sp.Eq(sp.log(sp.cosh(t)), logcosh(t), evaluate=False),
        defs=DEFS_HYPERBOLIC,
    )
    .start(sp.log(sp.cosh(t)))
    .eq(logcosh(t), "definition of logcosh")
)

a = sp.Abs(t)
NEAR = log1p(sp.sinh(t) ** 2) / 2
FAR = a - sp.log(2) + log1p(sp.exp(-2 * a))
LOG_COSH_NEAR = (
    Theorem(
        "stability.log_cosh_near_zero",
        "logcosh(t) = log1p(sinh(t)²)/2 for every real t: no cancellation near t = 0",
        statement=sp.Eq(logcosh(t), NEAR, evaluate=False),
        defs=DEFS_HYPERBOLIC,
    )
    .start(logcosh(t))
    .eq(sp.log(sp.cosh(t)), "definition of logcosh")
    .eq(sp.log(sp.cosh(t) ** 2) / 2, "cosh(t) >= 1 > 0, so log cosh = log(cosh²)/2")
    .eq(sp.log(1 + sp.sinh(t) ** 2) / 2, "cosh² = 1 + sinh²")
    .eq(NEAR, "printed with log1p(u) = log(1 + u), accurate for small u")
)

LOG_COSH_FAR = (
    Theorem(
        "stability.log_cosh_far_out",
        "logcosh(t) = |t| - log 2 + log1p(exp(-2|t|)) for every real t: no overflow",
        statement=sp.Eq(logcosh(t), FAR, evaluate=False),
        defs=DEFS_HYPERBOLIC,
    )
    .start(logcosh(t))
    .eq(sp.log(sp.cosh(t)), "definition of logcosh")
    .eq(sp.log(sp.cosh(a)), "cosh is even: cosh(t) = cosh(|t|)", cases=sign_cases(t))
    .eq(
        sp.log(sp.exp(a) * (1 + sp.exp(-2 * a)) / 2),
        "cosh(u) = (exp(u) + exp(-u))/2 = exp(u)(1 + exp(-2u))/2",
    )
    .eq(a + sp.log(1 + sp.exp(-2 * a)) - sp.log(2), "log of a product of positive factors")
    .eq(FAR, "printed with log1p(u) = log(1 + u); exp(-2|t|) <= 1 never overflows")
)

LOG_COSH_STABLE = (
    Theorem(
        "stability.log_cosh_stable_form",
        "logcosh(t) = where(|t| < 1, log1p(sinh(t)²)/2, |t| - log 2 + log1p(exp(-2|t|))) "
        "for every real t",
        statement=sp.Eq(logcosh(t), where(a < 1, NEAR, FAR), evaluate=False),
        defs=DEFS_HYPERBOLIC,
    )
    .start(where(a < 1, NEAR, FAR), "the printed form")
    .eq(
        logcosh(t),
        "each branch is logcosh(t) for every real t, so either choice of the condition is",
        by=[(LOG_COSH_NEAR, {}), (LOG_COSH_FAR, {})],
    )
)

EXP_RATIO = (
    Theorem(
        "stability.exp_ratio_stable_form",
        "-(y - exp(t)) exp(-t) = 1 - y exp(-t) for every real t and y: exp(-t) exp(t) = 1 "
        "taken before printing, so past t = 709.78 the printed form is 1 - y exp(-t), not "
        "inf * 0; so the derivation's Gamma dJ/dz at yhat = exp(z) is 1 - y exp(-z)",
        defs=DEFS,
    )
    .start(-(y - sp.exp(t)) * sp.exp(-t), "what the generator finds: (a + b exp(t)) exp(-t)")
    .eq(1 - y * sp.exp(-t), "distribute exp(-t); exp(t) exp(-t) = exp(0) = 1")
    .start(GAMMA.yhat_of_z(GAMMA.dJ_dz), "the derivation's Gamma dJ/dz at yhat = exp(z)")
    .eq(-(y - sp.exp(z)) * sp.exp(-z), "as derived")
    .eq(1 - y * sp.exp(-z), "the first chain at t = z")
)

#: The rewrites the generator may apply, by the names it cites.
REWRITES = {
    "softplus_stable_form": SOFTPLUS,
    "log_sigmoid": LOG_SIGMOID,
    "one_minus_sigmoid": ONE_MINUS_SIGMOID,
    "sigmoid_stable_form": SIGMOID,
    "sigmoid_branch_free_form": SIGMOID_BRANCH_FREE,
    "sigmoid_maximum_form": SIGMOID_MAXIMUM,
    "sigmoid_neg_stable_form": SIGMOID_NEG,
    "bce_stable_form": BCE_LOSS,
    "dJ_dz_stable_form": DJ_DZ,
    "tanh_quotient": TANH,
    "cosh_plus_sinh": COSH_SINH,
    "exp_product": EXP_PRODUCT,
    "log_cosh": LOG_COSH,
    "log_cosh_near_zero": LOG_COSH_NEAR,
    "log_cosh_far_out": LOG_COSH_FAR,
    "log_cosh_stable_form": LOG_COSH_STABLE,
    "exp_ratio_stable_form": EXP_RATIO,
}

THEOREMS = list(REWRITES.values())

if __name__ == "__main__":
    raise SystemExit(main(THEOREMS))
