"""train's per-sample epochs: the generated loop, a schedule's rates, and what is read off it.

One epoch is one call of the generated, validated ``sgd_epoch`` (or
``sgd_epoch_csr``) through :func:`derivreg.fast.epoch`, with everything it
needs handed in: the constant rate or the schedule's rates for the epoch's
updates (each checked, :func:`rates`), the sample weights, the penalty's
strengths and whether ``b`` is fitted.  Nothing else runs over X: the epoch's
loss is the loop's own sum of its per-sample losses, each taken before its
update (:func:`derivreg._epochs._end_epoch`), and a classifier's accuracy is
read off the loop's scores with the kernel module's ``THRESHOLD``
(:func:`derivreg._epochs._correct`).

Examples
--------
>>> rates(lambda t: 0.5 / (1 + t), 2, 3).tolist()
[0.16666666666666666, 0.125, 0.1]
"""

from __future__ import annotations

import math
from types import ModuleType
from typing import TypedDict

import numpy as np

from derivreg import _epochs, fast
from derivreg import progress as _progress
from derivreg._epochs import Schedule, _correct, _Run, _scheduled
from derivreg._step_size import InverseTime

__all__ = ["per_sample_epoch", "rates"]


class _Settings(TypedDict):
    """The keywords of :func:`derivreg.fast.epoch` after the rate, as an epoch passes them."""

    every: int
    first: int
    backend: str
    weights: np.ndarray | None
    alpha: float
    l1: float
    fit_intercept: bool


def _loop_key(run: _Run) -> str | ModuleType:
    """Return the loss ``fast.epoch`` runs: set wherever a per-sample loop was chosen."""
    if run.loss is None:  # train() takes this path only where _loop_key found a loop
        raise AssertionError("a per-sample epoch without a loop")
    return run.loss


def rates(schedule: Schedule, start: int, m: int) -> np.ndarray:
    """Return the schedule's rates for updates ``start, ..., start + m - 1``, each checked.

    Each value must be a finite float >= 0 (as :func:`derivreg._epochs._scheduled`
    checks one, with its message naming the update); floats are checked all at
    once, anything else one by one.
    """
    if isinstance(schedule, InverseTime) and start + m < 2**53:  # all at once: the same floats
        out = schedule.rates(start, m)
        if np.all(np.isfinite(out) & (out >= 0)):
            return out
    values = [schedule(t) for t in range(start, start + m)]
    if all(type(v) is float for v in values):
        out = np.array(values, dtype=np.float64)
        if np.all(np.isfinite(out) & (out >= 0)):
            return out
    # one by one: the first bad value raises, naming its update
    checked = [_scheduled(_constant(v), start + k) for k, v in enumerate(values)]
    return np.array(checked, dtype=np.float64)


def _constant(value: float) -> Schedule:
    """Return the schedule of one rate, ``value`` (checked where it is used)."""
    return lambda _t: value


def _scores(r: fast.Epoch) -> np.ndarray:
    """Return the epoch's scores z: :func:`derivreg.fast.epoch` always returns them."""
    assert r.Z is not None  # Epoch.Z defaults to None for other makers of an Epoch
    return r.Z


def _yhat(kernel: ModuleType, z: np.ndarray) -> np.ndarray:
    """Return the activation of the scores ``z``: ``predict`` on the column z, w = 1, b = 0.

    A score that overflowed (its loss may still be finite: a saturated
    sigmoid's) is taken at the largest float of its sign: the same label, the
    activation being increasing.
    """
    big = np.finfo(np.float64).max
    return kernel.predict(np.clip(z, -big, big)[:, None], np.ones(1), 0.0)


def _in_blocks(  # noqa: PLR0917
    run: _Run,
    Xe: np.ndarray,
    ye: np.ndarray,
    w: np.ndarray,
    b: float,
    rate: float | np.ndarray,
    settings: _Settings,
) -> fast.Epoch:
    """Run the epoch in blocks of :data:`derivreg.progress.UPDATE_BLOCK` rows, reporting after each.

    The rows are visited in the same order with the same arithmetic as one
    call, and the sum of the losses is added up in the same order: the same
    floats as one call.
    """
    m, every, first, weights = len(ye), settings["every"], settings["first"], settings["weights"]
    on_update = run.on_update
    parts = []
    for lo in range(0, max(m, 1), _progress.UPDATE_BLOCK):
        hi = min(lo + _progress.UPDATE_BLOCK, m)
        lr = rate[lo:hi] if isinstance(rate, np.ndarray) else rate
        sw = None if weights is None else weights[lo:hi]
        block: _Settings = {**settings, "first": (first - lo) % every, "weights": sw}
        r = fast.epoch(_loop_key(run), Xe[lo:hi], ye[lo:hi], w, b, lr, **block)
        parts.append(r)
        w, b = r.w, r.b
        if hi < m and on_update is not None:  # it is: per_sample_epoch calls this for it
            on_update(run.t + hi)
    if len(parts) == 1:
        return parts[0]
    J, w_track, b_track = (
        np.concatenate([getattr(r, f) for r in parts]) for f in ("J", "w_track", "b_track")
    )
    # the loop's sum, one term at a time in the same order (the same floats as one call)
    total = 0.0
    for term in (J if weights is None else weights * J).tolist():
        total += term
    return fast.Epoch(w, b, J, w_track, b_track, total, np.concatenate([_scores(r) for r in parts]))


def per_sample_epoch(  # noqa: PLR0917
    run: _Run, Xe: np.ndarray, ye: np.ndarray, w: np.ndarray, b: float, loop: str
) -> tuple[np.ndarray, float, float, np.ndarray]:
    """One epoch in the generated loop; the History is read off its losses and scores.

    Returns the parameters after the epoch, the sum of its weighted losses and
    the losses themselves (each before its update).
    """
    m = len(ye)
    keep_loss, keep_params = run.record != "none", run.record == "all"
    first = -run.t % run.every
    every, offset = (run.every, first) if keep_params else (m, 0)  # where w, b are kept
    lr = run.lr if run.schedule is None else rates(run.schedule, run.t, m)
    pen = run.penalty
    settings: _Settings = {"every": every, "first": offset, "weights": run.weights,
                           "backend": loop, "alpha": pen.l2, "l1": pen.l1,
                           "fit_intercept": run.fit_intercept}  # fmt: skip
    try:
        if run.on_update is None:
            r = fast.epoch(_loop_key(run), Xe, ye, w, b, lr, **settings)
        else:
            r = _in_blocks(run, Xe, ye, w, b, lr, settings)
    except (ValueError, FloatingPointError, OverflowError) as err:
        # the generated loops check nothing; a loop of kernel calls refuses non-finite w or b,
        # and CPython's math.exp raises OverflowError past 709.78 (an exp activation's loss)
        raise run.diverged(
            f"an update made the parameters non-finite ({err})", math.nan, Xe
        ) from err
    # in every mode (the loop computes each loss anyway), by the one rule in _epochs; a finite
    # sum of s_i J_i (weights finite, >= 0) has every J_i finite, so its largest decides alone
    fine = math.isfinite(r.total) and float(r.J.max()) <= run.bound
    i = -1 if fine else _epochs._first_past(r.J, run.bound)
    if i >= 0:
        run.t, run.seen = run.t + i, run.seen + i + 1
        run.lr = float(lr[i]) if isinstance(lr, np.ndarray) else run.lr
        raise run.past("batch", float(r.J[i]), Xe)
    if isinstance(lr, np.ndarray) and m:
        run.lr = float(lr[-1])
    if keep_loss:
        # one array per epoch (joined at the end), not one object per update
        kept = np.arange(first, m, run.every)
        run.steps.append(run.t + kept)
        run.losses.append(r.J[kept])
        if keep_params:
            run.w_track.append(r.w_track)
            run.b_track.append(r.b_track)
        if run.classifier:
            correct = run.n_correct + np.cumsum(
                _correct(run.kernel, _yhat(run.kernel, _scores(r)), ye)
            )
            run.accuracy.append(correct[kept] / (run.seen + kept + 1))
            run.n_correct = int(correct[-1])
    run.t, run.seen = run.t + m, run.seen + m
    return r.w, r.b, r.total, r.J
