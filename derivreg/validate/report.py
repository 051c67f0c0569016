"""What a validation proved, and the error it raises when something differs.

Examples
--------
>>> ValidationReport("mse").ok
True
"""

from __future__ import annotations

from dataclasses import dataclass, field

__all__ = ["ValidationError", "ValidationReport"]


class ValidationError(AssertionError):
    """A generated module does not compute what its derivation says.

    Examples
    --------
    >>> ValidationError("grad: component 0 differs").args[0]
    'grad: component 0 differs'
    """


@dataclass
class ValidationReport:
    """What :func:`~derivreg.validate.validate` proved.

    Attributes
    ----------
    name : str
        The derivation's name.
    proven : list of str
        One entry per fact proven, e.g. ``"grad[0]"`` or ``"hole dJ_dz (line 40)"``.
    failures : list of str
        What could not be proven, with the reason.
    rules : list of str
        The theorems of ``proofs/stability.py`` the holes' proofs rest on.

    Examples
    --------
    >>> ValidationReport("mse", failures=["x"]).ok
    False
    """

    name: str
    proven: list[str] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)
    rules: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """Whether every output was proven equal to the derivation."""
        return not self.failures

    def summary(self) -> str:
        """Say in one line what was proven, grouped (the full list is :attr:`proven`).

        Examples
        --------
        >>> ValidationReport("mse", proven=["skeleton", "hole f.J", "grad[0]"]).summary()
        'skeleton; 1 hole proven over the reals; 1 output of the fixed code'
        """
        holes = [p for p in self.proven if p.startswith("hole ")]
        lemmas = [p for p in self.proven if p.startswith("derivation: ")]
        checks = [p for p in self.proven if p.startswith("_") and p.isidentifier()]
        rest = [p for p in self.proven if p not in {*holes, *lemmas, *checks, "skeleton"}]
        parts = ["skeleton"] if "skeleton" in self.proven else []
        if checks:
            parts.append(f"{len(checks)} input checks")
        if holes:
            rules = f" (rewrites: {', '.join(self.rules)})" if self.rules else ""
            parts.append(f"{len(holes)} hole{'s' * (len(holes) > 1)} proven over the reals{rules}")
        if lemmas:
            parts.append(f"{len(lemmas)} identities of the derivation")
        if rest:
            parts.append(f"{len(rest)} output{'s' * (len(rest) > 1)} of the fixed code")
        return "; ".join(parts)

    def raise_if_failed(self, what: str) -> ValidationReport:
        """Raise :class:`ValidationError` listing the failures, else return ``self``."""
        if self.failures:
            raise ValidationError(
                f"{self.name}: {what} differs from derivreg.derive({self.name!r}):\n  "
                + "\n  ".join(self.failures)
            )
        return self
