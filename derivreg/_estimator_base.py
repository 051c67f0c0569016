"""The shared base of the estimators in :mod:`derivreg.estimators`: settings, fit, predict.

Private: imported by :mod:`derivreg.estimators` after its check that
scikit-learn is installed.  What the estimators say about a fit (the
log-likelihood, AIC, BIC, standard errors, ``conf_int``, ``summary``) is the
mixin :class:`derivreg._estimator_inference._Inference`.
"""

from __future__ import annotations

from numbers import Integral, Real
from typing import Any, ClassVar, Literal, Self

import numpy as np
from sklearn.base import BaseEstimator
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import (
    Interval,
    InvalidParameterError,
    StrOptions,
    make_constraint,
)
from sklearn.utils.validation import _check_sample_weight, check_is_fitted, validate_data

from derivreg import _dask_estimators as _dask  # imports Dask only for Dask input
from derivreg._estimator_inference import _Inference, _kernel
from derivreg._penalty import check_penalty
from derivreg.distributed import is_dask
from derivreg.train import SOLVERS, History, Loss, Record, Solver, step_size_bound, train

#: Sparse X the estimators take, as scikit-learn's SGD estimators do: CSR and
#: CSC as they are, other formats converted by ``validate_data``; never densified.
ACCEPT_SPARSE = ["csr", "csc"]


def _is_auto(lr: object) -> bool:
    return isinstance(lr, str) and lr == "auto"


def _auto_lr(X: np.ndarray, loss: Loss, **settings: Any) -> float:
    """Return ``lr="auto"`` over ``X``; a ValueError where it underflows.

    :func:`derivreg._penalty.auto_lr`: for unpenalised per-sample SGD, half
    the step-size bound.
    """
    from derivreg._penalty import auto_lr

    if is_dask(X):  # one pass: the chunks' largest row norms
        return _dask.auto_lr(_kernel(loss), X, **settings)
    try:
        step_size_bound(X, loss)  # the bound's own overflow message
        return auto_lr(_kernel(loss), X, **settings)
    except FloatingPointError as err:
        raise ValueError(
            f"lr='auto' is half the per-sample step-size bound over X, and X is too large "
            f"for it: {err} (for example with sklearn.preprocessing.StandardScaler), or pass "
            f"a number as lr"
        ) from err


class _SGD(_Inference, BaseEstimator):
    """Shared parameters and fitting of the SGD estimators."""

    _loss: ClassVar[Loss]

    # scikit-learn checks these in fit and partial_fit, with its own wording.
    _parameter_constraints: ClassVar[dict] = {
        "lr": [Interval(Real, 0, np.inf, closed="neither"), StrOptions({"auto"})],
        "epochs": [Interval(Integral, 1, None, closed="left")],
        "batch_size": [Interval(Integral, 1, None, closed="left")],
        "shuffle": ["boolean"],
        "tol": [Interval(Real, 0, np.inf, closed="left"), None],
        "n_iter_no_change": [Interval(Integral, 1, None, closed="left")],
        "random_state": ["random_state"],
        "record": [StrOptions({"all", "loss", "none"})],
        "solver": [StrOptions(set(SOLVERS))],
        "max_iter": [Interval(Integral, 1, None, closed="left"), None],
        "scale": [Interval(Real, 0, None, closed="neither"), StrOptions({"pearson", "auto"})],
        "penalty": [StrOptions({"l2", "l1", "elasticnet"}), None],
        "alpha": [Interval(Real, 0, None, closed="left")],
        "l1_ratio": [Interval(Real, 0, 1, closed="both")],
        "fit_intercept": ["boolean"],
    }

    def _check_params(self) -> None:
        """Check the settings with scikit-learn's constraints; bools are not numbers here."""
        self._validate_params()
        for name, constraints in self._parameter_constraints.items():
            value = getattr(self, name)
            numeric = any(isinstance(c, Interval) for c in constraints)
            if numeric and isinstance(value, (bool, np.bool_)):
                accepted = [str(make_constraint(c)) for c in constraints]
                listed = (
                    f"{', '.join(accepted[:-1])} or {accepted[-1]}"
                    if len(accepted) > 1
                    else accepted[0]
                )
                raise InvalidParameterError(
                    f"The {name!r} parameter of {type(self).__name__} must be {listed}. "
                    f"Got {value!r} instead."
                )

    def __init__(
        self,
        *,
        lr: float | Literal["auto"] = "auto",
        epochs: int = 100,
        batch_size: int = 1,
        shuffle: bool = True,
        tol: float | None = 1e-4,
        n_iter_no_change: int = 5,
        random_state: int | np.random.RandomState | None = None,
        record: Record = "loss",
        solver: Literal["sgd", "gd", "newton", "lbfgs"] = "sgd",
        max_iter: int | None = None,
        scale: float | Literal["pearson", "auto"] = "auto",
        penalty: Literal["l2", "l1", "elasticnet"] | None = None,
        alpha: float = 0.0001,
        l1_ratio: float = 0.15,
        fit_intercept: bool = True,
    ) -> None:
        self.lr = lr
        self.epochs = epochs
        self.batch_size = batch_size
        self.shuffle = shuffle
        self.tol = tol
        self.n_iter_no_change = n_iter_no_change
        self.random_state = random_state
        self.record = record
        self.solver = solver
        self.max_iter = max_iter
        self.scale = scale
        self.penalty = penalty
        self.alpha = alpha
        self.l1_ratio = l1_ratio
        self.fit_intercept = fit_intercept

    def _targets(self, y: np.ndarray, *, reset: bool, classes: Any = None) -> np.ndarray:
        """Return the 0/1 (or real) targets the kernel trains on; regression keeps ``y``."""
        del reset, classes  # the classifier's hook; unused here
        return y

    def _fit(
        self, X: Any, y: Any, *, full: bool, classes: Any = None, sample_weight: Any = None
    ) -> Self:
        # full: fit() from zero for up to `epochs`; else one epoch from the current weights.
        self._check_params()
        solver, max_iter = self._solver(full)
        reset = full or not hasattr(self, "coef_")
        dask = is_dask(X) or is_dask(y) or is_dask(sample_weight)
        X, targets, sample_weight = self._data(
            X, y, sample_weight, reset=reset, classes=classes, dask=dask
        )
        if reset:
            for name in ("coef_", "intercept_"):
                self.__dict__.pop(name, None)
        epochs, tol = (self.epochs, self.tol) if full else (1, None)
        sgd = solver == "sgd"
        lr = self._sgd_lr(X, sample_weight) if sgd else 0.01  # full batch: its own steps
        seed = int(check_random_state(self.random_state).randint(np.iinfo(np.int32).max))
        w, b, history = train(
            X,
            targets,
            loss=self._loss,
            w0=getattr(self, "coef_", None),
            b0=getattr(self, "intercept_", 0.0),
            lr=lr,
            epochs=epochs,
            batch_size=self.batch_size,
            shuffle=self.shuffle,
            seed=seed,
            tol=tol,
            n_iter_no_change=self.n_iter_no_change,
            record=self.record,
            solver=solver,
            max_iter=max_iter,
            # fit() asks whether the MLE exists; a partial_fit batch may well be separable
            # (and a penalised fit has a finite optimum whatever the data)
            check_separation=full and self.penalty is None and not dask,  # an LP: in memory
            penalty=self.penalty,
            alpha=self.alpha,
            l1_ratio=self.l1_ratio,
            sample_weight=sample_weight,
            fit_intercept=self.fit_intercept,
        )
        self.coef_: np.ndarray = w
        self.intercept_: float = b
        self.history_: History = history
        self.n_iter_: int = history.n_iter  # type: ignore[assignment]
        self.converged_: bool | None = history.converged
        self.grad_norm_: float = history.grad_norm  # type: ignore[assignment]
        self._infer(X, targets, full=full, weighted=sample_weight is not None)
        return self

    def _solver(self, full: bool) -> tuple[Solver, int | None]:
        """Return the solver and ``max_iter`` this fit runs (partial_fit: one SGD epoch)."""
        solver: Solver = self.solver if full else "sgd"  # partial_fit: one SGD epoch, any solver
        max_iter = self.max_iter
        if solver == "sgd" and _is_auto(self.lr) and _kernel(self._loss).STEP_SIZE_NUMERATOR == 0:
            # Unbounded curvature: no constant SGD step is safe.  "auto" is then full-batch
            # gradient descent, backtracking (Armijo) on the mean loss: fit() runs it,
            # partial_fit() takes one step of it on the batch.
            solver, max_iter = "gd", max_iter if full else 1
        if solver != "sgd" and self.tol == 0:
            raise InvalidParameterError(
                f"The 'tol' parameter of {type(self).__name__} must be a float in the range "
                f"(0.0, inf) or None with solver={solver!r}. Got {self.tol!r} instead."
            )
        return solver, max_iter

    def _data(
        self, X: Any, y: Any, sample_weight: Any, *, reset: bool, classes: Any, dask: bool
    ) -> tuple[Any, Any, Any]:
        """Check ``X``, ``y`` and ``sample_weight``; return them with ``y`` as trained on."""
        if dask:  # checked lazily, fitted by train's Dask path
            X, y, sample_weight = _dask.check_fit(self, X, y, sample_weight, reset=reset)
        else:
            X, y = validate_data(
                self, X, y, reset=reset, dtype=np.float64, accept_sparse=ACCEPT_SPARSE
            )
        targets = self._targets(y, reset=reset, classes=classes)
        if sample_weight is not None and not dask:
            sample_weight = _check_sample_weight(sample_weight, X, dtype=np.float64)
        return X, targets, sample_weight

    def _sgd_lr(self, X: Any, sample_weight: Any) -> float:
        """Return SGD's step: ``lr``, or for ``lr="auto"`` half the per-sample bound over X."""
        if not _is_auto(self.lr):
            return float(self.lr)  # a float: "auto" is the one string lr takes
        pen = check_penalty(self.penalty, self.alpha, self.l1_ratio, type(self).__name__)
        return _auto_lr(
            X,
            self._loss,
            batch_size=min(self.batch_size, X.shape[0]),
            per_sample=self.batch_size == 1,
            penalty=pen,
            weights=sample_weight,
            fit_intercept=self.fit_intercept,
        )

    def fit(self, X: Any, y: Any, sample_weight: Any = None) -> Self:
        """Fit from zero weights for up to ``epochs`` passes over the data.

        Parameters
        ----------
        X : array_like of shape (m, n)
            Training inputs.
        y : array_like of shape (m,)
            Targets.
        sample_weight : array_like of shape (m,) or float, optional
            Weights of the samples (scikit-learn's checks): full batches
            minimise the weighted mean; per-sample SGD scales each sample's
            step by its weight.

        Returns
        -------
        self

        Examples
        --------
        >>> from derivreg.estimators import LinearRegressionSGD
        >>> X = np.array([[0.0], [1.0], [2.0], [3.0]])
        >>> reg = LinearRegressionSGD(solver="newton").fit(X, [1.0, 2.9, 5.2, 6.9])
        >>> reg.coef_.round(3).tolist(), round(reg.intercept_, 3), reg.converged_
        ([2.0], 1.0, True)
        """
        return self._fit(X, y, full=True, sample_weight=sample_weight)

    def _z(self, X: Any) -> np.ndarray:
        check_is_fitted(self)
        if is_dask(X):  # lazy, chunk by chunk
            return _dask.lazy_rows(self, X, _dask.logit, self.coef_, self.intercept_)
        X = validate_data(self, X, reset=False, dtype=np.float64, accept_sparse=ACCEPT_SPARSE)
        return X @ self.coef_ + self.intercept_

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.target_tags.required = True
        tags.input_tags.sparse = True  # CSR and CSC, as scikit-learn's SGD estimators
        return tags
