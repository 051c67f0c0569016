"""The separation check on datasets whose separability is known (the issue checked them by LP)."""

import numpy as np
import pytest

pytest.importorskip("scipy")
datasets = pytest.importorskip("sklearn.datasets")

from derivreg.data import lecture  # noqa: E402
from derivreg.separation import SeparationWarning, is_separable, separation_message  # noqa: E402


def iris_pair(a, b):
    X, y = datasets.load_iris(return_X_y=True)
    keep = np.isin(y, (a, b))
    return X[keep], (y[keep] == b).astype(float)


def test_breast_cancer_with_all_30_features_is_separable():
    X, y = datasets.load_breast_cancer(return_X_y=True)
    assert is_separable(X, y)


def test_breast_cancer_with_its_first_10_features_is_not():
    X, y = datasets.load_breast_cancer(return_X_y=True)
    assert not is_separable(X[:, :10], y)


def test_setosa_and_versicolor_are_separable_versicolor_and_virginica_are_not():
    assert is_separable(*iris_pair(0, 1))
    assert not is_separable(*iris_pair(1, 2))


def test_the_lectures_deterministic_labels_are_separable():
    # Erratum 3: labels drawn as (z > 0) make the n-feature data separable.
    d = lecture("logistic-n")
    assert is_separable(d.X, d.y)


def test_bernoulli_labels_with_overlap_are_not_separable():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(500, 3))
    y = (rng.uniform(size=500) < 1 / (1 + np.exp(-X @ [1.0, -1.0, 0.5]))).astype(float)
    assert not is_separable(X, y)


def test_a_single_point_of_overlap_makes_the_difference():
    X = np.array([[0.0], [1.0], [2.0], [3.0]])
    assert is_separable(X, [0, 0, 1, 1])
    assert not is_separable(X, [0, 1, 0, 1])
    assert not is_separable(np.array([[1.0], [1.0]]), [0, 1])  # the same x in both classes


def test_bad_input_is_named():
    with pytest.raises(ValueError, match="exactly two classes"):
        is_separable([[0.0], [1.0], [2.0]], [0, 1, 2])
    with pytest.raises(ValueError, match="X must be 2-D"):
        is_separable([0.0, 1.0], [0, 1])


def test_the_warning_says_what_it_means():
    assert issubclass(SeparationWarning, UserWarning)
    assert "maximum-likelihood estimate does not exist" in separation_message(3)
