"""Validate a generated per-sample loop (``derivreg/kernels/<pair>_loop.py``).

The same steps as :func:`~derivreg.validate.batch.validate`: the skeleton,
the holes (``J_i`` and ``dJ_dz``, on one sample's floats, with ``math``'s
real-domain semantics), the derivation's update rules, and runs of the fixed
loop with the holes opaque: m = 5 samples of n = 4 features, recording the
History every 1, 2 and 3 updates from several offsets, against the
derivation's updates applied one sample at a time, in order.  The CSR loop
``sgd_epoch_csr`` is run the same way on symbolic stored entries in a fixed
pattern (unsorted columns, an empty row, a duplicate entry, a full row),
against the same updates on the dense X those entries make.

Examples
--------
>>> from derivreg import derive
>>> from derivreg.codegen import generate_loop
>>> validate_loop(generate_loop(derive("mse")), derive("mse")).ok
True
"""

from __future__ import annotations

import ast
from collections.abc import Mapping

import numpy as np
import sympy as sp

from derivreg.codegen.templates import Hole
from derivreg.symbolic import Derivation
from derivreg.validate.batch import alpha, lemmas, parse, printed, symbols
from derivreg.validate.holes import prove_holes
from derivreg.validate.interpreter import Interpreter, opaque
from derivreg.validate.report import ValidationError, ValidationReport
from derivreg.validate.skeleton import compare, mark

__all__ = ["validate_loop"]

#: Samples and features of the runs (m >= 4, n >= 4), and the History schedules.
M, N = 5, 4
SCHEDULES = ((1, 0), (2, 1), (3, 0), (2, 0))

#: The CSR loop's runs: the stored columns of each row (M rows of N columns),
#: with unsorted columns, an empty row, a duplicate entry and a full row; and
#: one sample with two stored entries out of N.
PATTERN = ((2, 0), (), (1, 3, 1), (0, 1, 2, 3), (3,))
PATTERN_ONE = ((3, 1),)


def _reference(  # noqa: PLR0917
    holes: Mapping[str, Hole], X: np.ndarray, Y: np.ndarray, W: np.ndarray, B: sp.Basic,
    every: int, first: int,
) -> list[object]:  # fmt: skip
    """Apply the derivation's per-sample updates in order, holes opaque: what the loop must do."""
    m, n = X.shape
    w, b = list(W), B
    J, w_track, b_track = [], [], []
    for i in range(m):
        if i % every == first:
            w_track += w
            b_track.append(b)
        z = b + sum(X[i, j] * w[j] for j in range(n))
        J.append(opaque(holes["J_i"], [z, Y[i]]))
        step = alpha * opaque(holes["dJ_dz"], [z, Y[i]])
        w = [w[j] - step * X[i, j] for j in range(n)]
        b = b - step
    return [*w, b, *J, *w_track, *b_track]


def _run(  # noqa: PLR0917
    interp: Interpreter, X: np.ndarray, Y: np.ndarray, W: np.ndarray, B: sp.Basic,
         every: int, first: int) -> tuple[list[object], bool]:  # fmt: skip
    m, n = X.shape
    k = len(range(first, m, every))
    J = np.full(m, None, dtype=object)
    w = W.copy()
    w_track, b_track = np.full(k * n, None, dtype=object), np.full(k, None, dtype=object)
    flat, labels = X.ravel(), Y.copy()
    b = interp.call("sgd_epoch", [flat, labels, w, B, alpha, J, every, first, w_track, b_track])
    untouched = all(flat == X.ravel()) and all(labels == Y)
    return [*w, b, *J, *w_track, *b_track], untouched


def _csr(pattern: tuple[tuple[int, ...], ...], n: int) -> tuple[np.ndarray, list, list, np.ndarray]:
    """Return a symbolic CSR X of the pattern: (data, indices, indptr) and X as a dense array.

    Entry p of ``data`` is the symbol ``d_p``; X[i, j] is the sum of the
    symbols row i stores in column j (0 if none).
    """
    data, indices, indptr = [], [], [0]
    X = np.full((len(pattern), n), sp.Integer(0), dtype=object)
    for i, columns in enumerate(pattern):
        for j in columns:
            value = sp.Symbol(f"d_{len(data)}", real=True)
            data.append(value)
            indices.append(j)
            X[i, j] += value
        indptr.append(len(data))
    return np.array(data, dtype=object), indices, indptr, X


def _run_csr(  # noqa: PLR0917
    interp: Interpreter, pattern: tuple[tuple[int, ...], ...], Y: np.ndarray, W: np.ndarray,
    B: sp.Basic, every: int, first: int) -> tuple[list[object], bool, np.ndarray]:  # fmt: skip
    """Run ``sgd_epoch_csr`` on a symbolic CSR X; return its outputs, untouched, dense X."""
    data, indices, indptr, X = _csr(pattern, len(W))
    m, n = X.shape
    k = len(range(first, m, every))
    J = np.full(m, None, dtype=object)
    w = W.copy()
    w_track, b_track = np.full(k * n, None, dtype=object), np.full(k, None, dtype=object)
    stored, labels = data.copy(), Y[:m].copy()
    args = [stored, list(indices), list(indptr), labels, w, B, alpha, J, every, first]
    b = interp.call("sgd_epoch_csr", [*args, w_track, b_track])
    untouched = all(stored == data) and all(labels == Y[:m])
    return [*w, b, *J, *w_track, *b_track], untouched, X


def _compare(  # noqa: PLR0917
    report: ValidationReport, fn: str, run: str, got: list, want: list, names: list[str]
) -> None:
    if len(got) != len(want):
        report.failures.append(f"{fn}: {len(got)} outputs, expected {len(want)}")
        return
    for label, have, wanted in zip(names, got, want, strict=True):
        diff = have - wanted if isinstance(have, sp.Basic) else None
        if diff is not None and (diff == 0 or sp.expand(diff) == 0):
            report.proven.append(f"{fn} {label}{run}")
        else:
            report.failures.append(f"{fn} {label}{run}: computes {have}, not {wanted}")


def _template_csr(
    interp: Interpreter, by_target: Mapping[str, Hole], report: ValidationReport
) -> None:
    """Run ``sgd_epoch_csr`` against the per-sample updates on the dense X it stores."""
    runs = [(PATTERN_ONE, 1, 0), *((PATTERN, every, first) for every, first in SCHEDULES)]
    for pattern, every, first in runs:
        _, Y, W, B = symbols(len(pattern), N)
        m = len(pattern)
        try:
            got, untouched, X = _run_csr(interp, pattern, Y, W, B, every, first)
        except ValidationError as err:
            report.failures.append(f"sgd_epoch_csr ({m} samples): {err}")
            continue
        if not untouched:
            report.failures.append(f"sgd_epoch_csr ({m} samples): writes into data or Y")
        want = _reference(by_target, X, Y, W, B, every, first)
        names = _names(m, N, len(range(first, m, every)))
        run = "" if m == 1 else f" ({m} samples, History every {every} from {first})"
        _compare(report, "sgd_epoch_csr", run, got, want, names)
    report.proven.append("sgd_epoch_csr: sgd_epoch's updates on the stored entries of X")


def _names(m: int, n: int, k: int) -> list[str]:
    return (
        [f"w[{j}]" for j in range(n)]
        + ["b"]
        + [f"J[{i}]" for i in range(m)]
        + [f"w_track[{r}][{j}]" for r in range(k) for j in range(n)]
        + [f"b_track[{r}]" for r in range(k)]
    )


def _template(tree: ast.Module, holes: Mapping[int, Hole], report: ValidationReport) -> None:
    executed: set[int] = set()
    branches: set[tuple[int, object]] = set()
    interp = Interpreter(tree, holes, None, executed, branches)
    by_target = {h.target: h for h in holes.values() if h.stable is not None}
    runs = [(1, 1, 0), *((M, every, first) for every, first in SCHEDULES)]
    for m, every, first in runs:
        X, Y, W, B = symbols(m, N)
        try:
            got, untouched = _run(interp, X, Y, W, B, every, first)
        except ValidationError as err:
            report.failures.append(f"sgd_epoch ({m} samples): {err}")
            continue
        if not untouched:
            report.failures.append(f"sgd_epoch ({m} samples): writes into X or Y")
        want = _reference(by_target, X, Y, W, B, every, first)
        names = _names(m, N, len(range(first, m, every)))
        run = "" if m == 1 else f" ({m} samples, History every {every} from {first})"
        _compare(report, "sgd_epoch", run, got, want, names)
    if runs:
        report.proven.append("sgd_epoch: the samples one at a time, in order")
    _template_csr(interp, by_target, report)
    report.failures += [f"never validated: {s}" for s in interp.unreached()]


def validate_loop(source: str, derivation: Derivation) -> ValidationReport:
    """Prove that a generated per-sample loop computes the derivation's updates.

    Raises
    ------
    ValidationError
        If anything outside ``J_i`` and ``dJ_dz``'s printed expressions
        differs from the generator's loop (with the line and what differs),
        one of those is not proven equal to the derivation over the reals, or
        the loop does not apply the updates one sample at a time, in order,
        recording the History where it says.

    Examples
    --------
    >>> from derivreg import derive
    >>> from derivreg.codegen import generate_loop
    >>> report = validate_loop(generate_loop(derive("bce")), derive("bce"))
    >>> "sgd_epoch w[3]" in report.proven
    True
    """
    d = derivation
    tree = parse(source, d.name)
    module = printed(d, "loop")
    reference = ast.parse(module.source)
    try:
        found = compare(tree, reference, mark(reference, module.holes))
    except ValidationError as err:
        raise ValidationError(f"{d.name}: differs from the generator's loop: {err}") from None
    report = ValidationReport(d.name, proven=["skeleton"])
    prove_holes(found, report, d.pair.targets, loop=True)
    lemmas(d, report)
    if report.ok:
        try:
            _template(tree, {id(node): hole for node, hole in found}, report)
        except Exception as err:  # any error of a run is a rejection, not a crash
            report.failures.append(f"the fixed loop: {type(err).__name__}: {err}")
    return report.raise_if_failed("generated loop")
