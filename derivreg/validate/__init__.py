"""Translation validation: a generated kernel is the generator's, and its holes are proven.

A reader finds the validator here, in one place:

================  ==========================================================
``skeleton``      the parsed module against the generator's own, node for node
``semantics``     what printed expressions mean: NumPy on the reals, as a table
``denominators``  each denominator proven nonzero before SymPy cancels it
``holes``         each printed expression proven equal to the derivation's
``interpreter``   the fixed code run on SymPy values, holes opaque
``contracts``     what the interpreter takes each input check to return
``lemmas``        the derivation's own update rules and identities, proven
``batch``         :func:`validate`: ``derivreg/kernels/<pair>.py``
``loop``          :func:`validate_loop`: ``derivreg/kernels/<pair>_loop.py``
``fused``         :func:`validate_fused`: ``derivreg/kernels/<pair>_fused.py``
``checks``        :func:`validate_checks`: ``derivreg/kernels/_checks.py``
================  ==========================================================

Nothing read is run: sources are parsed with :mod:`ast`, and no value read
from them reaches ``sympify``, ``eval`` or ``exec``.

Examples
--------
>>> from derivreg import derive
>>> from derivreg.codegen import generate
>>> validate(generate(derive("mse")), derive("mse")).ok
True
"""

from __future__ import annotations

from derivreg.validate.batch import validate
from derivreg.validate.checks import validate_checks
from derivreg.validate.fused import validate_fused
from derivreg.validate.loop import validate_loop
from derivreg.validate.report import ValidationError, ValidationReport

__all__ = [
    "ValidationError",
    "ValidationReport",
    "validate",
    "validate_checks",
    "validate_fused",
    "validate_loop",
]
