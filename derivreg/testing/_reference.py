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

Rounding model (used by :func:`loss_error` and :func:`grad_error`)
-----------------------------------------------------------------
``eps = 2**-52``; one rounding has relative error at most ``u = eps/2``.

1. Scores. ``z = X @ w + b`` is a dot product of length ``n`` and one addition,
   so ``|fl(z_i) - z_i| <= (n + 1) u Z_i`` with ``Z_i = |x_i|.|w| + |b|``
   (Higham, *Accuracy and Stability of Numerical Algorithms*, 3.1, for any
   summation order).  We use ``(n + 1) eps Z_i``: twice the bound.
2. One sample. From an exact score, a kernel's per-sample loss and ``dJ_dz``
   are within ``PER_SAMPLE_EPS * eps`` of their exact value *relative to the
   sum of the absolute values of their terms* (:func:`magnitude`): the stable
   forms take at most about eight roundings each (``exp``, ``log1p``, ``+``,
   ``*``, ``/``, ``where``), each ``<= u`` on a partial result no larger than
   that sum.  For labels in {0, 1} the measured worst case is 4 ulp
   (:data:`MAX_ULP`); the loss has no cancellation for any
   ``y`` in [0, 1] (both of its terms are >= 0), ``dJ_dz`` may cancel for soft
   labels, which is why the magnitude, not the value, sets the scale.
3. Propagation. By Taylor's theorem at the computed score, a score error
   ``dz`` moves the loss by at most ``|L'| dz + sup|L''| dz^2 / 2`` and
   ``dJ_dz`` by at most ``|L''| dz + sup|L'''| dz^2 / 2``.  The second-order
   terms matter where the first vanishes: ``z = fl(1 + 1e-45) = 1 = y`` makes
   the computed MSE 0 while the exact one is 2e-90 (Hypothesis found that one).
4. Means. Summing ``m`` terms and dividing by ``m`` adds at most
   ``m u sum|t_i| / m``; we use ``m eps mean|t_i|``.
5. Underflow. Below the normal range a rounding errs by up to half the smallest
   subnormal, ``TINY / 2``, whatever the relative size (Higham 2.1); every bound
   adds ``TINY`` per rounding it counts.
"""

from __future__ import annotations

import functools
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


NP_MODULES = [{"Sigmoid": expit, "Softplus": _np_softplus}, "numpy"]
MP_MODULES = [{"Sigmoid": _mp_sigmoid, "Softplus": _mp_softplus}, "mpmath"]


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
    if expr.free_symbols == {yhat}:
        return float(max(maximum(expr, yhat, out_range), -minimum(expr, yhat, out_range)))
    sup, inf, _ = bounds(expr, domain, out_range)
    return float(max(sup, -inf))


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

    @property
    def targets(self) -> str:
        return self.pair.targets

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


def _logit_bound(loss: NumFn, d1: NumFn, targets: str) -> float:
    """Largest |z| (and |y| for real targets) with a finite per-sample loss and gradient.

    With ``X = [[z]], w = [1]`` the gradient is ``L'(z) z``; for real targets the
    worst label is ``y = -z``.
    """
    for bound in [REALMAX, *(2.0**k for k in range(1023, 0, -1))]:
        zs = np.array([bound, -bound])
        labels = [np.array([0.0, 0.0]), np.array([1.0, 1.0])]
        if targets == "real":
            labels.append(-zs)
        if all(
            np.all(np.isfinite(loss(zs, t))) and np.all(np.isfinite(d1(zs, t) * zs)) for t in labels
        ):
            return bound
    raise AssertionError("no finite logit bound")  # pragma: no cover


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
        sup_d2=_sup_abs(d2, act, pair.domain),
        sup_d3=_sup_abs(d3, act, pair.domain),
        dJ_dyhat_slope=of_yhat(sp.diff(d.dJ_dyhat, yhat)),
        claims=claims,
        mp_textbook_loss=_lambdify((z, y), textbook_loss, "mpmath"),
        mp_loss=_lambdify((z, y), stable_loss, MP_MODULES),
        mp_dJ_dz=_lambdify((z, y), stable_d1, MP_MODULES),
        naive_loss=_numpy(naive, (z, y)),
        naive_dJ_dz=_numpy(d1.subs(yhat, act), (z, y)),
        stabilized=bool(rules),
        logit_bound=_logit_bound(loss_np, d1_np, d.pair.targets),
    )


# ---------------------------------------------------------------------------
# Rounding bounds (see the module docstring for the model).
# ---------------------------------------------------------------------------
def scores(X: np.ndarray, w: np.ndarray, b: float) -> tuple[np.ndarray, np.ndarray]:
    """``z = X w + b`` and its magnitude ``Z = |X| |w| + |b|``."""
    return X @ w + b, np.abs(X) @ np.abs(w) + abs(b)


def augmented(X: np.ndarray) -> np.ndarray:
    """``[X, 1]``: the rows ``(x, 1)`` that multiply ``dJ_dz`` in ``(dJ_dw, dJ_db)``."""
    return np.column_stack([X, np.ones(X.shape[0])])


def loss_error(ref: Reference, X: np.ndarray, y: np.ndarray, w: np.ndarray, b: float) -> float:
    """Bound on ``|kernel.loss - exact mean loss|`` at these (float) arguments."""
    m, n = X.shape
    z, Z = scores(X, w, b)
    J = np.abs(ref.loss(z, y))
    slope = np.abs(ref.d1(z, y))
    dz = (n + 1) * EPS * Z
    roundings = PER_SAMPLE_EPS + m + n + 1
    relative = (PER_SAMPLE_EPS + m) * float(np.mean(J))
    moved = float(np.mean(slope * dz + ref.sup_d2 * dz**2 / 2))
    return EPS * relative + moved + roundings * TINY


def grad_error(ref: Reference, X: np.ndarray, y: np.ndarray, w: np.ndarray, b: float) -> np.ndarray:
    """Bound on ``|kernel.grad - exact gradient|`` per coordinate ``(w_1..w_n, b)``."""
    m, n = X.shape
    z, Z = scores(X, w, b)
    A = np.abs(augmented(X))
    dz = (n + 1) * EPS * Z
    per_sample = EPS * (PER_SAMPLE_EPS + m) * ref.d1_magnitude(z, y)
    moved = np.abs(ref.d2(z, y)) * dz + ref.sup_d3 * dz**2 / 2
    roundings = PER_SAMPLE_EPS + m + n + 1
    return np.mean((per_sample + moved)[:, None] * A, axis=0) + roundings * TINY


# ---------------------------------------------------------------------------
# High precision.
# ---------------------------------------------------------------------------
#: Complex step of the high-precision gradient: Im f(t + i h) / h = f'(t) - h^2 f'''(t) / 6,
#: with no cancellation at all (unlike a real difference quotient, whose absolute step
#: loses a derivative whose coordinate barely moves f, e.g. x = 1e-235: Hypothesis found
#: that one against mpmath.diff).  h^2 = 1e-120 makes the truncation negligible.
MP_COMPLEX_STEP = mpmath.mpf(10) ** -60


def mp_loss_and_grad(ref: Reference, batch: Batch) -> tuple[float, np.ndarray]:
    """Mean textbook loss and its gradient by complex step, at 50 digits, rounded to float."""
    X, labels, w, b = batch
    m = X.shape[0]
    with mpmath.workdps(MP_DPS):
        rows = [[mpmath.mpf(float(v)) for v in row] for row in X]
        ys = [mpmath.mpf(float(v)) for v in labels]
        theta = [mpmath.mpf(float(v)) for v in w] + [mpmath.mpf(float(b))]

        def mean_loss(params: list) -> mpmath.mpc:
            *ws, bias = params
            total = mpmath.fsum(
                ref.mp_textbook_loss(mpmath.fdot(row, ws) + bias, yi)
                for row, yi in zip(rows, ys, strict=True)
            )
            return total / m

        h = MP_COMPLEX_STEP
        value = mean_loss(theta)
        grads = [
            mpmath.im(mean_loss([*theta[:k], theta[k] + 1j * h, *theta[k + 1 :]])) / h
            for k in range(len(theta))
        ]
        return float(value), np.array([float(g) for g in grads])


def ulps(got: float, exact: mpmath.mpf) -> float:
    """``|got - exact|`` in units of the spacing of floats at ``exact``."""
    nearest = float(exact)
    if got == nearest:
        return 0.0
    spacing = float(np.spacing(abs(nearest)))
    with mpmath.workdps(MP_DPS):
        return float(abs(mpmath.mpf(float(got)) - exact) / mpmath.mpf(spacing))
