"""Deliberately broken kernels: each property must find its planted bug.

A planted kernel is a small wrapper around the real generated module (the
generated files are never edited): it has the same functions, recomposed
from the real chain factors with one thing wrong.  Bugs are built from the
pair's reference, so every pair gets them with no new code; a bug that makes
no sense for a pair (``yhat(1 - yhat)`` missing where ``dyhat/dz == 1``)
says so in ``applies``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from types import ModuleType, SimpleNamespace
from unittest import mock

import numpy as np

from properties.reference import Reference


def recompose(
    kernel: ModuleType,
    name: str,
    *,
    dJ_dz: Callable[[np.ndarray, np.ndarray], np.ndarray] | None = None,
    losses: Callable[[np.ndarray, np.ndarray], np.ndarray] | None = None,
    grad_sign: float = 1.0,
    drop_last_row: bool = False,
    in_place: bool = False,
    checks: bool = True,
) -> SimpleNamespace:
    """A kernel look-alike computing from the chain factor ``dJ_dz`` and ``losses``."""
    chain = dJ_dz or kernel.dJ_dz

    def prepare(X, y, w, b):
        if checks:
            X, y, w, b = kernel._check_batch(
                X, y, w, b, kernel.NAME, kernel._in_domain, kernel.DOMAIN
            )
        else:
            X, y, w = np.asarray(X), np.asarray(y), np.asarray(w)
        if drop_last_row and X.shape[0] > 1:
            X, y = X[:-1], y[:-1]
        return X, y, w, b

    # Without checks, the generated module's unchecked per-sample losses (if it has them).
    per_sample = kernel.losses if checks else getattr(kernel, "_losses", kernel.losses)

    def f_losses(X, y, w, b):
        X, y, w, b = prepare(X, y, w, b)
        if losses is None:
            return per_sample(X, y, w, b)
        return losses(X @ w + b, y)

    def f_unchecked_losses(X, y, w, b):
        if drop_last_row and np.shape(X)[0] > 1:
            X, y = X[:-1], y[:-1]
        if losses is None:
            return getattr(kernel, "_losses", kernel.losses)(X, y, w, b)
        return losses(X @ w + b, y)

    def f_loss(X, y, w, b):
        return float(np.mean(f_losses(X, y, w, b)))

    def f_grad(X, y, w, b):
        X, y, w, b = prepare(X, y, w, b)
        dz = chain(X @ w + b, y)
        return grad_sign * (dz @ X) / X.shape[0], grad_sign * float(np.mean(dz))

    def f_update(X, y, w, b, lr):
        dw, db = f_grad(X, y, w, b)
        if in_place:
            w -= lr * dw
            return w, float(b - lr * db)
        return np.asarray(w) - lr * dw, float(b - lr * db)

    planted = SimpleNamespace(
        __name__=f"planted {name}",
        NAME=kernel.NAME,
        TARGETS=kernel.TARGETS,
        DOMAIN=kernel.DOMAIN,
        _in_domain=kernel._in_domain,
        STEP_SIZE_NUMERATOR=kernel.STEP_SIZE_NUMERATOR,
        predict=kernel.predict,
        dJ_dyhat=kernel.dJ_dyhat,
        dyhat_dz=kernel.dyhat_dz,
        dJ_dz=chain,
        losses=f_losses,
        _losses=f_unchecked_losses,
        loss=f_loss,
        grad=f_grad,
        update=f_update,
    )
    planted.loop = loop_from(planted)
    return planted


def loop_from(kernel: object) -> Callable[..., float]:
    """A per-sample epoch with the signature of the generated ``sgd_epoch`` loops
    (``derivreg/kernels/<pair>_loop.py``), made of ``kernel.losses`` and
    ``kernel.update`` on one sample at a time: training's per-sample path then runs
    the given kernel's arithmetic (``properties.factory.training_with`` installs it)."""

    def sgd_epoch(X, Y, w, b, lr, J, every, first, w_track, b_track):
        n = len(w)
        for i in range(len(Y)):
            if i % every == first:
                w_track[i // every * n : (i // every + 1) * n] = list(w)
                b_track[i // every] = b
            x = np.array(X[i * n : (i + 1) * n], dtype=np.float64)[None, :]
            label = np.array([Y[i]], dtype=np.float64)
            current = np.array(w, dtype=np.float64)
            J[i] = float(kernel.losses(x, label, current, b)[0])
            new_w, b = kernel.update(x, label, current, b, lr)
            w[:] = np.asarray(new_w).tolist()
        return b

    return sgd_epoch


def update_per_sample(kernel: ModuleType) -> SimpleNamespace:
    """The generated kernel itself, with training's per-sample epochs run through its
    ``update`` (instead of the generated loop)."""
    copy = SimpleNamespace(**{k: v for k, v in vars(kernel).items() if not k.startswith("__")})
    copy.__name__ = f"{kernel.__name__} (update per sample)"
    copy.loop = loop_from(copy)
    return copy


def _quiet(f: Callable[..., np.ndarray]) -> Callable[..., np.ndarray]:
    """Run ``f`` with NumPy's floating-point warnings off (naive code overflows on purpose)."""

    def g(*args):
        with np.errstate(all="ignore"):
            return f(*args)

    return g


@dataclass(frozen=True)
class Bug:
    """A planted bug: what it is, which pairs it makes sense for, how to build it."""

    name: str
    description: str
    build: Callable[[ModuleType, Reference], SimpleNamespace]
    applies: Callable[[Reference], bool] = lambda ref: True


def _unseeded(kernel: ModuleType, ref: Reference) -> SimpleNamespace:
    """The real kernel, but training's shuffles ignore their seed (``patches`` is applied
    around ``train`` by the training properties)."""
    planted = recompose(kernel, "unseeded shuffle")
    fresh = np.random.default_rng

    def ignore_seed(seed: object = None) -> np.random.Generator:
        return fresh()

    planted.patches = lambda: mock.patch("numpy.random.default_rng", side_effect=ignore_seed)
    return planted


def _float64_only(kernel: ModuleType, ref: Reference) -> SimpleNamespace:
    """The real kernel, refusing any array that is not already float64."""
    planted = recompose(kernel, "integers rejected")

    def strict(f: Callable[..., object]) -> Callable[..., object]:
        def g(*args):
            if any(isinstance(a, np.ndarray) and a.dtype != np.float64 for a in args):
                raise TypeError("expected float64 arrays")
            return f(*args)

        return g

    for name in ("predict", "losses", "loss", "grad", "update"):
        setattr(planted, name, strict(getattr(planted, name)))
    return planted


def _unchecked_training(kernel: ModuleType, ref: Reference) -> SimpleNamespace:
    """Training's input checks replaced by bare conversions that refuse anything but
    float64 arrays, over a kernel without checks (the kernels' own checks would
    otherwise catch most bad input a second time)."""
    planted = recompose(kernel, "training converts without checking", checks=False)

    def convert(X, y, w0, b0, loss):
        if any(isinstance(a, np.ndarray) and a.dtype != np.float64 for a in (X, y, w0)):
            raise TypeError("expected float64 arrays")
        w = np.zeros(np.shape(X)[1]) if w0 is None else np.array(w0, dtype=np.float64)
        return np.asarray(X), np.asarray(y), w, float(b0)

    @contextmanager
    def patches() -> Iterator[None]:
        with (
            mock.patch("derivreg.train._validate", convert),
            mock.patch("derivreg.train._check_lr", float),
        ):
            yield

    planted.patches = patches
    return planted


def _bugs(*bugs: Bug) -> dict[str, Bug]:
    return {bug.name: bug for bug in bugs}


BUGS: dict[str, Bug] = _bugs(
    Bug(
        "sign flipped in dJ_dz",
        "the chain-rule product dJ/dz negated (and with it dJ/dw, dJ/db and the update)",
        lambda k, ref: recompose(k, "sign flipped in dJ_dz", dJ_dz=lambda z, y: -k.dJ_dz(z, y)),
    ),
    Bug(
        "sign flipped in grad",
        "dJ/dw and dJ/db negated; the chain factors right",
        lambda k, ref: recompose(k, "sign flipped in grad", grad_sign=-1.0),
    ),
    Bug(
        "factor 2 dropped",
        "dJ/dz halved, as when d(y - yhat)^2/dyhat is written -(y - yhat)",
        lambda k, ref: recompose(k, "factor 2 dropped", dJ_dz=lambda z, y: k.dJ_dz(z, y) / 2),
    ),
    Bug(
        "yhat(1 - yhat) missing",
        "dJ/dz = dJ/dyhat: the activation's factor dyhat/dz left out of the chain rule",
        lambda k, ref: recompose(
            k,
            "yhat(1 - yhat) missing",
            dJ_dz=_quiet(lambda z, y: k.dJ_dyhat(y, ref.activation(z))),
        ),
        applies=lambda ref: not ref.chain_factor_trivial,
    ),
    Bug(
        "naive loss",
        "the textbook formulas evaluated as written (BCE: log of a rounded sigmoid; "
        "MSE: the expanded square y^2 - 2 y z + z^2)",
        lambda k, ref: recompose(
            k, "naive loss", dJ_dz=_quiet(ref.naive_dJ_dz), losses=_quiet(ref.naive_loss)
        ),
        applies=lambda ref: ref.has_naive_form,  # exp(z) - y z has no other form
    ),
    Bug(
        "last row dropped",
        "an off-by-one: the loss and gradient average over all rows but the last",
        lambda k, ref: recompose(k, "last row dropped", drop_last_row=True),
    ),
    Bug(
        "update writes its input",
        "update subtracts the step from the caller's w in place",
        lambda k, ref: recompose(k, "update writes its input", in_place=True),
    ),
    Bug(
        "unseeded shuffle",
        "training shuffles with fresh entropy instead of its seed",
        _unseeded,
    ),
    Bug(
        "no input checks",
        "the same arithmetic with no validation of shapes, labels or finiteness",
        lambda k, ref: recompose(k, "no input checks", checks=False),
    ),
    Bug("integers rejected", "only float64 arrays accepted", _float64_only),
    Bug(
        "training converts without checking",
        "train() with its input checks replaced by bare float64 conversions",
        _unchecked_training,
    ),
)
