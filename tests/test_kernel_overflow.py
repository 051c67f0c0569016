"""Finite input never gives a silent inf or NaN from a kernel (issue 17's reproducers).

Where the exact result fits float64 it is computed (scores rescaled where a
partial sum overflows, scaled means, a loss at its limit where |z| is past
float64); where it does not, a FloatingPointError names the quantity and
how large it is.  Before, each call below returned nan, inf or a wrong value.
"""

import ast
import warnings
from unittest import mock

import numpy as np
import pytest

from derivreg import codegen, derive
from derivreg.kernels import KERNELS

bce, mse = KERNELS["bce"], KERNELS["mse"]


@pytest.fixture(autouse=True)
def _no_numpy_warnings():
    # the checked kernels report overflow themselves: no RuntimeWarning on the way
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        yield


def test_a_saturated_bce_loss_past_float64_is_its_limit_not_inf_times_0():
    # z = 1e310 overflows; the loss y softplus(-z) + (1 - y) softplus(z) is e^-1e310 for y = 1
    assert bce.losses([[1e300]], [1.0], [1e10], 0.0).tolist() == [0.0]
    assert bce.losses([[-1e300]], [0.0], [1e10], 0.0).tolist() == [0.0]
    assert bce.loss([[1e300]], [1.0], [1e10], 0.0) == 0.0


def test_a_bce_loss_that_grows_past_float64_is_named_with_the_score():
    with pytest.raises(
        FloatingPointError, match=r"J cannot be computed.*about 1\.00e\+310 in row 0"
    ):
        bce.losses([[1e300]], [0.0], [1e10], 0.0)


def test_a_score_whose_partial_sums_overflow_is_recomputed():
    # 1e310 - 1e310: the exact z is 0, so yhat is 1/2 (it was 1.0, from a nan z)
    assert bce.predict([[1e300, 1e300]], [1e10, -1e10], 0.0).tolist() == [0.5]
    assert mse.predict([[1e300, 1e300]], [1e10, -1e10], 3.0).tolist() == [3.0]


def test_a_prediction_past_float64_is_named_with_how_large_the_score_is():
    with pytest.raises(FloatingPointError, match=r"yhat overflows.*about -1\.00e\+310 in row 1"):
        mse.predict([[1.0], [-1e300]], [1e10], 0.0)
    assert bce.predict([[1e300], [-1e300]], [1e10], 0.0).tolist() == [1.0, 0.0]  # its limits


def test_the_mean_of_huge_losses_that_fits_is_returned():
    assert bce.loss([[1.7e308], [1.7e308]], [0, 0], [1.0], 0) == 1.7e308


def test_the_mean_gradient_of_huge_terms_that_fits_is_returned():
    dJ_dw, dJ_db = mse.grad([[1], [1]], [-0.8e308] * 2, [0.0], 0)
    assert dJ_dw.tolist() == [1.6e308]
    assert dJ_db == 1.6e308


def test_a_gradient_past_float64_is_named_and_0_times_it_is_0():
    # dJ/dz = 4e308 does not fit, so dJ_db does not; dJ_dw = 4e308 * 0 is 0, not nan
    with pytest.raises(
        FloatingPointError, match=r"dJ_db = mean\(dJ/dz\).*row 0.*dJ_dw = \[0\.\] fits"
    ):
        mse.grad([[0.0]], [-1e308], [1.0], 1e308)


def test_a_gradient_coordinate_past_float64_says_how_large():
    with pytest.raises(FloatingPointError, match=r"dJ_dw\[0\] is about 2\.40e\+308"):
        mse.grad([[1.5], [1.5]], [-0.8e308] * 2, [0.0], 0)


def test_an_update_past_float64_names_the_new_parameter():
    with pytest.raises(
        FloatingPointError,
        match=r"the new w\[0\] = w\[0\] - lr \* dJ_dw\[0\] is about -2\.00e\+308",
    ):
        mse.update([[1.0]], [0.0], [1.0], 0.0, 1e308)


def test_update_checks_the_new_b_too():
    # dJ_dw = 0 (x = 0), dJ_db = 2 z = 2: only b moves, to -2e308
    with pytest.raises(
        FloatingPointError, match=r"the new b = b - lr \* dJ_db is about -2\.00e\+308"
    ):
        mse.update([[0.0]], [0.0], [1.0], 1.0, 1e308)


def test_an_update_that_fits_from_a_gradient_that_overflowed_is_returned():
    w, b = mse.update([[1], [1]], [-0.8e308] * 2, [0.0], 0, 0.5)
    assert w.tolist() == [-0.8e308]
    assert b == -0.8e308


def test_bce_grad_at_a_score_past_float64_is_its_limit():
    # sigma(1e310) - 0 = 1, times x = 1e300
    dJ_dw, dJ_db = bce.grad([[1e300]], [0.0], [1e10], 0.0)
    assert dJ_dw.tolist() == [1e300]
    assert dJ_db == 1.0


def test_non_finite_input_is_still_named_on_the_recomputing_path():
    with pytest.raises(ValueError, match="Input X contains infinity"):
        bce.predict([[np.inf]], [1.0], 0.0)
    with pytest.raises(ValueError, match="Input X contains infinity"):
        bce.losses([[np.inf]], [1.0], [1.0], 0.0)


def test_dJ_dyhat_at_the_edges_is_its_limit_from_inside_the_range():
    # BCE: dJ/dyhat = (yhat - y)/(yhat (1 - yhat)) -> -1 at y = yhat = 1, +1 at y = yhat = 0
    np.testing.assert_allclose(bce.dJ_dyhat([1.0, 0.0], [1.0, 0.0]), [-1.0, 1.0], rtol=4e-16)
    # the poles: 1/(1 - yhat) -> +inf as yhat -> 1-, -1/yhat -> -inf as yhat -> 0+
    assert bce.dJ_dyhat(0, 1.0) == np.inf
    assert bce.dJ_dyhat(1, 0.0) == -np.inf
    assert bce.dJ_dyhat(0.25, 1.0) == np.inf
    assert bce.YHAT_EDGES == ((0.0, 1.0), (1.0, -1.0))
    assert mse.YHAT_EDGES == ()


# --- issue 15, target 1: transcendental calls per generated function ----------------------

TRANSCENDENTAL = ("exp", "log", "log1p", "expm1", "tanh", "sqrt")


def calls(source: str) -> dict[str, dict[str, int]]:
    """Per function of a generated module: how many np.<f> / math.<f> calls of each kind."""
    counts = {}
    for fn in ast.parse(source).body:
        if isinstance(fn, ast.FunctionDef):
            found = {}
            for node in ast.walk(fn):
                match node:
                    case ast.Call(func=ast.Attribute(value=ast.Name(id="np" | "math"), attr=f)) if (
                        f in TRANSCENDENTAL
                    ):
                        found[f] = found.get(f, 0) + 1
            counts[fn.name] = found
    return counts


def checked_in(module: str) -> str:
    return (codegen.KERNEL_DIR / f"{module}.py").read_text(encoding="utf-8")


ONE_EXP = ("dyhat_dz", "dJ_dz", "predict", "_grad", "_grad_sums")


def test_the_sigmoid_family_costs_one_exp_per_element():
    bce_calls = calls(checked_in("bce"))
    for fn in ONE_EXP:
        assert bce_calls[fn] == {"exp": 1}, (fn, bce_calls[fn])
    assert bce_calls["_losses"] == {"exp": 1, "log1p": 1}
    loop = calls(checked_in("bce_loop"))["sgd_epoch"]  # one sample's loss and dJ/dz share e
    assert loop == {"exp": 1, "log1p": 1}
    # MSE's arithmetic is polynomial; only its log-likelihood takes logs (of 2 pi phi)
    likelihood = ("log_normaliser", "log_likelihood", "dispersion")
    mse = calls(checked_in("mse"))
    assert all(not found for name, found in mse.items() if name not in likelihood), mse


def test_the_count_catches_the_branch_free_sigmoid_and_its_extra_exp():
    from derivreg.codegen import templates
    from derivreg.codegen.rules import expand_stable

    with mock.patch.object(
        templates, "expand_stable", lambda e: expand_stable(e, branch_free=True)
    ):
        planted = calls(codegen.generate(derive("bce")))
    assert planted["dJ_dz"] == {"exp": 3}  # exp(min(0, -z)), exp(min(0, z)), exp(-|z|)
    assert any(planted[fn] != {"exp": 1} for fn in ONE_EXP)
