"""Render derivations and proofs as LaTeX, Markdown or plain Unicode text.

One renderer serves both :class:`~derivreg.symbolic.Derivation` and the
proofs of :mod:`derivreg.proof`: each is turned into :class:`Block` s of
:class:`Row` s (``lhs = rhs_1 = rhs_2 ...`` with a reason), and
:func:`render` prints blocks in one of three formats.

Examples
--------
>>> from derivreg import derive
>>> print(render(derive("bce"), "text").splitlines()[0])
Logistic regression, binary cross-entropy (n features)
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Literal, Protocol, runtime_checkable

import sympy as sp

from derivreg._printing import latex, text
from derivreg.symbolic import STAGES, Derivation

__all__ = ["FORMATS", "Block", "Row", "blocks", "latex", "render", "text"]

Format = Literal["text", "latex", "markdown"]
#: The output formats :func:`render` knows.
FORMATS: tuple[Format, ...] = ("text", "latex", "markdown")

#: How each step label reads on the slides: (LaTeX, Unicode text).
QUANTITIES: dict[str, tuple[str, str]] = {
    "z": ("z", "z"),
    "yhat": (r"\hat{y}", "ŷ"),
    "J": ("J", "J"),
    "dJ_dyhat": (r"\frac{\partial J}{\partial \hat{y}}", "∂J/∂ŷ"),
    "dyhat_dz": (r"\frac{\partial \hat{y}}{\partial z}", "∂ŷ/∂z"),
    "dz_dw": (r"\frac{\partial z}{\partial \vec{w}}", "∂z/∂w"),
    "dz_db": (r"\frac{\partial z}{\partial b}", "∂z/∂b"),
    "dJ_dz": (r"\frac{\partial J}{\partial z}", "∂J/∂z"),
    "dJ_dw": (r"\frac{\partial J}{\partial \vec{w}}", "∂J/∂w"),
    "dJ_db": (r"\frac{\partial J}{\partial b}", "∂J/∂b"),
    "step_w": (r"\vec{w}", "w"),
    "step_b": ("b", "b"),
    "update_w": (r"\vec{w}", "w"),
    "update_b": ("b", "b"),
    "d2J_dz2": (r"\frac{\partial^{2} J}{\partial z^{2}}", "∂²J/∂z²"),
    "curvature_bound": (r"\sup \frac{\partial^{2} J}{\partial z^{2}}", "sup ∂²J/∂z²"),
}

#: The rule an update step applies, as the slides write it.
RULES: dict[str, tuple[str, str]] = {
    "step_w": (
        r"\vec{w} - \alpha \left(\frac{\partial J}{\partial \vec{w}}\right)^{T}",
        "w - α·(∂J/∂w)ᵀ",
    ),
    "step_b": (r"b - \alpha \frac{\partial J}{\partial b}", "b - α·∂J/∂b"),
}


#: The same rules in the 1-feature form, where ``w`` is a scalar.
SCALAR_RULES: dict[str, tuple[str, str]] = {
    "step_w": (r"w - \alpha \frac{\partial J}{\partial w}", "w - α·∂J/∂w"),
}


def _scalar_tex(tex: str) -> str:
    r"""Write the n-vectors ``\vec{x}``, ``\vec{w}`` of a quantity's name as scalars."""
    return tex.replace(r"\vec{w}", "w").replace(r"\vec{x}", "x")


@dataclass(frozen=True)
class Row:
    """One displayed line: ``lhs = rhs[0] = rhs[1] ...``, with a reason.

    Parameters
    ----------
    lhs : str or sympy.Basic
        The quantity, as (LaTeX, text) strings or an expression.
    rhs : sequence of sympy.Basic or (str, str)
        The expressions it equals, in order.  A pair of strings stands for
        a product of named quantities, already written out.
    reason : str
        Why the row holds.
    relation : str
        ``"="`` for an equation, ``":="`` for an assignment; proofs also use
        ``"≤"``, ``"<"``, ``"≥"``, ``">"``, ``"≠"`` and ``" "`` (a chain's start).

    Examples
    --------
    >>> from derivreg.symbolic import y, yhat
    >>> row = Row(("J", "J"), [(y - yhat) ** 2], "the loss")
    >>> row.reason
    'the loss'
    """

    lhs: tuple[str, str] | sp.Basic
    rhs: Sequence[sp.Basic | tuple[str, str]]
    reason: str = ""
    relation: str = "="


@dataclass(frozen=True)
class Block:
    """A titled group of rows: a stage of a derivation, or one proof.

    Examples
    --------
    >>> Block("Forward propagation", ()).title
    'Forward propagation'
    """

    title: str
    rows: Sequence[Row]
    note: str = ""


@runtime_checkable
class Renderable(Protocol):
    """Anything that can be rendered: it turns itself into blocks."""

    def blocks(self) -> Sequence[Block]: ...  # pragma: no cover


def _side(item: sp.Basic | tuple[str, str], fmt: Format) -> str:
    if isinstance(item, tuple):
        return item[0] if fmt != "text" else item[1]
    return latex(item) if fmt != "text" else text(item)


def blocks(derivation: Derivation) -> list[Block]:
    """Turn a derivation into one block per stage, in the lecture's order.

    Chain-rule rows show the product of the named factors, then the
    factors' expressions multiplied, then the simplified result, as the
    slides do.

    Examples
    --------
    >>> from derivreg import derive
    >>> [b.title for b in blocks(derive("mse"))][:2]
    ['Forward propagation', 'Local partial derivatives']
    """
    scalar = derivation.features == 1

    def quantity(label: str) -> tuple[str, str]:
        # The 1-feature form has scalars x and w: no arrows, no transpose.
        tex, plain = QUANTITIES.get(label, (label, label))
        return (_scalar_tex(tex), plain) if scalar else (tex, plain)

    out: list[Block] = []
    for stage, title in STAGES.items():
        rows = []
        for step in derivation.steps:
            if step.stage != stage:
                continue
            rhs: list[sp.Basic | tuple[str, str]] = []
            if step.factors:
                names = [quantity(f) for f in step.factors]
                rhs.append((" ".join(n[0] for n in names), " · ".join(n[1] for n in names)))
                exprs = [derivation.step(f).expr for f in step.factors]
                if all(not isinstance(e, sp.MatrixExpr) for e in exprs):
                    rhs.append(
                        (
                            r" \cdot ".join(_paren(latex(e)) for e in exprs),
                            " · ".join(_paren(text(e)) for e in exprs),
                        )
                    )
            if step.label in RULES:
                rhs.append(
                    SCALAR_RULES.get(step.label, RULES[step.label]) if scalar else RULES[step.label]
                )
            rhs.append(step.expr)
            lhs = quantity(step.label)
            relation = ":=" if step.stage == "update" else "="
            rows.append(Row(lhs, rhs, step.reason, relation))
        out.append(Block(title, rows))
    return out


def _paren(s: str) -> str:
    bare = s.startswith("-") or ((" + " in s or " - " in s) and not s.startswith(r"\frac"))
    return f"({s})" if bare and not s.startswith("(") else s


def _heading(obj: Derivation | Renderable) -> str:
    if isinstance(obj, Derivation):
        form = "1 feature" if obj.features == 1 else "n features"
        return f"{obj.title} ({form})"
    return getattr(obj, "title", type(obj).__name__)


def render(obj: Derivation | Renderable | Iterable[Block], fmt: Format = "text") -> str:
    """Render a derivation, a proof, or blocks in the given format.

    Parameters
    ----------
    obj : Derivation, object with ``blocks()``, or iterable of Block
        What to render.
    fmt : {"text", "latex", "markdown"}
        Plain Unicode for a terminal, LaTeX (``align*`` environments) for
        papers and MathJax, or Markdown with ``$$`` display math.

    Returns
    -------
    str

    Examples
    --------
    >>> from derivreg import derive
    >>> out = render(derive("bce", features=1), "text")
    >>> [line.strip() for line in out.splitlines() if line.strip().startswith("∂J/∂z")][0]
    '∂J/∂z = ∂J/∂ŷ · ∂ŷ/∂z = (-(y - ŷ)/(ŷ·(1 - ŷ))) · (ŷ·(1 - ŷ)) = ŷ - y'
    """
    if fmt not in FORMATS:
        raise ValueError(f"unknown format {fmt!r}; known formats: {', '.join(FORMATS)}")
    if isinstance(obj, Derivation):
        heading, groups = _heading(obj), blocks(obj)
    elif isinstance(obj, Renderable):  # it has a blocks() method
        heading, groups = _heading(obj), list(obj.blocks())
    else:
        heading, groups = "", list(obj)
    writer = {"text": _to_text, "latex": _to_latex, "markdown": _to_markdown}[fmt]
    return writer(heading, groups)


def _to_text(heading: str, groups: Sequence[Block]) -> str:
    lines = [heading, "=" * len(heading)] if heading else []
    for group in groups:
        lines += ["", group.title, "-" * len(group.title)]
        if group.note:
            lines.append(group.note)
        cells = [(_side(r.lhs, "text"), r) for r in group.rows]
        width = max((len(c) for c, _ in cells), default=0)
        for lhs, row in cells:
            body = " = ".join(_side(item, "text") for item in row.rhs)
            lines.append(f"  {lhs.rjust(width)} {row.relation} {body}")
            if row.reason:
                lines.append(f"  {'':>{width}}   ({_transpose(row.reason)})")
    return "\n".join(lines) + "\n"


def _latex_rows(group: Block) -> str:
    body = []
    for row in group.rows:
        lhs = row.lhs[0] if isinstance(row.lhs, tuple) else latex(row.lhs)
        rhs = " \\\\\n  &= ".join(_side(item, "latex") for item in row.rhs)
        reason = f" && {_math_text(row.reason)}" if row.reason else ""
        rel = _LATEX_RELATIONS.get(row.relation, row.relation)
        body.append(f"  {lhs} &{rel} {rhs}{reason}")
    return "\\begin{align*}\n" + " \\\\\n".join(body) + "\n\\end{align*}"


#: Relations as LaTeX; any other relation (``=``, ``<``, ``>``, blank) prints as itself.
_LATEX_RELATIONS = {":=": r"\mathrel{:=}", "≤": r"\le", "≥": r"\ge", "≠": r"\ne"}

_LATEX_ESCAPES = {
    "\\": r"\backslash ",
    "_": r"\_",
    "^": r"\^{}",
    "&": r"\&",
    "%": r"\%",
    "#": r"\#",
}


def _escape(s: str) -> str:
    for char in "\\_^&%#":
        s = s.replace(char, _LATEX_ESCAPES[char])
    return s


def _transpose(s: str) -> str:
    """Prose with ``^T`` written as the superscript ``ᵀ``, as the expressions print it."""
    return s.replace("^T", "ᵀ")


def _math_text(s: str) -> str:
    r"""Prose inside display math: ``\text{...}``, with ``^T`` as a real superscript.

    MathJax's ``\text`` knows no ``\^{}``, so a transpose written ``^T`` in
    a reason leaves text mode for ``^{T}``.

    Examples
    --------
    >>> _math_text("w - alpha (dJ/dw)^T, a column")
    '\\text{w - alpha (dJ/dw)}^{T}\\text{, a column}'
    """
    parts = s.replace("ᵀ", "^T").split("^T")
    return "^{T}".join(rf"\text{{{_escape(part)}}}" if part else "" for part in parts)


def _to_latex(heading: str, groups: Sequence[Block]) -> str:
    parts = [f"% {heading}"] if heading else []
    for group in groups:
        parts.append(f"\\paragraph{{{_escape(group.title)}}}")
        if group.note:
            parts.append(_escape(group.note))
        parts.append(_latex_rows(group))
    return "\n".join(parts) + "\n"


def _to_markdown(heading: str, groups: Sequence[Block]) -> str:
    parts = [f"# {heading}"] if heading else []
    for group in groups:
        parts.append(f"## {group.title}")
        if group.note:
            parts.append(group.note)
        for row in group.rows:
            lhs = row.lhs[0] if isinstance(row.lhs, tuple) else latex(row.lhs)
            rhs = " = ".join(_side(item, "latex") for item in row.rhs)
            rel = _LATEX_RELATIONS.get(row.relation, row.relation)
            parts.append(f"$$ {lhs} {rel} {rhs} $$")
            if row.reason:
                parts.append(f"*{_transpose(row.reason)}*")
    return "\n\n".join(parts) + "\n"
