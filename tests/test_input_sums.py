"""The input checks' one-pass finiteness test does not warn on huge finite values."""

import warnings

import numpy as np
import pytest

from derivreg.kernels import KERNELS

HUGE = np.array([1.7e308] * 4 + [-1.7e308] * 4)  # pairwise: +inf and -inf partial sums


@pytest.mark.parametrize("name", ["mse"])
def test_labels_of_both_huge_signs_give_the_overflow_error_not_a_warning(name):
    # np.sum's pairwise partial sums are +inf and -inf here: inf - inf is NaN,
    # an "invalid" RuntimeWarning (an error under pytest's filters) before the
    # check scanned the terms and found them finite.
    kernels = KERNELS[name]
    X = np.ones((8, 1))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(FloatingPointError, match="overflows float64"):
            kernels.loss(X, HUGE, np.zeros(1), 0.0)
        g = kernels.hvp(X, np.zeros(8), np.zeros(1), 0.0, np.array([0.0, 0.0]))
        assert np.all(np.isfinite(g))


def test_huge_finite_weights_are_valid_and_scaled_without_a_warning():
    # Weights are scaled to mean 1, so 1.7e308 each is a valid (uniform) weighting.
    kernels = KERNELS["mse"]
    X = np.ones((8, 1))
    y = np.arange(8.0)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        g = kernels.grad(X, y, np.zeros(1), 0.0, sample_weight=np.abs(HUGE))
    np.testing.assert_allclose(g[0], kernels.grad(X, y, np.zeros(1), 0.0)[0], rtol=1e-15)
