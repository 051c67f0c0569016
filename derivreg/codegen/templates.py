"""The fixed text of the generated modules, and the holes the printer fills.

A generated function is a template (signature, docstring, input checks,
fixed statements) with *holes*: the right-hand sides the printer writes from
the derivation.  Each :class:`Hole` records what belongs there (the stable
expression, the derivation's own, the rewrites between them), so that the
validator (:mod:`derivreg.validate`) can compare everything else exactly and
prove only the holes.

Examples
--------
>>> from derivreg.codegen.printers import KernelPrinter
>>> from derivreg.symbolic import y, z
>>> out = Output("dJ_dz", 2 * (z - y), 2 * (z - y))
>>> [b.lines for b in body([out], {"dJ_dz": "c"}, KernelPrinter(), ("z", "y"))]
[['dJ_dz = 2*(-y + z)']]
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

import sympy as sp

from derivreg.codegen.printers import KernelPrinter, LoopPrinter, comment, identifier
from derivreg.codegen.rules import expand_stable

__all__ = [
    "BLOCK_BYTES",
    "BLOCK_NOTE",
    "COMMAND",
    "GUARD",
    "MIN_BLOCK_ROWS",
    "CodeBlock",
    "Hole",
    "Output",
    "Printed",
    "body",
    "function",
    "merge",
]

#: The command that regenerates the kernels, named in every header.
COMMAND = "derivreg generate"

#: Row blocks of the batch gradient: about this many bytes of X per block
#: (the L2 cache of one core is 1 MiB on the benchmark machine), and at least
#: this many rows, so that NumPy's per-call overhead (about a microsecond per
#: call, a dozen calls per block) stays small next to the block's work.
BLOCK_BYTES = 1 << 20
MIN_BLOCK_ROWS = 256

#: The header's comment on the row blocks: their size, and why it does not depend
#: on the BLAS's thread count (measured by benchmarks/blocks.py).
BLOCK_NOTE = (
    "#: The batch gradient works on blocks of about BLOCK_BYTES of X, small enough",
    "#: to stay in a core's L2 cache between its two passes, and of at least",
    "#: MIN_BLOCK_ROWS rows, so that NumPy's per-call cost stays small.",
    "#: The same blocks with any number of BLAS threads, by measurement",
    "#: (benchmarks/blocks.py): OpenBLAS runs a product of X's rows under about",
    "#: 4 MiB on the calling thread (the same time per call with one and two",
    "#: threads), so these blocks start and wait for no BLAS thread.  From 4 MiB",
    "#: on, every call waits for a second thread (about 15 ms a call on a busy",
    "#: machine).  Unblocked passes, with temporaries m long, were slower with two",
    "#: threads at 8 features and for BCE at 64, faster only where the per-row",
    "#: work is small next to the row's read (MSE at 64, BCE at 256 features):",
    "#: there the textbook formula's two whole-X products use both cores where a",
    "#: block's products use one.",
    "#: The sigmoid's selection prints as np.maximum(t0, (z >= 0)), not np.where:",
    "#: np.where branches on each element, mispredicted on scores of random sign,",
    "#: which at 8 features took half of the gradient's time (benchmarks/blocks.py).",
)

#: The context the checked functions compute in.
GUARD = 'with np.errstate(divide="ignore", over="ignore", invalid="ignore"):'


@dataclass(frozen=True)
class Hole:
    """One printed right-hand side of a generated function.

    Attributes
    ----------
    function : str
        The generated function it is in.
    target : str
        The name it is assigned to.
    inputs : tuple of str
        The elementwise values in scope that it may read (e.g. ``("z", "y")``).
    stable : sympy.Basic or None
        The expression printed, after the stable rewrites (``None`` for a
        shared subexpression: only the outputs that use it are proven).
    original : sympy.Basic or None
        The derivation's expression, before any rewrite.
    rules : tuple of str
        The rewrites of :data:`~derivreg.codegen.rules.RULES` between the two.
    fill : bool
        Whether the hole is the constant of ``np.full(np.shape(like), value)``.

    Examples
    --------
    >>> Hole("dJ_dz", "t0", ("z",), None, None).target
    't0'
    """

    function: str
    target: str
    inputs: tuple[str, ...]
    stable: sp.Basic | None
    original: sp.Basic | None
    rules: tuple[str, ...] = ()
    fill: bool = False

    def with_function(self, name: str) -> Hole:
        """Return the same hole, placed in function ``name``."""
        return Hole(name, *(getattr(self, f) for f in _HOLE_FIELDS[1:]))


_HOLE_FIELDS = ("function", "target", "inputs", "stable", "original", "rules", "fill")


@dataclass(frozen=True)
class Output:
    """One output of a block: its name, its stable form and the derivation's form.

    Examples
    --------
    >>> Output("J", sp.Integer(0), sp.Integer(0)).rules
    ()
    """

    name: str
    stable: sp.Basic
    original: sp.Basic
    rules: tuple[str, ...] = ()


@dataclass
class CodeBlock:
    """Lines of a function body under one comment, and the holes among them."""

    comment: str
    lines: list[str]
    holes: list[Hole] = field(default_factory=list)


@dataclass(frozen=True)
class Printed:
    r"""Generated source and the holes in it, in the order they are printed.

    Examples
    --------
    >>> Printed("x = 1\\n").holes
    ()
    """

    source: str
    holes: tuple[Hole, ...] = ()


def body(
    outputs: Sequence[Output],
    comments: Mapping[str, str],
    printer: KernelPrinter | LoopPrinter,
    inputs: tuple[str, ...],
    like: str | None = None,
) -> list[CodeBlock]:
    """Print ``name = expr`` for each output, sharing subexpressions.

    An elementwise output that does not depend on its arguments is
    broadcast to the shape of argument ``like``.
    """
    names = [identifier(out.name) for out in outputs]
    if like is not None and len(outputs) == 1 and not outputs[0].stable.free_symbols:
        (out,) = outputs
        line = f"{names[0]} = np.full(np.shape({identifier(like)}), {float(out.stable)!r})"
        hole = Hole("", out.name, (), out.stable, out.original, out.rules, fill=True)
        return [CodeBlock(comments[names[0]], [line], [hole])]
    exprs = [expand_stable(out.stable, printer.sigmoid_form) for out in outputs]
    temps = sp.numbered_symbols("t")
    shared, reduced = sp.cse(exprs, symbols=temps, optimizations="basic", order="canonical")
    blocks: list[CodeBlock] = []
    if shared:
        lines = [f"{s} = {printer.doprint(e)}" for s, e in shared]
        holes = [Hole("", str(s), inputs, None, None) for s, _ in shared]
        blocks.append(CodeBlock("shared subexpressions", lines, holes))
    for out, name, expr in zip(outputs, names, reduced, strict=True):
        hole = Hole("", name, inputs, out.stable, out.original, out.rules)
        blocks.append(CodeBlock(comments[name], [f"{name} = {printer.doprint(expr)}"], [hole]))
    return blocks


def function(
    signature: str,
    doc: str,
    blocks: Iterable[CodeBlock],
    returns: str,
    prelude: Sequence[str] = (),
) -> Printed:
    """Print one generated function, with its holes.

    After the input checks (``prelude``) the body runs with NumPy's
    "invalid" warnings off: non-finite input is reported as a ValueError by
    ``_finite`` instead.
    """
    name = identifier(signature.split("(", 1)[0])
    lines = [f"def {signature}:", f'    """{doc}"""']
    lines += [f"    {line}" for line in prelude]
    indent = "    "
    if prelude:
        lines.append(f"{indent}{GUARD}")
        indent += "    "
    holes: list[Hole] = []
    for block in blocks:
        lines += [f"{indent}# {comment(c)}" for c in block.comment.splitlines()]
        lines += [f"{indent}{line}" for line in block.lines]
        holes += [hole.with_function(name) for hole in block.holes]
    lines.append(f"{indent}return {returns}")
    return Printed("\n".join(lines), tuple(holes))


def merge(blocks: list[CodeBlock]) -> list[CodeBlock]:
    """Fold comment-less blocks into the block before them."""
    out: list[CodeBlock] = []
    for block in blocks:
        if not block.comment and out:
            last = out[-1]
            out[-1] = CodeBlock(last.comment, last.lines + block.lines, last.holes + block.holes)
        else:
            out.append(block)
    return out
