"""The scale run: a logistic data set larger than memory, written to zarr and fitted with Newton.

Usage::

    python benchmarks/dask_scale.py                      # 2e8 x 16 float64: 25.6 GB
    python benchmarks/dask_scale.py --rows 20000000      # the quick size (2.56 GB)
    python benchmarks/dask_scale.py --rows 200000 --chunk-rows 50000 --out /tmp/x  # smoke

Steps, in one process with a ``LocalCluster`` (``--workers`` worker processes,
one thread each, ``--memory-limit`` each):

1. :func:`derivreg.data.write_zarr` writes ``--rows`` x ``--features``
   Bernoulli(sigma(x.w + b)) data to ``--store``, one chunk of
   ``--chunk-rows`` rows at a time (timed; no more than a chunk in memory);
2. one read of the store (``X.sum()`` and ``y.sum()``: every chunk read once,
   nothing computed but a sum), timed: the floor of a pass;
3. derivreg's Newton (:class:`derivreg.distributed.DaskObjective`: the
   generated ``loss``, ``grad`` and ``hessian`` per chunk, a tree reduction),
   each pass timed;
4. dask-ml's ``LogisticRegression(solver="newton")`` (dask-glm's Newton, its
   hand-written gradient and Hessian) on the same dask arrays, where installed;
5. the peak resident memory (``VmHWM`` of ``/proc/<pid>/status``, the
   kernel's own high-water mark, not a sample) of this process, the
   scheduler, every worker and every nanny.

The store is deleted at the end unless ``--keep``.  Output: ``dask_scale.md``
(Markdown, no heading) and ``dask_scale.json`` in ``--out`` (default
``docs/performance/``).  Nothing here is asserted; tests/test_benchmarks.py
runs a tiny size as a smoke test (and checks the computes are counted).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
# this checkout's derivreg, first on the path (the script runs without an install)
sys.path.insert(0, str(ROOT))

from derivreg.data import open_zarr, write_zarr  # noqa: E402
from derivreg.distributed import DaskObjective  # noqa: E402
from derivreg.kernels import KERNELS  # noqa: E402
from derivreg.solvers import newton  # noqa: E402

GIB = 2**30


def peak_rss(pid: int | None = None) -> int:
    """The process's peak resident set (VmHWM), in bytes."""
    path = f"/proc/{pid or 'self'}/status"
    with Path(path).open(encoding="ascii") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    raise RuntimeError(f"no VmHWM in {path}")


def load() -> str:
    return " ".join(f"{x:.1f}" for x in os.getloadavg())


def all_peaks(client) -> dict[str, int]:
    """Peak RSS of this process, the scheduler, each worker and each nanny."""
    peaks = {"client (this process)": peak_rss()}
    peaks["scheduler"] = client.run_on_scheduler(peak_rss)
    for address, value in client.run(peak_rss).items():
        peaks[f"worker {address}"] = value
    for address, value in client.run(peak_rss, nanny=True).items():
        peaks[f"nanny {address}"] = value
    return peaks


def count_graphs(client) -> Callable[[], int]:
    """Count the graphs submitted to the scheduler from now on: one per ``compute``.

    A full-batch solver computes once per pass over the data, derivreg's and
    dask-glm's alike (dask-glm's Newton: one ``compute`` of the gradient and
    Hessian per iteration), so the count is the passes of a fit, measured the
    same way for both.
    """
    from distributed.diagnostics.plugin import SchedulerPlugin

    class GraphCounter(SchedulerPlugin):
        name = "derivreg-graph-counter"

        def __init__(self) -> None:
            self.graphs = 0

        def update_graph(self, scheduler, **kwargs) -> None:  # noqa: ARG002 - the hook's
            self.graphs += 1

    def install(dask_scheduler) -> None:  # runs on the scheduler (a copy of the plugin)
        dask_scheduler.add_plugin(GraphCounter(), name=GraphCounter.name)

    def read(dask_scheduler) -> int:
        return dask_scheduler.plugins[GraphCounter.name].graphs

    client.run_on_scheduler(install)
    return lambda: client.run_on_scheduler(read)


def timed(fn):
    start = time.perf_counter()
    value = fn()
    return value, time.perf_counter() - start


def run(args: argparse.Namespace) -> dict:
    from distributed import Client, LocalCluster

    store = Path(args.store)
    figures: dict = {"rows": args.rows, "features": args.features, "chunk_rows": args.chunk_rows}
    figures["gb"] = args.rows * args.features * 8 / 1e9
    figures["machine"] = f"{platform.machine()}, {os.cpu_count()} cores"
    figures["load_before"] = load()
    info, figures["write_s"] = timed(
        lambda: write_zarr(
            store,
            "logistic",
            args.rows,
            args.features,
            chunk_rows=args.chunk_rows,
            seed=args.seed,
            overwrite=True,
            progress=True,
        )
    )
    figures["write_peak_rss"] = peak_rss()
    save(args, figures)
    try:
        with (
            LocalCluster(
                n_workers=args.workers,
                threads_per_worker=1,
                memory_limit=args.memory_limit,
                dashboard_address=":0",
                processes=True,
            ) as cluster,
            Client(cluster) as client,
        ):
            fit_on(client, info, store, args, figures)
            figures["peak_rss"] = all_peaks(client)
            save(args, figures)
    finally:
        if not args.keep:
            shutil.rmtree(store, ignore_errors=True)
    figures["load_after"] = load()
    return figures


def fit_on(client, info, store: Path, args: argparse.Namespace, figures: dict) -> None:
    X, y = open_zarr(store)
    client.compute([X[:1].sum(), y[:1].sum()], sync=True)  # the workers started and warm
    _, figures["read_s"] = timed(lambda: client.compute([X.sum(), y.sum()], sync=True))
    passes: list[float] = []
    figures["passes_s"] = passes
    save(args, figures)
    clock = [time.perf_counter()]

    def on_pass(k, at):
        now = time.perf_counter()
        passes.append(now - clock[0])
        clock[0] = now
        print(f"  pass {k}: loss {at.value:.10f}, {passes[-1]:.1f} s", file=sys.stderr)
        save(args, figures)

    obj = DaskObjective(KERNELS["bce"], X, y, on_pass=on_pass)
    clock[0] = time.perf_counter()
    fit, figures["newton_s"] = timed(lambda: newton(obj, np.zeros(args.features + 1), tol=1e-10))
    figures["passes_s"] = passes
    figures["newton_iter"], figures["converged"] = fit.n_iter, bool(fit.converged)
    truth = np.append(info.true_w, info.true_b)
    figures["error_vs_truth"] = float(np.max(np.abs(fit.theta - truth)))
    figures["peak_rss_derivreg"] = all_peaks(client)  # before dask-ml runs
    save(args, figures)
    figures["dask_ml"] = None
    if args.no_dask_ml:
        return
    try:
        from dask_ml.linear_model import LogisticRegression
    except ImportError:
        return
    # dask-glm's Newton runs max_iter + 1 iterations at most, one pass over X each
    ref = LogisticRegression(
        solver="newton", penalty=None, tol=1e-8, max_iter=args.dask_ml_max_iter
    )
    figures["dask_ml"] = {"started": time.time(), "max_iter": args.dask_ml_max_iter}
    save(args, figures)
    graphs = count_graphs(client)
    _, seconds = timed(lambda: ref.fit(X, y))
    computes = graphs()
    theirs = np.append(np.asarray(ref.coef_).ravel(), ref.intercept_)
    figures["dask_ml"] = {
        "max_iter": args.dask_ml_max_iter,
        "seconds": seconds,
        "graphs": computes,
        "max_rel_diff": float(np.max(np.abs(theirs - fit.theta)) / np.max(np.abs(fit.theta))),
    }


def save(args: argparse.Namespace, figures: dict) -> None:
    """Write the figures so far (a long run that stops early keeps what it measured)."""
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "dask_scale.json").write_text(json.dumps(figures, indent=1), encoding="utf-8")


def _steps(f: dict) -> list[str]:
    passes = np.array(f.get("passes_s", []))
    lines = ["| step | wall time |", "|---|---|"]
    lines.append(f"| write the zarr store, chunk by chunk | {f['write_s']:.1f} s |")
    if "read_s" in f:
        lines.append(f"| one read of the store (X.sum(), y.sum()) | {f['read_s']:.1f} s |")
    if "newton_s" in f:
        lines.append(
            f"| derivreg Newton: {f['newton_iter']} iterations, {passes.size} passes "
            f"| {f['newton_s']:.1f} s |"
        )
    if passes.size and "read_s" in f:
        lines.append(
            f"| one Newton pass (median of {passes.size}; {passes.min():.1f}-{passes.max():.1f} s)"
            f" | {np.median(passes):.1f} s = {np.median(passes) / f['read_s']:.2f} reads |"
        )
    ml = f.get("dask_ml")
    if ml is not None and "seconds" in ml:
        lines.append(
            "| dask-ml LogisticRegression(solver='newton', penalty=None, tol=1e-8, "
            f"max_iter={ml.get('max_iter', 100)}), same arrays{_graphs(ml, f)} "
            f"| {ml['seconds']:.1f} s |"
        )
    if ml is not None and "unfinished_after_s" in ml:
        lines.append(
            "| dask-ml LogisticRegression(solver='newton', penalty=None, tol=1e-8, "
            f"max_iter={ml.get('max_iter', 100)}), same arrays | not finished: stopped "
            f"after {ml['unfinished_after_s']:.1f} s |"
        )
    return lines


def _graphs(ml: dict, f: dict) -> str:
    """dask-ml's passes (graphs computed) and its time per pass, where counted."""
    if not ml.get("graphs"):
        return ""
    each = ml["seconds"] / ml["graphs"]
    reads = f" = {each / f['read_s']:.2f} reads" if "read_s" in f else ""
    return f"; {ml['graphs']} computes (passes), {each:.1f} s each{reads}"


def report(f: dict) -> str:
    after = f.get("load_after", "(not measured: the run was stopped)")
    lines = [
        f"{f['rows']:,} rows x {f['features']} features of float64 ({f['gb']:.1f} GB), "
        f"chunks of {f['chunk_rows']:,} rows; {f['machine']}, load average "
        f"{f['load_before']} before and {after} after (the machine is shared).",
        "",
        *_steps(f),
        "",
    ]
    if f.get("stopped"):
        lines += [f"The run was stopped before its end: {f['stopped']}", ""]
    ml = f.get("dask_ml")
    if "newton_s" in f:
        mine = (
            f"Newton converged: {f['converged']}; largest distance to the true parameters "
            f"{f['error_vs_truth']:.2e}"
        )
        if ml is not None and "seconds" in ml:
            mine += f"; dask-ml's coefficients differ from derivreg's by {ml['max_rel_diff']:.1e}"
        lines += [mine + ".", ""]
    peaks = f.get("peak_rss") or f.get("peak_rss_derivreg") or {}
    lines += [
        "Peak resident memory (VmHWM) of every process:",
        "",
        "| process | peak RSS |",
        "|---|---|",
        *(
            f"| {name} | {value / GIB:.2f} GiB |"
            for name, value in peaks.items()
            if not name.startswith("nanny")  # a LocalCluster's nannies live in this process
        ),
        f"| the writer (this process, before the fit) | {f['write_peak_rss'] / GIB:.2f} GiB |",
        "",
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--rows", type=int, default=200_000_000)
    p.add_argument("--features", type=int, default=16)
    p.add_argument("--chunk-rows", type=int, default=1_000_000)
    p.add_argument("--store", default="/tmp/derivreg-dask-scale.zarr")
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--memory-limit", default="3.5GiB")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", default=str(ROOT / "docs" / "performance"))
    p.add_argument("--keep", action="store_true", help="keep the store")
    p.add_argument("--no-dask-ml", action="store_true")
    p.add_argument("--report-only", action="store_true", help="rewrite the Markdown from the JSON")
    p.add_argument(
        "--dask-ml-max-iter", type=int, default=100, help="dask-ml's max_iter (it runs one more)"
    )
    args = p.parse_args(argv)
    if min(args.rows, args.features, args.chunk_rows, args.workers) < 1:
        p.error("--rows, --features, --chunk-rows and --workers must be positive")
    out = Path(args.out)
    if args.report_only:
        figures = json.loads((out / "dask_scale.json").read_text(encoding="utf-8"))
    else:
        figures = run(args)
        save(args, figures)
    text = report(figures)
    (out / "dask_scale.md").write_text(text, encoding="utf-8")
    print(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
