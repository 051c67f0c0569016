"""Figures of a training run: the models over the data, the loss, the parameters, accuracy.

Examples
--------
>>> from derivreg.data import lecture
>>> from derivreg.train import train
>>> d = lecture("linear-1")
>>> w, b, h = train(d.X, d.y, w0=d.w0, b0=d.b0, lr=d.lr)
>>> fig = loss_and_parameters(h, loss="mse", true_w=d.true_w, true_b=d.true_b)
>>> [ax.get_ylabel() for ax in fig.axes]
['MSE', 'parameter value']
"""

from __future__ import annotations

from collections.abc import Sequence
from types import ModuleType
from typing import Any

import matplotlib
import numpy as np
from matplotlib.collections import LineCollection
from matplotlib.colors import Normalize
from matplotlib.figure import Figure

from derivreg import _losses
from derivreg.plots._common import (
    TRUTH,
    boundary_text,
    classifier,
    legend_below,
    link,
    loss_label,
    needs,
    styled,
    thin,
)
from derivreg.train import History

__all__ = ["MAX_TRACKS", "loss_and_accuracy", "loss_and_parameters", "model_over_data"]

#: At most this many weight tracks are drawn; past it, the largest and the error's norm.
MAX_TRACKS = 10

#: Colours of the 1-feature parameter tracks, as in the lecture.
_W_COLOUR, _B_COLOUR = "darkred", "darkblue"


def _vector(value: Sequence[float] | np.ndarray, n: int, name: str) -> np.ndarray:
    out = np.asarray(value, dtype=np.float64).reshape(-1)
    if out.shape != (n,):
        raise ValueError(f"{name} must have shape ({n},), got {out.shape}")
    return out


def _line_label(w: float, b: float) -> str:
    sign = "-" if b < 0 else "+"
    return f"{w:g}x {sign} {abs(b):g}"


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
    Xr = xr[:, None]

    fig = Figure(figsize=(11, 6.2) if classifier else (9, 7), layout="constrained")
    ax = fig.subplots()
    shown = thin(len(history), max_lines)
    segments = [np.column_stack([xr, predict(Xr, history.w[k], history.b[k])]) for k in shown]
    n_updates = max(history.n_updates - 1, 1)
    models = LineCollection(
        segments,
        cmap="rainbow",
        norm=Normalize(0, n_updates),
        alpha=0.3 if classifier else 0.5,
        linewidths=1.0,
        zorder=1,
    )
    models.set_array(history.step[shown])
    ax.add_collection(models)
    ax.scatter(x, y, s=16, color="0.2", edgecolor="white", lw=0.5, zorder=3, label="data")
    if final is not None:
        fw, fb = _vector(final[0], 1, "final w"), float(final[1])
        ax.plot(
            xr,
            predict(Xr, fw, fb),
            color="black",
            lw=2,
            zorder=5,
            gid="final-model",
            label=f"final model (ŷ = {_line_label(fw[0], fb) if line else activation})",
        )
    if true is not None:
        tw, tb = _vector(true[0], 1, "true w"), float(true[1])
        if not classifier:
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
        else:
            boundary = (score - tb) / tw[0] if tw[0] else np.nan
            ax.plot(
                xr,
                predict(Xr, tw, tb),
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


def _affine(kernel: ModuleType) -> bool:
    """Whether the kernel's yhat is its score (dyhat/dz is 1): then a model is a line."""
    return bool(np.all(kernel.dyhat_dz(np.array([-1.0, 0.0, 1.0])) == 1.0))


def _tracks(history: History, n: int, true_w: np.ndarray | None) -> tuple[np.ndarray, str]:
    """Choose the weights whose tracks are drawn; a note on the choice (empty: all are)."""
    if n <= MAX_TRACKS:
        return np.arange(n), ""
    key = np.abs(true_w if true_w is not None else history.w[-1])
    chosen = np.sort(np.argsort(-key, kind="stable")[:MAX_TRACKS])
    by = "|true w|" if true_w is not None else "|final w|"
    return chosen, f"{MAX_TRACKS} of {n} weights (largest {by})"


@styled
def loss_and_parameters(
    history: History,
    *,
    loss: str | ModuleType | None = None,
    true_w: Sequence[float] | np.ndarray | None = None,
    true_b: float | None = None,
    logy: bool = False,
    title: str | None = None,
) -> Figure:
    """Loss per update, and below it the parameter tracks against dotted true values.

    With one feature the tracks are the lecture's: w in dark red, b in dark
    blue.  With n features each weight gets its own colour (tab10) and b is
    black; each true value is a dotted line in its track's colour.  Past
    :data:`MAX_TRACKS` weights only the largest are drawn, and with the truth
    known a third axes shows the distance ``||w - w*||`` to it.

    Parameters
    ----------
    history : History
        Recorded with ``record="all"``.
    loss : str, module or None, default None
        Names the loss axis (its pair's name in capitals): a key of
        :data:`derivreg.kernels.KERNELS`, a generated kernel module, or None
        for :data:`derivreg.kernels.DEFAULT`.
    true_w : array_like of shape (n,), optional
        True weights, drawn dotted.
    true_b : float, optional
        True bias, drawn dotted.
    logy : bool, default False
        Logarithmic loss axis (for long runs).
    title : str, optional
        Figure title.

    Returns
    -------
    Figure
        Two axes: the loss (one line), then the parameters (at most
        ``MAX_TRACKS + 1`` tracks, plus one dotted line per given true value);
        a third, the distance to the truth, past ``MAX_TRACKS`` weights.

    Examples
    --------
    >>> from derivreg.data import lecture, linear
    >>> from derivreg.train import train
    >>> d = lecture("linear-n")
    >>> h = train(d.X, d.y, w0=d.w0, b0=d.b0, lr=d.lr).history
    >>> fig = loss_and_parameters(h, loss="mse", true_w=d.true_w, true_b=d.true_b)
    >>> len(fig.axes[1].lines), fig.axes[1].get_legend_handles_labels()[1]
    (8, ['w1', 'w2', 'w3', 'b'])
    >>> d = linear(200, 50)
    >>> h = train(d.X, d.y, w0=d.w0, b0=d.b0, lr=0.001).history
    >>> fig = loss_and_parameters(h, loss="mse", true_w=d.true_w, true_b=d.true_b)
    >>> len(fig.axes), len(fig.axes[1].lines), fig.axes[2].get_ylabel()
    (3, 22, '||w - w*||')
    """
    label = loss_label(loss)
    needs(history, "loss", "w", "b")
    n = history.w.shape[1]
    tw = None if true_w is None else _vector(true_w, n, "true_w")
    chosen, note = _tracks(history, n, tw)
    summary = bool(note) and tw is not None
    fig = Figure(figsize=(12, 9.5 if summary else 7.5), layout="constrained")
    axes = fig.subplots(3 if summary else 2, 1, sharex=True)
    ax_loss, ax_par = axes[0], axes[1]
    ax_loss.plot(history.step, history.loss, lw=1.0, color="tab:blue")
    ax_loss.set_ylabel(label)
    if logy:
        ax_loss.set_yscale("log")

    if n == 1:
        colours: list[Any] = [_W_COLOUR]
        b_colour = _B_COLOUR
    else:
        cmap = matplotlib.colormaps["tab10"]
        colours = [cmap(k % 10) for k in range(len(chosen))]
        b_colour = "black"
    for k, i in enumerate(chosen):
        name = "w" if n == 1 else f"w{i + 1}"
        ax_par.plot(history.step, history.w[:, i], color=colours[k], lw=1.5, label=name)
    ax_par.plot(history.step, history.b, color=b_colour, lw=1.5, label="b")
    if tw is not None:
        for k, i in enumerate(chosen):
            ax_par.axhline(tw[i], color=colours[k], ls=":", lw=1.8)
    if true_b is not None:
        ax_par.axhline(float(true_b), color=b_colour, ls=":", lw=1.8)
    ax_par.set_ylabel("parameter value")
    legend = "dotted: true" + (f"\n{note}" if note else "")
    ax_par.legend(loc="center left", bbox_to_anchor=(1.01, 0.5), title=legend)
    if summary:
        ax_err = axes[2]
        ax_err.plot(history.step, np.linalg.norm(history.w - tw, axis=1), color="black", lw=1.5)
        ax_err.set_ylabel("||w - w*||")
        ax_err.set_title(f"distance of all {n} weights to the truth", fontsize="medium")
    axes[-1].set_xlabel("update")
    if title:
        fig.suptitle(title)
    return fig


@styled
def loss_and_accuracy(
    history: History,
    *,
    loss: str | ModuleType | None = None,
    final_accuracy: float | None = None,
    logy: bool = False,
    title: str | None = None,
) -> Figure:
    """Loss per update and the accumulated accuracy, as in the lecture's n-feature logistic run.

    The accumulated accuracy counts each sample as the model *before* its
    update classified it, so it lags the model; ``final_accuracy``, the
    final model's accuracy on all the data, is drawn beside it.

    Parameters
    ----------
    history : History
        Of a BCE run recorded with ``record="all"`` or ``"loss"``.
    loss : str, module or None, default None
        Names the loss axis: a key of :data:`derivreg.kernels.KERNELS`, a
        generated kernel module, or None for the registry's first classifier.
    final_accuracy : float, optional
        The final model's accuracy on the data, a dashed line with its value.
    logy : bool, default False
        Logarithmic loss axis.
    title : str, optional
        Figure title.

    Returns
    -------
    Figure
        Two axes: the loss, then the accumulated accuracy (and the final one).

    Examples
    --------
    >>> from derivreg.data import lecture
    >>> from derivreg.train import train
    >>> d = lecture("logistic-n")
    >>> h = train(d.X, d.y, loss="bce", w0=d.w0, b0=d.b0, lr=d.lr, record="loss").history
    >>> fig = loss_and_accuracy(h, final_accuracy=0.992)
    >>> [ax.get_ylabel() for ax in fig.axes], fig.axes[1].get_legend_handles_labels()[1]
    (['BCE', 'accuracy'], ['accumulated during training: 0.937', 'final model: 0.992'])
    """
    label = loss_label(classifier() if loss is None else loss)
    needs(history, "loss", "accuracy")
    fig = Figure(figsize=(12, 7.5), layout="constrained")
    ax_loss, ax_acc = fig.subplots(2, 1, sharex=True)
    ax_loss.plot(history.step, history.loss, lw=1.0, color="tab:blue")
    ax_loss.set_ylabel(label)
    if logy:
        ax_loss.set_yscale("log")
    accumulated = float(history.accuracy[-1])
    ax_acc.plot(
        history.step,
        history.accuracy,
        lw=1.8,
        color="tab:green",
        label=f"accumulated during training: {accumulated:.3f}",
    )
    if final_accuracy is not None:
        ax_acc.axhline(
            final_accuracy,
            color="black",
            ls="--",
            lw=1.6,
            gid="final-accuracy",
            label=f"final model: {final_accuracy:.3f}",
        )
    ax_acc.set_ylim(0.0, 1.02)
    ax_acc.set_ylabel("accuracy")
    ax_acc.set_xlabel("update")
    ax_acc.legend(loc="lower right", framealpha=0.9)
    if title:
        fig.suptitle(title)
    return fig
