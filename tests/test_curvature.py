"""Second derivatives, their bounds over the domain, canonical links, and the registry's API.

Expected values are the closed forms stated in DESIGN.md (not computed by the
code under test); d2J/dz2 is also checked by an independent numeric route
(a central second difference of the composed loss at 80 digits).
"""

import keyword
from dataclasses import replace

import mpmath as mp
import pytest
import sympy as sp

from derivreg.symbolic import (
    GAMMA,
    POISSON,
    REGISTRY,
    DerivationError,
    Pair,
    curvature,
    derive,
    exponential,
    poisson_loss,
    sigmoid,
    squared_error,
    y,
    yhat,
    z,
)

# pair, d2J/dz2, sup over the domain, canonical scale, c = 2 / sup
EXPECTED = {
    "mse": (REGISTRY["mse"], sp.Integer(2), sp.Integer(2), 2, 1),
    "bce": (REGISTRY["bce"], yhat * (1 - yhat), sp.Rational(1, 4), 1, 8),
    "poisson": (POISSON, yhat, sp.oo, 1, 0),
    "gamma": (GAMMA, y / yhat, sp.oo, None, 0),
}


@pytest.mark.parametrize("features", [1, "n"])
@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_second_derivative_bound_and_link_match_the_closed_forms(name, features):
    pair, d2, sup, scale, c = EXPECTED[name]
    d = derive(pair, features=features)
    assert sp.simplify(d.d2J_dz2 - d2) == 0
    assert d.curvature_bound == sup
    assert d.canonical_scale == scale
    assert d.canonical is (scale == 1)
    assert d.step_size_numerator == c
    assert d.convex_in_z  # every one of these is convex in z


def fd_agrees(pair, d2):
    """Whether d2(y, g(z)) matches a central second difference of the composed loss.

    Independent of SymPy's diff: (f(z+h) - 2 f(z) + f(z-h)) / h^2 has truncation error
    h^2/12 |f^(4)| ~ 1e-41 and rounding error ~ 4 * 10^-80 |f| / h^2 ~ 1e-39 for
    h = 1e-20 at 80 digits (|f| and |f^(4)| stay below ~30 on these points); 1e-30
    leaves a margin of 1e9 over both.
    """
    composed = sp.lambdify((y, z), pair.loss(y, pair.activation(z)), "mpmath")
    second = sp.lambdify((y, yhat), d2, "mpmath")
    g = sp.lambdify(z, pair.activation(z), "mpmath")
    with mp.workdps(80):
        h = mp.mpf("1e-20")
        for label in ("0.3", "0.7", "2.5"):
            if pair.domain.contains(sp.Rational(label)) is not sp.true:
                continue
            for at in ("-3", "-0.5", "0.25", "2"):
                yv, zv = mp.mpf(label), mp.mpf(at)
                fd = (composed(yv, zv + h) - 2 * composed(yv, zv) + composed(yv, zv - h)) / h**2
                exact = second(yv, g(zv))
                if abs(fd - exact) > mp.mpf("1e-30") * max(1, abs(exact)):
                    return False
    return True


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_second_derivative_agrees_with_an_80_digit_central_difference(name):
    pair, d2, *_ = EXPECTED[name]
    assert fd_agrees(pair, derive(pair, features=1).d2J_dz2)
    assert fd_agrees(pair, d2)


PLANTED = {"mse": sp.Integer(1), "bce": yhat, "poisson": yhat**2, "gamma": 1 / yhat}


@pytest.mark.parametrize("name", sorted(PLANTED))
def test_the_central_difference_refuses_a_planted_second_derivative(name):
    assert not fd_agrees(EXPECTED[name][0], PLANTED[name])


def test_a_wrong_second_derivative_claim_names_its_step():
    wrong = Pair(
        "bce_wrong2",
        "BCE claiming d2J/dz2 = yhat",
        sigmoid,
        REGISTRY["bce"].loss,
        targets="binary",
        claims=lambda y, yhat: {"d2J_dz2": yhat},
    )
    with pytest.raises(DerivationError) as info:
        derive(wrong, features=1)
    assert info.value.step == "d2J_dz2"


def test_a_bound_below_the_curvature_is_caught_by_the_witness(monkeypatch):
    # Plant a bounds() that claims sup = 1/8 for BCE: the seeded points find yhat(1 - yhat) > 1/8.
    monkeypatch.setattr(
        curvature, "bounds", lambda *a: (sp.Rational(1, 8), sp.Integer(0), "planted")
    )
    with pytest.raises(DerivationError, match="escapes") as info:
        derive("bce", features=1)
    assert info.value.step == "curvature_bound"


def test_the_same_harness_accepts_the_true_bound(monkeypatch):
    monkeypatch.setattr(
        curvature, "bounds", lambda *a: (sp.Rational(1, 4), sp.Integer(0), "stated")
    )
    assert derive("bce", features=1).curvature_bound == sp.Rational(1, 4)


def test_a_non_convex_pair_has_unbounded_curvature_and_is_not_called_convex():
    d = derive(Pair("tanh_mse", "tanh regression", sp.tanh, squared_error), features=1)
    assert d.curvature_bound == sp.oo
    assert not d.convex_in_z
    assert d.canonical_scale is None


def test_curvature_sympy_cannot_bound_is_taken_as_unbounded():
    sup, inf, how = curvature.bounds(y**2 * yhat, sp.S.Reals, sp.Interval.open(0, 1))
    assert (sup, inf) == (sp.oo, -sp.oo)
    assert "could not bound" in how


def test_bounds_follow_the_sign_of_the_slope_in_y():
    # 1 - y yhat on y in [0, 2], yhat in (0, 1): largest at y = 0 (1),
    # smallest towards y = 2, yhat -> 1 (-1).
    sup, inf, _ = curvature.bounds(1 - y * yhat, sp.Interval(0, 2), sp.Interval.open(0, 1))
    assert (sup, inf) == (1, -1)


def test_canonical_scale_is_none_when_not_a_constant_multiple():
    assert curvature.canonical_scale(1 - y / yhat) is None
    assert curvature.canonical_scale(3 * (yhat - y)) == 3


# --- the registry's API --------------------------------------------------------


def test_register_refuses_a_taken_name_and_temporarily_restores():
    with pytest.raises(ValueError, match="already registered"):
        REGISTRY.register(REGISTRY["mse"])
    before = list(REGISTRY)
    # Poisson and Gamma are built in now: two copies under other names stand in.
    extra = [replace(POISSON, name="poisson2"), replace(GAMMA, name="gamma2")]
    with REGISTRY.temporarily(*extra):
        assert list(REGISTRY) == [*before, "poisson2", "gamma2"]
        assert derive("poisson2").dJ_dz == yhat - y
    assert list(REGISTRY) == before
    with pytest.raises(ValueError, match="unknown loss 'poisson2'"):
        derive("poisson2")


def test_registry_is_read_only_as_a_mapping():
    with pytest.raises(TypeError):
        REGISTRY["poisson"] = POISSON  # type: ignore[index]
    with pytest.raises(TypeError, match="takes a Pair"):
        REGISTRY.register("poisson")  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "name",
    ["", "a b", "x\nimport os", "__class__", "1abc", "naïve", "lambda", "match", None, 3],
)
def test_names_that_could_not_stand_in_code_are_refused(name):
    assert (
        name is None
        or not isinstance(name, str)
        or not name.isidentifier()
        or (keyword.iskeyword(name) or keyword.issoftkeyword(name) or name.startswith("__"))
        or not name.isascii()
    )
    with pytest.raises(ValueError, match="name must"):
        Pair(name, "t", exponential, poisson_loss)  # type: ignore[arg-type]


def test_a_threshold_is_never_parsed_from_a_string(tmp_path):
    marker = tmp_path / "pwned"
    payload = f"__import__('pathlib').Path({str(marker)!r}).touch() or 0.5"
    with pytest.raises(ValueError, match="threshold must be a real number"):
        Pair("p", "t", sigmoid, REGISTRY["bce"].loss, threshold=payload)  # type: ignore[arg-type]
    assert not marker.exists()
    assert Pair("p", "t", sigmoid, REGISTRY["bce"].loss, threshold=0.25).threshold == 0.25


def test_a_binary_pair_needs_a_domain_inside_the_unit_interval():
    with pytest.raises(ValueError, match="domain inside"):
        Pair("p", "t", sigmoid, REGISTRY["bce"].loss, targets="binary", domain=sp.S.Reals)
    with pytest.raises(ValueError, match="SymPy set of real numbers"):
        Pair("p", "t", exponential, poisson_loss, domain=sp.S.Complexes)
