"""Print the log-likelihood of a derivation whose pair declares its family's log-density.

From :class:`~derivreg.symbolic.likelihood.Likelihood`: the constant
``LOGLIK_SCALE`` (``s`` in ``log p = -J / (s phi) + k(y, phi)``), the
normalising constant ``log_normaliser(y, phi)`` and the maximum-likelihood
``dispersion(J_mean)`` as printed expressions (holes), and the fixed text of
``log_likelihood``, the maximised log-likelihood of the data.  A pair
without a declared log-density gets none of these, and the estimators say
so.

Examples
--------
>>> from derivreg import derive
>>> from derivreg.codegen.kernel import generate
>>> "def log_likelihood(" in generate(derive("bce"))
True
"""

from __future__ import annotations

from typing import Any

import sympy as sp

from derivreg.codegen.domain import CHECK_BATCH
from derivreg.codegen.printers import check_names
from derivreg.codegen.rules import stabilize
from derivreg.codegen.templates import CodeBlock, Output, Printed, body, function
from derivreg.symbolic import Derivation

__all__ = ["likelihood_constants", "likelihood_functions", "pearson_of_z", "scale_shift"]

_BATCH = "X: np.ndarray, y: np.ndarray, w: np.ndarray, b: float"


def likelihood_constants(d: Derivation) -> list[str]:
    """Return the module constant lines of the dispersion and the log-likelihood.

    ``DISPERSION_ESTIMATED`` always (the standard errors' ``scale="auto"``);
    ``LOGLIK_SCALE`` and ``LOGLIK_SHIFT`` where a log-likelihood is derived.

    Examples
    --------
    >>> from derivreg import derive
    >>> likelihood_constants(derive("mse"))[-1]
    'LOGLIK_SHIFT = -1.0'
    >>> likelihood_constants(derive("poisson"))[-1]  # lgamma(y + 1): k reads y
    'LOGLIK_SHIFT = None'
    """
    dispersion = [
        "",
        "#: Whether the family's dispersion phi is estimated from the data (True: the",
        "#: standard errors' scale='auto' is Pearson's) or fixed at 1 (False): derived",
        "#: from the log-density (phi scales the loss), else the pair's declared one.",
        f"DISPERSION_ESTIMATED = {bool(d.dispersion_estimated)!r}",
    ]
    if d.likelihood is None:
        return dispersion
    return [
        *dispersion,
        "#: log p(y | yhat, phi) = -J / (LOGLIK_SCALE phi) + log_normaliser(y, phi): the",
        "#: family's log-density, of which the loss J keeps the part that depends on yhat.",
        f"LOGLIK_SCALE = {float(d.likelihood.scale)!r}",
        "#: (k(phi 2**(deg e)) - k(phi)) / (e log 2) where J(c y, c z) = c**deg J,",
        "#: phi(c**deg J_mean) = c**deg phi and k is free of y (scale-free); else None.",
        f"LOGLIK_SHIFT = {scale_shift(d)!r}",
    ]


def scale_shift(d: Derivation) -> float | None:
    """Return ``deg * phi dk/dphi`` where the family is scale-free, else None.

    Scale-free: the loss is homogeneous of degree ``deg`` in ``(y, z)``, the
    dispersion of degree 1 in the mean loss, and the normaliser ``k`` is free
    of ``y`` with ``phi dk/dphi`` a constant.  Then dividing y and the scores
    by ``2**e`` divides J and phi by ``2**(deg e)``, and adds ``shift e log 2``
    to each row's ``k``: the log-likelihood computed at scale.

    Examples
    --------
    >>> from derivreg import derive
    >>> scale_shift(derive("mse")), scale_shift(derive("bce"))
    (-1.0, None)
    """
    from derivreg.symbolic import J_mean, phi, y, yhat, z

    terms = d.likelihood
    if terms is None or terms.dispersion is None or y in terms.normaliser.free_symbols:
        return None
    beta = sp.simplify(sp.diff(terms.normaliser, phi) * phi)
    if beta.free_symbols:
        return None
    c = sp.Symbol("c", positive=True)
    J = d.loss.subs(yhat, d.activation)
    for deg in (1, 2):
        loss = J.subs({y: c * y, z: c * z}, simultaneous=True) - c**deg * J
        spread = terms.dispersion.subs(J_mean, c**deg * J_mean) - c**deg * terms.dispersion
        if sp.simplify(loss) == 0 and sp.simplify(spread) == 0:
            return float(deg * beta)
    return None


def _output(name: str, expr: sp.Expr) -> Output:
    check_names(expr)
    stable, rules = stabilize(expr)
    return Output(name, stable, expr, rules)


def likelihood_functions(kernel: Any) -> list[Printed]:
    """Print ``log_normaliser``, the dispersion's function and ``log_likelihood`` (or none).

    The dispersion's function is ``dispersion(J_mean)``, the maximum-likelihood
    one, or ``pearson_residual(z, y)`` where that has no closed form and the
    log-likelihood is taken at Pearson's (:mod:`derivreg.symbolic.likelihood`).

    Examples
    --------
    >>> from derivreg import derive
    >>> from derivreg.codegen.kernel import _Kernel
    >>> [p.source.split("(")[0] for p in likelihood_functions(_Kernel(derive("mse")))]
    ['def log_normaliser', 'def dispersion', 'def log_likelihood']
    >>> [p.source.split("(")[0] for p in likelihood_functions(_Kernel(derive("gamma")))][1]
    'def pearson_residual'
    """
    d, show = kernel.d, kernel.show
    terms = d.likelihood
    if terms is None:
        return []
    k = _output("k", terms.normaliser)
    comments = {
        "k": f"log p + J / (LOGLIK_SCALE phi): the part free of yhat, k = {show(terms.normaliser)}",
    }
    label = _doc_label(terms.normaliser)
    normaliser = function(
        "log_normaliser(y: np.ndarray, phi: float) -> np.ndarray",
        _doc(
            "The log-density's normalising constant k(y, phi), elementwise.",
            f"round(float(log_normaliser(np.float64({label}.0), 0.5)), 6)",
            _value(terms.normaliser, {"y": label, "phi": sp.Rational(1, 2)}),
        ),
        body([k], comments, kernel.printer, ("y", "phi"), like="y"),
        "k",
    )
    if terms.dispersion is None:
        return [normaliser, *_at_pearsons(kernel)]
    phi = _output("phi", terms.dispersion)
    comments["phi"] = f"maximum-likelihood dispersion: phi = {show(terms.dispersion)}"
    return [
        normaliser,
        function(
            "dispersion(J_mean: float) -> float",
            _doc(
                "The maximum-likelihood dispersion phi, given the mean loss (1.0 where fixed).",
                "round(dispersion(0.5), 6)",
                _value(terms.dispersion, {"J_mean": sp.Rational(1, 2)}),
            ),
            body([phi], comments, kernel.printer, ("J_mean",), like="J_mean"),
            "float(phi)",
        ),
        _log_likelihood(
            d,
            "at the dispersion's maximum",
            CodeBlock(
                "per-sample losses, and the dispersion they give",
                ["J = _losses(X, y, w, b)", "phi = dispersion(float(np.mean(J)))"],
            ),
            "dispersion",
        ),
    ]


def _at_pearsons(kernel: Any) -> list[Printed]:
    """``pearson_residual(z, y)`` and the log-likelihood at Pearson's dispersion."""
    d, show = kernel.d, kernel.show
    r_of_z = pearson_of_z(d)
    assert d.likelihood is not None
    assert d.likelihood.pearson is not None
    comments = {
        "r": f"squared Pearson residual, r = {show(d.likelihood.pearson)} = "
        "dJ/dz^2 / (LOGLIK_SCALE E[d2J/dz2])"
    }
    residual = function(
        "pearson_residual(z: np.ndarray, y: np.ndarray) -> np.ndarray",
        _doc(
            "The squared Pearson residual (y - yhat)^2 / V(yhat), elementwise: Pearson's\n"
            "    dispersion is their sum over m - p, p = n + 1 parameters.",
            "round(float(pearson_residual(np.float64(0.5), np.float64(1.0))), 6)",
            _value(r_of_z, {"z": sp.Rational(1, 2), "y": 1}),
        ),
        body([_output("r", r_of_z)], comments, kernel.printer, ("z", "y"), like="z"),
        "r",
    )
    pearson = CodeBlock(
        "per-sample losses, and Pearson's dispersion sum_i r_i / (m - p): the\n"
        "maximum-likelihood one has no closed form (derivreg.symbolic.likelihood)",
        [
            "J = _losses(X, y, w, b)",
            "phi = _pearson_dispersion(pearson_residual(_scores(X, w, b), y), X)",
        ],
    )
    return [residual, _log_likelihood(d, "at Pearson's dispersion", pearson, "None")]


def pearson_of_z(d: Derivation) -> sp.Expr:
    """``r = (dJ/dz)^2 / (s E[d2J/dz2])`` in ``(z, y)``, ``E`` at ``y = yhat``.

    Equal to the derivation's ``(y - yhat)^2 / V(yhat)`` for a family's GLM
    score (the validator proves it), and printed from the stable ``dJ/dz``:
    Gamma's ``(1 - y exp(-z))^2`` stays finite where ``(y - exp(z))^2`` would
    overflow.

    Examples
    --------
    >>> from derivreg import derive
    >>> pearson_of_z(derive("gamma"))
    (-(y - exp(z))*exp(-z))**2
    """
    from derivreg.symbolic import y, yhat

    assert d.likelihood is not None
    expected = sp.simplify(d.d2J_dz2.subs(y, yhat).subs(yhat, d.activation))
    score = sp.Pow(d.dJ_dz.subs(yhat, d.activation), 2, evaluate=False)  # kept a square,
    factor = d.likelihood.scale * expected  # so that the score's stable form is printed
    return score if factor == 1 else score / factor


#: The doctest batches of log_likelihood: one row (the maximum-likelihood
#: dispersion), three rows of one feature (Pearson's needs m > p).
_BATCHES = {
    "dispersion": ("np.array([[1.0, 2.0]]), np.array([1.0]), np.array([0.5, -0.25]), 0.1"),
    "None": "np.array([[0.0], [1.0], [2.0]]), np.array([1.0, 2.0, 1.5]), np.array([0.25]), 0.1",
}


def _log_likelihood(d: Derivation, at: str, first: CodeBlock, dispersion: str) -> Printed:
    """Print the fixed text of ``log_likelihood``: ``first`` sets J and phi."""
    batch = _BATCHES[dispersion]
    return function(
        f"log_likelihood({_BATCH}) -> float",
        f"The log-likelihood sum_i log p(y_i | yhat_i, phi) {at}.\n\n"
        "    Examples\n    --------\n"
        f"    >>> round(log_likelihood({batch}), 6)\n    {_example(d)}\n    ",
        [
            first,
            CodeBlock(
                "log p = k(y, phi) - J / (LOGLIK_SCALE phi), summed over the rows",
                [
                    "log_p = log_normaliser(y, phi) - J / (LOGLIK_SCALE * phi)",
                    "total = float(np.sum(log_p))",
                ],
            ),
            CodeBlock(
                "non-finite: recomputed at scale, or from the checked losses, or an error",
                [
                    f"likelihood = _losses, losses, {dispersion}, log_normaliser, LOGLIK_SCALE, "
                    "LOGLIK_SHIFT"
                ],
            ),
        ],
        "_checked_log_likelihood(total, phi, likelihood, X, y, w, b)",
        [CHECK_BATCH],
    )


def _doc_label(k: sp.Expr) -> int:
    """Return the doctest's label: 1, or 2 where ``k`` reads y and is 0 at 1.

    ``-lgamma(y + 1)`` at 1 would show neither y's term nor its sign (NumPy prints -0.0).
    """
    from derivreg.symbolic import phi, y

    at_one = k.subs({y: 1, phi: sp.Rational(1, 2)})
    return 2 if y in k.free_symbols and sp.simplify(at_one) == 0 else 1


def _doc(summary: str, call: str, value: str) -> str:
    return f"{summary}\n\n    Examples\n    --------\n    >>> {call}\n    {value}\n    "


def _value(expr: sp.Expr, at: dict[str, sp.Expr]) -> str:
    """``expr`` at the named point, in exact arithmetic, rounded to 6 decimals."""
    by_name = {s.name: s for s in expr.free_symbols}
    exact = expr.subs({by_name[n]: v for n, v in at.items() if n in by_name})
    return repr(round(float(sp.N(exact, 30)), 6))


def _example(d: Derivation) -> str:
    """Return the doctest's value: the batch's log-likelihood, in exact arithmetic."""
    from derivreg.symbolic import J_mean, phi, y, yhat, z

    terms = d.likelihood
    assert terms is not None
    J_of = d.loss.subs(yhat, d.activation)
    if terms.dispersion is not None:  # one row: X w + b = 0.5 - 0.5 + 0.1
        J = J_of.subs({z: sp.Rational(1, 10), y: 1})
        dispersion = terms.dispersion.subs(J_mean, J)
        value = terms.normaliser.subs({y: 1, phi: dispersion}) - J / (terms.scale * dispersion)
        return repr(round(float(sp.N(value, 30)), 6))
    assert terms.pearson is not None
    rows = [(sp.Rational(i, 4) + sp.Rational(1, 10), label) for i, label in
            enumerate((1, 2, sp.Rational(3, 2)))]  # fmt: skip
    r = pearson_of_z(d)
    dispersion = sum(r.subs({z: zi, y: yi}) for zi, yi in rows) / (len(rows) - 2)
    value = sum(
        terms.normaliser.subs({y: yi, phi: dispersion})
        - J_of.subs({z: zi, y: yi}) / (terms.scale * dispersion)
        for zi, yi in rows
    )
    return repr(round(float(sp.N(value, 30)), 6))
