"""The binary logistic regression estimator: :class:`LogisticRegressionSGD`.

Re-exported by :mod:`derivreg.estimators`, which documents the family and
its scikit-learn requirement; this module needs scikit-learn too.

Examples
--------
>>> import numpy as np
>>> X = np.array([[-2.0], [-1.0], [0.5], [1.0], [2.0]])
>>> clf = LogisticRegressionSGD(epochs=50, tol=None, random_state=0).fit(X, [0, 1, 0, 1, 1])
>>> clf.predict(X).tolist()
[0, 1, 1, 1, 1]
"""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.base import ClassifierMixin
from sklearn.utils.multiclass import check_classification_targets, type_of_target
from sklearn.utils.validation import check_is_fitted, validate_data

from derivreg import _dask_estimators as _dask
from derivreg import kernels as _kernels
from derivreg._dask_estimators import _DaskScore
from derivreg._estimator_base import _SGD, ACCEPT_SPARSE, _kernel
from derivreg.distributed import is_dask

__all__ = ["LogisticRegressionSGD"]


class LogisticRegressionSGD(_DaskScore, ClassifierMixin, _SGD):
    """Binary logistic regression by SGD on the cross-entropy, with the generated BCE kernel.

    Parameters
    ----------
    lr : float or "auto", default "auto"
        Learning rate.  Per-sample SGD on the cross-entropy is stable for
        ``lr < 8/||(x, 1)||^2`` (:func:`derivreg.train.step_size_bound`);
        "auto" takes half of that bound over the training data,
        ``4 / max ||(x, 1)||^2``.
    epochs : int, default 100
        Maximum passes over the data in :meth:`fit`.
    batch_size : int, default 1
        Samples per update.
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
        What ``history_`` keeps per update.
    solver : {"sgd", "gd", "newton", "lbfgs"}, default "sgd"
        As in :class:`LinearRegressionSGD`.
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
    classes_ : ndarray of shape (2,)
        The two class labels; ``classes_[1]`` is the positive class (y = 1).
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
        History of the last call, with the accumulated accuracy.

    Examples
    --------
    >>> import numpy as np
    >>> X = np.array([[-2.0], [-1.0], [-0.5], [0.5], [1.0], [2.0]])
    >>> y = ["no", "no", "yes", "no", "yes", "yes"]  # overlapping classes: the MLE exists
    >>> clf = LogisticRegressionSGD(solver="lbfgs").fit(X, y)
    >>> clf.classes_.tolist(), clf.predict([[-3.0], [3.0]]).tolist(), clf.converged_
    (['no', 'yes'], ['no', 'yes'], True)

    On separable classes the fit warns (``SeparationWarning``): no finite
    weights maximise the likelihood.
    """

    _loss = _kernels.bce.NAME

    def _targets(self, y: np.ndarray, *, reset: bool, classes: Any = None) -> np.ndarray:
        labelled = y
        if is_dask(y):  # the checks below read the distinct labels: one pass over y
            y = _dask.labels(y)
        check_classification_targets(y)
        if not reset and classes is not None:
            given = np.unique(np.asarray(classes))
            if not np.array_equal(given, self.classes_):
                # scikit-learn's wording (sklearn.utils.multiclass._check_partial_fit_first_call)
                raise ValueError(
                    f"`classes={np.asarray(classes)!r}` is not the same as on last call to "
                    f"partial_fit, was: {self.classes_!r}"
                )
        if reset:
            found = np.unique(y) if classes is None else np.unique(np.asarray(classes))
            y_type = type_of_target(y, input_name="y", raise_unknown=True)
            if len(found) > 2 or y_type not in ("binary",):
                raise ValueError(
                    f"Only binary classification is supported. The type of the target is {y_type}; "
                    "for more than two classes use derivreg.multiclass.SoftmaxRegressionSGD."
                )
            if len(found) < 2:
                raise ValueError(
                    f"{type(self).__name__} needs samples of at least 2 classes in the data, "
                    f"but the data contains only one class: {found[0]!r}"
                )
            self.classes_: np.ndarray = found
        unknown = np.setdiff1d(y, self.classes_)
        if unknown.size:
            raise ValueError(
                f"y contains labels {unknown.tolist()} not in classes {self.classes_.tolist()}"
            )
        return (labelled == self.classes_[1]).astype(np.float64)

    def partial_fit(
        self, X: Any, y: Any, classes: Any = None, sample_weight: Any = None
    ) -> LogisticRegressionSGD:
        """Make one pass over ``(X, y)``, starting from the current weights.

        Parameters
        ----------
        X : array_like of shape (m, n)
        y : array_like of shape (m,)
        classes : array_like of shape (2,), optional
            Both class labels; needed on the first call when ``y`` holds
            only one of them.  On a later call they must be the same as
            ``classes_`` (a ValueError otherwise, as in scikit-learn).
        sample_weight : array_like of shape (m,) or float, optional
            As in :meth:`fit`.

        Returns
        -------
        self
        """
        return self._fit(X, y, full=False, classes=classes, sample_weight=sample_weight)

    def decision_function(self, X: Any) -> np.ndarray:
        """Return the logit ``z = X w + b``; positive means ``classes_[1]``.

        Parameters
        ----------
        X : array_like of shape (m, n)

        Returns
        -------
        ndarray of shape (m,)
        """
        return self._z(X)

    def predict_proba(self, X: Any) -> np.ndarray:
        """Class probabilities ``[sigma(-z), sigma(z)]`` from the generated kernel.

        ``sigma(-z)`` is the kernel's prediction with the parameters negated
        (``X (-w) + (-b)`` is exactly ``-z``): P(``classes_[0]``) keeps its
        precision where ``1 - sigma(z)`` would round to 0 (3.0e-76 at
        z = 173.9, not 0.0).

        Parameters
        ----------
        X : array_like of shape (m, n)

        Returns
        -------
        ndarray of shape (m, 2)
            Columns in the order of ``classes_``.
        """
        check_is_fitted(self)
        kernel = _kernel(self._loss)
        if is_dask(X):  # lazy: the same two columns chunk by chunk
            return _dask.lazy_rows(self, X, _proba, kernel, self.coef_, self.intercept_, columns=2)
        X = validate_data(self, X, reset=False, dtype=np.float64, accept_sparse=ACCEPT_SPARSE)
        return _proba(X, kernel, self.coef_, self.intercept_)

    def predict(self, X: Any) -> np.ndarray:
        """Predict ``classes_[1]`` where ``z > 0`` (``sigma(z) > 1/2``), else ``classes_[0]``.

        Parameters
        ----------
        X : array_like of shape (m, n)

        Returns
        -------
        ndarray of shape (m,)
        """
        positive = self._z(X) > 0
        if is_dask(positive):  # lazy: the labels chunk by chunk
            return positive.map_blocks(_take, self.classes_, dtype=self.classes_.dtype)
        return self.classes_[positive.astype(np.intp)]

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.classifier_tags.multi_class = False
        return tags


def _proba(X: np.ndarray, kernel: Any, w: np.ndarray, b: float) -> np.ndarray:
    """``[sigma(-z), sigma(z)]``: the kernel's prediction at ``(-w, -b)`` and at ``(w, b)``."""
    return np.column_stack([kernel.predict(X, -w, -b), kernel.predict(X, w, b)])


def _take(positive: np.ndarray, classes: np.ndarray) -> np.ndarray:
    """Return the labels of one chunk's ``z > 0``."""
    return classes[positive.astype(np.intp)]
