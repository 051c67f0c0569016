"""derivreg: regression gradients derived by SymPy, printed as NumPy, proven and tested.

The public face is small: :func:`derive` builds a checked chain-rule
derivation of a registered (activation, loss) pair, and :func:`render`
prints it for a terminal, a paper or the docs.

Examples
--------
>>> import derivreg
>>> derivreg.derive("bce").dJ_dz
-y + yhat
"""

from derivreg.render import render as render
from derivreg.symbolic import REGISTRY as REGISTRY
from derivreg.symbolic import Derivation as Derivation
from derivreg.symbolic import DerivationError as DerivationError
from derivreg.symbolic import derive as derive

__all__ = ["REGISTRY", "Derivation", "DerivationError", "derive", "render"]
__version__ = "0.1.0"
