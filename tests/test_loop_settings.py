"""The generated per-sample loop with everything train hands it: rates, weights, penalty.

Per-sample SGD runs in the generated, validated ``sgd_epoch`` loop with a
schedule's rates, sample weights, an L2 / L1 / elastic-net penalty and
``fit_intercept=False`` (issue 12; issue 15, target 3).  These tests check:

- the loop gives the per-sample kernel calls' History (the path it replaces),
  up to rounding;
- the epoch's loss is the loop's own sum of its per-sample losses, exactly;
- a classifier's accuracy follows the kernel module's ``THRESHOLD``;
- hand edits of the new pieces of the loop fail validation (planted bugs).
"""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace
from unittest import mock

import numpy as np
import pytest

from derivreg import _epochs, _per_sample, derive, fast
from derivreg.codegen import generate_loop
from derivreg.train import inverse_time, train
from derivreg.validate import ValidationError, validate_loop

EPS = np.finfo(np.float64).eps
BACKENDS = ["python", *(["numba"] if fast.available("numba") else [])]

#: Settings that used to leave the generated loop for per-sample kernel calls.
SETTINGS = {
    "weights": {"sample_weight": "w"},
    "l2": {"penalty": "l2", "alpha": 0.05},
    "l1": {"penalty": "l1", "alpha": 0.02},
    "elasticnet + weights": {"penalty": "elasticnet", "alpha": 0.05, "sample_weight": "w"},
    "no intercept": {"fit_intercept": False},
    "schedule": {"lr": "schedule"},
    "all at once": {
        "lr": "schedule",
        "penalty": "elasticnet",
        "alpha": 0.05,
        "sample_weight": "w",
        "fit_intercept": False,
    },
}


def _data(loss: str, m: int = 120, n: int = 3) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(4)
    X = rng.standard_normal((m, n))
    z = X @ np.array([1.0, -0.5, 0.25][:n]) + 0.3
    y = (rng.random(m) < 1 / (1 + np.exp(-z))).astype(float) if loss == "bce" else z
    return X, y, rng.uniform(0.0, 2.0, m)


def _kwargs(setting: dict, weights: np.ndarray) -> dict:
    kw = {"lr": 0.05, **setting}
    if kw["lr"] == "schedule":
        kw["lr"] = inverse_time(0.1, 0.01)
    if "sample_weight" in kw:
        kw["sample_weight"] = weights
    return kw


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("setting", sorted(SETTINGS))
@pytest.mark.parametrize("loss", ["mse", "bce"])
def test_the_loop_gives_the_per_sample_kernel_calls_history(loss, setting, backend):
    X, y, weights = _data(loss)
    kw = _kwargs(SETTINGS[setting], weights)
    common = {"loss": loss, "epochs": 3, "shuffle": True, "seed": 1, **kw}
    looped = train(X, y, backend="numba" if backend == "numba" else "numpy", **common)
    assert looped.history.backend == backend
    with mock.patch("derivreg.train._which_loop", return_value=None):  # the kernels per sample
        called = train(X, y, **common)
    assert called.history.backend == "numpy"
    # The two differ only in the order of roundings within one update: the loop sums
    # x.w left to right and takes (rate s dJ/dz) x, the kernels X @ w (BLAS) and
    # (rate s)(dJ/dz x); each update differs by a few ulp of its largest term
    # (|w|, |step x|, |rate alpha w|, all O(1) here).  The rates are below the step-size
    # bound, so the updates contract and the differences add up over the 360 updates
    # without growing: <= 360 * 8 eps ~ 6.4e-13 of the O(1) scale; 1e-10 leaves ~150x.
    # The L1 kink (w_j = 0 or not) can differ by as much as such a rounding, no more.
    tol = 1e-10
    np.testing.assert_allclose(looped.w, called.w, rtol=tol, atol=tol)
    assert looped.b == pytest.approx(called.b, rel=tol, abs=tol)
    for field in ("loss", "w", "b", "epoch_loss", "accuracy"):
        a, b = getattr(looped.history, field), getattr(called.history, field)
        if a is None:
            assert b is None
            continue
        if field == "accuracy":  # counts of labels: equal unless a score sits on the threshold
            np.testing.assert_array_equal(a, b)
        else:
            np.testing.assert_allclose(a, b, rtol=tol, atol=tol)
    if not kw.get("fit_intercept", True):
        assert looped.b == 0.0
        assert not looped.history.b.any()


@pytest.mark.parametrize("backend", BACKENDS)
def test_the_epoch_loss_is_the_loops_weighted_mean_of_its_losses(backend):
    # History.loss holds each sample's loss before its update; the epoch's loss is
    # sum(s_i J_i) / sum(s_i), added in order, plus the penalty at the epoch's end
    # parameters: recomputed here by a plain Python loop.
    X, y, weights = _data("bce")
    pen = {"penalty": "elasticnet", "alpha": 0.05, "l1_ratio": 0.25}
    be = "numba" if backend == "numba" else "numpy"
    for extra in ({}, pen):
        r = train(X, y, loss="bce", lr=0.05, epochs=2, sample_weight=weights, backend=be, **extra)
        h = r.history
        assert h.backend == backend
        m = len(y)
        for epoch in range(2):
            total = 0.0
            for i in range(m):
                total += float(weights[i]) * float(h.loss[epoch * m + i])
            want = total / float(np.sum(weights))  # sum(s): NumPy's sum, as documented
            if not extra:
                assert h.epoch_loss[epoch] == want
        # with a penalty, the last epoch's: the mean plus R(w) at the end,
        # R = alpha (l1_ratio |w|_1 + (1 - l1_ratio) |w|^2 / 2); the sum of R's three
        # or four terms rounds differently from the code's w @ (alpha w) / 2: 4 eps
        if extra:
            w = [float(v) for v in r.w]
            R = 0.05 * 0.25 * sum(abs(v) for v in w) + 0.05 * 0.75 * sum(v * v for v in w) / 2
            assert h.epoch_loss[-1] == pytest.approx(want + R, rel=4 * EPS)


def test_no_pass_over_X_after_an_epoch(monkeypatch):
    # the epoch's loss and the divergence checks come from the loop's own losses: no
    # kernel runs over X between epochs (from w0 = 0 the start needs y only, not X)
    X, y, _ = _data("mse", m=500)
    import derivreg.kernels.mse as mse

    calls = []
    for name in ("_losses", "losses", "loss", "grad"):
        real = getattr(mse, name)

        def spy(X_, *args, real=real, name=name, **kw):
            calls.append((name, np.shape(X_)))
            return real(X_, *args, **kw)

        monkeypatch.setattr(mse, name, spy)
    train(X, y, loss="mse", lr=0.01, epochs=3, record="none")
    # an X with no columns reads nothing: the start's losses from y (train's own fast path)
    assert all(shape[0] < 500 or shape[1] in (0, 1) for _, shape in calls), calls


def test_accuracy_follows_the_kernels_threshold():
    # the label is yhat > THRESHOLD, read from the kernel module, not a loss's constant
    kernel = SimpleNamespace(THRESHOLD=0.9)
    yhat, y = np.array([0.95, 0.9, 0.5, 0.91]), np.array([1.0, 1.0, 0.0, 0.0])
    assert _epochs._correct(kernel, yhat, y).tolist() == [True, False, True, False]
    source = "".join(Path(m.__file__).read_text() for m in (_epochs, _per_sample, fast))
    assert "log(2" not in source
    assert "LOG2" not in source


def test_accuracy_is_the_count_of_right_labels_so_far():
    X, y, _ = _data("bce")
    h = train(X, y, loss="bce", lr=0.1, epochs=2).history
    z = np.einsum("kn,kn->k", np.tile(X, (2, 1)), h.w) + h.b
    right = (1 / (1 + np.exp(-z)) > 0.5) == (np.tile(y, 2) == 1)
    np.testing.assert_array_equal(h.accuracy, np.cumsum(right) / np.arange(1, 2 * len(y) + 1))


def test_inverse_times_rates_at_once_are_its_calls():
    s = inverse_time(0.3, 0.037)
    at_once = _per_sample.rates(s, 12345, 10_000)
    one_by_one = _per_sample.rates(lambda t: 0.3 / (1.0 + 0.037 * t), 12345, 10_000)  # plain
    np.testing.assert_array_equal(at_once, one_by_one)
    assert at_once.tolist() == [s(t) for t in range(12345, 22345)]


def test_a_bad_schedule_value_is_refused_in_the_loop_naming_its_update():
    X, y, _ = _data("mse")
    with pytest.raises(ValueError, match="at update 130"):
        train(X, y, lr=lambda t: -1.0 if t == 130 else 0.01, epochs=2)
    with pytest.raises(ValueError, match=r"Got None at update 5"):
        train(X, y, lr=lambda t: None if t == 5 else 0.01)


#: The CSR loop's L2 shrink of every weight (the dense loop has no such line).
_CSR_SHRINK = (
    "for j in range(n):\n                w_j = w[j]\n                # penalty: dR/dw = "
    "lambda·w of R = lambda·w²/2, λ = alpha\n                dR_dw = alpha*w_j\n"
    "                w[j] = w_j - rate * dR_dw"
)

#: Hand edits of the loop's new pieces: (pair, old text, new text).
MUTATIONS = {
    "L2 step added": ("mse", "- rate * dR_dw", "+ rate * dR_dw"),
    "L2 at the new weights": ("mse", "w_j = w[j]\n", "w_j = w[j] - step * X[row + j]\n"),
    "weight left out of the step": ("mse", "step = rate * s * dJ_dz", "step = rate * dJ_dz"),
    "weight left out of the sum": ("bce", "total += s * J_i", "total += J_i"),
    "one rate for all": ("mse", "rate = LR[i * lr_step]", "rate = LR[0]"),
    "b moves when not fitted": ("mse", "if fit == 1:", "if fit == 0:"),
    "prox one-sided": ("bce", "-max(0, -t - v) + max(0, -t + v)", "max(0, -t + v)"),
    "threshold without the rate": ("mse", "t = rate * l1", "t = l1"),
    "score not recorded": ("bce", "Z[i] = z", "Z[i] = b"),
    "CSR: shrinks only the stored entries": ("mse", _CSR_SHRINK, _CSR_SHRINK.replace("n", "0", 1)),
}


@pytest.mark.parametrize("mutation", sorted(MUTATIONS))
def test_a_hand_edit_of_the_loops_new_pieces_fails_validation(mutation):
    name, old, new = MUTATIONS[mutation]
    source = generate_loop(derive(name))
    assert old in source, "the mutation must apply to the current loop"
    validate_loop(source, derive(name))  # unmutated: proven
    with pytest.raises(ValidationError, match=name):
        validate_loop(source.replace(old, new, 1), derive(name))
