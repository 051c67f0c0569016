"""Which of a pair's quantities scale exactly with powers of two: ``DJ_DZ_DEGREE``.

A per-sample dJ/dz past float64 whose mean gradient fits is recomputed by the
kernels' checks (:mod:`derivreg.codegen.overflow`, ``_per_sample``) at
``(z, y) / 2**k``, but only where the derivation shows that exact: dJ/dz
homogeneous in ``(z, y)`` and printed with ``+, -, *, /`` and integer powers
only, each of which commutes with scaling by a power of two.

Examples
--------
>>> from derivreg import derive
>>> dJ_dz_degree(derive("mse")), dJ_dz_degree(derive("bce"))
(1, None)
"""

from __future__ import annotations

import sympy as sp

from derivreg.codegen.rules import stabilize
from derivreg.symbolic import Derivation, y, yhat, z

__all__ = ["dJ_dz_degree", "overflow_constants"]


#: The arithmetic that commutes with scaling by a power of two (exactly, in float64
#: but for under- and overflow): an expression built only from these, homogeneous in
#: (z, y), gives at (z, y) / 2**k its value at (z, y) over 2**(degree k), bit for bit.
_SCALE_FREE = (sp.Add, sp.Mul, sp.Symbol, sp.Number)


def _scale_free(expr: sp.Basic) -> bool:
    """Whether ``expr`` uses only +, -, *, / and integer powers (no exp, log, max, ...)."""
    for node in sp.preorder_traversal(expr):
        if isinstance(node, sp.Pow):
            if not node.exp.is_Integer:
                return False
        elif not isinstance(node, _SCALE_FREE):
            return False
    return True


def dJ_dz_degree(d: Derivation) -> int | None:
    """Return k with dJ/dz(c z, c y) = c**k dJ/dz(z, y) for every c > 0, or None.

    Of the kernels' printed (stable) dJ/dz; None where there is no such k, or the
    form uses more than +, -, * and / (then scaling would not commute with rounding).

    Examples
    --------
    >>> from derivreg import derive
    >>> dJ_dz_degree(derive("poisson")) is None
    True
    """
    f = stabilize(d.dJ_dz.subs({yhat: stabilize(d.activation)[0]}))[0]
    if not _scale_free(f) or not f.has(z):
        return None
    c = sp.Symbol("c", positive=True)
    scaled = f.subs({z: c * z, y: c * y}, simultaneous=True)
    for k in (1, 2, 3, 4):
        if sp.simplify(scaled - c**k * f) == 0:
            return k
    return None


def overflow_constants(d: Derivation) -> list[str]:
    """Return the kernel module's ``DJ_DZ_DEGREE`` constant, with its comment.

    Examples
    --------
    >>> from derivreg import derive
    >>> overflow_constants(derive("mse"))[-1]
    'DJ_DZ_DEGREE = 1'
    """
    return [
        "",
        "#: dJ/dz(c z, c y) = c**DJ_DZ_DEGREE dJ/dz(z, y) for every c > 0, in +, -, * and /",
        "#: only (None: not so): a per-sample dJ/dz past float64 is then recomputed exactly",
        "#: at (z, y) / 2**k, so a mean gradient that fits is returned.",
        f"DJ_DZ_DEGREE = {dJ_dz_degree(d)!r}",
    ]
