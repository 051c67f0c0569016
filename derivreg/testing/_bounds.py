"""The rounding bounds the properties use: how far a float64 kernel may be from the exact value.

Rounding model (used by :func:`loss_error` and :func:`grad_error`)
-----------------------------------------------------------------
``eps = 2**-52``; one rounding has relative error at most ``u = eps/2``.

1. Scores. ``z = X @ w + b`` is a dot product of length ``n`` and one addition,
   so ``|fl(z_i) - z_i| <= (n + 1) u Z_i`` with ``Z_i = |x_i|.|w| + |b|``
   (Higham, *Accuracy and Stability of Numerical Algorithms*, 3.1, for any
   summation order).  We use ``(n + 1) eps Z_i``: twice the bound.
2. One sample. From an exact score, a kernel's per-sample loss and ``dJ_dz``
   are within ``PER_SAMPLE_EPS * eps`` of their exact value *relative to the
   sum of the absolute values of their terms* (:func:`magnitude`): the stable
   forms take at most about eight roundings each (``exp``, ``log1p``, ``+``,
   ``*``, ``/``, ``where``), each ``<= u`` on a partial result no larger than
   that sum.  For labels in {0, 1} the measured worst case is 4 ulp
   (:data:`MAX_ULP`); the loss has no cancellation for any
   ``y`` in [0, 1] (both of its terms are >= 0), ``dJ_dz`` may cancel for soft
   labels, which is why the magnitude, not the value, sets the scale.
3. Propagation. By Taylor's theorem at the computed score, a score error
   ``dz`` moves the loss by at most ``|L'| dz + sup|L''| dz^2 / 2`` and
   ``dJ_dz`` by at most ``|L''| dz + sup|L'''| dz^2 / 2``.  The second-order
   terms matter where the first vanishes: ``z = fl(1 + 1e-45) = 1 = y`` makes
   the computed MSE 0 while the exact one is 2e-90 (Hypothesis found that one).
4. Means. Summing ``m`` terms and dividing by ``m`` adds at most
   ``m u sum|t_i| / m``; we use ``m eps mean|t_i|``.
5. Underflow. Below the normal range a rounding errs by up to half the smallest
   subnormal, ``TINY / 2``, whatever the relative size (Higham 2.1); every bound
   adds ``TINY`` per rounding it counts.

Examples
--------
>>> import numpy as np
>>> from derivreg.testing._reference import reference
>>> X, y, w = np.array([[1.0, 2.0]]), np.array([1.0]), np.array([0.5, -0.25])
>>> bound = loss_error(reference("mse"), X, y, w, 0.1)
>>> 0 < bound < 1e-14
True
"""

from __future__ import annotations

import math

import numpy as np

from derivreg.testing._reference import EPS, PER_SAMPLE_EPS, TINY, NumFn, Reference

__all__ = ["augmented", "grad_error", "local_sup", "loss_error", "scores"]


# ---------------------------------------------------------------------------
# Rounding bounds (see the module docstring for the model).
# ---------------------------------------------------------------------------
def scores(X: np.ndarray, w: np.ndarray, b: float) -> tuple[np.ndarray, np.ndarray]:
    """``z = X w + b`` and its magnitude ``Z = |X| |w| + |b|``."""
    return X @ w + b, np.abs(X) @ np.abs(w) + abs(b)


def augmented(X: np.ndarray) -> np.ndarray:
    """``[X, 1]``: the rows ``(x, 1)`` that multiply ``dJ_dz`` in ``(dJ_dw, dJ_db)``."""
    return np.column_stack([X, np.ones(X.shape[0])])


def local_sup(
    ref: Reference, f: NumFn, z: np.ndarray, dz: np.ndarray, y: np.ndarray, *, third: bool = False
) -> np.ndarray:
    """``sup |f|`` over ``[z - dz, z + dz]``, the remainder's factor in Taylor's theorem.

    Where the pair's supremum over the whole line is finite it is used as it is
    (MSE, BCE).  Where it is infinite (Poisson's ``exp(z)``, Gamma's
    ``y exp(-z)``, and their third derivatives ``exp(z)`` and ``-y exp(-z)``),
    ``|f|`` is monotone in z (its derivative, again ``+-`` the same exponential,
    keeps one sign: :func:`monotone_tails` checks it symbolically), so the
    supremum over the interval is at one of its ends; and ``dz`` is a few
    hundred ulp of ``|z|``, so it is ``|f(z)|`` times ``exp(dz) ~ 1``: the
    tolerance scales with the local curvature, it is not widened.
    """
    bound = ref.sup_d3 if third else ref.sup_d2
    if math.isfinite(bound):
        return np.full(np.shape(z), bound)
    with np.errstate(over="ignore", invalid="ignore"):
        return np.maximum(np.abs(f(z - dz, y)), np.abs(f(z + dz, y)))


def loss_error(ref: Reference, X: np.ndarray, y: np.ndarray, w: np.ndarray, b: float) -> float:
    """Bound on ``|kernel.loss - exact mean loss|`` at these (float) arguments."""
    m, n = X.shape
    z, Z = scores(X, w, b)
    J = np.abs(ref.loss(z, y))
    slope = np.abs(ref.d1(z, y))
    dz = (n + 1) * EPS * Z
    roundings = PER_SAMPLE_EPS + m + n + 1
    relative = (PER_SAMPLE_EPS + m) * float(np.mean(J))
    moved = float(np.mean(slope * dz + local_sup(ref, ref.d2, z, dz, y) * dz**2 / 2))
    return EPS * relative + moved + roundings * TINY


def grad_error(ref: Reference, X: np.ndarray, y: np.ndarray, w: np.ndarray, b: float) -> np.ndarray:
    """Bound on ``|kernel.grad - exact gradient|`` per coordinate ``(w_1..w_n, b)``."""
    m, n = X.shape
    z, Z = scores(X, w, b)
    A = np.abs(augmented(X))
    dz = (n + 1) * EPS * Z
    per_sample = EPS * (PER_SAMPLE_EPS + m) * ref.d1_magnitude(z, y)
    moved = np.abs(ref.d2(z, y)) * dz + local_sup(ref, ref.d3, z, dz, y, third=True) * dz**2 / 2
    roundings = PER_SAMPLE_EPS + m + n + 1
    return np.mean((per_sample + moved)[:, None] * A, axis=0) + roundings * TINY
