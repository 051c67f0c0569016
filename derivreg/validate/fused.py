"""Validate generated fused batch kernels (``derivreg/kernels/<pair>_fused.py``).

The same steps as :func:`~derivreg.validate.loop.validate_loop`: the
skeleton (node for node the generator's, outside the printed ``dJ_dz`` and
``J_i``), the holes (on one row's floats, ``math``'s real-domain semantics),
then runs of the fixed code with the holes opaque, on symbolic batches whose
row count is and is not a multiple of the block (a last, shorter block),
with one and with four features past a multiple of four (the partial sums of
z), against the derivation's mean loss, gradient and update.  The ``prange``
loops run under the interpreter's race check: iterations that share an
array element one of them writes, or assign a variable from outside the
loop, are refused.

Examples
--------
>>> from derivreg import derive
>>> from derivreg.codegen.fused import generate_fused
>>> validate_fused(generate_fused(derive("mse")), derive("mse")).ok
True
"""

from __future__ import annotations

import ast
from collections.abc import Mapping

import numpy as np
import sympy as sp

from derivreg.codegen.fused import generate_fused_module
from derivreg.codegen.templates import Hole
from derivreg.symbolic import Derivation
from derivreg.validate.batch import alpha, lemmas, parse, symbols
from derivreg.validate.holes import prove_holes
from derivreg.validate.interpreter import Interpreter, opaque
from derivreg.validate.report import ValidationError, ValidationReport
from derivreg.validate.skeleton import compare, mark

__all__ = ["validate_fused"]

#: (rows m, features n, rows per block): 3 blocks, the last of 1 row; one
#: feature (no group of four); one row; blocks that divide the rows exactly;
#: then blocks past GROUP_ROWS (4) rows, so that the gradient's groups run:
#: blocks of a group and one row (the last block a single row), and of two
#: groups exactly.
RUNS = ((5, 6, 2), (4, 1, 2), (1, 6, 2), (4, 5, 2), (11, 3, 5), (8, 2, 8))


def _reference(
    holes: Mapping[str, Hole], X: np.ndarray, Y: np.ndarray, W: np.ndarray, B: sp.Basic
) -> dict[str, list[object]]:
    """Return the derivation's mean loss, gradient and update on the batch, holes opaque."""
    m, n = X.shape
    z = [B + sum(X[i, j] * W[j] for j in range(n)) for i in range(m)]
    # a hole of scalar inputs is one opaque SymPy expression (opaque: elementwise on arrays)
    dz: list[sp.Expr] = [opaque(holes["dJ_dz"], [z[i], Y[i]]) for i in range(m)]
    grad_w = [sum(dz[i] * X[i, j] for i in range(m)) / m for j in range(n)]
    grad_b = sum(dz) / m
    J: list[sp.Expr] = [opaque(holes["J_i"], [z[i], Y[i]]) for i in range(m)]
    return {
        "grad": [*grad_w, grad_b],
        "loss": [sum(J) / m],
        "losses": J,
        "update": [*(W[j] - alpha * grad_w[j] for j in range(n)), B - alpha * grad_b],
    }


def _flat(value: object) -> list[object]:
    if isinstance(value, tuple):
        return [v for part in value for v in _flat(part)]
    if isinstance(value, np.ndarray):
        return list(value.ravel())
    return [value]


def _template(tree: ast.Module, holes: Mapping[int, Hole], report: ValidationReport) -> None:
    executed: set[int] = set()
    branches: set[tuple[int, object]] = set()
    by_target = {h.target: h for h in holes.values() if h.stable is not None}
    interps = []
    for m, n, rows in RUNS:
        interp = Interpreter(tree, holes, {"BLOCK_ROWS": rows}, executed, branches)
        interps.append(interp)
        X, Y, W, B = symbols(m, n)
        want = _reference(by_target, X, Y, W, B)
        run = f"({m} rows of {n} features, blocks of {rows})"
        calls = (("grad", [B]), ("loss", [B]), ("losses", [B]), ("update", [B, alpha]))
        for name, args in calls:
            Xc, Yc, Wc = X.copy(), Y.copy(), W.copy()
            try:
                got = _flat(interp.call(name, [Xc, Yc, Wc, *args]))
            except ValidationError as err:
                report.failures.append(f"{name} {run}: {err}")
                continue
            if not (all(Xc.ravel() == X.ravel()) and all(Yc == Y) and all(Wc == W)):
                report.failures.append(f"{name} {run}: writes into X, Y or w")
            if len(got) != len(want[name]):
                report.failures.append(f"{name} {run}: {len(got)} outputs, not {len(want[name])}")
                continue
            for k, (have, wanted) in enumerate(zip(got, want[name], strict=True)):
                diff = have - wanted if isinstance(have, sp.Basic) else None
                if diff is not None and (diff == 0 or sp.expand(diff) == 0):
                    report.proven.append(f"{name} output {k} {run}")
                else:
                    report.failures.append(f"{name} output {k} {run}: {have}, not {wanted}")
    report.proven.append("fused: every row once, each block's sums its own (no race)")
    report.failures += [f"never validated: {s}" for s in interps[0].unreached()]


def validate_fused(source: str, derivation: Derivation) -> ValidationReport:
    """Prove that generated fused kernels compute the derivation's loss, gradient and update.

    Raises
    ------
    ValidationError
        If anything outside the printed ``dJ_dz`` and ``J_i`` differs from
        the generator's module, those are not proven equal to the derivation,
        a ``prange`` loop races, or a run misses a row or a block.

    Examples
    --------
    >>> from derivreg import derive
    >>> from derivreg.codegen.fused import generate_fused
    >>> report = validate_fused(generate_fused(derive("bce")), derive("bce"))
    >>> "grad output 0 (5 rows of 6 features, blocks of 2)" in report.proven
    True
    """
    d = derivation
    tree = parse(source, d.name)
    module = generate_fused_module(d)
    reference = ast.parse(module.source)
    try:
        found = compare(tree, reference, mark(reference, module.holes))
    except ValidationError as err:
        raise ValidationError(
            f"{d.name}: differs from the generator's fused kernels: {err}"
        ) from None
    report = ValidationReport(d.name, proven=["skeleton"])
    prove_holes(found, report, d.pair.targets, loop=True)
    lemmas(d, report)
    if report.ok:
        try:
            _template(tree, {id(node): hole for node, hole in found}, report)
        except Exception as err:  # any error of a run is a rejection, not a crash
            report.failures.append(f"the fused kernels: {type(err).__name__}: {err}")
    return report.raise_if_failed("generated fused kernels")
