"""The witness's points do not depend on the precision other code left mpmath at."""

import mpmath as mp
import numpy as np
import sympy as sp

from derivreg.proof import Theorem
from derivreg.proof.sampling import witness_points


def _points(dps: int) -> list[str]:
    x = sp.Symbol("x", positive=True)
    with mp.workdps(dps):
        pts = witness_points(Theorem("demo", ""), [1 / x], 2, np.random.default_rng(0))
        return [mp.nstr(p[x], 6) for p in pts]


def test_edges_are_the_same_at_every_working_precision():
    # Seen under xdist: a test module that set mp.dps = 60 made the open end
    # 0 + tiny differ from tiny in its last bits, so 1e-30 was listed twice.
    expected = _points(15)
    assert expected[:4] == ["1.0e-30", "1.0e+30", "1.0", "0.5"]
    for dps in (10, 30, 60, 100):
        assert _points(dps) == expected
