"""The row-blocked gradient and the unchecked kernels: validated, caught when edited, and exact.

tests/test_codegen.py covers the kernels as a whole; this file covers what the
performance work added to the generator: the block loop of ``_grad`` (and the
interpreter constructs that validate it: ``if`` on sizes, ``for`` over
``range``, slices, ``+=``), the coverage rule (no statement of a generated
function escapes validation), and the unchecked ``_grad``/``_update``/``_losses``.
"""

import numpy as np
import pytest

from derivreg import codegen, derive
from derivreg.codegen import ValidationError, validate
from derivreg.kernels import KERNELS


def checked_in(name):
    return (codegen.KERNEL_DIR / f"{name}.py").read_text(encoding="utf-8")


def test_validation_covers_the_block_loop_with_full_and_partial_blocks():
    report = validate(checked_in("mse"), derive("mse"))
    for label in (
        "grad[0] (2 rows in blocks of 1)",
        "grad[3] (3 rows in blocks of 1)",
        "grad[3] (3 rows in blocks of 2)",
        "update[3] (3 rows in blocks of 2)",
    ):
        assert label in report.proven


LOOP = "        for start in range(rows, m, rows):\n"
BLOCK = "            block = _grad_sums(X[start:stop], y[start:stop], w, b)\n"

# Each kernel prints the same loop; MSE validates in a second, BCE in several,
# so the loop's mutations run on MSE and one on BCE.
BLOCK_MUTATIONS = {
    "off-by-one block end": (
        "mse",
        "stop = min(start + rows, m)",
        "stop = min(start + rows - 1, m)",
    ),
    "off-by-one block end, other way": (
        "bce",
        "stop = min(start + rows, m)",
        "stop = min(start + rows + 1, m)",
    ),
    "last block skipped": ("mse", LOOP, LOOP.replace("m, rows)", "m - 1, rows)")),
    "first block counted twice": ("mse", LOOP, LOOP.replace("range(rows, m", "range(0, m")),
    "labels shifted against rows": ("mse", BLOCK, BLOCK.replace("y[start:stop]", "y[start:]")),
    "a block's sum replaced, not added": ("mse", "dJ_dw += block_dw", "dJ_dw = block_dw"),
    "bias sum subtracted": ("mse", "dJ_db += block_db", "dJ_db -= block_db"),
    "averaged over the block size": (
        "mse",
        "return dJ_dw / m, dJ_db / m",
        "return dJ_dw / rows, dJ_db / m",
    ),
    "block sums averaged": (
        "mse",
        "dJ_db = float(np.sum(dJ_dz) + 0 * np.sum(z))",
        "dJ_db = float(np.mean(dJ_dz) + 0 * np.sum(z))",
    ),
}


@pytest.mark.parametrize("mutation", sorted(BLOCK_MUTATIONS))
def test_a_hand_edit_of_the_block_loop_fails_validation(mutation):
    name, old, new = BLOCK_MUTATIONS[mutation]
    source = checked_in(name)
    assert old in source, "the mutation must apply to the current kernel"
    with pytest.raises(ValidationError, match=name):
        validate(source.replace(old, new, 1), derive(name))


def test_code_that_no_validation_run_reaches_fails_validation():
    # A branch that never runs on the symbolic batches is not proven: refuse it.
    old = "    if m > rows:\n"
    dead = "    if m > 10 ** 9:\n        return 0 * w, 0.0\n" + old
    source = checked_in("mse").replace(old, dead, 1)
    with pytest.raises(ValidationError, match=r"line \d+: _grad: .* an extra `if m > 10 \*\* 9:`"):
        validate(source, derive("mse"))


def test_the_coverage_rule_reports_code_and_branches_no_run_reached():
    # The fixed code is the generator's; its runs must still reach every statement
    # and both sides of every ``if`` (here, a run with m = 1 only).
    import ast

    import sympy as sp

    from derivreg.validate.interpreter import Interpreter

    tree = ast.parse("def f(m):\n    if m > 3:\n        return 0 * m\n    return m")
    interp = Interpreter(tree, {})
    assert interp.call("f", [1]) == 1
    assert set(interp.unreached()) == {
        "f, line 3: return 0 * m",
        "f, line 2: branch True of `if m > 3`",
    }
    interp.call("f", [sp.Integer(5)])
    assert interp.unreached() == []
    # and each argument of a min or max on sizes must be the one chosen in some run
    tree = ast.parse("def g(m):\n    return min(m, 3)")
    interp = Interpreter(tree, {})
    assert interp.call("g", [2]) == 2
    assert interp.call("g", [3]) == 3  # a tie: says nothing
    assert interp.unreached() == ["g, line 2: argument 2 of `min(m, 3)` never chosen"]
    assert interp.call("g", [4]) == 3
    assert interp.unreached() == []


def test_a_branch_on_a_value_rather_than_a_size_is_rejected():
    source = checked_in("mse").replace("    if m > rows:\n", "    if b > 0:\n", 1)
    with pytest.raises(ValidationError, match="the generator prints `m`, found `b` in `if b > 0:`"):
        validate(source, derive("mse"))


def test_loops_other_than_range_are_rejected():
    source = checked_in("mse").replace("in range(rows, m, rows)", "in [rows]", 1)
    with pytest.raises(ValidationError, match=r"prints `range\(rows, m, rows\)`, found `\[rows\]`"):
        validate(source, derive("mse"))


# --- the blocked kernel computes the same numbers -------------------------------------------


# the hand-written textbook gradients below are MSE's and BCE's
@pytest.mark.parametrize("name", ["bce", "mse"])
@pytest.mark.parametrize("m", [1, 255, 256, 257, 1000])
def test_blocked_grad_agrees_with_a_plain_numpy_gradient(name, m, monkeypatch):
    # Blocks of 256 rows (4 features x 8 bytes x 256 = 8 KiB) so that small
    # batches cross block boundaries; the reference is the textbook gradient.
    # Both sum the same m products in different orders: the difference is a
    # few rounding errors of sums of |terms| <= ~10, far below 1e-12.
    k = KERNELS[name]
    monkeypatch.setattr(k, "BLOCK_BYTES", 8 * 4 * 256)
    rng = np.random.default_rng(m)
    X = rng.normal(size=(m, 4))
    w = rng.normal(size=4)
    y = (rng.random(m) < 0.5).astype(float) if name == "bce" else rng.normal(size=m)
    z = X @ w + 0.3
    residual = 1 / (1 + np.exp(-z)) - y if name == "bce" else 2 * (z - y)
    dw, db = k.grad(X, y, w, 0.3)
    np.testing.assert_allclose(dw, residual @ X / m, rtol=1e-12, atol=1e-12)
    assert db == pytest.approx(residual.mean(), rel=1e-12, abs=1e-12)


@pytest.mark.parametrize("name", sorted(KERNELS))
def test_unchecked_kernels_equal_the_checked_ones_and_leave_inputs_alone(name):
    k = KERNELS[name]
    rng = np.random.default_rng(1)
    X, w = rng.normal(size=(5, 3)), rng.normal(size=3)
    y = np.array([0.5, 1.0, 1.0, 0.5, 1.0])  # in every pair's domain
    saved = X.copy(), y.copy(), w.copy()
    np.testing.assert_array_equal(k._losses(X, y, w, 0.5), k.losses(X, y, w, 0.5))
    assert k._grad(X, y, w, 0.5)[1] == k.grad(X, y, w, 0.5)[1]
    new_w, new_b = k._update(X, y, w, 0.5, 0.1)
    np.testing.assert_array_equal(new_w, k.update(X, y, w, 0.5, 0.1)[0])
    assert isinstance(new_b, float)
    for a, c in zip((X, y, w), saved, strict=True):
        np.testing.assert_array_equal(a, c)


def test_large_batch_grad_has_no_m_by_n_temporary():
    # The blocked path allocates O(block) memory: tracemalloc sees NumPy's
    # allocations.  A 20000 x 50 batch is 8 MB; one block is 1 MiB of X, so
    # its temporaries are ~2.6k rows x 8 B each, far below an m x n array.
    import tracemalloc

    k = KERNELS["bce"]
    rng = np.random.default_rng(2)
    X = rng.normal(size=(20000, 50))
    y = (rng.random(20000) < 0.5).astype(float)
    w = rng.normal(size=50) / 10
    tracemalloc.start()
    try:
        k.grad(X, y, w, 0.0)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < X.nbytes / 10
