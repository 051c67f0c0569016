"""What bounds the fused kernels: memory bandwidth, and the time of one exp or log1p.

For each shape, GB/s of three reads of the same X, with one and with two
threads: NumPy's ``X @ v`` (BLAS), a plain numba sum over X (row blocks on
``prange``, four partial sums, no ``fastmath``: what numba reaches for a read
alone) and the fused ``grad`` and ``loss`` (compiled, unchecked: the kernels
alone).  Then nanoseconds per ``math.exp`` and per ``math.log1p(math.exp(.))``
in a serial numba loop, as the fused kernels call them (no SVML: a scalar
call per row).  The thread count is set with numba's ``set_num_threads`` and
threadpoolctl's limit on the BLAS.
"""

from __future__ import annotations

import contextlib
import functools
import math
import statistics
import time
from collections.abc import Callable, Iterator

import numpy as np
from measure import HAVE

#: (pair, rows, features) of the table; --quick divides the rows by 100.
SHAPES = (("bce", 10**6, 8), ("bce", 10**6, 64), ("mse", 10**6, 64))


def _best(f: Callable[[], object], repeats: int) -> float:
    f()
    samples = []
    for _ in range(repeats):
        start = time.perf_counter()
        f()
        samples.append(time.perf_counter() - start)
    return statistics.median(samples)


@functools.cache
def _kernels() -> dict[str, Callable[..., object]]:
    import numba

    @numba.njit(parallel=True)
    def plain_sum(X):  # a read of X alone: row blocks, four partial sums
        m, n = X.shape
        k = (m + 4095) // 4096
        out = np.zeros(k)
        for c in numba.prange(k):
            s0 = s1 = s2 = s3 = 0.0
            for i in range(c * 4096, min(m, c * 4096 + 4096)):
                for j in range(0, n - 3, 4):
                    s0 += X[i, j]
                    s1 += X[i, j + 1]
                    s2 += X[i, j + 2]
                    s3 += X[i, j + 3]
            out[c] = (s0 + s1) + (s2 + s3)
        return out.sum()

    @numba.njit
    def exps(z):
        s = 0.0
        for i in range(z.size):
            s += math.exp(-abs(z[i]))
        return s

    @numba.njit
    def softplus(z):
        s = 0.0
        for i in range(z.size):
            s += math.log1p(math.exp(-abs(z[i])))
        return s

    return {"sum": plain_sum, "exp": exps, "softplus": softplus}


def _in_cache(pair: str, X: np.ndarray, y: np.ndarray, w: np.ndarray) -> dict[str, float]:
    """ns per row with 256 KiB of X's rows in cache, on the calling thread (min of 200).

    Next to a read from memory (ns per row at the GB/s above), what the
    kernels' arithmetic costs: where the two add up instead of overlapping,
    a pass takes their sum.
    """
    from derivreg import fast

    rows = max(1, (256 << 10) // X[0].nbytes)
    Xc, yc = np.ascontiguousarray(X[:rows]), np.ascontiguousarray(y[:rows])
    serial = fast.fused_serial(pair)
    calls = {
        "X @ v (BLAS)": lambda: Xc @ w,
        "fused grad": lambda: serial["grad"](Xc, yc, w, 0.1),
        "fused loss": lambda: serial["loss"](Xc, yc, w, 0.1),
    }
    best = dict.fromkeys(calls, math.inf)
    with _threads(1):
        for call in calls.values():
            call()
        for _ in range(200):
            for name, call in calls.items():
                start = time.perf_counter()
                call()
                best[name] = min(best[name], time.perf_counter() - start)
    ns = {name: t / rows * 1e9 for name, t in best.items()}
    print(f"  in cache ({rows} rows): " + ", ".join(f"{k} {v:.1f} ns/row" for k, v in ns.items()))
    return ns


@contextlib.contextmanager
def _threads(count: int) -> Iterator[None]:
    import numba
    from threadpoolctl import threadpool_limits

    before = numba.get_num_threads()
    numba.set_num_threads(min(count, numba.config.NUMBA_NUM_THREADS))
    try:
        with threadpool_limits(count):
            yield
    finally:
        numba.set_num_threads(before)


def bandwidth_section(quick: bool, repeats: int) -> dict[str, object]:
    """GB/s of X @ v, a numba sum and the fused kernels; ns per exp and per log1p(exp)."""
    if not HAVE["numba"]:
        return {}
    from derivreg import fast

    k = _kernels()
    rng = np.random.default_rng(3)
    rows = []
    for pair, rows_, n in SHAPES:
        m = rows_ // 100 if quick else rows_
        X = rng.standard_normal((m, n))
        w = rng.standard_normal(n) / math.sqrt(n)
        y = (rng.random(m) < 0.5).astype(float) if pair == "bce" else X @ w
        fused = fast.fused(pair)
        methods = {
            "X @ v (BLAS)": lambda X=X, w=w: X @ w,
            "numba sum over X": lambda X=X: k["sum"](X),
            "fused grad": lambda X=X, y=y, w=w, f=fused: f["grad"](X, y, w, 0.1),
            "fused loss": lambda X=X, y=y, w=w, f=fused: f["loss"](X, y, w, 0.1),
        }
        for threads in (1, 2):
            with _threads(threads):
                gbs = {name: X.nbytes / _best(f, repeats) / 1e9 for name, f in methods.items()}
            rows.append({"pair": pair, "m": m, "n": n, "threads": threads, "GB/s": gbs})
            print(
                f"  bandwidth {pair} {m}x{n}, {threads} thread(s): "
                + ", ".join(f"{name} {v:.1f} GB/s" for name, v in gbs.items()),
                flush=True,
            )
        rows[-1]["cache ns per row"] = _in_cache(pair, X, y, w)
        del X
    z = rng.standard_normal(10**5 if quick else 10**6) * 3
    ns = {
        "exp": _best(lambda: k["exp"](z), repeats) / z.size * 1e9,
        "log1p(exp)": _best(lambda: k["softplus"](z), repeats) / z.size * 1e9,
    }
    print(f"  ns per call: exp {ns['exp']:.1f}, log1p(exp) {ns['log1p(exp)']:.1f}", flush=True)
    return {"rows": rows, "ns_per_call": ns}


def bandwidth_table(section: dict[str, object]) -> list[str]:
    """The Markdown lines of the section (nothing when numba is missing)."""
    if not section:
        return []
    rows = section["rows"]
    names = list(rows[0]["GB/s"])
    lines = ["| shape | threads | " + " | ".join(names) + " |", "|---" * (len(names) + 2) + "|"]
    for r in rows:
        cells = " | ".join(f"{r['GB/s'][name]:.1f}" for name in names)
        lines.append(f"| {r['pair'].upper()} {r['m']:.0e}x{r['n']} | {r['threads']} | {cells} |")
    cached = [r for r in rows if "cache ns per row" in r]
    if cached:
        kinds = list(cached[0]["cache ns per row"])
        lines += [
            "",
            "The same kernels with 256 KiB of X's rows in cache, one thread, ns per row "
            "(one read from memory: 8 n bytes at the GB/s above):",
            "",
            "| shape | " + " | ".join(kinds) + " |",
            "|---" * (len(kinds) + 1) + "|",
        ]
        lines += [
            f"| {r['pair'].upper()} {r['m']:.0e}x{r['n']} | "
            + " | ".join(f"{r['cache ns per row'][k]:.1f}" for k in kinds)
            + " |"
            for r in cached
        ]
    ns = section["ns_per_call"]
    lines += [
        "",
        f"One `math.exp` in a serial numba loop: {ns['exp']:.1f} ns; one "
        f"`math.log1p(math.exp(-|z|))`: {ns['log1p(exp)']:.1f} ns.",
    ]
    return [line.replace("e+0", "e") for line in lines]
