"""The estimators on Dask arrays: the in-memory fit, lazy predictions, lazy checks, one BLAS thread.

An estimator's fit on a row-chunked Dask array runs :func:`derivreg.train.train`'s
Dask path: the same generated per-block sums as in memory (``block_sums`` in each
chunk, or in memory the fused ``newton_terms`` over its own blocks), summed in
another order (a tree of fan-in 8 over 8 chunks).  Reordering a sum of K partial
sums moves it by at most ~K eps times the sum of magnitudes, ~1e-15 relative per
evaluation here; Newton stops at a zero gradient to rounding, so the two optima
differ by ``|H^-1| delta``, ~1e-15 / lambda_min(H) with lambda_min ~ 0.1-1 for
these standard normal features.  The coefficients are asserted at 1e-10 relative
(the issue's bound; measured <= 1e-14), and so are the standard errors: the
covariance ``scale (m H)^-1`` at optima that close, with ``H`` of condition ~10
here, moves by ~cond * 1e-15.
"""

import numpy as np
import pytest

da = pytest.importorskip("dask.array")
dask = pytest.importorskip("dask")
threadpoolctl = pytest.importorskip("threadpoolctl")

from dask.callbacks import Callback  # noqa: E402

import derivreg._dask_estimators as dask_est  # noqa: E402
import derivreg._dask_inference as dask_inf  # noqa: E402
import derivreg.distributed as distributed_mod  # noqa: E402
from derivreg.distributed import DaskObjective, blas_limit  # noqa: E402
from derivreg.estimators import (  # noqa: E402
    GammaRegressionSGD,
    LinearRegressionSGD,
    LogisticRegressionSGD,
    PoissonRegressionSGD,
    SGDRegressor,
)
from derivreg.kernels import KERNELS  # noqa: E402
from derivreg.multiclass import SoftmaxRegressionSGD  # noqa: E402

M, CHUNK = 16_000, 2_000  # 8 chunks
TRUTH = np.array([0.5, -0.25, 0.1, 0.0, 0.3])


def data(kind, m=M, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(m, TRUTH.size))
    z = X @ TRUTH + 0.2
    if kind == "labels":
        return X, np.where(rng.uniform(size=m) < 1 / (1 + np.exp(-z)), "yes", "no")
    if kind == "counts":
        return X, rng.poisson(np.exp(z)).astype(float)
    if kind == "positive":  # Gamma, shape 2, mean exp(z)
        return X, rng.gamma(2.0, np.exp(z) / 2.0)
    return X, z + rng.normal(scale=0.5, size=m)


def as_dask(X, y, chunk=CHUNK):
    return da.from_array(X, chunks=(chunk, X.shape[1])), da.from_array(y, chunks=chunk)


class Tasks(Callback):
    """Counts the tasks run, and the most rows any task's array result holds."""

    def __init__(self):
        super().__init__()
        self.count, self.rows = 0, 0

    def _posttask(self, key, result, dsk, state, id):  # Dask's hook
        self.count += 1
        if isinstance(result, np.ndarray) and result.ndim:
            self.rows = max(self.rows, result.shape[0])


def test_the_task_counter_sees_a_whole_X_and_a_compute():
    # The instrument of the tests below can fail: one chunk of all the rows, and any compute.
    X, y = data("real", m=4000)
    tasks = Tasks()
    with tasks:
        LinearRegressionSGD(solver="newton").fit(*as_dask(X, y, 4000))
    assert tasks.rows == 4000
    tasks = Tasks()
    with tasks:
        da.from_array(X, chunks=(500, 5)).sum().compute()
    assert tasks.count > 0


ESTIMATORS = {
    "least squares, Pearson scale": (
        lambda: LinearRegressionSGD(solver="newton", scale="pearson", tol=1e-10),
        "real",
    ),
    "logistic, string labels": (
        lambda: LogisticRegressionSGD(solver="newton", tol=1e-10),
        "labels",
    ),
    "Poisson": (lambda: PoissonRegressionSGD(solver="newton", tol=1e-10), "counts"),
    # a curvature that reads y: the expected information, and Pearson's scale with it
    "Gamma, Pearson scale": (
        lambda: GammaRegressionSGD(solver="newton", scale="pearson", tol=1e-10),
        "positive",
    ),
    # the default scale='auto': Pearson's for an estimated dispersion; Gamma's
    # log-likelihood at Pearson's dispersion (one more pass over the chunks)
    "Gamma, default scale": (
        lambda: GammaRegressionSGD(solver="newton", tol=1e-10),
        "positive",
    ),
    "SGDRegressor(loss='mse')": (
        lambda: SGDRegressor(loss="mse", solver="newton", tol=1e-10),
        "real",
    ),
}


@pytest.fixture
def threads():
    with dask.config.set(scheduler="threads"):
        yield


@pytest.mark.usefixtures("threads")
@pytest.mark.parametrize("name", sorted(ESTIMATORS))
def test_a_newton_fit_on_dask_is_the_in_memory_fit_with_its_inference(name):
    make, kind = ESTIMATORS[name]
    X, y = data(kind)
    mem = make().fit(X, y)
    tasks = Tasks()
    with tasks:
        dsk = make().fit(*as_dask(X, y))
    assert tasks.rows <= CHUNK  # no task ever held more than one chunk of rows
    assert dsk.converged_
    assert mem.converged_
    np.testing.assert_allclose(dsk.coef_, mem.coef_, rtol=1e-10, atol=1e-14)
    assert dsk.intercept_ == pytest.approx(mem.intercept_, rel=1e-10)
    assert dsk.inference_note_ is None, dsk.inference_note_
    np.testing.assert_allclose(dsk.stderr_, mem.stderr_, rtol=1e-10)
    np.testing.assert_allclose(dsk.cov_, mem.cov_, rtol=1e-10, atol=1e-18)
    assert dsk.likelihood_note_ == mem.likelihood_note_
    if mem.loglik_ is not None:  # the same sums in another order: ~1e-15 relative
        assert dsk.loglik_ == pytest.approx(mem.loglik_, rel=1e-12)
        assert dsk.bic_ == pytest.approx(mem.bic_, rel=1e-12)
    assert dsk.summary() == mem.summary()
    assert dsk.n_features_in_ == X.shape[1]
    if hasattr(mem, "classes_"):
        assert dsk.classes_.tolist() == mem.classes_.tolist()


@pytest.mark.usefixtures("threads")
@pytest.mark.parametrize("name", sorted(ESTIMATORS))
def test_predictions_are_lazy_dask_arrays_equal_to_the_in_memory_ones(name):
    make, kind = ESTIMATORS[name]
    X, y = data(kind, m=4000)
    est = make().fit(X, y)
    Xd, yd = as_dask(X, y, 500)
    for method in ("predict", "predict_proba", "decision_function"):
        if not hasattr(est, method):
            continue
        tasks = Tasks()
        with tasks:
            lazy = getattr(est, method)(Xd)
        assert tasks.count == 0, method  # nothing computed until asked
        assert isinstance(lazy, da.Array)
        expected = getattr(est, method)(X)
        assert lazy.shape == expected.shape
        assert lazy.dtype == expected.dtype
        np.testing.assert_array_equal(lazy.compute(), expected, err_msg=method)
    sw = np.random.default_rng(2).uniform(0, 2, size=y.size)
    found = est.score(Xd, yd, sample_weight=da.from_array(sw, chunks=500))
    # the same per-row terms, the sums split by chunk: a few eps relative
    assert found == pytest.approx(est.score(X, y, sample_weight=sw), rel=1e-12, abs=1e-15)
    assert est.score(Xd, y) == pytest.approx(est.score(X, y), rel=1e-12, abs=1e-15)


@pytest.mark.usefixtures("threads")
def test_the_inference_of_a_newton_fit_reuses_its_hessian_and_its_checks(monkeypatch):
    # A Newton fit at a numeric scale: the Hessian is the fit's, so its standard errors need
    # no pass; the log-likelihood takes the fit's last mean loss, and passes over y alone
    # (its normalisers; the loglik_ equality tests above check the value).
    X, y = data("labels", m=4000)
    sums = []
    run = dask_inf._sum_blocks
    monkeypatch.setattr(
        dask_inf, "_sum_blocks", lambda fn, *a, **k: sums.append(fn) or run(fn, *a, **k)
    )
    dsk = LogisticRegressionSGD(solver="newton", scale=1.0).fit(*as_dask(X, y, 500))
    assert sums == []  # no pass over X after the fit's
    assert dsk.stderr_ is not None
    direct = dask_inf.fisher_inference_dask(  # a caller's Hessian: the inputs checked once
        KERNELS["bce"], *as_dask(X, (y == "yes").astype(float), 500), dsk.coef_,
        dsk.intercept_, hessian=dsk.history_.hessian,
    )  # fmt: skip
    assert sums[-1] is dask_inf._checked
    np.testing.assert_array_equal(direct.stderr, dsk.stderr_)


@pytest.mark.usefixtures("threads")
def test_numpy_X_with_dask_y_takes_the_dask_path_with_y_chunks():
    X, y = data("real", m=4000)
    mem = LinearRegressionSGD(solver="newton").fit(X, y)
    dsk = LinearRegressionSGD(solver="newton").fit(X, da.from_array(y, chunks=500))
    np.testing.assert_allclose(dsk.coef_, mem.coef_, rtol=1e-10)
    np.testing.assert_allclose(dsk.stderr_, mem.stderr_, rtol=1e-10)


def test_the_score_check_catches_a_planted_bug(monkeypatch):
    # Planted: the total sum of squares without the chunks' between-means term.
    X, y = data("real", m=4000)
    est = LinearRegressionSGD(solver="newton").fit(X, y)
    Xd, yd = as_dask(X, y + np.repeat(np.arange(8.0), 500), 500)  # chunk means apart
    right = est.score(X, np.asarray(yd))
    assert est.score(Xd, yd) == pytest.approx(right, rel=1e-12)
    monkeypatch.setattr(dask_est, "_r2", lambda s: 1 - s[:, 3].sum() / s[:, 2].sum())
    assert est.score(Xd, yd) != pytest.approx(right, rel=1e-6)


def test_the_inference_check_catches_a_planted_bug(monkeypatch):
    # Planted: Pearson's scale over m rows, not the m - p residual degrees of freedom.
    X, y = data("real", m=2000)
    mem = LinearRegressionSGD(solver="newton", scale="pearson").fit(X, y)
    scale = dask_inf._scale
    monkeypatch.setattr(
        dask_inf, "_scale", lambda s, k, w, d, t: scale(s, k, w, d, t) * (2000 - 6) / 2000
    )
    dsk = LinearRegressionSGD(solver="newton", scale="pearson").fit(*as_dask(X, y, 250))
    assert not np.allclose(dsk.stderr_, mem.stderr_, rtol=1e-10)


@pytest.mark.usefixtures("threads")
def test_a_scale_auto_rule_of_derivreg_inference_is_followed_on_dask(monkeypatch):
    # Where derivreg.inference decides scale="auto" (_auto_scale), the Dask path takes its answer.
    import derivreg.inference as inference

    X, y = data("real", m=2000)
    Xd, yd = as_dask(X, y, 250)
    w, b = TRUTH, 0.2
    pearson = dask_inf.fisher_inference_dask(KERNELS["mse"], Xd, yd, w, b, scale="pearson")
    monkeypatch.setattr(inference, "_auto_scale", lambda kernels: "pearson", raising=False)
    auto = dask_inf.fisher_inference_dask(KERNELS["mse"], Xd, yd, w, b, scale="auto")
    np.testing.assert_array_equal(auto.stderr, pearson.stderr)
    monkeypatch.setattr(inference, "_auto_scale", lambda kernels: 3.0)
    assert dask_inf.fisher_inference_dask(KERNELS["mse"], Xd, yd, w, b, scale="auto").scale == 3.0


@pytest.mark.usefixtures("threads")
def test_sgd_on_dask_in_order_is_the_in_memory_sgd():
    # Without shuffling (batch size 1 divides every chunk), train's Dask SGD makes the in-memory
    # updates in the same order; lr="auto" is the same rule (max ||(x, 1)||^2), its sum
    # per row taken another way: a few eps apart at most, hence allclose, not equal.
    X, y = data("real", m=4000)
    options = {"epochs": 2, "tol": None, "shuffle": False}
    mem = LinearRegressionSGD(lr=0.01, **options).fit(X, y)
    dsk = LinearRegressionSGD(lr=0.01, **options).fit(*as_dask(X, y, 500))
    np.testing.assert_array_equal(dsk.coef_, mem.coef_)
    assert dsk.history_.n_updates == mem.history_.n_updates == 8000
    auto_mem = LinearRegressionSGD(**options).fit(X, y)
    auto_dsk = LinearRegressionSGD(**options).fit(*as_dask(X, y, 500))
    np.testing.assert_allclose(auto_dsk.coef_, auto_mem.coef_, rtol=1e-12)
    sw = np.random.default_rng(5).uniform(0, 2, size=y.size)  # they scale the steps, and lr
    weighted_mem = LinearRegressionSGD(**options).fit(X, y, sample_weight=sw)
    weighted_dsk = LinearRegressionSGD(**options).fit(
        *as_dask(X, y, 500), sample_weight=da.from_array(sw, chunks=500)
    )
    np.testing.assert_allclose(weighted_dsk.coef_, weighted_mem.coef_, rtol=1e-12)
    assert auto_dsk.inference_note_.startswith("the fit has not converged")
    part = LogisticRegressionSGD(lr=0.05, shuffle=False)
    Xl, yl = data("labels", m=4000)
    part.partial_fit(*as_dask(Xl, yl, 500), classes=["no", "yes"])
    ref = LogisticRegressionSGD(lr=0.05, shuffle=False).partial_fit(Xl, yl, classes=["no", "yes"])
    np.testing.assert_array_equal(part.coef_, ref.coef_)


@pytest.mark.parametrize(
    ("make", "match"),
    [
        (lambda X, y: (da.from_array(X, chunks=(500, 2)), y), r"rechunk\(\{1: -1\}\)"),
        (lambda X, y: (da.from_array(X[:, 0], chunks=500), y), "Expected 2D array"),
        (
            lambda X, y: (da.from_array(X, chunks=(500, 5))[da.from_array(y > 0)], y),
            "unknown chunk",
        ),
        (lambda X, y: (da.from_array(X, chunks=(500, 5)), y[:10]), "inconsistent numbers"),
        (lambda X, y: (da.from_array(X, chunks=(500, 5)), np.c_[y, y]), "1d array"),
        (lambda X, y: (da.from_array(X * 1j, chunks=(500, 5)), y), "Complex data"),
        (lambda X, y: (da.from_array(X.astype(str), chunks=(500, 5)), y), "needs numbers"),
        (lambda X, y: (da.zeros((0, 5), chunks=(1, 5)), y[:0]), "0 sample"),
    ],
    ids=[
        "chunked-features",
        "1d",
        "unknown-chunks",
        "short-y",
        "2d-y",
        "complex",
        "strings",
        "empty",
    ],
)
def test_bad_dask_input_is_refused_by_name_before_any_pass(make, match):
    X, y = data("real", m=4000)
    Xd, yd = make(X, y)
    tasks = Tasks()
    with tasks, pytest.raises(ValueError, match=match):
        LinearRegressionSGD(solver="newton").fit(Xd, yd)
    assert tasks.count == 0  # read off the graph: nothing computed


@pytest.mark.usefixtures("threads")
def test_bad_values_are_refused_chunk_by_chunk_in_the_first_pass():
    X, y = data("real", m=4000)
    bad = X.copy()
    bad[3100, 2] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        LinearRegressionSGD(solver="newton").fit(*as_dask(bad, y, 500))
    with pytest.raises(ValueError, match="NaN"):  # lr="auto"'s pass checks them too
        LinearRegressionSGD().fit(*as_dask(bad, y, 500))
    with pytest.raises(ValueError, match="out of the valid range"):
        PoissonRegressionSGD(solver="newton").fit(*as_dask(X, y - 10, 500))
    Xl, yl = data("labels", m=4000)
    three = np.where(np.arange(4000) % 3 == 0, "maybe", yl)
    with pytest.raises(ValueError, match="Only binary classification"):
        LogisticRegressionSGD(solver="newton").fit(*as_dask(Xl, three, 500))
    est = LinearRegressionSGD(solver="newton").fit(X, y)
    lazy = est.predict(da.from_array(bad, chunks=(500, 5)))  # fine until computed
    with pytest.raises(ValueError, match="Input X contains NaN"):
        lazy.compute()
    with pytest.raises(
        ValueError, match="X has 4 features, but LinearRegressionSGD is expecting 5"
    ):
        est.predict(da.from_array(X[:, :4], chunks=(500, 4)))


def test_a_dask_dataframe_is_refused_with_the_way_to_an_array():
    dd = pytest.importorskip("dask.dataframe")
    pd = pytest.importorskip("pandas")
    X, y = data("real", m=100)
    frame = dd.from_pandas(pd.DataFrame(X), npartitions=2)
    with pytest.raises(TypeError, match=r"to_dask_array\(lengths=True\)"):
        LinearRegressionSGD(solver="newton").fit(frame, y)


@pytest.mark.usefixtures("threads")
def test_an_estimator_fits_a_zarr_store_out_of_core(tmp_path):
    # derivreg.data's store, opened as row-chunked Dask arrays (one read per chunk per pass).
    pytest.importorskip("zarr")
    from derivreg.data import open_zarr, write_zarr

    info = write_zarr(tmp_path / "s.zarr", "logistic", 8000, 4, chunk_rows=1000, seed=3)
    X, y = open_zarr(info.path)
    tasks = Tasks()
    with tasks:
        dsk = LogisticRegressionSGD(solver="newton", tol=1e-10).fit(X, y)
    assert tasks.rows <= 1000
    mem = LogisticRegressionSGD(solver="newton", tol=1e-10).fit(X.compute(), y.compute())
    np.testing.assert_allclose(dsk.coef_, mem.coef_, rtol=1e-10)
    np.testing.assert_allclose(dsk.stderr_, mem.stderr_, rtol=1e-10)
    assert dsk.classes_.tolist() == [0.0, 1.0]


# --- k classes ------------------------------------------------------------------------------


def three_classes(m=2000, seed=4):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(m, 3))
    scores = X @ rng.normal(size=(3, 3)) + rng.gumbel(size=(m, 3))
    return X, np.array(["a", "b", "c"])[np.argmax(scores, axis=1)], rng.uniform(0, 2, size=m)


@pytest.mark.usefixtures("threads")
@pytest.mark.parametrize(
    "options",
    [
        {"solver": "gd", "epochs": 20},
        {"solver": "gd", "epochs": 20, "penalty": "l1", "alpha": 0.01},
        {"solver": "sgd", "epochs": 2, "shuffle": False},
    ],
    ids=["gd", "gd-l1", "sgd-in-order"],
)
@pytest.mark.parametrize("weighted", [False, True], ids=["", "weighted"])
def test_softmax_on_dask_is_the_in_memory_fit(options, weighted):
    # GD (20 iterations, one pass each): the same iterates up to summation order (the
    # gradient's chunk sums, and lr="auto" from the Gram matrix's top eigenvalue instead of
    # the spectral norm of X~: ~1e-15 apart each); a descent step is a contraction here, so
    # the differences do not grow (measured <= 2.3e-16 after 86-191 iterations to
    # convergence; asserted 1e-10).  SGD in chunk order is the in-memory loop, update for
    # update: equal.
    X, y, sw = three_classes()
    mem = SoftmaxRegressionSGD(**options).fit(X, y, sample_weight=sw if weighted else None)
    Xd, yd = as_dask(X, y, 500)
    tasks = Tasks()
    with tasks:
        dsk = SoftmaxRegressionSGD(**options).fit(
            Xd, yd, sample_weight=da.from_array(sw, chunks=500) if weighted else None
        )
    assert tasks.rows <= 500
    assert dsk.n_iter_ == mem.n_iter_
    if options["solver"] == "sgd":
        np.testing.assert_array_equal(dsk.coef_, mem.coef_)
        np.testing.assert_array_equal(dsk.intercept_, mem.intercept_)
    else:
        assert dsk.converged_ == mem.converged_
        np.testing.assert_allclose(dsk.coef_, mem.coef_, rtol=1e-10, atol=1e-12)
        np.testing.assert_allclose(dsk.intercept_, mem.intercept_, rtol=1e-10, atol=1e-12)
    for method in ("predict", "predict_proba", "predict_log_proba", "decision_function"):
        tasks = Tasks()
        with tasks:
            lazy = getattr(dsk, method)(Xd)
        assert tasks.count == 0, method
        np.testing.assert_array_equal(lazy.compute(), getattr(dsk, method)(X), err_msg=method)
    assert dsk.score(Xd, yd) == pytest.approx(dsk.score(X, y), rel=1e-12)


@pytest.mark.usefixtures("threads")
def test_shuffled_softmax_sgd_on_dask_is_seeded():
    X, y, _ = three_classes()
    Xd, yd = as_dask(X, y, 500)
    one = SoftmaxRegressionSGD(epochs=2, random_state=3).fit(Xd, yd)
    two = SoftmaxRegressionSGD(epochs=2, random_state=3).fit(Xd, yd)
    other = SoftmaxRegressionSGD(epochs=2, random_state=4).fit(Xd, yd)
    np.testing.assert_array_equal(one.coef_, two.coef_)
    assert not np.array_equal(one.coef_, other.coef_)
    part = SoftmaxRegressionSGD(shuffle=False).partial_fit(Xd, yd, classes=["a", "b", "c"])
    ref = SoftmaxRegressionSGD(shuffle=False).partial_fit(X, y, classes=["a", "b", "c"])
    np.testing.assert_array_equal(part.coef_, ref.coef_)


# --- one BLAS thread on the threaded scheduler ----------------------------------------------


def blas_threads():
    return max(i["num_threads"] for i in threadpoolctl.threadpool_info() if i["user_api"] == "blas")


def test_the_threaded_scheduler_computes_with_one_blas_thread_and_restores_it():
    X, y = data("real", m=4000)
    seen = []

    def curvature(z, y):  # runs inside each chunk's task
        seen.append(blas_threads())
        return np.full_like(z, 2.0)

    with threadpoolctl.threadpool_limits(2, user_api="blas"):
        before = blas_threads()
        with dask.config.set(scheduler="threads"):
            obj = DaskObjective(KERNELS["mse"], *as_dask(X, y, 500), curvature=curvature)
            obj.evaluate(np.zeros(6), hessian=True)
        assert seen == [1] * 8  # every task, on the scheduler's threads
        assert blas_threads() == before == 2  # restored after the compute
        seen.clear()
        with dask.config.set(scheduler="sync"):  # one thread: the BLAS keeps its own
            obj.evaluate(np.zeros(6), hessian=True)
        assert seen == [2] * 8


def test_without_threadpoolctl_the_limit_is_skipped_with_a_warning(monkeypatch):
    import sys

    monkeypatch.setitem(sys.modules, "threadpoolctl", None)  # import fails
    monkeypatch.setattr(distributed_mod, "_WARNED", [])
    x = da.ones((4, 2), chunks=(2, 2))
    with dask.config.set(scheduler="threads"):
        with (
            pytest.warns(RuntimeWarning, match="threadpoolctl is not installed"),
            blas_limit(x) as limited,
        ):
            assert not limited
        with blas_limit(x) as limited:  # once per process
            assert not limited


# --- on a LocalCluster ----------------------------------------------------------------------


@pytest.fixture(scope="module")
def client():
    distributed = pytest.importorskip("distributed")
    with (
        distributed.LocalCluster(
            n_workers=2, threads_per_worker=1, memory_limit="1GiB", dashboard_address=":0"
        ) as cluster,
        distributed.Client(cluster) as c,
    ):
        yield c


@pytest.mark.parametrize("name", ["least squares, Pearson scale", "logistic, string labels"])
def test_a_newton_fit_on_a_local_cluster_is_the_in_memory_fit(client, name):
    make, kind = ESTIMATORS[name]
    X, y = data(kind, seed=3)
    mem = make().fit(X, y)
    Xd, yd = client.persist(list(as_dask(X, y)))
    with blas_limit(Xd) as limited:
        assert not limited  # the workers hold their own BLAS threads
    dsk = make().fit(Xd, yd)
    np.testing.assert_allclose(dsk.coef_, mem.coef_, rtol=1e-10, atol=1e-14)
    assert dsk.intercept_ == pytest.approx(mem.intercept_, rel=1e-10)
    np.testing.assert_allclose(dsk.stderr_, mem.stderr_, rtol=1e-10)
    np.testing.assert_array_equal(dsk.predict(Xd).compute(), dsk.predict(X))
    assert dsk.score(Xd, yd) == pytest.approx(dsk.score(X, y), rel=1e-12)


@pytest.mark.usefixtures("client")
def test_softmax_gd_on_a_local_cluster_is_the_in_memory_fit():
    X, y, sw = three_classes()
    options = {"solver": "gd", "epochs": 10}
    mem = SoftmaxRegressionSGD(**options).fit(X, y, sample_weight=sw)
    Xd, yd = as_dask(X, y, 500)
    dsk = SoftmaxRegressionSGD(**options).fit(Xd, yd, sample_weight=da.from_array(sw, chunks=500))
    np.testing.assert_allclose(dsk.coef_, mem.coef_, rtol=1e-10, atol=1e-12)
    np.testing.assert_array_equal(dsk.predict(Xd).compute(), dsk.predict(X))


def test_the_blas_benchmark_runs_at_a_tiny_size(tmp_path):
    # A smoke test of benchmarks/dask_blas.py; its figures are the benchmark's, not the test's.
    import os
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    out = tmp_path / "blas.md"
    argv = [sys.executable, str(root / "benchmarks" / "dask_blas.py"), "--quick", "--out", str(out)]
    env = {**os.environ, "PYTHONPATH": str(root)}
    subprocess.run(argv, capture_output=True, text=True, env=env, check=True, timeout=300)
    assert out.read_text(encoding="utf-8").count("| BLAS held to 1 thread (blas_limit) |") == 2
