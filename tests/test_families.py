"""Poisson and Gamma regression (log link) against statsmodels' GLM, and their label domains.

statsmodels' ``GLM`` with ``Poisson()`` and ``Gamma(link=Log())`` maximises the
same likelihoods (the dispersion does not move the mean's coefficients), so its
IRLS solution, run to ``tol=1e-14``, is the unpenalised MLE both fits must reach.
"""

import numpy as np
import pytest

from derivreg.kernels import KERNELS
from derivreg.train import step_size_bound, train

sm = pytest.importorskip("statsmodels.api")


def design(seed, m=400, n=3):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(m, n)) * 0.5
    z = X @ np.linspace(0.5, -0.3, n) + 0.2
    return rng, X, z


def poisson_data(seed):
    rng, X, z = design(seed)
    return X, rng.poisson(np.exp(z)).astype(float)


def gamma_data(seed):
    rng, X, z = design(seed)
    shape = 2.0  # mean exp(z): scale exp(z) / shape
    return X, rng.gamma(shape, np.exp(z) / shape)


def reference(loss, X, y):
    family = {
        "poisson": sm.families.Poisson(),
        "gamma": sm.families.Gamma(link=sm.families.links.Log()),
    }[loss]
    params = sm.GLM(y, sm.add_constant(X), family=family).fit(tol=1e-14, maxiter=200).params
    return np.append(params[1:], params[0])  # (w, b)


DATA = {"poisson": poisson_data, "gamma": gamma_data}


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("loss", sorted(DATA))
def test_gd_reaches_the_statsmodels_glm_mle(loss, seed):
    X, y = DATA[loss](seed)
    w, b, h = train(X, y, loss=loss, solver="gd", tol=1e-12)
    ref = reference(loss, X, y)
    # At |grad| <= 1e-12 the distance to the MLE is at most |grad| / lambda_min(H);
    # the mean Hessian X~^T diag(yhat or y/yhat) X~ / m has lambda_min ~ 0.2 on these
    # draws, so ~5e-12 absolute on coefficients of size >= 0.05: 1e-6 relative has
    # five orders of magnitude to spare, and statsmodels' own tol=1e-14 is below it.
    np.testing.assert_allclose(np.append(w, b), ref, rtol=1e-6)
    assert h.converged
    assert h.solver == "gd"


@pytest.mark.parametrize("loss", sorted(DATA))
def test_newton_reaches_the_statsmodels_glm_mle(loss):
    # Newton on the generated curvature and Hessian: quadratic convergence, same bound
    # as above.
    X, y = DATA[loss](0)
    w, b, h = train(X, y, loss=loss, solver="newton", tol=1e-12)
    np.testing.assert_allclose(np.append(w, b), reference(loss, X, y), rtol=1e-8)
    assert h.converged
    assert h.n_iter <= 20


def test_poisson_accepts_zero_and_fractional_counts_and_refuses_negative_labels():
    k = KERNELS["poisson"]
    X, w = np.ones((3, 1)), np.zeros(1)
    assert np.isfinite(k.loss(X, np.array([0.0, 1.5, 3.0]), w, 0.0))  # as scikit-learn's y >= 0
    with pytest.raises(
        ValueError, match=r"out of the valid range of the loss 'poisson': y must lie in \[0, oo\)"
    ):
        k.grad(X, np.array([0.0, -1e-300, 3.0]), w, 0.0)


def test_gamma_refuses_zero():
    k = KERNELS["gamma"]
    X, w = np.ones((2, 1)), np.zeros(1)
    assert np.isfinite(k.loss(X, np.array([1e-300, 2.0]), w, 0.0))
    with pytest.raises(
        ValueError, match=r"out of the valid range of the loss 'gamma': y must lie in \(0, oo\)"
    ):
        k.loss(X, np.array([0.0, 2.0]), w, 0.0)


@pytest.mark.parametrize("loss", sorted(DATA))
def test_train_refuses_labels_outside_the_domain(loss):
    X, y = DATA[loss](0)
    with pytest.raises(ValueError, match="out of the valid range"):
        train(X, -y, loss=loss, solver="gd")


# --- the estimators ---------------------------------------------------------------------------

from sklearn.utils.estimator_checks import parametrize_with_checks  # noqa: E402

from derivreg.estimators import GammaRegressionSGD, PoissonRegressionSGD  # noqa: E402


@pytest.mark.filterwarnings("ignore::derivreg.solvers.ConvergenceWarning")
@parametrize_with_checks(
    [E(solver=s) for E in (PoissonRegressionSGD, GammaRegressionSGD) for s in ("sgd", "gd")]
)
def test_sklearn_compatible(estimator, check):
    check(estimator)


@pytest.mark.parametrize(
    ("Estimator", "loss"), [(PoissonRegressionSGD, "poisson"), (GammaRegressionSGD, "gamma")]
)
def test_estimator_reaches_the_statsmodels_mle_with_auto_lr(Estimator, loss):
    X, y = DATA[loss](0)
    reg = Estimator(tol=1e-12, max_iter=1000).fit(X, y)  # lr="auto": the Armijo line search
    assert reg.history_.solver == "gd"
    np.testing.assert_allclose(
        np.append(reg.coef_, reg.intercept_), reference(loss, X, y), rtol=1e-6
    )
    with pytest.raises(ValueError, match="out of the valid range of the loss"):
        Estimator().fit(X, -1.0 - y)


def test_sgd_with_auto_lr_on_unbounded_curvature_says_why():
    X, _ = DATA["poisson"](0)
    with pytest.raises(ValueError, match=r"unbounded curvature .* solver='gd'"):
        step_size_bound(X, "poisson")


# Was a strict xfail: yhat**2 overflowed past z = 354.9; the checked dJ_dyhat recomputes
# it at scale now (the overflow checks, codegen/overflow.py).
def test_gamma_dJ_dyhat_is_accurate_where_yhat_squared_overflows():
    yhat = np.exp(355.0)
    got = KERNELS["gamma"].dJ_dyhat(np.float64(1.0), np.float64(yhat))
    assert got == pytest.approx((yhat - 1.0) / yhat / yhat, rel=1e-12)  # (yhat - y)/yhat^2


def test_poisson_newton_standard_errors_match_statsmodels_glm():
    # Poisson's link is canonical: the observed information derivreg inverts (the
    # generated hessian, times m) is the expected one statsmodels' IRLS inverts, and the
    # dispersion is 1.  At |grad| <= 1e-12 the coefficients agree to ~1e-11 (as above);
    # the covariance is a smooth function of them, so 1e-6 on the SEs has room to spare,
    # and 1e-8 on the coefficients is the figure.
    from derivreg.estimators import PoissonRegressionSGD

    X, y = poisson_data(3)
    fit = sm.GLM(y, sm.add_constant(X), family=sm.families.Poisson()).fit(tol=1e-14, maxiter=200)
    reg = PoissonRegressionSGD(solver="newton", tol=1e-12).fit(X, y)
    np.testing.assert_allclose(reg.coef_, fit.params[1:], rtol=1e-8)
    np.testing.assert_allclose(reg.intercept_, fit.params[0], rtol=1e-8)
    np.testing.assert_allclose(reg.stderr_, np.append(fit.bse[1:], fit.bse[0]), rtol=1e-6)
