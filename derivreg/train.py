"""Gradient descent over the generated kernels: the lecture's loop, and its relatives.

:func:`train` runs per-sample SGD (``batch_size=1``, the lecture's loop),
mini-batch or full-batch gradient descent.  Every loss value and every
update comes from the generated kernels in :mod:`derivreg.kernels`
(``KERNELS["mse"]`` or ``KERNELS["bce"]``); this module writes no gradient of
its own, and never imports SymPy.

Like the lecture, the :class:`History` records each update's loss and
parameters *before* the update is applied, and for classifiers the
accumulated accuracy (correct predictions so far / samples seen).

Divergence is detected: a non-finite loss or parameter, or a loss past a
bound, raises :class:`DivergenceError`, which names the learning rate and
the per-sample step-size bound: SGD on the squared error contracts only for
``lr < 1/||(x, 1)||^2``, and on the cross-entropy (whose curvature is at most
``||(x, 1)||^2 / 4``) for ``lr < 8/||(x, 1)||^2``.

Examples
--------
>>> from derivreg.data import lecture
>>> d = lecture("linear-1")
>>> w, b, history = train(d.X, d.y, loss="mse", w0=d.w0, b0=d.b0, lr=d.lr)
>>> len(history), history.w.shape, round(float(history.w[0, 0]), 5)
(100, (100, 1), -0.49787)
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from types import ModuleType
from typing import Literal, NamedTuple

import numpy as np

__all__ = [
    "STEP_SIZE_NUMERATOR",
    "DivergenceError",
    "History",
    "TrainResult",
    "inverse_time",
    "step_size_bound",
    "train",
]

Loss = Literal["mse", "bce"]
Record = Literal["all", "loss", "none"]
Schedule = Callable[[int], float]

#: Per-sample SGD on loss ``k`` is stable for ``lr < STEP_SIZE_NUMERATOR[k] / ||(x, 1)||^2``:
#: the per-sample curvature along ``(x, 1)`` is ``2 ||(x, 1)||^2`` for the squared
#: error and at most ``||(x, 1)||^2 / 4`` for the cross-entropy, and gradient
#: descent on a quadratic of curvature ``L`` contracts for ``lr < 2 / L``.
STEP_SIZE_NUMERATOR: dict[str, float] = {"mse": 1.0, "bce": 8.0}

#: BCE is ``-log`` of the probability given to the true label.  The predicted
#: label is 1 when ``yhat > 1/2`` (the lecture's ``pred > 0.5``), so a sample with
#: y = 1 is right when its loss is below ``log 2``, and one with y = 0 when its
#: loss is at most ``log 2`` (a tie, ``yhat = 1/2``, predicts 0).  The accuracy is
#: read off the kernel's per-sample losses, without another kernel call.
_LOG2 = math.log(2.0)

#: Updates between two ``on_update`` calls (the progress bar's hook).
_BLOCK = 65_536


class DivergenceError(FloatingPointError):
    """Training diverged: a non-finite value, or a loss past the divergence bound.

    Attributes
    ----------
    lr : float
        The learning rate of the failing update.
    step_size_bound : float
        ``c / max ||(x, 1)||^2`` over the samples seen so far (``c`` is 1 for
        MSE, 8 for BCE); per-sample SGD is stable below it.
    update : int
        Index of the update at which divergence was detected.
    loss : float
        The offending loss value (nan when a parameter became non-finite).

    Examples
    --------
    >>> import numpy as np
    >>> X, y = np.array([[3.0], [-2.0]]), np.array([1.0, 2.0])
    >>> try:
    ...     train(X, y, lr=1.0, epochs=50)
    ... except DivergenceError as err:
    ...     print(round(err.step_size_bound, 3), err.lr)
    0.1 1.0
    """

    def __init__(
        self, message: str, *, lr: float, step_size_bound: float, update: int, loss: float
    ) -> None:
        super().__init__(message)
        self.lr = lr
        self.step_size_bound = step_size_bound
        self.update = update
        self.loss = loss


@dataclass(frozen=True)
class History:
    """What happened during :func:`train`, one entry per recorded update.

    Each entry is taken *before* its update, as in the lecture: ``loss[k]``
    is the loss of the batch the update ``step[k]`` is about to use, under
    the parameters ``w[k]``, ``b[k]`` it starts from.

    Parameters
    ----------
    step : ndarray of int, shape (k,)
        Index of the update each entry belongs to (``0, every, 2 every, ...``).
    loss : ndarray of shape (k,) or None
        Mean loss of the batch before the update; None with ``record="none"``.
    w : ndarray of shape (k, n) or None
        Weights before the update; only with ``record="all"``.
    b : ndarray of shape (k,) or None
        Bias before the update; only with ``record="all"``.
    accuracy : ndarray of shape (k,) or None
        Accumulated accuracy for classifiers (BCE): correct predictions
        before their update so far / samples seen so far.  None for MSE or
        ``record="none"``.
    epoch_loss : ndarray of shape (epochs run,)
        Mean loss over the whole data set after each epoch.
    n_updates : int
        Number of updates made.
    stopped_early : bool
        True when the tolerance stopped training before the last epoch.

    Examples
    --------
    >>> import numpy as np
    >>> h = train(np.ones((4, 1)), np.ones(4), record="loss", every=2).history
    >>> h.step.tolist(), h.w is None, len(h), h.n_updates
    ([0, 2], True, 2, 4)
    """

    step: np.ndarray
    loss: np.ndarray | None
    w: np.ndarray | None
    b: np.ndarray | None
    accuracy: np.ndarray | None
    epoch_loss: np.ndarray
    n_updates: int
    stopped_early: bool

    def __len__(self) -> int:
        return len(self.step)

    @property
    def n_epochs(self) -> int:
        """Number of epochs run.

        Examples
        --------
        >>> import numpy as np
        >>> train(np.ones((4, 1)), np.ones(4), epochs=3).history.n_epochs
        3
        """
        return len(self.epoch_loss)


class TrainResult(NamedTuple):
    """Final parameters and history of :func:`train`; unpacks as ``w, b, history``."""

    w: np.ndarray
    b: float
    history: History


def inverse_time(lr: float, decay: float) -> Schedule:
    """Decaying learning rate ``lr / (1 + decay * t)`` for update ``t``.

    Parameters
    ----------
    lr : float
        Learning rate of the first update (positive).
    decay : float
        Decay per update (non-negative).

    Returns
    -------
    callable
        ``schedule(t) -> float``, to pass as ``train(..., lr=schedule)``.

    Examples
    --------
    >>> s = inverse_time(0.1, 0.5)
    >>> s(0), s(2)
    (0.1, 0.05)
    """
    lr = _check_lr(lr)
    if not (math.isfinite(decay) and decay >= 0):
        raise ValueError(f"decay must be a finite number >= 0, got {decay!r}")
    return lambda t: lr / (1.0 + decay * t)


def step_size_bound(X: np.ndarray, loss: Loss = "mse") -> float:
    """Return the per-sample SGD step-size bound ``c / max_i ||(x_i, 1)||^2``.

    ``c`` is :data:`STEP_SIZE_NUMERATOR` of the loss: 1 for MSE, 8 for BCE.

    Parameters
    ----------
    X : array_like of shape (m, n)
        The samples.
    loss : {"mse", "bce"}, default "mse"

    Returns
    -------
    float

    Examples
    --------
    >>> step_size_bound([[1.0, 2.0], [0.0, 1.0]])  # ||(1, 2, 1)||^2 = 6
    0.16666666666666666
    >>> step_size_bound([[1.0, 2.0]], "bce")
    1.3333333333333333
    """
    X = np.asarray(X, dtype=np.float64)
    if X.ndim != 2 or X.shape[0] == 0:
        raise ValueError(f"X must be a non-empty 2-D array, got shape {X.shape}")
    return STEP_SIZE_NUMERATOR[loss] / float(np.max(np.einsum("ij,ij->i", X, X)) + 1.0)


def _kernel(loss: str) -> ModuleType:
    from derivreg.kernels import KERNELS

    if loss not in KERNELS:
        raise ValueError(f"unknown loss {loss!r}; expected one of {sorted(KERNELS)}")
    return KERNELS[loss]


def _check_lr(lr: float) -> float:
    if isinstance(lr, bool) or not isinstance(lr, (int, float, np.floating, np.integer)):
        raise TypeError(f"lr must be a number or a callable schedule, got {lr!r}")
    if not (math.isfinite(lr) and lr > 0):
        raise ValueError(f"lr must be a finite number > 0, got {lr!r}")
    return float(lr)


def _check_count(name: str, value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"{name} must be a positive integer, got {value!r}")
    if value < 1:
        raise ValueError(f"{name} must be a positive integer, got {value!r}")
    return int(value)


def _finite(name: str, a: np.ndarray) -> None:
    if not np.isfinite(a).all():
        what = "NaN" if np.isnan(a).any() else "infinity or a value too large for dtype('float64')"
        raise ValueError(f"Input {name} contains {what}.")


def _as_float(name: str, value: object, *, copy: bool = False) -> np.ndarray:
    """``value`` as a contiguous float64 array (a copy if asked), or a ValueError naming it."""
    if np.iscomplexobj(value):
        raise ValueError(f"{name} must be real, got a complex array")
    try:
        if copy:
            return np.array(value, dtype=np.float64)
        return np.ascontiguousarray(value, dtype=np.float64)
    except (TypeError, ValueError) as err:
        raise ValueError(f"{name} cannot be converted to float64: {err}") from None


def _validate(
    X: object, y: object, w0: object, b0: object, loss: str
) -> tuple[np.ndarray, np.ndarray, np.ndarray, float]:
    X = _as_float("X", X)
    y = _as_float("y", y)
    if X.ndim != 2:
        raise ValueError(f"Expected 2D array X of shape (m, n), got {X.ndim}D array instead")
    m, n = X.shape
    if m == 0 or n == 0:
        raise ValueError(f"X must have at least one sample and one feature, got shape {X.shape}")
    if y.shape != (m,):
        raise ValueError(f"y must have shape ({m},) to match X of shape {X.shape}, got {y.shape}")
    _finite("X", X)
    _finite("y", y)
    if loss == "bce" and not np.isin(y, (0.0, 1.0)).all():
        raise ValueError("BCE targets must be 0 or 1; got values outside {0, 1}")
    w = np.zeros(n) if w0 is None else _as_float("w0", w0, copy=True)
    if w.shape != (n,):
        raise ValueError(f"w0 must have shape ({n},) to match X of shape {X.shape}, got {w.shape}")
    _finite("w0", w)
    b = float(b0)  # type: ignore[arg-type]
    if not math.isfinite(b):
        raise ValueError(f"b0 must be finite, got {b}")
    return X, y, w, b


def train(
    X: np.ndarray,
    y: np.ndarray,
    *,
    loss: Loss = "mse",
    w0: np.ndarray | None = None,
    b0: float = 0.0,
    lr: float | Schedule = 0.01,
    epochs: int = 1,
    batch_size: int | None = 1,
    shuffle: bool = False,
    seed: int | None = None,
    tol: float | None = None,
    n_iter_no_change: int = 5,
    record: Record = "all",
    every: int = 1,
    divergence_factor: float = 1e6,
    progress: Callable[[int, int], None] | None = None,
    backend: Literal["numpy", "numba"] = "numpy",
    on_update: Callable[[int], object] | None = None,
) -> TrainResult:
    """Fit ``w, b`` by gradient descent on the mean loss of each batch.

    Each update is one call of the generated kernel's
    ``update(X_batch, y_batch, w, b, lr)``; the recorded losses come from its
    ``losses``.  With ``batch_size=1`` and no shuffling this is the lecture's
    loop over the samples in order.

    Parameters
    ----------
    X : array_like of shape (m, n)
        Inputs.  Never written to.
    y : array_like of shape (m,)
        Targets; 0 or 1 for ``loss="bce"``.  Never written to.
    loss : {"mse", "bce"}, default "mse"
        Which generated kernel to train with.
    w0 : array_like of shape (n,), optional
        Initial weights (default zeros).  Copied, never written to.
    b0 : float, default 0.0
        Initial bias.
    lr : float or callable, default 0.01
        Constant learning rate, or a schedule ``lr(t)`` of the update index
        ``t`` (see :func:`inverse_time`).
    epochs : int, default 1
        Passes over the data.
    batch_size : int or None, default 1
        Samples per update; None (or ``>= m``) for full-batch descent.  The
        last batch of an epoch may be smaller.
    shuffle : bool, default False
        Visit the samples in a new random order each epoch.
    seed : int or None, default None
        Seed of the shuffling (``np.random.default_rng``).
    tol : float or None, default None
        Stop early when the epoch's mean loss over all data has not improved
        on the best so far by at least ``tol`` for ``n_iter_no_change``
        epochs in a row.  None never stops early.
    n_iter_no_change : int, default 5
        Epochs without improvement before stopping (with ``tol``).
    record : {"all", "loss", "none"}, default "all"
        What :class:`History` keeps: loss, w, b (and accuracy); loss (and
        accuracy) only; or nothing per update (fastest, least memory).
    every : int, default 1
        Keep every ``every``-th update's entry (the accuracy still counts
        every sample).
    divergence_factor : float, default 1e6
        A batch loss above ``divergence_factor * max(1, largest per-sample
        loss at the start)`` counts as divergence.
    progress : callable, optional
        Called as ``progress(epoch, epochs)`` after each epoch.
    backend : {"numpy", "numba"}, default "numpy"
        Per-sample SGD with a constant learning rate (``batch_size=1``) runs
        a whole epoch in the generated, validated ``sgd_epoch`` loop
        (:mod:`derivreg.fast`): in CPython with ``"numpy"`` (up to 32
        features; more use the NumPy kernels per sample), compiled by numba
        with ``"numba"`` (``pip install 'derivreg[fast]'``).  Other batch
        sizes and schedules use the NumPy kernels.  Both give the same
        History as the per-sample kernel calls, up to rounding.
    on_update : callable, optional
        Progress within epochs: called as ``on_update(t)`` with ``t`` the
        updates done so far, after every block of
        :data:`derivreg.progress.UPDATE_BLOCK` updates and at each epoch's end.

    Returns
    -------
    TrainResult
        ``(w, b, history)``: final weights (n,), final bias, :class:`History`.

    Raises
    ------
    DivergenceError
        If a loss or parameter becomes non-finite, or a loss passes the bound.
    ValueError
        On bad input (shapes, NaN or infinity, labels, settings).

    Examples
    --------
    >>> import numpy as np
    >>> X = np.array([[0.0], [1.0], [2.0]])
    >>> y = 2 * X[:, 0] + 1
    >>> w, b, h = train(X, y, lr=0.1, epochs=500, record="none")
    >>> np.round(w, 6).tolist(), round(b, 6)
    ([2.0], 1.0)
    """
    kernel = _kernel(loss)
    X, y, w, b = _validate(X, y, w0, b0, loss)
    m = X.shape[0]
    schedule: Schedule | None = lr if callable(lr) else None
    lr_t = 0.0 if callable(lr) else _check_lr(lr)
    epochs = _check_count("epochs", epochs)
    bs = m if batch_size is None else min(_check_count("batch_size", batch_size), m)
    every = _check_count("every", every)
    n_iter_no_change = _check_count("n_iter_no_change", n_iter_no_change)
    if record not in ("all", "loss", "none"):
        raise ValueError(f"record must be 'all', 'loss' or 'none', got {record!r}")
    if tol is not None and not (math.isfinite(tol) and tol >= 0):
        raise ValueError(f"tol must be a finite number >= 0 or None, got {tol!r}")
    if not divergence_factor > 1:
        raise ValueError(f"divergence_factor must be > 1, got {divergence_factor!r}")
    if backend not in ("numpy", "numba"):
        raise ValueError(f"backend must be 'numpy' or 'numba', got {backend!r}")
    loop = "numba" if backend == "numba" else "python" if X.shape[1] <= 32 else None
    if backend == "numba":
        from derivreg import fast

        fast.compiled(loss)  # ImportError naming the extra, before any work
    per_sample = loop is not None and bs == 1 and schedule is None

    losses, update = kernel.losses, kernel.update
    # X, y, w, b were checked by _validate: the unchecked kernel saves a pass over y
    bound = divergence_factor * max(1.0, float(np.max(kernel._losses(X, y, w, b))))
    keep_loss, keep_params = record != "none", record == "all"
    classifier = loss == "bce"
    rng = np.random.default_rng(seed) if shuffle else None

    steps: list[int] = []
    loss_track: list[float] = []
    w_track: list[np.ndarray] = []
    b_track: list[float] = []
    acc_track: list[float] = []
    epoch_loss: list[float] = []
    t = seen = n_correct = 0
    stopped_early = False
    best, stale = math.inf, 0
    Xe, ye = X, y

    def diverged(what: str, value: float) -> DivergenceError:
        n_seen = min(seen, m)
        limit = step_size_bound(X if seen >= m else Xe[: max(1, seen)], loss)
        rate = schedule(t) if schedule is not None else lr_t
        side = "exceeds" if rate > limit else "is within"
        return DivergenceError(
            f"training diverged at update {t} (epoch {epoch + 1}): {what}; "
            f"the learning rate {rate:g} {side} the per-sample step-size bound "
            f"{STEP_SIZE_NUMERATOR[loss]:g}/max||(x,1)||^2 = {limit:.4g} over the "
            f"{n_seen} samples seen; lower the learning rate",
            lr=rate,
            step_size_bound=limit,
            update=t,
            loss=value,
        )

    epoch = 0
    with np.errstate(over="ignore", invalid="ignore"):  # divergence is reported below
        for epoch in range(epochs):
            if rng is not None:
                order = rng.permutation(m)
                Xe, ye = X[order], y[order]
            if per_sample:
                from derivreg.fast import epoch as run_epoch

                # The generated sgd_epoch runs the whole epoch; the History is
                # read off its per-sample losses, exactly as the loop below keeps it.
                first = -t % every
                record = (every, first) if keep_params else (m, 0)
                if on_update is None:
                    r = run_epoch(loss, Xe, ye, w, b, lr_t, *record, loop)
                else:  # the same epoch in blocks of rows, reporting after each
                    from derivreg.progress import epoch_in_blocks

                    r = epoch_in_blocks(
                        run_epoch, on_update, t, loss, Xe, ye, w, b, lr_t, *record, loop
                    )
                J = r.J
                if keep_loss or not (np.isfinite(r.w).all() and math.isfinite(r.b)):
                    bad = np.flatnonzero(~(bound >= J))  # NaN is past the bound too
                    if len(bad):
                        i = int(bad[0])
                        t, seen = t + i, seen + i + 1
                        if not keep_loss:
                            raise diverged("an update made the parameters non-finite", math.nan)
                        what = f"the batch loss reached {J[i]:.4g}, past {bound:.4g}"
                        raise diverged(what, float(J[i]))
                if keep_loss:
                    # one array per epoch (joined at the end), not one object per update
                    kept = np.arange(first, m, every)
                    steps.append(t + kept)
                    loss_track.append(J[kept])
                    if keep_params:
                        w_track.append(r.w_track)
                        b_track.append(r.b_track)
                    if classifier:
                        right = np.where(ye == 1.0, J < _LOG2, J <= _LOG2)
                        correct = n_correct + np.cumsum(right)
                        acc_track.append(correct[kept] / (seen + kept + 1))
                        n_correct = int(correct[-1])
                t, seen, w, b = t + m, seen + m, r.w, r.b
            else:
                try:
                    for start in range(0, m, bs):
                        Xb, yb = Xe[start : start + bs], ye[start : start + bs]
                        nb = len(yb)
                        if schedule is not None:
                            lr_t = schedule(t)
                        if keep_loss:
                            L = losses(Xb, yb, w, b)
                            if nb == 1:
                                J_batch = L.item()
                                n_correct += J_batch < _LOG2 if yb[0] else J_batch <= _LOG2
                            else:
                                J_batch = float(L.mean())
                                right = np.where(yb == 1.0, L < _LOG2, L <= _LOG2)
                                n_correct += int(np.count_nonzero(right))
                            seen += nb
                            if not J_batch <= bound:
                                raise diverged(
                                    f"the batch loss reached {J_batch:.4g}, past {bound:.4g}",
                                    J_batch,
                                )
                            if t % every == 0:
                                steps.append(t)
                                loss_track.append(J_batch)
                                if keep_params:
                                    w_track.append(w)
                                    b_track.append(b)
                                if classifier:
                                    acc_track.append(n_correct / seen)
                        else:
                            seen += nb
                        w, b = update(Xb, yb, w, b, lr_t)
                        t += 1
                        if on_update is not None and t % _BLOCK == 0:
                            on_update(t)
                except ValueError as err:
                    # The kernels reject non-finite input: an update made w or b non-finite.
                    if np.isfinite(w).all() and math.isfinite(b):
                        raise
                    raise diverged("an update made the parameters non-finite", math.nan) from err
            b = float(b)
            if not (np.isfinite(w).all() and math.isfinite(b)):
                raise diverged("an update made the parameters non-finite", math.nan)
            J_epoch = float(np.mean(kernel._losses(X, y, w, b)))  # w, b finite: checked above
            if not J_epoch <= bound:
                raise diverged(f"the mean loss reached {J_epoch:.4g}, past {bound:.4g}", J_epoch)
            epoch_loss.append(J_epoch)
            if on_update is not None:
                on_update(t)
            if progress is not None:
                progress(epoch + 1, epochs)
            if tol is not None:
                stale = stale + 1 if J_epoch > best - tol else 0
                best = min(best, J_epoch)
                if stale >= n_iter_no_change and epoch + 1 < epochs:
                    stopped_early = True
                    break

    def joined(track: list, dtype: type = np.float64) -> np.ndarray:
        # per-sample epochs keep one array per epoch; the loop below, one entry per update
        if per_sample:
            return np.concatenate(track).astype(dtype) if track else np.empty(0, dtype)
        return np.array(track, dtype=dtype)

    history = History(
        step=joined(steps, np.intp),
        loss=joined(loss_track) if keep_loss else None,
        w=joined(w_track).reshape(-1, X.shape[1]) if keep_params else None,
        b=joined(b_track) if keep_params else None,
        accuracy=joined(acc_track) if classifier and keep_loss else None,
        epoch_loss=np.array(epoch_loss),
        n_updates=t,
        stopped_early=stopped_early,
    )
    return TrainResult(np.asarray(w, dtype=np.float64), float(b), history)
