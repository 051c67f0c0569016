"""Calculational proofs, checked by SymPy and again by mpmath, sound for what they state.

A :class:`Theorem` has a name, a prose summary, a **statement** (SymPy
relations over a domain: the symbols' assumptions narrowed by ``where``)
and one or more chains ``e0 R1 e1 R2 e2 ...`` whose relations ``R`` are
``=``, ``≤``, ``<``, ``≥`` or ``>``; it may also state standalone claims
(``a R b``, including ``≠``) and solution sets (``{v : relation} = S``).
The checker (:mod:`derivreg.proof.checker`) refuses a theorem, naming the
gap, unless

* every step holds **symbolically** (the difference of the evaluated sides
  simplifies to 0, or has the right sign, possibly after a certificate, in
  each of its :class:`Case` s) or cites an entry of the one reviewed table
  :data:`derivreg.proof.facts.CITED`;
* a step's cases **cover** the domain of the symbols they split (the union
  of the cases' value sets equals the domain; :func:`sign_cases` gives
  ``> 0``, ``< 0``, ``= 0``);
* no denominator of a step vanishes inside the domain (a **singular
  point**), unless the step declares the factor ``nonzero=``;
* every step holds **numerically** (:mod:`derivreg.proof.witness`) at the
  edges of the domain (closed ends, just inside open ones, 0, ±1e-30,
  ±1, ±huge) and at seeded random points, to :data:`TOLERANCE` at
  :data:`DIGITS` digits;
* no step prints the same as the line before it, unless marked
  ``restate=True``;
* every relation of the statement is concluded by a chain or a claim.

Steps are kept as written (``sp.Mul(a, b, evaluate=False)``,
``sp.UnevaluatedExpr``) and printed so by :mod:`derivreg.rendering`; the
checks use their evaluated forms.  A theorem is built from SymPy objects
only: a string is refused, never parsed.

Examples
--------
>>> import sympy as sp
>>> z = sp.Symbol("z", real=True)
>>> sigma = 1 / (1 + sp.exp(-z))
>>> claim = sp.Eq(1 - sigma, 1 / (1 + sp.exp(z)), evaluate=False)  # else SymPy says True
>>> t = (
...     Theorem("demo.complement", "1 - σ(z) = σ(-z)", statement=claim)
...     .start(1 - sigma)
...     .eq(sp.exp(-z) / (1 + sp.exp(-z)), "common denominator")
...     .eq(1 / (1 + sp.exp(z)), "multiply by exp(z)/exp(z)")
...     .check()
... )
>>> t.conclusions[0]
(1 - 1/(1 + exp(-z)), '=', 1/(exp(z) + 1))
>>> print(t.results[1])
checked: simplifies to 0; numeric at 16 points
"""

from derivreg.proof._base import DIGITS as DIGITS
from derivreg.proof._base import TOLERANCE as TOLERANCE
from derivreg.proof._base import Case as Case
from derivreg.proof._base import ProofError as ProofError
from derivreg.proof._base import sign_cases as sign_cases
from derivreg.proof.facts import CITED as CITED
from derivreg.proof.runner import PROOFS_DIR as PROOFS_DIR
from derivreg.proof.runner import explicit as explicit
from derivreg.proof.runner import families as families
from derivreg.proof.runner import load as load
from derivreg.proof.runner import main as main
from derivreg.proof.runner import verify as verify
from derivreg.proof.theorem import Theorem as Theorem

__all__ = [
    "CITED",
    "DIGITS",
    "PROOFS_DIR",
    "TOLERANCE",
    "Case",
    "ProofError",
    "Theorem",
    "explicit",
    "families",
    "load",
    "main",
    "sign_cases",
    "verify",
]
