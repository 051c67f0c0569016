"""Family 11: the penalties, the L2 term's gradient and the L1 term's proximal step.

scikit-learn's objective: the mean loss plus alpha (l1_ratio ||w||_1 +
(1 - l1_ratio)/2 ||w||^2), b never penalised; here λ is alpha (the lecture
already calls the learning rate alpha).  The L2 term of one weight is
(λ/2) w², whose derivative λ w is what the generated ``dR_dw`` adds to
``dJ/dw``.  The L1 term is applied as a proximal step: after a gradient step
to v, the weight becomes argmin_u (1/2)(u - v)² + t|u| with t = lr λ l1_ratio,
and the derivation (``derivreg.symbolic.penalty``) finds it by solving each
smooth side.  That a stationary point of each side is the minimiser over all
u needs proof, since |u| is not differentiable at 0: every case of v
(beyond t, beyond -t, within [-t, t]) and of u (u >= 0, u < 0) is checked,
and the gap to the minimum is a sum of non-negative terms.  The kernels
print the branch-free form max(v - t, 0) - max(-v - t, 0), equal to it for
every t >= 0.

Run ``python proofs/penalty.py`` to check and print the proofs.
"""

import sympy as sp

from derivreg.proof import Case, Theorem, main, sign_cases
from derivreg.symbolic import w_scalar
from derivreg.symbolic.penalty import derive_penalty, lam, t, u, v

P = derive_penalty()
S = P.soft_threshold


def objective(at: sp.Basic) -> sp.Basic:
    """The proximal objective (1/2)(u - v)² + t|u| at ``u = at``."""
    return P.step("prox_objective").expr.subs(u, at)


#: The proof's threshold, t > 0 (t = 0 is the theorem penalty.no_threshold), and
#: offsets: v beyond ±T by p > 0 (or at ±T), u of size q0 >= 0 or q > 0, and within (-T, T)
#: v = T (p - 1)/(p + 1) for p > 0 (increasing in p, from -T to T).
T = sp.Symbol("T", positive=True)
p, q = sp.symbols("p q", positive=True)
p0, q0 = sp.symbols("p0 q0", nonnegative=True)
#: v = T c: every real v is T times c = v/T, so the cases split c at ±1 (numbers, which
#: the coverage check can compare; a split of v at ±T it cannot).
c = sp.Symbol("c", real=True)
INSIDE = (p - 1) / (p + 1)
AT_T = {t: T, v: T * c}


def gap(at: sp.Basic) -> sp.Basic:
    """The objective at ``u = at`` minus its value at the proximal step."""
    return objective(at) - objective(S)


L2 = (
    Theorem(
        "penalty.l2_gradient",
        "the L2 term (λ/2) w² of one weight has derivative λ w: what dR_dw adds to dJ/dw",
    )
    .start(sp.Derivative(P.R, w_scalar), "the derivative of the derivation's R")
    .eq(lam * w_scalar, "d(w²)/dw = 2w")
    .start(P.dR_dw, "the derivation's dR_dw")
    .eq(lam * w_scalar, "as SymPy differentiated it", restate=True)
)

#: Every v and every real u, for a threshold T > 0: v >= T, v <= -T or within (-T, T),
#: and u >= 0 or u < 0.
REGIONS = (
    ("v > T", 1 + p),
    ("v = T", sp.Integer(1)),
    ("v < -T", -1 - p),
    ("v = -T", sp.Integer(-1)),
    ("-T < v < T", INSIDE),
)
SIDES = (("u >= 0", q0), ("u < 0", -q))
CASES = tuple(Case(f"{rv}, {ru}", {c: at_v, u: at_u}) for rv, at_v in REGIONS for ru, at_u in SIDES)

MINIMISER = (
    Theorem(
        "penalty.soft_threshold_minimises",
        "for T > 0, soft-thresholding S(v, T) minimises (1/2)(u - v)² + T|u| over every real u",
        statement=sp.GreaterThan(gap(u).subs(AT_T), 0, evaluate=False),
    )
    .start(gap(u).subs(AT_T), "the gap of any u to the derived proximal step, at v = T c")
    .ge(
        0,
        "in each case a sum of squares and non-negative products: (u - S)²/2 plus "
        "T (|u| - g u) with |g| <= 1",
        cases=CASES,
    )
)

NO_THRESHOLD = (
    Theorem(
        "penalty.no_threshold",
        "at t = 0 the proximal step is the identity, S(v, 0) = v, the minimiser of (1/2)(u - v)²",
    )
    .start(S.subs(t, 0), "the derivation's proximal step at t = 0")
    .eq(v, "v - 0 for v > 0, v + 0 for v < 0, and 0 at v = 0", cases=sign_cases(v))
    .start(gap(u).subs(t, 0), "the gap of any u to it")
    .eq((u - v) ** 2 / 2, "(u - v)²/2 - 0", cases=sign_cases(v))
    .ge(0, "a square")
)

#: The regions of v, for the printed form (t = T > 0; at t = 0 both sides are v).
V_CASES = tuple(Case(label, {c: at_v}) for label, at_v in REGIONS)

PRINTED = sp.Max(v - t, 0) - sp.Max(-v - t, 0)

MAXIMA = (
    Theorem(
        "penalty.soft_threshold_as_maxima",
        "for t >= 0, S(v, t) = max(v - t, 0) - max(-v - t, 0): the kernels' branch-free form",
    )
    .start(S.subs(AT_T), "the derivation's proximal step, t = T > 0, v = T c")
    .eq(PRINTED.subs(AT_T), "at most one of v - T, -v - T is positive", cases=V_CASES)
    .start(S.subs(t, 0), "and at t = 0")
    .eq(PRINTED.subs(t, 0), "max(v, 0) - max(-v, 0) = v", cases=sign_cases(v))
)

THEOREMS = [L2, MINIMISER, NO_THRESHOLD, MAXIMA]

if __name__ == "__main__":
    raise SystemExit(main(THEOREMS))
