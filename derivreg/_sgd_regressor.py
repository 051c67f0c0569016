"""``SGDRegressor(loss=...)``: the generic estimator over any pair's kernels.

Private: :mod:`derivreg.estimators` re-exports it after its check that
scikit-learn is installed.
"""

from __future__ import annotations

import inspect
from types import ModuleType
from typing import Any, ClassVar

import numpy as np
from sklearn.base import RegressorMixin
from sklearn.utils.validation import check_is_fitted, validate_data

from derivreg import _dask_estimators as _dask
from derivreg import _losses
from derivreg._dask_estimators import _DaskScore
from derivreg._estimator_base import _SGD, _kernel
from derivreg.distributed import is_dask

__all__ = ["SGDRegressor"]


class SGDRegressor(_DaskScore, RegressorMixin, _SGD):
    """SGD on any pair's loss: a registered pair by name, or kernels of one's own.

    The regressor of :class:`LinearRegressionSGD`, with the loss a parameter:
    every fit, prediction and step-size bound comes from the kernel module
    ``loss`` names, its generated constants and functions.

    Parameters
    ----------
    loss : str, module or None, default None
        A key of :data:`derivreg.kernels.KERNELS`; a kernel module that
        :func:`derivreg.codegen.write` generated for a pair of one's own (or
        ``derivreg generate --pair``), or its import name such as
        ``"mypkg.kernels.huber"`` (which, unlike a module, scikit-learn can
        clone and pickle: use it in pipelines and searches); or None for
        :data:`derivreg.kernels.DEFAULT`, the registry's first pair (least
        squares).  A :class:`~derivreg.symbolic.Pair` is refused with the way
        to its module: generating kernels needs SymPy, fitting never does.
    **params
        The other settings of :class:`LinearRegressionSGD` (``lr``, ``epochs``,
        ``batch_size``, ``shuffle``, ``tol``, ``n_iter_no_change``,
        ``random_state``, ``record``, ``solver``, ``max_iter``, ``scale``),
        with the same defaults; ``lr="auto"`` is half the loss's own
        per-sample bound, ``0.5 * STEP_SIZE_NUMERATOR / max ||(x, 1)||^2``.

    Attributes
    ----------
    coef_, intercept_, n_features_in_, n_iter_, converged_, grad_norm_, history_
        As in :class:`LinearRegressionSGD`.

    Examples
    --------
    >>> import numpy as np
    >>> X = np.array([[0.0], [1.0], [2.0], [3.0]])
    >>> reg = SGDRegressor(loss="mse", solver="lbfgs", tol=1e-10).fit(X, 2 * X[:, 0] - 1)
    >>> reg.coef_.round(4).tolist(), round(reg.intercept_, 4)
    ([2.0], -1.0)
    """

    # The base's signature, with ``loss`` first: scikit-learn reads the
    # parameters off ``__init__``'s signature, and the base's settings stay in one place.
    _parameter_constraints: ClassVar[dict] = {
        **_SGD._parameter_constraints,
        "loss": [str, ModuleType, None],  # the names and modules: checked by _check_params
    }

    def __init__(self, loss: str | ModuleType | None = None, **params: Any) -> None:
        self.loss = loss
        super().__init__(**params)

    # inspect reads a function's __signature__; typeshed's function type does not declare it
    __init__.__signature__ = inspect.signature(  # type: ignore[attr-defined]
        _SGD.__init__
    ).replace(
        parameters=[
            inspect.Parameter("self", inspect.Parameter.POSITIONAL_OR_KEYWORD),
            inspect.Parameter("loss", inspect.Parameter.POSITIONAL_OR_KEYWORD, default=None),
            *list(inspect.signature(_SGD.__init__).parameters.values())[1:],
        ]
    )

    @property
    def _loss(self) -> str | ModuleType | None:  # type: ignore[override]  # the base's ClassVar
        return self.loss

    def _check_params(self) -> None:
        if _losses._is_pair(self.loss):
            _losses.kernel_module(self.loss, type(self).__name__)  # the TypeError saying how
        super()._check_params()
        _losses.kernel_module(self.loss, type(self).__name__)  # a module's functions

    def partial_fit(self, X: Any, y: Any) -> SGDRegressor:
        """Make one pass over ``(X, y)``, starting from the current weights.

        Parameters
        ----------
        X : array_like of shape (m, n)
        y : array_like of shape (m,)

        Returns
        -------
        self
        """
        return self._fit(X, y, full=False)

    def predict(self, X: Any) -> np.ndarray:
        """Predict ``yhat`` with the kernel module's ``predict``.

        Parameters
        ----------
        X : array_like of shape (m, n)

        Returns
        -------
        ndarray of shape (m,)
        """
        check_is_fitted(self)
        if is_dask(X):  # lazy: the module's predict chunk by chunk
            return _dask.lazy_rows(
                self, X, _kernel(self._loss).predict, self.coef_, self.intercept_
            )
        X = validate_data(self, X, reset=False, dtype=np.float64)
        return _kernel(self._loss).predict(X, self.coef_, self.intercept_)

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        try:  # the labels' domain, as the kernel module prints it: counts or y > 0
            domain = getattr(_kernel(self._loss), "DOMAIN", "")
        except (TypeError, ValueError, ImportError):  # a bad loss: fit says why
            return tags
        tags.target_tags.positive_only = domain.startswith(("[0,", "(0,"))
        return tags
