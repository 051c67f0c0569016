"""The command line as a user meets it."""

import subprocess
import sys

import pytest

from derivreg.cli import main


def run(*args):
    return subprocess.run(
        [sys.executable, "-m", "derivreg", *args], capture_output=True, text=True, check=False
    )


def test_derive_bce_prints_the_chain(capsys):
    assert main(["derive", "bce"]) == 0
    out = capsys.readouterr().out
    assert "∂J/∂z = ∂J/∂ŷ · ∂ŷ/∂z" in out
    assert "= ŷ - y" in out


@pytest.mark.parametrize("fmt", ["text", "latex", "markdown"])
@pytest.mark.parametrize("features", ["1", "n"])
def test_derive_formats(capsys, fmt, features):
    assert main(["derive", "mse", "--format", fmt, "--features", features]) == 0
    assert capsys.readouterr().out.strip()


def test_unknown_loss_is_one_line_exit_2_no_traceback():
    result = run("derive", "hinge")
    assert result.returncode == 2
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1
    assert lines[0] == "derivreg derive: error: unknown loss 'hinge'; known losses: 'bce', 'mse'"
    assert "Traceback" not in result.stderr


def test_missing_command_is_exit_2():
    result = run()
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
