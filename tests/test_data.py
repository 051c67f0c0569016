"""The lecture's datasets, checked against an independent re-statement of its code."""

import numpy as np
import pytest
from scipy.special import expit

from derivreg import data as data_mod
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


# ---------------------------------------------------------------------------
# Past memory: the zarr writer and the chunked readers (the extra 'dask').
# ---------------------------------------------------------------------------
zarr_tests = pytest.mark.skipif(
    __import__("importlib").util.find_spec("zarr") is None
    or __import__("importlib").util.find_spec("dask") is None,
    reason="zarr stores need the extra 'dask' (dask, zarr)",
)


@zarr_tests
@pytest.mark.parametrize("kind", ["logistic", "poisson", "linear"])
def test_the_zarr_store_holds_each_chunk_as_drawn_by_its_own_seed(kind, tmp_path):
    from derivreg._store import draw_chunk

    info = data_mod.write_zarr(tmp_path / "d.zarr", kind, 2500, 3, chunk_rows=1000, seed=4)
    X, y = data_mod.open_zarr(info.path)
    assert X.shape == (2500, 3)
    assert X.chunks == ((1000, 1000, 500), (3,))
    assert y.chunks == ((1000, 1000, 500),)
    Xm, ym = X.compute(), y.compute()
    for i, lo in enumerate((0, 1000, 2000)):
        Xi, yi = draw_chunk(kind, info.true_w, info.true_b, 4, i, min(1000, 2500 - lo), 1.0)
        np.testing.assert_array_equal(Xm[lo : lo + 1000], Xi)
        np.testing.assert_array_equal(ym[lo : lo + 1000], yi)
    if kind == "logistic":
        assert set(np.unique(ym)) == {0.0, 1.0}
    if kind == "poisson":
        assert (ym >= 0).all()
        assert np.array_equal(ym, np.round(ym))
    again = data_mod.write_zarr(tmp_path / "e.zarr", kind, 2500, 3, chunk_rows=1000, seed=4)
    np.testing.assert_array_equal(data_mod.open_zarr(again.path)[0].compute(), Xm)  # same seed
    np.testing.assert_array_equal(again.true_w, info.true_w)


@zarr_tests
def test_the_writer_holds_one_chunk_at_a_time(tmp_path):
    # 40 chunks of 20,000 x 8 (1.28 MB each, 51 MB in all): the writer's peak traced
    # allocation stays near a chunk (X, its z and y), far below the whole array.
    import tracemalloc

    tracemalloc.start()
    data_mod.write_zarr(tmp_path / "big.zarr", "logistic", 800_000, 8, chunk_rows=20_000)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    chunk = 20_000 * 8 * 8
    assert peak < 6 * chunk, peak / chunk
    assert data_mod.store_info(tmp_path / "big.zarr").n_samples == 800_000


@zarr_tests
def test_the_writer_reports_progress_per_chunk(tmp_path):
    import io

    out = io.StringIO()
    data_mod.write_zarr(tmp_path / "p.zarr", "poisson", 50, 2, chunk_rows=10, progress=True,
                        stream=out)  # fmt: skip
    lines = out.getvalue().splitlines()
    assert lines[0] == "writing p.zarr: 1/5 chunks (20%)"
    assert lines[-1] == "writing p.zarr: 5/5 chunks (100%)"


@zarr_tests
def test_stores_that_are_not_complete_or_not_ours_are_refused(tmp_path):
    import zarr

    path = tmp_path / "d.zarr"
    data_mod.write_zarr(path, "linear", 10, 2, chunk_rows=5)
    with pytest.raises(FileExistsError, match="overwrite=True"):
        data_mod.write_zarr(path, "linear", 10, 2)
    zarr.open_group(str(path), mode="a").attrs["complete"] = False  # as if interrupted
    with pytest.raises(ValueError, match="interrupted write"):
        data_mod.open_zarr(path)
    zarr.open_group(str(tmp_path / "other.zarr"), mode="w")
    with pytest.raises(ValueError, match="not a store written by write_zarr"):
        data_mod.open_zarr(tmp_path / "other.zarr")
    with pytest.raises(FileNotFoundError, match="no zarr store"):
        data_mod.open_zarr(tmp_path / "missing.zarr")


@zarr_tests
@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"kind": "gamma"}, ValueError, "kind must be one of"),
        ({"n_samples": 0}, ValueError, "n_samples must be at least 1"),
        ({"chunk_rows": 2.5}, TypeError, "chunk_rows must be an integer"),
        ({"noise": -1.0}, ValueError, "noise must be a finite number >= 0"),
        ({"seed": -3}, ValueError, "seed must be at least 0"),
    ],
)
def test_bad_writer_arguments_are_named_before_anything_is_written(kwargs, error, match, tmp_path):
    with pytest.raises(error, match=match):
        data_mod.write_zarr(tmp_path / "x.zarr", **{"n_samples": 10, "n_features": 2, **kwargs})
    assert not (tmp_path / "x.zarr").exists()


@zarr_tests
def test_npy_memmaps_are_read_by_chunk_and_a_task_carries_a_path_not_the_data(tmp_path):
    import pickle

    rng = np.random.default_rng(0)
    Xm, ym = rng.normal(size=(1000, 4)), rng.normal(size=1000)
    np.save(tmp_path / "X.npy", Xm)
    np.save(tmp_path / "y.npy", ym)
    X, y = data_mod.open_npy(tmp_path / "X.npy", tmp_path / "y.npy", chunk_rows=300)
    assert X.chunks == ((300, 300, 300, 100), (4,))
    np.testing.assert_array_equal(X.compute(), Xm)
    np.testing.assert_array_equal(y.compute(), ym)
    assert len(pickle.dumps(dict(X.__dask_graph__()))) < Xm.nbytes / 4
    with pytest.raises(ValueError, match="1-D array; expected 2-D"):
        data_mod.open_npy(tmp_path / "y.npy", tmp_path / "y.npy", chunk_rows=10)


@zarr_tests
def test_newton_on_a_written_store_recovers_the_truth(tmp_path):
    # 200,000 Bernoulli labels: the MLE is within a few standard errors (~sqrt(1/(m c)),
    # c ~ 0.2, so ~5e-3) of the truth; 0.03 is six of them.
    from derivreg.train import train

    info = data_mod.write_zarr(tmp_path / "l.zarr", "logistic", 200_000, 4, chunk_rows=50_000)
    X, y = data_mod.open_zarr(info.path)
    w, b, h = train(X, y, loss="bce", solver="newton", tol=1e-10)
    assert h.converged
    np.testing.assert_allclose(w, info.true_w, atol=0.03)
    assert b == pytest.approx(info.true_b, abs=0.03)
    lazy = data_mod.synthetic("logistic", 200_000, 4, chunk_rows=50_000)  # the same draws
    np.testing.assert_array_equal(lazy[1].compute(), y.compute())
