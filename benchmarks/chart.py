"""The charts: the batch and SGD bars (benchmark.png) and the scaling curve (scaling.png)."""

from __future__ import annotations

from pathlib import Path

from batch import TEXTBOOK_PAIRS

LOSS_AND_UPDATE = {name for pair in TEXTBOOK_PAIRS[1:] for name in pair}


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
        # the gradient's methods; the NumPy loss and update against the textbook's are
        # in the report's tables (target 1), not on this chart
        names = [n for n in rows[0]["ratios"] if n not in LOSS_AND_UPDATE]
        bars(ax, rows, names, lambda r, n: r["ratios"][n], ticks)
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


def scaling_chart(results: dict[str, object], path: Path) -> None:
    """ns per row x feature against rows, one line per backend, log x; page-width type."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    s = results["scaling"]
    plt.rcParams.update({"font.size": 12})
    fig, ax = plt.subplots(figsize=(9, 4.8))
    for name, values in s["ns"].items():
        ax.plot(
            s["rows"], values, marker="o", lw=2, label=f"{name}: max/min {s['spread'][name]:.2f}"
        )
        low = min(values)
        ax.axhspan(low, 1.3 * low, alpha=0.08, color=ax.lines[-1].get_color())
    ax.set_xscale("log")
    ax.set_ylim(bottom=0)
    ax.set_xlabel(f"rows m (d = {s['features']} features)")
    ax.set_ylabel("ns per row x feature")
    ax.set_title(
        f"{s['pair'].upper()} gradient: time per element (flat is ideal; bands: 1.3x the best)",
        fontsize=12,
    )
    ax.grid(alpha=0.3)
    ax.legend(frameon=False)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
