"""Checks of scalar settings, with scikit-learn's wording: one error that names the setting.

Every check raises :class:`InvalidParameterError`, which (as scikit-learn's
error of the same name) is both a ``ValueError`` and a ``TypeError``, so that
callers catching either keep working.  Messages read::

    The 'tol' parameter of train must be a float in the range [0.0, inf) or None. Got 'abc' instead.

Numbers are instances of :class:`numbers.Real` other than bools: complex
scalars, bools, strings and None are refused where a number is meant.

Examples
--------
>>> real("tol", 1e-3, "train", low=0.0)
0.001
>>> real("tol", "abc", "train", low=0.0)  # doctest: +ELLIPSIS
Traceback (most recent call last):
...
derivreg._params.InvalidParameterError: The 'tol' parameter of train must be a float in ...
"""

from __future__ import annotations

import math
from collections.abc import Collection
from numbers import Integral, Real
from typing import Literal, TypeGuard, TypeVar, overload

import numpy as np

__all__ = ["InvalidParameterError", "choice", "count", "finite_real", "flag", "real", "seed"]

#: What :func:`numpy.random.default_rng` takes, as :func:`seed` accepts it.
Seed = int | np.random.Generator | np.random.BitGenerator | np.random.SeedSequence | None

_Option = TypeVar("_Option", bound=str)


class InvalidParameterError(ValueError, TypeError):
    """A setting of the wrong type or out of range; names the setting and what it accepts.

    Examples
    --------
    >>> issubclass(InvalidParameterError, ValueError), issubclass(InvalidParameterError, TypeError)
    (True, True)
    """


def refuse(name: str, owner: str, accepted: str, value: object) -> InvalidParameterError:
    """Return the error for ``value`` of setting ``name`` of ``owner``, which accepts ``accepted``.

    Examples
    --------
    >>> str(refuse("every", "train", "an int in the range [1, inf)", 0))
    "The 'every' parameter of train must be an int in the range [1, inf). Got 0 instead."
    """
    return InvalidParameterError(
        f"The {name!r} parameter of {owner} must be {accepted}. Got {value!r} instead."
    )


def is_real(value: object) -> TypeGuard[Real]:
    """Whether ``value`` is a real number (bools, complex numbers and strings are not).

    Examples
    --------
    >>> is_real(1.5), is_real(np.float32(2)), is_real(True), is_real(1j)
    (True, True, False, False)
    """
    if type(value) is float or type(value) is int:  # the common case, without the ABC check
        return True
    return isinstance(value, Real) and not isinstance(value, (bool, np.bool_))


def is_int(value: object) -> TypeGuard[Integral]:
    """Whether ``value`` is an integer (bools are not).

    Examples
    --------
    >>> is_int(3), is_int(np.int64(3)), is_int(3.0), is_int(False)
    (True, True, False, False)
    """
    if type(value) is int:  # the common case, without the ABC check
        return True
    return isinstance(value, Integral) and not isinstance(value, (bool, np.bool_))


def _interval(low: float, high: float, low_open: bool, high_open: bool) -> str:
    def show(v: float) -> str:
        return "inf" if v == math.inf else "-inf" if v == -math.inf else repr(float(v))

    left = "(" if low_open or low == -math.inf else "["
    right = ")" if high_open else "]"
    return f"{left}{show(low)}, {show(high)}{right}"


@overload
def real(
    name: str,
    value: object,
    owner: str,
    low: float = ...,
    high: float = ...,
    *,
    low_open: bool = ...,
    high_open: bool = ...,
    none: Literal[False] = ...,
) -> float: ...
@overload
def real(
    name: str,
    value: object,
    owner: str,
    low: float = ...,
    high: float = ...,
    *,
    low_open: bool = ...,
    high_open: bool = ...,
    none: bool,
) -> float | None: ...
def real(
    name: str,
    value: object,
    owner: str,
    low: float = -math.inf,
    high: float = math.inf,
    *,
    low_open: bool = False,
    high_open: bool = False,
    none: bool = False,
) -> float | None:
    """``value`` as a float in the interval, or an error naming ``name``.

    An infinite end of the interval is accepted only if ``high_open`` is
    false and ``high`` is inf (``(1.0, inf]``); NaN never.

    Examples
    --------
    >>> real("divergence_factor", math.inf, "train", 1.0, low_open=True)
    inf
    >>> real("tol", None, "train", 0.0, none=True) is None
    True
    """
    if none and value is None:
        return None
    v = float(value) if is_real(value) else math.nan
    inside = (v > low if low_open else v >= low) and (v < high if high_open else v <= high)
    if math.isnan(v) or not inside or (math.isinf(v) and not (v == high == math.inf)):
        # the message is built only here: a call that passes costs no formatting
        span = _interval(low, high, low_open, high_open)
        accepted = f"a float in the range {span}" + (" or None" if none else "")
        raise refuse(name, owner, accepted, value)
    return v


def finite_real(name: str, value: object, owner: str) -> float:
    """``value`` as a finite float, or an error naming ``name``.

    Examples
    --------
    >>> finite_real("b0", np.float64(-2.5), "train")
    -2.5
    """
    if not is_real(value) or not math.isfinite(value):
        raise refuse(name, owner, "a finite float", value)
    return float(value)


@overload
def count(name: str, value: object, owner: str, *, none: Literal[False] = ...) -> int: ...
@overload
def count(name: str, value: object, owner: str, *, none: bool) -> int | None: ...
def count(name: str, value: object, owner: str, *, none: bool = False) -> int | None:
    """``value`` as an int >= 1 (or None if allowed), or an error naming ``name``.

    Examples
    --------
    >>> count("epochs", 3, "train")
    3
    """
    if none and value is None:
        return None
    if not is_int(value) or value < 1:
        raise refuse(
            name, owner, "an int in the range [1, inf)" + (" or None" if none else ""), value
        )
    return int(value)


def flag(name: str, value: object, owner: str) -> bool:
    """``value`` as a bool, or an error naming ``name`` (1 and 'yes' are not bools).

    Examples
    --------
    >>> flag("shuffle", np.True_, "train")
    True
    """
    if not isinstance(value, (bool, np.bool_)):
        raise refuse(name, owner, "an instance of 'bool'", value)
    return bool(value)


def choice(name: str, value: object, owner: str, options: Collection[_Option]) -> _Option:
    """``value`` if it is one of ``options``, or an error naming ``name`` and listing them.

    Examples
    --------
    >>> choice("record", "none", "train", ("all", "loss", "none"))
    'none'
    """
    if isinstance(value, str):
        for option in options:  # the option equal to value: a type checker sees its Literal
            if option == value:
                return option
    listed = "{" + ", ".join(repr(o) for o in sorted(options)) + "}"
    raise refuse(name, owner, f"a str among {listed}", value)


def seed(name: str, value: object, owner: str) -> Seed:
    """Return ``value`` if it seeds :func:`numpy.random.default_rng`: None, int >= 0, a generator.

    Examples
    --------
    >>> seed("seed", 7, "train")
    7
    """
    generators = (np.random.Generator, np.random.BitGenerator, np.random.SeedSequence)
    if value is None or isinstance(value, generators):
        return value
    if is_int(value) and not value < 0:
        return int(value)  # np.int64(7) seeds as 7 does
    accepted = "an int in the range [0, inf), a numpy.random.Generator or None"
    raise refuse(name, owner, accepted, value)
