"""Second derivatives written out by hand: an independent reference for the generated ones.

The generated kernels print their own ``curvature``, ``hessian`` and ``hvp``
from the derivation's d2J/dz2.  The tests compare them with these, written
out here and independent of the code under test: 2 for ``(z - y)^2``, and
``sigma(z) sigma(-z)`` for ``-y log sigma(z) - (1 - y) log sigma(-z)``,
``exp(z)`` for ``exp(z) - y z`` (Poisson) and ``y exp(-z)`` for ``y exp(-z) + z``
(Gamma, log link).
``first_order_only`` strips the second order off a generated module, as a
user's module without one would be.
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

#: The generated second-order functions (derivreg/codegen/hessian.py) and the
#: log-likelihood (derivreg/codegen/likelihood.py), and the fused Newton kernel.
SECOND_ORDER = (
    *(
        "curvature",
        "expected_curvature",
        "CURVATURE_READS_Y",
        "hessian",
        "_hessian",
        "_hessian_sums",
        "hvp",
        "_hvp",
        "_hvp_sums",
    ),
    *("log_normaliser", "dispersion", "pearson_residual", "log_likelihood", "LOGLIK_SCALE"),
    *("newton_terms", "_newton_terms", "_newton_sums"),  # derivreg/codegen/newton.py
)


def first_order_only(name):
    """The generated kernel module ``name`` without its second order and log-likelihood."""
    base = KERNELS[name]
    module = types.ModuleType(f"{base.__name__}_first_order")
    module.__dict__.update(
        {k: v for k, v in vars(base).items() if not k.startswith("__") and k not in SECOND_ORDER}
    )
    return module
