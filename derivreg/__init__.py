"""derivreg: regression gradients derived by SymPy, printed as NumPy, proven and tested.

The public face is small: :func:`derive` builds a checked chain-rule
derivation of a registered (activation, loss) pair, and :func:`render`
prints it for a terminal, a paper or the docs.

Names are imported on first use, so that ``import derivreg.kernels`` (or
training) never pays for SymPy.

Examples
--------
>>> import derivreg
>>> derivreg.derive("bce").dJ_dz
-y + yhat
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # pragma: no cover - for type checkers and IDEs only
    from derivreg.estimators import GammaRegressionSGD as GammaRegressionSGD
    from derivreg.estimators import LinearRegressionSGD as LinearRegressionSGD
    from derivreg.estimators import LogisticRegressionSGD as LogisticRegressionSGD
    from derivreg.estimators import PoissonRegressionSGD as PoissonRegressionSGD
    from derivreg.rendering import render as render
    from derivreg.symbolic import REGISTRY as REGISTRY
    from derivreg.symbolic import Derivation as Derivation
    from derivreg.symbolic import DerivationError as DerivationError
    from derivreg.symbolic import derive as derive
    from derivreg.train import DivergenceError as DivergenceError
    from derivreg.train import History as History

#: Public name -> the module that defines it.
_PUBLIC = {
    "REGISTRY": "derivreg.symbolic",
    "Derivation": "derivreg.symbolic",
    "DerivationError": "derivreg.symbolic",
    "derive": "derivreg.symbolic",
    "render": "derivreg.rendering",
    "History": "derivreg.train",
    "DivergenceError": "derivreg.train",
    # These need scikit-learn (a test extra, not a dependency); they are left
    # out of __all__ so that `from derivreg import *` works without it.
    "LinearRegressionSGD": "derivreg.estimators",
    "LogisticRegressionSGD": "derivreg.estimators",
    "PoissonRegressionSGD": "derivreg.estimators",
    "GammaRegressionSGD": "derivreg.estimators",
}

__all__ = [
    "REGISTRY",
    "Derivation",
    "DerivationError",
    "DivergenceError",
    "History",
    "derive",
    "render",
]
__version__ = "0.1.0"


def __getattr__(name: str) -> object:
    """Import a public name from its module on first use."""
    module = _PUBLIC.get(name)
    if module is None:
        raise AttributeError(f"module 'derivreg' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *_PUBLIC])
