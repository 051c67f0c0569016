"""Sparse X: bad sparse input, the caller's matrix, SciPy kept optional, the estimators.

Issue 17.  Sparse y gets scikit-learn's "dense data is required" error; NaN
or infinity stored in a sparse X gives the dense input's error; COO, LIL, DOK
and BSR are converted as ``check_array(accept_sparse=["csr", "csc"])``
converts them; the caller's matrix (its data, indices, row pointers and
``has_sorted_indices``) is never modified; dense input never needs SciPy.
The sparse-vs-dense properties are in ``tests/properties/test_sparse.py``.
"""

from __future__ import annotations

import re

import numpy as np
import pytest
import scipy.sparse

from derivreg import _sparse
from derivreg.kernels import KERNELS
from derivreg.train import train


# ---------------------------------------------------------------------------
# Bad sparse input, and the caller's matrix.
# ---------------------------------------------------------------------------
@pytest.mark.parametrize("name", sorted(KERNELS))
def test_sparse_nan_and_inf_give_the_dense_errors(name):
    kernel = KERNELS[name]
    D = np.array([[0.0, 1.0], [2.0, 0.0]])
    y, w = np.array([0.5, 1.0]), np.array([0.5, -0.5])  # labels in every domain
    for bad in (np.nan, np.inf):
        Db = D.copy()
        Db[1, 0] = bad
        with pytest.raises(ValueError, match="Input X contains") as dense:
            kernel.grad(Db, y, w, 0.0)
        with pytest.raises(ValueError, match="Input X contains") as sparse:
            kernel.grad(scipy.sparse.csr_matrix(Db), y, w, 0.0)
        assert str(sparse.value) == str(dense.value)
        with pytest.raises(ValueError, match="Input X contains") as dense:
            train(Db, y, loss=name)
        with pytest.raises(ValueError, match="Input X contains") as sparse:
            train(scipy.sparse.csc_matrix(Db), y, loss=name)
        assert str(sparse.value) == str(dense.value)


@pytest.mark.parametrize("name", sorted(KERNELS))
def test_sparse_y_and_w_are_refused_with_sklearns_wording(name):
    kernel = KERNELS[name]
    X = scipy.sparse.csr_matrix(np.eye(2))
    ys = scipy.sparse.csr_matrix(np.array([[0.0], [1.0]]))
    wording = "Sparse data was passed for y, but dense data is required"
    with pytest.raises(ValueError, match=wording):
        kernel.loss(X, ys, np.zeros(2), 0.0)
    with pytest.raises(ValueError, match=wording):
        train(X, ys, loss=name)
    with pytest.raises(ValueError, match="Sparse data was passed for w0"):
        train(X, np.array([0.0, 1.0]), loss=name, w0=scipy.sparse.csr_matrix(np.ones((1, 2))))


#: The second-order kernels fill dense blocks of [X, 1]; each with its arguments after b.
SECOND_ORDER = {"hessian": (), "hvp": (np.ones(3),), "newton_terms": ()}


@pytest.mark.parametrize("name", sorted(KERNELS))
@pytest.mark.parametrize("function", sorted(SECOND_ORDER))
def test_sparse_X_is_refused_by_the_second_order_kernels_naming_them(name, function):
    kernel = KERNELS[name]
    D = np.array([[0.0, 1.0], [2.0, 0.0], [1.0, 1.0]])
    y, w, rest = np.array([0.5, 1.0, 0.5]), np.array([0.5, -0.5]), SECOND_ORDER[function]
    wording = (
        f"Sparse data was passed for X, but dense data is required by {function}. "
        "Use '.toarray()' to convert to a dense numpy array"
    )
    for X in (scipy.sparse.csr_matrix(D), scipy.sparse.csc_array(D)):
        with pytest.raises(ValueError, match=re.escape(wording)):
            getattr(kernel, function)(X, y, w, 0.0, *rest)
    run = getattr(kernel, function)
    X = scipy.sparse.csr_matrix(D)
    np.testing.assert_equal(run(X.toarray(), y, w, 0.0, *rest), run(D, y, w, 0.0, *rest))
    # the first-order kernels, which the message names, take the sparse X
    np.testing.assert_allclose(kernel.grad(X, y, w, 0.0)[0], kernel.grad(D, y, w, 0.0)[0])


def test_other_formats_convert_as_check_array_does():
    D = np.array([[0.0, 2.0, 0.0], [1.5, 0.0, -1.0]])
    for X in (scipy.sparse.lil_matrix(D), scipy.sparse.dok_matrix(D), scipy.sparse.bsr_matrix(D)):
        C = _sparse.as_csr("X", X)
        assert C.format == "csr"
        assert np.array_equal(C.toarray(), D)
    assert (
        _sparse.as_csr("X", scipy.sparse.csr_matrix(np.eye(2, dtype=np.int64))).dtype == np.float64
    )
    with pytest.raises(ValueError, match="X must be real"):
        _sparse.as_csr("X", scipy.sparse.csr_matrix(np.eye(2) * 1j))


def _unsorted() -> scipy.sparse.csr_matrix:
    X = scipy.sparse.csr_matrix(
        (np.array([1.0, 2.0, 3.0, 0.5, 0.5]), np.array([2, 0, 1, 1, 1]), np.array([0, 2, 5])),
        shape=(2, 3),
    )
    assert not X.has_sorted_indices
    return X


@pytest.mark.parametrize("name", sorted(KERNELS))
@pytest.mark.parametrize("batch_size", [1, 2, None])
@pytest.mark.filterwarnings("ignore::derivreg.separation.SeparationWarning")
@pytest.mark.filterwarnings("ignore::derivreg.solvers.ConvergenceWarning")
def test_the_callers_sparse_matrix_is_never_modified(name, batch_size):
    y = np.array([1.0, 1.0])  # in every domain, and a class label for train
    for X in (_unsorted(), scipy.sparse.csc_matrix(np.array([[0.0, 1.0, 2.0], [3.0, 0.0, 0.0]]))):
        saved = (X.data.copy(), X.indices.copy(), X.indptr.copy(), X.has_sorted_indices)
        kernel = KERNELS[name]
        kernel.update(X, y, np.ones(3), 0.0, 0.1)
        kernel.losses(X, y, np.ones(3), 0.0)
        train(X, y, loss=name, batch_size=batch_size, epochs=2, shuffle=True, seed=1)
        train(X, y, loss=name, solver="gd", max_iter=3)
        after = (X.data, X.indices, X.indptr, X.has_sorted_indices)
        assert all(np.array_equal(a, b) for a, b in zip(saved[:3], after[:3], strict=True))
        assert saved[3] == after[3]


def test_dense_input_runs_with_scipy_blocked():
    """Dense input never needs SciPy: with every ``import scipy...`` refused, the
    kernels and train (per-sample, mini-batch, full-batch) run, and no SciPy module
    is loaded.  (Importing the package may load SciPy through scikit-learn when both
    are installed; that is not the runtime path.)"""
    import subprocess
    import sys

    code = """if True:
        import sys
        class Block:
            def find_spec(self, name, path=None, target=None):
                if name == "scipy" or name.startswith("scipy."):
                    raise ImportError(name)
        sys.meta_path.insert(0, Block())
        import numpy as np
        import derivreg.kernels.mse as k, derivreg.train as t
        X, y = np.eye(3), np.ones(3)
        k.grad(X, y, np.zeros(3), 0.0)
        t.train(X, y); t.train(X, y, batch_size=2); t.train(X, y, solver="gd")
        print([m for m in sys.modules if m.split(".")[0] == "scipy"])
    """
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


# ---------------------------------------------------------------------------
# The estimators: accept_sparse=["csr", "csc"], as scikit-learn's SGD estimators.
# ---------------------------------------------------------------------------
@pytest.mark.filterwarnings("ignore::derivreg.separation.SeparationWarning")
@pytest.mark.filterwarnings("ignore::derivreg.solvers.ConvergenceWarning")
@pytest.mark.parametrize("solver", ["sgd", "lbfgs"])
def test_estimators_fit_sparse_as_dense(solver):
    """Sparse X fits the dense coefficients.  Tolerance: per-sample SGD on canonical CSR
    sums the same nonzero terms in the same order as on dense X (zeros left out exactly),
    so it agrees bit for bit; L-BFGS sees objective values and gradients within the
    summation-order bound (~1e-15 relative here) and takes the same steps, so its
    iterates differ by that times the condition number of the Hessian (< 1e2 for these
    60 x 5 data): rtol 1e-9 leaves a factor 1e4 of room."""
    from derivreg.estimators import LinearRegressionSGD, LogisticRegressionSGD

    rng = np.random.default_rng(3)
    D = np.where(rng.random((60, 5)) < 0.3, rng.normal(size=(60, 5)), 0.0)
    labels = (D @ np.arange(5.0) + rng.normal(size=60) > 0).astype(float)
    for Estimator, y in ((LinearRegressionSGD, D @ np.ones(5)), (LogisticRegressionSGD, labels)):
        dense = Estimator(solver=solver, random_state=0, epochs=3).fit(D, y)
        for X in (
            scipy.sparse.csr_matrix(D),
            scipy.sparse.csc_array(D),
            scipy.sparse.coo_matrix(D),
        ):
            saved = X.copy()
            sparse = Estimator(solver=solver, random_state=0, epochs=3).fit(X, y)
            np.testing.assert_allclose(sparse.coef_, dense.coef_, rtol=1e-9, atol=1e-12)
            np.testing.assert_allclose(sparse.predict(X), dense.predict(D), rtol=1e-9, atol=1e-12)
            if hasattr(sparse, "predict_proba"):
                np.testing.assert_allclose(sparse.predict_proba(X), dense.predict_proba(D))
            assert (saved != X).nnz == 0
            sparse.partial_fit(X, y)
