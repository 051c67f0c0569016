r"""Run a generated module's fixed code on SymPy values, with its holes kept opaque.

Once the skeleton matches (:mod:`~derivreg.validate.skeleton`), the code
outside the holes is the generator's own: its block loop, its means, its
per-sample loop.  This interpreter runs that code on object arrays of SymPy
symbols (so slices are views and ``+=`` is in place, as in NumPy), with
each hole replaced by an opaque function of its inputs, ``hole_dJ_dz(z_i,
y_i)``: what the template computes is then an exact expression in those
functions, compared with what the derivation says of them.  The holes
themselves are proven separately (:mod:`~derivreg.validate.holes`).

Sizes are concrete integers, so every ``if`` and ``for`` on them is
followed exactly; the statements executed and the branches taken are
recorded, so that code no run reached is reported.  The values it handles
(sizes, opaque holes, unset entries, NumPy on object arrays) are
:mod:`~derivreg.validate._values`'s; what it takes each input check to
return, :mod:`~derivreg.validate.contracts`'s.

Examples
--------
>>> import ast
>>> interp = Interpreter(ast.parse("def f(z):\n    return 2 * z"), {})
>>> interp.call("f", [sp.Symbol("z")])
2*z
"""

from __future__ import annotations

import ast
from collections.abc import Mapping, Sequence

import numpy as np
import sympy as sp

from derivreg.codegen.templates import Hole
from derivreg.validate._values import (
    _BINARY,
    _NUMPY,
    _SIZE_COMPARE,
    _index,
    _Parallel,
    _shape,
    _size,
    _Text,
    _Tracked,
    _written,
    opaque,
)
from derivreg.validate.contracts import CONTRACTS
from derivreg.validate.report import ValidationError

__all__ = ["CONTRACTS", "Interpreter", "opaque"]


class Interpreter:
    """Evaluate a generated module's functions on SymPy values, statement by statement."""

    def __init__(
        self,
        tree: ast.Module,
        holes: Mapping[int, Hole],
        constants: Mapping[str, int] | None = None,
        executed: set[int] | None = None,
        branches: set[tuple[int, object]] | None = None,
    ) -> None:
        self.functions = {f.name: f for f in tree.body if isinstance(f, ast.FunctionDef)}
        self.constants: dict[str, object] = {}
        for node in tree.body:
            match node:
                case ast.Assign(targets=[ast.Name(id=name)], value=ast.Constant(value=value)):
                    self.constants[name] = value
                case ast.Assign(
                    targets=[ast.Name(id=name)],
                    value=ast.UnaryOp(op=ast.USub(), operand=ast.Constant(value=float(value))),
                ):  # a negative float constant (LOGLIK_SHIFT)
                    self.constants[name] = -value
                case ast.Assign(targets=[ast.Name(id=name)], value=ast.Tuple()):
                    self.constants[name] = _Text(name)  # a table handed to a check
        self.constants.update(constants or {})
        self.holes = holes
        self.executed = executed if executed is not None else set()
        self.branches = branches if branches is not None else set()
        self.tracked: _Tracked | None = None  # inside a prange iteration

    def call(
        self, name: str, args: Sequence[object], keywords: Mapping[str, object] | None = None
    ) -> object:
        """Run function ``name`` on ``args`` (and keyword-only ``keywords``); return its value."""
        if name in CONTRACTS:
            return CONTRACTS[name](list(args))
        fn = self.functions.get(name)
        if fn is None:
            raise ValidationError(f"call of unknown function {name!r}")
        env = dict(zip([a.arg for a in fn.args.args], args, strict=True))
        env.update(_keywords(fn, keywords or {}))
        try:
            found, value = self._run(fn.body, env)
        except (TypeError, ValueError, IndexError) as err:
            raise ValidationError(f"{name}: {type(err).__name__}: {err}") from None
        if not found:
            raise ValidationError(f"{name}: no return statement")
        return value

    def _run(self, body: Sequence[ast.stmt], env: dict[str, object]) -> tuple[bool, object]:
        for stmt in body:
            self.executed.add(id(stmt))
            match stmt:
                case ast.Expr(value=ast.Constant(value=str())):
                    continue
                case ast.Assign(targets=[target], value=value):
                    hole = self.holes.get(id(value))
                    if hole is not None and hole.stable is None:
                        continue  # a shared subexpression: only its outputs matter here
                    self._assign(target, self.value_of(value, env), env)
                case ast.AugAssign(target=target, op=op, value=value) if type(op) in (
                    ast.Add,
                    ast.Sub,
                ):
                    self._augment(target, op, self.value_of(value, env), env)
                case ast.Return(value=value) if value is not None:
                    return True, self.value_of(value, env)
                case ast.With() | ast.If() | ast.For():
                    found, result = self._compound(stmt, env)
                    if found:
                        return True, result
                case _:
                    raise ValidationError(f"unsupported statement {ast.unparse(stmt)!r}")
        return False, None

    def _compound(self, stmt: ast.stmt, env: dict[str, object]) -> tuple[bool, object]:
        if isinstance(stmt, ast.With):
            return self._run(stmt.body, env)
        if isinstance(stmt, ast.If):
            taken = self.value_of(stmt.test, env)
            if not isinstance(taken, bool):
                raise ValidationError(f"condition {ast.unparse(stmt.test)!r} is not on sizes")
            self.branches.add((id(stmt), taken))
            return self._run(stmt.body if taken else stmt.orelse, env)
        assert isinstance(stmt, ast.For)
        assert isinstance(stmt.target, ast.Name)
        iterations = self.value_of(stmt.iter, env)
        if isinstance(iterations, _Parallel):
            return self._parallel(stmt, iterations, env)
        for index in iterations:  # type: ignore[attr-defined]
            env[stmt.target.id] = index
            found, value = self._run(stmt.body, env)
            if found:
                return True, value
        return False, None

    def _parallel(
        self, stmt: ast.For, iterations: _Parallel, env: dict[str, object]
    ) -> tuple[bool, object]:
        """Run a ``prange`` loop; refuse any race between its iterations.

        numba may run the iterations on any threads in any order, so each must
        write only array elements no other iteration reads or writes, and no
        variable that lives outside the loop (a shared accumulator).  A
        ``return`` inside is refused, as numba refuses it.
        """
        if self.tracked is not None:
            raise ValidationError(f"line {stmt.lineno}: prange inside prange")
        outside = dict(env)
        assert isinstance(stmt.target, ast.Name)
        seen: list[_Tracked] = []
        for index in iterations.range:
            env[stmt.target.id] = index
            self.tracked = _Tracked()
            try:
                found, _ = self._run(stmt.body, env)
            finally:
                mine, self.tracked = self.tracked, None
            if found:
                raise ValidationError(f"line {stmt.lineno}: return inside a prange loop")
            for name, value in outside.items():
                if name != stmt.target.id and env.get(name) is not value:
                    raise ValidationError(
                        f"line {stmt.lineno}: prange iteration {index} assigns {name!r}, "
                        "a variable shared by every iteration (a race between threads)"
                    )
            for other in seen:
                shared = (mine.wrote & (other.wrote | other.read)) | (mine.read & other.wrote)
                if shared:
                    raise ValidationError(
                        f"line {stmt.lineno}: prange iterations share an array element "
                        f"one of them writes (index {sorted(i for _, i in shared)[0]}): "
                        "a race between threads"
                    )
            seen.append(mine)
        for name in list(env):  # names bound inside the loop are private to it
            if name not in outside:
                del env[name]
        return False, None

    def _assign(self, target: ast.expr, value: object, env: dict[str, object]) -> None:
        match target:
            case ast.Name(id=name):
                env[name] = value
            case ast.Tuple(elts=elts) if isinstance(value, tuple):
                for t, v in zip(elts, value, strict=True):
                    self._assign(t, v, env)
            case ast.Subscript(value=container, slice=ast.Tuple(elts=elts)) if any(
                isinstance(e, ast.Slice) for e in elts
            ):
                self._assign_slices(container, elts, value, env)
            case ast.Subscript(value=container, slice=index):
                array = self.value_of(container, env)
                where = _index(self.value_of(index, env))
                if not isinstance(array, np.ndarray) or array.ndim != (
                    len(where) if isinstance(where, tuple) else 1
                ):
                    raise ValidationError(f"unsupported assignment to {ast.unparse(target)!r}")
                if self.tracked is not None:
                    self.tracked.wrote.add((id(array), where))
                array[where] = value
            case _:
                raise ValidationError(f"unsupported assignment to {ast.unparse(target)!r}")

    def _assign_slices(
        self, container: ast.expr, elts: list[ast.expr], value: object, env: dict[str, object]
    ) -> None:
        """Assign ``A[:, :n] = B``, a block of a 2-D array, as NumPy does (shapes must agree)."""
        array = self.value_of(container, env)
        if self.tracked is not None or not isinstance(array, np.ndarray) or array.ndim != len(elts):
            raise ValidationError(f"unsupported assignment to {ast.unparse(container)}[...]")
        where: list[int | slice] = []
        for e in elts:
            if not isinstance(e, ast.Slice):
                where.append(_size(self.value_of(e, env)))
                continue
            if e.step is not None:
                raise ValidationError(f"a slice with a step: {ast.unparse(e)!r}")
            lo, hi = (
                None if b is None else _size(self.value_of(b, env)) for b in (e.lower, e.upper)
            )
            where.append(slice(lo, hi))
        target = array[tuple(where)]
        if _shape(value) not in ((), target.shape):  # no broadcasting beyond a scalar
            raise ValidationError(f"shapes differ in {ast.unparse(container)}[...] = ...")
        array[tuple(where)] = value

    def _augment(
        self, target: ast.expr, op: ast.operator, value: object, env: dict[str, object]
    ) -> None:
        old = self.value_of(target, env)
        if isinstance(old, np.ndarray):  # in place, as NumPy does on float arrays
            if _shape(value) not in ((), old.shape):
                raise ValidationError(f"shapes differ in {ast.unparse(target)} {op}= ...")
            if isinstance(op, ast.Add):
                old += value
            else:
                old -= value
            return
        self._assign(target, _BINARY[type(op)](old, value), env)

    def _call(self, node: ast.Call, env: Mapping[str, object]) -> object:  # noqa: PLR0911
        args = [self.value_of(a, env) for a in node.args]
        # evaluated, as Python does; the contracts ignore them
        keywords: dict[str, object] = {}
        for k in node.keywords:
            if k.arg is None:  # never generated: refused, not passed on as a key None
                raise ValidationError(f"unsupported ** argument in {ast.unparse(node)!r}")
            keywords[k.arg] = self.value_of(k.value, env)
        match node.func:
            case ast.Attribute(value=ast.Name(id="np"), attr=attr) if attr in _NUMPY:
                return _NUMPY[attr](*args)
            case ast.Name(id="float"):
                (value,) = args
                if len(_shape(value)) != 0:
                    raise ValidationError(f"float() of an array in {ast.unparse(node)!r}")
                return value
            case ast.Name(id="range"):
                return range(*map(_size, args))
            case ast.Name(id="prange"):
                return _Parallel(*map(_size, args))
            case ast.Name(id="len"):
                return len(args[0])  # type: ignore[arg-type]
            case ast.Name(id="min" | "max" as name):
                sizes = [_size(a) for a in args]
                best = (min if name == "min" else max)(sizes)
                self.branches.add((id(node), "seen"))
                if sizes.count(best) == 1:  # a tie says nothing about which arm is right
                    self.branches.add((id(node), f"arm {sizes.index(best)}"))
                return best
            case ast.Name(id=name):
                return self.call(name, args, keywords if name not in CONTRACTS else None)
        raise ValidationError(f"unsupported call {ast.unparse(node)!r}")

    def value_of(self, node: ast.expr, env: Mapping[str, object]) -> object:  # noqa: PLR0911
        """Return the value of ``node``: opaque at a hole, computed elsewhere."""
        hole = self.holes.get(id(node))
        if hole is not None:
            return opaque(hole, [env[name] for name in hole.inputs])
        match node:
            case ast.Name(id=name) if name in env:
                return env[name]
            case ast.Name(id=name) if name in self.constants:
                return self.constants[name]
            case ast.Name(id=name) if name in self.functions:
                return _Text(name)  # a kernel handed to a check, which recomputes with it
            case ast.Constant(value=int(value)) if not isinstance(value, bool):
                return value
            case ast.Constant(value=str()):
                return _Text(node.value)
            case ast.Constant(value=None):
                return None
            case ast.Compare(left=left, ops=[ast.Is() | ast.IsNot() as op], comparators=[right]):
                same = self.value_of(left, env) is self.value_of(right, env)
                return same if isinstance(op, ast.Is) else not same
            case ast.BinOp(left=left, op=op, right=right) if type(op) in _BINARY:
                a, b = _written(self.value_of(left, env)), _written(self.value_of(right, env))
                return _BINARY[type(op)](a, b)
            case ast.Compare(left=left, ops=[op], comparators=[right]) if type(op) in _SIZE_COMPARE:
                a, b = _size(self.value_of(left, env)), _size(self.value_of(right, env))
                return _SIZE_COMPARE[type(op)](a, b)
            case ast.Tuple(elts=elts):
                return tuple(self.value_of(e, env) for e in elts)
            case ast.Attribute(value=value, attr="shape"):
                return _shape(self.value_of(value, env))
            case ast.Attribute(value=value, attr="T"):
                array = self.value_of(value, env)
                if not isinstance(array, np.ndarray) or array.ndim != 2:
                    raise ValidationError(f"{ast.unparse(node)}: .T of a non-matrix")
                return array.T
            case ast.Subscript(value=value, slice=ast.Slice(lower=lo, upper=hi, step=None)):
                base = self.value_of(value, env)
                lower = 0 if lo is None else _size(self.value_of(lo, env))
                upper = len(base) if hi is None else _size(self.value_of(hi, env))  # type: ignore[arg-type]
                return base[lower:upper]  # type: ignore[index]
            case ast.Subscript(value=value, slice=index):
                base, where = self.value_of(value, env), _index(self.value_of(index, env))
                if self.tracked is not None and isinstance(base, np.ndarray):
                    self.tracked.read.add((id(base), where))
                return base[where]  # type: ignore[index]
            case ast.Call():
                return self._call(node, env)
        raise ValidationError(f"unsupported expression {ast.unparse(node)!r}")

    def unreached(self, skip: Sequence[str] = ()) -> list[str]:
        """Statements, ``if`` branches and ``min``/``max`` arguments that no run reached."""
        out = []
        for name, fn in self.functions.items():
            if name in skip:
                continue
            for node in ast.walk(fn):
                if isinstance(node, ast.stmt) and node is not fn and id(node) not in self.executed:
                    out.append(f"{name}, line {node.lineno}: {ast.unparse(node).splitlines()[0]}")
                elif isinstance(node, ast.If) and id(node) in self.executed:
                    test = ast.unparse(node.test)
                    out += [
                        f"{name}, line {node.lineno}: branch {side} of `if {test}`"
                        for side in (True, False)
                        if (id(node), side) not in self.branches
                    ]
                elif isinstance(node, ast.Call) and (id(node), "seen") in self.branches:
                    out += [
                        f"{name}, line {node.lineno}: argument {k + 1} of `{ast.unparse(node)}` "
                        "never chosen"
                        for k in range(len(node.args))
                        if (id(node), f"arm {k}") not in self.branches
                    ]
        return out


def _keywords(fn: ast.FunctionDef, given: Mapping[str, object]) -> dict[str, object]:
    """Bind a call's keyword-only arguments: those given, else their defaults (None or a number)."""
    names = [a.arg for a in fn.args.kwonlyargs]
    unknown = sorted(set(given) - set(names))
    if unknown:
        raise ValidationError(f"{fn.name}: unexpected keyword arguments {unknown}")
    bound: dict[str, object] = {}
    for name, default in zip(names, fn.args.kw_defaults, strict=True):
        if name in given:
            bound[name] = given[name]
        elif isinstance(default, ast.Constant) and default.value is None:
            bound[name] = None
        elif isinstance(default, ast.Constant) and type(default.value) in (int, float):
            bound[name] = sp.Float(default.value) if default.value else sp.Integer(0)
        else:
            raise ValidationError(f"{fn.name}: keyword argument {name!r} has no usable default")
    return bound
