"""Check a pair's kernels with derivreg's property suite: :func:`check_kernels`.

The properties the test suite runs over every registered pair, as a public
function, the way scikit-learn's ``check_estimator`` checks an estimator:
central differences, mpmath at 50 digits, the chain factors and the
registry's claims, stability over the whole float64 range, one SGD step
within the derived bound, row permutations, inputs never written to, and the
module computing what a fresh generation computes; and bad input (NaN,
infinity, wrong shapes, unconvertible or complex arrays, labels outside the
domain) refused with an error naming it, the caller's arrays untouched.  Each
property is stated once (``derivreg/testing/_accuracy.py``,
``_invariants.py``, ``_bad_input.py``);
the references are built from the pair's derivation, never from its kernels
(``_reference.py``, where the tolerances' rounding model is written).

It needs the test extra (Hypothesis, mpmath, SciPy) and SymPy:
``pip install 'derivreg[test]'``.

Examples
--------
>>> from derivreg.kernels import KERNELS
>>> from derivreg.symbolic import REGISTRY
>>> report = check_kernels(KERNELS["mse"], REGISTRY["mse"], max_examples=5)
>>> report["grad matches central differences of loss"]
'passed'
"""

from __future__ import annotations

import importlib.util

_EXTRA = ("hypothesis", "mpmath", "scipy")
_missing = [name for name in _EXTRA if importlib.util.find_spec(name) is None]
if _missing:
    raise ImportError(
        f"derivreg.testing needs {', '.join(_missing)} (the test extra): "
        f"pip install 'derivreg[test]'"
    )

from derivreg.testing._check import PROPERTIES, KernelCheckError, check_kernels  # noqa: E402
from derivreg.testing._property import Property  # noqa: E402

__all__ = ["PROPERTIES", "KernelCheckError", "Property", "check_kernels"]
