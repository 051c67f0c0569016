"""No code runs from input that is not code: titles, symbol names, validated sources.

Each route is tried with a payload that would create a file in ``tmp_path``;
the route must refuse (or neutralise) it, and the file must never appear.
"""

import ast
from dataclasses import replace

import numpy as np
import pytest
import sympy as sp

from derivreg import REGISTRY, codegen, derive
from derivreg.codegen import runtime
from derivreg.symbolic import squared_error
from derivreg.validate import ValidationError, validate


def payload(path):
    return f"__import__('pathlib').Path({str(path)!r}).touch()"


def titles(path):
    code = payload(path)
    return [
        f"x\n{code}\n#",  # a newline ends the header comment
        f'x"""\n{code}\n"""',  # triple quotes end the module docstring
        f"x\\\n{code}",  # a backslash continues a line
        f"x\r{code}",  # a carriage return is a line end too
        f'x\u2028{code}"""; {code}; """',
    ]


@pytest.mark.parametrize("case", range(5))
def test_code_in_a_pair_title_never_runs_through_compile(tmp_path, case):
    target = tmp_path / "pwned"
    title = titles(target)[case]
    pair = replace(REGISTRY["mse"], title=title)
    module = codegen.compile(derive(pair))
    assert not target.exists()
    # the title is prose: the docstring reads it back unchanged, and nothing else changed
    assert ast.get_docstring(ast.parse(module.__source__)).startswith(title)
    assert module.loss(np.ones((2, 1)), np.zeros(2), np.ones(1), 0.0) == 1.0
    assert not target.exists()


def test_a_symbol_whose_name_is_python_source_is_refused_before_printing(tmp_path):
    target = tmp_path / "pwned"
    evil = sp.Symbol(payload(target), real=True)
    pair = replace(REGISTRY["mse"], name="evil", loss=lambda y, yhat: squared_error(y, yhat) + evil)
    d = derive(pair)
    with pytest.raises(ValueError, match=r"cannot be printed: .* is not a Python identifier"):
        codegen.generate(d)
    with pytest.raises(ValueError, match="cannot be printed"):
        codegen.compile(d)
    assert not target.exists()


@pytest.mark.parametrize("name", ["__import__", "__builtins__", "class", "a b", "os.system"])
def test_pair_names_that_are_not_plain_identifiers_are_refused(name):
    # Twice: Pair refuses the name when it is made, and a Pair forced past that check
    # still meets the generator's own.
    with pytest.raises(ValueError, match="a pair's name must"):
        replace(REGISTRY["mse"], name=name)
    forced = replace(REGISTRY["mse"])
    object.__setattr__(forced, "name", name)
    with pytest.raises(ValueError, match=r"not a Python identifier|starts with '__'"):
        codegen.generate(derive(forced))


def test_compile_refuses_dunder_access_even_in_generator_output(tmp_path, monkeypatch):
    # Were a payload ever to reach the printed source, numpy.__builtins__ would be the way
    # out of the restricted builtins: the gate refuses it, and `np` is not the module.
    target = tmp_path / "pwned"
    escape = f"np.__builtins__['__import__']('pathlib').Path({str(target)!r}).touch()"
    original = runtime.generate
    monkeypatch.setattr(runtime, "generate", lambda d: original(d) + f"\n{escape}\n")
    with pytest.raises(ValueError, match="may not use '__builtins__'"):
        codegen.compile(derive("mse"))
    assert not target.exists()
    monkeypatch.undo()
    module = codegen.compile(derive("mse"))
    assert module.np is not np
    assert not hasattr(module.np, "__builtins__")
    assert not hasattr(module.np, "load")  # no pickle loading, no file access through np


@pytest.mark.parametrize(
    "escape",
    [
        "np.asarray.__self__",
        "_finite.__globals__",
        "getattr(np, 'load')",
        "np.lib",
        "__import__('os')",
    ],
)
def test_the_gate_refuses_every_route_out(escape):
    with pytest.raises(ValueError, match="generated code may not use"):
        runtime.gate(f"import numpy as np\nx = {escape}\n")


def checked_in(name):
    return (codegen.KERNEL_DIR / f"{name}.py").read_text(encoding="utf-8")


def test_validate_never_runs_string_constants(tmp_path):
    target = tmp_path / "pwned"
    code = repr(payload(target))
    source = checked_in("mse")
    edits = [
        ("dJ_dz = 2*(-y + z)", f"dJ_dz = {code}"),  # a printed expression
        ("np.full(np.shape(z), 1.0)", f"np.full(np.shape(z), {code})"),  # a printed constant
        ('_as_finite_scalar("lr", lr)', f"_as_finite_scalar({code}, lr)"),  # fixed code
        ("dJ_dz = 2*(-y + z)", f"dJ_dz = 2*(-y + z) + {code}"),
    ]
    reasons = [
        "a str constant where a number belongs",
        "a str constant where a number belongs",
        "update: the value differs: the generator prints `'lr'`",
        "a str constant where a number belongs",
    ]
    for (old, new), reason in zip(edits, reasons, strict=True):
        assert old in source
        with pytest.raises(ValidationError, match=reason):
            validate(source.replace(old, new, 1), derive("mse"))
        assert not target.exists()
