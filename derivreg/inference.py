"""Standard errors from the Fisher information at the optimum, as statsmodels reports them.

For an unpenalised fit at a stationary point of the mean loss ``J``, with
``J = scale * (-log L) / m + const``, the observed information of
``theta = (w, b)`` is ``m H / scale`` (``H`` the Hessian of ``J``, the
kernel module's generated ``hessian``), and the asymptotic
covariance of the estimate is ``cov = scale * (m H)^-1``.

``scale`` is 1 when ``J`` is the mean negative log-likelihood (the
cross-entropy), and ``c phi`` in general, with ``c`` the registry's
``canonical_scale`` (``dJ/dz = c (yhat - y)``) and ``phi`` the family's
dispersion.  ``"pearson"`` is the Pearson estimate
``sum_i (dJ_i/dz)^2 / (d2J_i/dz2) / (m - p)``, which for a canonical link is
``c`` times the Pearson estimate of ``phi`` (``c`` cancels from the ratio),
e.g. ``2 RSS / (m - p)`` for the squared error: statsmodels' OLS
covariance.  ``"auto"`` (the default) reads the kernel module's generated
``DISPERSION_ESTIMATED``: Pearson's where the family's dispersion is
estimated (Gaussian, Gamma: statsmodels' ``OLS`` and ``GLM`` scale), and
``LOGLIK_SCALE`` (1 where not printed) where it is fixed at 1 (Bernoulli,
Poisson: statsmodels' ``Logit``, ``Poisson`` and ``GLM``).  A user's module
without the constant is taken as estimated, as a user's pair that declares
neither a density nor a dispersion (:class:`~derivreg.symbolic.Pair`).  No
loss is named here: which families have a free dispersion is derived
(:func:`~derivreg.symbolic.likelihood.estimated_dispersion`).

Which information: ``information="expected"`` (the default) uses the
expected (Fisher) information ``X~^T diag(E[d2J/dz2]) X~ / scale``, with the
kernel module's generated ``expected_curvature`` (d2J/dz2 at y = yhat, its
mean over y, proven so by the validator); ``"observed"`` the Hessian of the
log-likelihood itself.  For a canonical link (and the squared error) the
curvature does not read y (the module's ``CURVATURE_READS_Y`` is False) and
the two are one matrix.  For a non-canonical link (Gamma with a log link:
``d2J/dz2 = y / yhat``, whose mean is 1) they differ at the optimum by a
term of mean zero; the expected one is the default because it is what IRLS
(statsmodels' ``GLM``) reports, and it is positive definite wherever ``X~``
has full rank.  The Pearson scale uses the same curvature:
``sum_i (dJ_i/dz)^2 / E[d2J_i/dz2] / (m - p)`` is, for Gamma,
``sum_i ((y_i - yhat_i) / yhat_i)^2 / (m - p)``, statsmodels' Pearson
chi-squared over the residual degrees of freedom; it weighs the residuals
by the family's variance, so it takes the expected curvature with either
information.

Intervals and p-values are Wald's, from the normal distribution (as
statsmodels' ``Logit`` and ``GLM``; its ``OLS`` uses Student's t).

Examples
--------
>>> import numpy as np
>>> from derivreg.kernels import KERNELS
>>> X = np.array([[0.0], [1.0], [2.0], [3.0]]); y = np.array([1.0, 2.9, 5.2, 6.9])
>>> two = lambda z, y: np.full_like(z, 2.0)  # the squared error's d2J/dz2
>>> w, b = np.array([1.99]), 1.0
>>> inf = fisher_inference(KERNELS["mse"], X, y, w, b, curvature=two, scale=2.0)
>>> inf.cov.round(3).tolist()  # 2 (m H)^-1 = (X~^T X~)^-1
[[0.2, -0.3], [-0.3, 0.7]]
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from statistics import NormalDist
from types import ModuleType

import numpy as np
from numpy.typing import ArrayLike

from derivreg._sparse import as_csr, issparse
from derivreg.solvers import KernelObjective

__all__ = ["Inference", "fisher_inference", "no_inference_reason"]

Curvature = Callable[[np.ndarray, np.ndarray], np.ndarray]


def no_inference_reason(kernels: ModuleType, curvature: Curvature | None = None) -> str | None:
    """Return why a kernel module gives no standard errors, or None when it can.

    Examples
    --------
    >>> import types
    >>> from derivreg.kernels import KERNELS
    >>> no_inference_reason(KERNELS["bce"])  # None: the generated kernels can
    >>> no_inference_reason(types.ModuleType("mine"))[:33]
    'the kernel module mine provides n'
    """
    if curvature is None and getattr(kernels, "curvature", None) is None:
        return (
            f"the kernel module {kernels.__name__} provides no per-sample curvature "
            "d2J/dz2 ('curvature' attribute), so no Hessian and no Fisher information"
        )
    return None


@dataclass(frozen=True)
class Inference:
    """Estimates with their covariance: standard errors, Wald z, p-values, intervals.

    Attributes
    ----------
    params : ndarray of shape (p,)
        ``(w, b)``: the weights, then the intercept.
    cov : ndarray of shape (p, p)
        ``scale * (m H)^-1``.
    stderr : ndarray of shape (p,)
        Square roots of the diagonal of ``cov``.
    scale : float
        The scale used (see the module's notes).
    names : tuple of str
        A name per parameter, for :meth:`summary`.
    """

    params: np.ndarray
    cov: np.ndarray
    stderr: np.ndarray
    scale: float
    names: tuple[str, ...]

    @property
    def z(self) -> np.ndarray:
        """Wald statistics ``params / stderr``.

        Examples
        --------
        >>> Inference(np.array([2.0]), np.eye(1), np.ones(1), 1.0, ("w0",)).z.tolist()
        [2.0]
        """
        return self.params / self.stderr

    @property
    def pvalues(self) -> np.ndarray:
        """Two-sided normal p-values ``2 (1 - Phi(|z|))``, computed as ``erfc(|z| / sqrt 2)``.

        Examples
        --------
        >>> Inference(np.array([0.0]), np.eye(1), np.ones(1), 1.0, ("w0",)).pvalues.tolist()
        [1.0]
        """
        return np.array([math.erfc(abs(float(t)) / math.sqrt(2.0)) for t in self.z])

    def conf_int(self, level: float = 0.95) -> np.ndarray:
        """Wald intervals ``params -+ q stderr``, ``q`` the normal ``(1 + level) / 2`` quantile.

        Parameters
        ----------
        level : float, default 0.95
            Coverage, in (0, 1).

        Returns
        -------
        ndarray of shape (p, 2)
            Lower and upper ends.

        Examples
        --------
        >>> inf = Inference(np.array([1.0]), np.eye(1), np.ones(1), 1.0, ("w0",))
        >>> inf.conf_int(0.95).round(4).tolist()
        [[-0.96, 2.96]]
        """
        if isinstance(level, bool) or not isinstance(level, (int, float)) or not 0 < level < 1:
            raise ValueError(
                f"The 'level' parameter of conf_int must be a float in the range (0.0, 1.0). "
                f"Got {level!r} instead."
            )
        q = NormalDist().inv_cdf((1 + level) / 2)
        return np.column_stack([self.params - q * self.stderr, self.params + q * self.stderr])

    def summary(self, level: float = 0.95) -> str:
        """Return a plain-text table: coef, std err, z, P>|z| and the interval, one row each.

        Examples
        --------
        >>> inf = Inference(np.array([1.0]), np.eye(1), np.ones(1), 1.0, ("w0",))
        >>> print(inf.summary())  # doctest: +NORMALIZE_WHITESPACE
                  coef   std err         z     P>|z|    [0.025    0.975]
        w0      1.0000    1.0000    1.0000    0.3173   -0.9600    2.9600
        """
        ci = self.conf_int(level)
        lo, hi = (1 - level) / 2, (1 + level) / 2
        width = max(6, *(len(n) for n in self.names))
        head = ["coef", "std err", "z", "P>|z|", f"[{lo:.3f}", f"{hi:.3f}]"]
        lines = [" " * width + "".join(f"{h:>10}" for h in head)]
        for i, name in enumerate(self.names):
            row = (self.params[i], self.stderr[i], self.z[i], self.pvalues[i], *ci[i])
            lines.append(f"{name:<{width}}" + "".join(f"{v:>10.4f}" for v in row))
        return "\n".join(lines)


def fisher_inference(
    kernels: ModuleType,
    X: np.ndarray,
    y: np.ndarray,
    w: np.ndarray,
    b: float,
    *,
    scale: float | str = "auto",
    curvature: Curvature | None = None,
    names: Sequence[str] | None = None,
    information: str = "expected",
    hessian: np.ndarray | None = None,
) -> Inference:
    """Covariance and standard errors of ``(w, b)`` from the Hessian of the mean loss.

    Valid at the unpenalised optimum (a stationary point of the mean loss):
    check convergence first.

    Parameters
    ----------
    kernels : module
        A generated kernel module; its ``curvature`` gives the Hessian.
    X : ndarray of shape (m, n)
    y : ndarray of shape (m,)
    w : ndarray of shape (n,)
    b : float
        The fitted parameters (the intercept is always a parameter here).
    scale : float > 0, "pearson" or "auto", default "auto"
        ``J = scale * (-log L) / m + const`` (module notes): 1 for a mean
        negative log-likelihood; "pearson" estimates it; "auto" is
        "pearson" where the module's ``DISPERSION_ESTIMATED`` is True (or
        missing), else ``LOGLIK_SCALE`` (1 where missing).
    curvature : callable, optional
        Per-sample ``d2J/dz2(z, y)``, overriding the module's.
    names : sequence of str, optional
        Parameter names (default ``x0, ..., x{n-1}, intercept``).
    information : {"expected", "observed"}, default "expected"
        The expected (Fisher) information, from the module's
        ``expected_curvature``, or the observed one (the Hessian); one
        matrix where the curvature does not read y (module notes).  A
        user's module without ``expected_curvature`` gives the observed one.
    hessian : ndarray of shape (p, p), optional
        The module's Hessian of the mean loss at ``(w, b)``, as a Newton fit
        leaves it (``History.hessian``): it saves a pass where it is the
        information asked for (no ``curvature``, and the observed
        information or a curvature that does not read y); else it is not
        used.  Its shape and finiteness are checked, as are X and y.

    Returns
    -------
    Inference

    Raises
    ------
    ValueError
        Without a curvature; when the Hessian is singular (collinear
        features, or separable classes where the MLE does not exist); on a
        bad ``scale``; when the scale is Pearson's (``"pearson"``, or
        ``"auto"`` where the dispersion is estimated) and ``m <= p``.

    Examples
    --------
    >>> from derivreg.kernels import KERNELS
    >>> X = np.array([[0.0], [1.0], [2.0], [3.0]]); y = np.array([0.0, 1.0, 0.0, 1.0])
    >>> s = lambda z, y: 0.25 * np.ones_like(z)  # sigma(0) sigma(-0)
    >>> inf = fisher_inference(KERNELS["bce"], X, y, np.zeros(1), 0.0, curvature=s)
    >>> inf.names, inf.stderr.round(4).tolist()
    (('x0', 'intercept'), [0.8944, 1.6733])
    """
    reason = no_inference_reason(kernels, curvature)
    if reason is not None:
        raise ValueError(f"no standard errors: {reason}")
    if information not in ("expected", "observed"):
        raise ValueError(
            "The 'information' parameter of fisher_inference must be a str among "
            f"{{'expected', 'observed'}}. Got {information!r} instead."
        )
    X = as_csr("X", X) if issparse(X) else np.asarray(X, dtype=np.float64)  # sparse: kept
    y = np.asarray(y, dtype=np.float64)
    theta = np.append(np.asarray(w, dtype=np.float64), float(b))
    m = X.shape[0]
    # Pearson's scale weighs the residuals by the family's variance, i.e. by the
    # expected curvature, whichever information is inverted
    weight = curvature or (kernels.expected_curvature if _reads_y(kernels) else None)
    if curvature is None and information == "expected" and _reads_y(kernels):
        curvature = kernels.expected_curvature
    H: np.ndarray | None
    if hessian is not None and curvature is None:  # the module's own Hessian: reused
        H = _given_hessian(kernels, hessian, X, y, theta)
    else:
        objective = KernelObjective(kernels, X, y, curvature=curvature)
        H = objective.evaluate(theta, hessian=True).hessian
    assert H is not None
    asked = scale
    if isinstance(scale, str) and scale == "auto":
        scale = _auto_scale(kernels)
    if isinstance(scale, str) and scale == "pearson":
        weight = weight or curvature or kernels.curvature
        scale = _pearson_scale(kernels, weight, X, y, theta, asked)
    elif isinstance(scale, bool) or not isinstance(scale, (int, float)) or not 0 < scale < math.inf:
        raise ValueError(
            f"The 'scale' parameter of fisher_inference must be a float in the range "
            f"(0.0, inf), 'pearson' or 'auto'. Got {scale!r} instead."
        )
    return _from_hessian(H, m, float(scale), theta, names)


def _from_hessian(
    H: np.ndarray, m: float, scale: float, theta: np.ndarray, names: Sequence[str] | None
) -> Inference:
    """``cov = scale (m H)^-1`` by Cholesky (the test of positive definiteness).

    The tail of :func:`fisher_inference`, shared with the Dask path, whose
    ``H`` comes from per-chunk sums.

    Examples
    --------
    >>> _from_hessian(np.eye(2), 4, 2.0, np.zeros(2), None).stderr.tolist()  # sqrt(2 / 4)
    [0.7071067811865476, 0.7071067811865476]
    """
    p = theta.size
    try:
        L = np.linalg.cholesky(m * H)
    except np.linalg.LinAlgError:
        raise ValueError(
            "no standard errors: the Hessian of the mean loss is singular at these "
            "parameters (collinear features, or separable classes, where the "
            "maximum-likelihood estimate does not exist)"
        ) from None
    L_inv = np.linalg.solve(L, np.eye(p))
    cov = scale * (L_inv.T @ L_inv)
    if names is None:
        names = [f"x{i}" for i in range(p - 1)] + ["intercept"]
    return Inference(theta, cov, np.sqrt(np.diag(cov)), scale, tuple(names))


def _given_hessian(
    kernels: ModuleType, hessian: ArrayLike, X: np.ndarray, y: np.ndarray, theta: np.ndarray
) -> np.ndarray:
    """Check a given Hessian and the data it stands for; the checks a kernel pass would make."""
    if issparse(X) or np.ndim(X) != 2 or y.shape != (np.shape(X)[0],):
        raise ValueError(
            f"X must be a dense 2-D array and y of shape (m,) to match it; got X of shape "
            f"{np.shape(X)}, y of shape {y.shape}"
        )
    if np.shape(X)[1] + 1 != theta.size:
        raise ValueError(f"w has shape ({theta.size - 1},) but X has shape {np.shape(X)}")
    with np.errstate(over="ignore", invalid="ignore"):  # a finite sum has finite terms
        for name, value in (("X", X), ("y", y), ("w", theta)):
            if not np.isfinite(value.sum()) and not np.isfinite(value).all():
                raise ValueError(f"Input {name} contains NaN or infinity.")
    in_domain = getattr(kernels, "_in_domain", None)  # the generated label check
    if in_domain is not None and not in_domain(y):
        raise ValueError(
            f"Some value(s) of y are out of the valid range of the loss {kernels.NAME!r}: "
            f"y must lie in {kernels.DOMAIN}; got values in [{y.min()}, {y.max()}]"
        )
    H = np.asarray(hessian, dtype=np.float64)
    p = theta.size
    if H.shape != (p, p) or not np.isfinite(H).all():
        raise ValueError(
            f"hessian must be a finite array of shape ({p}, {p}) (History.hessian of a Newton "
            f"fit with an intercept); got shape {H.shape}"
        )
    return H


def _reads_y(kernels: ModuleType) -> bool:
    """Whether the module's curvature reads y (a user's module without the flag: yes)."""
    if getattr(kernels, "expected_curvature", None) is None:
        return False  # no expected curvature printed: the observed information is all there is
    return bool(getattr(kernels, "CURVATURE_READS_Y", True))


def _auto_scale(kernels: ModuleType) -> float | str:
    """``scale="auto"``: Pearson's where the module's dispersion is estimated, else its s."""
    if bool(getattr(kernels, "DISPERSION_ESTIMATED", True)):
        return "pearson"
    return float(getattr(kernels, "LOGLIK_SCALE", 1.0))


def _pearson_scale(  # noqa: PLR0917
    kernels: ModuleType,
    curvature: Curvature,
    X: np.ndarray,
    y: np.ndarray,
    theta: np.ndarray,
    asked: object = "pearson",
) -> float:
    m, p = X.shape[0], theta.size
    if m <= p:
        why = " (the dispersion is estimated: DISPERSION_ESTIMATED)" if asked == "auto" else ""
        raise ValueError(
            f"scale={asked!r} is Pearson's estimate{why}, which needs more samples than "
            f"parameters; got m={m}, p={p}"
        )
    z = X @ theta[:-1] + theta[-1]
    return float(np.sum(kernels.dJ_dz(z, y) ** 2 / curvature(z, y)) / (m - p))
