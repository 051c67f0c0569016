"""Small helpers of :mod:`derivreg.data`: argument checks, frozen arrays, the intercept search.

Examples
--------
>>> import numpy as np
>>> _intercept(np.array([-1.0, 0.0, 1.0, 2.0]), 0.5, "threshold")
-0.5
"""

from __future__ import annotations

from numbers import Integral
from typing import Literal

import numpy as np

Labels = Literal["threshold", "bernoulli"]


def _frozen(a: np.ndarray) -> np.ndarray:
    a = np.ascontiguousarray(a, dtype=np.float64)
    a.setflags(write=False)
    return a


def _check_int(name: str, value: object, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, Integral):
        raise TypeError(f"{name} must be an integer, got {value!r}")
    if value < minimum:
        raise ValueError(f"{name} must be at least {minimum}, got {value}")
    return int(value)


def _check_seed(seed: object) -> int | None:
    if seed is None:
        return None
    return _check_int("seed", seed, 0)


def _sigmoid(z: np.ndarray) -> np.ndarray:
    # exp(-log(1 + exp(-z))) never overflows; only used to draw labels.
    return np.exp(-np.logaddexp(0.0, -z))


def _intercept(s: np.ndarray, rate: float, labels: Labels) -> float:
    """Find the bias b that makes a fraction ``rate`` of the labels of ``s + b`` equal to 1."""
    if labels == "threshold":
        # Exactly round(rate * m) scores above 0 (at least one of each class when m > 1).
        m = len(s)
        k = min(max(round(rate * m), 1), m - 1) if m > 1 else round(rate)
        order = np.sort(s)
        if k == 0:
            return float(-order[-1] - 1.0)
        if k == m:
            return float(-order[0] + 1.0)
        return float(-(order[m - k - 1] + order[m - k]) / 2)
    lo, hi = -float(np.max(s)) - 40.0, -float(np.min(s)) + 40.0
    for _ in range(200):  # mean sigma(s + b) is increasing in b: bisection
        mid = (lo + hi) / 2
        lo, hi = (mid, hi) if np.mean(_sigmoid(s + mid)) < rate else (lo, mid)
    return (lo + hi) / 2
