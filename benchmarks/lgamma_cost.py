"""What the Poisson log-likelihood's ``lgamma(y + 1)`` costs, interleaved with what it is part of.

``python benchmarks/lgamma_cost.py [--rows 1000000] [--repeats 7]`` prints the
median over repeats (each method run once per repeat, in turn, in one process)
of the time of

- ``_lgammas``: the checks' ``math.lgamma`` of each label (NumPy has no
  log-gamma; SciPy is optional), on integer counts and on fractional labels;
- ``scipy gammaln``: SciPy's, which the kernels do not use (it differs from
  ``math.lgamma`` by ulps, so the result would depend on what is installed);
- ``log_likelihood``: the whole generated function (its losses, its checks);
- ``newton fit``: a Newton fit of the same labels by ``PoissonRegressionSGD``,
  which computes ``log_likelihood`` once, at its end;

and their ratios to ``log_likelihood``.  Noisy on a shared machine: run it
where ``uptime`` shows a low load and quote the ratios with it.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from collections.abc import Callable

import numpy as np

from derivreg.estimators import PoissonRegressionSGD
from derivreg.kernels import KERNELS
from derivreg.kernels._checks import _lgammas


def _data(rows: int, fractional: bool) -> tuple[np.ndarray, np.ndarray, np.ndarray, float]:
    rng = np.random.default_rng(0)
    X = rng.normal(size=(rows, 4)) * 0.5
    w, b = np.array([0.4, -0.2, 0.1, 0.3]), 0.5
    mean = np.exp(X @ w + b)
    y = rng.gamma(2.0, mean / 2.0) if fractional else rng.poisson(mean).astype(np.float64)
    return X, y, w, b


def _methods(rows: int) -> dict[str, Callable[[], object]]:
    X, counts, w, b = _data(rows, fractional=False)
    _, reals, _, _ = _data(rows, fractional=True)
    kernel = KERNELS["poisson"]
    methods: dict[str, Callable[[], object]] = {
        "_lgammas (counts)": lambda: _lgammas(counts + 1),
        "_lgammas (fractional)": lambda: _lgammas(reals + 1),
        "log_likelihood": lambda: kernel.log_likelihood(X, counts, w, b),
        "newton fit (counts)": lambda: PoissonRegressionSGD(solver="newton", tol=1e-8).fit(
            X, counts
        ),
        "newton fit (fractional)": lambda: PoissonRegressionSGD(solver="newton", tol=1e-8).fit(
            X, reals
        ),
    }
    try:
        from scipy.special import gammaln
    except ImportError:  # the optional extra: its line is left out
        return methods
    methods["scipy gammaln (counts)"] = lambda: gammaln(counts + 1)
    return methods


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10**6)
    parser.add_argument("--repeats", type=int, default=7)
    args = parser.parse_args()
    methods = _methods(args.rows)
    times: dict[str, list[float]] = {name: [] for name in methods}
    for _ in range(args.repeats):
        for name, run in methods.items():
            start = time.perf_counter()
            run()
            times[name].append(time.perf_counter() - start)
    medians = {name: statistics.median(t) for name, t in times.items()}
    base = medians["log_likelihood"]
    print(f"{args.rows} rows, {args.repeats} repeats, load {os.getloadavg()[0]:.2f}")
    for name, median in medians.items():
        print(f"{name:24s} {median * 1e3:9.1f} ms  {median / base:6.2f} x log_likelihood")


if __name__ == "__main__":
    main()
