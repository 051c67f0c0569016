"""Family 10: the generated kernels compute their derivations.

* ``kernels.rewrites_are_proven``: every stable rewrite the generator
  applies (``derivreg.codegen.RULES``) and every printed form of its stable
  functions (``EXPANSIONS``, and the sigmoid's ``FORMS``) is an instance of the theorem of
  ``proofs/stability.py`` it cites: the rewrite's output is reached from
  its input by that theorem, checked as a proof step.
* ``kernels.<name>_equals_derivation``, one per registered pair, about the
  checked-in ``derivreg/kernels/<name>.py``: it is byte-identical to a
  fresh generation; the translation validator ``derivreg.codegen.validate``
  parses it back into SymPy and proves every output equal to
  ``derive(name)`` (symbolically with a sign split, plus its own 50-digit
  witness); and, as an independent numeric witness, the imported kernel
  agrees in float64 with the derivation evaluated by mpmath at 50 digits on
  seeded random batches.
* ``kernels.softmax_equals_derivation``: the vector-output kernels
  ``derivreg/kernels/softmax.py`` and ``softmax_loop.py`` pass
  ``derivreg.validate.softmax`` (every hole proven in every case of the row
  maximum and the label; the rest the generator's, node for node).

Tolerance of the float64 witness: each output is a mean of m = 4 rows, each
row a few dozen float64 operations on values of size at most about 30
(inputs below 3 in magnitude, n = 3); the rounding error is at most about
100 units of 2^-53 relative to the sum of the magnitudes of the terms, far
below the 1e-11 allowed; a wrong formula is off by O(1).

Run ``python proofs/kernels.py`` to check and print the proofs.
"""

import ast
import difflib
import importlib
import random
from pathlib import Path

import mpmath as mp
import numpy as np
import sympy as sp

from derivreg import codegen
from derivreg.proof import Theorem, load, main
from derivreg.proof.witness import value
from derivreg.symbolic import REGISTRY, derive, y, z

common = load("_common")
stability = load("stability")
sigma, softplus, t = common.sigma, common.softplus, common.t
logcosh = stability.logcosh
DEFS = {**common.DEFS, **stability.DEFS_LOG_COSH}
DEFS_CODEGEN = {
    codegen.Sigmoid: common.DEFS[sigma],
    codegen.Softplus: common.DEFS[softplus],
    codegen.LogCosh: stability.DEFS_LOG_COSH[logcosh],
}


def to_codegen(expr: sp.Basic) -> sp.Basic:
    out = expr.replace(sigma, codegen.Sigmoid).replace(softplus, codegen.Softplus)
    return out.replace(logcosh, codegen.LogCosh)


def from_codegen(expr: sp.Basic) -> sp.Basic:
    out = expr.replace(codegen.Sigmoid, sigma).replace(codegen.Softplus, softplus)
    return out.replace(codegen.LogCosh, logcosh)


def _unproven(name: str, theorem: str):
    def run() -> str:
        raise AssertionError(f"rule {name!r} cites {theorem!r}, which is not in stability.REWRITES")

    return run


def _no_instance(name: str, theorem: str):
    def run() -> str:
        raise AssertionError(f"rule {name!r} rewrites no member of theorem {theorem!r}")

    return run


REWRITES = Theorem(
    "kernels.rewrites_are_proven",
    "each rewrite the generator applies, and each printed form of its stable functions, "
    "is an instance of the stability theorem it cites",
    where={y: sp.Interval(0, 1)},
    defs=DEFS,
)
for rule in codegen.RULES:
    theorem = stability.REWRITES.get(rule.theorem)
    if theorem is None:
        REWRITES.external(
            f"rule {rule.name}", "cited theorem exists", _unproven(rule.name, rule.theorem)
        )
        continue
    found = False
    for members in theorem.equalities():
        for member in members:
            out = rule.apply(to_codegen(member))
            if out is None:
                continue
            found = True
            REWRITES.start(member, f"what rule {rule.name!r} matches").eq(
                from_codegen(out),
                f"what it writes; equal by stability.{rule.theorem}",
                by=(theorem, {}),
            )
    if not found:
        REWRITES.external(
            f"rule {rule.name}", "matches its theorem", _no_instance(rule.name, rule.theorem)
        )
for kind, name in codegen.EXPANSIONS.items():
    theorem = stability.REWRITES[name]
    REWRITES.start(from_codegen(kind(t)), f"the stable function {kind.__name__}").eq(
        from_codegen(kind(t).stable()),
        f"the form it prints; equal by stability.{name}",
        by=(theorem, {}),
    )
for form, name in codegen.FORMS.items():  # the sigmoid's other printed forms
    if name == codegen.EXPANSIONS[codegen.Sigmoid]:
        continue
    REWRITES.start(from_codegen(codegen.Sigmoid(t)), f"the sigmoid, printed {form!r}").eq(
        from_codegen(codegen.Sigmoid(t).stable(form)),
        f"its {form} form; equal by stability.{name}",
        by=(stability.REWRITES[name], {}),
    )


def _function_at(source: str, line: int) -> str:
    """The innermost function (or class) of ``source`` around ``line``, or "module level"."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return "a file that does not parse"
    found = "module level"
    for node in ast.walk(tree):
        inside = getattr(node, "lineno", 0) <= line <= (getattr(node, "end_lineno", 0) or 0)
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef) and inside:
            found = f"function {node.name}" if not isinstance(node, ast.ClassDef) else node.name
    return found


def first_difference(path: Path, source: str, fresh: str) -> str:
    """Where ``source`` first differs from ``fresh``: line, function, both texts."""
    have, want = source.splitlines(), fresh.splitlines()
    matcher = difflib.SequenceMatcher(a=want, b=have, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            continue
        line = j1 + 1
        got = " / ".join(h.strip() for h in have[j1:j2]) or "(nothing)"
        wanted = " / ".join(w.strip() for w in want[i1:i2]) or "(nothing)"
        return (
            f"{path.name} line {line}, in {_function_at(source, line)}: has `{got}`, "
            f"a fresh generation writes `{wanted}`"
        )
    return f"{path.name} differs from a fresh generation only in line endings"


def _fresh(name: str):
    def run() -> str:
        path = codegen.KERNEL_DIR / f"{name}.py"
        fresh = codegen.sources()[path]
        source = path.read_text(encoding="utf-8")
        if source != fresh:
            raise AssertionError(
                first_difference(path, source, fresh) + "; run `derivreg generate`"
            )
        return f"{path.name} is byte-identical to generate(derive({name!r}))"

    return run


def _validated(name: str):
    def run() -> str:
        source = (codegen.KERNEL_DIR / f"{name}.py").read_text(encoding="utf-8")
        report = codegen.validate(source, derive(REGISTRY[name]))
        if not report.ok:  # validate raises first; kept for a validator that only reports
            raise AssertionError("; ".join(report.failures))
        return f"derivreg.codegen.validate proved {len(report.proven)} outputs: " + ", ".join(
            report.proven
        )

    return run


def _witness(name: str, batches: int = 6, m: int = 4, n: int = 3):
    def run() -> str:
        d = derive(REGISTRY[name])
        kernel = importlib.import_module(f"derivreg.kernels.{name}")
        loss_expr, dJ_dz_expr = d.yhat_of_z(d.loss), d.yhat_of_z(d.dJ_dz)

        def loss(zi: object, yi: object) -> object:
            return value(loss_expr, {z: zi, y: yi})

        def dJ_dz(zi: object, yi: object) -> object:
            return value(dJ_dz_expr, {z: zi, y: yi})

        rng = random.Random(f"kernels.{name}")
        worst = 0.0
        for _ in range(batches):
            X = np.array([[rng.uniform(-3, 3) for _ in range(n)] for _ in range(m)])
            w = np.array([rng.uniform(-3, 3) for _ in range(n)])
            b, lr = rng.uniform(-3, 3), rng.uniform(0.01, 0.5)
            if REGISTRY[name].targets == "binary":
                labels = np.array([float(rng.random() < 0.5) for _ in range(m)])
            elif REGISTRY[name].domain.inf.is_finite:  # counts, positive reals: (0, 3]
                labels = np.array([3.0 - rng.uniform(0, 3) for _ in range(m)])
            else:
                labels = np.array([rng.uniform(-3, 3) for _ in range(m)])
            with mp.workdps(50):
                zs = [
                    mp.fsum(mp.mpf(X[i, j]) * mp.mpf(w[j]) for j in range(n)) + mp.mpf(b)
                    for i in range(m)
                ]
                ls = [loss(zs[i], mp.mpf(labels[i])) for i in range(m)]
                rs = [dJ_dz(zs[i], mp.mpf(labels[i])) for i in range(m)]
                grad_w = [mp.fsum(rs[i] * mp.mpf(X[i, j]) for i in range(m)) / m for j in range(n)]
                grad_b = mp.fsum(rs) / m
                expected = {
                    "losses": (ls, list(kernel.losses(X, labels, w, b))),
                    "loss": ([mp.fsum(ls) / m], [kernel.loss(X, labels, w, b)]),
                    "grad": (
                        [*grad_w, grad_b],
                        [*kernel.grad(X, labels, w, b)[0], kernel.grad(X, labels, w, b)[1]],
                    ),
                    "update": (
                        [mp.mpf(w[j]) - mp.mpf(lr) * grad_w[j] for j in range(n)]
                        + [mp.mpf(b) - mp.mpf(lr) * grad_b],
                        [
                            *kernel.update(X, labels, w, b, lr)[0],
                            kernel.update(X, labels, w, b, lr)[1],
                        ],
                    ),
                }
                for output, (want, got) in expected.items():
                    for k, (a, g) in enumerate(zip(want, got, strict=True)):
                        error = abs(a - mp.mpf(float(g))) / (1 + abs(a))
                        worst = max(worst, float(error))
                        if error > mp.mpf("1e-11"):
                            wanted = mp.nstr(a, 17)
                            raise AssertionError(
                                f"{name}.{output}[{k}] = {g!r}, the derivation gives {wanted}"
                            )
        return (
            f"float64 {name} kernel = derivation at 50 digits on {batches} random {m} x {n} "
            f"batches (largest relative error {worst:.1e}, allowed 1e-11)"
        )

    return run


def kernel_theorem(name: str) -> Theorem:
    return (
        Theorem(
            f"kernels.{name}_equals_derivation",
            f"derivreg/kernels/{name}.py computes derive({name!r}): predict, losses, loss, grad, "
            "update and the chain factors",
        )
        .external(
            f"derivreg/kernels/{name}.py = generate(derive({name!r}))",
            "generate --check",
            _fresh(name),
        )
        .external(
            f"every output of derivreg/kernels/{name}.py = derive({name!r})",
            "translation validation",
            _validated(name),
        )
        .external(
            f"derivreg.kernels.{name} agrees numerically with derive({name!r})",
            "numeric witness",
            _witness(name),
        )
    )


def _softmax_validated() -> str:
    """Validate the softmax kernels (not a registered pair: a template of their own)."""
    from derivreg.validate.softmax import validate_softmax, validate_softmax_loop

    batch = (codegen.KERNEL_DIR / "softmax.py").read_text(encoding="utf-8")
    loop = (codegen.KERNEL_DIR / "softmax_loop.py").read_text(encoding="utf-8")
    report = validate_softmax(batch)
    if not report.ok:
        raise AssertionError("softmax.py: " + "; ".join(report.failures))
    validate_softmax_loop(loop)  # raises where it differs from the generator's
    return (
        f"derivreg.validate.softmax proved {len(report.proven)} holes of softmax.py "
        "(softmax_loop.py: the generator's, node for node)"
    )


SOFTMAX = Theorem(
    "kernels.softmax_equals_derivation",
    "derivreg/kernels/softmax.py and softmax_loop.py compute derive_softmax(): every hole "
    "proven, everything else the generator's",
).external(
    "every hole of derivreg/kernels/softmax.py = derive_softmax()",
    "translation validation",
    _softmax_validated,
)

THEOREMS = [REWRITES, *[kernel_theorem(name) for name in sorted(REGISTRY)], SOFTMAX]

if __name__ == "__main__":
    raise SystemExit(main(THEOREMS))
