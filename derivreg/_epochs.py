"""The epochs of :func:`derivreg.train.train`: divergence, the batch epochs, History.

Divergence is decided by :func:`_first_past` and :func:`_finite_params`, on
quantities computed whatever ``record`` says (every update's batch loss, the
parameters, the epoch's loss), so that training has one outcome in every
mode.  The step-size bound and the rate checks live in
:mod:`derivreg._step_size`, the per-sample epochs in :mod:`derivreg._per_sample`.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from types import ModuleType

import numpy as np

from derivreg import _losses
from derivreg import _penalty as _pen
from derivreg import progress as _progress
from derivreg._history import DivergenceError, History
from derivreg._sparse import row
from derivreg._step_size import (  # re-exported: train and its modules import them from here
    STEP_SIZE_NUMERATOR,
    Schedule,
    _max_norm2,
    _scheduled,
    inverse_time,
    step_size_bound,
)

__all__ = ["STEP_SIZE_NUMERATOR", "inverse_time", "step_size_bound"]


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
    total: float = 0.0  # the epoch's weighted sum of losses, each before its update (batches)
    parts: list = field(default_factory=list)  # each batch's (mean loss, weight), for overflow

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


def _start_losses(run: _Run, w: np.ndarray, b: float) -> np.ndarray:
    """Return the losses at the start, or as many of them as decide the bound and the checks.

    From ``w = 0`` every sample's score is ``z = b``, so its loss needs only y,
    not a pass over X; and a classifier's labels are 0 or 1 (checked), so its
    losses take at most two values, computed once each (the samples' own, one
    per sample, only if one is not finite, for the message).
    """
    X, y = run.X, run.y
    losses = run.fused_losses or run.kernel._losses  # X, y, w, b were checked: unchecked
    with np.errstate(over="ignore", invalid="ignore"):
        if np.any(w):
            return losses(X, y, w, b)
        if run.classifier:
            # the labels are 0 or 1 (checked): the least and the largest say which are present
            low, high = float(y.min()), float(y.max())
            labels = np.array([v for v in (0.0, 1.0) if v in (low, high)])
            L = losses(np.zeros((len(labels), 1)), labels, np.zeros(1), b)
            if np.isfinite(L).all():
                return L
        # no feature at all: z = b + (an empty sum, 0.0), the same float as from a zero column
        return losses(np.zeros((len(y), 0)), y, np.zeros(0), b)


def _start(run: _Run, w: np.ndarray, b: float) -> None:
    """Set the divergence bound from the losses at the start; refuse a start that overflows."""
    X, y = run.X, run.y
    L = _start_losses(run, w, b)
    top = float(np.max(L))  # NaN if one is NaN: then _first_past finds it
    i = -1 if top < math.inf and float(np.min(L)) > -math.inf else _first_past(L, math.inf)
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
        run.bound = run.bound * max(1.0, top)  # run.bound holds the factor here


def _batch_epoch(
    run: _Run, Xe: np.ndarray, ye: np.ndarray, w: np.ndarray, b: float
) -> tuple[np.ndarray, float]:
    """One epoch of kernel calls, one ``losses`` and one update per batch, in every mode.

    The update is :func:`derivreg._penalty.step`: the kernel's ``update`` with the
    batch's weights and the L2 strength, then the L1 proximal step.  Adds each
    batch's weighted sum of losses (before its update) to ``run.total``.
    """
    losses = run.kernel.losses
    keep_loss = run.record != "none"
    per_row = run.batch_size == 1
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
        # the loop's sum, in the same order: s * J, s = 1 without weights
        part = J if sw is None else float(sw[0]) * J
        if not per_row:
            part = float(np.sum(L)) if sw is None else float(sw @ L)
        run.total += part
        if per_row:  # the batch's share of the weight: its sample's, or its size (its sum)
            share = 1.0 if sw is None else float(sw[0])
        else:
            share = float(len(yb)) if sw is None else float(np.sum(sw))
        run.parts.append((J, share))
        run.seen += len(yb)
        if keep_loss and run.classifier:
            right = _correct(run.kernel, run.kernel.predict(Xb, w, b), yb)
            run.n_correct += int(np.count_nonzero(right))
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


def _end_epoch(  # noqa: PLR0917
    run: _Run, w: np.ndarray, b: float, total: float, Xe: np.ndarray, J: np.ndarray | None = None
) -> float:
    """Return the epoch's loss from its losses' weighted sum; divergence if it or w, b are off.

    The epoch's loss is ``total / np.sum(s)``: the (weighted) mean over the
    epoch's samples of each one's loss before its update (scikit-learn's
    "average loss" of an epoch), plus the penalty at the epoch's end
    parameters.  No pass over X: ``total`` is what the loop (or the batch
    epoch) added up.  Where the sum of finite losses overflows, the mean is
    taken scaled from ``J`` (the per-sample epochs keep them) or the batches' sums.
    """
    if not _finite_params(w, b):
        raise run.diverged("an update made the parameters non-finite", math.nan, Xe)
    weights = run.weights
    mass = float(len(run.y)) if weights is None else float(np.sum(weights))
    with np.errstate(over="ignore", invalid="ignore"):
        mean = total / mass
        if not math.isfinite(mean) and J is not None and np.isfinite(J).all():
            mean = _mean(J) if weights is None else _pen.weighted_mean(J, weights)
        elif not math.isfinite(mean) and J is None and run.parts:
            means, masses = np.array(run.parts).T  # the weighted mean of the batches' means
            mean = float(np.sum(masses / mass * means))
        if run.penalty.l2:
            mean += float(w @ run.kernel.dR_dw(w, run.penalty.l2)) / 2
        if run.penalty.l1:
            mean += run.penalty.l1 * float(np.sum(np.abs(w)))
    if _first_past(mean, run.bound) >= 0:
        raise run.past("mean", mean, Xe)
    return mean


def _correct(kernel: ModuleType, yhat: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Whether each prediction's label is the target's: ``(yhat > THRESHOLD) == (y == 1)``.

    The pair's prediction rule, read from its generated ``THRESHOLD`` (the
    lecture's ``pred > 0.5`` for the sigmoid); only for a classifier.
    """
    return (yhat > kernel.THRESHOLD) == (y == 1.0)


def _epochs(
    run: _Run,
    w: np.ndarray,
    b: float,
    *,
    epochs: int,
    shuffle: np.random.Generator | None,
    loop: str | None,
    stop: tuple[float | None, int],
    progress: Callable[[int, int], None] | None,
) -> tuple[np.ndarray, float, list[float], bool]:
    """Run train's epochs: per-sample in the generated ``loop`` (if not None), else batches.

    Returns the parameters, the epochs' losses and whether ``tol`` (``stop`` is
    ``(tol, n_iter_no_change)``) stopped training early.
    """
    from derivreg._per_sample import per_sample_epoch  # it builds on this module

    X, y, weights = run.X, run.y, run.all_weights
    tol, patience = stop
    epoch_loss: list[float] = []
    best, stale = math.inf, 0
    with np.errstate(over="ignore", invalid="ignore"):  # divergence is reported by the checks
        for epoch in range(epochs):
            run.epoch, run.total, run.parts, Xe, ye, J = epoch, 0.0, [], X, y, None
            if shuffle is not None:
                order = shuffle.permutation(len(y))
                Xe, ye = X[order], y[order]
                run.weights = None if weights is None else weights[order]
            if loop is not None:
                w, b, total, J = per_sample_epoch(run, Xe, ye, w, b, loop)
            else:
                w, b = _batch_epoch(run, Xe, ye, w, b)
                total = run.total
            b = float(b)
            mean = _end_epoch(run, w, b, total, Xe, J)
            epoch_loss.append(mean)
            if run.on_update is not None:
                run.on_update(run.t)
            if progress is not None:
                progress(epoch + 1, epochs)
            if tol is not None:
                stale = stale + 1 if mean > best - tol else 0
                best = min(best, mean)
                if stale >= patience and epoch + 1 < epochs:
                    return w, b, epoch_loss, True
    return w, b, epoch_loss, False


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
