"""The second-order kernels' overflow checks: the Hessian, the fused Newton terms, the likelihood.

Printed into ``derivreg/kernels/_checks.py`` after :mod:`derivreg.codegen.overflow`
(and compared node for node by the validator, like it).  On a finite result
each returns it after one pass over it.  Otherwise:

- ``_checked_hessian``: names a non-finite input, else the entry past float64;
- ``_checked_newton``: each non-finite fused term (loss, gradient, Hessian) is
  the checked kernel's (``loss``, ``grad``, ``hessian``): recomputed at scale,
  its limit, or that kernel's error;
- ``_checked_log_likelihood``: recomputed with the data and scores divided by
  a power of two where the family is scale-free (``_rescaled``), else from
  the checked losses; a FloatingPointError naming what does not fit.
- ``_pearson_dispersion``: Pearson's dispersion ``sum_i r_i / (m - p)`` (the
  log-likelihood's where the maximum-likelihood one has no closed form), a
  ValueError where ``m <= p``; ``_lgamma``: ``math.lgamma`` of one float (the
  Gamma's ``lgamma(1/phi)``: NumPy has no log-gamma function); ``_lgammas``:
  ``math.lgamma`` of each entry of an array (the Poisson's ``lgamma(y + 1)``),
  ``inf`` past float64 and ``nan`` at ``t <= 0`` (as NumPy's ``log``), never raising.

Examples
--------
>>> "def _checked_newton(" in SECOND_ORDER
True
"""

from __future__ import annotations

__all__ = ["SECOND_ORDER"]

#: The second-order overflow checks' source (NumPy only, after ``OVERFLOW``).
SECOND_ORDER = '''
def _checked_hessian(H: np.ndarray, **inputs: np.ndarray) -> np.ndarray:
    """Return a finite Hessian ``H``; name a non-finite input, else the entry past float64."""
    _finite(H, **inputs)
    if np.all(np.isfinite(H)):
        return H
    at = int(np.flatnonzero(~np.isfinite(H))[0])
    j, k = at // H.shape[1], at % H.shape[1]
    raise FloatingPointError(
        f"the Hessian overflows float64: H[{j}, {k}] = mean_i d2J/dz2 x~_ij x~_ik is past "
        "the largest float64 (1.8e+308); scale X (e.g. sklearn.preprocessing.StandardScaler)"
    )


def _checked_newton(  # noqa: PLR0917
    value: float, g: np.ndarray, H: np.ndarray, checked: tuple, X: np.ndarray, y: np.ndarray,
    w: np.ndarray, b: float,
) -> tuple[float, np.ndarray, np.ndarray]:
    """Return the fused terms; each non-finite one is its checked kernel's instead
    (``checked`` = the module's ``loss``, ``grad`` and ``hessian``): at scale, its limit,
    or that kernel's error."""
    loss, grad, hessian = checked
    if not np.isfinite(value):
        value = loss(X, y, w, b)
    if not np.all(np.isfinite(g)):
        g = np.append(*grad(X, y, w, b))
    if not np.all(np.isfinite(H)):
        H = hessian(X, y, w, b)
    return value, g, H


def _top(a: "np.typing.ArrayLike") -> int | None:
    """The binary exponent of the largest |entry| of ``a`` (None where all are 0)."""
    big = float(abs(a).max()) if issparse(a) else float(np.max(np.abs(a), initial=0.0))
    return int(np.frexp(big)[1]) if big > 0 else None


def _rescaled(
    X: np.ndarray, y: np.ndarray, w: np.ndarray, b: float
) -> tuple[int, np.ndarray, np.ndarray, np.ndarray, float]:
    """Return ``e`` and ``X / 2**ex``, ``y / 2**e``, ``w 2**(ex - e)``, ``b / 2**e``: the
    labels and scores divided by ``2**e``, all below about 1 in magnitude (exact, but for
    what falls below the smallest subnormal: below TINY times the largest)."""
    ey, ex, ew, eb = _top(y), _top(X), _top(w), _top(b)
    ez = None if ex is None or ew is None else ex + ew + int(np.frexp(float(w.shape[0]))[1])
    e = max([p for p in (ey, ez, eb) if p is not None], default=0)
    ex = ex or 0
    half = -ex // 2
    X = X * 2.0**half * 2.0 ** (-ex - half)  # two factors: 2**1074 is past float64
    w = w * 0.0 if ez is None else np.ldexp(w, ex - e)
    return e, X, np.ldexp(y, -e), w, float(np.ldexp(b, -e))


def _checked_log_likelihood(  # noqa: PLR0917
    total: float, phi: float, likelihood: tuple, X: np.ndarray, y: np.ndarray, w: np.ndarray,
    b: float,
) -> float:
    """Return a finite log-likelihood ``total`` of a normal dispersion ``phi``, else recompute it
    (a subnormal phi has lost digits: log(phi) would be off by more than rounding).

    ``likelihood`` is the module's (``_losses``, ``losses``, ``dispersion``,
    ``log_normaliser``, ``LOGLIK_SCALE``, ``LOGLIK_SHIFT``); ``dispersion`` is None
    where ``phi`` is Pearson's (kept as given).  Where the shift is
    given the family is scale-free: J(y / 2**e, z / 2**e) = J 2**(-d e), phi alike,
    J / phi unchanged, and k(phi 2**(d e)) = k(phi) + shift e log 2 (k free of y),
    so the data are divided by ``2**e`` (``_rescaled``).  Otherwise J are the checked
    losses (their limits, or their FloatingPointError).
    """
    if np.isfinite(total) and not 0.0 < phi < 2.2250738585072014e-308:  # the smallest normal
        return total
    unchecked, losses, dispersion, normaliser, scale, shift = likelihood
    e = 0
    if shift is None:
        J = losses(X, y, w, b)
    else:
        e, X, y, w, b = _rescaled(X, y, w, b)
        J = unchecked(X, y, w, b)
    if dispersion is not None:  # None: phi is Pearson's, not a function of the mean loss
        phi = dispersion(_mean_loss(J))
    if not (np.isfinite(phi) and phi > 0):
        raise FloatingPointError(
            f"the log-likelihood cannot be computed: the dispersion phi = {phi:.4g} (the fit "
            "is exact at this scale), where the log-density is unbounded"
        )
    log_p = normaliser(y, phi) - J / (scale * phi)
    total = float(np.sum(log_p)) + X.shape[0] * (shift or 0.0) * e * float(np.log(2.0))
    if np.isfinite(total):
        return total
    if not np.all(np.isfinite(log_p)):  # a term itself: its normaliser (J are checked)
        at = int(np.flatnonzero(~np.isfinite(log_p))[0])
        past = "is past the largest float64 (1.8e+308)" if np.isinf(log_p[at]) else "is nan"
        raise FloatingPointError(
            f"the log-likelihood overflows float64: the term log p = k(y, phi) - J / (s phi) "
            f"of row {at} {past}"
        )
    raise FloatingPointError(
        f"the log-likelihood overflows float64: a sum of {X.shape[0]} terms of mean "
        f"{_mean_loss(log_p):.4g}, past the largest float64 (1.8e+308)"
    )


def _pearson_dispersion(r: np.ndarray, X: np.ndarray) -> float:
    """Pearson's dispersion ``sum_i r_i / (m - p)``: ``r`` the squared Pearson residuals,
    ``p = n + 1`` parameters (the intercept's included)."""
    m, p = X.shape[0], X.shape[1] + 1
    if m <= p:
        raise ValueError(
            f"the log-likelihood is taken at Pearson's dispersion sum_i r_i / (m - p), which "
            f"needs more samples than parameters; got m={m}, p={p}"
        )
    return float(np.sum(r)) / (m - p)


def _lgamma(t: float) -> float:
    """``log |Gamma(t)|`` of one float (NumPy has no log-gamma; ``math`` has)."""
    return math.lgamma(float(t))


def _lgammas(t: np.ndarray) -> np.ndarray:
    """``log Gamma(t)`` of each entry of ``t`` (NumPy has none): ``math.lgamma`` of each, so
    that SciPy is not needed (its gammaln differs by ulps); ``inf`` past 2.5599833278516383e305,
    the largest float whose log-gamma is finite (math.lgamma raises there), and ``nan`` at
    ``t <= 0`` or nan (outside the domain, as NumPy's log of a negative).  Integers 1..n with
    n at most the entries' number (counts + 1) read a table of the n values: the same floats,
    without a call per entry (benchmarks/lgamma_cost.py)."""
    t = np.asarray(t, dtype=np.float64)
    flat = np.ravel(t)
    m = flat.shape[0]
    if m and np.min(flat) >= 1.0 and np.max(flat) <= m and np.all(flat == np.floor(flat)):
        top = int(np.max(flat))
        table = np.fromiter((math.lgamma(v) for v in range(1, top + 1)), np.float64, top)
        out = table[np.asarray(flat, dtype=int) - 1]
    else:
        big = np.where(flat > 2.5599833278516383e305, np.inf, flat)
        inside = np.where(flat > 0.0, big, np.nan)
        out = np.fromiter((math.lgamma(v) for v in inside.tolist()), np.float64, m)
    return np.reshape(out, np.shape(t))
'''
