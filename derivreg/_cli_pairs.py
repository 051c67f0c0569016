"""``derivreg generate --pair mypkg.losses:HUBER``: find a user's Pair by importing their module.

The module is imported as Python imports any module (it is the user's own
code, named on their command line); the name after the colon is read with
``getattr``.  Nothing is evaluated: both parts must be plain identifiers.

Examples
--------
>>> load_pair("derivreg.symbolic.registry:POISSON").name
'poisson'
>>> load_pair("os:system")
Traceback (most recent call last):
...
ValueError: --pair os:system is not a derivreg.symbolic.Pair (it is a builtin_function_or_method)
"""

from __future__ import annotations

import importlib
import sys
from pathlib import Path

from derivreg.symbolic import Pair

__all__ = ["load_pair"]


def load_pair(spec: str) -> Pair:
    """Return the :class:`~derivreg.symbolic.Pair` that ``MODULE:NAME`` names.

    The current directory is importable, as with ``python -m``.

    Raises
    ------
    ValueError
        If ``spec`` is not ``MODULE:NAME`` of identifiers, the module cannot be
        imported, or the name is missing or not a Pair.

    Examples
    --------
    >>> load_pair("derivreg.symbolic.registry:GAMMA").title
    'Gamma regression, log link'
    """
    module_name, colon, name = spec.partition(":")
    parts = module_name.split(".")
    if not colon or not name.isidentifier() or not all(p.isidentifier() for p in parts):
        raise ValueError(f"--pair takes MODULE:NAME, e.g. mypkg.losses:HUBER; got {spec!r}")
    here = str(Path.cwd())
    if here not in sys.path:
        sys.path.insert(0, here)
    try:
        module = importlib.import_module(module_name)
    except ImportError as err:
        raise ValueError(f"--pair {spec}: cannot import {module_name!r}: {err}") from err
    if not hasattr(module, name):
        raise ValueError(f"--pair {spec}: module {module_name!r} has no {name!r}")
    pair = getattr(module, name)
    if not isinstance(pair, Pair):
        kind = type(pair).__name__
        raise ValueError(f"--pair {spec} is not a derivreg.symbolic.Pair (it is a {kind})")
    return pair
