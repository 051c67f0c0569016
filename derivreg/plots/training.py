"""Figures of a training run: the models over the data, the loss, the parameters, accuracy.

:func:`model_over_data` is drawn by :mod:`derivreg.plots._model_over_data`
and re-exported here; the loss, parameter and accuracy curves are drawn here.

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
from matplotlib.figure import Figure

from derivreg.plots._common import classifier, loss_label, needs, styled, vector
from derivreg.plots._model_over_data import model_over_data
from derivreg.train import History

__all__ = ["MAX_TRACKS", "loss_and_accuracy", "loss_and_parameters", "model_over_data"]

#: At most this many weight tracks are drawn; past it, the largest and the error's norm.
MAX_TRACKS = 10

#: Colours of the 1-feature parameter tracks, as in the lecture.
_W_COLOUR, _B_COLOUR = "darkred", "darkblue"


def _tracks(W: np.ndarray, n: int, true_w: np.ndarray | None) -> tuple[np.ndarray, str]:
    """Choose the weights whose tracks are drawn; a note on the choice (empty: all are)."""
    if n <= MAX_TRACKS:
        return np.arange(n), ""
    key = np.abs(true_w if true_w is not None else W[-1])
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
    _, W, B = needs(history, "loss", "w", "b")
    n = W.shape[1]
    tw = None if true_w is None else vector(true_w, n, "true_w")
    chosen, note = _tracks(W, n, tw)
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
        ax_par.plot(history.step, W[:, i], color=colours[k], lw=1.5, label=name)
    ax_par.plot(history.step, B, color=b_colour, lw=1.5, label="b")
    if tw is not None:
        for k, i in enumerate(chosen):
            ax_par.axhline(tw[i], color=colours[k], ls=":", lw=1.8)
    if true_b is not None:
        ax_par.axhline(float(true_b), color=b_colour, ls=":", lw=1.8)
    ax_par.set_ylabel("parameter value")
    legend = "dotted: true" + (f"\n{note}" if note else "")
    ax_par.legend(loc="center left", bbox_to_anchor=(1.01, 0.5), title=legend)
    if summary and tw is not None:  # summary: a true w was given
        ax_err = axes[2]
        ax_err.plot(history.step, np.linalg.norm(W - tw, axis=1), color="black", lw=1.5)
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
    _, accuracy = needs(history, "loss", "accuracy")
    fig = Figure(figsize=(12, 7.5), layout="constrained")
    ax_loss, ax_acc = fig.subplots(2, 1, sharex=True)
    ax_loss.plot(history.step, history.loss, lw=1.0, color="tab:blue")
    ax_loss.set_ylabel(label)
    if logy:
        ax_loss.set_yscale("log")
    accumulated = float(accuracy[-1])
    ax_acc.plot(
        history.step,
        accuracy,
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
