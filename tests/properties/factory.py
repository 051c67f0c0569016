"""Turn one property description into tests over every registered pair.

``TestSomething = make_tests(SOMETHING)`` in a test module gives
``TestSomething::test_holds[<pair>-<variant>]`` for every pair the property
applies to (and every build of its kernel it runs on), and
``TestSomething::test_catches[<pair>-<bug>]`` for every planted bug it must
catch.  A property that cannot catch any planted bug is rejected when the
test module is imported.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager, nullcontext
from types import ModuleType
from unittest import mock

import pytest
from hypothesis import Phase, example, given, settings
from hypothesis.errors import FlakyFailure

from derivreg import _fast_loop, codegen
from derivreg.kernels import KERNELS
from derivreg.symbolic import REGISTRY, derive
from derivreg.testing._property import VARIANT_NAMES, Property
from derivreg.testing._reference import Reference, reference
from properties.planted import BUGS, update_per_sample


@functools.cache
def _small_blocks(name: str) -> ModuleType:
    """The generated kernel with 2-row blocks, so that small batches take the
    row-blocked gradient path (full and partial blocks) that large ones take,
    and the mean loss's blocks (of one product over X: 2 rows of X are past 8 bytes)."""
    module = codegen.compile(derive(name))
    module.BLOCK_BYTES, module.MIN_BLOCK_ROWS = 8, 2
    module.LOSS_BLOCK_ROWS, module.LOSS_BLOCK_BYTES = 2, 8
    return module


#: Builds of a pair's kernel: the checked-in module (with the generated per-sample
#: loop in training), the same code with tiny blocks, and the module with training's
#: per-sample epochs run through its ``update``.
VARIANTS: dict[str, Callable[[str], object]] = {
    "generated": lambda name: KERNELS[name],
    "2-row blocks": _small_blocks,
    "update per sample": lambda name: update_per_sample(KERNELS[name]),
}
assert tuple(VARIANTS) == VARIANT_NAMES


@contextmanager
def training_with(kernel: object, name: str) -> Iterator[None]:
    """Within the block, ``derivreg.train`` uses ``kernel`` as the pair's kernel: its
    functions for batches, its ``loop`` (if it has one) for per-sample epochs, which
    otherwise run the generated ``sgd_epoch`` (``loop_csr`` and ``sgd_epoch_csr``
    for a sparse X), and any training-level bug it brings (its ``patches``)."""
    patches = getattr(kernel, "patches", nullcontext)
    loop = getattr(kernel, "loop", None)
    generated_loop = _fast_loop._loop

    def loops(loss: str, csr: bool = False) -> Callable[..., float]:
        own = getattr(kernel, "loop_csr", None) if csr else loop
        return own if loss == name and own is not None else generated_loop(loss, csr)

    with (
        mock.patch.dict(KERNELS, {name: kernel}),
        mock.patch("derivreg._fast_loop._loop", side_effect=loops),
        patches(),
    ):
        yield


#: Examples per property for a pair with unbounded curvature (the log links), where the
#: active profile asks for more: CI's 20-minute budget on 2 cores, not an error analysis.
#: Their kernels are printed by the same templates as the bounded pairs' (which keep the
#: profile's 200 under ``ci``); what differs is the tolerances, whose local sups
#: (``_reference.local_sup``) are exercised at every example.
UNBOUNDED_EXAMPLES = 50


def run(prop: Property, kernel: object, ref: Reference, config: settings | None = None) -> None:
    """Run ``prop`` with Hypothesis on one kernel (the active profile's settings)."""
    unbounded = not ref.bounded_curvature and settings().max_examples > UNBOUNDED_EXAMPLES
    if config is None and unbounded:
        config = settings(max_examples=UNBOUNDED_EXAMPLES)

    @given(prop.strategy(ref))
    def holds(case: object) -> None:
        prop.check(kernel, ref, case)

    for case in reversed(prop.examples(ref)):  # the explicit phase runs them in order
        holds = example(case)(holds)
    (config(holds) if config is not None else holds)()


def catches(prop: Property, kernel: object, ref: Reference) -> None:
    """Require Hypothesis to find a counterexample to ``prop`` on a broken ``kernel``.

    Same number of examples as the active profile, derandomized (so the
    outcome never depends on Hypothesis's luck), and no shrinking (the first
    failure is enough).
    """
    config = settings(
        derandomize=True,
        database=None,
        phases=(Phase.explicit, Phase.generate),
        report_multiple_bugs=False,
        print_blob=False,
    )
    with pytest.raises((AssertionError, FlakyFailure)) as caught:
        run(prop, kernel, ref, config)
    if isinstance(caught.value, FlakyFailure):
        # A bug that is itself random (an unseeded shuffle) fails on some runs of an
        # example and not on others: still a counterexample, if only assertions failed.
        assert all(isinstance(e, AssertionError) for e in caught.value.exceptions)


def pairs(prop: Property) -> list[str]:
    return [name for name in sorted(REGISTRY) if prop.applies(reference(name))]


def planted_cases(prop: Property) -> list[tuple[str, str]]:
    cases = [
        (name, bug)
        for name in pairs(prop)
        for bug in prop.catches
        if BUGS[bug].applies(reference(name))
    ]
    if not cases:
        raise AssertionError(f"property {prop.name!r} has no planted bug to catch: a defect")
    return cases


def make_tests(prop: Property) -> type:
    """A test class for ``prop``: ``test_holds`` per pair, ``test_catches`` per planted bug."""

    def known(name: str) -> list[pytest.MarkDecorator]:
        reason = prop.known_failures.get(name)
        return [pytest.mark.xfail(strict=True, reason=reason)] if reason else []

    cases = [
        pytest.param(name, variant, marks=known(name))
        for name in pairs(prop)
        for variant in prop.variants
    ]

    @pytest.mark.parametrize(("name", "variant"), cases)
    def test_holds(self: object, name: str, variant: str) -> None:
        run(prop, VARIANTS[variant](name), reference(name))

    @pytest.mark.parametrize(("name", "bug"), planted_cases(prop))
    def test_catches(self: object, name: str, bug: str) -> None:
        ref = reference(name)
        catches(prop, BUGS[bug].build(KERNELS[name], ref), ref)

    return type(
        "Test" + "".join(word.capitalize() for word in re.findall(r"\w+", prop.name)),
        (),
        {"__doc__": prop.name, "test_holds": test_holds, "test_catches": test_catches},
    )
