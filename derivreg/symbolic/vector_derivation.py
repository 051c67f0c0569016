"""The derivation of a model whose output is a k-vector: :class:`VectorDerivation`.

Built by :func:`derivreg.symbolic.softmax.derive_softmax`; rendered by
:func:`derivreg.rendering.render`, which asks it for its blocks.

Examples
--------
>>> from derivreg.symbolic.softmax import derive_softmax
>>> derive_softmax(classes=2, features=1).step_size_numerator
4
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import sympy as sp

from derivreg.symbolic.derivation import STAGES, Step
from derivreg.symbolic.matrix_forms import Components

if TYPE_CHECKING:  # pragma: no cover - rendering imports symbolic, not the other way
    from derivreg.rendering import Block

__all__ = ["VectorDerivation"]


@dataclass(frozen=True)
class VectorDerivation:
    """The chain-rule derivation of a model whose output is a k-vector.

    Attributes
    ----------
    name, title : str
        ``"softmax"`` and its human-readable title.
    classes, features : int
        The explicit k and n every step was derived and checked with.
    steps : tuple of Step
        Scalar steps hold an entry in generic indices (``i``, ``j``, ``c``);
        :attr:`display` holds the matrix form recognised from the entries.
    matrices : mapping
        The explicit component matrices of each step (k = :attr:`classes`).
    display : mapping
        Per step label, the rows shown before the result: (LaTeX, text) pairs.
    curvature_bound : sympy.Expr
        Sup over the simplex of the largest eigenvalue of ``∂²J/∂z²``.

    Examples
    --------
    >>> from derivreg.symbolic.softmax import derive_softmax
    >>> d = derive_softmax(classes=2, features=1)
    >>> d.matrices["dyhat_dz"].shape
    (2, 2)
    """

    name: str
    title: str
    classes: int
    features: int
    steps: tuple[Step, ...]
    matrices: Mapping[str, sp.Matrix] = field(repr=False)
    display: Mapping[str, Sequence[tuple[str, str] | sp.Basic]] = field(repr=False)
    curvature_bound: sp.Expr
    symbols: Components = field(repr=False)

    def step(self, label: str) -> Step:
        """Return the step with this label.

        Examples
        --------
        >>> from derivreg.symbolic.softmax import derive_softmax
        >>> derive_softmax().step("dJ_dyhat").expr
        -y_c/yhat_c
        """
        for s in self.steps:
            if s.label == label:
                return s
        known = ", ".join(s.label for s in self.steps)
        raise KeyError(f"no step {label!r} in derivation {self.name!r}; steps: {known}")

    @property
    def step_size_numerator(self) -> sp.Expr:
        """``2 / sup λ_max(∂²J/∂z²)``: the per-sample step is this over ``||(x, 1)||²``."""
        return 2 / self.curvature_bound

    def blocks(self) -> list[Block]:
        """One block per stage, as :func:`derivreg.rendering.render` prints them.

        Examples
        --------
        >>> from derivreg.rendering import render
        >>> from derivreg.symbolic.softmax import derive_softmax
        >>> "diag(ŷ) - ŷŷᵀ" in render(derive_softmax(), "text")
        True
        """
        from derivreg.rendering import Block, Row

        out = []
        for stage, heading in STAGES.items():
            rows = []
            for s in self.steps:
                if s.stage == stage:
                    lhs, *shown = self.display[s.label]
                    relation = ":=" if stage == "update" else "="
                    rows.append(Row(lhs, [*shown, s.expr], s.reason, relation))
            out.append(Block(heading, rows))
        return out
