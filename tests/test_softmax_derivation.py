"""derive("softmax"): the matrix-form chain, each step checked, the cancellation derived.

A planted wrong activation or loss must be refused by the derivation's own
checks (the tests that can fail), and the rendering shows the chain as the
slides write it.
"""

import pytest
import sympy as sp

import derivreg.symbolic.softmax as softmax_module
from derivreg import derive
from derivreg.rendering import render
from derivreg.symbolic import REGISTRY, DerivationError
from derivreg.symbolic.matrix_forms import softmax
from derivreg.symbolic.softmax import derive_softmax


@pytest.fixture(scope="module")
def d():
    return derive("softmax")


def test_the_chain_ends_in_the_residual(d):
    g = d.symbols.generic
    assert d.step("dJ_dz").expr == g.yhat_i - g.y_i
    assert d.step("dJ_dz").factors == ("dyhat_dz", "dJ_dyhat")
    p, y = d.symbols.yhat, d.symbols.y
    assert d.matrices["dJ_dz"] == p - y
    assert d.matrices["dJ_dW"] == d.symbols.x * (p - y).T


def test_the_jacobian_is_derived_and_is_diag_minus_outer(d):
    # An independent route: SymPy's jacobian of softmax(z), with yhat put back.
    c = d.symbols
    direct = softmax(c.z).jacobian(c.z)
    expected = sp.diag(*c.yhat) - c.yhat * c.yhat.T
    assert (c.at_softmax(expected) - direct).applyfunc(sp.simplify) == sp.zeros(3, 3)
    assert d.matrices["dyhat_dz"] == expected
    assert d.matrices["d2J_dz2"] == expected
    assert d.curvature_bound == sp.Rational(1, 2)
    assert d.step_size_numerator == 4


def test_not_a_registry_claim():
    assert "softmax" not in REGISTRY
    assert not hasattr(derive("softmax"), "pair")


def test_shapes_and_bad_arguments():
    small = derive_softmax(classes=2, features=1)
    assert small.matrices["dJ_dW"].shape == (1, 2)
    for bad in (1, 0, 2.0, "3"):
        with pytest.raises(ValueError, match="at least 2 classes"):
            derive_softmax(classes=bad)


def _planted(monkeypatch, **patches):
    for name, value in patches.items():
        monkeypatch.setattr(softmax_module, name, value)
    return softmax_module.derive_softmax.__wrapped__(2, 1)


def test_a_wrong_activation_is_refused(monkeypatch):
    def off_by_one(z):  # exp(z_i) / (1 + Σ exp(z_j)): not a softmax
        total = 1 + sum(sp.exp(t) for t in z)
        return sp.Matrix([sp.exp(t) / total for t in z])

    with pytest.raises(DerivationError, match="dyhat_dz"):
        _planted(monkeypatch, softmax=off_by_one)


def test_a_wrong_jacobian_is_refused(monkeypatch):
    # Twice the true Jacobian is still diag + outer, so the recognition would
    # accept it; the matrix chain's check of the rewrite (ŷ = softmax(z) put
    # back must give SymPy's Jacobian in z) does not.
    real = softmax_module.Components.in_terms_of_yhat
    monkeypatch.setattr(
        softmax_module.Components, "in_terms_of_yhat", lambda self, expr: 2 * real(self, expr)
    )
    with pytest.raises(DerivationError, match="the Jacobian in yhat is not the Jacobian in z"):
        _planted(monkeypatch)


def test_without_one_hot_no_cancellation(monkeypatch):
    # Skip the one-hot step: the chain stops at -y_i + ŷ_i Σ y_c, not ŷ - y.
    with pytest.raises(DerivationError, match="dJ_dz"):
        _planted(monkeypatch, one_hot=lambda vector, c: vector)


def test_rendered_as_the_slides(d):
    out = render(d, "text")
    assert "∂ŷ/∂z = diag(ŷ) - ŷŷᵀ" in out
    assert "= -y_i + ŷ_i·Σ_c y_c = ŷ_i - y_i" in out
    assert "λ_max = max_i (H_ii + Σ_{j≠i} |H_ij|) = 2·ŷ_i·(1 - ŷ_i) = 1/2" in out
    for fmt in ("latex", "markdown"):
        shown = render(d, fmt)
        for raw in ("KroneckerDelta", "Abs", "yhat"):
            assert raw not in shown
        assert r"\operatorname{diag}(\hat{y}) - \hat{y} \hat{y}^{T}" in shown
