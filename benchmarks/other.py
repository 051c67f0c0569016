"""Input checks per call, start-up, memory, and the ``derivreg lecture`` command."""

from __future__ import annotations

import statistics
import subprocess
import sys
import tempfile
import tracemalloc
from collections.abc import Callable

import numpy as np
from batch import textbook
from measure import HAVE, ROOT, clock, load, per_sample

from derivreg.kernels import KERNELS
from derivreg.train import train


def checks_section(repeats: int) -> dict[str, float]:
    rng = np.random.default_rng(3)
    X, y, w = rng.standard_normal((1, 8)), np.array([1.0]), np.zeros(8)
    out = {}
    for k in KERNELS.values():
        r = per_sample(
            {
                "checked": lambda k=k: [k.update(X, y, w, 0.0, 0.1) for _ in range(1000)],
                "unchecked": lambda k=k: [k._update(X, y, w, 0.0, 0.1) for _ in range(1000)],
            },
            1000,
            repeats,
        )
        out[f"{k.NAME} update, checked (us/call)"] = r["checked"] / 1e3
        out[f"{k.NAME} update, unchecked (us/call)"] = r["unchecked"] / 1e3
    return out


def startup_section(runs: int) -> dict[str, float]:
    def run(code: str) -> float:
        return clock(lambda: subprocess.run([sys.executable, "-c", code], check=True))

    plain, kernels = [], []
    for _ in range(runs):
        plain.append(run("import numpy"))
        kernels.append(run("import numpy, derivreg.kernels"))
    cumulative = 0.0
    out = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", "import numpy, derivreg.kernels"],
        capture_output=True,
        text=True,
        check=True,
    )
    for line in out.stderr.splitlines():
        parts = line.split("|")
        if len(parts) == 3 and parts[2].strip() == "derivreg.kernels":
            cumulative = int(parts[1]) / 1e3
    code = (
        "import time; t = time.perf_counter(); from derivreg import codegen; "
        "t1 = time.perf_counter(); codegen.sources(); t2 = time.perf_counter(); "
        "print(t1 - t, t2 - t1)"
    )
    generate = []
    for _ in range(max(1, runs // 2)):
        done = subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, check=True
        )
        generate.append([float(x) for x in done.stdout.split()])
    return {
        "import numpy (ms, whole process)": statistics.median(plain) * 1e3,
        "import numpy, derivreg.kernels (ms, whole process)": statistics.median(kernels) * 1e3,
        "added by derivreg.kernels (ms, difference of medians)": (
            statistics.median(kernels) - statistics.median(plain)
        )
        * 1e3,
        "derivreg.kernels, python -X importtime (ms, cumulative)": cumulative,
        "import derivreg.codegen, with SymPy (s)": statistics.median(g[0] for g in generate),
        "derive + generate every module from scratch (s)": statistics.median(
            g[1] for g in generate
        ),
    }


def memory_section(quick: bool) -> dict[str, float]:
    m, n = (5000, 8) if quick else (10**6, 8)
    rng = np.random.default_rng(4)
    X = rng.standard_normal((m, n))
    y = (rng.random(m) < 0.5).astype(float)
    w = rng.standard_normal(n) / 3

    def peak(f: Callable[[], object]) -> float:
        tracemalloc.start()
        try:
            f()
            return tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()

    out = {
        "X (MB)": X.nbytes / 1e6,
        "bce.grad peak extra (MB)": peak(lambda: KERNELS["bce"].grad(X, y, w, 0.0)) / 1e6,
        "textbook grad peak extra (MB)": peak(lambda: textbook("bce")(X, y, w, 0.0)) / 1e6,
    }
    backend = "numba" if HAVE["numba"] else "numpy"
    for label, kw in (
        ("History all, every=1", {"record": "all"}),
        ("History all, every=1000", {"record": "all", "every": 1000}),
        ("History loss only", {"record": "loss"}),
        ("History off", {"record": "none"}),
    ):
        out[f"train {m} samples, {label}: peak (MB)"] = (
            peak(lambda kw=kw: train(X, y, loss="bce", lr=0.01, backend=backend, **kw)) / 1e6
        )
    return out


def lecture_section(runs: int) -> dict[str, object]:
    """Wall time of ``derivreg lecture`` (figures written), and without figures, whole processes."""

    def once(*flags: str) -> float:
        with tempfile.TemporaryDirectory() as tmp:
            command = [sys.executable, "-m", "derivreg", "lecture", *flags]
            command += ["--out", tmp] if "--no-plots" not in flags else []
            return clock(lambda: subprocess.run(command, check=True, capture_output=True, cwd=ROOT))

    once("--no-plots")  # warm the file cache (and numba's, if any)
    full = [once() for _ in range(runs)]
    tables = [once("--no-plots") for _ in range(runs)]
    return {
        "derivreg lecture (s, figures written)": statistics.median(full),
        "derivreg lecture --no-plots (s)": statistics.median(tables),
        "runs": runs,
        "load average after": load(),
    }
