"""The validator on the sparse constructs: the CSR loop and the checks' sparse helpers.

``sgd_epoch_csr`` (``derivreg/kernels/<pair>_loop.py``) is compared with the
generator's statement by statement and run on symbolic stored entries; the
checks import four names from :mod:`derivreg._sparse`, and the run-time gate
lets through exactly those.  Each test here is an attack that must be refused.
"""

from __future__ import annotations

from unittest import mock

import numpy as np
import pytest
import scipy.sparse

from derivreg import codegen, derive, fast
from derivreg.codegen import loop as loop_codegen
from derivreg.codegen.runtime import gate
from derivreg.kernels import KERNELS
from derivreg.validate import ValidationError, validate_checks, validate_loop
from derivreg.validate import batch as validate_batch

NAMES = sorted(KERNELS)

FORWARD = "    for p in range(indptr[i], indptr[i + 1]):\n            z +="

#: Edits of a checked-in CSR loop, and the reason the validator gives.
CSR_ATTACKS = {
    "drops each row's last stored entry": (
        FORWARD,
        FORWARD.replace("indptr[i + 1])", "indptr[i + 1] - 1)"),
        r"sgd_epoch_csr: the arguments differ: the generator prints `indptr\[i \+ 1\]`",
    ),
    "steps the p-th weight, not the column's": (
        "w[indices[p]] -= step * data[p]",
        "w[p] -= step * data[p]",
        r"sgd_epoch_csr: the index differs: the generator prints `indices\[p\]`, found `p`",
    ),
    "reads the row pointers as column indices": (
        "z += data[p] * w[indices[p]]",
        "z += data[p] * w[indptr[p]]",
        r"sgd_epoch_csr: the names differ: the generator prints `indices`, found `indptr`",
    ),
}


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("attack", sorted(CSR_ATTACKS))
def test_an_edited_csr_loop_is_rejected(name, attack):
    old, new, reason = CSR_ATTACKS[attack]
    source = (codegen.KERNEL_DIR / f"{name}_loop.py").read_text(encoding="utf-8")
    assert old in source, "the attack must apply to the current loop"
    with pytest.raises(ValidationError, match=reason):
        validate_loop(source.replace(old, new, 1), derive(name))


#: Wrong CSR loops printed by a wrong *generator*: the skeleton then agrees, and only
#: the symbolic runs on the stored-entry pattern can refuse them.
GENERATOR_BUGS = {
    "forward pass one entry short": (
        "_BEFORE_CSR",
        "    for p in range(indptr[i], indptr[i + 1]):",
        "    for p in range(indptr[i], indptr[i + 1] - 1):",
    ),
    "step on the p-th weight": ("_STEP_CSR", "w[indices[p]]", "w[p]"),
    "step on the whole row's span": ("_STEP_CSR", "range(indptr[i], ", "range(0, "),
}


@pytest.mark.parametrize("bug", sorted(GENERATOR_BUGS))
def test_the_csr_runs_refuse_a_wrong_generator(bug):
    attr, old, new = GENERATOR_BUGS[bug]
    lines = tuple(line.replace(old, new) for line in getattr(loop_codegen, attr))
    assert lines != getattr(loop_codegen, attr)
    d = derive("mse")
    with mock.patch.object(loop_codegen, attr, lines), mock.patch.dict(validate_batch._PRINTED):
        validate_batch._PRINTED.clear()
        wrong = loop_codegen.generate_loop(d)
        with pytest.raises(ValidationError, match=r"sgd_epoch_csr (w|b|J)"):
            validate_loop(wrong, d)


def test_the_checks_sparse_import_is_pinned():
    source = (codegen.KERNEL_DIR / "_checks.py").read_text(encoding="utf-8")
    line = (
        "from derivreg._sparse import abs_max, as_csr, column_sums, issparse, ldexp_along, "
        "row, row_bytes, scaled_column_sums, stored"
    )
    assert line in source
    for edit in (
        "from derivreg._sparse import abs_max, as_csr, column_sums, issparse, ldexp_along, "
        "row, row_bytes, scaled_column_sums, stored, sys",
        "from derivreg._sparse import abs_max, as_csr, column_sums, issparse, ldexp_along, "
        "row, row_bytes, scaled_column_sums, stored as issparse",
        "from derivreg.train import as_csr, issparse, stored",
    ):
        with pytest.raises(ValidationError):
            validate_checks(source.replace(line, edit, 1))


@pytest.mark.parametrize(
    "source",
    [
        "from derivreg._sparse import sys",
        "from derivreg._sparse import np",
        "from derivreg._sparse import issparse as float",
        "from derivreg._sparse import *",
        "from derivreg import _sparse",
        "from ._sparse import issparse",
        "import derivreg._sparse",
    ],
)
def test_the_gate_lets_through_only_the_sparse_helpers_names(source):
    with pytest.raises(ValueError, match="may not"):
        gate(source)


def test_the_gate_accepts_the_checks_import():
    gate(
        "from derivreg._sparse import abs_max, as_csr, column_sums, issparse, ldexp_along, "
        "row, row_bytes, scaled_column_sums, stored"
    )


@pytest.mark.parametrize("name", NAMES)
def test_a_runtime_compiled_kernel_takes_sparse_x(name):
    module = codegen.compile(derive(name))
    D = np.array([[0.0, 1.5], [2.0, 0.0], [0.0, 0.0]])
    y, w = np.array([0.5, 1.0, 1.0]), np.array([0.3, -0.2])  # labels in every domain
    for X in (scipy.sparse.csr_matrix(D), scipy.sparse.csc_array(D)):
        np.testing.assert_allclose(module.grad(X, y, w, 0.1)[0], module.grad(D, y, w, 0.1)[0])


@pytest.mark.skipif(not fast.available("numba"), reason="numba not installed")
@pytest.mark.parametrize("name", NAMES)
def test_numba_runs_the_csr_loop_as_cpython_does(name):
    rng = np.random.default_rng(5)
    X = scipy.sparse.random(40, 6, density=0.3, format="csr", random_state=2)
    y = (rng.random(40) > 0.5).astype(float)
    w = rng.normal(size=6)
    a = fast.epoch(name, X, y, w, 0.1, 0.05, 3, 1, "python")
    b = fast.epoch(name, X, y, w, 0.1, 0.05, 3, 1, "numba")
    d = fast.epoch(name, X.toarray(), y, w, 0.1, 0.05, 3, 1, "numba")
    for u, v, t in zip(a, b, d, strict=True):
        np.testing.assert_array_equal(u, v)
        # sorted indices: the same terms in the same order, zeros left out exactly
        np.testing.assert_array_equal(u, t)
