"""Rendering: the three formats read like the slides."""

import pytest

from derivreg import REGISTRY, derive, render
from derivreg.rendering import FORMATS, blocks


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("name", sorted(REGISTRY))
def test_every_stage_is_rendered(name, fmt):
    out = render(derive(name), fmt)
    for title in ("Forward propagation", "Local partial derivatives", "Chain rule", "update"):
        assert title in out


def test_text_shows_the_bce_cancellation_as_a_product_of_factors():
    out = render(derive("bce", features=1), "text")
    line = next(s for s in out.splitlines() if s.strip().startswith("∂J/∂z"))
    assert line.strip() == "∂J/∂z = ∂J/∂ŷ · ∂ŷ/∂z = (-(y - ŷ)/(ŷ·(1 - ŷ))) · (ŷ·(1 - ŷ)) = ŷ - y"
    assert "w := w + α·x·(y - ŷ)" in out


def test_text_shows_the_mse_update_with_its_factor_2():
    out = render(derive("mse", features=1), "text")
    assert "∂J/∂ŷ = -2·(y - ŷ)" in out
    assert "b := b + 2·α·(y - ŷ)" in out


def test_latex_uses_vectors_and_align():
    out = render(derive("bce"), "latex")
    assert r"\begin{align*}" in out
    assert r"\vec{x}^{T} \vec{w}" in out
    assert r"\frac{\partial J}{\partial z}" in out
    assert r"\mathrel{:=}" in out


def test_markdown_uses_display_math():
    out = render(derive("mse", features=1), "markdown")
    assert out.startswith("# Linear regression, mean squared error (1 feature)")
    assert "$$ J = \\left(y - \\hat{y}\\right)^{2} $$" in out


def test_blocks_follow_the_stages():
    assert [b.title for b in blocks(derive("bce"))] == [
        "Forward propagation",
        "Local partial derivatives",
        "Chain rule (backpropagation)",
        "Parameter update",
        "Second derivative (curvature)",
    ]


def test_unknown_format_is_a_clear_error():
    with pytest.raises(ValueError, match="unknown format 'html'; known formats: text, latex"):
        render(derive("mse"), "html")  # type: ignore[arg-type]


def test_one_feature_form_writes_x_and_w_as_scalars():
    one = render(derive("mse", features=1), "latex")
    assert r"\vec" not in one
    assert r"w &\mathrel{:=} w - \alpha \frac{\partial J}{\partial w}" in one
    assert "(∂J/∂w)ᵀ" not in render(derive("mse", features=1), "text")
    assert r"\vec{w} &\mathrel{:=} \vec{w} - \alpha" in render(derive("mse"), "latex")


def test_an_unevaluated_signed_factor_keeps_its_parentheses():
    # SymPy alone prints this product as "- 2 alpha - 2 x (y - yhat)", a difference.
    import sympy as sp

    from derivreg.rendering import latex
    from derivreg.symbolic import alpha

    product = -2 * alpha * sp.UnevaluatedExpr(derive("mse", features=1).dJ_dw)
    assert latex(product) == r"- 2 \alpha \left(- 2 x \left(y - \hat{y}\right)\right)"


def test_vector_update_reads_like_the_slides():
    # w first, then its step, with the scalar factor unparenthesised: w := w + 2α(y - ŷ)x
    from derivreg.rendering import text

    assert text(derive("mse").update_w) == "w + 2·α·(y - ŷ)·x"
    assert text(derive("bce").update_w) == "w + α·(y - ŷ)·x"
    assert text(derive("bce").step("step_w").expr) == "w - α·(ŷ - y)·x"
