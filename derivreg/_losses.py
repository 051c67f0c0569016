"""Which kernel module a ``loss=`` argument stands for, and what the runtime reads off it.

Everything the runtime knows about a loss comes from its generated module:
``NAME`` (for messages and labels), ``TARGETS`` (the label check),
``THRESHOLD`` (``None`` for a regression, the label threshold of a classifier)
and ``STEP_SIZE_NUMERATOR`` (the derivation's ``2 / sup d2J/dz2``).  No name of
a particular loss appears here: ``loss=None`` means
:data:`derivreg.kernels.DEFAULT`, the first pair of the registry.

A ``loss`` is a key of :data:`derivreg.kernels.KERNELS`, or a kernel module
generated for a pair of one's own by :func:`derivreg.codegen.write`: the
module itself, or its import name (``"mypkg.kernels.huber"``, a str with a dot,
which estimators can clone and pickle).  A :class:`~derivreg.symbolic.Pair` itself is
refused with the way to its module: generating it needs SymPy, and the
runtime never imports SymPy.

Examples
--------
>>> from derivreg.kernels import DEFAULT, KERNELS
>>> kernel_module(None) is KERNELS[DEFAULT]
True
>>> label(kernel_module("bce")), is_classifier(kernel_module("bce"))
('BCE', True)
"""

from __future__ import annotations

import importlib
import sys
from types import ModuleType
from typing import TYPE_CHECKING, TypeGuard

from derivreg import _params

if TYPE_CHECKING:  # pragma: no cover - the runtime never imports SymPy
    from derivreg.symbolic import Pair

__all__ = ["REQUIRED", "is_classifier", "kernel_module", "label", "loop_module"]

#: What a kernel module must provide to be trained with: the generated
#: constants and the batch functions (checked and unchecked).
REQUIRED = (
    "NAME",
    "TARGETS",
    "STEP_SIZE_NUMERATOR",
    "predict",
    "losses",
    "_losses",
    "loss",
    "grad",
    "_grad",
    "update",
)

_PAIR_MODULE = "derivreg.symbolic.registry"


def _is_pair(value: object) -> TypeGuard[Pair]:
    """Whether ``value`` is a :class:`~derivreg.symbolic.Pair` (without importing SymPy)."""
    registry = sys.modules.get(_PAIR_MODULE)
    return registry is not None and isinstance(value, registry.Pair)


def kernel_module(loss: object, owner: str = "train") -> ModuleType:
    """Return the kernel module ``loss`` stands for, or an error saying what it accepts.

    Parameters
    ----------
    loss : str, module or None
        A key of :data:`derivreg.kernels.KERNELS`; a generated kernel module
        (a registered one, or one :func:`derivreg.codegen.write` printed for a
        pair of one's own) or its import name (a str with a dot); or None for
        :data:`derivreg.kernels.DEFAULT`.
    owner : str
        The function or class named in the error.

    Raises
    ------
    TypeError
        For a :class:`~derivreg.symbolic.Pair` (its module must be generated
        first: the message says how), or a module that is not a kernel module.
    InvalidParameterError
        For any other value (a ValueError and a TypeError).

    Examples
    --------
    >>> kernel_module("mse").NAME
    'mse'
    >>> kernel_module("hinge")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    derivreg._params.InvalidParameterError: The 'loss' parameter of train must be ...
    """
    from derivreg.kernels import DEFAULT, KERNELS

    if loss is None:
        return KERNELS[DEFAULT]
    if isinstance(loss, ModuleType):
        missing = [a for a in REQUIRED if not hasattr(loss, a)]
        if missing:
            raise TypeError(
                f"the 'loss' module {loss.__name__!r} of {owner} is not a generated kernel "
                f"module: it has no {', '.join(missing)}; generate one with "
                f"derivreg.codegen.write(pair, directory)"
            )
        return loss
    if _is_pair(loss):
        name = loss.name
        if name in KERNELS and _registered(loss):
            return KERNELS[name]
        raise TypeError(
            f"{owner} trains with a pair's generated kernels, and the pair {name!r} has "
            f"none in derivreg.kernels: generate them once with "
            f"derivreg.codegen.write(pair, 'mypkg/kernels') (or `derivreg generate --pair "
            f"mypkg.losses:PAIR --out mypkg/kernels`), then pass the module, "
            f"loss=importlib.import_module('mypkg.kernels.{name}')"
        )
    if isinstance(loss, str) and "." in loss:
        return kernel_module(_import(loss, owner), owner)
    if isinstance(loss, str):
        return KERNELS[_params.choice("loss", loss, owner, KERNELS)]
    accepted = (
        f"a str among {{{', '.join(map(repr, sorted(KERNELS)))}}}, a generated kernel "
        f"module or None"
    )
    raise _params.refuse("loss", owner, accepted, loss)


def _import(name: str, owner: str) -> ModuleType:
    """Import the kernel module named ``name`` (the caller's own module: an import, no eval)."""
    if not all(part.isidentifier() for part in name.split(".")):
        raise _params.refuse("loss", owner, "a registered name or a module's import name", name)
    try:
        return importlib.import_module(name)
    except ImportError as err:
        raise ValueError(
            f"the 'loss' of {owner} names the module {name!r}, which cannot be imported: {err}"
        ) from err


def _registered(pair: Pair) -> bool:
    """Whether ``pair`` is the registry's own pair of its name (whose kernels are checked in)."""
    registry = sys.modules[_PAIR_MODULE].REGISTRY
    return registry.get(pair.name) is pair


def loop_module(kernel: ModuleType) -> ModuleType | None:
    """Return the per-sample loop module generated beside ``kernel``, or None if there is none.

    :func:`derivreg.codegen.write` prints ``<name>.py`` and ``<name>_loop.py``
    side by side; a module built in memory (:func:`derivreg.codegen.compile`)
    has no loop, and trains with the batch kernels one sample at a time.

    Examples
    --------
    >>> loop_module(kernel_module("mse")).__name__
    'derivreg.kernels.mse_loop'
    """
    try:
        loop = importlib.import_module(f"{kernel.__name__}_loop")
    except ImportError:
        return None
    if getattr(loop, "NAME", None) != kernel.NAME or not hasattr(loop, "sgd_epoch"):
        return None
    return loop


def is_classifier(kernel: ModuleType) -> bool:
    """Whether the pair reads a prediction as a label (its ``THRESHOLD`` is not None).

    Examples
    --------
    >>> is_classifier(kernel_module("mse"))
    False
    """
    return getattr(kernel, "THRESHOLD", None) is not None


def label(kernel: ModuleType) -> str:
    """Return the short axis label of a kernel's loss: its pair's name in capitals.

    Examples
    --------
    >>> label(kernel_module("mse"))
    'MSE'
    """
    return str(kernel.NAME).upper()
