"""The proofs ship with the package: a wheel installed into a fresh venv verifies.

Issue 18: after ``pip install .`` (not editable) ``derivreg verify`` found
no proofs.  This test builds the wheel from a copy of the checkout,
installs it with ``--no-deps`` into a new virtual environment and runs the
installed ``derivreg verify`` from an empty folder, so that nothing of the
checkout is on the path.

The venv is made with ``--system-site-packages``: the runtime and proof
dependencies (NumPy, SymPy, mpmath, Matplotlib) come from the interpreter
running the tests instead of being downloaded and built again, which on
this 2-core machine would take minutes and need the network.  derivreg
itself is the wheel's copy (checked: ``derivreg.__file__`` is in the venv).
The wheel build uses pip's build isolation (setuptools >= 69 from the
package index); where that cannot be fetched the test is skipped, naming
pip's error.
"""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _run(args: list[str], cwd: Path, timeout: float = 600) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME")}
    return subprocess.run(
        args, cwd=cwd, capture_output=True, text=True, check=False, timeout=timeout, env=env
    )


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A venv with the wheel of this checkout installed; returns its bin folder."""
    base = tmp_path_factory.mktemp("install")
    source = base / "source"
    source.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy2(ROOT / name, source / name)
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    for name in ("derivreg", "proofs"):
        shutil.copytree(ROOT / name, source / name, symlinks=True, ignore=ignore)
    wheels = base / "wheels"
    built = _run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(wheels), "."], source
    )
    if built.returncode != 0:
        pytest.skip(f"cannot build the wheel here: {built.stderr.strip().splitlines()[-1:]}")
    (wheel,) = wheels.glob("derivreg-*.whl")
    venv = base / "venv"
    made = _run([sys.executable, "-m", "venv", "--system-site-packages", str(venv)], base)
    assert made.returncode == 0, made.stderr
    bin_dir = venv / ("Scripts" if os.name == "nt" else "bin")
    pip = [str(bin_dir / "python"), "-m", "pip", "install", "--no-deps", "-q", str(wheel)]
    done = _run(pip, base)
    assert done.returncode == 0, done.stderr
    return bin_dir


def test_the_wheel_holds_every_proof_family(installed: Path):
    where = _run(
        [
            str(installed / "python"),
            "-c",
            "import derivreg, derivreg.proof as p; print(derivreg.__file__); print(*p.families())",
        ],
        installed.parent,
    )
    assert where.returncode == 0, where.stderr
    location, names = where.stdout.splitlines()
    assert Path(location).is_relative_to(installed.parent)  # the wheel's copy, not the checkout
    assert names.split() == sorted(p.stem for p in (ROOT / "proofs").glob("[!_]*.py"))


def test_derivreg_verify_exits_0_after_a_plain_install(installed: Path, tmp_path: Path):
    done = _run([str(installed / "derivreg"), "verify"], tmp_path, timeout=1200)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert "0 failed" in done.stdout
    assert "checked  generate --check" in done.stdout


def test_a_family_runs_as_a_script_against_the_installed_package(installed: Path, tmp_path: Path):
    done = _run([str(installed / "python"), str(ROOT / "proofs" / "sigmoid.py")], tmp_path)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    assert done.stdout.rstrip().endswith("4 of 4 theorems checked (11 steps)")
