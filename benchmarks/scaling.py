"""Scaling: time per row x feature of the batch gradient from 1e4 to 1e7 rows, d = 16.

Both backends: the NumPy kernel's ``grad`` and the fused numba ``fast.grad``.
Small sizes repeat the call until a sample lasts about 20 ms, so that every
point is a median of timings well above the clock's resolution.
"""

from __future__ import annotations

import statistics
from collections.abc import Callable

import numpy as np
from measure import HAVE, clock

from derivreg import fast
from derivreg.kernels import KERNELS

#: The pair and the features of the curve; the rows run over ROWS.
PAIR, FEATURES = "bce", 16
ROWS = (10**4, 10**5, 10**6, 10**7)


def _ns_per_element(f: Callable[[], object], elements: int, repeats: int) -> float:
    f()
    inner = max(1, int(0.02 / max(clock(f), 1e-6)))
    samples = [clock(lambda: [f() for _ in range(inner)]) / inner for _ in range(repeats)]
    return statistics.median(samples) / elements * 1e9


def scaling_section(quick: bool, repeats: int) -> dict[str, object]:
    """ns per row x feature for each backend at each row count (medians)."""
    rows = [m // 100 for m in ROWS[:3]] if quick else list(ROWS)
    kernel = KERNELS[PAIR]
    rng = np.random.default_rng(5)
    curves: dict[str, list[float]] = {"numpy (kernels.grad)": []}
    if HAVE["numba"]:
        curves["numba (fast.grad, fused)"] = []
    for m in rows:
        X = rng.standard_normal((m, FEATURES))
        w = rng.standard_normal(FEATURES) / 4
        y = (rng.random(m) < 0.5).astype(float)
        methods = {"numpy (kernels.grad)": lambda X=X, y=y, w=w: kernel.grad(X, y, w, 0.1)}
        if HAVE["numba"]:
            methods["numba (fast.grad, fused)"] = lambda X=X, y=y, w=w: fast.grad(
                PAIR, X, y, w, 0.1
            )
        for name, f in methods.items():
            curves[name].append(_ns_per_element(f, m * FEATURES, repeats))
        print(
            f"  scaling {m} x {FEATURES}: "
            + ", ".join(f"{k} {v[-1]:.3f} ns" for k, v in curves.items()),
            flush=True,
        )
        del X, methods  # free 1.3 GB before the next size
    spread = {k: max(v) / min(v) for k, v in curves.items()}
    return {"pair": PAIR, "features": FEATURES, "rows": rows, "ns": curves, "spread": spread}
