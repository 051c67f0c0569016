"""Sample weights, the penalty and the intercept of the softmax kernels, and their planted bugs.

The conventions are the scalar kernels' (:mod:`derivreg._penalty`): the
batch gradient and loss are the weighted mean plus ``alpha/2 ||W||²`` (b
unpenalised); per-sample SGD scales the loss's step by the row's weight, takes
the L2 gradient at every step and the L1 proximal step after it.

Tolerances (analysis next to each):

* repeated rows and removed rows: both sides are means of the same terms
  (|entry| <= |x| |ŷ - y| <= 3 and |J| <= 40 for |x|, |W|, |b| <= 3), summed
  in different orders and scaled by s/m or 1/M: each sum of at most M terms
  has rounding <= M eps times the sum of |terms|, so 4 M eps (max|x| + 1)
  on the gradient and 4 M eps (mean J + 1) on the loss (M, the repeated count).
* finite differences on the penalised, weighted loss: as in
  ``test_softmax_kernels.py`` (h = 1e-5, 1e-8), the penalty quadratic (its
  central difference exact but for rounding) and weights <= 3 of mean 1.
* the SGD properties compare the same floating-point operations in the
  same order: exactly equal.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from properties.softmax_planted import WEIGHT_PLANTED, real
from properties.test_softmax_kernels import batches, one_hot

EPS = np.finfo(float).eps


def prop_repeated_rows(kernel, X, Y, W, b, counts, alpha):
    """Integer weights are repeated rows: grad and loss, weighted vs repeated."""
    Xr, Yr = np.repeat(X, counts, axis=0), np.repeat(Y, counts, axis=0)
    (dW, db), (rW, rb) = (
        kernel.grad(X, Y, W, b, sample_weight=counts, alpha=alpha),
        kernel.grad(Xr, Yr, W, b, alpha=alpha),
    )
    M = int(np.sum(counts))
    tol = 4 * M * EPS * (np.max(np.abs(X)) + 1)
    assert np.allclose(dW, rW, rtol=0, atol=tol), (dW, rW)
    assert np.allclose(db, rb, rtol=0, atol=tol), (db, rb)
    weighted = kernel.loss(X, Y, W, b, sample_weight=counts, alpha=alpha)
    repeated = kernel.loss(Xr, Yr, W, b, alpha=alpha)
    assert abs(weighted - repeated) <= 4 * M * EPS * (abs(repeated) + 1)


def prop_zero_weight(kernel, X, Y, W, b, lr, alpha):
    """A zero weight removes the row: grad and loss to rounding; unpenalised SGD exactly."""
    del alpha
    if len(X) < 2:
        return
    s = np.ones(len(X))
    s[0] = 0.0
    (dW, db), (rW, rb) = kernel.grad(X, Y, W, b, sample_weight=s), kernel.grad(X[1:], Y[1:], W, b)
    tol = 4 * len(X) * EPS * (np.max(np.abs(X)) + 1)
    assert np.allclose(dW, rW, rtol=0, atol=tol)
    assert np.allclose(db, rb, rtol=0, atol=tol)
    # SGD: a weight-0 row takes a step of length 0 (only the penalty's, which is 0 here)
    got = kernel.sgd_epoch(X, Y, W, b, lr, sample_weight=s)
    want = kernel.sgd_epoch(X[1:], Y[1:], W, b, lr)
    assert all(np.array_equal(g, w) for g, w in zip(got, want, strict=True)), (got, want)


def _settings(X, alpha):
    s = np.linspace(0.5, 2.0, len(X))
    return {"sample_weight": s, "alpha": alpha, "l1": alpha / 2}


def prop_per_step(kernel, X, Y, W, b, lr, alpha):
    """One epoch is its rows' one-row epochs in turn: the penalty is taken at every step."""
    settings = _settings(X, alpha)
    got = kernel.sgd_epoch(X, Y, W, b, lr, **settings)
    w, c = W, b
    for i in range(len(X)):
        one = {**settings, "sample_weight": settings["sample_weight"][i : i + 1]}
        w, c = kernel.sgd_epoch(X[i : i + 1], Y[i : i + 1], w, c, lr, **one)
    assert np.array_equal(got[0], w), (got, w)
    assert np.array_equal(got[1], c), (got, c)


def prop_no_intercept(kernel, X, Y, W, b, lr, alpha):
    """Without an intercept b is returned as given; W takes the steps of the model at that b."""
    got_W, got_b = kernel.sgd_epoch(X, Y, W, b, lr, alpha=alpha, fit_intercept=False)
    assert np.array_equal(got_b, b), (got_b, b)
    w = W
    for i in range(len(X)):
        w, _ = kernel.sgd_epoch(X[i : i + 1], Y[i : i + 1], w, b, lr, alpha=alpha)
    assert np.array_equal(got_W, w)


def prop_proximal(kernel, X, Y, W, b, lr, alpha):
    """With l1, each step ends with the proximal step soft_threshold(., lr l1) of the kernels."""
    l1 = alpha + 0.5
    got = kernel.sgd_epoch(X[:1], Y[:1], W, b, lr, alpha=alpha, l1=l1)
    smooth = kernel.sgd_epoch(X[:1], Y[:1], W, b, lr, alpha=alpha)
    assert np.array_equal(got[0], real_threshold(smooth[0], lr * l1)), (got, smooth)
    assert np.array_equal(got[1], smooth[1])


def real_threshold(v, t):
    from derivreg.kernels import softmax

    return softmax.soft_threshold(v, t)


def prop_finite_differences(kernel, X, Y, W, b, counts, alpha):
    """The weighted, penalised gradient against central differences of the penalised loss."""
    s = counts.astype(float)
    dW, db = kernel.grad(X, Y, W, b, sample_weight=s, alpha=alpha)
    h = 1e-5
    for params, grad in ((W, dW), (b, db)):
        for index in np.ndindex(params.shape):
            up, down = params.copy(), params.copy()
            up[index] += h
            down[index] -= h
            at_up = (up, b) if params is W else (W, up)
            at_down = (down, b) if params is W else (W, down)
            f_up = kernel.loss(X, Y, *at_up, sample_weight=s, alpha=alpha)
            f_down = kernel.loss(X, Y, *at_down, sample_weight=s, alpha=alpha)
            assert abs((f_up - f_down) / (2 * h) - grad[index]) <= 1e-8, index


# ---------------------------------------------------------------------------
# Hypothesis, on the real kernels.
# ---------------------------------------------------------------------------
@st.composite
def weighted(draw):
    X, Y, W, b = draw(batches())
    counts = draw(arrays(np.int64, (len(X),), elements=st.integers(1, 3)))
    return X, Y, W, b, counts, draw(st.sampled_from([0.0, 0.01, 0.5]))


@st.composite
def stepped(draw):
    X, Y, W, b = draw(batches())
    return X, Y, W, b, draw(st.sampled_from([0.01, 0.1, 0.3])), draw(st.sampled_from([0.0, 0.2]))


@given(weighted())
def test_integer_weights_are_repeated_rows(case):
    prop_repeated_rows(real(), *case)


@given(weighted())
def test_weighted_penalised_gradient_against_finite_differences(case):
    prop_finite_differences(real(), *case)


@given(stepped())
def test_zero_weight_is_a_removed_row(case):
    prop_zero_weight(real(), *case)


@given(stepped())
def test_sgd_takes_the_penalty_at_every_step(case):
    prop_per_step(real(), *case)


@given(stepped())
def test_no_intercept_leaves_b(case):
    prop_no_intercept(real(), *case)


@given(stepped())
def test_l1_is_the_proximal_step_after_each_step(case):
    prop_proximal(real(), *case)


# ---------------------------------------------------------------------------
# Planted bugs: each property fails on its look-alike, and passes on the real kernels.
# ---------------------------------------------------------------------------
def _fixed(k=3):
    rng = np.random.default_rng(7)
    X = rng.uniform(-3, 3, (4, 2))
    Y = one_hot(np.array([0, 1, 2, 1]) % k, k)
    return X, Y, rng.uniform(-1, 1, (2, k)), rng.uniform(-1, 1, k)


FIXED = {
    "repeated_rows": (*_fixed(), np.array([1, 3, 2, 1]), 0.1),
    "finite_differences": (*_fixed(), np.array([1, 3, 2, 1]), 0.1),
    "zero_weight": (*_fixed(), 0.1, 0.0),
    "per_step": (*_fixed(), 0.1, 0.2),
    "no_intercept": (*_fixed(), 0.1, 0.2),
    "proximal": (*_fixed(), 0.1, 0.2),
}
PROPERTIES = {name: globals()[f"prop_{name}"] for name in FIXED}


@pytest.mark.parametrize("bug", WEIGHT_PLANTED, ids=list(WEIGHT_PLANTED))
def test_planted_bug_is_caught(bug):
    kernel, prop = WEIGHT_PLANTED[bug]
    with pytest.raises(AssertionError):
        PROPERTIES[prop](kernel, *FIXED[prop])


@pytest.mark.parametrize("prop", FIXED, ids=list(FIXED))
def test_no_false_alarm(prop):
    PROPERTIES[prop](real(), *FIXED[prop])
