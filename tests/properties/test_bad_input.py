"""Bad input to the kernels, to training and to the CLI: a clear error, and nothing lost.

One property per kind of bad input and per target (the kernel functions, and
``derivreg.train.train``), each over every registered pair: Hypothesis draws a
valid batch, spoils it in one way at a drawn place, calls a drawn function,
and requires a ValueError whose message names the problem, with the caller's
arrays unchanged.  Convertible integer and object arrays must just work, with
the float64 result.  Planted bugs: a kernel with no input checks, and training
with no input checks.
"""

from __future__ import annotations

import re
import warnings

import numpy as np
import pytest
from hypothesis import strategies as st

from derivreg.cli import main
from derivreg.solvers import ConvergenceWarning
from derivreg.testing._bad_input import (
    KERNEL_CORRUPTIONS,
    Args,
    Corruption,
    _nonfinite,
    check_input,
    column,
    complex_valued,
    empty,
    integers,
    kernel_property,
    outside_unit_interval,
    put,
    python_objects,
    scalar,
    unconvertible,
    wrong_length,
)
from derivreg.testing._bounds import augmented
from derivreg.testing._strategies import batches
from derivreg.train import train
from properties.factory import Property, make_tests, training_with

for _c in KERNEL_CORRUPTIONS:
    _name = "TestKernel" + "".join(w.capitalize() for w in re.findall(r"\w+", _c.name))
    globals()[_name] = make_tests(kernel_property(_c))


# ---------------------------------------------------------------------------
# Training.
# ---------------------------------------------------------------------------
B0_MESSAGE = r"The 'b0' parameter of train must be a finite float\. Got .* instead\."
LR_MESSAGE = r"The 'lr' parameter of train must be a finite float > 0 or a callable schedule"
TRAIN_CORRUPTIONS = (
    _nonfinite("X", "NaN", np.nan),
    _nonfinite("X", "infinity", np.inf),
    _nonfinite("y", "NaN", np.nan),
    _nonfinite("y", "minus infinity", -np.inf),
    Corruption("NaN in w0", put("w", st.just(np.nan)), r"Input w0 contains NaN", "w"),
    Corruption("NaN b0", scalar("b", (np.nan,)), r"\bb0\b.*(NaN|finite)", "b"),
    Corruption("infinite b0", scalar("b", (np.inf, -np.inf)), r"\bb0\b.*finite", "b"),
    Corruption("NaN learning rate", scalar("lr", (np.nan,)), r"\blr\b.*(NaN|finite)", "lr"),
    # issue 17: complex scalars and bools are refused where numbers are meant, by name
    Corruption("complex b0", scalar("b", (0.5j, np.complex128(1.0))), B0_MESSAGE, "b"),
    Corruption("b0 that is no number", scalar("b", (True, None, "abc", np.True_)), B0_MESSAGE, "b"),
    Corruption("complex learning rate", scalar("lr", (0.1j, np.complex128(0.1))), LR_MESSAGE, "lr"),
    Corruption("boolean learning rate", scalar("lr", (True, np.True_)), LR_MESSAGE, "lr"),
    Corruption("learning rate <= 0", scalar("lr", (0.0, -0.1, -1e300, -5e-324)), LR_MESSAGE, "lr"),
    Corruption("empty X", empty, r"0 sample|at least one sample"),
    Corruption("y of another length", wrong_length("y"), r"y must have shape", "y"),
    Corruption("y of shape (m, 1)", column, r"y must have shape", "y"),
    Corruption(
        "labels outside [0, 1]",
        outside_unit_interval,
        r"targets must be 0 or 1",
        "y",
        binary_only=True,
    ),
    Corruption("unconvertible X", unconvertible("X"), r"\bX\b.*convert|convert.*\bX\b"),
    Corruption("unconvertible y", unconvertible("y"), r"\by\b.*convert|convert.*\by\b", "y"),
    Corruption("unconvertible w0", unconvertible("w"), r"\bw0\b.*convert|convert.*\bw0\b", "w"),
    Corruption("complex X", complex_valued, r"X must be real"),
    Corruption("integer arrays", integers, None),
    Corruption("object arrays of floats", python_objects, None),
)


def train_call(kernel, args: Args):
    """One epoch of per-sample SGD at half the MSE step-size bound (which is below
    BCE's): (w, b).  Where X gives no bound (empty, non-finite, not numbers), 1/8."""
    lr = args["lr"] if args.get("lr") is not None else learning_rate(args["X"])
    if kernel.STEP_SIZE_NUMERATOR == 0.0 and args.get("lr") is None:
        # Unbounded curvature: no SGD rate is safe on these data (exp(z) overflows),
        # so the accepted inputs train by full-batch GD, whose line search cannot diverge
        # (two iterations: a ConvergenceWarning is expected and beside the point here).
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            w, b, _ = train(
                args["X"], args["y"], loss=kernel.NAME, w0=args["w"], b0=args["b"],
                solver="gd", max_iter=2,
            )  # fmt: skip
        return w, b
    w, b, _ = train(
        args["X"], args["y"], loss=kernel.NAME, w0=args["w"], b0=args["b"], lr=lr, epochs=1
    )
    return w, b


def learning_rate(X: object) -> float:
    try:
        with np.errstate(all="ignore"), warnings.catch_warnings():
            warnings.simplefilter("ignore")  # complex X: its imaginary part is irrelevant here
            V = augmented(np.asarray(X, dtype=np.float64))
            lr = 0.5 / float(np.max(np.sum(V * V, axis=1)))
    except (TypeError, ValueError):
        lr = 0.125
    return lr if 0 < lr < np.inf else 0.125


@st.composite
def spoiled_train_calls(draw, ref, corruption: Corruption):
    batch = draw(batches(ref, max_m=4, max_n=3, hard=True))
    return corruption.corrupt(draw, ref, {**batch._asdict(), "lr": None})


def train_property(corruption: Corruption) -> Property:
    def check(kernel, ref, args) -> None:
        with training_with(kernel, ref.name):
            check_input(kernel, corruption, train_call, args)

    works = corruption.message is None
    return Property(
        f"training {'accepts' if works else 'rejects'} {corruption.name}",
        strategy=lambda ref: spoiled_train_calls(ref, corruption),
        check=check,
        catches=("training converts without checking",),
        applies=lambda ref: ref.targets == "binary" or not corruption.binary_only,
    )


for _c in TRAIN_CORRUPTIONS:
    _name = "TestTrain" + "".join(w.capitalize() for w in re.findall(r"\w+", _c.name))
    globals()[_name] = make_tests(train_property(_c))


# ---------------------------------------------------------------------------
# The command line: only numbers come in; bad ones exit 2 with one line, write nothing.
# ---------------------------------------------------------------------------
CLI_CASES = {
    "NaN learning rate": (["train", "linear", "--lr", "nan"], "--lr"),
    "infinite learning rate": (["train", "linear", "--lr", "inf"], "--lr"),
    "zero learning rate": (["train", "logistic", "--lr", "0"], "--lr"),
    "non-numeric learning rate": (["train", "linear", "--lr", "fast"], "--lr"),
    "no samples (empty X)": (["train", "linear", "--samples", "0"], "--samples"),
    "no features": (["train", "logistic", "--features", "0"], "--features"),
    "NaN noise": (["train", "linear", "--noise", "nan"], "--noise"),
    "negative noise": (["train", "linear", "--noise", "-1"], "--noise"),
    "zero epochs": (["train", "linear", "--epochs", "0"], "--epochs"),
    "zero batch size": (["train", "linear", "--batch-size", "0"], "--batch-size"),
    "non-integer seed": (["train", "linear", "--seed", "1.5"], "--seed"),
    "labels for a linear model": (["train", "linear", "--labels", "bernoulli"], "--labels"),
    "noise for a logistic model": (["train", "logistic", "--noise", "0.5"], "--noise"),
    "a diverging learning rate": (["train", "linear", "--lr", "100", "--epochs", "3"], "diverged"),
}


@pytest.mark.parametrize("case", sorted(CLI_CASES))
def test_cli_rejects_bad_numbers_with_one_line_and_writes_nothing(case, tmp_path, capsys):
    argv, needle = CLI_CASES[case]
    out = tmp_path / "figures"
    with pytest.raises(SystemExit) as exit_info:
        main([*argv, "--out", str(out)])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1, err
    assert err.startswith("derivreg"), err
    assert needle in err, err
    assert not out.exists()
