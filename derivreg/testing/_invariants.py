"""Invariant properties of a pair's kernels: one SGD step, permutations, inputs, freshness.

Issue 5, properties 5 (the single-step part), 9 (the kernel part) and 10: the
training parts are in ``tests/properties/test_training.py``.
"""

from __future__ import annotations

import functools
import math
from typing import TypedDict

import numpy as np
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from derivreg import codegen
from derivreg.symbolic import Pair, derive
from derivreg.testing._bounds import grad_error, loss_error
from derivreg.testing._property import BLOCKED, Property
from derivreg.testing._reference import EPS, Batch
from derivreg.testing._strategies import BOUND, batches, dyadic, floats


# ---------------------------------------------------------------------------
# 5. Linear, noiseless: one per-sample SGD step (the training part is in test_training).
# ---------------------------------------------------------------------------
def regression(ref) -> bool:
    """Real labels and a finite sup d2J/dz2: the step-size bound these SGD steps use
    exists (per-sample SGD on Poisson's or Gamma's loss has none to state)."""
    return ref.targets == "real" and ref.bounded_curvature


def convex_regression(ref) -> bool:
    """A regression whose loss is convex in z with bounded curvature: a step within the
    bound is non-expansive (a non-convex loss, or an unbounded one, states no bound).
    """
    return regression(ref) and ref.derivation.convex_in_z and math.isfinite(ref.sup_d2)


@st.composite
def sgd_steps(draw, ref, *, factor=None):
    """A sample x with a noiseless label y = g(x.w* + b*), a start (w, b), and a step
    factor c: the step is c times the bound.  x, w*, b* are multiples of 1/16 so
    that x.w* + b* and ||(x, 1)||^2 are exact.
    """
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
    applies=convex_regression,
)


@st.composite
def steps_above_the_bound(draw, ref):
    x, w_star, b_star, _, _, c = draw(sgd_steps(ref, factor=st.floats(1.0625, 3.0)))
    t = draw(st.one_of(st.floats(2.0**-10, BOUND), st.floats(-BOUND, -(2.0**-10))))
    return x, w_star, b_star, w_star + t * x, b_star + t, c


def check_tightness(kernel, ref, case) -> None:
    """Above the bound the step can move away: with (w, b) - (w*, b*) = t (x, 1) and
    alpha = c / ||(x, 1)||^2 (MSE), the error becomes (1 - 2c) t (x, 1), longer by
    |1 - 2c| >= 1.125 for c >= 1.0625.  Stated for losses quadratic in z, where
    the curvature bound is attained.
    """
    before, after, tol = sgd_step(kernel, ref, *case)
    assert after > before + tol, f"distance did not grow: {before!r} -> {after!r}"


TIGHTNESS = Property(
    "above the step-size bound a step moves away from the truth",
    strategy=steps_above_the_bound,
    check=check_tightness,
    catches=("factor 2 dropped",),
    applies=lambda ref: convex_regression(ref) and ref.quadratic,
)


# ---------------------------------------------------------------------------
# 9. Invariants (kernel part; same-seed training is in test_training).
# ---------------------------------------------------------------------------
@st.composite
def permuted_batches(draw, ref):
    batch = draw(batches(ref))
    return batch, np.array(draw(st.permutations(range(batch.X.shape[0]))))


def check_permutation(kernel, ref, case) -> None:
    """Permuting the rows leaves loss and grad unchanged, to rounding (2x the bounds:
    each side is within them of the same exact value).
    """
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


@st.composite
def batches_and_rates(draw, ref):
    return draw(batches(ref)), draw(st.floats(1e-3, 1.0))


class Outputs(TypedDict):
    """What a batch module's public functions return for one batch."""

    predict: np.ndarray
    losses: np.ndarray
    loss: float
    grad: tuple[np.ndarray, float]
    update: tuple[np.ndarray, float]


def call_all(kernel, batch: Batch, lr: float) -> Outputs:
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
    arguments work and give the same results.
    """
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


# ---------------------------------------------------------------------------
# 10. Generated code: the module computes bit for bit what a fresh generation
# computes (`derivreg generate --check` and the validator are the other halves).
# ---------------------------------------------------------------------------
@functools.cache
def generated(pair: Pair):
    """The pair's batch module as :func:`derivreg.codegen.compile` builds it now."""
    return codegen.compile(derive(pair))


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
    """The kernel computes exactly what derivreg.codegen generates now."""
    batch, lr = case
    fresh = generated(ref.pair)
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
