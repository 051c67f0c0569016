"""Progress of ``derivreg lecture`` and ``derivreg train``: tqdm if installed, else plain text.

``pip install 'derivreg[progress]'`` brings `tqdm <https://tqdm.github.io>`_,
the progress bar most Python users know, used on a terminal.  Without it, or
when the output is not a terminal (a log file, a pipe), :class:`TextProgress`
writes a plain line at each tenth of the work (and at the end).

Examples
--------
>>> import io
>>> out = io.StringIO()
>>> with progress(4, desc="training", unit="epoch", stream=out, use_tqdm=False) as bar:
...     for _ in range(4):
...         bar.update()
>>> print(out.getvalue(), end="")
training: 1/4 epochs (25%)
training: 2/4 epochs (50%)
training: 3/4 epochs (75%)
training: 4/4 epochs (100%)
"""

from __future__ import annotations

import importlib.util
import sys
from collections.abc import Callable
from types import TracebackType
from typing import IO, Any, Protocol

import numpy as np

__all__ = ["UPDATE_BLOCK", "Progress", "TextProgress", "epoch_in_blocks", "progress"]

#: Training reports progress after every block of this many updates (and at
#: each epoch's end), so that a long single epoch moves the bar too.
UPDATE_BLOCK = 65_536


class Progress(Protocol):
    """What a progress bar offers: tqdm's ``n``, ``update``, ``set_description`` and ``close``."""

    #: Steps done so far.
    n: int

    def update(self, n: int = 1) -> object:
        """Count ``n`` more steps done."""

    def set_description(self, desc: str) -> object:
        """Name what is being done now."""

    def close(self) -> object:
        """End the bar."""

    def __enter__(self) -> Progress: ...

    def __exit__(
        self,
        kind: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
        /,
    ) -> object: ...


class TextProgress:
    """A dependency-free progress report: one line per tenth of the work, and the last.

    Parameters
    ----------
    total : int
        Steps in all.
    desc : str
        What is being done (the line's prefix).
    unit : str
        Name of one step, made plural as needed.
    stream : text stream
        Where the lines go.

    Examples
    --------
    >>> import io
    >>> out = io.StringIO()
    >>> bar = TextProgress(1000, desc="epoch 1", unit="update", stream=out)
    >>> bar.update(999); bar.update(1); bar.close()
    >>> print(out.getvalue(), end="")
    epoch 1: 999/1000 updates (99%)
    epoch 1: 1000/1000 updates (100%)
    """

    def __init__(self, total: int, *, desc: str, unit: str, stream: IO[str]) -> None:
        self.total, self.desc, self.unit, self.stream = max(total, 1), desc, unit, stream
        self.n, self._shown = 0, 0

    def update(self, n: int = 1) -> None:
        """Count ``n`` more steps; write a line when a new tenth (or the end) is reached."""
        self.n = min(self.n + n, self.total)
        tenth = self.n * 10 // self.total
        if tenth > self._shown or self.n == self.total:
            self._shown = tenth
            units = self.unit if self.total == 1 else f"{self.unit}s"
            percent = 100 * self.n // self.total
            self.stream.write(f"{self.desc}: {self.n}/{self.total} {units} ({percent}%)\n")
            self.stream.flush()

    def set_description(self, desc: str) -> None:
        """Name what is being done now (used from the next line on)."""
        self.desc = desc

    def close(self) -> None:
        """Nothing to undo: every line is complete."""

    def __enter__(self) -> TextProgress:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()


def epoch_in_blocks(  # noqa: PLR0917 - the arguments of derivreg.fast.epoch
    run_epoch: Callable[..., Any],
    on_update: Callable[[int], object],
    done: int,
    loss: str,
    X: np.ndarray,
    y: np.ndarray,
    w: np.ndarray,
    b: float,
    lr: float,
    every: int,
    first: int,
    backend: str,
) -> Any:
    """Run one per-sample epoch as :func:`derivreg.fast.epoch` does, in blocks of rows.

    The rows are visited in the same order with the same arithmetic, so the
    result is the same as one call; after each block of :data:`UPDATE_BLOCK`
    rows but the last, ``on_update(done + rows so far)`` reports the updates
    done (the epoch's end is reported by the caller, once it has checked the
    epoch).

    Examples
    --------
    >>> from derivreg.fast import epoch
    >>> X, y = np.linspace(-1, 1, 10)[:, None], np.linspace(0, 1, 10)
    >>> seen = []
    >>> whole = epoch("mse", X, y, np.zeros(1), 0.0, 0.1, 3, 1)
    >>> import derivreg.progress as p
    >>> p.UPDATE_BLOCK, saved = 4, p.UPDATE_BLOCK
    >>> parts = epoch_in_blocks(epoch, seen.append, 100, "mse", X, y, np.zeros(1), 0.0, 0.1, 3, 1,
    ...                         "python")
    >>> p.UPDATE_BLOCK = saved
    >>> seen, all(np.array_equal(a, b) for a, b in zip(whole, parts))
    ([104, 108], True)
    """
    m = len(y)
    results = []
    for lo in range(0, max(m, 1), UPDATE_BLOCK):
        hi = min(lo + UPDATE_BLOCK, m)
        r = run_epoch(loss, X[lo:hi], y[lo:hi], w, b, lr, every, (first - lo) % every, backend)
        results.append(r)
        w, b = r.w, r.b
        if hi < m:
            on_update(done + hi)
    if len(results) == 1:
        return results[0]
    J = np.concatenate([r.J for r in results])
    total = 0.0
    for term in J.tolist():  # the loop's sum of the losses, in its order: the same float
        total += term
    return type(results[0])(
        w,
        b,
        J,
        np.concatenate([r.w_track for r in results]),
        np.concatenate([r.b_track for r in results]),
        total,
        np.concatenate([r.Z for r in results]),
    )


def progress(
    total: int,
    *,
    desc: str = "",
    unit: str = "step",
    stream: IO[str] | None = None,
    use_tqdm: bool | None = None,
) -> Progress:
    """Make a progress bar over ``total`` steps: tqdm if installed, else :class:`TextProgress`.

    Parameters
    ----------
    total : int
        Steps in all.
    desc : str, default ""
        What is being done.
    unit : str, default "step"
        Name of one step.
    stream : text stream, optional
        Where the bar goes (default ``sys.stderr``).
    use_tqdm : bool or None, default None
        None: tqdm when it can be imported and ``stream`` is a terminal; True
        requires it; False never uses it.

    Returns
    -------
    Progress
        A ``tqdm.tqdm`` or a :class:`TextProgress`, usable as a context manager.

    Raises
    ------
    ModuleNotFoundError
        With ``use_tqdm=True`` and no tqdm installed.

    Examples
    --------
    >>> import io
    >>> bar = progress(3, desc="lecture", stream=io.StringIO(), use_tqdm=False)
    >>> type(bar).__name__
    'TextProgress'
    """
    stream = sys.stderr if stream is None else stream
    if use_tqdm is None:
        tty = bool(getattr(stream, "isatty", lambda: False)())
        use_tqdm = tty and importlib.util.find_spec("tqdm") is not None
    if use_tqdm:
        from tqdm import tqdm

        return tqdm(total=total, desc=desc, unit=unit, file=stream, leave=True)
    return TextProgress(total, desc=desc, unit=unit, stream=stream)
