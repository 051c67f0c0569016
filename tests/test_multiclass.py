"""SoftmaxRegressionSGD: check_estimator, any labels, partial_fit, and scikit-learn on iris.

Iris (all three classes, standardised): one class is linearly separable
from the others, so the unpenalised maximum-likelihood estimate does not
exist (|W| grows without bound).  With the L2 penalty both fits have one
minimiser: scikit-learn's C·Σ J + ||W||²/2 is C·m times our mean J +
(alpha/2)||W||² at alpha = 1/(C·m), the intercept unpenalised in both.
The softmax is invariant to adding a constant to every class's score, so
the coefficients and intercepts are compared after subtracting their mean
over the classes.
"""

import itertools

import numpy as np
import pytest
from sklearn.datasets import load_iris
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import StandardScaler
from sklearn.utils.estimator_checks import check_estimator

from derivreg.estimators import LogisticRegressionSGD
from derivreg.multiclass import SoftmaxRegressionSGD

#: Per-sample SGD scales a sample's step by its weight, as the scalar estimators and
#: scikit-learn's SGD estimators do: k steps on a repeated row and one step k times as
#: long agree to first order in lr only.  Full-batch "gd" passes the check.
PER_SAMPLE_WEIGHTS = {
    "check_sample_weight_equivalence_on_dense_data": "per-sample SGD: weights scale steps",
}


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.SkipTestWarning")
@pytest.mark.parametrize(
    "settings",
    [
        {},
        {"solver": "gd", "penalty": "elasticnet", "alpha": 0.01, "fit_intercept": False},
        {"solver": "gd", "alpha": 0.01},
    ],
    ids=["sgd", "gd-elasticnet-no-intercept", "gd-l2"],
)
def test_check_estimator_is_green(settings):
    estimator = SoftmaxRegressionSGD(epochs=20, random_state=0, **settings)
    expected = PER_SAMPLE_WEIGHTS if estimator.solver == "sgd" else {}
    results = check_estimator(estimator, on_fail=None, expected_failed_checks=expected)
    failed = [(r["check_name"], str(r["exception"])) for r in results if r["status"] == "failed"]
    assert not failed


def centred(a: np.ndarray) -> np.ndarray:
    return a - a.mean(axis=0)


def test_iris_matches_scikit_learns_multinomial_logistic_regression():
    X, y = load_iris(return_X_y=True)
    X = StandardScaler().fit_transform(X)
    C, m = 1.0, len(X)
    ref = LogisticRegression(C=C, tol=1e-12, max_iter=100_000).fit(X, y)
    ours = SoftmaxRegressionSGD(solver="gd", alpha=1 / (C * m), epochs=100_000, tol=1e-12)
    ours.fit(X, y)
    assert ours.converged_
    # GD with step 1/L contracts to the unique penalised minimiser; at a gradient norm of
    # 1e-12 and strong convexity >= alpha = 1/150 (on W; b by the data), the distance is
    # below 1e-9, and scikit-learn's lbfgs at tol 1e-12 is as close: 1e-6 has a margin.
    assert np.max(np.abs(centred(ours.coef_) - centred(ref.coef_))) <= 1e-6
    assert np.max(np.abs(centred(ours.intercept_) - centred(ref.intercept_))) <= 1e-6
    assert np.all(np.abs(ours.predict_proba(X) - ref.predict_proba(X)) <= 1e-6)


def test_string_labels_and_probabilities_summing_to_one():
    rng = np.random.default_rng(0)
    X = np.concatenate([rng.normal(c, 0.3, (20, 2)) for c in ((0, 0), (3, 0), (0, 3))])
    y = np.repeat(["red", "green", "blue"], 20)
    clf = SoftmaxRegressionSGD(random_state=0).fit(X, y)
    assert clf.classes_.tolist() == ["blue", "green", "red"]
    assert np.mean(clf.predict(X) == y) == 1.0
    p = clf.predict_proba(X)
    assert np.all(np.abs(p.sum(axis=1) - 1) <= 6 * np.finfo(float).eps)
    assert clf.decision_function(X).shape == (60, 3)
    assert np.allclose(np.exp(clf.predict_log_proba(X)), p)


def test_partial_fit_needs_the_classes_first_and_keeps_them():
    clf = SoftmaxRegressionSGD(random_state=0)
    with pytest.raises(ValueError, match="classes must be passed on the first call"):
        clf.partial_fit([[0.0]], ["a"])
    clf.partial_fit([[0.0], [1.0]], ["a", "b"], classes=["a", "b", "c"])
    clf.partial_fit([[2.0]], ["c"])
    assert clf.classes_.tolist() == ["a", "b", "c"]
    assert clf.n_iter_ == 2
    with pytest.raises(ValueError, match="is not the same as on last call"):
        clf.partial_fit([[2.0]], ["c"], classes=["a", "b"])
    with pytest.raises(ValueError, match="not in classes"):
        clf.partial_fit([[2.0]], ["d"])


def test_logistic_regression_refuses_three_classes_naming_softmax():
    with pytest.raises(ValueError, match=r"use derivreg\.multiclass\.SoftmaxRegressionSGD"):
        LogisticRegressionSGD().fit([[0.0], [1.0], [2.0]], [0, 1, 2])


def _three_blobs(seed=0, per=15):
    rng = np.random.default_rng(seed)
    X = np.concatenate([rng.normal(c, 0.8, (per, 2)) for c in ((0, 0), (2, 0), (0, 2))])
    return X, np.repeat([0, 1, 2], per)


def test_gd_integer_weights_are_repeated_rows_and_zero_weights_removed_rows():
    X, y = _three_blobs()
    counts = np.arange(len(X)) % 3  # 0, 1, 2, ...
    settings = {"solver": "gd", "alpha": 0.01, "epochs": 5000, "tol": 1e-11}
    weighted = SoftmaxRegressionSGD(**settings).fit(X, y, sample_weight=counts)
    repeated = SoftmaxRegressionSGD(**settings).fit(np.repeat(X, counts, 0), np.repeat(y, counts))
    assert weighted.converged_
    assert repeated.converged_
    # both within tol / alpha = 1e-9 of the one minimiser (strong convexity >= alpha in W)
    assert np.max(np.abs(centred(weighted.coef_.T) - centred(repeated.coef_.T))) <= 1e-8
    assert np.max(np.abs(centred(weighted.intercept_) - centred(repeated.intercept_))) <= 1e-8


def test_no_intercept_keeps_b_at_zero():
    X, y = _three_blobs()
    for solver in ("sgd", "gd"):
        clf = SoftmaxRegressionSGD(solver=solver, fit_intercept=False, epochs=50, random_state=0)
        assert np.array_equal(clf.fit(X, y).intercept_, np.zeros(3))


def test_sgd_penalty_follows_the_scalar_convention_at_every_step():
    # k = 2: d = w_1 - w_0 takes d - 2 lr (s x r + (alpha/2) d) and c = b_1 - b_0 takes
    # c - 2 lr s r, per sample: the scalar estimators' per-sample SGD (derivreg.train) with
    # lr' = 2 lr and alpha' = alpha / 2, the L2 gradient and the weight at every step.
    from derivreg.train import train

    X, y = _three_blobs(per=20)
    X, y = X[y < 2], y[y < 2]
    s = np.linspace(0.5, 1.5, len(X))
    lr, alpha = 0.05, 0.3
    clf = SoftmaxRegressionSGD(lr=lr, alpha=alpha, epochs=3, shuffle=False)
    clf.fit(X, y, sample_weight=s)
    w, b, _ = train(
        X, y.astype(float), loss="bce", lr=2 * lr, epochs=3, shuffle=False, tol=None,
        penalty="l2", alpha=alpha / 2, sample_weight=s, backend="numpy",
    )  # fmt: skip
    # the same steps in other rounding: 3 epochs x 40 steps, each within a few eps
    assert np.allclose(clf.coef_[1] - clf.coef_[0], w, rtol=0, atol=1e-12)
    assert abs((clf.intercept_[1] - clf.intercept_[0]) - b) <= 1e-12


def test_iris_has_a_class_separable_from_the_others_so_no_unpenalised_mle():
    from derivreg.kernels import softmax
    from derivreg.separation import is_separable

    X, y = load_iris(return_X_y=True)
    X = StandardScaler().fit_transform(X)
    # setosa against the rest: a linear program finds (v, c) with s_i (x_i.v + c) >= 1
    assert is_separable(X, (y == 0).astype(float))
    assert not is_separable(X, (y == 1).astype(float))
    # then along W + t v e_0^T (class 0's column moved by the separator) the unpenalised
    # mean loss falls for ever: every sample's true-class margin grows, none shrinks
    from scipy.optimize import linprog

    s = np.where(y == 0, 1.0, -1.0)
    found = linprog(np.zeros(5), A_ub=-s[:, None] * np.column_stack([X, np.ones(150)]),
                    b_ub=-np.ones(150), bounds=[(None, None)] * 5, method="highs")  # fmt: skip
    v, c = found.x[:4], found.x[4]
    fit = SoftmaxRegressionSGD(solver="gd", alpha=1 / 150, epochs=20_000).fit(X, y)
    W, b, Y = fit.coef_.T.copy(), fit.intercept_.copy(), np.eye(3)[y]
    losses = []
    for t in (0.0, 1.0, 10.0, 100.0):
        W_t, b_t = W.copy(), b.copy()
        W_t[:, 0] += t * v
        b_t[0] += t * c
        losses.append(softmax.loss(X, Y, W_t, b_t))
    assert all(later < earlier for earlier, later in itertools.pairwise(losses))
