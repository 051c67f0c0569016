"""Families 7 and 8: step sizes for which one SGD step cannot do harm.

7. Squared error on noiseless data (y = x.w* + b*).  The error
   e = (w, b) - (w*, b*) of one SGD step evolves as e' = (I - 2 alpha x~ x~^T) e,
   x~ = (x, 1).  The matrix has eigenvalue 1 - 2 alpha s once (eigenvector x~,
   s = ||x~||^2) and 1 n times (the vectors e_k - x_k e_{n+1}, orthogonal to
   x~), and ||e'||^2 - ||e||^2 = 4 alpha (alpha s - 1)(x~.e)^2.  Hence
   ||e'|| <= ||e|| for every e iff 0 <= alpha <= 1/s (at e = x~ the factor
   (x~.e)^2 = s^2 is positive).
8. Cross-entropy, one sample.  Along the step θ - t g (g the gradient), the
   logit moves as z - t (σ(z) - y) s, so the loss along the step is a
   function of z, y and s alone; its slope at t = 0 is -||g||^2 and its
   second derivative is at most (s/4) ||g||^2.  By Taylor's theorem (cited,
   not machine-checked) the step changes the loss by at most
   -alpha ||g||^2 (1 - alpha s/8) <= 0 when 0 < alpha <= 8/s.

What is proven for which n: the vector identities (error recursion,
eigenvectors, the norm identity, the logit's move) for n = 1, 2 and 3
features with explicit components; the scalar facts (the step bounds, the
slope and curvature along the step) for every n, since they involve x only
through s = ||x~||^2 >= 1.

Run ``python proofs/convergence.py`` to check and print the proofs.
"""

import sympy as sp

from derivreg.proof import Case, Theorem, explicit, load, main
from derivreg.symbolic import alpha, b, derive, w_vector, x_vector, y, yhat, z

common = load("_common")
sigma, DEFS = common.sigma, common.DEFS
MSE, BCE = derive("mse"), derive("bce")
DIMENSIONS = (1, 2, 3)
#: s = ||x~||^2 = ||x||^2 + 1 >= 1, for the statements that hold for every n.
s = sp.Symbol("s", positive=True)
LABELS = {y: sp.Interval(0, 1)}

#: The step-size bounds the training code and its property tests use.
BOUNDS = {"mse": 1 / s, "bce": 8 / s}


def vectors(n: int) -> tuple[sp.Matrix, sp.Matrix, sp.Matrix, sp.Symbol, sp.Matrix]:
    xs, ws = common.explicit_vectors(n)
    stars = sp.Matrix(sp.symbols(f"wstar_1:{n + 1}", real=True))
    bstar = sp.Symbol("bstar", real=True)
    return xs, ws, stars, bstar, xs.col_join(sp.Matrix([1]))


def mse_theorems(n: int) -> list[Theorem]:
    xs, ws, stars, bstar, xt = vectors(n)
    e = (ws - stars).col_join(sp.Matrix([b - bstar]))
    data = {y: (xs.T * stars)[0, 0] + bstar, yhat: (xs.T * ws)[0, 0] + b}
    new_w = explicit(MSE.update_w, {x_vector: xs, w_vector: ws}).subs(data)
    new_b = MSE.update_b.subs(data)
    new_e = (new_w - stars).col_join(sp.Matrix([new_b - bstar]))
    M = sp.eye(n + 1) - 2 * alpha * xt * xt.T
    sx = (xt.T * xt)[0, 0]
    recursion = (
        Theorem(
            f"convergence.mse_error_recursion[n={n}]",
            f"n = {n}, noiseless data: one step of the derivation's update maps the error "
            "e = (w - w*, b - b*) to (I - 2 alpha x~ x~^T) e",
        )
        .start(new_e, "the error after the derivation's update_w, update_b")
        .eq(e - 2 * alpha * (xt.T * e)[0, 0] * xt, "y - yhat = x.w* + b* - x.w - b = -x~.e")
        .eq(M * e, "(x~.e) x~ = x~ x~^T e")
    )
    eigen = Theorem(
        f"convergence.mse_eigen[n={n}]",
        f"n = {n}: I - 2 alpha x~ x~^T has eigenvalue 1 - 2 alpha ||x~||^2 (eigenvector x~) and "
        f"eigenvalue 1 with the {n} eigenvectors e_k - x_k e_{n + 1}, with x~ a basis",
    ).claim(M * xt, "=", (1 - 2 * alpha * sx) * xt, "x~ x~^T x~ = ||x~||^2 x~")
    basis = [xt]
    for i in range(n):
        v = sp.zeros(n + 1, 1)
        v[i], v[n] = 1, -xs[i]
        basis.append(v)
        eigen.claim(
            M * v,
            "=",
            v,
            f"x~.v = x_{i + 1} - x_{i + 1} = 0 for v = e_{i + 1} - x_{i + 1} e_{n + 1}",
        )
    eigen.claim(
        sp.Matrix.hstack(*basis).det(), "=", (-1) ** n * sx, "the determinant of [x~, v_1 ...]"
    )
    eigen.claim(sx, ">", 0, "so it is nonzero: a basis of eigenvectors")
    contraction = (
        Theorem(
            f"convergence.mse_contraction[n={n}]",
            f"n = {n}: ||e'||^2 - ||e||^2 = 4 alpha (alpha ||x~||^2 - 1)(x~.e)^2 for e' = "
            "(I - 2 alpha x~ x~^T) e",
        )
        .start(((M * e).T * (M * e))[0, 0] - (e.T * e)[0, 0], "||e'||^2 - ||e||^2")
        .eq(4 * alpha * (alpha * sx - 1) * (xt.T * e)[0, 0] ** 2, "expand; x~^T x~ = ||x~||^2")
        .claim((xt.T * xt)[0, 0] ** 2, ">", 0, "at e = x~ the factor (x~.e)^2 is ||x~||^4 > 0")
    )
    return [recursion, eigen, contraction]


MSE_BOUND = (
    Theorem(
        "convergence.mse_step_bound",
        "for every n: ||e'|| <= ||e|| for every e iff |1 - 2 alpha s| <= 1 iff "
        "alpha (alpha s - 1) <= 0 iff 0 <= alpha <= 1/s, s = ||x~||^2 > 0",
        where={s: sp.Interval(1, sp.oo)},
    )
    .solve(
        sp.Abs(1 - 2 * alpha * s) <= 1,
        alpha,
        sp.Interval(0, BOUNDS["mse"]),
        "the eigenvalue 1 - 2 alpha s in [-1, 1] (convergence.mse_eigen)",
    )
    .solve(
        alpha * (alpha * s - 1) <= 0,
        alpha,
        sp.Interval(0, BOUNDS["mse"]),
        "the sign of ||e'||^2 - ||e||^2 for every e (convergence.mse_contraction)",
    )
)


def logit_step(n: int) -> Theorem:
    xs, ws, _, _, xt = vectors(n)
    sx = (xt.T * xt)[0, 0]
    score = (xs.T * ws)[0, 0] + b
    new_w = explicit(BCE.update_w, {x_vector: xs, w_vector: ws})
    return (
        Theorem(
            f"convergence.logistic_logit_step[n={n}]",
            f"n = {n}: after the derivation's update, the logit x.w + b moves by "
            "-alpha (yhat - y) ||x~||^2",
        )
        .start((xs.T * new_w)[0, 0] + BCE.update_b, "x.w' + b' after update_w, update_b")
        .eq(score + alpha * (y - yhat) * sx, "w' = w + alpha(y - yhat)x, b' = b + alpha(y - yhat)")
        .eq(score - alpha * (yhat - y) * sx, "so the step moves z by -alpha (yhat - y) s")
    )


#: The derivation's loss as a function of the logit (y fixed), named J for display.
J = sp.Function("J")
LOSS_DEFS = {**DEFS, J: sp.Lambda(common.t, BCE.yhat_of_z(BCE.loss).subs(z, common.t))}
tt = sp.Symbol("tau", nonnegative=True)
residual = sigma(z) - y  # dJ/dz, so the gradient is g = residual * x~ and ||g||^2 = residual^2 s
along = z - tt * residual * s  # the logit at θ - t g
STEP_DOMAIN = {y: sp.Interval(0, 1), s: sp.Interval(1, sp.oo)}

SLOPE = (
    Theorem(
        "convergence.logistic_slope",
        "d/dτ J(θ - τ g) at τ = 0 is -||g||^2, g the gradient",
        where=STEP_DOMAIN,
        defs=LOSS_DEFS,
    )
    .start(sp.Subs(sp.Derivative(J(along), tt), tt, 0), "the slope along -g")
    .eq(-(residual**2) * s, "dJ/dz = σ(z) - y (bce.cancellation) times dz/dt = -(σ(z) - y)s")
)

CURVATURE = (
    Theorem(
        "convergence.logistic_curvature",
        "d²/dτ² J(θ - τ g) <= (s/4) ||g||^2 for every τ >= 0: the second derivative along "
        "the step is at most ||x~||^2/4 per unit of squared step length",
        where=STEP_DOMAIN,
        defs=LOSS_DEFS,
    )
    .start(sp.Derivative(J(along), (tt, 2)), "the curvature along -g")
    .eq(
        sigma(along) * (1 - sigma(along)) * residual**2 * s**2,
        "d²J/dz² = σ(1 - σ) (sigmoid.derivative) times (dz/dt)^2",
    )
    .le(
        residual**2 * s**2 / 4,
        "σ(1 - σ) <= 1/4 (sigmoid.curvature_bound)",
        certificate=(sigma(along) - sp.Rational(1, 2)) ** 2 * residual**2 * s**2,
    )
    .eq(sp.Mul(s / 4, residual**2 * s, evaluate=False), "= (s/4) ||g||^2")
)

u = sp.Symbol("u", nonnegative=True)
STEP = (
    Theorem(
        "convergence.logistic_step",
        "for every n, y in [0, 1] and 0 < alpha <= 8/s: J(θ - alpha g) <= J(θ)",
        where={**STEP_DOMAIN, alpha: sp.Interval.Lopen(0, BOUNDS["bce"])},
        defs=LOSS_DEFS,
    )
    .start(J(z - alpha * residual * s), "the loss after one step (logit moved as above)")
    .le(
        J(z) - alpha * residual**2 * s + alpha**2 / 2 * (s / 4) * residual**2 * s,
        "slope -||g||^2 and curvature <= (s/4)||g||^2 (logistic_slope, logistic_curvature)",
        cite="Taylor's theorem with the Lagrange remainder",
    )
    .eq(J(z) - alpha * residual**2 * s * (1 - alpha * s / 8), "collect alpha ||g||^2")
    .le(
        J(z),
        "alpha ||g||^2 (1 - alpha s/8) >= 0",
        certificate=alpha * residual**2 * s * (1 - alpha * s / 8),
        cases=[
            Case("0 < alpha <= 8/s, as alpha = 8/(s(1 + u)), u >= 0", {alpha: 8 / (s * (1 + u))})
        ],
    )
    .solve(
        alpha * (1 - alpha * s / 8) >= 0,
        alpha,
        sp.Interval(0, BOUNDS["bce"]),
        "the bound is sharp for this argument: the factor changes sign at 8/s",
    )
)

THEOREMS = [
    *[t for n in DIMENSIONS for t in mse_theorems(n)],
    MSE_BOUND,
    *[logit_step(n) for n in DIMENSIONS],
    SLOPE,
    CURVATURE,
    STEP,
]

if __name__ == "__main__":
    raise SystemExit(main(THEOREMS))
