"""A property of a pair's kernels, stated once: what it says, its cases, its check.

Examples
--------
>>> from derivreg.testing._accuracy import STABILITY
>>> STABILITY.variants
('generated',)
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from hypothesis import strategies as st

from derivreg.testing._reference import Reference

__all__ = ["BLOCKED", "VARIANT_NAMES", "Check", "Property"]

# check(kernel, ref, case): the kernel a module or any object with its functions, the case
# whatever the property's strategy draws (a Batch, a (Batch, rate) pair, ...): Any to a checker
Check = Callable[[Any, Reference, Any], None]

#: Builds of a pair's kernel the test suite runs properties on
#: (``tests/properties/factory.py`` builds them): the module itself, the same
#: code with 2-row blocks, and training's per-sample epochs through ``update``.
VARIANT_NAMES = ("generated", "2-row blocks", "update per sample")

#: Batch properties also run on the kernels with 2-row blocks (the large-batch path).
BLOCKED = VARIANT_NAMES


@dataclass(frozen=True)
class Property:
    """A property, stated once.

    Parameters
    ----------
    name : str
        What it says, as a sentence.
    strategy : callable
        ``strategy(ref)`` -> Hypothesis strategy of cases for that pair.
    check : callable
        ``check(kernel, ref, case)``; raises AssertionError when the property fails.
    catches : tuple of str
        Names of the test suite's planted bugs (``tests/properties/planted.py``)
        it must find.
    applies : callable
        ``applies(ref)``: whether the property is stated for that pair.
    variants : tuple of str
        Which builds of each kernel it runs on (:data:`VARIANT_NAMES`).
    known_failures : mapping
        Pair name -> a reported bug that makes the property fail for that pair.
        The test is then a strict xfail: it keeps running, and the day the bug is
        fixed it XPASSes, which fails the suite until the entry is removed.
    examples : callable
        ``examples(ref)`` -> cases always run first (Hypothesis's explicit phase), so
        that a path a planted bug lives on is reached whatever the database or order.
    """

    name: str
    strategy: Callable[[Reference], st.SearchStrategy]
    check: Check
    catches: tuple[str, ...]
    applies: Callable[[Reference], bool] = lambda ref: True  # noqa: ARG005
    variants: tuple[str, ...] = ("generated",)
    known_failures: Mapping[str, str] = field(default_factory=dict)
    examples: Callable[[Reference], tuple[object, ...]] = lambda ref: ()  # noqa: ARG005
