"""The mean loss in row blocks against the textbook's and the whole-batch path, interleaved.

``python benchmarks/loss_blocks.py [--repeats 15] [--shapes bce8 mse64 ...]``
prints, per shape, the median over repeats of time(method) / time(textbook
run just before it), for

- ``loss``: the kernels' blocked mean (``_loss``, ``LOSS_BLOCK_ROWS`` rows);
- ``whole batch``: ``losses`` then ``_mean_loss``, what ``loss`` took before
  its blocks (and still takes where a loss is not finite or is 0);
- ``own products`` / ``one product``: ``loss`` with ``LOSS_BLOCK_BYTES`` set
  so that every block has its own ``X_b @ w``, or none does (one ``X @ w``).

Run it once as is and once with ``OPENBLAS_NUM_THREADS=1`` (and the other
thread variables) for the two thread settings of issue 15's target 1.
"""

from __future__ import annotations

import argparse
import math
import os
import statistics
import time
from collections.abc import Callable

import numpy as np
from batch import textbook_loss

from derivreg.kernels import KERNELS
from derivreg.kernels._checks import _mean_loss

#: (pair, rows, features): the batch table's shapes, then 16 and 32 features.
SHAPES = {
    "bce8": ("bce", 10**6, 8),
    "bce64": ("bce", 10**6, 64),
    "bce256": ("bce", 2 * 10**5, 256),
    "mse8": ("mse", 10**6, 8),
    "mse64": ("mse", 10**6, 64),
    "mse16": ("mse", 10**6, 16),
    "mse32": ("mse", 10**6, 32),
    "bce32": ("bce", 10**6, 32),
}


def with_bytes(k: object, limit: int, f: Callable[[], float]) -> Callable[[], float]:
    """``f`` run with the kernel's ``LOSS_BLOCK_BYTES`` set to ``limit``."""

    def run() -> float:
        saved = k.LOSS_BLOCK_BYTES  # type: ignore[attr-defined]
        k.LOSS_BLOCK_BYTES = limit  # type: ignore[attr-defined]
        try:
            return f()
        finally:
            k.LOSS_BLOCK_BYTES = saved  # type: ignore[attr-defined]

    return run


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=15)
    parser.add_argument("--shapes", nargs="+", default=list(SHAPES)[:5], choices=list(SHAPES))
    args = parser.parse_args(argv)
    rng = np.random.default_rng(0)
    threads = os.environ.get("OPENBLAS_NUM_THREADS", "default")
    print(f"threads {threads}, load {os.getloadavg()[0]:.2f}")
    for shape in args.shapes:
        name, m, n = SHAPES[shape]
        X = rng.standard_normal((m, n))
        w = rng.standard_normal(n) / math.sqrt(n)
        z = X @ w
        binary = KERNELS[name].TARGETS == "binary"
        y = (rng.random(m) < 1 / (1 + np.exp(-z))).astype(float) if binary else z + 1
        k, book = KERNELS[name], textbook_loss(name)
        blocked = lambda k=k, X=X, y=y, w=w: k.loss(X, y, w, 0.1)  # noqa: E731
        methods = {
            "loss": blocked,
            "whole batch": lambda k=k, X=X, y=y, w=w: _mean_loss(k.losses(X, y, w, 0.1)),
            "own products": with_bytes(k, 1 << 40, blocked),
            "one product": with_bytes(k, 8, blocked),
        }
        base = lambda X=X, y=y, w=w, book=book: book(X, y, w, 0.1)  # noqa: E731
        for f in (base, *methods.values()):
            f()
        out: dict[str, list[float]] = {key: [] for key in methods}
        for _ in range(args.repeats):
            for key, f in methods.items():
                start = time.perf_counter()
                base()
                middle = time.perf_counter()
                f()
                out[key].append((time.perf_counter() - middle) / (middle - start))
        cells = ", ".join(f"{key} {statistics.median(v):.3f}" for key, v in out.items())
        print(f"{name} {m}x{n} (load {os.getloadavg()[0]:.2f}): {cells}", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
