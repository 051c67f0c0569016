"""The lecture's four datasets, drawn in the lecture's order, and variants.

Each generator uses ``np.random.RandomState(seed)`` and makes its random
draws in exactly the order of the lecture's code, so that with the default
seed 1 the true parameters, the initial parameters and the data are the
lecture's own numbers:

============  ========  =======  ========================  ========================
experiment    features  samples  true parameters           draws, in order
============  ========  =======  ========================  ========================
linear-1      1         100      w = 5, b = -3 (fixed)     w0, b0 ~ U(-3, 3); x ~ N(0, 1)
linear-n      3         100      w, b ~ U(-3, 3)           true w, true b, w0, b0; X ~ N(0, 1)
logistic-1    1         500      w = 5, b = -3 (fixed)     w0, b0 ~ U(-3, 3); x ~ N(0.6, 1)
logistic-n    3         1000     w, b ~ U(-1, 1)           true w, true b, w0, b0; X ~ N(0, 1)
============  ========  =======  ========================  ========================

Optional extra draws come last, so they never move the lecture's numbers:
Gaussian noise on regression targets, or the uniforms behind labels drawn as
Bernoulli(sigmoid(z)).  ``logistic(..., positive_rate=r)`` replaces the true
bias by the intercept that makes a fraction ``r`` of the labels 1 (balanced
classes with ``r = 0.5``); the draws stay the same.

Past memory, :func:`write_zarr` writes a synthetic logistic, Poisson or
linear data set of any size to a zarr store chunk by chunk, and
:func:`open_zarr`, :func:`open_npy` and :func:`synthetic` give row-chunked
Dask arrays (the extra ``dask``).

The defaults are correct where the lecture is not (see the errata in the
design notes).  ``lecture_errata=True`` reproduces the lecture's own numbers:

* linear-1: the lecture's code updates with ``w - 2*lr*dJ_dw``, twice the
  slide's rule, so its effective learning rate is 0.02, not 0.01;
* logistic-1: the lecture labels ``t_w*x + t_b > -t_b/t_w``, comparing a logit
  with an x-position, which puts the labels' boundary at x = 0.72 instead of
  the model's -b/w = 0.6.

The lecture's n-feature labels (``sigmoid(z) > 0.5``, that is ``z > 0``)
are the default threshold labels; they are separable, so the logistic loss
has no minimiser and only the direction of the weights converges (erratum
3).  Labels drawn as Bernoulli(sigmoid(z)) (``labels="bernoulli"``) have a
maximum-likelihood estimate that approaches the true parameters.

Examples
--------
>>> d = lecture("linear-1")
>>> d.X.shape, d.y.shape, round(float(d.w0[0]), 5), round(d.b0, 5), d.lr
((100, 1), (100,), -0.49787, 1.32195, 0.01)
"""

from __future__ import annotations

from dataclasses import dataclass
from numbers import Real
from typing import Literal

import numpy as np

from derivreg._draws import (
    _check_int,
    _check_logistic,
    _check_seed,
    _frozen,
    _intercept,
    _labels,
    _linear_draws,
    _logistic_draws,
)
from derivreg._store import open_npy, open_zarr, store_info, synthetic, write_zarr  # past memory

__all__ = [
    "LECTURE",
    "Dataset",
    "lecture",
    "linear",
    "logistic",
    "open_npy",
    "open_zarr",
    "store_info",
    "synthetic",
    "write_zarr",
]

Labels = Literal["threshold", "bernoulli"]
LectureName = Literal["linear-1", "linear-n", "logistic-1", "logistic-n"]

#: The lecture's four experiments, in the lecture's order.
LECTURE: tuple[LectureName, ...] = ("linear-1", "linear-n", "logistic-1", "logistic-n")

#: The lecture's (features, samples, learning rate) per experiment.
_LECTURE_SETTINGS: dict[str, tuple[int, int, float]] = {
    "linear-1": (1, 100, 0.01),
    "linear-n": (3, 100, 0.1),
    "logistic-1": (1, 500, 0.1),
    "logistic-n": (3, 1000, 0.03),
}


@dataclass(frozen=True)
class Dataset:
    """A generated regression or classification problem.

    All arrays are read-only float64.

    Parameters
    ----------
    name : str
        Short name, e.g. ``"linear-1"`` or ``"logistic-n"``.
    loss : {"mse", "bce"}
        The loss the problem is trained with (the kernel's name).
    X : ndarray of shape (m, n)
        Inputs, one sample per row.
    y : ndarray of shape (m,)
        Targets: real numbers for ``"mse"``, 0.0 or 1.0 for ``"bce"``.
    true_w : ndarray of shape (n,)
        Weights the targets were generated from.
    true_b : float
        Bias the targets were generated from.
    w0 : ndarray of shape (n,)
        The lecture's random initial weights.
    b0 : float
        The lecture's random initial bias.
    lr : float
        Learning rate: the step size ``alpha`` of ``w := w - alpha dJ/dw``.
    seed : int or None
        Seed of the ``RandomState`` the data were drawn from.
    labels : {"threshold", "bernoulli"} or None
        How classification labels were made (None for regression):
        ``"threshold"`` labels are separable by a hyperplane.
    errata : tuple of str
        The lecture errata reproduced in this dataset (empty by default).

    Examples
    --------
    >>> d = logistic(2, 50, seed=0)
    >>> d.name, d.loss, d.X.shape, sorted(set(d.y.tolist()))
    ('logistic-2', 'bce', (50, 2), [0.0, 1.0])
    """

    name: str
    loss: Literal["mse", "bce"]
    X: np.ndarray
    y: np.ndarray
    true_w: np.ndarray
    true_b: float
    w0: np.ndarray
    b0: float
    lr: float
    seed: int | None
    labels: Labels | None = None
    errata: tuple[str, ...] = ()

    @property
    def n_samples(self) -> int:
        """Number of samples, ``m``.

        Examples
        --------
        >>> lecture("logistic-n").n_samples
        1000
        """
        return int(self.X.shape[0])

    @property
    def n_features(self) -> int:
        """Number of features, ``n``.

        Examples
        --------
        >>> lecture("linear-n").n_features
        3
        """
        return int(self.X.shape[1])

    @property
    def positive_rate(self) -> float:
        """Fraction of the labels that are 1 (nan for regression).

        Examples
        --------
        >>> logistic(2, 500).positive_rate, logistic(2, 500, positive_rate=0.5).positive_rate
        (0.012, 0.5)
        """
        return float(np.mean(self.y)) if self.loss == "bce" else float("nan")


def linear(
    n_features: int = 1,
    n_samples: int = 100,
    *,
    seed: int | None = 1,
    noise: float = 0.0,
    lecture_errata: bool = False,
) -> Dataset:
    """Linear-regression data, ``y = X w + b (+ noise)``, in the lecture's draw order.

    With one feature the truth is the lecture's ``w = 5, b = -3``; with more
    features it is drawn from U(-3, 3) first, as in the lecture's n-feature
    code.  The learning rate is the lecture's (0.01 for one feature, 0.1 for
    more).

    Parameters
    ----------
    n_features : int, default 1
        Number of features ``n`` (at least 1).
    n_samples : int, default 100
        Number of samples ``m`` (at least 1).
    seed : int or None, default 1
        Seed of ``np.random.RandomState``; None draws fresh entropy.
    noise : float, default 0.0
        Standard deviation of Gaussian noise added to ``y`` (drawn last).
    lecture_errata : bool, default False
        With one feature, return the lecture's effective learning rate
        ``2 * 0.01`` (its code updates with ``w - 2*lr*dJ_dw``).

    Returns
    -------
    Dataset

    Raises
    ------
    ValueError
        If a size is below 1 or ``noise`` is negative or not finite.

    Examples
    --------
    >>> d = linear(3)
    >>> d.true_w.round(5).tolist(), round(d.true_b, 5), d.lr
    ([-0.49787, 1.32195, -2.99931], -1.186, 0.1)
    >>> linear(lecture_errata=True).lr
    0.02
    """
    n_features = _check_int("n_features", n_features, 1)
    n_samples = _check_int("n_samples", n_samples, 1)
    seed = _check_seed(seed)
    if not isinstance(noise, Real) or not np.isfinite(noise) or noise < 0:
        raise ValueError(f"noise must be a finite number >= 0, got {noise!r}")
    rs = np.random.RandomState(seed)
    X, y, true_w, true_b, w0, b0 = _linear_draws(rs, n_features, n_samples)
    lr = 0.01 if n_features == 1 else 0.1
    errata: tuple[str, ...] = ()
    if n_features == 1 and lecture_errata:
        lr = 2 * lr
        errata = ("update w - 2*lr*dJ_dw: effective learning rate 2 x 0.01 = 0.02",)
    if noise:  # drawn last: the lecture's numbers stay
        y = y + noise * rs.randn(n_samples)
    return Dataset(
        name=f"linear-{n_features}",
        loss="mse",
        X=_frozen(X),
        y=_frozen(y),
        true_w=_frozen(true_w),
        true_b=float(true_b),
        w0=_frozen(w0),
        b0=b0,
        lr=lr,
        seed=seed,
        errata=errata,
    )


def logistic(
    n_features: int = 1,
    n_samples: int | None = None,
    *,
    seed: int | None = 1,
    labels: Labels = "threshold",
    positive_rate: float | None = None,
    lecture_errata: bool = False,
) -> Dataset:
    """Logistic-regression data in the lecture's draw order.

    With one feature the truth is ``w = 5, b = -3`` (boundary ``-b/w = 0.6``)
    and ``x ~ N(0.6, 1)``; with more features the truth is drawn from
    U(-1, 1) and ``X ~ N(0, 1)``.  Labels are ``z > 0`` for ``z = X w + b``
    (``"threshold"``), or drawn as Bernoulli(sigmoid(z)) (``"bernoulli"``,
    one uniform per sample drawn last).

    Parameters
    ----------
    n_features : int, default 1
        Number of features ``n`` (at least 1).
    n_samples : int or None, default None
        Number of samples; None takes the lecture's (500 for one feature,
        1000 for more).
    seed : int or None, default 1
        Seed of ``np.random.RandomState``; None draws fresh entropy.
    labels : {"threshold", "bernoulli"}, default "threshold"
        How labels are made from ``z``.
    positive_rate : float in (0, 1), optional
        Choose the true bias so that this fraction of the labels is 1
        (threshold labels: exactly, up to rounding to whole samples;
        Bernoulli labels: in expectation).  The random draws are unchanged.
        Default: the drawn bias, whatever balance it gives.
    lecture_errata : bool, default False
        With one feature, label as the lecture's code does,
        ``t_w*x + t_b > -t_b/t_w``: the labels' boundary moves from
        x = 0.6 to x = 0.72.  Only with ``labels="threshold"``.

    Returns
    -------
    Dataset

    Raises
    ------
    ValueError
        If a size is below 1, ``labels`` is unknown, ``positive_rate`` is
        not strictly between 0 and 1, or the errata are asked for with
        Bernoulli labels or a positive rate.

    Examples
    --------
    >>> d = logistic()
    >>> d.n_samples, d.lr, -d.true_b / float(d.true_w[0])
    (500, 0.1, 0.6)
    >>> e = logistic(lecture_errata=True)
    >>> float(e.X[e.y == 0].max()) < 0.72 < float(e.X[e.y == 1].min())
    True
    >>> logistic(2, 500).positive_rate  # the drawn truth: 6 positives in 500
    0.012
    >>> d = logistic(2, 500, positive_rate=0.5)
    >>> d.positive_rate, round(d.true_b, 3)
    (0.5, 0.014)
    """
    n_features = _check_int("n_features", n_features, 1)
    if n_samples is None:
        n_samples = 500 if n_features == 1 else 1000
    n_samples = _check_int("n_samples", n_samples, 1)
    seed = _check_seed(seed)
    _check_logistic(labels, positive_rate, lecture_errata)
    rs = np.random.RandomState(seed)
    X, z, true_w, true_b, w0, b0 = _logistic_draws(rs, n_features, n_samples)
    lr = 0.1 if n_features == 1 else 0.03
    threshold = 0.0
    errata: tuple[str, ...] = ()
    if n_features == 1 and lecture_errata:  # the lecture's labels: a logit against an x-position
        threshold = boundary = -true_b / true_w[0]
        errata = (
            "labels z > -b/w (a logit against an x-position): "
            f"label boundary x = {(boundary - true_b) / true_w[0]:.2f}, not {boundary:.2f}",
        )
    if positive_rate is not None:
        scores = X @ true_w
        true_b = _intercept(scores, float(positive_rate), labels)
        z = scores + true_b
    y = _labels(rs, z, labels, threshold)  # Bernoulli's uniforms are drawn last
    return Dataset(
        name=f"logistic-{n_features}",
        loss="bce",
        X=_frozen(X),
        y=_frozen(y),
        true_w=_frozen(true_w),
        true_b=float(true_b),
        w0=_frozen(w0),
        b0=b0,
        lr=lr,
        seed=seed,
        labels=labels,
        errata=errata,
    )


def lecture(name: LectureName, *, seed: int | None = 1, lecture_errata: bool = False) -> Dataset:
    """One of the lecture's four experiments, with its sizes and learning rate.

    Parameters
    ----------
    name : {"linear-1", "linear-n", "logistic-1", "logistic-n"}
        The experiment; ``-n`` means the lecture's 3 features.
    seed : int or None, default 1
        Seed of ``np.random.RandomState`` (the lecture's is 1).
    lecture_errata : bool, default False
        Reproduce the lecture's own numbers where its code is wrong.

    Returns
    -------
    Dataset
        ``name`` is the experiment's name given here.

    Examples
    --------
    >>> d = lecture("logistic-n")
    >>> d.name, d.X.shape, d.lr
    ('logistic-n', (1000, 3), 0.03)
    """
    if name not in _LECTURE_SETTINGS:
        raise ValueError(f"unknown lecture experiment {name!r}; expected one of {LECTURE}")
    n_features, n_samples, _ = _LECTURE_SETTINGS[name]
    make = linear if name.startswith("linear") else logistic
    d = make(n_features, n_samples, seed=seed, lecture_errata=lecture_errata)
    return Dataset(**{**d.__dict__, "name": name})
