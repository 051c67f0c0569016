"""Softmax regression as the lecture runs it: drawn data, per-sample SGD with a history, a table.

NumPy only (the generated ``derivreg/kernels/softmax*.py``; no SymPy, no
scikit-learn): what ``derivreg train softmax`` and the gallery's softmax
example run.  :func:`draw` draws k-class data whose labels come from a true
softmax model, :func:`train_softmax` runs per-sample SGD recording the loss
of each sample before its update, the accumulated accuracy and the
parameters, and :func:`summary` prints the lecture's table.

The softmax is unchanged when the same vector is added to every class's
column of ``W`` (and the same number to every ``b_c``): only ``W`` up to that
shift is identifiable.  The truth here has columns summing to zero, and SGD
from zero keeps them so (each step's ``x (ŷ - y)ᵀ`` has rows summing to
``Σ_c (ŷ_c - y_c) = 0``), so learned and true parameters compare directly.

Examples
--------
>>> d = draw(seed=0)
>>> W, b, h = train_softmax(d.X, d.Y, lr=0.1, epochs=2, seed=0)
>>> W.shape, b.shape, h.loss.shape, h.W.shape
((2, 3), (3,), (600,), (600, 2, 3))
>>> bool(abs(W.sum(axis=1)).max() < 1e-12)
True
"""

from __future__ import annotations

import argparse
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from derivreg.kernels import softmax as _kernel
from derivreg.kernels import softmax_loop as _loop

__all__ = [
    "SoftmaxData",
    "SoftmaxHistory",
    "draw",
    "report",
    "summary",
    "train_command",
    "train_softmax",
]


@dataclass(frozen=True)
class SoftmaxData:
    """Drawn k-class data: inputs, integer labels, one-hot labels and the true parameters."""

    X: np.ndarray
    y: np.ndarray
    Y: np.ndarray
    true_W: np.ndarray
    true_b: np.ndarray


@dataclass(frozen=True)
class SoftmaxHistory:
    """Per-sample SGD, one entry per update (before it): loss, accumulated accuracy, W, b."""

    loss: np.ndarray
    accuracy: np.ndarray
    W: np.ndarray
    b: np.ndarray
    epoch_loss: np.ndarray
    seconds: float
    lr: float


def draw(
    samples: int = 300, *, features: int = 2, classes: int = 3, seed: int = 0, scale: float = 3.0
) -> SoftmaxData:
    """Draw ``x ~ N(0, I)`` and labels ``y ~ Categorical(softmax(Wᵀx + b))`` from a true model.

    The true columns of ``W`` point ``scale`` away from the origin at evenly
    spaced angles (2 features) or in random directions, centred to sum to
    zero; ``b`` is zero.  Labels drawn from the model (not thresholded) make
    the maximum-likelihood estimate exist, and converge to the truth.

    Examples
    --------
    >>> d = draw(10, seed=1)
    >>> d.X.shape, d.Y.shape, sorted(set(d.y.tolist())) <= [0, 1, 2]
    ((10, 2), (10, 3), True)
    """
    if samples < 1 or features < 1 or classes < 2:
        raise ValueError(
            f"need samples >= 1, features >= 1 and classes >= 2, got {samples}, "
            f"{features} and {classes}"
        )
    rng = np.random.default_rng(seed)
    if features == 2:
        angles = 2 * np.pi * np.arange(classes) / classes + np.pi / 2
        W = scale * np.vstack([np.cos(angles), np.sin(angles)])
    else:
        W = rng.standard_normal((features, classes))
        W *= scale / np.linalg.norm(W, axis=0, keepdims=True)
    W = W - W.mean(axis=1, keepdims=True)
    b = np.zeros(classes)
    X = rng.standard_normal((samples, features))
    p = _kernel.predict_proba(X, W, b)
    y = (rng.random((samples, 1)) > np.cumsum(p, axis=1)).sum(axis=1).clip(0, classes - 1)
    return SoftmaxData(X, y, np.eye(classes)[y], W, b)


def train_softmax(
    X: np.ndarray,
    Y: np.ndarray,
    *,
    lr: float | None = None,
    epochs: int = 1,
    shuffle: bool = False,
    seed: int = 0,
    alpha: float = 0.0,
) -> tuple[np.ndarray, np.ndarray, SoftmaxHistory]:
    """Per-sample SGD from zero with the generated loop, recording every update.

    ``lr`` None: half the per-sample bound, ``STEP_SIZE_NUMERATOR / (2 max ||(x, 1)||²)``.
    Each update is one row's ``sgd_epoch`` (L2 gradient ``alpha W`` at every step);
    before it, the row's loss and whether the model predicts the row's class.

    Examples
    --------
    >>> X, Y = np.array([[1.0], [-1.0]]), np.array([[0.0, 1.0], [1.0, 0.0]])
    >>> W, b, h = train_softmax(X, Y, lr=0.5)
    >>> h.accuracy.tolist()
    [0.0, 0.5]
    """
    X, Y = np.asarray(X, dtype=np.float64), np.asarray(Y, dtype=np.float64)
    m, n, k = X.shape[0], X.shape[1], Y.shape[1]
    if lr is None:
        top = float(np.max(np.sum(X * X, axis=1))) + 1.0
        lr = 0.5 * _kernel.STEP_SIZE_NUMERATOR / top
    W, b = np.zeros((n, k)), np.zeros(k)
    rng = np.random.default_rng(seed)
    steps = m * epochs
    J, right = np.empty(steps), np.empty(steps, dtype=bool)
    W_track, b_track, epoch_loss = np.empty((steps, n, k)), np.empty((steps, k)), []
    start, t = time.perf_counter(), 0
    for _ in range(epochs):
        for i in rng.permutation(m) if shuffle else range(m):
            x, label = X[i : i + 1], Y[i : i + 1]
            W_track[t], b_track[t] = W, b
            J[t] = _kernel.losses(x, label, W, b)[0]
            right[t] = np.argmax(x @ W + b) == np.argmax(label)
            W, b = _loop.sgd_epoch(x, label, W, b, lr, alpha=alpha)
            t += 1
        epoch_loss.append(_kernel.loss(X, Y, W, b, alpha=alpha))
    accuracy = np.cumsum(right) / np.arange(1, steps + 1)
    seconds = time.perf_counter() - start
    history = SoftmaxHistory(J, accuracy, W_track, b_track, np.array(epoch_loss), seconds, lr)
    return W, b, history


def summary(d: SoftmaxData, W: np.ndarray, b: np.ndarray, h: SoftmaxHistory) -> str:
    """Return the lecture's table: true and learned parameters, final loss and accuracy.

    Examples
    --------
    >>> d = draw(50, seed=0)
    >>> W, b, h = train_softmax(d.X, d.Y, lr=0.1)
    >>> print(summary(d, W, b, h).splitlines()[0])  # doctest: +ELLIPSIS
    softmax: 3 classes, 2 features, 50 samples, lr 0.1, 1 epoch (50 updates, ... s)
    """
    (m, n), k = d.X.shape, d.Y.shape[1]
    epochs = len(h.epoch_loss)
    rows = [
        f"softmax: {k} classes, {n} features, {m} samples, lr {h.lr:g}, "
        f"{epochs} epoch{'s' * (epochs != 1)} ({len(h.loss)} updates, {h.seconds:.2f} s)",
        f"  {'parameter':<12}{'true':>10}{'learned':>11}{'error':>11}",
    ]
    named = [(f"W{i + 1}{c + 1}", d.true_W[i, c], W[i, c]) for i in range(n) for c in range(k)]
    named += [(f"b{c + 1}", d.true_b[c], b[c]) for c in range(k)]
    for name, true, learned in named[:24]:
        rows.append(f"  {name:<12}{true:>10.5f}{learned:>11.5f}{learned - true:>11.5f}")
    if len(named) > 24:
        rows.append(f"  ... {len(named) - 24} more parameters")
    accuracy = float(np.mean(np.argmax(d.X @ W + b, axis=1) == d.y))
    rows.append(f"  final loss (cross-entropy, mean over the data): {h.epoch_loss[-1]:.5f}")
    rows.append(
        f"  accuracy: {accuracy:.3f} (final model on the data), "
        f"{h.accuracy[-1]:.3f} accumulated during training"
    )
    error = float(np.linalg.norm(np.vstack([W, b]) - np.vstack([d.true_W, d.true_b])))
    rows.append(
        f"  distance to the truth ||(W, b) - (W*, b*)|| = {error:.4f} (labels drawn from the "
        "model: the MLE exists; constant-step SGD hovers around it)"
    )
    return "\n".join(rows)


def report(
    out: Path | None,
    *,
    samples: int = 300,
    features: int = 2,
    classes: int = 3,
    lr: float | None = None,
    epochs: int = 1,
    shuffle: bool = False,
    seed: int = 1,
) -> str:
    """Draw, train and print the table (``derivreg train softmax``); figures into ``out``.

    Two figures (with Matplotlib): ``softmax-regions.png`` (2 features only: the
    decision regions) and ``softmax-training.png`` (loss, accuracy, parameters).

    Examples
    --------
    >>> text = report(None, samples=40, seed=0)  # doctest: +ELLIPSIS
    softmax: 3 classes, 2 features, 40 samples, lr ...
    ...
    no figures drawn (--no-plots)
    """
    if classes < 2:
        raise ValueError(f"--classes must be at least 2, got {classes}")
    d = draw(samples, features=features, classes=classes, seed=seed)
    W, b, h = train_softmax(d.X, d.Y, lr=lr, epochs=epochs, shuffle=shuffle, seed=seed)
    text = summary(d, W, b, h)
    print(text)  # noqa: T201
    if out is None:
        print("\nno figures drawn (--no-plots)")  # noqa: T201
        return text
    from derivreg.experiments import save
    from derivreg.plots.softmax import softmax_regions, softmax_training

    figs = {"softmax-training": softmax_training(h, true_W=d.true_W, true_b=d.true_b)}
    if features == 2 and classes <= 10:
        figs["softmax-regions"] = softmax_regions(d.X, d.y, W, b, true_W=d.true_W, true_b=d.true_b)
    for path in save(figs, out):
        print(f"wrote {path}")  # noqa: T201
    return text


def train_command(args: argparse.Namespace) -> int:
    """Run ``derivreg train softmax`` (:mod:`derivreg.cli`): check the options, then :func:`report`.

    Examples
    --------
    >>> ns = argparse.Namespace(labels=None, noise=None, positive_rate=None, batch_size=4)
    >>> train_command(ns)
    Traceback (most recent call last):
    ...
    ValueError: --batch-size: the softmax model trains per sample (1) only
    """
    from derivreg import _cli_checks

    for given, option in ((args.labels, "--labels"), (args.noise, "--noise"),
                          (args.positive_rate, "--positive-rate")):  # fmt: skip
        if given is not None:
            raise ValueError(f"{option} applies to linear and logistic models only")
    if args.batch_size != 1:
        raise ValueError("--batch-size: the softmax model trains per sample (1) only")
    if args.classes is not None and args.classes < 2:
        raise ValueError(f"--classes must be at least 2, got {args.classes}")
    args.features, args.samples = args.features or 2, args.samples or 300
    _cli_checks.before_train(args)  # --out, sizes: before any work
    report(
        None if args.no_plots else Path(args.out),
        samples=args.samples, features=args.features, classes=args.classes or 3,
        lr=args.lr, epochs=args.epochs, shuffle=args.shuffle, seed=args.seed,
    )  # fmt: skip
    return 0
