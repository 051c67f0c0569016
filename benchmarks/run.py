"""Side-by-side timings of derivreg's kernels and their peers, in one process.

Usage::

    python benchmarks/run.py            # the full run (several minutes)
    python benchmarks/run.py --quick    # small sizes, seconds; for smoke tests

Every batch figure is a ratio to one read of X (``X @ v`` with NumPy) timed
just before it, so that a slow spell of a shared machine moves both; each
figure is the median over ``--repeats`` (at least 7) such pairs, after one
warm-up call of every method (which also compiles the JIT ones).  Per-sample
SGD figures are nanoseconds per sample of one epoch, medians likewise.

Columns for JAX, PyTorch and numba appear only when they are installed;
scikit-learn is used where it has the same computation (one SGD epoch).

Output: a Markdown report (``results.md``: machine, BLAS, tables) and a bar
chart (``benchmark.png``) in ``--out`` (default ``docs/performance/`` for a
full run, a new temporary directory for ``--quick``), plus ``results.json``.
"""

from __future__ import annotations

import argparse
import functools
import importlib.util
import json
import math
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
import tracemalloc
import warnings
from collections.abc import Callable
from pathlib import Path

#: Thread-count variables of every library measured here; ``--threads N`` sets
#: them before anything is imported (JAX reads its flags only then).
THREAD_VARIABLES = (
    "OMP_NUM_THREADS",
    "OPENBLAS_NUM_THREADS",
    "MKL_NUM_THREADS",
    "NUMBA_NUM_THREADS",
)
if "--threads" in sys.argv[1:-1]:
    _n = sys.argv[sys.argv.index("--threads") + 1]
    os.environ.update(dict.fromkeys(THREAD_VARIABLES, _n))
    if _n == "1":
        os.environ["XLA_FLAGS"] = (
            "--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1"
        )

import numpy as np  # noqa: E402

from derivreg import fast  # noqa: E402
from derivreg.kernels import bce, mse  # noqa: E402
from derivreg.train import train  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
HAVE = {name: importlib.util.find_spec(name) is not None for name in ("jax", "torch", "numba")}


# --- measuring ----------------------------------------------------------------------------------


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


# --- the machine --------------------------------------------------------------------------------


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
        "load average (1, 5, 15 min) at start": [round(x, 2) for x in os.getloadavg()],
        "python": platform.python_version(),
        "numpy": np.__version__,
        "blas": blas,
        "threads": {v: os.environ.get(v, "(unset)") for v in THREAD_VARIABLES},
        "OPENBLAS_CORETYPE": os.environ.get("OPENBLAS_CORETYPE", "(unset)"),
        "OPENBLAS_L2_SIZE": os.environ.get("OPENBLAS_L2_SIZE", "(unset)"),
        "optional": dict(HAVE),
    }


# --- batch gradient peers -----------------------------------------------------------------------


def textbook(loss: str) -> Callable[..., tuple[np.ndarray, float]]:
    def grad(X: np.ndarray, y: np.ndarray, w: np.ndarray, b: float) -> tuple[np.ndarray, float]:
        z = X @ w + b
        r = 1 / (1 + np.exp(-z)) - y if loss == "bce" else 2 * (z - y)
        return X.T @ r / len(y), float(r.mean())

    return grad


@functools.cache
def numba_peer(loss: str) -> Callable[..., object]:
    import numba

    @numba.njit(parallel=True, fastmath=True)
    def grad(X, y, w, b):  # the issue's "numba parallel fastmath" peer
        m, n = X.shape
        chunks = numba.get_num_threads()
        part = np.zeros((chunks, n + 1))
        size = (m + chunks - 1) // chunks
        for c in numba.prange(chunks):
            for i in range(c * size, min(m, (c + 1) * size)):
                z = b
                for j in range(n):
                    z += X[i, j] * w[j]
                r = 1.0 / (1.0 + math.exp(-z)) - y[i] if loss == "bce" else 2.0 * (z - y[i])
                for j in range(n):
                    part[c, j] += r * X[i, j]
                part[c, n] += r
        total = part.sum(axis=0) / m
        return total[:n], total[n]

    return grad


def jax_peers(loss: str, X: np.ndarray, y: np.ndarray) -> dict[str, Callable[[], object]]:
    import jax
    import jax.numpy as jnp

    jax.config.update("jax_enable_x64", True)
    Xj, yj = jnp.asarray(X), jnp.asarray(y)

    def mean_loss(w, b, X, y):
        z = X @ w + b
        if loss == "bce":
            return jnp.mean(jnp.logaddexp(0.0, z) - y * z)
        return jnp.mean((y - z) ** 2)

    g = jax.jit(jax.grad(mean_loss, argnums=(0, 1)))
    w = jnp.zeros(X.shape[1])
    return {"JAX jit(grad)": lambda: jax.block_until_ready(g(w, 0.1, Xj, yj))}


def torch_peers(loss: str, X: np.ndarray, y: np.ndarray) -> dict[str, Callable[[], object]]:
    import torch

    if os.environ.get("OMP_NUM_THREADS"):
        torch.set_num_threads(int(os.environ["OMP_NUM_THREADS"]))
    Xt, yt = torch.from_numpy(X), torch.from_numpy(y)
    n = X.shape[1]

    def autograd() -> object:
        w = torch.zeros(n, dtype=torch.float64, requires_grad=True)
        b = torch.tensor(0.1, dtype=torch.float64, requires_grad=True)
        z = Xt @ w + b
        if loss == "bce":
            J = torch.nn.functional.binary_cross_entropy_with_logits(z, yt)
        else:
            J = torch.mean((yt - z) ** 2)
        J.backward()
        return w.grad, b.grad

    w0 = torch.zeros(n, dtype=torch.float64)

    def by_hand() -> object:
        with torch.no_grad():
            z = Xt @ w0 + 0.1
            r = torch.sigmoid(z) - yt if loss == "bce" else 2 * (z - yt)
            return r @ Xt / len(yt), r.mean()

    return {"PyTorch autograd": autograd, "PyTorch by hand": by_hand}


def batch_section(quick: bool, repeats: int) -> list[dict[str, object]]:
    cases = [("bce", 10**6, 8), ("bce", 10**6, 64), ("bce", 2 * 10**5, 256)]
    cases += [("mse", 10**6, 8), ("mse", 10**6, 64)]
    if quick:
        cases = [(loss, m // 200, n) for loss, m, n in cases]
    rows = []
    rng = np.random.default_rng(0)
    for loss, m, n in cases:
        X = rng.standard_normal((m, n))
        w = rng.standard_normal(n) / math.sqrt(n)
        z = X @ w
        y = (rng.random(m) < 1 / (1 + np.exp(-z))).astype(float) if loss == "bce" else z + 1
        v = w.copy()
        kernel = bce if loss == "bce" else mse
        book = textbook(loss)
        methods: dict[str, Callable[[], object]] = {
            "textbook NumPy": lambda X=X, y=y, w=w, t=book: t(X, y, w, 0.1),
            "derivreg grad": lambda X=X, y=y, w=w, k=kernel: k.grad(X, y, w, 0.1),
            "derivreg _grad (unchecked)": lambda X=X, y=y, w=w, k=kernel: k._grad(X, y, w, 0.1),
        }
        if HAVE["numba"]:
            peer = numba_peer(loss)
            methods["numba parallel fastmath"] = lambda X=X, y=y, w=w, p=peer: p(X, y, w, 0.1)
        if HAVE["jax"]:
            methods.update(jax_peers(loss, X, y))
        if HAVE["torch"]:
            methods.update(torch_peers(loss, X, y))
        with np.errstate(over="ignore"):
            result, base = ratios(lambda X=X, v=v: X @ v, methods, repeats)
        rows.append({"loss": loss, "m": m, "n": n, "read_ms": base * 1e3, "ratios": result})
        print(
            f"  grad {loss} {m}x{n}: one read {base * 1e3:.2f} ms; "
            + ", ".join(f"{k} {r:.2f}" for k, r in result.items()),
            flush=True,
        )
    return rows


# --- per-sample SGD -----------------------------------------------------------------------------


def lecture_loop(loss: str, X: np.ndarray, y: np.ndarray, lr: float) -> Callable[[], object]:
    """The lecture's loops as printed (plotting removed), with its tracking lists."""
    rng = np.random.default_rng(1)
    if X.shape[1] == 1:
        x_data, y_data = X[:, 0], y
        w0, b0 = rng.uniform(-3, 3, 2)

        def one_feature() -> object:
            w, b = w0, b0
            J_track, w_track, b_track = [], [], []
            for _data_idx, (x, y_) in enumerate(zip(x_data, y_data, strict=True)):
                w_track.append(w)
                b_track.append(b)
                pred = x * w + b
                if loss == "bce":
                    pred = 1 / (1 + np.exp(-pred))
                    J = -(y_ * np.log(pred) + (1 - y_) * np.log(1 - pred))
                    J_track.append(J)
                    dJ_dpred = (pred - y_) / (pred * (1 - pred))
                    dpred_dz = pred * (1 - pred)
                    dJ_dz = dJ_dpred * dpred_dz
                    dJ_dw, dJ_db = dJ_dz * x, dJ_dz * 1
                    w, b = w - lr * dJ_dw, b - lr * dJ_db
                else:
                    J = (y_ - pred) ** 2
                    J_track.append(J)
                    dJ_dpred = -2 * (y_ - pred)
                    dJ_dw, dJ_db = dJ_dpred * x, dJ_dpred * 1
                    w, b = w - 2 * lr * dJ_dw, b - 2 * lr * dJ_db  # as printed (erratum 1)
            return w, b

        return one_feature
    n = X.shape[1]
    x_data, y_data = X, y.reshape(-1, 1)
    W0, b0 = rng.uniform(-1, 1, (n, 1)), rng.uniform(-1, 1, (1,))

    def n_features() -> object:
        W, b = W0, b0
        J_track, W_track, b_track, acc_track = [], [], [], []
        n_correct = 0
        for data_idx, (x, y_) in enumerate(zip(x_data, y_data, strict=True)):
            W_track.append(W)
            b_track.append(b)
            pred = x @ W + b
            if loss == "bce":
                pred = 1 / (1 + np.exp(-pred))
                J = -(y_ * np.log(pred) + (1 - y_) * np.log(1 - pred))
                J_track.append(J)
                pred_ = (pred > 0.5).astype(int)
                if pred_ == y_:
                    n_correct += 1
                acc_track.append(n_correct / (data_idx + 1))
                dJ_dpred = (pred - y_) / (pred * (1 - pred))
                dpred_dz = pred * (1 - pred)
                dJ_dz = dJ_dpred * dpred_dz
            else:
                J = (y_ - pred) ** 2
                J_track.append(J)
                dJ_dz = -2 * (y_ - pred)
            dJ_dW = dJ_dz * x.reshape(1, -1)
            dJ_db = dJ_dz * 1
            W = W - lr * dJ_dW.T
            b = b - lr * dJ_db
        return W, b

    return n_features


@functools.cache
def numba_plain(loss: str) -> Callable[..., object]:
    import numba

    @numba.njit
    def epoch(X, y, w, b, lr):  # the issue's "plain numba loop": no loss, no history
        m, n = X.shape
        for i in range(m):
            z = b
            for j in range(n):
                z += X[i, j] * w[j]
            r = 1.0 / (1.0 + math.exp(-z)) - y[i] if loss == "bce" else 2.0 * (z - y[i])
            for j in range(n):
                w[j] -= lr * r * X[i, j]
            b -= lr * r
        return b

    return epoch


def sklearn_epoch(loss: str, X: np.ndarray, y: np.ndarray, lr: float) -> Callable[[], object]:
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.linear_model import SGDClassifier, SGDRegressor

    common = {"penalty": None, "learning_rate": "constant", "eta0": lr, "max_iter": 1}
    common |= {"tol": None, "shuffle": False, "average": False}

    def fit() -> object:
        model = (
            SGDClassifier(loss="log_loss", **common)
            if loss == "bce"
            else SGDRegressor(loss="squared_error", **common)
        )
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            return model.fit(X, y)

    return fit


def sgd_section(quick: bool, repeats: int) -> list[dict[str, object]]:
    m = 2000 if quick else 10**5
    lr = 0.01
    rows = []
    rng = np.random.default_rng(2)
    for loss in ("mse", "bce"):
        for d in (1, 8):
            X = rng.standard_normal((m, d))
            w = rng.standard_normal(d) / math.sqrt(d)
            z = X @ w + 0.5
            if loss == "bce":
                y = (rng.random(m) < 1 / (1 + np.exp(-z))).astype(float)
            else:
                y = z + 0.1 * rng.standard_normal(m)
            methods: dict[str, Callable[[], object]] = {
                "lecture loop": lecture_loop(loss, X, y, lr),
                "derivreg numpy (History on)": lambda X=X, y=y, loss=loss: train(
                    X, y, loss=loss, lr=lr
                ),
                "derivreg numpy (History off)": lambda X=X, y=y, loss=loss: train(
                    X, y, loss=loss, lr=lr, record="none"
                ),
                "scikit-learn": sklearn_epoch(loss, X, y, lr),
            }
            if HAVE["numba"]:
                methods["derivreg numba (History off)"] = lambda X=X, y=y, loss=loss: train(
                    X, y, loss=loss, lr=lr, record="none", backend="numba"
                )
                methods["derivreg numba, sgd_epoch only"] = lambda X=X, y=y, loss=loss: fast.epoch(
                    loss, X, y, np.zeros(X.shape[1]), 0.0, lr, m, 0, "numba"
                )
                plain = numba_plain(loss)
                methods["numba by hand (no loss)"] = lambda X=X, y=y, p=plain: p(
                    X, y, np.zeros(X.shape[1]), 0.0, lr
                )
            with np.errstate(all="ignore"):
                result = per_sample(methods, m, repeats)
            rows.append({"loss": loss, "d": d, "m": m, "ns_per_sample": result})
            print(
                f"  SGD {loss} d={d}: " + ", ".join(f"{k} {v:.0f}" for k, v in result.items()),
                flush=True,
            )
    return rows


# --- input checks, start-up, memory -------------------------------------------------------------


def checks_section(repeats: int) -> dict[str, float]:
    rng = np.random.default_rng(3)
    X, y, w = rng.standard_normal((1, 8)), np.array([1.0]), np.zeros(8)
    out = {}
    for k in (mse, bce):
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
        "bce.grad peak extra (MB)": peak(lambda: bce.grad(X, y, w, 0.0)) / 1e6,
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


# --- report -------------------------------------------------------------------------------------


def batch_table(batch: list[dict[str, object]]) -> list[str]:
    methods = list(batch[0]["ratios"])
    head = "| method | " + " | ".join(f"{r['loss'].upper()} {r['m']:.0e}x{r['n']}" for r in batch)
    lines = [head.replace("e+0", "e") + " |", "|---" * (len(batch) + 1) + "|"]
    for name in methods:
        cells = [f"{r['ratios'][name]:.2f}" for r in batch]
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    lines.append(
        "| (one read of X, ms) | " + " | ".join(f"{r['read_ms']:.1f}" for r in batch) + " |"
    )
    return lines


def markdown(results: dict[str, object]) -> str:
    lines = ["# derivreg benchmark", ""]
    env = results["machine"]
    lines += [f"- {k}: {v}" for k, v in env.items()]
    lines += [
        f"- mode: {results['mode']}, median of {results['repeats']} repeats after one warm-up",
        f"- wall time of this run: {results['seconds']:.0f} s",
        "",
        "Other programs share this machine's cores; figures are medians of interleaved runs,",
        "and between runs they moved by up to ~1.6x on the shared 2-core machine.",
        "",
        "## Full-batch gradient of the mean loss, as a multiple of one read of X (X @ v)",
        "",
    ]
    lines += batch_table(results["batch"])
    if results.get("batch_one_thread"):
        lines += [
            "",
            "### The same with one thread per library",
            "",
            f"A separate process with {', '.join(THREAD_VARIABLES)} = 1 (and JAX's and",
            "PyTorch's own settings): X @ v is then one core's read too.  Row blocks are",
            "meant for this case; with two BLAS threads each block's two passes are split",
            "between the cores differently, so the second pass misses the cache it was",
            "meant to hit.",
            "",
        ]
        lines += batch_table(results["batch_one_thread"])
    lines += [
        "",
        f"## One per-sample SGD epoch, nanoseconds per sample (m = {results['sgd'][0]['m']})",
        "",
    ]
    sgd = results["sgd"]
    names = list(sgd[0]["ns_per_sample"])
    lines += ["| method | " + " | ".join(f"{r['loss'].upper()} d={r['d']}" for r in sgd) + " |"]
    lines += ["|---" * (len(sgd) + 1) + "|"]
    for name in names:
        lines.append(
            f"| {name} | " + " | ".join(f"{r['ns_per_sample'][name]:,.0f}" for r in sgd) + " |"
        )
    lines += ["", "Ratios:", ""]
    for r in sgd:
        ns = r["ns_per_sample"]
        parts = [
            f"derivreg numpy / lecture {ns['derivreg numpy (History on)'] / ns['lecture loop']:.2f}"
        ]
        if "derivreg numba (History off)" in ns:
            ratio = ns["derivreg numba (History off)"] / ns["scikit-learn"]
            parts.append(f"derivreg numba / scikit-learn {ratio:.2f}")
        lines.append(f"- {r['loss'].upper()} d={r['d']}: " + "; ".join(parts))
    lines += ["", "## The targets of issue 8, measured in this run", ""]
    if results["mode"] == "quick":
        lines += ["(quick mode: smaller sizes than the targets name)", ""]
    lines += ["| target | limit | measured | met |", "|---|---|---|---|"]
    for what, limit, value in targets(results):
        met = "yes" if value <= limit else "no"
        lines.append(f"| {what} | {limit:g} | {value:.3g} | {met} |")
    for title, key in (
        ("Input checks per call (1 x 8 batch)", "checks"),
        ("Start-up", "startup"),
        ("Memory (tracemalloc peaks)", "memory"),
    ):
        lines += ["", f"## {title}", "", "| what | value |", "|---|---|"]
        lines += [f"| {k} | {v:.3g} |" for k, v in results[key].items()]
    return "\n".join(lines) + "\n"


def targets(results: dict[str, object]) -> list[tuple[str, float, float]]:
    """(target, limit, measured) for each target of the issue this run can check."""
    out = []
    runs = [("", results["batch"])]
    if results.get("batch_one_thread"):
        runs.append((", one thread", results["batch_one_thread"]))
    for suffix, rows in runs:
        batch = {(r["loss"], r["n"]): r for r in rows}
        for loss, n, limit in (
            ("bce", 64, 1.5),
            ("bce", 256, 1.5),
            ("bce", 8, 3.0),
            ("mse", 64, 1.3),
            ("mse", 8, 2.0),
        ):
            r = batch[loss, n]
            what = f"{loss.upper()} grad {r['m']}x{n} / one read of X{suffix}"
            out.append((what, limit, r["ratios"]["derivreg grad"]))
    for r in results["sgd"]:
        ns = r["ns_per_sample"]
        name = f"{r['loss'].upper()} d={r['d']}"
        if "derivreg numba (History off)" in ns:
            value = ns["derivreg numba (History off)"] / ns["scikit-learn"]
            out.append((f"SGD epoch {name}: numba backend / scikit-learn", 0.5, value))
        value = ns["derivreg numpy (History on)"] / ns["lecture loop"]
        out.append((f"SGD epoch {name}: default backend / lecture loop", 1.0, value))
        if r["d"] == 1:
            out.append((f"SGD epoch {name}: default backend / lecture loop", 0.1, value))
    start = results["startup"]
    out.append(
        (
            "import derivreg.kernels over import numpy (ms, -X importtime)",
            20.0,
            start["derivreg.kernels, python -X importtime (ms, cumulative)"],
        )
    )
    out.append(
        (
            "derive + generate every module (s)",
            3.0,
            start["derive + generate every module from scratch (s)"],
        )
    )
    return out


def chart(results: dict[str, object], path: Path) -> None:
    """One panel per row, large type, legends beside the bars; derivreg's bars outlined."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import matplotlib.ticker

    batch, sgd = results["batch"], results["sgd"]
    panels = [(batch, "all threads")]
    if results.get("batch_one_thread"):
        panels.append((results["batch_one_thread"], "one thread"))
    plt.rcParams.update({"font.size": 12})
    fig, axes = plt.subplots(len(panels) + 1, 1, figsize=(12, 5.2 * (len(panels) + 1)))

    def bars(ax: object, rows: list, names: list[str], value: object, ticks: list[str]) -> None:
        width = 0.8 / len(names)
        cmap = plt.get_cmap("tab10")
        for k, name in enumerate(names):
            xs = [i + k * width for i in range(len(rows))]
            mine = name.startswith("derivreg")
            ax.bar(
                xs,
                [value(r, name) for r in rows],
                width,
                label=name,
                color=cmap(k % 10),
                edgecolor="black" if mine else "none",
                linewidth=1.4 if mine else 0,
            )
        ax.set_xticks([i + 0.4 - width / 2 for i in range(len(rows))])
        ax.set_xticklabels(ticks)
        ax.set_yscale("log")
        ax.grid(axis="y", which="both", alpha=0.3)
        ax.legend(fontsize=10, loc="center left", bbox_to_anchor=(1.01, 0.5), frameon=False)

    for ax, (rows, label) in zip(axes, panels, strict=False):
        ticks = [f"{r['loss'].upper()}\n{r['m']:.0e} x {r['n']}".replace("e+0", "e") for r in rows]
        bars(ax, rows, list(rows[0]["ratios"]), lambda r, n: r["ratios"][n], ticks)
        ax.axhline(1.0, color="black", lw=0.8)
        plain = matplotlib.ticker.FuncFormatter(lambda v, _: f"{v:g}")
        ax.yaxis.set_major_formatter(plain)
        ax.yaxis.set_minor_formatter(plain)
        ax.set_ylabel("time / one X @ v")
        ax.set_title(f"Full-batch gradient, {label}: time as a multiple of reading X once")
    ax2 = axes[-1]
    ticks = [f"{r['loss'].upper()}, {r['d']} feature{'s' * (r['d'] != 1)}" for r in sgd]
    bars(ax2, sgd, list(sgd[0]["ns_per_sample"]), lambda r, n: r["ns_per_sample"][n], ticks)
    ax2.set_ylabel("ns per sample")
    ax2.set_title(f"One per-sample SGD epoch over m = {sgd[0]['m']:,} samples")
    env = results["machine"]
    fig.suptitle(
        f"Lower is better (log scales). {env['cpu']}, {env['cores']} shared cores, "
        f"NumPy {env['numpy']}, medians of {results['repeats']} repeats",
        fontsize=12,
    )
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def one_thread_batch(args: argparse.Namespace) -> list[dict[str, object]]:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "batch.json"
        command = [sys.executable, str(Path(__file__).resolve()), "--threads", "1"]
        command += ["--repeats", str(args.repeats), "--batch-only", str(path)]
        command += ["--quick"] * args.quick + ["--no-optional"] * args.no_optional
        subprocess.run(command, check=True)
        return json.loads(path.read_text(encoding="utf-8"))


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
        chart(json.loads((out / "results.json").read_text(encoding="utf-8")), out / "benchmark.png")
        print(f"wrote {out / 'benchmark.png'} from {out / 'results.json'}")
        return 0
    if args.no_optional:
        HAVE.update(dict.fromkeys(HAVE, False))
    if args.batch_only:
        rows = batch_section(args.quick, args.repeats)
        args.batch_only.write_text(json.dumps(rows), encoding="utf-8")
        return 0
    start = time.perf_counter()
    results: dict[str, object] = {"machine": machine(), "mode": "quick" if args.quick else "full"}
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
    print("start-up, memory ...", flush=True)
    # whole processes, each several tenths of a second: 3 runs in --quick
    results["startup"] = startup_section(3 if args.quick else args.repeats)
    results["memory"] = memory_section(args.quick)
    results["machine"]["load average (1, 5, 15 min) at end"] = [
        round(x, 2) for x in os.getloadavg()
    ]
    results["seconds"] = time.perf_counter() - start
    report = markdown(results)
    (out / "results.md").write_text(report, encoding="utf-8")
    (out / "results.json").write_text(json.dumps(results, indent=1, default=str), encoding="utf-8")
    chart(results, out / "benchmark.png")
    print(report)
    print(f"wrote {out / 'results.md'}, {out / 'results.json'}, {out / 'benchmark.png'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
