"""Activations (inverse links) and per-sample losses: plain functions of SymPy expressions.

A registry entry names one of each.  Each loss is written in terms of the
prediction ``yhat`` (never the score ``z``), so that the derivation can keep
``yhat`` a symbol and show the cancellations the lecture points out.

Examples
--------
>>> from derivreg.symbolic import y, yhat, z
>>> exponential(z), poisson_loss(y, yhat)
(exp(z), -y*log(yhat) + yhat)
"""

from __future__ import annotations

import sympy as sp

__all__ = [
    "binary_cross_entropy",
    "exponential",
    "gamma_loss",
    "identity",
    "poisson_loss",
    "sigmoid",
    "squared_error",
]


def identity(t: sp.Expr) -> sp.Expr:
    """Identity activation, ``g(z) = z`` (linear regression).

    Examples
    --------
    >>> from derivreg.symbolic import z
    >>> identity(z)
    z
    """
    return t


def sigmoid(t: sp.Expr) -> sp.Expr:
    """Logistic sigmoid, ``g(z) = 1 / (1 + exp(-z))``, written out for SymPy.

    Examples
    --------
    >>> from derivreg.symbolic import z
    >>> sigmoid(z)
    1/(1 + exp(-z))
    """
    return 1 / (1 + sp.exp(-t))


def exponential(t: sp.Expr) -> sp.Expr:
    """Exponential activation, ``g(z) = exp(z)``: the inverse of the log link.

    Examples
    --------
    >>> from derivreg.symbolic import z
    >>> exponential(z)
    exp(z)
    """
    return sp.exp(t)


def squared_error(target: sp.Expr, prediction: sp.Expr) -> sp.Expr:
    """Per-sample squared error, ``J = (y - yhat)**2``.

    Examples
    --------
    >>> from derivreg.symbolic import y, yhat
    >>> squared_error(y, yhat)
    (y - yhat)**2
    """
    return (target - prediction) ** 2


def binary_cross_entropy(target: sp.Expr, prediction: sp.Expr) -> sp.Expr:
    """Per-sample binary cross-entropy, ``J = -[y log yhat + (1-y) log(1-yhat)]``.

    Examples
    --------
    >>> from derivreg.symbolic import y, yhat
    >>> binary_cross_entropy(y, yhat)
    -y*log(yhat) - (1 - y)*log(1 - yhat)
    """
    return -(target * sp.log(prediction) + (1 - target) * sp.log(1 - prediction))


def poisson_loss(target: sp.Expr, prediction: sp.Expr) -> sp.Expr:
    """Poisson negative log-likelihood up to terms free of ``yhat``: ``J = yhat - y log yhat``.

    Half the Poisson deviance, ``y log(y/yhat) - (y - yhat)``, differs from it
    only by ``y log y - y``, which does not depend on the parameters.  With
    ``yhat = exp(z)`` it reads ``J = exp(z) - y z``: the canonical form
    ``A(z) - y z`` with ``A = exp``.

    Examples
    --------
    >>> from derivreg.symbolic import y, yhat
    >>> poisson_loss(y, yhat)
    -y*log(yhat) + yhat
    """
    return prediction - target * sp.log(prediction)


def gamma_loss(target: sp.Expr, prediction: sp.Expr) -> sp.Expr:
    """Gamma negative log-likelihood, up to dispersion and constants: ``y/yhat + log yhat``.

    Half the Gamma deviance, ``y/yhat - log(y/yhat) - 1``, differs from it by
    ``log y + 1``, free of the parameters.  With the log link
    (``yhat = exp(z)``) the link is not canonical: ``dJ/dz = 1 - y/yhat``.

    Examples
    --------
    >>> from derivreg.symbolic import y, yhat
    >>> gamma_loss(y, yhat)
    y/yhat + log(yhat)
    """
    return target / prediction + sp.log(prediction)
