"""proofs/hessian.py: generic over the registry, and able to fail."""

import importlib.util

import pytest
import sympy as sp

from derivreg.proof import ProofError, Theorem
from derivreg.symbolic import GAMMA, POISSON, REGISTRY, derive


def load_hessian_proofs():
    spec = importlib.util.spec_from_file_location("hessian_proofs", "proofs/hessian.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_every_registered_pair_proven_convex_gets_both_theorems_and_they_check():
    # Poisson and Gamma (y > 0: y/yhat > 0) are in the registry (registered on main, or
    # here if not); the proofs iterate the registry and name no pair.
    missing = [p for p in (POISSON, GAMMA) if p.name not in REGISTRY]
    with REGISTRY.temporarily(*missing):
        module = load_hessian_proofs()
        names = {t.name for t in module.THEOREMS}
        for name in REGISTRY:
            assert derive(name, features=1).convex_in_z
            assert {f"hessian.{name}_curvature", f"hessian.{name}_psd[m=2, n=2]"} <= names
        for theorem in module.THEOREMS:
            theorem.check()


def test_a_curvature_of_the_wrong_sign_is_refused():
    module = load_hessian_proofs()
    c, _, label = module.curvature_of_z("bce")
    wrong = Theorem("planted.negative_curvature", "-d2J/dz2 >= 0", where={label: sp.Interval(0, 1)})
    wrong.start(-c, "the curvature negated").ge(0, "planted")
    with pytest.raises(ProofError):
        wrong.check()
