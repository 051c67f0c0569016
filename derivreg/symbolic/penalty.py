"""The penalties, derived: the L2 term's gradient and the L1 term's proximal step.

scikit-learn's names and semantics (``SGDRegressor``, ``ElasticNet``): the
objective is the mean loss plus ``alpha * (l1_ratio * ||w||_1 + (1 -
l1_ratio) / 2 * ||w||^2)``, the intercept ``b`` never penalised.  The
lecture already calls the learning rate alpha, so the derivation writes the
penalty strength ``λ`` (the kernels' keyword is scikit-learn's ``alpha``).

Two derivations, both per weight (the penalties are sums over the entries
of ``w``):

- L2: ``R = (λ/2) w²`` and ``dR/dw = λ w``, differentiated by SymPy; the
  generated gradient adds it to ``dJ/dw`` (never to ``dJ/db``).
- L1: the proximal step of ``t|u|``, ``argmin_u (1/2)(u - v)² + t|u|``
  for ``t >= 0``, found by solving the stationarity condition on each side
  of 0 (where ``|u|`` is smooth) and keeping a root only on its own side;
  where neither side has one, the minimum is at the kink ``u = 0``.  The
  result is soft-thresholding; ``proofs/penalty.py`` proves it is the
  minimiser in every sign case.

Examples
--------
>>> p = derive_penalty()
>>> p.dR_dw
lambda*w
>>> p.soft_threshold.subs({v: 3, t: 1}), p.soft_threshold.subs({v: -0.5, t: 1})
(2, 0)
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import Any

import sympy as sp

from derivreg.symbolic.derivation import Step
from derivreg.symbolic.symbols import w_scalar

__all__ = ["PenaltyDerivation", "derive_penalty", "lam", "t", "u", "v"]

#: The penalty strength (scikit-learn's alpha), >= 0.
lam = sp.Symbol("lambda", real=True)
#: The proximal step's input ``v``, its variable ``u`` and its threshold ``t``.
v, u = sp.symbols("v u", real=True)
t = sp.Symbol("t", nonnegative=True)


@dataclass(frozen=True)
class PenaltyDerivation:
    """The penalty steps, in order: each a :class:`~derivreg.symbolic.Step` (stage "penalty").

    Examples
    --------
    >>> [s.label for s in derive_penalty().steps]
    ['R', 'dR_dw', 'prox_objective', 'prox_positive', 'prox_negative', 'soft_threshold']
    """

    steps: tuple[Step, ...]

    def step(self, label: str) -> Step:
        """Return the step named ``label``."""
        return next(s for s in self.steps if s.label == label)

    @property
    def R(self) -> sp.Expr:
        """The L2 term of one weight, ``(λ/2) w²``."""
        return self.step("R").expr

    @property
    def dR_dw(self) -> sp.Expr:
        """Its derivative, ``λ w``."""
        return self.step("dR_dw").expr

    @property
    def soft_threshold(self) -> sp.Expr:
        """The proximal step of ``t|u|`` at ``v``, a Piecewise in ``v`` and ``t``."""
        return self.step("soft_threshold").expr

    title = "Penalties: L2 gradient and L1 proximal step"

    def blocks(self) -> list[Any]:
        """Return the steps as one block of rows, for :func:`derivreg.rendering.render`.

        Examples
        --------
        >>> from derivreg.rendering import render
        >>> [ln.strip() for ln in render(derive_penalty()).splitlines() if "∂R/∂w" in ln]
        ['∂R/∂w = lambda·w']
        """
        from derivreg.rendering import Block, Row

        names = {
            "R": (r"R(w)", "R(w)"),
            "dR_dw": (r"\frac{\partial R}{\partial w}", "∂R/∂w"),
            "prox_objective": (r"f(u)", "f(u)"),
            "prox_positive": (r"u^*_{u > 0}", "u* (u > 0)"),
            "prox_negative": (r"u^*_{u < 0}", "u* (u < 0)"),
            "soft_threshold": (r"S(v, t)", "S(v, t)"),
        }
        rows = [Row(names[s.label], [s.expr], s.reason) for s in self.steps]
        return [Block("Penalty", rows)]


def _side_root(objective_on_side: sp.Expr, side: sp.Basic) -> tuple[sp.Expr, sp.Basic]:
    """Return the stationary point of one smooth side, and the condition for it to lie there."""
    (root,) = sp.solve(sp.diff(objective_on_side, u), u)
    return root, side.subs(u, root)


@cache
def derive_penalty() -> PenaltyDerivation:
    """Derive the L2 gradient and the L1 proximal step (cached; SymPy only).

    Raises
    ------
    AssertionError
        If a derived form disagrees with the direct derivative: the L2
        gradient with ``diff`` of the penalty, the proximal step with the
        stationarity condition on its side.

    Examples
    --------
    >>> derive_penalty().R
    lambda*w**2/2
    """
    w = w_scalar
    R = lam / 2 * w**2
    dR_dw = sp.diff(R, w)
    assert sp.expand(dR_dw - lam * w) == 0
    objective = (u - v) ** 2 / 2 + t * sp.Abs(u)
    positive, on_positive = _side_root((u - v) ** 2 / 2 + t * u, u > 0)
    negative, on_negative = _side_root((u - v) ** 2 / 2 - t * u, u < 0)
    prox = sp.Piecewise((positive, on_positive), (negative, on_negative), (0, True))
    steps = (
        Step("penalty", "R", R, "the L2 term of one weight: (λ/2) w², λ = alpha >= 0"),
        Step("penalty", "dR_dw", dR_dw, "differentiate R with respect to w"),
        Step(
            "penalty",
            "prox_objective",
            objective,
            "the proximal step of t|u| at v: minimise (1/2)(u - v)² + t|u|, t = lr λ l1_ratio",
        ),
        Step(
            "penalty",
            "prox_positive",
            sp.Piecewise((positive, on_positive)),
            "for u > 0, |u| = u: the derivative u - v + t vanishes at v - t, a root when v > t",
        ),
        Step(
            "penalty",
            "prox_negative",
            sp.Piecewise((negative, on_negative)),
            "for u < 0, |u| = -u: the derivative u - v - t vanishes at v + t, a root when v < -t",
        ),
        Step(
            "penalty",
            "soft_threshold",
            prox,
            "no root on either side: the minimum is at the kink u = 0 (proofs/penalty.py)",
        ),
    )
    return PenaltyDerivation(steps)
