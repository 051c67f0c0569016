"""The matrix-form chain: softmax is its k-class case, every scalar pair its k = 1 case.

``derivreg.symbolic.matrix_chain.matrix_chain`` takes the same steps for any
output map and loss (∂J/∂ŷ, the Jacobian ∂ŷ/∂z in ŷ, the chain product, ∂J/∂W,
∂J/∂b, ∂²J/∂z²), each against SymPy's derivatives of the composed loss.
``derive_softmax`` runs it with k = 3; ``derive_k1`` runs it for a scalar pair
with a 1 x 1 Jacobian and compares each entry with the scalar derivation.
"""

from unittest import mock

import pytest
import sympy as sp

from derivreg.symbolic import REGISTRY, DerivationError, derive
from derivreg.symbolic import matrix_chain as chain_module
from derivreg.symbolic.matrix_chain import K1_CHECKED, derive_k1
from derivreg.symbolic.softmax import derive_softmax

SAME_STEPS = {"z", "yhat", "J", "dJ_dyhat", "dyhat_dz", "chain", "dJ_dz", "dJ_dW", "dJ_db"}


@pytest.mark.parametrize("name", sorted(REGISTRY))
def test_every_scalar_pair_is_the_k_1_case(name):
    chain = derive_k1(name, features=2)
    m = chain.matrices
    assert SAME_STEPS | {"d2J_dz2"} <= set(m)
    assert m["dyhat_dz"].shape == (1, 1)
    assert m["dJ_dW"].shape == (2, 1)
    # the scalar derivation's steps, entry by entry (derive_k1 raises where one differs)
    d = derive(name)
    to_scalar = {
        chain.symbols.y[0]: sp.Symbol("y", real=True),
        chain.symbols.yhat[0]: d.symbols["yhat"],
    }
    assert sp.simplify(m["dJ_dz"][0].xreplace(to_scalar) - d.dJ_dz) == 0
    assert set(K1_CHECKED) <= {s.label for s in d.steps}


def test_bce_k_1_jacobian_is_softmaxs_form():
    # sigmoid's 1 x 1 Jacobian ŷ(1 - ŷ) is diag(ŷ) - ŷŷᵀ at k = 1
    c = derive_k1("bce", features=1).symbols
    (p,) = c.yhat
    assert sp.expand(derive_k1("bce", features=1).matrices["dyhat_dz"][0, 0] - (p - p * p)) == 0


def test_the_k_1_check_can_fail():
    # a scalar derivation that disagrees (its dJ/dz doubled) is refused, naming the step
    real = derive("poisson")
    wrong = mock.Mock(wraps=real)
    wrong.dJ_dyhat, wrong.dyhat_dz, wrong.dJ_dz = real.dJ_dyhat, real.dyhat_dz, 2 * real.dJ_dz
    with (
        mock.patch("derivreg.symbolic.engine.derive", return_value=wrong),
        pytest.raises(DerivationError, match="dJ_dz"),
    ):
        derive_k1("poisson", features=1)


def test_the_chain_refuses_a_wrong_jacobian_rewrite():
    c = chain_module.components(1, 1)
    pair = REGISTRY["bce"]
    output = sp.Matrix([pair.activation(c.z[0])])
    wrong = lambda m: m.applyfunc(lambda e: c.yhat[0])  # noqa: E731 - ŷ in place of ŷ(1 - ŷ)
    with pytest.raises(DerivationError, match="dyhat_dz"):
        chain_module.matrix_chain("bce", c, output, pair.loss(c.y[0], c.yhat[0]), wrong)


def test_softmax_is_derived_by_the_same_chain():
    calls = []
    real = chain_module.matrix_chain

    def spy(*args, **kwargs):
        calls.append(args[0])
        return real(*args, **kwargs)

    derive_softmax.cache_clear()
    try:
        with mock.patch("derivreg.symbolic.softmax.matrix_chain", spy):
            d = derive_softmax(classes=2, features=1)
    finally:
        derive_softmax.cache_clear()
    assert calls == ["softmax"]
    assert set(d.matrices) >= SAME_STEPS
