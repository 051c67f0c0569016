"""The kernels' float64 contract over the whole range (issue 17): a result or the documented error.

Hypothesis draws X, w, b, y and lr from every scale float64 has: the largest
floats, subnormals, and mixed scales in one batch.  For finite input every
checked kernel function (``predict``, ``losses``, ``loss``, ``grad``,
``update``) must either

- return a finite result within the rounding bound below of the exact
  value, computed by mpmath at 50 digits from the pair's derivation (its
  exponent range is unbounded, so a score of 1e310 is an ordinary number
  there); or
- raise FloatingPointError, and only where the kernels document one: the
  exact result is past the largest float64, or a quantity it is computed
  from is: some row's score |z| (where the result still depends on z), a
  per-sample loss (for the mean loss), a per-sample dJ/dz (for the gradient
  and the update; its mean may fit, but the kernels compute each row's
  dJ/dz in float64), or the gradient (for the update).

Bound (the model of :mod:`derivreg.testing._reference`, in exact arithmetic so that
it never overflows): a score is within ``dz = (n + 1) eps Z + (n + 1) TINY``
of the exact one (``Z = |x|.|w| + |b|``; the rescaled recomputation of an
overflowed score multiplies by powers of two only, exact but for subnormal
terms, whose loss is below ``TINY`` per term after scaling back, far below
``eps Z``).  A value f(z) then errs by the mean-value bound
``max |f'| dz`` over ``[z - dz, z + dz]`` (first order plus ``sup |f''|
dz^2 / 2`` for the loss and dJ/dz, as in ``loss_error``/``grad_error``), plus
``(PER_SAMPLE_EPS + m + 1) eps`` of the magnitudes summed (one more rounding
than there: the scaled mean divides each term by m before summing), plus a
``TINY`` per rounding.  The update adds ``lr`` times the gradient's bound and
two roundings of ``|new|`` and ``|lr g|``.
"""

from __future__ import annotations

import functools
import warnings
from types import SimpleNamespace

import mpmath
import numpy as np
import scipy.sparse
import sympy as sp
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from derivreg.codegen import stabilize
from derivreg.symbolic import derive, y, yhat, z
from derivreg.testing._reference import (
    EPS,
    MP_DPS,
    MP_MODULES,
    PER_SAMPLE_EPS,
    REALMAX,
    TINY,
)
from properties.factory import Property, make_tests

#: Values drawn often: the edges of float64 and the scales where products overflow.
SPECIAL = (
    REALMAX,
    -REALMAX,
    1e308,
    -1e308,
    1e300,
    -1e300,
    1e154,
    -1e154,
    TINY,
    -TINY,
    2.2250738585072014e-308,
    1e-310,
    0.0,
    -0.0,
    1.0,
    -1.0,
)


def wide() -> st.SearchStrategy[float]:
    """Any finite float, with huge, subnormal and ordinary magnitudes all drawn often."""
    return st.one_of(
        st.sampled_from(SPECIAL),
        st.floats(-REALMAX, REALMAX, allow_nan=False, allow_infinity=False),
        st.floats(-1e-300, 1e-300),
        st.floats(-1e3, 1e3),
        # |m| <= 1, so m 2**e <= 2**1023 stays finite (2 * 2**1023 would be inf)
        st.builds(lambda m, e: m * 2.0**e, st.floats(-1.0, 1.0), st.integers(-1074, 1023)),
    )


def in_domain(domain: sp.Interval) -> st.SearchStrategy[float]:
    """Any finite label of the pair's domain (the set its kernels' ``DOMAIN`` is printed
    from), huge, subnormal and ordinary ones and its closed edges drawn often: the reals
    (MSE), [0, 1] (BCE), counts' [0, oo) (Poisson), (0, oo) (Gamma)."""
    lo = float(domain.inf) if domain.inf.is_finite else -REALMAX
    hi = float(domain.sup) if domain.sup.is_finite else REALMAX

    def inside(v: float) -> bool:
        above = v > lo if domain.left_open else v >= lo
        return above and (v < hi if domain.right_open else v <= hi)

    return st.one_of(
        st.sampled_from([v for v in (*SPECIAL, lo, hi) if inside(v)]),
        st.floats(lo, hi, exclude_min=bool(domain.left_open), exclude_max=bool(domain.right_open)),
        wide().filter(inside),
    )


@st.composite
def huge_batches(draw: st.DrawFn, ref: object) -> tuple:
    """A batch of mixed scales, labels in the pair's domain, and a positive learning rate
    of any scale."""
    m, n = draw(st.integers(1, 4)), draw(st.integers(1, 3))
    X = draw(arrays(np.float64, (m, n), elements=wide()))
    labels = draw(arrays(np.float64, (m,), elements=in_domain(ref.pair.domain)))
    w = draw(arrays(np.float64, (n,), elements=wide()))
    b = draw(wide())
    lr = draw(st.one_of(st.sampled_from([1e308, 1.0, 0.5, TINY]), st.floats(TINY, REALMAX)))
    return X, labels, w, b, lr


def rounding_scale(expr: sp.Basic) -> sp.Basic:
    """The scale a float64 evaluation of ``expr`` rounds relative to: a sum's terms and
    a product's factors by their absolute values (as ``_reference.magnitude``), but a
    function's value as it is (``exp(-z)`` rounds relative to ``|exp(-z)|``; the error
    of its argument is the score's, propagated by the bound's derivative terms, not
    ``exp(|z|)``, which would make Gamma's bound at z = 710 about 1e600)."""
    if expr.is_Add:
        return sp.Add(*(sp.Abs(rounding_scale(a)) for a in expr.args))
    if expr.is_Mul:
        return sp.Mul(*(sp.Abs(rounding_scale(a)) for a in expr.args))
    if expr.is_Pow and expr.exp.is_Integer:
        return sp.Abs(rounding_scale(expr.base)) ** expr.exp
    return sp.Abs(expr)


@functools.cache
def mp_functions(name: str) -> SimpleNamespace:
    """The pair's yhat, L, L', |L'|'s terms and L'' along z, and g', in mpmath (stable forms)."""
    d = derive(name)
    act = d.activation
    d2 = sp.diff(d.dJ_dz, yhat) * d.dyhat_dz + sp.diff(d.dJ_dz, z)
    stable_d1 = stabilize(d.dJ_dz.subs(yhat, act))[0]

    d3 = sp.diff(d2, yhat) * d.dyhat_dz + sp.diff(d2, z)
    stable_loss = stabilize(d.loss.subs(yhat, act))[0]
    terms = stable_loss.args if stable_loss.is_Add else (stable_loss,)
    c = sp.Symbol("c", positive=True)
    d1 = d.dJ_dz.subs(yhat, act)

    def mp(expr: sp.Basic, args: tuple) -> object:
        return sp.lambdify(args, stabilize(expr)[0], modules=MP_MODULES)

    return SimpleNamespace(
        yhat=mp(act, (z,)),
        slope=mp(sp.diff(act, z), (z,)),
        loss=mp(d.loss.subs(yhat, act), (z, y)),
        # the scale of the loss's last rounding: the sum of its top-level terms' |.|
        loss_scale=sp.lambdify((z, y), sp.Add(*(sp.Abs(t) for t in terms)), modules=MP_MODULES),
        d1=mp(d1, (z, y)),
        d1_magnitude=sp.lambdify((z, y), rounding_scale(stable_d1), modules=MP_MODULES),
        d2=mp(sp.simplify(d2).subs(yhat, act), (z, y)),
        d3=mp(sp.simplify(d3).subs(yhat, act), (z, y)),
        # dJ/dz(c z, c y) = c dJ/dz(z, y): then a per-sample dJ/dz past float64 is no excuse
        homogeneous=sp.simplify(d1.subs({z: c * z, y: c * y}, simultaneous=True) - c * d1) == 0,
    )


def _mpf(v: float) -> mpmath.mpf:
    return mpmath.mpf(float(v))


def _widest(f: object, at: mpmath.mpf, dz: mpmath.mpf, *rest: mpmath.mpf) -> mpmath.mpf:
    """max |f| at z and z +- dz (and at 0 if in between): |f'| on the interval, for the
    unimodal or monotone slopes of the registered activations."""
    points = [at, at - dz, at + dz] + ([mpmath.mpf(0)] if at - dz <= 0 <= at + dz else [])
    return max(abs(f(p, *rest)) for p in points)


def exact(
    kernel: object, ref: object, case: tuple
) -> dict[str, list[tuple[mpmath.mpf, mpmath.mpf]]]:
    """(exact value, error bound) of every output, by function, at 50 digits."""
    X, labels, w, b, lr = case
    m, n = X.shape
    f, e, tiny = mp_functions(ref.name), mpmath.mpf(EPS), mpmath.mpf(TINY)
    rows = []
    for i in range(m):
        xs = [_mpf(v) for v in X[i]]
        ws = [_mpf(v) for v in w]
        zi = mpmath.fsum([a * c for a, c in zip(xs, ws, strict=True)]) + _mpf(b)
        Zi = mpmath.fsum([abs(a * c) for a, c in zip(xs, ws, strict=True)]) + abs(_mpf(b))
        rows.append((zi, (n + 1) * (e * Zi + tiny), _mpf(labels[i]), [*xs, mpmath.mpf(1)]))
    per = PER_SAMPLE_EPS + m + 1

    def sup(bound: float, g: object, zi: mpmath.mpf, dz: mpmath.mpf, yi: mpmath.mpf) -> object:
        # sup |g| on [z - dz, z + dz]: the pair's global sup where finite (MSE, BCE), else
        # at the interval's ends, |g| being monotone there (Poisson's exp(z), Gamma's
        # y exp(-z): _reference.monotone_tails proves it for the pair, or refuses it)
        return mpmath.mpf(bound) if np.isfinite(bound) else _widest(g, zi, dz, yi)

    out: dict[str, list] = {"predict": [], "losses": []}
    for zi, dz, yi, _ in rows:
        yh = f.yhat(zi)
        out["predict"].append((yh, per * e * abs(yh) + _widest(f.slope, zi, dz) * dz + per * tiny))
        J = f.loss(zi, yi)
        moved = abs(f.d1(zi, yi)) * dz + sup(ref.sup_d2, f.d2, zi, dz, yi) * dz**2 / 2
        out["losses"].append((J, per * e * f.loss_scale(zi, yi) + moved + per * tiny))
    J_mean = mpmath.fsum(v for v, _ in out["losses"]) / m
    bound = mpmath.fsum(t for _, t in out["losses"]) / m + (per + n) * tiny
    out["loss"] = [(J_mean, bound + e * per * abs(J_mean))]
    grad = []
    for k in range(n + 1):
        terms = [f.d1(zi, yi) * a[k] for zi, _, yi, a in rows]
        errs = [
            (
                per * e * f.d1_magnitude(zi, yi)
                + abs(f.d2(zi, yi)) * dz
                + sup(ref.sup_d3, f.d3, zi, dz, yi) * dz**2 / 2
            )
            * abs(a[k])
            for zi, dz, yi, a in rows
        ]
        grad.append((mpmath.fsum(terms) / m, mpmath.fsum(errs) / m + (per + n) * tiny))
    out["grad"] = grad
    theta, alpha = [*(_mpf(v) for v in w), _mpf(b)], _mpf(lr)
    out["update"] = [
        (
            t - alpha * g,
            alpha * gb * (1 + e) + 2 * e * (abs(t - alpha * g) + abs(alpha * g)) + 2 * tiny,
        )
        for t, (g, gb) in zip(theta, grad, strict=True)
    ]
    out["too large"] = {
        "z": any(abs(zi) > REALMAX for zi, *_ in rows),
        "J": any(abs(v) + t > REALMAX for v, t in out["losses"]),
        "dJ/dz": not f.homogeneous
        and any(abs(f.d1(zi, yi)) * (1 + e) > REALMAX for zi, _, yi, _ in rows),
        "grad": any(abs(v) + t > REALMAX for v, t in grad),
    }
    return out


def call(kernel: object, name: str, case: tuple, X: object = None) -> list[float]:
    X_given, labels, w, b, lr = case
    X = X_given if X is None else X
    if name == "predict":
        return list(kernel.predict(X, w, b))
    if name == "update":
        new_w, new_b = kernel.update(X, labels, w, b, lr)
        return [*new_w, new_b]
    result = getattr(kernel, name)(X, labels, w, b)
    if name == "grad":
        return [*result[0], result[1]]
    return list(np.atleast_1d(result))


def check_contract(kernel: object, ref: object, case: tuple, X: object = None) -> dict:
    """Each checked function: finite and within its bound of mpmath, or the documented error.

    Where the score |z| is past float64, predict, losses and loss must still be computed
    where their exact value fits (a flat or linear tail: the kernels' ``_limits``); the
    gradient and the update may raise there, and where a per-sample dJ/dz is past
    float64 unless dJ/dz is homogeneous in (z, y) (MSE's: then it is rescaled).
    ``X`` (a sparse copy of the case's X, the same numbers) is what the kernel is given;
    the outcome of each function, raised or not, is returned.
    """
    outcome = {}
    with mpmath.workdps(MP_DPS):
        want = exact(kernel, ref, case)
        large = want["too large"]
        for name in ("predict", "losses", "loss", "grad", "update"):
            try:
                with warnings.catch_warnings():
                    warnings.simplefilter("error", RuntimeWarning)
                    got, raised = call(kernel, name, case, X), None
            except FloatingPointError as err:
                got, raised = [], err
            except RuntimeWarning as warning:  # overflow the kernel did not handle
                raise AssertionError(f"{name}: NumPy warned {warning}") from None
            outcome[name] = raised is None
            if raised is not None:
                allowed = (
                    any(abs(v) + t > REALMAX for v, t in want[name])
                    or (name == "loss" and large["J"])
                    or (name in ("grad", "update") and (large["z"] or large["dJ/dz"]))
                )
                assert allowed, f"{name} raised {raised!r} where its exact result fits"
                continue
            assert np.all(np.isfinite(got)), f"{name} returned {got} from finite input"
            for k, (have, (value, bound)) in enumerate(zip(got, want[name], strict=True)):
                assert abs(_mpf(have) - value) <= bound, (
                    f"{name}[{k}] = {have!r}, exact {mpmath.nstr(value, 17)}, "
                    f"bound {mpmath.nstr(bound, 3)}"
                )
    return outcome


def check_sparse_contract(kernel: object, ref: object, case: tuple) -> None:
    """The contract for a sparse X (CSR, its zeros implicit): the dense X's bounds.

    They hold for any order of summation (Higham 3.1), and a sparse row sums its
    stored entries only, an implicit 0 adding an exact 0; so where the dense X must
    give a result, the sparse one must give one within the same bound of mpmath, and
    the two agree to the sum of their bounds.  Where raising is allowed, the outcomes
    may differ: a score whose rounding bound straddles the largest float64 (BLAS's
    fused R * R - R * R is the product's rounding error times 2**2048, past float64;
    CSR's sum of the same terms is 0) is a result for one and an error for the other.
    """
    check_contract(kernel, ref, case, scipy.sparse.csr_matrix(case[0]))


def opposite_extremes(ref: object) -> tuple:
    """Where the labels -REALMAX and REALMAX are in the pair's domain (MSE's reals): z = 0
    at both, so a per-sample dJ/dz (MSE's 2 (z - y) = +-2 REALMAX) is past float64 while
    the mean gradient (0) and the update fit: the rescaled path, taken deterministically
    (the planted "dJ/dz not rescaled" raises there), whatever Hypothesis's database or
    the order the property files run in."""
    domain = ref.pair.domain
    if not (domain.contains(-REALMAX) is sp.true and domain.contains(REALMAX) is sp.true):
        return ()
    X, labels = np.ones((2, 1)), np.array([-REALMAX, REALMAX])
    return ((X, labels, np.zeros(1), 0.0, 1.0),)


CONTRACT = Property(
    "finite input gives a result within the bound of mpmath or the documented FloatingPointError",
    strategy=huge_batches,
    check=check_contract,
    catches=("inf times 0 at an overflowed score", "naive loss", "dJ/dz not rescaled"),
    examples=opposite_extremes,
)
TestContract = make_tests(CONTRACT)

SPARSE_CONTRACT = Property(
    "a sparse X gives the dense outcome on huge magnitudes, within the bound of mpmath",
    strategy=huge_batches,
    check=check_sparse_contract,
    catches=("sparse X drops its last stored entry", "dJ/dz not rescaled"),
    examples=opposite_extremes,
)
TestSparseContract = make_tests(SPARSE_CONTRACT)
