"""k-class classification with the generated vector-output kernels (scikit-learn style).

:class:`SoftmaxRegressionSGD` fits ``W`` (n, k) and ``b`` (k,) by per-sample
SGD (``derivreg/kernels/*_loop.py``'s ``sgd_epoch``) or by full-batch
gradient descent on the mean loss plus ``(alpha/2) ||W||²`` (the intercept
unpenalised).  Everything it knows about the loss comes from the generated
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
    from sklearn.utils.validation import check_is_fitted, validate_data
except ImportError as err:  # pragma: no cover - the extra is missing
    raise ImportError(
        "derivreg.multiclass needs scikit-learn: pip install 'derivreg[sklearn]'"
    ) from err

from derivreg.kernels import softmax as _kernel
from derivreg.kernels import softmax_loop as _loop

__all__ = ["SoftmaxRegressionSGD"]


def _l2_gd(X, Y, W, b, *, alpha: float, lr: float, max_iter: int, tol: float) -> tuple:  # noqa: ANN001
    """Full-batch gradient descent on mean loss + (alpha/2)||W||²; stops at ||grad|| <= tol."""
    for iteration in range(1, max_iter + 1):
        dW, db = _kernel.grad(X, Y, W, b)
        dW = dW + alpha * W
        if np.sqrt(np.sum(dW * dW) + np.sum(db * db)) <= tol:
            return W, b, iteration, True
        W, b = W - lr * dW, b - lr * db
    return W, b, max_iter, False


class SoftmaxRegressionSGD(ClassifierMixin, BaseEstimator):
    """Softmax (multinomial logistic) regression, fitted by SGD or full-batch GD.

    Parameters
    ----------
    lr : float or "auto", default "auto"
        Step size.  ``"auto"``: for ``solver="sgd"`` half the per-sample bound
        ``STEP_SIZE_NUMERATOR / max ||(x, 1)||²``; for ``"gd"``, ``1/L`` with
        ``L = λ_max(X̃ᵀX̃)/(2m) + alpha`` (λ_max(∂²J/∂z²) <= 1/2).
    epochs : int, default 100
        Passes over the data (``"sgd"``) or iterations (``"gd"``).
    solver : {"sgd", "gd"}, default "sgd"
    alpha : float, default 0.0
        L2 penalty ``(alpha/2) ||W||²`` on the mean loss; ``b`` is not penalised.
        ``alpha = 1/(C m)`` matches scikit-learn's ``LogisticRegression(C)``.
    tol : float, default 1e-10
        ``"gd"`` stops once the gradient's norm is at most ``tol``.
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

    _parameter_constraints: ClassVar[dict] = {
        "lr": [Interval(Real, 0, np.inf, closed="neither"), StrOptions({"auto"})],
        "epochs": [Interval(Integral, 1, None, closed="left")],
        "solver": [StrOptions({"sgd", "gd"})],
        "alpha": [Interval(Real, 0, np.inf, closed="left")],
        "tol": [Interval(Real, 0, np.inf, closed="left")],
        "shuffle": ["boolean"],
        "random_state": ["random_state"],
    }

    def __init__(  # noqa: PLR0917 - scikit-learn estimators take their settings positionally
        self,
        lr: float | str = "auto",
        epochs: int = 100,
        solver: str = "sgd",
        alpha: float = 0.0,
        tol: float = 1e-10,
        shuffle: bool = True,
        random_state: Any = None,
    ) -> None:
        self.lr = lr
        self.epochs = epochs
        self.solver = solver
        self.alpha = alpha
        self.tol = tol
        self.shuffle = shuffle
        self.random_state = random_state

    # -- labels --------------------------------------------------------------
    def _one_hot(self, y: np.ndarray, *, reset: bool, classes: Any = None) -> np.ndarray:
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
        return (y[:, None] == self.classes_[None, :]).astype(np.float64)

    def _step(self, X: np.ndarray) -> float:
        if not (isinstance(self.lr, str) and self.lr == "auto"):
            return float(self.lr)
        augmented = np.column_stack([X, np.ones(len(X))])
        if self.solver == "sgd":
            return 0.5 * _kernel.STEP_SIZE_NUMERATOR / float(np.max(np.sum(augmented**2, axis=1)))
        curvature = np.linalg.norm(augmented, 2) ** 2 / (2 * len(X)) + self.alpha
        return 1.0 / curvature

    # -- fitting -------------------------------------------------------------
    def _epochs(self, X: np.ndarray, Y: np.ndarray, epochs: int) -> None:
        rng = check_random_state(self.random_state) if not hasattr(self, "_rng") else self._rng
        self._rng = rng
        W, b = self.coef_.T.copy(), self.intercept_.copy()
        lr = self._step(X)
        for _ in range(epochs):
            order = rng.permutation(len(X)) if self.shuffle else None
            W, b = _loop.sgd_epoch(X, Y, W, b, lr, order=order)
            if self.alpha:
                W = W * (1 - lr * self.alpha)
        self.coef_, self.intercept_ = W.T.copy(), b
        self.n_iter_ = getattr(self, "n_iter_", 0) + epochs

    def fit(self, X: Any, y: Any) -> SoftmaxRegressionSGD:
        """Fit from zero weights on ``(X, y)``; labels may be any values (strings too).

        Examples
        --------
        >>> SoftmaxRegressionSGD(epochs=5).fit([[0.0], [1.0], [2.0]], [0, 1, 2]).coef_.shape
        (3, 1)
        """
        self._validate_params()
        X, y = validate_data(self, X, y, reset=True, dtype=np.float64)
        Y = self._one_hot(y, reset=True)
        for name in ("_rng", "n_iter_"):
            self.__dict__.pop(name, None)
        self.coef_ = np.zeros((len(self.classes_), X.shape[1]))
        self.intercept_ = np.zeros(len(self.classes_))
        if self.solver == "gd":
            W, b, self.n_iter_, self.converged_ = _l2_gd(
                X, Y, self.coef_.T, self.intercept_,
                alpha=self.alpha, lr=self._step(X), max_iter=self.epochs, tol=self.tol,
            )  # fmt: skip
            self.coef_, self.intercept_ = W.T.copy(), b
            return self
        self._epochs(X, Y, self.epochs)
        self.converged_ = False
        return self

    def partial_fit(self, X: Any, y: Any, classes: Any = None) -> SoftmaxRegressionSGD:
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
        X, y = validate_data(self, X, y, reset=first, dtype=np.float64)
        Y = self._one_hot(y, reset=first, classes=classes)
        if first:
            self.coef_ = np.zeros((len(self.classes_), X.shape[1]))
            self.intercept_ = np.zeros(len(self.classes_))
            self.converged_ = False
        self._epochs(X, Y, 1)
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
        X = validate_data(self, X, reset=False, dtype=np.float64)
        Z = X @ self.coef_.T + self.intercept_
        return Z[:, 1] - Z[:, 0] if len(self.classes_) == 2 else Z

    def predict_proba(self, X: Any) -> np.ndarray:
        """Class probabilities, shape (m, k), columns in the order of ``classes_``.

        Examples
        --------
        >>> clf = SoftmaxRegressionSGD(epochs=5).fit([[0.0], [1.0], [2.0]], [0, 1, 2])
        >>> float(clf.predict_proba([[1.0]]).sum().round(12))
        1.0
        """
        check_is_fitted(self)
        X = validate_data(self, X, reset=False, dtype=np.float64)
        return _kernel.predict_proba(X, self.coef_.T, self.intercept_)

    def predict_log_proba(self, X: Any) -> np.ndarray:
        """Return the log of :meth:`predict_proba`, without underflow (the kernel's log-softmax)."""
        check_is_fitted(self)
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
        X = validate_data(self, X, reset=False, dtype=np.float64)
        return self.classes_[np.argmax(X @ self.coef_.T + self.intercept_, axis=1)]
