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

import sympy as sp

from derivreg.codegen.kernel import check_derivation, stable_note
from derivreg.codegen.penalized import soft_threshold_form
from derivreg.codegen.printers import CORRECTED_LOG1P, LoopPrinter, comment, identifier, prose
from derivreg.codegen.rules import stabilize
from derivreg.codegen.templates import COMMAND, Hole, Output, Printed, body
from derivreg.rendering import text as show
from derivreg.symbolic import Derivation, yhat
from derivreg.symbolic.penalty import derive_penalty, lam
from derivreg.symbolic.symbols import w_scalar

__all__ = ["LOOP_CSR_SIGNATURE", "LOOP_SIGNATURE", "generate_loop", "generate_loop_module"]

#: The loop's arguments after X (or its CSR arrays) and Y.
_ARGS = (
    "w, b, LR, lr_step, S, s_step, alpha, l1, penalized, fit, J, Z, every, first, w_track, b_track"
)

#: The loop's signature (numba compiles it, so no annotations).
LOOP_SIGNATURE = f"sgd_epoch(X, Y, {_ARGS})"

#: Each sample's weight and learning rate: stride 0 reads one value for all.
_RATE = (
    "    # the sample's weight s and learning rate (a stride of 0: one value for all)",
    "    s = S[i * s_step]",
    "    rate = LR[i * lr_step]",
)

#: The loop's fixed statements before the printed ones (indented once).
_BEFORE = (
    "n = len(w)",
    "total = 0  # the weighted sum of the losses J[i]",
    "for i in range(len(Y)):",
    "    row = i * n  # X is stored flat: sample i is X[row], ..., X[row + n - 1]",
    "    y = Y[i]",
    *_RATE,
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
LOOP_CSR_SIGNATURE = f"sgd_epoch_csr(data, indices, indptr, Y, {_ARGS})"

#: The CSR loop's fixed statements before the printed ones: only stored entries.
_BEFORE_CSR = (
    *_BEFORE[:3],
    "    y = Y[i]",
    *_RATE,
    *_BEFORE[8:13],
    "    # forward: z = x w + b, over the row's stored entries",
    "    z = b",
    "    for p in range(indptr[i], indptr[i + 1]):",
    "        z += data[p] * w[indices[p]]",
)

#: The plain step (no penalty): w := w - step x, over all features or the stored entries.
_STEP = ("for j in range(n):", "    w[j] -= step * X[row + j]")
_STEP_CSR = ("for p in range(indptr[i], indptr[i + 1]):", "    w[indices[p]] -= step * data[p]")


def _penalty_holes() -> tuple[list[str], list[str], list[Hole]]:
    """Print the L2 gradient and the L1 proximal step on one weight: lines and holes.

    The same derivation as the batch kernels' ``dR_dw`` and ``soft_threshold``
    (:mod:`derivreg.codegen.penalized`), on the scalars ``w_j`` and ``v``.
    """
    p = derive_penalty()
    names = {lam: sp.Symbol("alpha", real=True), w_scalar: sp.Symbol("w_j", real=True)}
    printer = LoopPrinter()
    form = soft_threshold_form()
    dR = [f"# penalty: dR/dw = {comment(show(p.dR_dw))} of R = {comment(show(p.R))}, λ = alpha",
          f"dR_dw = {printer.doprint(p.dR_dw.xreplace(names))}"]  # fmt: skip
    prox = [
        "# proximal step of t|u| (derivreg.symbolic.penalty; proofs/penalty.py)",
        f"soft_threshold = {printer.doprint(form)}",
    ]
    holes = [
        Hole("", "dR_dw", ("w_j", "alpha"), p.dR_dw, p.dR_dw),
        Hole("", "soft_threshold", ("v", "t"), form, form),
    ]
    return dR, prox, holes


def _update(csr: bool) -> tuple[list[str], list[Hole]]:
    """Print the update of one sample, with or without the penalty, and of b if fitted.

    Without a penalty: ``w := w - step x``.  With one: the L2 gradient at
    the weights before the update, then the L1 proximal step at threshold
    ``t = rate l1`` (``t = 0`` leaves v as it is): the batch kernels'
    ``update(..., alpha=)`` followed by ``soft_threshold``.  The CSR loop
    shrinks every weight, then steps the stored entries' weights.
    """
    dR, prox, holes = _penalty_holes()
    lines = ["if penalized == 0:", *(f"    {x}" for x in (_STEP_CSR if csr else _STEP)), "else:"]
    lines.append("    t = rate * l1")
    if csr:
        lines += ["    for j in range(n):", "        w_j = w[j]", *(f"        {x}" for x in dR)]
        lines += ["        w[j] = w_j - rate * dR_dw", *(f"    {x}" for x in _STEP_CSR)]
        lines += ["    for j in range(n):", "        v = w[j]"]
    else:
        lines += ["    for j in range(n):", "        w_j = w[j]", *(f"        {x}" for x in dR)]
        lines += ["        v = w_j - step * X[row + j] - rate * dR_dw"]
    lines += [*(f"        {x}" for x in prox), "        w[j] = soft_threshold"]
    lines += ["# the intercept, if fitted (fit_intercept=False keeps b = 0)", "if fit == 1:"]
    return [*lines, "    b -= step"], holes


_DOC = (
    "One epoch of per-sample SGD over the rows of X, in order; returns b and the sum.\n\n"
    "    X (m, n) stored flat (m * n,) and Y (m,) are the samples, as lists of floats\n"
    "    or float64 arrays; w (n,) is updated in place.  Sample i has the learning\n"
    "    rate LR[i * lr_step] and the weight S[i * s_step] (a stride 0 reads one value\n"
    "    for every sample); the weight scales the loss's step, not the penalty's.\n"
    "    With penalized == 1, each update also takes the L2 gradient alpha w (at the\n"
    "    weights before it) and the L1 proximal step at threshold rate * l1; b is\n"
    "    never penalised, and moves only when fit == 1.  J (m,) receives each\n"
    "    sample's loss before its update, and Z (m,) its score z; the second value\n"
    "    returned is the sum of\n"
    "    S[i * s_step] * J[i], in order.  Before update i, when i % every == first,\n"
    "    w and b are copied to row i // every of w_track (k, n), stored flat, and\n"
    "    b_track (k,).  No input checks: the training loop checks once, then calls this.\n    "
)

_DOC_CSR = (
    "``sgd_epoch`` on a CSR X: the same updates, visiting only the stored entries.\n\n"
    "    Row i of X holds data[p] in column indices[p] for p in indptr[i] to\n"
    "    indptr[i + 1] - 1 (duplicates add up); every other entry is 0, so it adds\n"
    "    nothing to z and w[j] takes no step.  The other arguments are sgd_epoch's.\n    "
)


def _loop_body(d: Derivation, csr: bool = False) -> tuple[list[str], list]:
    """Return the loop's statements and the holes among them (the CSR loop's if ``csr``)."""
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
    printer = LoopPrinter(corrected_log=True)  # log1p as one log less 1 + t's rounding
    blocks = body(outputs, comments, printer, ("z", "y"))
    lines = list(_BEFORE_CSR if csr else _BEFORE)
    for k, block in enumerate(blocks):
        lines += [f"    # {comment(c)}" for c in block.comment.splitlines()]
        if k == 0 and printer.corrected:
            lines += [f"    # {comment(c)}" for c in CORRECTED_LOG1P.splitlines()]
        lines += [f"    {line}" for line in block.lines]
    update, penalty = _update(csr)
    lines += [
        "    J[i] = J_i",
        "    Z[i] = z  # the score, from which a classifier's label is read",
        "    total += s * J_i",
        f"    # update: w := w - alpha dJ/dz x, i.e. w := {comment(show(d.update_w))}",
        f"    # update: b := b - alpha dJ/dz, i.e. b := {comment(show(d.update_b))}",
        "    # with the sample's weight s scaling the loss's step (scikit-learn's SGD)",
        "    step = rate * s * dJ_dz",
        *(f"    {line}" for line in update),
        "return b, total",
    ]
    function = "sgd_epoch_csr" if csr else "sgd_epoch"
    found = [*(h for block in blocks for h in block.holes), *penalty]
    holes = [h.with_function(function) for h in found]
    return lines, holes


def generate_loop_module(derivation: Derivation) -> Printed:
    """Print the per-sample loop of a derivation, with the holes the printer filled.

    Examples
    --------
    >>> from derivreg import derive
    >>> [(h.function, h.target) for h in generate_loop_module(derive("mse")).holes][2:4]
    [('sgd_epoch', 'dJ_dz'), ('sgd_epoch', 'dR_dw')]
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
