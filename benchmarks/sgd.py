"""One per-sample SGD epoch: the lecture's loop, derivreg's train(), scikit-learn, numba.

Figures are nanoseconds per sample of one epoch, the methods interleaved
repeat by repeat.  derivreg's ``train()`` is the whole call (input checks,
the start's losses, which from w = 0 need only y, and the loop; the epoch's
loss is the loop's own sum, and with History off and no ``tol`` there is no
final gradient); scikit-learn's is ``SGDRegressor``/``SGDClassifier.fit``
for the same epoch (no shuffle, constant rate, no penalty).  The schedules'
rows run the same epoch with ``inverse_time`` (its rates computed at once)
and with a plain Python callable (called and checked once per update).
"""

from __future__ import annotations

import functools
import math
import warnings
from collections.abc import Callable

import numpy as np
from measure import HAVE, per_sample

from derivreg import fast
from derivreg.train import inverse_time, train


def lecture_loop(loss: str, X: np.ndarray, y: np.ndarray, lr: float) -> Callable[[], object]:
    """The lecture's loops as printed (plotting removed), with its tracking lists."""
    rng = np.random.default_rng(1)
    if X.shape[1] == 1:
        x_data, y_data = X[:, 0], y
        w0, b0 = rng.uniform(-3, 3, 2)

        def one_feature() -> object:
            w, b = w0, b0
            J_track, w_track, b_track = [], [], []
            for _data_idx, (x, y_) in enumerate(zip(x_data, y_data, strict=True)):
                w_track.append(w)
                b_track.append(b)
                pred = x * w + b
                if loss == "bce":
                    pred = 1 / (1 + np.exp(-pred))
                    J = -(y_ * np.log(pred) + (1 - y_) * np.log(1 - pred))
                    J_track.append(J)
                    dJ_dpred = (pred - y_) / (pred * (1 - pred))
                    dpred_dz = pred * (1 - pred)
                    dJ_dz = dJ_dpred * dpred_dz
                    dJ_dw, dJ_db = dJ_dz * x, dJ_dz * 1
                    w, b = w - lr * dJ_dw, b - lr * dJ_db
                else:
                    J = (y_ - pred) ** 2
                    J_track.append(J)
                    dJ_dpred = -2 * (y_ - pred)
                    dJ_dw, dJ_db = dJ_dpred * x, dJ_dpred * 1
                    w, b = w - 2 * lr * dJ_dw, b - 2 * lr * dJ_db  # as printed (erratum 1)
            return w, b

        return one_feature
    n = X.shape[1]
    x_data, y_data = X, y.reshape(-1, 1)
    W0, b0 = rng.uniform(-1, 1, (n, 1)), rng.uniform(-1, 1, (1,))

    def n_features() -> object:
        W, b = W0, b0
        J_track, W_track, b_track, acc_track = [], [], [], []
        n_correct = 0
        for data_idx, (x, y_) in enumerate(zip(x_data, y_data, strict=True)):
            W_track.append(W)
            b_track.append(b)
            pred = x @ W + b
            if loss == "bce":
                pred = 1 / (1 + np.exp(-pred))
                J = -(y_ * np.log(pred) + (1 - y_) * np.log(1 - pred))
                J_track.append(J)
                pred_ = (pred > 0.5).astype(int)
                if pred_ == y_:
                    n_correct += 1
                acc_track.append(n_correct / (data_idx + 1))
                dJ_dpred = (pred - y_) / (pred * (1 - pred))
                dpred_dz = pred * (1 - pred)
                dJ_dz = dJ_dpred * dpred_dz
            else:
                J = (y_ - pred) ** 2
                J_track.append(J)
                dJ_dz = -2 * (y_ - pred)
            dJ_dW = dJ_dz * x.reshape(1, -1)
            dJ_db = dJ_dz * 1
            W = W - lr * dJ_dW.T
            b = b - lr * dJ_db
        return W, b

    return n_features


@functools.cache
def numba_plain(loss: str) -> Callable[..., object]:
    import numba

    @numba.njit
    def epoch(X, y, w, b, lr):  # the "plain numba loop": no loss, no history
        m, n = X.shape
        for i in range(m):
            z = b
            for j in range(n):
                z += X[i, j] * w[j]
            r = 1.0 / (1.0 + math.exp(-z)) - y[i] if loss == "bce" else 2.0 * (z - y[i])
            for j in range(n):
                w[j] -= lr * r * X[i, j]
            b -= lr * r
        return b

    return epoch


def sklearn_epoch(loss: str, X: np.ndarray, y: np.ndarray, lr: float) -> Callable[[], object]:
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.linear_model import SGDClassifier, SGDRegressor

    common = {"penalty": None, "learning_rate": "constant", "eta0": lr, "max_iter": 1}
    common |= {"tol": None, "shuffle": False, "average": False}

    def fit() -> object:
        model = (
            SGDClassifier(loss="log_loss", **common)
            if loss == "bce"
            else SGDRegressor(loss="squared_error", **common)
        )
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            return model.fit(X, y)

    return fit


def sgd_section(quick: bool, repeats: int) -> list[dict[str, object]]:
    m = 2000 if quick else 10**5
    lr = 0.01
    rows = []
    rng = np.random.default_rng(2)
    for loss in ("mse", "bce"):
        for d in (1, 8):
            X = rng.standard_normal((m, d))
            w = rng.standard_normal(d) / math.sqrt(d)
            z = X @ w + 0.5
            if loss == "bce":
                y = (rng.random(m) < 1 / (1 + np.exp(-z))).astype(float)
            else:
                y = z + 0.1 * rng.standard_normal(m)
            methods: dict[str, Callable[[], object]] = {
                "lecture loop": lecture_loop(loss, X, y, lr),
                "derivreg numpy (History on)": lambda X=X, y=y, loss=loss: train(
                    X, y, loss=loss, lr=lr
                ),
                "derivreg numpy (History off)": lambda X=X, y=y, loss=loss: train(
                    X, y, loss=loss, lr=lr, record="none"
                ),
                "scikit-learn": sklearn_epoch(loss, X, y, lr),
            }
            if HAVE["numba"]:
                methods["derivreg numba (History off)"] = lambda X=X, y=y, loss=loss: train(
                    X, y, loss=loss, lr=lr, record="none", backend="numba"
                )
                methods["derivreg numba, inverse_time schedule"] = lambda X=X, y=y, loss=loss: (
                    train(
                        X, y, loss=loss, lr=inverse_time(lr, 1e-4), record="none", backend="numba"
                    )
                )
                methods["derivreg numba, Python schedule"] = lambda X=X, y=y, loss=loss: train(
                    X, y, loss=loss, lr=lambda t: lr / (1.0 + 1e-4 * t), record="none",
                    backend="numba",
                )  # fmt: skip
                methods["derivreg numba, sgd_epoch only"] = lambda X=X, y=y, loss=loss: fast.epoch(
                    loss, X, y, np.zeros(X.shape[1]), 0.0, lr, m, 0, "numba"
                )
                plain = numba_plain(loss)
                methods["numba by hand (no loss)"] = lambda X=X, y=y, p=plain: p(
                    X, y, np.zeros(X.shape[1]), 0.0, lr
                )
            with np.errstate(all="ignore"):
                result = per_sample(methods, m, repeats)
            rows.append({"loss": loss, "d": d, "m": m, "ns_per_sample": result})
            print(
                f"  SGD {loss} d={d}: " + ", ".join(f"{k} {v:.0f}" for k, v in result.items()),
                flush=True,
            )
    return rows
