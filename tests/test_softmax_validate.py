"""The skeleton validator on the softmax kernels: the checked-in ones pass, every attack is refused.

An attack is a hand edit of the generated source: a hole changed to a
wrong expression (refused by the hole proof) or a change outside the holes
(refused by the skeleton comparison, naming the line).
"""

from pathlib import Path

import pytest

from derivreg.codegen.softmax import generate_softmax, generate_softmax_loop
from derivreg.validate import ValidationError
from derivreg.validate.softmax import validate_softmax, validate_softmax_loop

KERNELS = Path(__file__).resolve().parent.parent / "derivreg" / "kernels"


def test_the_checked_in_kernels_validate():
    report = validate_softmax((KERNELS / "softmax.py").read_text(encoding="utf-8"))
    assert report.ok, report.failures
    assert len(report.proven) == 8
    assert validate_softmax_loop((KERNELS / "softmax_loop.py").read_text(encoding="utf-8")).ok


#: Wrong holes: each is valid Python over the same names, and not the derivation.
HOLE_ATTACKS = {
    "log instead of log1p": ("np.log1p(others)", "np.log(others)"),
    "the shift not subtracted": ("log_yhat = err + s - np.log1p(others)", "log_yhat = err + s"),
    "the residual without the cancellation-free form": (
        "np.where((Y > 0), -wrong, e)/S",
        "(e - Y)/S",
    ),
    "the shift reversed": ("s = Z - m", "s = m - Z"),
    "probabilities not normalised": ("yhat = e/S", "yhat = e"),
    "an unknown name in a hole": ("yhat = e/S", "yhat = e/S2"),
    "the L2 gradient doubled": ("dR_dw = alpha*w", "dR_dw = 2*alpha*w"),
    "the proximal step shrinks past zero": (
        "-np.maximum(0, -t - v) + np.maximum(0, -t + v)",
        "-t*np.sign(v) + v",
    ),
    # err is 0 over the reals: these are refused by the first-order check in err alone
    "the TwoSum correction dropped from exp": ("e = (err + 1)*np.exp(s)", "e = np.exp(s)"),
    "the TwoSum correction doubled": ("e = (err + 1)*np.exp(s)", "e = (2*err + 1)*np.exp(s)"),
    "the TwoSum correction dropped from log-softmax": (
        "log_yhat = err + s - np.log1p(others)",
        "log_yhat = s - np.log1p(others)",
    ),
}


@pytest.mark.parametrize(("old", "new"), HOLE_ATTACKS.values(), ids=HOLE_ATTACKS.keys())
def test_a_wrong_hole_is_refused(old, new):
    source = generate_softmax()
    assert old in source
    report = validate_softmax(source.replace(old, new, 1))
    assert not report.ok


def test_the_correction_may_be_written_another_exact_way():
    # exp(s + err) is the exact value itself: the first-order check accepts it
    source = generate_softmax().replace("e = (err + 1)*np.exp(s)", "e = np.exp(s + err)", 1)
    assert validate_softmax(source).ok


#: Edits outside the holes: the skeleton refuses them with the line.
SKELETON_ATTACKS = {
    "the maximum over the wrong axis": (
        "m = np.max(Z, axis=1, keepdims=True)",
        "m = np.max(Z, axis=0, keepdims=True)",
    ),
    "the loss summed over the samples": (
        "J = -np.sum(np.where(Y > 0, log_yhat, 0.0), axis=1)",
        "J = -np.sum(np.where(Y > 0, log_yhat, 0.0), axis=0)",
    ),
    "the gradient not divided by m": ("dJ_dW / rows + dR_dw", "dJ_dW + dR_dw"),
    "a step-size numerator changed": ("STEP_SIZE_NUMERATOR = 4.0", "STEP_SIZE_NUMERATOR = 8.0"),
    "the one-hot check dropped": ("np.all(Y.sum(axis=1) == 1)", "True"),
    "the weights not applied": ("D = s[block, None] * D", "D = D"),
    "the intercept penalised": ("dJ_db / rows\n", "dJ_db / rows + dR_dw(b, alpha)\n"),
}


@pytest.mark.parametrize(("old", "new"), SKELETON_ATTACKS.values(), ids=SKELETON_ATTACKS.keys())
def test_an_edit_outside_the_holes_is_refused(old, new):
    source = generate_softmax()
    assert old in source
    with pytest.raises(ValidationError, match="line"):
        validate_softmax(source.replace(old, new, 1))


def test_the_loop_kernel_must_be_the_generators():
    source = generate_softmax_loop()
    edits = (
        ("W - rate", "W + rate"),
        ("r[0]", "r[-1]"),
        ("W.copy()", "W"),
        # the penalty once per epoch, not per step: the step's term moved out of the loop
        ("W = W - rate * (x.T @ r) - lr * dR_dw(W, alpha)", "W = W - rate * (x.T @ r)"),
        ("rate = lr * s[i]", "rate = lr"),
    )
    for old, new in edits:
        assert old in source
        with pytest.raises(ValidationError, match="line"):
            validate_softmax_loop(source.replace(old, new, 1))


def test_not_python_and_not_a_string_are_refused():
    with pytest.raises(ValidationError, match="not Python"):
        validate_softmax("def (:")
    with pytest.raises(ValidationError, match="must be a str"):
        validate_softmax(b"x = 1")


# --- derivreg verify runs this validator (proofs/kernels.py) ---------------------------------


def test_verify_validates_the_softmax_kernels():
    from derivreg.proof import load

    names = [t.name for t in load("kernels").THEOREMS]
    assert "kernels.softmax_equals_derivation" in names


def test_verify_fails_on_a_wrong_softmax_kernel(tmp_path, monkeypatch):
    # The planted bug: log in place of log1p in the checked-in softmax.py that verify reads.
    from derivreg import codegen
    from derivreg.proof import ProofError, load

    for name in ("softmax.py", "softmax_loop.py"):
        text = (KERNELS / name).read_text(encoding="utf-8")
        if name == "softmax.py":
            assert "np.log1p(others)" in text
            text = text.replace("np.log1p(others)", "np.log(others)")
        (tmp_path / name).write_text(text, encoding="utf-8")
    monkeypatch.setattr(codegen, "KERNEL_DIR", tmp_path)
    with pytest.raises(ProofError, match=r"softmax\.py: .*not proven equal"):
        load("kernels").SOFTMAX.check()
