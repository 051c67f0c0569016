"""The high-precision side of the references: the textbook loss and gradient at 50 digits.

The mean textbook loss of a batch is summed in mpmath at ``MP_DPS`` digits
(more where the textbook form cancels) and differentiated by complex step;
:func:`ulps` measures a float64 result against such a value.  The pair's
reference functions come from :mod:`derivreg.testing._reference`.

Examples
--------
>>> import numpy as np
>>> from derivreg.testing._reference import Batch, reference
>>> batch = Batch(np.array([[1.0]]), np.array([3.0]), np.array([0.0]), 1.0)
>>> value, grad = mp_loss_and_grad(reference("mse"), batch)
>>> value, grad.tolist()
(4.0, [-4.0, -4.0])
"""

from __future__ import annotations

from collections.abc import Callable

import mpmath
import numpy as np

from derivreg.testing._reference import MP_DPS, Batch, Reference

__all__ = ["MP_COMPLEX_STEP", "MP_MAX_DPS", "mp_loss_and_grad", "ulps"]


# ---------------------------------------------------------------------------
# High precision.
# ---------------------------------------------------------------------------
#: Complex step of the high-precision gradient: Im f(t + i h) / h = f'(t) - h^2 f'''(t) / 6,
#: with no cancellation at all (unlike a real difference quotient, whose absolute step
#: loses a derivative whose coordinate barely moves f, e.g. x = 1e-235: Hypothesis found
#: that one against mpmath.diff).  h^2 = 1e-120 makes the truncation negligible.
MP_COMPLEX_STEP = mpmath.mpf(10) ** -60


#: Most digits :func:`_settled` uses: a float64 score differs from a label by at least
#: 5e-324 (or 0), and a loss ~ (y - z)**2 such as log-cosh's cancels 2 * 324 digits there.
MP_MAX_DPS = 32 * MP_DPS


def _settled(f: Callable[[list], mpmath.mpf], args: list) -> mpmath.mpf:
    """``f(args)`` to MP_DPS digits, at more digits where a textbook form cancels.

    ``log(cosh(t))`` at 50 digits is 0 for |t| < 1e-25 (cosh(t) rounds to 1),
    though its value t**2/2 is a float.  The value is taken once two precisions,
    one twice the other, agree to MP_DPS - 10 digits and are not 0; a 0 at
    MP_MAX_DPS digits is below float64 however its terms cancel.
    """
    previous, dps = None, MP_DPS
    while True:
        with mpmath.workdps(dps):
            out = f(args)
            close = previous is not None and abs(out - previous) <= abs(out) * mpmath.mpf(10) ** (
                10 - MP_DPS
            )
        if (out != 0 and close) or dps >= MP_MAX_DPS:
            return out
        previous, dps = out, 2 * dps


def mp_loss_and_grad(ref: Reference, batch: Batch) -> tuple[float, np.ndarray]:
    """Mean textbook loss and its gradient by complex step, at 50 digits, rounded to float."""
    X, labels, w, b = batch
    m = X.shape[0]
    with mpmath.workdps(MP_DPS):
        rows = [[mpmath.mpf(float(v)) for v in row] for row in X]
        ys = [mpmath.mpf(float(v)) for v in labels]
        theta = [mpmath.mpf(float(v)) for v in w] + [mpmath.mpf(float(b))]

        def mean_loss(params: list) -> mpmath.mpc:
            *ws, bias = params
            total = mpmath.fsum(
                ref.mp_textbook_loss(mpmath.fdot(row, ws) + bias, yi)
                for row, yi in zip(rows, ys, strict=True)
            )
            return total / m

        h = MP_COMPLEX_STEP
        value = _settled(mean_loss, theta)
        grads = [
            mpmath.im(mean_loss([*theta[:k], theta[k] + 1j * h, *theta[k + 1 :]])) / h
            for k in range(len(theta))
        ]
        return float(value), np.array([float(g) for g in grads])


def ulps(got: float, exact: mpmath.mpf, scale: float = 0.0) -> float:
    """``|got - exact|`` in units of the spacing of floats at ``max(|exact|, scale)``."""
    nearest = float(exact)
    if got == nearest:
        return 0.0
    spacing = float(np.spacing(max(abs(nearest), abs(float(scale)))))
    with mpmath.workdps(MP_DPS):
        return float(abs(mpmath.mpf(float(got)) - exact) / mpmath.mpf(spacing))
