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
    assert lines[0] == (
        "derivreg derive: error: unknown loss 'hinge'; "
        "known losses: 'bce', 'gamma', 'mse', 'poisson'"
    )
    assert "Traceback" not in result.stderr


def test_missing_command_is_exit_2():
    result = run()
    assert result.returncode == 2
    assert "Traceback" not in result.stderr


def test_version(capsys):
    from derivreg import __version__

    with pytest.raises(SystemExit) as exc:
        main(["--version"])
    assert exc.value.code == 0
    assert capsys.readouterr().out == f"derivreg {__version__}\n"


@pytest.mark.parametrize("command", ["derive", "generate", "verify", "lecture", "train"])
def test_every_help_shows_the_defaults(command, capsys):
    with pytest.raises(SystemExit):
        main([command, "--help"])
    text = " ".join(capsys.readouterr().out.split())
    expected = {
        "derive": ["(default: text)", "(default: n)"],
        "generate": [],
        "verify": [],
        "lecture": ["(default: lecture-figures)", "(default: 1)"],
        "train": ["(default: 1)", "(default: threshold)", "(default: the lecture's"],
    }[command]
    for phrase in expected:
        assert phrase in text
    assert "(default: None)" not in text
    assert "(default: False)" not in text


def test_generate_help_says_it_writes(capsys):
    with pytest.raises(SystemExit):
        main(["--help"])
    text = " ".join(capsys.readouterr().out.split())
    assert "generate write the derivations as NumPy kernels to derivreg/kernels/" in text
    assert "5 tables" in text
