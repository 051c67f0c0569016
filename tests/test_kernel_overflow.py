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
    # J = (1 - y) z past float64: linear out there, and as large as z
    with pytest.raises(
        FloatingPointError,
        match=r"J overflows float64: z = X @ w \+ b is about 1\.00e\+310 in row 0, "
        r"and J there is about 1\.00e\+310",
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
        FloatingPointError, match=r"dJ_db is about 4\.00e\+308, past .*; dJ_dw\[0\] = 0 fits"
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


def test_a_per_sample_dJ_dz_past_float64_is_recomputed_where_the_mean_fits():
    # z - y = 2e308 and -1e308 + 0.25: 2 (z - y) overflows in row 0, the mean does not
    dJ_dw, dJ_db = mse.grad([[0.25], [0.25]], [-1e308, 1.5e308], [1.0], 1e308)
    assert dJ_db == 1.5e308
    assert dJ_dw.tolist() == [3.75e307]
    w, b = mse.update([[0.25], [0.25]], [-1e308, 1.5e308], [1.0], 1e308, 0.5)
    assert (w.tolist(), b) == ([1.0 - 0.5 * 3.75e307], 1e308 - 0.75e308)


def test_dJ_dz_is_rescaled_only_where_the_derivation_says_it_is_homogeneous():
    # MSE's 2 (z - y) is homogeneous of degree 1 in (z, y); the others are not (exp, sigma)
    degrees = {name: KERNELS[name].DJ_DZ_DEGREE for name in ("mse", "bce", "poisson", "gamma")}
    assert degrees == {"mse": 1, "bce": None, "poisson": None, "gamma": None}
    # Poisson: exp(710) - y overflows, its mean times x = 1e-10 would fit: named, not guessed
    poisson = KERNELS["poisson"]
    with pytest.raises(FloatingPointError, match=r"dJ/dz in row 0 \(z = 710, y = 1\) is past"):
        poisson.grad([[1e-10]], [1.0], [7.1e12], 0.0)


def test_a_soft_label_bce_loss_past_float64_is_its_limit_form_where_it_fits():
    # y = 1 - 1e-10 at z = 1e310: J = (1 - y) z = 1e300 (to the rounding of 1 - y)
    y = 1.0 - 1e-10
    (J,) = bce.losses([[1e300]], [y], [1e10], 0.0)
    assert pytest.approx((1.0 - y) * 1e300 * 1e10, rel=1e-15) == J
    (J,) = bce.losses([[-1e300]], [1e-12], [1e10], 0.0)  # z = -1e310: J = y |z|
    assert pytest.approx(1e298, rel=1e-15) == J
    assert bce.loss([[1e300], [-1e300]], [y, 1e-12], [1e10], 0.0) == pytest.approx(
        ((1.0 - y) * 1e300 * 1e10 + 1e298) / 2, rel=1e-15
    )
    with pytest.raises(FloatingPointError, match=r"J there is about 5\.00e\+309"):
        bce.losses([[1e300]], [0.5], [1e10], 0.0)


@pytest.mark.parametrize(
    "extra", [{"sample_weight": [1.0, 3.0]}, {"sample_weight": 2.0}, {"alpha": 1e-3}]
)
def test_a_weighted_or_penalised_gradient_past_float64_is_recomputed_at_scale(extra):
    X, y, w = [[1.0], [1.0]], [-0.8e308] * 2, [0.0]
    dJ_dw, dJ_db = mse.grad(X, y, w, 0.0, **extra)  # 1.6e308, weighted or not; alpha w = 0
    assert (dJ_dw.tolist(), dJ_db) == ([1.6e308], 1.6e308)
    new_w, new_b = mse.update(X, y, w, 0.0, 0.5, **extra)
    assert (new_w.tolist(), new_b) == ([-0.8e308], -0.8e308)


def test_a_penalty_term_past_float64_is_recomputed_or_named():
    # alpha w = 1e310 does not fit: named; 1e-10 times it as a step does
    with pytest.raises(FloatingPointError, match=r"dJ_dw\[0\] is about 1\.00e\+310.*dJ_db = 2"):
        mse.grad([[1e-300]], [0.0], [1e300], 0.0, alpha=1e10)
    new_w, _ = mse.update([[1e-300]], [0.0], [1e300], 0.0, 1e-10, alpha=1e10)
    assert new_w.tolist() == [pytest.approx(1e300 - 1e300, abs=1e285)]
    # a weighted term past float64 whose weighted mean fits: weights 3, 1 are 1.5, 0.5 of
    # mean 1, so s dJ/dz = 1.5 * 1.6e308 overflows, and the mean of s dJ/dz x is 1.2e308
    dJ_dw, _ = mse.grad([[1.0], [1.0]], [-0.8e308, 0.0], [0.0], 0.0, sample_weight=[3.0, 1.0])
    assert dJ_dw.tolist() == [1.2e308]


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
    # ... and its log1p(e) is printed as one log less the rounding of 1 + e
    # (printers.CORRECTED_LOG1P; test_fast holds it to the ulp bound)
    assert loop == {"exp": 1, "log": 1}
    # MSE's arithmetic is polynomial; only its log-likelihood takes logs (of 2 pi phi)
    likelihood = ("log_normaliser", "log_likelihood", "dispersion")
    mse = calls(checked_in("mse"))
    assert all(not found for name, found in mse.items() if name not in likelihood), mse


def test_the_count_catches_the_branch_free_sigmoid_and_its_extra_exp():
    from derivreg.codegen import templates
    from derivreg.codegen.rules import expand_stable

    with mock.patch.object(templates, "expand_stable", lambda e, form: expand_stable(e, "exp_min")):
        planted = calls(codegen.generate(derive("bce")))
    assert planted["dJ_dz"] == {"exp": 3}  # exp(min(0, -z)), exp(min(0, z)), exp(-|z|)
    assert any(planted[fn] != {"exp": 1} for fn in ONE_EXP)


def test_gamma_grad_past_exp_overflow_is_its_value_about_1():
    # found by the contract property once its labels came from Gamma's domain y > 0: the
    # printed -(y - exp(z)) exp(-z) was inf * 0 past z = 709.78; rule exp_ratio prints
    # 1 - y exp(-z) (stability.exp_ratio_stable_form), which is 1 - 1 * e^-710 there
    dJ_dw, dJ_db = KERNELS["gamma"].grad([[710.0]], [1.0], [1.0], 0.0)
    assert dJ_db == pytest.approx(1.0)
    assert dJ_dw.tolist() == [pytest.approx(710.0)]


# --- (d) the overflow paths with a sparse X: the dense outcome, for every pair ------------

HUGE_CASES = {
    # z = 1e310 - 0.99e310 = 1e308: its two products' order (BLAS may fuse one into the
    # sum) moves it by eps 1e310 at most, 100 eps relative: the rtol below allows 5e-14
    "partial sums overflow": ([[1e300, -1e300], [0.0, 1.0]], [1.0, 1.0], [1e10, 0.99e10], 0.0, {}),
    "score past float64": ([[1e300], [0.0]], [1.0, 0.0], [1e10], 0.0, {}),
    "per-sample dJ/dz past float64": ([[0.0], [1.0]], [1.0, 1.0], [1.0], 1e308, {}),
    "weighted": ([[0.0], [1.0]], [1.0, 1.0], [1.0], 1e308, {"sample_weight": [3.0, 1.0]}),
    "penalised": ([[1e-300], [0.0]], [1.0, 0.0], [1e300], 0.0, {"alpha": 1e10}),
    "huge mean": ([[1.7e308], [1.7e308]], [0.0, 0.0], [1.0], 0.0, {}),
}


def outcomes(kernel, X, y, w, b, extra):
    """Each checked function's result (a list of floats) or the type of its error."""
    calls = {
        "predict": lambda: kernel.predict(X, w, b),
        "losses": lambda: kernel.losses(X, y, w, b, sample_weight=extra.get("sample_weight")),
        "loss": lambda: [kernel.loss(X, y, w, b, **extra)],
        "grad": lambda: np.append(*kernel.grad(X, y, w, b, **extra)),
        "update": lambda: np.append(*kernel.update(X, y, w, b, 1e-10, **extra)),
    }
    out = {}
    for name, f in calls.items():
        try:
            out[name] = np.asarray(f(), dtype=float).tolist()
        except (FloatingPointError, ValueError) as err:
            out[name] = type(err).__name__
    return out


def _sparse_cases():
    for name in sorted(KERNELS):
        for case in sorted(HUGE_CASES):
            yield pytest.param(name, case)


@pytest.mark.parametrize(("name", "case"), list(_sparse_cases()))
def test_a_sparse_x_takes_the_overflow_paths_of_a_dense_one(name, case):
    scipy_sparse = pytest.importorskip("scipy.sparse")
    X, y, w, b, extra = HUGE_CASES[case]
    kernel = KERNELS[name]
    if not kernel._in_domain(np.asarray(y)):
        y = [max(v, 0.5) for v in y]  # Gamma's y > 0
    dense = outcomes(kernel, np.array(X), y, w, b, extra)
    for fmt in (scipy_sparse.csr_matrix, scipy_sparse.csc_array):
        sparse = outcomes(kernel, fmt(np.array(X)), y, w, b, extra)
        assert sparse.keys() == dense.keys()
        for fn, want in dense.items():
            if isinstance(want, str):
                assert sparse[fn] == want, (fn, sparse[fn], want)
            else:
                # (n + 1) eps Z / |z| per score, summed in another order: 5e-14 where z
                # cancels 1e310 - 0.99e310 (Z / |z| = 200), a few ulp elsewhere
                np.testing.assert_allclose(sparse[fn], want, rtol=5e-14, err_msg=fn)


# --- (e) a score whose partial sums overflow, on the fast path ---------------------------

#: OpenBLAS's X @ w is -inf in row 0 (1e310 - 0.99e310 overflows; exact z = 1e308) and
#: sigma(-inf) - 1 is finite, so the gradient was (-5e299, 5e299, -0.5) and passed the
#: result check; the exact one is about 0 (z = 1e308 and 9.9e9 with y = 1: e^-9.9e9).
PARTIAL = ([[1e300, -1e300], [0.0, 1.0]], [1.0, 1.0], [1e10, 0.99e10], 0.0)


def _dense_and_sparse():
    yield np.array(PARTIAL[0])
    scipy_sparse = pytest.importorskip("scipy.sparse")
    yield scipy_sparse.csr_matrix(PARTIAL[0])
    yield scipy_sparse.csc_array(PARTIAL[0])


@pytest.mark.parametrize("extra", [{}, {"sample_weight": [1.0, 3.0]}, {"alpha": 1e-3}])
def test_a_non_finite_score_with_a_saturated_dJ_dz_is_recomputed_at_scale(extra):
    _, y, w, b = PARTIAL
    for X in _dense_and_sparse():
        dJ_dw, dJ_db = bce.grad(X, y, w, b, **extra)
        penalty = extra.get("alpha", 0.0) * np.array(w)  # the L2 term alpha w, exact
        assert (dJ_dw - penalty).tolist() == [0.0, 0.0], type(X)
        assert dJ_db == 0.0, type(X)
        new_w, new_b = bce.update(X, y, w, b, 1e-10, **extra)
        assert new_w.tolist() == (np.array(w) - 1e-10 * penalty).tolist()
        assert new_b == 0.0


def test_a_non_finite_score_with_a_saturated_loss_is_recomputed_at_scale():
    # y = 0: J = softplus(z), 1e308 in row 0; at z = -inf (BLAS) it was log1p(0) = 0
    _, _, w, b = PARTIAL
    for X in _dense_and_sparse():
        J = bce.losses(X, [0.0, 0.0], w, b)
        np.testing.assert_allclose(J, [1e308, 0.99e10], rtol=5e-14)
        assert bce.loss(X, [0.0, 0.0], w, b) == pytest.approx((1e308 + 0.99e10) / 2, rel=5e-14)


def test_the_fused_kernels_route_a_non_finite_score_to_the_checked_kernel():
    # the fused kernels in CPython (no numba needed): a nan sum, then derivreg.fast's
    # fallback to the NumPy kernel's recomputation at scale
    import derivreg.kernels.bce_fused as fused

    X, y, w, b = (np.asarray(v, dtype=float) for v in PARTIAL)
    with np.errstate(over="ignore", invalid="ignore"):
        dJ_dw, dJ_db = fused.grad(X, y, w, b)
        assert np.isnan(dJ_db)
        assert np.isnan(fused.loss(X, np.zeros(2), w, b))
        assert np.isnan(fused.losses(X, np.zeros(2), w, b)[0])
    from derivreg import _fast_fused, fast

    # np.errstate: CPython's scalar products warn where numba's do not
    with (
        mock.patch.object(_fast_fused, "_kernels", return_value=vars(fused)),
        np.errstate(over="ignore", invalid="ignore"),
    ):
        dJ_dw, dJ_db = fast.grad("bce", X, y, w, b)
        assert dJ_dw.tolist() == [0.0, 0.0]
        assert dJ_db == 0.0
        new_w, new_b = fast.update("bce", X, y, w, b, 1e-10)
        assert new_w.tolist() == w.tolist()
        assert new_b == 0.0
        J = fast.loss("bce", X, np.zeros(2), w, b)
        assert pytest.approx((1e308 + 0.99e10) / 2, rel=5e-14) == J


def test_without_the_score_check_the_partial_sums_give_a_wrong_gradient():
    # the planted bug: the generated grad without its 0 * z (as before): finite and wrong
    source = codegen.generate(derive("bce"))
    planted = source.replace(" + 0 * np.sum(z)", "")
    assert planted != source
    module = {}
    exec(compile(planted, "<planted bce>", "exec"), module)  # our own generated source
    X, y, w, b = PARTIAL
    with np.errstate(over="ignore", invalid="ignore"):
        dJ_dw, dJ_db = module["grad"](np.array(X), y, w, b)
    assert dJ_db == pytest.approx(-0.5)
    assert abs(dJ_dw[0]) > 1e299


def test_the_maximum_form_is_the_where_form_bit_for_bit_on_every_kind_of_float():
    # np.maximum(t0, (z >= 0)) replaced np.where((z >= 0), 1.0, t0): e = exp(-|z|) is in
    # [0, 1] or NaN (only at z = NaN, where the comparison is False and both give NaN)
    rng = np.random.default_rng(15)
    special = [0.0, -0.0, np.inf, -np.inf, np.nan, 5e-324, -5e-324, 745.2, -745.2, 1e308]
    z = np.concatenate([special, rng.standard_normal(2000) * 30, rng.standard_normal(2000)])
    y = rng.random(z.shape[0])
    y[: len(special)] = 1.0
    t0 = np.exp(-np.abs(z))
    where = -(y * np.where(z <= 0, 1.0, t0) + (y - 1) * np.where(z >= 0, 1.0, t0)) / (t0 + 1)
    with np.errstate(invalid="ignore"):
        got = KERNELS["bce"].dJ_dz(z, y)
    np.testing.assert_array_equal(got, where)  # NaN where NaN, every other bit the same
    assert np.array_equal(np.signbit(got), np.signbit(where))


@pytest.mark.parametrize("sparse", [False, True])
def test_the_scaled_gradient_keeps_every_term_of_the_results_size(sparse):
    # Found by the contract property (Poisson): the scores of rows 0 and 1 overflow, so
    # the gradient is recomputed at scale; scaling dJ/dz by its largest entry (1e308) and
    # X by its columns' (1.8e308) lost 5e-324 * 1.8e308 and 1e308 * 5e-324, the terms of
    # the result's own size, and gave 0.0.  Each term now at its own scale.
    from fractions import Fraction

    big, tiny = float(np.finfo(np.float64).max), 5e-324
    X = np.array([[big, -big, big], [big, -big, big], [tiny] * 3, [tiny, 0.0, 0.0]])
    y = np.array([tiny, tiny, 1e308, 1e308])
    w, b = np.array([big, big, -big]), -big
    # exp(z) underflows to 0 in every row (z ~ -3e616 and -1.8e308): dJ/dz = -y exactly
    exact = [
        float(sum(-Fraction(y[i]) * Fraction(X[i, j]) for i in range(4)) / 4) for j in range(3)
    ]
    if sparse:
        scipy_sparse = pytest.importorskip("scipy.sparse")
        X = scipy_sparse.csr_matrix(X)
    dJ_dw, _ = KERNELS["poisson"].grad(X, y, w, b)
    # one rounding per product and per sum of four terms, and the mean's division
    np.testing.assert_allclose(dJ_dw, exact, rtol=8 * np.finfo(np.float64).eps, atol=0)
