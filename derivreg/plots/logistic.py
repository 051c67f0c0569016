"""Two figures of logistic regression: the sigmoid's parameters and a 2-feature boundary.

Examples
--------
>>> fig = sigmoid_parameters()
>>> fig.axes[0].get_title()
'w sets the steepness (b = 0)'
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from typing import Any

import matplotlib
import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from derivreg.plots._common import TRUTH, boundary_text, classifier, legend_below, link, styled

__all__ = ["TRUE_BOUNDARY_COLOUR", "decision_boundary", "sigmoid_parameters"]

#: Colour of a true decision boundary: gold, which contrasts with the red-blue
#: probability map and with the learned boundary in black.
TRUE_BOUNDARY_COLOUR = "gold"


@styled
def sigmoid_parameters(
    ws: Sequence[float] = (0.5, 1.0, 2.0, 5.0),
    bs: Sequence[float] = (-4.0, -2.0, 0.0, 2.0, 4.0),
    *,
    w_fixed: float = 2.0,
    x_range: tuple[float, float] = (-5.0, 5.0),
) -> Figure:
    """How a classifier's parameters act on ``yhat(wx + b)``: its steepness and its boundary.

    The classifier is the registry's (:func:`~derivreg.plots._common.classifier`);
    its ``ACTIVATION`` labels the curves, and the boundary is where ``wx + b``
    is its ``THRESHOLD_SCORE`` (``x = -b/w`` for a score of 0, as the
    sigmoid's).

    Left: ``b = 0`` and several ``w``: the larger ``|w|``, the steeper the
    curve (the legend gives its slope at the boundary).  Right: ``w = w_fixed`` and
    several ``b``: the curve shifts so that it crosses its threshold at the
    decision boundary, marked by a dotted line in the curve's colour.

    Parameters
    ----------
    ws : sequence of float
        Weights of the left panel (non-zero).
    bs : sequence of float
        Biases of the right panel.
    w_fixed : float, default 2.0
        Weight of the right panel (non-zero).
    x_range : (float, float)
        Horizontal extent.

    Returns
    -------
    Figure
        Two axes: ``len(ws)`` curves and one boundary line; ``len(bs)``
        curves and ``len(bs)`` boundary lines; each also a line at the threshold.

    Examples
    --------
    >>> fig = sigmoid_parameters()
    >>> [len(ax.lines) for ax in fig.axes[:2]]
    [6, 11]
    """
    kernel = classifier()
    activation, score = link(kernel)
    where = boundary_text(score)
    if any(w == 0 for w in ws) or w_fixed == 0:
        raise ValueError(f"the weight must be non-zero (the boundary is {where})")
    predict, half = kernel.predict, float(kernel.THRESHOLD)
    h = 1e-5  # the slope at the boundary, by a central difference of predict

    def slope(w: float) -> float:
        at = np.array([[(score - h) / w], [(score + h) / w]])
        low, high = predict(at, np.array([w]), 0.0)
        return float(high - low) * w / (2 * h)

    x = np.linspace(x_range[0], x_range[1], 400)
    X = x[:, None]
    fig = Figure(figsize=(13, 5.5), layout="constrained")
    ax_w, ax_b = fig.subplots(1, 2, sharey=True)
    cmap = matplotlib.colormaps["viridis"]

    for i, w in enumerate(ws):
        ax_w.plot(
            x,
            predict(X, np.array([w]), 0.0),
            color=cmap(i / max(len(ws) - 1, 1) * 0.85),
            lw=2,
            label=f"w = {w:g} (slope {slope(w):.4g} at x = {score / w + 0.0:g})",
        )
    for at in sorted({score / w + 0.0 for w in ws}):  # one line where they coincide
        ax_w.axvline(at, color="0.3", ls=":", lw=1.5)
    ax_w.set_title("w sets the steepness (b = 0)")

    for i, b in enumerate(bs):
        colour = cmap(i / max(len(bs) - 1, 1) * 0.85)
        boundary = (score - b) / w_fixed + 0.0  # + 0.0: no '-0' in the legend
        ax_b.plot(
            x,
            predict(X, np.array([w_fixed]), float(b)),
            color=colour,
            lw=2,
            label=f"b = {b:g}: boundary {where} = {boundary:g}",
        )
        ax_b.axvline(boundary, color=colour, ls=":", lw=1.5)
    ax_b.set_title(f"b shifts the boundary to x = {where} (w = {w_fixed:g})")

    for ax, corner in ((ax_w, "upper left"), (ax_b, "lower right")):
        ax.axhline(half, color="0.5", lw=0.8)
        ax.set_xlabel("x")
        ax.legend(loc=corner, fontsize="small", framealpha=0.9)
    ax_w.set_ylabel(f"ŷ = {activation}, z = wx + b")
    return fig


def _scatter_classes(ax: Axes, X: np.ndarray, y: np.ndarray) -> None:
    """Scatter the samples of each class (0 blue, 1 red) on ``ax``."""
    for label, colour in ((0.0, "tab:blue"), (1.0, "tab:red")):
        pts = X[y == label]
        ax.scatter(
            pts[:, 0],
            pts[:, 1],
            s=16,
            color=colour,
            edgecolor="white",
            lw=0.4,
            label=f"y = {label:g}",
        )


def _boundary(
    ax: Axes,
    box: tuple[float, float, float, float],
    score: float,
    wv: np.ndarray,
    bv: float,
    **style: Any,
) -> None:
    """Draw the line ``x.w + b = score`` across ``box`` (x1 and x2 limits), if w is not 0.

    Parametrised along the larger weight's axis, so that the slope is at most 1 in it.
    """
    x1_lo, x1_hi, x2_lo, x2_hi = box
    if wv[1] == 0 and wv[0] == 0:
        return
    if abs(wv[1]) >= abs(wv[0]):
        x1 = np.array([x1_lo, x1_hi])
        ax.plot(x1, (score - bv - wv[0] * x1) / wv[1], **style)
    else:
        x2 = np.array([x2_lo, x2_hi])
        ax.plot((score - bv - wv[1] * x2) / wv[0], x2, **style)


@styled
def decision_boundary(
    X: np.ndarray,
    y: np.ndarray,
    w: Sequence[float] | np.ndarray,
    b: float,
    *,
    true_w: Sequence[float] | np.ndarray | None = None,
    true_b: float | None = None,
    title: str | None = None,
) -> Figure:
    """Draw a 2-feature logistic problem: data, ``P(y=1|x)`` and boundary ``x.w + b = 0``.

    Parameters
    ----------
    X : ndarray of shape (m, 2)
        Inputs.
    y : ndarray of shape (m,)
        Labels 0 or 1.
    w : array_like of shape (2,)
        Learned weights.
    b : float
        Learned bias.
    true_w : array_like of shape (2,), optional
        True weights; their boundary is drawn dashed in gold, on top of the
        learned one (with ``true_b``).
    true_b : float, optional
        True bias.
    title : str, optional
        Axes title.

    Returns
    -------
    Figure
        One axes (plus colorbar): two scatters (one per class), the learned
        boundary (gid ``"learned-boundary"``), and the true boundary when
        given (gid ``"true-boundary"``); the legend is below the axes.

    Examples
    --------
    >>> from derivreg.data import logistic
    >>> d = logistic(2, 200)
    >>> fig = decision_boundary(d.X, d.y, [1.0, 1.0], 0.0, true_w=d.true_w, true_b=d.true_b)
    >>> len(fig.axes[0].lines), fig.axes[0].get_xlabel()
    (2, 'x1')
    """
    X = np.asarray(X, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    w = np.asarray(w, dtype=np.float64).reshape(-1)
    if X.ndim != 2 or X.shape[1] != 2 or w.shape != (2,):
        raise ValueError(
            f"decision_boundary draws 2-feature problems; got X {X.shape} and w {w.shape}"
        )
    kernel = classifier()
    activation, score = link(kernel)
    predict = kernel.predict
    pad = 0.5
    (x1_lo, x2_lo), (x1_hi, x2_hi) = X.min(axis=0) - pad, X.max(axis=0) + pad
    g1, g2 = np.meshgrid(np.linspace(x1_lo, x1_hi, 200), np.linspace(x2_lo, x2_hi, 200))
    p = predict(np.column_stack([g1.ravel(), g2.ravel()]), w, float(b)).reshape(g1.shape)

    fig = Figure(figsize=(8.5, 7), layout="constrained")
    ax = fig.subplots()
    field = ax.contourf(g1, g2, p, levels=np.linspace(0, 1, 11), cmap="RdBu_r", alpha=0.45)
    fig.colorbar(field, ax=ax, label=f"P(y = 1 | x) = ŷ = {activation}, z = x·w + b")
    _scatter_classes(ax, X, y)
    box = (x1_lo, x1_hi, x2_lo, x2_hi)
    boundary = functools.partial(_boundary, ax, box, score)
    boundary(
        w,
        float(b),
        color="black",
        lw=2.2,
        zorder=5,
        gid="learned-boundary",
        label=f"learned boundary x·w + b = {score:g}",
    )
    if true_w is not None and true_b is not None:
        tw = np.asarray(true_w, dtype=np.float64).reshape(-1)
        # Drawn last and dashed in a contrasting colour: visible where the two coincide.
        boundary(
            tw,
            float(true_b),
            color=TRUE_BOUNDARY_COLOUR,
            gid="true-boundary",
            label="true boundary (dashed)",
            **TRUTH,
        )
    ax.set_xlim(x1_lo, x1_hi)
    ax.set_ylim(x2_lo, x2_hi)
    ax.set_xlabel("x1")
    ax.set_ylabel("x2")
    legend_below(fig, ncols=4)
    if title:
        ax.set_title(title)
    return fig
