"""Side-by-side timings of derivreg's kernels and their peers, in one process.

Usage::

    python benchmarks/run.py            # the full run (several minutes)
    python benchmarks/run.py --quick    # small sizes, seconds; for smoke tests

Every batch figure is a ratio to one read of X (``X @ v`` with NumPy) timed
just before it, so that a slow spell of a shared machine moves both; each
figure is the median over ``--repeats`` (at least 7) such pairs, after one
warm-up call of every method (which also compiles the JIT ones).  Per-sample
SGD figures are nanoseconds per sample of one epoch, medians likewise.

The sections live in their own modules: ``batch`` (full-batch gradient,
NumPy and fused numba kernels, peers), ``sgd`` (one per-sample epoch against
scikit-learn), ``scaling`` (time per row x feature from 1e4 to 1e7 rows),
``bandwidth`` (GB/s of one read of X by BLAS, by numba and by the fused
kernels; ns per exp), ``other`` (input checks, start-up, memory, ``derivreg
lecture``); ``report``
and ``chart`` write them out, ``measure`` times and describes the machine.
``blocks.py`` runs alone: why the NumPy kernels' row blocks are 1 MiB with
any number of BLAS threads (gemv per call, ``_grad`` by block size, ``dJ_dz``
alone).
A new section is a module with a ``*_section`` function, called in
:func:`main` and given a table in ``report``.

Columns for JAX, PyTorch and numba appear only when they are installed;
scikit-learn is used where it has the same computation (one SGD epoch).

Output: a Markdown report (``results.md``: machine, BLAS, tables), a bar
chart (``benchmark.png``) and the scaling curve (``scaling.png``) in
``--out`` (default ``docs/performance/`` for a full run, a new temporary
directory for ``--quick``), plus ``results.json``.
"""

from __future__ import annotations

import os
import sys

from threads import THREAD_VARIABLES, set_threads

set_threads(sys.argv[1:], os.environ)  # before anything imports NumPy

import argparse  # noqa: E402
import json  # noqa: E402
import subprocess  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

from bandwidth import bandwidth_section  # noqa: E402
from batch import batch_section  # noqa: E402
from chart import chart, scaling_chart  # noqa: E402
from measure import HAVE, ROOT, load, machine  # noqa: E402
from other import checks_section, lecture_section, memory_section, startup_section  # noqa: E402
from report import markdown  # noqa: E402
from scaling import scaling_section  # noqa: E402
from sgd import sgd_section  # noqa: E402

__all__ = ["THREAD_VARIABLES", "main"]


def one_thread_batch(args: argparse.Namespace) -> list[dict[str, object]]:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "batch.json"
        command = [sys.executable, str(Path(__file__).resolve()), "--threads", "1"]
        command += ["--repeats", str(args.repeats), "--batch-only", str(path)]
        command += ["--quick"] * args.quick + ["--no-optional"] * args.no_optional
        subprocess.run(command, check=True)
        return json.loads(path.read_text(encoding="utf-8"))


def compile_package() -> str:
    """Byte-compile derivreg's modules, as ``pip install`` does, and say so for the report.

    The whole-process timings (start-up, ``derivreg lecture``) are a user's:
    an installed package imports cached bytecode.  A checkout run with
    ``PYTHONDONTWRITEBYTECODE=1`` (as on the development machine) would
    otherwise compile every module from source in every process: 33 ms of
    ``import derivreg.kernels`` against 1.8 ms, measured.
    """
    import compileall

    done = compileall.compile_dir(ROOT / "derivreg", quiet=1)
    return "derivreg compiled before timing (as pip install leaves it)" if done else "not compiled"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes: a smoke test")
    parser.add_argument("--repeats", type=int, default=7, help="timed repeats (at least 7)")
    parser.add_argument("--out", type=Path, help="output directory")
    parser.add_argument(
        "--no-optional",
        action="store_true",
        help="leave out JAX, PyTorch and numba even if installed",
    )
    parser.add_argument("--threads", type=int, help="threads per library (set before imports)")
    parser.add_argument(
        "--chart-only",
        action="store_true",
        help="redraw benchmark.png from the results.json already in the output directory",
    )
    parser.add_argument(
        "--batch-only", type=Path, help="run only the batch gradient; write its JSON here"
    )
    args = parser.parse_args(argv)
    if args.repeats < 7:
        parser.error("--repeats must be at least 7")
    out = args.out or (
        Path(tempfile.mkdtemp(prefix="derivreg-bench-"))
        if args.quick
        else ROOT / "docs" / "performance"
    )
    out.mkdir(parents=True, exist_ok=True)
    if args.chart_only:
        results = json.loads((out / "results.json").read_text(encoding="utf-8"))
        chart(results, out / "benchmark.png")
        scaling_chart(results, out / "scaling.png")
        print(f"wrote {out / 'benchmark.png'}, {out / 'scaling.png'} from {out / 'results.json'}")
        return 0
    if args.no_optional:
        HAVE.update(dict.fromkeys(HAVE, False))
    if args.batch_only:
        rows = batch_section(args.quick, args.repeats)
        args.batch_only.write_text(json.dumps(rows), encoding="utf-8")
        return 0
    start = time.perf_counter()
    results: dict[str, object] = {"machine": machine(), "mode": "quick" if args.quick else "full"}
    results["machine"]["bytecode"] = compile_package()  # type: ignore[index]
    results["repeats"] = args.repeats
    # Single-threaded sections first: JAX, PyTorch, numba's parallel peer and
    # OpenBLAS leave worker threads spinning after their calls, which would
    # slow the per-sample loops measured after them in this process.
    print("per-sample SGD ...", flush=True)
    results["sgd"] = sgd_section(args.quick, args.repeats)
    print("input checks ...", flush=True)
    results["checks"] = checks_section(args.repeats)
    print("batch gradient ...", flush=True)
    results["batch"] = batch_section(args.quick, args.repeats)
    if not args.threads:
        print("batch gradient, one thread per library (a separate process) ...", flush=True)
        results["batch_one_thread"] = one_thread_batch(args)
    print("bandwidth: X @ v, a numba sum, the fused kernels; one exp ...", flush=True)
    results["bandwidth"] = bandwidth_section(args.quick, args.repeats)
    print("scaling ...", flush=True)
    results["scaling"] = scaling_section(args.quick, args.repeats)
    if not args.quick:
        print("derivreg lecture ...", flush=True)
        results["lecture"] = lecture_section(3)
    print("start-up, memory ...", flush=True)
    # whole processes, each several tenths of a second: 3 runs in --quick
    results["startup"] = startup_section(3 if args.quick else args.repeats)
    results["memory"] = memory_section(args.quick)
    results["machine"]["load average (1, 5, 15 min) at end"] = load()
    results["seconds"] = time.perf_counter() - start
    report = markdown(results)
    (out / "results.md").write_text(report, encoding="utf-8")
    (out / "results.json").write_text(json.dumps(results, indent=1, default=str), encoding="utf-8")
    chart(results, out / "benchmark.png")
    scaling_chart(results, out / "scaling.png")
    print(report)
    print(f"wrote results.md, results.json, benchmark.png and scaling.png in {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())


if __name__ == "__main__":
    sys.exit(main())
