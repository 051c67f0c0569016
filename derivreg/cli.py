"""The ``derivreg`` command line.

Each subcommand is a small function; argument errors print one line and
exit with status 2, as :mod:`argparse` does.

Examples
--------
>>> main(["derive", "mse", "--features", "1"])  # doctest: +ELLIPSIS
Linear regression, mean squared error (1 feature)
...
0
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence

from derivreg import _cli_checks

__all__ = ["main"]

Command = Callable[[argparse.Namespace], int]


class _Formatter(argparse.HelpFormatter):
    """Show each option's default in ``--help`` (but not None or a flag's False)."""

    def _get_help_string(self, action: argparse.Action) -> str | None:
        text = action.help or ""
        default = action.default
        if (
            "%(default)" not in text
            and action.option_strings
            and default not in (None, False, argparse.SUPPRESS)
        ):
            text += " (default: %(default)s)"
        return text


class _Parser(argparse.ArgumentParser):
    """An argument parser whose errors are one line and exit 2, with defaults in ``--help``."""

    def __init__(self, *args: object, **kwargs: object) -> None:
        kwargs.setdefault("formatter_class", _Formatter)
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]

    def error(self, message: str) -> None:  # type: ignore[override]
        self.exit(2, f"{self.prog}: error: {message}\n")


def _derive(args: argparse.Namespace) -> int:
    from derivreg.rendering import render
    from derivreg.symbolic import derive

    features = 1 if args.features == "1" else "n"
    sys.stdout.write(render(derive(args.loss, features=features), args.format))
    return 0


def _generate(args: argparse.Namespace) -> int:
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


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}")
    return value


def _nonnegative_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number >= 0, got {text!r}") from None
    if not (0 <= value < float("inf")):
        raise argparse.ArgumentTypeError(f"expected a finite number >= 0, got {text!r}")
    return value


def _rate(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number in (0, 1), got {text!r}") from None
    if not 0 < value < 1:
        raise argparse.ArgumentTypeError(f"expected a number in (0, 1), got {text!r}")
    return value


#: ``derivreg train`` warns when one class has less than this share of the labels.
MINORITY_WARNING = 0.05


def _positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive number, got {text!r}") from None
    if not (0 < value < float("inf")):
        raise argparse.ArgumentTypeError(f"expected a finite positive number, got {text!r}")
    return value


def _lecture(args: argparse.Namespace) -> int:
    import gc
    from pathlib import Path

    _cli_checks.before_lecture(args)  # --out, --epochs: before any work
    # What is imported here lives as long as the process: no collections
    # while importing it, and frozen, the collector does not rescan it while
    # the figures are drawn (about 0.2 s of the command's 2, measured).
    enabled = gc.isenabled()
    gc.disable()
    try:
        from derivreg.experiments import lecture_report
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


def _train(args: argparse.Namespace) -> int:
    from pathlib import Path

    from derivreg import data
    from derivreg.experiments import train_report
    from derivreg.train import DivergenceError

    if args.model == _vector_model():
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
        _warn_if_imbalanced(dataset)
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


def _vector_model() -> str:
    """Return the k-class model's name, from its generated kernel (NumPy only)."""
    from derivreg.kernels import softmax as vector

    return vector.NAME


def _warn_if_imbalanced(dataset: object) -> None:
    rate = dataset.positive_rate  # type: ignore[attr-defined]
    minority, label = (rate, 1) if rate <= 0.5 else (1 - rate, 0)
    if minority < MINORITY_WARNING:
        m = dataset.n_samples  # type: ignore[attr-defined]
        sys.stderr.write(
            f"derivreg train: warning: only {round(minority * m)} of {m} labels are {label} "
            f"({minority:.1%}); always predicting {1 - label} scores accuracy {1 - minority:.3f}. "
            "--positive-rate 0.5 chooses the bias for balanced classes\n"
        )


def _verify(args: argparse.Namespace) -> int:
    from derivreg import codegen
    from derivreg.proof import verify

    # Translation validation of derivreg/kernels/*.py is theorem family 10 (proofs/kernels.py).
    failures = verify(sys.stdout, args.proofs)
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


def build_parser() -> argparse.ArgumentParser:
    """Build the argument parser of the ``derivreg`` command.

    Examples
    --------
    >>> build_parser().parse_args(["derive", "bce"]).loss
    'bce'
    """
    from derivreg.kernels import KERNELS  # NumPy only: the CLI never pays for SymPy up front

    losses = "{" + ",".join(sorted(KERNELS)) + "}"
    from derivreg import __version__

    parser = _Parser(
        prog="derivreg",
        description="Derive, generate, verify and train linear and logistic regression "
        "(Lecture 4: Linear/Logistic Regression).",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    p = sub.add_parser("derive", help="print the chain-rule derivation of a loss")
    p.add_argument("loss", metavar=losses, help="registered (activation, loss) pair")
    p.add_argument(
        "--format", choices=("text", "latex", "markdown"), default="text", help="output format"
    )
    p.add_argument(
        "--features", choices=("1", "n"), default="n", help="1-feature or n-feature form"
    )
    p.set_defaults(run=_derive)

    p = sub.add_parser(
        "generate",
        help="write the derivations as NumPy kernels to derivreg/kernels/ (--check: compare)",
    )
    p.add_argument(
        "--check",
        action="store_true",
        help="exit 1 with a diff if the checked-in kernels differ from a fresh generation",
    )
    p.add_argument(
        "--pair",
        metavar="MODULE:NAME",
        help="a Pair of your own, e.g. mypkg.losses:HUBER (imported; needs --out)",
    )
    p.add_argument("--out", metavar="DIRECTORY", help="where to write the pair's kernels")
    p.set_defaults(run=_generate)

    p = sub.add_parser(
        "verify", help="check every proof (kernels included) and that the kernels are fresh"
    )
    p.add_argument(
        "--proofs",
        help="directory of proof files (default: the proofs installed with derivreg, "
        "derivreg/proof/families, which is proofs/ in a checkout)",
    )
    p.set_defaults(run=_verify)

    p = sub.add_parser(
        "lecture",
        help="run the lecture's four experiments and a 2-feature boundary: 5 tables, figures (PNG)",
    )
    p.add_argument(
        "--out", default="lecture-figures", metavar="DIR", help="directory for the figures"
    )
    p.add_argument("--no-plots", action="store_true", help="print the tables only, draw nothing")
    p.add_argument("--epochs", type=_positive_int, default=1, help="passes over the data")
    p.add_argument(
        "--errata", action="store_true", help="reproduce the lecture's own (erroneous) numbers"
    )
    p.set_defaults(run=_lecture)

    p = sub.add_parser("train", help="train on generated data with your own settings")
    p.add_argument(
        "model", choices=("linear", "logistic", _vector_model()), help="which regression"
    )
    p.add_argument(
        "--features",
        type=_positive_int,
        default=None,
        metavar="N",
        help="number of features (default: 1; softmax 2)",
    )
    p.add_argument(
        "--classes",
        type=_positive_int,
        default=None,
        metavar="K",
        help="softmax: number of classes, at least 2 (default: 3)",
    )
    p.add_argument(
        "--samples",
        type=_positive_int,
        default=None,
        metavar="M",
        help="samples (default: the lecture's: linear 100; logistic 500, or 1000 past 1 feature; "
        "softmax 300)",
    )
    p.add_argument(
        "--lr",
        type=_positive_float,
        default=None,
        metavar="A",
        help="learning rate (default: the lecture's: linear 0.01 or 0.1; logistic 0.1 or 0.03; "
        "softmax half the per-sample bound 4/max||(x, 1)||²)",
    )
    p.add_argument(
        "--epochs", type=_positive_int, default=1, metavar="E", help="passes over the data"
    )
    p.add_argument(
        "--batch-size", type=_positive_int, default=1, metavar="B", help="1: per-sample SGD"
    )
    p.add_argument("--seed", type=int, default=1, metavar="S", help="data and shuffling seed")
    p.add_argument("--shuffle", action="store_true", help="shuffle the samples each epoch")
    p.add_argument(
        "--noise",
        type=_nonnegative_float,
        default=None,
        help="linear: standard deviation of the target noise (default: 0, none)",
    )
    p.add_argument(
        "--labels",
        choices=("threshold", "bernoulli"),
        default=None,
        help="logistic: labels z > 0, or drawn as Bernoulli(σ(z)) (default: threshold)",
    )
    p.add_argument(
        "--positive-rate",
        type=_rate,
        default=None,
        metavar="R",
        help="logistic: choose the true bias so that a fraction R of the labels are 1 "
        "(0.5: balanced; default: the drawn bias)",
    )
    p.add_argument(
        "--out", metavar="DIR", help="directory for the figures (required unless --no-plots)"
    )
    p.add_argument("--no-plots", action="store_true", help="print the table only, draw nothing")
    from derivreg._cli_dask import add_arguments  # --chunks, --store, --solver: out of core

    add_arguments(p)
    p.set_defaults(run=_train)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line with ``argv`` (default: ``sys.argv[1:]``).

    Returns the exit status; errors in the arguments or in the input are
    reported on one line with status 2.

    Examples
    --------
    >>> main(["derive", "bce", "--format", "latex"])  # doctest: +ELLIPSIS
    % Logistic regression, binary cross-entropy (n features)
    ...
    0
    """
    parser = build_parser()
    args = parser.parse_args(argv)
    run: Command = args.run
    _cli_checks.ascii_fallback(sys.stdout)
    _cli_checks.ascii_fallback(sys.stderr)
    try:
        return run(args)
    except KeyboardInterrupt:
        return _cli_checks.interrupted(args.command)
    except MemoryError:
        parser.exit(2, f"derivreg {args.command}: error: out of memory; lower --samples\n")
    except (ValueError, OSError, FloatingPointError) as err:
        parser.exit(2, f"derivreg {args.command}: error: {err}\n")
    return 2  # pragma: no cover - parser.exit raises


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
