"""Timing helpers and the machine's description, shared by every section."""

from __future__ import annotations

import importlib.util
import os
import platform
import statistics
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
from threads import THREAD_VARIABLES

ROOT = Path(__file__).resolve().parent.parent
#: Optional peers found here; ``--no-optional`` clears them (mutated in place).
HAVE = {name: importlib.util.find_spec(name) is not None for name in ("jax", "torch", "numba")}
HAVE_SKLEARN = importlib.util.find_spec("sklearn") is not None


def clock(f: Callable[[], object]) -> float:
    start = time.perf_counter()
    f()
    return time.perf_counter() - start


def ratios(
    base: Callable[[], object], methods: dict[str, Callable[[], object]], repeats: int
) -> tuple[dict[str, float], float]:
    """Median over repeats of time(method) / time(base run just before it)."""
    for f in [base, *methods.values()]:
        f()  # warm-up (and JIT compilation)
    out: dict[str, list[float]] = {name: [] for name in methods}
    bases = []
    for _ in range(repeats):
        for name, f in methods.items():
            tb = clock(base)
            out[name].append(clock(f) / tb)
            bases.append(tb)
    return {k: statistics.median(v) for k, v in out.items()}, statistics.median(bases)


def per_sample(methods: dict[str, Callable[[], object]], m: int, repeats: int) -> dict[str, float]:
    """Median nanoseconds per sample, the methods interleaved repeat by repeat."""
    for f in methods.values():
        f()
    out: dict[str, list[float]] = {name: [] for name in methods}
    for _ in range(repeats):
        for name, f in methods.items():
            out[name].append(clock(f) / m * 1e9)
    return {k: statistics.median(v) for k, v in out.items()}


def load() -> list[float]:
    """The load averages (1, 5, 15 min), rounded."""
    return [round(x, 2) for x in os.getloadavg()]


def machine() -> dict[str, object]:
    from threadpoolctl import threadpool_info

    cpu = platform.processor()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    blas = [
        {k: info.get(k) for k in ("internal_api", "version", "architecture", "num_threads")}
        for info in threadpool_info()
        if info.get("user_api") == "blas"
    ]
    caches = ""
    try:
        info = subprocess.run(["lscpu"], capture_output=True, text=True, check=True).stdout
        caches = ", ".join(
            " ".join(line.split())
            for line in info.splitlines()
            if line.startswith(("L1d cache", "L2 cache", "L3 cache"))
        )
    except (OSError, subprocess.CalledProcessError):
        pass
    return {
        "cpu": cpu,
        "caches": caches or "(unknown)",
        "cores": os.cpu_count(),
        "load average (1, 5, 15 min) at start": load(),
        "python": platform.python_version(),
        "numpy": np.__version__,
        "blas": blas,
        "threads": {v: os.environ.get(v, "(unset)") for v in THREAD_VARIABLES},
        "OPENBLAS_CORETYPE": os.environ.get("OPENBLAS_CORETYPE", "(unset)"),
        "OPENBLAS_L2_SIZE": os.environ.get("OPENBLAS_L2_SIZE", "(unset)"),
        "optional": dict(HAVE),
        "numba threads": _numba_threads(),
    }


def _numba_threads() -> object:
    if not HAVE["numba"]:
        return "(numba not used)"
    import numba

    return numba.get_num_threads()
