"""The symbols every derivation shares, in the lecture's names.

Examples
--------
>>> from derivreg.symbolic.symbols import yhat, z
>>> yhat.is_real, z.name
(True, 'z')
"""

from __future__ import annotations

import sympy as sp

__all__ = [
    "CHECK_DIMENSION",
    "J_mean",
    "alpha",
    "b",
    "n",
    "phi",
    "w_scalar",
    "w_vector",
    "x_scalar",
    "x_vector",
    "y",
    "yhat",
    "z",
]

y, yhat, z, b, alpha = sp.symbols("y yhat z b alpha", real=True)
n = sp.Symbol("n", integer=True, positive=True)
x_scalar, w_scalar = sp.symbols("x w", real=True)
x_vector = sp.MatrixSymbol("x", n, 1)
w_vector = sp.MatrixSymbol("w", n, 1)

#: The family's dispersion, and the mean loss its maximum-likelihood value is a function of.
phi = sp.Symbol("phi", positive=True)
J_mean = sp.Symbol("J_mean", positive=True)

#: Dimension used when a vector-form step is checked with explicit components.
CHECK_DIMENSION = 3
