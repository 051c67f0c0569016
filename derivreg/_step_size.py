"""train's step sizes and checked inputs: the per-sample bound, rates and schedules, arrays.

The per-sample step-size bound ``c / max ||(x, 1)||^2`` with ``c`` the kernel
module's ``STEP_SIZE_NUMERATOR`` (:func:`step_size_bound`), the learning-rate
checks (a constant, each value a schedule returns) and train's conversion of
its arrays.  Everything public here is importable from :mod:`derivreg.train`.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
from numpy.typing import ArrayLike

from derivreg import _losses, _params
from derivreg._params import InvalidParameterError
from derivreg._sparse import as_csr, issparse, row_norms2, stored
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
        Its ``rates(start, m)`` gives the same floats for ``m`` updates at
        once (what train's per-sample epochs use: one NumPy expression, not
        ``m`` Python calls).

    Examples
    --------
    >>> s = inverse_time(0.1, 0.5)
    >>> s(0), s(2)
    (0.1, 0.05)
    >>> s.rates(0, 3).tolist()
    [0.1, 0.06666666666666667, 0.05]
    """
    return InverseTime(
        _check_lr(lr, "inverse_time"),
        _params.real("decay", decay, "inverse_time", 0.0, high_open=True),
    )


class InverseTime:
    """The schedule ``lr / (1 + decay * t)`` of :func:`inverse_time` (checked there)."""

    def __init__(self, lr: float, decay: float) -> None:
        self.lr, self.decay = lr, decay

    def __call__(self, t: int) -> float:
        """Return the rate of update ``t``."""
        return self.lr / (1.0 + self.decay * t)

    def rates(self, start: int, m: int) -> np.ndarray:
        """Return the rates of updates ``start, ..., start + m - 1``: the same IEEE operations.

        ``t`` below 2**53 converts to float exactly, as Python's ``decay * t`` does.
        """
        t = np.arange(start, start + m, dtype=np.float64)
        return self.lr / (1.0 + self.decay * t)


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
    # lr on the left: numbers.Real promises < and <= only; NaN fails `lr < inf`
    if not _params.is_real(lr) or lr <= 0 or not lr < math.inf:
        raise _params.refuse("lr", owner, accepted, lr)
    return float(lr)


def _scheduled(schedule: Schedule, t: int) -> float:
    """Return the schedule's rate for update ``t``, checked: a finite float >= 0 (no ascent)."""
    rate = schedule(t)
    if not _params.is_real(rate) or rate < 0 or not rate < math.inf:  # as _check_lr's
        raise InvalidParameterError(
            f"The 'lr' schedule of train must return a finite float >= 0 for every update. "
            f"Got {rate!r} at update {t}."
        )
    return float(rate)


def _finite(name: str, a: np.ndarray) -> None:
    a = stored(a)  # a sparse X: its stored entries (the others are 0)
    if not np.isfinite(a).all():
        what = "NaN" if np.isnan(a).any() else "infinity or a value too large for dtype('float64')"
        raise ValueError(f"Input {name} contains {what}.")


def _as_float(name: str, value: ArrayLike, *, copy: bool = False) -> np.ndarray:
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
