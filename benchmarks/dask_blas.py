"""Dask's threaded scheduler with the BLAS at its own threads, and held to one.

Run ``python benchmarks/dask_blas.py`` (``--rows``, ``--chunks``,
``--repeats``; ``--quick``: 20,000 rows, one pass each).  It times one pass of
:class:`derivreg.distributed.DaskObjective` with the Hessian (each chunk's
``X~^T diag(c) X~``, a BLAS call) on the threaded scheduler: as
:func:`derivreg.distributed.blas_limit` runs it (the BLAS held to one thread
while the scheduler computes), and with that limit switched off (each of the
scheduler's threads calling a BLAS with its own threads).  It prints a Markdown
table of the median wall times and the load average before and after, and
writes it to ``docs/performance/dask_blas.md`` (``--out``).  It asserts nothing
about speed.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# benchmarks/ holds a sparse.py that would hide the package Dask imports: not on the path
sys.path[0] = str(ROOT)

import dask  # noqa: E402
import dask.array as da  # noqa: E402
import numpy as np  # noqa: E402
from threadpoolctl import threadpool_info  # noqa: E402

from derivreg import distributed  # noqa: E402
from derivreg.kernels import KERNELS  # noqa: E402


def _median_pass(objective: distributed.DaskObjective, repeats: int) -> float:
    theta = np.zeros(objective.n_params)
    objective.evaluate(theta, hessian=True)  # warm: the graph's first build
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        objective.evaluate(theta, hessian=True)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main(argv: list[str] | None = None) -> int:
    """Time the Hessian pass with and without the BLAS limit; print and write the table."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=400_000)
    parser.add_argument("--features", type=int, default=16)
    parser.add_argument("--chunks", type=int, default=8)
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "performance" / "dask_blas.md")
    args = parser.parse_args(argv)
    if args.quick:
        args.rows, args.repeats = 20_000, 1
    rng = np.random.default_rng(0)
    X = rng.normal(size=(args.rows, args.features))
    y = (rng.uniform(size=args.rows) < 0.5).astype(float)
    rows = -(-args.rows // args.chunks)
    Xd = da.from_array(X, chunks=(rows, args.features))
    objective = distributed.DaskObjective(KERNELS["bce"], Xd, da.from_array(y, chunks=rows))
    blas = sorted({(i["internal_api"], i["num_threads"]) for i in threadpool_info()})
    limit = distributed.blas_limit
    lines = []
    with dask.config.set(scheduler="threads"):
        for rep in range(2):  # alternate, so that a change of load hits both
            for mode in ("BLAS held to 1 thread (blas_limit)", "BLAS at its own threads"):
                held = mode.startswith("BLAS held")
                distributed.blas_limit = limit if held else lambda *_: contextlib.nullcontext()
                try:
                    before = os.getloadavg()[0]
                    seconds = _median_pass(objective, args.repeats)
                    after = os.getloadavg()[0]
                finally:
                    distributed.blas_limit = limit
                lines.append(f"| {rep + 1} | {mode} | {seconds:.4f} | {before:.1f} | {after:.1f} |")
    table = [
        f"One pass of DaskObjective(bce).evaluate(hessian=True) on {args.rows} x "
        f"{args.features} float64 in {args.chunks} chunks, threaded scheduler "
        f"({os.cpu_count()} cores), BLAS {blas}; median of {args.repeats} passes; "
        "load average (1 min) before and after each row.",
        "",
        "| round | BLAS | pass (s) | load before | load after |",
        "|---|---|---|---|---|",
        *lines,
        "",
    ]
    text = "\n".join(table)
    print(text)
    args.out.write_text(text, encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
