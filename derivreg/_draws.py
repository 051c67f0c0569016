"""The random draws of :mod:`derivreg.data`, in the lecture's order, and its small helpers.

:func:`_linear_draws` and :func:`_logistic_draws` make exactly the draws of
the lecture's code, in its order, from the ``RandomState`` they are given;
:mod:`derivreg.data` adds the optional draws (noise, Bernoulli labels) after
them, so that they never move the lecture's numbers.  The rest: argument
checks, frozen arrays, labels from scores, the intercept search.

Examples
--------
>>> import numpy as np
>>> X, y, w, b, w0, b0 = _linear_draws(np.random.RandomState(1), 1, 100)
>>> X.shape, w.tolist(), b, round(b0, 5)
((100, 1), [5.0], -3.0, 1.32195)
>>> _intercept(np.array([-1.0, 0.0, 1.0, 2.0]), 0.5, "threshold")
-0.5
"""

from __future__ import annotations

from numbers import Integral, Real
from typing import Literal

import numpy as np

Labels = Literal["threshold", "bernoulli"]

#: Fixed true parameters of the lecture's 1-feature experiments.
_TRUE_W_1, _TRUE_B_1 = 5.0, -3.0

#: Parameters and data: ``(X, y or z, true_w, true_b, w0, b0)``.
Draws = tuple[np.ndarray, np.ndarray, np.ndarray, float, np.ndarray, float]


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


def _linear_draws(rs: np.random.RandomState, n_features: int, n_samples: int) -> Draws:
    """Draw ``(X, y, true_w, true_b, w0, b0)`` of ``y = X w + b`` as the lecture's code does.

    One feature: the truth is fixed (w = 5, b = -3); w0, b0 ~ U(-3, 3), then
    x ~ N(0, 1).  More: true w, true b, w0, b0 ~ U(-3, 3), then X ~ N(0, 1).
    """
    if n_features == 1:
        true_w, true_b = np.array([_TRUE_W_1]), _TRUE_B_1
        w0_b0 = rs.uniform(-3, 3, 2)
        X = rs.randn(n_samples, 1)
        return X, true_w[0] * X[:, 0] + true_b, true_w, true_b, w0_b0[:1], float(w0_b0[1])
    t_W = rs.uniform(-3, 3, (n_features, 1))
    t_b = rs.uniform(-3, 3, (1,))
    W0 = rs.uniform(-3, 3, (n_features, 1))
    B0 = rs.uniform(-3, 3, (1,))
    X = rs.randn(n_samples, n_features)
    y = (X @ t_W + t_b)[:, 0]
    return X, y, t_W[:, 0], float(t_b[0]), W0[:, 0], float(B0[0])


def _logistic_draws(rs: np.random.RandomState, n_features: int, n_samples: int) -> Draws:
    """Draw ``(X, z, true_w, true_b, w0, b0)`` of ``z = X w + b`` as the lecture's code does.

    One feature: the truth is fixed (w = 5, b = -3, boundary -b/w = 0.6);
    w0, b0 ~ U(-3, 3), then x ~ N(0.6, 1).  More: true w, true b, w0, b0 ~
    U(-1, 1), then X ~ N(0, 1).  The labels are made from ``z`` afterwards.
    """
    if n_features == 1:
        true_w, true_b = np.array([_TRUE_W_1]), _TRUE_B_1
        w0_b0 = rs.uniform(-3, 3, 2)
        X = rs.normal(-true_b / true_w[0], 1, (n_samples, 1))
        z = X[:, 0] * true_w[0] + true_b
        return X, z, true_w, true_b, w0_b0[:1], float(w0_b0[1])
    t_W = rs.uniform(-1, 1, (n_features, 1))
    t_b = rs.uniform(-1, 1, (1,))
    W0 = rs.uniform(-1, 1, (n_features, 1))
    B0 = rs.uniform(-1, 1, (1,))
    X = rs.randn(n_samples, n_features)
    z = (X @ t_W + t_b)[:, 0]
    return X, z, t_W[:, 0], float(t_b[0]), W0[:, 0], float(B0[0])


def _labels(
    rs: np.random.RandomState, z: np.ndarray, labels: Labels, threshold: float
) -> np.ndarray:
    """0/1 labels from ``z``: ``z > threshold``, or Bernoulli(sigmoid(z)) (a uniform each)."""
    if labels == "bernoulli":
        return (rs.uniform(size=len(z)) < _sigmoid(z)).astype(np.float64)
    return (z > threshold).astype(np.float64)


def _check_logistic(labels: object, positive_rate: object, lecture_errata: bool) -> None:
    """Refuse unknown labels, a rate outside (0, 1), and errata with either option."""
    if labels not in ("threshold", "bernoulli"):
        raise ValueError(f"labels must be 'threshold' or 'bernoulli', got {labels!r}")
    if lecture_errata and labels != "threshold":
        raise ValueError("lecture_errata=True reproduces the lecture's threshold labels only")
    if positive_rate is not None:
        if not isinstance(positive_rate, Real) or not 0 < float(positive_rate) < 1:
            raise ValueError(f"positive_rate must lie in (0, 1), got {positive_rate!r}")
        if lecture_errata:
            raise ValueError("lecture_errata=True keeps the lecture's bias; no positive_rate")
