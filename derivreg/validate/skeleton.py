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
    "decorator_list": "the decorators",
    "returns": "the return annotation",
    "annotation": "an annotation",
    "kwonlyargs": "the keyword-only arguments",
    "kw_defaults": "the keyword-only defaults",
    "defaults": "the defaults",
    "keywords": "the keyword arguments",
    "posonlyargs": "the positional-only arguments",
    "vararg": "the *args",
    "kwarg": "the **kwargs",
    "body": "the statements",
    "orelse": "the else branch",
    "targets": "the assignment targets",
    "value": "the value",
    "names": "the imported names",
    "id": "the names",
    "attr": "the attributes",
    "arg": "the argument names",
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


class _Comparison:
    """One walk over two trees, collecting the holes and stopping at a difference."""

    def __init__(self, holes: Mapping[int, Hole]) -> None:
        self.holes = holes
        self.found: list[tuple[ast.expr, Hole]] = []
        #: the innermost statements being compared, shown when a name or value differs
        self.statements: tuple[ast.AST, ast.AST] | None = None

    def fail(self, line: object, where: str, what: str, ref: object, got: object) -> None:
        def show(node: object) -> str:
            if isinstance(node, list):
                return ", ".join(show(n) for n in node) if node else ""
            if isinstance(node, ast.AST):
                return (ast.unparse(node).splitlines() or [type(node).__name__])[0]
            return repr(node)

        expected, found = show(ref), show(got)
        expected = f"`{expected}`" if expected else "none"
        found = f"`{found}`" if found else "none"
        raise ValidationError(
            f"line {line}: {where}{what} differ: the generator prints {expected}, found {found}"
        )

    def node(self, ref: ast.AST, got: object, line: object, where: str) -> None:
        if id(ref) in self.holes:
            if not isinstance(got, ast.expr):
                self.fail(line, where, "the printed expressions", ref, got)
            self.found.append((got, self.holes[id(ref)]))  # type: ignore[arg-type]
            return
        if type(ref) is not type(got):
            if isinstance(ref, ast.operator | ast.cmpop | ast.unaryop | ast.boolop):
                self.fail(line, where, "the operators", *(self.statements or (ref, got)))
            self.fail(line, where, "the statements", ref, got)
        line = getattr(got, "lineno", line)
        if isinstance(ref, ast.stmt) and not isinstance(ref, ast.FunctionDef):
            self.statements = (ref, got)  # type: ignore[assignment]
        if isinstance(ref, ast.FunctionDef | ast.ClassDef):
            where = f"{ref.name}: "
        for field in ref._fields:
            a, b = getattr(ref, field), getattr(got, field)
            words = _FIELD_WORDS.get(field, f"the {field}")
            if isinstance(a, list):
                self.sequence(a, b, line, where, words)
            elif isinstance(a, ast.AST):
                if not isinstance(b, ast.AST):
                    self.fail(line, where, words, a, b)
                self.node(a, b, line, where)
            elif a is None and b is not None:
                self.fail(line, where, words, a, b)
            elif type(a) is not type(b) or a != b:
                shown = self.statements or (ref, got)
                self.fail(line, where, words, *shown)

    def sequence(self, a: list, b: list, line: object, where: str, words: str) -> None:
        if len(a) != len(b):
            index = next(
                (i for i, (x, y) in enumerate(zip(a, b, strict=False)) if not self.same(x, y)),
                min(len(a), len(b)),
            )
            extra = b[index:] if len(b) > len(a) else a[index:]
            at = getattr(extra[0], "lineno", line) if len(b) > len(a) else line
            kind = "an extra" if len(b) > len(a) else "a missing"
            shown = ast.unparse(extra[0]) if isinstance(extra[0], ast.AST) else repr(extra[0])
            raise ValidationError(
                f"line {at}: {where}{words} differ: {kind} `{shown.splitlines()[0]}`"
                if a
                else f"line {at}: {where}{words} differ: the generator prints none, "
                f"found `{shown.splitlines()[0]}`"
            )
        for x, y in zip(a, b, strict=True):
            if isinstance(x, ast.AST):
                self.node(x, y, getattr(y, "lineno", line), where)
            elif type(x) is not type(y) or x != y:
                self.fail(line, where, words, a, b)

    def same(self, a: object, b: object) -> bool:
        try:
            _Comparison(self.holes).node(a, b, 0, "")  # type: ignore[arg-type]
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
    comparison.node(reference, candidate, 1, "")
    return comparison.found
