"""Print a derivation's second order: per-sample curvature, batch Hessian, Hessian-vector product.

The printed expression is the derivation's ``d2J/dz2`` (one hole, the same in
every function); everything else is fixed text.  With ``X~ = [X, 1]`` (a
column of ones for the intercept) and ``c_i = d2J/dz2`` at sample ``i``, the
Hessian of the mean loss over ``theta = (w, b)`` is

    H = X~^T diag(c) X~ / m,

summed in row blocks like the gradient, so that no temporary is larger
than one block of ``X~``; the Hessian-vector product ``H v`` is
``X~^T (c * (X~ v)) / m``, without ``H``.  A penalty's Hessian (``alpha I``
on the weights) is added to ``H`` by whoever adds the penalty's gradient:
it is a constant, not a sum over rows.

Examples
--------
>>> from derivreg import derive
>>> from derivreg.codegen.kernel import generate
>>> source = generate(derive("bce"))
>>> "def curvature(" in source and "def hessian(" in source and "def hvp(" in source
True
"""

from __future__ import annotations

from typing import Any

import sympy as sp

from derivreg.codegen.domain import CHECK_BATCH
from derivreg.codegen.printers import check_names
from derivreg.codegen.rules import stabilize
from derivreg.codegen.templates import CodeBlock, Output, Printed, body, function, merge
from derivreg.symbolic import y, yhat, z

__all__ = ["dense_check", "second_order", "second_order_constants"]

_BATCH = "X: np.ndarray, y: np.ndarray, w: np.ndarray, b: float"
_HESS_SIG = f"(\n    {_BATCH}\n) -> np.ndarray"
_HVP_SIG = f"(\n    {_BATCH}, v: np.ndarray\n) -> np.ndarray"
_CHECK_V = "v = _check_direction(X, v)"
_UNCHECKED = "float64 X (m, n), y (m,), w (n,) and a float b, as the checks leave them."
_FORWARD_Z = "forward: z = X w + b, one row per sample"


def dense_check(function: str) -> str:
    """Return the batch check of a second-order ``function``: it refuses a sparse X.

    Its blocks of X~ = [X, 1] are dense arrays, so a sparse X would not fit them.

    Examples
    --------
    >>> dense_check("hessian").endswith('DOMAIN, dense="hessian")')
    True
    """
    return CHECK_BATCH.replace("DOMAIN)", f'DOMAIN, dense="{function}")')


#: Rows per block, as the gradient's: about BLOCK_BYTES of X, at least MIN_BLOCK_ROWS.
_ROWS = CodeBlock(
    "rows per block: about BLOCK_BYTES of X, at least MIN_BLOCK_ROWS",
    ["m = X.shape[0]", "rows = max(MIN_BLOCK_ROWS, BLOCK_BYTES // (8 * X.shape[1]))"],
)


def _hessian_loop() -> list[CodeBlock]:
    return [
        _ROWS,
        CodeBlock(
            "sum the blocks' X~^T diag(d2J/dz2) X~, then average over the m rows",
            [
                "H = _hessian_sums(X[:rows], y[:rows], w, b)",
                "for start in range(rows, m, rows):",
                "    stop = min(start + rows, m)",
                "    H += _hessian_sums(X[start:stop], y[start:stop], w, b)",
            ],
        ),
    ]


def _hvp_loop() -> list[CodeBlock]:
    return [
        _ROWS,
        CodeBlock(
            "sum the blocks' X~^T (d2J/dz2 * X~ v), then average over the m rows",
            [
                "Hv = _hvp_sums(X[:rows], y[:rows], w, b, v)",
                "for start in range(rows, m, rows):",
                "    stop = min(start + rows, m)",
                "    Hv += _hvp_sums(X[start:stop], y[start:stop], w, b, v)",
            ],
        ),
    ]


class _SecondOrder:
    """The curvature hole and the comments of one derivation's second-order functions."""

    def __init__(self, kernel: Any) -> None:
        d = kernel.d
        check_names(d.d2J_dz2)
        self.kernel, self.d = kernel, d
        stable, rules = stabilize(d.d2J_dz2.subs({yhat: d.activation}))
        self.curv = Output("d2J_dz2", stable, d.d2J_dz2.subs({yhat: d.activation}), rules)
        from derivreg.codegen.kernel import stable_note

        note = stable_note(stable, rules)
        note_of = stable_note
        self.comments = {
            "d2J_dz2": f"curvature: d2J/dz2 = d(dJ/dz)/dyhat * dyhat/dz = {kernel.show(d.d2J_dz2)}"
            + note
        }
        self.values = _example_values(d)
        expected = d.d2J_dz2.subs({y: yhat}).subs({yhat: d.activation})
        stable_e, rules_e = stabilize(expected)
        self.expected = Output("E_d2J_dz2", stable_e, expected, rules_e)
        self.comments["E_d2J_dz2"] = (
            "expected curvature: E[d2J/dz2] over y of mean yhat, i.e. d2J/dz2 at y = yhat "
            f"(d2J/dz2 is affine in y) = {kernel.show(d.d2J_dz2.subs({y: yhat}))}"
            + note_of(stable_e, rules_e)
        )

    def hole(self, like: str | None = None) -> list[CodeBlock]:
        """Print the curvature's line(s); in a batch function, after the z they read."""
        inputs = ("z", "y") if self.curv.stable.free_symbols else ()
        blocks = body([self.curv], self.comments, self.kernel.printer, inputs, like)
        if like is not None or not inputs:  # a constant curvature reads no z
            return blocks
        return [CodeBlock(_FORWARD_Z, ["z = X @ w + b"]), *blocks]

    def x_tilde(self) -> CodeBlock:
        # filled in place: np.column_stack's Python-level stacking cost more than its copy
        # (about 4 us of a 14 us block at 442 x 10; benchmarks/newton.py)
        return CodeBlock(
            "X~ = [X, 1]: the block's rows, and a column of ones for b",
            [
                "n = X.shape[1]",
                "Xt = np.empty((X.shape[0], n + 1))",
                "Xt[:, :n] = X",
                "Xt[:, n] = 1",
            ],
        )

    def ex(self, doc: str, call: str, value: str) -> str:
        return f"{doc}\n\n    Examples\n    --------\n    >>> {call}\n    {value}\n    "

    def curvature(self) -> Printed:
        call = "round(float(curvature(np.float64(0.1), np.float64(1.0))), 6)"
        return function(
            "curvature(z: np.ndarray, y: np.ndarray) -> np.ndarray",
            self.ex("Per-sample curvature d2J/dz2, elementwise, stable.", call, self.values[0]),
            self.hole(like="z"),
            "d2J_dz2",
        )

    def expected_curvature(self) -> Printed:
        """Print the per-sample Fisher weight: the curvature's mean over y (mean yhat)."""
        call = "round(float(expected_curvature(np.float64(0.1), np.float64(1.0))), 6)"
        value = repr(
            round(float(sp.N(self.expected.original.subs({z: sp.Rational(1, 10)}), 30)), 6)
        )
        blocks = body([self.expected], self.comments, self.kernel.printer, ("z", "y"), like="z")
        return function(
            "expected_curvature(z: np.ndarray, y: np.ndarray) -> np.ndarray",
            self.ex(
                "Expected curvature E[d2J/dz2] at yhat(z), elementwise: the Fisher weight.\n\n"
                "    ``curvature`` with y replaced by its mean yhat; the same function of z\n"
                "    where d2J/dz2 does not read y (a canonical link).  y is not read.",
                call,
                value,
            ),
            blocks,
            "E_d2J_dz2",
        )

    def hessian(self) -> list[Printed]:
        batch = "np.array([[1.0, 2.0]]), np.array([1.0]), np.array([0.5, -0.25]), 0.1"
        call = f"[round(float(v), 6) for v in hessian({batch})[-1]]"
        sums = [
            *self.hole(),
            self.x_tilde(),
            CodeBlock(
                "H = X~^T diag(d2J/dz2) X~, summed over the block's rows",
                ["H = (Xt.T * d2J_dz2) @ Xt"],
            ),
        ]
        return [
            function(
                f"hessian{_HESS_SIG}",
                self.ex(
                    "Hessian of the mean loss over (w, b), shape (n + 1, n + 1); b is last.",
                    call,
                    self.values[1],
                ),
                [CodeBlock("the unchecked kernel", ["H = _hessian(X, y, w, b)"])],
                "_checked_hessian(H, X=X, y=y, w=w)",
                [dense_check("hessian")],
            ),
            function(
                f"_hessian{_HESS_SIG}",
                f"``hessian`` without the input checks: {_UNCHECKED}\n\n"
                "    Summed block by block (see ``_hessian_sums``): no temporary is\n"
                "    larger than one block of X with a column of ones.\n    ",
                _hessian_loop(),
                "H / m",
            ),
            function(
                f"_hessian_sums{_HESS_SIG}",
                "The Hessian summed (not averaged) over the rows of one block.",
                merge(sums),
                "H",
            ),
        ]

    def hvp(self) -> list[Printed]:
        batch = "np.array([[1.0, 2.0]]), np.array([1.0]), np.array([0.5, -0.25]), 0.1"
        call = f"[round(float(t), 6) for t in hvp({batch}, np.array([1.0, 0.0, 0.0]))]"
        sums = [
            *self.hole(),
            self.x_tilde(),
            CodeBlock(
                "H v = X~^T (d2J/dz2 * X~ v), summed over the block's rows; X~ v is the\n"
                "change of z along v = (v_w, v_b)",
                ["Hv = Xt.T @ (d2J_dz2 * (Xt @ v))"],
            ),
        ]
        return [
            function(
                f"hvp{_HVP_SIG}",
                self.ex(
                    "Hessian-vector product H v of the mean loss, computed without H.\n\n"
                    "    v = (v_w, v_b) has shape (n + 1,), the intercept's entry last.",
                    call,
                    self.values[2],
                ),
                [CodeBlock("the unchecked kernel", ["Hv = _hvp(X, y, w, b, v)"])],
                "_finite(Hv, X=X, y=y, w=w, v=v)",
                [dense_check("hvp"), _CHECK_V],
            ),
            function(
                f"_hvp{_HVP_SIG}",
                f"``hvp`` without the input checks: {_UNCHECKED}",
                _hvp_loop(),
                "Hv / m",
            ),
            function(
                f"_hvp_sums{_HVP_SIG}",
                "The Hessian-vector product summed (not averaged) over one block.",
                merge(sums),
                "Hv",
            ),
        ]


def _example_values(d: Any) -> tuple[str, str, str]:
    """Return the doctests' values, from the derivation in exact arithmetic (6 decimals).

    The point is :data:`~derivreg.codegen.examples.EXAMPLE`'s: x = (1, 2),
    y = 1, w = (0.5, -0.25), b = 0.1, so z = 0.1 and X~ = (1, 2, 1).
    """
    score = sp.Rational(1, 10)
    c = d.d2J_dz2.subs({yhat: d.activation}).subs({z: score, y: 1})

    def show(values: list[sp.Expr]) -> str:
        return f"[{', '.join(repr(round(float(sp.N(v, 30)), 6)) for v in values)}]"

    return repr(round(float(sp.N(c, 30)), 6)), show([c, 2 * c, c]), show([c, 2 * c, c])


def second_order(kernel: Any) -> list[Printed]:
    """Print ``curvature``, ``hessian`` and ``hvp`` (and their unchecked kernels).

    ``kernel`` is :mod:`derivreg.codegen.kernel`'s printing context of one
    derivation (its printer, renderer and derivation).

    Examples
    --------
    >>> from derivreg import derive
    >>> from derivreg.codegen.kernel import _Kernel
    >>> [p.source.split("(")[0] for p in second_order(_Kernel(derive("mse")))][:3]
    ['def curvature', 'def expected_curvature', 'def hessian']
    """
    s = _SecondOrder(kernel)
    expected = [s.expected_curvature()] if has_expected_curvature(kernel.d) else []
    return [s.curvature(), *expected, *s.hessian(), *s.hvp()]


def has_expected_curvature(d: Any) -> bool:
    """Whether d2J/dz2 at y = yhat is the curvature's mean over y of mean yhat.

    It is where d2J/dz2 is affine in y and dJ/dz is 0 at y = yhat (the
    exponential families' losses).  A loss that is neither (log-cosh: its
    curvature 1/cosh^2(z - y) is not affine in y) gets no
    ``expected_curvature``, and inference uses the observed information.

    Examples
    --------
    >>> from derivreg import derive
    >>> has_expected_curvature(derive("gamma"))
    True
    """
    affine = sp.simplify(sp.diff(d.d2J_dz2, y, 2)) == 0
    return bool(affine and sp.simplify(d.dJ_dz.subs(y, yhat)) == 0)


def second_order_constants(d: Any) -> list[str]:
    """Return the module constant saying whether the curvature reads y.

    Where it does not, the observed information (the Hessian) is the
    expected (Fisher) information, and the solvers' Hessian serves both.

    Examples
    --------
    >>> from derivreg import derive
    >>> second_order_constants(derive("gamma"))[-1]
    'CURVATURE_READS_Y = True'
    """
    reads = y in d.d2J_dz2.free_symbols
    return [
        "",
        "#: Whether d2J/dz2 reads y: where it does not, the Hessian of the mean loss is",
        "#: also the expected (Fisher) information per sample, and expected_curvature",
        "#: equals curvature.",
        f"CURVATURE_READS_Y = {reads!r}",
    ]
