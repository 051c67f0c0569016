"""The validator on the generated second order: wrong kernels refused, and a wrong template too.

Two kinds of wrong code.  Edits of a checked-in module (a curvature of the
wrong sign, a Hessian missing its symmetric half, an HVP that drops the
intercept's row): refused by the hole prover or the skeleton.  A *generator*
printing wrong fixed text (the module then equals the generator's own, so the
skeleton cannot object): refused by the run of the fixed code, which must
compute X~^T diag(d2J/dz2) X~ / m entry by entry and H v.
"""

import functools
from unittest import mock

import pytest

from derivreg import codegen, derive
from derivreg.codegen import hessian as hessian_codegen
from derivreg.codegen import newton as newton_codegen
from derivreg.codegen.templates import CodeBlock
from derivreg.validate import ValidationError, validate
from derivreg.validate import batch as validate_batch


@functools.cache
def derivation(name):
    return derive(name)


def checked_in(name):
    return (codegen.KERNEL_DIR / f"{name}.py").read_text(encoding="utf-8")


BCE_CURVATURE = "d2J_dz2 = np.maximum(t0, (z >= 0))*np.maximum(t0, (z <= 0))/(t0 + 1)**2"

#: name -> (module, old text, new text, what the rejection must say)
EDITS = {
    "a curvature of the wrong sign": (
        "bce",
        BCE_CURVATURE,
        BCE_CURVATURE.replace("= np.maximum", "= -np.maximum", 1),
        r"curvature, line \d+: d2J_dz2 = .* not proven equal to the derivation's",
    ),
    "a Hessian missing the symmetric half": (
        "mse",
        "H = (Xt.T * d2J_dz2) @ Xt",
        "H = np.triu((Xt.T * d2J_dz2) @ Xt)",
        r"_hessian_sums: .*found `np.triu\(",
    ),
    "an HVP that drops the intercept row": (
        "bce",
        "Hv = Xt.T @ (d2J_dz2 * (Xt @ v))",
        "Hv = X.T @ (d2J_dz2 * (Xt @ v))",
        r"_hvp_sums: .*the generator prints `Xt`, found `X`",
    ),
    "a Hessian of the unchecked kernel at w = 0": (
        "mse",
        "H = _hessian(X, y, w, b)",
        "H = _hessian(X, y, 0 * w, b)",
        r"hessian: .*the generator prints `w`, found `0 \* w`",
    ),
}


@pytest.mark.parametrize("edit", sorted(EDITS))
def test_a_wrong_second_order_kernel_is_rejected_with_its_reason(edit):
    module, old, new, reason = EDITS[edit]
    source = checked_in(module)
    assert old in source, "the edit must apply to the current kernel"
    with pytest.raises(ValidationError, match=reason):
        validate(source.replace(old, new, 1), derivation(module))


RIGHT_HESSIAN_LOOP = hessian_codegen._hessian_loop


def wrong_hessian_loop():
    """The block loop with its last block dropped: a generator bug, not an edit."""
    rows, loop = RIGHT_HESSIAN_LOOP()
    lines = [
        line.replace("range(rows, m, rows)", "range(rows, m - rows, rows)") for line in loop.lines
    ]
    return [rows, CodeBlock(loop.comment, lines)]


class WrongTemplate(hessian_codegen._SecondOrder):
    """The Hessian of a generator that forgot the curvature (X~^T X~ / m)."""

    def hessian(self):
        printed = super().hessian()
        return [
            type(p)(p.source.replace("H = (Xt.T * d2J_dz2) @ Xt", "H = Xt.T @ Xt"), p.holes)
            for p in printed
        ]


@pytest.mark.parametrize(
    ("patch", "reason"),
    [
        (
            mock.patch.object(hessian_codegen, "_hessian_loop", wrong_hessian_loop),
            r"hessian\[\d+\] \(\d rows in blocks of \d",
        ),
        (
            mock.patch.object(hessian_codegen, "_SecondOrder", WrongTemplate),
            r"hessian\[0\]: computes .* not ",
        ),
    ],
    ids=["the last block dropped", "the curvature dropped"],
)
def test_a_generator_printing_a_wrong_hessian_is_refused_by_the_run_of_its_fixed_code(
    patch, reason
):
    d = derive("bce")  # a fresh derivation: the validator's cache of printed modules misses
    with patch:
        validate_batch._PRINTED.clear()
        source = codegen.generate(d)
        with pytest.raises(ValidationError, match=reason):
            validate(source, d)
    validate_batch._PRINTED.clear()


# The fused Newton kernel (derivreg/codegen/newton.py): an edit of the checked-in module
# is refused by the skeleton, a generator printing wrong fixed text by the run.
NEWTON_EDITS = {
    "a fused gradient that drops the intercept's entry": (
        "poisson",
        "g = dJ_dz @ Xt",
        "g = dJ_dz @ X",
        r"_newton_sums: .*the generator prints `Xt`, found `X`",
    ),
    "a fused Hessian without the curvature": (
        "gamma",
        "H = (Xt.T * d2J_dz2) @ Xt",
        "H = Xt.T @ Xt",
        r"_newton_sums: .*",
    ),
    "a fused loss that is not averaged": (
        "bce",
        "return value / m, g / m, H / m",
        "return value, g / m, H / m",
        r"_newton_terms: .*",
    ),
}


@pytest.mark.parametrize("edit", sorted(NEWTON_EDITS))
def test_a_wrong_fused_newton_kernel_is_rejected_with_its_reason(edit):
    module, old, new, reason = NEWTON_EDITS[edit]
    head, fused = checked_in(module).split("\ndef newton_terms(")  # edit the fused kernel only
    assert old in fused, "the edit must apply to the current kernel"
    source = head + "\ndef newton_terms(" + fused.replace(old, new, 1)
    with pytest.raises(ValidationError, match=reason):
        validate(source, derivation(module))


def wrong_newton_sums(kernel, second):
    """The fused block sums of a generator that forgot the curvature (X~^T X~)."""
    blocks = RIGHT_NEWTON_SUMS(kernel, second)
    return [
        CodeBlock(
            b.comment,
            [line.replace("(Xt.T * d2J_dz2) @ Xt", "Xt.T @ Xt") for line in b.lines],
            b.holes,
        )
        for b in blocks
    ]


def wrong_newton_loop():
    """The fused block loop without its gradient's later blocks."""
    return [
        CodeBlock(b.comment, [line for line in b.lines if line.strip() != "g += block_g"], b.holes)
        for b in RIGHT_NEWTON_LOOP()
    ]


RIGHT_NEWTON_LOOP = newton_codegen._loop
RIGHT_NEWTON_SUMS = newton_codegen._sums


@pytest.mark.parametrize(
    ("patch", "reason"),
    [
        (mock.patch.object(newton_codegen, "_sums", wrong_newton_sums), r"newton_terms\[\d+\]"),
        (
            mock.patch.object(newton_codegen, "_loop", wrong_newton_loop),
            r"newton_terms\[\d+\] \(\d rows in blocks of \d",
        ),
    ],
    ids=["the curvature dropped", "the gradient's later blocks dropped"],
)
def test_a_generator_printing_a_wrong_fused_newton_kernel_is_refused_by_the_run(patch, reason):
    d = derive("poisson")  # fresh: the validator's cache of printed modules misses
    with patch:
        validate_batch._PRINTED.clear()
        source = codegen.generate(d)
        with pytest.raises(ValidationError, match=reason):
            validate(source, d)
    validate_batch._PRINTED.clear()


# X~ = [X, 1] is filled in place (np.empty, then the two blocks): a generator that fills it
# wrong prints fixed text the skeleton accepts, and the run of that text refuses it.
def _x_tilde_lines(lines):
    def x_tilde(self):
        return CodeBlock("X~ = [X, 1]: the block's rows, and a column of ones for b", lines)

    return x_tilde


WRONG_X_TILDE = {
    "a column of twos for b": (
        ["n = X.shape[1]", "Xt = np.empty((X.shape[0], n + 1))", "Xt[:, :n] = X", "Xt[:, n] = 2"],
        r"hessian\[\d+\]: computes .* not ",
    ),
    "the column for b never written": (
        ["n = X.shape[1]", "Xt = np.empty((X.shape[0], n + 1))", "Xt[:, :n] = X"],
        r"an entry of np.empty is read before it is written",
    ),
    "the rows written one column short": (
        ["n = X.shape[1]", "Xt = np.empty((X.shape[0], n + 1))", "Xt[:, :n - 1] = X",
         "Xt[:, n] = 1"],
        r"shapes differ in Xt\[\.\.\.\]",
    ),
}  # fmt: skip


@pytest.mark.parametrize("wrong", sorted(WRONG_X_TILDE))
def test_a_generator_filling_x_tilde_wrong_is_refused_by_the_run(wrong):
    lines, reason = WRONG_X_TILDE[wrong]
    d = derive("bce")  # fresh: the validator's cache of printed modules misses
    with mock.patch.object(hessian_codegen._SecondOrder, "x_tilde", _x_tilde_lines(lines)):
        validate_batch._PRINTED.clear()
        source = codegen.generate(d)
        with pytest.raises(ValidationError, match=reason):
            validate(source, d)
    validate_batch._PRINTED.clear()


def test_the_right_x_tilde_is_the_generators_and_passes():
    right = hessian_codegen._SecondOrder.x_tilde(None).lines
    assert right == [*WRONG_X_TILDE["a column of twos for b"][0][:3], "Xt[:, n] = 1"]
    d = derive("bce")
    with mock.patch.object(hessian_codegen._SecondOrder, "x_tilde", _x_tilde_lines(right)):
        validate_batch._PRINTED.clear()
        assert validate(codegen.generate(d), d).ok
    validate_batch._PRINTED.clear()
