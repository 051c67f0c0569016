"""The generated per-sample loop: proven, caught when edited, accurate, and the same as the kernels.

``derivreg/kernels/<loss>_loop.py`` (``sgd_epoch``) runs in CPython and, with
numba installed, compiled by numba; every test of the loop runs on each
backend that is available here.
"""

import math

import mpmath
import numpy as np
import pytest
from test_codegen import MAX_ULP, _ulps, measure_bce_accuracy

from derivreg import codegen, derive, fast
from derivreg.codegen import ValidationError, validate_loop
from derivreg.kernels import KERNELS
from derivreg.train import DivergenceError, train

BACKENDS = [
    "python",
    pytest.param(
        "numba",
        marks=pytest.mark.skipif(not fast.available("numba"), reason="numba not installed"),
    ),
]


def checked_in(name):
    return (codegen.KERNEL_DIR / f"{name}_loop.py").read_text(encoding="utf-8")


# --- translation validation -----------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(KERNELS))
def test_checked_in_loops_are_proven_equal_to_their_derivations(name):
    report = validate_loop(checked_in(name), derive(name))
    assert report.ok
    for label in ("sgd_epoch w[0]", "sgd_epoch w[2]", "sgd_epoch b", "sgd_epoch J[0]"):
        assert label in report.proven
    assert any("one at a time" in p for p in report.proven)


LOOP_MUTATIONS = {
    "update sign": ("mse", "w[j] -= step * X[row + j]", "w[j] += step * X[row + j]"),
    "a feature left out of z": (
        "mse",
        "    for j in range(n):\n            z += X[row + j] * w[j]",
        "    for j in range(n - 1):\n            z += X[row + j] * w[j]",
    ),
    "another sample's label": ("mse", "y = Y[i]", "y = Y[0]"),
    "learning rate twice": ("mse", "step = rate * s * dJ_dz", "step = rate * rate * s * dJ_dz"),
    "bias not updated": ("mse", "        b -= step\n", "        b -= 0 * step\n"),
    "History records x, not w": (
        "mse",
        "w_track[i // every * n + j] = w[j]",
        "w_track[i // every * n + j] = X[row + j]",
    ),
    "stable loss branch wrong": ("bce", "max(0, -z)", "max(0, z)"),
    # log1p(t0) is printed as log(u) less u's rounding (printers.CORRECTED_LOG1P): a
    # correction that is not 0 over the reals is not log1p
    "log1p's correction keeps t0": (
        "bce",
        "((t0 + 1) - 1 - t0)/(t0 + 1)",
        "((t0 + 1) - 1)/(t0 + 1)",
    ),
    "log1p's log of another value": ("bce", "math.log(t0 + 1)", "math.log(t0 + 2)"),
}


@pytest.mark.parametrize("mutation", sorted(LOOP_MUTATIONS))
def test_a_hand_edit_of_the_loop_fails_validation(mutation):
    name, old, new = LOOP_MUTATIONS[mutation]
    source = checked_in(name)
    assert old in source, "the mutation must apply to the current loop"
    with pytest.raises(ValidationError, match=name):
        validate_loop(source.replace(old, new, 1), derive(name))


def test_the_loop_imports_only_math_and_no_sympy():
    import subprocess
    import sys

    code = "import sys, derivreg.kernels.bce_loop; print('sympy' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
    imports = [
        line for line in checked_in("bce").splitlines() if line.startswith(("import", "from"))
    ]
    assert imports == ["import math"]


# --- accuracy: the same measurement as the NumPy kernels -------------------------------------


class LoopAsKernel:
    """The accuracy test's kernel interface, answered by one epoch of sgd_epoch.

    ``losses``: an epoch with lr = 0 records each row's loss and changes
    nothing.  ``dJ_dz``: one sample with x = 1, w = z, b = 0 and lr = 1 has
    z computed exactly (0 + 1*z) and ends with b = 0 - 1*dJ_dz = -dJ_dz
    exactly, so both read the loop's formulas with no rounding of their own.
    """

    def __init__(self, backend):
        self.backend = backend

    def losses(self, X, y, w, b):
        return fast.epoch("bce", X, y, w, b, 0.0, backend=self.backend).J

    def dJ_dz(self, z, y):
        one = np.ones((1, 1))
        return np.array(
            [
                -fast.epoch(
                    "bce", one, np.array([yi]), np.array([zi]), 0.0, 1.0, backend=self.backend
                ).b
                for zi, yi in zip(z, y, strict=True)
            ]
        )


@pytest.mark.parametrize("backend", BACKENDS)
def test_loop_is_finite_and_within_4_ulp_over_the_whole_float64_range(backend):
    worst_loss, worst_dz, nonfinite = measure_bce_accuracy(LoopAsKernel(backend))
    print(f"{backend}: loss {worst_loss:.2f} ulp, dJ_dz {worst_dz:.2f} ulp, {nonfinite} bad")
    assert nonfinite == 0
    assert worst_loss <= MAX_ULP
    assert worst_dz <= MAX_ULP


class SourceAsKernel(LoopAsKernel):
    """LoopAsKernel on the ``sgd_epoch`` of a source text, run in CPython on lists."""

    def __init__(self, source):
        namespace = {}
        exec(compile(source, "<planted bce_loop>", "exec"), namespace)
        self.fn = namespace["sgd_epoch"]

    def _run(self, X, y, w, b, lr):
        m, n = X.shape
        J, Z, w_list = [0.0] * m, [0.0] * m, [float(v) for v in w]
        settings = [[lr], 0, [1.0], 0, 0.0, 0.0, 0, 1]
        args = [X.ravel().tolist(), y.tolist(), w_list, float(b), *settings, J, Z, m, 0]
        b, _ = self.fn(*args, [0.0] * n, [0.0])
        return np.array(J), b

    def losses(self, X, y, w, b):
        return self._run(X, y, w, b, 0.0)[0]

    def dJ_dz(self, z, y):
        one = np.ones((1, 1))
        return np.array([-self._run(one, np.array([b]), np.array([a]), 0.0, 1.0)[1]
                         for a, b in zip(z, y, strict=True)])  # fmt: skip


#: Forms of log1p(t0) equal to it over the reals, so the validator proves them, that lose
#: its digits in floats: the accuracy test must refuse them.
CORRECTED = "math.log(t0 + 1) - ((t0 + 1) - 1 - t0)/(t0 + 1)"
INACCURATE_LOG1P = {
    "log(1 + t) alone": "math.log(t0 + 1)",
    "the rounding added, not taken off": "math.log(t0 + 1) + ((t0 + 1) - 1 - t0)/(t0 + 1)",
}


def test_the_corrected_log1p_runs_as_the_checked_in_loop_in_cpython():
    # the adapter the planted forms are measured with measures the checked-in loop alike
    worst_loss, worst_dz, nonfinite = measure_bce_accuracy(SourceAsKernel(checked_in("bce")))
    assert nonfinite == 0
    assert worst_loss <= MAX_ULP
    assert worst_dz <= MAX_ULP


#: The corrected log1p's bound.  With u = fl(1 + t) = 1 + t + d, (u - 1) - t is d exactly
#: (printers.CORRECTED_LOG1P), and log(u) - d/u = log1p(t) + O(d^2).  Rounded: glibc's
#: log(u) is within 1 ulp of log(u), about 1 ulp of log1p(t) (they differ by d/u, below
#: half an ulp of the result); d/u's rounding is far below the result's ulp; the last
#: subtraction adds half an ulp: under 2 ulp.  Measured 1.05 on 1.2e7 t, 0.99 here.
CORRECTED_ULP = 2.0


def corrected_log1p_errors(source):
    """The worst error in ulp of a loop's printed log1p(t0), t0 = exp(-|z|), over t0 in (0, 1].

    With y = 1 and z >= 0 the loss is J = t1 + max(0, -z) = t1 exactly: the
    loop's own log1p(t0), against log1p of the t0 it computed (CPython's exp).
    """
    rng = np.random.default_rng(0)
    z = np.concatenate([rng.uniform(0.0, 40.0, 1500), -np.log(rng.uniform(0.0, 1.0, 1500))])
    z = np.concatenate([z, [0.0, 1e-300, 36.0, 36.7, 37.0, 37.5, 40.0, 700.0, 745.0]])
    J = SourceAsKernel(source).losses(z[:, None], np.ones(z.size), np.ones(1), 0.0)
    with mpmath.workdps(40):
        refs = [mpmath.log1p(mpmath.mpf(math.exp(-v))) for v in z.tolist()]
    return max(_ulps(j, ref) for j, ref in zip(J.tolist(), refs, strict=True))


def test_the_corrected_log1p_is_within_its_bound_and_log_alone_is_not():
    source = checked_in("bce")
    assert corrected_log1p_errors(source) <= CORRECTED_ULP
    for form in INACCURATE_LOG1P.values():
        planted = source.replace(CORRECTED, form)
        assert corrected_log1p_errors(planted) > CORRECTED_ULP, form


@pytest.mark.parametrize("form", sorted(INACCURATE_LOG1P))
def test_a_log1p_form_equal_over_the_reals_but_inaccurate_is_refused_by_the_ulp_test(form):
    source = checked_in("bce")
    assert f"t1 = {CORRECTED}" in source, "the planted form must replace the printed one"
    planted = source.replace(CORRECTED, INACCURATE_LOG1P[form])
    assert validate_loop(planted, derive("bce")).ok  # the reals cannot tell them apart
    with np.errstate(all="ignore"):
        worst_loss, _, _ = measure_bce_accuracy(SourceAsKernel(planted))
    assert worst_loss > MAX_ULP


# --- the loop and the kernels agree -----------------------------------------------------------


def data(loss, m=300, n=3, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(m, n))
    w = rng.normal(size=n)
    z = X @ w + 0.5
    y = (
        (rng.random(m) < 1 / (1 + np.exp(-z))).astype(float)
        if loss == "bce"
        else z + 0.1 * rng.normal(size=m)
    )
    return X, y


@pytest.mark.parametrize("backend", ["numpy", BACKENDS[1]])
# a contracting iteration needs a step-size bound: the pairs with bounded curvature
@pytest.mark.parametrize("loss", [k for k in sorted(KERNELS) if KERNELS[k].STEP_SIZE_NUMERATOR])
def test_per_sample_epochs_give_the_history_of_per_sample_kernel_calls(loss, backend):
    # A schedule (even a constant one) makes train() call the NumPy kernels
    # once per sample; a float runs whole epochs in sgd_epoch.  Each step
    # differs by rounding only (x.w summed in another order): over 600 steps
    # of a contracting iteration (lr below the step-size bound) the
    # trajectories stay within ~1e-12 relative of each other.
    X, y = data(loss)
    kw = {"loss": loss, "epochs": 2, "every": 7, "w0": np.full(3, 0.1), "b0": -0.2}
    fast_run = train(X, y, lr=0.05, backend=backend if isinstance(backend, str) else "numba", **kw)
    kernel_run = train(X, y, lr=lambda t: 0.05, **kw)
    hf, hk = fast_run.history, kernel_run.history
    np.testing.assert_array_equal(hf.step, hk.step)
    np.testing.assert_allclose(hf.loss, hk.loss, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(hf.w, hk.w, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(hf.b, hk.b, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(hf.epoch_loss, hk.epoch_loss, rtol=1e-10)
    if loss == "bce":
        np.testing.assert_allclose(hf.accuracy, hk.accuracy, atol=1 / 600)
    else:
        assert hf.accuracy is None
    np.testing.assert_allclose(fast_run.w, kernel_run.w, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("backend", BACKENDS)
def test_numba_and_cpython_run_the_same_loop(backend):
    X, y = data("bce", m=50)
    ref = fast.epoch("bce", X, y, np.zeros(3), 0.0, 0.1, every=3, first=2)
    got = fast.epoch("bce", X, y, np.zeros(3), 0.0, 0.1, every=3, first=2, backend=backend)
    # the same IEEE operations in the same order: equal to the last bit
    for a, b in zip(ref, got, strict=True):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("record", ["all", "loss", "none"])
def test_history_thinning_stores_only_what_was_asked(record):
    X, y = data("mse", m=1000)
    h = train(X, y, lr=0.01, record=record, every=100).history
    assert h.n_updates == 1000
    if record == "none":
        assert h.loss is None
        assert h.w is None
        assert len(h) == 0
    else:
        assert h.step.tolist() == list(range(0, 1000, 100))
        assert (h.w is None) == (record == "loss")
        if record == "all":
            assert h.w.shape == (10, 3)


@pytest.mark.parametrize("record", ["all", "none"])
def test_divergence_in_a_fast_epoch_names_the_same_update_as_the_kernels(record):
    X, y = data("mse", m=200)
    errors = []
    for lr in (2.0, lambda t: 2.0):
        with pytest.raises(DivergenceError) as info:
            train(X, y, lr=lr, record=record, epochs=3)
        errors.append(info.value)
    fast_err, kernel_err = errors
    assert fast_err.lr == kernel_err.lr == 2.0
    if record == "all":
        assert fast_err.update == kernel_err.update
    else:  # without losses the kernels notice one update later: the non-finite w
        assert abs(fast_err.update - kernel_err.update) <= 1


def test_an_unknown_backend_is_refused():
    X, y = data("mse", m=5)
    with pytest.raises(
        ValueError, match=r"'backend' .* must be a str among \{'auto', 'numba', 'numpy'\}"
    ):
        train(X, y, backend="cuda")


def test_history_says_which_backend_ran_and_auto_compiles_only_long_runs():
    X, y = data("mse")  # 300 samples: below fast.AUTO_NUMBA_UPDATES
    assert train(X, y, lr=0.05).history.backend == "python"
    assert train(X, y, lr=0.05, backend="numpy").history.backend == "python"
    assert train(X, y, lr=0.05, batch_size=4).history.backend == "numpy"
    assert train(X, y, lr=lambda t: 0.05).history.backend == "python"  # schedules too
    assert fast.auto(fast.AUTO_NUMBA_UPDATES - 1, 3, per_sample=True) == "numpy"
    long_run = fast.auto(fast.AUTO_NUMBA_UPDATES, 3, per_sample=True)
    assert long_run == ("numba" if fast.available("numba") else "numpy")
    if fast.available("numba"):
        assert train(X, y, lr=0.05, backend="numba").history.backend == "numba"
        big = np.repeat(X, -(-fast.AUTO_NUMBA_UPDATES // len(y)), axis=0)
        ran = train(big, np.resize(y, len(big)), lr=0.05, record="none").history.backend
        assert ran == "numba"
