"""Properties of training (derivreg.train.train) over the generated kernels.

Issue 5, properties 5 (repeated epochs), 6, 7, 8 and 9 (same seed).  Each
check trains with the kernel it is given, put in place of the generated one
for the duration of the call (``training_with``), so the same check runs on
the real kernel and on a planted bug (see :mod:`properties.factory`).
Per-sample training runs the generated ``sgd_epoch`` loop
(``derivreg/kernels/<pair>_loop.py``); those properties also run with each
step taken by the kernel's ``update`` (variant "update per sample").
"""

from __future__ import annotations

import itertools
import math

import numpy as np
from hypothesis import strategies as st

from derivreg import data
from derivreg.experiments import run as lecture_run
from derivreg.experiments import summary
from derivreg.testing._bounds import augmented
from derivreg.testing._reference import EPS
from derivreg.testing._strategies import batches, dyadic
from derivreg.train import DivergenceError, train
from properties.factory import Property, make_tests, training_with

#: Per-sample training runs the generated sgd_epoch loop; the same properties also
#: run with each per-sample step taken by the kernel's update.
PER_SAMPLE = ("generated", "update per sample")


def fit(kernel, ref, X, y, **options):
    """``train(X, y, loss=<pair>, **options)`` with ``kernel`` as the pair's kernel.

    Divergence is a failure of the property (an AssertionError), not a crash.
    """
    with training_with(kernel, ref.name):
        try:
            return train(X, y, loss=ref.name, **options)
        except DivergenceError as err:
            raise AssertionError(f"training diverged: {err}") from err


def regression(ref) -> bool:
    """Real labels and a finite sup d2J/dz2 (the SGD step-size bound exists)."""
    return ref.targets == "real" and ref.bounded_curvature


def classification(ref) -> bool:
    return ref.targets == "binary"


# ---------------------------------------------------------------------------
# 5 (repeated epochs) and 6: per-sample SGD on a quadratic loss.
# ---------------------------------------------------------------------------
@st.composite
def designs(draw, ref, *, noisy: bool):
    """A well-posed regression problem for per-sample SGD.

    Rows: the full factorial design {-s, s}^n (so [X, 1] has orthogonal columns and
    the truth is identifiable), plus up to two rows with entries in [-s, s], in a
    drawn order.  The truth is a multiple of 1/16 with b* != 0, so ||theta*|| >=
    1/16 and the noiseless labels X w* + b* are exact.  The step is c times half
    the step-size bound, c in [1/2, 1]: at c = 1 each step on a row of the
    largest norm is an exact projection (Kaczmarz).  Noise, if any, is a
    multiple of 1/16 in [-1, 1] per sample.
    """
    n = draw(st.integers(1, 3))
    s = draw(st.sampled_from([0.5, 1.0, 2.0]))
    factorial = np.array(list(itertools.product([-1.0, 1.0], repeat=n))) * s
    extra = draw(dyadic((draw(st.integers(0, 2)), n), bound=16)) * s
    X = np.vstack([factorial, extra])
    X = X[np.array(draw(st.permutations(range(X.shape[0]))))]
    w_star = draw(dyadic(n))
    b_star = draw(st.integers(1, 128)) / 16 * draw(st.sampled_from([-1.0, 1.0]))
    c = draw(st.floats(0.5, 1.0))
    noise = draw(dyadic(X.shape[0], bound=16)) if noisy else np.zeros(X.shape[0])
    return X, w_star, b_star, c, noise


def epoch_map(ref, X, y, alpha):
    """One epoch of per-sample SGD on a quadratic loss as an affine map theta -> P theta + q.

    The per-sample gradient is L'(v.theta, y) v = (L'(0, y) + L'' v.theta) v with
    L'' constant, so each step is theta -> (I - alpha L'' v v^T) theta - alpha L'(0, y) v.
    """
    V = augmented(X)
    k = V.shape[1]
    P, q = np.eye(k), np.zeros(k)
    curvature = float(ref.d2(np.zeros(1), np.zeros(1))[0])
    for v, label in zip(V, y, strict=True):
        step = np.eye(k) - alpha * curvature * np.outer(v, v)
        P, q = step @ P, step @ q - alpha * float(ref.d1(np.zeros(1), np.array([label]))[0]) * v
    return P, q, curvature


def sgd_run(kernel, ref, case, target: float):
    """Per-sample SGD from zero for as many epochs as the contraction factor of the
    epoch map says are needed to shrink the distance to its fixed point by ``target``.

    Returns (theta after E epochs, fixed point, P, q, alpha, E, y, rounding slack).
    """
    X, w_star, b_star, c, noise = case
    y = X @ w_star + b_star + noise
    V = augmented(X)
    alpha = c * ref.step_size_bound(float(np.max(np.sum(V * V, axis=1)))) / 2
    P, q, curvature = epoch_map(ref, X, y, alpha)
    rho = float(np.linalg.norm(P, 2))
    assert rho < 1, f"the epoch map does not contract: ||P|| = {rho}"  # full-rank design
    epochs = 1 if rho <= target else math.ceil(math.log(target) / math.log(rho))
    fixed = np.linalg.solve(np.eye(P.shape[0]) - P, q)
    w, b, _ = fit(kernel, ref, X, y, lr=alpha, epochs=epochs, record="none")
    theta = np.append(w, b)
    # Each update rounds each coordinate once (plus the gradient's few eps); the errors
    # are then contracted, so their total is at most the number of updates times one
    # update's error, (n + 4) eps of the parameters' scale.
    m, n = X.shape
    scale = 1.0 + np.linalg.norm(fixed) + alpha * curvature * np.max(np.abs(V)) * np.max(np.abs(y))
    slack = epochs * m * (n + 4) * EPS * scale
    return theta, fixed, alpha, epochs, y, slack


#: Relative accuracy the noiseless run must reach (the issue's 1e-8).
RECOVERY = 1e-8


def check_recovery(kernel, ref, case) -> None:
    """Noiseless linear data: repeated epochs of per-sample SGD recover (w*, b*) to 1e-8.

    With no noise the truth is the fixed point of the epoch map, and the error
    contracts by ||P|| per epoch; E = ceil(log(1e-8 / 2) / log ||P||) epochs from
    zero leave at most 1e-8 ||theta*|| / 2, plus rounding.
    """
    _, w_star, b_star, _, _ = case
    truth = np.append(w_star, b_star)
    theta, _, _, epochs, _, slack = sgd_run(kernel, ref, case, RECOVERY / 2)
    error = float(np.linalg.norm(theta - truth))
    bound = RECOVERY * float(np.linalg.norm(truth))
    assert error <= bound + slack, (
        f"after {epochs} epochs |theta - theta*| = {error:.3g} > {bound:.3g} (truth {truth})"
    )


RECOVERY_PROPERTY = Property(
    "repeated epochs of per-sample SGD recover noiseless linear parameters to 1e-8",
    strategy=lambda ref: designs(ref, noisy=False),
    check=check_recovery,
    catches=("sign flipped in grad", "factor 2 dropped"),
    applies=lambda ref: regression(ref) and ref.quadratic,
    variants=PER_SAMPLE,
)
TestRecovery = make_tests(RECOVERY_PROPERTY)


def check_least_squares(kernel, ref, case) -> None:
    """Noisy linear data: per-sample SGD ends within alpha C of numpy.linalg.lstsq.

    With constant step alpha the epochs converge to the fixed point theta_inf of
    the epoch map (to 1e-9 of the distance from the start, by ||P||^E).  Along
    its cycle theta_0 = theta_inf, theta_1, ..., theta_m = theta_inf, the steps sum
    to zero, and each per-sample gradient is affine with Hessian H_i = L'' v_i v_i^T:

        grad F(theta_inf) = sum_i grad f_i(theta_inf)
                          = sum_i H_i (theta_inf - theta_i)         (the steps cancel)
        |theta_i - theta_inf| <= alpha sum_{j<i} |grad f_j(theta_j)|,

    and F (the summed loss) has curvature >= lambda = L'' lambda_min(V^T V), so

        |theta_inf - theta_LS| <= |grad F(theta_inf)| / lambda
                               <= alpha C,  C = sum_i L''|v_i|^2 sum_{j<i} |grad f_j| / lambda.

    The learning rate sets the tolerance: C is computed from the data on the cycle.
    """
    X, _, _, _, _ = case
    theta, fixed, alpha, epochs, y, slack = sgd_run(kernel, ref, case, 1e-9)
    V = augmented(X)
    least_squares = np.linalg.lstsq(V, y, rcond=None)[0]
    curvature = float(ref.d2(np.zeros(1), np.zeros(1))[0])
    # The cycle through the fixed point, and C.
    point, path, C = fixed.copy(), 0.0, 0.0
    for v, label in zip(V, y, strict=True):
        C += curvature * float(v @ v) * path
        g = float(ref.d1(np.array([v @ point]), np.array([label]))[0]) * v
        path += float(np.linalg.norm(g))
        point = point - alpha * g
    lam = curvature * float(np.linalg.eigvalsh(V.T @ V)[0])
    C /= lam
    tolerance = alpha * C
    transient = 1e-9 * float(np.linalg.norm(fixed))
    distance = float(np.linalg.norm(theta - least_squares))
    assert float(np.linalg.norm(fixed - least_squares)) <= tolerance * (1 + 1e-9) + slack
    assert distance <= tolerance + transient + slack, (
        f"after {epochs} epochs |theta - theta_LS| = {distance:.3g} > alpha C = {tolerance:.3g}"
        f" (+ {transient:.2g}); the epoch map's fixed point is {fixed}, lstsq {least_squares}"
    )
    assert float(np.linalg.norm(theta - fixed)) <= transient + slack, (
        f"training ended at {theta}, not at the epoch map's fixed point {fixed}"
    )


LEAST_SQUARES = Property(
    "per-sample SGD on noisy linear data ends within alpha C of least squares",
    strategy=lambda ref: designs(ref, noisy=True),
    check=check_least_squares,
    catches=("sign flipped in dJ_dz", "factor 2 dropped"),
    applies=lambda ref: regression(ref) and ref.quadratic,
    variants=PER_SAMPLE,
)
TestLeastSquares = make_tests(LEAST_SQUARES)


# ---------------------------------------------------------------------------
# 7. Logistic, Bernoulli labels.
# ---------------------------------------------------------------------------
@st.composite
def bernoulli_problems(draw, ref):
    """X ~ N(0, 1)^(m x d), a truth theta* in [-1, 1] (multiples of 1/16), labels
    ~ Bernoulli(sigmoid(x.w* + b*)), m = 50 (d + 1) k samples.  Hypothesis draws d,
    k, theta* and the seed; under the ci profile the draws are fixed."""
    d = draw(st.integers(1, 3))
    k = draw(st.integers(1, 2))
    truth = draw(dyadic(d + 1, bound=16))
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    m = 50 * (d + 1) * k
    X = rng.standard_normal((m, d))
    p = ref.activation(augmented(X) @ truth)
    y = (rng.random(m) < p).astype(np.float64)
    return X, y, truth


def irls(V: np.ndarray, y: np.ndarray) -> np.ndarray:
    """The logistic MLE by Newton's method (IRLS), independent of derivreg.

    Newton's method converges quadratically near the optimum; it stops when a
    step is below 1e-14 of the parameters' size (or after 100 steps).
    """
    theta = np.zeros(V.shape[1])
    for _ in range(100):
        p = np.exp(-np.logaddexp(0.0, -(V @ theta)))
        hessian = (V * (p * (1 - p))[:, None]).T @ V
        step = np.linalg.solve(hessian, V.T @ (p - y))
        theta = theta - step
        if np.linalg.norm(step) <= 1e-14 * (1 + np.linalg.norm(theta)):
            break
    return theta


#: Agreement of gradient descent with the MLE, relative to max(1, ||MLE||).
MLE_AGREEMENT = 1e-6

#: z for the truth check: P(|N(0,1)| > 6) = 2e-9 per coordinate, so at most
#: 8e-9 per example (d + 1 <= 4 coordinates) and under 2e-5 for a whole
#: 2000-example thorough run; ci's examples are fixed, so ci never flakes.
Z = 6.0


def check_logistic(kernel, ref, case) -> None:
    """Full-batch gradient descent reaches the MLE (IRLS) to 1e-6; the MLE is within
    6 standard errors of the truth.

    Step alpha = 2 / (L + mu) with L = lambda_max(V^T V) / (4m) >= the mean loss's
    curvature everywhere (sigma' <= 1/4) and mu = lambda_min of the Hessian at the
    MLE: near the MLE each step contracts the error by (L - mu) / (L + mu).
    E = log(1e-8) / log((L - mu) / (L + mu)) epochs aim 100x below 1e-6.  Standard
    errors: sqrt of the diagonal of (V^T W V)^-1, W = diag(p(1-p)) at the MLE.
    """
    X, y, truth = case
    V = augmented(X)
    m = X.shape[0]
    mle = irls(V, y)
    p = ref.activation(V @ mle)
    fisher = (V * (p * (1 - p))[:, None]).T @ V
    L = float(np.linalg.eigvalsh(V.T @ V)[-1]) / (4 * m)
    mu = float(np.linalg.eigvalsh(fisher / m)[0])
    alpha = 2 / (L + mu)
    rate = max((L - mu) / (L + mu), 1e-3)
    epochs = math.ceil(math.log(1e-8) / math.log(rate))
    w, b, _ = fit(kernel, ref, X, y, lr=alpha, epochs=epochs, batch_size=None, record="none")
    theta = np.append(w, b)
    gap = float(np.linalg.norm(theta - mle)) / max(1.0, float(np.linalg.norm(mle)))
    assert gap <= MLE_AGREEMENT, f"gradient descent {theta} vs MLE {mle}: relative gap {gap:.3g}"
    se = np.sqrt(np.diag(np.linalg.inv(fisher)))
    z = np.abs(theta - truth) / se
    assert np.all(z <= Z), f"estimate {theta} is {z.max():.2f} SE from the truth {truth}"


LOGISTIC = Property(
    "gradient descent on Bernoulli labels reaches the MLE, and the MLE the truth",
    strategy=bernoulli_problems,
    check=check_logistic,
    catches=("sign flipped in grad", "factor 2 dropped", "yhat(1 - yhat) missing"),
    applies=classification,
)
TestLogistic = make_tests(LOGISTIC)


# ---------------------------------------------------------------------------
# 8. Logistic, separable labels.
# ---------------------------------------------------------------------------
@st.composite
def separable_problems(draw, ref):
    """Points in [-2, 2]^n (multiples of 1/16), a truth (w*, b*) with w* != 0, labels
    1[x.w* + b* >= 0], and every point then moved 1/2 further from the boundary
    along w*/|w*|: separable with a margin of at least 1/2 in x."""
    n = draw(st.integers(1, 2))
    m = draw(st.integers(2, 8))
    X = draw(dyadic((m, n), bound=32))
    w_star = draw(dyadic(n, bound=32))
    w_star[0] = w_star[0] or 1.0
    b_star = float(draw(dyadic((), bound=32)))
    side = np.where(X @ w_star + b_star >= 0, 1.0, -1.0)
    X = X + 0.5 * side[:, None] * w_star / np.linalg.norm(w_star)
    return X, (side > 0).astype(np.float64), np.append(w_star, b_star)


def envelope(ref, V, side, truth, alpha, epochs) -> np.ndarray:
    """Upper bounds on the mean loss after t = 1..epochs steps of gradient descent.

    For convex J with an L-Lipschitz gradient and alpha <= 1/L, the descent lemma and
    convexity give J(theta_{i+1}) <= J(u) + (|theta_i - u|^2 - |theta_{i+1} - u|^2) / (2 alpha)
    for every u; summing over i < t, and J(theta_i) decreasing, from theta_0 = 0:
    J(theta_t) <= J(u) + |u|^2 / (2 alpha t).  Any u gives a bound; take the best
    u = c theta* over a grid of c.
    """
    cs = np.geomspace(1e-2, 1e4, 400)
    labels = (side > 0).astype(np.float64)
    J = np.array([np.mean(ref.loss(V @ (c * truth), labels)) for c in cs])
    t = np.arange(1, epochs + 1)[:, None]
    return np.min(J[None, :] + (cs**2 * (truth @ truth))[None, :] / (2 * alpha * t), axis=1)


def check_separable(kernel, ref, case) -> None:
    """Separable labels: the loss falls to 0 (below the GD envelope), accuracy reaches 1,
    and (w, b).(w*, b*) grows at every update, so |(w, b)| grows without bound.

    E is the first epoch at which the envelope is below log(2)/m: a mean loss
    below that makes every per-sample loss < log 2, i.e. every sample correct.
    Growth: a gradient step changes theta.theta* by alpha mean_i sigma(-s_i z_i)
    s_i v_i.theta* > 0 (s_i v_i.theta* > 0 for separable data); if |theta| stayed
    bounded the increments would be bounded below, so theta.theta* -> infinity.
    """
    X, y, truth = case
    m = X.shape[0]
    V = augmented(X)
    side = 2 * y - 1
    L = float(np.linalg.eigvalsh(V.T @ V)[-1]) / (4 * m)
    alpha = 1 / L
    target = math.log(2) / m
    horizon = 5000
    bound = envelope(ref, V, side, truth, alpha, horizon)
    below = np.flatnonzero(bound < target)
    assert below.size, "the envelope does not reach log(2)/m within the horizon"
    epochs = int(below[0]) + 1
    # an epoch's loss is taken before its update (History.epoch_loss): one epoch more,
    # and epoch_loss[k + 1] is the loss after k + 1 updates, which bound[k] bounds
    w, b, history = fit(kernel, ref, X, y, lr=alpha, epochs=epochs + 1, batch_size=None)
    loss = history.epoch_loss[1:]
    slack = 8 * EPS * (1 + loss)
    assert np.all(loss <= bound[:epochs] + slack), f"loss {loss} above the GD envelope"
    assert np.all(np.diff(loss) <= slack[1:]), f"loss not decreasing: {loss}"
    theta = np.append(w, b)
    assert np.all(side * (V @ theta) > 0), f"accuracy < 1 after {epochs} epochs: {theta}"
    path = np.vstack([np.column_stack([history.w, history.b]), theta])
    progress = path @ truth
    assert np.all(np.diff(progress) > 0), f"(w, b).(w*, b*) did not grow: {progress}"


SEPARABLE = Property(
    "on separable labels the loss falls to 0, accuracy reaches 1 and |w| grows",
    strategy=separable_problems,
    check=check_separable,
    catches=("sign flipped in grad", "sign flipped in dJ_dz"),
    applies=classification,
)
TestSeparable = make_tests(SEPARABLE)


#: The lecture's n-feature classification sizes.
LECTURE_SAMPLES, LECTURE_FEATURES = 1000, 3


@st.composite
def lecture_sized_separable(draw, ref):
    """Threshold labels at the lecture's sizes: X ~ N(0, I) from a drawn seed, w* in
    [-1, 1]^3 (multiples of 1/16, w* != 0) and |b*| <= |w*| / 2, so the boundary
    passes within half a standard deviation of the centre and each class holds
    roughly 30% or more of the points.  Without such a bound the direction is not
    determined by the data: the lecture's own generator, drawn over seeds, sometimes
    puts a single point on one side (data.logistic(3, 1000, seed=58): one positive in
    1000, cosine 0.976 even after 1000 epochs)."""
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    X = rng.standard_normal((LECTURE_SAMPLES, LECTURE_FEATURES))
    w_star = draw(dyadic(LECTURE_FEATURES, bound=16))
    w_star[0] = w_star[0] or 1.0
    b_star = draw(st.floats(-0.5, 0.5)) * float(np.linalg.norm(w_star))
    y = (X @ w_star + b_star > 0).astype(np.float64)
    return X, y, np.append(w_star, b_star)


#: Full-batch epochs at alpha = 1/L for the direction check (the cosine passes 0.997
#: after 10 in 300 trials; the issue asks for 0.99).
DIRECTION_EPOCHS = 10


def cosine(a: np.ndarray, b: np.ndarray) -> float:
    return float(a @ b / (np.linalg.norm(a) * np.linalg.norm(b)))


def check_direction(kernel, ref, case) -> None:
    """At the lecture's sizes the learned (w, b) points the true way: cosine >= 0.99."""
    X, y, truth = case
    V = augmented(X)
    L = float(np.linalg.eigvalsh(V.T @ V)[-1]) / (4 * X.shape[0])
    w, b, _ = fit(
        kernel, ref, X, y, lr=1 / L, epochs=DIRECTION_EPOCHS, batch_size=None, record="none"
    )
    c = cosine(np.append(w, b), truth)
    assert c >= 0.99, f"cos(learned, true) = {c:.4f} < 0.99"


DIRECTION = Property(
    "on separable labels the direction of (w, b) converges to the truth's",
    strategy=lecture_sized_separable,
    check=check_direction,
    catches=("sign flipped in grad",),
    applies=classification,
)
TestDirection = make_tests(DIRECTION)


def test_the_lectures_own_separable_run_points_the_true_way():
    # The lecture's dataset and settings: per-sample SGD, lr 0.03, one epoch.
    r = lecture_run(data.lecture("logistic-n"))
    assert cosine(np.append(r.w, r.b), np.append(r.data.true_w, r.data.true_b)) >= 0.99


def test_separable_runs_are_not_reported_as_converged_parameters():
    dataset = data.logistic(2, 50, seed=0, labels="threshold")
    text = summary(lecture_run(dataset, epochs=2))
    assert "separable" in text
    assert "grows without bound" in text
    assert "only the direction" in text


# ---------------------------------------------------------------------------
# 9. Same seed, same training; training never writes to its inputs.
# ---------------------------------------------------------------------------
@st.composite
def shuffled_runs(draw, ref):
    batch = draw(batches(ref, hard=True, max_m=8))
    options = {
        "w0": batch.w,
        "b0": batch.b,
        "lr": draw(st.floats(1e-3, 1.0)),
        "epochs": draw(st.integers(1, 3)),
        "batch_size": draw(st.integers(1, batch.X.shape[0])),
        "shuffle": True,
        "seed": draw(st.integers(0, 2**32 - 1)),
    }
    return batch, options


def outputs(result) -> list[np.ndarray]:
    w, b, h = result
    return [np.asarray(v) for v in (w, b, h.step, h.loss, h.w, h.b, h.epoch_loss)] + (
        [h.accuracy] if h.accuracy is not None else []
    )


def check_same_seed(kernel, ref, case) -> None:
    """Two runs with the same seed are bit-identical, and leave X, y, w0 unchanged.

    The rate is the drawn fraction of the step-size bound, so runs do not diverge.
    """
    batch, options = case
    X, y = batch.X, batch.y
    V = augmented(X)
    options = dict(options)
    v2 = float(np.max(np.sum(V * V, axis=1)))
    # Unbounded curvature (Poisson, Gamma): no bound to take a fraction of; the rate is
    # the fraction of 1/||v||^2, and a divergence is an outcome that must repeat too.
    options["lr"] *= ref.step_size_bound(v2) if ref.bounded_curvature else 1.0 / v2
    saved = [a.copy() for a in (X, y, options["w0"])]

    def outcome() -> list[np.ndarray]:
        try:
            return outputs(fit(kernel, ref, X, y, **options))
        except AssertionError as err:
            if ref.bounded_curvature or "training diverged" not in str(err):
                raise
            return [np.array(str(err))]

    first, second = outcome(), outcome()
    for a, b in zip(first, second, strict=True):
        assert a.dtype == b.dtype
        same = np.array_equal(a, b, equal_nan=a.dtype.kind == "f")
        assert same, f"runs differ: {a} vs {b}"
    for before, after in zip(saved, (X, y, options["w0"]), strict=True):
        assert np.array_equal(before, after), "training wrote to its input"


SAME_SEED = Property(
    "the same seed gives bit-identical training",
    strategy=shuffled_runs,
    check=check_same_seed,
    catches=("unseeded shuffle",),
    variants=PER_SAMPLE,
)
TestSameSeed = make_tests(SAME_SEED)
