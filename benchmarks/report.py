"""The Markdown report of a run, and the issue's targets checked against it."""

from __future__ import annotations

from bandwidth import bandwidth_table
from batch import FUSED, TEXTBOOK_PAIRS
from threads import THREAD_VARIABLES


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
        "Other programs share this machine's cores (see the load averages above); figures",
        "are medians of interleaved runs, ratios taken side by side in this one run.",
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
            "PyTorch's own settings): X @ v is then one core's read too.  The NumPy",
            "kernels' row blocks (1 MiB) run on the calling thread in both settings:",
            "OpenBLAS threads only larger products (benchmarks/blocks.py measures it), so",
            "with two threads the textbook's two whole-X products use both cores where",
            "the kernels' use one.",
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
    if results.get("bandwidth"):
        lines += [
            "",
            "## What bounds the fused kernels: GB/s of one read of X, and one exp",
            "",
            "The same X read by BLAS, by a plain numba sum and by the fused kernels",
            "(compiled, unchecked); then the time of one scalar exp and log1p in numba.",
            "",
        ]
        lines += bandwidth_table(results["bandwidth"])
    lines += lecture_and_scaling(results)
    lines += ["", "## The targets of issue 15, measured in this run", ""]
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


def lecture_and_scaling(results: dict[str, object]) -> list[str]:
    """The sections for ``derivreg lecture`` and for the scaling curve."""
    lines = ["", "## derivreg lecture (whole process)", ""]
    lecture = results.get("lecture")
    if lecture:
        lines += ["| what | value |", "|---|---|"]
        lines += [f"| {k} | {v} |" for k, v in lecture.items()]
    else:
        lines += ["(not measured in quick mode: several seconds per run)"]
    scaling = results["scaling"]
    lines += [
        "",
        f"## Scaling: ns per row x feature, {scaling['pair'].upper()} grad, "
        f"d = {scaling['features']}",
        "",
        "| backend | " + " | ".join(f"{m:.0e}".replace("e+0", "e") for m in scaling["rows"]),
    ]
    lines[-1] += " | max / min |"
    lines += ["|---" * (len(scaling["rows"]) + 2) + "|"]
    for name, values in scaling["ns"].items():
        cells = " | ".join(f"{v:.3f}" for v in values)
        lines.append(f"| {name} | {cells} | {scaling['spread'][name]:.2f} |")
    return lines


def targets(results: dict[str, object]) -> list[tuple[str, float, float]]:
    """(target, limit, measured) for each target of issue 15 this run can check."""
    out = []
    runs = [(", default threads", results["batch"])]
    if results.get("batch_one_thread"):
        runs.append((", one thread", results["batch_one_thread"]))
    for suffix, rows in runs:
        for r in rows:
            shape = f"{r['loss'].upper()} {r['m']}x{r['n']}{suffix}"
            ratio = r["ratios"]
            for mine, theirs in TEXTBOOK_PAIRS:
                if mine in ratio and theirs in ratio:
                    what = mine.removeprefix("derivreg ")
                    out.append((f"1. {what} / textbook, {shape}", 1.0, ratio[mine] / ratio[theirs]))
            for name in FUSED:
                if name in ratio:
                    limit = 1.3 if r["n"] >= 64 else 2.0
                    what = name.split(" (")[0].replace("derivreg numba ", "")
                    out.append((f"2. fused {what} / one read of X, {shape}", limit, ratio[name]))
    for r in results["sgd"]:
        ns = r["ns_per_sample"]
        if "derivreg numba (History off)" in ns:
            value = ns["derivreg numba (History off)"] / ns["scikit-learn"]
            out.append(
                (
                    f"3. train() numba, History off / scikit-learn, {r['loss'].upper()} d={r['d']}",
                    0.5,
                    value,
                )
            )
    if results.get("lecture"):
        out.append(
            (
                "4. derivreg lecture (s)",
                2.5,
                results["lecture"]["derivreg lecture (s, figures written)"],
            )
        )
    for name, spread in results["scaling"]["spread"].items():
        out.append((f"5. scaling max/min ns per row x feature, {name}", 1.3, spread))
    start = results["startup"]
    out.append(
        (
            "import derivreg.kernels over import numpy (ms, -X importtime)",
            20.0,
            start["derivreg.kernels, python -X importtime (ms, cumulative)"],
        )
    )
    return out
