"""Issue 14 through train: solver="gd" | "newton" | "lbfgs", convergence and separation warnings.

References are independent of derivreg: NumPy's lstsq for least squares, a
logistic gradient written out here, statsmodels' OLS and Logit.  Newton runs
on the generated kernels alone (their ``hessian``, printed from d2J/dz2).
"""

import sys
import warnings

import numpy as np
import pytest
import statsmodels.api as sm
from scipy.special import expit
from sklearn.datasets import (
    load_breast_cancer,
    load_diabetes,
    load_iris,
    make_classification,
    make_regression,
)

from derivreg.separation import SeparationWarning
from derivreg.solvers import ConvergenceWarning
from derivreg.train import SEPARATION_MAX_CELLS, SOLVERS, InvalidParameterError, train


def standardised(X):
    return (X - X.mean(axis=0)) / X.std(axis=0)


def diabetes():
    X, y = load_diabetes(return_X_y=True)
    return standardised(X), y


def iris_pair(a, b):
    X, y = load_iris(return_X_y=True)
    keep = (y == a) | (y == b)
    return standardised(X[keep]), (y[keep] == b).astype(float)


def cancer(n_features=30):
    X, y = load_breast_cancer(return_X_y=True)
    return standardised(X[:, :n_features]), y.astype(float)


def with_ones(X):
    return np.column_stack([X, np.ones(len(X))])


def logistic_grad(X, y, w, b):
    """The mean cross-entropy's gradient, written independently of the kernels."""
    r = expit(X @ w + b) - y
    return np.append(X.T @ r, r.sum()) / len(y)


def max_error_bound(H, tol):
    # At the optimum theta*, g(theta) = H (theta - theta*) to first order, so
    # |theta - theta*|_2 <= |g|_2 / lambda_min(H) <= sqrt(p) tol / lambda_min(H).
    return np.sqrt(H.shape[0]) * tol / np.linalg.eigvalsh(H)[0]


# ---------------------------------------------------------------------------
# Full-batch solvers reach the optimum
# ---------------------------------------------------------------------------
@pytest.mark.parametrize("solver", ["gd", "lbfgs"])
def test_first_order_solvers_reach_least_squares(solver):
    X, y = diabetes()
    # y is unscaled (mean loss ~2.9e4 at 0, ~2.9e3 at the optimum): a gradient much below
    # sqrt(L eps J) ~ 1e-6 cannot be certified by a decrease of J in float64, and the line
    # searches stop near 4e-8 (gd) and 5e-7 (lbfgs).  1e-5 is 3e-9 relative to J.
    tol = 1e-5
    w, b, h = train(X, y, loss="mse", solver=solver, tol=tol)
    ref = np.linalg.lstsq(with_ones(X), y, rcond=None)[0]
    Xt = with_ones(X)
    bound = max_error_bound(2 * Xt.T @ Xt / len(y), tol)  # H of the mean squared error
    assert np.linalg.norm(np.append(w, b) - ref) <= bound
    assert h.converged
    assert h.grad_norm <= tol
    assert h.solver == solver
    assert h.n_iter == h.n_updates >= 1


@pytest.mark.parametrize("solver", ["gd", "lbfgs"])
@pytest.mark.parametrize("data", [lambda: iris_pair(1, 2), lambda: cancer(10)])
def test_first_order_solvers_reach_a_stationary_point_of_the_logistic_loss(solver, data):
    X, y = data()
    tol = 1e-8
    w, b, h = train(X, y, loss="bce", solver=solver, tol=tol, max_iter=200_000)
    # The kernel's gradient and this one agree to rounding (~1e-15 here), far below tol.
    assert np.max(np.abs(logistic_grad(X, y, w, b))) <= tol + 1e-12
    assert h.converged


def test_gd_loss_never_increases_and_is_recorded_per_iteration():
    X, y = iris_pair(1, 2)
    _, _, h = train(X, y, loss="bce", solver="gd")
    assert h.loss.shape == (h.n_iter + 1,)  # before each iteration, and at the end
    assert np.all(np.diff(h.loss) <= 0)  # the Armijo line search only accepts decreases
    np.testing.assert_array_equal(h.epoch_loss, h.loss[1:])
    assert h.w is None
    assert h.accuracy is None
    assert train(X, y, loss="bce", solver="gd", record="none").history.loss is None


def made_regression():
    X, y = make_regression(n_samples=300, n_features=8, noise=10.0, random_state=0)
    return standardised(X), y


def made_classification():
    X, y = make_classification(
        n_samples=300, n_features=6, n_informative=4, n_redundant=0, flip_y=0.1, random_state=0
    )  # no redundant (collinear) features: the MLE is unique
    return standardised(X), y.astype(float)


@pytest.mark.parametrize("data", [diabetes, made_regression])
def test_newton_matches_statsmodels_ols(data):
    X, y = data()
    w, b, h = train(X, y, loss="mse", solver="newton", tol=1e-10)
    ref = sm.OLS(y, with_ones(X)).fit().params
    # One Newton step solves the normal equations; cond(X~^T X~) ~ 1e2 here, so
    # both solutions are exact to ~1e-14 relative.
    np.testing.assert_allclose(np.append(w, b), ref, rtol=1e-8)
    assert h.n_iter <= 2
    assert h.converged


@pytest.mark.parametrize("data", [lambda: iris_pair(1, 2), lambda: cancer(10), made_classification])
def test_newton_matches_statsmodels_logit(data):
    X, y = data()
    w, b, h = train(X, y, loss="bce", solver="newton", tol=1e-10)
    # statsmodels stops when its Newton step is < 1e-8: quadratic convergence puts it
    # within ~1e-16 of the MLE then.
    ref = sm.Logit(y, with_ones(X)).fit(disp=0).params
    # Quadratic convergence: at |g| <= 1e-10 the error is ~|H^-1| 1e-10 <= 1e-9 relative
    # (lambda_min of the logistic H is ~1e-2 on these standardised data).
    err = np.linalg.norm(np.append(w, b) - ref) / np.linalg.norm(ref)
    assert err <= 1e-8
    assert h.converged
    assert h.n_iter <= 15


@pytest.mark.usefixtures("first_order_kernels")
def test_newton_without_curvature_says_what_is_missing():
    X, y = diabetes()
    with pytest.raises(ValueError, match="no 'curvature' attribute") as info:
        train(X, y, loss="mse", solver="newton")
    for name in ("'sgd'", "'gd'", "'lbfgs'", "d2J/dz2"):
        assert name in str(info.value)


def test_lbfgs_without_scipy_names_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "scipy.optimize", None)  # as if SciPy were missing
    X, y = diabetes()
    with pytest.raises(ImportError, match=r"pip install 'derivreg\[scipy\]'"):
        train(X, y, solver="lbfgs")


@pytest.mark.parametrize(
    ("params", "match"),
    [
        ({"solver": "adam"}, r"'solver' parameter of train must be a str among"),
        ({"solver": "gd", "max_iter": 0}, r"'max_iter' parameter of train .* Got 0 instead"),
        ({"solver": "gd", "max_iter": 2.0}, r"'max_iter' .* Got 2.0 instead"),
        ({"solver": "lbfgs", "tol": 0.0}, r"'tol' parameter of train .* \(0.0, inf\) or None"),
        ({"check_separation": "yes"}, r"'check_separation' .* 'bool'"),
    ],
)
def test_solver_settings_are_checked_up_front(params, match):
    X, y = diabetes()
    with pytest.raises(InvalidParameterError, match=match):
        train(X, y, **params)


def test_full_batch_solvers_never_write_the_callers_arrays():
    X, y = iris_pair(1, 2)
    Xc, yc, w0 = X.copy(), y.copy(), np.ones(4)
    for solver in ("gd", "lbfgs"):
        train(X, y, loss="bce", solver=solver, w0=w0, b0=0.5)
    np.testing.assert_array_equal(X, Xc)
    np.testing.assert_array_equal(y, yc)
    np.testing.assert_array_equal(w0, np.ones(4))


def test_solvers_are_the_documented_ones():
    assert SOLVERS == ("sgd", "gd", "newton", "lbfgs")


# ---------------------------------------------------------------------------
# ConvergenceWarning
# ---------------------------------------------------------------------------
@pytest.mark.parametrize("solver", ["gd", "lbfgs"])
def test_full_batch_solver_short_of_tol_warns(solver):
    X, y = cancer(10)
    with pytest.warns(ConvergenceWarning, match="tol"):
        _, _, h = train(X, y, loss="bce", solver=solver, max_iter=3)
    assert not h.converged
    assert h.grad_norm > 1e-8
    assert h.n_iter == 3


def test_sgd_stopping_early_warns():
    # Two epochs of per-sample SGD on diabetes end in SGD's noise ball, far from
    # the least-squares solution: the full-batch gradient is O(1) against tol=1e-4.
    X, y = diabetes()
    with pytest.warns(ConvergenceWarning, match=r"sgd .* full-batch gradient") as info:
        _, _, h = train(X, y, lr=1e-3, epochs=2, tol=1e-4)
    assert "epochs" in str(info[0].message)
    assert h.converged is False
    assert h.grad_norm > 1e-4
    assert h.solver == "sgd"


def test_sgd_on_a_loss_plateau_warns_and_says_so():
    # At lr=0.02 the per-sample steps keep the parameters in a noise ball: the epoch
    # loss stops improving by 1e-3 after 8 epochs, with the full-batch gradient ~40.
    X, y = diabetes()
    with pytest.warns(ConvergenceWarning, match="stopped on the loss plateau"):
        _, _, h = train(
            X, y, lr=0.02, epochs=500, tol=1e-3, n_iter_no_change=3, shuffle=True, seed=0
        )
    assert h.stopped_early
    assert h.n_epochs < 500
    assert h.grad_norm > 1.0


def test_sgd_without_tol_records_but_does_not_judge():
    X, y = diabetes()
    _, _, h = train(X, y, lr=1e-3, epochs=1)  # any warning would fail (filterwarnings=error)
    assert h.converged is None
    assert h.grad_norm > 0
    assert h.n_iter == 1


# ---------------------------------------------------------------------------
# SeparationWarning
# ---------------------------------------------------------------------------
@pytest.mark.filterwarnings("ignore::derivreg.solvers.ConvergenceWarning")
@pytest.mark.parametrize("data", [lambda: cancer(30), lambda: iris_pair(0, 1)])
@pytest.mark.parametrize("solver", ["sgd", "lbfgs"])
def test_separable_classes_warn(data, solver):
    X, y = data()
    tol = 1e-4 if solver == "sgd" else None  # SGD checks by default when it aims at a tol
    with pytest.warns(SeparationWarning, match="maximum-likelihood estimate does not exist"):
        train(X, y, loss="bce", solver=solver, tol=tol, max_iter=5, epochs=1)


def test_overlapping_classes_do_not_warn():
    X, y = iris_pair(1, 2)
    train(X, y, loss="bce", solver="lbfgs")  # filterwarnings=error: any warning fails


def test_the_lectures_fixed_budget_loop_is_not_checked_unless_asked():
    X, y = iris_pair(0, 1)
    train(X, y, loss="bce", lr=0.1)  # no tol: the lecture's loop, no LP
    with pytest.warns(SeparationWarning):
        train(X, y, loss="bce", lr=0.1, check_separation=True)
    train(X, y, loss="bce", solver="gd", max_iter=10_000, check_separation=False, tol=1e-2)


def test_regression_is_never_checked_for_separation():
    X, y = iris_pair(0, 1)  # 0/1 targets, but the squared error is no classifier
    train(X, y, loss="mse", solver="lbfgs", check_separation=True)


def test_very_large_data_skip_the_lp():
    rng = np.random.default_rng(0)
    m = SEPARATION_MAX_CELLS // 2 + 1  # two features and the intercept: past the threshold
    X = rng.normal(size=(m, 2))
    y = (X[:, 0] > 0).astype(float)  # separable
    with warnings.catch_warnings():
        warnings.simplefilter("error", SeparationWarning)
        train(X, y, loss="bce", solver="gd", max_iter=1, tol=1e3)
