"""Symbolic derivations of regression gradients along the chain rule.

The engine in this module knows nothing about any particular loss.  A model
is a linear score ``z = x.w + b`` followed by an activation ``yhat = g(z)``
and a per-sample loss ``J = L(y, yhat)``; the (activation, loss) pairs live in
:data:`REGISTRY`.  :func:`derive` walks the lecture's steps (forward pass,
local partials, chain rule, update rules), keeps ``yhat`` as a symbol so
that cancellations such as ``dJ/dz = yhat - y`` appear, and checks every
chain-rule result against the derivative SymPy takes directly of the
composed loss.

Examples
--------
>>> from derivreg import derive
>>> d = derive("bce")
>>> d.dJ_dz
-y + yhat
>>> d.update_b
alpha*(y - yhat) + b
"""

from __future__ import annotations

import random
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Literal

import sympy as sp

__all__ = [
    "REGISTRY",
    "Derivation",
    "DerivationError",
    "Pair",
    "Step",
    "derive",
    "identity",
    "sigmoid",
]

Features = Literal[1, "n"]

# ---------------------------------------------------------------------------
# The symbols every derivation shares.
# ---------------------------------------------------------------------------
y, yhat, z, b, alpha = sp.symbols("y yhat z b alpha", real=True)
n = sp.Symbol("n", integer=True, positive=True)
x_scalar, w_scalar = sp.symbols("x w", real=True)
x_vector = sp.MatrixSymbol("x", n, 1)
w_vector = sp.MatrixSymbol("w", n, 1)

#: Dimension used when a vector-form step is checked with explicit components.
CHECK_DIMENSION = 3


# ---------------------------------------------------------------------------
# Activations and losses: plain functions of SymPy expressions.
# ---------------------------------------------------------------------------
def identity(t: sp.Expr) -> sp.Expr:
    """Identity activation, ``g(z) = z`` (linear regression).

    Examples
    --------
    >>> identity(z)
    z
    """
    return t


def sigmoid(t: sp.Expr) -> sp.Expr:
    """Logistic sigmoid, ``g(z) = 1 / (1 + exp(-z))``, written out for SymPy.

    Examples
    --------
    >>> sigmoid(z)
    1/(1 + exp(-z))
    """
    return 1 / (1 + sp.exp(-t))


def squared_error(target: sp.Expr, prediction: sp.Expr) -> sp.Expr:
    """Per-sample squared error, ``J = (y - yhat)**2``.

    Examples
    --------
    >>> squared_error(y, yhat)
    (y - yhat)**2
    """
    return (target - prediction) ** 2


def binary_cross_entropy(target: sp.Expr, prediction: sp.Expr) -> sp.Expr:
    """Per-sample binary cross-entropy, ``J = -[y log yhat + (1-y) log(1-yhat)]``.

    Examples
    --------
    >>> binary_cross_entropy(y, yhat)
    -y*log(yhat) - (1 - y)*log(1 - yhat)
    """
    return -(target * sp.log(prediction) + (1 - target) * sp.log(1 - prediction))


# ---------------------------------------------------------------------------
# The registry: one entry per (activation, loss) pair.
# ---------------------------------------------------------------------------
@dataclass(frozen=True)
class Pair:
    """One (activation, loss) pair of the registry.

    Parameters
    ----------
    name : str
        Short identifier used on the command line, e.g. ``"bce"``.
    title : str
        Human-readable name, e.g. ``"Logistic regression, binary cross-entropy"``.
    activation : callable
        Maps a SymPy expression ``z`` to ``yhat``.
    loss : callable
        Maps ``(y, yhat)`` to the per-sample loss ``J``.
    targets : {"real", "binary"}
        What the labels ``y`` may be: any real number, or a probability
        (``0 <= y <= 1``, with ``{0, 1}`` the classification case).
    claims : callable, optional
        Maps the shared symbols ``(y, yhat)`` to the closed forms the lecture
        states, keyed by step label (``"dJ_dyhat"``, ``"dyhat_dz"``,
        ``"dJ_dz"``).  Each claim is checked against the derived result, and
        :func:`derive` raises :class:`DerivationError` when one differs.

    Examples
    --------
    >>> REGISTRY["mse"].title
    'Linear regression, mean squared error'
    """

    name: str
    title: str
    activation: Callable[[sp.Expr], sp.Expr]
    loss: Callable[[sp.Expr, sp.Expr], sp.Expr]
    targets: Literal["real", "binary"] = "real"
    claims: Callable[[sp.Symbol, sp.Symbol], Mapping[str, sp.Expr]] | None = None


def _register(*pairs: Pair) -> Mapping[str, Pair]:
    return MappingProxyType({p.name: p for p in pairs})


#: The (activation, loss) pairs derivreg knows, keyed by name.  A new pair is
#: one more entry here; the engine, the generator, the proofs and the tests
#: iterate over this mapping.
REGISTRY: Mapping[str, Pair] = _register(
    Pair(
        name="mse",
        title="Linear regression, mean squared error",
        activation=identity,
        loss=squared_error,
        targets="real",
        claims=lambda y, yhat: {
            "dJ_dyhat": -2 * (y - yhat),
            "dyhat_dz": sp.Integer(1),
            "dJ_dz": -2 * (y - yhat),
        },
    ),
    Pair(
        name="bce",
        title="Logistic regression, binary cross-entropy",
        activation=sigmoid,
        loss=binary_cross_entropy,
        targets="binary",
        claims=lambda y, yhat: {
            "dJ_dyhat": (yhat - y) / (yhat * (1 - yhat)),
            "dyhat_dz": yhat * (1 - yhat),
            "dJ_dz": yhat - y,
        },
    ),
)


# ---------------------------------------------------------------------------
# Steps and derivations.
# ---------------------------------------------------------------------------
Stage = Literal["forward", "local", "chain", "update"]

#: The stages in the lecture's order, with their headings.
STAGES: Mapping[str, str] = MappingProxyType(
    {
        "forward": "Forward propagation",
        "local": "Local partial derivatives",
        "chain": "Chain rule (backpropagation)",
        "update": "Parameter update",
    }
)


@dataclass(frozen=True)
class Step:
    """One line of a derivation: ``quantity = expr`` because ``reason``.

    Parameters
    ----------
    stage : {"forward", "local", "chain", "update"}
        Which part of the lecture the step belongs to.
    label : str
        The lecture's name of the quantity, e.g. ``"dJ_dz"``; also the name
        the code generator gives it.
    expr : sympy.Basic
        The derived expression.
    reason : str
        One line saying why the step holds.
    factors : tuple of str
        For a chain-rule step, the labels of the factors multiplied, so
        that a renderer can show ``a * b = result``.

    Examples
    --------
    >>> step = derive("bce").step("dJ_dz")
    >>> step.factors
    ('dJ_dyhat', 'dyhat_dz')
    """

    stage: Stage
    label: str
    expr: sp.Basic
    reason: str
    factors: tuple[str, ...] = ()


class DerivationError(ValueError):
    """A derivation step disagrees with the direct derivative or a claim.

    Examples
    --------
    >>> err = DerivationError("bce", "dJ_dz", "differs", sp.Integer(1))
    >>> err.step
    'dJ_dz'
    """

    def __init__(self, pair: str, step: str, message: str, residual: sp.Basic) -> None:
        self.pair = pair
        self.step = step
        self.residual = residual
        super().__init__(f"derivation {pair!r}, step {step!r}: {message} (residual: {residual})")


@dataclass(frozen=True)
class Derivation:
    """The chain-rule derivation of one (activation, loss) pair.

    Build one with :func:`derive`.  The attributes hold SymPy expressions in
    terms of the shared symbols; ``yhat`` stays a symbol wherever the lecture
    keeps it one.

    Attributes
    ----------
    name : str
        Registry key, e.g. ``"bce"``.
    pair : Pair
        The registry entry.
    features : {1, "n"}
        1-feature scalar form or n-feature vector form.
    steps : tuple of Step
        The steps in the lecture's order.
    symbols : mapping
        ``x, w, b, y, yhat, z, alpha`` (``x`` and ``w`` are ``n x 1``
        matrix symbols in the vector form).

    Examples
    --------
    >>> d = derive("mse", features=1)
    >>> d.dJ_dw
    -2*x*(y - yhat)
    >>> [s.label for s in d.steps][:3]
    ['z', 'yhat', 'J']
    """

    name: str
    pair: Pair
    features: Features
    steps: tuple[Step, ...]
    symbols: Mapping[str, sp.Basic] = field(repr=False)

    def step(self, label: str) -> Step:
        """Return the step with this label.

        Examples
        --------
        >>> derive("bce").step("dyhat_dz").expr
        yhat*(1 - yhat)
        """
        for s in self.steps:
            if s.label == label:
                return s
        known = ", ".join(s.label for s in self.steps)
        raise KeyError(f"no step {label!r} in derivation {self.name!r}; steps: {known}")

    @property
    def title(self) -> str:
        """The pair's human-readable title."""
        return self.pair.title

    @property
    def activation(self) -> sp.Expr:
        """``yhat`` as a function of ``z``."""
        return self.step("yhat").expr

    @property
    def loss(self) -> sp.Expr:
        """``J`` as a function of ``y`` and ``yhat``."""
        return self.step("J").expr

    @property
    def dJ_dyhat(self) -> sp.Expr:
        """Local partial of the loss, in terms of ``y`` and ``yhat``."""
        return self.step("dJ_dyhat").expr

    @property
    def dyhat_dz(self) -> sp.Expr:
        """Local partial of the activation, in terms of ``yhat``."""
        return self.step("dyhat_dz").expr

    @property
    def dJ_dz(self) -> sp.Expr:
        """``dJ/dyhat * dyhat/dz``, simplified."""
        return self.step("dJ_dz").expr

    @property
    def dJ_dw(self) -> sp.Basic:
        """``dJ/dz * x^T`` (a row vector in the n-feature form)."""
        return self.step("dJ_dw").expr

    @property
    def dJ_db(self) -> sp.Expr:
        """``dJ/dz * 1``."""
        return self.step("dJ_db").expr

    @property
    def update_w(self) -> sp.Basic:
        """Simplified update rule for ``w`` (the new value of ``w``)."""
        return self.step("update_w").expr

    @property
    def update_b(self) -> sp.Expr:
        """Simplified update rule for ``b`` (the new value of ``b``)."""
        return self.step("update_b").expr

    def yhat_of_z(self, expr: sp.Basic) -> sp.Basic:
        """Substitute ``yhat = g(z)`` into ``expr``.

        Examples
        --------
        >>> derive("bce").yhat_of_z(yhat)
        1/(1 + exp(-z))
        """
        return expr.subs(yhat, self.activation)


# ---------------------------------------------------------------------------
# The engine.
# ---------------------------------------------------------------------------
def _is_zero(expr: sp.Basic) -> bool:
    """Whether ``expr`` simplifies to zero, with a numeric second witness.

    ``expand_log(force=True)`` splits logarithms as if their arguments were
    positive, which holds where the lecture's losses are defined (labels and
    predictions in (0, 1)).  So that a forced split can never pass off a
    non-zero expression as zero, ``expr`` is also evaluated at seeded
    random points of that domain at 30 digits and must vanish there.
    """
    if expr == 0:
        return True
    for attempt in (sp.cancel, sp.simplify):
        try:
            if attempt(sp.expand_log(expr, force=True)) == 0:
                return _vanishes_numerically(expr)
        except (TypeError, sp.PolynomialError):
            continue
    return False


def _vanishes_numerically(expr: sp.Basic, points: int = 4) -> bool:
    """Evaluate ``expr`` at random points with y, yhat in (0, 1); all must be ~0."""
    rng = random.Random(20261128)  # noqa: S311 - seeded sampling, not cryptography
    free = sorted(expr.free_symbols, key=str)
    for _ in range(points):
        at = {
            s: sp.Float(rng.uniform(0.05, 0.95) if s in (y, yhat) else rng.gauss(0, 1), 30)
            for s in free
        }
        value = sp.N(expr.xreplace(at), 30)
        if not value.is_number or not value.is_finite:
            return False
        if abs(complex(value)) > 1e-20:
            return False
    return True


def _in_terms_of_output(pair: Pair, derivative: sp.Expr, activation: sp.Expr) -> sp.Expr:
    """Rewrite ``g'(z)`` in terms of ``yhat = g(z)`` by inverting ``g``.

    The inverse is found by SymPy (``solve``); the result must reproduce
    ``g'(z)`` when ``yhat = g(z)`` is put back.
    """
    if not derivative.has(z):
        return derivative
    direct = derivative.subs(activation, yhat)
    candidates = [direct] if not direct.has(z) else []
    candidates += [sp.simplify(derivative.subs(z, r)) for r in sp.solve(sp.Eq(yhat, activation), z)]
    for found in candidates:
        candidate = sp.factor(found)
        if candidate.has(z):
            continue
        if _is_zero(candidate.subs(yhat, activation) - derivative):
            return _tidy(candidate)
    raise DerivationError(
        pair.name,
        "dyhat_dz",
        "cannot express the activation's derivative in terms of yhat",
        derivative,
    )


def _tidy(expr: sp.Expr) -> sp.Expr:
    """Present ``expr`` the way the slides do, without changing its value.

    ``c*(y - yhat)`` keeps its factor, and a factor such as ``(yhat - 1)``
    with a negative constant term is written ``-(1 - yhat)``, so that
    ``-yhat*(yhat - 1)`` reads ``yhat*(1 - yhat)``.
    """
    residual = y - yhat
    ratio = sp.cancel(expr / residual)
    if not ratio.free_symbols & {y, yhat} and ratio not in (1, -1):
        return sp.Mul(ratio, residual, evaluate=False)
    if not expr.is_Mul:
        return expr
    sign = 1
    factors = []
    for factor in expr.args:
        base, power = factor.as_base_exp()
        if base.is_Add and base.as_coeff_Add()[0] < 0 and power.is_integer and power.is_odd:
            sign = -sign
            factors.append((-base) ** power)
        else:
            factors.append(factor)
    tidied = sign * sp.Mul(*factors)
    return tidied if sp.cancel(tidied - expr) == 0 else expr


def _explicit_components() -> tuple[sp.Matrix, sp.Matrix]:
    k = CHECK_DIMENSION
    xs = sp.Matrix(sp.symbols(f"x_1:{k + 1}", real=True))
    ws = sp.Matrix(sp.symbols(f"w_1:{k + 1}", real=True))
    return xs, ws


def _explicit(expr: sp.Basic, xs: sp.Matrix, ws: sp.Matrix) -> sp.Basic:
    """Replace the n-vector symbols by explicit components (n = CHECK_DIMENSION)."""
    k = xs.shape[0]
    fixed = expr.subs(n, k)
    fixed = fixed.xreplace({sp.MatrixSymbol("x", k, 1): xs, sp.MatrixSymbol("w", k, 1): ws})
    return fixed.doit() if hasattr(fixed, "doit") else fixed


def derive(name: str | Pair, *, features: Features = "n") -> Derivation:
    """Derive the gradient and update rule of a registered pair.

    Parameters
    ----------
    name : str or Pair
        A key of :data:`REGISTRY` (``"mse"`` or ``"bce"``), or a
        :class:`Pair` not (yet) registered.
    features : {"n", 1}, default "n"
        ``"n"`` for the vector form (``x`` and ``w`` are n-vectors),
        ``1`` for the 1-feature scalar form.

    Returns
    -------
    Derivation
        The steps in the lecture's order, each checked.

    Raises
    ------
    ValueError
        If ``name`` is not registered (the message lists the known names).
    DerivationError
        If a step disagrees with the direct derivative of the composed loss
        or with a closed form the registry claims.

    Examples
    --------
    >>> d = derive("bce")
    >>> d.dyhat_dz, d.dJ_dz
    (yhat*(1 - yhat), -y + yhat)
    >>> derive("hinge")
    Traceback (most recent call last):
    ...
    ValueError: unknown loss 'hinge'; known losses: 'bce', 'mse'
    """
    if features not in (1, "n"):
        raise ValueError(f"features must be 1 or 'n', got {features!r}")
    if isinstance(name, Pair):
        return _derive(name, features)
    if not isinstance(name, str) or name not in REGISTRY:
        known = ", ".join(repr(k) for k in sorted(REGISTRY))
        raise ValueError(f"unknown loss {name!r}; known losses: {known}")
    return _derive(REGISTRY[name], features)


def _derive(pair: Pair, features: Features) -> Derivation:
    vector = features == "n"
    x = x_vector if vector else x_scalar
    w = w_vector if vector else w_scalar
    symbols = MappingProxyType(
        {"x": x, "w": w, "b": b, "y": y, "yhat": yhat, "z": z, "alpha": alpha}
    )

    def fail(step: str, message: str, residual: sp.Basic) -> DerivationError:
        return DerivationError(pair.name, step, message, residual)

    # 1. Forward propagation.
    score = (x.T * w)[0, 0] if vector else x * w
    model = _Dot(x, w) + b if vector else score + b
    activation = pair.activation(z)
    loss = pair.loss(y, yhat)
    forward = (
        Step("forward", "z", model, "the linear model f(x; w, b)"),
        Step("forward", "yhat", activation, "the activation applied to z"),
        Step("forward", "J", loss, "the per-sample loss of y and yhat"),
    )

    # 2. Local partial derivatives, each of its own function only.
    dJ_dyhat = _tidy(sp.factor(sp.together(sp.diff(loss, yhat))))
    derivative = sp.diff(activation, z)
    dyhat_dz = _in_terms_of_output(pair, derivative, activation)
    dz_dw = sp.diff(x.T * w, w).T if vector else sp.diff(score + b, w)
    dz_db = sp.diff(score + b, b) if not vector else sp.Integer(1)
    local = (
        Step("local", "dJ_dyhat", dJ_dyhat, "differentiate J with respect to yhat"),
        Step(
            "local",
            "dyhat_dz",
            dyhat_dz,
            "differentiate the activation, then write it in terms of yhat",
        ),
        Step("local", "dz_dw", dz_dw, "z is linear in w"),
        Step("local", "dz_db", dz_db, "z is linear in b"),
    )

    # 3. Chain rule: multiply the factors, keep yhat a symbol, simplify.
    dJ_dz = _tidy(sp.factor(sp.cancel(sp.together(dJ_dyhat * dyhat_dz))))
    dJ_dw = dJ_dz * dz_dw
    dJ_db = dJ_dz * dz_db
    chain = (
        Step(
            "chain",
            "dJ_dz",
            dJ_dz,
            "chain rule: dJ/dz = dJ/dyhat * dyhat/dz",
            ("dJ_dyhat", "dyhat_dz"),
        ),
        Step(
            "chain",
            "dJ_dw",
            dJ_dw,
            "chain rule: dJ/dw = dJ/dz * dz/dw",
            ("dJ_dz", "dz_dw"),
        ),
        Step(
            "chain",
            "dJ_db",
            dJ_db,
            "chain rule: dJ/db = dJ/dz * dz/db",
            ("dJ_dz", "dz_db"),
        ),
    )

    # 4. Update rules: the gradient step, then its simplified form.
    step_w = w - alpha * dJ_dw.T if vector else w - alpha * dJ_dw
    step_b = b - alpha * dJ_db
    descent = -dJ_dz
    ratio = sp.cancel(descent / (y - yhat))
    if not ratio.free_symbols & {y, yhat, z}:
        coefficient = sp.Mul(ratio, alpha, evaluate=False) if ratio != 1 else alpha
        simple_w = w + coefficient * (y - yhat) * x
        simple_b = b + coefficient * (y - yhat)
    else:
        simple_w = w - alpha * dJ_dz * x
        simple_b = b - alpha * dJ_dz
    update = (
        Step(
            "update",
            "step_w",
            step_w,
            "gradient descent: w := w - alpha (dJ/dw)" + ("^T, a column again" if vector else ""),
        ),
        Step("update", "step_b", step_b, "gradient descent: b := b - alpha dJ/db"),
        Step("update", "update_w", simple_w, "substitute dJ/dw and simplify"),
        Step("update", "update_b", simple_b, "substitute dJ/db and simplify"),
    )

    derivation = Derivation(
        name=pair.name,
        pair=pair,
        features=features,
        steps=forward + local + chain + update,
        symbols=symbols,
    )
    _check(derivation, fail)
    return derivation


class _Dot(sp.Expr):
    """Display-only ``x^T w`` for the n-feature forward step.

    Holds the two n-vector symbols; :meth:`doit` expands to the sum.
    """

    is_commutative = True

    def __new__(cls, left: sp.MatrixSymbol, right: sp.MatrixSymbol) -> _Dot:
        return sp.Expr.__new__(cls, left, right)

    def doit(self, **hints: object) -> sp.Basic:
        left, right = self.args
        return (left.T * right).doit(**hints)[0, 0]

    def _latex(self, printer: sp.printing.latex.LatexPrinter) -> str:
        left, right = (printer._print(a) for a in self.args)
        return rf"{left}^{{T}} {right}"

    def _sympystr(self, printer: sp.printing.str.StrPrinter) -> str:
        left, right = (printer._print(a) for a in self.args)
        return left + getattr(printer, "dot_operator", "^T*") + right


def _check(d: Derivation, fail: Callable[[str, str, sp.Basic], DerivationError]) -> None:
    """Check every step of ``d`` by a second route; raise on the first failure."""
    vector = d.features == "n"
    pair = d.pair
    activation = pair.activation(z)
    loss = d.loss

    # Local partials against direct differentiation.
    residual = d.dJ_dyhat - sp.diff(loss, yhat)
    if not _is_zero(residual):
        raise fail("dJ_dyhat", "differs from d/dyhat of the loss", residual)
    residual = d.dyhat_dz.subs(yhat, activation) - sp.diff(activation, z)
    if not _is_zero(residual):
        raise fail("dyhat_dz", "differs from d/dz of the activation", residual)

    # The chain-rule product against the derivative of the composed loss.
    composed = pair.loss(y, activation)
    residual = d.dJ_dz.subs(yhat, activation) - sp.diff(composed, z)
    if not _is_zero(residual):
        raise fail("dJ_dz", "differs from d/dz of the composed loss", residual)

    # dJ/dw and dJ/db against the loss composed with the model itself.
    if vector:
        xs, ws = _explicit_components()
        model = (xs.T * ws)[0, 0] + b
        chain_w = _explicit(d.dJ_dw, xs, ws)
        chain_w = sp.Matrix(chain_w).subs(yhat, pair.activation(model))
        new_w = sp.Matrix(_explicit(d.update_w, xs, ws))
        step_w = sp.Matrix(_explicit(d.step("step_w").expr, xs, ws))
        coords = [(ws[i], chain_w[i], new_w[i], step_w[i]) for i in range(xs.shape[0])]
        x_components = list(xs)
    else:
        model = x_scalar * w_scalar + b
        chain_w = d.dJ_dw.subs(yhat, pair.activation(model))
        coords = [(w_scalar, chain_w, d.update_w, d.step("step_w").expr)]
        x_components = [x_scalar]
    full = pair.loss(y, pair.activation(model))
    for i, (wi, gi, _, _) in enumerate(coords):
        residual = gi - sp.diff(full, wi)
        if not _is_zero(residual):
            raise fail("dJ_dw", f"component {i} differs from d/dw of the composed loss", residual)
    residual = d.dJ_db.subs(yhat, pair.activation(model)) - sp.diff(full, b)
    if not _is_zero(residual):
        raise fail("dJ_db", "differs from d/db of the composed loss", residual)

    # Update rules: the simplified form equals the gradient step.
    for i, (_, _, simple, stepped) in enumerate(coords):
        residual = simple - stepped
        if not _is_zero(residual):
            raise fail("update_w", f"component {i} differs from w - alpha dJ/dw", residual)
        del i
    residual = d.update_b - d.step("step_b").expr
    if not _is_zero(residual):
        raise fail("update_b", "differs from b - alpha dJ/db", residual)
    del x_components

    # The lecture's closed forms, where the registry states them.
    if pair.claims is not None:
        for label, claim in pair.claims(y, yhat).items():
            residual = d.step(label).expr - claim
            if not _is_zero(residual):
                raise fail(label, f"differs from the registry's claim {claim}", residual)
