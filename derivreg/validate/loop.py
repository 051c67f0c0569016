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
import numpy.typing as npt
import sympy as sp

from derivreg.codegen.templates import Hole
from derivreg.symbolic import Derivation
from derivreg.validate.batch import alpha, lam, lemmas, parse, printed, symbols
from derivreg.validate.holes import prove_holes
from derivreg.validate.interpreter import Interpreter, opaque
from derivreg.validate.report import ValidationError, ValidationReport
from derivreg.validate.skeleton import compare, mark

__all__ = ["validate_loop"]

#: Samples and features of the runs (m >= 4, n >= 4), and the History schedules.
M, N = 5, 4
SCHEDULES = ((1, 0), (2, 1), (3, 0), (2, 0))

#: The loop's modes in each run (paired with SCHEDULES in order): the strides of
#: the rates and of the weights (0: one value for every sample), whether the
#: penalty is on, and whether b is fitted; every branch is taken by some run.
MODES = ((1, 1, 1, 1), (0, 0, 0, 1), (1, 0, 1, 0), (0, 1, 0, 0))
#: The mode of the one-sample runs: the plain loop (one rate, one weight).
PLAIN = (0, 0, 0, 1)

#: The CSR loop's runs: the stored columns of each row (M rows of N columns),
#: with unsorted columns, an empty row, a duplicate entry and a full row; and
#: one sample with two stored entries out of N.
PATTERN = ((2, 0), (), (1, 3, 1), (0, 1, 2, 3), (3,))
PATTERN_ONE = ((3, 1),)

#: The L1 strength of the runs (the L2 strength is the kernels' ``alpha``, lam).
l1 = sp.Symbol("l1", real=True)


#: The loop's arguments after ``b``, up to ``J``: rates and their step, weights and theirs,
#: the L2 and L1 strengths, whether penalised and whether b is fitted.
_Settings = tuple[
    npt.NDArray[np.object_], int, npt.NDArray[np.object_], int, sp.Symbol, sp.Symbol, int, int
]


def _settings(m: int, mode: tuple[int, int, int, int]) -> _Settings:
    """Return the loop's arguments after ``b``, up to ``J``: rates, weights, penalty, fit."""
    lr_step, s_step, penalized, fit = mode
    LR = [sp.Symbol(f"eta_{i}", real=True) for i in range(m)] if lr_step else [alpha]
    S = [sp.Symbol(f"s_{i}", real=True) for i in range(m if s_step else 1)]
    rates, weights = np.array(LR, dtype=object), np.array(S, dtype=object)
    return (rates, lr_step, weights, s_step, lam, l1, penalized, fit)


def _reference(  # noqa: PLR0917
    holes: Mapping[str, Hole], X: np.ndarray, Y: np.ndarray, W: np.ndarray, B: sp.Basic,
    every: int, first: int, mode: tuple[int, int, int, int],
) -> list[object]:  # fmt: skip
    """Apply the derivation's per-sample updates in order, holes opaque: what the loop must do.

    Each sample's step is its rate times its weight times dJ/dz; with the
    penalty, the L2 gradient at the weights before the update, then the L1
    proximal step at threshold rate * l1; b moves only when fitted.
    """
    m, n = X.shape
    LR, lr_step, S, s_step, *_ = _settings(m, mode)
    penalized, fit = mode[2:]
    w, b = list(W), B
    J, Z, w_track, b_track, total = [], [], [], [], sp.Integer(0)
    for i in range(m):
        rate, s = LR[i * lr_step], S[i * s_step]
        if i % every == first:
            w_track += w
            b_track.append(b)
        z = b + sum(X[i, j] * w[j] for j in range(n))
        Z.append(z)
        J.append(opaque(holes["J_i"], [z, Y[i]]))
        total += s * J[-1]
        step = rate * s * opaque(holes["dJ_dz"], [z, Y[i]])
        new = [w[j] - step * X[i, j] for j in range(n)]
        if penalized:
            shrink = [rate * opaque(holes["dR_dw"], [w[j], lam]) for j in range(n)]
            t = rate * l1
            new = [opaque(holes["soft_threshold"], [new[j] - shrink[j], t]) for j in range(n)]
        w = new
        b = b - step if fit else b
    return [*w, b, total, *J, *Z, *w_track, *b_track]


def _run(  # noqa: PLR0917
    interp: Interpreter, X: np.ndarray, Y: np.ndarray, W: np.ndarray, B: sp.Basic,
    every: int, first: int, mode: tuple[int, int, int, int],
) -> tuple[list[object], bool]:  # fmt: skip
    m, n = X.shape
    k = len(range(first, m, every))
    J, Z = np.full(m, None, dtype=object), np.full(m, None, dtype=object)
    w = W.copy()
    w_track, b_track = np.full(k * n, None, dtype=object), np.full(k, None, dtype=object)
    flat, labels = X.ravel(), Y.copy()
    args = [flat, labels, w, B, *_settings(m, mode), J, Z, every, first, w_track, b_track]
    b, total = _pair(interp.call("sgd_epoch", args))
    untouched = all(flat == X.ravel()) and all(labels == Y)
    return [*w, b, total, *J, *Z, *w_track, *b_track], untouched


def _pair(value: object) -> tuple[object, object]:
    """Return the loop's value, ``b, total``; a ValidationError if it is not a pair."""
    if not isinstance(value, tuple) or len(value) != 2:
        raise ValidationError(f"returns {value!r}, not the pair (b, total)")
    return value


def _csr(pattern: tuple[tuple[int, ...], ...], n: int) -> tuple[np.ndarray, list, list, np.ndarray]:
    """Return a symbolic CSR X of the pattern: (data, indices, indptr) and X as a dense array.

    Entry p of ``data`` is the symbol ``d_p``; X[i, j] is the sum of the
    symbols row i stores in column j (0 if none).
    """
    data: list[sp.Symbol] = []
    indices, indptr = [], [0]
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
    B: sp.Basic, every: int, first: int, mode: tuple[int, int, int, int],
) -> tuple[list[object], bool, np.ndarray]:  # fmt: skip
    """Run ``sgd_epoch_csr`` on a symbolic CSR X; return its outputs, untouched, dense X."""
    data, indices, indptr, X = _csr(pattern, len(W))
    m, n = X.shape
    k = len(range(first, m, every))
    J, Z = np.full(m, None, dtype=object), np.full(m, None, dtype=object)
    w = W.copy()
    w_track, b_track = np.full(k * n, None, dtype=object), np.full(k, None, dtype=object)
    stored, labels = data.copy(), Y[:m].copy()
    args = [stored, list(indices), list(indptr), labels, w, B, *_settings(m, mode), J, Z]
    b, total = _pair(interp.call("sgd_epoch_csr", [*args, every, first, w_track, b_track]))
    untouched = all(stored == data) and all(labels == Y[:m])
    return [*w, b, total, *J, *Z, *w_track, *b_track], untouched, X


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
    runs: list[tuple[tuple[tuple[int, ...], ...], int, int, tuple[int, int, int, int]]]
    runs = [(PATTERN_ONE, 1, 0, PLAIN)]
    runs += [(PATTERN, *s, mode) for s, mode in zip(SCHEDULES, MODES, strict=True)]
    for pattern, every, first, mode in runs:
        _, Y, W, B = symbols(len(pattern), N)
        m = len(pattern)
        try:
            got, untouched, X = _run_csr(interp, pattern, Y, W, B, every, first, mode)
        except ValidationError as err:
            report.failures.append(f"sgd_epoch_csr ({m} samples): {err}")
            continue
        if not untouched:
            report.failures.append(f"sgd_epoch_csr ({m} samples): writes into data or Y")
        want = _reference(by_target, X, Y, W, B, every, first, mode)
        names = _names(m, N, len(range(first, m, every)))
        _compare(report, "sgd_epoch_csr", _label(m, every, first, mode), got, want, names)
    report.proven.append("sgd_epoch_csr: sgd_epoch's updates on the stored entries of X")


def _label(m: int, every: int, first: int, mode: tuple[int, int, int, int]) -> str:
    """How a run is named in the report ("" for the one-sample run)."""
    if m == 1:
        return ""
    lr_step, s_step, penalized, fit = mode
    said = [f"History every {every} from {first}", "a rate per sample" if lr_step else "one rate"]
    said += ["a weight per sample" if s_step else "one weight"]
    said += ["penalised" if penalized else "no penalty", "b fitted" if fit else "b = 0"]
    return f" ({m} samples, {', '.join(said)})"


def _names(m: int, n: int, k: int) -> list[str]:
    return (
        [f"w[{j}]" for j in range(n)]
        + ["b", "total"]
        + [f"J[{i}]" for i in range(m)]
        + [f"Z[{i}]" for i in range(m)]
        + [f"w_track[{r}][{j}]" for r in range(k) for j in range(n)]
        + [f"b_track[{r}]" for r in range(k)]
    )


def _template(tree: ast.Module, holes: Mapping[int, Hole], report: ValidationReport) -> None:
    executed: set[int] = set()
    branches: set[tuple[int, object]] = set()
    interp = Interpreter(tree, holes, None, executed, branches)
    by_target = {h.target: h for h in holes.values() if h.stable is not None}
    runs = [(1, 1, 0, PLAIN), *((M, *s, mode) for s, mode in zip(SCHEDULES, MODES, strict=True))]
    for m, every, first, mode in runs:
        X, Y, W, B = symbols(m, N)
        try:
            got, untouched = _run(interp, X, Y, W, B, every, first, mode)
        except ValidationError as err:
            report.failures.append(f"sgd_epoch ({m} samples): {err}")
            continue
        if not untouched:
            report.failures.append(f"sgd_epoch ({m} samples): writes into X or Y")
        want = _reference(by_target, X, Y, W, B, every, first, mode)
        names = _names(m, N, len(range(first, m, every)))
        _compare(report, "sgd_epoch", _label(m, every, first, mode), got, want, names)
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
