"""Gamma's log-likelihood, AIC and BIC as statsmodels' GLM(Gamma(Log())) reports them.

The Gamma's maximum-likelihood dispersion has no closed form (its equation
needs the digamma function), so the derivation takes the log-likelihood at
Pearson's dispersion ``sum_i (y_i - yhat_i)^2 / yhat_i^2 / (m - p)``: the
``scale`` statsmodels' GLM estimates and plugs into its ``llf`` (every
family but the Gaussian with the identity link).  Its ``aic`` is
``-2 llf + 2 (df_model + 1)`` and its ``bic`` (``bic_llf`` since 0.14)
``-2 llf + (df_model + 1) log m``: the mean's p parameters, not the scale.

The normaliser needs ``lgamma(1/phi)`` of one float: the generator prints
the checks' ``_lgamma`` (``math.lgamma``), the validator knows it as
``loggamma`` of a positive scalar, and the attacks below are refused.
"""

import functools
import math
from unittest import mock

import numpy as np
import pytest
import statsmodels.api as sm
from hypothesis import given
from hypothesis import strategies as st

from derivreg import codegen, derive
from derivreg.codegen import likelihood as likelihood_codegen
from derivreg.codegen.runtime import gate
from derivreg.estimators import GammaRegressionSGD
from derivreg.kernels import KERNELS
from derivreg.symbolic import REGISTRY, Pair
from derivreg.symbolic.likelihood import likelihood_terms
from derivreg.validate import ValidationError, validate
from derivreg.validate import batch as validate_batch

# Tolerance 1e-10 relative (the task's).  Both fits stop at |grad| <= 1e-12, within
# ~5e-12 of the MLE (|grad| / lambda_min, lambda_min ~ 0.2).  The llf is stationary in
# the coefficients through J but not through Pearson's phi, which moves by O(1) times
# that: ~1e-11 relative at most; the sum of m = 400 terms adds ~m eps ~ 1e-13.
# Measured: 1.2e-15 to 3e-15 relative.
LLF_RTOL = 1e-10


def gamma_data(seed, m=400, n=3):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(m, n)) * 0.5
    mean = np.exp(X @ np.linspace(0.5, -0.3, n) + 0.2)
    return X, rng.gamma(2.0, mean / 2.0)  # shape 2: mean exp(z), dispersion 1/2


def glm(X, y):
    family = sm.families.Gamma(sm.families.links.Log())
    return sm.GLM(y, sm.add_constant(X), family=family).fit(tol=1e-14, maxiter=200)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_gamma_loglik_aic_bic_match_statsmodels(seed):
    X, y = gamma_data(seed)
    fit = glm(X, y)
    reg = GammaRegressionSGD(solver="newton", tol=1e-12).fit(X, y)
    assert reg.likelihood_note_ is None
    assert reg.loglik_ == pytest.approx(fit.llf, rel=LLF_RTOL)
    assert reg.aic_ == pytest.approx(fit.aic, rel=LLF_RTOL)
    assert reg.bic_ == pytest.approx(fit.bic_llf, rel=LLF_RTOL)
    # the kernel at statsmodels' own estimate: the same number
    w, b = fit.params[1:], fit.params[0]
    assert KERNELS["gamma"].log_likelihood(X, y, w, b) == pytest.approx(fit.llf, rel=LLF_RTOL)
    assert float(np.sum(KERNELS["gamma"].pearson_residual(X @ w + b, y)) / (len(y) - 4)) == (
        pytest.approx(fit.scale, rel=1e-12)
    )


def test_a_planted_other_dispersion_is_caught_by_statsmodels():
    # The log-likelihood at a phi 1% off Pearson's differs from llf by far more than
    # LLF_RTOL (d llf / d log phi ~ m): the comparison can fail.
    X, y = gamma_data(0)
    fit = glm(X, y)
    w, b = fit.params[1:], fit.params[0]
    gamma = KERNELS["gamma"]
    phi = 1.01 * fit.scale
    planted = float(np.sum(gamma.log_normaliser(y, phi) - gamma.losses(X, y, w, b) / phi))
    assert planted != pytest.approx(fit.llf, rel=LLF_RTOL)
    right = float(np.sum(gamma.log_normaliser(y, fit.scale) - gamma.losses(X, y, w, b) / fit.scale))
    assert right == pytest.approx(fit.llf, rel=LLF_RTOL)


def test_the_derivation_says_which_dispersion_and_why():
    terms = derive("gamma").likelihood
    assert terms is not None
    assert terms.dispersion is None
    assert str(terms.pearson) == "(y - yhat)**2/yhat**2"
    assert "Pearson's dispersion sum_i r_i / (m - p)" in terms.note
    assert "no closed form (its maximum-likelihood equation involves y)" in terms.note
    assert "statsmodels' GLM llf" in terms.note
    assert derive("gamma").likelihood_note == ""
    assert derive("mse").likelihood.note == "the maximum-likelihood dispersion"


def test_genuinely_non_likelihood_losses_keep_their_refusals():
    gamma = REGISTRY["gamma"]
    squared = Pair("sqgam", "Squared error, Gamma density", gamma.activation,
                   lambda y, yhat: (y - yhat) ** 2, domain=gamma.domain,
                   log_density=gamma.log_density)  # fmt: skip
    terms, why = likelihood_terms(squared, squared.loss(*_y_yhat()))
    assert terms is None
    assert "is not -log p / (s phi) for a number s > 0" in why
    shifted = Pair("shgam", "Gamma loss plus a term in yhat", gamma.activation,
                   lambda y, yhat: y / yhat + 2 * sp_log(yhat), domain=gamma.domain,
                   log_density=gamma.log_density)  # fmt: skip
    terms, why = likelihood_terms(shifted, shifted.loss(*_y_yhat()))
    assert terms is None
    assert "is not -log p / (s phi)" in why


def _y_yhat():
    from derivreg.symbolic import y, yhat

    return y, yhat


def sp_log(t):
    import sympy as sp

    return sp.log(t)


def test_too_few_samples_for_pearsons_dispersion_say_so():
    X, y = gamma_data(0, m=3, n=2)  # m = p = 3
    with pytest.raises(ValueError, match=r"Pearson's dispersion .* got m=3, p=3"):
        KERNELS["gamma"].log_likelihood(X, y, np.zeros(2), 0.0)
    reg = GammaRegressionSGD(solver="newton", tol=1e-10).fit(X, y)
    assert reg.loglik_ is None
    assert reg.aic_ is None
    assert "Pearson's dispersion" in reg.likelihood_note_


def test_the_sandboxed_runtime_module_gives_the_same_loglik():
    X, y = gamma_data(1)
    fit = glm(X, y)
    w, b = fit.params[1:], fit.params[0]
    built = codegen.compile(derive("gamma"))
    assert built.log_likelihood(X, y, w, b) == KERNELS["gamma"].log_likelihood(X, y, w, b)
    # the sandbox's math is its lgamma alone
    with pytest.raises(ValueError, match=r"may not use \.exp"):
        gate("import math\nmath.exp(1.0)")
    assert gate("import math\nmath.lgamma(1.0)") is not None


# --- the validator: each attack on the Gamma's log-likelihood is refused ----------------


@functools.cache
def derivation(name):
    return derive(name)


def checked_in(name):
    return (codegen.KERNEL_DIR / f"{name}.py").read_text(encoding="utf-8")


K_LINE = "k = -t0*(phi*(t1 + _lgamma(t0)) - t1 + np.log(phi))"
R_LINE = "r = (y*np.exp(-z) - 1)**2"
PHI_LINE = "phi = _pearson_dispersion(pearson_residual(_scores(X, w, b), y), X)"
NOT_PROVEN = r"not proven equal to the derivation's"

#: name -> (old text, new text, what the rejection must say)
ATTACKS = {
    "lgamma(phi) for lgamma(1/phi)": (
        K_LINE,
        K_LINE.replace("_lgamma(t0)", "_lgamma(phi)"),
        rf"log_normaliser, line \d+: k = .*{NOT_PROVEN}",
    ),
    "the -log y dropped": (
        K_LINE,
        K_LINE.replace("phi*(t1 + _lgamma(t0))", "phi*_lgamma(t0)"),
        rf"log_normaliser, line \d+: k = .*{NOT_PROVEN}",
    ),
    "log y / phi of the wrong sign": (
        K_LINE,
        K_LINE.replace(" - t1 + ", " + t1 + "),
        rf"log_normaliser, line \d+: k = .*{NOT_PROVEN}",
    ),
    "lgamma of an array (the labels)": (
        K_LINE,
        K_LINE.replace("_lgamma(t0)", "_lgamma(1 + y)"),
        r"_lgamma\(1 \+ y\).*an array \(it reads y, z or yhat\)",
    ),
    "math.lgamma called directly": (
        K_LINE,
        K_LINE.replace("_lgamma(t0)", "math.lgamma(t0)"),
        r"`math.lgamma\(t0\)` is not a function printed expressions use",
    ),
    "a Pearson residual unscaled by the variance": (
        R_LINE,
        "r = (y - np.exp(z))**2",
        rf"pearson_residual, line \d+: r = .*{NOT_PROVEN}",
    ),
    "a Pearson residual not squared": (
        R_LINE,
        "r = np.abs(y*np.exp(-z) - 1)",
        rf"pearson_residual, line \d+: r = .*{NOT_PROVEN}",
    ),
    "Pearson's dispersion over the wrong degrees of freedom": (
        PHI_LINE,
        PHI_LINE.replace(", X)", ", X[:, 1:])"),
        r"log_likelihood: .*the generator prints `X`, found `X\[:, 1:\]`",
    ),
    "the maximum-likelihood formula of another family": (
        PHI_LINE,
        "phi = float(np.mean(J))",
        r"log_likelihood: the names differ: the generator prints `_pearson_dispersion`",
    ),
}


@pytest.mark.parametrize("attack", sorted(ATTACKS))
def test_an_attack_on_the_gamma_log_likelihood_is_refused(attack):
    old, new, reason = ATTACKS[attack]
    source = checked_in("gamma")
    assert source.count(old) == 1, "the attack must apply to the current kernel"
    with pytest.raises(ValidationError, match=reason):
        validate(source.replace(old, new, 1), derivation("gamma"))


def test_the_checked_in_gamma_kernel_validates_with_its_likelihood():
    report = validate(checked_in("gamma"), derivation("gamma"))
    for proven in (
        "hole log_normaliser.k",
        "hole pearson_residual.r",
        "derivation: log p = k(y, phi) - J / (s phi)",
        "derivation: r = dJ/dz^2 / (s E[d2J/dz2])",
        "log_likelihood (6 rows, 2 features)",
    ):
        assert proven in report.proven


RIGHT_PEARSON = likelihood_codegen._at_pearsons


def twice_pearson(kernel):
    """A generator printing twice Pearson's dispersion: fixed text, not a hole."""
    printed = RIGHT_PEARSON(kernel)
    return [type(p)(p.source.replace(f"    {PHI_LINE}", f"    {PHI_LINE} * 2"), p.holes)
            for p in printed]  # fmt: skip


def test_a_generator_printing_a_wrong_pearson_dispersion_is_refused_by_the_run():
    d = derive("gamma")  # a fresh derivation: the validator's cache of printed modules misses
    with mock.patch.object(likelihood_codegen, "_at_pearsons", twice_pearson):
        validate_batch._PRINTED.clear()
        source = codegen.generate(d)
        assert f"{PHI_LINE} * 2" in source
        with pytest.raises(ValidationError, match=r"log_likelihood \(6 rows, 2 features\): comp"):
            validate(source, d)
    validate_batch._PRINTED.clear()


# --- a property: the printed log-density is SciPy's Gamma log-pdf ------------------------


# Tolerance: each of the five terms of log p = (log y - log phi)/phi - log y - lgamma(1/phi)
# - J/phi is computed to a few ulp of its own magnitude (SciPy's logpdf the same, in its
# own order), so the two differ by at most ~16 eps times the sum of the terms' magnitudes
# M; 64 eps M leaves a factor of 4.
def density_error(normaliser, y, z, phi):
    from scipy import stats

    J = y * np.exp(-z) + z
    ours = float(normaliser(np.float64(y), phi)) - J / phi
    theirs = float(stats.gamma(a=1 / phi, scale=np.exp(z) * phi).logpdf(y))
    magnitude = (abs(np.log(y)) + abs(np.log(phi)) + J) / phi + abs(np.log(y))
    magnitude += abs(math.lgamma(1 / phi))
    return abs(ours - theirs), 64 * np.finfo(float).eps * magnitude


@given(
    y=st.floats(1e-3, 1e3),
    z=st.floats(-5.0, 5.0),
    phi=st.floats(0.05, 20.0),
)
def test_the_printed_gamma_log_density_is_scipys(y, z, phi):
    error, bound = density_error(KERNELS["gamma"].log_normaliser, y, z, phi)
    assert error <= bound


def test_the_density_property_catches_lgamma_of_phi():
    # Planted: the normaliser with lgamma(phi) for lgamma(1/phi); the property's check fails
    # wherever lgamma(phi) != lgamma(1/phi), i.e. everywhere but phi = 1.
    def planted(y, phi):
        right = KERNELS["gamma"].log_normaliser(y, phi)
        return right + math.lgamma(1 / phi) - math.lgamma(phi)

    for phi in (0.05, 0.5, 2.0, 20.0):
        error, bound = density_error(planted, 1.3, 0.2, phi)
        assert error > bound
        error, bound = density_error(KERNELS["gamma"].log_normaliser, 1.3, 0.2, phi)
        assert error <= bound
