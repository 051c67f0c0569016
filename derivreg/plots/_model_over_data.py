"""The lecture's 1-feature figure: the data, the model before every update over it, the truth.

:func:`model_over_data` is re-exported by :mod:`derivreg.plots.training` and
:mod:`derivreg.plots`; the helpers here draw its parts: the models, the final
model, and the truth (a regression's true model and least-squares line, a
classifier's true model and boundary).

Examples
--------
>>> from derivreg.data import linear
>>> from derivreg.train import train
>>> d = linear(1, 80, noise=0.5)
>>> w, b, h = train(d.X, d.y, w0=d.w0, b0=d.b0, lr=d.lr)
>>> fig = model_over_data(d.X, d.y, h, loss="mse", final=(w, b), true=(d.true_w, d.true_b))
>>> [line.get_gid() for line in fig.axes[0].lines]
['final-model', 'true-line', 'least-squares']
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from types import ModuleType

import numpy as np
from matplotlib.axes import Axes
from matplotlib.collections import LineCollection
from matplotlib.colors import Normalize
from matplotlib.figure import Figure

from derivreg import _losses
from derivreg.plots._common import (
    TRUTH,
    boundary_text,
    legend_below,
    link,
    needs,
    styled,
    thin,
    vector,
)
from derivreg.train import History

__all__ = ["model_over_data"]

Predict = Callable[[np.ndarray, np.ndarray, float], np.ndarray]


@styled
def model_over_data(
    X: np.ndarray,
    y: np.ndarray,
    history: History,
    *,
    loss: str | ModuleType,
    final: tuple[np.ndarray, float] | None = None,
    true: tuple[Sequence[float] | np.ndarray, float] | None = None,
    max_lines: int = 500,
    title: str | None = None,
) -> Figure:
    """Draw the data, and the model before every update over it, in rainbow order.

    One feature only.  The models are the kernel's predictions: lines
    ``w x + b`` for an identity activation, curves otherwise (the kernel's
    ``ACTIVATION`` at ``z = w x + b``).  A classifier (a kernel whose
    ``THRESHOLD`` is not None) is drawn over padded x, with its labels and boundary.  The
    colour runs from the first update (violet) to the last (red), as in the
    lecture; the final model is solid black, the truth dashed on top.

    Parameters
    ----------
    X : ndarray of shape (m, 1)
        Inputs.
    y : ndarray of shape (m,)
        Targets.
    history : History
        Recorded with ``record="all"``.
    loss : str or module
        The kernel whose ``predict`` draws the model: a key of
        :data:`derivreg.kernels.KERNELS` or a generated kernel module.
    final : tuple of (ndarray, float), optional
        Final parameters ``(w, b)``, drawn solid black.
    true : tuple of (array_like, float), optional
        True parameters ``(w, b)``: a regression draws the true model (and,
        for a line with noisy targets, the least-squares line, the minimum
        that SGD on the squared error approaches); a classifier the true
        model and its boundary, where ``w x + b`` is the kernel's
        ``THRESHOLD_SCORE`` (``x = -b/w`` where that score is 0).
    max_lines : int, default 500
        Draw at most this many models (evenly spread) for long runs.
    title : str, optional
        Axes title.

    Returns
    -------
    Figure
        One axes: the models as a :class:`~matplotlib.collections.LineCollection`
        (one segment per drawn update), the final model (gid ``"final-model"``),
        the truth (gids ``"true-line"``, ``"least-squares"``, or
        ``"true-sigmoid"`` and ``"true-boundary"``), a colour bar of the
        update number; the legend is below the axes.

    Examples
    --------
    >>> from derivreg.data import lecture
    >>> from derivreg.train import train
    >>> d = lecture("logistic-1")
    >>> w, b, h = train(d.X, d.y, loss="bce", w0=d.w0, b0=d.b0, lr=d.lr)
    >>> fig = model_over_data(d.X, d.y, h, loss="bce", final=(w, b), true=(d.true_w, d.true_b))
    >>> len(fig.axes[0].collections[0].get_segments())
    500
    >>> [line.get_gid() for line in fig.axes[0].lines]
    ['final-model', 'true-sigmoid', 'true-boundary']
    """
    kernel = _losses.kernel_module(loss, "model_over_data")
    predict, classifier = kernel.predict, _losses.is_classifier(kernel)
    activation, score = link(kernel) if classifier else ("", 0.0)
    line = not classifier and _affine(kernel)
    X = np.asarray(X, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    if X.ndim != 2 or X.shape[1] != 1:
        raise ValueError(f"model_over_data draws 1-feature data; got X of shape {X.shape}")
    needs(history, "w", "b")
    x = X[:, 0]
    lo, hi = float(x.min()), float(x.max())
    if classifier:
        pad = 0.15 * (hi - lo) + 0.5
        lo, hi = lo - pad, hi + pad
    xr = np.linspace(lo, hi, 2 if line else 200)

    fig = Figure(figsize=(11, 6.2) if classifier else (9, 7), layout="constrained")
    ax = fig.subplots()
    models = _models(ax, history, xr, predict, classifier=classifier, max_lines=max_lines)
    ax.scatter(x, y, s=16, color="0.2", edgecolor="white", lw=0.5, zorder=3, label="data")
    if final is not None:
        fw, fb = vector(final[0], 1, "final w"), float(final[1])
        ax.plot(
            xr,
            predict(xr[:, None], fw, fb),
            color="black",
            lw=2,
            zorder=5,
            gid="final-model",
            label=f"final model (ŷ = {_line_label(fw[0], fb) if line else activation})",
        )
    if true is not None:
        tw, tb = vector(true[0], 1, "true w"), float(true[1])
        if classifier:
            _true_classifier(ax, xr, predict, (tw, tb), score=score)
        else:
            _true_regression(ax, xr, predict, (tw, tb), data=(x, y), line=line)
    ax.autoscale_view()
    if classifier:
        ax.set_ylim(-0.2, 1.2)
    ax.set_xlabel("x")
    ax.set_ylabel(f"y (label) and ŷ = {activation}, z = wx + b" if classifier else "y")
    legend_below(fig, ncols=2)
    fig.colorbar(models, ax=ax, label="update number")
    if title:
        ax.set_title(title)
    return fig


def _models(
    ax: Axes,
    history: History,
    xr: np.ndarray,
    predict: Predict,
    *,
    classifier: bool,
    max_lines: int,
) -> LineCollection:
    """Add the model before each drawn update over ``xr``, coloured by its update number."""
    shown = thin(len(history), max_lines)
    Xr = xr[:, None]
    W, B = needs(history, "w", "b")
    segments = [np.column_stack([xr, predict(Xr, W[k], B[k])]) for k in shown]
    models = LineCollection(
        segments,
        cmap="rainbow",
        norm=Normalize(0, max(history.n_updates - 1, 1)),
        alpha=0.3 if classifier else 0.5,
        linewidths=1.0,
        zorder=1,
    )
    models.set_array(history.step[shown])
    ax.add_collection(models)
    return models


def _true_regression(
    ax: Axes,
    xr: np.ndarray,
    predict: Predict,
    truth: tuple[np.ndarray, float],
    *,
    data: tuple[np.ndarray, np.ndarray],
    line: bool,
) -> None:
    """Add the true model, and for a line whose targets are noisy the least-squares line."""
    (tw, tb), (x, y) = truth, data
    Xr = xr[:, None]
    ax.plot(
        xr,
        predict(Xr, tw, tb),
        color="crimson",
        gid="true-line",
        label=f"true line y = {_line_label(tw[0], tb)}",
        **TRUTH,
    )
    A = np.column_stack([x, np.ones_like(x)])
    (lw, lb), *_ = np.linalg.lstsq(A, y, rcond=None)
    noisy = not np.allclose([lw, lb], [tw[0], tb], rtol=1e-9, atol=1e-9)
    if line and noisy:
        ax.plot(
            xr,
            predict(Xr, np.array([lw]), float(lb)),
            color="tab:purple",
            ls=":",
            lw=2.4,
            zorder=6,
            gid="least-squares",
            label=f"least squares y = {_line_label(lw, lb)} (the squared error's minimum)",
        )


def _true_classifier(
    ax: Axes, xr: np.ndarray, predict: Predict, truth: tuple[np.ndarray, float], *, score: float
) -> None:
    """Add the true model and its boundary, where ``w x + b`` is the threshold ``score``."""
    tw, tb = truth
    boundary = (score - tb) / tw[0] if tw[0] else np.nan
    ax.plot(
        xr,
        predict(xr[:, None], tw, tb),
        color="crimson",
        gid="true-sigmoid",
        label=f"true model, z = {_line_label(tw[0], tb)}",
        **TRUTH,
    )
    ax.axvline(
        boundary,
        color="crimson",
        ls="--",
        lw=1.6,
        zorder=6,
        gid="true-boundary",
        label=f"true boundary x = {boundary_text(score)} = {boundary:.4g}",
    )


def _affine(kernel: ModuleType) -> bool:
    """Whether the kernel's yhat is its score (dyhat/dz is 1): then a model is a line."""
    return bool(np.all(kernel.dyhat_dz(np.array([-1.0, 0.0, 1.0])) == 1.0))


def _line_label(w: float, b: float) -> str:
    sign = "-" if b < 0 else "+"
    return f"{w:g}x {sign} {abs(b):g}"
