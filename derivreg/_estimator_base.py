"""The shared base of the estimators in :mod:`derivreg.estimators`: settings, fit, inference.

Private: imported by :mod:`derivreg.estimators` after its check that
scikit-learn is installed.
"""

from __future__ import annotations

from numbers import Integral, Real
from typing import Any, ClassVar, Literal

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
from derivreg._penalty import check_penalty
from derivreg.distributed import is_dask
from derivreg.inference import Inference, no_inference_reason
from derivreg.train import SOLVERS, History, Loss, Record, step_size_bound, train

#: Sparse X the estimators take, as scikit-learn's SGD estimators do: CSR and
#: CSC as they are, other formats converted by ``validate_data``; never densified.
ACCEPT_SPARSE = ["csr", "csc"]


def _kernel(loss: Loss) -> Any:
    from derivreg._losses import kernel_module

    return kernel_module(loss, "the estimator")


def _penalty(estimator: object) -> str | None:
    """Describe the estimator's penalty if it has a nonzero one, else None.

    Reads ``alpha`` (and ``penalty``, where the estimator has one) as plain
    attributes, so that it holds for estimators with or without those
    parameters.
    """
    alpha = getattr(estimator, "alpha", 0.0)
    penalty = getattr(estimator, "penalty", "")
    if penalty is None or (isinstance(penalty, str) and penalty.lower() == "none"):
        return None
    if alpha is None or (isinstance(alpha, (int, float, np.number)) and alpha == 0):
        return None
    return f"penalty={penalty!r}, alpha={alpha!r}" if penalty else f"alpha={alpha!r}"


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


class _SGD(BaseEstimator):
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
    ) -> _SGD:
        # full: fit() from zero for up to `epochs`; else one epoch from the current weights.
        self._check_params()
        solver = self.solver if full else "sgd"  # partial_fit is one SGD epoch, whatever solver
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
        reset = full or not hasattr(self, "coef_")
        dask = is_dask(X) or is_dask(y) or is_dask(sample_weight)
        if dask:  # checked lazily, fitted by train's Dask path
            X, y, sample_weight = _dask.check_fit(self, X, y, sample_weight, reset=reset)
        else:
            X, y = validate_data(
                self, X, y, reset=reset, dtype=np.float64, accept_sparse=ACCEPT_SPARSE
            )
        targets = self._targets(y, reset=reset, classes=classes)
        if sample_weight is not None and not dask:
            sample_weight = _check_sample_weight(sample_weight, X, dtype=np.float64)
        penalised = {
            "penalty": self.penalty,
            "alpha": self.alpha,
            "l1_ratio": self.l1_ratio,
            "sample_weight": sample_weight,
            "fit_intercept": self.fit_intercept,
        }
        if reset:
            for name in ("coef_", "intercept_"):
                self.__dict__.pop(name, None)
        epochs, tol = (self.epochs, self.tol) if full else (1, None)
        sgd = solver == "sgd"
        lr = self.lr
        if sgd and _is_auto(self.lr):
            pen = check_penalty(self.penalty, self.alpha, self.l1_ratio, type(self).__name__)
            lr = _auto_lr(
                X,
                self._loss,
                batch_size=min(self.batch_size, X.shape[0]),
                per_sample=self.batch_size == 1,
                penalty=pen,
                weights=sample_weight,
                fit_intercept=self.fit_intercept,
            )
        seed = int(check_random_state(self.random_state).randint(np.iinfo(np.int32).max))
        w, b, history = train(
            X,
            targets,
            loss=self._loss,
            w0=getattr(self, "coef_", None),
            b0=getattr(self, "intercept_", 0.0),
            lr=lr if sgd else 0.01,  # the full-batch solvers choose their own steps
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
            **penalised,
        )
        self.coef_: np.ndarray = w
        self.intercept_: float = b
        self.history_: History = history
        self.n_iter_: int = history.n_iter  # type: ignore[assignment]
        self.converged_: bool | None = history.converged
        self.grad_norm_: float = history.grad_norm  # type: ignore[assignment]
        self._infer(X, targets, full=full, weighted=sample_weight is not None)
        return self

    def fit(self, X: Any, y: Any, sample_weight: Any = None) -> _SGD:
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
        """
        return self._fit(X, y, full=True, sample_weight=sample_weight)

    def _not_at_the_mle(self, *, full: bool, weighted: bool = False) -> str | None:
        """Why the fit is not the unpenalised optimum that inference needs (None if it is)."""
        if not full:
            return "partial_fit makes one SGD epoch and certifies no optimum"
        if weighted:
            return (
                "the fit is weighted (sample_weight): the Fisher information and the "
                "likelihood here are those of an unweighted fit"
            )
        penalised = _penalty(self)
        if penalised is not None:
            return (
                f"the fit is penalised ({penalised}): the Fisher information and the "
                "likelihood are those of the unpenalised maximum, and a penalised estimate "
                "is biased toward zero, so no standard errors; fit with alpha=0"
            )
        if not self.fit_intercept:
            return (
                "the fit has no intercept (fit_intercept=False): the inference here is that "
                "of a model with one"
            )
        if not self.converged_:
            return (
                "the fit has not converged (converged_ is not True): the Fisher information "
                "is the optimum's; fit with solver='newton' or 'lbfgs' and a tol"
            )
        return None

    def _likelihood(
        self, X: np.ndarray, targets: np.ndarray, *, full: bool, weighted: bool
    ) -> None:
        """Set ``loglik_``, ``aic_``, ``bic_`` (or None) and ``likelihood_note_`` (why none)."""
        kernel = _kernel(self._loss)
        reason = self._not_at_the_mle(full=full, weighted=weighted)
        if reason is None and getattr(kernel, "log_likelihood", None) is None:
            reason = (
                f"loglik_ is not available for pair {self._loss!r}: its family's normalising "
                "constant is not declared (Pair.log_density)"
            )
        loglik = None
        if reason is None:
            try:
                w, b, fit = self.coef_, self.intercept_, self.history_
                loglik = float(_dask.log_likelihood(kernel, X, targets, w, b, history=fit))
            except (FloatingPointError, ValueError) as err:  # a perfect fit: zero dispersion;
                reason = f"the log-likelihood cannot be computed: {err}"  # Pearson's: m <= p
        if loglik is not None and not np.isfinite(loglik):
            reason, loglik = (
                "the log-likelihood is not finite (a perfect fit: zero dispersion)",
                None,
            )
        p, m = X.shape[1] + 1, X.shape[0]
        self.loglik_: float | None = loglik
        self.aic_: float | None = None if loglik is None else -2 * loglik + 2 * p
        self.bic_: float | None = None if loglik is None else -2 * loglik + p * float(np.log(m))
        self.likelihood_note_: str | None = reason

    def _infer(
        self, X: np.ndarray, targets: np.ndarray, *, full: bool, weighted: bool = False
    ) -> None:
        """Set ``cov_``, ``stderr_`` (or None) and ``inference_note_`` (why none)."""
        self._likelihood(X, targets, full=full, weighted=weighted)
        kernel = _kernel(self._loss)
        reason = no_inference_reason(kernel) or self._not_at_the_mle(full=full, weighted=weighted)
        found: Inference | None = None
        if reason is None:
            names = [str(n) for n in getattr(self, "feature_names_in_", [])] or None
            if names is not None:
                names.append("intercept")
            try:
                found = _dask.fisher(
                    kernel, X, targets, self.coef_, self.intercept_, scale=self.scale,
                    names=names, hessian=self.history_.hessian,  # Newton's, at coef_, intercept_
                )  # fmt: skip
            except ValueError as err:
                reason = str(err)
        self.inference_: Inference | None = found
        self.cov_: np.ndarray | None = None if found is None else found.cov
        self.stderr_: np.ndarray | None = None if found is None else found.stderr
        self.inference_note_: str | None = reason

    def _inference(self) -> Inference:
        check_is_fitted(self)
        if self.inference_ is None:
            raise ValueError(
                f"{type(self).__name__} gives no standard errors: {self.inference_note_}"
            )
        return self.inference_

    def conf_int(self, level: float = 0.95) -> np.ndarray:
        """Wald confidence intervals of ``(coef_, intercept_)`` from ``cov_``.

        Parameters
        ----------
        level : float, default 0.95
            Coverage, in (0, 1).

        Returns
        -------
        ndarray of shape (n_features + 1, 2)
            Lower and upper ends; the last row is the intercept's.

        Raises
        ------
        ValueError
            When the fit gives no standard errors; the message says why
            (``inference_note_``).

        Examples
        --------
        >>> from derivreg.estimators import LinearRegressionSGD
        >>> X = np.array([[0.0], [1.0], [2.0], [3.0]])
        >>> reg = LinearRegressionSGD(solver="newton").fit(X, [1.0, 2.9, 5.2, 6.9])
        >>> reg.conf_int().round(3).tolist()
        [[1.848, 2.152], [0.716, 1.284]]
        """
        return self._inference().conf_int(level)

    def summary(self, level: float = 0.95) -> str:
        """Return a plain-text table of coef, std err, z, P>|z| and the interval.

        Raises
        ------
        ValueError
            When the fit gives no standard errors; the message says why.

        Examples
        --------
        >>> from derivreg.estimators import LinearRegressionSGD
        >>> X = np.array([[0.0], [1.0], [2.0], [3.0]])
        >>> reg = LinearRegressionSGD(epochs=2, tol=None).fit(X, [1.0, 2.9, 5.2, 6.9])
        >>> try:
        ...     reg.summary()
        ... except ValueError as err:
        ...     print(str(err)[:44])
        LinearRegressionSGD gives no standard errors
        >>> reg = LinearRegressionSGD(solver="newton").fit(X, [1.0, 2.9, 5.2, 6.9])
        >>> print(reg.summary().splitlines()[0].split())
        ['coef', 'std', 'err', 'z', 'P>|z|', '[0.025', '0.975]']
        """
        return self._inference().summary(level)

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
