"""Steps and derivations: the values :func:`~derivreg.symbolic.derive` returns.

Examples
--------
>>> from derivreg.symbolic import derive
>>> d = derive("bce", features=1)
>>> d.step("dJ_dz").factors
('dJ_dyhat', 'dyhat_dz')
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import TYPE_CHECKING, Literal

import sympy as sp

from derivreg.symbolic.registry import Pair

if TYPE_CHECKING:
    from derivreg.symbolic.likelihood import Likelihood
from derivreg.symbolic.symbols import yhat

__all__ = ["STAGES", "Derivation", "DerivationError", "Features", "Stage", "Step"]

Features = Literal[1, "n"]
Stage = Literal["forward", "local", "chain", "update", "curvature", "penalty"]

#: The stages in the lecture's order, with their headings; the second
#: derivative goes past the lecture.
STAGES: Mapping[str, str] = MappingProxyType(
    {
        "forward": "Forward propagation",
        "local": "Local partial derivatives",
        "chain": "Chain rule (backpropagation)",
        "update": "Parameter update",
        "curvature": "Second derivative (curvature)",
    }
)


@dataclass(frozen=True)
class Step:
    """One line of a derivation: ``quantity = expr`` because ``reason``.

    Parameters
    ----------
    stage : {"forward", "local", "chain", "update", "curvature"}
        Which part of the lecture the step belongs to.
    label : str
        The lecture's name of the quantity, e.g. ``"dJ_dz"``; also the name
        the code generator gives it.
    expr : sympy.Basic
        The derived expression.
    reason : str
        One line saying why the step holds.
    factors : tuple of str
        For a chain-rule step, the labels of the factors multiplied, so
        that a renderer can show ``a * b = result``.

    Examples
    --------
    >>> from derivreg.symbolic import derive
    >>> derive("bce").step("dJ_dz").factors
    ('dJ_dyhat', 'dyhat_dz')
    """

    stage: Stage
    label: str
    expr: sp.Basic
    reason: str
    factors: tuple[str, ...] = ()


class DerivationError(ValueError):
    """A derivation step disagrees with the direct derivative or a claim.

    Examples
    --------
    >>> err = DerivationError("bce", "dJ_dz", "differs", sp.Integer(1))
    >>> err.step
    'dJ_dz'
    """

    def __init__(self, pair: str, step: str, message: str, residual: sp.Basic) -> None:
        self.pair = pair
        self.step = step
        self.residual = residual
        super().__init__(f"derivation {pair!r}, step {step!r}: {message} (residual: {residual})")


@dataclass(frozen=True)
class Derivation:
    """The chain-rule derivation of one (activation, loss) pair.

    Build one with :func:`~derivreg.symbolic.derive`.  The attributes hold
    SymPy expressions in terms of the shared symbols; ``yhat`` stays a symbol
    wherever the lecture keeps it one.

    Attributes
    ----------
    name : str
        Registry key, e.g. ``"bce"``.
    pair : Pair
        The registry entry.
    features : {1, "n"}
        1-feature scalar form or n-feature vector form.
    steps : tuple of Step
        The steps in the lecture's order.
    symbols : mapping
        ``x, w, b, y, yhat, z, alpha`` (``x`` and ``w`` are ``n x 1``
        matrix symbols in the vector form).
    canonical_scale : sympy.Expr or None
        The constant ``c`` with ``dJ/dz = c (yhat - y)``: 1 for a canonical
        link, 2 for MSE (the Gaussian case up to its factor 2), ``None``
        where ``dJ/dz`` is not a constant multiple of ``yhat - y``.
    convex_in_z : bool
        Whether ``d2J/dz2 >= 0`` over the whole domain, so that the mean loss
        is convex in ``(w, b)``.
    likelihood : Likelihood or None
        The log-likelihood's scale, normalising constant and dispersion
        (:mod:`~derivreg.symbolic.likelihood`), where the pair declares its
        family's log-density; ``likelihood_note`` says why not otherwise.
    dispersion_estimated : bool
        Whether the family's dispersion is estimated from the data (Gaussian,
        Gamma, a pair that declares neither density nor dispersion) or fixed
        at 1 (Bernoulli, Poisson):
        :func:`~derivreg.symbolic.likelihood.estimated_dispersion`.

    Examples
    --------
    >>> from derivreg.symbolic import derive
    >>> d = derive("mse", features=1)
    >>> d.dJ_dw
    -2*x*(y - yhat)
    >>> [s.label for s in d.steps][:3]
    ['z', 'yhat', 'J']
    >>> d.canonical_scale, d.canonical, d.curvature_bound
    (2, False, 2)
    """

    name: str
    pair: Pair
    features: Features
    steps: tuple[Step, ...]
    symbols: Mapping[str, sp.Basic] = field(repr=False)
    canonical_scale: sp.Expr | None = None
    convex_in_z: bool = False
    likelihood: Likelihood | None = None
    likelihood_note: str = ""
    dispersion_estimated: bool = True

    def step(self, label: str) -> Step:
        """Return the step with this label.

        Examples
        --------
        >>> from derivreg.symbolic import derive
        >>> derive("bce").step("dyhat_dz").expr
        yhat*(1 - yhat)
        """
        for s in self.steps:
            if s.label == label:
                return s
        known = ", ".join(s.label for s in self.steps)
        raise KeyError(f"no step {label!r} in derivation {self.name!r}; steps: {known}")

    @property
    def title(self) -> str:
        """The pair's human-readable title."""
        return self.pair.title

    @property
    def activation(self) -> sp.Expr:
        """``yhat`` as a function of ``z``."""
        return self.step("yhat").expr

    @property
    def loss(self) -> sp.Expr:
        """``J`` as a function of ``y`` and ``yhat``."""
        return self.step("J").expr

    @property
    def dJ_dyhat(self) -> sp.Expr:
        """Local partial of the loss, in terms of ``y`` and ``yhat``."""
        return self.step("dJ_dyhat").expr

    @property
    def dyhat_dz(self) -> sp.Expr:
        """Local partial of the activation, in terms of ``yhat``."""
        return self.step("dyhat_dz").expr

    @property
    def dJ_dz(self) -> sp.Expr:
        """``dJ/dyhat * dyhat/dz``, simplified."""
        return self.step("dJ_dz").expr

    @property
    def dJ_dw(self) -> sp.Basic:
        """``dJ/dz * x^T`` (a row vector in the n-feature form)."""
        return self.step("dJ_dw").expr

    @property
    def dJ_db(self) -> sp.Expr:
        """``dJ/dz * 1``."""
        return self.step("dJ_db").expr

    @property
    def update_w(self) -> sp.Basic:
        """Simplified update rule for ``w`` (the new value of ``w``)."""
        return self.step("update_w").expr

    @property
    def update_b(self) -> sp.Expr:
        """Simplified update rule for ``b`` (the new value of ``b``)."""
        return self.step("update_b").expr

    @property
    def d2J_dz2(self) -> sp.Expr:
        """Second derivative of the per-sample loss in ``z``, in terms of ``y`` and ``yhat``."""
        return self.step("d2J_dz2").expr

    @property
    def curvature_bound(self) -> sp.Expr:
        """Supremum of ``d2J/dz2`` over the domain (``oo`` where it is unbounded)."""
        return self.step("curvature_bound").expr

    @property
    def canonical(self) -> bool:
        """Whether the link is canonical: ``dJ/dz`` simplifies to ``yhat - y``."""
        return self.canonical_scale == 1

    @property
    def step_size_numerator(self) -> sp.Expr:
        """``c = 2 / sup d2J/dz2``: per-sample SGD contracts for ``lr < c / ||(x, 1)||^2``.

        Zero where the curvature is unbounded: no fixed step is safe there.

        Examples
        --------
        >>> from derivreg.symbolic import derive
        >>> derive("mse").step_size_numerator, derive("bce").step_size_numerator
        (1, 8)
        """
        return 2 / self.curvature_bound

    def yhat_of_z(self, expr: sp.Basic) -> sp.Basic:
        """Substitute ``yhat = g(z)`` into ``expr``.

        Examples
        --------
        >>> from derivreg.symbolic import derive, yhat
        >>> derive("bce").yhat_of_z(yhat)
        1/(1 + exp(-z))
        """
        return expr.subs(yhat, self.activation)
