"""The kernels' scalar arguments and empty feature sets get errors that name them (issue 17).

Before: a bool lr was taken as 1.0, a complex b lost its imaginary part,
b=None and b='abc' gave Python's anonymous float() error, and grad with 0
features raised ZeroDivisionError.
"""

import numpy as np
import pytest

from derivreg.kernels import KERNELS

# labels in every registered pair's domain (the reals, [0, 1], counts, y > 0)
X, Y, W = np.array([[1.0, 2.0], [0.5, -1.0]]), np.array([1.0, 0.5]), np.array([0.1, -0.2])
BAD = [True, np.True_, None, "abc", 1 + 2j, np.complex128(1.0)]


@pytest.mark.parametrize("bad", BAD, ids=repr)
@pytest.mark.parametrize("name", sorted(KERNELS))
def test_a_b_that_is_not_a_real_number_is_named(name, bad):
    k = KERNELS[name]
    for call in (
        lambda: k.predict(X, W, bad),
        lambda: k.loss(X, Y, W, bad),
        lambda: k.grad(X, Y, W, bad),
        lambda: k.update(X, Y, W, bad, 0.1),
    ):
        with pytest.raises(ValueError, match="b must be a real number"):
            call()


@pytest.mark.parametrize("bad", BAD, ids=repr)
@pytest.mark.parametrize("name", sorted(KERNELS))
def test_an_lr_that_is_not_a_real_number_is_named(name, bad):
    with pytest.raises(ValueError, match="lr must be a real number"):
        KERNELS[name].update(X, Y, W, 0.0, bad)


@pytest.mark.parametrize("name", sorted(KERNELS))
def test_zero_features_is_scikit_learns_error_not_a_division_by_zero(name):
    k = KERNELS[name]
    empty = np.empty((2, 0))
    for call in (
        lambda: k.predict(empty, np.empty(0), 0.0),
        lambda: k.grad(empty, Y, np.empty(0), 0.0),
        lambda: k.update(empty, Y, np.empty(0), 0.0, 0.1),
    ):
        with pytest.raises(ValueError, match=r"Found array with 0 feature\(s\)"):
            call()


@pytest.mark.parametrize("name", sorted(KERNELS))
def test_real_scalars_of_every_kind_still_pass(name):
    k = KERNELS[name]
    for b in (0, 0.5, np.float32(0.5), np.int64(1), np.array(0.25)):
        assert np.isfinite(k.loss(X, Y, W, b))
    w, b = k.update(X, Y, W, 0.0, np.float64(0.1))
    assert np.isfinite(w).all()
    assert np.isfinite(b)


# Found while typing derivreg/codegen/checks.py: _as_finite_scalar ends in float(value), which
# parses a numeric str or bytes, so b="1.5" is taken as 1.5 (train's b0="1.5" is refused).
# Refusing them changes the generated checks: left to its own issue; strict, so that the fix
# turns these into failures to remove.
@pytest.mark.xfail(strict=True, reason="known gap: a numeric string b is parsed by float()")
@pytest.mark.parametrize("bad", ["1.5", b"2", np.str_("3")], ids=repr)
def test_a_numeric_string_b_is_refused_too(bad):
    with pytest.raises(ValueError, match="b must be a real number"):
        KERNELS["mse"].loss(X, Y, W, bad)
