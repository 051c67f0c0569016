"""The scikit-learn-style estimators: check_estimator, recovery, wording of errors."""

import re
import subprocess
import sys

import numpy as np
import pytest
import statsmodels.api as sm
from scipy.special import expit
from sklearn.datasets import load_breast_cancer, load_diabetes, load_iris
from sklearn.exceptions import NotFittedError
from sklearn.linear_model import LogisticRegression
from sklearn.utils.estimator_checks import parametrize_with_checks

import derivreg
from derivreg.data import lecture, linear, logistic
from derivreg.estimators import LinearRegressionSGD, LogisticRegressionSGD
from derivreg.separation import SeparationWarning
from derivreg.solvers import ConvergenceWarning
from derivreg.train import SOLVERS, History, step_size_bound

#: Toy fits in these tests are often separable on purpose (a 1-feature threshold), and
#: short SGD runs at the default tol=1e-4 end far from stationarity: both warnings are
#: right, and tested in the solver tests below; in the API tests they are noise.
toy = [
    pytest.mark.filterwarnings("ignore::derivreg.separation.SeparationWarning"),
    pytest.mark.filterwarnings("ignore::derivreg.solvers.ConvergenceWarning"),
]


def toy_separable(test):
    for mark in toy:
        test = mark(test)
    return test


#: Per-sample SGD scales a sample's step by its weight (as scikit-learn's SGDRegressor,
#: which scikit-learn expects to fail this check too): k steps on a repeated row and one
#: step k times as long agree to first order in lr only.  The full-batch solvers pass it.
PER_SAMPLE_WEIGHTS = {
    "check_sample_weight_equivalence_on_dense_data": "per-sample SGD: weights scale steps",
    "check_sample_weight_equivalence_on_sparse_data": "per-sample SGD: weights scale steps",
}


# scikit-learn's checks fit toy data (often separable, and for a few iterations): the
# warnings are right there and are tested below; here they would only be noise.
@pytest.mark.filterwarnings("ignore::derivreg.solvers.ConvergenceWarning")
@pytest.mark.filterwarnings("ignore::derivreg.separation.SeparationWarning")
@parametrize_with_checks(
    [
        Estimator(solver=s)
        for Estimator in (LinearRegressionSGD, LogisticRegressionSGD)
        for s in SOLVERS
    ]
    + [
        # the penalties and no intercept (issue 12)
        LinearRegressionSGD(penalty="elasticnet", alpha=0.01, fit_intercept=False),
        LogisticRegressionSGD(penalty="l2", alpha=0.01, solver="lbfgs"),
    ],
    expected_failed_checks=lambda est: PER_SAMPLE_WEIGHTS if est.solver == "sgd" else {},
)
def test_sklearn_compatible(estimator, check):
    check(estimator)


def test_exported_from_the_package():
    assert derivreg.LinearRegressionSGD is LinearRegressionSGD
    assert derivreg.LogisticRegressionSGD is LogisticRegressionSGD


def test_linear_recovers_the_lectures_truth():
    d = lecture("linear-n")
    reg = LinearRegressionSGD(epochs=200, tol=None, random_state=0).fit(d.X, d.y)
    # Noise-free, lr half the stability bound: linear convergence to the truth.
    np.testing.assert_allclose(reg.coef_, d.true_w, atol=1e-6)
    assert reg.intercept_ == pytest.approx(d.true_b, abs=1e-6)
    assert reg.score(d.X, d.y) == pytest.approx(1.0)
    assert reg.n_features_in_ == 3
    assert isinstance(reg.history_, History)
    assert reg.history_.w is None  # record="loss" by default: no copy of w per update


def test_logistic_agrees_with_sklearns_maximum_likelihood():
    # Bernoulli labels: the MLE exists.  Full-batch gradient descent at lr below
    # 8/max||(x,1)||^2 converges to it linearly; sklearn's unpenalised lbfgs is
    # an independent route to the same optimum.
    d = logistic(3, 400, seed=0, labels="bernoulli")
    clf = LogisticRegressionSGD(batch_size=400, epochs=20_000, tol=None, shuffle=False)
    clf.fit(d.X, d.y)
    ref = LogisticRegression(C=np.inf, tol=1e-12, max_iter=10_000).fit(d.X, d.y)
    np.testing.assert_allclose(clf.coef_, ref.coef_[0], atol=1e-5)
    assert clf.intercept_ == pytest.approx(ref.intercept_[0], abs=1e-5)
    np.testing.assert_allclose(clf.predict_proba(d.X), ref.predict_proba(d.X), atol=1e-5)


@toy_separable
def test_classifier_methods_agree():
    d = lecture("logistic-n")
    clf = LogisticRegressionSGD(epochs=5, random_state=0).fit(d.X, d.y)
    proba = clf.predict_proba(d.X)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    z = clf.decision_function(d.X)
    np.testing.assert_array_equal(clf.predict(d.X), (z > 0).astype(float))
    np.testing.assert_array_equal(clf.classes_, [0.0, 1.0])
    assert clf.score(d.X, d.y) >= 0.99
    assert clf.history_.accuracy is not None


@toy_separable
def test_string_labels_and_the_positive_class():
    X = np.array([[-2.0], [-1.0], [1.0], [2.0]])
    clf = LogisticRegressionSGD(random_state=0).fit(X, ["cat", "cat", "dog", "dog"])
    assert clf.classes_.tolist() == ["cat", "dog"]
    assert clf.predict([[3.0]]).tolist() == ["dog"]
    assert clf.coef_[0] > 0  # classes_[1] is y = 1


def test_auto_learning_rate_is_half_the_step_size_bound():
    d = linear(2, 50, seed=1)
    X = d.X * 100  # unscaled inputs: a fixed lr of 0.01 would diverge
    reg = LinearRegressionSGD(epochs=3, tol=None, shuffle=False).fit(X, d.y)
    assert np.isfinite(reg.coef_).all()
    lr = 0.5 * step_size_bound(X)
    from derivreg.train import train

    w, b, _ = train(X, d.y, lr=lr, epochs=3, record="none")
    np.testing.assert_array_equal(reg.coef_, w)
    assert reg.intercept_ == b


def test_partial_fit_continues_one_epoch_at_a_time():
    d = lecture("linear-n")
    reg = LinearRegressionSGD(lr=0.1, shuffle=False)
    reg.partial_fit(d.X, d.y)
    first = reg.coef_.copy()
    assert reg.history_.n_updates == 100
    reg.partial_fit(d.X, d.y)
    assert not np.array_equal(reg.coef_, first)
    one_shot = LinearRegressionSGD(lr=0.1, shuffle=False, epochs=2, tol=None).fit(d.X, d.y)
    np.testing.assert_array_equal(reg.coef_, one_shot.coef_)


def test_partial_fit_classes_on_the_first_call():
    X = np.array([[0.0], [1.0]])
    clf = LogisticRegressionSGD()
    clf.partial_fit(X, [1, 1], classes=[0, 1])
    assert clf.classes_.tolist() == [0, 1]
    clf.partial_fit(X, [0, 0])
    with pytest.raises(ValueError, match=r"y contains labels \[7\] not in classes \[0, 1\]"):
        clf.partial_fit(X, [7, 0])


@toy_separable
def test_fit_never_writes_the_callers_arrays():
    rng = np.random.default_rng(1)
    X, y = rng.normal(size=(30, 2)), (rng.random(30) > 0.5).astype(float)
    Xc, yc = X.copy(), y.copy()
    LogisticRegressionSGD(random_state=0).fit(X, y)
    LinearRegressionSGD(random_state=0).fit(X, y)
    np.testing.assert_array_equal(X, Xc)
    np.testing.assert_array_equal(y, yc)


# ---------------------------------------------------------------------------
# Bad input, in scikit-learn's words
# ---------------------------------------------------------------------------
X3 = np.array([[0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
Y3 = np.array([0.0, 1.0, 1.0])


@pytest.mark.parametrize("Estimator", [LinearRegressionSGD, LogisticRegressionSGD])
@pytest.mark.parametrize(
    ("X", "match"),
    [
        (np.array([[0.0, np.nan], [1.0, 0.0], [1.0, 1.0]]), "Input X contains NaN."),
        (np.array([[0.0, np.inf], [1.0, 0.0], [1.0, 1.0]]), "Input X contains infinity"),
        (np.array([0.0, 1.0, 1.0]), "Expected 2D array, got 1D array instead"),
        (np.empty((0, 2)), r"Found array with 0 sample\(s\)"),
    ],
)
def test_bad_X_in_fit(Estimator, X, match):
    with pytest.raises(ValueError, match=match):
        Estimator().fit(X, Y3[: len(X)] if len(X) else np.empty(0))


@pytest.mark.parametrize("Estimator", [LinearRegressionSGD, LogisticRegressionSGD])
@toy_separable
def test_wrong_number_of_features(Estimator):
    est = Estimator(random_state=0).fit(X3, Y3)
    name = Estimator.__name__
    message = f"X has 3 features, but {name} is expecting 2 features as input."
    with pytest.raises(ValueError, match=re.escape(message)):
        est.predict(np.ones((2, 3)))


@pytest.mark.parametrize("Estimator", [LinearRegressionSGD, LogisticRegressionSGD])
def test_unfitted(Estimator):
    with pytest.raises(NotFittedError, match="is not fitted yet"):
        Estimator().predict(X3)


def test_nan_in_targets():
    with pytest.raises(ValueError, match=r"Input y contains NaN\."):
        LinearRegressionSGD().fit(X3, np.array([0.0, np.nan, 1.0]))


def test_one_class_only():
    with pytest.raises(ValueError, match="needs samples of at least 2 classes") as info:
        LogisticRegressionSGD().fit(X3, np.ones(3))
    assert "only one class: " in str(info.value)


def test_non_binary_targets():
    with pytest.raises(ValueError, match=r"Only binary classification is supported\.") as info:
        LogisticRegressionSGD().fit(X3, np.array([0, 1, 2]))
    assert "multiclass" in str(info.value)
    with pytest.raises(ValueError, match="Unknown label type: continuous"):
        LogisticRegressionSGD().fit(X3, np.array([0.1, 0.5, 0.7]))


def test_import_derivreg_works_without_sklearn():
    code = (
        "import sys\n"
        "sys.modules['sklearn'] = None  # as if scikit-learn were not installed\n"
        "import derivreg\n"
        "from derivreg.data import lecture\n"
        "from derivreg.train import train\n"
        "d = lecture('linear-1')\n"
        "train(d.X, d.y, w0=d.w0, b0=d.b0, lr=d.lr)\n"
        "try:\n"
        "    derivreg.LinearRegressionSGD\n"
        "except ImportError as err:\n"
        "    print(err)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert "derivreg.estimators needs scikit-learn" in out.stdout
    assert "pip install scikit-learn" in out.stdout


# ---------------------------------------------------------------------------
# Issue 17
# ---------------------------------------------------------------------------
@toy_separable
def test_predict_proba_keeps_the_small_probability():
    clf = LogisticRegressionSGD(lr=0.5, random_state=0).fit([[-1.0], [1.0]], [0, 1])
    clf.coef_, clf.intercept_ = np.array([1.0]), 0.0
    p = clf.predict_proba([[173.9], [-173.9], [0.0]])
    # sigma(-173.9) = exp(-173.9) / (1 + exp(-173.9)); 1 - sigma(173.9) rounds to 0.0
    np.testing.assert_allclose(p[0], [2.9935712e-76, 1.0], rtol=1e-7)
    np.testing.assert_allclose(p[1], [1.0, 2.9935712e-76], rtol=1e-7)
    np.testing.assert_array_equal(p[2], [0.5, 0.5])
    np.testing.assert_array_equal(p[0], p[1][::-1])  # exact complements: X (-w) + (-b) = -z


def test_a_second_partial_fit_with_other_classes_is_refused():
    X = np.array([[0.0], [1.0]])
    clf = LogisticRegressionSGD().partial_fit(X, [0, 1], classes=[0, 1])
    message = (
        "`classes=array([7, 9])` is not the same as on last call to partial_fit, was: array([0, 1])"
    )
    with pytest.raises(ValueError, match=re.escape(message)):
        clf.partial_fit(X, [7, 9], classes=[7, 9])
    clf.partial_fit(X, [1, 0], classes=[1, 0])  # the same classes, in another order


@pytest.mark.parametrize("Estimator", [LinearRegressionSGD, LogisticRegressionSGD])
@pytest.mark.parametrize(
    ("params", "match"),
    [
        ({"lr": True}, r"'lr' parameter of {} must be a float in the range \(0.0, inf\) or a str"),
        ({"lr": 1j}, r"'lr' .* Got 1j instead"),
        ({"lr": np.inf}, r"'lr' .* Got inf instead"),
        ({"lr": "fast"}, r"'lr' .* Got 'fast' instead"),
        ({"epochs": True}, r"'epochs' parameter of {} must be an int in the range \[1, inf\)"),
        ({"batch_size": 0}, r"'batch_size' .* Got 0 instead"),
        ({"shuffle": 1}, r"'shuffle' parameter of {} must be an instance of 'bool'"),
        ({"tol": "abc"}, r"'tol' .* \[0.0, inf\) or None. Got 'abc' instead"),
        ({"n_iter_no_change": 0.5}, r"'n_iter_no_change' .* Got 0.5 instead"),
        ({"random_state": 1.5}, r"'random_state' parameter of {} must be an int in the range"),
        ({"record": "some"}, r"'record' .* Got 'some' instead"),
    ],
)
def test_every_estimator_setting_is_checked_in_sklearns_words(Estimator, params, match):
    X, y = np.array([[0.0], [1.0], [2.0]]), np.array([0, 1, 1])
    for method in ("fit", "partial_fit"):
        with pytest.raises(ValueError, match=match.format(Estimator.__name__)):
            getattr(Estimator(**params), method)(X, y)


def test_auto_learning_rate_on_huge_X_says_why():
    X = np.array([[1e200], [2e200]])
    with pytest.raises(
        ValueError, match=r"lr='auto' is half the per-sample step-size bound"
    ) as info:
        LinearRegressionSGD().fit(X, [1.0, 2.0])
    assert "underflows float64" in str(info.value)
    assert "got 0.0" not in str(info.value)


# ---------------------------------------------------------------------------
# Issue 14: solvers, convergence and separation warnings
# ---------------------------------------------------------------------------
def _standardised(X):
    return (X - X.mean(axis=0)) / X.std(axis=0)


def _diabetes():
    X, y = load_diabetes(return_X_y=True)
    return _standardised(X), y


def _iris(a, b):
    X, y = load_iris(return_X_y=True)
    keep = (y == a) | (y == b)
    return _standardised(X[keep]), np.where(y[keep] == b, "b", "a")


def _with_ones(X):
    return np.column_stack([X, np.ones(len(X))])


@pytest.mark.parametrize("solver", ["gd", "lbfgs"])
def test_full_batch_regressor_reaches_least_squares(solver):
    X, y = _diabetes()
    reg = LinearRegressionSGD(solver=solver, tol=1e-5).fit(X, y)
    ref = np.linalg.lstsq(_with_ones(X), y, rcond=None)[0]
    # |theta - theta*| <= sqrt(p) tol / lambda_min(H), H = 2 X~^T X~ / m (see test_train_solvers)
    Xt = _with_ones(X)
    bound = np.sqrt(11) * 1e-5 / np.linalg.eigvalsh(2 * Xt.T @ Xt / len(y))[0]
    assert np.linalg.norm(np.append(reg.coef_, reg.intercept_) - ref) <= bound
    assert reg.converged_
    assert reg.grad_norm_ <= 1e-5
    assert reg.n_iter_ == reg.history_.n_iter >= 1
    assert reg.history_.solver == solver


@pytest.mark.parametrize("solver", ["gd", "lbfgs"])
def test_full_batch_classifier_reaches_a_stationary_point(solver):
    X, labels = _iris(1, 2)
    clf = LogisticRegressionSGD(solver=solver, tol=1e-8).fit(X, labels)
    y = (labels == "b").astype(float)
    r = expit(X @ clf.coef_ + clf.intercept_) - y  # the gradient, written independently
    grad = np.append(X.T @ r, r.sum()) / len(y)
    assert np.max(np.abs(grad)) <= 1e-8 + 1e-12  # kernel and this gradient agree to ~1e-15
    assert clf.converged_


def test_newton_estimators_match_statsmodels():
    X, y = _diabetes()
    reg = LinearRegressionSGD(solver="newton", tol=1e-10).fit(X, y)
    ols = sm.OLS(y, _with_ones(X)).fit().params
    np.testing.assert_allclose(np.append(reg.coef_, reg.intercept_), ols, rtol=1e-8)
    X, labels = _iris(1, 2)
    clf = LogisticRegressionSGD(solver="newton", tol=1e-10).fit(X, labels)
    logit = sm.Logit((labels == "b").astype(float), _with_ones(X)).fit(disp=0, tol=1e-12).params
    theta = np.append(clf.coef_, clf.intercept_)
    # Quadratic convergence: |g| <= 1e-10 puts theta within ~1e-9 relative of the MLE.
    assert np.linalg.norm(theta - logit) / np.linalg.norm(logit) <= 1e-8
    assert clf.n_iter_ <= 15


@pytest.mark.usefixtures("first_order_kernels")
def test_newton_estimator_without_curvature_says_what_is_missing():
    X, y = _diabetes()
    with pytest.raises(ValueError, match=r"solver='newton' needs the per-sample curvature"):
        LinearRegressionSGD(solver="newton").fit(X, y)


def test_default_sgd_fit_stopping_early_warns():
    # The default per-sample SGD (lr half the stability bound) stops on the loss plateau
    # in its noise ball: the full-batch gradient is far above tol=1e-4 (issue 14).
    X, y = _diabetes()
    with pytest.warns(ConvergenceWarning, match="not at a stationary point"):
        reg = LinearRegressionSGD(random_state=0).fit(X, y)
    assert reg.converged_ is False
    assert reg.grad_norm_ > 1e-4


def test_partial_fit_is_one_sgd_epoch_whatever_the_solver():
    d = lecture("linear-n")
    reg = LinearRegressionSGD(lr=0.1, shuffle=False, solver="lbfgs").partial_fit(d.X, d.y)
    assert reg.history_.solver == "sgd"
    assert reg.history_.n_updates == 100
    assert reg.converged_ is None  # no tol in a partial fit: nothing to judge by


@pytest.mark.filterwarnings("ignore::derivreg.solvers.ConvergenceWarning")
@pytest.mark.parametrize("solver", ["sgd", "lbfgs"])
@pytest.mark.parametrize("which", ["cancer", "setosa"])
def test_separable_classes_warn_from_the_estimator(solver, which):
    if which == "cancer":
        X, y = load_breast_cancer(return_X_y=True)  # all 30 features: separable
        X = _standardised(X)
    else:
        X, y = _iris(0, 1)
    clf = LogisticRegressionSGD(solver=solver, epochs=2, max_iter=20, random_state=0)
    with pytest.warns(SeparationWarning, match="maximum-likelihood estimate does not exist"):
        clf.fit(X, y)


def test_overlapping_classes_do_not_warn_from_the_estimator():
    X, y = _iris(1, 2)
    LogisticRegressionSGD(solver="lbfgs").fit(X, y)  # filterwarnings=error: no warning at all


@pytest.mark.parametrize("Estimator", [LinearRegressionSGD, LogisticRegressionSGD])
@pytest.mark.parametrize(
    ("params", "match"),
    [
        ({"solver": "adam"}, r"'solver' parameter of {} must be a str among"),
        ({"max_iter": 0}, r"'max_iter' parameter of {} must be an int in the range \[1, inf\)"),
        ({"max_iter": True}, r"'max_iter' .* Got True instead"),
        ({"solver": "gd", "tol": 0.0}, r"'tol' parameter of {} .* \(0.0, inf\) or None"),
    ],
)
def test_solver_settings_in_sklearns_words(Estimator, params, match):
    X, y = np.array([[0.0], [1.0], [2.0]]), np.array([0, 1, 1])
    with pytest.raises(ValueError, match=match.format(Estimator.__name__)):
        Estimator(**params).fit(X, y)


# ---------------------------------------------------------------------------
# Penalties, sample weights and fit_intercept (issue 12)
# ---------------------------------------------------------------------------


def test_estimator_l2_fit_matches_ridge_with_weights():
    from sklearn.linear_model import Ridge

    d = linear(3, 200, seed=4)
    sw = np.random.default_rng(0).integers(1, 4, 200).astype(float)
    reg = LinearRegressionSGD(penalty="l2", alpha=0.1, solver="lbfgs", tol=1e-9)
    reg.fit(d.X, d.y, sample_weight=sw)
    ref = Ridge(alpha=0.1 * sw.sum() / 2).fit(d.X, d.y, sample_weight=sw)
    np.testing.assert_allclose(np.append(reg.coef_, reg.intercept_),
                               np.append(ref.coef_, ref.intercept_), rtol=1e-6)  # fmt: skip
    assert reg.stderr_ is None  # no Fisher information for a penalised fit (nor curvature yet)


@toy_separable
def test_estimator_without_intercept_has_intercept_zero():
    d = logistic(2, 200, seed=5)
    clf = LogisticRegressionSGD(fit_intercept=False, epochs=5, tol=None, random_state=0)
    clf.fit(d.X, d.y)
    assert clf.intercept_ == 0.0
    assert clf.decision_function(d.X[:3]).tolist() == (d.X[:3] @ clf.coef_).tolist()


def test_estimator_partial_fit_takes_sample_weight():
    d = linear(2, 50, seed=6)
    reg = LinearRegressionSGD(shuffle=False).partial_fit(d.X, d.y, sample_weight=np.ones(50))
    same = LinearRegressionSGD(shuffle=False).partial_fit(d.X, d.y)
    # weighted: the per-sample kernel calls; unweighted: the generated loop (same math,
    # rounding apart: 50 steps of a few ulps each)
    np.testing.assert_allclose(reg.coef_, same.coef_, rtol=1e-12)


@pytest.mark.parametrize(
    ("params", "match"),
    [
        ({"penalty": "l3"}, r"The 'penalty' parameter of LinearRegressionSGD must be"),
        ({"alpha": -1.0}, r"The 'alpha' parameter of LinearRegressionSGD must be"),
        ({"l1_ratio": 2.0}, r"The 'l1_ratio' parameter of LinearRegressionSGD must be"),
        ({"fit_intercept": "yes"}, r"The 'fit_intercept' parameter of LinearRegressionSGD must"),
    ],
)
def test_penalty_settings_in_sklearns_words(params, match):
    with pytest.raises(ValueError, match=match):
        LinearRegressionSGD(**params).fit([[0.0], [1.0]], [0.0, 1.0])
