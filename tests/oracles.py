"""Second derivatives written out by hand, for tests of the Newton path and inference.

The generator does not print a per-sample curvature kernel yet (the second-order
issue), so tests that need one give the generated kernel modules a hand-written
``curvature(z, y)``: 2 for ``(z - y)^2``, and ``sigma(z) sigma(-z)`` for
``-y log sigma(z) - (1 - y) log sigma(-z)``, ``exp(z)`` for ``exp(z) - y z``
(Poisson) and ``y exp(-z)`` for ``y exp(-z) + z`` (Gamma, log link).  They are
independent of the code under test.
"""

import types

import numpy as np
from scipy.special import expit

from derivreg.kernels import KERNELS

CURVATURE = {
    "mse": lambda z, y: np.full_like(z, 2.0),
    "bce": lambda z, y: expit(z) * expit(-z),
    "poisson": lambda z, y: np.exp(z),  # d2/dz2 of exp(z) - y z
    "gamma": lambda z, y: y * np.exp(-z),  # d2/dz2 of y exp(-z) + z
}


def with_curvature(name):
    """The generated kernel module ``name`` plus a hand-written ``curvature`` attribute."""
    base = KERNELS[name]
    module = types.ModuleType(f"{base.__name__}_with_curvature")
    module.__dict__.update({k: v for k, v in vars(base).items() if not k.startswith("__")})
    module.curvature = CURVATURE[name]
    return module
