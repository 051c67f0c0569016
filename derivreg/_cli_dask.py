"""``derivreg train --chunks/--store/--solver``: training out of core, with progress per pass.

``derivreg train logistic --samples 50000000 --chunks 1000000 --solver newton
--store data.zarr`` writes the synthetic data set to ``data.zarr`` chunk by
chunk (or reads it, if a store of :func:`derivreg.data.write_zarr` is there),
then fits it on Dask arrays, printing one line per pass over the data (a
full-batch solver) or per epoch (SGD), and a table of the fitted parameters
against the true ones.  Without ``--store`` the chunks are drawn lazily, by
the same seeds, in every pass.  The threaded scheduler runs it (BLAS held to
one thread per task where threadpoolctl is installed).  Every setting is
checked before any work; the command line prints a problem on one line.

Examples
--------
>>> import argparse, io, contextlib
>>> args = argparse.Namespace(model="linear", samples=2000, features=2, chunks=500, store=None,
...     solver="newton", lr=None, epochs=1, batch_size=1, seed=1, shuffle=False, noise=0.5,
...     labels=None, positive_rate=None, out=None, no_plots=False)
>>> err = io.StringIO()
>>> with contextlib.redirect_stderr(err):
...     status = train_out_of_core(args)  # doctest: +ELLIPSIS
parameter ...
>>> status, err.getvalue().splitlines()[0][:27]
(0, 'derivreg train: 4 chunks of')
"""

from __future__ import annotations

import argparse
import contextlib
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["DEFAULT_SAMPLES", "add_arguments", "check", "train_out_of_core"]

#: Rows drawn out of core when ``--samples`` is not given (and no store says).
DEFAULT_SAMPLES = 1_000_000

#: The model names of ``derivreg train`` and the data :func:`derivreg.data.write_zarr` draws.
_KINDS = {"linear": "linear", "logistic": "logistic"}


def add_arguments(p: argparse.ArgumentParser) -> None:
    """Add ``derivreg train``'s out-of-core options to its parser.

    Examples
    --------
    >>> p = argparse.ArgumentParser(); add_arguments(p)
    >>> p.parse_args(["--chunks", "10", "--solver", "gd"]).solver
    'gd'
    """
    from derivreg.cli import _positive_int

    p.add_argument(
        "--chunks",
        type=_positive_int,
        default=None,
        metavar="ROWS",
        help="out of core: rows per chunk of a Dask array (see --store, --solver)",
    )
    p.add_argument(
        "--store",
        metavar="PATH",
        help="out of core: a zarr store, written chunk by chunk unless it exists",
    )
    p.add_argument(
        "--solver",
        choices=("sgd", "gd", "newton", "lbfgs"),
        default=None,
        help="out of core: the solver, one line per pass (default with --chunks/--store: newton)",
    )


def check(args: argparse.Namespace) -> tuple[str, int, int, int]:
    """Check the out-of-core settings before any work; return (kind, samples, features, rows).

    Examples
    --------
    >>> ns = argparse.Namespace(model="logistic", samples=10, features=1, chunks=None,
    ...     store=None, solver="newton", labels="threshold", positive_rate=None, noise=None,
    ...     out=None, epochs=1, batch_size=1, lr=None)
    >>> check(ns)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ValueError: --labels threshold makes separable classes (no maximum-likelihood estimate); ...
    """
    from derivreg import _cli_checks
    from derivreg._store import store_info

    kind = _KINDS.get(args.model)
    if kind is None:
        raise ValueError(f"--chunks, --store and --solver apply to {sorted(_KINDS)} models")
    if args.out is not None:
        raise ValueError("--out: training out of core draws no figures; leave --out out")
    if args.labels == "threshold":
        raise ValueError(
            "--labels threshold makes separable classes (no maximum-likelihood estimate); "
            "out of core the labels are Bernoulli(σ(z))"
        )
    if args.positive_rate is not None:
        raise ValueError("--positive-rate applies to training in memory only")
    if args.noise is not None and kind != "linear":
        raise ValueError("--noise applies to linear models only")
    solver = args.solver or "newton"
    if args.lr is not None and solver != "sgd":
        raise ValueError(f"--lr applies to --solver sgd; {solver} chooses its own steps")
    samples, features = args.samples or DEFAULT_SAMPLES, args.features
    if args.store is not None and Path(args.store).exists():
        info = store_info(args.store)  # a ValueError naming the store if it is not one
        if info.kind != kind:
            raise ValueError(f"--store {args.store!r} holds {info.kind} data, not {kind}")
        if args.samples is not None and args.samples != info.n_samples:
            raise ValueError(
                f"--samples {args.samples} does not match --store {args.store!r}, which holds "
                f"{info.n_samples} samples; leave --samples out or name another store"
            )
        samples, features = info.n_samples, info.n_features
    elif args.store is not None:
        _cli_checks.output_dir(args.store, "--store")
    rows = min(args.chunks or samples, samples)
    if solver == "sgd":
        _cli_checks.check_updates(args.epochs, samples, args.batch_size)
    return kind, samples, features, rows


def _data(args: argparse.Namespace, kind: str, samples: int, features: int, rows: int) -> Any:
    from derivreg import _store

    noise = 0.0 if args.noise is None else args.noise
    if args.store is None:
        return _store.synthetic(
            kind, samples, features, chunk_rows=rows, seed=args.seed, noise=noise
        )
    if not Path(args.store).exists():
        _store.write_zarr(
            args.store,
            kind,
            samples,
            features,
            chunk_rows=rows,
            seed=args.seed,
            noise=noise,
            progress=True,
        )
    info = _store.store_info(args.store)
    X, y = _store.open_zarr(
        args.store, chunk_rows=max(rows // info.chunk_rows, 1) * info.chunk_rows
    )
    return X, y, info.true_w, info.true_b


def _one_blas_thread() -> Any:
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        return contextlib.nullcontext()
    return threadpool_limits(1)


def train_out_of_core(args: argparse.Namespace) -> int:
    """Run ``derivreg train`` out of core (see the module's docstring); return 0."""
    kind, samples, features, rows = check(args)
    try:
        from derivreg.distributed import require_dask

        require_dask()
    except ImportError as err:
        raise ValueError(str(err)) from None
    from derivreg._store import KINDS

    X, y, true_w, true_b = _data(args, kind, samples, features, rows)
    loss = KINDS[kind]  # the kernel the data are drawn for
    solver = args.solver or "newton"
    where = args.store or "drawn per pass"
    sys.stderr.write(
        f"derivreg train: {X.numblocks[0]} chunks of up to {X.chunks[0][0]} rows "
        f"({samples} x {features}, {where}), solver {solver}\n"
    )
    start = time.perf_counter()
    with _one_blas_thread():
        w, b, passes = _fit(args, solver, loss, X, y, start=start)
    sys.stdout.write(
        _table(true_w, true_b, w, b, passes=passes, seconds=time.perf_counter() - start)
    )
    return 0


def _fit(args: argparse.Namespace, solver: str, loss: str, X: Any, y: Any, *, start: float) -> Any:
    from derivreg import train as training

    def each_pass(k: int, at: Any) -> None:
        sys.stderr.write(
            f"pass {k}: mean loss {at.value:.10g}, max |gradient| "
            f"{float(np.max(np.abs(at.grad))):.3g}, "
            f"{time.perf_counter() - start:.1f} s\n"
        )
        sys.stderr.flush()

    def each_epoch(epoch: int, epochs: int) -> None:
        sys.stderr.write(f"epoch {epoch}/{epochs}: {time.perf_counter() - start:.1f} s\n")
        sys.stderr.flush()

    if solver == "sgd":
        lr = 0.01 if args.lr is None else args.lr
        w, b, h = training.train(
            X,
            y,
            loss=loss,
            lr=lr,
            epochs=args.epochs,
            shuffle=args.shuffle,
            seed=args.seed,
            batch_size=args.batch_size,
            record="none",
            progress=each_epoch,
        )
        return w, b, f"{h.n_epochs} epochs ({h.n_updates} updates)"
    from derivreg import solvers
    from derivreg.distributed import DaskObjective
    from derivreg.kernels import KERNELS

    objective = DaskObjective(KERNELS[loss], X, y, on_pass=each_pass)
    run = {"gd": solvers.gradient_descent, "newton": solvers.newton, "lbfgs": solvers.lbfgs}
    with np.errstate(over="ignore", invalid="ignore"):
        found = run[solver](objective, np.zeros(objective.n_params))
    return found.theta[:-1], float(found.theta[-1]), f"{found.passes} passes over the data"


def _table(
    true_w: np.ndarray, true_b: float, w: np.ndarray, b: float, *, passes: str, seconds: float
) -> str:
    lines = [f"{'parameter':<10} {'true':>12} {'fitted':>12}"]
    for j, (t, f) in enumerate(zip(true_w, w, strict=True)):
        lines.append(f"{f'w[{j}]':<10} {t:>12.6f} {f:>12.6f}")
    lines.append(f"{'b':<10} {true_b:>12.6f} {b:>12.6f}")
    lines.append(f"{passes} in {seconds:.1f} s")
    return "\n".join(lines) + "\n"
