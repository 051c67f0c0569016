"""Hypothesis properties of the generated kernels and of training, over the whole registry.

Every property is written once, as a check ``check(kernel, ref, case)`` plus a
strategy for ``case``, and :mod:`properties.factory` turns it into tests:

- ``test_holds[<pair>]`` runs it with Hypothesis on the kernel of every pair in
  :data:`derivreg.symbolic.REGISTRY`;
- ``test_catches[<pair>-<bug>]`` runs it on a deliberately broken kernel from
  :mod:`properties.planted` and requires Hypothesis to find a counterexample.

A new pair in the registry is checked by every property with no new test code:
the references (:mod:`derivreg.testing._reference`) and the planted bugs are built from
its derivation.
"""
