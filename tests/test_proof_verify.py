"""A failing ``derivreg verify`` names the function and the differing expression.

Issue 18: after a planted factor change in a kernel, ``verify`` said only
``external check failed``.  Here the change (``2*`` -> ``3*`` in the first
``dJ_dz`` line of ``mse.py``) is planted in a copy of the kernels folder.
"""

import io
import shutil

import pytest

from derivreg import codegen
from derivreg.proof import ProofError, load, verify


@pytest.fixture
def planted(tmp_path, monkeypatch):
    """A copy of derivreg/kernels with dJ_dz = 3*(-y + z) in mse.py; the codegen points at it."""
    kernels = tmp_path / "kernels"
    shutil.copytree(codegen.KERNEL_DIR, kernels, ignore=shutil.ignore_patterns("__pycache__"))
    path = kernels / "mse.py"
    source = path.read_text(encoding="utf-8")
    assert "    dJ_dz = 2*(-y + z)\n" in source
    path.write_text(source.replace("    dJ_dz = 2*(-y + z)\n", "    dJ_dz = 3*(-y + z)\n", 1))
    monkeypatch.setattr(codegen, "KERNEL_DIR", kernels)
    return source[: source.index("    dJ_dz = 2*(-y + z)\n")].count("\n") + 1


def test_a_planted_factor_change_names_the_line_the_function_and_both_expressions(planted):
    theorem = load("kernels").kernel_theorem("mse")
    with pytest.raises(ProofError) as info:
        theorem.check()
    first = str(info.value).splitlines()[0]
    assert first.startswith("theorem 'kernels.mse_equals_derivation', step 1 (generate --check)")
    assert f"mse.py line {planted}, in function " in first
    assert "has `dJ_dz = 3*(-y + z)`, a fresh generation writes `dJ_dz = 2*(-y + z)`" in first


def test_verify_prints_the_difference_on_the_failing_theorems_line(planted, tmp_path):
    family = tmp_path / "family"
    family.mkdir()
    (family / "planted.py").write_text(
        "from derivreg.proof import load\nTHEOREMS = [load('kernels').kernel_theorem('mse')]\n",
        encoding="utf-8",
    )
    out = io.StringIO()
    assert verify(out, family) == 1
    line = out.getvalue().splitlines()[0]
    assert line.startswith("FAILED   kernels.mse_equals_derivation: step 1 (generate --check): ")
    assert "external check failed: mse.py line" in line
    assert "dJ_dz = 3*(-y + z)" in line
    assert "dJ_dz = 2*(-y + z)" in line


def test_families_load_their_siblings_from_the_folder_they_are_in(tmp_path):
    """``--proofs DIR`` reaches a family's own ``load("_common")`` (issue 18)."""
    from derivreg.proof import PROOFS_DIR

    for path in PROOFS_DIR.glob("*.py"):
        shutil.copy(path, tmp_path / path.name)
    common = tmp_path / "_common.py"
    common.write_text(common.read_text(encoding="utf-8") + "\nCOPY = True\n", encoding="utf-8")
    family = load("sigmoid", tmp_path)
    assert family.common.COPY is True
    assert family.__file__ == str(tmp_path / "sigmoid.py")


def test_cli_verify_shows_the_stale_kernel_lines(planted, tmp_path, capsys):
    from derivreg.cli import main as cli

    family = tmp_path / "family"
    family.mkdir()
    (family / "planted.py").write_text(
        "from derivreg.proof import load\nTHEOREMS = [load('kernels').kernel_theorem('mse')]\n",
        encoding="utf-8",
    )
    assert cli(["verify", "--proofs", str(family)]) == 1
    out = capsys.readouterr().out
    assert "FAILED   generate --check: kernels differ from a fresh generation:" in out
    tail = out.split("generate --check")[-1]
    assert "mse.py" in tail
    assert "dJ_dz = 3*(-y + z)" in tail
    assert "dJ_dz = 2*(-y + z)" in tail
