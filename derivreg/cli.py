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


def _generate(args: argparse.Namespace) -> int:
    from derivreg import codegen

    if args.check:
        diff = codegen.check()
        if diff:
            sys.stdout.write(diff)
            sys.stderr.write(
                "derivreg generate: the checked-in kernels differ from a fresh generation; "
                "run `derivreg generate`\n"
            )
            return 1
        print("derivreg generate: kernels are up to date")  # noqa: T201
        return 0
    changed = codegen.write()
    for path in changed:
        print(f"wrote {path}")  # noqa: T201
    if not changed:
        print("derivreg generate: kernels were already up to date")  # noqa: T201
    return 0


def build_parser() -> argparse.ArgumentParser:
    """Build the argument parser of the ``derivreg`` command.

    Examples
    --------
    >>> build_parser().parse_args(["derive", "bce"]).loss
    'bce'
    """
    from derivreg.kernels import KERNELS  # NumPy only: the CLI never pays for SymPy up front

    losses = "{" + ",".join(sorted(KERNELS)) + "}"
    parser = _Parser(
        prog="derivreg",
        description="Derive, generate, verify and train linear and logistic regression.",
    )
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    p = sub.add_parser("derive", help="print the chain-rule derivation of a loss")
    p.add_argument("loss", metavar=losses, help="registered (activation, loss) pair")
    p.add_argument("--format", choices=("text", "latex", "markdown"), default="text")
    p.add_argument(
        "--features", choices=("1", "n"), default="n", help="1-feature or n-feature form"
    )
    p.set_defaults(run=_derive)

    p = sub.add_parser("generate", help="print the derivations as NumPy kernels")
    p.add_argument(
        "--check",
        action="store_true",
        help="exit 1 with a diff if the checked-in kernels differ from a fresh generation",
    )
    p.set_defaults(run=_generate)
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
