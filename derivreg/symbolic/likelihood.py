"""The log-likelihood behind a loss: its scale, its normalising constant and the dispersion.

A pair may declare its family's log-density ``log p(y | yhat, phi)``
(:attr:`~derivreg.symbolic.Pair.log_density`).  :func:`likelihood_terms`
then derives, and checks, the three numbers a log-likelihood needs beyond
the loss:

- the scale ``s`` with ``log p = -J / (s phi) + k(y, phi)``: the ratio of
  ``dJ/dyhat`` to ``-d(log p)/dyhat``, which must be ``s phi`` (or ``s``
  where the family has no dispersion) for a positive number ``s``;
- the normalising constant ``k(y, phi) = log p + J / (s phi)``, which must
  be free of ``yhat`` (else the loss is not the family's negative
  log-likelihood);
- the dispersion: the maximum-likelihood one given the mean loss
  ``J_mean``, the root of ``d/dphi [-J_mean / (s phi) + k] = 0`` (1 where
  there is no ``phi``).  Where that equation has no closed form (``k``'s
  dependence on ``phi`` involves ``y``, as the Gamma's ``log y / phi`` and
  ``lgamma(1/phi)``, whose maximum needs the digamma function and an
  iteration), the log-likelihood is taken at Pearson's estimate instead,
  ``phi = sum_i r_i / (m - p)`` with ``r = (y - yhat)^2 / V(yhat)`` and
  the variance function ``V = s / E[d2J/dyhat2]`` (the expectation at
  ``y = yhat``, where ``d2J/dyhat2`` is affine in ``y``): the dispersion
  statsmodels' ``GLM`` estimates (its ``scale``) and plugs into its
  ``llf`` for every family but the Gaussian with the identity link.

Examples
--------
>>> from derivreg.symbolic import derive
>>> terms = derive("mse").likelihood
>>> terms.scale, terms.normaliser, terms.dispersion
(2, -log(phi)/2 - log(pi)/2 - log(2)/2, J_mean)
>>> derive("gamma").likelihood.pearson
(y - yhat)**2/yhat**2
"""

from __future__ import annotations

from dataclasses import dataclass

import sympy as sp

from derivreg.symbolic.registry import Pair
from derivreg.symbolic.symbols import J_mean, phi, y, yhat

__all__ = ["Likelihood", "estimated_dispersion", "likelihood_terms"]


@dataclass(frozen=True)
class Likelihood:
    """``log p(y | yhat, phi) = -J / (scale phi) + normaliser(y, phi)``, ``phi = dispersion``.

    Attributes
    ----------
    scale : sympy.Expr
        The positive number ``s``.
    normaliser : sympy.Expr
        ``k(y, phi)``, free of ``yhat``.
    dispersion : sympy.Expr or None
        The maximum-likelihood ``phi`` as a function of the mean loss
        ``J_mean`` (the number 1 where the family has no dispersion); None
        where it has no closed form and ``phi`` is Pearson's.
    pearson : sympy.Expr or None
        Where ``phi`` is Pearson's, the squared Pearson residual
        ``r(y, yhat) = (y - yhat)^2 / V(yhat)``: ``phi = sum_i r_i / (m - p)``.
    note : str
        Which dispersion the log-likelihood is taken at, and why.
    """

    scale: sp.Expr
    normaliser: sp.Expr
    dispersion: sp.Expr | None
    pearson: sp.Expr | None = None
    note: str = "the maximum-likelihood dispersion"


def estimated_dispersion(pair: Pair, loss: sp.Expr) -> tuple[bool, str]:
    """Whether the pair's dispersion is estimated (True) or fixed at 1, and a conflict, if any.

    With a declared log-density the answer is derived: the dispersion is
    estimated exactly where ``phi`` is in the ratio of ``dJ/dyhat`` to
    ``-d(log p)/dyhat`` (``s phi``), i.e. where it scales the loss, so that
    the information of ``(w, b)`` is ``m H / (s phi)`` with ``phi`` unknown;
    a declared :attr:`~derivreg.symbolic.Pair.dispersion` that says otherwise
    is the conflict returned.  Without a density it is the declared one,
    and "estimated" where none is declared (a quasi-likelihood: Pearson's
    scale, as statsmodels' GLM outside its fixed-dispersion families).

    Examples
    --------
    >>> from derivreg.symbolic import REGISTRY
    >>> from derivreg.symbolic.functions import poisson_loss, squared_error
    >>> estimated_dispersion(REGISTRY["mse"], squared_error(y, yhat))
    (True, '')
    >>> estimated_dispersion(REGISTRY["poisson"], poisson_loss(y, yhat))
    (False, '')
    """
    declared = None if pair.dispersion is None else pair.dispersion == "estimated"
    if pair.log_density is None:
        return (True if declared is None else declared), ""
    log_p = pair.log_density(y, yhat, phi)
    ratio = sp.cancel(-sp.diff(loss, yhat) / sp.diff(log_p, yhat))
    derived = phi in ratio.free_symbols
    if declared is not None and declared != derived:
        said = "estimated" if derived else "fixed"
        return derived, (
            f"the pair declares dispersion={pair.dispersion!r}, but its log-density says "
            f"{said!r} (dJ/dyhat / -d(log p)/dyhat = {ratio})"
        )
    return derived, ""


def likelihood_terms(pair: Pair, loss: sp.Expr) -> tuple[Likelihood | None, str]:
    """Derive the log-likelihood's terms of ``pair``, or None and the reason.

    Examples
    --------
    >>> from derivreg.symbolic import REGISTRY
    >>> from derivreg.symbolic.functions import binary_cross_entropy
    >>> likelihood_terms(REGISTRY["bce"], binary_cross_entropy(y, yhat))[0].normaliser
    0
    """
    if pair.log_density is None:
        return None, "its family's normalising constant is not declared (Pair.log_density)"
    log_p = pair.log_density(y, yhat, phi)
    ratio = sp.cancel(-sp.diff(loss, yhat) / sp.diff(log_p, yhat))
    dispersed = phi in ratio.free_symbols
    scale = sp.cancel(ratio / phi) if dispersed else ratio
    if not (scale.is_number and scale.is_positive):
        return None, f"its loss is not -log p / (s phi) for a number s > 0 (ratio {ratio})"
    k = sp.simplify(sp.expand_log(log_p + loss / (scale * (phi if dispersed else 1)), force=True))
    if yhat in k.free_symbols or sp.simplify(sp.diff(k, yhat)) != 0:
        return None, f"log p + J / (s phi) = {k} depends on yhat"
    if not dispersed:
        return Likelihood(scale, k, sp.Integer(1), note="no dispersion (phi = 1)"), ""
    score = sp.diff(-J_mean / (scale * phi) + k, phi)
    if y in score.free_symbols:
        why = "its maximum-likelihood equation involves y"
    else:
        roots = [r for r in sp.solve(score, phi) if r.is_positive]
        if len(roots) == 1:
            return Likelihood(scale, k, roots[0]), ""
        why = f"its maximum-likelihood equation has roots {roots}"
    return _at_pearsons(loss, scale, k, why)


def _at_pearsons(
    loss: sp.Expr, scale: sp.Expr, k: sp.Expr, why: str
) -> tuple[Likelihood | None, str]:
    """Return the terms at Pearson's dispersion, where the maximum-likelihood one has none."""
    d2 = sp.diff(loss, yhat, 2)
    if sp.simplify(sp.diff(d2, y, 2)) != 0:
        return None, (
            f"its dispersion has no closed form ({why}), and no Pearson estimate: "
            f"d2J/dyhat2 = {d2} is not affine in y"
        )
    expected = sp.simplify(d2.subs(y, yhat))  # E[d2J/dyhat2] = s / V(yhat)
    if expected.is_positive is False or expected == 0:
        return None, f"its dispersion has no closed form ({why}), and E[d2J/dyhat2] = {expected}"
    r = sp.factor(sp.simplify((y - yhat) ** 2 * expected / scale))
    note = (
        f"Pearson's dispersion sum_i r_i / (m - p), r = {r}: the maximum-likelihood one "
        f"has no closed form ({why}); statsmodels' GLM llf takes this one"
    )
    return Likelihood(scale, k, None, pearson=r, note=note), ""
