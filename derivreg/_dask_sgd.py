"""Mini-batch SGD on Dask arrays: the chunks in a (shuffled) order, the parameters carried.

:func:`derivreg._dask_train.train_dask` runs :class:`Chunks` for
``solver="sgd"``: each epoch visits the chunks in an order drawn from ``seed``
(``shuffle=True``) or in order; inside a chunk, the in-memory
:func:`~derivreg.train.train` runs one epoch (the generated per-sample loop,
or the batch kernels), in a Dask task where the chunk lives, starting from the
parameters the previous chunk ended with.  Only ``w`` and ``b`` (and what
``record`` keeps) travel.  Without shuffling, and with ``batch_size`` dividing
every chunk's rows, the updates are the in-memory run's, in the same order
with the same arithmetic: the same ``w``, ``b`` and History (``epoch_loss`` up
to summation order: as in memory, the weighted mean of the loop's own per-
sample losses, each before its update, plus the penalty at the epoch's end;
the chunks' loss sums weighted by their sample mass). With shuffling, the same
seed gives the same result on any scheduler; the order differs from the in-
memory shuffle (chunks, then rows within a chunk), so the two agree only as
two SGD runs do.

Examples
--------
>>> import numpy as np, dask.array as da
>>> from derivreg.train import train
>>> X = da.from_array(np.arange(8.0)[:, None] / 8, chunks=(4, 1))
>>> w, b, h = train(X, 2 * X[:, 0] + 1, lr=0.5, epochs=200, record="none")
>>> round(float(w[0]), 4), round(b, 4), h.n_updates
(2.0, 1.0, 1600)
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from types import ModuleType
from typing import Any

import numpy as np

from derivreg import _params
from derivreg import _penalty as _pen
from derivreg._history import DivergenceError, History, TrainResult
from derivreg.distributed import DaskObjective

__all__ = ["Chunks"]

#: The options each chunk's in-memory ``train`` gets as they were passed.
_PASSED = ("backend", "divergence_factor", "penalty", "alpha", "l1_ratio", "fit_intercept", "loss")


def _diverged(value: float) -> DivergenceError:
    """Return the error for an epoch's loss (or the final objective) that is not finite."""
    message = f"the mean loss is {value} after an epoch: lower lr"
    nan = float("nan")
    return DivergenceError(message, lr=nan, step_size_bound=nan, update=-1, loss=value)


@dataclass
class _Piece:
    """What one chunk's run sends back: the updates it made and the entries ``every`` keeps."""

    n_updates: int
    samples: int
    mean: float  # the chunk's epoch_loss: its mean loss plus the penalty at its end w
    mass: float  # its rows, or the sum of its sample weights
    correct: float
    step: np.ndarray
    loss: np.ndarray | None
    w: np.ndarray | None
    b: np.ndarray | None
    accuracy: np.ndarray | None
    backend: str | None


@dataclass
class _Diverged:
    """A DivergenceError raised in a task, carried back as data (its keywords do not pickle)."""

    message: str
    lr: float
    bound: float
    update: int
    loss: float


class _Shifted:
    """A schedule ``lr(t)`` seen from update ``t0`` on: a chunk counts its updates from 0."""

    def __init__(self, schedule: Any, t0: int) -> None:
        self.schedule, self.t0 = schedule, t0

    def __call__(self, t: int) -> float:
        return self.schedule(self.t0 + t)


def _one_chunk(X: np.ndarray, y: np.ndarray, sw: np.ndarray | None, state: dict) -> Any:
    """Run one epoch of the in-memory ``train`` on one chunk (in a Dask task)."""
    from derivreg.train import train

    w, b, t0, seen, correct = state["w"], state["b"], state["t0"], state["seen"], state["correct"]
    every, bs = state["every"], state["batch_size"]
    if sw is not None and not np.any(sw):  # a chunk of weights all zero moves nothing
        return w, b, _Piece(0, 0, 0.0, 0.0, 0.0, np.zeros(0, np.intp), None, None, None, None, None)
    lr = state["lr"] if not callable(state["lr"]) else _Shifted(state["lr"], t0)
    try:
        w, b, h = train(
            X,
            y,
            w0=w,
            b0=b,
            lr=lr,
            epochs=1,
            seed=state["seed"],
            shuffle=state["seed"] is not None,
            sample_weight=sw,
            record=state["record"],
            every=1,
            tol=None,
            check_separation=False,
            **state["passed"],
        )
    except DivergenceError as err:
        return _Diverged(str(err), err.lr, err.step_size_bound, t0 + err.update, err.loss)
    local = h.step
    keep = (t0 + local) % every == 0
    rows = y.shape[0]
    acc = None
    if h.accuracy is not None:  # accumulated over this chunk: re-accumulate over the run
        n_seen = np.minimum((local + 1) * (bs or rows), rows)
        acc = ((correct + np.round(h.accuracy * n_seen)) / (seen + n_seen))[keep]
        correct += float(np.round(h.accuracy[-1] * rows)) if h.accuracy.size else 0.0
    pick = lambda a: None if a is None else a[keep]  # noqa: E731
    mass = float(rows) if sw is None else float(np.sum(sw))
    piece = _Piece(
        h.n_updates,
        rows,
        float(h.epoch_loss[0]),
        mass,
        correct,
        t0 + local[keep],
        pick(h.loss),
        pick(h.w),
        pick(h.b),
        acc,
        h.backend,
    )
    return w, b, piece


class Chunks:
    """SGD over a (shuffled) chunk order, the parameters carried from chunk to chunk."""

    def __init__(
        self,
        objective: DaskObjective,
        kernel: ModuleType,
        pen: _pen.Penalty,
        o: dict,
        *,
        record: str,
        tol: float | None,
    ) -> None:
        import dask

        self.dask, self.obj, self.kernel, self.pen, self.tol = dask, objective, kernel, pen, tol
        self.epochs = _params.count("epochs", o.get("epochs", 1), "train")
        self.every = _params.count("every", o.get("every", 1), "train")
        self.patience = _params.count("n_iter_no_change", o.get("n_iter_no_change", 5), "train")
        self.shuffle = _params.flag("shuffle", o.get("shuffle", False), "train")
        self.seed = _params.seed("seed", o.get("seed"), "train")
        self.progress, self.on_update = o.get("progress"), o.get("on_update")
        for name in ("progress", "on_update"):
            if getattr(self, name) is not None and not callable(getattr(self, name)):
                raise _params.refuse(name, "train", "a callable or None", getattr(self, name))
        bs = o.get("batch_size", 1)
        passed = {k: o[k] for k in _PASSED if k in o}
        self.state = {
            "lr": o.get("lr", 0.01),
            "record": record,
            "every": self.every,
            "batch_size": bs,
            "passed": {**passed, "batch_size": bs},
        }

    def _chunk(
        self, i: int, w: np.ndarray, b: float, counts: tuple[int, int, float], seed: int | None
    ) -> Any:
        obj, d = self.obj, self.dask
        sw = None if obj.sample_weight is None else obj.sample_weight.blocks[i]
        t, seen, correct = counts
        state = {
            **self.state,
            "w": w,
            "b": b,
            "t0": t,
            "seen": seen,
            "correct": correct,
            "seed": seed,
        }
        task = d.delayed(_one_chunk, pure=False)(obj.X.blocks[i], obj.y.blocks[i], sw, state)
        found = d.compute(task)[0]
        if isinstance(found, _Diverged):
            raise DivergenceError(
                found.message,
                lr=found.lr,
                step_size_bound=found.bound,
                update=found.update,
                loss=found.loss,
            )
        return found

    def run(self, w: np.ndarray, b: float) -> TrainResult:
        """Every epoch: the chunks in order, their losses combined; at the end, the gradient."""
        rng = np.random.default_rng(self.seed)
        chunks = self.obj.X.numblocks[0]
        t, seen, correct, pieces, epoch_loss = 0, 0, 0.0, [], []
        best, stale, stopped = math.inf, 0, False
        for epoch in range(self.epochs):
            order = rng.permutation(chunks) if self.shuffle else np.arange(chunks)
            seeds = rng.integers(0, 2**63 - 1, size=chunks) if self.shuffle else [None] * chunks
            total, mass = 0.0, 0.0
            for i, s in zip(order, seeds, strict=True):
                w, b, piece = self._chunk(
                    int(i), w, b, (t, seen, correct), None if s is None else int(s)
                )
                t, seen, correct = t + piece.n_updates, seen + piece.samples, piece.correct
                pieces.append(piece)
                if piece.mass:  # the chunk's loss sum: its mean without its end penalty
                    total += (piece.mean - self._penalty(w)) * piece.mass
                    mass += piece.mass
                if self.on_update is not None:
                    self.on_update(t)
            mean = self._epoch_loss(total, mass, w)
            epoch_loss.append(mean)
            if self.progress is not None:
                self.progress(epoch + 1, self.epochs)
            if self.tol is not None:
                stale = stale + 1 if mean > best - self.tol else 0
                best = min(best, mean)
                if stale >= self.patience and epoch + 1 < self.epochs:
                    stopped = True
                    break
        return self._result(w, b, t, pieces, epoch_loss, self._at(w, b), stopped)

    def _penalty(self, w: np.ndarray) -> float:
        """Return the penalty at ``w``, as :func:`derivreg._epochs._end_epoch` adds it."""
        value = float(w @ self.kernel.dR_dw(w, self.pen.l2)) / 2 if self.pen.l2 else 0.0
        return value + (self.pen.l1 * float(np.sum(np.abs(w))) if self.pen.l1 else 0.0)

    def _epoch_loss(self, total: float, mass: float, w: np.ndarray) -> float:
        """Return the epoch's loss as in memory: the weighted mean of the losses, plus the penalty.

        ``total`` is the chunks' loss sums (each chunk's mean times its mass),
        ``mass`` their rows or weights; the penalty is taken once, at the
        epoch's end ``w``.
        """
        with np.errstate(over="ignore", invalid="ignore"):
            value = total / mass + self._penalty(w)
        if not math.isfinite(value):
            raise _diverged(value)
        return value

    def _at(self, w: np.ndarray, b: float) -> tuple[float, float]:
        """Return the objective and its (minimum-norm sub)gradient's largest entry: one pass."""
        theta = np.append(w, b) if self.obj.fit_intercept else np.asarray(w)
        with np.errstate(over="ignore", invalid="ignore"):
            found = self.obj.evaluate(theta)
        g = found.grad[: w.size]
        value = found.value + self.pen.l1 * float(np.sum(np.abs(w)))
        if self.pen.l1:
            g = np.where(
                w != 0, g + self.pen.l1 * np.sign(w), self.kernel.soft_threshold(g, self.pen.l1)
            )
        norm = max(float(np.max(np.abs(g))), float(np.max(np.abs(found.grad[w.size :]), initial=0)))
        if not math.isfinite(value):
            raise _diverged(value)
        return value, norm

    def _result(self, w, b, t, pieces, epoch_loss, at, stopped) -> TrainResult:  # noqa: ANN001, PLR0917
        def joined(name: str) -> np.ndarray | None:
            parts = [getattr(p, name) for p in pieces if p.n_updates]
            return None if not parts or parts[0] is None else np.concatenate(parts)

        norm = at[1]
        converged = None if self.tol is None else norm <= self.tol
        ran = [p.backend for p in pieces if p.backend is not None]
        history = History(
            step=np.concatenate([p.step for p in pieces]).astype(np.intp),
            loss=joined("loss"),
            w=joined("w"),
            b=joined("b"),
            accuracy=joined("accuracy"),
            epoch_loss=np.array(epoch_loss),
            n_updates=t,
            stopped_early=stopped,
            solver="sgd",
            converged=converged,
            grad_norm=norm,
            n_iter=len(epoch_loss),
            backend=ran[-1] if ran else None,
        )
        return TrainResult(np.asarray(w, dtype=np.float64), float(b), history)
