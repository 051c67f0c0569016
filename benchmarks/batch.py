"""The full-batch gradient: derivreg's kernels (NumPy and fused numba) and their peers.

Every figure is a ratio to one read of X (``X @ v``) timed just before it.
The shapes, and the textbook formulas (``1/(1+exp(-z))``, ``X.T @ r / m``),
name the two pairs the issue measures; the kernels come from the registry.
"""

from __future__ import annotations

import functools
import math
import os
from collections.abc import Callable

import numpy as np
from measure import HAVE, ratios

from derivreg import fast
from derivreg.kernels import KERNELS

#: (pair, rows, features) of the batch table; --quick divides the rows by 200.
CASES = (("bce", 10**6, 8), ("bce", 10**6, 64), ("bce", 2 * 10**5, 256))
CASES += (("mse", 10**6, 8), ("mse", 10**6, 64))

#: The fused numba kernels' columns.
FUSED = (
    "derivreg numba grad (fused)",
    "derivreg numba loss (fused)",
    "derivreg numba update (fused)",
)


def textbook(loss: str) -> Callable[..., tuple[np.ndarray, float]]:
    def grad(X: np.ndarray, y: np.ndarray, w: np.ndarray, b: float) -> tuple[np.ndarray, float]:
        z = X @ w + b
        r = 1 / (1 + np.exp(-z)) - y if loss == "bce" else 2 * (z - y)
        return X.T @ r / len(y), float(r.mean())

    return grad


def textbook_loss(loss: str) -> Callable[..., float]:
    """The mean loss as a textbook writes it: the log of the sigmoid, the squared residual."""

    def mean_loss(X: np.ndarray, y: np.ndarray, w: np.ndarray, b: float) -> float:
        z = X @ w + b
        if loss == "bce":
            p = 1 / (1 + np.exp(-z))
            return float(-np.mean(y * np.log(p) + (1 - y) * np.log(1 - p)))
        return float(np.mean((z - y) ** 2))

    return mean_loss


def textbook_update(loss: str) -> Callable[..., tuple[np.ndarray, float]]:
    """One full-batch step ``theta - lr * grad``, the gradient as :func:`textbook`'s."""
    grad = textbook(loss)

    def update(X: np.ndarray, y: np.ndarray, w: np.ndarray, b: float, lr: float) -> tuple:
        g, gb = grad(X, y, w, b)
        return w - lr * g, b - lr * gb

    return update


#: (derivreg's NumPy kernel, its textbook peer) for target 1: each pair's ratio is one cell.
TEXTBOOK_PAIRS = (
    ("derivreg grad", "textbook NumPy"),
    ("derivreg loss", "textbook loss"),
    ("derivreg update", "textbook update"),
)


@functools.cache
def numba_peer(loss: str) -> Callable[..., object]:
    import numba

    @numba.njit(parallel=True, fastmath=True)
    def grad(X, y, w, b):  # the "numba parallel fastmath" peer
        m, n = X.shape
        chunks = numba.get_num_threads()
        part = np.zeros((chunks, n + 1))
        size = (m + chunks - 1) // chunks
        for c in numba.prange(chunks):
            for i in range(c * size, min(m, (c + 1) * size)):
                z = b
                for j in range(n):
                    z += X[i, j] * w[j]
                r = 1.0 / (1.0 + math.exp(-z)) - y[i] if loss == "bce" else 2.0 * (z - y[i])
                for j in range(n):
                    part[c, j] += r * X[i, j]
                part[c, n] += r
        total = part.sum(axis=0) / m
        return total[:n], total[n]

    return grad


def fused_methods(loss: str, X: np.ndarray, y: np.ndarray, w: np.ndarray) -> dict:
    """derivreg's compiled batch path: the checked public functions of derivreg.fast."""
    return dict(
        zip(
            FUSED,
            (
                lambda: fast.grad(loss, X, y, w, 0.1),
                lambda: fast.loss(loss, X, y, w, 0.1),
                lambda: fast.update(loss, X, y, w, 0.1, 0.01),
            ),
            strict=True,
        )
    )


def jax_peers(loss: str, X: np.ndarray, y: np.ndarray) -> dict[str, Callable[[], object]]:
    import jax
    import jax.numpy as jnp

    jax.config.update("jax_enable_x64", True)
    Xj, yj = jnp.asarray(X), jnp.asarray(y)

    def mean_loss(w, b, X, y):
        z = X @ w + b
        if loss == "bce":
            return jnp.mean(jnp.logaddexp(0.0, z) - y * z)
        return jnp.mean((y - z) ** 2)

    g = jax.jit(jax.grad(mean_loss, argnums=(0, 1)))
    w = jnp.zeros(X.shape[1])
    return {"JAX jit(grad)": lambda: jax.block_until_ready(g(w, 0.1, Xj, yj))}


def torch_peers(loss: str, X: np.ndarray, y: np.ndarray) -> dict[str, Callable[[], object]]:
    import torch

    if os.environ.get("OMP_NUM_THREADS"):
        torch.set_num_threads(int(os.environ["OMP_NUM_THREADS"]))
    Xt, yt = torch.from_numpy(X), torch.from_numpy(y)
    n = X.shape[1]

    def autograd() -> object:
        w = torch.zeros(n, dtype=torch.float64, requires_grad=True)
        b = torch.tensor(0.1, dtype=torch.float64, requires_grad=True)
        z = Xt @ w + b
        if loss == "bce":
            J = torch.nn.functional.binary_cross_entropy_with_logits(z, yt)
        else:
            J = torch.mean((yt - z) ** 2)
        J.backward()
        return w.grad, b.grad

    w0 = torch.zeros(n, dtype=torch.float64)

    def by_hand() -> object:
        with torch.no_grad():
            z = Xt @ w0 + 0.1
            r = torch.sigmoid(z) - yt if loss == "bce" else 2 * (z - yt)
            return r @ Xt / len(yt), r.mean()

    return {"PyTorch autograd": autograd, "PyTorch by hand": by_hand}


def batch_section(quick: bool, repeats: int) -> list[dict[str, object]]:
    cases = list(CASES)
    if quick:
        cases = [(loss, m // 200, n) for loss, m, n in cases]
    rows = []
    rng = np.random.default_rng(0)
    for loss, m, n in cases:
        X = rng.standard_normal((m, n))
        w = rng.standard_normal(n) / math.sqrt(n)
        z = X @ w
        binary = KERNELS[loss].TARGETS == "binary"
        y = (rng.random(m) < 1 / (1 + np.exp(-z))).astype(float) if binary else z + 1
        v = w.copy()
        kernel = KERNELS[loss]
        book, book_loss, book_update = textbook(loss), textbook_loss(loss), textbook_update(loss)
        methods: dict[str, Callable[[], object]] = {
            "textbook NumPy": lambda X=X, y=y, w=w, t=book: t(X, y, w, 0.1),
            "derivreg grad": lambda X=X, y=y, w=w, k=kernel: k.grad(X, y, w, 0.1),
            "derivreg _grad (unchecked)": lambda X=X, y=y, w=w, k=kernel: k._grad(X, y, w, 0.1),
            "textbook loss": lambda X=X, y=y, w=w, t=book_loss: t(X, y, w, 0.1),
            "derivreg loss": lambda X=X, y=y, w=w, k=kernel: k.loss(X, y, w, 0.1),
            "textbook update": lambda X=X, y=y, w=w, t=book_update: t(X, y, w, 0.1, 0.01),
            "derivreg update": lambda X=X, y=y, w=w, k=kernel: k.update(X, y, w, 0.1, 0.01),
        }
        if HAVE["numba"]:
            peer = numba_peer(loss)
            methods["numba parallel fastmath"] = lambda X=X, y=y, w=w, p=peer: p(X, y, w, 0.1)
            methods.update(fused_methods(loss, X, y, w))
        if HAVE["jax"]:
            methods.update(jax_peers(loss, X, y))
        if HAVE["torch"]:
            methods.update(torch_peers(loss, X, y))
        with np.errstate(over="ignore"):
            result, base = ratios(lambda X=X, v=v: X @ v, methods, repeats)
        rows.append({"loss": loss, "m": m, "n": n, "read_ms": base * 1e3, "ratios": result})
        print(
            f"  grad {loss} {m}x{n}: one read {base * 1e3:.2f} ms; "
            + ", ".join(f"{k} {r:.2f}" for k, r in result.items()),
            flush=True,
        )
    return rows
