"""``check_kernels``: every property of the suite, on one module and its pair."""

from __future__ import annotations

import math
from collections.abc import Sequence

from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import HypothesisException

from derivreg.symbolic import Pair, derive
from derivreg.testing import _accuracy as accuracy
from derivreg.testing import _bad_input as bad_input
from derivreg.testing import _invariants as invariants
from derivreg.testing._property import Property
from derivreg.testing._reference import Reference, reference

__all__ = ["PROPERTIES", "KernelCheckError", "check_kernels"]

#: Every property :func:`check_kernels` runs, in order; each says for which pairs
#: it is stated (``applies``).
PROPERTIES: tuple[Property, ...] = (
    accuracy.FINITE_DIFFERENCES,
    accuracy.HIGH_PRECISION,
    accuracy.CHAIN_PRODUCT,
    accuracy.CLAIMS,
    accuracy.GRAD_IS_MEAN,
    accuracy.STABILITY,
    invariants.CONTRACTION,
    invariants.TIGHTNESS,
    invariants.PERMUTATION,
    invariants.INPUTS_UNTOUCHED,
    invariants.SAME_AS_GENERATED,
    *bad_input.KERNEL_PROPERTIES,
)

#: What a module must have for the properties to call it.
_FUNCTIONS = ("predict", "losses", "loss", "grad", "update", "dJ_dyhat", "dyhat_dz", "dJ_dz")

NOT_STATED = "not stated for this pair"


class KernelCheckError(AssertionError):
    """A kernel module failed :func:`check_kernels`; the message lists every failure.

    Attributes
    ----------
    failures : dict
        Property name -> what went wrong (the counterexample's message).
    """

    def __init__(self, name: str, failures: dict[str, str]) -> None:
        self.failures = failures
        lines = [f"the kernels of {name!r} fail {len(failures)} check(s):"]
        lines += [f"- {prop}: {why}" for prop, why in failures.items()]
        super().__init__("\n".join(lines))


def _constants(module: object, pair: Pair) -> dict[str, str]:
    """Compare the module's generated constants with the pair's derivation."""
    failures = {}
    missing = [
        f for f in ("NAME", "TARGETS", "STEP_SIZE_NUMERATOR", *_FUNCTIONS) if not hasattr(module, f)
    ]
    if missing:
        return {"the module is a kernel module": f"it has no {', '.join(missing)}"}
    d = derive(pair)
    want = {
        "NAME": pair.name,
        "TARGETS": pair.targets,
        "STEP_SIZE_NUMERATOR": float(d.step_size_numerator),
    }
    for constant, value in want.items():
        got = getattr(module, constant)
        if got != value:
            failures[f"{constant} is the derivation's"] = f"{got!r}, the derivation says {value!r}"
    return failures


def _run(prop: Property, module: object, ref: Reference, config: settings) -> str | None:
    """Run one property; return None if it holds, else the failure's message."""

    @config
    @given(prop.strategy(ref))
    def holds(case: object) -> None:
        prop.check(module, ref, case)

    try:
        holds()
    except (AssertionError, HypothesisException, ArithmeticError, ValueError) as err:
        text = str(err).strip().splitlines()
        return f"{type(err).__name__}: {text[0] if text else ''}"
    return None


def check_kernels(
    module: object,
    pair: Pair,
    *,
    max_examples: int = 100,
    properties: Sequence[Property] = PROPERTIES,
) -> dict[str, str]:
    """Check a kernel module against its pair with every property of the suite.

    Parameters
    ----------
    module : module
        A kernel module: one of :data:`derivreg.kernels.KERNELS`, or one that
        :func:`derivreg.codegen.write` printed for ``pair`` and that was then
        imported (any object with the module's functions and constants).
    pair : Pair
        The :class:`~derivreg.symbolic.Pair` it was generated from: the
        references are derived from it, never from the module.
    max_examples : int, default 100
        Hypothesis examples per property (derandomized: the same examples on
        every run, so a pass or a failure is reproducible).
    properties : sequence of Property, default :data:`PROPERTIES`
        Which properties to run.

    Returns
    -------
    dict
        Property name -> ``"passed"`` or ``"not stated for this pair"`` (e.g.
        the contraction of an SGD step for a non-convex loss).

    Raises
    ------
    KernelCheckError
        If a constant differs from the derivation's or a property fails; the
        message names each failed property and its counterexample.
    TypeError
        If ``pair`` is not a Pair.

    Examples
    --------
    >>> from derivreg.kernels import KERNELS
    >>> from derivreg.symbolic import REGISTRY
    >>> check_kernels(KERNELS["bce"], REGISTRY["mse"], max_examples=5)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    derivreg.testing._check.KernelCheckError: the kernels of 'mse' fail ... check(s):
    - NAME is the derivation's: 'bce', the derivation says 'mse'
    ...
    """
    if not isinstance(pair, Pair):
        raise TypeError(f"check_kernels takes the Pair the module was generated from, got {pair!r}")
    if not (isinstance(max_examples, int) and 1 <= max_examples < math.inf):
        raise ValueError(f"max_examples must be a positive int, got {max_examples!r}")
    failures = _constants(module, pair)
    if failures:
        raise KernelCheckError(pair.name, failures)
    ref = reference(pair)
    config = settings(
        max_examples=max_examples,
        derandomize=True,
        database=None,
        deadline=None,
        phases=(Phase.explicit, Phase.generate),
        report_multiple_bugs=False,
        print_blob=False,
        suppress_health_check=[HealthCheck.too_slow],
    )
    report = {}
    for prop in properties:
        if not prop.applies(ref):
            report[prop.name] = NOT_STATED
            continue
        why = _run(prop, module, ref, config)
        if why is None:
            report[prop.name] = "passed"
        else:
            failures[prop.name] = why
    if failures:
        raise KernelCheckError(pair.name, failures)
    return report
