"""Validate a generated batch module (``derivreg/kernels/<pair>.py``) against its derivation.

Four steps, each of which rejects with the line and the reason:

1. the skeleton: the parsed module equals the generator's own outside the
   holes (:mod:`~derivreg.validate.skeleton`), module constants included,
   and ``_checks.py`` equals the generator's input checks;
2. the holes: each printed expression is proven equal to the derivation's,
   over the reals (:mod:`~derivreg.validate.holes`);
3. the derivation's own update rules are the gradient step of its chain
   rule (a few scalar identities, proven);
4. the fixed code, holes opaque, computes the mean over the rows, the
   gradient, the update, the Hessian ``X~^T diag(d2J/dz2) X~ / m`` (every
   entry: both triangles, the intercept's row) and ``H v``, at m = 5 rows
   and n = 4 features, and the fused ``newton_terms`` (all three from one z),
   and in row blocks of every size from 1 to m for m
   in (2, 3, 5) (the mean loss's blocks with their own products and as
   blocks of one product over X); every statement and both sides of every
   ``if`` must be reached, and no input changed.

Examples
--------
>>> from derivreg import derive
>>> from derivreg.codegen import generate
>>> validate(generate(derive("mse")), derive("mse")).ok
True
"""

from __future__ import annotations

import ast
from collections.abc import Mapping, Sequence

import numpy as np
import sympy as sp

from derivreg.codegen.kernel import generate_module
from derivreg.codegen.loop import generate_loop_module
from derivreg.codegen.templates import Hole, Printed
from derivreg.symbolic import Derivation
from derivreg.validate.checks import validate_checks
from derivreg.validate.holes import INPUTS, prove_holes
from derivreg.validate.interpreter import Interpreter, opaque
from derivreg.validate.lemmas import lemmas
from derivreg.validate.report import ValidationError, ValidationReport
from derivreg.validate.skeleton import compare, mark

__all__ = ["lemmas", "parse", "printed", "symbols", "validate"]

#: The batch the template is run on: m >= 4 rows, n >= 4 features, m != n.
M, N = 5, 4
#: The batch (m, n) of a log-likelihood at Pearson's dispersion: m > p = n + 1.
PEARSON_BATCH = (6, 2)
#: Row counts whose block loops are run with every block size from 1 to m.
BLOCK_ROWS = (2, 3, 5)
#: The elementwise functions, and the hole each returns.
_ELEMENTWISE = {
    "dJ_dyhat": "dJ_dyhat",
    "dyhat_dz": "dyhat_dz",
    "dJ_dz": "dJ_dz",
    "curvature": "d2J_dz2",
    "expected_curvature": "E_d2J_dz2",
    "log_normaliser": "k",
    "dispersion": "phi",
    "pearson_residual": "r",
    "dR_dw": "dR_dw",
    "soft_threshold": "soft_threshold",
}
alpha = sp.Symbol("alpha", real=True)
#: The penalty strength (the kernels' keyword ``alpha``), a symbol apart from the rate.
lam = INPUTS["alpha"]
#: One function's run: its arguments, the values it must return, its keyword arguments.
_Case = tuple[list[object], list[object], dict[str, object]]


#: The generator's modules by derivation (the generator is deterministic, and a
#: Derivation immutable): validating many candidates of one derivation prints once.
_PRINTED: dict[tuple[int, str], tuple[Derivation, Printed]] = {}


def printed(derivation: Derivation, kind: str) -> Printed:
    """Return the generator's module of ``derivation`` (``kind`` "module" or "loop")."""
    key = (id(derivation), kind)
    if key not in _PRINTED or _PRINTED[key][0] is not derivation:
        make = generate_module if kind == "module" else generate_loop_module
        if len(_PRINTED) >= 16:
            _PRINTED.clear()
        _PRINTED[key] = (derivation, make(derivation))
    return _PRINTED[key][1]


def parse(source: str, name: str) -> ast.Module:
    """Parse ``source`` (never run it), or reject it as not Python."""
    if not isinstance(source, str):
        raise ValidationError(f"{name}: the source must be a str")
    try:
        return ast.parse(source)
    except SyntaxError as err:
        raise ValidationError(f"{name}: not Python: {err}") from None


def symbols(m: int, n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, sp.Symbol]:
    """Return a symbolic batch: X (m, n), y (m,), w (n,) and b, all real."""
    X = np.array(
        [[sp.Symbol(f"x_{i}_{j}", real=True) for j in range(n)] for i in range(m)], dtype=object
    )
    Y = np.array([sp.Symbol(f"y_{i}", real=True) for i in range(m)], dtype=object)
    W = np.array([sp.Symbol(f"w_{j}", real=True) for j in range(n)], dtype=object)
    return X, Y, W, sp.Symbol("b", real=True)


def _same(have: object, want: object) -> bool:
    diff = have - want  # type: ignore[operator]
    return diff == 0 or sp.expand(diff) == 0


def _flatten(value: object) -> list[object]:
    if isinstance(value, tuple):
        return [v for item in value for v in _flatten(item)]
    if isinstance(value, np.ndarray):
        return list(value.ravel())
    return [value]


class _Template:
    """Runs of the fixed code, holes opaque, against what the derivation says of them."""

    def __init__(
        self, tree: ast.Module, holes: Mapping[int, Hole], report: ValidationReport
    ) -> None:
        self.tree, self.holes, self.report = tree, holes, report
        self.by_target = {h.target: h for h in holes.values() if h.stable is not None}
        for h in holes.values():  # one opaque function per name: the same expression
            if h.stable is not None and h.stable != self.by_target[h.target].stable:
                raise AssertionError(f"generator bug: two different holes named {h.target}")
        self.executed: set[int] = set()
        self.branches: set[tuple[int, object]] = set()
        self.scale: float | None = None  # the derivation's log-likelihood scale, if printed
        self.pearson = False  # whether the log-likelihood is at Pearson's dispersion

    def interpreter(self, constants: Mapping[str, int] | None = None) -> Interpreter:
        return Interpreter(self.tree, self.holes, constants, self.executed, self.branches)

    def hole(self, target: str, *values: object) -> sp.Expr:
        value = opaque(self.by_target[target], values)
        assert isinstance(value, sp.Basic)  # scalar inputs: one opaque expression, no array
        return value

    def expected(self, m: int, n: int, weighted: bool = False) -> dict[str, _Case]:
        """Return what each function must give: with no weights, or symbolic weights of mean 1.

        The L2 strength is a symbol of its own: ``dR/dw`` is added to every
        weight's gradient entry and to none of the intercept's, and ``R`` to the loss.
        """
        X, Y, W, B = symbols(m, n)
        S = np.array([sp.Symbol(f"s_{i}", real=True) for i in range(m)], dtype=object)
        s = list(S) if weighted else [sp.Integer(1)] * m
        z = [sum(X[i, j] * W[j] for j in range(n)) + B for i in range(m)]
        dz = [s[i] * self.hole("dJ_dz", z[i], Y[i]) for i in range(m)]
        J = [s[i] * self.hole("J", z[i], Y[i]) for i in range(m)]
        dR = [self.hole("dR_dw", W[j], lam) for j in range(n)]
        grad = [sum(dz[i] * X[i, j] for i in range(m)) / m + dR[j] for j in range(n)]
        grad.append(sum(dz) / m)
        update = [W[j] - alpha * grad[j] for j in range(n)] + [B - alpha * grad[n]]
        penalty = sum(self.hole("R", W[j], lam) for j in range(n))
        batch = [X, Y, W, B]
        weights = {"sample_weight": S if weighted else None}
        both = {**weights, "alpha": lam}
        first = {
            "predict": ([X, W, B], [self.hole("yhat", z[i]) for i in range(m)], {}),
            "losses": (batch, J, weights),
            "loss": (batch, [sum(J) / m + penalty], both),
            "grad": (batch, grad, both),
            "update": ([*batch, alpha], update, both),
        }
        if weighted:  # the second order and the likelihood take no weights
            return first
        H, v = self.second_order(X, Y, z)
        Hv = [sum(H[j][k] * v[k] for k in range(n + 1)) for j in range(n + 1)]
        flat = [H[j][k] for j in range(n + 1) for k in range(n + 1)]
        plain = [g - dR[j] if j < n else g for j, g in enumerate(grad)]  # no penalty
        return {
            **first,
            "hessian": (batch, flat, {}),
            "hvp": ([*batch, v], Hv, {}),
            "newton_terms": (batch, [sum(J) / m, *plain, *flat], {}),
            **self.likelihood(batch, J),
        }

    def likelihood(self, batch: list[object], J: list[sp.Expr]) -> dict[str, _Case]:
        """``sum_i k(y_i, phi) - J_i / (s phi)`` at the printed dispersion, if printed.

        ``phi = dispersion(mean J)``, or Pearson's ``sum_i r(z_i, y_i) / (m - p)``
        (only where ``m > p``: :data:`PEARSON_BATCH`).
        """
        X, Y, W, B = batch
        assert isinstance(X, np.ndarray)  # X, Y and W are symbols()'s object arrays
        assert isinstance(Y, np.ndarray)
        assert isinstance(W, np.ndarray)
        m, n = X.shape
        if self.scale is None or (self.pearson and m <= n + 1):
            return {}
        if self.pearson:
            z = [sum(X[i, j] * W[j] for j in range(n)) + B for i in range(m)]
            phi = sum(self.hole("r", z[i], Y[i]) for i in range(m)) / (m - n - 1)
        else:
            phi = self.hole("phi", sum(J) / m)
        total = sum(self.hole("k", Y[i], phi) - J[i] / (self.scale * phi) for i in range(m))
        return {"log_likelihood": (batch, [total], {})}

    def second_order(
        self, X: np.ndarray, Y: np.ndarray, z: list[object]
    ) -> tuple[list[list[object]], np.ndarray]:
        """``H = X~^T diag(d2J/dz2) X~ / m`` entry by entry (``X~ = [X, 1]``), and a direction v."""
        m, n = X.shape
        c = [self.hole("d2J_dz2", z[i], Y[i]) for i in range(m)]
        rows = [[*X[i], sp.Integer(1)] for i in range(m)]
        H = [
            [sum(c[i] * rows[i][j] * rows[i][k] for i in range(m)) / m for k in range(n + 1)]
            for j in range(n + 1)
        ]
        v = np.array([sp.Symbol(f"v_{j}", real=True) for j in range(n + 1)], dtype=object)
        return H, v

    def check(self, name: str, args: list[object], wanted: Sequence[object], label: str,
              interp: Interpreter, *, keywords: Mapping[str, object] | None = None,
              ) -> None:  # fmt: skip
        saved = [a.copy() if isinstance(a, np.ndarray) else a for a in args]
        try:
            got = _flatten(interp.call(name, args, keywords))
        except ValidationError as err:
            self.report.failures.append(f"{name} ({label}): {err}")
            return
        for a, b in zip(args, saved, strict=True):
            if isinstance(a, np.ndarray) and not all(np.ravel(a == b)):
                self.report.failures.append(f"{name} ({label}): writes into an input array")
        if len(got) != len(wanted):
            self.report.failures.append(f"{name}: returns {len(got)} values, not {len(wanted)}")
            return
        for k, (have, want) in enumerate(zip(got, wanted, strict=True)):
            tag = f"{name}[{k}]" if len(wanted) > 1 else name
            tag += f" ({label})" if label else ""
            if isinstance(have, sp.Basic) and _same(have, want):
                self.report.proven.append(tag)
            else:
                self.report.failures.append(f"{tag}: computes {have}, not {want}")

    def blocked_loss(self, m: int, rows: int, wanted: tuple) -> None:
        """Run ``loss`` on m rows in blocks of ``rows`` (``LOSS_BLOCK_ROWS``).

        Each block with its own product (its rows of X just within ``LOSS_BLOCK_BYTES``),
        and as blocks of one product over X (its rows a byte past ``LOSS_BLOCK_BYTES``).
        """
        args, want, keywords = wanted
        for extra, how in ((0, ""), (1, ", one product")):
            constants = {"LOSS_BLOCK_ROWS": rows, "LOSS_BLOCK_BYTES": 8 * N * rows - extra}
            label = f"{m} rows in blocks of {rows}{how}"
            self.check(
                "loss", list(args), want, label, self.interpreter(constants), keywords=keywords
            )

    def run(self) -> None:
        interp = self.interpreter()
        for name, target in _ELEMENTWISE.items():
            fn = interp.functions.get(name)
            if fn is None and target not in self.by_target:
                continue  # no log-likelihood printed: nothing to run
            params = [a.arg for a in fn.args.args] if fn else []
            args = [INPUTS.get(p, sp.Symbol(p)) for p in params]
            # the function's own hole: a constant one is a fill, of no inputs
            own = [h for h in self.holes.values() if (h.function, h.target) == (name, target)]
            hole = own[0] if own else self.by_target[target]
            self.check(name, args, [opaque(hole, args[: len(hole.inputs)])], "", interp)
        for weighted in (False, True):
            label = "weighted" if weighted else ""
            for name, (args, wanted, keywords) in self.expected(M, N, weighted).items():
                self.check(name, args, wanted, label, interp, keywords=keywords)
        for m in BLOCK_ROWS:
            cases = self.expected(m, N)
            for rows in range(1, m + 1):
                forms = [({"MIN_BLOCK_ROWS": 1, "BLOCK_BYTES": 8 * N * rows}, "")]
                if m == M:
                    forms.append(({"MIN_BLOCK_ROWS": rows, "BLOCK_BYTES": 8}, ", MIN_BLOCK_ROWS"))
                for constants, how in forms:
                    blocked = self.interpreter(constants)
                    for name in ("grad", "update", "hessian", "hvp", "newton_terms"):
                        args, want, keywords = cases[name]
                        label = f"{m} rows in blocks of {rows}{how}"
                        self.check(name, list(args), want, label, blocked, keywords=keywords)
                self.blocked_loss(m, rows, cases["loss"])
        if self.pearson:  # Pearson's dispersion needs m > p: a batch of its own
            args, want, keywords = self.expected(*PEARSON_BATCH)["log_likelihood"]
            label = f"{PEARSON_BATCH[0]} rows, {PEARSON_BATCH[1]} features"
            self.check("log_likelihood", list(args), want, label, interp, keywords=keywords)
        # _in_domain is fixed code printed from the pair's SymPy domain: the skeleton
        # comparison has already matched it node for node, and no run calls it.
        self.report.failures += [
            f"never validated: {s}" for s in interp.unreached(skip=("_in_domain",))
        ]


def validate(source: str, derivation: Derivation, *, checks: str | None = None) -> ValidationReport:
    """Prove that a generated module computes what its derivation says.

    Parameters
    ----------
    source : str
        The module's text; parsed, never run.
    derivation : Derivation
        What it must compute.
    checks : str, optional
        The text of its input checks module; by default the checked-in
        ``derivreg/kernels/_checks.py``.

    Returns
    -------
    ValidationReport

    Raises
    ------
    ValidationError
        If anything outside a printed expression differs from the
        generator's module (with the line and what differs), a printed
        expression is not proven equal to the derivation over the reals, or
        the fixed code does not compute the mean gradient and update.

    Examples
    --------
    >>> from derivreg import derive
    >>> from derivreg.codegen import generate
    >>> report = validate(generate(derive("bce")), derive("bce"))
    >>> "hole _grad.dJ_dz" in report.proven, "grad[4] (5 rows in blocks of 2)" in report.proven
    (True, True)
    """
    d = derivation
    tree = parse(source, d.name)
    module = printed(d, "module")
    reference = ast.parse(module.source)
    try:
        found = compare(tree, reference, mark(reference, module.holes))
    except ValidationError as err:
        raise ValidationError(f"{d.name}: differs from the generator's module: {err}") from None
    report = ValidationReport(d.name, proven=["skeleton"])
    report.proven += validate_checks(checks).proven
    prove_holes(found, report, d.pair.targets, domain=d.pair.domain)
    lemmas(d, report)
    if report.ok:
        try:
            template = _Template(tree, {id(node): hole for node, hole in found}, report)
            if d.likelihood is not None:
                template.scale = float(d.likelihood.scale)
                template.pearson = d.likelihood.dispersion is None
            template.run()
        except Exception as err:  # any error of a run is a rejection, not a crash
            report.failures.append(f"the fixed code: {type(err).__name__}: {err}")
    return report.raise_if_failed("generated code")
