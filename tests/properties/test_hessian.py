"""Properties of the generated second order (curvature, hessian, hvp), over every registered pair.

Each ``Test*`` class has ``test_holds[pair-variant]`` and ``test_catches[pair-bug]``
(see :mod:`properties.factory`); the planted bugs are the second-order ones of
:mod:`properties.planted`.  Rounding follows the model of
:mod:`derivreg.testing._reference` (``eps = 2**-52``, scores within ``(n + 1) eps Z``).

The kernel's own Hessian error (:func:`hessian_error`): entry ``(j, k)`` is
``mean_i c_i a_ij a_ik`` (``a`` the rows of ``X~ = [X, 1]``, ``c = d2J/dz2``).
From the computed score, ``c`` is within ``PER_SAMPLE_EPS eps |c|`` (at most
about eight roundings, as ``dJ_dz``); a score error ``dz`` moves it by at most
``sup|L'''| dz + sup|L''''| dz^2 / 2`` (Taylor); the two products add 2 eps
and the mean over m rows m eps, each relative to ``|c a_ij a_ik|``.

Local sups.  Each ``sup`` above (and in the finite differences' truncation
terms) is over the scores sample i takes in the interval its error term
covers: ``[z - dz, z + dz]`` for a rounding error ``dz`` of the score, the z
between ``t-`` and ``t+`` for a difference step.  Where the pair's supremum
over the whole line is finite (MSE, BCE) it is used as it is.  Where it is
infinite (the log links: Poisson's ``L''' = L'''' = exp(z)``, Gamma's
``-y exp(-z)`` and ``y exp(-z)``), ``|L'''|`` and ``|L''''|`` are monotone in
z (``monotone_tails`` proves it symbolically, in :func:`higher`), so the
supremum over an interval is at one of its ends (:func:`local_sup`).
Nothing is widened: the interval is a few hundred ulp of ``|z|`` for a
rounding error, and ``|x_k| h`` (``h = eps^(1/3) max(1, |t|)``) for a step,
over which ``exp`` changes by the factor ``exp(|x_k| h)``; the bound is the
curvature's own scale there, as for the gradient's properties (local sups,
:mod:`derivreg.testing._accuracy`).
"""

from __future__ import annotations

import functools
import math
from fractions import Fraction

import mpmath
import numpy as np
import sympy as sp
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from derivreg.codegen import stabilize
from derivreg.symbolic import y, yhat, z
from derivreg.testing._bounds import augmented, grad_error, scores
from derivreg.testing._reference import (
    EPS,
    MP_DPS,
    MP_MODULES,
    PER_SAMPLE_EPS,
    TINY,
    Batch,
    Reference,
    _sup_abs,
    monotone_tails,
    reference,
)
from derivreg.testing._strategies import batches, floats, scores_and_labels
from properties.factory import Property, make_tests

VARIANTS = ("generated", "2-row blocks")


@functools.cache
def higher(name: str):
    """``(L''', sup |L'''|, L'''', sup |L''''|)`` along z, the functions of (z, y) in NumPy.

    The sups are over the activation's range (0 for a quadratic loss), by SymPy;
    where one is infinite, SymPy must prove ``|L'''|`` and ``|L''''|`` monotone in
    z (module notes: local sups), else the pair has no bound here and is refused.
    """
    d = reference(name).derivation

    def along_z(e: sp.Expr) -> sp.Expr:
        return sp.diff(e, yhat) * d.dyhat_dz + sp.diff(e, z)

    d3, d4 = along_z(d.d2J_dz2), along_z(along_z(d.d2J_dz2))
    sups = [_sup_abs(e, d.activation, d.pair.domain) for e in (d3, d4)]
    on_z = [sp.simplify(e.subs(yhat, d.activation)) for e in (d3, d4)]
    if any(math.isinf(s) for s in sups):
        assert monotone_tails(on_z, d.pair.domain), f"{name}: L''', L'''' not monotone in z"
    f3, f4 = (sp.lambdify((z, y), e, modules="numpy") for e in on_z)
    return f3, sups[0], f4, sups[1]


def local_sup(name: str, order: int, zs: np.ndarray, dz: np.ndarray, labels: np.ndarray):
    """``sup |L^(order)|`` over ``[z - dz, z + dz]``, per sample (module notes: local sups)."""
    f3, s3, f4, s4 = higher(name)
    f, bound = (f3, s3) if order == 3 else (f4, s4)
    if math.isfinite(bound):
        return np.full(np.shape(zs), bound)
    with np.errstate(over="ignore", invalid="ignore"):
        lo, hi = np.abs(f(zs - dz, labels)), np.abs(f(zs + dz, labels))
    return np.maximum(np.broadcast_to(lo, np.shape(zs)), np.broadcast_to(hi, np.shape(zs)))


def hessian_error(ref: Reference, X: np.ndarray, y: np.ndarray, w: np.ndarray, b: float):
    """Bound on ``|kernel.hessian - exact|`` entry by entry (module notes)."""
    m, n = X.shape
    zs, Z = scores(X, w, b)
    A = np.abs(augmented(X))
    dz = (n + 1) * EPS * Z
    c = np.abs(ref.d2(zs, y))
    per_sample = EPS * (PER_SAMPLE_EPS + m + 2) * c + local_sup(ref.name, 3, zs, dz, y) * dz
    per_sample = per_sample + local_sup(ref.name, 4, zs, dz, y) * dz**2 / 2
    return (A.T * per_sample) @ A / m + (PER_SAMPLE_EPS + m + n + 3) * TINY


def theta_of(batch: Batch) -> np.ndarray:
    return np.append(batch.w, batch.b)


# ---------------------------------------------------------------------------
# 1. Finite differences of the generated gradient.
# ---------------------------------------------------------------------------
#: h = eps^(1/3) max(1, |theta_k|) balances truncation (~h^2) against rounding (~eps/h).
H_FACTOR = EPS ** (1 / 3)


def check_finite_differences(kernel, ref, batch: Batch) -> None:
    """Column k of hessian equals central differences of grad along theta_k.

    With g_j the j-th gradient entry along coordinate k, t+ = fl(t + h),
    t- = fl(t - h), a = t+ - t, c = t - t- (exact, by Fraction):

        (g_j(t+) - g_j(t-)) / (a + c) - H_jk = g_j''(t) (a - c) / 2 + R,
        |R| <= sup|g_j'''| max(a, c)^2 / 6,

    g_j'' = mean L''' a_j a_k^2 and g_j''' = mean L'''' a_j a_k^3, each L's sup
    over the z sample i takes between t- and t+ (module notes: local sups).
    Rounding adds the gradient's own error at both points over (a + c)
    (reference.grad_error), 2 eps |D| for the quotient, and the Hessian's own error.
    """
    X, labels, w, b = batch
    n = X.shape[1]
    H = kernel.hessian(X, labels, w, b)
    own = hessian_error(ref, X, labels, w, b)
    theta = theta_of(batch)
    A = np.abs(augmented(X))
    zs = X @ w + b
    for k in range(n + 1):
        t = float(theta[k])
        h = H_FACTOR * max(1.0, abs(t))
        tp, tm = t + h, t - h
        plus, minus = theta.copy(), theta.copy()
        plus[k], minus[k] = tp, tm
        gp = np.append(*kernel.grad(X, labels, plus[:n], float(plus[n])))
        gm = np.append(*kernel.grad(X, labels, minus[:n], float(minus[n])))
        a, c = Fraction(tp) - Fraction(t), Fraction(t) - Fraction(tm)
        D = (gp - gm) / (tp - tm)
        step = A[:, k] * float(max(a, c))  # how far sample i's z moves along theta_k
        L3 = local_sup(ref.name, 3, zs, step, labels)[:, None]
        L4 = local_sup(ref.name, 4, zs, step, labels)[:, None]
        M3 = np.mean(L3 * A * A[:, [k]] ** 2, axis=0)
        M4 = np.mean(L4 * A * A[:, [k]] ** 3, axis=0)
        truncation = M3 * abs(float(a - c)) / 2 + M4 * float(max(a, c)) ** 2 / 6
        errors = grad_error(ref, X, labels, plus[:n], float(plus[n]))
        errors = errors + grad_error(ref, X, labels, minus[:n], float(minus[n]))
        tol = truncation + errors / float(a + c) + 2 * EPS * np.abs(D) + own[:, k]
        diff = np.abs(H[:, k] - D)
        assert np.all(diff <= tol), (
            f"column {k}: hessian {H[:, k]!r}, central differences {D!r}, "
            f"|diff| {diff!r} > tol {tol!r}"
        )


FINITE_DIFFERENCES = Property(
    "hessian matches central differences of grad",
    strategy=batches,
    check=check_finite_differences,
    catches=(
        "curvature sign flipped",
        "curvature squared sigmoid",
        "symmetric half missing",
        "hessian summed, not averaged",
    ),
    variants=VARIANTS,
)
TestFiniteDifferences = make_tests(FINITE_DIFFERENCES)


# ---------------------------------------------------------------------------
# 2. The curvature against the textbook d2J/dz2 at 50 digits.
# ---------------------------------------------------------------------------
@functools.cache
def mp_curvature(name: str):
    """d2J/dz2 at 50 digits, in the Sigmoid/Softplus form (exact over all of float64).

    The textbook sigma(z) (1 - sigma(z)) cancels to 0 at 50 digits once
    e^-z < 1e-50 (z = 709: the true value is 1.2e-308); the form with
    sigma(-z) has no cancellation, and proofs/stability.py proves it equal.
    """
    d = reference(name).derivation
    stable, _ = stabilize(d.d2J_dz2.subs(yhat, d.activation))
    return sp.lambdify((z, y), stable, modules=MP_MODULES)


def check_curvature(kernel, ref, case) -> None:
    """curvature(z, y) is within PER_SAMPLE_EPS eps of d2J/dz2 at 50 digits.

    The 50-digit reference (mp_curvature) is exact to ~1e-50 relative over the
    scores drawn (mpmath's exponent range is unbounded); rounding it to float64
    adds eps/2; an underflowed result errs by up to TINY.
    """
    zs, labels = case
    got = kernel.curvature(zs, labels)
    exact_of = mp_curvature(ref.name)
    with mpmath.workdps(MP_DPS):
        for zi, yi, gi in zip(zs, labels, np.broadcast_to(got, zs.shape), strict=True):
            exact = exact_of(mpmath.mpf(float(zi)), mpmath.mpf(float(yi)))
            tol = (PER_SAMPLE_EPS + 1) * EPS * float(abs(exact)) + 2 * TINY
            assert abs(float(gi) - float(exact)) <= tol, (
                f"curvature({zi!r}, {yi!r}) = {gi!r}, 50-digit {float(exact)!r}"
            )


HIGH_PRECISION = Property(
    "curvature matches the textbook d2J/dz2 at 50 digits",
    strategy=scores_and_labels,
    check=check_curvature,
    catches=("curvature sign flipped", "curvature squared sigmoid"),
    variants=VARIANTS,
)
TestHighPrecision = make_tests(HIGH_PRECISION)


# ---------------------------------------------------------------------------
# 3. Symmetry.
# ---------------------------------------------------------------------------
def check_symmetry(kernel, ref, batch: Batch) -> None:
    """hessian equals its transpose to rounding.

    H_jk and H_kj sum the same m products c_i a_ij a_ik associated differently:
    each within (m + 2) eps of the sum of |c_i a_ij a_ik| / m (two products and
    a sum of m), so they differ by at most twice that.
    """
    X, labels, w, b = batch
    m = X.shape[0]
    H = kernel.hessian(X, labels, w, b)
    zs, _ = scores(X, w, b)
    A = np.abs(augmented(X))
    scale = (A.T * np.abs(ref.d2(zs, labels))) @ A / m
    tol = 2 * (m + 2) * EPS * scale + 4 * TINY
    assert H.shape == (X.shape[1] + 1,) * 2
    assert np.all(np.abs(H - H.T) <= tol), f"H - H^T = {H - H.T!r}, tol {tol!r}"


SYMMETRY = Property(
    "hessian is symmetric",
    strategy=batches,
    check=check_symmetry,
    catches=("symmetric half missing",),
    variants=VARIANTS,
)
TestSymmetry = make_tests(SYMMETRY)


# ---------------------------------------------------------------------------
# 4. Positive semidefinite, where proven (proofs/hessian.py: d2J/dz2 >= 0).
# ---------------------------------------------------------------------------
def check_psd(kernel, ref, batch: Batch) -> None:
    """The smallest eigenvalue of hessian is >= 0 up to rounding.

    The exact Hessian is PSD (proofs/hessian.py).  The computed one differs by
    E with |E_jk| <= hessian_error, so ||E||_2 <= ||E||_F (Weyl: eigenvalues
    move by at most that); eigvalsh adds ~ (n + 1) eps ||H||_2 (we allow 8x).
    """
    X, labels, w, b = batch
    H = kernel.hessian(X, labels, w, b)
    own = hessian_error(ref, X, labels, w, b)
    lowest = float(np.linalg.eigvalsh((H + H.T) / 2)[0])
    size = float(np.max(np.abs(np.linalg.eigvalsh((H + H.T) / 2))))
    tol = float(np.linalg.norm(own)) + 8 * (X.shape[1] + 1) * EPS * size + TINY
    assert lowest >= -tol, f"smallest eigenvalue {lowest!r} < -{tol!r}"


PSD = Property(
    "hessian is positive semidefinite where the pair is proven convex",
    strategy=batches,
    check=check_psd,
    catches=("curvature sign flipped",),
    applies=lambda ref: ref.derivation.convex_in_z,
    variants=VARIANTS,
)
TestPositiveSemidefinite = make_tests(PSD)


# ---------------------------------------------------------------------------
# 5. The Hessian-vector product.
# ---------------------------------------------------------------------------
@st.composite
def batches_and_directions(draw: st.DrawFn, ref: Reference):
    batch = draw(batches(ref))
    v = draw(arrays(np.float64, (batch.X.shape[1] + 1,), elements=floats(8.0)))
    return batch, v


def check_hvp(kernel, ref, case) -> None:
    """hvp(X, y, w, b, v) equals hessian(X, y, w, b) @ v to rounding.

    Both are mean_i c_i a_i (a_i . v) in two orders.  hvp: a_i . v is within
    (n + 1) eps |a_i| . |v|, then a product and a sum of m; H @ v: each H_jk
    within (m + 2) eps of its magnitude, then a dot product of n + 1.  Together
    within 2 (m + n + 4) eps mean_i |c_i| |a_ij| (|a_i| . |v|), plus c's
    own PER_SAMPLE_EPS eps (the same c in both, computed twice, so twice).

    Below the normal range a rounding errs by up to TINY / 2 absolutely, not
    relatively: a_i . v (n + 1 roundings) errs by (n + 1) TINY / 2, which
    c_i and a_ij then scale; c_i (a_i . v) and its a_ij multiple add TINY / 2
    each, times a_ij for the first; H @ v's n + 1 products and n sums, the
    mean's m sums and division, TINY / 2 each.  And each entry of H is itself
    a mean of m products c_i a_ij a_ik, two roundings each, then m sums and a
    division: (3 m + 1) TINY / 2 where it is subnormal, which H @ v multiplies
    by |v_k|.  Hence the absolute floor TINY ((n + 2) mean_i |c_i| |a_ij| +
    mean_i |a_ij| + m + n + 4 + (3 m + 1) sum_k |v_k| / 2).  (A subnormal v
    found the first terms: 30 TINY apart where the floor was 8 TINY; a
    subnormal feature with v = 3 the last: 9 TINY apart against 8.)
    """
    batch, v = case
    X, labels, w, b = batch
    m, n = X.shape
    got = kernel.hvp(X, labels, w, b, v)
    want = kernel.hessian(X, labels, w, b) @ v
    zs, _ = scores(X, w, b)
    A = np.abs(augmented(X))
    c = np.abs(ref.d2(zs, labels))
    scale = A.T @ (c * (A @ np.abs(v))) / m
    entries = (3 * m + 1) * np.abs(v).sum() / 2  # H's subnormal entries, times |v|
    floor = TINY * ((n + 2) * (A.T @ c) / m + A.sum(axis=0) / m + m + n + 4 + entries)
    tol = 2 * (m + n + 4 + PER_SAMPLE_EPS) * EPS * scale + floor
    assert got.shape == (n + 1,)
    assert np.all(np.abs(got - want) <= tol), f"hvp {got!r}, H v {want!r}, tol {tol!r}"


HVP = Property(
    "hvp equals hessian times v",
    strategy=batches_and_directions,
    check=check_hvp,
    catches=("hvp drops the intercept row",),
    variants=VARIANTS,
)
TestHessianVectorProduct = make_tests(HVP)
