"""Issue 17 for the second order: ``newton_terms`` and ``log_likelihood`` on huge and
subnormal finite input give a finite, correct result or a FloatingPointError naming it.

``newton_terms`` must return or raise what ``loss``, ``grad`` and ``hessian`` do (it
hands them a non-finite term); ``log_likelihood`` must equal an mpmath value where
that fits float64.
"""

from __future__ import annotations

import importlib

import mpmath
import numpy as np
import pytest

PAIRS = ("mse", "bce", "poisson", "gamma")
BIG, TINY = 1.7e308, 5e-324

#: (name, X, y, w, b): y in every pair's domain (bce [0, 1], poisson >= 0, gamma > 0)
CASES = {
    "the reproducer": ([[1.0]] * 8, [1.0] * 8, [0.0], 0.0),
    "huge X, huge w": ([[1e300]], [1.0], [1e10], 0.0),
    "huge X, no score": ([[1e200], [1.0]], [1.0, 0.5], [0.0], 0.0),
    "huge y": ([[1.0]] * 2, [BIG, 0.5], [0.0], 0.0),
    "huge scores in a sum": ([[BIG], [BIG]], [1.0, 1.0], [1.0], -BIG),
    "subnormal X": ([[TINY], [2 * TINY]], [1.0, 0.0], [1.0], 0.0),
    "subnormal labels": ([[1.0]] * 2, [TINY, 1.0], [TINY], TINY),
    "mixed scales": ([[1e300, 1e-300], [-1e-300, 1e300]], [1.0, 0.25], [1e-9, 1e-9], 1e-300),
}


def _kernels(pair: str):
    return importlib.import_module(f"derivreg.kernels.{pair}")


def _labels(pair: str, y: list[float]) -> np.ndarray:
    """``y`` moved into the pair's domain: bce's clipped to [0, 1], gamma's > 0."""
    y = np.array(y)
    if pair == "bce":
        return np.clip(y, 0.0, 1.0)
    return np.where(y > 0, y, 0.5) if pair == "gamma" else y


def _outcome(f, *args):
    """("ok", result) or ("raised", the exception's type)."""
    try:
        return "ok", f(*args)
    except (FloatingPointError, ValueError) as err:
        return "raised", type(err)


def _agrees(newton_terms, k, X, y, w, b) -> None:
    """``newton_terms`` returns what loss, grad and hessian return, or raises as one does.

    Tolerance: both sum the same m <= 8 rows in float64, in possibly another order
    (blocks), so they differ by at most m eps times the largest |term|: 1e-12 of the
    largest |entry| covers it, and a wrong term (a silent inf or nan, a missing row)
    is far outside it.
    """
    args = (np.array(X, dtype=float), y, np.array(w, dtype=float), b)
    got = _outcome(newton_terms, *args)
    want = [_outcome(f, *args) for f in (k.loss, k.grad, k.hessian)]
    if any(kind == "raised" for kind, _ in want):
        assert got[0] == "raised", got
        assert got[1] in {err for kind, err in want if kind == "raised"}
        return
    value, g, H = got[1]
    terms = [(value, want[0][1]), (g, np.append(*want[1][1])), (H, want[2][1])]
    for mine, theirs in terms:
        assert np.all(np.isfinite(mine))
        scale = float(np.max(np.abs(theirs), initial=0.0))
        np.testing.assert_allclose(mine, theirs, rtol=1e-12, atol=1e-12 * scale)


@pytest.mark.parametrize("pair", PAIRS)
@pytest.mark.parametrize("case", sorted(CASES))
def test_newton_terms_is_loss_grad_hessian(pair: str, case: str) -> None:
    X, y, w, b = CASES[case]
    if case == "the reproducer":
        y = [BIG] * 4 + [(-BIG if pair == "mse" else 1.0)] * 4
    k = _kernels(pair)
    _agrees(k.newton_terms, k, X, _labels(pair, y), w, b)


def test_the_reproducer_raises_the_losses_error() -> None:
    """The exact mean loss (about 2.9e616) is past float64: loss's error, not (inf, nan)."""
    k = _kernels("mse")
    X, y = np.ones((8, 1)), np.array([BIG] * 4 + [-BIG] * 4)
    with pytest.raises(FloatingPointError, match="J overflows float64") as err:
        k.newton_terms(X, y, np.zeros(1), 0.0)
    with pytest.raises(FloatingPointError) as plain:
        k.loss(X, y, np.zeros(1), 0.0)
    assert str(err.value) == str(plain.value)


def test_a_hessian_past_float64_is_named() -> None:
    """X = 1e200: H[0, 0] = 2 mean x^2 = 2e400, past float64 (was a silent inf)."""
    k = _kernels("mse")
    X = np.array([[1e200], [1e200]])
    for f in (k.hessian, k.newton_terms):
        with pytest.raises(FloatingPointError, match=r"Hessian overflows float64: H\[0, 0\]"):
            f(X, np.zeros(2), np.zeros(1), 0.0)


def test_the_unchecked_terms_are_caught() -> None:
    """The check can fail: the unchecked fused kernel (the old behaviour) is refused."""
    k = _kernels("mse")
    X, y = CASES["the reproducer"][0], np.array([BIG] * 4 + [-BIG] * 4)
    with pytest.raises(AssertionError), np.errstate(all="ignore"):  # unchecked: NumPy warns
        _agrees(k._newton_terms, k, X, y, [0.0], 0.0)


def _gaussian(y: np.ndarray, z: np.ndarray) -> float:
    """mpmath: sum_i log N(y_i; z_i, sigma^2) at sigma^2 = mean (y - z)^2, 50 digits."""
    with mpmath.workdps(50):
        r = [mpmath.mpf(float(a)) - mpmath.mpf(float(c)) for a, c in zip(y, z, strict=True)]
        s2 = mpmath.fsum(t**2 for t in r) / len(r)
        return float(-len(r) / 2 * (mpmath.log(2 * mpmath.pi * s2) + 1))


GAUSSIAN = {
    "the reproducer": (np.ones((8, 1)), [BIG] * 4 + [-BIG] * 4, [0.0], 0.0),
    "residuals past float64": (np.ones((2, 1)), [BIG, -BIG], [-BIG / 2], 0.0),
    "scores past float64": ([[1e300], [1e300]], [-BIG, BIG], [1e8], 0.0),
    "subnormal residuals": (np.ones((4, 1)), [TINY, -TINY, 3 * TINY, 0.0], [0.0], 0.0),
    "tiny residuals": (np.ones((3, 1)), [1e-200, -2e-200, 0.0], [0.0], 0.0),
    "a subnormal sigma^2": (np.ones((2, 1)), [1e-160, -3e-160], [0.0], 0.0),
    "huge and tiny": (np.ones((3, 1)), [1e300, 1e-300, -1e300], [0.0], 1e-300),
}


@pytest.mark.parametrize("case", sorted(GAUSSIAN))
def test_gaussian_log_likelihood_at_scale(case: str) -> None:
    """Where the exact value fits, it is computed: sigma^2 = s^2 2^(2e), log adds 2e log 2.

    Tolerance 1e-12 relative: the value is m/2 (log(2 pi sigma^2) + 1) with
    |log sigma^2| <= 1500; each row's k and J / (2 phi) are correct to a few ulp
    of ~1500 and of 1, and m <= 8 rows are summed: < 1e-13 relative.
    """
    X, y, w, b = GAUSSIAN[case]
    X, y, w = np.array(X, dtype=float), np.array(y), np.array(w)
    k = _kernels("mse")
    got = k.log_likelihood(X, y, w, b)
    z = [mpmath.mpf(float(x[0])) * mpmath.mpf(float(w[0])) + mpmath.mpf(b) for x in X]
    want = _gaussian(y, z)
    assert np.isfinite(got)
    assert got == pytest.approx(want, rel=1e-12)


def test_gaussian_exact_fit_is_named() -> None:
    """All residuals 0: sigma^2 = 0 and the log-likelihood is +inf: refused, naming phi."""
    k = _kernels("mse")
    with pytest.raises(FloatingPointError, match="dispersion phi = 0"):
        k.log_likelihood(np.ones((2, 1)), np.zeros(2), np.zeros(1), 0.0)


def test_gaussian_log_likelihood_sparse_x() -> None:
    sparse = pytest.importorskip("scipy.sparse")
    X, y, w, b = GAUSSIAN["scores past float64"]
    k = _kernels("mse")
    dense = k.log_likelihood(np.array(X), np.array(y), np.array(w), b)
    assert k.log_likelihood(sparse.csr_matrix(X), np.array(y), np.array(w), b) == dense


def _bernoulli(X, y, w, b) -> float:
    """mpmath: -sum_i (log(1 + e^z_i) - y_i z_i), 50 digits."""
    with mpmath.workdps(50):
        total = mpmath.mpf(0)
        for row, label in zip(X, y, strict=True):
            z = mpmath.fsum(mpmath.mpf(a) * mpmath.mpf(c) for a, c in zip(row, w, strict=True))
            z += mpmath.mpf(b)
            total -= mpmath.log1p(mpmath.exp(z)) - mpmath.mpf(label) * z
        return float(total)


@pytest.mark.parametrize(
    ("X", "y", "w"),
    [
        ([[1e300]], [1.0], [1e10]),  # issue 17: the loss was nan (inf * 0)
        ([[1e300]], [0.0], [-1e10]),
        ([[1e200], [-1e200], [TINY]], [1.0, 0.0, 1.0], [1.0]),
        ([[BIG], [1.0]], [0.0, 1.0], [1.0]),
    ],
)
def test_bernoulli_log_likelihood(X, y, w) -> None:
    """BCE's family is not scale-free: the checked losses, compared with mpmath.

    Tolerance 1e-12 relative plus 1e-300 absolute: each loss is correct to a few ulp
    (the issue's 1.31 ulp bound) and m <= 3 of them are summed.
    """
    got = _kernels("bce").log_likelihood(np.array(X), np.array(y), np.array(w), 0.0)
    assert got == pytest.approx(_bernoulli(X, y, w, 0.0), rel=1e-12, abs=1e-300)


def test_bernoulli_log_likelihood_past_float64_is_named() -> None:
    """Two losses of 1.7e308: their sum, -3.4e308, does not fit: an error naming it."""
    k = _kernels("bce")
    with pytest.raises(FloatingPointError, match="the log-likelihood overflows float64"):
        k.log_likelihood(np.array([[BIG], [BIG]]), np.zeros(2), np.ones(1), 0.0)
