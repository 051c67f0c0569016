"""train's contract over the whole float64 range (issue 17): finite results or the documented error.

Hypothesis draws huge finite magnitudes (up to the largest float), subnormals
and mixed scales (one scale per column of X) for X, y, w0, b0 and the
learning rate, and trains with every ``record`` mode.  The property: each
mode returns finite parameters, losses and History, or raises
:class:`~derivreg.train.DivergenceError`; never inf or NaN returned silently,
never another error; and every mode has the same outcome (the same error at
the same update, or bit-identical parameters and epoch losses).

The planted bug below is the one issue 17 reports: a ``train`` that skips the
divergence checks when nothing is recorded.  ``test_catches`` requires the
property to find it, on the same harness as every other planted bug
(:mod:`properties.factory`).

``test_a_sweep_of_divergent_trainings_has_one_outcome_per_configuration`` is
the issue's sweep: 1,000 derandomized configurations with a learning rate
past the step-size bound, each trained in every mode.

A second property draws a setting of ``train`` and a value it refuses (a
table of them, per setting): the error must be the
:class:`~derivreg.train.InvalidParameterError` that names the setting and the
value, raised before the first epoch.  Its planted bug passes the settings
through unchecked.
"""

from __future__ import annotations

import contextlib
import math
from collections import Counter
from unittest import mock

import numpy as np
import pytest
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

import derivreg.train as train_module
from derivreg.testing._reference import REALMAX
from derivreg.train import DivergenceError, inverse_time, step_size_bound
from properties.factory import Property, make_tests, training_with
from properties.planted import BUGS, Bug, recompose

#: Magnitudes the issue names: zero, subnormals, the smallest normal, tiny, one,
#: where a square overflows (1.3e154), huge, and the largest float.
MAGNITUDES = (0.0, 5e-324, 1e-310, 2.2250738585072014e-308, 1e-300, 1e-150, 1.0,
              1e150, 1.3e154, 1e200, 1e300, REALMAX)  # fmt: skip

#: Learning rates from subnormal to the largest float.
RATES = (5e-324, 1e-300, 1e-10, 0.01, 0.5, 1.0, 10.0, 1e10, 1e150, 1e300, REALMAX)

#: The modes whose outcomes must agree: (record, every).
MODES = (("all", 1), ("loss", 2), ("none", 1))


def signed(draw, magnitude: float) -> float:
    return magnitude * draw(st.sampled_from([1.0, -1.0]))


@st.composite
def wild(draw) -> float:
    """A finite float of any scale: a named magnitude, an ordinary value, or 10^k."""
    kind = draw(st.integers(0, 2))
    if kind == 0:
        return signed(draw, draw(st.sampled_from(MAGNITUDES)))
    if kind == 1:
        return draw(st.floats(-8.0, 8.0))
    return signed(draw, draw(st.floats(1.0, 9.99)) * 10.0 ** draw(st.integers(-320, 307)))


@st.composite
def contract_cases(draw, ref):
    m, n = draw(st.integers(1, 4)), draw(st.integers(1, 3))
    X = draw(arrays(np.float64, (m, n), elements=st.floats(-2.0, 2.0)))
    scales = np.array([abs(draw(wild())) for _ in range(n)])  # mixed scales per column
    with np.errstate(over="ignore"):
        X = np.clip(X * scales, -REALMAX, REALMAX)
    if ref.targets == "binary":
        y = draw(arrays(np.float64, (m,), elements=st.sampled_from([0.0, 1.0])))
    else:
        y = np.array([draw(wild()) for _ in range(m)])
        if not ref.real_labels:  # [0, oo) or (0, oo): magnitudes only, and 1 for an excluded 0
            y = np.abs(y)
            if ref.pair.domain.left_open:
                y[y == 0.0] = 1.0
    huge_start = draw(st.booleans()) and draw(st.booleans())  # a quarter of the cases
    w0 = np.array([draw(wild()) for _ in range(n)]) if huge_start else np.zeros(n)
    b0 = draw(wild()) if huge_start else 0.0
    rate = draw(st.one_of(st.sampled_from(RATES), st.floats(1e-6, 10.0)))
    lr = inverse_time(rate, draw(st.sampled_from([0.0, 0.5]))) if draw(st.booleans()) else rate
    options = {
        "epochs": draw(st.integers(1, 3)),
        "batch_size": draw(st.sampled_from([1, 2, None])),
        "shuffle": draw(st.booleans()),
        "seed": 0,
    }
    return X, y, w0, b0, lr, options


def outcome(ref, X, y, w0, b0, lr, options, record, every):
    """``train`` in one mode: ('error', type, update) or ('result', w, b, epoch losses)."""
    try:
        w, b, h = train_module.train(  # looked up at call time: a planted train replaces it
            X, y, loss=ref.name, w0=w0, b0=b0, lr=lr, record=record, every=every, **options
        )
    except DivergenceError as err:
        return ("error", type(err).__name__, err.update)
    except Exception as err:  # any other error breaks the contract
        raise AssertionError(
            f"record={record!r}: undocumented {type(err).__name__}: {err}"
        ) from err
    recorded = [h.loss, h.w, h.b, h.accuracy]
    values = [w, np.array([b]), h.epoch_loss, *(r for r in recorded if r is not None)]
    if not all(np.isfinite(v).all() for v in values):
        raise AssertionError(f"record={record!r} returned non-finite values: w={w}, b={b}, {h}")
    return ("result", w.tobytes(), b, h.epoch_loss.tobytes(), h.n_updates)


def check_contract(kernel, ref, case) -> None:
    X, y, w0, b0, lr, options = case
    X0, y0 = X.copy(), y.copy()
    with training_with(kernel, ref.name):
        outcomes = {mode: outcome(ref, X, y, w0, b0, lr, options, *mode) for mode in MODES}
    assert len(set(outcomes.values())) == 1, f"the outcome depends on the mode: {outcomes}"
    np.testing.assert_array_equal(X, X0)  # the caller's arrays are never written
    np.testing.assert_array_equal(y, y0)


# ---------------------------------------------------------------------------
# The planted bug: train without its divergence checks when record="none".
# ---------------------------------------------------------------------------
def _unchecked_without_records(kernel, ref):
    planted = recompose(kernel, "divergence unchecked without records")
    # per-sample epochs in the generated loop, which checks nothing (train's checks decide);
    # a loop of checked kernel calls would refuse the overflow itself, in every mode
    planted.loop = planted.loop_csr = None
    real_train = train_module.train

    def train(*args, record="all", **kwargs):
        skip = (
            mock.patch("derivreg._epochs._first_past", return_value=-1),
            mock.patch("derivreg._epochs._finite_params", return_value=True),
        )
        with contextlib.ExitStack() as stack:
            if record == "none":
                for patch in skip:
                    stack.enter_context(patch)
            return real_train(*args, record=record, **kwargs)

    planted.patches = lambda: mock.patch.object(train_module, "train", train)
    return planted


UNCHECKED = "divergence unchecked without records"
BUGS.setdefault(
    UNCHECKED,
    Bug(
        UNCHECKED,
        "train() skips its divergence checks when record='none' (the bug issue 17 reports)",
        _unchecked_without_records,
    ),
)

TRAIN_CONTRACT = Property(
    "training returns finite values or raises DivergenceError, the same in every record mode",
    strategy=contract_cases,
    check=check_contract,
    catches=(UNCHECKED,),
    variants=("generated", "update per sample"),
)

TestTrainContract = make_tests(TRAIN_CONTRACT)


# ---------------------------------------------------------------------------
# The sweep: 1,000 divergent configurations, every mode, one outcome each.
# ---------------------------------------------------------------------------
def divergent_configurations(count: int, seed: int = 17):
    """Small problems trained past the step-size bound (x 2 to 1e8), derandomized."""
    rng = np.random.default_rng(seed)
    for _ in range(count):
        loss = ("mse", "bce")[int(rng.integers(2))]
        m, n = int(rng.integers(1, 5)), int(rng.integers(1, 3))
        X = rng.normal(size=(m, n)) * 10.0 ** rng.uniform(-1, 3, size=n)
        y = rng.integers(0, 2, m).astype(float) if loss == "bce" else rng.normal(size=m) * 10
        # BCE's gradient is bounded: it takes a larger step to diverge than MSE
        rate = step_size_bound(X, loss) * 10.0 ** rng.uniform(
            *((0.3, 3) if loss == "mse" else (3, 8))
        )
        lr = inverse_time(rate, 0.1) if rng.random() < 0.2 else rate
        options = {
            "loss": loss,
            "lr": lr,
            "epochs": int(rng.integers(2, 9)),
            "batch_size": (1, 2, None)[int(rng.integers(3))],
            "shuffle": bool(rng.random() < 0.3),
            "seed": 3,
        }
        yield X, y, options


def sweep_outcome(X, y, options, record, every):
    try:
        w, b, h = train_module.train(X, y, record=record, every=every, **options)
    except DivergenceError as err:
        return ("DivergenceError", err.update, str(err))
    assert np.isfinite(w).all()
    assert math.isfinite(b)
    assert np.isfinite(h.epoch_loss).all()
    return ("result", w.tobytes(), b, h.epoch_loss.tobytes())


def test_a_sweep_of_divergent_trainings_has_one_outcome_per_configuration():
    kinds = Counter()
    for X, y, options in divergent_configurations(1000):
        outcomes = {mode: sweep_outcome(X, y, options, *mode) for mode in MODES}
        assert len(set(outcomes.values())) == 1, (options, outcomes)
        kinds[outcomes["none", 1][0]] += 1
    assert sum(kinds.values()) == 1000
    assert kinds["DivergenceError"] >= 400, kinds  # about divergence: 500 of 1,000 raise today


@pytest.mark.parametrize("record", ["all", "loss", "none"])
def test_the_planted_train_is_wrong_only_without_records(record):
    # The reproducer of issue 17 on the planted train: only record='none' returns.
    X, y = np.array([[22.0], [13.0], [4.0]]), np.array([7.0, 4.0, -4.0])
    planted = _unchecked_without_records(train_module._kernel("mse"), None)
    with planted.patches():
        if record == "none":
            w, _, _ = train_module.train(X, y, lr=0.023, epochs=2, record=record)
            assert w[0] == pytest.approx(-442.8467, rel=1e-6)
        else:
            with pytest.raises(DivergenceError):
                train_module.train(X, y, lr=0.023, epochs=2, record=record)


# ---------------------------------------------------------------------------
# Every setting is checked up front, by name: a property over a table of bad values.
# ---------------------------------------------------------------------------
#: Values no setting of this kind accepts (each kind's own out-of-range values added below).
NOT_NUMBERS = (None, "abc", "1", 1j, np.complex128(1.0), True, np.True_, [1], (), object())

#: setting -> bad values for it (what train documents it accepts is in its docstring).
BAD_SETTINGS = {
    "lr": (*NOT_NUMBERS, 0.0, -0.1, -5e-324, math.nan, math.inf, -math.inf),
    "epochs": (*NOT_NUMBERS, 0, -1, 1.0, 2.5, math.nan, np.float64(2.0)),
    "batch_size": (*NOT_NUMBERS[1:], 0, -3, 1.0, math.inf),
    "every": (*NOT_NUMBERS, 0, -1, 2.0),
    "n_iter_no_change": (*NOT_NUMBERS, 0, 1.5),
    "tol": (*NOT_NUMBERS[1:], -1e-9, -math.inf, math.nan, math.inf),
    "divergence_factor": (*NOT_NUMBERS, 1.0, 0.5, -1.0, math.nan),
    "shuffle": (None, 1, 0, "yes", 1.0),
    "seed": (*NOT_NUMBERS[1:], -1, 1.5, math.nan),
    "record": (None, "some", "ALL", 1, True),
    "backend": (None, "cuda", "NumPy", 0),
    "loss": ("hinge", "MSE", 0, ["mse"]),  # None is the default pair (kernels.DEFAULT)
    "progress": (5, "bar", True, 1.5),
    "b0": (*NOT_NUMBERS, math.nan, math.inf, -math.inf),
}


@st.composite
def bad_settings(draw, ref):
    name = draw(st.sampled_from(sorted(BAD_SETTINGS)))
    value = draw(st.sampled_from(BAD_SETTINGS[name]))
    m, n = draw(st.integers(1, 4)), draw(st.integers(1, 3))
    X = draw(arrays(np.float64, (m, n), elements=st.floats(-8.0, 8.0)))
    y = draw(arrays(np.float64, (m,), elements=st.sampled_from([0.0, 1.0])))
    return name, value, X, y


def check_settings(kernel, ref, case) -> None:
    name, value, X, y = case
    epochs_run = []
    settings = {"loss": ref.name, "epochs": 2, "progress": lambda e, total: epochs_run.append(e)}
    settings[name] = value
    with training_with(kernel, ref.name):
        try:
            train_module.train(X, y, **settings)
        except train_module.InvalidParameterError as err:
            message = str(err)
        except Exception as err:
            raise AssertionError(f"{name}={value!r}: {type(err).__name__}: {err}") from err
        else:
            raise AssertionError(f"{name}={value!r} was accepted")
    assert message.startswith(f"The {name!r} parameter of train must be "), message
    assert f"Got {value!r} instead." in message, message
    assert epochs_run == [], f"{name}={value!r} was refused only after {len(epochs_run)} epochs"


def _settings_unchecked(kernel, ref):
    """train() with the setting checks replaced by passing the value through."""
    planted = recompose(kernel, "settings unchecked")

    def through(name, value, owner, *args, **kwargs):
        return value

    @contextlib.contextmanager
    def patches():
        with contextlib.ExitStack() as stack:
            for check in ("real", "count", "choice", "flag", "seed", "finite_real"):
                stack.enter_context(mock.patch(f"derivreg._params.{check}", through))
            yield

    planted.patches = patches
    return planted


SETTINGS_UNCHECKED = "settings unchecked"
BUGS.setdefault(
    SETTINGS_UNCHECKED,
    Bug(SETTINGS_UNCHECKED, "train() passes its settings through unchecked", _settings_unchecked),
)

SETTINGS_CHECKED = Property(
    "training refuses every bad setting up front with an error naming it",
    strategy=bad_settings,
    check=check_settings,
    catches=(SETTINGS_UNCHECKED,),
)

TestSettingsChecked = make_tests(SETTINGS_CHECKED)
