"""Print the fused Newton kernel: the mean loss, its gradient and its Hessian from one z.

A Newton iteration needs all three at the same ``theta = (w, b)``.  Printed
apart (``loss``, ``grad``, ``hessian``) they compute ``z = X w + b`` and the
activation's exponentials three times, and check the inputs three times.
``newton_terms`` prints the derivation's ``J``, ``dJ/dz`` and ``d2J/dz2``
as one block of shared subexpressions (the same holes as ``_losses``,
``_grad`` and ``curvature``, so the hole prover proves them the same way),
then, with ``X~ = [X, 1]``,

    value = sum_i J_i / m,   g = X~^T dJ/dz / m,   H = X~^T diag(d2J/dz2) X~ / m,

summed in row blocks like the Hessian.  The checked ``newton_terms`` checks
its inputs once, and hands a non-finite term to the checked ``loss``,
``grad`` or ``hessian`` (``_checked_newton``), so it returns or raises what
they do; a solver that has checked them itself calls
``_newton_terms``, whose result it must check for finiteness (see
:class:`derivreg.solvers.KernelObjective`).

Examples
--------
>>> from derivreg import derive
>>> from derivreg.codegen.kernel import generate
>>> "def newton_terms(" in generate(derive("poisson"))
True
"""

from __future__ import annotations

from typing import Any

from derivreg.codegen.hessian import _SecondOrder, dense_check
from derivreg.codegen.templates import CodeBlock, Printed, body, function, merge

__all__ = ["newton_functions"]

_BATCH = "X: np.ndarray, y: np.ndarray, w: np.ndarray, b: float"
_SIG = f"(\n    {_BATCH}\n) -> tuple[float, np.ndarray, np.ndarray]"
_UNCHECKED = "float64 X (m, n), y (m,), w (n,) and a float b, as the checks leave them."


def _loop() -> list[CodeBlock]:
    """Return the block loop: the blocks' sums of J, X~^T dJ/dz and X~^T diag(d2J/dz2) X~."""
    return [
        CodeBlock(
            "rows per block: about BLOCK_BYTES of X, at least MIN_BLOCK_ROWS",
            ["m = X.shape[0]", "rows = max(MIN_BLOCK_ROWS, BLOCK_BYTES // (8 * X.shape[1]))"],
        ),
        CodeBlock(
            "sum the blocks' loss, gradient and Hessian, then average over the m rows",
            [
                "value, g, H = _newton_sums(X[:rows], y[:rows], w, b)",
                "for start in range(rows, m, rows):",
                "    stop = min(start + rows, m)",
                "    block = _newton_sums(X[start:stop], y[start:stop], w, b)",
                "    block_value, block_g, block_H = block",
                "    value += block_value",
                "    g += block_g",
                "    H += block_H",
            ],
        ),
    ]


def _sums(kernel: Any, second: _SecondOrder) -> list[CodeBlock]:
    """One block's z, its three holes (shared subexpressions), and the three sums."""
    comments = {**kernel.comments, **second.comments}
    first = [kernel.J, kernel.dJ_dz]
    if second.curv.stable.free_symbols:
        holes = body([*first, second.curv], comments, kernel.printer, ("z", "y"))
    else:  # a constant curvature reads nothing: its hole as the Hessian's, of no inputs
        holes = body(first, comments, kernel.printer, ("z", "y"))
        holes += body([second.curv], comments, kernel.printer, ())
    return [
        CodeBlock("forward: z = X w + b, one row per sample", ["z = X @ w + b"]),
        *holes,
        second.x_tilde(),
        CodeBlock("the loss, summed over the block's rows", ["value = float(np.sum(J))"]),
        CodeBlock("chain rule: dJ/d(w, b) = X~^T dJ/dz, summed over the block's rows", []),
        CodeBlock("", ["g = dJ_dz @ Xt"]),
        CodeBlock("H = X~^T diag(d2J/dz2) X~, summed over the block's rows", []),
        CodeBlock("", ["H = (Xt.T * d2J_dz2) @ Xt"]),
    ]


def newton_functions(kernel: Any) -> list[Printed]:
    """Print ``newton_terms``, its unchecked kernel and its block sums.

    ``kernel`` is :mod:`derivreg.codegen.kernel`'s printing context of one
    derivation.

    Examples
    --------
    >>> from derivreg import derive
    >>> from derivreg.codegen.kernel import _Kernel
    >>> [p.source.split("(")[0] for p in newton_functions(_Kernel(derive("bce")))]
    ['def newton_terms', 'def _newton_terms', 'def _newton_sums']
    """
    second = _SecondOrder(kernel)
    batch = "np.array([[1.0, 2.0]]), np.array([1.0]), np.array([0.5, -0.25]), 0.1"
    call = f"value, g, H = newton_terms({batch})"
    check = "[round(float(t), 6) for t in H[-1]] == " + second.values[1]
    doc = (
        "Mean loss, its gradient over (w, b) and its Hessian from one z: a Newton step's terms."
        "\n\n"
        "    Equal to ``loss``, ``grad`` (the intercept's entry last) and ``hessian``,\n"
        "    with the inputs checked once and z and its functions computed once.\n\n"
        f"    Examples\n    --------\n    >>> {call}\n    >>> {check}\n    True\n    "
    )
    return [
        function(
            f"newton_terms{_SIG}",
            doc,
            [
                CodeBlock("the unchecked kernel", ["value, g, H = _newton_terms(X, y, w, b)"]),
                CodeBlock(
                    "a non-finite term is the checked kernel's: at scale, its limit, or its error",
                    ["checked = (loss, grad, hessian)"],
                ),
            ],
            "_checked_newton(value, g, H, checked, X, y, w, b)",
            [dense_check("newton_terms")],
        ),
        function(
            f"_newton_terms{_SIG}",
            f"``newton_terms`` without the input checks: {_UNCHECKED}\n\n"
            "    Summed block by block (see ``_newton_sums``); the result may be\n"
            "    non-finite, which the caller checks.\n    ",
            _loop(),
            "value / m, g / m, H / m",
        ),
        function(
            f"_newton_sums{_SIG}",
            "The loss, gradient and Hessian summed (not averaged) over one block.",
            merge(_sums(kernel, second)),
            "value, g, H",
        ),
    ]
