"""The values a run of the fixed code handles: sizes, opaque holes, unset entries, arrays.

Sizes and indices are concrete integers (:func:`_size`); a hole's value is
an opaque SymPy function of its inputs (:func:`opaque`); an entry of
``np.empty`` refuses every operation until written (:data:`_UNSET`); and
``_NUMPY`` is the part of NumPy the fixed code calls, on object arrays.

Examples
--------
>>> _size(sp.Integer(3)), _index((1, 2))
(3, (1, 2))
"""

from __future__ import annotations

import ast
from collections.abc import Callable, Mapping, Sequence

import numpy as np
import sympy as sp

from derivreg.codegen.templates import Hole
from derivreg.validate.report import ValidationError

__all__ = ["opaque"]


def _size(value: object) -> int:
    """Return a size or index as an int; refuse anything but a concrete integer."""
    if isinstance(value, int | sp.Integer) and not isinstance(value, bool):
        return int(value)
    raise ValidationError(f"expected an integer size or index, got {value!r}")


def _shape(value: object) -> tuple[int, ...]:
    """Return ``np.shape(value)`` of any value a run handles (a SymPy scalar's is ``()``)."""
    # NumPy's stubs take only array-likes; np.shape itself takes any object (0-d if no array)
    return np.shape(value)  # type: ignore[call-overload]


def _index(value: object) -> int | tuple[int, ...]:
    """Return an index (an int, or a tuple of them for a 2-D array) of concrete integers."""
    if isinstance(value, tuple):
        return tuple(_size(v) for v in value)
    return _size(value)


class _Parallel:
    """``prange(k)``: a range whose iterations must touch disjoint array elements."""

    def __init__(self, *bounds: int) -> None:
        self.range = range(*bounds)


class _Tracked:
    """The array elements one ``prange`` iteration wrote and read, by (array id, index)."""

    def __init__(self) -> None:
        self.wrote: set[tuple[int, int | tuple[int, ...]]] = set()
        self.read: set[tuple[int, int | tuple[int, ...]]] = set()


def opaque(hole: Hole, values: Sequence[object]) -> object:
    """Return the hole as an opaque function of its inputs, elementwise over arrays."""
    for value in values:
        items = value.ravel() if isinstance(value, np.ndarray) else [value]
        if not all(isinstance(v, sp.Basic) for v in items):  # never a string to SymPy
            raise ValidationError(f"the inputs of {hole.target} must be numbers, got {value!r}")
    if not hole.inputs:
        return sp.Symbol(f"hole_{hole.target}", real=True)
    f = sp.Function(f"hole_{hole.target}", real=True)
    return np.frompyfunc(f, len(values), 1)(*values) if values else f()


_BINARY: Mapping[type, Callable[[object, object], object]] = {
    ast.Add: lambda a, b: a + b,  # type: ignore[operator]
    ast.Sub: lambda a, b: a - b,  # type: ignore[operator]
    ast.Mult: lambda a, b: a * b,  # type: ignore[operator]
    ast.Div: lambda a, b: a / b,  # type: ignore[operator]
    ast.MatMult: lambda a, b: a @ b,  # type: ignore[operator]
    ast.FloorDiv: lambda a, b: _size(a) // _size(b),
    ast.Mod: lambda a, b: _size(a) % _size(b),
}
_SIZE_COMPARE: Mapping[type, Callable[[int, int], bool]] = {
    ast.Eq: lambda a, b: a == b,
    ast.Gt: lambda a, b: a > b,
    ast.Lt: lambda a, b: a < b,
    ast.GtE: lambda a, b: a >= b,
    ast.LtE: lambda a, b: a <= b,
}


class _Unset:
    """An entry of ``np.empty`` not yet written: any arithmetic on it is refused."""

    def _refuse(self, *_: object) -> object:
        raise ValidationError("an entry of np.empty is read before it is written")

    __add__ = __radd__ = __sub__ = __rsub__ = __mul__ = __rmul__ = _refuse
    __truediv__ = __rtruediv__ = __matmul__ = __rmatmul__ = __pow__ = __rpow__ = _refuse
    __neg__ = __pos__ = __float__ = __bool__ = _refuse


_UNSET = _Unset()


def _written(value: object) -> object:
    """Return ``value``, refusing an array with an entry of ``np.empty`` never written.

    Checked before NumPy sees it: an object ``@`` whose element operation raises can
    crash NumPy (seen with a 1-D @ 2-D product), so no such product is attempted.
    """
    if (
        isinstance(value, np.ndarray)
        and value.dtype == object
        and any(v is _UNSET for v in value.flat)
    ):
        raise ValidationError("an entry of np.empty is read before it is written")
    return value


def _column_stack(arrays: object) -> np.ndarray:
    """``np.column_stack`` of a tuple of 1-D and 2-D object arrays with the same rows."""
    if not isinstance(arrays, tuple) or not all(isinstance(a, np.ndarray) for a in arrays):
        raise ValidationError(f"np.column_stack takes a tuple of arrays, got {arrays!r}")
    return np.column_stack(arrays)


_NUMPY: Mapping[str, Callable[..., object]] = {
    "mean": lambda a: sp.Add(*np.asarray(a, dtype=object).ravel()) / np.size(a),
    "sum": lambda a: sp.Add(*np.asarray(a, dtype=object).ravel()),
    "shape": np.shape,
    "full": lambda shape, value: np.full(shape, value, dtype=object) if shape else value,
    "ones": lambda size: np.array([sp.Integer(1)] * _size(size), dtype=object),
    "column_stack": _column_stack,
    # unset entries refuse every operation: one read before it is written fails the run
    "empty": lambda shape: np.full(tuple(_size(s) for s in shape), _UNSET, dtype=object),
    "zeros": lambda shape: np.full(shape, sp.Integer(0), dtype=object),
}


class _Text(str):
    """A string constant of the fixed code: a name passed to a check, never a number."""

    __slots__ = ()
