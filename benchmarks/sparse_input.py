"""Sparse X against dense X: the kernels and train on a CSR matrix.

Run ``python benchmarks/sparse_input.py`` (``--rows``, ``--cols``, ``--density``;
``--quick`` for a small run).  It prints a Markdown table of the best of
``--repeats`` wall times for each operation on the CSR matrix and on the same
data dense (``X.toarray()``, 0.8 GB at the default 1e5 x 1000), the ratio, and
the largest relative difference of the results.  It asserts nothing about speed.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable

import numpy as np
import scipy.sparse

from derivreg import fast
from derivreg.kernels import KERNELS
from derivreg.train import train


def best(f: Callable[[], object], repeats: int) -> tuple[float, object]:
    """Best wall time of ``repeats`` calls, and the last result."""
    times, out = [], None
    for _ in range(repeats):
        start = time.perf_counter()
        out = f()
        times.append(time.perf_counter() - start)
    return min(times), out


def rel(a: object, b: object) -> float:
    """Largest |a - b| / max(|b|, tiny) over the flattened results."""
    a = np.concatenate([np.ravel(np.asarray(v, dtype=float)) for v in np.atleast_1d(a)])
    b = np.concatenate([np.ravel(np.asarray(v, dtype=float)) for v in np.atleast_1d(b)])
    return float(np.max(np.abs(a - b) / np.maximum(np.abs(b), 1e-300)))


def main(argv: list[str] | None = None) -> int:
    """Time the sparse and dense paths and print the table."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--cols", type=int, default=1000)
    parser.add_argument("--density", type=float, default=0.01)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args(argv)
    if args.quick:
        args.rows, args.cols, args.repeats = 2000, 100, 1
    rng = np.random.default_rng(0)
    X = scipy.sparse.random(
        args.rows, args.cols, density=args.density, format="csr", random_state=1
    )
    D = X.toarray()
    w = rng.normal(size=args.cols) / np.sqrt(args.density * args.cols)
    y = (X @ w + rng.normal(size=args.rows) > 0).astype(float)
    rows = []
    for loss in sorted(KERNELS):
        k = KERNELS[loss]
        lr = 0.1 / (1.0 + float(np.max(np.asarray(X.multiply(X).sum(axis=1)))))
        ops = {
            "loss": lambda M, k=k: k.loss(M, y, w, 0.1),
            "grad": lambda M, k=k: np.append(*k.grad(M, y, w, 0.1)),
            "update": lambda M, k=k: np.append(*k.update(M, y, w, 0.1, 0.01)),
            "train, batch 256, 1 epoch": lambda M, loss=loss, lr=lr: (
                train(M, y, loss=loss, lr=lr, batch_size=256, record="none").w
            ),
            "train, full batch, 5 epochs": lambda M, loss=loss, lr=lr: (
                train(M, y, loss=loss, lr=lr, batch_size=None, epochs=5, record="none").w
            ),
        }
        if fast.available("numba"):
            ops["train, per sample (numba), 1 epoch"] = lambda M, loss=loss, lr=lr: (
                train(M, y, loss=loss, lr=lr, backend="numba", record="none").w
            )
            train(X[:2], y[:2], loss=loss, backend="numba")  # compile both loops first
            train(D[:2], y[:2], loss=loss, backend="numba")
        for name, op in ops.items():
            t_sparse, out_sparse = best(lambda op=op: op(X), args.repeats)
            t_dense, out_dense = best(lambda op=op: op(D), args.repeats)
            rows.append((loss, name, t_sparse, t_dense, rel(out_sparse, out_dense)))
    print(
        f"X: {args.rows} x {args.cols} CSR, density {args.density} ({X.nnz} stored), "
        f"dense {D.nbytes / 1e9:.2f} GB; best of {args.repeats}\n"
    )
    print("| pair | operation | sparse (s) | dense (s) | dense / sparse | max rel. diff |")
    print("|---|---|---|---|---|---|")
    for loss, name, ts, td, diff in rows:
        print(f"| {loss} | {name} | {ts:.4f} | {td:.4f} | {td / ts:.1f} | {diff:.1e} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
