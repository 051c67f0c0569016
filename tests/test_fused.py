"""The generated fused batch kernels: proven, refused when edited or racy, and accurate.

``derivreg/kernels/<pair>_fused.py`` runs in CPython as printed and, with
numba installed, compiled by :func:`derivreg.fast.compile_fused`; the
accuracy properties run on each backend available here, with the real
block size and with blocks of 2 rows (so that Hypothesis's small batches
have several blocks, the last one shorter).
"""

import ast
import subprocess
import sys
import types

import numpy as np
import pytest
import sympy as sp
from properties.factory import catches, run
from properties.test_kernels import HIGH_PRECISION

from derivreg import codegen, derive, fast
from derivreg.codegen import ValidationError
from derivreg.kernels import KERNELS
from derivreg.testing._reference import reference
from derivreg.validate import validate_fused
from derivreg.validate.interpreter import Interpreter

HAVE_NUMBA = fast.available("numba")


def checked_in(name: str) -> str:
    return (codegen.KERNEL_DIR / f"{name}_fused.py").read_text(encoding="utf-8")


# --- translation validation -----------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(KERNELS))
def test_checked_in_fused_kernels_are_proven_equal_to_their_derivations(name):
    report = validate_fused(checked_in(name), derive(name))
    assert report.ok
    for label in ("grad output 0", "loss output 0", "update output 5"):
        assert any(p.startswith(label) for p in report.proven)
    assert any("no race" in p for p in report.proven)


ATTACKS = {
    "a race on one shared accumulator row": (
        "out[c, n] += dJ_dz",
        "out[0, n] += dJ_dz",
    ),
    "the last row block skipped": ("for c in prange(k):", "for c in prange(k - 1):"),
    "the last row of each block skipped": (
        "min(c * BLOCK_ROWS + BLOCK_ROWS, m)",
        "min(c * BLOCK_ROWS + BLOCK_ROWS, m) - 1",
    ),
    "a feature left out of z": (
        "for j in range(n):\n        s += X[i, j] * w[j]",
        "for j in range(n - 1):\n        s += X[i, j] * w[j]",
    ),
    "z without the bias": ("z = b + _dot(X, i, w)", "z = _dot(X, i, w)"),
    "mean over the blocks, not the rows": ("dJ_dw[j] = dJ_dw[j] / m", "dJ_dw[j] = dJ_dw[j] / 2"),
    "update sign": ("w[j] - lr * dJ_dw[j]", "w[j] + lr * dJ_dw[j]"),
    "stable branch wrong": ("(1) if (z <= 0) else (t0)", "(1) if (z >= 0) else (t0)"),
}


@pytest.mark.parametrize("attack", sorted(ATTACKS))
def test_an_edited_fused_kernel_is_refused(attack):
    old, new = ATTACKS[attack]
    source = checked_in("bce")
    assert old in source, "the attack must apply to the current module"
    with pytest.raises(ValidationError, match="bce"):
        validate_fused(source.replace(old, new, 1), derive("bce"))


# The race check itself, on code the skeleton would never let through: the
# interpreter must refuse it even where the sequential result is right.
RACES = {
    "a shared scalar": (
        "def f(X):\n    s = 0\n    for c in prange(3):\n        s += X[c]\n    return s\n",
        "a variable shared",
    ),
    "a shared array element": (
        "def f(X):\n    out = np.zeros(1)\n    for c in prange(3):\n"
        "        out[0] += X[c]\n    return out[0]\n",
        "share an array element",
    ),
    "reading another iteration's element": (
        "def f(X):\n    out = np.zeros(3)\n    for c in prange(3):\n"
        "        out[c] = X[c]\n        out[c] += out[2 - c]\n    return out[0]\n",
        "share an array element",
    ),
}


@pytest.mark.parametrize("race", sorted(RACES))
def test_the_interpreter_refuses_races_between_prange_iterations(race):
    source, message = RACES[race]
    X = np.array([sp.Symbol(f"x{i}") for i in range(3)], dtype=object)
    with pytest.raises(ValidationError, match=message):
        Interpreter(ast.parse(source), {}).call("f", [X])


def test_disjoint_prange_iterations_run():
    source = (
        "def f(X):\n    out = np.zeros((3, 1))\n    for c in prange(3):\n"
        "        t = X[c]\n        out[c, 0] += t\n    return out[0, 0] + out[1, 0] + out[2, 0]\n"
    )
    X = np.array([sp.Symbol(f"x{i}") for i in range(3)], dtype=object)
    assert Interpreter(ast.parse(source), {}).call("f", [X]) == sum(X)


def test_the_fused_modules_import_without_numba_or_sympy():
    code = (
        "import sys; sys.modules['numba'] = None; import derivreg.kernels.bce_fused as f, "
        "derivreg.fast as fast; print('sympy' in sys.modules, f.NAME)\n"
        "try:\n    fast.fused('bce')\nexcept ImportError as e:\n    print(e)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.splitlines() == [
        "False bce",
        "the compiled backend needs numba: pip install 'derivreg[fast]'",
    ]


# --- accuracy: the NumPy kernels' 50-digit property, on the fused kernels ---------------------


def module_with(name: str, source: str, block_rows: int) -> types.ModuleType:
    """The fused module from ``source`` with ``BLOCK_ROWS`` set (a test double, never shipped)."""
    module = types.ModuleType(f"fused_{name}")
    exec(compile(source, module.__name__, "exec"), module.__dict__)  # our own checked-in file
    module.BLOCK_ROWS = block_rows
    return module


def as_kernel(name: str, module: types.ModuleType, backend: str) -> types.SimpleNamespace:
    """The property's kernel interface (loss, grad) answered by the fused functions."""
    functions = fast.compile_fused(module) if backend == "numba" else vars(module)
    kernel = KERNELS[name]

    def prepared(X, y, w, b):
        return kernel._check_batch(X, y, w, b, kernel.NAME, kernel._in_domain, kernel.DOMAIN)

    return types.SimpleNamespace(
        NAME=name,
        loss=lambda X, y, w, b: float(functions["loss"](*prepared(X, y, w, b))),
        grad=lambda X, y, w, b: functions["grad"](*prepared(X, y, w, b)),
    )


BACKENDS = [
    "python",
    pytest.param("numba", marks=pytest.mark.skipif(not HAVE_NUMBA, reason="numba not installed")),
]


@pytest.mark.parametrize("block_rows", [2, 4096])
@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("name", sorted(KERNELS))
def test_fused_loss_and_grad_match_mpmath_within_the_numpy_kernels_bounds(
    name, backend, block_rows
):
    kernel = as_kernel(name, module_with(name, checked_in(name), block_rows), backend)
    run(HIGH_PRECISION, kernel, reference(name))


PLANTED = {
    "the last row block skipped": ATTACKS["the last row block skipped"],
    "mean over the blocks, not the rows": ATTACKS["mean over the blocks, not the rows"],
}


@pytest.mark.parametrize("bug", sorted(PLANTED))
@pytest.mark.parametrize("name", sorted(KERNELS))
def test_the_property_catches_a_planted_fused_bug(name, bug):
    old, new = PLANTED[bug]
    source = checked_in(name).replace(old, new, 1)
    assert source != checked_in(name)
    catches(
        HIGH_PRECISION, as_kernel(name, module_with(name, source, 2), "python"), reference(name)
    )


@pytest.mark.skipif(not HAVE_NUMBA, reason="numba not installed")
@pytest.mark.parametrize("name", sorted(KERNELS))
def test_compiled_public_functions_agree_with_the_numpy_kernels_on_a_large_batch(name):
    # 10_001 rows: three blocks of 4096, the last shorter.  Both sum the same
    # terms in different orders: each within sum|terms| * m * eps of the exact
    # sum (the first-order bound of recursive summation), so within twice that.
    kernel = KERNELS[name]
    rng = np.random.default_rng(0)
    X = rng.standard_normal((10_001, 6))
    w, b = rng.standard_normal(6), 0.3
    y = (rng.random(10_001) < 0.5).astype(float) if kernel.TARGETS == "binary" else X @ w
    if kernel.DOMAIN != "(-oo, oo)" and kernel.TARGETS != "binary":  # counts, y > 0
        y = np.abs(y) + 0.1
    eps, m = np.finfo(float).eps, len(y)
    dz = kernel.dJ_dz(X @ w + b, y)
    scale = np.append(np.abs(dz) @ np.abs(X), np.abs(dz).sum()) / m
    got = np.append(*fast.grad(name, X, y, w, b))
    want = np.append(*kernel.grad(X, y, w, b))
    assert np.all(np.abs(got - want) <= 2 * m * eps * scale + 8 * eps * np.abs(want))
    J = kernel.losses(X, y, w, b)
    assert abs(fast.loss(name, X, y, w, b) - kernel.loss(X, y, w, b)) <= 2 * m * eps * J.mean()
    new_w, new_b = fast.update(name, X, y, w, b, 0.1)
    assert np.allclose(new_w, w - 0.1 * got[:-1], rtol=0, atol=4 * eps * np.abs(w).max())
    assert new_b == pytest.approx(b - 0.1 * got[-1], abs=4 * eps)
    with pytest.raises(ValueError, match="NaN"):
        fast.grad(name, np.full((2, 6), np.nan), y[:2], w, b)
