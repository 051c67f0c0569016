"""Validate ``derivreg/kernels/_checks.py``: the generator's input checks, node for node.

Examples
--------
>>> from derivreg.codegen import checks_source
>>> validate_checks(checks_source()).ok
True
"""

from __future__ import annotations

import ast

from derivreg.codegen.checks import checks_source
from derivreg.codegen.files import kernel_dir
from derivreg.validate.report import ValidationError, ValidationReport
from derivreg.validate.skeleton import compare

__all__ = ["validate_checks"]


def validate_checks(source: str | None = None) -> ValidationReport:
    """Require the input checks to be the generator's own, unchanged (no holes).

    Parameters
    ----------
    source : str, optional
        The module's text; by default the checked-in ``_checks.py``.

    Raises
    ------
    ValidationError
        At the first difference, naming the line and what differs.
    """
    report = ValidationReport("_checks")
    if source is None:
        path = kernel_dir() / "_checks.py"
        if not path.exists():
            raise ValidationError(f"_checks: {path} is missing; run `derivreg generate`")
        source = path.read_text(encoding="utf-8")
    try:
        tree = ast.parse(source)
    except SyntaxError as err:
        raise ValidationError(f"_checks: not Python: {err}") from None
    try:
        compare(tree, ast.parse(checks_source()), {})
    except ValidationError as err:
        raise ValidationError(f"_checks: input checks differ from the generator's: {err}") from None
    report.proven += [f.name for f in tree.body if isinstance(f, ast.FunctionDef)]
    return report
