"""Independent references for a pair, and the rounding bounds the properties use.

Everything here is built from the pair's *derivation* (SymPy), never from its
generated kernel, so a new pair in the registry gets references with no new
code:

- the per-sample loss ``L(z, y)`` and its derivatives ``L'``, ``L''`` along the
  score ``z``, as NumPy functions of the stable forms (with NumPy's own
  ``logaddexp`` and SciPy's ``expit`` for softplus and the sigmoid);
- global bounds ``sup |L''|`` and ``sup |L'''|`` over the activation's range,
  found by SymPy (``1/4`` and ``sqrt(3)/18 = 1/(6 sqrt 3)`` for BCE; ``2`` and
  ``0`` for MSE);
- the textbook loss in mpmath at 50 digits (complex-step derivatives);
- the stable forms in mpmath at 50 digits, exact over the whole float64
  range (mpmath's exponent range is unbounded, so ``log1p(exp(-1e308))`` is
  an ordinary number there).

The rounding model the tolerances use is written in :mod:`derivreg.testing._bounds`.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import NamedTuple

import mpmath
import numpy as np
import sympy as sp
from scipy.special import expit
from sympy.calculus.util import function_range, maximum, minimum

from derivreg.codegen import stabilize
from derivreg.codegen.printers import check_names
from derivreg.symbolic import REGISTRY, Derivation, Pair, derive, y, yhat, z
from derivreg.symbolic.curvature import bounds

EPS = float(np.finfo(np.float64).eps)
REALMAX = float(np.finfo(np.float64).max)
TINY = float(np.finfo(np.float64).smallest_subnormal)

#: Per-sample relative error of a kernel's loss or dJ_dz, in units of eps (see 2. above).
PER_SAMPLE_EPS = 8

#: The measured worst error of the built-in kernels over the whole float64 range, in
#: units in the last place (``tests/test_codegen.py::MAX_ULP``, which a test keeps
#: equal to this): the stability property's accuracy bound.
MAX_ULP = 4.0

#: Digits of the mpmath references.
MP_DPS = 50

NumFn = Callable[..., np.ndarray]


class Batch(NamedTuple):
    """One batch of kernel arguments."""

    X: np.ndarray
    y: np.ndarray
    w: np.ndarray
    b: float


def _np_softplus(t: np.ndarray) -> np.ndarray:
    return np.logaddexp(0.0, t)


def _mp_sigmoid(t: mpmath.mpf) -> mpmath.mpf:
    return 1 / (1 + mpmath.exp(-t))


def _mp_softplus(t: mpmath.mpf) -> mpmath.mpf:
    return mpmath.log1p(mpmath.exp(t))


def _np_log_cosh(t: np.ndarray) -> np.ndarray:
    # log cosh t for the tolerances: log(cosh^2)/2 = log1p(sinh^2)/2 where sinh^2 fits,
    # log(e^|t| (1 + e^-2|t|) / 2) past it (both forms proven in proofs/stability.py)
    a = np.abs(t)
    near = np.log1p(np.sinh(np.minimum(a, 300.0)) ** 2) / 2
    return np.where(a < 300.0, near, a - np.log(2.0) + np.log1p(np.exp(-2 * a)))


def _mp_log_cosh(t: mpmath.mpf) -> mpmath.mpf:
    # log(cosh^2)/2 = log1p(sinh^2)/2: no cancellation at 50 digits for any t, however small
    return mpmath.log1p(mpmath.sinh(t) ** 2) / 2


NP_MODULES = [
    {"Sigmoid": expit, "Softplus": _np_softplus, "LogCosh": _np_log_cosh},
    "numpy",
]
MP_MODULES = [
    {"Sigmoid": _mp_sigmoid, "Softplus": _mp_softplus, "LogCosh": _mp_log_cosh},
    "mpmath",
]


def _lambdify(args: tuple[sp.Symbol, ...], expr: sp.Basic, modules: object) -> Callable:
    """``sympy.lambdify`` of a derivation's expression, its names checked first."""
    # The expression is a derivation's, built by derive() from the pair's callables; check_names
    # refuses a symbol or function whose name is not a plain identifier (sympy#24990).
    # Safe because: no text is parsed, and no name can print as code (the generator's check).
    return sp.lambdify(args, check_names(expr), modules=modules)


def _numpy(expr: sp.Basic, args: tuple[sp.Symbol, ...]) -> NumFn:
    """Lambdify ``expr`` for NumPy; the result always has the broadcast shape of the args."""
    f = _lambdify(args, expr, NP_MODULES)

    def call(*values: object) -> np.ndarray:
        arrays = np.broadcast_arrays(*(np.asarray(v, dtype=np.float64) for v in values))
        with np.errstate(all="ignore"):
            out = np.asarray(f(*arrays), dtype=np.float64)
        return np.array(np.broadcast_to(out, arrays[0].shape))

    return call


def magnitude(expr: sp.Basic) -> sp.Basic:
    """``expr`` with every sum replaced by the sum of the absolute values of its terms.

    The rounding error of a cancellation-free evaluation of ``expr`` is at most
    a few eps times this (see the module docstring, 2.).
    """
    if expr.is_Add:
        return sp.Add(*(sp.Abs(magnitude(a)) for a in expr.args))
    if expr.is_Mul:  # a product's error is relative to |product|: the factors' signs drop
        return sp.Mul(*(sp.Abs(magnitude(a)) for a in expr.args))
    if expr.args:
        return expr.func(*(magnitude(a) for a in expr.args))
    return expr


def _sup_abs(expr: sp.Expr, activation: sp.Expr, domain: sp.Set) -> float:
    """``sup |expr|`` over the labels' ``domain`` and the activation's range.

    A function of yhat alone is bounded along yhat; one of y too by the
    derivation's own :func:`~derivreg.symbolic.curvature.bounds` (inf where
    SymPy cannot bound it: every tolerance that uses it is then inf, and a
    property that needs it finite says so in its ``applies``).
    """
    expr = sp.simplify(expr)
    if not expr.free_symbols:
        return float(abs(expr))
    out_range = function_range(activation, z, sp.S.Reals)
    # as floats: SymPy may not order two exact extrema it has found (log-cosh's
    # d3 = -2 tanh sech^2 has them at sinh(log(sqrt(2 +- sqrt 3)))/cosh(...)^3)
    if expr.free_symbols == {yhat}:
        top, low = maximum(expr, yhat, out_range), minimum(expr, yhat, out_range)
        return max(float(top), -float(low))
    sup, inf, _ = bounds(expr, domain, out_range)
    return max(float(sup), -float(inf))


@dataclass(frozen=True)
class Reference:
    """What the properties know about one pair, from its derivation alone.

    The numeric functions take ``(z, y)`` (the score and the label) unless
    noted; ``d1``, ``d2`` are ``dL/dz`` and ``d^2L/dz^2`` of the per-sample loss.
    """

    name: str
    pair: Pair
    derivation: Derivation
    activation: NumFn
    loss: NumFn
    d1: NumFn
    d1_magnitude: NumFn
    d2: NumFn
    d3: NumFn
    sup_d2: float
    sup_d3: float
    dJ_dyhat_slope: NumFn
    claims: dict[str, tuple[NumFn, NumFn]]
    mp_textbook_loss: Callable[[mpmath.mpf, mpmath.mpf], mpmath.mpf]
    mp_loss: Callable[[mpmath.mpf, mpmath.mpf], mpmath.mpf]
    mp_dJ_dz: Callable[[mpmath.mpf, mpmath.mpf], mpmath.mpf]
    naive_loss: NumFn
    naive_dJ_dz: NumFn
    stabilized: bool
    logit_bound: float
    #: The last operation's operands, ``sum |terms|`` of the stable loss's top-level sum
    #: (``|J|`` when it is not a sum): the scale its final rounding is relative to.
    loss_scale: NumFn
    #: Largest |z| (a power of 2 at most logit_bound) where the textbook chain factors,
    #: evaluated in float64, give dJ/dz wherever their product is finite (Gamma's
    #: (yhat - y)/yhat**2 overflows its square past z = 354.9).
    chain_bound: float
    #: Whether ``inf_z J(z, y) >= 0`` for every label (MSE, BCE); the log-link losses
    #: drop terms free of z, so theirs is ``y - y log y`` (Poisson), ``1 + log y`` (Gamma).
    nonnegative: bool
    #: Whether the textbook form evaluated as written differs from the kernel's
    #: (else the planted "naive loss" is the kernel itself and cannot be caught).
    has_naive_form: bool

    @property
    def targets(self) -> str:
        return self.pair.targets

    @property
    def real_labels(self) -> bool:
        """Whether any real label is valid (the domain is the whole line)."""
        return self.pair.domain == sp.S.Reals

    @property
    def bounded_curvature(self) -> bool:
        """Whether sup d2J/dz2 is finite, so that per-sample SGD has a safe constant step."""
        return math.isfinite(self.sup_d2)

    @property
    def quadratic(self) -> bool:
        """Whether the loss is quadratic in z (third derivative identically 0)."""
        return self.sup_d3 == 0.0

    @property
    def chain_factor_trivial(self) -> bool:
        """Whether dyhat/dz is identically 1 (the identity activation)."""
        return self.derivation.dyhat_dz == 1

    def step_size_bound(self, v_norm2: float) -> float:
        """Per-sample SGD step bound ``2 / (sup L'' ||v||^2)``: gradient descent contracts
        on a convex function whose curvature along ``v = (x, 1)`` is at most
        ``sup L'' ||v||^2`` for steps up to ``2 / curvature`` (co-coercivity).
        """
        return 2.0 / (self.sup_d2 * v_norm2)


#: The chain factors a kernel module prints as functions of their own.
KERNEL_FACTORS = ("dJ_dyhat", "dyhat_dz", "dJ_dz")


def _logit_bound(loss: NumFn, d1: NumFn, real_labels: bool) -> float:
    """Largest |z| (and |y| for real targets) with a finite per-sample loss and gradient.

    With ``X = [[z]], w = [1]`` the gradient is ``L'(z) z``; for real targets the
    worst label is ``y = -z``.
    """
    for bound in [REALMAX, *(2.0**k for k in range(1023, 0, -1))]:
        zs = np.array([bound, -bound])
        labels = [np.array([0.0, 0.0]), np.array([1.0, 1.0])]
        if real_labels:  # labels 0 and 1 are in every built-in domain but Gamma's y > 0
            labels.append(-zs)
        if all(
            np.all(np.isfinite(loss(zs, t))) and np.all(np.isfinite(d1(zs, t) * zs)) for t in labels
        ):
            return bound
    raise AssertionError("no finite logit bound")  # pragma: no cover


def _chain_bound(
    dJ_dyhat: NumFn, dyhat_dz: Callable, activation: Callable, d1: NumFn, bound: float
) -> float:
    """Largest |z| <= bound, a power of 2, where dJ_dyhat(y, g(z)) dyhat_dz(z) = dJ/dz
    (to 1e-6) or is not finite, at labels 1/2 and 1 (in every built-in domain)."""
    for b in [bound, *(2.0**k for k in range(1023, 0, -1) if 2.0**k < bound)]:
        zs = np.array([b, -b])
        ok = True
        for t in (0.5, 1.0):
            ys = np.full(2, t)
            with np.errstate(all="ignore"):
                product = dJ_dyhat(ys, activation(zs)) * dyhat_dz(zs)
                want = d1(zs, ys)
            ok = ok and bool(
                np.all(~np.isfinite(product) | (np.abs(product - want) <= 1e-6 * np.abs(want)))
            )
        if ok:
            return b
    raise AssertionError("no chain bound")  # pragma: no cover


def _nonnegative(d: Derivation) -> bool:
    """Whether the loss's infimum over yhat, reached at yhat = y, is >= 0 for every label.

    For every registered loss dJ/dyhat vanishes only at yhat = y, so the infimum is
    ``J(y, y)``: 0 for MSE, the entropy for BCE, ``y - y log y`` and ``1 + log y``
    (negative for some y) for the log-link losses.
    """
    floor = sp.simplify(d.loss.subs(yhat, y))
    if floor == 0:
        return True
    low = minimum(floor, y, d.pair.domain)
    return bool(low.is_nonnegative)


def monotone_tails(exprs: list[sp.Expr], labels: sp.Set) -> bool:
    """Whether each of ``exprs`` (functions of z and y) is monotone in z with one sign.

    Then ``|expr|`` is monotone in z, for every label of the domain: SymPy must
    prove the sign of ``expr`` and of its z-derivative, with y positive when the
    domain lies in [0, oo) (Poisson: ``exp(z)``; Gamma: ``y exp(-z)``, ``-y exp(-z)``).
    """
    zr = sp.Symbol("z", real=True)
    yr = sp.Symbol("y", positive=True) if labels.inf.is_nonnegative else sp.Symbol("y", real=True)
    for expr in exprs:
        e = expr.subs({z: zr, y: yr})
        for part in (e, sp.diff(e, zr)):
            if not (part.is_positive or part.is_negative):
                return False
    return True


def reference(pair: str | Pair) -> Reference:
    """The :class:`Reference` of a registered pair's name, or of any :class:`Pair` (cached).

    Examples
    --------
    >>> reference("mse").sup_d2
    2.0
    """
    return _reference(REGISTRY[pair] if isinstance(pair, str) else pair)


@functools.cache
def _reference(pair: Pair) -> Reference:
    d = derive(pair)
    name = pair.name
    act = d.activation
    textbook_loss = d.loss.subs(yhat, act)
    stable_loss, rules = stabilize(textbook_loss)
    d1 = d.dJ_dz
    d2 = sp.diff(d1, yhat) * d.dyhat_dz + sp.diff(d1, z)
    d3 = sp.diff(d2, yhat) * d.dyhat_dz + sp.diff(d2, z)
    stable_d1, _ = stabilize(d1.subs(yhat, act))
    stable_d2, _ = stabilize(sp.simplify(d2).subs(yhat, act))

    def of_z(expr: sp.Basic) -> NumFn:
        return _numpy(expr, (z, y))

    sup_d2 = _sup_abs(d2, act, d.pair.domain)
    sup_d3 = _sup_abs(d3, act, d.pair.domain)
    unbounded = [e.subs(yhat, act) for e, s in ((d2, sup_d2), (d3, sup_d3)) if math.isinf(s)]
    if unbounded and not monotone_tails([sp.simplify(e) for e in unbounded], d.pair.domain):
        # a refusal, not a placeholder: the tolerances' local sups need monotone tails
        raise ValueError(
            f"{name}: its curvature is unbounded and SymPy cannot prove it monotone in z, "
            "so the property suite has no error bound for it (extend _reference.local_sup)"
        )

    def of_yhat(expr: sp.Basic) -> NumFn:
        return _numpy(expr, (y, yhat))

    claims = {}
    if d.pair.claims is not None:
        for label, claim in d.pair.claims(y, yhat).items():
            # A claim on d2J/dz2 is checked by derive() itself; the kernels print no
            # second derivative yet (the second-order issue adds one).
            if label in KERNEL_FACTORS:
                claims[label] = (of_yhat(claim), of_yhat(sp.diff(claim, yhat)))
    naive = textbook_loss if rules else sp.expand(textbook_loss)
    loss_np = of_z(stable_loss)
    d1_np = of_z(stable_d1)
    return Reference(
        name=name,
        pair=pair,
        derivation=d,
        activation=_numpy(stabilize(act)[0], (z,)),
        loss=loss_np,
        d1=d1_np,
        # a magnitude is >= 0: Abs, for a product such as -(a - b)(a + b)/c (log-cosh's)
        d1_magnitude=of_z(sp.Abs(magnitude(stable_d1))),
        d2=of_z(stable_d2),
        d3=of_z(stabilize(sp.simplify(d3).subs(yhat, act))[0]),
        sup_d2=sup_d2,
        sup_d3=sup_d3,
        dJ_dyhat_slope=of_yhat(sp.diff(d.dJ_dyhat, yhat)),
        claims=claims,
        mp_textbook_loss=_lambdify((z, y), textbook_loss, "mpmath"),
        mp_loss=_lambdify((z, y), stable_loss, MP_MODULES),
        mp_dJ_dz=_lambdify((z, y), stable_d1, MP_MODULES),
        naive_loss=_numpy(naive, (z, y)),
        naive_dJ_dz=_numpy(d1.subs(yhat, act), (z, y)),
        stabilized=bool(rules),
        loss_scale=of_z(
            sp.Add(*(sp.Abs(t) for t in stable_loss.args))
            if stable_loss.is_Add
            else sp.Abs(stable_loss)
        ),
        nonnegative=_nonnegative(d),
        chain_bound=_chain_bound(
            of_yhat(d.dJ_dyhat),
            _numpy(stabilize(d.dyhat_dz.subs(yhat, act))[0], (z,)),
            _numpy(stabilize(act)[0], (z,)),
            d1_np,
            _logit_bound(loss_np, d1_np, d.pair.domain == sp.S.Reals),
        ),
        has_naive_form=bool(rules) or naive != stable_loss or stable_d1 != d1.subs(yhat, act),
        logit_bound=_logit_bound(loss_np, d1_np, d.pair.domain == sp.S.Reals),
    )
