"""The derivation's own update rules and identities, proven as scalar facts.

The kernels print the derivation's gradient and update; these are its
chain rule's only if the derivation says so.  :func:`lemmas` proves it
(``dJ_dw = dJ_dz x``, ``update_w = w - alpha dJ_dz x``, ``d2J_dz2`` the
derivative of ``dJ_dz``), and, where printed, the expected curvature's and
the log-likelihood's identities, with :func:`~derivreg.validate.holes.proven_zero`.

Examples
--------
>>> from derivreg import derive
>>> from derivreg.validate.report import ValidationReport
>>> report = ValidationReport("mse")
>>> lemmas(derive("mse"), report)
>>> report.ok, "derivation: dJ_db = dJ_dz" in report.proven
(True, True)
"""

from __future__ import annotations

import sympy as sp

from derivreg.codegen.hessian import has_expected_curvature
from derivreg.symbolic import Derivation, derive
from derivreg.validate.holes import INPUTS, positive_labels, proven_zero
from derivreg.validate.report import ValidationReport

__all__ = ["lemmas"]


def lemmas(d: Derivation, report: ValidationReport) -> None:
    """Prove that the derivation's gradient and update are its chain rule's."""
    scalar = derive(d.pair, features=1) if d.features != 1 else d
    s = scalar.symbols
    act = {INPUTS["yhat"]: d.activation}
    dz = scalar.dJ_dz.subs(act)
    facts = {
        "dJ_dw = dJ_dz x": (scalar.dJ_dw, dz * s["x"]),
        "dJ_db = dJ_dz": (scalar.dJ_db, dz),
        "update_w = w - alpha dJ_dz x": (scalar.update_w, s["w"] - s["alpha"] * dz * s["x"]),
        "update_b = b - alpha dJ_dz": (scalar.update_b, s["b"] - s["alpha"] * dz),
        "d2J_dz2 = d(dJ_dz)/dz": (d.d2J_dz2, sp.diff(dz, INPUTS["z"])),
    }
    if has_expected_curvature(d):
        # expected_curvature is d2J/dz2 at y = yhat: the mean over y of mean yhat, because
        # d2J/dz2 is affine in y, and yhat is that mean, the score dJ/dz having mean 0 there
        facts["d2J_dz2 is affine in y"] = (sp.diff(d.d2J_dz2, INPUTS["y"], 2), sp.Integer(0))
        facts["dJ_dz = 0 at y = yhat"] = (
            d.dJ_dz.subs(INPUTS["y"], INPUTS["yhat"]),
            sp.Integer(0),
        )
    if d.likelihood is not None and d.pair.log_density is not None:
        facts.update(_likelihood_facts(d))
    labels = positive_labels(d.pair.domain)
    for label, (have, want) in facts.items():
        residual = (have.subs(act) - want).xreplace(labels)
        if proven_zero(residual, residual, d.pair.targets):
            report.proven.append(f"derivation: {label}")
        else:
            report.failures.append(f"derivation: {label} does not hold: residual {residual}")


def _likelihood_facts(d: Derivation) -> dict[str, tuple[sp.Expr, sp.Expr]]:
    """Return the log-likelihood's facts: log p's terms, and Pearson's residual where used."""
    t, p = d.likelihood, INPUTS["phi"]
    assert t is not None
    assert d.pair.log_density is not None
    Y, Yhat = INPUTS["y"], INPUTS["yhat"]
    dispersed = t.dispersion != 1  # Pearson's (None) or a maximum-likelihood phi
    log_p = d.pair.log_density(Y, Yhat, p)
    if not dispersed:  # no dispersion: log p is free of phi
        log_p = log_p.subs(p, 1)
    want = t.normaliser - d.loss / (t.scale * (p if dispersed else 1))
    facts = {"log p = k(y, phi) - J / (s phi)": (log_p, want)}
    if t.pearson is not None:
        # r = (y - yhat)^2 / V(yhat) with V = s / E[d2J/dyhat2], E at y = yhat: the mean
        # over y because d2J/dyhat2 is affine in y; printed as dJ/dz^2 / (s E[d2J/dz2])
        d2 = sp.diff(d.loss, Yhat, 2)
        facts["d2J/dyhat2 is affine in y"] = (sp.diff(d2, Y, 2), sp.Integer(0))
        facts["r = (y - yhat)^2 E[d2J/dyhat2] / s"] = (
            t.pearson,
            (Y - Yhat) ** 2 * d2.subs(Y, Yhat) / t.scale,
        )
        facts["r = dJ/dz^2 / (s E[d2J/dz2])"] = (
            t.pearson,
            d.dJ_dz**2 / (t.scale * d.d2J_dz2.subs(Y, Yhat)),
        )
    act = {Yhat: d.activation}  # in z, as the other facts
    return {label: (a.subs(act), b.subs(act)) for label, (a, b) in facts.items()}
