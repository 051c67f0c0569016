"""The lecture's experiments end to end: data, training, summary table and figures.

This is what ``derivreg lecture`` and ``derivreg train`` run.  Training
needs NumPy only; Matplotlib is imported when figures are drawn, and SymPy
only by :func:`lecture_report`, which prints the derived update rules.

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
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import IO, TYPE_CHECKING

import numpy as np

from derivreg.data import LECTURE, Dataset, lecture
from derivreg.train import History, train

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.figure import Figure

__all__ = [
    "LECTURE",
    "MAX_RECORDS",
    "ProgressBar",
    "Run",
    "figures",
    "lecture",
    "lecture_report",
    "run",
    "save",
    "summary",
    "train_report",
]

#: At most this many History entries are kept per run (long runs are thinned).
MAX_RECORDS = 20_000

#: Seed of the 2-feature decision-boundary example.  The lecture's seed 1 draws
#: a 2-feature truth whose boundary lies 2.1 standard deviations out (1.3% of
#: the labels are 1); seed 7 draws a balanced problem (44% ones) with a
#: diagonal boundary.
DECISION_BOUNDARY_SEED = 7


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
        """Mean loss over the whole data set after the last epoch."""
        return float(self.history.epoch_loss[-1])

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
    every = max(1, math.ceil(per_epoch * epochs / MAX_RECORDS))
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
    )
    return Run(data, w, b, history, rate, epochs, batch_size, time.perf_counter() - start)


def _title(r: Run) -> str:
    d = r.data
    kind = "linear regression" if d.loss == "mse" else "logistic regression"
    feats = f"{d.n_features} feature" + ("s" if d.n_features > 1 else "")
    batch = "" if r.batch_size == 1 else f", batch {r.batch_size or d.n_samples}"
    epochs = f"{r.epochs} epoch" + ("s" if r.epochs > 1 else "")
    return f"{d.name}: {kind}, {feats}, {d.n_samples} samples, lr {r.lr:g}{batch}, {epochs}"


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
    rows = [
        (name, float(t), float(i), float(v))
        for name, t, i, v in zip(names, d.true_w, d.w0, r.w, strict=True)
    ]
    rows.append(("b", d.true_b, d.b0, r.b))
    lines = [f"{_title(r)} ({h.n_updates} updates, {r.seconds:.2f} s)"]
    lines.append(f"  {'parameter':<10}{'true':>11}{'initial':>11}{'learned':>11}{'error':>11}")
    lines += [f"  {name:<10}{t:>11.5f}{i:>11.5f}{v:>11.5f}{v - t:>11.5f}" for name, t, i, v in rows]
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
    out: dict[str, Figure] = {}
    if d.n_features == 1:
        out[f"{d.name}-models"] = plots.model_over_data(
            d.X, d.y, h, loss=d.loss, final=(r.w, r.b), title=_title(r)
        )
    out[f"{d.name}-loss-parameters"] = plots.loss_and_parameters(
        h, loss=d.loss, true_w=d.true_w, true_b=d.true_b, logy=logy, title=_title(r)
    )
    if d.loss == "bce" and d.n_features > 1:
        out[f"{d.name}-loss-accuracy"] = plots.loss_and_accuracy(
            h, loss=d.loss, logy=logy, title=_title(r)
        )
    if d.loss == "bce" and d.n_features == 2:
        out[f"{d.name}-decision-boundary"] = plots.decision_boundary(
            d.X, d.y, r.w, r.b, true_w=d.true_w, true_b=d.true_b, title=_title(r)
        )
    return out


class ProgressBar:
    """A plain-text progress bar on a stream (stderr by default); no dependency.

    On a terminal it redraws one line; otherwise it writes one line per step.

    Examples
    --------
    >>> import io
    >>> out = io.StringIO()
    >>> bar = ProgressBar(2, stream=out, width=4)
    >>> bar.step("a"); bar.step("b"); bar.close()
    >>> print(out.getvalue(), end="")
    [##  ] 1/2 a
    [####] 2/2 b
    """

    def __init__(self, total: int, *, stream: IO[str] | None = None, width: int = 30) -> None:
        self.total, self.done, self.width = total, 0, width
        self.stream = sys.stderr if stream is None else stream
        self.tty = bool(getattr(self.stream, "isatty", lambda: False)())

    def step(self, label: str) -> None:
        """Count one step done and redraw, naming ``label``."""
        self.done = min(self.done + 1, self.total)
        filled = round(self.width * self.done / self.total)
        line = f"[{'#' * filled}{' ' * (self.width - filled)}] {self.done}/{self.total} {label}"
        if self.tty:
            self.stream.write(f"\r\x1b[2K{line}")
        else:
            self.stream.write(line + "\n")
        self.stream.flush()

    def close(self) -> None:
        """End the bar's line on a terminal."""
        if self.tty:
            self.stream.write("\n")
            self.stream.flush()


def save(figs: dict[str, Figure], out: Path) -> list[Path]:
    """Write each figure to ``out/<stem>.png``, creating ``out`` if needed.

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
    out.mkdir(parents=True, exist_ok=True)
    paths = []
    for stem, fig in figs.items():
        path = out / f"{stem}.png"
        fig.savefig(path, dpi=100)
        paths.append(path)
    return paths


def _derived_updates(loss: str, features: int) -> str:
    """Derive the update rules with SymPy (the only step that needs it)."""
    from derivreg.rendering import text
    from derivreg.symbolic import derive

    d = derive(loss, features=1 if features == 1 else "n")
    return f"w := {text(d.update_w)},  b := {text(d.update_b)}"


def lecture_report(
    out: Path,
    *,
    epochs: int = 1,
    lecture_errata: bool = False,
    stdout: IO[str] | None = None,
    stderr: IO[str] | None = None,
) -> list[Run]:
    """Run the lecture's four experiments end to end and report them.

    For each experiment: derive the update rule (SymPy), train with the
    generated kernel, print the summary table to ``stdout`` and write the
    figures to ``out``; then the sigmoid-parameter figure and a 2-feature
    decision boundary.  A progress bar goes to ``stderr``.

    Parameters
    ----------
    out : Path
        Directory for the PNG files.
    epochs : int, default 1
        Passes over the data (the lecture makes one).
    lecture_errata : bool, default False
        Reproduce the lecture's own numbers (see :mod:`derivreg.data`).
    stdout, stderr : text streams, optional
        Where the tables and the progress bar go (default ``sys.stdout``,
        ``sys.stderr``).

    Returns
    -------
    list of Run
        The four lecture runs and the 2-feature run.

    Examples
    --------
    >>> import io, tempfile
    >>> out = io.StringIO()
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     runs = lecture_report(Path(tmp), stdout=out, stderr=io.StringIO())
    ...     n_files = len(list(Path(tmp).iterdir()))
    >>> [r.data.name for r in runs], n_files
    (['linear-1', 'linear-n', 'logistic-1', 'logistic-n', 'logistic-2'], 9)
    """
    from derivreg.data import logistic
    from derivreg.plots import sigmoid_parameters

    stdout = sys.stdout if stdout is None else stdout
    bar = ProgressBar(2 * len(LECTURE) + 3, stream=stderr)
    bar.step("deriving the update rules (SymPy)")
    rules = {(loss, f): _derived_updates(loss, f) for loss in ("mse", "bce") for f in (1, 3)}
    runs: list[Run] = []
    written: list[Path] = []
    for name in LECTURE:
        data = lecture(name, lecture_errata=lecture_errata)
        r = run(data, epochs=epochs)
        bar.step(f"trained {name}")
        written += save(figures(r), out)
        bar.step(f"drew {name}")
        runs.append(r)
        kernel = f"derivreg.kernels.{data.loss} (generated)"
        stdout.write(f"{summary(r)}\n  derived update: {rules[data.loss, min(data.n_features, 3)]}")
        stdout.write(f"; kernel {kernel}\n\n")
    two = run(logistic(2, 1000, seed=DECISION_BOUNDARY_SEED), epochs=epochs)
    runs.append(two)
    written += save({k: v for k, v in figures(two).items() if k.endswith("boundary")}, out)
    bar.step("drew the 2-feature decision boundary")
    written += save({"sigmoid-parameters": sigmoid_parameters()}, out)
    bar.step("drew the sigmoid's parameters")
    bar.close()
    stdout.write(f"{summary(two)}\n\n")
    stdout.write(f"wrote {len(written)} figures to {out}:\n")
    stdout.writelines(f"  {p.name}\n" for p in written)
    return runs


def train_report(
    data: Dataset,
    out: Path,
    *,
    lr: float | None = None,
    epochs: int = 1,
    batch_size: int | None = 1,
    shuffle: bool = False,
    seed: int | None = None,
    stdout: IO[str] | None = None,
    stderr: IO[str] | None = None,
) -> Run:
    """Train on ``data`` with your own settings, print the summary, write the figures.

    Parameters
    ----------
    data : Dataset
        From :func:`derivreg.data.linear` or :func:`derivreg.data.logistic`.
    out : Path
        Directory for the PNG files.
    lr : float, optional
        Learning rate (default: the dataset's).
    epochs : int, default 1
    batch_size : int or None, default 1
    shuffle : bool, default False
    seed : int, optional
        Seed of the shuffling.
    stdout, stderr : text streams, optional
        Where the table and the progress bar go.

    Returns
    -------
    Run

    Examples
    --------
    >>> import io, tempfile
    >>> from derivreg.data import linear
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     r = train_report(linear(1, 20), Path(tmp), epochs=2, stdout=io.StringIO(),
    ...                      stderr=io.StringIO())
    ...     files = sorted(p.name for p in Path(tmp).iterdir())
    >>> r.history.n_updates, files
    (40, ['linear-1-loss-parameters.png', 'linear-1-models.png'])
    """
    stdout = sys.stdout if stdout is None else stdout
    bar = ProgressBar(epochs + 1, stream=stderr)
    r = run(
        data,
        lr=lr,
        epochs=epochs,
        batch_size=batch_size,
        shuffle=shuffle,
        seed=seed,
        progress=lambda e, total: bar.step(f"epoch {e}/{total}"),
    )
    written = save(figures(r), out)
    bar.step("drew the figures")
    bar.close()
    stdout.write(f"{summary(r)}\n\nwrote {len(written)} figures to {out}:\n")
    stdout.writelines(f"  {p.name}\n" for p in written)
    return r
