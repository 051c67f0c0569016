"""Validate the vector-output kernels (``derivreg/kernels/softmax.py`` and ``softmax_loop.py``).

1. The skeleton: the parsed module equals the generator's own
   (:func:`derivreg.codegen.softmax.generate_softmax_module`) node for node
   outside the holes (:mod:`~derivreg.validate.skeleton`): every reduction
   (``axis=1``), the row maximum, the TwoSum lines, the one-hot mask, the
   input checks and the block loop are the generator's exactly.
2. The holes: each printed right-hand side is given its meaning over the
   reals (:mod:`~derivreg.validate.semantics`) and proven equal to the
   derivation's component, for k = 3 classes, in every case of which class
   holds the row maximum (``m = z_a``) and which class is the label (``c``).
   Over the reals the fixed code means: ``m = z_a``, ``err = 0``,
   ``others = Σ_{i≠a} e_i``, ``S = Σ_i e_i``, ``wrong = Σ_{i≠c} e_i``,
   ``Y_j = [j = c]``.
   That reading alone would let ``err`` be dropped (it is 0 over the
   reals), so a hole that reads ``err`` is also checked to first order in
   it: TwoSum makes ``s + err`` the exact ``z_j - m``, so the exact value is
   a function of ``s + err`` alone, and the hole must be one to first order:
   ``∂h/∂err = ∂h/∂s`` at ``err = 0`` (:func:`_first_order_in_err`).  A
   kernel without the correction (``e = exp(s)``) fails it: ``0 ≠ exp(s)``.
   Higher orders are ``err² <= (ulp(s)/2)² <= 2⁻¹⁰⁶ s²``, below rounding.
3. The penalty's ``dR_dw`` and ``soft_threshold`` are proven by the scalar
   kernels' hole prover (:func:`~derivreg.validate.holes.prove_holes`)
   against :func:`~derivreg.symbolic.penalty.derive_penalty`.
4. The loop module equals the generator's exactly (it has no holes: the
   per-sample dJ/dz is the batch kernel's, proven in 2).

Examples
--------
>>> from derivreg.codegen.softmax import generate_softmax, generate_softmax_loop
>>> validate_softmax(generate_softmax()).ok
True
>>> validate_softmax_loop(generate_softmax_loop()).ok
True
"""

from __future__ import annotations

import ast

import sympy as sp

from derivreg.codegen.softmax import generate_softmax_loop, generate_softmax_module
from derivreg.codegen.templates import Hole
from derivreg.symbolic.checks import is_zero
from derivreg.symbolic.softmax import NAME, derive_softmax
from derivreg.symbolic.vector_derivation import VectorDerivation
from derivreg.validate.holes import prove_holes
from derivreg.validate.report import ValidationError, ValidationReport
from derivreg.validate.semantics import meaning
from derivreg.validate.skeleton import compare, mark

__all__ = ["validate_softmax", "validate_softmax_loop"]

#: The penalty's functions, printed and proven as in the scalar kernels.
_PENALTY = ("dR_dw", "soft_threshold")


def _parse(source: object, name: str) -> ast.Module:
    if not isinstance(source, str):
        raise ValidationError(f"{name}: the source must be a str")
    try:
        return ast.parse(source)
    except SyntaxError as err:
        raise ValidationError(f"{name}: not Python: {err}") from None


def validate_softmax(source: str) -> ValidationReport:
    """Validate a candidate ``derivreg/kernels/softmax.py`` (parsed, never run).

    Returns
    -------
    ValidationReport
        ``ok`` when the skeleton is the generator's and every hole is proven.

    Raises
    ------
    ValidationError
        Where the skeleton differs (the line and what differs).

    Examples
    --------
    >>> from derivreg.codegen.softmax import generate_softmax
    >>> bad = generate_softmax().replace("np.log1p(others)", "np.log(others)")
    >>> validate_softmax(bad).ok
    False
    """
    report = ValidationReport(NAME)
    tree = _parse(source, NAME)
    printed = generate_softmax_module()
    reference = ast.parse(printed.source)
    found = compare(tree, reference, mark(reference, printed.holes))
    d = derive_softmax()
    c = d.symbols
    cases = [(a, label) for a in range(c.k) for label in range(c.k)]
    # dR_dw and soft_threshold are the scalar kernels' own, proven as theirs are
    shared = [(node, hole) for node, hole in found if hole.function in _PENALTY]
    prove_holes(shared, report, "real")
    found = [(node, hole) for node, hole in found if hole.function not in _PENALTY]
    nodes: dict[tuple[str, str], ast.expr] = {}
    for node, hole in found:
        nodes[(hole.function, hole.target)] = node
    for node, hole in found:
        where = f"{hole.function}, line {node.lineno}: {hole.target} = `{ast.unparse(node)}`"
        try:
            ok = all(_proven(hole, node, nodes, d, a=a, label=label) for a, label in cases)
        except (ValidationError, TypeError, ValueError) as err:
            report.failures.append(f"{where}: {err}")
            continue
        if ok:
            report.proven.append(f"hole {hole.function}.{hole.target}")
        else:
            report.failures.append(f"{where}: not proven equal to the derivation's component")
    return report


def _proven(
    hole: Hole, node: ast.expr, nodes: dict, d: VectorDerivation, *, a: int, label: int
) -> bool:
    """Whether the hole equals the derivation in the case (row maximum a, class label)."""
    c = d.symbols
    z = c.z
    shift = [meaning(nodes[("_terms", "s")], {"Z": z[i], "m": z[a]}) for i in range(c.k)]
    terms = [
        meaning(nodes[("_terms", "e")], {"s": shift[i], "err": sp.Integer(0)}) for i in range(c.k)
    ]
    fixed = {
        "err": sp.Integer(0),
        "others": sum(terms[i] for i in range(c.k) if i != a),
        "S": sum(terms),
        "wrong": sum(terms[i] for i in range(c.k) if i != label),
    }
    one_hot = {y: int(i == label) for i, y in enumerate(c.y)}
    for j in range(c.k):
        # Y_j stays a symbol through the branch's condition, then takes the case's value.
        env = {**fixed, "Z": z[j], "m": z[a], "s": shift[j], "e": terms[j], "Y": c.y[j]}
        value = meaning(node, {name: env[name] for name in hole.inputs}).xreplace(one_hot)
        expected = _expected(hole.target, d, j, a, one_hot)
        if hole.target == "log_yhat":
            # Both sides are real (their logs' arguments are proven positive) and exp is
            # injective on the reals: equal logs iff equal exponentials.
            value, expected = sp.exp(value), sp.exp(expected)
        if not is_zero(value - expected):
            return False
        if "err" in hole.inputs and not _first_order_in_err(node, hole, env):
            return False
    return True


def _first_order_in_err(node: ast.expr, hole: Hole, env: dict) -> bool:
    """Whether the hole depends on ``s`` and ``err`` through ``s + err``, to first order.

    ``s`` and ``err`` become free real symbols (the other inputs keep the
    case's values); the hole's derivatives in both, at ``err = 0``, must be equal.
    """
    shift, error = sp.Symbol("s", real=True), sp.Symbol("err", real=True)
    free = {**env, "s": shift, "err": error}
    value = meaning(node, {name: free[name] for name in hole.inputs})
    if "s" not in hole.inputs:
        return False  # it reads the error of a shift it does not read
    along = sp.diff(value, error) - sp.diff(value, shift)
    return is_zero(along.xreplace({error: sp.Integer(0)}))


def _expected(target: str, d: VectorDerivation, j: int, a: int, one_hot: dict) -> sp.Basic:
    """Return the derivation's value of a hole at component j (shift, term, log ŷ, ŷ, dJ/dz)."""
    c = d.symbols
    yhat = d.matrices["yhat"][j]
    if target == "s":
        return c.z[j] - c.z[a]
    if target == "e":
        return sp.exp(c.z[j] - c.z[a])
    if target == "log_yhat":
        return sp.log(yhat)
    if target == "yhat":
        return yhat
    return c.at_softmax(d.matrices["dJ_dz"][j]).xreplace(one_hot)


def validate_softmax_loop(source: str) -> ValidationReport:
    """Validate a candidate ``derivreg/kernels/softmax_loop.py``: the generator's, exactly.

    Examples
    --------
    >>> from derivreg.codegen.softmax import generate_softmax_loop
    >>> bad = generate_softmax_loop().replace("W - rate", "W + rate")
    >>> validate_softmax_loop(bad)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    derivreg.validate.report.ValidationError: line 46: sgd_epoch: the operator differs: ...`
    """
    report = ValidationReport("softmax_loop")
    tree = _parse(source, "softmax_loop")
    compare(tree, ast.parse(generate_softmax_loop()), {})
    report.proven.append("the generator's module, node for node")
    return report
