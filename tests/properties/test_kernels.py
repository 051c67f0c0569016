"""Properties of the generated kernels, each stated once and run over every registered pair.

Issue 5, properties 1-4, 5 (the single-step part), 9 (kernel part) and 10.
Each ``Test*`` class has ``test_holds[pair]`` and ``test_catches[pair-bug]``
(see :mod:`properties.factory`); the planted bugs are in :mod:`properties.planted`.
"""

from __future__ import annotations

import functools
import importlib
import types
from fractions import Fraction

import mpmath
import numpy as np
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from test_codegen import MAX_ULP

from derivreg import codegen
from derivreg.kernels import KERNELS
from derivreg.symbolic import REGISTRY, derive
from properties.factory import VARIANTS, Property, make_tests
from properties.reference import (
    EPS,
    MP_DPS,
    PER_SAMPLE_EPS,
    REALMAX,
    TINY,
    Batch,
    augmented,
    grad_error,
    local_sup,
    loss_error,
    mp_loss_and_grad,
    ulps,
)
from properties.strategies import BOUND, batches, dyadic, floats, scores_and_labels

ONE = np.ones(1)

#: Batch properties also run on the kernels with 2-row blocks (the large-batch path).
BLOCKED = tuple(VARIANTS)


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
    """grad equals central differences of loss in every coordinate of (w, b).

    With J(t) the mean loss along coordinate k, t+ = fl(t + h), t- = fl(t - h),
    a = t+ - t and c = t - t- (exact, by Fraction):

        (J(t+) - J(t-)) / (a + c) - J'(t) = J''(t) (a - c) / 2 + R,
        |R| <= M3 max(a, c)^2 / 6,

    with M2 = mean(sup|L''| x_k^2) >= |J''| and M3 = mean(sup|L'''| |x_k|^3) >= |J'''|
    (L the per-sample loss along z; x_k the k-th column of [X, 1]; each sup over
    the z the sample takes between t- and t+, see ``reference.local_sup``).  MSE has
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
TestFiniteDifferences = make_tests(FINITE_DIFFERENCES)


# ---------------------------------------------------------------------------
# 2. A high-precision reference.
# ---------------------------------------------------------------------------
def high_precision_batches(ref):
    # |z| <= 3 * 4 * 4 + 4 = 52: the textbook BCE at 50 digits loses at most
    # log10(e^52) ~ 23 digits to 1 - sigma(z), so the reference keeps >= 27
    # digits, ~1e11 times finer than float64.
    return batches(ref, max_m=5, max_n=3, bound=4.0)


def check_high_precision(kernel, ref, batch: Batch) -> None:
    """loss and grad agree with the textbook expression at 50 digits (complex step for grad).

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
TestHighPrecision = make_tests(HIGH_PRECISION)


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
TestChainProduct = make_tests(CHAIN_PRODUCT)

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
TestClaims = make_tests(CLAIMS)


def check_grad_is_mean(kernel, ref, batch: Batch) -> None:
    """grad == (mean of dJ_dz x_i, mean of dJ_dz) over the rows.

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
TestGradIsMean = make_tests(GRAD_IS_MEAN)


# ---------------------------------------------------------------------------
# 4. Stability over the whole float64 range.
# ---------------------------------------------------------------------------
def stability_cases(ref):
    return scores_and_labels(ref, hard=True)


def check_stability(kernel, ref, case) -> None:
    """Over the pair's whole domain: finite, >= 0, accurate; BCE -> 0 with the margin.

    The domain is every finite z for BCE; for MSE it is |z|, |y| <= 2^510, where
    (y - z)^2 and the gradient (y - z) z are representable (ref.logit_bound).
    ">= 0" only where the loss's infimum is (ref.nonnegative: MSE, BCE).
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
    with mpmath.workdps(MP_DPS):
        for zi, yi, Ji, gi, si in zip(z, labels, J, dz, scale, strict=True):
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
            errors = {"loss": ulps(Ji, exact_J, scale=si), "dJ_dz": ulps(gi, exact_g)}
            errors["dJ_db"] = ulps(grad_b, exact_g)
            worst = max(errors, key=errors.__getitem__)
            assert errors[worst] <= MAX_ULP, (
                f"{worst} off by {errors[worst]:.3g} ulp at z {zi!r}, y {yi!r}"
            )
    if ref.targets == "binary":
        margin = (2 * labels - 1) * z
        order = np.argsort(margin, kind="stable")
        assert np.all(np.diff(J[order]) <= 0), f"loss not decreasing in the margin: {J[order]}"
        far = kernel.losses(np.array([[REALMAX], [-REALMAX]]), np.array([1.0, 0.0]), ONE, 0.0)
        assert np.all(far == 0.0), f"loss at the largest margin {far} is not 0"


STABILITY = Property(
    "loss and gradients are finite, non-negative and accurate over the whole range",
    strategy=stability_cases,
    check=check_stability,
    catches=("naive loss",),
)
TestStability = make_tests(STABILITY)


# ---------------------------------------------------------------------------
# 5. Linear, noiseless: one per-sample SGD step (the training part is in test_training).
# ---------------------------------------------------------------------------
def regression(ref) -> bool:
    """Real labels and a finite sup d2J/dz2: the step-size bound these SGD steps use
    exists (per-sample SGD on Poisson's or Gamma's loss has none to state)."""
    return ref.targets == "real" and ref.bounded_curvature


@st.composite
def sgd_steps(draw, ref, *, factor=None):
    """A sample x with a noiseless label y = g(x.w* + b*), a start (w, b), and a step
    factor c: the step is c times the bound.  x, w*, b* are multiples of 1/16 so
    that x.w* + b* and ||(x, 1)||^2 are exact."""
    n = draw(st.integers(1, 4))
    x = draw(dyadic(n))
    w_star = draw(dyadic(n))
    b_star = float(draw(dyadic(())))
    w = draw(arrays(np.float64, (n,), elements=floats(BOUND)))
    b = draw(floats(BOUND))
    c = draw(
        factor
        if factor is not None
        else st.one_of(st.just(1.0), st.floats(0.0, 1.0, exclude_min=True))
    )
    return x, w_star, b_star, w, b, c


def sgd_step(kernel, ref, x, w_star, b_star, w, b, c):
    """One step; returns (distance before, distance after, rounding tolerance)."""
    n = x.shape[0]
    v_norm2 = float(x @ x) + 1.0
    alpha = c * ref.step_size_bound(v_norm2)
    X, label = x[None, :], ref.activation(np.array([x @ w_star + b_star]))
    new_w, new_b = kernel.update(X, label, w, b, alpha)
    theta, star = np.append(w, b), np.append(w_star, b_star)
    new = np.append(new_w, new_b)
    before, after = np.linalg.norm(theta - star), np.linalg.norm(new - star)
    # The update's rounding: alpha times the gradient's error bound, one rounding
    # of each coordinate of new and of the step; the norms and differences cost
    # (n + 2) eps each; fl(alpha) may exceed the bound by (n + 2) eps relative, which
    # can lengthen e by 2 (n + 2) eps |e| at most.
    tol = (
        alpha * np.linalg.norm(grad_error(ref, X, label, w, b))
        + EPS * (np.linalg.norm(new) + np.linalg.norm(theta - new))
        + (n + 2) * EPS * (3 * before + after)
    )
    return before, after, tol


def check_contraction(kernel, ref, case) -> None:
    """0 < alpha <= 2 / (sup L'' ||(x, 1)||^2) never increases ||(w, b) - (w*, b*)||.

    For MSE, sup L'' = 2: alpha <= 1 / ||(x, 1)||^2, the bound of the proofs.
    Noiseless label: the per-sample gradient vanishes at (w*, b*), and a
    gradient step of at most 2/curvature on a convex function is non-expansive
    towards any of its minimizers.
    """
    before, after, tol = sgd_step(kernel, ref, *case)
    assert after <= before + tol, f"distance grew {before!r} -> {after!r} (tol {tol:.3g})"


CONTRACTION = Property(
    "a per-sample SGD step within the step-size bound never moves away from the truth",
    strategy=sgd_steps,
    check=check_contraction,
    catches=("sign flipped in grad", "sign flipped in dJ_dz"),
    applies=regression,
)
TestContraction = make_tests(CONTRACTION)


@st.composite
def steps_above_the_bound(draw, ref):
    x, w_star, b_star, _, _, c = draw(sgd_steps(ref, factor=st.floats(1.0625, 3.0)))
    t = draw(st.one_of(st.floats(2.0**-10, BOUND), st.floats(-BOUND, -(2.0**-10))))
    return x, w_star, b_star, w_star + t * x, b_star + t, c


def check_tightness(kernel, ref, case) -> None:
    """Above the bound the step can move away: with (w, b) - (w*, b*) = t (x, 1) and
    alpha = c / ||(x, 1)||^2 (MSE), the error becomes (1 - 2c) t (x, 1), longer by
    |1 - 2c| >= 1.125 for c >= 1.0625.  Stated for losses quadratic in z, where
    the curvature bound is attained."""
    before, after, tol = sgd_step(kernel, ref, *case)
    assert after > before + tol, f"distance did not grow: {before!r} -> {after!r}"


TIGHTNESS = Property(
    "above the step-size bound a step moves away from the truth",
    strategy=steps_above_the_bound,
    check=check_tightness,
    catches=("factor 2 dropped",),
    applies=lambda ref: regression(ref) and ref.quadratic,
)
TestTightness = make_tests(TIGHTNESS)


# ---------------------------------------------------------------------------
# 9. Invariants (kernel part; same-seed training is in test_training).
# ---------------------------------------------------------------------------
@st.composite
def permuted_batches(draw, ref):
    batch = draw(batches(ref))
    return batch, np.array(draw(st.permutations(range(batch.X.shape[0]))))


def check_permutation(kernel, ref, case) -> None:
    """Permuting the rows leaves loss and grad unchanged, to rounding (2x the bounds:
    each side is within them of the same exact value)."""
    (X, labels, w, b), p = case
    J, Jp = kernel.loss(X, labels, w, b), kernel.loss(X[p], labels[p], w, b)
    tol = 2 * loss_error(ref, X, labels, w, b)
    assert abs(J - Jp) <= tol, f"loss {J!r} != permuted {Jp!r}"
    g = np.append(*kernel.grad(X, labels, w, b))
    gp = np.append(*kernel.grad(X[p], labels[p], w, b))
    tol_g = 2 * grad_error(ref, X, labels, w, b)
    assert np.all(np.abs(g - gp) <= tol_g), f"grad {g} != permuted {gp}"


PERMUTATION = Property(
    "permuting the rows leaves loss and grad unchanged",
    strategy=permuted_batches,
    check=check_permutation,
    catches=("last row dropped",),
    variants=BLOCKED,
)
TestPermutation = make_tests(PERMUTATION)


@st.composite
def batches_and_rates(draw, ref):
    return draw(batches(ref)), draw(st.floats(1e-3, 1.0))


def call_all(kernel, batch: Batch, lr: float) -> dict[str, object]:
    X, labels, w, b = batch
    return {
        "predict": kernel.predict(X, w, b),
        "losses": kernel.losses(X, labels, w, b),
        "loss": kernel.loss(X, labels, w, b),
        "grad": kernel.grad(X, labels, w, b),
        "update": kernel.update(X, labels, w, b, lr),
    }


def check_inputs_untouched(kernel, ref, case) -> None:
    """No kernel function writes to its arguments; update returns new arrays; read-only
    arguments work and give the same results."""
    batch, lr = case
    saved = [a.copy() for a in batch[:3]]
    first = call_all(kernel, batch, lr)
    for name, before, after in zip("Xyw", saved, batch[:3], strict=True):
        assert after.dtype == before.dtype
        assert np.array_equal(after, before), f"{name} was modified: {before} -> {after}"
    new_w = first["update"][0]
    assert not any(np.shares_memory(new_w, a) for a in batch[:3]), "update returned an input"
    for a in batch[:3]:
        a.flags.writeable = False
    again = call_all(kernel, batch, lr)
    assert np.array_equal(again["update"][0], new_w)


INPUTS_UNTOUCHED = Property(
    "kernels never write to their inputs",
    strategy=batches_and_rates,
    check=check_inputs_untouched,
    catches=("update writes its input",),
    variants=BLOCKED,
)
TestInputsUntouched = make_tests(INPUTS_UNTOUCHED)


# ---------------------------------------------------------------------------
# 10. Generated code.  `derivreg generate --check` and translation validation of
# every kernel are tests/test_codegen.py (test_checked_in_kernels_equal_a_fresh_generation,
# test_generate_check_cli_reports_a_stale_kernel, and
# test_checked_in_kernels_are_proven_equal_to_their_derivations, parametrized over the
# registry).  Here: every registered pair has a kernel, and the checked-in module
# computes bit for bit what a fresh generation computes.
# ---------------------------------------------------------------------------
def test_every_registered_pair_has_a_generated_kernel():
    assert sorted(KERNELS) == sorted(REGISTRY)
    for name in REGISTRY:
        assert name == KERNELS[name].NAME


@functools.cache
def generated(name: str):
    return codegen.compile(derive(name))


def results(kernel, batch: Batch, lr: float) -> list[np.ndarray]:
    X, labels, w, b = batch
    z = X @ w + b
    yh = kernel.predict(X, w, b)
    with np.errstate(all="ignore"):
        chain = [kernel.dJ_dyhat(labels, yh), kernel.dyhat_dz(z), kernel.dJ_dz(z, labels)]
    out = call_all(kernel, batch, lr)
    flat = [out["predict"], out["losses"], out["loss"], *out["grad"], *out["update"], *chain]
    return [np.asarray(v) for v in flat]


def check_same_as_generated(kernel, ref, case) -> None:
    """The imported kernel computes exactly what derivreg.codegen generates now."""
    batch, lr = case
    fresh = generated(ref.name)
    for i, (mine, theirs) in enumerate(
        zip(results(kernel, batch, lr), results(fresh, batch, lr), strict=True)
    ):
        assert np.array_equal(mine, theirs, equal_nan=True), f"output {i}: {mine} != {theirs}"


SAME_AS_GENERATED = Property(
    "the checked-in kernel computes what a fresh generation computes",
    strategy=batches_and_rates,
    check=check_same_as_generated,
    catches=("sign flipped in grad", "naive loss"),
)
TestSameAsGenerated = make_tests(SAME_AS_GENERATED)


@functools.cache
def generated_loop(name: str):
    """``sgd_epoch`` printed now by codegen.generate_loop (the source is the generator's)."""
    module = types.ModuleType(f"fresh_{name}_loop")
    source = codegen.generate_loop(derive(name))
    exec(compile(source, f"<generate_loop {name}>", "exec"), module.__dict__)
    return module.sgd_epoch


def run_loop(loop, batch: Batch, lr: float) -> list[object]:
    """One per-sample epoch of ``loop`` on flat lists, recording every step."""
    X, labels, w, b = batch
    m, n = X.shape
    weights, J = w.tolist(), [0.0] * m
    w_track, b_track = [0.0] * (m * n), [0.0] * m
    args = (X.ravel().tolist(), labels.tolist(), weights, float(b), lr, J, 1, 0)
    try:
        final_b = loop(*args, w_track, b_track)
    except OverflowError as err:  # math.exp past 709.78 (an exp activation): an outcome too
        final_b = f"OverflowError: {err}"
    return [weights, final_b, J, w_track, b_track]


def check_loop_same_as_generated(kernel, ref, case) -> None:
    """The per-sample loop training runs (the checked-in derivreg/kernels/<pair>_loop.py,
    or a planted kernel's) computes exactly what codegen.generate_loop prints now."""
    batch, lr = case
    loop = getattr(kernel, "loop", None)
    if loop is None:
        loop = importlib.import_module(f"derivreg.kernels.{ref.name}_loop").sgd_epoch
    mine, fresh = run_loop(loop, batch, lr), run_loop(generated_loop(ref.name), batch, lr)
    for i, (a, b) in enumerate(zip(mine, fresh, strict=True)):
        same = a == b if isinstance(a, str) else np.array_equal(a, b, equal_nan=True)
        assert same, f"output {i}: {a} != {b}"


LOOP_SAME_AS_GENERATED = Property(
    "the checked-in per-sample loop computes what a fresh generation computes",
    strategy=batches_and_rates,
    check=check_loop_same_as_generated,
    catches=("sign flipped in grad", "factor 2 dropped"),
)
TestLoopSameAsGenerated = make_tests(LOOP_SAME_AS_GENERATED)
