"""Rendering: the three formats read like the slides."""

import pytest
import sympy as sp

from derivreg import REGISTRY, derive, render
from derivreg.rendering import FORMATS, Block, blocks, latex, text


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


# ---------------------------------------------------------------------------
# Issue 18: one order for update rules, and a transpose that renders.
# ---------------------------------------------------------------------------
@pytest.mark.parametrize("name", ["mse", "bce"])
def test_the_n_feature_update_puts_w_first_in_every_format(name):
    d = derive(name)
    rule = next(r for b in blocks(d) for r in b.rows if r.rhs and r.rhs[-1] == d.update_w)
    shown = {fmt: render([Block("u", [rule])], fmt) for fmt in FORMATS}
    assert "w := w + " in shown["text"]
    assert r"\vec{w} &\mathrel{:=} \vec{w} + " in shown["latex"]
    assert r"$$ \vec{w} \mathrel{:=} \vec{w} + " in shown["markdown"]


def test_a_transpose_in_a_reason_renders_in_mathjax_and_in_text():
    out = {fmt: render(derive("mse"), fmt) for fmt in FORMATS}
    assert r"\^{}T" not in out["latex"]
    assert (
        r"\text{gradient descent: w := w - alpha (dJ/dw)}^{T}\text{, a column again}"
        in out["latex"]
    )
    assert "(dJ/dw)ᵀ, a column again" in out["text"]
    assert "(dJ/dw)ᵀ, a column again" in out["markdown"]


def test_a_product_kept_as_written_prints_its_factors():
    from derivreg.symbolic import y, yhat

    factor = sp.Mul(yhat, 1 - yhat, evaluate=False)
    slides = sp.Mul(yhat - y, sp.Pow(factor, -1, evaluate=False), evaluate=False)
    product = sp.Mul(slides, factor, evaluate=False)
    assert text(product) == "(ŷ - y)/(ŷ(1 - ŷ)) · ŷ(1 - ŷ)"
    assert latex(product).endswith(r"\cdot \hat{y} \left(1 - \hat{y}\right)")
    assert text(sp.Mul(-2, y - yhat, evaluate=False)) == "-2·(y - ŷ)"  # a coefficient: as before
