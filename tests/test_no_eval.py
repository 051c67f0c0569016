"""No code is run from text: eval, exec, sympify, parse_expr and lambdify, allow-listed.

An ast walk over every module of ``derivreg/`` (not a grep: strings and
comments do not count, aliases and attribute calls do).  Each kind is allowed
in at most one place, which says in a comment beside the call why it is safe.
"""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
KINDS = ("eval", "exec", "sympify", "parse_expr", "lambdify")

#: kind -> (file, function): the one place each may be called, commented there.
ALLOWED = {
    # codegen.compile(): runs only the generator's own output, gated (runtime.gate)
    "exec": ("derivreg/codegen/runtime.py", "_run"),
    # derivreg.testing's references: a derivation's expressions, their names checked
    "lambdify": ("derivreg/testing/_reference.py", "_lambdify"),
}


def calls(path):
    """(kind, enclosing function, line) of every call or import of a listed kind."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found = []

    def visit(node, function):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            function = node.name
        if isinstance(node, ast.Call):
            func = node.func
            name = func.id if isinstance(func, ast.Name) else getattr(func, "attr", None)
            if name in KINDS or (name == "S" and isinstance(func, ast.Attribute)):
                found.append(("sympify" if name == "S" else name, function, node.lineno))
        if isinstance(node, ast.ImportFrom):
            found.extend((a.name, function, node.lineno) for a in node.names if a.name in KINDS)
        for child in ast.iter_child_nodes(node):
            visit(child, function)

    visit(tree, None)
    return found


def every_call():
    for path in sorted((ROOT / "derivreg").rglob("*.py")):
        rel = path.relative_to(ROOT).as_posix()
        for kind, function, line in calls(path):
            yield rel, kind, function, line


def test_no_eval_exec_sympify_parse_expr_or_lambdify_outside_the_allowed_places():
    offending = [
        f"{rel}:{line}: {kind}() in {function}"
        for rel, kind, function, line in every_call()
        if ALLOWED.get(kind) != (rel, function)
    ]
    assert offending == []


@pytest.mark.parametrize("kind", sorted(ALLOWED))
def test_each_allowed_place_is_used_and_says_why_it_is_safe(kind):
    rel, function = ALLOWED[kind]
    lines = (ROOT / rel).read_text(encoding="utf-8").splitlines()
    places = [line for r, k, f, line in every_call() if (r, k, f) == (rel, kind, function)]
    assert len(places) == 1, f"{kind} must be called exactly once in {rel}::{function}"
    nearby = "\n".join(lines[places[0] - 4 : places[0]])
    assert "# " in nearby
    assert "safe because" in nearby.lower(), f"say beside the {kind} why it is safe"


def test_the_lint_catches_aliases_and_attribute_calls(tmp_path):
    source = tmp_path / "bad.py"
    source.write_text(
        "import sympy as sp\nfrom sympy import sympify as s\n"
        "def f(t):\n    return sp.sympify(t), sp.S(t), eval(t), sp.lambdify([], t)\n",
        encoding="utf-8",
    )
    assert sorted(kind for kind, _, _ in calls(source)) == [
        "eval",
        "lambdify",
        "sympify",
        "sympify",
        "sympify",
    ]
