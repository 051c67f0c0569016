"""Poisson's log-likelihood, AIC and BIC as statsmodels' GLM(Poisson()) reports them.

The pair's loss is ``J = yhat - y log yhat`` (printed ``exp(z) - y z``), the
Poisson's negative log-density ``-(y log yhat - yhat - lgamma(y + 1))`` less
its normaliser: so ``LOGLIK_SCALE = 1``, ``k(y) = -lgamma(y + 1)``, and no
dispersion (statsmodels' Poisson ``loglike_obs``: ``y log mu - mu -
gammaln(y + 1)`` at scale 1, for any ``y >= 0``, integer or not).

``lgamma(y + 1)`` is of every label: the generator prints the checks'
``_lgammas`` (``math.lgamma`` of each entry, a table of ``n`` values where the
entries are the integers ``1..n``), which the validator reads as SymPy's
``loggamma`` elementwise with its argument proven positive (the labels
``y >= 0``).  SciPy is not used: its ``gammaln`` differs from ``math.lgamma``
by ulps, and the result would depend on what is installed.
"""

import functools
import math

import mpmath as mp
import numpy as np
import pytest
import statsmodels.api as sm
from hypothesis import Phase, example, given, settings
from hypothesis import strategies as st

from derivreg import codegen, derive
from derivreg.estimators import PoissonRegressionSGD
from derivreg.kernels import KERNELS
from derivreg.kernels._checks import _lgammas
from derivreg.validate import ValidationError, validate

POISSON = KERNELS["poisson"]
EPS = float(np.finfo(float).eps)

# Tolerance 1e-10 relative, as the other families'.  Newton stops at |grad| <= 1e-12 and
# IRLS at tol 1e-14: both within ~1e-11 of the MLE (|grad| / lambda_min, lambda_min ~ 0.1).
# The llf is stationary there (llf = -m J_mean + sum k), so it moves by m |grad|^2 /
# lambda_min ~ 1e-20: nothing.  What is left is rounding: each term's (<= ROW_ULPS eps M_i,
# M_i = |y z| + exp(z) + lgamma's terms, below) and the sum's (np.sum is pairwise: about
# log2(m) eps sum |terms|), on both sides.  sum_i M_i / |llf| is 7 to 11 on these data but
# 1340 for "large counts" (lgamma(y + 1) ~ 2000 a row, nearly cancelled by y log mu - mu):
# <= 2 (6 + 10) eps 1340 ~ 1e-11 there, 1e-10 leaving a factor 10.
# Measured: 0 to 8e-15 relative ("large counts"; the others <= 3e-16).
LLF_RTOL = 1e-10


def poisson_data(seed, *, m=600, n=3, intercept=0.3, fractional=False):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(m, n)) * 0.5
    mean = np.exp(X @ np.linspace(0.5, -0.3, n) + intercept)
    if fractional:  # non-integer labels of mean exp(z): statsmodels takes them as they are
        return X, rng.gamma(2.0, mean / 2.0)
    return X, rng.poisson(mean).astype(np.float64)


#: name -> the data's arguments: two of counts, mostly zeros (mean ~0.14: ~87% of the
#: rows y = 0), large counts (mean ~400: lgamma(y + 1) ~ 2000 a row), fractional labels.
DATASETS = {
    "counts, seed 0": {"seed": 0},
    "counts, seed 1": {"seed": 1, "n": 5},
    "mostly zeros": {"seed": 2, "intercept": -2.0},
    "large counts": {"seed": 3, "intercept": 6.0},
    "fractional labels": {"seed": 4, "fractional": True},
}


@functools.cache
def glm(name):
    X, y = poisson_data(**DATASETS[name])
    fit = sm.GLM(y, sm.add_constant(X), family=sm.families.Poisson()).fit(tol=1e-14, maxiter=200)
    return X, y, fit


@pytest.mark.parametrize("name", sorted(DATASETS))
def test_poisson_loglik_aic_bic_match_statsmodels(name):
    X, y, fit = glm(name)
    reg = PoissonRegressionSGD(solver="newton", tol=1e-12).fit(X, y)
    assert reg.likelihood_note_ is None
    assert reg.loglik_ == pytest.approx(fit.llf, rel=LLF_RTOL)
    assert reg.aic_ == pytest.approx(fit.aic, rel=LLF_RTOL)
    assert reg.bic_ == pytest.approx(fit.bic_llf, rel=LLF_RTOL)
    # the kernel at statsmodels' own estimate: the same number
    w, b = fit.params[1:], fit.params[0]
    assert POISSON.log_likelihood(X, y, w, b) == pytest.approx(fit.llf, rel=LLF_RTOL)


def test_the_derivation_gives_scale_one_no_dispersion_and_minus_lgamma():
    terms = derive("poisson").likelihood
    assert terms is not None
    assert (terms.scale, str(terms.normaliser), terms.dispersion) == (1, "-loggamma(y + 1)", 1)
    assert terms.note == "no dispersion (phi = 1)"
    assert derive("poisson").likelihood_note == ""
    assert (POISSON.LOGLIK_SCALE, POISSON.LOGLIK_SHIFT, POISSON.DISPERSION_ESTIMATED) == (
        1.0,
        None,
        False,
    )


# --- y = 0, huge y, and past float64 ------------------------------------------------------


def test_zero_counts_where_the_mean_underflows_are_exact():
    # Row 1: z = -800, yhat = exp(z) = 0 in float64, y = 0: log p = 0 z - 0 - lgamma(1) = 0,
    # where y log(yhat) would be 0 * -inf (statsmodels' loglike_obs gives nan there).
    # Row 2: z = 0, y = 0: log p = -1.  Both exact.
    X, y = np.array([[-800.0], [0.0]]), np.zeros(2)
    assert POISSON.log_likelihood(X, y, np.ones(1), 0.0) == -1.0
    assert POISSON.log_normaliser(np.zeros(3), 1.0).tolist() == [0.0, 0.0, 0.0]


def test_a_mean_past_float64_is_an_error_not_an_infinity():
    # exp(800) is past float64 and so is log p = -exp(800): a FloatingPointError naming it
    with pytest.raises(FloatingPointError):
        POISSON.log_likelihood(np.array([[800.0]]), np.zeros(1), np.ones(1), 0.0)


def test_huge_counts_are_finite_and_right_to_the_terms_rounding():
    y, z = 1e300, math.log(1e300)  # y log mu ~ 6.9e302, lgamma(y + 1) ~ 6.8e302
    got = POISSON.log_likelihood(np.array([[z]]), np.array([y]), np.ones(1), 0.0)
    assert np.isfinite(got)
    error, bound = row_error(got, [y], [z])
    assert error <= bound


def test_lgamma_past_float64_is_an_error_naming_the_log_likelihood():
    # lgamma(1e306 + 1) ~ 7e308 is past float64 (math.lgamma raises; _lgammas gives inf)
    with pytest.raises(FloatingPointError, match="the log-likelihood overflows float64"):
        POISSON.log_likelihood(np.zeros((1, 1)), np.array([1e306]), np.zeros(1), 0.0)


def test_lgammas_is_math_lgamma_of_each_entry_on_both_paths():
    # the table (integers 1..n, n <= the entries' number) and the call per entry
    counts = np.array([1.0, 2.0, 3.0, 5.0, 1.0, 4.0])
    assert _lgammas(counts).tolist() == [math.lgamma(t) for t in counts.tolist()]
    reals = np.array([1.0, 1.5, 2.0, 1e-300 + 1.0, 7.25, 1e300])
    assert _lgammas(reals).tolist() == [math.lgamma(t) for t in reals.tolist()]
    assert _lgammas(np.array([[1.0, 3.0], [2.0, 2.0]])).shape == (2, 2)
    assert float(_lgammas(np.float64(3.0))) == math.lgamma(3.0)  # log 2 to 3 ulps (CPython)
    # past the largest float whose log-gamma is finite: inf where math.lgamma raises
    top = 2.5599833278516383e305
    assert math.isfinite(math.lgamma(top))
    with pytest.raises(OverflowError):
        math.lgamma(math.nextafter(top, math.inf))
    assert _lgammas(np.array([top, math.nextafter(top, math.inf)])).tolist() == [
        math.lgamma(top),
        math.inf,
    ]
    # outside the domain (never a label + 1): nan, as NumPy's log of a negative
    assert np.isnan(_lgammas(np.array([0.0, -1.0, -0.5, np.nan]))).all()


def test_the_sandboxed_runtime_module_gives_the_same_loglik():
    X, y, fit = glm("counts, seed 0")
    w, b = fit.params[1:], fit.params[0]
    built = codegen.compile(derive("poisson"))
    assert built.log_likelihood(X, y, w, b) == POISSON.log_likelihood(X, y, w, b)
    X, y, fit = glm("fractional labels")
    assert built.log_likelihood(X, y, w, b) == POISSON.log_likelihood(X, y, w, b)


# --- a property: the printed log-likelihood is mpmath's, to the terms' rounding ----------

# Tolerance: per row, ours rounds y z (1/2 ulp), exp(z) (NumPy's, <= 1 ulp), their
# difference J (1/2 ulp), y + 1 (1/2 ulp, times |psi(y + 1)| <= 1 + log(y + 2) in
# lgamma), math.lgamma's own steps (a few ulps of its terms, (t - 1/2) log(t + 5.5) and
# log of its Lanczos sum: <= 4 eps L with L = (y + 1)(1 + log(y + 7)) + 1) and k - J
# (1/2 ulp): <= ROW_ULPS = 6 eps M_i, M_i = |y z| + exp(z) + L.  The sum of m rows adds
# <= m eps sum_i M_i (np.sum is pairwise: less).  The bound is 4 times that; mpmath's
# value at 40 digits is exact to ~1e-40 M.  Measured: at most 2.3 eps sum M (3000 draws).
ROW_ULPS = 6


def magnitude(y, z):
    L = (y + 1.0) * (1.0 + math.log(y + 7.0)) + 1.0
    return abs(y * z) + math.exp(z) + L


def reference(ys, zs):
    with mp.workdps(40):
        total = mp.fsum(
            mp.mpf(y) * mp.mpf(z) - mp.exp(mp.mpf(z)) - mp.loggamma(mp.mpf(y) + 1)
            for y, z in zip(ys, zs, strict=True)
        )
        return float(total)


def row_error(got, ys, zs):
    """``|ours - mpmath's|`` and its bound ``4 (ROW_ULPS + m) eps sum_i M_i``."""
    total = math.fsum(magnitude(y, z) for y, z in zip(ys, zs, strict=True))
    return abs(got - reference(ys, zs)), 4 * (ROW_ULPS + len(ys)) * EPS * total


LABELS = st.one_of(
    st.integers(0, 9).map(float),  # counts: the table path where all y + 1 <= m
    st.integers(0, 10**9).map(float),
    st.floats(0.0, 10.0),  # fractional, near lgamma's zeros at y = 0 and 1
    st.floats(0.0, 1e300),  # huge: y log mu and lgamma(y + 1) near 1e303
)
ROWS = st.lists(st.tuples(LABELS, st.floats(-700.0, 700.0)), min_size=1, max_size=8)


def check_log_likelihood(kernel, rows):
    ys, zs = [r[0] for r in rows], [r[1] for r in rows]
    X, y = np.array(zs)[:, None], np.array(ys)  # z = X 1 + 0: exactly the drawn score
    try:
        got = kernel.log_likelihood(X, y, np.ones(1), 0.0)
    except FloatingPointError as err:  # every drawn batch's log-likelihood fits float64
        raise AssertionError(f"an error on a finite log-likelihood: {err}") from err
    error, bound = row_error(got, ys, zs)
    assert error <= bound, (rows, got, error, bound)


def log_likelihood_property(kernel):
    @given(ROWS)
    @example([(0.0, 0.0), (1.0, 0.5), (2.0, -1.0)])  # the table: y + 1 in 1..3, m = 3
    @example([(0.0, -700.0), (1e300, 690.0), (2.5, 3.0)])
    def holds(rows):
        check_log_likelihood(kernel, rows)

    return holds


def test_the_printed_poisson_log_likelihood_is_mpmaths():
    log_likelihood_property(POISSON)()


# --- planted bugs: the generated log_likelihood with a wrong normaliser ------------------

#: name -> a wrong k(y): each through the generated log_likelihood of a compiled module.
PLANTED = {
    "the lgamma term dropped": lambda y, phi: np.zeros(np.shape(y)),
    "the lgamma term's sign flipped": lambda y, phi: _lgammas(y + 1),
    "lgamma(y) for lgamma(y + 1)": lambda y, phi: -_lgammas(y),
}


@functools.cache
def planted(bug):
    module = codegen.compile(derive("poisson"))
    module.log_normaliser = PLANTED[bug]  # log_likelihood reads its module's global
    return module


@pytest.mark.parametrize("bug", sorted(PLANTED))
def test_the_property_catches_a_planted_normaliser(bug):
    # As tests/properties/factory.py's catches: derandomized, no shrinking, the profile's
    # number of examples; the explicit examples alone catch all three.
    config = settings(
        derandomize=True, database=None, phases=(Phase.explicit, Phase.generate),
        report_multiple_bugs=False, print_blob=False,
    )  # fmt: skip
    with pytest.raises(AssertionError):
        config(log_likelihood_property(planted(bug)))()


@pytest.mark.parametrize("bug", sorted(PLANTED))
def test_statsmodels_catches_a_planted_normaliser(bug):
    X, y, fit = glm("counts, seed 0")
    w, b = fit.params[1:], fit.params[0]
    if bug == "lgamma(y) for lgamma(y + 1)":  # lgamma(0) at the rows y = 0: nan, named
        with pytest.raises(FloatingPointError):
            planted(bug).log_likelihood(X, y, w, b)
        X, y = X[y > 0], y[y > 0]  # and wrong on the others
    value = planted(bug).log_likelihood(X, y, w, b)
    llf = fit.family.loglike(y, np.exp(X @ w + b))  # statsmodels' Poisson, at scale 1
    assert POISSON.log_likelihood(X, y, w, b) == pytest.approx(llf, rel=LLF_RTOL)
    assert value != pytest.approx(llf, rel=LLF_RTOL)


# --- the validator: each attack on the printed normaliser is refused ---------------------

K_LINE = "k = -_lgammas(y + 1)"
NOT_PROVEN = r"not proven equal to the derivation's -loggamma\(y \+ 1\)"

#: name -> (new text, what the rejection must say)
ATTACKS = {
    "the lgamma term dropped": ("k = 0 * y", NOT_PROVEN),
    "the sign flipped": ("k = _lgammas(y + 1)", NOT_PROVEN),
    "lgamma(y + 2)": ("k = -_lgammas(y + 2)", NOT_PROVEN),
    "lgamma(y), zero at y = 0": ("k = -_lgammas(y)", r"the argument y may be zero or negative"),
    "lgamma(y - 1)": ("k = -_lgammas(y - 1)", r"the argument y - 1 may be zero or negative"),
    "the scalar lgamma of the labels": ("k = -_lgamma(y + 1)", r"may be an array"),
    "math.lgamma called directly": ("k = -math.lgamma(y + 1)", r"is not a function printed"),
}


@pytest.mark.parametrize("attack", sorted(ATTACKS))
def test_an_attack_on_the_poisson_normaliser_is_refused(attack):
    new, reason = ATTACKS[attack]
    source = (codegen.KERNEL_DIR / "poisson.py").read_text(encoding="utf-8")
    assert source.count(K_LINE) == 1, "the attack must apply to the current kernel"
    with pytest.raises(ValidationError, match=reason):
        validate(source.replace(K_LINE, new, 1), derive("poisson"))


def test_the_checked_in_poisson_kernel_validates_with_its_likelihood():
    report = validate(
        (codegen.KERNEL_DIR / "poisson.py").read_text(encoding="utf-8"), derive("poisson")
    )
    for proven in (
        "hole log_normaliser.k",
        "hole dispersion.phi",
        "derivation: log p = k(y, phi) - J / (s phi)",
        "log_likelihood",
    ):
        assert proven in report.proven


def test_the_lgamma_benchmark_runs_at_a_tiny_size():
    # A smoke test of benchmarks/lgamma_cost.py (the figures are its, not the test's).
    import subprocess
    import sys
    from pathlib import Path

    script = Path(__file__).resolve().parent.parent / "benchmarks" / "lgamma_cost.py"
    done = subprocess.run(
        [sys.executable, str(script), "--rows", "2000", "--repeats", "1"],
        capture_output=True, text=True, check=True, timeout=300,
    )  # fmt: skip
    for line in ("_lgammas (counts)", "_lgammas (fractional)", "newton fit (counts)", "load"):
        assert line in done.stdout
