"""The penalty and sample-weight pieces of a generated batch module.

Printed from :func:`derivreg.symbolic.penalty.derive_penalty` and the
pair's chain rule, apart from the rest of :mod:`~derivreg.codegen.kernel`:

- ``dR_dw(w, alpha)``: the L2 term's gradient ``alpha * w`` (a hole, proven
  equal to the derivation's ``λ w``), and ``R`` of the penalised ``loss``;
- ``soft_threshold(v, t)``: the L1 proximal step (a hole, proven equal to
  the derivation's minimiser by ``proofs/penalty.py``);
- ``_weighted_grad``: the weighted mean of the per-sample gradients;
- ``_penalized_grad``: the mean (or weighted mean) gradient plus ``dR/dw``;
  the intercept's entry is never penalised.

Examples
--------
>>> from derivreg import derive
>>> from derivreg.codegen.kernel import _Kernel
>>> [f.source.split("(")[0] for f in Penalized(_Kernel(derive("mse"))).elementwise()]
['def dR_dw', 'def soft_threshold']
"""

from __future__ import annotations

from typing import Any

import sympy as sp

from derivreg.codegen.templates import CodeBlock, Hole, Printed, function
from derivreg.symbolic.penalty import derive_penalty, lam, t, v
from derivreg.symbolic.symbols import w_scalar

__all__ = ["PENALTY_INPUTS", "Penalized", "soft_threshold_form"]

#: The kernel names of the penalty holes' inputs, and the derivation's symbols for them.
PENALTY_INPUTS = {"w": w_scalar, "alpha": lam, "v": v, "t": t}
_PRINTED_NAMES = {lam: sp.Symbol("alpha", real=True)}

_SIG = "X: np.ndarray, y: np.ndarray, w: np.ndarray, b: float"
_RETURNS = "tuple[np.ndarray, float]"


def soft_threshold_form() -> sp.Expr:
    """Return the printed form of the proximal step: ``max(v - t, 0) - max(-v - t, 0)``.

    Equal to the derivation's Piecewise for every real ``v`` and ``t >= 0``
    (``penalty.soft_threshold_as_maxima`` in ``proofs/penalty.py``), and
    branch-free.

    Examples
    --------
    >>> soft_threshold_form()
    -Max(0, -t - v) + Max(0, -t + v)
    """
    return sp.Max(v - t, 0) - sp.Max(-v - t, 0)


class Penalized:
    """Print the penalty and weight pieces for one kernel (a ``codegen.kernel._Kernel``)."""

    def __init__(self, kernel: Any) -> None:
        self.k = kernel
        self.p = derive_penalty()

    def ex(self, doc: str, name: str) -> str:
        """Return a docstring whose example SymPy values from the derivation."""
        if name == "dR_dw":
            call = "dR_dw(np.array([0.5, -0.25]), 0.1)"
            at = [{w_scalar: sp.Rational(x), lam: sp.Rational(1, 10)} for x in ("0.5", "-0.25")]
            values = [self.p.dR_dw.subs(a) for a in at]
        else:
            call = "soft_threshold(np.array([1.5, -0.2, -2.0]), 0.5)"
            at = [{v: sp.Rational(x), t: sp.Rational(1, 2)} for x in ("1.5", "-0.2", "-2.0")]
            values = [self.p.soft_threshold.subs(a) for a in at]
        shown = ", ".join(repr(round(float(x), 6)) for x in values)
        call = f"[round(float(x), 6) for x in {call}]"
        return f"{doc}\n\n    Examples\n    --------\n    >>> {call}\n    [{shown}]\n    "

    def hole(self, name: str, expr: sp.Expr, inputs: tuple[str, ...], note: str) -> CodeBlock:
        """One ``name = expr`` line, printed with the kernels' names, and its hole."""
        line = f"{name} = {self.k.printer.doprint(expr.xreplace(_PRINTED_NAMES))}"
        return CodeBlock(note, [line], [Hole("", name, inputs, expr, expr)])

    def dR_dw(self) -> CodeBlock:
        """Print the line ``dR_dw = alpha*w`` (a hole: the derivation's ``λ w``)."""
        show = self.k.show
        note = f"penalty: dR/dw = {show(self.p.dR_dw)}, of R = {show(self.p.R)}, λ = alpha"
        return self.hole("dR_dw", self.p.dR_dw, ("w", "alpha"), note)

    def R(self) -> CodeBlock:
        """Print the line ``R = (1/2)*alpha*w**2`` of the penalised loss (a hole)."""
        note = f"penalty: R = {self.k.show(self.p.R)} per weight, λ = alpha; b is not penalised"
        return self.hole("R", self.p.R, ("w", "alpha"), note)

    def elementwise(self) -> list[Printed]:
        """Print ``dR_dw`` and ``soft_threshold``, elementwise."""
        prox = self.hole(
            "soft_threshold",
            soft_threshold_form(),
            ("v", "t"),
            "proximal step of t|u|: argmin_u (1/2)(u - v)² + t|u|, for t >= 0\n"
            "  (derivreg.symbolic.penalty; proven in proofs/penalty.py)",
        )
        return [
            function(
                "dR_dw(w: np.ndarray, alpha: float) -> np.ndarray",
                self.ex("Gradient of the L2 term (alpha/2) w², elementwise.", "dR_dw"),
                [self.dR_dw()],
                "dR_dw",
            ),
            function(
                "soft_threshold(v: np.ndarray, t: float) -> np.ndarray",
                self.ex(
                    "The L1 proximal step (soft-thresholding) of v at threshold t >= 0.",
                    "soft_threshold",
                ),
                [prox],
                "soft_threshold",
            ),
        ]

    def gradient(self) -> list[Printed]:
        """Print ``_weighted_grad`` and ``_penalized_grad``."""
        k = self.k
        chain = [CodeBlock("forward: z = X w + b, one row per sample", ["z = X @ w + b"])]
        chain += k.body(k.dJ_dz, ("z", "y"))
        weighted = CodeBlock(
            "sample weights s (mean 1): the mean of s dJ/dz x^T is the weighted mean",
            [
                "m = X.shape[0]",
                "sdJ_dz = s * dJ_dz",
                "dJ_dw = (sdJ_dz @ X) / m",
                "dJ_db = float(np.mean(sdJ_dz) + 0 * np.sum(z))  # non-finite z: nan, see _grad",
            ],
        )
        branch = CodeBlock(
            "the mean gradient, or the weighted mean with weights s",
            [
                "if s is None:",
                "    dJ_dw, dJ_db = _grad(X, y, w, b)",
                "else:",
                "    dJ_dw, dJ_db = _weighted_grad(X, y, w, b, s)",
            ],
        )
        return [
            function(
                f"_weighted_grad(\n    {_SIG}, s: np.ndarray\n) -> {_RETURNS}",
                "The gradient of the weighted mean loss; s: the weights of the rows, of mean 1.",
                [*chain, weighted],
                "dJ_dw, dJ_db",
            ),
            function(
                f"_penalized_grad(  # noqa: PLR0917\n    {_SIG}, s: np.ndarray | None, "
                f"alpha: float\n) -> {_RETURNS}",
                "The gradient of the (weighted) mean loss plus the L2 term's; b unpenalised.",
                [branch, self.dR_dw()],
                "dJ_dw + dR_dw, dJ_db",
            ),
        ]
