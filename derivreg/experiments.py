"""The lecture's experiments end to end: data, training, summary table and figures.

This is what ``derivreg lecture`` and ``derivreg train`` run: the
experiments of Lecture 4, *Linear/Logistic Regression* (linear and logistic
regression with 1 and 3 features, trained by per-sample SGD).  Training needs
NumPy only; Matplotlib is imported when figures are drawn (never with
``plots=False``), and SymPy only by :func:`lecture_report`, which prints the
derived update rules.  Progress goes through :func:`derivreg.progress.progress`
(tqdm if installed).

Examples
--------
>>> r = run(lecture("linear-n"))
>>> r.data.name, r.history.n_updates
('linear-n', 100)
>>> print(summary(r).splitlines()[0])  # doctest: +ELLIPSIS
linear-n: linear regression, 3 features, 100 samples, lr 0.1, 1 epoch (100 updates...)
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from derivreg.data import Dataset, lecture  # noqa: F401 - lecture(...) in the examples
from derivreg.train import History, train

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.figure import Figure

__all__ = [
    "MAX_RECORDS",
    "MAX_ROWS",
    "MAX_VALUES",
    "PNG_COMPRESS_LEVEL",
    "PNG_DPI",
    "Run",
    "figures",
    "plural",
    "run",
    "save",
    "summary",
]

#: At most this many History entries are kept per run (long runs are thinned).
MAX_RECORDS = 20_000

#: At most about this many recorded numbers per run: wide models keep fewer entries.
MAX_VALUES = 5_000_000

#: Summary tables list at most this many weights (the largest errors), with a note.
MAX_ROWS = 10

#: Seed of the 2-feature decision-boundary example.  The lecture's seed 1 draws
#: a 2-feature truth whose boundary lies 2.1 standard deviations out (1.3% of
#: the labels are 1); seed 7 draws a balanced problem (44% ones) with a
#: diagonal boundary.
DECISION_BOUNDARY_SEED = 7

#: zlib level of the PNG files :func:`save` writes.  PNG is lossless at every
#: level: level 1 deflates the rows in about half the time of level 6, into
#: files about 15% larger (benchmarks/other.py times ``derivreg lecture``).
PNG_COMPRESS_LEVEL = 1

#: Resolution of the PNG files :func:`save` writes (dots per inch).
PNG_DPI = 100


@dataclass(frozen=True)
class Run:
    """A dataset, trained: final parameters, history, settings and time taken.

    Parameters
    ----------
    data : Dataset
        What was trained on (with its true and initial parameters).
    w : ndarray of shape (n,)
        Final weights.
    b : float
        Final bias.
    history : History
        The training history (thinned to at most :data:`MAX_RECORDS` entries).
    lr : float
        Learning rate used.
    epochs : int
        Epochs asked for.
    batch_size : int or None
        Samples per update (None: full batch).
    seconds : float
        Wall time of training.

    Examples
    --------
    >>> r = run(lecture("logistic-1"))
    >>> round(r.boundary, 2), r.accuracy >= 0.99
    (0.61, True)
    """

    data: Dataset
    w: np.ndarray
    b: float
    history: History
    lr: float
    epochs: int
    batch_size: int | None
    seconds: float

    @property
    def final_loss(self) -> float:
        """Mean loss over the whole data set at the final parameters.

        One kernel call: the History's ``epoch_loss`` is the epoch's mean of
        the losses before each update, not this.
        """
        from derivreg._losses import kernel_module

        return float(kernel_module(self.data.loss).loss(self.data.X, self.data.y, self.w, self.b))

    @property
    def accuracy(self) -> float:
        """Accuracy of the final model on the data (classifiers; nan for regression)."""
        if self.data.loss != "bce":
            return math.nan
        from derivreg.kernels import KERNELS

        yhat = KERNELS["bce"].predict(self.data.X, self.w, self.b)
        return float(np.mean((yhat > 0.5) == (self.data.y == 1.0)))

    @property
    def boundary(self) -> float:
        """Decision boundary ``-b/w`` of a 1-feature model (nan otherwise)."""
        if self.w.shape != (1,) or self.w[0] == 0:
            return math.nan
        return -self.b / float(self.w[0])


def run(
    data: Dataset,
    *,
    lr: float | None = None,
    epochs: int = 1,
    batch_size: int | None = 1,
    shuffle: bool = False,
    seed: int | None = None,
    progress: Callable[[int, int], None] | None = None,
    on_update: Callable[[int], object] | None = None,
) -> Run:
    """Train on ``data`` from its initial parameters, keeping at most :data:`MAX_RECORDS` entries.

    Parameters
    ----------
    data : Dataset
        From :mod:`derivreg.data`.
    lr : float, optional
        Learning rate; default the dataset's (the lecture's).
    epochs : int, default 1
        Passes over the data (the lecture makes one).
    batch_size : int or None, default 1
        Samples per update; None for full batch.
    shuffle : bool, default False
        Shuffle each epoch (the lecture does not).
    seed : int, optional
        Seed of the shuffling.
    progress : callable, optional
        Called as ``progress(epoch, epochs)`` after each epoch.
    on_update : callable, optional
        Called as ``on_update(t)`` with the updates done so far, within
        epochs too (see :func:`derivreg.train.train`).

    Returns
    -------
    Run

    Examples
    --------
    >>> r = run(lecture("linear-1"), epochs=20)
    >>> bool(abs(r.w[0] - 5) < 1e-6 and abs(r.b + 3) < 1e-6)
    True
    """
    rate = data.lr if lr is None else lr
    per_epoch = math.ceil(data.n_samples / (batch_size or data.n_samples))
    records = max(100, min(MAX_RECORDS, MAX_VALUES // (data.n_features + 1)))
    every = max(1, math.ceil(per_epoch * epochs / records))
    start = time.perf_counter()
    w, b, history = train(
        data.X,
        data.y,
        loss=data.loss,
        w0=data.w0,
        b0=data.b0,
        lr=rate,
        epochs=epochs,
        batch_size=batch_size,
        shuffle=shuffle,
        seed=seed,
        every=every,
        progress=progress,
        on_update=on_update,
    )
    return Run(data, w, b, history, rate, epochs, batch_size, time.perf_counter() - start)


def plural(count: int, noun: str) -> str:
    """``"1 sample"``, ``"2 samples"``.

    Examples
    --------
    >>> plural(1, "sample"), plural(0, "figure"), plural(9, "figure")
    ('1 sample', '0 figures', '9 figures')
    """
    return f"{count} {noun}" + ("" if count == 1 else "s")


def _fixed(value: float) -> str:
    """``value`` with 5 decimals, never ``-0.00000``."""
    text = f"{value:.5f}"
    return f"{0.0:.5f}" if float(text) == 0 else text


def _title(r: Run) -> str:
    d = r.data
    kind = "linear regression" if d.loss == "mse" else "logistic regression"
    batch = "" if r.batch_size == 1 else f", batch {r.batch_size or d.n_samples}"
    return (
        f"{d.name}: {kind}, {plural(d.n_features, 'feature')}, {plural(d.n_samples, 'sample')}, "
        f"lr {r.lr:g}{batch}, {plural(r.epochs, 'epoch')}"
    )


def _figure_title(r: Run) -> str:
    """Title a figure; a run that reproduces a lecture erratum says so in every figure."""
    if not r.data.errata:
        return _title(r)
    return f"{_title(r)}\nreproduces the lecture's erratum: {'; '.join(r.data.errata)}"


def summary(r: Run) -> str:
    """Tabulate a run: true, initial and learned parameters, final loss, accuracy.

    Parameters
    ----------
    r : Run

    Returns
    -------
    str

    Examples
    --------
    >>> print(summary(run(lecture("linear-1"))))  # doctest: +ELLIPSIS +NORMALIZE_WHITESPACE
    linear-1: linear regression, 1 feature, 100 samples, lr 0.01, 1 epoch (100 updates, ...)
      parameter       true    initial    learned      error
      w            5.00000   -0.49787    3.81988   -1.18012
      b           -3.00000    1.32195   -2.30453    0.69547
      final loss (MSE, mean over the data): 1.466
      max |learned - true| = 1.18
    """
    d, h = r.data, r.history
    n = d.n_features
    names = ["w"] if n == 1 else [f"w{i + 1}" for i in range(n)]
    shown: Sequence[int] = range(n)
    if n > MAX_ROWS:  # the largest errors, in feature order
        shown = sorted(np.argsort(-np.abs(r.w - d.true_w), kind="stable")[:MAX_ROWS].tolist())
    rows = [(names[k], float(d.true_w[k]), float(d.w0[k]), float(r.w[k])) for k in shown]
    rows.append(("b", d.true_b, d.b0, r.b))
    lines = [f"{_title(r)} ({plural(h.n_updates, 'update')}, {r.seconds:.2f} s)"]
    lines.append(f"  {'parameter':<10}{'true':>11}{'initial':>11}{'learned':>11}{'error':>11}")
    lines += [
        f"  {name:<10}{_fixed(t):>11}{_fixed(i):>11}{_fixed(v):>11}{_fixed(v - t):>11}"
        for name, t, i, v in rows
    ]
    if n > MAX_ROWS:
        lines.append(
            f"  ({n - MAX_ROWS} more weights not shown: the {MAX_ROWS} with the largest "
            f"|error| are; ||w - w*|| = {float(np.linalg.norm(r.w - d.true_w)):.4g})"
        )
    label = "MSE" if d.loss == "mse" else "BCE"
    lines.append(f"  final loss ({label}, mean over the data): {r.final_loss:.4g}")
    if d.loss == "bce":
        accuracy = f"  accuracy: {r.accuracy:.3f} (final model on the data)"
        if h.accuracy is not None:
            accuracy += f", {h.accuracy[-1]:.3f} accumulated during training"
        lines.append(accuracy)
        if n == 1:
            t_boundary = -d.true_b / float(d.true_w[0])
            lines.append(f"  boundary -b/w: learned {r.boundary:.4f}, true {t_boundary:.4f}")
        learned = np.append(r.w, r.b)
        true = np.append(d.true_w, d.true_b)
        cos = float(learned @ true / (np.linalg.norm(learned) * np.linalg.norm(true)))
        scale = float(np.linalg.norm(learned) / np.linalg.norm(true))
        lines.append(
            f"  direction: cos(learned, true) = {cos:.4f}; scale |learned|/|true| = {scale:.2f}"
        )
        if d.labels == "threshold":
            lines.append(
                "  the labels are separable: the loss has no minimiser and |w| grows without "
                "bound; only the direction (the boundary) converges"
            )
    else:
        err = max(float(np.max(np.abs(r.w - d.true_w))), abs(r.b - d.true_b))
        lines.append(f"  max |learned - true| = {err:.3g}")
    lines += [f"  lecture erratum reproduced: {e}" for e in d.errata]
    return "\n".join(lines)


def figures(r: Run) -> dict[str, Figure]:
    """Draw the run's figures, keyed by file stem (e.g. ``"linear-1-models"``).

    One feature: the models over the data, and loss with parameter tracks.
    More features: loss with parameter tracks.  Logistic: also loss with
    accumulated accuracy; two features: the decision boundary.

    Parameters
    ----------
    r : Run

    Returns
    -------
    dict of str to Figure

    Examples
    --------
    >>> sorted(figures(run(lecture("logistic-n"))))
    ['logistic-n-loss-accuracy', 'logistic-n-loss-parameters']
    """
    from derivreg import plots

    d, h = r.data, r.history
    logy = r.epochs > 1
    title = _figure_title(r)
    out: dict[str, Figure] = {}
    if d.n_features == 1:
        out[f"{d.name}-models"] = plots.model_over_data(
            d.X, d.y, h, loss=d.loss, final=(r.w, r.b), true=(d.true_w, d.true_b), title=title
        )
    out[f"{d.name}-loss-parameters"] = plots.loss_and_parameters(
        h, loss=d.loss, true_w=d.true_w, true_b=d.true_b, logy=logy, title=title
    )
    if d.loss == "bce" and d.n_features > 1:
        out[f"{d.name}-loss-accuracy"] = plots.loss_and_accuracy(
            h, loss=d.loss, final_accuracy=r.accuracy, logy=logy, title=title
        )
    if d.loss == "bce" and d.n_features == 2:
        out[f"{d.name}-decision-boundary"] = plots.decision_boundary(
            d.X, d.y, r.w, r.b, true_w=d.true_w, true_b=d.true_b, title=title
        )
    return out


def save(figs: dict[str, Figure], out: Path) -> list[Path]:
    """Write each figure to ``out/<stem>.png``, creating ``out`` if needed.

    At :data:`PNG_DPI` and zlib level :data:`PNG_COMPRESS_LEVEL`, the pixels
    ``fig.savefig(path, dpi=PNG_DPI)`` writes, in one draw of the figure
    instead of savefig's two, with the rows unfiltered
    (:func:`derivreg.plots._png.save_png`).

    Matplotlib's ``savefig.*`` rcParams are honoured as savefig honours
    them: ``savefig.facecolor``, ``savefig.edgecolor`` and
    ``savefig.transparent`` in the one draw; ``savefig.bbox = "tight"``
    (with ``savefig.pad_inches``) by handing the figure to ``fig.savefig``
    itself, in its two draws.  Not read: ``savefig.dpi`` (the files are at
    :data:`PNG_DPI`) and ``savefig.format`` (they are PNG files).

    Parameters
    ----------
    figs : dict of str to Figure
    out : Path

    Returns
    -------
    list of Path
        The files written, in order.

    Examples
    --------
    >>> import tempfile
    >>> from derivreg.plots import sigmoid_parameters
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     [p.name for p in save({"sigmoid": sigmoid_parameters()}, Path(tmp))]
    ['sigmoid.png']
    """
    from derivreg.plots._png import save_png

    out.mkdir(parents=True, exist_ok=True)
    paths = []
    for stem, fig in figs.items():
        path = out / f"{stem}.png"
        save_png(fig, path, dpi=PNG_DPI, level=PNG_COMPRESS_LEVEL)
        paths.append(path)
    return paths


def __getattr__(name: str) -> object:
    # The reports moved to derivreg.reports; ``from derivreg.experiments import
    # lecture_report`` still works (lazily: reports imports this module).
    if name in ("lecture_report", "train_report"):
        from derivreg import reports

        return getattr(reports, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
