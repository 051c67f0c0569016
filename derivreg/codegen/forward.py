"""Print the forward pass of a batch module: ``predict``, ``losses`` and ``_losses``.

The score ``z = X w + b`` of every row, then yhat or the per-sample loss J
(holes, from the derivation's stable forms).  ``predict`` takes z by
``_scores``, which recomputes it where a partial sum overflows; the losses
add ``0 * z`` (:data:`NONFINITE_SCORE`), so that a score that is not finite
shows in the result.  The mean loss is :mod:`derivreg.codegen.meanloss`'s,
the gradient :mod:`derivreg.codegen.gradient`'s, which reads the fixed text
here too.

Examples
--------
>>> from derivreg import derive
>>> from derivreg.codegen.kernel import _Kernel
>>> [f.source.split("(")[0] for f in forward_functions(_Kernel(derive("mse")))]
['def predict', 'def losses', 'def _losses']
"""

from __future__ import annotations

from typing import Any

from derivreg.codegen.domain import CHECK_BATCH
from derivreg.codegen.templates import CodeBlock, Printed, function

__all__ = [
    "BATCH",
    "CHECK_WEIGHT",
    "FORWARD_Z",
    "NONFINITE_SCORE",
    "UNCHECKED",
    "WEIGHT",
    "forward_functions",
]

#: Said of every unchecked kernel (a leading underscore): its callers' contract.
UNCHECKED = "float64 X (m, n), y (m,), w (n,) and a float b, as the checks leave them."
#: The arguments of every batch function, typed.
BATCH = "X: np.ndarray, y: np.ndarray, w: np.ndarray, b: float"
#: The keyword of the checked functions: scikit-learn's sample weights, and their check.
WEIGHT = "sample_weight: np.ndarray | None = None"
CHECK_WEIGHT = "s = _check_sample_weight(sample_weight, X)"
#: The comment above every ``z = X @ w + b``.
FORWARD_Z = "forward: z = X w + b, one row per sample"
#: A score ``X @ w + b`` that is not finite (a partial sum overflowed, where OpenBLAS may
#: give -inf though the exact z fits; or ``|z|`` past float64) makes the result nan, by
#: ``0 * z``: a saturating J or dJ/dz (``sigma(-inf) - 1`` is finite) would hide it, and the
#: checks recompute a nan result from the scores at scale (``_scores``).  One pass over the
#: m scores, no branch; over the reals ``0 * z`` is 0, which the validator proves.
NONFINITE_SCORE = "a non-finite score gives nan (0 * z): the checks recompute it at scale"


def forward_functions(kernel: Any) -> list[Printed]:
    """Print ``predict``, ``losses`` and the unchecked ``_losses``.

    ``kernel`` is :class:`derivreg.codegen.kernel._Kernel`: its yhat and J holes.

    Examples
    --------
    >>> from derivreg import derive
    >>> from derivreg.codegen.kernel import _Kernel
    >>> "z = _scores(X, w, b)" in forward_functions(_Kernel(derive("bce")))[0].source
    True
    """
    k = kernel
    z_checked = CodeBlock(FORWARD_Z + "; recomputed where a partial sum overflows", [])
    z_checked.lines.append("z = _scores(X, w, b)")
    return [
        function(
            "predict(X: np.ndarray, w: np.ndarray, b: float) -> np.ndarray",
            k.ex("Model output yhat for each row of X, shape (m,).", "predict"),
            [z_checked, *k.body(k.yhat, ("z",))],
            '_fits(yhat, "yhat", X, w, b)',
            ["X, w, b = _check_params(X, w, b)"],
        ),
        function(
            f"losses(\n    {BATCH}, *, {WEIGHT}\n) -> np.ndarray",
            k.ex(
                "Per-sample loss J for each row, shape (m,); times the row's weight\n"
                "    (the weights scaled to mean 1) when ``sample_weight`` is given.",
                "losses",
            ),
            [
                CodeBlock("the unchecked kernel", ["J = _losses(X, y, w, b)"]),
                CodeBlock(
                    "finite, their limit, or a FloatingPointError",
                    ['J = _checked_rows(J, "J", _losses, X, w, b, y)'],
                ),
                CodeBlock(
                    "sample weights s (mean 1): each row's loss times its weight",
                    ["if s is not None:", '    J = _fits(J * s, "the weighted J", X, w, b)'],
                ),
            ],
            "J",
            [CHECK_BATCH, CHECK_WEIGHT],
        ),
        function(
            f"_losses({BATCH}) -> np.ndarray",
            f"``losses`` without the input checks: {UNCHECKED}",
            [
                CodeBlock(FORWARD_Z, ["z = X @ w + b"]),
                *k.body(k.J, ("z", "y")),
                CodeBlock(NONFINITE_SCORE, ["J = J + 0 * z"]),
            ],
            "J",
        ),
    ]
