"""The command line never prints a traceback for user input or Ctrl-C (issue 17)."""

import functools
import io
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from derivreg import _cli_checks, data, reports
from derivreg.cli import main

ROOT = Path(__file__).resolve().parents[1]
ENV = {**os.environ, "PYTHONPATH": str(ROOT)}


def fails_in_one_line(argv, capsys):
    """Run ``main(argv)``: it must exit 2 with one line on stderr; return that line."""
    with pytest.raises(SystemExit) as info:
        main(argv)
    assert info.value.code == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1, err
    assert "Traceback" not in err
    return err


@pytest.fixture
def no_work(monkeypatch):
    """Fail the test if data are drawn or training starts."""

    def refuse(*args, **kwargs):
        raise AssertionError("work started before the arguments were checked")

    for name in ("linear", "logistic"):  # same signatures: the CLI reads their defaults
        monkeypatch.setattr(data, name, functools.wraps(getattr(data, name))(refuse))
    monkeypatch.setattr(reports, "train_report", refuse)
    monkeypatch.setattr(reports, "lecture_report", refuse)


@pytest.mark.parametrize(
    ("argv", "needle"),
    [
        (
            ["train", "linear", "--epochs", str(10**25)],
            "--epochs 10000000000000000000000000 is too",
        ),
        (["train", "logistic", "--epochs", str(2**63 // 100)], "use at most 9223372036854775"),
        (["lecture", "--epochs", str(10**25)], "more updates than training can count"),
        (["train", "linear", "--samples", "3000000000"], "needs at least 504.0 GB of memory"),
        (["train", "linear", "--samples", "3000000000", "--shuffle"], "lower --samples"),
    ],
)
def test_sizes_that_cannot_work_are_refused_before_any_work(
    argv, needle, tmp_path, capsys, no_work
):
    out = tmp_path / "figures"
    err = fails_in_one_line([*argv, "--out", str(out)], capsys)
    assert needle in err
    assert not out.exists()


def bad_outs(tmp_path):
    a_file = tmp_path / "a-file"
    a_file.write_text("")
    return {
        "empty": ("", "--out must name a directory, got ''"),
        "blank": ("  ", "--out must name a directory"),
        "a file": (str(a_file), "exists and is not a directory"),
        "under a file": (str(a_file / "figures"), "is a file, not a directory"),
        "a NUL byte": ("fig\0ures", "is not a valid path"),
        "a name too long": (str(tmp_path / ("x" * 300)), "too long"),
    }


@pytest.mark.parametrize(
    "case", ["empty", "blank", "a file", "under a file", "a NUL byte", "a name too long"]
)
@pytest.mark.parametrize("command", [["train", "linear"], ["lecture"]])
def test_a_bad_out_is_found_before_training(case, command, tmp_path, capsys, no_work):
    out, needle = bad_outs(tmp_path)[case]
    err = fails_in_one_line([*command, "--out", out], capsys)
    assert needle in err


def test_a_read_only_parent_is_found_before_training(tmp_path, capsys, no_work, monkeypatch):
    monkeypatch.setattr(os, "access", lambda path, mode: False)  # root can write anywhere
    err = fails_in_one_line(["train", "linear", "--out", str(tmp_path / "figures")], capsys)
    assert "is not writable" in err


def test_good_outs_pass_the_check(tmp_path):
    assert _cli_checks.output_dir(str(tmp_path)) == tmp_path
    assert _cli_checks.output_dir(str(tmp_path / "new" / "deeper")) == tmp_path / "new" / "deeper"
    assert not (tmp_path / "new").exists()  # the check creates nothing


def test_the_memory_estimate_is_checked_against_what_is_available(monkeypatch):
    need = _cli_checks.memory_needed(10**6, 3, batch_size=1, shuffle=True)
    assert need == 10**6 * (8 * 3 + 56 + 8 * 3 + 16 + 32 * 3 + 72)
    monkeypatch.setattr(_cli_checks, "memory_available", lambda: need - 1)
    with pytest.raises(ValueError, match="--samples 1000000 with --features 3 needs at least"):
        _cli_checks.check_memory(10**6, 3, batch_size=1, shuffle=True)
    monkeypatch.setattr(_cli_checks, "memory_available", lambda: need)
    _cli_checks.check_memory(10**6, 3, batch_size=1, shuffle=True)


def test_a_training_that_overflows_is_one_line_and_non_zero(tmp_path, capsys):
    out = tmp_path / "figures"
    err = fails_in_one_line(["train", "linear", "--noise", "1e200", "--out", str(out)], capsys)
    assert "training cannot start" in err
    assert "overflows float64" in err
    assert "final loss" not in capsys.readouterr().out
    assert not out.exists()


def test_ctrl_c_in_process_is_one_line_and_status_130(tmp_path, capsys, monkeypatch):
    def interrupt(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(reports, "train_report", interrupt)
    assert main(["train", "linear", "--out", str(tmp_path / "figures")]) == 130
    assert capsys.readouterr().err == "derivreg train: interrupted\n"


def test_ctrl_c_in_a_real_run_exits_130_without_a_traceback(tmp_path):
    # 2e7 updates: the first progress line (a tenth of them) comes after ~3 s, the end much later.
    argv = ["train", "linear", "--samples", "20000", "--epochs", "1000", "--out", "figures"]
    proc = subprocess.Popen(
        [sys.executable, "-m", "derivreg", *argv],
        cwd=tmp_path,
        env=ENV,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    first = proc.stderr.readline()  # the progress report's first line: training is under way
    assert first.startswith("training linear"), first
    time.sleep(0.2)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130
    assert "Traceback" not in err
    assert err.rstrip("\n").splitlines()[-1] == "derivreg train: interrupted"


def test_derive_under_cp1252_writes_ascii_spellings():
    result = subprocess.run(
        [sys.executable, "-m", "derivreg", "derive", "mse", "--features", "1"],
        env={**ENV, "PYTHONIOENCODING": "cp1252"},
        capture_output=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr.decode()
    out = result.stdout.decode("cp1252")
    assert "alpha" in out
    assert "yhat" in out
    assert "·" in out  # cp1252 has the middle dot: kept


def test_lecture_under_cp1252_does_not_abort_on_alpha(tmp_path, monkeypatch):
    raw = io.BytesIO()
    stdout = io.TextIOWrapper(raw, encoding="cp1252", write_through=True)
    monkeypatch.setattr(sys, "stdout", stdout)
    monkeypatch.setattr(sys, "stderr", io.StringIO())
    assert main(["lecture", "--out", str(tmp_path)]) == 0
    text = raw.getvalue().decode("cp1252")
    assert "derived update: w := w + 2·alpha·x·(y - yhat)" in text


def test_utf8_streams_are_left_alone():
    raw = io.BytesIO()
    stream = _cli_checks.ascii_fallback(io.TextIOWrapper(raw, encoding="utf-8"))
    stream.write("α ŷ")
    stream.flush()
    assert raw.getvalue().decode("utf-8") == "α ŷ"
