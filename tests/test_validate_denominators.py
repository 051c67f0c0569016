"""Division by what may be zero: the validator refuses it before SymPy cancels the quotient.

SymPy cancels ``z / z`` to 1 as it builds it, so a factor that is NaN at
``z = 0`` in NumPy was proven equal to 1.  The semantics now prove each
denominator (and each base of a negative power) nonzero first
(:mod:`derivreg.validate.denominators`): these are the planted bugs that
check must catch, each in the batch, loop and fused kernels, and the
harmless forms it must not refuse.
"""

import ast
import functools

import pytest
import sympy as sp

from derivreg import codegen, derive
from derivreg.codegen.fused import generate_fused
from derivreg.symbolic import y, yhat, z
from derivreg.validate import ValidationError, validate, validate_fused, validate_loop
from derivreg.validate.denominators import nonzero, singular_factors
from derivreg.validate.semantics import meaning
from derivreg.validate.softmax import validate_softmax

NUMPY_NaN = "may be zero, where NumPy gives inf or NaN"
PYTHON_RAISES = "may be zero, where Python raises ZeroDivisionError"


@functools.cache
def derivation(name):
    return derive(name)


def checked_in(module):
    return (codegen.KERNEL_DIR / f"{module}.py").read_text(encoding="utf-8")


def edited(module, old, new):
    source = checked_in(module)
    assert old in source, "the attack must apply to the current kernel"
    return source.replace(old, new, 1)


MSE_DZ = "dJ_dz = 2*(-y + z)"
BCE_DZ = "dJ_dz = -(y*np.maximum(t0, (z <= 0)) + (y - 1)*np.maximum(t0, (z >= 0)))/(t0 + 1)"

#: name -> (batch module, old text, new text, the denominator the refusal names)
BATCH_ATTACKS = {
    "a factor z/z": ("mse", MSE_DZ, f"{MSE_DZ}*(z/z)", "z"),
    "a factor y/y": ("mse", MSE_DZ, f"{MSE_DZ}*(y/y)", "y"),
    "a factor (z - y)/(z - y)": ("mse", MSE_DZ, f"{MSE_DZ}*((z - y)/(z - y))", r"-y \+ z"),
    "z as 1/(1/z)": ("mse", MSE_DZ, "dJ_dz = 2*(-y + 1/(1/z))", "z"),
    "z**-1 times z": ("mse", MSE_DZ, f"{MSE_DZ}*z**-1*z", "z"),
    "z**(-1.0) times z": ("mse", MSE_DZ, f"{MSE_DZ}*z**(-1.0)*z", "z"),
    "a comparison as a denominator": ("mse", MSE_DZ, f"{MSE_DZ}/(z >= 0)", "Piecewise"),
    # t0 = exp(-|z|): t0 - 1 is 0 at z = 0
    "BCE's dJ/dz times (t0 - 1)/(t0 - 1)": (
        "bce",
        BCE_DZ,
        f"{BCE_DZ}*((t0 - 1)/(t0 - 1))",
        r"-1 \+ exp\(-Abs\(z\)\)",
    ),
    # exp underflows to 0 in float64 (|z| > 745): t0/t0 is 0/0 there, though t0 > 0 on the reals
    "BCE's dJ/dz times t0/t0": ("bce", BCE_DZ, f"{BCE_DZ}*(t0/t0)", r"exp\(-Abs\(z\)\)"),
    # Poisson's dJ/dyhat divides by yhat, not by yhat - 1
    "Poisson's dJ/dyhat over yhat (yhat - 1)": (
        "poisson",
        "dJ_dyhat = -(y - yhat)/yhat",
        "dJ_dyhat = -(y - yhat)*(yhat - 1)/(yhat*(yhat - 1))",
        r"yhat\*\(yhat - 1\)",
    ),
}


@pytest.mark.parametrize("attack", sorted(BATCH_ATTACKS))
def test_a_denominator_that_may_be_zero_is_refused(attack):
    module, old, new, denominator = BATCH_ATTACKS[attack]
    with pytest.raises(ValidationError, match=rf"the denominator {denominator}.* {NUMPY_NaN}"):
        validate(edited(module, old, new), derivation(module))


@pytest.mark.parametrize(
    ("call", "name"), [("np.divide(z, z)", "divide"), ("np.reciprocal(z)", "reciprocal")]
)
def test_numpy_division_functions_are_not_printed_expressions(call, name):
    # The printer writes a / b and b**-1 only: any other spelling of a division is refused.
    source = edited("mse", MSE_DZ, f"{MSE_DZ}*{call}")
    with pytest.raises(ValidationError, match=rf"`np.{name}\(z.*is not a function printed"):
        validate(source, derivation("mse"))


def test_a_zero_power_is_accepted():
    # z**0 is 1 in NumPy and Python even at z = 0 (IEEE pow(x, 0) = 1 for every x): no division.
    assert validate(edited("mse", MSE_DZ, f"{MSE_DZ}*z**0"), derivation("mse")).ok


def test_a_denominator_proven_positive_is_accepted():
    # (t0 + 1)/(t0 + 1) is 1 wherever NumPy computes: t0 + 1 >= 1 even when t0 underflows.
    source = edited("bce", BCE_DZ, f"{BCE_DZ}*((t0 + 1)/(t0 + 1))")
    assert validate(source, derivation("bce")).ok


def test_a_factor_vanishing_only_where_the_derivation_divides_by_zero_is_accepted():
    # BCE's dJ/dyhat is -(y - yhat)/(yhat (1 - yhat)): at yhat = 0 the derivation has no value
    # either, and the fixed code takes the limit there (_at_edges); yhat/yhat adds no NaN the
    # derivation does not already have.
    old = "dJ_dyhat = (y - yhat)/(yhat*(yhat - 1))"
    assert validate(edited("bce", old, f"{old[:-1]}*(yhat/yhat))"), derivation("bce")).ok


def test_the_loop_refuses_z_over_z():
    source = edited("mse_loop", "dJ_dz = -2*t0", "dJ_dz = -2*t0*(z/z)")
    with pytest.raises(ValidationError, match=rf"`z / z`: the denominator z {PYTHON_RAISES}"):
        validate_loop(source, derivation("mse"))


def test_the_loop_refuses_one_over_one_over_z_in_a_shared_subexpression():
    source = edited("mse_loop", "t0 = y - z", "t0 = y - 1/(1/z)")
    with pytest.raises(ValidationError, match=rf"`1 / z`: the denominator z {PYTHON_RAISES}"):
        validate_loop(source, derivation("mse"))


def test_the_fused_kernels_refuse_z_over_z():
    source = generate_fused(derivation("mse"))
    assert MSE_DZ in source
    with pytest.raises(ValidationError, match=rf"the denominator z {PYTHON_RAISES}"):
        validate_fused(source.replace(MSE_DZ, f"{MSE_DZ}*(z/z)", 1), derivation("mse"))


def test_the_softmax_kernel_refuses_e_over_e():
    # e = exp(z_j - max z) underflows to 0 for a class 745 below the maximum: e/e is NaN there.
    source = checked_in("softmax").replace("yhat = e/S", "yhat = e*(e/e)/S", 1)
    report = validate_softmax(source)
    assert not report.ok
    assert any("the denominator" in f and "may be zero" in f for f in report.failures)


def test_the_softmax_sum_is_accepted_as_a_denominator():
    # S = 1 + (the other terms): the maximum's term is exactly 1, so S >= 1.
    assert validate_softmax(checked_in("softmax")).ok


# --- the proof of nonzero itself -------------------------------------------------------------


@pytest.mark.parametrize(
    ("expr", "expected"),
    [
        (sp.exp(-sp.Abs(z)) + 1, True),
        (sp.exp(-sp.Abs(z)) - 1, False),
        (sp.exp(z), False),  # underflows to 0 in float64
        (z**2 + 1, True),
        (y**2 - 2 * y * z + z**2 + 1, True),  # Geman-McClure's 1 + (y - z)**2, expanded
        (y**2 - 2 * y * z + z**2, False),  # (y - z)**2: 0 at y = z
        (z**2 + z + 1, True),  # no real root
        (z**2 - 1, False),
        (sp.Max(sp.exp(-sp.Abs(z)), sp.Piecewise((1, z >= 0), (0, True))), False),
        (sp.Integer(0), False),
        (sp.Integer(3), True),
    ],
)
def test_nonzero_decides_the_kernels_denominators(expr, expected):
    assert nonzero(expr) is expected


def test_a_pole_is_accepted_only_where_the_derivation_has_it():
    poles = singular_factors(-(y - yhat) / (yhat * (1 - yhat)))
    assert nonzero(yhat * (yhat - 1), poles)
    assert nonzero(yhat**2, poles)
    assert not nonzero(yhat + 1, poles)
    assert not nonzero(yhat * (yhat - 1), frozenset())


def test_the_denominator_is_checked_before_sympy_cancels():
    node = ast.parse("(z - y) / (z - y)", mode="eval").body
    with pytest.raises(ValidationError, match="the denominator -y \\+ z may be zero"):
        meaning(node, {"z": z, "y": y})
    # what the check guards against: SymPy's own quotient is already 1
    assert (z - y) / (z - y) == 1
