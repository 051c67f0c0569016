"""Properties of the generated kernels, each stated once and run over every registered pair.

Issue 5, properties 1-4, 5 (the single-step part), 9 (kernel part) and 10.  The
properties live in :mod:`derivreg.testing` (:func:`derivreg.testing.check_kernels`
runs the same ones on a module of one's own); here each becomes a ``Test*``
class with ``test_holds[pair]`` and ``test_catches[pair-bug]`` (see
:mod:`properties.factory`); the planted bugs are in :mod:`properties.planted`.
"""

from __future__ import annotations

import functools
import importlib
import types

import numpy as np
from test_codegen import MAX_ULP

from derivreg import codegen, testing
from derivreg.kernels import KERNELS
from derivreg.symbolic import REGISTRY, derive
from derivreg.testing._accuracy import (
    CHAIN_PRODUCT,
    CLAIMS,
    FINITE_DIFFERENCES,
    GRAD_IS_MEAN,
    HIGH_PRECISION,
    STABILITY,
)
from derivreg.testing._invariants import (
    CONTRACTION,
    INPUTS_UNTOUCHED,
    PERMUTATION,
    SAME_AS_GENERATED,
    TIGHTNESS,
    batches_and_rates,
)
from derivreg.testing._reference import Batch
from properties.factory import Property, make_tests

TestFiniteDifferences = make_tests(FINITE_DIFFERENCES)
TestHighPrecision = make_tests(HIGH_PRECISION)
TestChainProduct = make_tests(CHAIN_PRODUCT)
TestClaims = make_tests(CLAIMS)
TestGradIsMean = make_tests(GRAD_IS_MEAN)
TestStability = make_tests(STABILITY)
TestContraction = make_tests(CONTRACTION)
TestTightness = make_tests(TIGHTNESS)
TestPermutation = make_tests(PERMUTATION)
TestInputsUntouched = make_tests(INPUTS_UNTOUCHED)
TestSameAsGenerated = make_tests(SAME_AS_GENERATED)


def test_the_stability_bound_is_the_code_generators_measured_one():
    assert testing._reference.MAX_ULP == MAX_ULP


# ---------------------------------------------------------------------------
# 10. Generated code.  `derivreg generate --check` and translation validation of
# every kernel are tests/test_codegen.py (test_checked_in_kernels_equal_a_fresh_generation,
# test_generate_check_cli_reports_a_stale_kernel, and
# test_checked_in_kernels_are_proven_equal_to_their_derivations, parametrized over the
# registry).  Here: every registered pair has a kernel, and the checked-in module
# computes bit for bit what a fresh generation computes.
# ---------------------------------------------------------------------------
def test_every_registered_pair_has_a_generated_kernel():
    assert sorted(KERNELS) == sorted(REGISTRY)
    for name in REGISTRY:
        assert name == KERNELS[name].NAME


@functools.cache
def generated_loop(name: str):
    """``sgd_epoch`` printed now by codegen.generate_loop (the source is the generator's)."""
    module = types.ModuleType(f"fresh_{name}_loop")
    source = codegen.generate_loop(derive(name))
    exec(compile(source, f"<generate_loop {name}>", "exec"), module.__dict__)
    return module.sgd_epoch


def run_loop(loop, batch: Batch, lr: float) -> list[object]:
    """One per-sample epoch of ``loop`` on flat lists, recording every step."""
    X, labels, w, b = batch
    m, n = X.shape
    weights, J, Z = w.tolist(), [0.0] * m, [0.0] * m
    w_track, b_track = [0.0] * (m * n), [0.0] * m
    # one rate, weight 1, no penalty, b fitted (the loop's other modes: test_loop_settings)
    plain = ([lr], 0, [1.0], 0, 0.0, 0.0, 0, 1)
    args = (X.ravel().tolist(), labels.tolist(), weights, float(b), *plain, J, Z, 1, 0)
    try:
        final = loop(*args, w_track, b_track)
    except OverflowError as err:  # math.exp past 709.78 (an exp activation): an outcome too
        final = f"OverflowError: {err}"
    return [weights, final, J, Z, w_track, b_track]


def check_loop_same_as_generated(kernel, ref, case) -> None:
    """The per-sample loop training runs (the checked-in derivreg/kernels/<pair>_loop.py,
    or a planted kernel's) computes exactly what codegen.generate_loop prints now."""
    batch, lr = case
    loop = getattr(kernel, "loop", None)
    if loop is None:
        loop = importlib.import_module(f"derivreg.kernels.{ref.name}_loop").sgd_epoch
    mine, fresh = run_loop(loop, batch, lr), run_loop(generated_loop(ref.name), batch, lr)
    for i, (a, b) in enumerate(zip(mine, fresh, strict=True)):
        same = a == b if isinstance(a, str) else np.array_equal(a, b, equal_nan=True)
        assert same, f"output {i}: {a} != {b}"


LOOP_SAME_AS_GENERATED = Property(
    "the checked-in per-sample loop computes what a fresh generation computes",
    strategy=batches_and_rates,
    check=check_loop_same_as_generated,
    catches=("sign flipped in grad", "factor 2 dropped"),
)
TestLoopSameAsGenerated = make_tests(LOOP_SAME_AS_GENERATED)
