"""Deliberately broken kernels: each property must find its planted bug.

A planted kernel is a small wrapper around the real generated module (the
generated files are never edited): it has the same functions, recomposed
from the real chain factors with one thing wrong.  Bugs are built from the
pair's reference, so every pair gets them with no new code; a bug that makes
no sense for a pair (``yhat(1 - yhat)`` missing where ``dyhat/dz == 1``)
says so in ``applies``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from types import ModuleType, SimpleNamespace
from unittest import mock

import numpy as np

from derivreg.testing._reference import Reference


def recompose(
    kernel: ModuleType,
    name: str,
    *,
    dJ_dz: Callable[[np.ndarray, np.ndarray], np.ndarray] | None = None,
    losses: Callable[[np.ndarray, np.ndarray], np.ndarray] | None = None,
    grad_sign: float = 1.0,
    drop_last_row: bool = False,
    in_place: bool = False,
    checks: bool = True,
) -> SimpleNamespace:
    """A kernel look-alike computing from the chain factor ``dJ_dz`` and ``losses``."""
    chain = dJ_dz or kernel.dJ_dz

    def prepare(X, y, w, b):
        if checks:
            X, y, w, b = kernel._check_batch(
                X, y, w, b, kernel.NAME, kernel._in_domain, kernel.DOMAIN
            )
        else:
            X, y, w = np.asarray(X), np.asarray(y), np.asarray(w)
        if drop_last_row and X.shape[0] > 1:
            X, y = X[:-1], y[:-1]
        return X, y, w, b

    # Without checks, the generated module's unchecked per-sample losses (if it has them).
    per_sample = kernel.losses if checks else getattr(kernel, "_losses", kernel.losses)

    def f_losses(X, y, w, b):
        X, y, w, b = prepare(X, y, w, b)
        if losses is None:
            return per_sample(X, y, w, b)
        return losses(X @ w + b, y)

    def f_unchecked_losses(X, y, w, b):
        if drop_last_row and np.shape(X)[0] > 1:
            X, y = X[:-1], y[:-1]
        if losses is None:
            return getattr(kernel, "_losses", kernel.losses)(X, y, w, b)
        return losses(X @ w + b, y)

    def f_loss(X, y, w, b):
        return float(np.mean(f_losses(X, y, w, b)))

    def f_grad(X, y, w, b):
        X, y, w, b = prepare(X, y, w, b)
        dz = chain(X @ w + b, y)
        return grad_sign * (dz @ X) / X.shape[0], grad_sign * float(np.mean(dz))

    def f_update(X, y, w, b, lr):
        dw, db = f_grad(X, y, w, b)
        if in_place:
            w -= lr * dw
            return w, float(b - lr * db)
        return np.asarray(w) - lr * dw, float(b - lr * db)

    planted = SimpleNamespace(
        __name__=f"planted {name}",
        NAME=kernel.NAME,
        TARGETS=kernel.TARGETS,
        DOMAIN=kernel.DOMAIN,
        _in_domain=kernel._in_domain,
        STEP_SIZE_NUMERATOR=kernel.STEP_SIZE_NUMERATOR,
        THRESHOLD=kernel.THRESHOLD,
        predict=kernel.predict,
        dJ_dyhat=kernel.dJ_dyhat,
        dyhat_dz=kernel.dyhat_dz,
        dJ_dz=chain,
        losses=f_losses,
        _losses=f_unchecked_losses,
        loss=f_loss,
        grad=f_grad,
        update=f_update,
    )
    planted.loop = loop_from(planted)
    planted.loop_csr = loop_csr_from(planted)
    return planted


def loop_csr_from(kernel: object, *, drop_last: bool = False) -> Callable[..., float]:
    """A per-sample epoch with the signature of the generated ``sgd_epoch_csr``, made of
    ``kernel.losses`` and ``kernel.update`` on one densified row at a time (a test's
    few features); with ``drop_last``, each row's last stored entry is left out."""

    def sgd_epoch_csr(data, indices, indptr, Y, w, b, LR, lr_step, S, s_step, alpha, l1,
                      penalized, fit, J, Z, every, first, w_track, b_track):  # fmt: skip
        n, total = len(w), 0.0
        for i in range(len(Y)):
            if i % every == first:
                w_track[i // every * n : (i // every + 1) * n] = list(w)
                b_track[i // every] = b
            x = np.zeros((1, n))
            stop = indptr[i + 1] - (1 if drop_last and indptr[i + 1] > indptr[i] else 0)
            for p in range(indptr[i], stop):
                x[0, indices[p]] += data[p]
            b, total = _one_sample(kernel, x, Y[i], w, b, (LR[i * lr_step], S[i * s_step]),
                                   (alpha, l1, penalized, fit), (J, Z, i), total)  # fmt: skip
        return b, total

    return sgd_epoch_csr


def sparse_bug(kernel: ModuleType, name: str, transform: Callable[[object], object]) -> object:
    """The real kernel, but a sparse X goes through ``transform`` first (dense X never)."""
    from derivreg._sparse import issparse

    def wrap(f: Callable[..., object]) -> Callable[..., object]:
        def g(X, *args):
            return f(transform(X) if issparse(X) else X, *args)

        return g

    planted = SimpleNamespace(**{k: v for k, v in vars(kernel).items() if not k.startswith("__")})
    planted.__name__ = f"planted {name}"
    for f in ("predict", "losses", "_losses", "loss", "grad", "update"):
        setattr(planted, f, wrap(getattr(kernel, f)))
    planted.loop = loop_from(planted)
    planted.loop_csr = loop_csr_from(planted)
    return planted


def _drop_last_stored(X: object) -> object:
    """A copy of sparse X without its last stored entry (in CSR order)."""
    import scipy.sparse

    C = scipy.sparse.csr_matrix(X, copy=True)
    if C.nnz:
        C.data[-1] = 0.0
    return C


def _duplicates_overwritten(X: object) -> object:
    """Sparse X with repeated (row, column) entries overwritten, the last one kept,
    instead of summed: what assigning entries one by one into a LIL matrix does."""
    import scipy.sparse

    coo = scipy.sparse.csr_matrix(X).tocoo()  # keeps duplicates, in stored order
    kept: dict[tuple[int, int], float] = {}
    for i, j, v in zip(coo.row, coo.col, coo.data, strict=True):
        kept[int(i), int(j)] = float(v)
    rows, cols = zip(*kept, strict=True) if kept else ((), ())
    return scipy.sparse.csr_matrix((list(kept.values()), (rows, cols)), shape=X.shape)


def _transposed_read(X: object) -> object:
    """A CSC X's arrays read as if they were CSR: the kernel sees X.T (or fails)."""
    import scipy.sparse

    if X.format != "csc":
        return X
    return scipy.sparse.csr_matrix((X.data, X.indices, X.indptr), shape=X.shape[::-1])


def _csr_loop_drops_last(kernel: ModuleType, ref: Reference) -> SimpleNamespace:
    """The real kernel, with training's CSR per-sample loop leaving out each row's last
    stored entry (the dense loop and the batch kernels are right)."""
    planted = recompose(kernel, "CSR loop drops each row's last entry")
    planted.loop = None  # the generated dense loop
    planted.loop_csr = loop_csr_from(kernel, drop_last=True)
    return planted


def _one_sample(kernel, x, y, w, b, rate_weight, penalty, out, total):
    """One update of the generated loops, by ``kernel``'s own calls: ``(b, total)`` after it.

    The per-sample step of :func:`derivreg._penalty.step` (the weight scales the
    loss's step, then the L2 gradient at the old weights and the L1 prox).
    """
    (rate, s), (alpha, l1, penalized, fit), (J, Z, i) = rate_weight, penalty, out
    label = np.array([y], dtype=np.float64)
    current = np.array(w, dtype=np.float64)
    J[i] = float(kernel.losses(x, label, current, b)[0])
    Z[i] = float(x[0] @ current + b)
    new_w, new_b = kernel.update(x, label, current, b, rate * s)
    if penalized:
        new_w = kernel.soft_threshold(new_w - rate * kernel.dR_dw(current, alpha), rate * l1)
    w[:] = np.asarray(new_w).tolist()
    return (float(new_b) if fit else b), total + s * J[i]


def loop_from(kernel: object) -> Callable[..., float]:
    """A per-sample epoch with the signature of the generated ``sgd_epoch`` loops
    (``derivreg/kernels/<pair>_loop.py``), made of ``kernel.losses`` and
    ``kernel.update`` on one sample at a time: training's per-sample path then runs
    the given kernel's arithmetic (``properties.factory.training_with`` installs it)."""

    def sgd_epoch(X, Y, w, b, LR, lr_step, S, s_step, alpha, l1, penalized, fit, J, Z, every,
                  first, w_track, b_track):  # fmt: skip
        n, total = len(w), 0.0
        for i in range(len(Y)):
            if i % every == first:
                w_track[i // every * n : (i // every + 1) * n] = list(w)
                b_track[i // every] = b
            x = np.array(X[i * n : (i + 1) * n], dtype=np.float64)[None, :]
            b, total = _one_sample(kernel, x, Y[i], w, b, (LR[i * lr_step], S[i * s_step]),
                                   (alpha, l1, penalized, fit), (J, Z, i), total)  # fmt: skip
        return b, total

    return sgd_epoch


def update_per_sample(kernel: ModuleType) -> SimpleNamespace:
    """The generated kernel itself, with training's per-sample epochs run through its
    ``update`` (instead of the generated loop)."""
    copy = SimpleNamespace(**{k: v for k, v in vars(kernel).items() if not k.startswith("__")})
    copy.__name__ = f"{kernel.__name__} (update per sample)"
    copy.loop = loop_from(copy)
    return copy


def _quiet(f: Callable[..., np.ndarray]) -> Callable[..., np.ndarray]:
    """Run ``f`` with NumPy's floating-point warnings off (naive code overflows on purpose)."""

    def g(*args):
        with np.errstate(all="ignore"):
            return f(*args)

    return g


@dataclass(frozen=True)
class Bug:
    """A planted bug: what it is, which pairs it makes sense for, how to build it."""

    name: str
    description: str
    build: Callable[[ModuleType, Reference], SimpleNamespace]
    applies: Callable[[Reference], bool] = lambda ref: True


def _unseeded(kernel: ModuleType, ref: Reference) -> SimpleNamespace:
    """The real kernel, but training's shuffles ignore their seed (``patches`` is applied
    around ``train`` by the training properties)."""
    planted = recompose(kernel, "unseeded shuffle")
    fresh = np.random.default_rng

    def ignore_seed(seed: object = None) -> np.random.Generator:
        return fresh()

    planted.patches = lambda: mock.patch("numpy.random.default_rng", side_effect=ignore_seed)
    return planted


def _float64_only(kernel: ModuleType, ref: Reference) -> SimpleNamespace:
    """The real kernel, refusing any array that is not already float64."""
    planted = recompose(kernel, "integers rejected")

    def strict(f: Callable[..., object]) -> Callable[..., object]:
        def g(*args):
            if any(isinstance(a, np.ndarray) and a.dtype != np.float64 for a in args):
                raise TypeError("expected float64 arrays")
            return f(*args)

        return g

    for name in ("predict", "losses", "loss", "grad", "update"):
        setattr(planted, name, strict(getattr(planted, name)))
    return planted


def _unchecked_training(kernel: ModuleType, ref: Reference) -> SimpleNamespace:
    """Training's input checks replaced by bare conversions that refuse anything but
    float64 arrays, over a kernel without checks (the kernels' own checks would
    otherwise catch most bad input a second time)."""
    planted = recompose(kernel, "training converts without checking", checks=False)

    def convert(X, y, w0, b0, loss):
        if any(isinstance(a, np.ndarray) and a.dtype != np.float64 for a in (X, y, w0)):
            raise TypeError("expected float64 arrays")
        w = np.zeros(np.shape(X)[1]) if w0 is None else np.array(w0, dtype=np.float64)
        return np.asarray(X), np.asarray(y), w, float(b0)

    @contextmanager
    def patches() -> Iterator[None]:
        with (
            mock.patch("derivreg.train._validate", convert),
            mock.patch("derivreg.train._check_lr", float),
        ):
            yield

    planted.patches = patches
    return planted


def _inf_times_0(kernel: ModuleType, ref: Reference) -> SimpleNamespace:
    """The printed per-sample loss evaluated as it stands at the float64 score, which is
    +-inf past the largest float: inf * 0 in ``(softplus) * (y - 1)`` for BCE.  The
    gradient and update are recomposed without rescaled scores or scaled means."""
    one = np.ones(1)

    def at_score(z: np.ndarray, labels: np.ndarray) -> np.ndarray:
        return kernel._losses(z[:, None], labels, one, 0.0)

    planted = recompose(kernel, "inf times 0 at an overflowed score", losses=at_score)
    for name in ("losses", "loss", "grad", "update"):  # overflowing on purpose, quietly
        setattr(planted, name, _quiet(getattr(planted, name)))
    return planted


def reweighted(
    kernel: ModuleType, name: str, change: Callable[[np.ndarray], np.ndarray | None]
) -> SimpleNamespace:
    """The real kernel, with every ``sample_weight`` given to it replaced by ``change(sw)``
    (``None``: dropped) in ``losses``, ``loss``, ``grad`` and ``update``."""
    copy = SimpleNamespace(**{k: v for k, v in vars(kernel).items() if not k.startswith("__")})
    copy.__name__ = f"planted {name}"

    def wrap(f: Callable[..., object]) -> Callable[..., object]:
        def g(*args, sample_weight=None, **keywords):
            if sample_weight is not None:
                sample_weight = change(np.asarray(sample_weight, dtype=np.float64))
            return f(*args, sample_weight=sample_weight, **keywords)

        return g

    for f in ("losses", "loss", "grad", "update"):
        setattr(copy, f, wrap(getattr(kernel, f)))
    return copy


def _zero_weight_as_one_in_train(kernel: ModuleType, ref: Reference) -> SimpleNamespace:
    """The real kernel, but train reads a zero sample weight as 1."""
    planted = reweighted(kernel, "zero weight as one in train", lambda sw: sw)
    check = __import__("derivreg._penalty", fromlist=["check_weights"]).check_weights

    def lenient(sample_weight, X):
        sw = check(sample_weight, X)
        return None if sw is None else np.where(sw == 0, 1.0, sw)

    planted.patches = lambda: mock.patch("derivreg._penalty.check_weights", lenient)
    return planted


#: The sample-weight bugs (issue 12): each kernel bug is the generated module with its
#: weights transformed on the way in.
WEIGHT_BUGS = (
    Bug(
        "weights ignored",
        "sample_weight accepted and dropped: the plain mean",
        lambda k, ref: reweighted(k, "weights ignored", lambda sw: None),
    ),
    Bug(
        "weights squared",
        "each weight used squared",
        lambda k, ref: reweighted(k, "weights squared", lambda sw: sw**2),
    ),
    Bug(
        "zero weight as one",
        "a zero weight counted as 1",
        lambda k, ref: reweighted(k, "zero weight as one", lambda sw: np.where(sw == 0, 1.0, sw)),
    ),
    Bug(
        "zero weight as one in train",
        "train reads a zero weight as 1 (the kernels are right)",
        _zero_weight_as_one_in_train,
    ),
)


def _bugs(*bugs: Bug) -> dict[str, Bug]:
    return {bug.name: bug for bug in bugs}


BUGS: dict[str, Bug] = _bugs(
    Bug(
        "sign flipped in dJ_dz",
        "the chain-rule product dJ/dz negated (and with it dJ/dw, dJ/db and the update)",
        lambda k, ref: recompose(k, "sign flipped in dJ_dz", dJ_dz=lambda z, y: -k.dJ_dz(z, y)),
    ),
    Bug(
        "sign flipped in grad",
        "dJ/dw and dJ/db negated; the chain factors right",
        lambda k, ref: recompose(k, "sign flipped in grad", grad_sign=-1.0),
    ),
    Bug(
        "factor 2 dropped",
        "dJ/dz halved, as when d(y - yhat)^2/dyhat is written -(y - yhat)",
        lambda k, ref: recompose(k, "factor 2 dropped", dJ_dz=lambda z, y: k.dJ_dz(z, y) / 2),
    ),
    Bug(
        "yhat(1 - yhat) missing",
        "dJ/dz = dJ/dyhat: the activation's factor dyhat/dz left out of the chain rule",
        lambda k, ref: recompose(
            k,
            "yhat(1 - yhat) missing",
            dJ_dz=_quiet(lambda z, y: k.dJ_dyhat(y, ref.activation(z))),
        ),
        applies=lambda ref: not ref.chain_factor_trivial,
    ),
    Bug(
        "naive loss",
        "the textbook formulas evaluated as written (BCE: log of a rounded sigmoid; "
        "MSE: the expanded square y^2 - 2 y z + z^2)",
        lambda k, ref: recompose(
            k, "naive loss", dJ_dz=_quiet(ref.naive_dJ_dz), losses=_quiet(ref.naive_loss)
        ),
        applies=lambda ref: ref.has_naive_form,  # exp(z) - y z has no other form
    ),
    Bug(
        "last row dropped",
        "an off-by-one: the loss and gradient average over all rows but the last",
        lambda k, ref: recompose(k, "last row dropped", drop_last_row=True),
    ),
    Bug(
        "update writes its input",
        "update subtracts the step from the caller's w in place",
        lambda k, ref: recompose(k, "update writes its input", in_place=True),
    ),
    Bug(
        "unseeded shuffle",
        "training shuffles with fresh entropy instead of its seed",
        _unseeded,
    ),
    Bug(
        "no input checks",
        "the same arithmetic with no validation of shapes, labels or finiteness",
        lambda k, ref: recompose(k, "no input checks", checks=False),
    ),
    Bug("integers rejected", "only float64 arrays accepted", _float64_only),
    Bug(
        "inf times 0 at an overflowed score",
        "the loss printed as it stands at a score past float64 (no limit), no scaled means",
        _inf_times_0,
    ),
    Bug(
        "sparse X drops its last stored entry",
        "a sparse X loses its last stored entry (CSR order) before the arithmetic",
        lambda k, ref: sparse_bug(k, "sparse X drops its last stored entry", _drop_last_stored),
    ),
    Bug(
        "sparse duplicates overwritten",
        "repeated (row, column) entries of a sparse X: the last kept instead of the sum",
        lambda k, ref: sparse_bug(k, "sparse duplicates overwritten", _duplicates_overwritten),
    ),
    Bug(
        "CSC read as CSR",
        "a CSC X's data, indices and indptr taken for CSR ones: the kernel works on X.T",
        lambda k, ref: sparse_bug(k, "CSC read as CSR", _transposed_read),
    ),
    Bug(
        "CSR loop drops each row's last entry",
        "training's per-sample CSR loop stops one stored entry short in every row",
        _csr_loop_drops_last,
    ),
    Bug(
        "training converts without checking",
        "train() with its input checks replaced by bare float64 conversions",
        _unchecked_training,
    ),
    *WEIGHT_BUGS,
)


# ---------------------------------------------------------------------------
# The second order (tests/properties/test_hessian.py): curvature, hessian, hvp.
# ---------------------------------------------------------------------------
def second_order(
    kernel: ModuleType,
    name: str,
    *,
    curvature: Callable[[np.ndarray, np.ndarray], np.ndarray] | None = None,
    hessian: Callable[..., np.ndarray] | None = None,
    hvp: Callable[..., np.ndarray] | None = None,
) -> SimpleNamespace:
    """The real kernel with its second order replaced where given.

    A replaced ``curvature`` also feeds the Hessian and the product
    (``X~^T diag(c) X~ / m`` and ``X~^T (c * X~ v) / m``), as in the generated code.
    """
    planted = recompose(kernel, name)
    c = curvature or kernel.curvature

    def from_curvature(X, y, w, b):
        A = np.column_stack([X, np.ones(X.shape[0])])
        return (A.T * c(X @ w + b, y)) @ A / X.shape[0]

    def hvp_from_curvature(X, y, w, b, v):
        A = np.column_stack([X, np.ones(X.shape[0])])
        return A.T @ (c(X @ w + b, y) * (A @ v)) / X.shape[0]

    planted.curvature = c
    planted.hessian = hessian or (from_curvature if curvature else kernel.hessian)
    planted.hvp = hvp or (hvp_from_curvature if curvature else kernel.hvp)
    return planted


def _without_intercept_row(kernel: ModuleType) -> Callable[..., np.ndarray]:
    def hvp(X, y, w, b, v):
        out = np.array(kernel.hvp(X, y, w, b, v))
        out[-1] = 0.0
        return out

    return hvp


BUGS.update(
    _bugs(
        Bug(
            "curvature sign flipped",
            "d2J/dz2 negated: a concave Hessian, Newton climbing instead of descending",
            lambda k, ref: second_order(
                k, "curvature sign flipped", curvature=lambda z, y: -k.curvature(z, y)
            ),
        ),
        Bug(
            "curvature squared sigmoid",
            "sigma(z)^2 for sigma(z) sigma(-z): the (1 - yhat) factor written yhat",
            lambda k, ref: second_order(
                k,
                "curvature squared sigmoid",
                curvature=_quiet(lambda z, y: ref.activation(z) ** 2),
            ),
            applies=lambda ref: not ref.chain_factor_trivial,
        ),
        Bug(
            "symmetric half missing",
            "only the upper triangle of the Hessian filled (the lower left at 0)",
            lambda k, ref: second_order(
                k, "symmetric half missing", hessian=lambda *a: np.triu(k.hessian(*a))
            ),
        ),
        Bug(
            "hessian summed, not averaged",
            "X~^T diag(c) X~ without the 1/m",
            lambda k, ref: second_order(
                k,
                "hessian summed, not averaged",
                hessian=lambda X, *a: k.hessian(X, *a) * np.shape(X)[0],
            ),
        ),
        Bug(
            "hvp drops the intercept row",
            "H v with its last entry (the intercept's) left at 0",
            lambda k, ref: second_order(
                k, "hvp drops the intercept row", hvp=_without_intercept_row(k)
            ),
        ),
    )
)


def _dJ_dz_not_rescaled(kernel: ModuleType, ref: Reference) -> ModuleType:
    """The generated module as though its dJ/dz were not homogeneous (``DJ_DZ_DEGREE``
    None): a per-sample dJ/dz past float64 raises where the mean gradient fits."""
    from derivreg import codegen

    planted = codegen.compile(ref.derivation)
    planted.DJ_DZ_DEGREE = None
    return planted


def _rescaled(ref: Reference) -> bool:
    """Whether the pair's kernels rescale a per-sample dJ/dz past float64 (MSE's)."""
    from derivreg.codegen.scaling import dJ_dz_degree

    return dJ_dz_degree(ref.derivation) is not None


#: Issue 17's overflow paths (tests/properties/test_contract.py).
BUGS.update(
    _bugs(
        Bug(
            "dJ/dz not rescaled",
            "a homogeneous dJ/dz past float64 in one row raises instead of being recomputed "
            "at (z, y) / 2**k",
            _dJ_dz_not_rescaled,
            applies=_rescaled,
        ),
    )
)
