"""The kernels' overflow checks: a finite result, its limit, or a FloatingPointError.

Printed into ``derivreg/kernels/_checks.py`` after the input checks of
:mod:`derivreg.codegen.checks` (and compared node for node by the validator,
like them).  None of it runs on a finite result of ordinary scale: each
checked kernel function hands its result to one of ``_checked_rows``,
``_fits``, ``_mean_loss``, ``_checked_grad`` or ``_checked_update``, which
return it after one pass over it.  Otherwise they recompute:

- ``_scores``: a score whose partial sums overflow, row by row at its own
  scale (powers of two, exact), so only a ``|z|`` past float64 is +-inf;
- ``_limits``: a value at such a score is the value at +-max if the function
  is flat out there (equal at +-max and +-max/2): its limit, never inf * 0;
- ``_scaled_mean``: means scaled by powers of two, so a mean that fits is
  returned;
- ``_at_edges``: ``dJ_dyhat`` on an edge of yhat's range, its limit from inside;

and raise FloatingPointError naming the quantity that does not fit and how
large it is (``_about``, ``_score_note``).

Examples
--------
>>> "def _scores(" in OVERFLOW
True
"""

from __future__ import annotations

from derivreg.codegen.overflow_second import SECOND_ORDER

__all__ = ["OVERFLOW"]

#: The overflow checks' source (NumPy only; ``np`` is imported by ``_checks.py``).
OVERFLOW = '''
def _scores(X: np.ndarray, w: np.ndarray, b: float) -> np.ndarray:
    """Return z = X @ w + b, correct to rounding wherever |z| fits in float64.

    Where a partial sum overflows, z is recomputed with X and w scaled by
    powers of two (exactly), so only a |z| past the largest float64 is +-inf.
    """
    z = X @ w + b
    if np.all(np.isfinite(z)):
        return z  # the common path: one pass over the m scores
    _finite(z, X=X)  # a non-finite X is named (w and b are checked already)
    rows = np.flatnonzero(~np.isfinite(z))
    z = np.array(z)
    # each row scaled by its own powers of two: exact, and b is lost only below TINY * Z
    ex = np.frexp(np.max(np.abs(X[rows]), axis=1))[1]
    ew = int(np.frexp(np.max(np.abs(w)))[1])
    with np.errstate(over="ignore"):
        dot = np.ldexp(X[rows], -ex[:, None]) @ np.ldexp(w, -ew)
        unscaled = np.ldexp(dot, ex + ew)
        combined = np.ldexp(dot + np.ldexp(b, -(ex + ew)), ex + ew)  # +-inf: |z| past float64
        z[rows] = np.where(np.isfinite(unscaled), unscaled + b, combined)
    return z


def _about(scaled: float, power: int) -> str:
    """``scaled * 2**power`` in decimal, as ``1.6e+310``, though it may not fit float64."""
    if scaled == 0 or not np.isfinite(scaled):
        return f"{scaled:.3g}"
    exponent = np.log10(abs(scaled)) + power * np.log10(2.0)
    digits = int(np.floor(exponent))
    return f"{np.sign(scaled) * 10 ** (exponent - digits):.2f}e{digits:+d}"


def _score_note(X: np.ndarray, w: np.ndarray, b: float, i: int) -> str:
    """Say how large the score of row ``i`` is, though it may not fit float64."""
    with np.errstate(over="ignore", invalid="ignore"):
        z = float(X[i] @ w + b)
        if np.isfinite(z):
            return f"z = X @ w + b = {z:.4g} in row {i}"
        p = int(np.frexp(np.max(np.abs(X[i])))[1] + np.frexp(np.max(np.abs(w)))[1])
        half = p // 2
        scaled = np.ldexp(X[i], -half) @ np.ldexp(w, half - p) + np.ldexp(b, -p)
    return f"z = X @ w + b is about {_about(float(scaled), p)} in row {i}"


def _limits(  # noqa: PLR0917
    f: object, z: np.ndarray, labels: tuple, name: str, X: np.ndarray, w: np.ndarray, b: float
) -> np.ndarray:
    """``f(z, *labels)`` per row; where |z| is past the largest float64 (z = +-inf), the
    value f takes there if f is flat out there (equal at +-max and +-max/2), else an error.
    """
    with np.errstate(over="ignore", invalid="ignore"):
        values = np.array(f(z, *labels), dtype=np.float64)
        far = np.flatnonzero(np.isinf(z))
        if far.shape[0]:
            edge = np.copysign(np.finfo(np.float64).max, z[far])
            rows = tuple(label[far] for label in labels)
            at, half = f(edge, *rows), f(edge / 2, *rows)
            flat = np.isfinite(at) & (at == half)
            if not np.all(flat):
                i = int(far[np.argmin(flat)])
                raise FloatingPointError(
                    f"{name} cannot be computed in float64: {_score_note(X, w, b, i)}, past "
                    "the largest float64 (1.8e+308), and it depends on z there; scale X "
                    "(e.g. sklearn.preprocessing.StandardScaler) or shrink w and b"
                )
            values[far] = at
    return values


def _as_floats(y: object, yhat: object) -> tuple[np.ndarray, np.ndarray]:
    """Return both as float64 arrays (a number as a 0-d one): NumPy's division rules."""
    return np.asarray(y, dtype=np.float64), np.asarray(yhat, dtype=np.float64)


def _at_edges(
    values: np.ndarray, f: object, y: np.ndarray, yhat: np.ndarray, edges: tuple
) -> np.ndarray:
    """Return ``values = f(y, yhat)`` with each yhat on an edge of its range at its limit.

    ``edges`` holds (edge, direction into the range).  There the value is
    ``f`` one ulp inside where ``values`` is 0/0 (nan), and the infinity of
    that value's sign where ``values`` is infinite (a pole: the sign of a
    zero denominator is rounding's, not the limit's).
    """
    for edge, into in edges:
        hit = (np.asarray(yhat) == edge) & ~np.isfinite(values)
        if np.any(hit):
            inside = np.where(hit, np.nextafter(edge, edge + into), yhat)
            with np.errstate(divide="ignore", over="ignore", invalid="ignore"):
                near = f(y, inside)
                values = np.where(hit & np.isnan(values), near, values)
                values = np.where(hit & np.isinf(values), np.copysign(np.inf, near), values)
            values = values[()] if np.ndim(values) == 0 else values
    return values


def _checked_rows(  # noqa: PLR0917
    J: np.ndarray, name: str, kernel: object, X: np.ndarray, w: np.ndarray, b: float,
    *labels: np.ndarray,
) -> np.ndarray:
    """Return ``kernel``'s per-row values ``J``: finite, their limit, or a FloatingPointError.

    A value that is 0 (a loss saturates to 0 past |z| ~ 745 for BCE) is where an
    infinite X could hide: the scores are checked there.  A non-finite value is
    recomputed from the scores (:func:`_scores`) row by row, at its limit where
    |z| is past float64 (:func:`_limits`: never the inf * 0 of a product at z = inf).
    """
    if np.all(np.isfinite(J)):
        if not np.all(J):
            _finite(X @ w, X=X)
        return J
    z = _scores(X, w, b)
    one = np.ones(1)
    J = _limits(lambda t, *ys: kernel(t[:, None], *ys, one, 0.0), z, labels, name, X, w, b)
    bad = np.flatnonzero(~np.isfinite(J))
    if bad.shape[0]:
        i = int(bad[0])
        at = f", y = {labels[0][i]:.4g}" if labels else ""
        raise FloatingPointError(
            f"{name} overflows float64 in row {i} (z = {z[i]:.4g}{at}): "
            "its exact value is past the largest float64 (1.8e+308)"
        )
    return J


def _fits(yhat: np.ndarray, name: str, X: np.ndarray, w: np.ndarray, b: float) -> np.ndarray:
    """Return ``yhat``, or a FloatingPointError naming the row and how large its score is."""
    if np.all(np.isfinite(yhat)):
        return yhat
    i = int(np.flatnonzero(~np.isfinite(yhat))[0])
    raise FloatingPointError(
        f"{name} overflows float64: {_score_note(X, w, b, i)}, and {name} there is past the "
        "largest float64 (1.8e+308)"
    )


def _scaled_mean(values: np.ndarray, X: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """The mean of ``values`` (m,), or of ``values`` times each column of X, as (s, p):
    the mean is ``s * 2**p``.

    Scaled by powers of two (exact), no product or partial sum can overflow; a
    term lost below the smallest subnormal is below TINY times the largest term.
    """
    m = values.shape[0]
    ev = np.frexp(np.max(np.abs(values)))[1]
    scaled = np.ldexp(values, -ev)
    if X is None:
        return np.sum(scaled) / m, ev
    ex = np.frexp(np.max(np.abs(X), axis=0))[1]
    return (scaled @ np.ldexp(X, -ex)) / m, ev + ex


def _mean_loss(J: np.ndarray) -> float:
    """The mean of the per-sample losses, a float; scaled where their sum overflows."""
    with np.errstate(over="ignore"):
        total = np.sum(J)
        if np.isfinite(total):
            return float(total / J.shape[0])  # np.mean(J), bit for bit
        mean = float(np.ldexp(*_scaled_mean(J)))
    if not np.isfinite(mean):  # each loss fits, and so does their mean, but to rounding
        raise FloatingPointError("the mean loss rounds past the largest float64 (1.8e+308)")
    return mean


def _mean_grad(dJ_dz: np.ndarray, X: np.ndarray) -> tuple[np.ndarray, float]:
    """The mean gradient from finite per-sample ``dJ_dz``, scaled (:func:`_scaled_mean`)."""
    with np.errstate(over="ignore"):
        parts = [_scaled_mean(dJ_dz, X), _scaled_mean(dJ_dz)]
        dJ_dw, dJ_db = np.ldexp(*parts[0]), float(np.ldexp(*parts[1]))
    if np.isfinite(dJ_db) and np.all(np.isfinite(dJ_dw)):
        return dJ_dw, dJ_db
    scaled = [(parts[0][0][j], parts[0][1][j]) for j in range(X.shape[1])] + [parts[1]]
    names = [f"dJ_dw[{j}]" for j in range(X.shape[1])] + ["dJ_db"]
    k = int(np.flatnonzero(~np.isfinite([*dJ_dw, dJ_db]))[0])
    raise FloatingPointError(
        f"the gradient overflows float64: {names[k]} is about {_about(*scaled[k])}, past "
        "the largest float64 (1.8e+308)"
    )


def _gradient(
    dJ_dz: object, X: np.ndarray, y: np.ndarray, w: np.ndarray, b: float
) -> tuple[np.ndarray, float]:
    """The mean gradient recomputed from the scores, row by row; a FloatingPointError
    where it does not fit float64."""
    z = _scores(X, w, b)
    d = _limits(dJ_dz, z, (y,), "dJ/dz", X, w, b)
    big = np.flatnonzero(~np.isfinite(d))
    if big.shape[0] == 0:
        return _mean_grad(d, X)
    i = int(big[0])
    with np.errstate(over="ignore", invalid="ignore"):  # 0 * (a finite real) is 0, never nan
        dJ_dw = np.sum(np.where(X == 0.0, 0.0, (d / X.shape[0])[:, None] * X), axis=0)
    fits = "dJ_dw overflows too"
    if np.all(np.isfinite(dJ_dw)):
        fits = f"dJ_dw = {dJ_dw} fits"
    raise FloatingPointError(
        f"the gradient overflows float64: dJ_db = mean(dJ/dz), and dJ/dz in row {i} "
        f"(z = {z[i]:.4g}, y = {y[i]:.4g}) is past the largest float64 (1.8e+308); {fits}"
    )


def _penalised(mean: float, R: np.ndarray, alpha: float) -> float:
    """The mean loss plus the L2 terms ``R`` (``alpha w_j^2 / 2`` each), a float; the mean
    alone where ``alpha`` is 0 (``R`` may be 0 * inf there); a FloatingPointError past float64."""
    if alpha == 0.0:
        return mean
    with np.errstate(over="ignore"):
        total = mean + float(np.sum(R))
    if np.isfinite(total):
        return total
    raise FloatingPointError(
        f"the penalised loss overflows float64: the mean loss is {mean:.4g}, and with "
        f"alpha = {alpha:.4g} the penalty alpha ||w||^2 / 2 takes it past the largest "
        "float64 (1.8e+308)"
    )


def _reweighted_overflow(what: str) -> FloatingPointError:
    """The error of a weighted or penalised result past float64 (not recomputed at scale)."""
    return FloatingPointError(
        f"the {what} overflows float64 with sample weights or a penalty: a term of the "
        "weighted mean or the penalty is past the largest float64 (1.8e+308); rescale X or y"
    )


def _checked_grad(  # noqa: PLR0917
    dJ_dw: np.ndarray, dJ_db: float, dJ_dz: object, X: np.ndarray, y: np.ndarray, w: np.ndarray,
    b: float, s: np.ndarray | None = None, alpha: float = 0.0,
) -> tuple[np.ndarray, float]:
    """Return the gradient if finite, else recompute it (:func:`_gradient`); with weights
    ``s`` or an L2 strength ``alpha``, a non-finite gradient is a FloatingPointError."""
    if np.isfinite(dJ_db) and np.all(np.isfinite(dJ_dw)):
        return dJ_dw, dJ_db
    if s is not None or alpha != 0.0:
        raise _reweighted_overflow("gradient")
    return _gradient(dJ_dz, X, y, w, b)


def _checked_update(  # noqa: PLR0917
    new_w: np.ndarray, new_b: float, dJ_dz: object, X: np.ndarray, y: np.ndarray, w: np.ndarray,
    b: float, lr: float, s: np.ndarray | None = None, alpha: float = 0.0,
) -> tuple[np.ndarray, float]:
    """Return the new (w, b) if finite; else recompute the step from the checked gradient,
    and name the new parameter that overflows and how large it is (with weights ``s`` or
    an L2 strength ``alpha``: a FloatingPointError, not recomputed)."""
    if np.isfinite(new_b) and np.all(np.isfinite(new_w)):
        return new_w, new_b
    if s is not None or alpha != 0.0:
        raise _reweighted_overflow("update")
    dJ_dw, dJ_db = _gradient(dJ_dz, X, y, w, b)
    theta, grads = np.append(w, b), np.append(dJ_dw, dJ_db)
    with np.errstate(over="ignore", under="ignore"):
        # new = (w / 2**p - lr g / 2**p) 2**p: lr g may overflow where the new value fits
        (ml, el), (mg, eg) = np.frexp(lr), np.frexp(grads)
        p = np.maximum(np.frexp(theta)[1], el + eg)
        scaled = np.ldexp(theta, -p) - np.ldexp(ml * mg, el + eg - p)
        new = np.ldexp(scaled, p)
    if np.all(np.isfinite(new)):
        return new[:-1], float(new[-1])
    names = [f"w[{j}]" for j in range(w.shape[0])] + ["b"]
    labels = [f"dJ_dw[{j}]" for j in range(w.shape[0])] + ["dJ_db"]
    k = int(np.flatnonzero(~np.isfinite(new))[0])
    step = grads[k]
    raise FloatingPointError(
        f"the update overflows float64: the new {names[k]} = {names[k]} - lr * {labels[k]} "
        f"is about {_about(scaled[k], p[k])} (lr = {lr:.4g}, {labels[k]} = {step:.4g}); "
        "lower the learning rate"
    )
'''

OVERFLOW = OVERFLOW.rstrip() + "\n\n\n" + SECOND_ORDER.strip() + "\n"
