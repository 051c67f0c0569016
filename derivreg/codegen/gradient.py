"""Print the gradient and the step of a batch module: ``grad`` and ``update``.

``grad`` checks its inputs, takes the (weighted, penalised) mean gradient
from ``_penalized_grad`` (:mod:`derivreg.codegen.penalized`) and hands the
result to ``_checked_grad``: finite, recomputed at scale, or an error.  The
unchecked ``_grad`` is the chain rule over the rows, ``dJ/dw = dJ/dz x^T``
and ``dJ/db = dJ/dz`` averaged; past one block of rows it sums ``_grad_sums``
block by block (``_BLOCK_LOOP``), so that no temporary is larger than a
block.  ``update`` is one step ``w := w - lr dJ/dw``, ``b := b - lr dJ/db``.

Examples
--------
>>> from derivreg import derive
>>> from derivreg.codegen.kernel import _Kernel
>>> [f.source.split("(")[0] for f in gradient_functions(_Kernel(derive("mse")))]
['def grad', 'def _grad', 'def _grad_sums']
"""

from __future__ import annotations

from typing import Any

from derivreg.codegen.domain import CHECK_BATCH
from derivreg.codegen.forward import (
    BATCH,
    CHECK_WEIGHT,
    FORWARD_Z,
    NONFINITE_SCORE,
    UNCHECKED,
    WEIGHT,
)
from derivreg.codegen.templates import CodeBlock, Printed, function, merge

__all__ = ["gradient_functions", "update_functions"]

_GRAD_SIG = f"(\n    {BATCH}\n) -> tuple[np.ndarray, float]"
#: The L2 strength of the checked functions (scikit-learn's ``alpha``), and its check.
_ALPHA = "alpha: float = 0.0"
_CHECK_ALPHA = "alpha = _check_alpha(alpha)"

#: The block loop of ``_grad``: fixed text, no holes.
_BLOCK_LOOP = (
    CodeBlock(
        "rows per block: about BLOCK_BYTES of X, at least MIN_BLOCK_ROWS",
        ["m = X.shape[0]", "rows = max(MIN_BLOCK_ROWS, BLOCK_BYTES // _row_bytes(X))"],
    ),
    CodeBlock(
        "a large batch: sum the blocks' gradients, then average over the m rows",
        [
            "if m > rows:",
            "    dJ_dw, dJ_db = _grad_sums(X[:rows], y[:rows], w, b)",
            "    for start in range(rows, m, rows):",
            "        stop = min(start + rows, m)",
            "        block = _grad_sums(X[start:stop], y[start:stop], w, b)",
            "        block_dw, block_db = block",
            "        dJ_dw += block_dw",
            "        dJ_db += block_db",
            "    return dJ_dw / m, dJ_db / m",
        ],
    ),
)


def gradient_functions(kernel: Any) -> list[Printed]:
    """Print ``grad``, its unchecked ``_grad`` and one block's ``_grad_sums``.

    ``kernel`` is :class:`derivreg.codegen.kernel._Kernel`: its dJ/dz hole and comments.

    Examples
    --------
    >>> from derivreg import derive
    >>> from derivreg.codegen.kernel import _Kernel
    >>> "dJ_dw = (dJ_dz @ X) / m" in gradient_functions(_Kernel(derive("bce")))[1].source
    True
    """
    k = kernel
    chain = [CodeBlock(FORWARD_Z, ["z = X @ w + b"]), *k.body(k.dJ_dz, ("z", "y"))]
    mean = [
        CodeBlock("chain rule: dJ/dw = dJ/dz x^T, averaged over the m rows", []),
        CodeBlock("", ["dJ_dw = (dJ_dz @ X) / m"]),
        CodeBlock("chain rule: dJ/db = dJ/dz * 1, averaged over the m rows", []),
        CodeBlock(NONFINITE_SCORE, ["dJ_db = float(np.mean(dJ_dz) + 0 * np.sum(z))"]),
    ]
    sums = [
        CodeBlock("chain rule: dJ/dw = dJ/dz x^T, summed over the block's rows", []),
        CodeBlock("", ["dJ_dw = dJ_dz @ X"]),
        CodeBlock("chain rule: dJ/db = dJ/dz * 1, summed over the block's rows", []),
        CodeBlock(NONFINITE_SCORE, ["dJ_db = float(np.sum(dJ_dz) + 0 * np.sum(z))"]),
    ]
    return [
        function(
            f"grad(\n    {BATCH}, *, {WEIGHT}, {_ALPHA}\n) -> tuple[np.ndarray, float]",
            k.ex(
                "Gradient (dJ_dw of shape (n,), dJ_db) of the mean loss (weighted by\n"
                "    ``sample_weight``) plus ``alpha/2 ||w||^2``; b is never penalised.",
                "grad",
            ),
            [
                CodeBlock(
                    "the unchecked kernel",
                    ["dJ_dw, dJ_db = _penalized_grad(X, y, w, b, s, alpha)"],
                )
            ],
            "_checked_grad(dJ_dw, dJ_db, dJ_dz, X, y, w, b, s, alpha, DJ_DZ_DEGREE)",
            [CHECK_BATCH, CHECK_WEIGHT, _CHECK_ALPHA],
        ),
        function(
            f"_grad{_GRAD_SIG}",
            f"``grad`` without the input checks: {UNCHECKED}\n\n"
            "    A batch of more than one block of rows is summed block by block\n"
            "    (see ``_grad_sums``): each block of X is read from memory once and\n"
            "    again from cache, and no temporary is larger than a block.\n    ",
            [*_BLOCK_LOOP, *chain, *merge(mean)],
            "dJ_dw, dJ_db",
        ),
        function(
            f"_grad_sums{_GRAD_SIG}",
            "The gradient summed (not averaged) over the rows of one block.",
            [*chain, *merge(sums)],
            "dJ_dw, dJ_db",
        ),
    ]


def update_functions(kernel: Any) -> list[Printed]:
    """Print ``update`` and its unchecked ``_update``.

    ``kernel`` is :class:`derivreg.codegen.kernel._Kernel`: the derivation's update rules.

    Examples
    --------
    >>> from derivreg import derive
    >>> from derivreg.codegen.kernel import _Kernel
    >>> "new_w = w - lr * dJ_dw" in update_functions(_Kernel(derive("mse")))[1].source
    True
    """
    show, d = kernel.show, kernel.d
    return [
        function(
            f"update(\n    {BATCH}, lr: float, *, {WEIGHT}, {_ALPHA}\n"
            ") -> tuple[np.ndarray, float]",
            kernel.ex(
                "One gradient step on the mean loss (weighted by ``sample_weight``) plus\n"
                "    ``alpha/2 ||w||^2``; returns new (w, b), inputs untouched.",
                "update",
            ),
            [
                CodeBlock(
                    "the unchecked kernel", ["new_w, new_b = _update(X, y, w, b, lr, s, alpha)"]
                )
            ],
            "_checked_update(new_w, new_b, dJ_dz, X, y, w, b, lr, s, alpha, DJ_DZ_DEGREE)",
            [CHECK_BATCH, 'lr = _as_finite_scalar("lr", lr)', CHECK_WEIGHT, _CHECK_ALPHA],
        ),
        function(
            f"_update(  # noqa: PLR0917\n    {BATCH}, lr: float,\n"
            "    s: np.ndarray | None = None, alpha: float = 0.0\n"
            ") -> tuple[np.ndarray, float]",
            f"``update`` without the input checks: {UNCHECKED}\n\n"
            "    s: None, or the weights of the rows scaled to mean 1; alpha >= 0.\n    ",
            [
                CodeBlock(
                    "gradient of the (weighted) mean loss and the L2 term",
                    ["dJ_dw, dJ_db = _penalized_grad(X, y, w, b, s, alpha)"],
                ),
                CodeBlock(
                    f"update: w := w - alpha (dJ/dw)^T, i.e. w := {show(d.update_w)}",
                    ["new_w = w - lr * dJ_dw"],
                ),
                CodeBlock(
                    f"update: b := b - alpha dJ/db, i.e. b := {show(d.update_b)}",
                    ["new_b = b - lr * dJ_db"],
                ),
            ],
            "new_w, float(new_b)",
        ),
    ]
