"""The cost of the kernels' checks per call: each checked function against its unchecked kernel.

``python benchmarks/checks.py [--repeats 7] [--rows 1000 1000000]`` prints a
Markdown table: the median time per call of ``loss``, ``grad`` and
``update`` (input checks, the finiteness check of the result, and nothing
else on finite data of ordinary scale) and of the unchecked kernels they
call (``_loss``, ``_grad``, ``_update``), at m rows x 8
features, interleaved repeat by repeat.  On finite results no recomputing
path runs: the extra cost is the conversion checks and one pass over the
result (m scores, or n + 1 gradient entries).
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable

import numpy as np

from derivreg.kernels import KERNELS


def timed(f: Callable[[], object], calls: int) -> float:
    start = time.perf_counter()
    for _ in range(calls):
        f()
    return (time.perf_counter() - start) / calls


def pairs(k: object, X: np.ndarray, y: np.ndarray, w: np.ndarray) -> dict[str, tuple]:
    return {
        "loss": (lambda: k.loss(X, y, w, 0.1), lambda: k._loss(X, y, w, 0.1)),
        "grad": (lambda: k.grad(X, y, w, 0.1), lambda: k._grad(X, y, w, 0.1)),
        "update": (lambda: k.update(X, y, w, 0.1, 0.01), lambda: k._update(X, y, w, 0.1, 0.01)),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--rows", type=int, nargs="+", default=[1000, 1_000_000])
    args = parser.parse_args(argv)
    rng = np.random.default_rng(0)
    print("| pair | m x n | function | checked (us) | unchecked (us) | checks (us) | ratio |")
    print("|---|---|---|---|---|---|---|")
    for m in args.rows:
        X = rng.standard_normal((m, 8))
        w = rng.standard_normal(8) / 3
        calls = max(1, 20_000 // m)
        for name, k in sorted(KERNELS.items()):
            noisy = X @ w + rng.standard_normal(m)
            y = (rng.random(m) < 0.5).astype(float) if k.TARGETS == "binary" else noisy
            if not k._in_domain(y):  # a log link's labels: y >= 0 or y > 0
                y = np.abs(noisy) + 0.1
            for fn, (checked, unchecked) in pairs(k, X, y, w).items():
                a, b = [], []
                for _ in range(args.repeats):
                    a.append(timed(checked, calls))
                    b.append(timed(unchecked, calls))
                ca, cb = statistics.median(a) * 1e6, statistics.median(b) * 1e6
                print(
                    f"| {name} | {m} x 8 | {fn} | {ca:.1f} | {cb:.1f} | {ca - cb:.1f} | "
                    f"{ca / cb:.3f} |"
                )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
