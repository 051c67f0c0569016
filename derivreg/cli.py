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

__all__ = ["main"]

Command = Callable[[argparse.Namespace], int]


class _Parser(argparse.ArgumentParser):
    """An argument parser whose errors are one line and exit 2."""

    def error(self, message: str) -> None:  # type: ignore[override]
        self.exit(2, f"{self.prog}: error: {message}\n")


def _derive(args: argparse.Namespace) -> int:
    from derivreg.render import render
    from derivreg.symbolic import derive

    features = 1 if args.features == "1" else "n"
    sys.stdout.write(render(derive(args.loss, features=features), args.format))
    return 0


def build_parser() -> argparse.ArgumentParser:
    """Build the argument parser of the ``derivreg`` command.

    Examples
    --------
    >>> build_parser().parse_args(["derive", "bce"]).loss
    'bce'
    """
    from derivreg.symbolic import REGISTRY

    parser = _Parser(
        prog="derivreg",
        description="Derive, generate, verify and train linear and logistic regression.",
    )
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    p = sub.add_parser("derive", help="print the chain-rule derivation of a loss")
    p.add_argument("loss", choices=sorted(REGISTRY), help="registered (activation, loss) pair")
    p.add_argument("--format", choices=("text", "latex", "markdown"), default="text")
    p.add_argument(
        "--features", choices=("1", "n"), default="n", help="1-feature or n-feature form"
    )
    p.set_defaults(run=_derive)
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
    try:
        return run(args)
    except (ValueError, OSError) as err:
        parser.exit(2, f"derivreg {args.command}: error: {err}\n")
    return 2  # pragma: no cover - parser.exit raises


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
