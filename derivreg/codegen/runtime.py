"""Build a derivation's kernel module at run time, from the generator's source only.

Three layers keep the compiled code to what the generator prints:

1. the source comes only from :func:`~derivreg.codegen.kernel.generate`,
   whose names are checked identifiers and whose prose is escaped;
2. before it runs, the parsed source passes :func:`gate`: no name or
   attribute starting with ``__`` (``numpy.__builtins__``, ``f.__globals__``),
   only the attributes the generator uses, only its own imports;
3. it runs with a short allow-list of builtins, and ``np`` is not the NumPy
   module but a namespace of the NumPy functions the kernels call.

Examples
--------
>>> from derivreg import derive
>>> compile(derive("mse")).NAME
'mse'
"""

from __future__ import annotations
import __future__

import ast
import builtins
import math
import types
from collections.abc import Callable, Mapping, Sequence

import numpy as np

from derivreg.codegen.checks import SPARSE_MODULE, SPARSE_NAMES, checks_source
from derivreg.codegen.kernel import generate
from derivreg.codegen.printers import identifier
from derivreg.symbolic import Derivation

__all__ = ["NUMPY_NAMES", "compile", "gate"]

#: The NumPy names generated modules use: all the compiled module's ``np`` has.
NUMPY_NAMES = (
    # the kernels' names, and the checks' recomputing paths' (powers of two, edges)
    "abs", "all", "any", "append", "argmin", "array", "asarray", "column_stack", "copysign",
    "cosh", "empty", "errstate", "exp", "expm1", "finfo", "flatnonzero", "float64", "floor",
    "frexp", "fromiter", "full", "inf",
    "iscomplexobj", "isfinite", "isinf", "isnan", "ldexp", "log", "log10", "log1p", "max",
    "maximum", "mean", "min", "minimum", "nan", "ndarray", "ndim", "nextafter", "ones", "pi",
    "ravel", "reshape", "shape", "sign", "sinh", "sqrt", "sum", "tanh", "where",
)  # fmt: skip

#: Attributes of values (arrays, dicts) the generated modules read.
_VALUE_ATTRIBUTES = frozenset(
    {"T", "any", "dtype", "items", "max", "min", "ndim", "shape", "tolist"}  # tolist: _lgammas
)

#: The ``math`` names the checks use (``_lgamma``): all the compiled checks' ``math`` has.
MATH_NAMES = frozenset({"lgamma"})

_CHECKS_MODULE = "derivreg.kernels._checks"

#: Builtins the compiled code may not even name (getattr, open, eval, ...): every
#: builtin but the allow-list below and the types its annotations name.
_UNSAFE_BUILTINS = frozenset(dir(builtins)) - {
    "float", "abs", "max", "min", "range", "type", "ValueError", "TypeError",
    "tuple", "object", "str", "int", "bool", "FloatingPointError",
}  # fmt: skip

_BUILTINS = {
    "float": float,
    "abs": abs,
    "max": max,
    "min": min,
    "range": range,
    "type": type,
    "bool": bool,  # compared with a dtype by the scalar check; no way out of the sandbox
    "ValueError": ValueError,
    "TypeError": TypeError,
    "FloatingPointError": FloatingPointError,
    "int": int,
    "tuple": tuple,
}


def gate(source: str) -> ast.Module:
    r"""Parse generated ``source`` and refuse anything the generator never prints.

    Raises
    ------
    ValueError
        On a name or attribute starting with ``__``, an attribute outside
        the generator's few, or an import of anything but NumPy, math, the sparse
        helpers of :mod:`derivreg._sparse` and
        the kernels' input checks.

    Examples
    --------
    >>> gate("import numpy as np\nnp.__builtins__")
    Traceback (most recent call last):
    ...
    ValueError: line 2: generated code may not use '__builtins__'
    """
    tree = ast.parse(source)
    for node in ast.walk(tree):
        names = [getattr(node, f, None) for f in ("id", "attr", "arg", "name")]
        for text in names:
            if isinstance(text, str) and text.startswith("__"):
                line = getattr(node, "lineno", "?")  # every node that names something has one
                raise ValueError(f"line {line}: generated code may not use {text!r}")
    for node in ast.walk(tree):
        line = getattr(node, "lineno", "?")
        if isinstance(node, ast.Name) and node.id in _UNSAFE_BUILTINS:
            raise ValueError(f"line {line}: generated code may not use {node.id}()")
        if isinstance(node, ast.Attribute):
            on = node.value.id if isinstance(node.value, ast.Name) else ""
            allowed = {"np": NUMPY_NAMES, "math": MATH_NAMES}.get(on, _VALUE_ATTRIBUTES)
            if node.attr not in allowed:
                raise ValueError(f"line {line}: generated code may not use .{node.attr}")
        elif (
            isinstance(node, ast.Import)
            and [a.name for a in node.names] not in (["numpy"], ["math"])
        ) or (isinstance(node, ast.ImportFrom) and not _allowed_from(node)):
            raise ValueError(f"line {line}: generated code may not import {ast.unparse(node)}")
    return tree


def _allowed_from(node: ast.ImportFrom) -> bool:
    """Whether a ``from ... import`` is one the generator prints.

    The kernels' checks, or the sparse helpers' few names (unaliased); nothing else.
    """
    if node.level:
        return False
    if node.module == _CHECKS_MODULE:
        return True
    return node.module == SPARSE_MODULE and all(
        a.name in SPARSE_NAMES and a.asname is None for a in node.names
    )


def _importer(
    modules: Mapping[str, object],
) -> Callable[..., object]:
    def restricted_import(  # __import__'s signature: all of it for NumPy's own imports
        name: str,
        globals: Mapping[str, object] | None = None,
        locals: Mapping[str, object] | None = None,
        fromlist: Sequence[str] = (),
        level: int = 0,
    ) -> object:
        if name.startswith("numpy.") and not level:
            # NumPy's own lazy imports, made from C by array methods (ndarray.any imports
            # numpy._core._methods on its first call): the generated code cannot reach this
            # hook (gate refuses dunders and every import but its own), only NumPy can
            return builtins.__import__(name, globals, locals, fromlist, level)
        if name not in modules or level:
            raise ImportError(
                f"generated kernels may import only numpy and math (and their input checks), "
                f"not {name!r}"
            )
        return modules[name]

    return restricted_import


def _run(source: str, name: str, modules: Mapping[str, object]) -> types.ModuleType:
    tree = gate(source)
    module = types.ModuleType(name)
    namespace = module.__dict__
    namespace["__builtins__"] = {**_BUILTINS, "__import__": _importer(modules)}
    flags = __future__.annotations.compiler_flag  # annotations stay unevaluated strings
    code = builtins.compile(tree, f"<{name}>", "exec", flags=flags, dont_inherit=True)
    # The one exec of derivreg. Safe because: the source is printed by generate() from
    # checked identifiers and escaped prose, gate() refused dunders, unsafe builtins and
    # foreign imports, and it runs without the numpy module or unsafe builtins.
    exec(code, namespace)  # noqa: S102
    namespace["__source__"] = source
    return module


def compile(derivation: Derivation) -> types.ModuleType:
    """Build the kernel module of a derivation at run time.

    The source comes only from :func:`generate` (never from a caller's
    string), passes :func:`gate`, and runs in a namespace whose builtins are
    a short allow-list and whose ``np`` holds only :data:`NUMPY_NAMES`.

    Returns
    -------
    module
        With the kernel functions and the printed source as ``__source__``.

    Examples
    --------
    >>> import numpy as np
    >>> from derivreg import derive
    >>> bce = compile(derive("bce"))
    >>> bce.loss(np.zeros((2, 1)), np.array([0.0, 1.0]), np.zeros(1), 0.0)
    0.6931471805599453
    """
    name = identifier(derivation.name)
    source = generate(derivation)
    numpy = types.SimpleNamespace(**{n: getattr(np, n) for n in NUMPY_NAMES})
    from derivreg import _sparse  # NumPy only; the checks' sparse branch

    helpers = types.SimpleNamespace(**{n: getattr(_sparse, n) for n in SPARSE_NAMES})
    # math: only its log-gamma, of one float (the checks' _lgamma; NumPy has none)
    scalar = types.SimpleNamespace(**{n: getattr(math, n) for n in MATH_NAMES})
    checks = _run(
        checks_source(),
        "derivreg.kernels.runtime_checks",
        {"numpy": numpy, "math": scalar, SPARSE_MODULE: helpers},
    )
    return _run(
        source, f"derivreg.kernels.runtime_{name}", {"numpy": numpy, _CHECKS_MODULE: checks}
    )
