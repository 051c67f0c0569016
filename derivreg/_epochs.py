"""The epochs of :func:`derivreg.train.train`: step-size bound, divergence, History.

Divergence is decided by :func:`_first_past` and :func:`_finite_params`, on
quantities computed whatever ``record`` says (every update's batch loss, the
parameters, the mean loss after each epoch), so that training has one outcome
in every mode.  Everything public here is importable from :mod:`derivreg.train`.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from types import ModuleType

import numpy as np

from derivreg import _losses, _params, fast
from derivreg import _penalty as _pen
from derivreg import progress as _progress
from derivreg._history import DivergenceError, History
from derivreg._params import InvalidParameterError
from derivreg._sparse import as_csr, issparse, row, row_norms2, stored
from derivreg.kernels import KERNELS

__all__ = ["STEP_SIZE_NUMERATOR", "inverse_time", "step_size_bound"]

Schedule = Callable[[int], float]

#: Per-sample SGD on loss ``k`` is stable for ``lr < STEP_SIZE_NUMERATOR[k] / ||(x, 1)||^2``:
#: the per-sample curvature along ``(x, 1)`` is at most ``sup d2J/dz2 ||(x, 1)||^2``,
#: and gradient descent on a quadratic of curvature ``L`` contracts for
#: ``lr < 2 / L``.  Each kernel module carries its ``2 / sup d2J/dz2``, printed from
#: its derivation (1 for MSE, 8 for BCE); this maps the registered ones by name.
STEP_SIZE_NUMERATOR: dict[str, float] = {
    name: module.STEP_SIZE_NUMERATOR for name, module in KERNELS.items()
}

#: BCE is ``-log`` of the probability given to the true label.  The predicted
#: label is 1 when ``yhat > 1/2`` (the lecture's ``pred > 0.5``), so a sample with
#: y = 1 is right when its loss is below ``log 2``, and one with y = 0 when its
#: loss is at most ``log 2`` (a tie, ``yhat = 1/2``, predicts 0).  The accuracy is
#: read off the kernel's per-sample losses, without another kernel call.
_LOG2 = math.log(2.0)


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
    lr = _check_lr(lr, "inverse_time")
    decay = _params.real("decay", decay, "inverse_time", 0.0, high_open=True)
    return lambda t: lr / (1.0 + decay * t)


def _max_norm2(X: np.ndarray) -> tuple[float, float]:
    """``max_i ||(x_i, 1)||^2`` (inf if it overflows) and its log10, finite even then."""
    with np.errstate(over="ignore"):
        q = float(np.max(row_norms2(X))) + 1.0
    if math.isfinite(q):
        return q, math.log10(q)
    s = float(np.max(np.abs(stored(X))))  # > 1e154: the squares are scaled by 1/s^2 first
    Xs = X / s  # a sparse X stays sparse
    return math.inf, 2 * math.log10(s) + math.log10(float(np.max(row_norms2(Xs))))


def step_size_bound(X: np.ndarray, loss: object = None) -> float:
    """Return the per-sample SGD step-size bound ``c / max_i ||(x_i, 1)||^2``.

    ``c`` is the kernel module's ``STEP_SIZE_NUMERATOR``, the derivation's
    ``2 / sup d2J/dz2``: 1 for MSE, 8 for BCE (:data:`STEP_SIZE_NUMERATOR`).

    Parameters
    ----------
    X : array_like of shape (m, n)
        The samples; finite.
    loss : str, module or None, default None
        As in :func:`~derivreg.train.train`: a key of
        :data:`~derivreg.kernels.KERNELS`, a generated kernel module, or None
        for :data:`derivreg.kernels.DEFAULT`.

    Returns
    -------
    float
        Positive (possibly subnormal).

    Raises
    ------
    FloatingPointError
        If ``max ||(x, 1)||^2`` overflows float64 (``|x|`` past about 1.3e154),
        so that the bound is below the smallest positive float.
    ValueError
        If X is not a non-empty finite 2-D array, or the loss is unknown, or
        its curvature is unbounded (``STEP_SIZE_NUMERATOR`` 0.0, where only a
        line search, ``solver="gd"``, is safe).

    Examples
    --------
    >>> step_size_bound([[1.0, 2.0], [0.0, 1.0]])  # ||(1, 2, 1)||^2 = 6
    0.16666666666666666
    >>> step_size_bound([[1.0, 2.0]], "bce")
    1.3333333333333333
    >>> step_size_bound([[1e200]])  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    FloatingPointError: the step-size bound ... is about 1e400.0, past the largest float ...
    """
    kernel = _losses.kernel_module(loss, "step_size_bound")
    c = kernel.STEP_SIZE_NUMERATOR
    if c == 0.0:  # the derivation found sup d2J/dz2 = oo over the domain
        raise ValueError(
            f"loss {kernel.NAME!r} has unbounded curvature d2J/dz2 over its label domain (its "
            "kernel's STEP_SIZE_NUMERATOR is 0.0), so no constant per-sample step size is "
            "safe for every sample: pass lr as a number, or use solver='gd', whose "
            "backtracking (Armijo) line search on the mean loss needs no bound"
        )
    X = _as_float("X", X)
    if X.ndim != 2 or 0 in X.shape:
        raise ValueError(f"X must be a non-empty 2-D array, got shape {X.shape}")
    _finite("X", X)
    q, log10_q = _max_norm2(X)
    if not math.isfinite(q):
        raise FloatingPointError(
            f"the step-size bound {c:g}/max||(x,1)||^2 underflows float64: max||(x,1)||^2 is "
            f"about 1e{log10_q:.1f}, past the largest float (1.8e308); rescale X"
        )
    return c / q


def _check_lr(lr: object, owner: str = "train") -> float:
    accepted = "a finite float > 0" + (" or a callable schedule lr(t)" if owner == "train" else "")
    if not _params.is_real(lr) or not 0 < lr < math.inf:  # type: ignore[operator]
        raise _params.refuse("lr", owner, accepted, lr)
    return float(lr)  # type: ignore[arg-type]


def _scheduled(schedule: Schedule, t: int) -> float:
    """Return the schedule's rate for update ``t``, checked: a finite float >= 0 (no ascent)."""
    rate = schedule(t)
    if not _params.is_real(rate) or not 0 <= rate < math.inf:  # type: ignore[operator]
        raise InvalidParameterError(
            f"The 'lr' schedule of train must return a finite float >= 0 for every update. "
            f"Got {rate!r} at update {t}."
        )
    return float(rate)  # type: ignore[arg-type]


def _finite(name: str, a: np.ndarray) -> None:
    a = stored(a)  # a sparse X: its stored entries (the others are 0)
    if not np.isfinite(a).all():
        what = "NaN" if np.isnan(a).any() else "infinity or a value too large for dtype('float64')"
        raise ValueError(f"Input {name} contains {what}.")


def _as_float(name: str, value: object, *, copy: bool = False) -> np.ndarray:
    """``value`` as a contiguous float64 array (a copy if asked), or a ValueError naming it.

    A sparse X becomes float64 CSR (:func:`derivreg._sparse.as_csr`), never dense.
    """
    if issparse(value):
        return as_csr(name, value, 2 if name == "X" else 1)
    if np.iscomplexobj(value):
        raise ValueError(f"{name} must be real, got a complex array")
    try:
        if copy:
            return np.array(value, dtype=np.float64)
        return np.ascontiguousarray(value, dtype=np.float64)
    except (TypeError, ValueError) as err:
        raise ValueError(f"{name} cannot be converted to float64: {err}") from None


# ---------------------------------------------------------------------------
# Divergence: decided by these two functions, on quantities every mode computes.
# ---------------------------------------------------------------------------
def _first_past(losses: float | np.ndarray, bound: float) -> int:
    """Return the index of the first loss that is not finite or is past ``bound``; -1 if none."""
    if isinstance(losses, float):
        return -1 if math.isfinite(losses) and losses <= bound else 0
    top, bottom = losses.max(), losses.min()  # NaN propagates: then the search below
    if top <= bound and top < math.inf and bottom > -math.inf:
        return -1
    bad = np.flatnonzero(~(np.isfinite(losses) & (losses <= bound)))
    return int(bad[0]) if len(bad) else -1


def _finite_params(w: np.ndarray, b: float) -> bool:
    """Whether the parameters are finite."""
    return math.isfinite(b) and bool(np.isfinite(w).all())


def _mean(L: np.ndarray) -> float:
    """Return the mean of the losses; scaled where the sum of finite ones overflows."""
    J = float(L.mean())  # train runs under np.errstate(over="ignore", invalid="ignore")
    if not math.isfinite(J) and np.isfinite(L).all():
        s = float(np.max(np.abs(L)))
        J = s * float(np.mean(L / s))
    return J


@dataclass
class _Run:
    """One training run: its checked settings, its counters and the entries it keeps."""

    loss: str | ModuleType | None  # what fast.epoch runs (derivreg.train._loop_key)
    kernel: ModuleType
    X: np.ndarray
    y: np.ndarray
    lr: float  # the constant rate, or the schedule's latest value
    schedule: Schedule | None
    batch_size: int
    every: int
    record: str
    bound: float = math.inf
    t: int = 0
    seen: int = 0
    n_correct: int = 0
    epoch: int = 0
    steps: list = field(default_factory=list)
    losses: list = field(default_factory=list)
    w_track: list = field(default_factory=list)
    b_track: list = field(default_factory=list)
    accuracy: list = field(default_factory=list)
    on_update: Callable[[int], object] | None = None  # the progress bar's hook
    #: the compiled fused ``losses`` with the numba loop (one pass, no temporaries),
    #: else None: the NumPy kernel's ``_losses``
    fused_losses: Callable[..., np.ndarray] | None = None
    weights: np.ndarray | None = None  # sample weights in the epoch's order (unscaled)
    all_weights: np.ndarray | None = None  # ... in the data's order
    penalty: _pen.Penalty = _pen.NO_PENALTY
    fit_intercept: bool = True
    per_sample_weights: bool = False  # batch_size=1: the weights scale the steps

    def __post_init__(self) -> None:
        self.classifier = _losses.is_classifier(self.kernel)

    def diverged(self, what: str, value: float, Xe: np.ndarray) -> DivergenceError:
        """Return the error for divergence at update ``t``, naming the rate and the bound."""
        m = self.X.shape[0]
        n_seen = min(self.seen, m)
        q, _ = _max_norm2(self.X if self.seen >= m else Xe[: max(1, self.seen)])
        c = self.kernel.STEP_SIZE_NUMERATOR
        limit = c / q  # 0.0 where ||(x, 1)||^2 overflows
        side = "exceeds" if self.lr > limit else "is within"
        return DivergenceError(
            f"training diverged at update {self.t} (epoch {self.epoch + 1}): {what}; "
            f"the learning rate {self.lr:g} {side} the per-sample step-size bound "
            f"{c:g}/max||(x,1)||^2 = {limit:.4g} over the "
            f"{n_seen} samples seen; lower the learning rate",
            lr=self.lr,
            step_size_bound=limit,
            update=self.t,
            loss=value,
        )

    def past(self, scope: str, value: float, Xe: np.ndarray) -> DivergenceError:
        """Return the error for a loss ``value`` (of the batch, or the mean) past the bound."""
        if math.isfinite(value):
            what = f"the {scope} loss reached {value:.4g}, past {self.bound:.4g}"
        else:
            reason = "overflowed float64" if value == math.inf else "is not a number"
            what = f"the {scope} loss became {value} ({reason})"
        return self.diverged(what, value, Xe)


def _start(run: _Run, w: np.ndarray, b: float) -> None:
    """Set the divergence bound from the losses at the start; refuse a start that overflows."""
    X, y = run.X, run.y
    losses = run.fused_losses or run.kernel._losses  # X, y, w, b were checked: unchecked
    with np.errstate(over="ignore", invalid="ignore"):
        L = losses(X, y, w, b)
    i = _first_past(L, math.inf)
    if i >= 0:
        with np.errstate(over="ignore", invalid="ignore"):
            z = float(row(X, i) @ w + b)
        rate = f"{run.lr:g}" if run.schedule is None else "the schedule's"
        what = "overflows" if L[i] == math.inf else "is NaN, from an overflow inside the loss in"
        raise DivergenceError(
            f"training cannot start: the loss of sample {i} at the starting parameters is "
            f"already {L[i]} (score z = x.w + b = {z:.4g}, target y = {y[i]:.4g}): it {what} "
            f"float64 (largest finite value 1.8e308) before any update, so no learning rate "
            f"({rate} or lower) can help; rescale X and y (e.g. standardize them) or start "
            f"from other w0, b0",
            lr=run.lr if run.schedule is None else math.nan,
            step_size_bound=run.kernel.STEP_SIZE_NUMERATOR / _max_norm2(X)[0],
            update=0,
            loss=float(L[i]),
        )
    with np.errstate(over="ignore"):
        run.bound = run.bound * max(1.0, float(np.max(L)))  # run.bound holds the factor here


def _per_sample_epoch(
    run: _Run, Xe: np.ndarray, ye: np.ndarray, w: np.ndarray, b: float, *, loop: str
) -> tuple[np.ndarray, float]:
    """One epoch in the generated ``sgd_epoch`` loop; the History is read off its losses."""
    m = len(ye)
    keep_loss, keep_params = run.record != "none", run.record == "all"
    first = -run.t % run.every
    sampled = (run.every, first) if keep_params else (m, 0)
    try:
        if run.on_update is None:
            r = fast.epoch(run.loss, Xe, ye, w, b, run.lr, *sampled, loop)
        else:  # the same epoch in blocks of rows, reporting after each
            r = _progress.epoch_in_blocks(
                fast.epoch, run.on_update, run.t, run.loss, Xe, ye, w, b, run.lr, *sampled, loop
            )
    except (ValueError, FloatingPointError, OverflowError) as err:
        # the generated loops check nothing; a loop of kernel calls refuses non-finite w or b,
        # and CPython's math.exp raises OverflowError past 709.78 (an exp activation's loss)
        raise run.diverged(
            f"an update made the parameters non-finite ({err})", math.nan, Xe
        ) from err
    i = _first_past(r.J, run.bound)  # in every mode: the loop computes each loss anyway
    if i >= 0:
        run.t, run.seen = run.t + i, run.seen + i + 1
        raise run.past("batch", float(r.J[i]), Xe)
    if keep_loss:
        # one array per epoch (joined at the end), not one object per update
        kept = np.arange(first, m, run.every)
        run.steps.append(run.t + kept)
        run.losses.append(r.J[kept])
        if keep_params:
            run.w_track.append(r.w_track)
            run.b_track.append(r.b_track)
        if run.classifier:
            right = np.where(ye == 1.0, r.J < _LOG2, r.J <= _LOG2)
            correct = run.n_correct + np.cumsum(right)
            run.accuracy.append(correct[kept] / (run.seen + kept + 1))
            run.n_correct = int(correct[-1])
    run.t, run.seen = run.t + m, run.seen + m
    return r.w, r.b


def _batch_epoch(
    run: _Run, Xe: np.ndarray, ye: np.ndarray, w: np.ndarray, b: float
) -> tuple[np.ndarray, float]:
    """One epoch of kernel calls, one ``losses`` and one update per batch, in every mode.

    The update is :func:`derivreg._penalty.step`: the kernel's ``update`` with the
    batch's weights and the L2 strength, then the L1 proximal step.
    """
    losses = run.kernel.losses
    keep_loss = run.record != "none"
    for start in range(0, len(ye), run.batch_size):
        Xb, yb = Xe[start : start + run.batch_size], ye[start : start + run.batch_size]
        sw = None if run.weights is None else run.weights[start : start + run.batch_size]
        if run.schedule is not None:
            run.lr = _scheduled(run.schedule, run.t)
        try:
            L = losses(Xb, yb, w, b)
        except (ValueError, FloatingPointError) as err:
            # the kernels refuse non-finite w or b (the last update made them so), and
            # may report an overflow of their own
            finite = _finite_params(w, b)
            if isinstance(err, ValueError) and finite:
                raise
            what = "an update made the parameters non-finite"
            if finite:
                what = f"the kernel overflowed ({err})"
            raise run.diverged(what, math.nan, Xe) from err
        J = float(L[0]) if len(yb) == 1 else _mean(L) if sw is None else _pen.weighted_mean(L, sw)
        run.seen += len(yb)
        if keep_loss and run.classifier:
            run.n_correct += int(np.count_nonzero(np.where(yb == 1.0, L < _LOG2, L <= _LOG2)))
        if _first_past(J, run.bound) >= 0:
            raise run.past("batch", J, Xe)
        if keep_loss and run.t % run.every == 0:
            run.steps.append(run.t)
            run.losses.append(J)
            if run.record == "all":
                run.w_track.append(w)
                run.b_track.append(b)
            if run.classifier:
                run.accuracy.append(run.n_correct / run.seen)
        try:
            w, b = _pen.step(
                run.kernel, Xb, yb, w, b, run.lr, sw, run.penalty, run.fit_intercept,
                run.per_sample_weights,
            )  # fmt: skip
        except FloatingPointError as err:  # a kernel that reports its own overflow
            raise run.diverged(f"the update overflowed ({err})", math.nan, Xe) from err
        run.t += 1
        if run.on_update is not None and run.t % _progress.UPDATE_BLOCK == 0:
            run.on_update(run.t)
    return w, b


def _end_epoch(run: _Run, w: np.ndarray, b: float, Xe: np.ndarray) -> float:
    """Return the mean loss over all data after an epoch; divergence if it or w, b are off."""
    if not _finite_params(w, b):
        raise run.diverged("an update made the parameters non-finite", math.nan, Xe)
    with np.errstate(over="ignore", invalid="ignore"):
        L = (run.fused_losses or run.kernel._losses)(run.X, run.y, w, b)  # w, b finite
        if run.all_weights is None and run.penalty.none:
            J = _mean(L)
        else:  # the objective: the weighted mean loss plus the penalty
            J = _pen.objective(run.kernel, L, w, run.all_weights, run.penalty)
    if _first_past(J, run.bound) >= 0:
        raise run.past("mean", J, Xe)
    return J


def _history(run: _Run, epoch_loss: list[float], *, per_sample: bool, stopped: bool) -> History:
    def joined(track: list, dtype: type = np.float64) -> np.ndarray:
        # per-sample epochs keep one array per epoch; batches, one entry per update
        if per_sample:
            return np.concatenate(track).astype(dtype) if track else np.empty(0, dtype)
        return np.array(track, dtype=dtype)

    keep_loss, keep_params = run.record != "none", run.record == "all"
    return History(
        step=joined(run.steps, np.intp),
        loss=joined(run.losses) if keep_loss else None,
        w=joined(run.w_track).reshape(-1, run.X.shape[1]) if keep_params else None,
        b=joined(run.b_track) if keep_params else None,
        accuracy=joined(run.accuracy) if run.classifier and keep_loss else None,
        epoch_loss=np.array(epoch_loss),
        n_updates=run.t,
        stopped_early=stopped,
    )
