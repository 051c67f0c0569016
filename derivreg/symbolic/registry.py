"""The registry: one :class:`Pair` per (activation, loss), and how a user adds one.

Examples
--------
>>> from derivreg.symbolic import REGISTRY
>>> sorted(REGISTRY)
['bce', 'gamma', 'mse', 'poisson']
>>> REGISTRY["bce"].domain
Interval(0, 1)
"""

from __future__ import annotations

import keyword
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Literal

import sympy as sp

from derivreg.symbolic.functions import (
    binary_cross_entropy,
    exponential,
    gamma_loss,
    identity,
    poisson_loss,
    sigmoid,
    squared_error,
)

__all__ = ["GAMMA", "POISSON", "REGISTRY", "BuiltinName", "Pair", "Registry"]

#: The names of the pairs :data:`REGISTRY` starts with, for type checkers:
#: ``derive("bce")`` is known to be a :class:`~derivreg.symbolic.Derivation`
#: (a test checks that this list is the registry's own).
BuiltinName = Literal["bce", "gamma", "mse", "poisson"]

#: The target domain a ``targets`` keyword stands for.
_TARGET_DOMAINS: Mapping[str, sp.Set] = {"real": sp.S.Reals, "binary": sp.Interval(0, 1)}


@dataclass(frozen=True)
class Pair:
    """One (activation, loss) pair of the registry.

    Parameters
    ----------
    name : str
        Short identifier used on the command line and in generated code,
        e.g. ``"bce"``.  It must be a Python identifier, not a keyword, and
        not start with ``__``.
    title : str
        Human-readable name, e.g. ``"Logistic regression, binary cross-entropy"``.
        Prose only: it is never turned into code.
    activation : callable
        Maps a SymPy expression ``z`` to ``yhat`` (the inverse link).
    loss : callable
        Maps ``(y, yhat)`` to the per-sample loss ``J``.
    targets : {"real", "binary"}
        The generated kernels' label check: any real number, or a probability
        in ``[0, 1]``.  Kept until the generator reads :attr:`domain` itself.
    claims : callable, optional
        Maps the shared symbols ``(y, yhat)`` to the closed forms the lecture
        states, keyed by step label (``"dJ_dyhat"``, ``"dyhat_dz"``,
        ``"dJ_dz"``, ``"d2J_dz2"``).  Each claim is checked against the
        derived result, and :func:`~derivreg.symbolic.derive` raises
        :class:`~derivreg.symbolic.DerivationError` when one differs.
    domain : sympy.Set, optional
        The values the labels ``y`` may take, as a SymPy set: ``S.Reals``,
        ``Interval(0, 1)``, ``Interval(0, oo)`` (counts), ``Interval.open(0, oo)``.
        Defaults to the set ``targets`` names.  The curvature bound is a
        supremum over it.
    threshold : sympy.Expr, optional
        How a prediction is read: ``None`` for a value (regression), or the
        threshold at which ``yhat`` becomes the label 1 (classification).
    log_density : callable, optional
        Maps ``(y, yhat, phi)`` to the family's log-density
        ``log p(y | yhat, phi)`` (``phi`` the dispersion, if it has one).
        Its part free of ``yhat`` is the normalising constant behind the
        log-likelihood, AIC and BIC (:mod:`derivreg.symbolic.likelihood`);
        without it they are not available for the pair.
    dispersion : {"fixed", "estimated"}, optional
        Whether the family's dispersion is fixed at 1 (Bernoulli, Poisson)
        or estimated from the data (Gaussian, Gamma): the standard errors'
        ``scale="auto"`` (:func:`derivreg.inference.fisher_inference`).  Where
        ``log_density`` is declared it is derived (whether ``phi`` scales the
        loss, :func:`~derivreg.symbolic.likelihood.estimated_dispersion`) and a
        contradicting value here is an error; without a density it is read
        from here, and left out (None) it is "estimated": the loss is then
        taken as a quasi-likelihood whose scale the Pearson statistic
        estimates, as statsmodels' GLM does for every family but the
        Binomial, Poisson and negative binomial.

    Examples
    --------
    >>> from derivreg.symbolic import REGISTRY
    >>> REGISTRY["mse"].title
    'Linear regression, mean squared error'
    >>> REGISTRY["bce"].threshold
    1/2
    """

    name: str
    title: str
    activation: Callable[[sp.Expr], sp.Expr]
    loss: Callable[[sp.Expr, sp.Expr], sp.Expr]
    targets: Literal["real", "binary"] = "real"
    claims: Callable[[sp.Symbol, sp.Symbol], Mapping[str, sp.Expr]] | None = None
    # Left out (None), the set `targets` names: __post_init__ puts it here, so that every
    # Pair holds a set (the annotation says what a reader of `pair.domain` gets)
    domain: sp.Set = None
    threshold: sp.Expr | None = None
    log_density: Callable[[sp.Symbol, sp.Symbol, sp.Symbol], sp.Expr] | None = None
    dispersion: Literal["fixed", "estimated"] | None = None

    def __post_init__(self) -> None:
        _check_name(self.name)
        if self.dispersion not in (None, "fixed", "estimated"):
            raise ValueError(
                f"dispersion must be 'fixed', 'estimated' or None, got {self.dispersion!r}"
            )
        if self.targets not in _TARGET_DOMAINS:
            raise ValueError(f"targets must be 'real' or 'binary', got {self.targets!r}")
        if self.domain is None:
            object.__setattr__(self, "domain", _TARGET_DOMAINS[self.targets])
        elif not isinstance(self.domain, sp.Set) or not self.domain.is_subset(sp.S.Reals):
            raise ValueError(f"domain must be a SymPy set of real numbers, got {self.domain!r}")
        if self.targets == "binary" and not self.domain.is_subset(sp.Interval(0, 1)):
            raise ValueError(f"targets='binary' needs a domain inside [0, 1], got {self.domain}")
        if self.threshold is not None:
            object.__setattr__(self, "threshold", _as_number(self.threshold))


def _as_number(value: object) -> sp.Expr:
    """Return a real SymPy number from a SymPy number or a Python int or float (never a string)."""
    if isinstance(value, int) and not isinstance(value, bool):
        value = sp.Integer(value)
    elif isinstance(value, float):
        value = sp.Float(value)
    if not (isinstance(value, sp.Expr) and value.is_number and value.is_extended_real):
        raise ValueError(f"threshold must be a real number, got {value!r}")
    return value


def _check_name(name: object) -> None:
    """Refuse a name that could not stand alone as a Python identifier in generated code."""
    if not isinstance(name, str) or not name.isidentifier() or not name.isascii():
        raise ValueError(f"a pair's name must be an ASCII Python identifier, got {name!r}")
    if keyword.iskeyword(name) or keyword.issoftkeyword(name) or name.startswith("__"):
        raise ValueError(f"a pair's name must not be a keyword or start with '__', got {name!r}")


class Registry(Mapping[str, Pair]):
    """The (activation, loss) pairs derivreg knows, keyed by name.

    A read-only mapping for everyone who iterates over it (the generator, the
    proofs, the tests, the docs); :meth:`register` and :meth:`temporarily`
    are the only ways in.

    Examples
    --------
    >>> from derivreg.symbolic import REGISTRY, Pair, sigmoid, squared_error
    >>> extra = Pair("sqsig", "Sigmoid with squared error", sigmoid, squared_error)
    >>> with REGISTRY.temporarily(extra):
    ...     "sqsig" in REGISTRY
    True
    >>> "sqsig" in REGISTRY
    False
    """

    def __init__(self, pairs: tuple[Pair, ...] = ()) -> None:
        self._pairs: dict[str, Pair] = {}
        for pair in pairs:
            self.register(pair)

    def __getitem__(self, name: str) -> Pair:
        return self._pairs[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._pairs)

    def __len__(self) -> int:
        return len(self._pairs)

    def __repr__(self) -> str:
        return f"Registry({', '.join(map(repr, self._pairs))})"

    def register(self, pair: Pair, *, replace: bool = False) -> Pair:
        """Add ``pair``; refuse a name already taken unless ``replace``.

        Examples
        --------
        >>> from derivreg.symbolic import REGISTRY
        >>> REGISTRY.register(REGISTRY["mse"])
        Traceback (most recent call last):
        ...
        ValueError: a pair named 'mse' is already registered; pass replace=True to replace it
        """
        if not isinstance(pair, Pair):
            raise TypeError(f"register() takes a Pair, got {type(pair).__name__}")
        if pair.name in self._pairs and not replace:
            raise ValueError(
                f"a pair named {pair.name!r} is already registered; pass replace=True to replace it"
            )
        self._pairs[pair.name] = pair
        return pair

    def unregister(self, name: str) -> Pair:
        """Remove and return the pair called ``name``.

        Examples
        --------
        >>> from derivreg.symbolic import REGISTRY
        >>> REGISTRY.unregister("hinge")
        Traceback (most recent call last):
        ...
        KeyError: "no pair named 'hinge'; registered: 'mse', 'bce', 'poisson', 'gamma'"
        """
        if name not in self._pairs:
            known = ", ".join(map(repr, self._pairs))
            raise KeyError(f"no pair named {name!r}; registered: {known}")
        return self._pairs.pop(name)

    @contextmanager
    def temporarily(self, *pairs: Pair) -> Iterator[Registry]:
        """Register ``pairs`` for the duration of a ``with`` block (tests, docs builds)."""
        before = dict(self._pairs)
        try:
            for pair in pairs:
                self.register(pair)
            yield self
        finally:
            self._pairs.clear()
            self._pairs.update(before)


MSE = Pair(
    name="mse",
    title="Linear regression, mean squared error",
    activation=identity,
    loss=squared_error,
    targets="real",
    claims=lambda y, yhat: {
        "dJ_dyhat": -2 * (y - yhat),
        "dyhat_dz": sp.Integer(1),
        "dJ_dz": -2 * (y - yhat),
        "d2J_dz2": sp.Integer(2),
    },
    # Gaussian: -(y - yhat)^2 / (2 phi) - log(2 pi phi) / 2, phi the variance
    log_density=lambda y, yhat, phi: -((y - yhat) ** 2) / (2 * phi) - sp.log(2 * sp.pi * phi) / 2,
)

BCE = Pair(
    name="bce",
    title="Logistic regression, binary cross-entropy",
    activation=sigmoid,
    loss=binary_cross_entropy,
    targets="binary",
    threshold=sp.Rational(1, 2),
    claims=lambda y, yhat: {
        "dJ_dyhat": (yhat - y) / (yhat * (1 - yhat)),
        "dyhat_dz": yhat * (1 - yhat),
        "dJ_dz": yhat - y,
        "d2J_dz2": yhat * (1 - yhat),
    },
    # Bernoulli: y log yhat + (1 - y) log(1 - yhat), no dispersion
    log_density=lambda y, yhat, _phi: y * sp.log(yhat) + (1 - y) * sp.log(1 - yhat),
)

#: Poisson regression (log link): canonical, dJ/dz = yhat - y; labels are
#: counts, y >= 0 (fractional values allowed, as in scikit-learn's
#: PoissonRegressor); unbounded curvature d2J/dz2 = yhat.
POISSON = Pair(
    name="poisson",
    title="Poisson regression, log link",
    activation=exponential,
    loss=poisson_loss,
    domain=sp.Interval(0, sp.oo),
    claims=lambda y, yhat: {"dJ_dz": yhat - y, "d2J_dz2": yhat},
    # Poisson: y log yhat - yhat - log Gamma(y + 1) (log y! for counts, and statsmodels'
    # density of any y >= 0), no dispersion; its normaliser -lgamma(y + 1) is of every label
    log_density=lambda y, yhat, _phi: y * sp.log(yhat) - yhat - sp.loggamma(y + 1),
)

#: Gamma regression with the (non-canonical) log link: the counter-example
#: to dJ/dz = yhat - y (here 1 - y/yhat); labels y > 0.
GAMMA = Pair(
    name="gamma",
    title="Gamma regression, log link",
    activation=exponential,
    loss=gamma_loss,
    domain=sp.Interval.open(0, sp.oo),
    claims=lambda y, yhat: {"dJ_dz": 1 - y / yhat, "d2J_dz2": y / yhat},
    # Gamma of mean yhat and shape 1/phi: (1/phi) log(y / (yhat phi)) - y / (yhat phi)
    # - log y - lgamma(1/phi)
    log_density=lambda y, yhat, phi: (
        sp.log(y / (yhat * phi)) / phi - y / (yhat * phi) - sp.log(y) - sp.loggamma(1 / phi)
    ),
)

#: The (activation, loss) pairs derivreg knows, keyed by name.  A new pair is
#: one more entry here (or ``REGISTRY.register(pair)``); the engine, the
#: generator, the proofs and the tests iterate over this mapping.
REGISTRY: Registry = Registry((MSE, BCE, POISSON, GAMMA))
