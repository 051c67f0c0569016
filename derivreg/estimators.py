"""scikit-learn-style estimators over :func:`derivreg.train.train`.

:class:`LinearRegressionSGD` (squared error) and :class:`LogisticRegressionSGD`
(binary cross-entropy) follow scikit-learn's conventions and pass its
``check_estimator``, and so does :class:`SGDRegressor`, whose ``loss`` is any
registered pair or a kernel module of one's own.  They train with the
generated kernels only.

This module, and only this one, uses scikit-learn (for its input
validation, parameter handling and error wording).  scikit-learn is not a
runtime dependency of derivreg: importing this module without it raises an
``ImportError`` that says so, while ``import derivreg`` and everything else
work without it.

On Dask arrays chunked by rows (the extra ``dask``), ``fit`` runs
:func:`derivreg.train.train`'s Dask path and never gathers X, the inference
comes from per-chunk sums, and ``predict``, ``predict_proba`` and
``decision_function`` return lazy Dask arrays (:mod:`derivreg._dask_estimators`).

Examples
--------
>>> import numpy as np
>>> X = np.array([[0.0], [1.0], [2.0], [3.0]])
>>> reg = LinearRegressionSGD(epochs=500, tol=None, random_state=0).fit(X, 2 * X[:, 0] - 1)
>>> reg.coef_.round(4).tolist(), round(reg.intercept_, 4)
([2.0], -1.0)
"""

from __future__ import annotations

from typing import Any

import numpy as np

try:
    from sklearn.base import RegressorMixin
    from sklearn.utils.validation import check_is_fitted, validate_data
except ImportError as err:  # pragma: no cover - exercised in a subprocess test
    raise ImportError(
        "derivreg.estimators needs scikit-learn (>= 1.6), which is not installed: "
        "`python -m pip install scikit-learn`.  The rest of derivreg "
        "(derivreg.train, derivreg.data, derivreg.plots) works without it."
    ) from err

from derivreg import _dask_estimators as _dask
from derivreg import kernels as _kernels
from derivreg._dask_estimators import _DaskScore
from derivreg._estimator_base import _SGD, ACCEPT_SPARSE, _kernel
from derivreg._logistic_estimator import LogisticRegressionSGD
from derivreg._sgd_regressor import SGDRegressor
from derivreg.distributed import is_dask

__all__ = [
    "GammaRegressionSGD",
    "LinearRegressionSGD",
    "LogisticRegressionSGD",
    "PoissonRegressionSGD",
    "SGDRegressor",
]


class LinearRegressionSGD(_DaskScore, RegressorMixin, _SGD):
    """Linear regression by SGD on the squared error, with the generated MSE kernel.

    Parameters
    ----------
    lr : float or "auto", default "auto"
        Learning rate.  Per-sample SGD on the squared error is stable for
        ``lr < 1/||(x, 1)||^2`` (:func:`derivreg.train.step_size_bound`);
        "auto" takes half of that bound over the training data,
        ``0.5 / max ||(x, 1)||^2``.
    epochs : int, default 100
        Maximum passes over the data in :meth:`fit`.
    batch_size : int, default 1
        Samples per update (1 is the lecture's per-sample SGD).
    shuffle : bool, default True
        Visit the samples in a new random order each epoch.
    tol : float or None, default 1e-4
        Stop when the epoch's mean loss has not improved by ``tol`` for
        ``n_iter_no_change`` epochs; None runs all epochs.
    n_iter_no_change : int, default 5
        Epochs without improvement before stopping.
    random_state : int, RandomState or None, default None
        Seeds the shuffling.
    record : {"all", "loss", "none"}, default "loss"
        What ``history_`` keeps per update (see :func:`derivreg.train.train`).
    solver : {"sgd", "gd", "newton", "lbfgs"}, default "sgd"
        ``"sgd"`` is the lecture's loop; the others are the full-batch
        solvers of :mod:`derivreg.solvers` (see :func:`derivreg.train.train`),
        which choose their own steps (``lr``, ``epochs``, ``batch_size``,
        ``shuffle`` are SGD's) and stop when the gradient's largest entry is
        at most ``tol``.  :meth:`partial_fit` is one SGD epoch whatever the
        solver.
    max_iter : int or None, default None
        Iterations of a full-batch solver (None: the solver's default).
    scale : float > 0, "pearson" or "auto", default "auto"
        The factor of the covariance ``cov_ = scale (m H)^-1``, i.e.
        ``J = scale * (-log L) / m`` (:mod:`derivreg.inference`).  1 when the
        mean loss is the mean negative log-likelihood; "pearson" estimates
        it from the residuals (``2 RSS / (m - p)`` for the squared error:
        statsmodels' OLS standard errors); "auto" is "pearson" where the
        pair's dispersion is estimated and 1 where it is fixed, read from
        the kernel module's generated ``DISPERSION_ESTIMATED`` (derived from
        the family's log-density, or declared in the registry): statsmodels'
        ``OLS``, ``Logit`` and ``GLM`` standard errors.
    penalty : {None, "l2", "l1", "elasticnet"}, default None
        scikit-learn's: the objective adds ``alpha * (l1_ratio ||w||_1 +
        (1 - l1_ratio)/2 ||w||^2)``, the intercept never penalised
        (:func:`derivreg.train.train`).  "l1" and "elasticnet" need
        ``solver="sgd"`` (the proximal step).
    alpha : float >= 0, default 0.0001
        The penalty's strength.
    l1_ratio : float in [0, 1], default 0.15
        The elastic net's L1 share.
    fit_intercept : bool, default True
        False fits no intercept (``intercept_ = 0.0``).

    Attributes
    ----------
    coef_ : ndarray of shape (n_features,)
        Weights ``w``.
    intercept_ : float
        Bias ``b``.
    n_features_in_ : int
        Number of features seen in :meth:`fit`.
    n_iter_ : int
        Epochs (SGD) or iterations (full-batch solvers) run in the last call.
    converged_ : bool or None
        Whether the full-batch gradient's largest entry at the end is at most
        ``tol`` (None for SGD with ``tol=None``, and after
        :meth:`partial_fit`).  With SGD, False also warns
        (``ConvergenceWarning``): the fit stopped far from stationarity.
    grad_norm_ : float
        That largest entry, ``max |dJ/d(w, b)|`` over the whole data.
    cov_, stderr_ : ndarray or None
        Covariance (n_features + 1 square) and standard errors of
        ``(coef_, intercept_)`` from the Fisher information at the optimum
        (:func:`derivreg.inference.fisher_inference`, scaled by ``scale``);
        None when the fit gives none, with the reason in
        ``inference_note_``: the fit has not converged, is penalised or has
        no intercept, or its kernel module has no per-sample ``curvature``.
    inference_note_ : str or None
        Why there are no standard errors (None when there are).
    loglik_, aic_, bic_ : float or None
        The maximised log-likelihood (the kernel module's generated
        ``log_likelihood``; at Pearson's dispersion where the maximum-likelihood
        one has no closed form, as for Gamma and statsmodels' GLM),
        ``-2 loglik_ + 2 p`` and ``-2 loglik_ + p log m``
        (``p = n_features + 1``), as statsmodels' ``llf``, ``aic``, ``bic``;
        None with the reason in ``likelihood_note_``.
    history_ : derivreg.train.History
        History of the last :meth:`fit` or :meth:`partial_fit`.

    Examples
    --------
    >>> import numpy as np
    >>> X = np.array([[0.0, 1.0], [1.0, 0.0], [1.0, 1.0], [0.0, 0.0]])
    >>> reg = LinearRegressionSGD(lr=0.1, epochs=500, tol=None, random_state=0)
    >>> reg.fit(X, X @ [1.0, -2.0] + 0.5).coef_.round(6).tolist()
    [1.0, -2.0]
    >>> reg.predict([[2.0, 2.0]]).round(6).tolist()
    [-1.5]
    """

    _loss = "mse"

    def partial_fit(self, X: Any, y: Any, sample_weight: Any = None) -> LinearRegressionSGD:
        """Make one pass over ``(X, y)``, starting from the current weights.

        Parameters
        ----------
        X : array_like of shape (m, n)
        y : array_like of shape (m,)
        sample_weight : array_like of shape (m,) or float, optional
            As in :meth:`fit`.

        Returns
        -------
        self
        """
        return self._fit(X, y, full=False, sample_weight=sample_weight)

    def predict(self, X: Any) -> np.ndarray:
        """Predict ``yhat = X w + b`` with the generated kernel.

        Parameters
        ----------
        X : array_like of shape (m, n)

        Returns
        -------
        ndarray of shape (m,)
        """
        check_is_fitted(self)
        if is_dask(X):  # lazy: the generated predict chunk by chunk
            return _dask.lazy_rows(
                self, X, _kernel(self._loss).predict, self.coef_, self.intercept_
            )
        X = validate_data(self, X, reset=False, dtype=np.float64, accept_sparse=ACCEPT_SPARSE)
        return _kernel(self._loss).predict(X, self.coef_, self.intercept_)


_GLM_DOC = """{what} (log link) by gradient descent on its likelihood, with the generated kernel.

    The kernel's loss is ``{loss}`` per sample with ``yhat = exp(z)``; labels
    must lie in {domain} (a ValueError in scikit-learn's words otherwise).
    Its curvature ``d2J/dz2 = {curv}`` is unbounded, so no constant SGD step
    is safe for every sample: with ``lr="auto"`` (the default) and
    ``solver="sgd"``, :meth:`fit` runs full-batch gradient descent with a
    backtracking (Armijo) line search on the mean loss (``solver="gd"``, up to
    ``max_iter`` iterations, stopping at a gradient entry below ``tol``) and
    :meth:`partial_fit` takes one such step on its batch (``history_.solver``
    is then ``"gd"`` and ``history_.line_search`` ``"armijo"``).  A numeric ``lr``
    runs the lecture's per-sample SGD at that rate.  The fit is unpenalised:
    it reaches statsmodels' ``GLM(family={family})`` coefficients.

    Parameters and attributes are those of :class:`LinearRegressionSGD`.

    Examples
    --------
    >>> import numpy as np
    >>> X = np.array([[0.0], [1.0], [2.0], [3.0]])
    >>> reg = {name}(tol=1e-10).fit(X, {y})
    >>> reg.coef_.round(3).tolist(), reg.converged_
    ({coef}, True)
    """


class PoissonRegressionSGD(LinearRegressionSGD):  # noqa: D101 (docstring: _GLM_DOC)
    __doc__ = _GLM_DOC.format(
        what="Poisson regression",
        loss="yhat - y log(yhat)",
        domain="[0, oo) (counts; fractional values allowed, as in scikit-learn)",
        curv="yhat",
        family="Poisson()",
        name="PoissonRegressionSGD",
        y="np.array([1.0, 2.0, 5.0, 9.0])",
        coef="[0.725]",
    )
    _loss = _kernels.poisson.NAME

    def predict(self, X: Any) -> np.ndarray:
        """Predict the mean ``yhat = exp(X w + b)`` with the generated kernel.

        Parameters
        ----------
        X : array_like of shape (m, n)

        Returns
        -------
        ndarray of shape (m,)
        """
        return super().predict(X)

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.target_tags.positive_only = True  # y >= 0; check_estimator draws such y
        return tags


class GammaRegressionSGD(PoissonRegressionSGD):  # noqa: D101 (docstring: _GLM_DOC)
    __doc__ = _GLM_DOC.format(
        what="Gamma regression",
        loss="y/yhat + log(yhat)",
        domain="(0, oo)",
        curv="y/yhat",
        family="Gamma(link=Log())",
        name="GammaRegressionSGD",
        y="np.array([1.0, 2.0, 5.0, 9.0])",
        coef="[0.752]",
    )
    _loss = _kernels.gamma.NAME
