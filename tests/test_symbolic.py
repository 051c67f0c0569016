"""The symbolic core: every step derived, every step checked, bad entries rejected."""

from pathlib import Path

import pytest
import sympy as sp

from derivreg import REGISTRY, Derivation, DerivationError, derive
from derivreg.symbolic import (
    Pair,
    binary_cross_entropy,
    sigmoid,
    squared_error,
    y,
    yhat,
    z,
)

FORMS = [1, "n"]


@pytest.fixture(params=sorted(REGISTRY))
def name(request):
    return request.param


@pytest.mark.parametrize("features", FORMS)
def test_steps_come_in_the_lectures_order(name, features):
    d = derive(name, features=features)
    stages = ["forward"] * 3 + ["local"] * 4 + ["chain"] * 3 + ["update"] * 4 + ["curvature"] * 2
    assert [s.stage for s in d.steps] == stages
    assert [s.label for s in d.steps][:3] == ["z", "yhat", "J"]
    assert set(d.symbols) == {"x", "w", "b", "y", "yhat", "z", "alpha"}
    assert all(s.reason for s in d.steps)


@pytest.mark.parametrize("features", FORMS)
def test_dJ_dz_equals_the_direct_derivative_of_the_composed_loss(name, features):
    # An independent second route: differentiate the loss of the activation of z.
    d = derive(name, features=features)
    pair = REGISTRY[name]
    direct = sp.diff(pair.loss(y, pair.activation(z)), z)
    assert sp.simplify(d.dJ_dz.subs(yhat, pair.activation(z)) - direct) == 0


def test_mse_results_match_the_slides():
    d = derive("mse", features=1)
    x, w, b, alpha = (d.symbols[k] for k in ("x", "w", "b", "alpha"))
    assert sp.expand(d.dJ_dyhat - (-2 * (y - yhat))) == 0
    assert sp.expand(d.dJ_dw - (-2 * (y - yhat) * x)) == 0
    assert sp.expand(d.dJ_db - (-2 * (y - yhat))) == 0
    assert sp.expand(d.update_w - (w + 2 * alpha * (y - yhat) * x)) == 0
    assert sp.expand(d.update_b - (b + 2 * alpha * (y - yhat))) == 0


def test_bce_cancellation_is_derived_from_the_factors():
    d = derive("bce", features=1)
    assert sp.simplify(d.dJ_dyhat - (yhat - y) / (yhat * (1 - yhat))) == 0
    assert sp.expand(d.dyhat_dz - yhat * (1 - yhat)) == 0
    # The product of the two derived factors, cancelled, is yhat - y.
    assert sp.cancel(d.dJ_dyhat * d.dyhat_dz) == yhat - y
    assert d.dJ_dz == yhat - y
    assert d.step("dJ_dz").factors == ("dJ_dyhat", "dyhat_dz")


def test_bce_update_rule_is_the_slides_simplified_form():
    d = derive("bce", features=1)
    x, w, b, alpha = (d.symbols[k] for k in ("x", "w", "b", "alpha"))
    assert sp.expand(d.update_w - (w + alpha * (y - yhat) * x)) == 0
    assert sp.expand(d.update_b - (b + alpha * (y - yhat))) == 0


def test_vector_form_uses_n_vectors():
    d = derive("bce", features="n")
    x, w = d.symbols["x"], d.symbols["w"]
    assert isinstance(x, sp.MatrixSymbol)
    assert isinstance(w, sp.MatrixSymbol)
    assert d.step("dz_dw").expr == x.T
    assert d.dJ_dw.shape == (1, x.shape[0])
    assert d.update_w.shape == w.shape


def test_a_dropped_factor_2_in_the_registry_is_rejected_and_names_the_step():
    wrong = Pair(
        name="mse_wrong",
        title="MSE with the factor 2 dropped",
        activation=lambda t: t,
        loss=squared_error,
        claims=lambda y, yhat: {"dJ_dyhat": -(y - yhat)},
    )
    with pytest.raises(DerivationError, match="step 'dJ_dyhat'") as info:
        derive(wrong)
    assert info.value.step == "dJ_dyhat"
    assert info.value.residual != 0


@pytest.mark.parametrize(
    ("label", "claim"),
    [
        ("dyhat_dz", lambda y, yhat: yhat**2),  # sigma' = sigma(1 - sigma) broken
        ("dJ_dz", lambda y, yhat: y - yhat),  # sign flipped
    ],
)
def test_wrong_bce_claims_are_rejected(label, claim):
    wrong = Pair(
        name="bce_wrong",
        title="BCE with a wrong claim",
        activation=sigmoid,
        loss=binary_cross_entropy,
        targets="binary",
        claims=lambda y, yhat: {label: claim(y, yhat)},
    )
    with pytest.raises(DerivationError) as info:
        derive(wrong, features=1)
    assert info.value.step == label


def test_a_third_pair_needs_no_change_to_the_engine():
    tanh_mse = Pair("tanh_mse", "tanh regression", sp.tanh, squared_error)
    d = derive(tanh_mse, features=1)
    assert sp.expand(d.dyhat_dz - (1 - yhat**2)) == 0
    assert sp.expand(d.dJ_dz - (-2 * (y - yhat) * (1 - yhat**2))) == 0


def test_the_built_in_names_a_type_checker_sees_are_the_registrys():
    # derive()'s overloads promise a Derivation for these names: a pair added to (or taken
    # from) the registry's starting set must be added to (or taken from) BuiltinName too.
    from typing import get_args

    from derivreg.symbolic.registry import BuiltinName
    from derivreg.symbolic.softmax import NAME

    assert sorted(get_args(BuiltinName)) == sorted(REGISTRY)
    assert NAME == "softmax"  # derive()'s first overload spells it out
    assert all(isinstance(derive(name), Derivation) for name in get_args(BuiltinName))


def test_unknown_names_list_the_known_ones():
    with pytest.raises(
        ValueError, match=r"unknown loss 'hinge'; known losses: 'bce', 'gamma', 'mse', 'poisson'"
    ):
        derive("hinge")
    with pytest.raises(ValueError, match="unknown loss"):
        derive(None)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="features must be 1 or 'n'"):
        derive("mse", features=2)  # type: ignore[arg-type]


def test_derivation_step_lookup_names_the_known_steps():
    with pytest.raises(KeyError, match="steps: z, yhat, J"):
        derive("mse").step("nope")


def test_symbolic_module_never_parses_strings():
    import derivreg.symbolic as module

    source = Path(module.__file__).read_text(encoding="utf-8")
    for forbidden in ("sympify(", "parse_expr(", "eval(", "exec("):
        assert forbidden not in source


def test_a_forced_log_split_cannot_pass_off_a_nonzero_residual():
    # expand_log(force=True) turns log(a**2) - 2 log(a) into 0, which is false for a < 0;
    # the numeric witness at random points (a drawn from a normal) must refuse it.
    from derivreg.symbolic import _is_zero

    a = sp.Symbol("a", real=True)
    assert sp.expand_log(sp.log(a**2) - 2 * sp.log(a), force=True) == 0
    assert not _is_zero(sp.log(a**2) - 2 * sp.log(a))
    assert _is_zero(sp.log(yhat * (1 - yhat)) - sp.log(yhat) - sp.log(1 - yhat))
