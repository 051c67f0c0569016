"""The lecture's figures, redrawn for current Matplotlib, and two more.

Every function returns a :class:`matplotlib.figure.Figure` built without
``pyplot`` (no global state, nothing is shown; save it with
``fig.savefig(path)``).  Models are evaluated with the generated kernels'
``predict``, the same code that trained them.

===========================  ====================================================
function                     figure
===========================  ====================================================
:func:`model_over_data`      the data, with the model before every update drawn
                             over it, first to last in a rainbow colormap
:func:`loss_and_parameters`  loss per update; below it each parameter's track
                             against its dotted true value
:func:`loss_and_accuracy`    loss per update and the accumulated accuracy
:func:`sigmoid_parameters`   how w steepens the sigmoid and b shifts it, with
                             the boundary -b/w marked
:func:`decision_boundary`    a 2-feature logistic problem: probability map,
                             learned and true boundaries
===========================  ====================================================

The lecture's style ``'seaborn'`` is called ``'seaborn-v0_8'`` since
Matplotlib 3.6; :data:`STYLE` is used.

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

import functools
from collections.abc import Callable, Sequence
from typing import Any, Literal, ParamSpec, TypeVar

import matplotlib.style
import numpy as np
from matplotlib.collections import LineCollection
from matplotlib.colors import Normalize
from matplotlib.figure import Figure

from derivreg.train import History

__all__ = [
    "LOSS_LABELS",
    "STYLE",
    "decision_boundary",
    "loss_and_accuracy",
    "loss_and_parameters",
    "model_over_data",
    "sigmoid_parameters",
]

#: Matplotlib style of every figure (the lecture's ``'seaborn'``, renamed).
STYLE = "seaborn-v0_8"

#: Axis label of each loss.
LOSS_LABELS: dict[str, str] = {"mse": "MSE", "bce": "BCE"}

#: Colours of the 1-feature parameter tracks, as in the lecture.
_W_COLOUR, _B_COLOUR = "darkred", "darkblue"

P = ParamSpec("P")
R = TypeVar("R")


def _styled(func: Callable[P, R]) -> Callable[P, R]:
    """Create the figure and all its artists inside the style context."""

    @functools.wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        with matplotlib.style.context(STYLE):
            return func(*args, **kwargs)

    return wrapper


def _predict(loss: str) -> Callable[..., np.ndarray]:
    from derivreg.kernels import KERNELS

    if loss not in KERNELS:
        raise ValueError(f"unknown loss {loss!r}; expected one of {sorted(KERNELS)}")
    return KERNELS[loss].predict


def _loss_label(loss: str) -> str:
    if loss not in LOSS_LABELS:
        raise ValueError(f"unknown loss {loss!r}; expected one of {sorted(LOSS_LABELS)}")
    return LOSS_LABELS[loss]


def _needs(history: History, *fields: str) -> None:
    missing = [f for f in fields if getattr(history, f) is None]
    if missing:
        raise ValueError(
            f"this figure needs the history's {' and '.join(missing)}; "
            "train with record='all' (accuracy: with loss='bce')"
        )


def _thin(k: int, max_lines: int) -> np.ndarray:
    """At most ``max_lines`` indices of ``range(k)``, evenly spread, first and last kept."""
    if k <= max_lines:
        return np.arange(k)
    return np.unique(np.linspace(0, k - 1, max_lines).round().astype(np.intp))


@_styled
def model_over_data(
    X: np.ndarray,
    y: np.ndarray,
    history: History,
    *,
    loss: Literal["mse", "bce"],
    final: tuple[np.ndarray, float] | None = None,
    max_lines: int = 500,
    title: str | None = None,
) -> Figure:
    """Draw the data, and the model before every update over it, in rainbow order.

    One feature only.  For MSE the models are lines ``w x + b``, for BCE
    sigmoid curves ``sigma(w x + b)``.  The colour runs from the first update
    (violet) to the last (red), as in the lecture; the final model is drawn
    in black.

    Parameters
    ----------
    X : ndarray of shape (m, 1)
        Inputs.
    y : ndarray of shape (m,)
        Targets.
    history : History
        Recorded with ``record="all"``.
    loss : {"mse", "bce"}
        The kernel whose ``predict`` draws the model.
    final : tuple of (ndarray, float), optional
        Final parameters ``(w, b)``, drawn in black.
    max_lines : int, default 500
        Draw at most this many models (evenly spread) for long runs.
    title : str, optional
        Axes title.

    Returns
    -------
    Figure
        One axes with the models as a :class:`~matplotlib.collections.LineCollection`
        (one segment per drawn update), the final model as a line, and a
        colorbar of the update index.

    Examples
    --------
    >>> from derivreg.data import lecture
    >>> from derivreg.train import train
    >>> d = lecture("logistic-1")
    >>> w, b, h = train(d.X, d.y, loss="bce", w0=d.w0, b0=d.b0, lr=d.lr)
    >>> fig = model_over_data(d.X, d.y, h, loss="bce", final=(w, b))
    >>> len(fig.axes[0].collections[0].get_segments()), len(fig.axes[0].lines)
    (500, 1)
    """
    predict = _predict(loss)
    X = np.asarray(X, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    if X.ndim != 2 or X.shape[1] != 1:
        raise ValueError(f"model_over_data draws 1-feature data; got X of shape {X.shape}")
    _needs(history, "w", "b")
    x = X[:, 0]
    lo, hi = float(x.min()), float(x.max())
    if loss == "bce":
        pad = 0.15 * (hi - lo) + 0.5
        lo, hi = lo - pad, hi + pad
    xr = np.linspace(lo, hi, 200 if loss == "bce" else 2)
    Xr = xr[:, None]

    fig = Figure(figsize=(9, 6.5) if loss == "mse" else (11, 5.5), layout="constrained")
    ax = fig.subplots()
    shown = _thin(len(history), max_lines)
    segments = [np.column_stack([xr, predict(Xr, history.w[k], history.b[k])]) for k in shown]
    n_updates = max(history.n_updates - 1, 1)
    models = LineCollection(
        segments,
        cmap="rainbow",
        norm=Normalize(0, n_updates),
        alpha=0.5 if loss == "mse" else 0.3,
        linewidths=1.0,
        zorder=1,
    )
    models.set_array(history.step[shown])
    ax.add_collection(models)
    ax.scatter(x, y, s=16, color="0.2", edgecolor="white", lw=0.5, zorder=3, label="data")
    if final is not None:
        ax.plot(
            xr, predict(Xr, final[0], final[1]), color="black", lw=2, ls="--", label="final model"
        )
    ax.autoscale_view()
    if loss == "bce":
        ax.set_ylim(-0.2, 1.2)
    ax.set_xlabel("x")
    ax.set_ylabel("y" if loss == "mse" else "y (label) and ŷ = σ(wx + b)")
    ax.legend(loc="upper left")
    fig.colorbar(models, ax=ax, label="update (model before it)")
    if title:
        ax.set_title(title)
    return fig


@_styled
def loss_and_parameters(
    history: History,
    *,
    loss: Literal["mse", "bce"],
    true_w: Sequence[float] | np.ndarray | None = None,
    true_b: float | None = None,
    logy: bool = False,
    title: str | None = None,
) -> Figure:
    """Loss per update, and below it the parameter tracks against dotted true values.

    With one feature the tracks are the lecture's: w in dark red, b in dark
    blue.  With n features each weight gets its own colour (tab10) and b is
    black; each true value is a dotted line in its track's colour.

    Parameters
    ----------
    history : History
        Recorded with ``record="all"``.
    loss : {"mse", "bce"}
        Names the loss axis.
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
        Two axes: the loss (one line), then the parameters (n + 1 tracks,
        plus one dotted line per given true value).

    Examples
    --------
    >>> from derivreg.data import lecture
    >>> from derivreg.train import train
    >>> d = lecture("linear-n")
    >>> h = train(d.X, d.y, w0=d.w0, b0=d.b0, lr=d.lr).history
    >>> fig = loss_and_parameters(h, loss="mse", true_w=d.true_w, true_b=d.true_b)
    >>> len(fig.axes[1].lines), fig.axes[1].get_legend_handles_labels()[1]
    (8, ['w1', 'w2', 'w3', 'b'])
    """
    label = _loss_label(loss)
    _needs(history, "loss", "w", "b")
    n = history.w.shape[1]
    fig = Figure(figsize=(12, 7.5), layout="constrained")
    ax_loss, ax_par = fig.subplots(2, 1, sharex=True)
    ax_loss.plot(history.step, history.loss, lw=1.0, color="tab:blue")
    ax_loss.set_ylabel(label)
    if logy:
        ax_loss.set_yscale("log")

    if n == 1:
        colours: list[Any] = [_W_COLOUR]
        names = ["w"]
        b_colour = _B_COLOUR
    else:
        cmap = matplotlib.colormaps["tab10"]
        colours = [cmap(i % 10) for i in range(n)]
        names = [f"w{i + 1}" for i in range(n)]
        b_colour = "black"
    for i in range(n):
        ax_par.plot(history.step, history.w[:, i], color=colours[i], lw=1.5, label=names[i])
    ax_par.plot(history.step, history.b, color=b_colour, lw=1.5, label="b")
    if true_w is not None:
        true_w = np.asarray(true_w, dtype=np.float64).reshape(-1)
        if true_w.shape != (n,):
            raise ValueError(f"true_w must have shape ({n},), got {true_w.shape}")
        for i in range(n):
            ax_par.axhline(true_w[i], color=colours[i], ls=":", lw=1.8)
    if true_b is not None:
        ax_par.axhline(float(true_b), color=b_colour, ls=":", lw=1.8)
    ax_par.set_xlabel("update")
    ax_par.set_ylabel("parameter value")
    ax_par.legend(loc="center left", bbox_to_anchor=(1.01, 0.5), title="dotted: true")
    if title:
        fig.suptitle(title)
    return fig


@_styled
def loss_and_accuracy(
    history: History,
    *,
    loss: Literal["mse", "bce"] = "bce",
    logy: bool = False,
    title: str | None = None,
) -> Figure:
    """Loss per update and the accumulated accuracy, as in the lecture's n-feature logistic run.

    Parameters
    ----------
    history : History
        Of a BCE run recorded with ``record="all"`` or ``"loss"``.
    loss : {"mse", "bce"}, default "bce"
        Names the loss axis.
    logy : bool, default False
        Logarithmic loss axis.
    title : str, optional
        Figure title.

    Returns
    -------
    Figure
        Two axes with one line each: loss, then accumulated accuracy.

    Examples
    --------
    >>> from derivreg.data import lecture
    >>> from derivreg.train import train
    >>> d = lecture("logistic-n")
    >>> h = train(d.X, d.y, loss="bce", w0=d.w0, b0=d.b0, lr=d.lr, record="loss").history
    >>> [ax.get_ylabel() for ax in loss_and_accuracy(h).axes]
    ['BCE', 'accumulated accuracy']
    """
    label = _loss_label(loss)
    _needs(history, "loss", "accuracy")
    fig = Figure(figsize=(12, 7.5), layout="constrained")
    ax_loss, ax_acc = fig.subplots(2, 1, sharex=True)
    ax_loss.plot(history.step, history.loss, lw=1.0, color="tab:blue")
    ax_loss.set_ylabel(label)
    if logy:
        ax_loss.set_yscale("log")
    ax_acc.plot(history.step, history.accuracy, lw=1.8, color="tab:green")
    final = float(history.accuracy[-1])
    ax_acc.annotate(
        f"{final:.3f}",
        xy=(float(history.step[-1]), final),
        xytext=(-6, -16),
        textcoords="offset points",
        ha="right",
    )
    ax_acc.set_ylim(0.0, 1.02)
    ax_acc.set_ylabel("accumulated accuracy")
    ax_acc.set_xlabel("update")
    if title:
        fig.suptitle(title)
    return fig


@_styled
def sigmoid_parameters(
    ws: Sequence[float] = (0.5, 1.0, 2.0, 5.0),
    bs: Sequence[float] = (-4.0, -2.0, 0.0, 2.0, 4.0),
    *,
    w_fixed: float = 2.0,
    x_range: tuple[float, float] = (-5.0, 5.0),
) -> Figure:
    """How the sigmoid's parameters act: ``sigma(wx + b) = sigma(w (x - (-b/w)))``.

    Left: ``b = 0`` and several ``w``: the larger ``|w|``, the steeper the
    curve (slope ``w/4`` at the boundary).  Right: ``w = w_fixed`` and
    several ``b``: the curve shifts so that it crosses 1/2 at the decision
    boundary ``x = -b/w``, marked by a dotted line in the curve's colour.

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
        curves and ``len(bs)`` boundary lines; each also a line at 1/2.

    Examples
    --------
    >>> fig = sigmoid_parameters()
    >>> [len(ax.lines) for ax in fig.axes[:2]]
    [6, 11]
    """
    if any(w == 0 for w in ws) or w_fixed == 0:
        raise ValueError("the sigmoid's weight must be non-zero (the boundary is -b/w)")
    predict = _predict("bce")
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
            label=f"w = {w:g} (slope {w / 4:g} at x = 0)",
        )
    ax_w.axvline(0.0, color="0.3", ls=":", lw=1.5)
    ax_w.set_title("w sets the steepness (b = 0)")

    for i, b in enumerate(bs):
        colour = cmap(i / max(len(bs) - 1, 1) * 0.85)
        boundary = -b / w_fixed + 0.0  # + 0.0: no '-0' in the legend
        ax_b.plot(
            x,
            predict(X, np.array([w_fixed]), float(b)),
            color=colour,
            lw=2,
            label=f"b = {b:g}: boundary -b/w = {boundary:g}",
        )
        ax_b.axvline(boundary, color=colour, ls=":", lw=1.5)
    ax_b.set_title(f"b shifts the boundary to x = -b/w (w = {w_fixed:g})")

    for ax, corner in ((ax_w, "upper left"), (ax_b, "lower right")):
        ax.axhline(0.5, color="0.5", lw=0.8)
        ax.set_xlabel("x")
        ax.legend(loc=corner, fontsize="small", framealpha=0.9)
    ax_w.set_ylabel("ŷ = σ(wx + b)")
    return fig


@_styled
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
        True weights; their boundary is drawn dotted (with ``true_b``).
    true_b : float, optional
        True bias.
    title : str, optional
        Axes title.

    Returns
    -------
    Figure
        One axes (plus colorbar): two scatters (one per class), the learned
        boundary, and the true boundary when given.

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
    predict = _predict("bce")
    pad = 0.5
    (x1_lo, x2_lo), (x1_hi, x2_hi) = X.min(axis=0) - pad, X.max(axis=0) + pad
    g1, g2 = np.meshgrid(np.linspace(x1_lo, x1_hi, 200), np.linspace(x2_lo, x2_hi, 200))
    p = predict(np.column_stack([g1.ravel(), g2.ravel()]), w, float(b)).reshape(g1.shape)

    fig = Figure(figsize=(8.5, 7), layout="constrained")
    ax = fig.subplots()
    field = ax.contourf(g1, g2, p, levels=np.linspace(0, 1, 11), cmap="RdBu_r", alpha=0.45)
    fig.colorbar(field, ax=ax, label="P(y = 1 | x) = σ(x·w + b)")
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

    def boundary(wv: np.ndarray, bv: float, **style: Any) -> None:
        # Points with x.w + b = 0, parametrised along the larger weight's axis.
        if wv[1] == 0 and wv[0] == 0:
            return
        if abs(wv[1]) >= abs(wv[0]):
            x1 = np.array([x1_lo, x1_hi])
            ax.plot(x1, -(bv + wv[0] * x1) / wv[1], **style)
        else:
            x2 = np.array([x2_lo, x2_hi])
            ax.plot(-(bv + wv[1] * x2) / wv[0], x2, **style)

    boundary(w, float(b), color="black", lw=2.2, label="learned boundary x·w + b = 0")
    if true_w is not None and true_b is not None:
        tw = np.asarray(true_w, dtype=np.float64).reshape(-1)
        boundary(tw, float(true_b), color="black", lw=2, ls=":", label="true boundary")
    ax.set_xlim(x1_lo, x1_hi)
    ax.set_ylim(x2_lo, x2_hi)
    ax.set_xlabel("x1")
    ax.set_ylabel("x2")
    ax.legend(loc="upper left", framealpha=0.9)
    if title:
        ax.set_title(title)
    return fig
