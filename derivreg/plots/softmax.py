"""Softmax regression's figures: decision regions, and loss, accuracy and parameter tracks.

Examples
--------
>>> from derivreg.softmax_run import draw, train_softmax
>>> d = draw(60, seed=0)
>>> W, b, h = train_softmax(d.X, d.Y, lr=0.2)
>>> fig = softmax_regions(d.X, d.y, W, b, true_W=d.true_W, true_b=d.true_b)
>>> fig.axes[0].get_xlabel(), len(softmax_training(h, true_W=d.true_W, true_b=d.true_b).axes)
('x1', 3)
"""

from __future__ import annotations

from typing import Any

import numpy as np
from matplotlib.colors import ListedColormap
from matplotlib.figure import Figure

from derivreg.kernels import softmax as _kernel
from derivreg.plots._common import TRUTH, legend_below, styled

__all__ = ["softmax_regions", "softmax_training"]

#: One colour per class (up to 10; Matplotlib's tab10).
COLOURS = ("tab:blue", "tab:orange", "tab:green", "tab:red", "tab:purple",
           "tab:brown", "tab:pink", "tab:gray", "tab:olive", "tab:cyan")  # fmt: skip


def _pairwise_boundaries(
    ax: Any, g1: np.ndarray, g2: np.ndarray, Z: np.ndarray, **style: Any
) -> None:
    """Draw where the top score changes class: the zero level of (top - runner-up) per pair."""
    top = np.argmax(Z, axis=-1)
    for c in range(Z.shape[-1]):
        for d in range(c + 1, Z.shape[-1]):
            # z_c - z_d = 0 where both are the top two: the boundary between regions c and d
            gap = np.where((top == c) | (top == d), Z[..., c] - Z[..., d], np.nan)
            if np.nanmin(gap) < 0 < np.nanmax(gap):
                ax.contour(g1, g2, gap, levels=[0.0], **style)


@styled
def softmax_regions(
    X: np.ndarray,
    y: np.ndarray,
    W: np.ndarray,
    b: np.ndarray,
    *,
    true_W: np.ndarray | None = None,
    true_b: np.ndarray | None = None,
    title: str | None = None,
) -> Figure:
    """Draw a 2-feature k-class problem: the regions argmax_c z_c, the data, the boundaries.

    Classes are numbered 1..k in the legend (label ``y = c - 1``), as the
    columns of ``W`` are (``W_ic``, ``b_c``) in the tracks and the tables.

    The learned boundaries are black, the true ones (with ``true_W`` and
    ``true_b``) dashed gold on top; the shading's strength is max_c ŷ_c.

    Examples
    --------
    >>> X = np.array([[0.0, 1.0], [1.0, 0.0], [-1.0, -1.0]])
    >>> W, b = np.array([[0.0, 1.0, -1.0], [1.0, 0.0, -1.0]]), np.zeros(3)
    >>> softmax_regions(X, np.array([0, 1, 2]), W, b).axes[0].get_ylabel()
    'x2'
    """
    X, y = np.asarray(X, dtype=np.float64), np.asarray(y)
    W, b = np.asarray(W, dtype=np.float64), np.asarray(b, dtype=np.float64)
    k = W.shape[1] if W.ndim == 2 else 0
    if X.ndim != 2 or X.shape[1] != 2 or W.shape[0] != 2 or not 2 <= k <= len(COLOURS):
        raise ValueError(
            f"softmax_regions draws 2-feature problems of 2 to {len(COLOURS)} classes; "
            f"got X {X.shape} and W {W.shape}"
        )
    pad = 0.5
    (lo1, lo2), (hi1, hi2) = X.min(axis=0) - pad, X.max(axis=0) + pad
    g1, g2 = np.meshgrid(np.linspace(lo1, hi1, 300), np.linspace(lo2, hi2, 300))
    grid = np.column_stack([g1.ravel(), g2.ravel()])
    p = _kernel.predict_proba(grid, W, b)
    region = np.argmax(p, axis=1).reshape(g1.shape)
    fig = Figure(figsize=(8.5, 7.5), layout="constrained")
    ax = fig.subplots()
    cmap = ListedColormap(COLOURS[:k])
    ax.imshow(region, origin="lower", extent=(lo1, hi1, lo2, hi2), cmap=cmap, vmin=-0.5,
              vmax=k - 0.5, alpha=0.28, aspect="auto", interpolation="nearest")  # fmt: skip
    confidence = p.max(axis=1).reshape(g1.shape)
    ax.contour(g1, g2, confidence, levels=[0.5, 0.8, 0.95], colors="0.35", linewidths=0.6,
               linestyles=":")  # fmt: skip
    for c in range(k):
        pts = X[y == c]
        ax.scatter(pts[:, 0], pts[:, 1], s=18, color=COLOURS[c], edgecolor="white", lw=0.4,
                   label=f"class {c + 1}", zorder=3)  # fmt: skip
    _pairwise_boundaries(ax, g1, g2, (grid @ W + b).reshape(*g1.shape, k), colors="black",
                         linewidths=2.0, zorder=5)  # fmt: skip
    ax.plot([], [], color="black", lw=2.0, label="learned boundaries")
    if true_W is not None and true_b is not None:
        Z = (grid @ np.asarray(true_W, float) + np.asarray(true_b, float)).reshape(*g1.shape, k)
        style = {key: TRUTH[key] for key in ("zorder", "path_effects")}
        _pairwise_boundaries(ax, g1, g2, Z, colors="gold", linewidths=2.4, linestyles="--",
                             **style)  # fmt: skip
        ax.plot([], [], color="gold", ls="--", lw=2.4, label="true boundaries")
    ax.plot([], [], color="0.35", ls=":", lw=0.6, label="max ŷ = 0.5, 0.8, 0.95")
    ax.set(xlim=(lo1, hi1), ylim=(lo2, hi2), xlabel="x1", ylabel="x2")
    ax.set_title(title or "decision regions: argmax_c (Wᵀx + b)_c")
    legend_below(fig, ncols=3)
    return fig


@styled
def softmax_training(
    history: Any,
    *,
    true_W: np.ndarray | None = None,
    true_b: np.ndarray | None = None,
    window: int = 50,
) -> Figure:
    """Draw per-sample SGD: the loss, the accumulated accuracy and the parameter tracks.

    The loss of each sample before its update (and its moving mean), the
    accumulated accuracy, and the tracks of every W_ic and b_c against their
    dotted true values.

    ``history``: a :class:`derivreg.softmax_run.SoftmaxHistory`.

    Examples
    --------
    >>> from derivreg.softmax_run import draw, train_softmax
    >>> d = draw(30, seed=0)
    >>> _, _, h = train_softmax(d.X, d.Y, lr=0.2)
    >>> [ax.get_ylabel() for ax in softmax_training(h).axes]
    ['cross-entropy', 'accuracy', 'parameter']
    """
    steps = np.arange(len(history.loss))
    fig = Figure(figsize=(9, 10), layout="constrained")
    ax_loss, ax_acc, ax_par = fig.subplots(3, 1, sharex=True)
    ax_loss.plot(steps, history.loss, lw=0.5, color="0.6", label="loss of each sample")
    if len(steps) >= window:
        mean = np.convolve(history.loss, np.ones(window) / window, mode="valid")
        ax_loss.plot(steps[window - 1 :], mean, color="tab:blue", lw=1.8,
                     label=f"moving mean of {window}")  # fmt: skip
    ax_loss.set_ylabel("cross-entropy")
    ax_loss.set_title("per-sample SGD: the loss before each update")
    ax_acc.plot(steps, history.accuracy, color="tab:green", lw=1.5, label="accumulated accuracy")
    ax_acc.set(ylim=(0, 1.02), ylabel="accuracy")
    n, k = history.W.shape[1:]
    for c in range(k):
        colour = COLOURS[c % len(COLOURS)]
        for i in range(n):
            ax_par.plot(steps, history.W[:, i, c], color=colour, lw=1.4,
                        ls=("-", "-.", (0, (5, 1)))[i % 3], label=f"W{i + 1}{c + 1}")  # fmt: skip
            if true_W is not None:
                ax_par.axhline(true_W[i, c], color=colour, ls=":", lw=1.0)
        ax_par.plot(steps, history.b[:, c], color=colour, lw=0.9, alpha=0.7,
                    label=f"b{c + 1}")  # fmt: skip
        if true_b is not None:
            ax_par.axhline(true_b[c], color=colour, ls=":", lw=0.6, alpha=0.7)
    ax_par.set(xlabel="update", ylabel="parameter")
    ax_par.set_title("parameters (true values dotted, in the class's colour)")
    ax_loss.legend(loc="upper right", framealpha=0.9)
    ax_acc.legend(loc="lower right", framealpha=0.9)
    ax_par.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), ncols=1 + (k * (n + 1) > 12),
                  fontsize="small", framealpha=0.9)  # fmt: skip
    return fig
