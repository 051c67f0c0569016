"""Properties of the generated softmax kernels, and the planted bugs each one catches.

Each ``prop_*`` takes a kernel namespace (the real one, or a planted
look-alike from :mod:`properties.softmax_planted`) and one example; the
Hypothesis tests run it on the real kernels, ``test_planted_bug_is_caught``
runs it on fixed examples against the look-alike it was written for (it must
fail), and ``test_no_false_alarm`` runs every property's fixed examples on
the real kernels (they must pass).

Tolerances (analysis next to each):

* ulp (loss, dJ/dz): at most 4 against mpmath at 60 digits, the issue's bound.
  Per entry the kernel rounds about five times (the shift is made exact by
  TwoSum; exp, the k - 1 term sum, log1p and one add or divide), each at most
  1/2 ulp, and no cancellation: every sum adds terms of one sign.
* rows of predict_proba: |Σ_j p_j - 1| <= 2k eps: S = Σ e_j has relative
  error <= (k - 1) eps/2, each quotient eps/2 more.
* finite differences: central, step h = 1e-5, on the mean loss of
  |x|, |W|, |b| <= 3 (n <= 3, k <= 4): truncation h²/6 sup|f'''| <= 4.5 h²
  (a coordinate's third derivative of log-sum-exp is at most 1, times
  |x_i|³ <= 27), rounding 2 eps |f|/(2h) with |f| <= 60; 1e-8 covers both
  with a margin of 5.
* k = 2 against the logistic kernels: both within a few ulp of the same
  value, so 16 eps relative on each loss and 16 m eps on each gradient
  entry (relative to the mean |x|), plus what the two products X W and X w
  may differ by, |dz| <= (n + 1) eps (|X||w| + |b|), times |dJ/dz| on the
  loss and 1/4 (sup d2J/dz2) on dJ/dz.
"""

from __future__ import annotations

import math

import mpmath
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from derivreg.kernels import bce
from properties.softmax_planted import PLANTED, real

EPS = np.finfo(float).eps
REALMAX = np.finfo(float).max
mpmath.mp.dps = 60


def one_hot(labels: np.ndarray, k: int) -> np.ndarray:
    return np.eye(k)[labels]


def exact_log_softmax(row: np.ndarray) -> list[mpmath.mpf]:
    z = [mpmath.mpf(float(v)) for v in row]
    top = max(z)
    # (z_j - m) - log1p(Σ_{i≠argmax} exp(z_i - m)): no sum of a large m with a small log,
    # and no 1 + tiny at 60 digits
    rest = list(z)
    rest.remove(top)
    log_total = mpmath.log1p(mpmath.fsum(mpmath.exp(v - top) for v in rest))
    return [(v - top) - log_total for v in z]


def exact_residual(row: np.ndarray, label: int) -> list[mpmath.mpf]:
    """ŷ_j - y_j at 60 digits; the label's entry as -Σ_{i≠c} ŷ_i (no 1 - (1 - tiny))."""
    z = [mpmath.mpf(float(v)) for v in row]
    top = max(z)
    terms = [mpmath.exp(v - top) for v in z]
    total = mpmath.fsum(terms)
    wrong = mpmath.fsum(t for i, t in enumerate(terms) if i != label)
    return [-wrong / total if j == label else t / total for j, t in enumerate(terms)]


def ulps(got: float, exact: mpmath.mpf) -> float:
    """|got - exact| in units of the last place of float(exact) (subnormal spacing below)."""
    nearest = float(exact)
    if not np.isfinite(got) or not np.isfinite(nearest):
        return 0.0 if got == nearest else np.inf
    spacing = math.ulp(abs(nearest))  # 5e-324 at 0, 2^971 at the largest float
    return float(abs(mpmath.mpf(got) - exact) / mpmath.mpf(spacing))


# ---------------------------------------------------------------------------
# Strategies: scores over a wide range, one-hot labels, small batches.
# ---------------------------------------------------------------------------
wide = st.one_of(
    st.floats(-1e3, 1e3),
    st.floats(-1e300, 1e300),
    st.sampled_from([0.0, -0.0, 5e-324, 36.7, -36.7, 709.0, -745.0, 746.0, 1e308, -1e308]),
)


@st.composite
def scores_and_labels(draw, values=wide):
    k = draw(st.integers(2, 4))
    m = draw(st.integers(1, 4))
    Z = draw(arrays(float, (m, k), elements=values))
    labels = draw(arrays(int, (m,), elements=st.integers(0, k - 1)))
    return Z, one_hot(labels, k)


@st.composite
def batches(draw, bound=3.0):
    k = draw(st.integers(2, 4))
    n = draw(st.integers(1, 3))
    m = draw(st.integers(1, 5))
    values = st.floats(-bound, bound)
    X = draw(arrays(float, (m, n), elements=values))
    W = draw(arrays(float, (n, k), elements=values))
    b = draw(arrays(float, (k,), elements=values))
    Y = one_hot(draw(arrays(int, (m,), elements=st.integers(0, k - 1))), k)
    return X, Y, W, b


# ---------------------------------------------------------------------------
# The properties.
# ---------------------------------------------------------------------------
MEASURED = {"loss": 0.0, "dJ_dz": 0.0}


def prop_ulp_loss(kernel, Z, Y):
    k = Z.shape[1]
    exact = [exact_log_softmax(row) for row in Z]
    true = [-exact[i][int(np.argmax(Y[i]))] for i in range(len(Z))]
    if any(t > REALMAX for t in true):
        return 0.0  # the true loss is past float64: the kernel must refuse (prop_stability)
    J = kernel.losses(Z, Y, np.eye(k), np.zeros(k))  # Z @ I + 0 is Z exactly
    worst = max(ulps(float(g), t) for g, t in zip(J, true, strict=True))
    assert worst <= 4, f"loss off by {worst:.2f} ulp at Z={Z!r}"
    return worst


def prop_ulp_dJ_dz(kernel, Z, Y):
    got = kernel.dJ_dz(Z, Y)
    assert np.all(np.isfinite(got)), f"non-finite dJ/dz at Z={Z!r}"
    worst = 0.0
    for i, row in enumerate(Z):
        for j, exact in enumerate(exact_residual(row, int(np.argmax(Y[i])))):
            worst = max(worst, ulps(float(got[i, j]), exact))
    assert worst <= 4, f"dJ/dz off by {worst:.2f} ulp at Z={Z!r}"
    return worst


def prop_stability(kernel, Z, Y):
    """log-softmax finite wherever the true value is a float64; the loss finite or refused."""
    got = kernel.log_softmax(Z)
    for i, row in enumerate(Z):
        for j, log_p in enumerate(exact_log_softmax(row)):
            if log_p >= -REALMAX:
                assert np.isfinite(got[i, j]), f"log-softmax not finite at Z={Z!r}"
                assert ulps(float(got[i, j]), log_p) <= 4, f"log-softmax inexact at Z={Z!r}"
    k = Z.shape[1]
    refused = ""
    try:
        J = kernel.losses(Z, Y, np.eye(k), np.zeros(k))
    except ValueError as err:
        refused = str(err)
    if refused:
        assert "overflows" in refused, refused
    else:
        assert np.all(np.isfinite(J)), f"silent non-finite loss at Z={Z!r}"


def prop_shift_invariance(kernel, Z, t):
    """Z and t on a grid of 2^-10 within +-1e3, so Z + t is exact: the outputs are identical."""
    assert np.array_equal(kernel.log_softmax(Z + t), kernel.log_softmax(Z))


def prop_rows_sum_to_one(kernel, X, Y, W, b):
    del Y
    p = kernel.predict_proba(X, W, b)
    k = W.shape[1]
    assert np.all(p >= 0)
    assert np.all(np.abs(p.sum(axis=1) - 1) <= 2 * k * EPS), p.sum(axis=1)


def prop_finite_differences(kernel, X, Y, W, b):
    dW, db = kernel.grad(X, Y, W, b)
    h = 1e-5
    for params, grad in ((W, dW), (b, db)):
        for index in np.ndindex(params.shape):
            up, down = params.copy(), params.copy()
            up[index] += h
            down[index] -= h
            args_up = (up, b) if params is W else (W, up)
            args_down = (down, b) if params is W else (W, down)
            fd = (kernel.loss(X, Y, *args_up) - kernel.loss(X, Y, *args_down)) / (2 * h)
            assert abs(fd - grad[index]) <= 1e-8, (index, fd, grad[index])


def prop_arguments_unchanged(kernel, X, Y, W, b):
    copies = [a.copy() for a in (X, Y, W, b)]
    kernel.grad(X, Y, W, b)
    kernel.predict_proba(X, W, b)
    kernel.sgd_epoch(X, Y, W, b, 0.1)
    for before, after in zip(copies, (X, Y, W, b), strict=True):
        assert np.array_equal(before, after), "an argument was modified"


BAD = [
    ("X", lambda X, Y, W, b: (np.where(X == X, np.nan, X), Y, W, b), "NaN"),
    ("Y", lambda X, Y, W, b: (X, Y * 2, W, b), "one-hot"),
    ("Y", lambda X, Y, W, b: (X, Y[:, :-1], W, b), "shape"),
    ("W", lambda X, Y, W, b: (X, Y, W[:-1] if len(W) > 1 else W.T, b), "W"),
    ("b", lambda X, Y, W, b: (X, Y, W, "0"), "numeric"),
    ("X", lambda X, Y, W, b: (X.astype(bool), Y, W, b), "dtype bool"),
]


def prop_bad_input(kernel, X, Y, W, b):
    for _, spoil, words in BAD:
        with pytest.raises(ValueError, match=words):
            kernel.losses(*spoil(X, Y, W, b))


def prop_binary_is_logistic(kernel, X, Y, W, b):
    """k = 2, W = (0, w), b = (0, b₁): the BCE kernels at z = x.w + b₁, to rounding."""
    w, b1 = W[:, 1], float(b[1])
    W2, b2 = np.column_stack([np.zeros_like(w), w]), np.array([0.0, b1])
    Y2 = np.column_stack([1 - Y[:, 1], Y[:, 1]]) if Y.shape[1] > 2 else Y
    y = Y2[:, 1]
    J_soft, J_bce = kernel.losses(X, Y2, W2, b2), bce.losses(X, y, w, b1)
    # The two products X W and X w may round differently: |dz| <= (n + 1) eps (|X||w| + |b|),
    # which moves J by |dJ/dz| |dz| and dJ/dz by at most |dz|/4 (sup d2J/dz2 = 1/4).
    z = X @ w + b1
    dz = (X.shape[1] + 1) * EPS * (np.abs(X) @ np.abs(w) + abs(b1))
    slope = np.abs(bce.dJ_dz(z, y))
    assert np.all(np.abs(J_soft - J_bce) <= 16 * EPS * np.abs(J_bce) + slope * dz + 1e-300)
    (dW, db), (dw, dbb) = kernel.grad(X, Y2, W2, b2), bce.grad(X, y, w, b1)
    scale = 16 * len(X) * EPS * (np.mean(np.abs(X)) + 1) + np.mean((np.abs(X).sum(1) + 1) * dz)
    assert np.allclose(dW[:, 1], dw, rtol=0, atol=scale)
    assert np.allclose(dW[:, 0], -dw, rtol=0, atol=scale)
    assert abs(db[1] - dbb) <= scale
    assert abs(db[0] + dbb) <= scale


# ---------------------------------------------------------------------------
# The real kernels under Hypothesis.
# ---------------------------------------------------------------------------
@given(scores_and_labels())
def test_loss_within_4_ulp(case):
    worst = prop_ulp_loss(real(), *case)
    MEASURED["loss"] = max(MEASURED["loss"], worst or 0.0)


@given(scores_and_labels())
def test_dJ_dz_within_4_ulp(case):
    MEASURED["dJ_dz"] = max(MEASURED["dJ_dz"], prop_ulp_dJ_dz(real(), *case))


@given(scores_and_labels(st.floats(allow_nan=False, allow_infinity=False)))
def test_stable_over_the_whole_float64_range(case):
    prop_stability(real(), *case)


grid = st.integers(-(2**20), 2**20).map(lambda i: i / 1024)


@given(scores_and_labels(grid), grid)
def test_shift_invariance(case, t):
    prop_shift_invariance(real(), case[0], t)


@given(batches())
def test_rows_sum_to_one(batch):
    prop_rows_sum_to_one(real(), *batch)


@given(batches())
def test_gradient_against_finite_differences(batch):
    prop_finite_differences(real(), *batch)


@given(batches())
def test_arguments_unchanged(batch):
    prop_arguments_unchanged(real(), *batch)


@given(batches())
def test_bad_input_is_refused(batch):
    prop_bad_input(real(), *batch)


@given(batches(bound=8.0).filter(lambda batch: batch[2].shape[1] >= 2))
def test_binary_is_logistic(batch):
    X, Y, W, b = batch
    prop_binary_is_logistic(real(), X, Y[:, :2] if Y.shape[1] == 2 else Y, W[:, :2], b[:2])


# ---------------------------------------------------------------------------
# Planted bugs: fixed examples each property must fail on its look-alike.
# ---------------------------------------------------------------------------
def _fixed_batch(k=3):
    rng = np.random.default_rng(13)
    X = rng.uniform(-3, 3, (4, 2))
    return (
        X,
        one_hot(np.array([0, 1, 2, 1]) % k, k),
        rng.uniform(-3, 3, (2, k)),
        rng.uniform(-3, 3, k),
    )


FIXED = {
    "stability": [(np.array([[800.0, 0.0, -5.0]]), one_hot(np.array([0]), 3))],
    "ulp_loss": [(np.array([[0.0, -30.0, -31.0]]), one_hot(np.array([0]), 3))],
    "ulp_dJ_dz": [
        (np.array([[0.0, -30.0, -31.0]]), one_hot(np.array([0]), 3)),
        # z - m rounds by up to ulp(500)/2 = 5.7e-14: exp(s) alone is 70+ ulp off
        (np.array([[0.7, -500.1, -700.3]]), one_hot(np.array([0]), 3)),
    ],
    "shift_invariance": [(np.array([[0.5, -1.0, 2.0]]), 512.0)],
    "finite_differences": [_fixed_batch()],
    "rows_sum_to_one": [_fixed_batch()],
    "arguments_unchanged": [_fixed_batch()],
    "bad_input": [_fixed_batch()],
    "binary_is_logistic": [_fixed_batch(k=2)],
}
PROPERTIES = {name: globals()[f"prop_{name}"] for name in FIXED}


@pytest.mark.parametrize("bug", PLANTED, ids=list(PLANTED))
def test_planted_bug_is_caught(bug):
    kernel, prop = PLANTED[bug]

    def run_all() -> None:
        for example in FIXED[prop]:
            PROPERTIES[prop](kernel, *example)

    with pytest.raises((AssertionError, pytest.fail.Exception)):
        run_all()


@pytest.mark.parametrize("prop", FIXED, ids=list(FIXED))
def test_no_false_alarm(prop):
    for example in FIXED[prop]:
        PROPERTIES[prop](real(), *example)


def test_report_the_measured_ulp(capsys):
    # Print the worst ulp seen in this run (pytest -s shows it; the report quotes it).
    with capsys.disabled():
        print(f"\nsoftmax measured max ulp: {MEASURED}")
