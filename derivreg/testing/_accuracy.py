"""Accuracy properties of a pair's kernels: finite differences, mpmath, chain factors, stability.

Issue 5, properties 1-4.  Each is a :class:`~derivreg.testing.Property`, a
check ``check(kernel, ref, case)`` plus a strategy for ``case``; the test suite
runs them over the registry (``tests/properties/test_kernels.py``) and
:func:`derivreg.testing.check_kernels` over a module of one's own.
"""

from __future__ import annotations

from fractions import Fraction

import mpmath
import numpy as np

from derivreg.testing._bounds import augmented, grad_error, local_sup, loss_error
from derivreg.testing._mp_reference import mp_loss_and_grad, ulps
from derivreg.testing._property import BLOCKED, Property
from derivreg.testing._reference import EPS, MAX_ULP, MP_DPS, PER_SAMPLE_EPS, REALMAX, TINY, Batch
from derivreg.testing._strategies import batches, scores_and_labels

ONE = np.ones(1)


def as_rows(z: np.ndarray) -> np.ndarray:
    """Scores as a one-feature batch: with ``w = [1], b = 0`` the kernel's z is exact."""
    return z[:, None]


# ---------------------------------------------------------------------------
# 1. Finite differences.
# ---------------------------------------------------------------------------
#: Central-difference step factor: h = eps^(1/3) max(1, |theta|) balances the
#: truncation error (~h^2) against the rounding error (~eps/h).
H_FACTOR = EPS ** (1 / 3)


def check_finite_differences(kernel, ref, batch: Batch) -> None:
    """Grad equals central differences of loss in every coordinate of (w, b).

    With J(t) the mean loss along coordinate k, t+ = fl(t + h), t- = fl(t - h),
    a = t+ - t and c = t - t- (exact, by Fraction):

        (J(t+) - J(t-)) / (a + c) - J'(t) = J''(t) (a - c) / 2 + R,
        |R| <= M3 max(a, c)^2 / 6,

    with M2 = mean(sup|L''| x_k^2) >= |J''| and M3 = mean(sup|L'''| |x_k|^3) >= |J'''|
    (L the per-sample loss along z; x_k the k-th column of [X, 1]; each sup over
    the z the sample takes between t- and t+, see ``_reference.local_sup``).  MSE has
    L''' = 0, so its truncation error is the (a - c) term alone.  Rounding adds
    (err J(t+) + err J(t-)) / (a + c), the kernel's own gradient error, and
    2 eps |D| for the subtraction and division of the difference quotient.
    """
    X, labels, w, b = batch
    n = X.shape[1]
    grad_w, grad_b = kernel.grad(X, labels, w, b)
    got = np.append(grad_w, grad_b)
    theta = np.append(w, b)
    A = augmented(X)
    own = grad_error(ref, X, labels, w, b)
    z = X @ w + b

    def at(k: int, value: float) -> tuple[np.ndarray, float]:
        moved = theta.copy()
        moved[k] = value
        return moved[:n], float(moved[n])

    for k in range(n + 1):
        t = float(theta[k])
        h = H_FACTOR * max(1.0, abs(t))
        tp, tm = t + h, t - h
        (wp, bp), (wm, bm) = at(k, tp), at(k, tm)
        D = (kernel.loss(X, labels, wp, bp) - kernel.loss(X, labels, wm, bm)) / (tp - tm)
        a, c = Fraction(tp) - Fraction(t), Fraction(t) - Fraction(tm)
        # Each sup of |L''|, |L'''| is over the z a sample takes between t- and t+
        # (local_sup): the whole line's for MSE and BCE, the ends' for the log links.
        dz = np.abs(A[:, k]) * float(max(a, c))
        M2 = float(np.mean(local_sup(ref, ref.d2, z, dz, labels) * A[:, k] ** 2))
        M3 = float(
            np.mean(local_sup(ref, ref.d3, z, dz, labels, third=True) * np.abs(A[:, k]) ** 3)
        )
        truncation = M3 * float(max(a, c)) ** 2 / 6 + M2 * abs(float(a - c)) / 2
        rounding = (
            loss_error(ref, X, labels, wp, bp) + loss_error(ref, X, labels, wm, bm)
        ) / float(a + c) + 2 * EPS * abs(D)
        tol = truncation + rounding + own[k]
        assert abs(got[k] - D) <= tol, (
            f"coordinate {k}: grad {got[k]!r}, central difference {D!r}, "
            f"|diff| {abs(got[k] - D):.3g} > tol {tol:.3g} (truncation {truncation:.3g})"
        )


FINITE_DIFFERENCES = Property(
    "grad matches central differences of loss",
    strategy=batches,
    check=check_finite_differences,
    catches=("sign flipped in grad", "factor 2 dropped", "yhat(1 - yhat) missing"),
    variants=BLOCKED,
)


# ---------------------------------------------------------------------------
# 2. A high-precision reference.
# ---------------------------------------------------------------------------
def high_precision_batches(ref):
    # |z| <= 3 * 4 * 4 + 4 = 52: the textbook BCE at 50 digits loses at most
    # log10(e^52) ~ 23 digits to 1 - sigma(z), so the reference keeps >= 27
    # digits, ~1e11 times finer than float64.
    return batches(ref, max_m=5, max_n=3, bound=4.0)


def check_high_precision(kernel, ref, batch: Batch) -> None:
    """Loss and grad agree with the textbook expression at 50 digits (complex step for grad).

    Bound: the rounding bounds of ``reference.loss_error``/``grad_error`` (relative to
    the magnitudes of the terms summed, which is what rounding can be relative
    to) plus eps |ref| for rounding the reference to float64.
    """
    X, labels, w, b = batch
    value, grads = mp_loss_and_grad(ref, batch)
    J = kernel.loss(X, labels, w, b)
    tol = loss_error(ref, X, labels, w, b) + EPS * abs(value)
    assert abs(J - value) <= tol, f"loss {J!r}, 50-digit {value!r}, tol {tol:.3g}"
    grad_w, grad_b = kernel.grad(X, labels, w, b)
    got = np.append(grad_w, grad_b)
    tol_g = grad_error(ref, X, labels, w, b) + EPS * np.abs(grads)
    bad = np.abs(got - grads) > tol_g
    assert not bad.any(), f"grad {got}, 50-digit {grads}, tol {tol_g}"


HIGH_PRECISION = Property(
    "loss and grad match mpmath at 50 digits",
    strategy=high_precision_batches,
    check=check_high_precision,
    catches=(
        "sign flipped in grad",
        "factor 2 dropped",
        "yhat(1 - yhat) missing",
        "last row dropped",
    ),
    variants=BLOCKED,
)


# ---------------------------------------------------------------------------
# 3. The chain factors.
# ---------------------------------------------------------------------------
def predicted(kernel, z: np.ndarray) -> np.ndarray:
    return kernel.predict(as_rows(z), ONE, 0.0)


def check_chain_product(kernel, ref, case) -> None:
    """dJ_dz == dJ_dyhat * dyhat_dz wherever both sides are finite.

    The right side is evaluated at the kernel's yhat, whose error dyhat <=
    PER_SAMPLE_EPS eps |yhat| moves dJ_dyhat by |d dJ_dyhat / dyhat| dyhat (to first
    order; 2x covers the second order while dyhat is under half the distance to
    a pole of dJ_dyhat, and beyond that the slope term exceeds the values).
    """
    z, labels = case
    lhs = kernel.dJ_dz(z, labels)
    yh = predicted(kernel, z)
    with np.errstate(all="ignore"):
        factor = kernel.dyhat_dz(z)
        rhs = kernel.dJ_dyhat(labels, yh) * factor
        slope = ref.dJ_dyhat_slope(labels, yh) * factor
        finite = np.isfinite(lhs) & np.isfinite(rhs) & np.isfinite(slope)
        unit = PER_SAMPLE_EPS * EPS
        tol = unit * (ref.d1_magnitude(z, labels) + 2 * np.abs(rhs)) + PER_SAMPLE_EPS * TINY
        tol = tol + 2 * np.abs(slope) * unit * np.abs(yh)
        bad = finite & ~(np.abs(lhs - rhs) <= tol)
    assert not bad.any(), f"z {z[bad]}, y {labels[bad]}: dJ_dz {lhs[bad]} != product {rhs[bad]}"


CHAIN_PRODUCT = Property(
    "dJ_dz is the product of the local partials",
    # |z| <= ref.chain_bound: past it the textbook factors are not representable
    # (tests/test_families.py pins Gamma's dJ_dyhat there, a strict xfail).
    strategy=lambda ref: scores_and_labels(ref, z_bound=ref.chain_bound),
    check=check_chain_product,
    catches=("sign flipped in dJ_dz", "factor 2 dropped", "yhat(1 - yhat) missing"),
)

#: The kernel function computing each claimed chain factor, and whether it takes z
#: (so that the claim, a function of yhat, is evaluated at the kernel's rounded yhat).
CLAIMED = {
    "dJ_dyhat": (lambda k, z, y, yh: k.dJ_dyhat(y, yh), False),
    "dyhat_dz": (lambda k, z, y, yh: k.dyhat_dz(z), True),
    "dJ_dz": (lambda k, z, y, yh: k.dJ_dz(z, y), True),
}


def check_claims(kernel, ref, case) -> None:
    """Each chain factor equals the closed form the registry claims (BCE: dJ_dz = yhat - y).

    Tolerance as in the chain-product property: a few eps of the values (of the
    magnitude of dJ_dz's terms, which cancel for soft labels), plus the claim's
    slope in yhat times the kernel's yhat error where the factor is a function of z.
    """
    z, labels = case
    yh = predicted(kernel, z)
    unit = PER_SAMPLE_EPS * EPS
    for label, (claim, slope) in ref.claims.items():
        compute, of_z = CLAIMED[label]
        with np.errstate(all="ignore"):  # dJ_dyhat has poles at yhat = 0 and 1
            got = compute(kernel, z, labels, yh)
            want, tilt = claim(labels, yh), slope(labels, yh)
            scale = ref.d1_magnitude(z, labels) if label == "dJ_dz" else np.abs(got)
            tol = unit * (scale + np.abs(want)) + PER_SAMPLE_EPS * TINY
            if of_z:
                tol = tol + 2 * np.abs(tilt) * unit * np.abs(yh)
            finite = np.isfinite(got) & np.isfinite(want) & np.isfinite(tol)
            bad = finite & ~(np.abs(got - want) <= tol)
        assert not bad.any(), f"{label} at z {z[bad]}, y {labels[bad]}: {got[bad]} != {want[bad]}"


CLAIMS = Property(
    "the chain factors equal the registry's closed forms",
    strategy=scores_and_labels,
    check=check_claims,
    catches=("sign flipped in dJ_dz", "factor 2 dropped", "yhat(1 - yhat) missing"),
    applies=lambda ref: bool(ref.claims),
)


def check_grad_is_mean(kernel, ref, batch: Batch) -> None:
    """Grad == (mean of dJ_dz x_i, mean of dJ_dz) over the rows.

    Both sides are within grad_error of the exact gradient, so they differ by at
    most twice that.
    """
    X, labels, w, b = batch
    dz = kernel.dJ_dz(X @ w + b, labels)
    want = np.mean(dz[:, None] * augmented(X), axis=0)
    grad_w, grad_b = kernel.grad(X, labels, w, b)
    got = np.append(grad_w, grad_b)
    tol = 2 * grad_error(ref, X, labels, w, b)
    bad = ~(np.abs(got - want) <= tol)
    assert not bad.any(), f"grad {got} != mean(dJ_dz * [x, 1]) {want}, tol {tol}"


GRAD_IS_MEAN = Property(
    "grad is the mean of dJ_dz times the rows",
    strategy=batches,
    check=check_grad_is_mean,
    catches=("sign flipped in grad", "last row dropped"),
    variants=BLOCKED,
)


# ---------------------------------------------------------------------------
# 4. Stability over the whole float64 range.
# ---------------------------------------------------------------------------
def stability_cases(ref):
    return scores_and_labels(ref, hard=True)


def check_stability(kernel, ref, case) -> None:
    """Over the pair's whole domain: finite, >= 0, accurate; BCE -> 0 with the margin.

    ">= 0" only where the loss's infimum is (ref.nonnegative: MSE, BCE).

    The domain is every finite z for BCE; for MSE it is |z|, |y| <= 2^510, where
    (y - z)^2 and the gradient (y - z) z are representable (ref.logit_bound).
    Accuracy: loss, dJ_dz and grad within MAX_ULP (the code-generator issue's
    measured bound) of the stable forms evaluated by mpmath at 50 digits, where
    exp and log1p are exact over the whole range.
    """
    z, labels = case
    J = kernel.losses(as_rows(z), labels, ONE, 0.0)
    dz = kernel.dJ_dz(z, labels)
    assert np.all(np.isfinite(J)), f"non-finite loss {J} at z {z}, y {labels}"
    assert np.all(np.isfinite(dz)), f"non-finite dJ_dz {dz} at z {z}, y {labels}"
    if ref.nonnegative:
        assert np.all(J >= 0), f"negative loss {J} at z {z}, y {labels}"
    scale = ref.loss_scale(z, labels)
    # dJ/dz's scale is the magnitude of its terms (the module's analysis, point 2): it
    # cancels where yhat ~ y (Poisson's e^z - y, Gamma's 1 - y e^-z at z ~ log y), where
    # either printed form's one rounding of exp is many ulp of the small value
    d1_scale = ref.d1_magnitude(z, labels)
    with mpmath.workdps(MP_DPS):
        for zi, yi, Ji, gi, si, gs in zip(z, labels, J, dz, scale, d1_scale, strict=True):
            exact_J = ref.mp_loss(mpmath.mpf(float(zi)), mpmath.mpf(float(yi)))
            exact_g = ref.mp_dJ_dz(mpmath.mpf(float(zi)), mpmath.mpf(float(yi)))
            one = np.array([yi])
            for X1, w1 in ((np.array([[1.0]]), np.array([zi])), (np.array([[zi]]), ONE)):
                loss1 = kernel.loss(X1, one, w1, 0.0)
                grad_w, grad_b = kernel.grad(X1, one, w1, 0.0)
                new_w, new_b = kernel.update(X1, one, w1, 0.0, 0.5)
                values = [loss1, *grad_w, grad_b, *new_w, new_b]
                assert np.all(np.isfinite(values)), f"non-finite {values} at z {zi}, y {yi}"
            # grad_w of the last pass is dJ_dz * z; of the first, dJ_dz * 1
            # The loss's last operation is its top-level sum: its rounding is relative to
            # the operands, sum |terms| (= |J| for MSE's square and BCE's two terms >= 0;
            # exp(z) + |y z| for Poisson's exp(z) - y z, which cancels near yhat = y).
            errors = {"loss": ulps(Ji, exact_J, scale=si), "dJ_dz": ulps(gi, exact_g, scale=gs)}
            errors["dJ_db"] = ulps(grad_b, exact_g, scale=gs)
            worst = max(errors, key=errors.__getitem__)
            assert errors[worst] <= MAX_ULP, (
                f"{worst} off by {errors[worst]:.3g} ulp at z {zi!r}, y {yi!r}"
            )
    _past_exp_overflow(kernel, ref, labels[:1])
    if ref.targets == "binary":
        margin = (2 * labels - 1) * z
        order = np.argsort(margin, kind="stable")
        assert np.all(np.diff(J[order]) <= 0), f"loss not decreasing in the margin: {J[order]}"
        far = kernel.losses(np.array([[REALMAX], [-REALMAX]]), np.array([1.0, 0.0]), ONE, 0.0)
        assert np.all(far == 0.0), f"loss at the largest margin {far} is not 0"


def _past_exp_overflow(kernel, ref, label: np.ndarray) -> None:
    """At z = 710, past exp's overflow (log(max) = 709.78), dJ/dz within MAX_ULP of
    mpmath's wherever that fits float64 (Gamma's 1 - y e^-z; the printed -(y - e^z) e^-z
    was inf * 0 there); the strategy's |z| stops at ref.logit_bound, before it."""
    with mpmath.workdps(MP_DPS):
        exact = ref.mp_dJ_dz(mpmath.mpf(710), mpmath.mpf(float(label[0])))
        if abs(exact) * (1 + 2.0**-52) >= REALMAX:
            return  # Poisson's e^710 - y: past float64, the checks name it
        with np.errstate(all="ignore"):
            (got,) = kernel.dJ_dz(np.array([710.0]), label)
        assert np.isfinite(got), f"dJ_dz = {got} at z = 710, y = {label[0]!r}; exact fits"
        error = ulps(got, exact)
    assert error <= MAX_ULP, f"dJ_dz off by {error:.3g} ulp at z = 710, y = {label[0]!r}"


STABILITY = Property(
    "loss and gradients are finite, non-negative and accurate over the whole range",
    strategy=stability_cases,
    check=check_stability,
    catches=("naive loss",),
)
