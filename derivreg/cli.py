"""The ``derivreg`` command line.

This module is its grammar: the subcommands, their options and their help,
and :func:`main`, which runs one.  What each subcommand does is a small
function of :mod:`derivreg._cli_commands`.  Argument errors print one line
and exit with status 2, as :mod:`argparse` does.

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
from typing import Any

from derivreg import _cli_checks
from derivreg import _cli_commands as _run
from derivreg._cli_commands import MINORITY_WARNING  # noqa: F401 - was defined here

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


def _positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive number, got {text!r}") from None
    if not (0 < value < float("inf")):
        raise argparse.ArgumentTypeError(f"expected a finite positive number, got {text!r}")
    return value


def build_parser() -> argparse.ArgumentParser:
    """Build the argument parser of the ``derivreg`` command.

    Examples
    --------
    >>> build_parser().parse_args(["derive", "bce"]).loss
    'bce'
    """
    from derivreg import __version__

    parser = _Parser(
        prog="derivreg",
        description="Derive, generate, verify and train linear and logistic regression "
        "(Lecture 4: Linear/Logistic Regression).",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    for add in (_add_derive, _add_generate, _add_verify, _add_lecture, _add_train):
        add(sub)
    return parser


def _add_derive(sub: Any) -> None:
    from derivreg.kernels import KERNELS  # NumPy only: the CLI never pays for SymPy up front

    losses = "{" + ",".join(sorted(KERNELS)) + "}"
    p = sub.add_parser("derive", help="print the chain-rule derivation of a loss")
    p.add_argument("loss", metavar=losses, help="registered (activation, loss) pair")
    p.add_argument(
        "--format", choices=("text", "latex", "markdown"), default="text", help="output format"
    )
    p.add_argument(
        "--features", choices=("1", "n"), default="n", help="1-feature or n-feature form"
    )
    p.set_defaults(run=_run.derive)


def _add_generate(sub: Any) -> None:
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
    p.set_defaults(run=_run.generate)


def _add_verify(sub: Any) -> None:
    p = sub.add_parser(
        "verify", help="check every proof (kernels included) and that the kernels are fresh"
    )
    p.add_argument(
        "--proofs",
        help="directory of proof files (default: the proofs installed with derivreg, "
        "derivreg/proof/families, which is proofs/ in a checkout)",
    )
    p.set_defaults(run=_run.verify)


def _add_lecture(sub: Any) -> None:
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
    p.set_defaults(run=_run.lecture)


def _add_train(sub: Any) -> None:
    p = sub.add_parser("train", help="train on generated data with your own settings")
    p.add_argument(
        "model", choices=("linear", "logistic", _run.vector_model()), help="which regression"
    )
    _add_sizes(p)  # in this order in --help: sizes, training, targets, output
    _add_training(p)
    _add_targets(p)
    p.add_argument(
        "--out", metavar="DIR", help="directory for the figures (required unless --no-plots)"
    )
    p.add_argument("--no-plots", action="store_true", help="print the table only, draw nothing")
    from derivreg._cli_dask import add_arguments  # --chunks, --store, --solver: out of core

    add_arguments(p)
    p.set_defaults(run=_run.train)


def _add_sizes(p: argparse.ArgumentParser) -> None:
    """``derivreg train``'s sizes of the drawn data set."""
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


def _add_training(p: argparse.ArgumentParser) -> None:
    """``derivreg train``'s settings of SGD: step, passes, batches, seed, order."""
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


def _add_targets(p: argparse.ArgumentParser) -> None:
    """``derivreg train``'s choice of how the drawn targets are made, per model."""
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
