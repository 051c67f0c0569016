"""k-class classification with the generated vector-output kernels (scikit-learn style).

:class:`SoftmaxRegressionSGD` fits ``W`` (n, k) and ``b`` (k,) by per-sample
SGD (``derivreg/kernels/softmax_loop.py``'s ``sgd_epoch``) or by full-batch
(proximal) gradient descent on the weighted mean loss plus scikit-learn's
penalty ``alpha (l1_ratio ||W||_1 + (1 - l1_ratio)/2 ||W||²)``, the
intercept unpenalised: the settings, and their meaning, of the scalar
estimators (:mod:`derivreg._penalty`), the L2 gradient and the L1 step the
kernels' own.  Everything it knows about the loss comes from the generated
kernel module: its gradient, its probabilities and its
``STEP_SIZE_NUMERATOR``.  Needs scikit-learn (the ``sklearn`` extra).

Examples
--------
>>> import numpy as np
>>> X = np.array([[-2.0], [-1.9], [0.0], [0.1], [2.0], [2.1]])
>>> clf = SoftmaxRegressionSGD(random_state=0).fit(X, ["a", "a", "b", "b", "c", "c"])
>>> clf.classes_.tolist(), clf.predict([[-2.0], [0.05], [2.0]]).tolist()
(['a', 'b', 'c'], ['a', 'b', 'c'])
"""

from __future__ import annotations

from numbers import Integral, Real
from typing import Any, ClassVar

import numpy as np

try:
    from sklearn.base import BaseEstimator, ClassifierMixin
    from sklearn.utils import check_random_state
    from sklearn.utils._param_validation import Interval, StrOptions
    from sklearn.utils.multiclass import check_classification_targets
    from sklearn.utils.validation import _check_sample_weight, check_is_fitted, validate_data
except ImportError as err:  # pragma: no cover - the extra is missing
    raise ImportError(
        "derivreg.multiclass needs scikit-learn: pip install 'derivreg[sklearn]'"
    ) from err

from derivreg import _dask_estimators as _dask  # imports Dask only for Dask input
from derivreg._dask_estimators import _DaskScore
from derivreg._penalty import Penalty, auto_lr, check_penalty
from derivreg.distributed import is_dask, require_dask
from derivreg.kernels import softmax as _kernel
from derivreg.kernels import softmax_loop as _loop

__all__ = ["SoftmaxRegressionSGD"]


def _stationarity(dW: np.ndarray, db: np.ndarray, W: np.ndarray, l1: float) -> np.ndarray:
    """Return the minimum-norm (sub)gradient in W, then db (empty without an intercept)."""
    if l1:
        dW = np.where(W != 0, dW + l1 * np.sign(W), _kernel.soft_threshold(dW, l1))
    return np.concatenate([dW.ravel(), db])


def _gd(X, Y, W, b, *, fit: dict, lr: float, max_iter: int, tol: float, grad=_kernel.grad) -> tuple:  # noqa: ANN001
    """Full-batch (proximal) gradient descent on the weighted mean loss + the penalty.

    ``fit``: ``sample_weight``, ``l2``, ``l1``, ``fit_intercept``; ``grad``: the
    kernel's (or, on Dask arrays, its per-chunk sums').  Each step
    W := soft_threshold(W - lr dJ/dW, lr l1), b := b - lr dJ/db; stops once the
    minimum-norm subgradient's norm is at most ``tol``.
    """
    for iteration in range(1, max_iter + 1):
        dW, db = grad(X, Y, W, b, sample_weight=fit["sample_weight"], alpha=fit["l2"])
        db = db if fit["fit_intercept"] else np.zeros(0)
        if np.linalg.norm(_stationarity(dW, db, W, fit["l1"])) <= tol:
            return W, b, iteration, True
        W = W - lr * dW
        if fit["l1"]:
            W = _kernel.soft_threshold(W, lr * fit["l1"])
        if fit["fit_intercept"]:
            b = b - lr * db
    return W, b, max_iter, False


class SoftmaxRegressionSGD(_DaskScore, ClassifierMixin, BaseEstimator):
    """Softmax (multinomial logistic) regression, fitted by SGD or full-batch GD.

    Parameters
    ----------
    lr : float or "auto", default "auto"
        Step size.  ``"auto"``: for ``solver="sgd"`` :func:`derivreg._penalty.auto_lr`
        per sample (and ``partial_fit``, one SGD pass whatever the solver), ``1/L``
        with ``L = (2/STEP_SIZE_NUMERATOR) max_i s_i ||(x_i, 1)||² + alpha_l2``; for
        ``"gd"``, ``1/L`` with ``L = λ_max(X̃ᵀSX̃)/(2m) + alpha_l2``
        (λ_max(∂²J/∂z²) <= 1/2; S the weights of mean 1).
    epochs : int, default 100
        Passes over the data (``"sgd"``) or iterations (``"gd"``).
    solver : {"sgd", "gd"}, default "sgd"
    penalty : {"l2", "l1", "elasticnet"} or None, default "l2"
        scikit-learn's: "l2" is ``l1_ratio = 0``, "l1" is ``l1_ratio = 1``.
    alpha : float, default 0.0
        The penalty's strength on the mean loss; ``b`` is never penalised.
        With "l2", ``alpha = 1/(C m)`` matches scikit-learn's ``LogisticRegression(C)``.
        SGD takes the L2 gradient at every step and the L1 proximal step
        ``soft_threshold(W, lr alpha l1_ratio)`` after every step.
    l1_ratio : float, default 0.15
        The L1 share of an elastic net.
    fit_intercept : bool, default True
        Without an intercept ``b`` stays 0.
    tol : float, default 1e-10
        ``"gd"`` stops once the (minimum-norm sub)gradient's norm is at most ``tol``.
    shuffle : bool, default True
        ``"sgd"`` visits the rows in a new random order each epoch.
    random_state : int, RandomState or None, default None

    Attributes
    ----------
    classes_ : ndarray of shape (k,)
        The labels, sorted; any labels (strings too).
    coef_ : ndarray of shape (k, n_features)
        ``Wᵀ``, one row per class, as scikit-learn stores it.
    intercept_ : ndarray of shape (k,)
    n_iter_ : int
    converged_ : bool
        ``"gd"``: whether the gradient norm reached ``tol``.

    Examples
    --------
    >>> import numpy as np
    >>> X = np.array([[0.0], [1.0], [2.0], [3.0]])
    >>> clf = SoftmaxRegressionSGD(solver="gd", epochs=2000).fit(X, [0, 0, 1, 2])
    >>> clf.predict_proba(X).sum(axis=1).round(12).tolist()
    [1.0, 1.0, 1.0, 1.0]
    """

    # Set by fit (none exists before it, as scikit-learn has it): the types, for type checkers.
    classes_: np.ndarray
    coef_: np.ndarray
    intercept_: np.ndarray
    n_iter_: int
    converged_: bool
    _rng: np.random.RandomState

    _parameter_constraints: ClassVar[dict] = {
        "lr": [Interval(Real, 0, np.inf, closed="neither"), StrOptions({"auto"})],
        "epochs": [Interval(Integral, 1, None, closed="left")],
        "solver": [StrOptions({"sgd", "gd"})],
        "penalty": [StrOptions({"l2", "l1", "elasticnet"}), None],
        "alpha": [Interval(Real, 0, np.inf, closed="left")],
        "l1_ratio": [Interval(Real, 0, 1, closed="both")],
        "fit_intercept": ["boolean"],
        "tol": [Interval(Real, 0, np.inf, closed="left")],
        "shuffle": ["boolean"],
        "random_state": ["random_state"],
    }

    def __init__(  # noqa: PLR0917 - scikit-learn estimators take their settings positionally
        self,
        lr: float | str = "auto",
        epochs: int = 100,
        solver: str = "sgd",
        penalty: str | None = "l2",
        alpha: float = 0.0,
        l1_ratio: float = 0.15,
        fit_intercept: bool = True,
        tol: float = 1e-10,
        shuffle: bool = True,
        random_state: Any = None,
    ) -> None:
        self.lr = lr
        self.epochs = epochs
        self.solver = solver
        self.penalty = penalty
        self.alpha = alpha
        self.l1_ratio = l1_ratio
        self.fit_intercept = fit_intercept
        self.tol = tol
        self.shuffle = shuffle
        self.random_state = random_state

    # -- labels --------------------------------------------------------------
    def _one_hot(self, y: np.ndarray, *, reset: bool, classes: Any = None) -> np.ndarray:
        labelled = y
        if is_dask(y):  # the checks below read the distinct labels: one pass over y
            y = _dask.labels(y)
        check_classification_targets(y)
        if reset:
            found = np.unique(y) if classes is None else np.unique(np.asarray(classes))
            if len(found) < 2:
                raise ValueError(
                    f"{type(self).__name__} needs samples of at least 2 classes in the data, "
                    f"but the data contains only one class: {found[0]!r}"
                )
            self.classes_ = found
        elif classes is not None and not np.array_equal(np.unique(classes), self.classes_):
            raise ValueError(
                f"`classes={np.asarray(classes)!r}` is not the same as on last call to "
                f"partial_fit, was: {self.classes_!r}"
            )
        unknown = np.setdiff1d(y, self.classes_)
        if unknown.size:
            raise ValueError(
                f"y contains labels {unknown.tolist()} not in classes {self.classes_.tolist()}"
            )
        return (labelled[:, None] == self.classes_[None, :]).astype(np.float64)

    def _penalty(self) -> Penalty:
        return check_penalty(self.penalty, self.alpha, self.l1_ratio, type(self).__name__)

    def _step(self, X: np.ndarray, weights: np.ndarray | None, *, per_sample: bool) -> float:
        if not (isinstance(self.lr, str) and self.lr == "auto"):
            return float(self.lr)
        pen = self._penalty()
        if is_dask(X):  # one pass: the rows' largest norm, or the Gram matrix
            from derivreg._dask_softmax import gd_step

            if not per_sample:
                return gd_step(X, weights, l2=pen.l2, fit_intercept=self.fit_intercept)
            return _dask.auto_lr(
                _kernel, X, batch_size=1, penalty=pen, weights=weights,
                fit_intercept=self.fit_intercept, per_sample=True,
            )  # fmt: skip
        if per_sample:  # SGD, and partial_fit whatever the solver
            return auto_lr(
                _kernel, X, batch_size=1, penalty=pen, weights=weights,
                fit_intercept=self.fit_intercept, per_sample=True,
            )  # fmt: skip
        augmented = np.column_stack([X, np.ones(len(X))]) if self.fit_intercept else X
        if weights is not None:  # X~^T S X~ with S of mean 1: the rows scaled by sqrt(s)
            augmented = augmented * np.sqrt(weights * (len(X) / np.sum(weights)))[:, None]
        curvature = np.linalg.norm(augmented, 2) ** 2 / (2 * len(X)) + pen.l2
        return float(1.0 / curvature) if curvature > 0 else 1.0

    # -- fitting -------------------------------------------------------------
    def _epochs(self, X: np.ndarray, Y: np.ndarray, epochs: int, weights: Any) -> None:
        rng = check_random_state(self.random_state) if not hasattr(self, "_rng") else self._rng
        self._rng = rng
        W, b = self.coef_.T.copy(), self.intercept_.copy()
        lr, pen = self._step(X, weights, per_sample=True), self._penalty()
        if is_dask(X):  # the generated sgd_epoch chunk by chunk, W and b carried
            from derivreg._dask_softmax import sgd_epochs

            W, b = sgd_epochs(
                X, Y, W, b, lr=lr, alpha=pen.l2, l1=pen.l1, fit_intercept=self.fit_intercept,
                sample_weight=weights, shuffle=self.shuffle, rng=rng, epochs=epochs,
            )  # fmt: skip
        for _ in range(0 if is_dask(X) else epochs):
            order = rng.permutation(len(X)) if self.shuffle else None
            W, b = _loop.sgd_epoch(
                X, Y, W, b, lr, order=order, sample_weight=weights, alpha=pen.l2, l1=pen.l1,
                fit_intercept=self.fit_intercept,
            )  # fmt: skip
        self.coef_, self.intercept_ = W.T.copy(), b
        self.n_iter_ = getattr(self, "n_iter_", 0) + epochs

    def _input(self, X: Any, y: Any, sample_weight: Any, *, reset: bool) -> tuple:
        """Return X, y and the weights checked: in memory, or lazily for Dask input."""
        if is_dask(X) or is_dask(y) or is_dask(sample_weight):
            X, y, sw = _dask.check_fit(self, X, y, sample_weight, reset=reset)
            if sw is not None and not is_dask(sw):  # a scalar: one weight per row
                sw = require_dask().full(X.shape[0], float(sw), chunks=(X.chunks[0],))
            return X, y, sw
        X, y = validate_data(self, X, y, reset=reset, dtype=np.float64)
        return X, y, self._weights(sample_weight, X)

    def _weights(self, sample_weight: Any, X: np.ndarray) -> np.ndarray | None:
        if sample_weight is None:
            return None
        return _check_sample_weight(sample_weight, X, dtype=np.float64)

    def fit(self, X: Any, y: Any, sample_weight: Any = None) -> SoftmaxRegressionSGD:
        """Fit from zero weights on ``(X, y)``; labels may be any values (strings too).

        ``sample_weight`` (scikit-learn's checks): ``"gd"`` minimises the
        weighted mean loss; ``"sgd"`` scales each sample's step by its weight
        (the penalty's step is not scaled).

        Examples
        --------
        >>> SoftmaxRegressionSGD(epochs=5).fit([[0.0], [1.0], [2.0]], [0, 1, 2]).coef_.shape
        (3, 1)
        """
        self._validate_params()
        X, y, weights = self._input(X, y, sample_weight, reset=True)
        Y = self._one_hot(y, reset=True)
        for name in ("_rng", "n_iter_"):
            self.__dict__.pop(name, None)
        self.coef_ = np.zeros((len(self.classes_), X.shape[1]))
        self.intercept_ = np.zeros(len(self.classes_))
        if self.solver == "gd":
            pen = self._penalty()
            fit = {"sample_weight": weights, "l2": pen.l2, "l1": pen.l1,
                   "fit_intercept": self.fit_intercept}  # fmt: skip
            W, b, self.n_iter_, self.converged_ = _gd(
                X, Y, self.coef_.T, self.intercept_,
                fit=fit, lr=self._step(X, weights, per_sample=False),
                max_iter=self.epochs, tol=self.tol,
                grad=_dask_grad() if is_dask(X) else _kernel.grad,
            )  # fmt: skip
            self.coef_, self.intercept_ = W.T.copy(), b
            return self
        self._epochs(X, Y, self.epochs, weights)
        self.converged_ = False
        return self

    def partial_fit(
        self, X: Any, y: Any, classes: Any = None, sample_weight: Any = None
    ) -> SoftmaxRegressionSGD:
        """One SGD pass over ``(X, y)``; the first call needs ``classes`` (all the labels).

        Examples
        --------
        >>> clf = SoftmaxRegressionSGD()
        >>> clf = clf.partial_fit([[0.0], [1.0]], ["x", "y"], classes=["x", "y", "z"])
        >>> clf.classes_.tolist()
        ['x', 'y', 'z']
        """
        first = not hasattr(self, "classes_")
        if first:
            self._validate_params()
            if classes is None:
                raise ValueError("classes must be passed on the first call to partial_fit.")
        X, y, weights = self._input(X, y, sample_weight, reset=first)
        Y = self._one_hot(y, reset=first, classes=classes)
        if first:
            self.coef_ = np.zeros((len(self.classes_), X.shape[1]))
            self.intercept_ = np.zeros(len(self.classes_))
            self.converged_ = False
        self._epochs(X, Y, 1, weights)
        return self

    # -- predicting ----------------------------------------------------------
    def decision_function(self, X: Any) -> np.ndarray:
        """Return the scores ``z = X W + b``, (m, k); for two classes ``z₁ - z₀``, (m,).

        Examples
        --------
        >>> clf = SoftmaxRegressionSGD(epochs=5).fit([[0.0], [1.0], [2.0]], [0, 1, 2])
        >>> clf.decision_function([[1.0]]).shape
        (1, 3)
        """
        check_is_fitted(self)
        binary = len(self.classes_) == 2
        if is_dask(X):  # lazy, chunk by chunk
            W, b, k = self.coef_.T, self.intercept_, len(self.classes_)
            return _dask.lazy_rows(self, X, _decision, W, b, columns=None if binary else k)
        X = validate_data(self, X, reset=False, dtype=np.float64)
        return _decision(X, self.coef_.T, self.intercept_)

    def predict_proba(self, X: Any) -> np.ndarray:
        """Class probabilities, shape (m, k), columns in the order of ``classes_``.

        Examples
        --------
        >>> clf = SoftmaxRegressionSGD(epochs=5).fit([[0.0], [1.0], [2.0]], [0, 1, 2])
        >>> float(clf.predict_proba([[1.0]]).sum().round(12))
        1.0
        """
        check_is_fitted(self)
        if is_dask(X):  # lazy: the generated predict_proba chunk by chunk
            W, b, k = self.coef_.T, self.intercept_, len(self.classes_)
            return _dask.lazy_rows(self, X, _kernel.predict_proba, W, b, columns=k)
        X = validate_data(self, X, reset=False, dtype=np.float64)
        return _kernel.predict_proba(X, self.coef_.T, self.intercept_)

    def predict_log_proba(self, X: Any) -> np.ndarray:
        """Return the log of :meth:`predict_proba`, without underflow (the kernel's log-softmax)."""
        check_is_fitted(self)
        if is_dask(X):  # lazy, chunk by chunk
            W, b, k = self.coef_.T, self.intercept_, len(self.classes_)
            return _dask.lazy_rows(self, X, _log_proba, W, b, columns=k)
        X = validate_data(self, X, reset=False, dtype=np.float64)
        return _kernel.log_softmax(X @ self.coef_.T + self.intercept_)

    def predict(self, X: Any) -> np.ndarray:
        """Predict the most probable class of each row.

        Examples
        --------
        >>> clf = SoftmaxRegressionSGD(epochs=50).fit([[0.0], [1.0], [2.0]], ["a", "b", "c"])
        >>> clf.predict([[0.0]]).tolist()
        ['a']
        """
        check_is_fitted(self)
        if is_dask(X):  # lazy, chunk by chunk
            W, b, c = self.coef_.T, self.intercept_, self.classes_
            return _dask.lazy_rows(self, X, _labels, W, b, c, dtype=c.dtype)
        X = validate_data(self, X, reset=False, dtype=np.float64)
        return _labels(X, self.coef_.T, self.intercept_, self.classes_)


# -- per-chunk functions (module level: Dask sends them to its workers) --------


def _dask_grad() -> Any:
    from derivreg._dask_softmax import DaskGrad

    return DaskGrad()


def _decision(X: np.ndarray, W: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Return ``Z = X W + b``; for two classes ``z1 - z0``."""
    Z = _dask.logit(X, W, b)
    return Z[:, 1] - Z[:, 0] if Z.shape[1] == 2 else Z


def _log_proba(X: np.ndarray, W: np.ndarray, b: np.ndarray) -> np.ndarray:
    return _kernel.log_softmax(_dask.logit(X, W, b))


def _labels(X: np.ndarray, W: np.ndarray, b: np.ndarray, classes: np.ndarray) -> np.ndarray:
    return classes[np.argmax(_dask.logit(X, W, b), axis=1)]
