"""Shared by the proof families: named functions and vector components.

Not a family itself (the leading underscore keeps it out of ``derivreg
verify``); load it with ``derivreg.proof.load("_common")``.
"""

import sympy as sp

from derivreg.proof import Theorem, explicit
from derivreg.symbolic import REGISTRY, alpha, b, derive, w_vector, x_vector, y, yhat, z

t = sp.Symbol("t", real=True)
sigma = sp.Function("sigma")
softplus = sp.Function("softplus")

#: The named functions the proofs use, with their definitions.
DEFS = {
    sigma: sp.Lambda(t, 1 / (1 + sp.exp(-t))),
    softplus: sp.Lambda(t, sp.log(1 + sp.exp(t))),
}

#: Component k of the n-vectors x and w, for statements about every n.
k = sp.Symbol("k", integer=True, nonnegative=True)
x_k, w_k, w_j, x_j = sp.symbols("x_k w_k w_j x_j", real=True)
#: The rest of the linear score: sum of x_i w_i over i other than k (and j).
#: It does not depend on w_k, w_j or b, which is all the proofs use.
r = sp.Symbol("r", real=True)


def component(expr: sp.Basic) -> sp.Basic:
    """Entry k of a derivation's n-vector (row or column), with x_k and w_k as scalars."""
    entry = expr[0, k] if expr.shape[0] == 1 else expr[k, 0]
    return entry.xreplace({x_vector[k, 0]: x_k, w_vector[k, 0]: w_k})


def explicit_vectors(n: int) -> tuple[sp.Matrix, sp.Matrix]:
    """Explicit x = (x_1..x_n) and w = (w_1..w_n), real."""
    xs = sp.Matrix(sp.symbols(f"x_1:{n + 1}", real=True))
    ws = sp.Matrix(sp.symbols(f"w_1:{n + 1}", real=True))
    return xs, ws


def eq(lhs: sp.Basic, rhs: sp.Basic) -> sp.Basic:
    """``lhs = rhs`` as a statement, unevaluated (SymPy would decide a trivial one)."""
    return sp.Eq(lhs, rhs, evaluate=False)


def descent(parameter: sp.Basic, gradient: sp.Basic) -> sp.Basic:
    """``parameter - alpha gradient``, kept as written (the gradient in parentheses)."""
    step = sp.Mul(-1, alpha, sp.UnevaluatedExpr(gradient), evaluate=False)
    return sp.Add(parameter, step, evaluate=False)


def gradient_theorems(
    name: str,
    lecture_dJ_dz: sp.Expr,
    where: dict,
    words: str,
    vector_n: int = 2,
) -> list[Theorem]:
    """dJ/dw, dJ/db and the update rule of a registered pair, 1 and n features.

    ``lecture_dJ_dz`` is the slides' dJ/dz in terms of y and yhat (e.g.
    ``-2(y - yhat)``), ``words`` the same for the statements.  The chains
    go from the derivative of the composed loss, through the slides' form,
    to the derivation's own step, so a change to the registry or to
    derive() breaks a step here.
    """
    pair = REGISTRY[name]  # a scalar pair: its derivations are Derivations
    d1, dn = derive(pair, features=1), derive(pair)
    g = d1.pair.activation
    x, w = d1.symbols["x"], d1.symbols["w"]

    def loss_at(score: sp.Expr) -> sp.Expr:
        return d1.yhat_of_z(d1.loss).subs(z, score)

    def lecture_at(score: sp.Expr) -> sp.Expr:
        return lecture_dJ_dz.subs(yhat, g(score))

    one = x * w + b
    gradient_1 = (
        Theorem(
            f"{name}.gradient_1",
            f"1 feature: dJ/dw = {words} x and dJ/db = {words}, at yhat = g(xw + b)",
            statement=[
                eq(sp.Derivative(loss_at(one), w), lecture_at(one) * x),
                eq(sp.Derivative(loss_at(one), b), lecture_at(one)),
            ],
            where=where,
        )
        .start(sp.Derivative(loss_at(one), w), "the loss of the model xw + b, in w")
        .eq(lecture_at(one) * x, "chain rule: dJ/dz times dz/dw = x")
        .eq(d1.dJ_dw.subs(yhat, g(one)), "the derivation's dJ_dw at yhat = g(xw + b)", restate=True)
        .start(sp.Derivative(loss_at(one), b), "the same loss, in b")
        .eq(lecture_at(one), "chain rule: dJ/dz times dz/db = 1")
        .eq(d1.dJ_db.subs(yhat, g(one)), "the derivation's dJ_db at yhat = g(xw + b)", restate=True)
    )
    score = x_k * w_k + r + b
    gradient_n = (
        Theorem(
            f"{name}.gradient_n",
            "n features, for every n and every component k: "
            f"dJ/dw_k = {words} x_k and dJ/db = {words}; "
            "the score x.w + b is x_k w_k + r + b with r = sum of x_i w_i over i != k, "
            "which depends on neither w_k nor b",
            statement=[
                eq(sp.Derivative(loss_at(score), w_k), lecture_at(score) * x_k),
                eq(sp.Derivative(loss_at(score), b), lecture_at(score)),
            ],
            where=where,
        )
        .start(sp.Derivative(loss_at(score), w_k), "the loss of x.w + b, in w_k")
        .eq(lecture_at(score) * x_k, "chain rule: dJ/dz times dz/dw_k = x_k")
        .eq(
            component(dn.dJ_dw).subs(yhat, g(score)),
            "entry k of the derivation's dJ_dw",
            restate=True,
        )
        .start(sp.Derivative(loss_at(score), b), "the same loss, in b")
        .eq(lecture_at(score), "chain rule: dJ/dz times dz/db = 1")
        .eq(dn.dJ_db.subs(yhat, g(score)), "the derivation's dJ_db", restate=True)
    )
    coefficient = sp.cancel(-lecture_dJ_dz / (y - yhat))
    c = "" if coefficient == 1 else f"{coefficient} "
    update_1 = (
        Theorem(
            f"{name}.update_1",
            f"1 feature: w := w - alpha dJ/dw = w + {c}alpha (y - yhat) x, "
            f"and b := b + {c}alpha (y - yhat)",
            statement=[
                eq(descent(w, d1.dJ_dw), w + coefficient * alpha * (y - yhat) * x),
                eq(descent(b, d1.dJ_db), b + coefficient * alpha * (y - yhat)),
            ],
            where=where,
        )
        .start(descent(w, d1.dJ_dw), "gradient descent: w - alpha dJ/dw")
        .eq(w + coefficient * alpha * (y - yhat) * x, "the slides' rule", restate=True)
        .eq(d1.update_w, "the derivation's update_w", restate=True)
        .start(descent(b, d1.dJ_db), "gradient descent: b - alpha dJ/db")
        .eq(b + coefficient * alpha * (y - yhat), "the slides' rule", restate=True)
        .eq(d1.update_b, "the derivation's update_b", restate=True)
    )
    update_n = (
        Theorem(
            f"{name}.update_n",
            f"n features, every component k: w_k := w_k + {c}alpha (y - yhat) x_k, "
            f"and b := b + {c}alpha (y - yhat)",
            statement=[
                eq(descent(w_k, component(dn.dJ_dw)), w_k + coefficient * alpha * (y - yhat) * x_k),
                eq(descent(b, dn.dJ_db), b + coefficient * alpha * (y - yhat)),
            ],
            where=where,
        )
        .start(descent(w_k, component(dn.dJ_dw)), "entry k of w - alpha (dJ/dw)^T")
        .eq(w_k + coefficient * alpha * (y - yhat) * x_k, "the slides' rule", restate=True)
        .eq(component(dn.update_w), "entry k of the derivation's update_w", restate=True)
        .start(descent(b, dn.dJ_db), "gradient descent: b - alpha dJ/db")
        .eq(b + coefficient * alpha * (y - yhat), "the slides' rule", restate=True)
        .eq(dn.update_b, "the derivation's update_b", restate=True)
    )
    xs, ws = explicit_vectors(vector_n)
    model = (xs.T * ws)[0, 0] + b
    row = sp.Matrix([[sp.Derivative(loss_at(model), wi) for wi in ws]])
    vector = (
        Theorem(
            f"{name}.gradient_vector[n={vector_n}]",
            f"explicit n = {vector_n}: the gradient row vector (dJ/dw_1, ...) is "
            f"{words} x^T, as the derivation's matrix expression says",
            statement=eq(row, lecture_at(model) * xs.T),
            where=where,
        )
        .start(row, "the loss of x.w + b, differentiated in each w_i")
        .eq(lecture_at(model) * xs.T, "chain rule in each component")
        .eq(
            explicit(dn.dJ_dw, {x_vector: xs, w_vector: ws}).subs(yhat, g(model)),
            "the derivation's dJ_dw (n x 1 matrix symbols made explicit)",
            restate=True,
        )
    )
    return [gradient_1, gradient_n, update_1, update_n, vector]
