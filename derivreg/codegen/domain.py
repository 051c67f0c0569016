"""Print a pair's label domain (a SymPy set) as the kernels' label check.

The check is not typed per pair: the set's bounds become SymPy relations on
``min(y)`` and ``max(y)``, and the generator's own printer prints them.  An
unbounded side gives no relation (the labels are already known finite).

Examples
--------
>>> import sympy as sp
>>> lines = domain_lines(sp.Interval.open(0, sp.oo))
>>> lines[1], lines[-1]
("DOMAIN = '(0, oo)'", '    return bool(np.min(y) > 0)')
"""

from __future__ import annotations

import sympy as sp

from derivreg.codegen.printers import KernelPrinter, comment

__all__ = ["CHECK_BATCH", "domain_conditions", "domain_lines", "domain_text"]

#: The batch check every checked kernel opens with: shapes, finiteness and the labels' domain.
CHECK_BATCH = "X, y, w, b = _check_batch(X, y, w, b, NAME, _in_domain, DOMAIN)"

_Y_MIN, _Y_MAX = sp.Symbol("y_min", real=True), sp.Symbol("y_max", real=True)
_CALLS = {"y_min": "np.min(y)", "y_max": "np.max(y)"}


def _interval(domain: sp.Set) -> sp.Interval:
    """Return ``domain`` as an interval of the reals, or raise ValueError."""
    if not isinstance(domain, sp.Interval):
        raise ValueError(f"a pair's domain must be an interval of the reals, got {domain}")
    return domain


def domain_conditions(domain: sp.Set) -> list[sp.core.relational.Relational]:
    """Return the relations on ``y_min``/``y_max`` that hold iff every label is in ``domain``.

    Examples
    --------
    >>> domain_conditions(sp.Interval(0, 1))
    [y_min >= 0, y_max <= 1]
    >>> domain_conditions(sp.S.Reals)
    []
    """
    d = _interval(domain)
    out: list[sp.core.relational.Relational] = []
    if d.inf.is_finite:
        out.append(sp.StrictGreaterThan(_Y_MIN, d.inf) if d.left_open else sp.Ge(_Y_MIN, d.inf))
    if d.sup.is_finite:
        out.append(sp.StrictLessThan(_Y_MAX, d.sup) if d.right_open else sp.Le(_Y_MAX, d.sup))
    return out


def domain_text(domain: sp.Set) -> str:
    """Return the domain in interval notation, for error messages.

    Examples
    --------
    >>> domain_text(sp.Interval(0, sp.oo)), domain_text(sp.S.Reals)
    ('[0, oo)', '(-oo, oo)')
    """
    d = _interval(domain)
    left = "(" if d.left_open or not d.inf.is_finite else "["
    right = ")" if d.right_open or not d.sup.is_finite else "]"
    return f"{left}{d.inf}, {d.sup}{right}"


def domain_lines(domain: sp.Set) -> list[str]:
    """Return the module's ``DOMAIN`` constant and ``_in_domain`` check, printed from ``domain``.

    Examples
    --------
    >>> domain_lines(sp.S.Reals)[-1]
    '    return True'
    """
    printer = KernelPrinter({"fully_qualified_modules": True, "allow_unknown_functions": False})
    parts = []
    for relation in domain_conditions(domain):
        printed = printer.doprint(relation)
        for name, call in _CALLS.items():
            printed = printed.replace(name, call)
        parts.append(printed.removeprefix("(").removesuffix(")"))
    test = f"bool({' and '.join(parts)})" if parts else "True"
    return [
        f"#: The labels' domain, printed from the pair's SymPy set {comment(str(domain))}.",
        f"DOMAIN = {domain_text(domain)!r}",
        "",
        "",
        "def _in_domain(y: np.ndarray) -> bool:",  # pyproject: ARG001 is off in the kernels
        '    """Whether every (finite) label lies in DOMAIN."""',
        f"    return {test}",
    ]
