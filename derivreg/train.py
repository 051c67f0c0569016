"""Gradient descent over the generated kernels: the lecture's loop, and its relatives.

:func:`train` runs per-sample SGD (``batch_size=1``, the lecture's loop),
mini-batch or full-batch gradient descent.  Every loss value and every
update comes from the generated kernels in :mod:`derivreg.kernels`
(``KERNELS[loss]``), or from a kernel module generated for a pair of one's own
(:func:`derivreg.codegen.write`); this module writes no gradient of its own,
names no loss, and never imports SymPy.

Like the lecture, the :class:`History` records each update's loss and
parameters *before* the update is applied, and for classifiers the
accumulated accuracy (correct predictions so far / samples seen; a
prediction's label is ``yhat > THRESHOLD``, the kernel module's).  An epoch's
loss is the (weighted) mean of its per-sample losses, each before its update,
as scikit-learn's SGD reports it: the loop's own sum, with no pass over X
after the epoch.

Training has one outcome whatever is recorded: every update's batch loss is
computed in every ``record`` mode, and a non-finite loss or parameter, or a
loss past a bound, raises :class:`DivergenceError`, which names the learning
rate and the per-sample step-size bound: SGD on the squared error contracts
only for ``lr < 1/||(x, 1)||^2``, and on the cross-entropy (whose curvature is
at most ``||(x, 1)||^2 / 4``) for ``lr < 8/||(x, 1)||^2``.  A loss that already
overflows at the starting parameters is reported as that overflow: no
learning rate can help.  Every setting is checked before any work, with an
error (:class:`~derivreg._params.InvalidParameterError`, a ``ValueError`` and
a ``TypeError``) that names it and the values it accepts.

Examples
--------
>>> from derivreg.data import lecture
>>> d = lecture("linear-1")
>>> w, b, history = train(d.X, d.y, loss="mse", w0=d.w0, b0=d.b0, lr=d.lr)
>>> len(history), history.w.shape, round(float(history.w[0, 0]), 5)
(100, (100, 1), -0.49787)
"""

from __future__ import annotations

from collections.abc import Callable
from types import ModuleType
from typing import Literal

import numpy as np
from numpy.typing import ArrayLike

from derivreg import _params, fast
from derivreg import _penalty as _pen
from derivreg._epochs import _epochs, _history, _Run, _start
from derivreg._full_batch import (
    SEPARATION_MAX_CELLS,
    SOLVERS,
    Solver,
    _check_solver,
    _full_batch,
    _warn_if_separable,
)
from derivreg._history import DivergenceError, History, TrainResult
from derivreg._params import InvalidParameterError, Seed
from derivreg._sparse import issparse
from derivreg._step_size import (
    STEP_SIZE_NUMERATOR,
    Schedule,
    _check_lr,
    inverse_time,
    step_size_bound,
)
from derivreg._train_checks import (
    _finish,
    _full_batch_penalty,
    _kernel,
    _loop_key,
    _validate,
    _which_loop,
)

__all__ = [
    "SEPARATION_MAX_CELLS",
    "SOLVERS",
    "STEP_SIZE_NUMERATOR",
    "DivergenceError",
    "History",
    "InvalidParameterError",
    "TrainResult",
    "inverse_time",
    "step_size_bound",
    "train",
]

Loss = str | ModuleType | None
Record = Literal["all", "loss", "none"]

#: The most updates a History can index (its ``step`` is an array of np.intp).
MAX_UPDATES = int(np.iinfo(np.intp).max)

Backend = Literal["auto", "numpy", "numba"]

_RECORDS: tuple[Record, ...] = ("all", "loss", "none")
_BACKENDS: tuple[Backend, ...] = ("auto", "numpy", "numba")


# Longer than the package's 60 lines on purpose: train() reads every one of its
# settings here, in one place and in the order its errors are reported,
# then hands the checked values to one of three paths (Dask, a full-batch
# solver, SGD), each a function of its own.
def train(
    X: ArrayLike,
    y: ArrayLike,
    *,
    loss: Loss = None,
    w0: ArrayLike | None = None,
    b0: float = 0.0,
    lr: float | Literal["auto"] | Schedule = 0.01,
    epochs: int = 1,
    batch_size: int | None = 1,
    shuffle: bool = False,
    seed: Seed = None,
    tol: float | None = None,
    n_iter_no_change: int = 5,
    record: Record = "all",
    every: int = 1,
    divergence_factor: float = 1e6,
    progress: Callable[[int, int], None] | None = None,
    backend: Backend = "auto",
    on_update: Callable[[int], object] | None = None,
    solver: Solver = "sgd",
    max_iter: int | None = None,
    check_separation: bool | None = None,
    penalty: Literal["l2", "l1", "elasticnet"] | None = None,
    alpha: float = 0.0001,
    l1_ratio: float = 0.15,
    sample_weight: ArrayLike | None = None,
    fit_intercept: bool = True,
) -> TrainResult:
    """Fit ``w, b`` by gradient descent on the mean loss of each batch.

    Each update is one call of the generated kernel's
    ``update(X_batch, y_batch, w, b, lr)``; the recorded losses come from its
    ``losses``.  With ``batch_size=1`` and no shuffling this is the lecture's
    loop over the samples in order.

    Parameters
    ----------
    X : array_like or scipy.sparse matrix or array of shape (m, n)
        Inputs.  Never written to.  Sparse X (CSR or CSC; other formats are
        converted to CSR, as scikit-learn's ``check_array`` does) is never
        densified: per-sample SGD runs the generated CSR loop
        ``sgd_epoch_csr`` over the stored entries, the other paths the
        kernels on CSR row batches.
    y : array_like of shape (m,)
        Targets; 0 or 1 for a classifier (a kernel whose ``THRESHOLD`` is not
        None).  Never written to.
    loss : str, module or None, default None
        Which generated kernels to train with: a key of
        :data:`derivreg.kernels.KERNELS`; a kernel module generated for a pair
        of one's own by :func:`derivreg.codegen.write` (or
        ``derivreg generate --pair``) and imported; or None for
        :data:`derivreg.kernels.DEFAULT`, the registry's first pair (least
        squares).  A :class:`~derivreg.symbolic.Pair` itself is refused with
        the way to its module: generating kernels needs SymPy, training never
        imports it.
    w0 : array_like of shape (n,), optional
        Initial weights (default zeros).  Copied, never written to.
    b0 : float, default 0.0
        Initial bias.
    lr : float, "auto" or callable, default 0.01
        Constant learning rate, "auto", or a schedule ``lr(t)`` of the update
        index ``t`` (see :func:`inverse_time`).  "auto" is ``1/L``, half the
        step gradient descent on a batch's objective contracts at, with
        ``L`` from the kernel's ``STEP_SIZE_NUMERATOR``, the rows and the L2
        strength (:func:`derivreg._penalty.auto_lr`; full batches use the
        largest eigenvalue of ``X~^T X~ / m``).  A constant rate must be a finite
        float > 0; a schedule is called once per update and must return a
        finite float >= 0 every time (a negative rate, gradient ascent, is
        refused at the update that asks for it).
    epochs : int, default 1
        Passes over the data (at most ``2**63 - 1`` updates in all).
    batch_size : int or None, default 1
        Samples per update; None (or ``>= m``) for full-batch descent.  The
        last batch of an epoch may be smaller.
    shuffle : bool, default False
        Visit the samples in a new random order each epoch.
    seed : int >= 0, numpy.random.Generator or None, default None
        Seed of the shuffling (``np.random.default_rng``).
    tol : float or None, default None
        With ``solver="sgd"``: stop early when the epoch's loss (see
        ``History.epoch_loss``) has not improved on the best so far by at least ``tol`` for
        ``n_iter_no_change`` epochs in a row (None never stops early); and
        at the end, warn (:class:`~derivreg.solvers.ConvergenceWarning`)
        when the full-batch gradient's largest entry exceeds ``tol``.  With
        a full-batch solver: the gradient tolerance it stops at (a float
        > 0; None means 1e-8).  Either way ``history.converged`` is
        ``max |dJ/dtheta| <= tol`` at the final parameters, one definition
        for every solver.
    n_iter_no_change : int, default 5
        Epochs without improvement before stopping (with ``tol``).
    record : {"all", "loss", "none"}, default "all"
        What :class:`History` keeps: loss, w, b (and accuracy); loss (and
        accuracy) only; or nothing per update (fastest, least memory; with
        ``tol=None`` no final gradient either, ``grad_norm`` is None).  The
        epoch losses and the divergence checks are the same in every mode.
    every : int, default 1
        Keep every ``every``-th update's entry (the accuracy still counts
        every sample).  Any positive int; past the number of updates, only
        update 0 is kept.
    divergence_factor : float, default 1e6
        A batch loss above ``divergence_factor * max(1, largest per-sample
        loss at the start)`` counts as divergence.  ``inf`` turns the bound
        off; a non-finite loss or parameter is divergence whatever the
        factor.
    progress : callable, optional
        Called as ``progress(epoch, epochs)`` after each epoch.
    on_update : callable, optional
        Progress within epochs: called as ``on_update(t)`` with ``t`` the
        updates done so far, after every block of
        :data:`derivreg.progress.UPDATE_BLOCK` updates and at each epoch's end.
    backend : {"auto", "numpy", "numba"}, default "auto"
        Per-sample SGD (``batch_size=1``) runs a whole epoch in the
        generated, validated ``sgd_epoch`` loop (:mod:`derivreg.fast`), with
        a schedule's rates for the epoch (computed and checked before it),
        the sample weights, the penalty (the derived L2 gradient and the L1
        proximal step) and ``fit_intercept=False`` inside it: in CPython with
        ``"numpy"`` (up to 32 features, or a sparse X of any width; more use
        the NumPy kernels per sample), compiled by numba with ``"numba"``
        (``pip install 'derivreg[fast]'``); ``"auto"`` is ``"numba"`` when
        numba is installed and the run has per-sample epochs of at least
        :data:`derivreg.fast.AUTO_NUMBA_UPDATES` updates in all (or more
        than 32 features), else ``"numpy"``.  Other batch sizes use the NumPy
        kernels.  All give the same History as the per-sample kernel calls,
        up to rounding; ``History.backend`` says which ran.
    solver : {"sgd", "gd", "newton", "lbfgs"}, default "sgd"
        ``"sgd"`` is the lecture's loop (with ``lr``, ``epochs``,
        ``batch_size``, ...).  The others are full-batch solvers of
        :mod:`derivreg.solvers`, which choose their own steps and use only
        ``w0``, ``b0``, ``tol``, ``max_iter`` and ``record`` (``"none"``
        drops the per-iteration losses; no parameter track is kept):
        gradient descent with a Barzilai-Borwein step and Armijo line
        search; Newton (needs the kernel module's per-sample ``curvature``
        ``d2J/dz2``); L-BFGS (needs SciPy, the extra ``scipy``).
    max_iter : int or None, default None
        Iterations of a full-batch solver (None: 10,000 for ``"gd"``, 100 for
        ``"newton"``, 1,000 for ``"lbfgs"``).  Unused by ``"sgd"``.
    check_separation : bool or None, default None
        For a classification kernel (its module's ``TARGETS`` is
        ``"binary"``) with SciPy installed and ``m * (n + 1) <=``
        :data:`SEPARATION_MAX_CELLS`, decide by a linear program whether the
        classes are linearly separable, and if so warn
        (:class:`~derivreg.separation.SeparationWarning`): the
        maximum-likelihood estimate does not exist.  None checks the fits
        that aim at the optimum, a full-batch solver or SGD with a ``tol``,
        and not the lecture's fixed-budget loop (SGD with ``tol=None``),
        whose trajectory is the point, and whose separable data
        (erratum 3) would warn on every run.  True or False decides it
        (True still skips data past the threshold).
    penalty : {None, "l2", "l1", "elasticnet"}, default None
        scikit-learn's: the objective is the (weighted) mean loss plus
        ``alpha * (l1_ratio ||w||_1 + (1 - l1_ratio)/2 ||w||^2)``, ``b`` never
        penalised ("l2": ``l1_ratio = 0``; "l1": 1).  The L2 gradient is the
        kernels' generated ``alpha * w``; the L1 part is the generated
        proximal step ``soft_threshold`` after each update (SGD only: the
        full-batch solvers take None or "l2").  With a penalty,
        ``epoch_loss`` and ``tol`` are about the objective.
    alpha : float >= 0, default 0.0001
        The penalty's strength (unused without a penalty).
    l1_ratio : float in [0, 1], default 0.15
        The L1 share of an elastic net.
    sample_weight : array_like of shape (m,) or float, optional
        scikit-learn's: finite, >= 0, not all zero.  Batches and full-batch
        solvers minimise the weighted mean; per-sample SGD scales each
        sample's step by its weight (as ``SGDRegressor``), not the penalty's.
    fit_intercept : bool, default True
        False keeps ``b = 0`` (``b0`` is ignored).

    Returns
    -------
    TrainResult
        ``(w, b, history)``: final weights (n,), final bias, :class:`History`
        (with ``solver``, ``n_iter``, ``converged`` and ``grad_norm``).

    Warns
    -----
    ConvergenceWarning
        A full-batch solver stopped at ``max_iter`` with the gradient above
        ``tol``; or SGD with a ``tol`` ended with the full-batch gradient's
        largest entry above ``tol`` (it stopped far from a stationary point).
    SeparationWarning
        The classes of a classification kernel are linearly separable.

    Raises
    ------
    DivergenceError
        If a loss or parameter becomes non-finite, or a loss passes the
        bound, whatever ``record`` and ``every`` say: the batch losses that
        decide it are computed in every mode.  A loss that is already
        non-finite at the starting parameters (it overflows float64) gets
        its own message, which names the overflow, not the learning rate.
    InvalidParameterError
        On a bad setting, before any work: the message names the setting and
        the values it accepts.  Both a ValueError and a TypeError.
    ValueError
        On bad data (shapes, NaN or infinity, labels); with
        ``solver="newton"`` for a kernel module without ``curvature``.
    ImportError
        With ``solver="lbfgs"`` and SciPy not installed.

    Examples
    --------
    >>> import numpy as np
    >>> X = np.array([[0.0], [1.0], [2.0]])
    >>> y = 2 * X[:, 0] + 1
    >>> w, b, h = train(X, y, lr=0.1, epochs=500, record="none")
    >>> np.round(w, 6).tolist(), round(b, 6)
    ([2.0], 1.0)
    """
    if hasattr(X, "__dask_graph__") or hasattr(y, "__dask_graph__"):  # Dask: out of core
        from derivreg._dask_train import train_dask  # the extra 'dask'

        return train_dask(X, y, **{k: v for k, v in locals().items() if k not in ("X", "y")})
    solver = _params.choice("solver", solver, "train", SOLVERS)
    kernel = _kernel(loss)
    X, y, w, b = _validate(X, y, w0, b0, kernel)
    key = _loop_key(kernel)
    m, sparse = X.shape[0], issparse(X)
    pen = _pen.check_penalty(penalty, alpha, l1_ratio, "train")
    fit_intercept = _params.flag("fit_intercept", fit_intercept, "train")
    b = b if fit_intercept else 0.0
    weights = _pen.check_weights(sample_weight, X)
    schedule: Schedule | None = lr if callable(lr) else None
    auto = isinstance(lr, str) and lr == "auto"
    rate = 0.0 if schedule is not None or auto else _check_lr(lr)
    epochs = _params.count("epochs", epochs, "train")
    bs = _params.count("batch_size", batch_size, "train", none=True)
    bs = m if bs is None else min(bs, m)
    if auto:
        rate = _pen.auto_lr(
            kernel, X, batch_size=bs, penalty=pen, weights=weights,
            fit_intercept=fit_intercept, per_sample=batch_size == 1,
        )  # fmt: skip
    every = _params.count("every", every, "train")
    n_iter_no_change = _params.count("n_iter_no_change", n_iter_no_change, "train")
    record = _params.choice("record", record, "train", _RECORDS)
    tol = _params.real("tol", tol, "train", 0.0, high_open=True, none=True)
    factor = _params.real("divergence_factor", divergence_factor, "train", 1.0, low_open=True)
    shuffle = _params.flag("shuffle", shuffle, "train")
    rng_seed = _params.seed("seed", seed, "train")
    if progress is not None and not callable(progress):
        raise _params.refuse(
            "progress", "train", "a callable progress(epoch, epochs) or None", progress
        )
    if on_update is not None and not callable(on_update):
        raise _params.refuse("on_update", "train", "a callable on_update(t) or None", on_update)
    backend = _params.choice("backend", backend, "train", _BACKENDS)
    max_iter = _params.count("max_iter", max_iter, "train", none=True)
    separation = solver != "sgd" or tol is not None
    if check_separation is not None:
        separation = _params.flag("check_separation", check_separation, "train")
    if solver != "sgd":
        if tol is not None and not tol > 0:
            raise _params.refuse("tol", "train", "a float in the range (0.0, inf) or None", tol)
        _check_solver(solver, kernel)
        _full_batch_penalty(solver, pen, penalty)
    if separation:
        _warn_if_separable(kernel, X, y)
    if solver != "sgd":
        return _full_batch(
            solver, kernel, X, y, w=w, b=b, max_iter=max_iter, tol=tol, record=record,
            weights=weights, alpha=pen.l2, fit_intercept=fit_intercept,
        )  # fmt: skip
    per_epoch = -(-m // bs)
    if epochs > MAX_UPDATES // per_epoch:
        accepted = (
            f"an int in the range [1, {MAX_UPDATES // per_epoch}] ({per_epoch} updates per epoch)"
        )
        raise _params.refuse("epochs", "train", accepted, epochs)
    chosen = fast.auto(m * epochs, X.shape[1], per_sample=bs == 1) if backend == "auto" else backend
    loop = _which_loop(chosen, key, kernel, sparse, X.shape[1])
    # one row of a full batch (m = 1) is a mean, whose weight does not scale the step
    per_sample = loop is not None and bs == 1 and (weights is None or batch_size == 1)
    # past the number of updates, every keeps update 0 only: clip it to fit np.intp
    run = _Run(key, kernel, X, y, rate, schedule, bs, min(every, epochs * per_epoch), record)
    run.bound = factor
    run.on_update = on_update
    if per_sample and loop == "numba" and isinstance(key, str):
        run.fused_losses = fast.fused_serial(key)["losses"]
    run.weights = run.all_weights = weights
    run.penalty, run.fit_intercept = pen, fit_intercept
    run.per_sample_weights = batch_size == 1  # as asked: one row of a full batch is a mean
    _start(run, w, b)
    rng = np.random.default_rng(rng_seed) if shuffle else None
    w, b, epoch_loss, stopped = _epochs(
        run, w, b, epochs=epochs, shuffle=rng, loop=loop if per_sample else None,
        stop=(tol, n_iter_no_change), progress=progress,
    )  # fmt: skip
    history = _history(run, epoch_loss, per_sample=per_sample, stopped=stopped)
    w = np.asarray(w, dtype=np.float64)
    fit = (X, y, w, float(b), weights, pen, fit_intercept)
    ended = {"tol": tol, "record": record, "epochs": epochs, "stopped": stopped}
    history = _finish(history, kernel, key, fit, loop if per_sample else None, ended)
    return TrainResult(w, float(b), history)
