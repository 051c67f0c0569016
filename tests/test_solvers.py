"""Full-batch solvers over the kernels: each reaches an optimum an independent oracle confirms.

Oracles: NumPy's least squares for MSE; for BCE, the gradient written out in
the test (X~^T (sigma(z) - y) / m) and scikit-learn's unpenalised
LogisticRegression.  The Hessian is the generated kernels' own
(``hessian``, printed from the derivation's d2J/dz2); the hand-written
per-sample curvature of ``tests/oracles.py`` is only an independent reference
for it, in ``test_the_generated_hessian_equals_the_hand_written_oracle``.
"""

import warnings

import numpy as np
import pytest
from oracles import CURVATURE, first_order_only

from derivreg.kernels import KERNELS
from derivreg.solvers import (
    ConvergenceWarning,
    Evaluation,
    KernelObjective,
    gradient_descent,
    lbfgs,
    newton,
)
from derivreg.solvers import objective as objective_module
from derivreg.solvers.objective import block_sums


def sigma(z):
    return np.exp(-np.logaddexp(0.0, -z))


def regression(seed=0, m=400, n=5):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(m, n)) * rng.uniform(0.5, 3, size=n)
    y = X @ rng.normal(size=n) + 0.7 + rng.normal(scale=0.5, size=m)
    return X, y


def classification(seed=0, m=600, n=4):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(m, n))
    p = sigma(X @ rng.normal(size=n) - 0.3)
    return X, (rng.uniform(size=m) < p).astype(float)


def lstsq(X, y):
    A = np.hstack([X, np.ones((len(y), 1))])
    return np.linalg.lstsq(A, y, rcond=None)[0]


def bce_gradient(X, y, theta):
    A = np.hstack([X, np.ones((len(y), 1))])
    return A.T @ (sigma(A @ theta) - y) / len(y)


SOLVERS = {
    "gd": lambda obj, t0: gradient_descent(obj, t0, tol=1e-9, max_iter=200_000),
    "newton": lambda obj, t0: newton(obj, t0, tol=1e-12),
    "lbfgs": lambda obj, t0: lbfgs(obj, t0, tol=1e-10, max_iter=5000),
}


@pytest.mark.parametrize("solver", sorted(SOLVERS))
def test_mse_fits_reach_least_squares(solver):
    X, y = regression()
    obj = KernelObjective(KERNELS["mse"], X, y)
    r = SOLVERS[solver](obj, np.zeros(6))
    assert r.converged, r.message
    # At a gradient of at most tol, the error is at most tol / lambda_min(H)
    # (H = 2 A^T A / m); lambda_min here is ~0.4, so 1e-8 is >= 4x that bound
    # for the loosest tol (gd, 1e-9).
    np.testing.assert_allclose(r.theta, lstsq(X, y), rtol=0, atol=1e-8)


@pytest.mark.parametrize("solver", sorted(SOLVERS))
def test_bce_fits_reach_a_stationary_point_of_the_written_out_gradient(solver):
    X, y = classification()
    obj = KernelObjective(KERNELS["bce"], X, y)
    r = SOLVERS[solver](obj, np.zeros(5))
    assert r.converged, r.message
    assert np.max(np.abs(bce_gradient(X, y, r.theta))) <= 1e-8


def test_newton_matches_scikit_learns_unpenalised_logistic_regression():
    sklearn = pytest.importorskip("sklearn.linear_model")
    X, y = classification(seed=3)
    r = newton(KernelObjective(KERNELS["bce"], X, y), np.zeros(5))
    ref = sklearn.LogisticRegression(C=np.inf, tol=1e-12, max_iter=10_000).fit(X, y)
    expected = np.append(ref.coef_[0], ref.intercept_[0])
    # lbfgs at tol 1e-12 stops within ~1e-9 of the optimum (gradient 1e-12 / lambda_min ~0.05).
    np.testing.assert_allclose(r.theta, expected, rtol=1e-6, atol=1e-8)
    assert r.n_iter <= 10  # quadratic convergence from zero on well-conditioned data


def test_newton_takes_one_step_on_a_quadratic():
    X, y = regression(seed=2)
    r = newton(KernelObjective(KERNELS["mse"], X, y), np.zeros(6))
    assert r.n_iter == 1
    np.testing.assert_allclose(r.theta, lstsq(X, y), rtol=1e-12, atol=1e-12)


def test_without_intercept_the_solvers_fit_w_alone():
    X, y = regression(seed=4)
    obj = KernelObjective(KERNELS["mse"], X, y, fit_intercept=False)
    r = newton(obj, np.zeros(5))
    np.testing.assert_allclose(r.theta, np.linalg.lstsq(X, y, rcond=None)[0], atol=1e-10)


def test_stopping_short_warns_and_says_so():
    X, y = regression()
    obj = KernelObjective(KERNELS["mse"], X, y)
    with pytest.warns(ConvergenceWarning, match="stopped after 3 iterations"):
        r = gradient_descent(obj, np.zeros(6), max_iter=3)
    assert not r.converged
    assert r.n_iter == 3
    assert len(r.losses) == 4
    assert r.grad_norm > 1e-8


def test_converged_fits_do_not_warn():
    X, y = regression()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        newton(KernelObjective(KERNELS["mse"], X, y), np.zeros(6))


def test_losses_never_increase_under_the_line_search():
    X, y = classification(seed=5)
    r = gradient_descent(KernelObjective(KERNELS["bce"], X, y), np.zeros(5), tol=1e-7)
    assert np.all(np.diff(r.losses) <= 0)


def test_newton_without_a_curvature_says_which_solvers_remain():
    X, y = classification()
    obj = KernelObjective(first_order_only("bce"), X, y)
    assert not obj.has_hessian
    with pytest.raises(ValueError, match=r"no per-sample curvature.*'gd' or 'lbfgs'"):
        newton(obj, np.zeros(5))


def test_a_planted_wrong_gradient_is_caught_by_the_oracle():
    # The same harness as the BCE test, with the gradient's sign flipped on the
    # intercept: the line search cannot descend, and the result fails the oracle.
    X, y = classification()
    inner = KernelObjective(KERNELS["bce"], X, y)

    class Planted:
        n_params = inner.n_params

        def evaluate(self, theta, *, hessian=False):
            at = inner.evaluate(theta)
            grad = at.grad.copy()
            grad[-1] = -grad[-1]
            return Evaluation(at.value, grad)

    with pytest.warns(ConvergenceWarning):
        r = gradient_descent(Planted(), np.zeros(5), tol=1e-9, max_iter=2000)
    assert np.max(np.abs(bce_gradient(X, y, r.theta))) > 1e-8


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"max_iter": 0}, "max_iter must be a positive integer"),
        ({"max_iter": 2.5}, "max_iter must be a positive integer"),
        ({"tol": -1.0}, "tol must be a number > 0"),
        ({"tol": "abc"}, "tol must be a number > 0"),
    ],
)
def test_bad_settings_are_named(kwargs, match):
    X, y = regression()
    with pytest.raises(ValueError, match=match):
        gradient_descent(KernelObjective(KERNELS["mse"], X, y), np.zeros(6), **kwargs)


def test_bad_starting_points_are_named():
    X, y = regression()
    obj = KernelObjective(KERNELS["mse"], X, y)
    with pytest.raises(ValueError, match=r"theta0 must have shape \(6,\)"):
        gradient_descent(obj, np.zeros(5))
    with pytest.raises(ValueError, match="theta0 must be finite"):
        gradient_descent(obj, np.full(6, np.nan))


def test_block_sums_over_several_blocks_equal_one_block(monkeypatch):
    X, y = classification(m=1000)
    theta = np.linspace(-1, 1, 5)
    whole = KernelObjective(KERNELS["bce"], X, y).evaluate(theta, hessian=True)
    monkeypatch.setattr(objective_module, "BLOCK_ROWS", 64)
    blocks = KernelObjective(KERNELS["bce"], X, y).evaluate(theta, hessian=True)
    # Sixteen block sums instead of one: a difference of summation order, each
    # entry within ~16 eps of its magnitude.
    np.testing.assert_allclose(blocks.grad, whole.grad, rtol=1e-13, atol=1e-15)
    np.testing.assert_allclose(blocks.hessian, whole.hessian, rtol=1e-13, atol=1e-15)
    assert blocks.value == pytest.approx(whole.value, rel=1e-13)


@pytest.mark.parametrize("name", sorted(CURVATURE))
@pytest.mark.parametrize("fit_intercept", [True, False])
def test_the_generated_hessian_equals_the_hand_written_oracle(name, fit_intercept):
    # Two routes to X~^T diag(d2J/dz2) X~ / m: the generated kernel's (blocked,
    # printed from the derivation) and the objective's own assembly from the
    # hand-written curvature of tests/oracles.py.  Both sum the same m products
    # per entry in different orders: within ~m eps of the entries' scale.
    X, y = classification(m=700) if name == "bce" else regression(m=700)
    if KERNELS[name].DOMAIN != "(-oo, oo)" and name != "bce":  # counts, y > 0: positive labels
        y = np.abs(y) + 0.1
    theta = np.linspace(-0.5, 0.5, X.shape[1] + int(fit_intercept))
    kw = {"fit_intercept": fit_intercept}
    generated = KernelObjective(KERNELS[name], X, y, **kw).evaluate(theta, hessian=True)
    oracle = KernelObjective(KERNELS[name], X, y, curvature=CURVATURE[name], **kw)
    reference = oracle.evaluate(theta, hessian=True).hessian
    scale = np.max(np.abs(reference))
    np.testing.assert_allclose(generated.hessian, reference, rtol=0, atol=700 * 2.3e-16 * scale)
    z = X @ theta[: X.shape[1]] + (theta[-1] if fit_intercept else 0.0)
    np.testing.assert_allclose(KERNELS[name].curvature(z, y), CURVATURE[name](z, y), rtol=1e-14)


def test_a_planted_wrong_curvature_is_caught_by_the_oracle_comparison():
    X, y = classification(m=300)
    theta = np.linspace(-0.5, 0.5, 5)
    wrong = KernelObjective(KERNELS["bce"], X, y, curvature=lambda z, y: sigma(z) * sigma(z))
    reference = KernelObjective(KERNELS["bce"], X, y, curvature=CURVATURE["bce"])
    h_wrong = wrong.evaluate(theta, hessian=True).hessian
    h_ref = reference.evaluate(theta, hessian=True).hessian
    assert np.max(np.abs(h_wrong - h_ref)) > 1e-3


def pair_data(name, seed=0, m=300, n=4):
    """Data in the pair's label domain, at parameters where its Newton terms are moderate."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(m, n))
    z = X @ rng.normal(scale=0.3, size=n) + 0.2
    y = {
        "mse": z + rng.normal(size=m),
        "bce": (rng.uniform(size=m) < sigma(z)) * 1.0,
        "poisson": rng.poisson(np.exp(z)) * 1.0,
        "gamma": rng.gamma(2.0, np.exp(z) / 2.0),
    }[name]
    return X, y, rng.normal(scale=0.3, size=n), 0.1


@pytest.mark.parametrize("name", sorted(KERNELS))
def test_the_fused_newton_terms_equal_loss_grad_and_hessian(name):
    # One z for the three, summed in the same row blocks: the same roundings, so the
    # agreement is to a few ulp of each entry's magnitude (1e-12 relative, with room).
    X, y, w, b = pair_data(name)
    kernel = KERNELS[name]
    if getattr(kernel, "newton_terms", None) is None:
        pytest.skip(f"{name} prints no fused Newton kernel")
    value, g, H = kernel.newton_terms(X, y, w, b)
    assert value == pytest.approx(kernel.loss(X, y, w, b), rel=1e-12)
    np.testing.assert_allclose(g, np.append(*kernel.grad(X, y, w, b)), rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(H, kernel.hessian(X, y, w, b), rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("name", sorted(KERNELS))
@pytest.mark.parametrize("fit_intercept", [True, False])
def test_block_sums_with_the_hessian_equal_the_three_kernels(name, fit_intercept):
    # block_sums (a Dask chunk's sums) takes the fused newton_terms for a dense,
    # unweighted block: one check and one z instead of three.  Its sums must be the
    # separate loss, grad and hessian times m, to a few ulp of each entry (the same
    # row blocks, one z: 1e-12 relative with room, as the fused-kernel test above).
    kernel = KERNELS[name]
    if getattr(kernel, "newton_terms", None) is None:
        pytest.skip(f"{name} prints no fused Newton kernel")
    X, y, w, b = pair_data(name)
    b = b if fit_intercept else 0.0
    theta = np.append(w, b) if fit_intercept else w
    sums = block_sums(X, y, theta, kernel, fit_intercept=fit_intercept, hessian=True)
    p, m = theta.size, X.shape[0]
    H = kernel.hessian(X, y, w, b)
    g = np.append(*kernel.grad(X, y, w, b))
    if not fit_intercept:
        H, g = H[:-1, :-1], g[:-1]
    assert sums[-1] == m
    assert sums[0] / m == pytest.approx(kernel.loss(X, y, w, b), rel=1e-12)
    np.testing.assert_allclose(sums[1 : 1 + p] / m, g, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(sums[1 + p : -1].reshape(p, p) / m, H, rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("name", ["bce", "gamma", "mse", "poisson"])
@pytest.mark.parametrize("fit_intercept", [True, False])
@pytest.mark.parametrize("alpha", [0.0, 0.3])
def test_the_objectives_fused_path_equals_its_block_sums(name, fit_intercept, alpha):
    # KernelObjective takes the fused kernel for a dense, unweighted X (the first call
    # checked, the later ones not); a weighted objective takes block_sums.  With weights
    # all 1 the two must agree (to rounding: the weighted path scales the weights).
    X, y, w, b = pair_data(name)
    theta = np.append(w, b) if fit_intercept else w
    fused = KernelObjective(KERNELS[name], X, y, fit_intercept=fit_intercept, alpha=alpha)
    plain = KernelObjective(
        KERNELS[name], X, y, fit_intercept=fit_intercept, alpha=alpha, sample_weight=np.ones(300)
    )
    assert fused._fused is not None
    assert plain._fused is None
    for _ in range(2):  # the checked first call, then the unchecked one
        a, c = fused.evaluate(theta, hessian=True), plain.evaluate(theta, hessian=True)
        assert a.value == pytest.approx(c.value, rel=1e-12)
        np.testing.assert_allclose(a.grad, c.grad, rtol=1e-11, atol=1e-14)
        np.testing.assert_allclose(a.hessian, c.hessian, rtol=1e-11, atol=1e-14)


def test_a_non_finite_fused_result_falls_back_to_the_checked_kernels():
    # Poisson at z ~ 800: exp(z) overflows float64.  The unchecked fused kernel gives inf;
    # the objective then takes the checked kernels, which raise FloatingPointError (the
    # line search's signal to halve the step), never a silent inf.
    X, y, w, b = pair_data("poisson")
    obj = KernelObjective(KERNELS["poisson"], X, y)
    obj.evaluate(np.append(w, b), hessian=True)  # the checked first call
    far = np.append(np.full(4, 200.0), 0.0)
    with np.errstate(over="ignore"), pytest.raises(FloatingPointError):
        obj.evaluate(far, hessian=True)


def test_the_first_fused_call_checks_the_labels_domain():
    X, y, w, b = pair_data("poisson")
    with pytest.raises(ValueError, match="out of the valid range"):
        KernelObjective(KERNELS["poisson"], X, -y - 1).evaluate(np.append(w, b), hessian=True)
