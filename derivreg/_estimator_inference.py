"""What the estimators say about their fit: the log-likelihood, AIC, BIC and standard errors.

Private: the mixin :class:`_Inference` of the estimators' shared base
(:class:`derivreg._estimator_base._SGD`).  After each fit it sets
``loglik_``, ``aic_``, ``bic_`` and ``likelihood_note_`` (:meth:`_likelihood`),
then ``inference_``, ``cov_``, ``stderr_`` and ``inference_note_``
(:meth:`_infer`); each note says why its values are None: a fit that is not
the unpenalised maximum likelihood of the model (:meth:`_not_at_the_mle`),
or a pair whose generated kernel cannot give them.  :meth:`conf_int` and
:meth:`summary` read ``inference_``.

Examples
--------
>>> from derivreg.estimators import LinearRegressionSGD
>>> X, y = np.array([[0.0], [1.0], [2.0], [3.0]]), [1.0, 2.9, 5.2, 6.9]
>>> reg = LinearRegressionSGD(solver="newton").fit(X, y)
>>> reg.stderr_.round(3).tolist(), reg.likelihood_note_
([0.077, 0.145], None)
>>> pen = LinearRegressionSGD(solver="newton", penalty="l2", alpha=0.1).fit(X, y)
>>> pen.aic_ is None, pen.likelihood_note_[:20]
(True, 'the fit is penalised')
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np
from sklearn.utils.validation import check_is_fitted

from derivreg import _dask_estimators as _dask  # imports Dask only for Dask input
from derivreg.inference import Inference, no_inference_reason
from derivreg.train import Loss


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


class _Inference:
    """Likelihood and standard errors of a fitted estimator (a mixin of the estimators' base)."""

    _loss: ClassVar[Loss]
    # Set by the estimator's fit before _infer reads them.
    coef_: np.ndarray
    intercept_: float
    history_: Any
    converged_: bool | None
    fit_intercept: bool
    scale: Any

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
