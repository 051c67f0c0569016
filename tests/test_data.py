"""The lecture's datasets, checked against an independent re-statement of its code."""

import numpy as np
import pytest
from scipy.special import expit

from derivreg.data import LECTURE, lecture, linear, logistic


# ---------------------------------------------------------------------------
# The lecture's own draws, restated from the slides.  The lecture seeds the
# global RNG (np.random.seed(1); rnd.uniform(...)); a RandomState(1) is
# the same legacy Mersenne-Twister stream without touching global state.
# ---------------------------------------------------------------------------
def lecture_linear_1():
    rnd = np.random.RandomState(1)
    t_w, t_b = 5, -3
    w, b = rnd.uniform(-3, 3, 2)
    x_data = rnd.randn(100)
    y_data = t_w * x_data + t_b
    return x_data[:, None], y_data, [t_w], t_b, [w], b


def lecture_linear_n():
    rnd = np.random.RandomState(1)
    t_W = rnd.uniform(-3, 3, (3, 1))
    t_b = rnd.uniform(-3, 3, (1,))
    W = rnd.uniform(-3, 3, (3, 1))
    b = rnd.uniform(-3, 3, (1,))
    x_data = rnd.randn(100, 3)
    y_data = x_data @ t_W + t_b
    return x_data, y_data[:, 0], t_W[:, 0], t_b[0], W[:, 0], b[0]


def lecture_logistic_1(errata):
    rnd = np.random.RandomState(1)
    t_w, t_b = 5, -3
    w, b = rnd.uniform(-3, 3, 2)
    t_decision_boundary = -t_b / t_w
    x_data = rnd.normal(t_decision_boundary, 1, (500,))
    y_data = x_data * t_w + t_b
    threshold = t_decision_boundary if errata else 0.0  # the erratum, and its fix
    y_data = (y_data > threshold).astype(np.float32)
    return x_data[:, None], y_data, [t_w], t_b, [w], b


def lecture_logistic_n():
    rnd = np.random.RandomState(1)
    t_W = rnd.uniform(-1, 1, (3, 1))
    t_b = rnd.uniform(-1, 1, (1,))
    W = rnd.uniform(-1, 1, (3, 1))
    b = rnd.uniform(-1, 1, (1,))
    x_data = rnd.randn(1000, 3)
    y_data = x_data @ t_W + t_b
    y_data = 1 / (1 + np.exp(-y_data))
    y_data = (y_data > 0.5).astype(int)
    return x_data, y_data[:, 0], t_W[:, 0], t_b[0], W[:, 0], b[0]


RESTATED = {
    ("linear-1", False): lecture_linear_1,
    ("linear-1", True): lecture_linear_1,
    ("linear-n", False): lecture_linear_n,
    ("linear-n", True): lecture_linear_n,
    ("logistic-1", False): lambda: lecture_logistic_1(errata=False),
    ("logistic-1", True): lambda: lecture_logistic_1(errata=True),
    ("logistic-n", False): lecture_logistic_n,
    ("logistic-n", True): lecture_logistic_n,
}


@pytest.mark.parametrize("errata", [False, True])
@pytest.mark.parametrize("name", LECTURE)
def test_every_number_is_the_lectures(name, errata):
    # Same RandomState stream and the same arithmetic: equal to the last bit.
    X, y, true_w, true_b, w0, b0 = RESTATED[name, errata]()
    d = lecture(name, lecture_errata=errata)
    np.testing.assert_array_equal(d.X, X)
    np.testing.assert_array_equal(d.y, y)
    np.testing.assert_array_equal(d.true_w, true_w)
    np.testing.assert_array_equal(d.w0, w0)
    assert d.true_b == true_b
    assert d.b0 == b0
    assert d.name == name


def test_the_issues_example_initial_parameters():
    d = lecture("linear-1")
    assert round(float(d.w0[0]), 5) == -0.49787
    assert round(d.b0, 5) == 1.32195


@pytest.mark.parametrize(
    ("name", "lr", "n", "m", "loss"),
    [
        ("linear-1", 0.01, 1, 100, "mse"),
        ("linear-n", 0.1, 3, 100, "mse"),
        ("logistic-1", 0.1, 1, 500, "bce"),
        ("logistic-n", 0.03, 3, 1000, "bce"),
    ],
)
def test_lecture_settings(name, lr, n, m, loss):
    d = lecture(name)
    assert (d.lr, d.n_features, d.n_samples, d.loss) == (lr, n, m, loss)
    assert d.X.dtype == d.y.dtype == np.float64
    assert d.errata == ()


def test_errata_doubled_learning_rate_of_the_1_feature_linear_code():
    assert lecture("linear-1").lr == 0.01
    assert lecture("linear-1", lecture_errata=True).lr == 0.02  # w - 2*lr*dJ_dw
    assert lecture("linear-n", lecture_errata=True).lr == 0.1  # the n-feature code is right


def test_errata_label_boundary_is_072_not_06():
    correct, errata = lecture("logistic-1"), lecture("logistic-1", lecture_errata=True)
    for d, boundary in ((correct, 0.6), (errata, 0.72)):
        x = d.X[:, 0]
        assert x[d.y == 0].max() < boundary < x[d.y == 1].min()
    # The two labelings differ exactly on the samples between the boundaries.
    x = correct.X[:, 0]
    between = (x > 0.6) & (x <= 0.72)
    assert between.sum() > 0
    np.testing.assert_array_equal(correct.y != errata.y, between)
    assert "0.72" in errata.errata[0]


def test_default_labels_are_z_positive():
    for d in (logistic(1), logistic(3), logistic(5, 300, seed=4)):
        z = d.X @ d.true_w + d.true_b
        np.testing.assert_array_equal(d.y, (z > 0).astype(float))
        assert d.labels == "threshold"


def test_noise_is_drawn_last_and_has_the_requested_size():
    clean, noisy = linear(3, 10_000, seed=5), linear(3, 10_000, seed=5, noise=0.5)
    np.testing.assert_array_equal(clean.X, noisy.X)
    np.testing.assert_array_equal(clean.true_w, noisy.true_w)
    np.testing.assert_array_equal(clean.w0, noisy.w0)
    residual = noisy.y - clean.y
    # The sample std of m normal draws has standard error sigma/sqrt(2m) = 0.0035;
    # 0.02 is over 5 standard errors.  The mean has standard error 0.005; 0.03 is 6.
    assert abs(residual.std() - 0.5) < 0.02
    assert abs(residual.mean()) < 0.03


def test_bernoulli_labels_follow_the_sigmoid_and_leave_the_rest_alone():
    m = 20_000
    thr, ber = logistic(2, m, seed=3), logistic(2, m, seed=3, labels="bernoulli")
    np.testing.assert_array_equal(thr.X, ber.X)
    np.testing.assert_array_equal(thr.true_w, ber.true_w)
    p = expit(ber.X @ ber.true_w + ber.true_b)
    # The label mean has variance mean(p(1-p))/m <= 1/(4m): standard error <= 0.0036.
    assert abs(ber.y.mean() - p.mean()) < 0.02
    # Labels are noisy: some disagree with the threshold rule.
    assert (ber.y != thr.y).mean() > 0.05
    assert set(np.unique(ber.y)) == {0.0, 1.0}
    assert ber.labels == "bernoulli"


def test_any_sizes_and_seeds():
    d = linear(7, 13, seed=123)
    assert d.X.shape == (13, 7)
    assert d.y.shape == (13,)
    assert d.true_w.shape == d.w0.shape == (7,)
    assert logistic(4, 9, seed=None).X.shape == (9, 4)
    assert not np.array_equal(linear(2, seed=1).X, linear(2, seed=2).X)
    np.testing.assert_array_equal(linear(2, seed=9).X, linear(2, seed=9).X)


def test_arrays_are_read_only():
    d = lecture("linear-n")
    with pytest.raises(ValueError, match="read-only"):
        d.X[0, 0] = 1.0
    with pytest.raises(ValueError, match="read-only"):
        d.y[0] = 1.0


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (lambda: linear(0), "n_features must be at least 1"),
        (lambda: linear(1, 0), "n_samples must be at least 1"),
        (lambda: linear(noise=-1.0), "noise must be a finite number >= 0"),
        (lambda: linear(noise=float("nan")), "noise must be a finite number >= 0"),
        (lambda: logistic(labels="soft"), "labels must be 'threshold' or 'bernoulli'"),
        (lambda: logistic(labels="bernoulli", lecture_errata=True), "threshold labels only"),
        (lambda: linear(seed=-1), "seed must be at least 0"),
        (lambda: lecture("linear-2"), "unknown lecture experiment"),
    ],
)
def test_bad_arguments_are_named(call, match):
    with pytest.raises(ValueError, match=match):
        call()


def test_non_integer_sizes_are_rejected():
    with pytest.raises(TypeError, match="n_samples must be an integer"):
        linear(1, 10.5)
    with pytest.raises(TypeError, match="n_features must be an integer"):
        logistic(True)


@pytest.mark.parametrize("labels", ["threshold", "bernoulli"])
@pytest.mark.parametrize("n_features", [1, 2, 5])
def test_positive_rate_chooses_the_intercept_for_balanced_classes(labels, n_features):
    drawn = logistic(n_features, 2000, labels=labels)
    d = logistic(n_features, 2000, labels=labels, positive_rate=0.5)
    # The draws are the same; only the bias (and so the labels) moved.
    np.testing.assert_array_equal(d.X, drawn.X)
    np.testing.assert_array_equal(d.true_w, drawn.true_w)
    z = d.X @ d.true_w + d.true_b
    if labels == "threshold":
        assert d.positive_rate == 0.5
        np.testing.assert_array_equal(d.y, (z > 0).astype(float))
    else:
        assert abs(float(np.mean(1 / (1 + np.exp(-z)))) - 0.5) < 1e-9  # in expectation
        assert abs(d.positive_rate - 0.5) < 0.05


def test_the_drawn_2_feature_truth_is_imbalanced_and_a_rate_fixes_it():
    assert logistic(2, 500).positive_rate == 0.012  # the README's old example: 6 in 500
    assert logistic(2, 500, positive_rate=0.3).positive_rate == 0.3


@pytest.mark.parametrize("rate", [0, 1, -0.1, 1.5, float("nan")])
def test_positive_rate_outside_0_1_is_refused(rate):
    with pytest.raises(ValueError, match="positive_rate"):
        logistic(2, 50, positive_rate=rate)


def test_positive_rate_keeps_the_lecture_errata_apart():
    with pytest.raises(ValueError, match="positive_rate"):
        logistic(1, 50, positive_rate=0.5, lecture_errata=True)
