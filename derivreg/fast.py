"""Run the generated per-sample loops and fused batch kernels, in CPython or compiled by numba.

``derivreg/kernels/<loss>_loop.py`` holds ``sgd_epoch``, one epoch of the
lecture's per-sample SGD printed from the derivation and proven equal to it
(:func:`derivreg.codegen.validate_loop`).  This module adds no arithmetic:
:func:`epoch` runs that function on flat lists of floats in CPython (``"python"``,
always available) or on arrays after ``numba.njit`` compiles the very same
function (``"numba"``, the optional ``fast`` extra: ``pip install
derivreg[fast]``).  numba compiles it without ``fastmath``, so the stable
formulas are evaluated as written, in the same order.

``derivreg/kernels/<loss>_fused.py`` holds the batch ``grad``, ``loss`` and
``update`` as one pass over X per call (:mod:`derivreg.codegen.fused`,
proven by :func:`derivreg.validate.validate_fused`); :func:`grad`,
:func:`loss` and :func:`update` here check their inputs as the NumPy
kernels do and run them compiled by numba (``njit(parallel=True)`` on the
row blocks, no ``fastmath`` but reassociation in the row dot product), on
``numba.get_num_threads()`` threads.

The per-sample loop lives in ``derivreg._fast_loop``, the fused batch kernels
in ``derivreg._fast_fused``; their names are re-exported here, where they are
documented.  Importing this module needs NumPy only: numba is imported when a
compiled function is first asked for.

Examples
--------
>>> import numpy as np
>>> X, y = np.array([[1.0], [2.0]]), np.array([3.0, 5.0])
>>> r = epoch("mse", X, y, np.zeros(1), 0.0, 0.1)
>>> np.round(r.J, 6).tolist(), np.round(r.w, 6).tolist(), round(r.b, 6)
([9.0, 10.24], [1.88], 1.24)
"""

from __future__ import annotations

from derivreg import _fast_fused, _fast_loop
from derivreg._fast_fused import (
    compile_fused,
    fused,
    fused_serial,
    grad,
    loss,
    update,
)
from derivreg._fast_loop import (
    Epoch,
    auto,
    available,
    compiled,
    epoch,
)

__all__ = [
    "AUTO_NUMBA_UPDATES",
    "BACKENDS",
    "PARALLEL_MIN_ELEMENTS",
    "Epoch",
    "auto",
    "available",
    "compile_fused",
    "compiled",
    "epoch",
    "fused",
    "fused_serial",
    "grad",
    "loss",
    "update",
]

# The constants, bound here again: their documentation is read off this module's source.

#: ``train(backend="auto")`` compiles the loop with numba from this many
#: per-sample updates on (or past 32 features, where there is no CPython
#: loop): importing numba and compiling a loop take about a second, what the
#: CPython loop needs for some 1e5 updates of a few features
#: (docs/performance.rst).
AUTO_NUMBA_UPDATES = _fast_loop.AUTO_NUMBA_UPDATES

#: The backends :func:`epoch` knows.
BACKENDS: tuple[str, ...] = _fast_loop.BACKENDS

#: :func:`grad`, :func:`loss` and :func:`update` run their row blocks on numba's
#: threads from this many elements of X on (16 MiB), and on the calling thread
#: below: waking the threads costs tens of microseconds on an idle machine and
#: milliseconds on a busy one.  Both give the same floats (the blocks' sums are
#: added in block order whatever ran them).
PARALLEL_MIN_ELEMENTS = _fast_fused.PARALLEL_MIN_ELEMENTS
