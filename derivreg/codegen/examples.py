"""The doctest examples of the generated kernels, valued by SymPy from the derivation.

Examples
--------
>>> from derivreg import derive
>>> examples(derive("mse"))["loss"][1]
'0.81'
"""

from __future__ import annotations

import sympy as sp

from derivreg.symbolic import Derivation, derive, y, yhat, z

__all__ = ["EXAMPLE", "examples"]

#: The point every generated example is evaluated at: one sample with two
#: features, so that the score is z = 1*0.5 + 2*(-0.25) + 0.1 = 0.1.
EXAMPLE = {"X": "[[1.0, 2.0]]", "y": "[1.0]", "w": "[0.5, -0.25]", "b": "0.1", "lr": "0.5"}


def examples(d: Derivation) -> dict[str, tuple[str, str]]:
    """Return a doctest call and its value for each public kernel function.

    The values are the derivation's own expressions evaluated by SymPy in
    exact arithmetic and rounded to 6 decimals, so each example checks the
    printed kernel against the math.
    """
    sym = derive(d.pair, features=1).symbols if d.features != 1 else d.symbols
    x1, x2, y1, w1, w2, b0, lr = (
        sp.Rational(v) for v in ("1", "2", "1", "0.5", "-0.25", "0.1", "0.5")
    )
    score = x1 * w1 + x2 * w2 + b0
    yhat_v = d.activation.subs(z, score)
    at = {yhat: yhat_v, y: y1, z: score}

    def value(expr: sp.Basic, **extra: sp.Basic) -> str:
        exact = expr.subs({**at, **{sym[k]: v for k, v in extra.items()}})
        return repr(round(float(sp.N(exact, 30)), 6))

    scalar = derive(d.pair, features=1)
    update_w = [value(scalar.update_w, x=xj, w=wj, alpha=lr) for xj, wj in ((x1, w1), (x2, w2))]
    grad_w = [value(d.dJ_dz * xj) for xj in (x1, x2)]
    batch = "np.array({X}), np.array({y}), np.array({w}), {b}".format(**EXAMPLE)
    params = "np.array({X}), np.array({w}), {b}".format(**EXAMPLE)
    r6 = "[round(float(v), 6) for v in {}]"
    return {
        "dJ_dyhat": (
            "round(float(dJ_dyhat(np.float64(1.0), np.float64(0.25))), 6)",
            repr(round(float(sp.N(d.dJ_dyhat.subs({y: 1, yhat: sp.Rational(1, 4)}), 30)), 6)),
        ),
        "dyhat_dz": (
            "round(float(dyhat_dz(np.float64(0.1))), 6)",
            value(d.dyhat_dz.subs(yhat, d.activation)),
        ),
        "dJ_dz": (
            "round(float(dJ_dz(np.float64(0.1), np.float64(1.0))), 6)",
            value(d.dJ_dz.subs(yhat, d.activation)),
        ),
        "predict": (f"round(float(predict({params})[0]), 6)", value(d.activation)),
        "losses": (f"round(float(losses({batch})[0]), 6)", value(d.loss)),
        "loss": (f"round(loss({batch}), 6)", value(d.loss)),
        "grad": (
            r6.format(f"[*grad({batch})[0]]"),
            f"[{', '.join(grad_w)}]",
        ),
        "update": (
            r6.format(f"update({batch}, {EXAMPLE['lr']})[0]"),
            f"[{', '.join(update_w)}]",
        ),
    }
