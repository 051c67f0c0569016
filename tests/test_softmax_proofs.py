"""proofs/softmax.py: every theorem checks, and a false variant of each is refused.

Each attack below changes one thing in a true theorem of the family (a
missing hypothesis, a wrong constant, a wrong sign) and must come back as
a :class:`~derivreg.proof.ProofError`.
"""

import pytest
import sympy as sp

from derivreg.proof import ProofError, Theorem, load

family = load("softmax")
p, y, z, v, a = family.p, family.y, family.z, family.v, family.a
S, H, AT_S = family.S, family.H, family.AT_S


def refused(theorem: Theorem) -> ProofError:
    with pytest.raises(ProofError) as info:
        theorem.check()
    return info.value


@pytest.mark.parametrize("theorem", family.THEOREMS, ids=lambda t: t.name)
def test_the_family_checks(theorem):
    theorem.check()


def test_the_cancellation_needs_the_label_to_sum_to_one():
    # Without Σ y_c = 1 the product is -y + ŷ Σ y_c, not ŷ - y.
    product = family.D.matrices["dyhat_dz"].T * family.D.matrices["dJ_dyhat"]
    t = Theorem("false.cancellation", "no one-hot").start(product).eq(p - y, "the factor cancels")
    assert refused(t).detail.startswith(("symbolic check failed", "numeric check failed"))


def test_the_sigmoids_bound_1_4_is_refused_for_softmax():
    t = (
        Theorem("false.curvature", "λ_max ≤ 1/4")
        .start(family._QUADRATIC)
        .le((v.T * v)[0, 0] / 4, "as for the sigmoid", certificate=family._HALF_GAP)
    )
    assert refused(t)


def test_the_jacobian_with_a_plus_is_refused():
    wrong = sp.diag(*p) + p * p.T
    t = (
        Theorem("false.jacobian", "diag + outer")
        .start(sp.Matrix(3, 3, lambda i, j: sp.Derivative(S[i], z[j])))
        .eq(wrong.xreplace(AT_S), "quotient rule")
    )
    assert refused(t)


def test_the_shift_must_be_added_back_to_the_log_sum_exp():
    t_ = family.t
    t = (
        Theorem("false.lse", "log Σ exp(z) = log Σ exp(z - t)")
        .start(sp.log(sum(sp.exp(u) for u in z)))
        .eq(sp.log(sum(sp.exp(u - t_) for u in z)), "the shift changes nothing")
    )
    assert refused(t)


def test_k2_with_the_score_difference_reversed_is_refused():
    z0, z1 = family.z0, family.z1
    t = (
        Theorem("false.binary", "softmax₁ = σ(z₀ - z₁)", defs=family.DEFS)
        .start(family.softmax(family.two.z)[1])
        .eq(family.sigma(z0 - z1), "definition of σ")
    )
    assert refused(t)
