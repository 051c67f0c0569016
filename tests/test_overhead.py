"""train()'s fast paths refuse what the slow ones refused, and compute the same floats.

The fixed per-call cost of ``train`` was cut (benchmarks/newton.py, the sgd
section of benchmarks/run.py) by checking cheap things cheaply: messages
built only on refusal, ``type(v) is float`` before the ABCs, ``issparse``
answering an ndarray without SciPy, the labels compared instead of
``np.isin``, no finiteness pass over a w0 of zeros, the start's losses from
an X of no columns, X~ = [X, 1] filled in place of ``np.column_stack``.
Each test here pins one of them to the behaviour it replaced.
"""

import math
from fractions import Fraction
from numbers import Real

import numpy as np
import pytest

from derivreg import _params, fast
from derivreg._sparse import issparse, stored
from derivreg.kernels import KERNELS
from derivreg.solvers import KernelObjective
from derivreg.train import DivergenceError, train


def _old_real(
    name, value, owner, low=-math.inf, high=math.inf, *, low_open=False, high_open=False, none=False
):
    """real() as it was before the fast path: the message built on every call (the oracle)."""
    if none and value is None:
        return None
    span = _params._interval(low, high, low_open, high_open)
    accepted = f"a float in the range {span}" + (" or None" if none else "")
    if not (isinstance(value, Real) and not isinstance(value, (bool, np.bool_))):
        raise _params.refuse(name, owner, accepted, value)
    v = float(value)
    inside = (v > low if low_open else v >= low) and (v < high if high_open else v <= high)
    if math.isnan(v) or not inside or (math.isinf(v) and not (v == high == math.inf)):
        raise _params.refuse(name, owner, accepted, value)
    return v


BOUNDS = [
    {}, {"low": 0.0}, {"low": 0.0, "high_open": True, "none": True}, {"low": 1.0, "low_open": True},
    {"high": 1.0}, {"low": 0.0, "high": 1.0},
]  # fmt: skip
VALUES = [
    "abc", None, True, np.False_, 1j, math.nan, -1, 0, 0.0, 1.0, 0.5, 2, math.inf, -math.inf,
    np.float32(2.0), np.float64(-0.0), np.int64(7), Fraction(1, 3), [1.0], np.array(1.0),
]  # fmt: skip


@pytest.mark.parametrize("bounds", BOUNDS, ids=str)
@pytest.mark.parametrize("value", VALUES, ids=repr)
def test_real_returns_or_refuses_exactly_as_before(value, bounds):
    def outcome(fn):
        try:
            return fn("tol", value, "train", **bounds)
        except _params.InvalidParameterError as err:
            return str(err)

    assert outcome(_params.real) == outcome(_old_real)


@pytest.mark.parametrize("value", [0.5, 3, np.float64(0.5), np.int64(3), Fraction(1, 2)])
def test_real_accepts_every_real_number_on_either_path(value):
    assert _params.real("alpha", value, "train", 0.0) == float(value)


def test_the_type_fast_paths_keep_bools_out_and_subclasses_in():
    class MyInt(int):
        pass

    assert _params.is_real(MyInt(2))
    assert _params.is_int(MyInt(2))
    assert not _params.is_real(True)
    assert not _params.is_int(np.True_)
    assert _params.is_int(np.int32(2))
    assert not _params.is_int(2.0)


def test_issparse_answers_an_ndarray_without_scipy_and_still_sees_sparse_matrices():
    sp = pytest.importorskip("scipy.sparse")
    dense = np.ones((2, 2))
    assert not issparse(dense)
    assert stored(dense) is dense

    class Sub(np.ndarray):
        pass

    assert not issparse(dense.view(Sub))  # an ndarray subclass: SciPy's answer
    C = sp.csr_matrix(dense)
    assert issparse(C)
    assert stored(C) is C.data


@pytest.mark.parametrize("label", [0.5, -1.0, 2.0, 1.0 + 1e-16 * 3])
def test_a_classifier_label_outside_0_1_gets_the_message_isin_gave(label):
    X, y = np.zeros((3, 1)), np.array([0.0, 1.0, label])
    assert not np.isin(y, (0.0, 1.0)).all()  # what the old check said
    with pytest.raises(ValueError, match=r"^bce targets must be 0 or 1; got values outside"):
        train(X, y, loss="bce")


@pytest.mark.parametrize(
    ("label", "what"), [(np.nan, "NaN"), (np.inf, "infinity"), (-np.inf, "inf")]
)
def test_a_classifier_label_nan_or_inf_is_named_before_the_labels_rule(label, what):
    # 0/1 labels are finite, so train skips y's own finiteness pass for them; any other
    # label is checked for NaN and infinity first, as for every pair
    X, y = np.zeros((3, 1)), np.array([0.0, label, 1.0])
    with pytest.raises(ValueError, match=rf"^Input y contains {what}"):
        train(X, y, loss="bce")


def test_labels_0_and_1_as_any_float_spelling_pass():
    y = np.array([0.0, -0.0, 1.0, 1.0])
    assert np.isin(y, (0.0, 1.0)).all()
    assert train(np.ones((4, 1)), y, loss="bce", record="none").w.shape == (1,)


def test_w0_none_is_zeros_and_a_given_w0_is_still_checked():
    X, y = np.ones((3, 2)), np.ones(3)
    default = train(X, y, record="none", epochs=2)
    zeros = train(X, y, w0=np.zeros(2), record="none", epochs=2)
    assert np.array_equal(default.w, zeros.w)
    assert default.b == zeros.b
    with pytest.raises(ValueError, match=r"^Input w0 contains NaN\.$"):
        train(X, y, w0=np.array([0.0, np.nan]))
    with pytest.raises(ValueError, match=r"^w0 must have shape \(2,\)"):
        train(X, y, w0=np.zeros(3))


@pytest.mark.parametrize("name", sorted(KERNELS))
def test_the_start_losses_from_no_column_are_those_from_a_zero_column(name):
    """z = b + (empty sum) is the float b + 0 * 0: the same losses, bit for bit."""
    kernel = KERNELS[name]
    if not hasattr(kernel, "_in_domain") or kernel.TARGETS not in ("real", "binary", "positive"):
        pytest.skip("a per-sample pair with one score")
    rng = np.random.default_rng(0)
    y = rng.random(50) + (0.0 if kernel.TARGETS != "positive" else 0.5)
    for b in (0.0, -0.0, 0.3, -2.5):
        none = kernel._losses(np.zeros((50, 0)), y, np.zeros(0), b)
        one = kernel._losses(np.zeros((50, 1)), y, np.zeros(1), b)
        np.testing.assert_array_equal(none, one)


@pytest.mark.parametrize("name", ["mse", "bce", "poisson", "gamma"])
def test_the_fused_start_losses_from_no_column_are_those_from_a_zero_column(name):
    pytest.importorskip("numba")
    losses = fast.fused_serial(name)["losses"]
    y = np.random.default_rng(1).random(40) + 0.25
    for b in (0.0, 0.7, -1.5):
        none = losses(np.zeros((40, 0)), y, np.zeros(0), b)
        np.testing.assert_array_equal(none, losses(np.zeros((40, 1)), y, np.zeros(1), b))


def _with_ones(X):
    return np.column_stack((X, np.ones(X.shape[0])))


def _rounding_bound(A, c, B):
    """Twice gamma_m |A|^T |c| |B|: two evaluations of one m-term sum, in any two orders.

    Each entry is a sum of m products; fl of such a sum is within gamma_m times
    the sum of the terms' magnitudes of the exact value (Higham, Theorem 3.1,
    gamma_m = m u / (1 - m u), u = 2^-53), so two roundings of it differ by at
    most twice that.  The X~ built in place holds the same floats as
    column_stack's, so the sums are in practice bitwise equal; the bound
    allows a BLAS that orders them by the arrays' alignment.
    """
    m = A.shape[0]
    u = 2.0**-53
    gamma = m * u / (1 - m * u)
    return 2 * gamma * (np.abs(A).T * np.abs(c)) @ np.abs(B)


@pytest.mark.parametrize("name", ["mse", "bce", "poisson", "gamma"])
@pytest.mark.parametrize("shape", [(1, 1), (7, 3), (300, 10)])
def test_the_fused_sums_with_x_tilde_filled_in_place_equal_the_column_stack_form(name, shape):
    kernel = KERNELS[name]
    rng = np.random.default_rng(sum(shape))
    X = rng.standard_normal(shape)
    y = rng.random(shape[0]) if name == "bce" else rng.random(shape[0]) + 0.5
    w, b = rng.standard_normal(shape[1]) / 4, 0.1
    _value, g, H = kernel._newton_sums(X, y, w, b)
    Xt = _with_ones(X)
    z = X @ w + b
    c = np.broadcast_to(kernel.curvature(z, y), z.shape)
    g_ref = kernel.dJ_dz(z, y) @ Xt
    H_ref = (Xt.T * c) @ Xt
    assert np.all(np.abs(H - H_ref) <= _rounding_bound(Xt, c, Xt))
    dJ = kernel.dJ_dz(z, y)
    assert np.all(np.abs(g - g_ref) <= _rounding_bound(dJ[:, None], np.ones(1), Xt)[0] + 0.0)
    H2 = kernel._hessian_sums(X, y, w, b)
    assert np.all(np.abs(H2 - H_ref) <= _rounding_bound(Xt, c, Xt))
    v = rng.standard_normal(shape[1] + 1)
    Hv = kernel._hvp_sums(X, y, w, b, v)
    Xv = Xt @ v
    bound = (
        2
        * (shape[0] + shape[1] + 1)
        * 2.0**-53
        * (np.abs(Xt).T @ (np.abs(c) * (np.abs(Xt) @ np.abs(v))))
    )
    assert np.all(np.abs(Hv - Xt.T @ (c * Xv)) <= bound)


def test_a_quiet_objective_under_the_callers_errstate_gives_the_same_evaluation():
    rng = np.random.default_rng(3)
    X, y = rng.standard_normal((40, 3)), (rng.random(40) < 0.5) * 1.0
    theta = np.array([0.2, -0.1, 0.3, 0.05])
    loud = KernelObjective(KERNELS["bce"], X, y, validated=True).evaluate(theta, hessian=True)
    with np.errstate(divide="ignore", over="ignore", invalid="ignore"):
        quiet = KernelObjective(KERNELS["bce"], X, y, validated=True, quiet=True)
        found = quiet.evaluate(theta, hessian=True)
    assert found.value == loud.value
    np.testing.assert_array_equal(found.grad, loud.grad)
    np.testing.assert_array_equal(found.hessian, loud.hessian)


def _outcome(obj, theta):
    try:
        at = obj.evaluate(theta, hessian=True)
    except (FloatingPointError, ValueError) as err:
        return type(err), str(err)
    return at.value, at.grad.tolist(), at.hessian.tolist()


def test_a_non_finite_fused_term_still_takes_the_checked_path_when_quiet():
    """Scores past exp's range: the fused sums overflow; the checked kernels decide, as before."""
    X, y = np.array([[800.0], [-800.0]]), np.array([2.0, 1.0])
    theta = np.array([1.0, 0.0])
    loud = KernelObjective(KERNELS["poisson"], X, y, validated=True)
    with np.errstate(divide="ignore", over="ignore", invalid="ignore"):
        quiet = KernelObjective(KERNELS["poisson"], X, y, validated=True, quiet=True)
        assert quiet._newton_terms(theta) is None  # exp(800) overflows: not finite
        found = _outcome(quiet, theta)
    assert found == _outcome(loud, theta)


@pytest.mark.parametrize("backend", ["numpy", "numba"])
def test_a_loss_past_the_bound_with_a_finite_epoch_sum_still_diverges(backend):
    """The per-sample check reads only the largest loss when the epoch's sum is finite.

    From w = b = 0 both losses are 100, so the bound is 1.5 * 100.  The first
    update (lr 0.4, dJ/dz = -20) moves b to 8, and the second sample's loss
    before its update is (-10 - 8)^2 = 324: past the bound, with the sum
    100 + 324 finite.  A check that looked only at the sum would miss it.
    """
    if backend == "numba":
        pytest.importorskip("numba")
    X, y = np.zeros((2, 1)), np.array([10.0, -10.0])
    with pytest.raises(DivergenceError, match=r"the batch loss reached 324, past 150"):
        train(X, y, lr=0.4, divergence_factor=1.5, record="none", backend=backend)
