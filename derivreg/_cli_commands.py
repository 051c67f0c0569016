"""What each ``derivreg`` subcommand does, once :mod:`derivreg.cli` has parsed its options.

One function per subcommand, ``command(args) -> exit status``; each imports
what it needs when it runs, so that ``derivreg --help`` (and a subcommand
that needs only NumPy) never pays for SymPy or Matplotlib.  A problem with
the input is a ``ValueError`` (or ``OSError``), which the command line
prints on one line with status 2.

Examples
--------
>>> import argparse
>>> derive(argparse.Namespace(loss="mse", features="1", format="text"))  # doctest: +ELLIPSIS
Linear regression, mean squared error (1 feature)
...
0
"""

from __future__ import annotations

import argparse
import sys

from derivreg import _cli_checks

__all__ = [
    "MINORITY_WARNING",
    "derive",
    "generate",
    "lecture",
    "train",
    "vector_model",
    "verify",
    "warn_if_imbalanced",
]

#: ``derivreg train`` warns when one class has less than this share of the labels.
MINORITY_WARNING = 0.05


def derive(args: argparse.Namespace) -> int:
    """Run ``derivreg derive``: print the chain-rule derivation of ``args.loss``.

    Examples
    --------
    >>> ns = argparse.Namespace(loss="bce", features="n", format="latex")
    >>> derive(ns)  # doctest: +ELLIPSIS
    % Logistic regression, binary cross-entropy (n features)
    ...
    0
    """
    from derivreg.rendering import render
    from derivreg.symbolic import derive as derivation
    from derivreg.symbolic.derivation import Features

    features: Features = 1 if args.features == "1" else "n"
    name: str = args.loss  # a registered pair's name (argparse choices)
    sys.stdout.write(render(derivation(name, features=features), args.format))
    return 0


def generate(args: argparse.Namespace) -> int:
    """Run ``derivreg generate``: write the kernels, or (``--check``) compare them.

    Returns 1 with a diff when ``--check`` finds them stale.

    Examples
    --------
    >>> generate(argparse.Namespace(pair="mypkg.losses:HUBER", out=None, check=False))
    Traceback (most recent call last):
    ...
    ValueError: --pair and --out go together: --pair MODULE:NAME --out DIRECTORY
    """
    from derivreg import codegen
    from derivreg._cli_pairs import load_pair

    if (args.pair is None) != (args.out is None):
        raise ValueError("--pair and --out go together: --pair MODULE:NAME --out DIRECTORY")
    pair = None if args.pair is None else load_pair(args.pair)
    what, again = "the checked-in kernels", "derivreg generate"
    if pair is not None:
        what, again = f"the kernels in {args.out}", f"{again} --pair {args.pair} --out {args.out}"
    if args.check:
        diff = codegen.check(pair, args.out)
        if diff:
            sys.stdout.write(diff)
            sys.stderr.write(
                f"derivreg generate: {what} differ from a fresh generation; run `{again}`\n"
            )
            return 1
        print("derivreg generate: kernels are up to date")  # noqa: T201
        return 0
    changed = codegen.write(pair, args.out)
    for path in changed:
        print(f"wrote {path}")  # noqa: T201
    if not changed:
        print("derivreg generate: kernels were already up to date")  # noqa: T201
    return 0


def verify(args: argparse.Namespace) -> int:
    """Run ``derivreg verify``: check every proof, then that the kernels are fresh.

    Returns 1 if a proof fails or the kernels differ from a fresh
    generation (at most 12 of the differing lines are shown).

    Examples
    --------
    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as empty:
    ...     verify(argparse.Namespace(proofs=empty))  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    FileNotFoundError: no proof files (*.py) in ...
    """
    from derivreg import codegen
    from derivreg.proof import verify as check_proofs

    # Translation validation of derivreg/kernels/*.py is theorem family 10 (proofs/kernels.py).
    failures = check_proofs(sys.stdout, args.proofs)
    stale = codegen.check()
    if not stale:
        print("checked  generate --check")  # noqa: T201
        return 1 if failures else 0
    print("FAILED   generate --check: kernels differ from a fresh generation:")  # noqa: T201
    # The diff's file names and changed lines (checked-in "-", fresh "+"), at most 12.
    changed = [
        line
        for line in stale.splitlines()
        if line.startswith(("---", "+++")) or (line[:1] in "+-" and line[1:].strip())
    ]
    for line in changed[:12]:
        print(f"         {line}")  # noqa: T201
    if len(changed) > 12:
        print(f"         ... {len(changed) - 12} more lines; see `derivreg generate --check`")  # noqa: T201
    return 1


def lecture(args: argparse.Namespace) -> int:
    """Run ``derivreg lecture``: the lecture's experiments, their tables and figures.

    ``--out`` and ``--epochs`` are checked before any work.

    Examples
    --------
    >>> lecture(argparse.Namespace(out="", epochs=1, no_plots=False, errata=False))
    Traceback (most recent call last):
    ...
    ValueError: --out must name a directory, got ''
    """
    import gc
    from pathlib import Path

    _cli_checks.before_lecture(args)  # --out, --epochs: before any work
    # What is imported here lives as long as the process: no collections
    # while importing it, and frozen, the collector does not rescan it while
    # the figures are drawn (about 0.2 s of the command's 2, measured).
    enabled = gc.isenabled()
    gc.disable()
    try:
        from derivreg.reports import lecture_report
        from derivreg.train import DivergenceError

        if not args.no_plots:
            import derivreg.plots  # noqa: F401 - Matplotlib, before the freeze
    finally:
        gc.freeze()
        if enabled:
            gc.enable()
    try:
        out = None if args.no_plots else Path(args.out)
        lecture_report(out, epochs=args.epochs, lecture_errata=args.errata)
    except DivergenceError as err:
        raise ValueError(err) from err
    finally:
        gc.unfreeze()  # as before, for a caller that goes on (main() in a test)
    return 0


def train(args: argparse.Namespace) -> int:
    """Run ``derivreg train``: draw the data, train, print the table, draw the figures.

    The softmax model and the out-of-core options (``--chunks``,
    ``--store``, ``--solver``) hand over to their own modules; an option that
    does not apply to the model is refused before any work.

    Examples
    --------
    >>> train(argparse.Namespace(model="linear", classes=3))
    Traceback (most recent call last):
    ...
    ValueError: --classes applies to the softmax model only
    """
    from pathlib import Path

    from derivreg import data
    from derivreg.reports import train_report
    from derivreg.train import DivergenceError

    if args.model == vector_model():
        from derivreg.softmax_run import train_command

        return train_command(args)
    if args.classes is not None:
        raise ValueError("--classes applies to the softmax model only")
    args.features = args.features or 1
    if args.chunks or args.store or args.solver:  # out of core, on Dask arrays
        from derivreg._cli_dask import train_out_of_core

        return train_out_of_core(args)
    _cli_checks.before_train(args)  # --out, sizes: before any work
    if args.model == "linear":
        if args.labels is not None:
            raise ValueError("--labels applies to logistic models only")
        dataset = data.linear(
            args.features, args.samples or 100, seed=args.seed, noise=args.noise or 0.0
        )
    else:
        if args.noise is not None:
            raise ValueError("--noise applies to linear models only")
        dataset = data.logistic(
            args.features,
            args.samples,
            seed=args.seed,
            labels=args.labels or "threshold",
            positive_rate=args.positive_rate,
        )
        warn_if_imbalanced(dataset)
    if args.model == "linear" and args.positive_rate is not None:
        raise ValueError("--positive-rate applies to logistic models only")
    try:
        train_report(
            dataset,
            None if args.no_plots else Path(args.out),
            lr=args.lr,
            epochs=args.epochs,
            batch_size=args.batch_size,
            shuffle=args.shuffle,
            seed=args.seed,
        )
    except DivergenceError as err:
        raise ValueError(err) from err
    return 0


def vector_model() -> str:
    """Return the k-class model's name, from its generated kernel (NumPy only).

    Examples
    --------
    >>> vector_model()
    'softmax'
    """
    from derivreg.kernels import softmax as vector

    return vector.NAME


def warn_if_imbalanced(dataset: object) -> None:
    """Warn on stderr when one class has less than :data:`MINORITY_WARNING` of the labels.

    Examples
    --------
    >>> import contextlib, io
    >>> from derivreg.data import logistic
    >>> err = io.StringIO()
    >>> with contextlib.redirect_stderr(err):
    ...     warn_if_imbalanced(logistic(2, 500))
    >>> err.getvalue()[:59]
    'derivreg train: warning: only 6 of 500 labels are 1 (1.2%);'
    """
    rate = dataset.positive_rate  # type: ignore[attr-defined]
    minority, label = (rate, 1) if rate <= 0.5 else (1 - rate, 0)
    if minority < MINORITY_WARNING:
        m = dataset.n_samples  # type: ignore[attr-defined]
        sys.stderr.write(
            f"derivreg train: warning: only {round(minority * m)} of {m} labels are {label} "
            f"({minority:.1%}); always predicting {1 - label} scores accuracy {1 - minority:.3f}. "
            "--positive-rate 0.5 chooses the bias for balanced classes\n"
        )
