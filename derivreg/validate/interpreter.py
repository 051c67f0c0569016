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
recorded, so that code no run reached is reported.

Examples
--------
>>> import ast
>>> interp = Interpreter(ast.parse("def f(z):\n    return 2 * z"), {})
>>> interp.call("f", [sp.Symbol("z")])
2*z
"""

from __future__ import annotations

import ast
from collections.abc import Callable, Mapping, Sequence

import numpy as np
import sympy as sp

from derivreg.codegen.templates import Hole
from derivreg.validate.report import ValidationError

__all__ = ["CONTRACTS", "Interpreter", "opaque"]

#: The input checks' contracts: each returns these of its arguments (or raises).
#: The checks themselves are the generator's, compared node for node.
CONTRACTS: Mapping[str, Callable[[list[object]], object]] = {
    "_check_params": lambda a: tuple(a[:3]),
    "_check_batch": lambda a: tuple(a[:4]),
    "_as_finite_scalar": lambda a: a[1],
    "_finite": lambda a: a[0],
    "_scores": lambda a: a[0] @ a[1] + a[2],
    "_fits": lambda a: a[0],
    "_checked_rows": lambda a: a[0],
    "_at_edges": lambda a: a[0],
    "_as_floats": tuple,
    "_mean_loss": lambda a: sp.Add(*np.asarray(a[0], dtype=object).ravel()) / np.size(a[0]),
    "_checked_grad": lambda a: (a[0], a[1]),
    # the L2 terms added to the mean (alpha = 0 makes each R_j = 0: the same sum)
    "_penalised": lambda a: a[0] + sp.Add(*np.asarray(a[1], dtype=object).ravel()),
    "_checked_update": lambda a: (a[0], a[1]),
    "_checked_losses": lambda a: a[0],
    # the blocked mean loss: a block's sum, or nan where a loss is 0; the blocks' mean, or
    # (nan) the checked per-sample path's, itself validated (losses, _mean_loss)
    "_nonzero": lambda a: a[0],
    "_checked_loss": lambda a: a[0],
    # a non-finite term is the checked kernel's, itself validated (contract: unchanged)
    "_checked_hessian": lambda a: a[0],
    "_checked_newton": lambda a: tuple(a[:3]),
    "_checked_log_likelihood": lambda a: a[0],
    # Pearson's dispersion: the sum of r over m - p, p = n + 1 (refused where m <= p)
    "_pearson_dispersion": lambda a: _pearson(a[0], a[1]),
    # bytes per row of a dense X; any positive value only sizes the blocks, and the
    # block loop is run with every block size (validate.batch)
    "_row_bytes": lambda a: 8 * np.shape(a[0])[1],
    "_check_direction": lambda a: a[1],
    # the weights as given (the validator passes weights already of mean 1), or None
    "_check_sample_weight": lambda a: a[0],
    "_check_alpha": lambda a: a[0],
    "_as_float_array": lambda a: a[1],
}


def _pearson(r: object, X: object) -> object:
    """Return ``_pearson_dispersion``'s contract: ``sum(r) / (m - p)``, only where ``m > p``."""
    m, p = np.shape(X)[0], np.shape(X)[1] + 1
    if m <= p:
        raise ValidationError(f"Pearson's dispersion of m={m} rows and p={p} parameters")
    return sp.Add(*np.asarray(r, dtype=object).ravel()) / (m - p)


def _size(value: object) -> int:
    """Return a size or index as an int; refuse anything but a concrete integer."""
    if isinstance(value, int | sp.Integer) and not isinstance(value, bool):
        return int(value)
    raise ValidationError(f"expected an integer size or index, got {value!r}")


def _index(value: object) -> int | tuple[int, ...]:
    """Return an index (an int, or a tuple of them for a 2-D array) of concrete integers."""
    if isinstance(value, tuple):
        return tuple(_size(v) for v in value)
    return _size(value)


class _Parallel:
    """``prange(k)``: a range whose iterations must touch disjoint array elements."""

    def __init__(self, *bounds: int) -> None:
        self.range = range(*bounds)


class _Tracked:
    """The array elements one ``prange`` iteration wrote and read, by (array id, index)."""

    def __init__(self) -> None:
        self.wrote: set[tuple[int, object]] = set()
        self.read: set[tuple[int, object]] = set()


def opaque(hole: Hole, values: Sequence[object]) -> object:
    """Return the hole as an opaque function of its inputs, elementwise over arrays."""
    for value in values:
        items = value.ravel() if isinstance(value, np.ndarray) else [value]
        if not all(isinstance(v, sp.Basic) for v in items):  # never a string to SymPy
            raise ValidationError(f"the inputs of {hole.target} must be numbers, got {value!r}")
    if not hole.inputs:
        return sp.Symbol(f"hole_{hole.target}", real=True)
    f = sp.Function(f"hole_{hole.target}", real=True)
    return np.frompyfunc(f, len(values), 1)(*values) if values else f()


_BINARY: Mapping[type, Callable[[object, object], object]] = {
    ast.Add: lambda a, b: a + b,  # type: ignore[operator]
    ast.Sub: lambda a, b: a - b,  # type: ignore[operator]
    ast.Mult: lambda a, b: a * b,  # type: ignore[operator]
    ast.Div: lambda a, b: a / b,  # type: ignore[operator]
    ast.MatMult: lambda a, b: a @ b,  # type: ignore[operator]
    ast.FloorDiv: lambda a, b: _size(a) // _size(b),
    ast.Mod: lambda a, b: _size(a) % _size(b),
}
_SIZE_COMPARE: Mapping[type, Callable[[int, int], bool]] = {
    ast.Eq: lambda a, b: a == b,
    ast.Gt: lambda a, b: a > b,
    ast.Lt: lambda a, b: a < b,
    ast.GtE: lambda a, b: a >= b,
    ast.LtE: lambda a, b: a <= b,
}


class _Unset:
    """An entry of ``np.empty`` not yet written: any arithmetic on it is refused."""

    def _refuse(self, *_: object) -> object:
        raise ValidationError("an entry of np.empty is read before it is written")

    __add__ = __radd__ = __sub__ = __rsub__ = __mul__ = __rmul__ = _refuse
    __truediv__ = __rtruediv__ = __matmul__ = __rmatmul__ = __pow__ = __rpow__ = _refuse
    __neg__ = __pos__ = __float__ = __bool__ = _refuse


_UNSET = _Unset()


def _written(value: object) -> object:
    """Return ``value``, refusing an array with an entry of ``np.empty`` never written.

    Checked before NumPy sees it: an object ``@`` whose element operation raises can
    crash NumPy (seen with a 1-D @ 2-D product), so no such product is attempted.
    """
    if (
        isinstance(value, np.ndarray)
        and value.dtype == object
        and any(v is _UNSET for v in value.flat)
    ):
        raise ValidationError("an entry of np.empty is read before it is written")
    return value


def _column_stack(arrays: object) -> np.ndarray:
    """``np.column_stack`` of a tuple of 1-D and 2-D object arrays with the same rows."""
    if not isinstance(arrays, tuple) or not all(isinstance(a, np.ndarray) for a in arrays):
        raise ValidationError(f"np.column_stack takes a tuple of arrays, got {arrays!r}")
    return np.column_stack(arrays)


_NUMPY: Mapping[str, Callable[..., object]] = {
    "mean": lambda a: sp.Add(*np.asarray(a, dtype=object).ravel()) / np.size(a),
    "sum": lambda a: sp.Add(*np.asarray(a, dtype=object).ravel()),
    "shape": np.shape,
    "full": lambda shape, value: np.full(shape, value, dtype=object) if shape else value,
    "ones": lambda size: np.array([sp.Integer(1)] * _size(size), dtype=object),
    "column_stack": _column_stack,
    # unset entries refuse every operation: one read before it is written fails the run
    "empty": lambda shape: np.full(tuple(_size(s) for s in shape), _UNSET, dtype=object),
    "zeros": lambda shape: np.full(shape, sp.Integer(0), dtype=object),
}


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
                    found, value = self._compound(stmt, env)
                    if found:
                        return True, value
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
        where: list[object] = []
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
        if np.shape(value) not in ((), target.shape):  # no broadcasting beyond a scalar
            raise ValidationError(f"shapes differ in {ast.unparse(container)}[...] = ...")
        array[tuple(where)] = value

    def _augment(
        self, target: ast.expr, op: ast.operator, value: object, env: dict[str, object]
    ) -> None:
        old = self.value_of(target, env)
        if isinstance(old, np.ndarray):  # in place, as NumPy does on float arrays
            if np.shape(value) not in ((), old.shape):
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
        keywords = {k.arg: self.value_of(k.value, env) for k in node.keywords}
        match node.func:
            case ast.Attribute(value=ast.Name(id="np"), attr=attr) if attr in _NUMPY:
                return _NUMPY[attr](*args)
            case ast.Name(id="float"):
                (value,) = args
                if np.ndim(value) != 0:
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
                return np.shape(self.value_of(value, env))
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


class _Text(str):
    """A string constant of the fixed code: a name passed to a check, never a number."""

    __slots__ = ()
