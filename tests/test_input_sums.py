"""The input checks' one-pass finiteness test does not warn on huge finite values."""

import warnings

import numpy as np
import pytest

from derivreg.kernels import KERNELS

HUGE = np.array([1.7e308] * 4 + [-1.7e308] * 4)  # pairwise: +inf and -inf partial sums


@pytest.mark.parametrize("function", ["grad", "hessian"])
def test_labels_of_both_huge_signs_are_checked_without_a_warning(function):
    # np.sum's pairwise partial sums are +inf and -inf here: inf - inf is NaN,
    # an "invalid" RuntimeWarning (an error under pytest's filters) before the
    # check scanned the terms and found them finite.  The results fit.
    kernels = KERNELS["mse"]
    X = np.ones((8, 1))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        result = getattr(kernels, function)(X, HUGE, np.zeros(1), 0.0)
    parts = result if isinstance(result, tuple) else (result,)
    assert all(np.all(np.isfinite(np.asarray(r, dtype=float))) for r in parts)


def test_their_mean_loss_overflows_with_its_own_error():
    X = np.ones((8, 1))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(FloatingPointError, match="overflows float64"):
            KERNELS["mse"].losses(X, HUGE, np.zeros(1), 0.0)


def test_huge_finite_weights_are_valid_and_scaled_without_a_warning():
    # Weights are scaled to mean 1, so 1.7e308 each is a valid (uniform) weighting.
    kernels = KERNELS["mse"]
    X = np.ones((8, 1))
    y = np.arange(8.0)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        g = kernels.grad(X, y, np.zeros(1), 0.0, sample_weight=np.abs(HUGE))
    np.testing.assert_allclose(g[0], kernels.grad(X, y, np.zeros(1), 0.0)[0], rtol=1e-15)
