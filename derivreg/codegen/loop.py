"""Print a derivation as a per-sample SGD loop: ``derivreg/kernels/<pair>_loop.py``.

Examples
--------
>>> from derivreg import derive
>>> src = generate_loop(derive("bce"))
>>> "def sgd_epoch(" in src and "import math" in src
True
"""

from __future__ import annotations

import ast

from derivreg.codegen.kernel import check_derivation, stable_note
from derivreg.codegen.printers import LoopPrinter, comment, identifier, prose
from derivreg.codegen.rules import stabilize
from derivreg.codegen.templates import COMMAND, Output, Printed, body
from derivreg.symbolic import Derivation, yhat

__all__ = ["LOOP_CSR_SIGNATURE", "LOOP_SIGNATURE", "generate_loop", "generate_loop_module"]

#: The loop's signature (numba compiles it, so no annotations).
LOOP_SIGNATURE = "sgd_epoch(X, Y, w, b, lr, J, every, first, w_track, b_track)"

#: The loop's fixed statements before the printed ones (indented once).
_BEFORE = (
    "n = len(w)",
    "for i in range(len(Y)):",
    "    row = i * n  # X is stored flat: sample i is X[row], ..., X[row + n - 1]",
    "    y = Y[i]",
    "    # the History: w and b before update i, every `every` updates from `first`",
    "    if i % every == first:",
    "        for j in range(n):",
    "            w_track[i // every * n + j] = w[j]",
    "        b_track[i // every] = b",
    "    # forward: z = x w + b",
    "    z = b",
    "    for j in range(n):",
    "        z += X[row + j] * w[j]",
)

#: The CSR loop's signature: X as its stored entries, column indices and row pointers.
LOOP_CSR_SIGNATURE = (
    "sgd_epoch_csr(data, indices, indptr, Y, w, b, lr, J, every, first, w_track, b_track)"
)

#: The CSR loop's fixed statements before the printed ones: only stored entries.
_BEFORE_CSR = (
    "n = len(w)",
    "for i in range(len(Y)):",
    "    y = Y[i]",
    *_BEFORE[4:9],
    "    # forward: z = x w + b, over the row's stored entries",
    "    z = b",
    "    for p in range(indptr[i], indptr[i + 1]):",
    "        z += data[p] * w[indices[p]]",
)

#: The CSR loop's step: only the stored entries' weights move.
_STEP_CSR = (
    "    for p in range(indptr[i], indptr[i + 1]):",
    "        w[indices[p]] -= step * data[p]",
)

_DOC = (
    "One epoch of per-sample SGD over the rows of X, in order; returns the final b.\n\n"
    "    X (m, n) stored flat (m * n,) and Y (m,) are the samples, as lists of floats\n"
    "    or float64 arrays; w (n,) is updated in place; J (m,) receives each sample's\n"
    "    loss before its update.  Before update i, when i % every == first, w and b\n"
    "    are copied to row i // every of w_track (k, n), stored flat, and b_track (k,).\n"
    "    No input checks: the training loop checks once, then calls this.\n    "
)

_DOC_CSR = (
    "``sgd_epoch`` on a CSR X: the same updates, visiting only the stored entries.\n\n"
    "    Row i of X holds data[p] in column indices[p] for p in indptr[i] to\n"
    "    indptr[i + 1] - 1 (duplicates add up); every other entry is 0, so it adds\n"
    "    nothing to z and w[j] takes no step.  The other arguments are sgd_epoch's.\n    "
)


def _loop_body(d: Derivation, csr: bool = False) -> tuple[list[str], list]:
    """Return the loop's statements and the holes among them (the CSR loop's if ``csr``)."""
    from derivreg.rendering import text as show

    activation, _ = stabilize(d.activation)
    outputs = []
    for label, expr in (("J_i", d.loss), ("dJ_dz", d.dJ_dz)):
        stable, rules = stabilize(expr.subs(yhat, activation))
        outputs.append(Output(label, stable, expr.subs(yhat, d.activation), rules))
    j_i, dz = outputs
    comments = {
        "J_i": f"forward: J = {show(d.loss)}, yhat = {show(d.activation)}"
        + stable_note(j_i.stable, j_i.rules),
        "dJ_dz": f"chain rule: dJ/dz = dJ/dyhat * dyhat/dz = {show(d.dJ_dz)}"
        + stable_note(dz.stable, dz.rules),
    }
    blocks = body(outputs, comments, LoopPrinter(), ("z", "y"))
    lines = list(_BEFORE_CSR if csr else _BEFORE)
    for block in blocks:
        lines += [f"    # {comment(c)}" for c in block.comment.splitlines()]
        lines += [f"    {line}" for line in block.lines]
    lines += [
        "    J[i] = J_i",
        f"    # update: w := w - alpha dJ/dz x, i.e. w := {comment(show(d.update_w))}",
        f"    # update: b := b - alpha dJ/dz, i.e. b := {comment(show(d.update_b))}",
        "    step = lr * dJ_dz",
        *(_STEP_CSR if csr else ("    for j in range(n):", "        w[j] -= step * X[row + j]")),
        "    b -= step",
        "return b",
    ]
    function = "sgd_epoch_csr" if csr else "sgd_epoch"
    holes = [h.with_function(function) for block in blocks for h in block.holes]
    return lines, holes


def generate_loop_module(derivation: Derivation) -> Printed:
    """Print the per-sample loop of a derivation, with the holes the printer filled.

    Examples
    --------
    >>> from derivreg import derive
    >>> [(h.function, h.target) for h in generate_loop_module(derive("mse")).holes][2:4]
    [('sgd_epoch', 'dJ_dz'), ('sgd_epoch_csr', 't0')]
    """
    d = check_derivation(derivation)
    name = identifier(d.name)
    lines_body, holes = _loop_body(d)
    lines_csr, holes_csr = _loop_body(d, csr=True)
    lines = [
        f'# GENERATED by `{COMMAND}` from derivreg.derive("{name}"). Do not edit by hand.',
        f"# {comment(d.title)}. Change derivreg/symbolic/ or derivreg/codegen/, "
        f"then run `{COMMAND}`.",
        f'"""{prose(d.title)}: per-sample SGD, printed from ``derivreg.derive({name!r})``.',
        "",
        "Plain Python on floats (CPython runs it on lists); numba compiles the",
        "same function for the optional compiled backend (``derivreg.fast``).",
        '"""',
        "",
        *(["import math", ""] if any("math." in line for line in lines_body) else []),
        f"NAME = {name!r}",
        "",
        "",
        f"def {LOOP_SIGNATURE}:  # noqa: ANN001, ANN201, PLR0917",
        f'    """{_DOC}"""',
        *(f"    {line}" for line in lines_body),
        "",
        "",
        f"def {LOOP_CSR_SIGNATURE}:  # noqa: ANN001, ANN201, PLR0917",
        f'    """{_DOC_CSR}"""',
        *(f"    {line}" for line in lines_csr),
    ]
    source = "\n".join(lines) + "\n"
    ast.parse(source)
    return Printed(source, (*holes, *holes_csr))


def generate_loop(derivation: Derivation) -> str:
    """Print the per-sample SGD loop of a derivation: plain Python on floats.

    The module has ``sgd_epoch``: the lecture's loop over the
    samples in order, one update per sample, each sample's loss recorded
    before its update; and ``sgd_epoch_csr``, the same loop on a CSR X
    (stored entries, column indices, row pointers), which visits only the
    stored entries.  It imports only :mod:`math`, runs on nested lists in
    CPython, and numba compiles the same function unchanged
    (:func:`derivreg.fast.compiled`).

    Examples
    --------
    >>> from derivreg import derive
    >>> "def sgd_epoch(" in generate_loop(derive("mse"))
    True
    """
    return generate_loop_module(derivation).source
