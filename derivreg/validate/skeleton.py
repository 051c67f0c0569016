r"""Compare a parsed module with the generator's own, node for node, except at the holes.

The generator knows the exact module it prints (:class:`~derivreg.codegen.
templates.Printed`).  Its parse tree is the *skeleton*: every statement,
signature, decorator list, annotation, default, keyword-only argument,
module constant, import and docstring must be the same in the module under
validation.  Only the printed right-hand sides (the holes) may differ; they
are returned, paired with what belongs there, for :mod:`~derivreg.validate.
holes` to prove.

Examples
--------
>>> import ast
>>> from derivreg.codegen.templates import Hole
>>> reference = ast.parse("def f(z):\n    t = z\n    return t")
>>> holes = mark(reference, [Hole("f", "t", ("z",), None, None)])
>>> found = compare(ast.parse("def f(z):\n    t = 1 * z\n    return t"), reference, holes)
>>> [ast.unparse(node) for node, _ in found]
['1 * z']
>>> decorated = ast.parse("@g\ndef f(z):\n    t = z\n    return t")
>>> compare(decorated, reference, holes)  # doctest: +ELLIPSIS
Traceback (most recent call last):
...
derivreg.validate.report.ValidationError: line 1: f: the decorators differ: ... found `g`
"""

from __future__ import annotations

import ast
from collections.abc import Iterator, Mapping, Sequence

from derivreg.codegen.templates import Hole
from derivreg.validate.report import ValidationError

__all__ = ["compare", "mark", "statements"]

#: How a differing field is named in a rejection.
_FIELD_WORDS = {
    "decorator_list": "the decorators differ",
    "returns": "the return annotation differs",
    "annotation": "an annotation differs",
    "kwonlyargs": "the keyword-only arguments differ",
    "kw_defaults": "the keyword-only defaults differ",
    "defaults": "the defaults differ",
    "keywords": "the keyword arguments differ",
    "posonlyargs": "the positional-only arguments differ",
    "vararg": "the *args differ",
    "kwarg": "the **kwargs differ",
    "body": "the statements differ",
    "orelse": "the else branch differs",
    "targets": "the assignment targets differ",
    "value": "the value differs",
    "names": "the imported names differ",
    "id": "the names differ",
    "attr": "the attributes differ",
    "arg": "the argument names differ",
    "args": "the arguments differ",
    "left": "an operand differs",
    "right": "an operand differs",
    "operand": "an operand differs",
    "elts": "the elements differ",
    "slice": "the index differs",
    "func": "the function called differs",
    "test": "the condition differs",
    "iter": "the loop range differs",
    "target": "the target differs",
    "op": "the operator differs",
    "ops": "the operator differs",
    "comparators": "a compared value differs",
}


def statements(body: Sequence[ast.stmt]) -> Iterator[ast.stmt]:
    """Every statement of ``body``, nested ones included, in source order."""
    for stmt in body:
        yield stmt
        for name in ("body", "orelse"):
            yield from statements(getattr(stmt, name, []))


def mark(reference: ast.Module, holes: Sequence[Hole]) -> dict[int, Hole]:
    """Find each hole's expression in the generator's own tree, by ``id``.

    The holes are listed in the order they are printed; in each function,
    the n-th hole is the value of the n-th assignment to its target.
    """
    found: dict[int, Hole] = {}
    functions = {f.name: f for f in reference.body if isinstance(f, ast.FunctionDef)}
    pending: dict[str, list[Hole]] = {}
    for hole in holes:
        pending.setdefault(hole.function, []).append(hole)
    for name, queue in pending.items():
        for stmt in statements(functions[name].body):
            if not queue:
                break
            match stmt:
                case ast.Assign(targets=[ast.Name(id=target)], value=value) if (
                    target == queue[0].target
                ):
                    hole = queue.pop(0)
                    found[id(value.args[1] if hole.fill else value)] = hole  # type: ignore[attr-defined]
        if queue:
            raise AssertionError(f"generator bug: holes {queue} not found in {name}")
    return found


#: Fields whose name says more than any field below them (a default deep in a signature).
_STICKY = frozenset(
    {"decorator_list", "returns", "annotation", "kwonlyargs", "kw_defaults", "defaults"}
    | {"keywords", "posonlyargs", "vararg", "kwarg", "targets", "names"}
)


def _show(node: object) -> str:
    if isinstance(node, list):
        return ", ".join(_show(n) for n in node)
    if isinstance(node, ast.AST):
        return (ast.unparse(node).splitlines() or [type(node).__name__])[0]
    return "" if node is None else repr(node)


class _Comparison:
    """One walk over two trees, collecting the holes and stopping at a difference."""

    def __init__(self, holes: Mapping[int, Hole]) -> None:
        self.holes = holes
        self.found: list[tuple[ast.expr, Hole]] = []
        #: the innermost candidate statement, shown as the context of a difference
        self.statement: ast.AST | None = None

    def fail(self, line: object, where: str, what: str, ref: object, got: object) -> None:
        expected, found = _show(ref), _show(got)
        context = _show(self.statement)
        within = f" in `{context}`" if context and context not in (found, "") else ""
        raise ValidationError(
            f"line {line}: {where}{what}: the generator prints "
            f"{f'`{expected}`' if expected else 'none'}, "
            f"found {f'`{found}`' if found else 'none'}{within}"
        )

    def node(  # noqa: PLR0917
        self, ref: ast.AST, got: object, line: object, where: str, words: str, sticky: bool
    ) -> None:
        if id(ref) in self.holes:
            if not isinstance(got, ast.expr):
                self.fail(line, where, "the printed expressions differ", ref, got)
            self.found.append((got, self.holes[id(ref)]))  # type: ignore[arg-type]
            return
        if type(ref) is not type(got):
            self.fail(line, where, words, ref, got)
        line = getattr(got, "lineno", line)
        if isinstance(ref, ast.stmt) and not isinstance(ref, ast.FunctionDef):
            self.statement = got  # type: ignore[assignment]
        if isinstance(ref, ast.FunctionDef | ast.ClassDef):
            where = f"{ref.name}: "
        match ref:
            case ast.Assign(targets=[ast.Name(id=name)]) if name.isupper() and not where:
                where = f"module constant {name}: "
        for field in ref._fields:
            if isinstance(ref, ast.FunctionDef) and field != "body":
                self.statement = None  # the signature: no statement to show
            a, b = getattr(ref, field), getattr(got, field)
            inner = words if sticky else _FIELD_WORDS.get(field, f"the {field} differs")
            keep = sticky or field in _STICKY
            if isinstance(a, list):
                self.sequence(a, b, line, where, inner, keep)
            elif isinstance(a, ast.AST):
                self.node(a, b, line, where, inner, keep)
            elif type(a) is not type(b) or a != b:
                self.fail(line, where, inner, ref if a is not None else a, got)

    def sequence(  # noqa: PLR0917
        self, a: list, b: object, line: object, where: str, words: str, sticky: bool
    ) -> None:
        if not isinstance(b, list):
            self.fail(line, where, words, a, b)
        assert isinstance(b, list)
        if len(a) != len(b):
            index = next(
                (i for i, (x, y) in enumerate(zip(a, b, strict=False)) if not self.same(x, y)),
                min(len(a), len(b)),
            )
            extra = b[index:] if len(b) > len(a) else a[index:]
            at = getattr(extra[0], "lineno", line) if len(b) > len(a) else line
            kind = "an extra" if len(b) > len(a) else "a missing"
            if not a:
                self.fail(at, where, words, None, extra[0])
            raise ValidationError(f"line {at}: {where}{words}: {kind} `{_show(extra[0])}`")
        for x, y in zip(a, b, strict=True):
            if isinstance(x, ast.AST):
                self.node(x, y, getattr(y, "lineno", line), where, words, sticky)
            elif type(x) is not type(y) or x != y:
                self.fail(line, where, words, a, b)

    def same(self, a: object, b: object) -> bool:
        try:
            _Comparison(self.holes).node(a, b, 0, "", "", False)  # type: ignore[arg-type]
        except ValidationError:
            return False
        return True


def compare(
    candidate: ast.Module, reference: ast.Module, holes: Mapping[int, Hole]
) -> list[tuple[ast.expr, Hole]]:
    """Require ``candidate`` to be ``reference`` outside the holes; return the holes found.

    Raises
    ------
    ValidationError
        At the first difference, naming its line and what differs.
    """
    comparison = _Comparison(holes)
    comparison.node(reference, candidate, 1, "", "the statements differ", False)
    return comparison.found
