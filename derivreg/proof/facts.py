"""The one reviewed table of facts a step may cite instead of a symbolic check.

A cited step is still witnessed numerically over the whole domain, its ends
included (:mod:`derivreg.proof.witness`); what it skips is SymPy's check.
Only the entries below may be cited, each with its exact name, so a new
entry is a reviewed change to this file.  ``derivreg verify`` lists every
theorem that rests on one.

=============================================  =================================
name                                           what it says
=============================================  =================================
Taylor's theorem with the Lagrange remainder   f(a + h) = f(a) + f'(a) h + f''(c) h²/2
                                               for some c between a and a + h;
                                               so f'' <= M gives f(a + h) <=
                                               f(a) + f'(a) h + M h²/2
=============================================  =================================
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["CITED", "Fact", "fact"]


@dataclass(frozen=True)
class Fact:
    """A standard theorem a step may cite: its name, statement and a reference.

    Examples
    --------
    >>> CITED["Taylor's theorem with the Lagrange remainder"].reference
    'W. Rudin, Principles of Mathematical Analysis, 3rd ed., Theorem 5.15'
    """

    name: str
    statement: str
    reference: str


CITED: dict[str, Fact] = {
    f.name: f
    for f in (
        Fact(
            "Taylor's theorem with the Lagrange remainder",
            "for f twice differentiable on [a, a + h]: f(a + h) = f(a) + f'(a) h + f''(c) h²/2 "
            "for some c between a and a + h; hence f'' <= M on it gives "
            "f(a + h) <= f(a) + f'(a) h + M h²/2",
            "W. Rudin, Principles of Mathematical Analysis, 3rd ed., Theorem 5.15",
        ),
    )
}


def fact(name: str) -> Fact:
    """Return the table's entry called ``name``; raise ``KeyError`` naming the table if none.

    Examples
    --------
    >>> fact("it is obvious")
    Traceback (most recent call last):
    ...
    KeyError: "uncited fact: 'it is obvious' is not in derivreg.proof.facts.CITED"
    """
    if name not in CITED:
        raise KeyError(f"uncited fact: {name!r} is not in derivreg.proof.facts.CITED")
    return CITED[name]
