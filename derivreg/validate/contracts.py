"""The input checks' contracts: what the interpreter takes each check to return.

The checks themselves (``derivreg/kernels/_checks.py``) are the generator's,
compared node for node (:mod:`~derivreg.validate.checks`); a run of the
fixed code needs only what each returns of its arguments, or that it raises.

Examples
--------
>>> CONTRACTS["_finite"](["J", "unused"])
'J'
"""

from __future__ import annotations

import ast
from collections.abc import Callable, Mapping

import numpy as np
import sympy as sp

from derivreg.validate._values import _BINARY, _NUMPY, _shape
from derivreg.validate.report import ValidationError

__all__ = ["CONTRACTS"]

#: The input checks' contracts: each returns these of its arguments (or raises).
#: The checks themselves are the generator's, compared node for node.
CONTRACTS: Mapping[str, Callable[[list[object]], object]] = {
    "_check_params": lambda a: tuple(a[:3]),
    "_check_batch": lambda a: tuple(a[:4]),
    "_as_finite_scalar": lambda a: a[1],
    "_finite": lambda a: a[0],
    # z = X @ w + b, by the interpreter's own operators on its values
    "_scores": lambda a: _BINARY[ast.Add](_BINARY[ast.MatMult](a[0], a[1]), a[2]),
    "_fits": lambda a: a[0],
    "_checked_rows": lambda a: a[0],
    "_at_edges": lambda a: a[0],
    "_as_floats": tuple,
    "_mean_loss": lambda a: _NUMPY["mean"](a[0]),
    "_checked_grad": lambda a: (a[0], a[1]),
    # the L2 terms added to the mean (alpha = 0 makes each R_j = 0: the same sum)
    "_penalised": lambda a: a[0] + sp.Add(*np.asarray(a[1], dtype=object).ravel()),
    "_checked_update": lambda a: (a[0], a[1]),
    "_checked_losses": lambda a: a[0],
    # the blocked mean loss: a block's sum, or nan where a loss is 0; the blocks' mean, or
    # (nan) the checked per-sample path's, itself validated (losses, _mean_loss)
    "_nonzero": lambda a: a[0],
    "_checked_loss": lambda a: a[0],
    # a non-finite term is the checked kernel's, itself validated (contract: unchanged)
    "_checked_hessian": lambda a: a[0],
    "_checked_newton": lambda a: tuple(a[:3]),
    "_checked_log_likelihood": lambda a: a[0],
    # Pearson's dispersion: the sum of r over m - p, p = n + 1 (refused where m <= p)
    "_pearson_dispersion": lambda a: _pearson(a[0], a[1]),
    # bytes per row of a dense X; any positive value only sizes the blocks, and the
    # block loop is run with every block size (validate.batch)
    "_row_bytes": lambda a: 8 * _shape(a[0])[1],
    "_check_direction": lambda a: a[1],
    # the weights as given (the validator passes weights already of mean 1), or None
    "_check_sample_weight": lambda a: a[0],
    "_check_alpha": lambda a: a[0],
    "_as_float_array": lambda a: a[1],
}


def _pearson(r: object, X: object) -> object:
    """Return ``_pearson_dispersion``'s contract: ``sum(r) / (m - p)``, only where ``m > p``."""
    m, p = _shape(X)[0], _shape(X)[1] + 1
    if m <= p:
        raise ValidationError(f"Pearson's dispersion of m={m} rows and p={p} parameters")
    return sp.Add(*np.asarray(r, dtype=object).ravel()) / (m - p)
