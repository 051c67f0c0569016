"""The reports of ``derivreg lecture`` and ``derivreg train``: tables, figures, progress.

:func:`lecture_report` runs the four experiments of Lecture 4, *Linear/Logistic
Regression*, and a 2-feature decision boundary; :func:`train_report` trains on
data of your own settings.  Both print summary tables (:func:`derivreg.experiments.summary`),
write the figures unless told not to, and show progress with
:func:`derivreg.progress.progress` (tqdm if installed).

Examples
--------
>>> import io
>>> from derivreg.data import linear
>>> out = io.StringIO()
>>> r = train_report(linear(1, 1), None, stdout=out, stderr=io.StringIO())
>>> print(out.getvalue().splitlines()[0])  # doctest: +ELLIPSIS
linear-1: linear regression, 1 feature, 1 sample, lr 0.01, 1 epoch (1 update, ... s)
"""

from __future__ import annotations

import math
import sys
from pathlib import Path
from typing import IO

from derivreg.data import LECTURE, Dataset, lecture
from derivreg.experiments import (
    DECISION_BOUNDARY_SEED,
    Run,
    figures,
    plural,
    run,
    save,
    summary,
)
from derivreg.progress import progress as progress_bar

__all__ = ["lecture_report", "train_report"]


def _derived_updates(loss: str, features: int) -> str:
    """Return the update rules SymPy derived, as the generated kernel printed them."""
    from derivreg.kernels import KERNELS

    return KERNELS[loss].UPDATE_RULES[1 if features == 1 else "n"]


def lecture_report(
    out: Path | None,
    *,
    epochs: int = 1,
    lecture_errata: bool = False,
    stdout: IO[str] | None = None,
    stderr: IO[str] | None = None,
) -> list[Run]:
    """Run the lecture's four experiments end to end, then a 2-feature one, and report them.

    For each of the four experiments of Lecture 4 (linear and logistic
    regression, 1 and 3 features): print the update rule derived by SymPy (the
    generated kernel's ``UPDATE_RULES``; SymPy is not imported), train with
    the generated kernel, print the summary table to ``stdout`` and write the
    figures to ``out``.  Then a fifth run, a 2-feature logistic problem with
    balanced classes, for its decision boundary, and the sigmoid-parameter
    figure.  Five tables in all; a progress bar goes to ``stderr``.

    Parameters
    ----------
    out : Path or None
        Directory for the PNG files; None draws nothing (Matplotlib is not
        imported).
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
    >>> print(out.getvalue().splitlines()[0])
    ... # doctest: +NORMALIZE_WHITESPACE
    Lecture 4: Linear/Logistic Regression. Its 4 experiments, then a 2-feature
    decision boundary: 5 tables.
    """
    from derivreg.data import logistic

    stdout = sys.stdout if stdout is None else stdout
    n_tables = len(LECTURE) + 1
    stdout.write(
        f"Lecture 4: Linear/Logistic Regression. Its {len(LECTURE)} experiments, then a "
        f"2-feature decision boundary: {n_tables} tables.\n\n"
    )
    steps = 1 + n_tables + (n_tables + 1 if out is not None else 0)
    written: list[Path] = []
    runs: list[Run] = []
    with progress_bar(steps, desc="derivreg lecture", unit="step", stream=stderr) as bar:
        bar.set_description("reading the derived update rules")
        datasets = {name: lecture(name, lecture_errata=lecture_errata) for name in LECTURE}
        losses = sorted({data.loss for data in datasets.values()})
        rules = {(loss, f): _derived_updates(loss, f) for loss in losses for f in (1, 3)}
        bar.update()
        for name, data in datasets.items():
            bar.set_description(f"training {name}")
            r = run(data, epochs=epochs)
            bar.update()
            if out is not None:
                bar.set_description(f"drawing {name}")
                written += save(figures(r), out)
                bar.update()
            runs.append(r)
            kernel = f"derivreg.kernels.{data.loss} (generated)"
            rule = rules[data.loss, min(data.n_features, 3)]
            stdout.write(f"{summary(r)}\n  derived update: {rule}; kernel {kernel}\n\n")
        bar.set_description("training logistic-2")
        two = run(logistic(2, 1000, seed=DECISION_BOUNDARY_SEED), epochs=epochs)
        runs.append(two)
        bar.update()
        stdout.write(f"{summary(two)}\n\n")
        if out is not None:
            from derivreg.plots import sigmoid_parameters

            bar.set_description("drawing the decision boundary")
            written += save({k: v for k, v in figures(two).items() if k.endswith("boundary")}, out)
            bar.update()
            bar.set_description("drawing the sigmoid's parameters")
            written += save({"sigmoid-parameters": sigmoid_parameters()}, out)
            bar.update()
    _report_written(written, out, stdout)
    return runs


def _report_written(written: list[Path], out: Path | None, stdout: IO[str]) -> None:
    if out is None:
        stdout.write("no figures drawn (--no-plots)\n")
        return
    stdout.write(f"wrote {plural(len(written), 'figure')} to {out}:\n")
    stdout.writelines(f"  {p.name}\n" for p in written)


def train_report(
    data: Dataset,
    out: Path | None,
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
    out : Path or None
        Directory for the PNG files; None draws nothing.
    lr : float, optional
        Learning rate (default: the dataset's).
    epochs : int, default 1
    batch_size : int or None, default 1
    shuffle : bool, default False
    seed : int, optional
        Seed of the shuffling.
    stdout, stderr : text streams, optional
        Where the table and the progress bar go (the bar counts updates:
        it moves within long epochs too).

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
    total = epochs * math.ceil(data.n_samples / (batch_size or data.n_samples))
    desc = f"training {data.name}"
    with progress_bar(total, desc=desc, unit="update", stream=stderr) as bar:

        def epoch_done(epoch: int, of: int) -> None:
            if epoch < of:
                bar.set_description(f"{desc}, epoch {epoch + 1}/{of}")

        if epochs > 1:
            bar.set_description(f"{desc}, epoch 1/{epochs}")
        r = run(
            data,
            lr=lr,
            epochs=epochs,
            batch_size=batch_size,
            shuffle=shuffle,
            seed=seed,
            progress=epoch_done,
            on_update=lambda t: bar.update(t - bar.n),
        )
    stdout.write(f"{summary(r)}\n\n")
    written = []
    if out is not None:
        written = save(figures(r), out)
    _report_written(written, out, stdout)
    return r
