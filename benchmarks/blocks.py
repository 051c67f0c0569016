"""Why the batch gradient's row blocks are as large as they are: three measurements.

Usage::

    python benchmarks/blocks.py            # the issue's shapes (about ten minutes)
    python benchmarks/blocks.py --quick    # small sizes, seconds

1. ``gemv``: microseconds per BLAS call ``X_b @ w`` and ``r_b @ X_b`` over
   every block of an X of 64 MiB (past the L3 cache), by block size, with one and with two BLAS
   threads (threadpoolctl).  Where the two columns agree the BLAS runs the
   call on one thread whatever its setting: no thread is started or waited
   for per block.
2. ``grad``: the unchecked ``_grad`` of the generated kernels with
   ``BLOCK_BYTES`` from 256 KiB to 32 MiB and unblocked, the textbook
   NumPy gradient, and the textbook's two whole-X products with the printed
   ``dJ_dz`` on 16384-score blocks between them ("whole-X products", the
   layout that threads as the textbook does), at every shape of
   ``batch.CASES`` and both thread settings, as multiples of one read of X
   (``X @ v``, timed just before).
3. ``elementwise``: the printed ``dJ_dz`` alone against the textbook
   residual ``1/(1+exp(-z)) - y`` (or ``2 (z - y)``), on the same row blocks
   of 1e6 scores, nanoseconds per element; no BLAS.

Every figure is a median of interleaved repeats; the load average is printed
with each table.  This script only reports; the rule it supports is written
in the generated kernels' comment (``derivreg/codegen/templates.py``).
"""

from __future__ import annotations

import argparse
import math
import os
import statistics
import time
from collections.abc import Callable

import numpy as np
from threadpoolctl import threadpool_limits

from derivreg.kernels import KERNELS

#: Bytes of X per block tried for the whole gradient; the last is "unblocked".
BLOCK_SIZES = (*(1 << k for k in range(18, 26)), 1 << 60)
#: (pair, rows, features): batch.CASES, spelled here so that this script runs alone.
CASES = (("bce", 10**6, 8), ("bce", 10**6, 64), ("bce", 2 * 10**5, 256))
CASES += (("mse", 10**6, 8), ("mse", 10**6, 64))


def clock(f: Callable[[], object]) -> float:
    start = time.perf_counter()
    f()
    return time.perf_counter() - start


def load() -> str:
    return "load average " + ", ".join(f"{x:.1f}" for x in os.getloadavg())


def size(nbytes: int) -> str:
    return "unblocked" if nbytes >= 1 << 40 else f"{nbytes >> 10} KiB"


def gemv_table(repeats: int, quick: bool) -> None:
    """Microseconds per gemv call by block size, one and two BLAS threads."""
    rng = np.random.default_rng(0)
    n = 64
    X = rng.standard_normal(((1 << 21 if quick else 1 << 26) // (8 * n), n))
    w, r = rng.standard_normal(n), rng.standard_normal(X.shape[0])
    print(f"\n## gemv per call, X of {X.nbytes >> 20} MiB, {n} columns ({load()})\n")
    print(
        "| block | rows | calls | X_b @ w, 1 thread | 2 threads | r_b @ X_b, 1 thread | 2 threads |"
    )
    print("|---|---|---|---|---|---|---|")
    for kib in (64, 256, 1024, 2048, 3072, 3584, 4096, 8192, 16384):
        rows = kib * 1024 // (8 * n)
        calls = X.shape[0] // rows
        if calls < 1:
            continue
        blocks = [
            (X[i * rows : (i + 1) * rows], r[i * rows : (i + 1) * rows]) for i in range(calls)
        ]
        cells = {}
        for threads in (1, 2):
            with threadpool_limits(threads, "blas"):
                forward = [clock(lambda bs=blocks: [b @ w for b, _ in bs]) for _ in range(repeats)]
                back = [clock(lambda bs=blocks: [s @ b for b, s in bs]) for _ in range(repeats)]
            cells[threads] = (statistics.median(forward), statistics.median(back))
        us = [cells[t][k] / calls * 1e6 for k in (0, 1) for t in (1, 2)]
        print(f"| {kib} KiB | {rows} | {calls} | " + " | ".join(f"{u:.1f}" for u in us) + " |")


def _data(loss: str, m: int, n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    X = rng.standard_normal((m, n))
    w = rng.standard_normal(n) / math.sqrt(n)
    z = X @ w
    binary = KERNELS[loss].TARGETS == "binary"
    y = (rng.random(m) < 1 / (1 + np.exp(-z))).astype(float) if binary else z + 1
    return X, y, w


def _residual(binary: bool) -> Callable[[np.ndarray, np.ndarray], np.ndarray]:
    return (lambda z, y: 1 / (1 + np.exp(-z)) - y) if binary else (lambda z, y: 2 * (z - y))


def grad_table(repeats: int, quick: bool) -> None:
    """The whole unchecked gradient by BLOCK_BYTES, as multiples of one read of X."""
    print(f"\n## _grad by BLOCK_BYTES, multiples of one read of X ({load()})\n")
    names = [size(b) for b in BLOCK_SIZES] + ["whole-X products"]
    print("| case | threads | textbook | " + " | ".join(names) + " |")
    print("|---|---|---|" + "---|" * len(names))
    for loss, rows, n in CASES:
        m = rows // 200 if quick else rows
        X, y, w = _data(loss, m, n)
        kernel, residual = KERNELS[loss], _residual(KERNELS[loss].TARGETS == "binary")
        chosen = kernel.BLOCK_BYTES

        def textbook(X=X, y=y, w=w, residual=residual) -> object:
            r = residual(X @ w + 0.1, y)
            return X.T @ r / len(y), float(r.mean())

        def blocked(nbytes: int, kernel=kernel, X=X, y=y, w=w) -> Callable[[], object]:
            def sized() -> object:
                kernel.BLOCK_BYTES = nbytes  # the generated _grad reads its module's constant
                return kernel._grad(X, y, w, 0.1)

            return sized

        def whole(X=X, y=y, w=w, kernel=kernel, rows=16384) -> object:
            # the textbook's two whole-X products (threaded as its are), the printed
            # dJ/dz (the public, checked one) on cached blocks of the scores between them
            z = X @ w + 0.1
            r = np.concatenate(
                [kernel.dJ_dz(z[s : s + rows], y[s : s + rows]) for s in range(0, len(y), rows)]
            )
            return (r @ X) / len(y), float(r.mean())

        methods = {"textbook": textbook} | {size(b): blocked(b) for b in BLOCK_SIZES}
        methods["whole-X products"] = whole
        for threads in (1, 2):
            with threadpool_limits(threads, "blas"), np.errstate(all="ignore"):
                out: dict[str, list[float]] = {k: [] for k in methods}
                for f in methods.values():
                    f()
                for _ in range(repeats):
                    for name, f in methods.items():
                        base = clock(lambda X=X, w=w: X @ w)
                        out[name].append(clock(f) / base)
            cells = " | ".join(f"{statistics.median(v):.2f}" for v in out.values())
            print(f"| {loss} {m}x{n} | {threads} | {cells} |", flush=True)
        kernel.BLOCK_BYTES = chosen


def elementwise_table(repeats: int, quick: bool) -> None:
    """The printed dJ_dz alone against the textbook residual, ns per element, no BLAS."""
    m = 10**4 if quick else 10**6
    rng = np.random.default_rng(1)
    z, y = 2 * rng.standard_normal(m), (rng.random(m) < 0.5).astype(float)
    print(f"\n## dJ_dz alone, ns per element over {m} scores in row blocks ({load()})\n")
    print("| pair | block rows | printed dJ_dz | textbook residual | printed / textbook |")
    print("|---|---|---|---|---|")
    select = lambda z, y: np.where(z <= 0, 1.0, y)  # noqa: E731 - one of the printed selections
    for loss in ("bce", "mse"):
        kernel, residual = KERNELS[loss], _residual(KERNELS[loss].TARGETS == "binary")
        yy = y if kernel.TARGETS == "binary" else z + 1
        for rows in (512, 2048, 16384, m):

            def run(f: Callable, rows: int = rows, yy: np.ndarray = yy) -> Callable[[], None]:
                def blocks() -> None:
                    for s in range(0, m, rows):  # each block's result dropped, as in _grad
                        f(z[s : s + rows], yy[s : s + rows])

                return blocks

            printed, book = run(kernel.dJ_dz), run(residual)
            printed(), book()
            a, b = [], []
            for _ in range(repeats):
                a.append(clock(printed))
                b.append(clock(book))
            pa, pb = statistics.median(a) / m * 1e9, statistics.median(b) / m * 1e9
            print(f"| {loss} | {rows} | {pa:.2f} | {pb:.2f} | {pa / pb:.2f} |", flush=True)
    # np.where picks per element with a branch: on scores of random sign it is
    # mispredicted about half the time, unless the same block is seen again
    print("\n| one np.where(z <= 0, 1.0, t), 16384 rows | ns per element |\n|---|---|")
    rows, t = 16384, np.exp(-np.abs(z))
    fresh = lambda: [select(z[s : s + rows], t[s : s + rows]) for s in range(0, m, rows)][-1]  # noqa: E731
    same = lambda: [select(z[:rows], t[:rows]) for s in range(0, m, rows)][-1]  # noqa: E731
    for name, f in (("a new block each call", fresh), ("the same block again", same)):
        f()
        ns = statistics.median(clock(f) for _ in range(repeats)) / m * 1e9
        print(f"| {name} | {ns:.2f} |", flush=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes: a smoke test")
    parser.add_argument("--repeats", type=int, default=7, help="timed repeats (at least 7)")
    parser.add_argument(
        "--only", choices=("gemv", "grad", "elementwise"), help="run one of the three tables"
    )
    args = parser.parse_args(argv)
    tables = {"gemv": gemv_table, "grad": grad_table, "elementwise": elementwise_table}
    for name, table in tables.items():
        if args.only in (None, name):
            table(args.repeats, args.quick)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
