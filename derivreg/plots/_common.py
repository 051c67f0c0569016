"""What every figure shares: the style, the kernels' ``predict``, argument checks."""

from __future__ import annotations

import functools
from collections.abc import Callable
from types import ModuleType
from typing import Any, ParamSpec, TypeVar

import matplotlib.style
import numpy as np
from matplotlib import patheffects
from matplotlib.figure import Figure

from derivreg import _losses
from derivreg.kernels import KERNELS
from derivreg.train import History

#: Matplotlib style of every figure (the lecture's ``'seaborn'``, renamed).
STYLE = "seaborn-v0_8"

#: Axis label of each registered loss: its pair's name in capitals (MSE, BCE).
LOSS_LABELS: dict[str, str] = {name: _losses.label(module) for name, module in KERNELS.items()}

#: How a known truth is drawn: dashed, on top, with a white halo so that it
#: stays visible over the models, the data and the probability map.
TRUTH: dict[str, Any] = {
    "ls": "--",
    "lw": 2.4,
    "zorder": 6,
    "path_effects": [patheffects.withStroke(linewidth=4.5, foreground="white")],
}

P = ParamSpec("P")
R = TypeVar("R")


def styled(func: Callable[P, R]) -> Callable[P, R]:
    """Create the figure and all its artists inside the style context."""

    @functools.wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        with matplotlib.style.context(STYLE):
            return func(*args, **kwargs)

    return wrapper


def predictor(loss: object) -> Callable[..., np.ndarray]:
    """Return the generated kernel's ``predict`` for ``loss`` (a name or a kernel module)."""
    return _losses.kernel_module(loss, "the figure").predict


def classifier() -> ModuleType:
    """Return the registry's first classifier (by name): the kernel the logistic figures draw."""
    found = [KERNELS[n] for n in sorted(KERNELS) if _losses.is_classifier(KERNELS[n])]
    if not found:
        raise ValueError("no registered pair is a classifier (a kernel with a THRESHOLD)")
    return found[0]


def link(kernel: ModuleType) -> tuple[str, float]:
    """Return a classifier's ``yhat`` as text in ``z``, and the score where it crosses THRESHOLD.

    Both are printed from the pair's derivation (``ACTIVATION``,
    ``THRESHOLD_SCORE``): the decision boundary is where ``x w + b`` equals
    that score.

    Examples
    --------
    >>> link(classifier())[1]
    0.0
    """
    score = getattr(kernel, "THRESHOLD_SCORE", None)
    if score is None or getattr(kernel, "THRESHOLD", None) is None:
        raise ValueError(
            f"pair {kernel.NAME!r}: no single score z where yhat crosses its threshold, "
            "so no decision boundary to draw"
        )
    return str(kernel.ACTIVATION), float(score)


def boundary_text(score: float) -> str:
    """Return the 1-feature boundary ``x = (score - b)/w`` as text (``-b/w`` at score 0).

    Examples
    --------
    >>> boundary_text(0.0), boundary_text(1.5)
    ('-b/w', '(1.5 - b)/w')
    """
    return "-b/w" if score == 0 else f"({score:g} - b)/w"


def loss_label(loss: object) -> str:
    """Return the axis label of ``loss`` (a name or a kernel module): its name in capitals."""
    return _losses.label(_losses.kernel_module(loss, "the figure"))


def needs(history: History, *fields: str) -> tuple[np.ndarray, ...]:
    """Return the history's ``fields`` (arrays), or raise if it did not record them."""
    found = [getattr(history, f) for f in fields]
    missing = [f for f, value in zip(fields, found, strict=True) if value is None]
    if missing:
        raise ValueError(
            f"this figure needs the history's {' and '.join(missing)}; "
            "train with record='all' (accuracy: with a classifier's loss)"
        )
    return tuple(found)


def vector(value: object, n: int, name: str) -> np.ndarray:
    """Return ``value`` as a float64 vector of shape ``(n,)``; a ValueError naming ``name`` else."""
    out = np.asarray(value, dtype=np.float64).reshape(-1)
    if out.shape != (n,):
        raise ValueError(f"{name} must have shape ({n},), got {out.shape}")
    return out


def thin(k: int, max_lines: int) -> np.ndarray:
    """At most ``max_lines`` indices of ``range(k)``, evenly spread, first and last kept."""
    if k <= max_lines:
        return np.arange(k)
    return np.unique(np.linspace(0, k - 1, max_lines).round().astype(np.intp))


def legend_below(fig: Figure, ncols: int = 3) -> None:
    """One legend for the figure, below the axes, where it covers no line or point."""
    handles, labels = [], []
    for ax in fig.axes:
        for h, label in zip(*ax.get_legend_handles_labels(), strict=True):
            if label not in labels:
                handles.append(h)
                labels.append(label)
    fig.legend(handles, labels, loc="outside lower center", ncols=ncols, framealpha=0.9)
