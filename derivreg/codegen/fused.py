"""Print a derivation as fused batch kernels: ``derivreg/kernels/<pair>_fused.py``.

One pass over X per call: for each row, ``z = x w + b``, then the printed
``dJ_dz`` (or ``J``) on that row's floats, then the row's share of the
gradient, summed into its row block's own row of ``out`` (the block's
partial sums: no accumulator is shared between blocks, so numba's ``prange``
may run the blocks on any threads in any order).  The blocks' sums are then
added in block order and divided by m.

The module is plain Python on NumPy arrays; CPython runs it (slowly, for
tests) with ``prange = range``, and :func:`derivreg.fast.fused` compiles the
same functions with numba, ``prange`` then numba's.  The holes are printed
by the same printer as the per-sample loop (:class:`LoopPrinter`, ``math``
on floats), and :func:`derivreg.validate.validate_fused` proves the module.

Examples
--------
>>> from derivreg import derive
>>> src = generate_fused(derive("bce"))
>>> "def grad(X, Y, w, b):" in src and "for c in prange(k):" in src
True
"""

from __future__ import annotations

import ast

from derivreg.codegen.kernel import check_derivation, stable_note
from derivreg.codegen.printers import LoopPrinter, comment, identifier, prose
from derivreg.codegen.rules import stabilize
from derivreg.codegen.templates import COMMAND, Hole, Output, Printed, body
from derivreg.symbolic import Derivation, yhat

__all__ = [
    "FUSED_BLOCK_ROWS",
    "FUSED_FUNCTIONS",
    "FUSED_GROUP_ROWS",
    "FUSED_PARALLEL",
    "FUSED_REASSOCIATE",
    "generate_fused",
    "generate_fused_module",
]

#: Rows per block: 4096 rows of 8 features are 256 KiB of X, so that a
#: million rows make 245 blocks, enough to balance two threads, while each
#: block's partial sums (n + 1 floats) stay negligible next to its rows.
FUSED_BLOCK_ROWS = 4096

#: Rows per group in ``_grad_blocks``: each row's score and dJ/dz, then one
#: sweep of the group's terms into the block's partial sums (see _MEASURED;
#: 2 was slower in cache, 8 no faster at 64 features and slower at 8).
FUSED_GROUP_ROWS = 4

#: The generated functions, in order, those with a ``prange`` loop, and those
#: compiled with reassociation (see ``_DOT``).
FUSED_FUNCTIONS = ("_dot", "_grad_blocks", "_loss_blocks", "losses", "grad", "loss", "update")
FUSED_PARALLEL = ("_grad_blocks", "_loss_blocks", "losses")
FUSED_REASSOCIATE = ("_dot",)

#: z = x w + b: the sum over the features is ``_dot``'s, the one function
#: numba compiles with reassociation (``REASSOCIATE``), so that LLVM sums in
#: vector lanes; see ``_DOT``.
_FORWARD = (
    "        y = Y[i]",
    "        # forward: z = x w + b, the sum over the features in _dot",
    "        z = b + _dot(X, i, w)",
)

#: The body of ``_dot``: the row's sum over the features, alone in its
#: function because it is the only sum reassociated (numba's
#: ``fastmath={"reassoc"}`` on this function: LLVM adds the terms in vector
#: lanes, as BLAS's dot product does; without it every add waits on the last,
#: since IEEE addition may not be reordered).  Any order of the n additions
#: has the same first-order error bound, (n - 1) u sum |x_j w_j|, the bound
#: the accuracy tests already allow the NumPy kernels' BLAS ``X @ w``; the
#: printed ``dJ_dz`` and ``J`` are compiled without it, evaluated as printed.
_DOT = (
    "    n = X.shape[1]",
    "    s = 0",
    "    for j in range(n):",
    "        s += X[i, j] * w[j]",
    "    return s",
)


#: A row whose score is not finite (a partial sum overflowed, or |z| past float64) makes
#: the block's sum nan, by 0 * z, as the batch kernels do (codegen.forward.NONFINITE_SCORE):
#: derivreg.fast then gives the checked NumPy kernel's result, recomputed at scale.
_NONFINITE = "a non-finite score gives nan (0 * z): derivreg.fast then recomputes at scale"


def _grouped(printed: list[str]) -> list[str]:
    """Return the loop over block c's rows in ``_grad_blocks``: groups, then the rest one by one.

    Each row of a group as a single row (its score, then ``printed``, its
    ``dJ_dz``), kept; then one sweep over the block's partial sums adding the
    group's terms left to right: ``(((out + r0 x0) + r1 x1) + r2 x2) + r3 x3`` are the very floats
    of four single-row sweeps, with a quarter of the loads and stores of
    ``out[c, :]`` (see ``FUSED_GROUP_ROWS``).
    """
    terms = " + ".join(f"r{t} * X[g{f' + {t}' if t else ''}, j]" for t in range(FUSED_GROUP_ROWS))
    return [
        "        end = min(c * BLOCK_ROWS + BLOCK_ROWS, m)",
        "        # GROUP_ROWS rows at a time, the last (end - c * BLOCK_ROWS) % GROUP_ROWS alone",
        "        full = end - (end - c * BLOCK_ROWS) % GROUP_ROWS",
        "        # the groups' dJ/db summed in a local: added in row order, as into out[c, n]",
        "        db = 0",
        "        for g in range(c * BLOCK_ROWS, full, GROUP_ROWS):",
        "            for t in range(GROUP_ROWS):",
        "                y = Y[g + t]",
        "                # forward: z = x w + b, the sum over the features in _dot",
        "                z = b + _dot(X, g + t, w)",
        *(f"                {line}" for line in printed),
        "                r[c, t] = dJ_dz",
        f"                # {_NONFINITE}",
        "                db += dJ_dz + 0 * z",
        *(f"            r{t} = r[c, {t}]" for t in range(FUSED_GROUP_ROWS)),
        "            # chain rule: dJ/dw = dJ/dz x^T, the group's rows added in row order",
        "            for j in range(n):",
        f"                out[c, j] = out[c, j] + {terms}",
        "        out[c, n] = db",
        "        for i in range(full, end):",
        *(f"    {line}" for line in _FORWARD),
        *(f"            {line}" for line in printed),
        "            # chain rule: dJ/dw = dJ/dz x^T and dJ/db = dJ/dz, summed over the block",
        "            for j in range(n):",
        "                out[c, j] += dJ_dz * X[i, j]",
        f"            # {_NONFINITE}",
        "            out[c, n] += dJ_dz + 0 * z",
    ]


def _blocks(d: Derivation, function: str) -> tuple[list[str], list[Hole]]:
    """Return the body of ``_grad_blocks``, ``_loss_blocks`` or ``losses``, and its holes."""
    from derivreg.rendering import text as show

    label = "dJ_dz" if function == "_grad_blocks" else "J_i"
    activation, _ = stabilize(d.activation)
    expr, what = (
        (d.dJ_dz, "chain rule: dJ/dz = dJ/dyhat * dyhat/dz")
        if label == "dJ_dz"
        else (d.loss, "forward: J")
    )
    stable, rules = stabilize(expr.subs(yhat, activation))
    out = Output(label, stable, expr.subs(yhat, d.activation), rules)
    note = f"{what} = {show(expr)}, yhat = {show(d.activation)}" + stable_note(stable, rules)
    blocks = body([out], {label: note}, LoopPrinter(), ("z", "y"))
    printed = []
    for block in blocks:
        printed += [f"# {comment(c)}" for c in block.comment.splitlines()]
        printed += block.lines
    holes = [h.with_function(function) for block in blocks for h in block.holes]
    result = {"_grad_blocks": "np.zeros((k, n + 1))", "_loss_blocks": "np.zeros((k, 1))"}
    lines = [
        "    m, n = X.shape" if function == "_grad_blocks" else "    m = X.shape[0]",
        "    k = (m + BLOCK_ROWS - 1) // BLOCK_ROWS",
        f"    out = {result.get(function, 'np.zeros(m)')}",
        "    # each block writes only its own row of out: nothing shared between threads"
        if function != "losses"
        else "    # each block writes only its own rows' entries: nothing shared between threads",
        "    for c in prange(k):",
    ]
    if function == "_grad_blocks":  # the printed dJ_dz twice: in the groups and for the rest
        lines[3:3] = [
            "    # a group's dJ/dz, each block its own row",
            "    r = np.zeros((k, GROUP_ROWS))",
        ]
        return [*lines, *_grouped(printed), "    return out"], holes + holes
    lines += [
        "        for i in range(c * BLOCK_ROWS, min(c * BLOCK_ROWS + BLOCK_ROWS, m)):",
        *(f"    {line}" for line in _FORWARD),
        *(f"            {line}" for line in printed),
    ]
    lines += {
        "_loss_blocks": [f"            # {_NONFINITE}", "            out[c, 0] += J_i + 0 * z"],
        "losses": [f"            # {_NONFINITE}", "            out[i] = J_i + 0 * z"],
    }[function]
    return [*lines, "    return out"], holes


#: The generated modules' note on the gradient's groups: what was measured.
_MEASURED = (
    "The gradient takes a block's rows GROUP_ROWS at a time.  One row at a time,",
    "each row's dot product must finish before its terms go into the block's",
    "n + 1 partial sums, loaded and stored again for every row: measured (MSE,",
    "64 features, one thread, benchmarks/bandwidth.py), that arithmetic took 14",
    "to 18 ns per row with X in cache (X @ v 7.5 ns), against 23 to 30 ns to read",
    "a row from memory on a quiet machine, and a pass took about their sum (2.6",
    "reads of X).  Each row's score and dJ/dz are computed as before and kept;",
    "then one sweep adds the group's terms in row order: the same floats, a",
    "quarter of the sweeps (12 ns per row in cache; 1.22 reads of X against 1.40",
    "in interleaved runs on a busy machine).  All four scores first, then",
    "the four dJ/dz, was as fast for MSE but twice as slow from memory for",
    "logistic regression: no row of X was requested while its four exp ran.",
)


_DOC = {
    "_dot": "Row i of X times w: the sum over the features of X[i, j] w[j].",
    "_grad_blocks": "Row c of the result (k, n + 1): dJ/dz x and dJ/dz summed over block c.",
    "_loss_blocks": "Row c of the result (k, 1): the per-sample losses summed over block c.",
    "losses": "Per-sample loss J for each row, shape (m,); one pass over X.",
    "grad": "Gradient (dJ_dw (n,), dJ_db) of the mean loss; one pass over X.",
    "loss": "Mean loss over the rows; one pass over X.",
    "update": "One gradient step on the mean loss: new (w, b); the arguments are unchanged.",
}

_WRAPPERS = {
    "grad": (
        "    m, n = X.shape",
        "    out = _grad_blocks(X, Y, w, b)",
        "    # the blocks' sums added in block order, then averaged over the m rows",
        "    dJ_dw = np.zeros(n)",
        "    dJ_db = 0",
        "    for c in range(out.shape[0]):",
        "        for j in range(n):",
        "            dJ_dw[j] += out[c, j]",
        "        dJ_db += out[c, n]",
        "    for j in range(n):",
        "        dJ_dw[j] = dJ_dw[j] / m",
        "    return dJ_dw, dJ_db / m",
    ),
    "loss": (
        "    m = X.shape[0]",
        "    out = _loss_blocks(X, Y, w, b)",
        "    # the blocks' sums added in block order, then averaged over the m rows",
        "    J = 0",
        "    for c in range(out.shape[0]):",
        "        J += out[c, 0]",
        "    return J / m",
    ),
    "update": (
        "    n = X.shape[1]",
        "    dJ_dw, dJ_db = grad(X, Y, w, b)",
        "    # update: w := w - alpha (dJ/dw)^T and b := b - alpha dJ/db",
        "    new_w = np.zeros(n)",
        "    for j in range(n):",
        "        new_w[j] = w[j] - lr * dJ_dw[j]",
        "    return new_w, b - lr * dJ_db",
    ),
}


def generate_fused_module(derivation: Derivation) -> Printed:
    """Print the fused batch kernels of a derivation, with the holes the printer filled.

    Examples
    --------
    >>> from derivreg import derive
    >>> [h.target for h in generate_fused_module(derive("mse")).holes]
    ['dJ_dz', 'dJ_dz', 'J_i', 'J_i']
    """
    d = check_derivation(derivation)
    name = identifier(d.name)
    printed = {f: _blocks(d, f) for f in ("_grad_blocks", "_loss_blocks", "losses")}
    bodies = {f: lines for f, (lines, _) in printed.items()} | _WRAPPERS | {"_dot": _DOT}
    holes = [h for _, function_holes in printed.values() for h in function_holes]
    uses_math = any("math." in line for lines, _ in printed.values() for line in lines)
    signatures = dict.fromkeys(FUSED_FUNCTIONS, "X, Y, w, b")
    signatures |= {"update": "X, Y, w, b, lr", "_dot": "X, i, w"}
    lines = [
        f'# GENERATED by `{COMMAND}` from derivreg.derive("{name}"). Do not edit by hand.',
        f"# {comment(d.title)}. Change derivreg/symbolic/ or derivreg/codegen/, "
        f"then run `{COMMAND}`.",
        f'"""{prose(d.title)}: fused batch kernels, printed from ``derivreg.derive({name!r})``.',
        "",
        "One pass over X per call, row block by row block, each block's sums its own;",
        "CPython runs these functions as they are (``prange = range``) and numba",
        "compiles the same functions for the optional compiled backend (``derivreg.fast``).",
        "X (m, n) and Y (m,) are float64 arrays, w (n,) too, b and lr floats.",
        "",
        *_MEASURED,
        '"""',
        "",
        *(["import math", ""] if uses_math else []),
        "import numpy as np",
        "",
        f"NAME = {name!r}",
        "#: Rows per block of the fused pass (see derivreg.codegen.fused).",
        f"BLOCK_ROWS = {FUSED_BLOCK_ROWS}",
        "#: Rows per group of the gradient's sweep over a block's sums (derivreg.codegen.fused).",
        f"GROUP_ROWS = {FUSED_GROUP_ROWS}",
        "#: The functions, in order; numba compiles PARALLEL (prange) with parallel=True.",
        f"FUNCTIONS = {FUSED_FUNCTIONS!r}",
        f"PARALLEL = {FUSED_PARALLEL!r}",
        "#: Compiled with fastmath={'reassoc'} (the sum over the features alone), and",
        "#: numba's error model for all: IEEE division, as NumPy's (derivreg.codegen.fused).",
        f"REASSOCIATE = {FUSED_REASSOCIATE!r}",
        f"ERROR_MODEL = {'numpy'!r}",
        "",
        "#: numba's prange when compiled (derivreg.fast.fused); in CPython, range.",
        "prange = range",
    ]
    for function in FUSED_FUNCTIONS:
        lines += ["", ""]
        noqa = "ANN001, ANN202" if function.startswith("_") else "ANN001, ANN201"
        lines += [f"def {function}({signatures[function]}):  # noqa: {noqa}"]
        lines += [f'    """{_DOC[function]}"""', *bodies[function]]
    source = "\n".join(lines) + "\n"
    ast.parse(source)
    return Printed(source, tuple(holes))


def generate_fused(derivation: Derivation) -> str:
    """Print the fused batch kernels of a derivation (``<pair>_fused.py``).

    Examples
    --------
    >>> from derivreg import derive
    >>> "def update(X, Y, w, b, lr):" in generate_fused(derive("mse"))
    True
    """
    return generate_fused_module(derivation).source
