"""Print the mean loss: ``loss``, summed over row blocks that stay in cache.

``loss`` once took the per-sample losses of the whole batch (``losses``:
z, J and ``J + 0 * z``, each m long), then scanned them (``_checked_rows``:
``np.isfinite``, ``np.all``) and summed them (``_mean_loss``): about nine
passes over m-element arrays (8 MB at a million rows, far past a core's L2
cache), against the textbook formula's four.  Now ``_loss`` sums
``_loss_sums`` over blocks of ``LOSS_BLOCK_ROWS`` rows: each block's z, J and
their sums in cache, one float per block.

The sum is the fast path only.  A block returns nan where one of its losses
is not finite or is 0 (``_nonzero``: the two cases ``_checked_rows``
handles), or where its sum overflows; ``_checked_loss`` then computes the
mean exactly as before, from the checked per-sample losses of the whole
batch (``_checked_rows``, ``_mean_loss``): the same limits, the same scaled
mean, the same errors.  A finite block sum has only finite terms (an inf or
a nan term makes every sum it is in inf or nan), so on the fast path the old
one would have returned the same terms; only the order in which they are
added differs (a mean of at most ``LOSS_BLOCK_ROWS`` rows is the same float
bit for bit).  Either order is a sum of m terms by m - 1 additions, within
the same ``(m - 1) eps sum |J_i|`` of the exact sum: the bound the accuracy
properties already allow (``derivreg.testing._reference.loss_error``).

Where the block of X (``LOSS_BLOCK_ROWS`` rows) fits in ``LOSS_BLOCK_BYTES``,
each block's product ``X_b @ w`` is its own: z never leaves the cache.  Past
that (more features), one product over all of X, which OpenBLAS may thread
as it threads the textbook formula's, and the blocks take its rows: blocks
of X's rows under about 4 MiB run on the calling thread only
(``benchmarks/blocks.py``), and at many features the read of X is the whole
cost (``benchmarks/loss_blocks.py`` times both choices).

Weighted losses keep the whole-batch path (``losses``' statements).

Examples
--------
>>> from derivreg import derive
>>> from derivreg.codegen.kernel import generate
>>> "def _loss_sums(" in generate(derive("gamma"))
True
"""

from __future__ import annotations

from typing import Any

from derivreg.codegen.domain import CHECK_BATCH
from derivreg.codegen.templates import CodeBlock, Printed, function

__all__ = ["LOSS_BLOCK_BYTES", "LOSS_BLOCK_ROWS", "LOSS_CHECKS", "loss_constants", "loss_functions"]

#: Scores per block of the mean loss: 128 KiB per temporary, a few in a core's L2 cache,
#: and few enough blocks (61 at a million rows) that NumPy's per-call cost stays small.
LOSS_BLOCK_ROWS = 1 << 14
#: The most bytes of X's rows a block of the loss takes its own product of (1 MiB: 8
#: features of 16384 rows).  Its own limit, not BLOCK_BYTES: the loss reads X once, and
#: blocks of X's rows of 2 and 4 MiB were slower with two threads (16 and 32 features,
#: 1.5x and 4-19x the textbook's time on a busy machine) than one product over X.
LOSS_BLOCK_BYTES = 1 << 20

_BATCH = "X: np.ndarray, y: np.ndarray, w: np.ndarray, b: float"
_UNCHECKED = "float64 X (m, n), y (m,), w (n,) and a float b, as the checks leave them."
_WEIGHT = "sample_weight: np.ndarray | None = None"
_ALPHA = "alpha: float = 0.0"

#: The checks of the blocked mean, printed into ``_checks.py`` after the others.
LOSS_CHECKS = '''
def _nonzero(total: float, J: np.ndarray) -> float:
    """Return a block's loss ``total``, or nan where one of its losses ``J`` is 0: where
    ``_checked_rows`` looks at the scores (``_checked_loss`` then takes its path)."""
    return total if np.all(J != 0) else float("nan")


def _checked_loss(  # noqa: PLR0917
    mean: float, kernel: object, X: np.ndarray, y: np.ndarray, w: np.ndarray, b: float
) -> float:
    """Return the blocks' mean loss ``mean`` where it is finite; else (a loss not finite or
    0, or a sum past float64) the mean of ``kernel``'s per-sample losses of the whole batch
    as ``losses`` checks them (``_checked_rows``) and ``loss`` averages them (``_mean_loss``):
    their limits, the scaled mean, or their error."""
    if np.isfinite(mean):
        return mean
    J = _checked_rows(
        kernel(X, y, w, b), "J", kernel, X, w, b, y  # type: ignore[operator]  # a function
    )
    return _mean_loss(J)
'''


def loss_constants() -> list[str]:
    """Return the module constant sizing the mean loss's blocks, with its reason.

    Examples
    --------
    >>> loss_constants()[-2:]
    ['LOSS_BLOCK_ROWS = 16384', 'LOSS_BLOCK_BYTES = 1048576']
    """
    return [
        "",
        "#: The mean loss sums blocks of LOSS_BLOCK_ROWS rows: their z and J in a core's",
        "#: L2 cache (128 KiB each), few blocks (NumPy's per-call cost stays small).",
        "#: Where those rows of X take at most LOSS_BLOCK_BYTES (few features), each",
        "#: block has its own product X_b @ w, so z never leaves the cache; else one",
        "#: product over all of X, which OpenBLAS threads as it does the textbook",
        "#: formula's.  By measurement (benchmarks/loss_blocks.py): OpenBLAS runs a product of",
        "#: X's rows under about 4 MiB on the calling thread, and at many features the",
        "#: read of X is the whole cost, which two threads share; blocks of X of 2 and 4",
        "#: MiB were slower with two threads (each call waits for the second thread).",
        f"LOSS_BLOCK_ROWS = {LOSS_BLOCK_ROWS}",
        f"LOSS_BLOCK_BYTES = {LOSS_BLOCK_BYTES}",
    ]


def _blocks(product: str) -> list[str]:
    """Return the block loop of ``_loss`` over the rows' products ``product`` (X's, or Xw's)."""
    first, rest = product.format(rows=":rows"), product.format(rows="start:stop")
    return [
        f"total = _loss_sums({first}, y[:rows], b)",
        "for start in range(rows, m, rows):",
        "    stop = min(start + rows, m)",
        f"    total += _loss_sums({rest}, y[start:stop], b)",
    ]


def loss_functions(kernel: Any) -> list[Printed]:
    """Print ``loss``, the blocked unchecked ``_loss`` and one block's ``_loss_sums``.

    ``kernel`` is :class:`derivreg.codegen.kernel._Kernel`: its J hole and comments.
    """
    return [_loss_checked(kernel), _loss_unchecked(), _loss_sums(kernel)]


def _loss_checked(k: Any) -> Printed:
    weighted = [
        "else:",
        '    J = _checked_rows(_losses(X, y, w, b), "J", _losses, X, w, b, y)',
        '    J_mean = _mean_loss(_fits(J * s, "the weighted J", X, w, b))',
    ]
    return function(
        f"loss(\n    {_BATCH}, *, {_WEIGHT}, {_ALPHA}\n) -> float",
        k.ex(
            "Mean loss over the rows (weighted by ``sample_weight``), plus\n"
            "    ``alpha/2 ||w||^2``: scikit-learn's L2 objective; a float.",
            "loss",
        ),
        [
            CodeBlock(
                "the mean of the per-sample losses, block by block (see _loss); nan (a loss\n"
                "not finite or 0): the per-sample path of losses, its limits and errors",
                [
                    "if s is None:",
                    "    J_mean = _checked_loss(_loss(X, y, w, b), _losses, X, y, w, b)",
                ],
            ),
            CodeBlock(
                "weighted: each row's loss times its weight, as losses computes it", weighted
            ),
            k.penalized.R(),
        ],
        "_penalised(J_mean, R, alpha)",
        [
            "alpha = _check_alpha(alpha)",
            'w = _as_float_array("w", w, 1)  # for R, and its error before the batch\'s',
            CHECK_BATCH,
            "s = _check_sample_weight(sample_weight, X)",
        ],
    )


def _loss_unchecked() -> Printed:
    return function(
        f"_loss({_BATCH}) -> float",
        f"``loss`` without the input checks, unweighted and unpenalised: {_UNCHECKED}\n\n"
        "    The mean of the per-sample losses, summed over blocks of LOSS_BLOCK_ROWS\n"
        "    rows (see ``_loss_sums``); nan where a loss is not finite or is 0, which\n"
        "    ``_checked_loss`` recomputes.\n    ",
        [
            CodeBlock(
                "rows per block: LOSS_BLOCK_ROWS", ["m = X.shape[0]", "rows = LOSS_BLOCK_ROWS"]
            ),
            CodeBlock(
                "few features (a block of X within LOSS_BLOCK_BYTES): each block's own product",
                [
                    "if rows * _row_bytes(X) <= LOSS_BLOCK_BYTES:",
                    *(f"    {line}" for line in _blocks("X[{rows}] @ w")),
                    "    return total / m",
                ],
            ),
            CodeBlock("more: one product over all rows, which the BLAS may thread", ["Xw = X @ w"]),
            CodeBlock(
                "sum the blocks' losses, then average over the m rows", _blocks("Xw[{rows}]")
            ),
        ],
        "total / m",
    )


def _loss_sums(k: Any) -> Printed:
    return function(
        "_loss_sums(Xw: np.ndarray, y: np.ndarray, b: float) -> float",
        "The loss summed over the rows of one block, from their products ``Xw = X w``.",
        [
            CodeBlock("forward: z = X w + b, one row per sample", ["z = Xw + b"]),
            *k.body(k.J, ("z", "y")),
            CodeBlock(
                "a non-finite score gives nan (0 * z): the checks recompute it at scale",
                ["total = float(np.sum(J) + 0 * np.sum(z))"],
            ),
            CodeBlock(
                "a loss of 0 gives nan: the checks look at the scores there (_checked_rows)",
                ["total = _nonzero(total, J)"],
            ),
        ],
        "total",
    )
