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


# --- the mean loss in row blocks (derivreg/codegen/meanloss.py) -----------------------------


def test_validation_covers_the_blocked_loss_both_ways():
    report = validate(checked_in("bce"), derive("bce"))
    for label in (
        "loss (2 rows in blocks of 1)",
        "loss (3 rows in blocks of 2)",
        "loss (3 rows in blocks of 2, one product)",
        "loss (5 rows in blocks of 3, one product)",
        "loss (weighted)",
    ):
        assert label in report.proven


OWN = "            total += _loss_sums(X[start:stop] @ w, y[start:stop], b)\n"
OWN_LOOP = (
    "        for start in range(rows, m, rows):\n            stop = min(start + rows, m)\n" + OWN
)
ONE = "        total += _loss_sums(Xw[start:stop], y[start:stop], b)\n"
ONE_LOOP = "    for start in range(rows, m, rows):\n        stop = min(start + rows, m)\n" + ONE

#: Wrong blocked losses, each a hand edit of the checked-in kernel the validator must refuse.
LOSS_MUTATIONS = {
    "the last block skipped": ("mse", OWN_LOOP, OWN_LOOP.replace("m, rows)", "m - 1, rows)")),
    "the last block skipped (one product)": (
        "bce",
        ONE_LOOP,
        ONE_LOOP.replace("range(rows, m, rows)", "range(rows, m - 1, rows)"),
    ),
    "the first block's rows counted twice": (
        "mse",
        ONE_LOOP,
        ONE_LOOP.replace("range(rows, m", "range(0, m"),
    ),
    "a block's rows counted twice (its start one block back)": (
        "mse",
        OWN,
        OWN.replace(
            "X[start:stop] @ w, y[start:stop]", "X[start - rows:stop] @ w, y[start - rows:stop]"
        ),
    ),
    "the mean over the block instead of the sum": (
        "mse",
        "total = float(np.sum(J) + 0 * np.sum(z))",
        "total = float(np.mean(J) + 0 * np.sum(z))",
    ),
    "a block's sum replaced, not added": ("mse", ONE, ONE.replace("total +=", "total =")),
    "a block's sum subtracted": ("mse", OWN, OWN.replace("total +=", "total -=")),
    "labels shifted against rows": (
        "mse",
        ONE,
        ONE.replace("y[start:stop]", "y[start - 1:stop - 1]"),
    ),
    "averaged over the block size": (
        "mse",
        "        return total / m\n",
        "        return total / rows\n",
    ),
    "the zero-loss fallback dropped": ("mse", "    total = _nonzero(total, J)\n", ""),
    "the blocks' nan not checked": (
        "mse",
        "J_mean = _checked_loss(_loss(X, y, w, b), _losses, X, y, w, b)",
        "J_mean = _loss(X, y, w, b)",
    ),
    "the weights dropped from the weighted loss": (
        "mse",
        'J_mean = _mean_loss(_fits(J * s, "the weighted J"',
        'J_mean = _mean_loss(_fits(J, "the weighted J"',
    ),
}


@pytest.mark.parametrize("mutation", sorted(LOSS_MUTATIONS))
def test_a_wrong_blocked_loss_fails_validation(mutation):
    name, old, new = LOSS_MUTATIONS[mutation]
    source = checked_in(name)
    assert source.count(old) == 1, "the mutation must apply to one place of the current kernel"
    with pytest.raises(ValidationError, match=name):
        validate(source.replace(old, new, 1), derive(name))


def small_loss_blocks(name, own, monkeypatch):
    """The kernel with 256-row loss blocks: each block's own product, or one product over X."""
    k = KERNELS[name]
    monkeypatch.setattr(k, "LOSS_BLOCK_ROWS", 256)
    monkeypatch.setattr(k, "LOSS_BLOCK_BYTES", 256 * 8 * 4 if own else 8)
    return k


# the hand-written textbook losses below are MSE's and BCE's
@pytest.mark.parametrize("own", [True, False])
@pytest.mark.parametrize("name", ["bce", "mse"])
@pytest.mark.parametrize("m", [1, 255, 256, 257, 1000])
def test_blocked_loss_agrees_with_a_plain_numpy_mean(name, m, own, monkeypatch):
    # Both sum the same m losses (|J| < ~20 here) in different orders: within
    # (m - 1) eps sum |J| < 1e3 * 2.2e-16 * 2e4 / m relative to their mean ~1: 1e-12.
    k = small_loss_blocks(name, own, monkeypatch)
    rng = np.random.default_rng(m)
    X, w = rng.normal(size=(m, 4)), rng.normal(size=4)
    y = (rng.random(m) < 0.5).astype(float) if name == "bce" else rng.normal(size=m)
    z = X @ w + 0.3
    J = np.logaddexp(0, z) - y * z if name == "bce" else (y - z) ** 2
    assert k.loss(X, y, w, 0.3) == pytest.approx(np.mean(J), rel=1e-12)
    if m <= 256:  # one block: the old whole-batch mean, bit for bit
        assert k.loss(X, y, w, 0.3) == float(np.sum(k.losses(X, y, w, 0.3)) / m)


def outcome(f):
    """A call's value, or its error's type and message."""
    try:
        return f()
    except (ValueError, FloatingPointError) as err:
        return type(err).__name__, str(err)


def whole_batch_loss(k, X, y, w, b):
    """The mean loss as ``loss`` took it before its blocks: the checked ``losses``, averaged."""
    from derivreg.kernels._checks import _mean_loss

    return _mean_loss(k.losses(X, y, w, b))


def hard_batches(name):
    """Batches whose later blocks hold what the per-sample path handles: a loss of 0, an
    infinite X, a score past float64, losses whose sum overflows."""
    rng = np.random.default_rng(5)
    m = 700
    X = rng.normal(size=(m, 2))  # w = (0.5, -0.25), b = 0.1 (same_outcomes)
    y = (rng.random(m) < 0.5).astype(float) if name == "bce" else rng.normal(size=m)
    exact = X.copy()
    exact[600] = [0.0, 0.0]  # MSE: z = b = y there, a loss of 0
    y_exact = y.copy()
    y_exact[600] = 0.1 if name == "mse" else y[600]
    infinite = X.copy()
    infinite[650, 1] = np.inf
    far = X.copy()
    far[400] = [1e308, 1e308]  # z past float64: its limit (BCE at y = 0: linear) or an error
    huge = np.full((m, 2), 1e154)
    return [(X, y), (exact, y_exact), (infinite, y), (far, y), (far, np.zeros(m)), (huge, y)]


def same_outcomes(k, name):
    """Assert that ``k.loss`` returns or raises what the whole-batch mean did, on
    :func:`hard_batches`: the same error, or a value within the summation-order bound
    (these m = 700 losses, |J| <= 1e308 each, in two orders: 1e-12 relative is ~5e3 eps)."""
    w = np.array([0.5, -0.25])
    for X, y in hard_batches(name):
        want = outcome(lambda X=X, y=y: whole_batch_loss(k, X, y, w, 0.1))
        got = outcome(lambda X=X, y=y: k.loss(X, y, w, 0.1))
        assert got == (pytest.approx(want, rel=1e-12) if isinstance(want, float) else want)


@pytest.mark.parametrize("own", [True, False])
@pytest.mark.parametrize("name", ["bce", "mse"])
def test_blocked_loss_keeps_the_per_sample_paths_limits_and_errors(name, own, monkeypatch):
    same_outcomes(small_loss_blocks(name, own, monkeypatch), name)


def test_the_per_sample_paths_test_catches_a_loss_that_never_falls_back(monkeypatch):
    # planted: _checked_loss returning the blocks' mean as it is (nan, inf included)
    k = small_loss_blocks("mse", True, monkeypatch)
    monkeypatch.setattr(k, "_checked_loss", lambda mean, *args: mean)
    with pytest.raises(AssertionError):
        same_outcomes(k, "mse")
