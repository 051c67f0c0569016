"""Symbolic derivations of regression gradients along the chain rule.

The engine knows nothing about any particular loss.  A model is a linear
score ``z = x.w + b`` followed by an activation ``yhat = g(z)`` and a
per-sample loss ``J = L(y, yhat)``; the (activation, loss) pairs live in
:data:`REGISTRY`.  :func:`derive` walks the lecture's steps (forward pass,
local partials, chain rule, update rules), keeps ``yhat`` as a symbol so
that cancellations such as ``dJ/dz = yhat - y`` appear, checks every
chain-rule result against the derivative SymPy takes directly of the
composed loss, and goes one order further: ``d2J/dz2``, its supremum over
the domain (the step-size bound) and whether the link is canonical.

The parts: :mod:`~derivreg.symbolic.symbols` (the shared symbols),
:mod:`~derivreg.symbolic.functions` (activations and losses),
:mod:`~derivreg.symbolic.registry` (:class:`Pair`, :data:`REGISTRY`),
:mod:`~derivreg.symbolic.derivation` (:class:`Step`, :class:`Derivation`),
:mod:`~derivreg.symbolic.engine` (:func:`derive`),
:mod:`~derivreg.symbolic.checks` (the second routes) and
:mod:`~derivreg.symbolic.curvature` (second derivatives and their bounds).

Examples
--------
>>> from derivreg import derive
>>> d = derive("bce")
>>> d.dJ_dz
-y + yhat
>>> d.update_b
alpha*(y - yhat) + b
>>> d.d2J_dz2, d.curvature_bound, d.canonical
(yhat*(1 - yhat), 1/4, True)
"""

from derivreg.symbolic.checks import is_zero as _is_zero  # noqa: F401 - kept for tests
from derivreg.symbolic.derivation import STAGES as STAGES
from derivreg.symbolic.derivation import Derivation as Derivation
from derivreg.symbolic.derivation import DerivationError as DerivationError
from derivreg.symbolic.derivation import Features as Features
from derivreg.symbolic.derivation import Step as Step
from derivreg.symbolic.engine import _Dot as _Dot
from derivreg.symbolic.engine import derive as derive
from derivreg.symbolic.functions import binary_cross_entropy as binary_cross_entropy
from derivreg.symbolic.functions import exponential as exponential
from derivreg.symbolic.functions import gamma_loss as gamma_loss
from derivreg.symbolic.functions import identity as identity
from derivreg.symbolic.functions import poisson_loss as poisson_loss
from derivreg.symbolic.functions import sigmoid as sigmoid
from derivreg.symbolic.functions import squared_error as squared_error
from derivreg.symbolic.registry import GAMMA as GAMMA
from derivreg.symbolic.registry import POISSON as POISSON
from derivreg.symbolic.registry import REGISTRY as REGISTRY
from derivreg.symbolic.registry import Pair as Pair
from derivreg.symbolic.registry import Registry as Registry
from derivreg.symbolic.symbols import CHECK_DIMENSION as CHECK_DIMENSION
from derivreg.symbolic.symbols import J_mean as J_mean
from derivreg.symbolic.symbols import alpha as alpha
from derivreg.symbolic.symbols import b as b
from derivreg.symbolic.symbols import n as n
from derivreg.symbolic.symbols import phi as phi
from derivreg.symbolic.symbols import w_scalar as w_scalar
from derivreg.symbolic.symbols import w_vector as w_vector
from derivreg.symbolic.symbols import x_scalar as x_scalar
from derivreg.symbolic.symbols import x_vector as x_vector
from derivreg.symbolic.symbols import y as y
from derivreg.symbolic.symbols import yhat as yhat
from derivreg.symbolic.symbols import z as z

__all__ = [
    "GAMMA",
    "POISSON",
    "REGISTRY",
    "Derivation",
    "DerivationError",
    "Pair",
    "Registry",
    "Step",
    "derive",
    "exponential",
    "gamma_loss",
    "identity",
    "poisson_loss",
    "sigmoid",
]
