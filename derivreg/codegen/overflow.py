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
  or, if it is linear out there (it doubles from +-max/4 to +-max), the
  score times its slope, at scale (``_beyond``: BCE's loss at a soft label);
- ``_scaled_mean``, ``_combine``: means and sums scaled by powers of two, so a
  mean that fits is returned;
- ``_per_sample``: a per-sample dJ/dz past float64, recomputed at
  ``(z, y) / 2**k`` where the derivation shows it homogeneous in ``(z, y)``
  (:func:`derivreg.codegen.scaling.dJ_dz_degree`, printed as the module's
  ``DJ_DZ_DEGREE``);
- ``_scaled_grad``: the (weighted, penalised) gradient as mantissas and powers
  of two, from which ``_checked_grad`` and ``_checked_update`` round once;
- ``_at_edges``: ``dJ_dyhat`` on an edge of yhat's range, its limit from inside;

and raise FloatingPointError naming the quantity that does not fit and how
large it is (``_about``, ``_score_note``).  A sparse X goes through the same
paths, never densified (:mod:`derivreg._sparse`: ``abs_max``, ``ldexp_along``,
``column_sums``, ``row``).

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
    z, X = np.array(z), X[rows]
    # each row scaled by its own powers of two: exact, and b is lost only below TINY * Z
    ex = np.frexp(abs_max(X, 1))[1]
    ew = int(np.frexp(np.max(np.abs(w)))[1])
    with np.errstate(over="ignore"):
        dot = ldexp_along(X, -ex, 1) @ np.ldexp(w, -ew)
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


def _scaled_score(X: np.ndarray, w: np.ndarray, b: float, i: int) -> tuple[float, int]:
    """Row ``i``'s score as (s, p), z = s * 2**p, though it may not fit float64 (as _scores)."""
    x = row(X, i)
    with np.errstate(over="ignore", invalid="ignore"):
        ex, ew = int(np.frexp(np.max(np.abs(x)))[1]), int(np.frexp(np.max(np.abs(w)))[1])
        s = np.ldexp(x, -ex) @ np.ldexp(w, -ew) + np.ldexp(b, -(ex + ew))
    return float(s), ex + ew


def _score_note(X: np.ndarray, w: np.ndarray, b: float, i: int) -> str:
    """Say how large the score of row ``i`` is, though it may not fit float64."""
    with np.errstate(over="ignore", invalid="ignore"):
        z = float(row(X, i) @ w + b)
    if np.isfinite(z):
        return f"z = X @ w + b = {z:.4g} in row {i}"
    return f"z = X @ w + b is about {_about(*_scaled_score(X, w, b, i))} in row {i}"


def _beyond(  # noqa: PLR0917
    at: float, name: str, X: np.ndarray, w: np.ndarray, b: float, i: int
) -> float:
    """``f(z) = f(edge) z / edge`` for an f linear past edge = +-max (``at = f(edge)``) at
    row ``i``'s score z, computed at scale; a FloatingPointError where it is past float64."""
    s, p = _scaled_score(X, w, b, i)
    (mf, ef), (mr, er) = np.frexp(at), np.frexp(np.finfo(np.float64).max)
    scaled, power = mf * abs(s) / mr, int(ef) + p - int(er)  # z and edge share a sign
    with np.errstate(over="ignore"):
        value = float(np.ldexp(scaled, power))
    if np.isfinite(value):
        return value
    raise FloatingPointError(
        f"{name} overflows float64: {_score_note(X, w, b, i)}, and {name} there is about "
        f"{_about(scaled, power)}, past the largest float64 (1.8e+308)"
    )


def _limits(  # noqa: PLR0917
    f: object, z: np.ndarray, labels: tuple, name: str, X: np.ndarray, w: np.ndarray, b: float
) -> np.ndarray:
    """``f(z, *labels)`` per row; where |z| is past the largest float64 (z = +-inf), the
    value f takes there if f is flat out there (equal at +-max and +-max/2), z times its
    slope if f is linear there (doubling from +-max/4 to +-max/2 to +-max: BCE's loss at
    a soft label; see :func:`_beyond`), else an error.
    """
    with np.errstate(over="ignore", invalid="ignore"):
        values = np.array(f(z, *labels), dtype=np.float64)  # type: ignore[operator]  # a function
        far = np.flatnonzero(np.isinf(z))
        if far.shape[0] == 0:
            return values
        edge = np.copysign(np.finfo(np.float64).max, z[far])
        rows = tuple(label[far] for label in labels)
        at, half, quarter = (
            np.asarray(f(edge / k, *rows), dtype=np.float64)  # type: ignore[operator]  # a function
            for k in (1, 2, 4)
        )
    flat = np.isfinite(at) & (at == half)
    linear = np.isfinite(at) & (at == 2 * half) & (half == 2 * quarter)
    for k in range(far.shape[0]):
        i = int(far[k])
        if not (flat[k] or linear[k]):
            raise FloatingPointError(
                f"{name} cannot be computed in float64: {_score_note(X, w, b, i)}, past "
                "the largest float64 (1.8e+308), and it depends on z there; scale X "
                "(e.g. sklearn.preprocessing.StandardScaler) or shrink w and b"
            )
        values[i] = at[k] if flat[k] else _beyond(float(at[k]), name, X, w, b, i)
    return values


def _as_floats(
    y: "np.typing.ArrayLike", yhat: "np.typing.ArrayLike"
) -> tuple[np.ndarray, np.ndarray]:
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
                near = f(y, inside)  # type: ignore[operator]  # a function
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
    J = _limits(
        lambda t, *ys: kernel(t[:, None], *ys, one, 0.0),  # type: ignore[operator]  # a function
        z, labels, name, X, w, b,
    )
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
    term lost below the smallest subnormal is below TINY times the largest term
    (of its column: each product at its own scale, scaled_column_sums).
    """
    m = values.shape[0]
    if X is not None:
        s, p = scaled_column_sums(values, X)
        return s / m, p
    ev = np.frexp(np.max(np.abs(values)))[1]
    return np.sum(np.ldexp(values, -ev)) / m, ev


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


def _combine(
    a: tuple[np.ndarray, np.ndarray], b: tuple[np.ndarray, np.ndarray]
) -> tuple[np.ndarray, np.ndarray]:
    """``a[0] 2**a[1] + b[0] 2**b[1]`` (arrays of one shape) as (s, p): both terms scaled
    below 1 by powers of two (exact but far below the larger), so the sum cannot overflow."""
    none = -(2**20)  # the power of a 0 term: it sets no scale
    (fa, ea), (fb, eb) = np.frexp(a[0]), np.frexp(b[0])
    pa, pb = np.where(fa == 0, none, ea + a[1]), np.where(fb == 0, none, eb + b[1])
    top = np.maximum(pa, pb)
    top = np.where(top == none, 0, top)
    return np.ldexp(fa, pa - top) + np.ldexp(fb, pb - top), top


def _per_sample(  # noqa: PLR0917
    dJ_dz: object, degree: int | None, d: np.ndarray, z: np.ndarray, X: np.ndarray,
    y: np.ndarray,
) -> tuple[np.ndarray, int]:
    """Per-sample dJ/dz ``d``, some past float64, as (d', p) with dJ/dz = d' 2**p.

    Where dJ/dz is homogeneous of ``degree`` in (z, y) (``DJ_DZ_DEGREE``, from the
    derivation), it is dJ/dz at (z, y) / 2**k times 2**(degree k): scaling by powers of
    two commutes with every rounding of its +, -, * and /, so this is exact.  Otherwise
    a FloatingPointError names the row whose dJ/dz is past float64.
    """
    if degree is not None:
        far = np.isinf(z)  # their values are limits already, finite
        for k in (1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024):
            with np.errstate(over="ignore", invalid="ignore"):
                near = dJ_dz(  # type: ignore[operator]  # a function
                    np.ldexp(z, -k), np.ldexp(y, -k)
                )
                at = np.where(far, np.ldexp(d, -degree * k), near)
            if np.all(np.isfinite(at)):
                return at, degree * k
    i = int(np.flatnonzero(~np.isfinite(d))[0])
    dJ_dw = column_sums(d / X.shape[0], X)  # 0 * (a finite real) is 0, never nan
    fits = f"dJ_dw = {dJ_dw} fits" if np.all(np.isfinite(dJ_dw)) else "dJ_dw overflows too"
    raise FloatingPointError(
        f"the gradient overflows float64: dJ_db = mean(dJ/dz), and dJ/dz in row {i} "
        f"(z = {z[i]:.4g}, y = {y[i]:.4g}) is past the largest float64 (1.8e+308); {fits}"
    )


def _scaled_grad(  # noqa: PLR0917
    dJ_dz: object, degree: int | None, X: np.ndarray, y: np.ndarray, w: np.ndarray, b: float,
    s: np.ndarray | None, alpha: float,
) -> tuple[np.ndarray, np.ndarray]:
    """The gradient (dJ_dw, dJ_db) of the (weighted) mean loss plus alpha ||w||^2 / 2 as
    (v, e), each coordinate v_k 2**e_k, recomputed from the scores: no step overflows."""
    z = _scores(X, w, b)
    d = _limits(dJ_dz, z, (y,), "dJ/dz", X, w, b)
    p = 0
    if not np.all(np.isfinite(d)):
        d, p = _per_sample(dJ_dz, degree, d, z, X, y)
    if s is not None:  # the weights (mean 1) are at most m: scaled first, s * d fits
        q = int(np.frexp(np.max(s))[1])
        d, p = s * np.ldexp(d, -q), p + q
    (vw, ew), (vb, eb) = _scaled_mean(d, X), _scaled_mean(d)
    v, e = np.append(vw, vb), np.append(ew, eb) + p
    if alpha == 0.0:
        return v, e
    ma, ea = np.frexp(alpha)  # the L2 term alpha w, at its own scale; b is not penalised
    return _combine((v, e), (np.append(ma * w, 0.0), np.full(v.shape, ea)))


def _overflow(
    what: str, v: np.ndarray, e: np.ndarray, names: tuple[str, ...]
) -> FloatingPointError:
    """The error of a result v 2**e some of whose coordinates ``names`` are past float64."""
    with np.errstate(over="ignore"):
        value = np.ldexp(v, e)
    k = int(np.flatnonzero(~np.isfinite(value))[0])
    fits = ""
    for j in range(value.shape[0]):
        if np.isfinite(value[j]):
            fits += f"; {names[j]} = {value[j]:.4g} fits"
    return FloatingPointError(
        f"the {what} overflows float64: {names[k]} is about {_about(v[k], e[k])}, past the "
        f"largest float64 (1.8e+308){fits}"
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


def _checked_grad(  # noqa: PLR0917
    dJ_dw: np.ndarray, dJ_db: float, dJ_dz: object, X: np.ndarray, y: np.ndarray, w: np.ndarray,
    b: float, s: np.ndarray | None = None, alpha: float = 0.0, degree: int | None = None,
) -> tuple[np.ndarray, float]:
    """Return the gradient if finite, else recompute it at scale (:func:`_scaled_grad`, with
    the weights ``s``, the L2 strength ``alpha`` and dJ/dz's homogeneity ``degree``):
    finite, or a FloatingPointError naming the coordinate past float64 and how large it is."""
    if np.isfinite(dJ_db) and np.all(np.isfinite(dJ_dw)):
        return dJ_dw, dJ_db
    v, e = _scaled_grad(dJ_dz, degree, X, y, w, b, s, alpha)
    with np.errstate(over="ignore"):
        g = np.ldexp(v, e)
    if np.all(np.isfinite(g)):
        return g[:-1], float(g[-1])
    names = (*[f"dJ_dw[{j}]" for j in range(w.shape[0])], "dJ_db")
    raise _overflow("gradient", v, e, names)


def _checked_update(  # noqa: PLR0917
    new_w: np.ndarray, new_b: float, dJ_dz: object, X: np.ndarray, y: np.ndarray, w: np.ndarray,
    b: float, lr: float, s: np.ndarray | None = None, alpha: float = 0.0,
    degree: int | None = None,
) -> tuple[np.ndarray, float]:
    """Return the new (w, b) if finite; else recompute the step from the gradient at scale
    (:func:`_scaled_grad`), which may itself be past float64 where the step is not, and
    name the new parameter that overflows and how large it is."""
    if np.isfinite(new_b) and np.all(np.isfinite(new_w)):
        return new_w, new_b
    v, e = _scaled_grad(dJ_dz, degree, X, y, w, b, s, alpha)
    theta, (ml, el) = np.append(w, b), np.frexp(lr)
    scaled, p = _combine((theta, np.full(theta.shape, 0)), (-ml * v, e + el))
    with np.errstate(over="ignore"):
        new = np.ldexp(scaled, p)
    if np.all(np.isfinite(new)):
        return new[:-1], float(new[-1])
    names = [f"w[{j}]" for j in range(w.shape[0])] + ["b"]
    labels = [f"dJ_dw[{j}]" for j in range(w.shape[0])] + ["dJ_db"]
    k = int(np.flatnonzero(~np.isfinite(new))[0])
    raise FloatingPointError(
        f"the update overflows float64: the new {names[k]} = {names[k]} - lr * {labels[k]} "
        f"is about {_about(scaled[k], p[k])} (lr = {lr:.4g}, {labels[k]} = "
        f"{_about(v[k], e[k])}); lower the learning rate"
    )
'''

OVERFLOW = OVERFLOW.rstrip() + "\n\n\n" + SECOND_ORDER.strip() + "\n"
