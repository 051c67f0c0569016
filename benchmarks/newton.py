"""derivreg's Newton solver next to statsmodels and scikit-learn, on scikit-learn's data sets.

Usage::

    python benchmarks/newton.py            # the full run (about a minute)
    python benchmarks/newton.py --quick    # 1 repeat instead of 15; a smoke test

Five problems, features standardised, fixed seeds: diabetes (least squares),
breast_cancer[:, :10], iris versicolor vs virginica, make_regression and
make_classification (logistic).  For each: derivreg's ``train(...,
solver="newton", tol=1e-10)`` with standard errors from
:func:`derivreg.inference.fisher_inference`; statsmodels' ``OLS``/``Logit``
``fit()``; scikit-learn's ``LinearRegression``/``LogisticRegression(penalty=None)``.

Columns: the coefficients' relative error ``|theta - theta_sm| / |theta_sm|``
against statsmodels (the reference, whose row shows 0), the standard errors'
largest relative error against statsmodels' ``bse`` (scikit-learn reports
none), the iterations (statsmodels' OLS and scikit-learn's LinearRegression
are direct solves), and the wall time of one fit: the median of ``--repeats``
interleaved runs, each solver timed in turn.  The machine's load average is
reported before and after: the machine is shared.

Output: ``newton.md`` (Markdown, no heading: the docs page gives it one) and
``newton.json`` in ``--out`` (default ``docs/performance/``; a temporary
directory for ``--quick``); ``--report-only`` rewrites the Markdown from the
JSON.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import tempfile
import time
import warnings
from collections.abc import Callable
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from derivreg.inference import fisher_inference  # noqa: E402
from derivreg.kernels import KERNELS  # noqa: E402
from derivreg.train import train  # noqa: E402

TOL = 1e-10


def standardised(X: np.ndarray) -> np.ndarray:
    return (X - X.mean(axis=0)) / X.std(axis=0)


def datasets() -> dict[str, tuple[str, np.ndarray, np.ndarray]]:
    from sklearn import datasets as ds

    X, y = ds.load_diabetes(return_X_y=True)
    out = {"diabetes": ("mse", standardised(X), y)}
    X, y = ds.load_breast_cancer(return_X_y=True)
    out["breast_cancer[:, :10]"] = ("bce", standardised(X[:, :10]), y.astype(float))
    X, y = ds.load_iris(return_X_y=True)
    keep = y > 0
    out["iris versicolor/virginica"] = ("bce", standardised(X[keep]), (y[keep] == 2) * 1.0)
    X, y = ds.make_regression(n_samples=500, n_features=8, noise=5.0, random_state=0)
    out["make_regression"] = ("mse", standardised(X), y)
    X, y = ds.make_classification(
        n_samples=300, n_features=6, n_informative=4, n_redundant=0, flip_y=0.1, random_state=0
    )
    out["make_classification"] = ("bce", standardised(X), y.astype(float))
    return out


def with_ones(X: np.ndarray) -> np.ndarray:
    return np.column_stack([X, np.ones(len(X))])


Fit = Callable[[], tuple[np.ndarray, np.ndarray | None, int | None]]


def fits(loss: str, X: np.ndarray, y: np.ndarray) -> dict[str, Fit]:
    """One fit per library: (theta = (w, b), standard errors or None, iterations or None)."""
    import statsmodels.api as sm
    from sklearn.linear_model import LinearRegression, LogisticRegression

    def ours(check: bool = False) -> tuple[np.ndarray, np.ndarray | None, int | None]:
        w, b, history = train(X, y, loss=loss, solver="newton", tol=TOL, check_separation=check)
        # scale="auto": Pearson's where the kernel's DISPERSION_ESTIMATED, as OLS; else 1
        inf = fisher_inference(KERNELS[loss], X, y, w, b, hessian=history.hessian)
        return np.append(w, b), inf.stderr, history.n_iter

    def statsmodels() -> tuple[np.ndarray, np.ndarray | None, int | None]:
        A = with_ones(X)
        if loss == "mse":
            res = sm.OLS(y, A).fit()
            return res.params, res.bse, None
        res = sm.Logit(y, A).fit(disp=0)
        return res.params, res.bse, int(res.mle_retvals["iterations"])

    def sklearn() -> tuple[np.ndarray, np.ndarray | None, int | None]:
        if loss == "mse":
            model = LinearRegression().fit(X, y)
            return np.append(model.coef_, model.intercept_), None, None
        model = LogisticRegression(penalty=None, tol=TOL, max_iter=10_000).fit(X, y)
        return np.append(model.coef_[0], model.intercept_[0]), None, int(model.n_iter_[0])

    methods: dict[str, Fit] = {"derivreg Newton": ours}
    if loss == "bce":  # train's default for classifiers: SciPy's LP separation check first
        methods["derivreg Newton + LP check"] = lambda: ours(check=True)
    return {**methods, "statsmodels": statsmodels, "scikit-learn": sklearn}


def timed(methods: dict[str, Fit], repeats: int) -> dict[str, list[float]]:
    """Wall times of each method over ``repeats`` interleaved rounds (after a warm-up)."""
    for f in methods.values():
        f()
    times: dict[str, list[float]] = {name: [] for name in methods}
    for _ in range(repeats):
        for name, f in methods.items():
            start = time.perf_counter()
            f()
            times[name].append(time.perf_counter() - start)
    return times


def pieces(loss: str, X: np.ndarray, y: np.ndarray, repeats: int) -> dict[str, float]:
    """Fastest wall time (ms) of the parts of one least-squares fit, derivreg's and statsmodels'.

    Where derivreg is slower than statsmodels' OLS, this says where the time
    goes: statsmodels solves once (a pinv of X~, then the residuals' scale);
    derivreg's Newton evaluates the fused kernel twice (at the start and at the
    step, which it must to see the gradient) and solves once; fisher_inference
    takes the last evaluation's Hessian (``history.hessian``, at the returned
    point) and checks the data, rather than evaluating the kernel once more.
    """
    import statsmodels.api as sm

    kernels = KERNELS[loss]
    w, b, history = train(X, y, loss=loss, solver="newton", tol=TOL)
    A = with_ones(X)
    theta = np.append(w, b)
    _, _, H = kernels.newton_terms(X, y, w, b)
    parts: dict[str, Callable[[], object]] = {
        "derivreg: train(solver='newton')": lambda: train(
            X, y, loss=loss, solver="newton", tol=TOL
        ),
        "derivreg: one newton_terms (checked)": lambda: kernels.newton_terms(X, y, w, b),
        "derivreg: one newton_terms (unchecked)": lambda: kernels._newton_terms(X, y, w, b),
        "derivreg: Cholesky test + solve": lambda: (
            np.linalg.cholesky(H),
            np.linalg.solve(H, theta),
        ),
        "derivreg: fisher_inference(scale='pearson')": lambda: fisher_inference(
            kernels, X, y, w, b, scale="pearson"
        ),
        "derivreg: fisher_inference(scale='pearson', hessian=history.hessian)": lambda: (
            fisher_inference(kernels, X, y, w, b, scale="pearson", hessian=history.hessian)
        ),
        "statsmodels: OLS(y, X~).fit()": lambda: sm.OLS(y, A).fit(),
        "statsmodels: OLS(y, X~).fit().bse": lambda: sm.OLS(y, A).fit().bse,
    }
    times = timed(parts, repeats)
    return {name: min(t) * 1e3 for name, t in times.items()}


def run(repeats: int) -> dict[str, object]:
    rows = []
    parts: dict[str, dict[str, float]] = {}
    before = os.getloadavg()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # scikit-learn's and statsmodels' own notices
        for data, (loss, X, y) in datasets().items():
            methods = fits(loss, X, y)
            results = {name: f() for name, f in methods.items()}
            ref_theta, ref_se, _ = results["statsmodels"]
            seconds = timed(methods, repeats)
            if loss == "mse":
                parts[data] = pieces(loss, X, y, repeats)
            ref_min, ref_median = (
                min(seconds["statsmodels"]),
                statistics.median(seconds["statsmodels"]),
            )
            for name, (theta, se, n_iter) in results.items():
                coef = float(np.linalg.norm(theta - ref_theta) / np.linalg.norm(ref_theta))
                se_err = None if se is None else float(np.max(np.abs(se - ref_se) / ref_se))
                rows.append(
                    {
                        "data": data,
                        "model": "least squares" if loss == "mse" else "logistic",
                        "shape": list(X.shape),
                        "solver": name,
                        "coef_rel_err": coef,
                        "se_rel_err": se_err,
                        "iterations": n_iter,
                        "seconds": statistics.median(seconds[name]),
                        "min_seconds": min(seconds[name]),
                        # wall time over statsmodels' fit() (with its bse), fastest and median
                        "ratio_min": min(seconds[name]) / ref_min,
                        "ratio_median": statistics.median(seconds[name]) / ref_median,
                    }
                )
    after = os.getloadavg()
    return {
        "machine": {
            "cpu": platform.processor() or platform.machine(),
            "cores": os.cpu_count(),
            "python": platform.python_version(),
            "numpy": np.__version__,
            "load average (1, 5, 15 min) before": [round(v, 2) for v in before],
            "load average (1, 5, 15 min) after": [round(v, 2) for v in after],
        },
        "repeats": repeats,
        "tol": TOL,
        "rows": rows,
        "pieces": parts,
    }


def _num(value: float | None, fmt: str) -> str:
    return "—" if value is None else format(value, fmt)


def markdown(results: dict[str, object]) -> str:
    m = results["machine"]
    lines = [
        f"Median and fastest of {results['repeats']} interleaved fits each; derivreg's "
        f"gradient tolerance {results['tol']:g}.  Errors are relative to statsmodels (the "
        "reference row shows 0); time is one fit, derivreg's including its standard errors "
        "(statsmodels computes its own lazily).  On a shared machine a fit of a few "
        "milliseconds is often preempted for a 10 ms slice: the fastest run is the cost of "
        "the work, the median what a user waits.",
        "",
        f"Machine: {m['cpu']}, {m['cores']} cores, Python {m['python']}, NumPy {m['numpy']}; "
        f"load average {m['load average (1, 5, 15 min) before']} before, "
        f"{m['load average (1, 5, 15 min) after']} after (a shared machine).",
        "",
        "| data | m x n | solver | coef. rel. err. | SE rel. err. | iter. | median ms | min ms "
        "| / statsmodels (min, median) |",
        "|---|---|---|---:|---:|---:|---:|---:|---:|",
    ]
    for r in results["rows"]:
        shape = "{} x {}".format(*r["shape"])
        lines.append(
            f"| {r['data']} ({r['model']}) | {shape} | {r['solver']} | "
            f"{_num(r['coef_rel_err'], '.1e')} | {_num(r['se_rel_err'], '.1e')} | "
            f"{'direct' if r['iterations'] is None else r['iterations']} | "
            f"{r['seconds'] * 1e3:.2f} | {r['min_seconds'] * 1e3:.2f} | "
            f"{r['ratio_min']:.2f}, {r['ratio_median']:.2f} |"
        )
    plain = [r for r in results["rows"] if r["solver"] == "derivreg Newton"]
    slower = [r["data"] for r in plain if r["ratio_min"] > 1.0]
    lines += [
        "",
        "derivreg Newton's fastest fit is at most statsmodels' on "
        f"{len(plain) - len(slower)} of {len(plain)} problems"
        + (f"; slower on {', '.join(slower)}." if slower else "."),
    ]
    for data, times in results.get("pieces", {}).items():
        lines += [
            "",
            f"Where the time of a least-squares fit goes ({data}; fastest of "
            f"{results['repeats']}, ms):",
            "",
            "| part | min ms |",
            "|---|---:|",
            *(f"| {name} | {ms:.3f} |" for name, ms in times.items()),
        ]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="1 repeat: a smoke test")
    parser.add_argument("--repeats", type=int, default=15, help="timed rounds (median)")
    parser.add_argument("--out", type=Path, help="output directory")
    parser.add_argument(
        "--report-only", action="store_true", help="rewrite newton.md from the saved newton.json"
    )
    args = parser.parse_args(argv)
    repeats = 1 if args.quick else args.repeats
    if repeats < 1:
        parser.error("--repeats must be at least 1")
    out = args.out or (Path(tempfile.mkdtemp()) if args.quick else ROOT / "docs" / "performance")
    out.mkdir(parents=True, exist_ok=True)
    if args.report_only:
        results = json.loads((out / "newton.json").read_text(encoding="utf-8"))
        (out / "newton.md").write_text(markdown(results), encoding="utf-8")
        return 0
    results = run(repeats)
    report = markdown(results)
    (out / "newton.md").write_text(report, encoding="utf-8")
    (out / "newton.json").write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    print(report)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
