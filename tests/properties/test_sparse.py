"""Sparse X (scipy.sparse CSR/CSC) gives the dense results, to rounding, for every pair.

Issue 17, "Sparse-X properties pass for every pair".  Each case draws a small
dense batch, zeroes a random part of X, and passes the rest as a sparse
matrix or array: CSR, CSC, ``csr_array``/``csc_array``, COO (converted as
scikit-learn's ``check_array`` converts it), and CSR with unsorted indices
and duplicate entries (each split as ``x/2 + x/2``, exact for normal x).
The kernels (``predict``, ``losses``, ``loss``, ``grad``, ``update``) and
``train`` (per-sample SGD in the generated CSR loop, mini-batches, full
batches) on that X must agree with the same calls on the dense X.

Tolerances: the summation-order bound
--------------------------------------
Sparse and dense X differ only in the order and number of the terms summed:
``z_i = b + sum_j x_ij w_j`` over the stored entries (in index order, after
canonicalization) for CSR, and over all ``n`` entries in BLAS's order for
dense X; a zero entry adds an exact 0.  The rounding model of
:mod:`derivreg.testing._reference` bounds every summation *for any order* of at
most ``n + 1`` terms (Higham 3.1), and so the gradient's sums over rows in
any blocking: its :func:`~derivreg.testing._reference.loss_error` and
:func:`~derivreg.testing._reference.grad_error` bound ``|computed - exact|`` for
either X.  By the triangle inequality the two results are within the *sum*
of their bounds, which is what :func:`_agree` allows: twice the bound,
evaluated at the dense arguments (the sparse ones are the same numbers).

Per-sample values get the same model row by row (:func:`_per_sample_bound`):
score error ``dz_i = (n + 1) eps Z_i`` for each, then

- ``losses``: ``PER_SAMPLE_EPS eps |J_i| + |L'(z_i)| dz_i + s2 dz_i^2 / 2``,
  with ``s2 = sup |L''|`` (Taylor at the computed score);
- ``predict``: ``yhat = g(z)`` moves by ``|g'(xi)| dz`` for some xi within
  ``dz`` of z, plus ``PER_SAMPLE_EPS eps |yhat|`` of its own rounding;
  ``|g'(xi)| <= 2 |g'(z)|`` because ``dz <= (n + 1) eps Z`` is below 1e-10 here,
  and ``g'`` of an inverse link (1, sigma(1 - sigma), exp) changes by a factor
  at most ``exp(dz)`` over such a step;
- ``update``: ``w - lr dJ/dw``: ``lr`` times the gradient's bound, plus one
  rounding of the product and one of the difference on each side.

Training compounds the updates.  With ``lr`` at most 0.9 times the per-sample
step-size bound ``2 / (sup L'' ||(x, 1)||^2)`` every update map is
non-expansive in ``theta = (w, b)`` (gradient descent on a convex function
with curvature at most ``lambda`` contracts for ``lr <= 2 / lambda``; a
batch mean has curvature at most its largest row's), so a difference ``E``
in theta before an update is at most ``E`` after it, plus that update's
rounding bound ``delta_t`` for each run:
``E_T <= sum_t 2 delta_t`` in the 2-norm (:func:`_trajectory_bound`).
Recorded losses move by ``|L'| ||(x, 1)|| E_t`` on top of their own bound.
A pair whose curvature is unbounded (``sup L'' = inf``) is run with the
local curvature, ``2 |L''(z)|`` at the dense iterate, as ``lambda``.
"""

from __future__ import annotations

import functools
import warnings

import numpy as np
import scipy.sparse
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from derivreg.codegen import stabilize
from derivreg.symbolic import yhat, z
from derivreg.testing._bounds import augmented, grad_error, loss_error, scores
from derivreg.testing._reference import EPS, PER_SAMPLE_EPS, TINY, Reference, _numpy, reference
from derivreg.testing._strategies import batches
from derivreg.train import DivergenceError, train
from properties.factory import Property, make_tests, training_with

#: How a drawn sparse X is stored.
#: The duplicates first: Hypothesis tries the first of a sampled_from early, and the
#: derandomized 25 examples of the dev profile then meet repeated entries for every pair
#: (last, they met none for Poisson and Gamma, and "duplicates overwritten" went uncaught).
FORMATS = ("csr unsorted, duplicates", "csr", "csc", "csr_array", "csc_array", "coo")

_DUPLICATE_KINDS = ("csr unsorted, duplicates",)


def as_format(D: np.ndarray, kind: str, rng: np.random.Generator) -> object:
    """The dense ``D`` stored as ``kind`` (see :data:`FORMATS`)."""
    if kind == "csr":
        return scipy.sparse.csr_matrix(D)
    if kind == "csc":
        return scipy.sparse.csc_matrix(D)
    if kind == "csr_array":
        return scipy.sparse.csr_array(D)
    if kind == "csc_array":
        return scipy.sparse.csc_array(D)
    if kind == "coo":
        return scipy.sparse.coo_matrix(D)
    # each stored entry x as two entries x/2 (exact: the strategy's x are normal or 0),
    # the row's entries in a random order
    rows, cols = np.nonzero(D)
    data, indices, indptr = [], [], [0]
    for i in range(D.shape[0]):
        js = np.repeat(cols[rows == i], 2)
        rng.shuffle(js)
        data += [D[i, j] / 2 for j in js]
        indices += js.tolist()
        indptr.append(len(data))
    return scipy.sparse.csr_matrix((data, indices, indptr), shape=D.shape)


def _normal(a: np.ndarray) -> np.ndarray:
    """Entries below the normal range become 0 (so that x/2 + x/2 == x exactly)."""
    return np.where(np.abs(a) < 2.2250738585072014e-307, 0.0, a)


@st.composite
def sparse_cases(draw, ref: Reference, *, max_m: int = 9, max_n: int = 5, hard: bool = False):
    """A batch whose X has a drawn pattern of zeros, the storage format and an lr."""
    X, y, w, b = draw(batches(ref, max_m=max_m, max_n=max_n, hard=hard))
    keep = draw(arrays(np.bool_, X.shape))
    D = np.where(keep, _normal(X), 0.0)
    kind = draw(st.sampled_from(FORMATS))
    seed = draw(st.integers(0, 2**16))
    lr = draw(st.floats(1e-3, 1.0))
    return D, kind, seed, y, w, b, lr


def _agree(name: str, got: object, want: object, tol: object) -> None:
    got, want, tol = (np.asarray(v, dtype=np.float64) for v in (got, want, tol))
    diff = np.abs(got - want)
    assert np.all(np.isfinite(got)), f"{name}: sparse gives {got}"
    assert np.all(diff <= tol), f"{name}: sparse {got} vs dense {want}; |diff| {diff} > tol {tol}"


@functools.cache
def _activation_slope(name: str):
    """``g'(z)`` of the pair's inverse link, from its derivation (stable form)."""
    d = reference(name).derivation
    return _numpy(stabilize(d.dyhat_dz.subs(yhat, d.activation))[0], (z,))


def _per_sample_bound(ref: Reference, D: np.ndarray, y: np.ndarray, w: np.ndarray, b: float):
    """Per-row bounds ``(losses, predict)`` of |computed - exact| (module docstring)."""
    n = D.shape[1]
    z, Z = scores(D, w, b)
    dz = (n + 1) * EPS * Z
    s2 = ref.sup_d2 if np.isfinite(ref.sup_d2) else 2 * np.abs(ref.d2(z, y))
    second = np.where(dz > 0, s2 * dz * dz / 2, 0.0)
    J = np.abs(ref.loss(z, y))
    losses = PER_SAMPLE_EPS * EPS * J + np.abs(ref.d1(z, y)) * dz + second + 4 * TINY
    yhat = ref.activation(z)
    slope = np.abs(_activation_slope(ref.name)(z)) * np.ones_like(z)
    predict = 2 * slope * dz + PER_SAMPLE_EPS * EPS * np.abs(yhat) + 4 * TINY
    return losses, predict


def _sparse_or_fail(f, *args):
    """Call ``f``; an exception where the dense call succeeded fails the property."""
    try:
        return f(*args)
    except Exception as err:  # the dense call with the same numbers succeeded
        raise AssertionError(f"sparse X raised {type(err).__name__}: {err}") from err


def check_kernels(kernel, ref: Reference, case) -> None:
    """Every batch kernel: sparse X agrees with dense X within twice the rounding bound."""
    D, kind, seed, y, w, b, lr = case
    X = as_format(D, kind, np.random.default_rng(seed))
    before = (X.data.copy(), X.shape, getattr(X, "has_sorted_indices", None))
    with np.errstate(all="ignore"):
        losses_bound, predict_bound = _per_sample_bound(ref, D, y, w, b)
        g_tol = 2 * grad_error(ref, D, y, w, b)
        dense = {
            "predict": kernel.predict(D, w, b),
            "losses": kernel.losses(D, y, w, b),
            "loss": kernel.loss(D, y, w, b),
            "grad": np.append(*kernel.grad(D, y, w, b)),
            "update": np.append(*kernel.update(D, y, w, b, lr)),
        }
        sparse = {
            "predict": _sparse_or_fail(kernel.predict, X, w, b),
            "losses": _sparse_or_fail(kernel.losses, X, y, w, b),
            "loss": _sparse_or_fail(kernel.loss, X, y, w, b),
            "grad": np.append(*_sparse_or_fail(kernel.grad, X, y, w, b)),
            "update": np.append(*_sparse_or_fail(kernel.update, X, y, w, b, lr)),
        }
    theta = np.append(w, b)
    step = lr * np.abs(dense["grad"])
    tols = {
        "predict": 2 * predict_bound,
        "losses": 2 * losses_bound,
        "loss": 2 * loss_error(ref, D, y, w, b),
        "grad": g_tol,
        "update": lr * g_tol + 2 * EPS * (np.abs(theta) + step) + 2 * TINY,
    }
    for name, value in dense.items():
        _agree(f"{name} ({kind})", sparse[name], value, tols[name])
    assert X.data.shape == before[0].shape
    assert np.array_equal(X.data, before[0])
    assert X.shape == before[1]
    assert getattr(X, "has_sorted_indices", None) == before[2]


KERNEL_BUGS = ("sparse X drops its last stored entry", "sparse duplicates overwritten")

TestSparseKernelsAgreeWithDense = make_tests(
    Property(
        "sparse X gives the dense kernels' results within the summation-order bound",
        sparse_cases,
        check_kernels,
        catches=(*KERNEL_BUGS, "CSC read as CSR"),
        variants=("generated", "2-row blocks"),
    )
)


# ---------------------------------------------------------------------------
# train: per-sample (the CSR loop), mini-batch and full-batch.
# ---------------------------------------------------------------------------
@st.composite
def training_cases(draw, ref: Reference):
    D, kind, seed, y, *_ = draw(sparse_cases(ref, max_m=8, max_n=4, hard=True))
    batch_size = draw(st.sampled_from([1, 1, 2, 3, None]))
    shuffle = draw(st.booleans())
    epochs = draw(st.integers(1, 2))
    frac = draw(st.floats(0.05, 0.9))
    return D, kind, seed, y, batch_size, shuffle, epochs, frac


def _lr(ref: Reference, D: np.ndarray, frac: float) -> float:
    """``frac`` times the per-sample step-size bound (any positive rate if unbounded)."""
    v2 = float(np.max(np.einsum("ij,ij->i", D, D))) + 1.0
    return frac * (ref.step_size_bound(v2) if np.isfinite(ref.sup_d2) else 1.0 / v2)


def _trajectory_bound(ref: Reference, D, y, h, lr: float, batch_size: int, order) -> np.ndarray:
    """``E_t`` before each recorded update, and after the last (module docstring)."""
    m = D.shape[0]
    thetas = np.column_stack([h.w, h.b])
    E, out = 0.0, []
    for t, theta in enumerate(thetas):
        out.append(E)
        start = (t * batch_size) % m
        rows = order[t // -(-m // batch_size)][start : start + batch_size]
        Xb, yb = D[rows], y[rows]
        w, b = theta[:-1], theta[-1]
        with np.errstate(all="ignore"):
            z, _ = scores(Xb, w, b)
            dw = np.mean(ref.d1(z, yb)[:, None] * augmented(Xb), axis=0)
            delta = lr * grad_error(ref, Xb, yb, w, b) + EPS * (np.abs(theta) + lr * np.abs(dw))
        factor = 1.0
        if not np.isfinite(ref.sup_d2):  # local curvature, not a global bound
            lam = (
                2
                * float(np.max(np.abs(ref.d2(z, yb))))
                * float(np.max(np.sum(augmented(Xb) ** 2, axis=1)))
            )
            factor = max(1.0, lr * lam - 1.0)
        E = factor * E + 2 * float(np.linalg.norm(delta)) + 2 * TINY
    out.append(E)
    return np.array(out)


def check_training(kernel, ref: Reference, case) -> None:
    """train on sparse X follows the dense run within the compounded bound."""
    D, kind, seed, y, batch_size, shuffle, epochs, frac = case
    X = as_format(D, kind, np.random.default_rng(seed))
    lr = _lr(ref, D, frac)
    options = {"lr": lr, "epochs": epochs, "batch_size": batch_size}
    options |= {"shuffle": shuffle, "seed": seed}
    runs = []
    with training_with(kernel, ref.name), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for data in (D, X):
            try:
                runs.append(train(data, y, loss=ref.name, **options))
            except DivergenceError as err:  # lr is below the bound: a failure
                raise AssertionError(f"training diverged: {err}") from err
            except Exception as err:
                if data is D:
                    raise
                raise AssertionError(f"sparse X raised {type(err).__name__}: {err}") from err
    dense, sparse = runs
    m = D.shape[0]
    bs = m if batch_size is None else min(batch_size, m)
    rng = np.random.default_rng(seed)
    order = [rng.permutation(m) if shuffle else np.arange(m) for _ in range(epochs)]
    E = _trajectory_bound(ref, D, y, dense.history, lr, bs, order)
    theta_d = np.column_stack([dense.history.w, dense.history.b])
    theta_s = np.column_stack([sparse.history.w, sparse.history.b])
    _agree(f"history (w, b) ({kind})", np.abs(theta_s - theta_d).max(axis=1), 0.0, E[:-1])
    final = np.abs(np.append(sparse.w - dense.w, sparse.b - dense.b)).max()
    _agree(f"final (w, b) ({kind})", final, 0.0, E[-1])
    norms = np.sqrt(np.max(np.sum(augmented(D) ** 2, axis=1)))
    with np.errstate(all="ignore"):
        slope = float(np.max(np.abs(ref.d1(*_scores_of(D, y, theta_d)))))
    J_tol = 2 * slope * norms * E[:-1] + 2 * PER_SAMPLE_EPS * EPS * np.abs(dense.history.loss)
    J_tol += 2 * (m + PER_SAMPLE_EPS) * EPS * np.abs(dense.history.loss) + 8 * TINY
    _agree(f"history loss ({kind})", sparse.history.loss, dense.history.loss, J_tol)


def _scores_of(D: np.ndarray, y: np.ndarray, thetas: np.ndarray):
    """Every row's score at every recorded theta, with its label, flattened."""
    z = D @ thetas[:, :-1].T + thetas[:, -1]
    return z.ravel(), np.repeat(y, thetas.shape[0])


TestSparseTrainingAgreesWithDense = make_tests(
    Property(
        "train on sparse X follows the dense run within the compounded rounding bound",
        training_cases,
        check_training,
        catches=("sparse X drops its last stored entry", "CSR loop drops each row's last entry"),
    )
)
