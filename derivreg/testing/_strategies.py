"""Hypothesis strategies for kernel arguments, per pair; every bound is in the strategy.

Shapes vary (``m >= 1`` rows, ``n >= 1`` features) but stay small: the
properties are about arithmetic, not size, and the suite has a time budget.
"""

from __future__ import annotations

import numpy as np
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from derivreg.testing._reference import EPS, REALMAX, Batch, Reference

#: Default bound on |x|, |w|, |b| and real labels: |z| <= 4 * 64 + 8 = 264,
#: far into the sigmoid's saturation.
BOUND = 8.0

#: Logits the issue names, and the edges of float64: signed zeros, subnormals,
#: where exp(-z) leaves double precision (~37), where exp overflows (~709.8)
#: and underflows (~745), near a label (1 +- eps), and the largest floats.
SPECIAL_LOGITS = (
    0.0,
    -0.0,
    5e-324,
    -5e-324,
    2.2250738585072014e-308,
    -2.2250738585072014e-308,
    1e-300,
    -1e-300,
    1.0 - EPS / 2,
    1.0 + EPS,
    36.7,
    -36.7,
    37.0,
    -37.0,
    709.0,
    -709.0,
    710.0,
    -710.0,
    745.2,
    -745.2,
    1e308,
    -1e308,
    REALMAX,
    -REALMAX,
)


def floats(bound: float) -> st.SearchStrategy[float]:
    return st.floats(-bound, bound, allow_nan=False, allow_infinity=False)


def label_elements(ref: Reference, bound: float = BOUND, *, hard: bool = False):
    """Labels: any real in [-bound, bound], or for binary targets 0/1 (and, unless
    ``hard``, soft labels in [0, 1]).
    """
    if ref.targets == "binary":
        hard_labels = st.sampled_from([0.0, 1.0])
        return hard_labels if hard else st.one_of(hard_labels, st.floats(0.0, 1.0))
    domain = ref.pair.domain
    if domain.inf.is_finite or domain.sup.is_finite:  # the domain's part of [-bound, bound]
        lo = max(-bound, float(domain.inf)) if domain.inf.is_finite else -bound
        hi = min(bound, float(domain.sup)) if domain.sup.is_finite else bound
        return st.floats(
            lo, hi, exclude_min=bool(domain.left_open), exclude_max=bool(domain.right_open)
        )
    return floats(bound)


@st.composite
def batches(
    draw: st.DrawFn,
    ref: Reference,
    *,
    max_m: int = 6,
    max_n: int = 4,
    min_m: int = 1,
    bound: float = BOUND,
    hard: bool = False,
) -> Batch:
    """A batch ``X (m, n), y (m,), w (n,), b`` with entries in [-bound, bound]
    (labels 0/1 for binary targets if ``hard``).
    """
    m = draw(st.integers(min_m, max_m))
    n = draw(st.integers(1, max_n))
    X = draw(arrays(np.float64, (m, n), elements=floats(bound)))
    labels = draw(arrays(np.float64, (m,), elements=label_elements(ref, bound, hard=hard)))
    w = draw(arrays(np.float64, (n,), elements=floats(bound)))
    b = draw(floats(bound))
    return Batch(X, labels, w, b)


def logits(ref: Reference, bound: float | None = None) -> st.SearchStrategy[float]:
    """Any score in the pair's finite domain (or |z| <= bound), special values often."""
    bound = ref.logit_bound if bound is None else bound
    special = [v for v in SPECIAL_LOGITS if abs(v) <= bound]
    return st.one_of(st.sampled_from(special), floats(40.0), floats(bound))


@st.composite
def scores_and_labels(
    draw: st.DrawFn,
    ref: Reference,
    *,
    max_m: int = 8,
    hard: bool = False,
    z_bound: float | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """A vector of scores over the whole domain (or |z| <= z_bound) and matching labels."""
    m = draw(st.integers(1, max_m))
    z = draw(arrays(np.float64, (m,), elements=logits(ref, z_bound)))
    bound = 1.0 if ref.targets == "binary" else ref.logit_bound
    labels = draw(arrays(np.float64, (m,), elements=label_elements(ref, bound, hard=hard)))
    if ref.real_labels:
        # Some labels within a few ulps of their score: where y - z cancels.
        near = draw(arrays(np.bool_, (m,)))
        ulps = draw(arrays(np.int64, (m,), elements=st.integers(-64, 64)))
        close = np.clip(z + ulps * np.spacing(z), -bound, bound)
        labels = np.where(near, close, labels)
    return z, labels


def dyadic(shape: int | tuple[int, ...], bound: int = 128, scale: float = 16.0):
    """Arrays of multiples of 1/scale in [-bound/scale, bound/scale]: sums of a few
    products of these are exact in float64, so a noiseless label is exact.
    """
    return arrays(np.int64, shape, elements=st.integers(-bound, bound)).map(
        lambda a: a.astype(np.float64) / scale
    )
