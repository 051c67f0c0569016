"""`derivreg lecture` and `derivreg train` as a user meets them."""

import io
import re
import subprocess
import sys

import numpy as np
import pytest

from derivreg.cli import main
from derivreg.data import lecture, logistic
from derivreg.experiments import MAX_ROWS, figures, plural, run, summary

LECTURE_FIGURES = {
    "linear-1-models.png",
    "linear-1-loss-parameters.png",
    "linear-n-loss-parameters.png",
    "logistic-1-models.png",
    "logistic-1-loss-parameters.png",
    "logistic-n-loss-parameters.png",
    "logistic-n-loss-accuracy.png",
    "logistic-2-decision-boundary.png",
    "sigmoid-parameters.png",
}
PNG = b"\x89PNG\r\n\x1a\n"

#: A line of a progress bar: tqdm's ("...| 0/1 [00:00<?, ?epoch/s]") or the plain one.
PROGRESS = re.compile(r"\d+/\d+ (?:\[|\w+ \(\d+%\))")


def cli(*args):
    return subprocess.run(
        [sys.executable, "-m", "derivreg", *args], capture_output=True, text=True, check=False
    )


def learned(out, name, parameter):
    """The learned value of `parameter` in the summary table of experiment `name`."""
    block = out.split(f"{name}: ", 1)[1]
    row = re.search(rf"^  {re.escape(parameter)} +(\S+) +(\S+) +(\S+)", block, re.MULTILINE)
    return float(row.group(3))


def test_lecture_runs_end_to_end(tmp_path, capsys):
    assert main(["lecture", "--out", str(tmp_path)]) == 0
    out, err = capsys.readouterr()
    assert {p.name for p in tmp_path.iterdir()} == LECTURE_FIGURES
    for p in tmp_path.iterdir():
        assert p.read_bytes()[:8] == PNG
    # One summary table per experiment, with the correct (not the errata) numbers.
    for name in ("linear-1", "linear-n", "logistic-1", "logistic-n"):
        assert f"\n{name}: " in f"\n{out}"
    assert learned(out, "linear-1", "w") == 3.81988
    assert learned(out, "linear-1", "b") == -2.30453
    assert "final loss (MSE, mean over the data): 1.466" in out
    assert "final loss (BCE, mean over the data)" in out
    assert "0.937 accumulated during training" in out  # the lecture's logistic-n accuracy
    assert "boundary -b/w: learned 0.6074, true 0.6000" in out
    # Derive -> kernels -> train -> figures.
    assert "derived update: w := w + 2·α·x·(y - ŷ),  b := b + 2·α·(y - ŷ)" in out
    assert "kernel derivreg.kernels.bce (generated)" in out
    assert f"wrote 9 figures to {tmp_path}" in out
    # A progress bar on stderr (tqdm's, or the plain-text fallback), ending full.
    assert re.search(r"12/12", err)
    assert "Traceback" not in err


def test_lecture_says_how_many_tables_and_prints_that_many(capsys):
    assert main(["lecture", "--no-plots"]) == 0
    out = capsys.readouterr().out
    said = re.search(r"then a 2-feature decision boundary: (\d+) tables", out)
    tables = re.findall(r"^\S+: (?:linear|logistic) regression, ", out, flags=re.M)
    assert said
    assert int(said.group(1)) == len(tables) == 5
    assert out.startswith("Lecture 4: Linear/Logistic Regression.")
    assert "no figures drawn (--no-plots)" in out


def test_lecture_errata_reproduces_the_lectures_numbers(tmp_path, capsys):
    assert main(["lecture", "--out", str(tmp_path), "--errata"]) == 0
    out = capsys.readouterr().out
    assert learned(out, "linear-1", "w") == 4.78336  # 2*lr
    assert learned(out, "linear-1", "b") == -2.88759
    assert "boundary -b/w: learned 0.7247" in out  # the labels' boundary, 0.72
    assert out.count("lecture erratum reproduced") == 2


def test_errata_figures_say_so_in_their_titles():
    honest = figures(run(lecture("linear-1")))["linear-1-models"].axes[0].get_title()
    errata = figures(run(lecture("linear-1", lecture_errata=True)))
    title = errata["linear-1-models"].axes[0].get_title()
    assert "erratum" not in honest
    assert "reproduces the lecture's erratum: update w - 2*lr*dJ_dw" in title
    assert "erratum" in errata["linear-1-loss-parameters"].get_suptitle()


@pytest.mark.parametrize(("name", "epochs"), [("linear-1", 20), ("linear-n", 10)])
def test_more_epochs_recover_the_truth_to_1e_6(name, epochs):
    r = run(lecture(name), epochs=epochs)
    assert np.abs(r.w - r.data.true_w).max() < 1e-6
    assert abs(r.b - r.data.true_b) < 1e-6
    assert "max |learned - true| = " in summary(r)


def test_train_command_linear(tmp_path, capsys):
    assert main(["train", "linear", "--epochs", "20", "--out", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    error = float(re.search(r"max \|learned - true\| = (\S+)", out).group(1))
    assert error < 1e-6
    assert {p.name for p in tmp_path.iterdir()} == {
        "linear-1-models.png",
        "linear-1-loss-parameters.png",
    }


def test_train_command_logistic_with_batches(tmp_path, capsys):
    args = ["train", "logistic", "--features", "2", "--samples", "200", "--lr", "0.5"]
    args += ["--epochs", "3", "--batch-size", "10", "--seed", "7", "--shuffle"]
    assert main([*args, "--labels", "bernoulli", "--out", str(tmp_path)]) == 0
    out, err = capsys.readouterr()
    assert "logistic-2: logistic regression, 2 features, 200 samples, lr 0.5, batch 10" in out
    assert "(60 updates" in out
    assert "separable" not in out  # Bernoulli labels
    assert {p.name for p in tmp_path.iterdir()} == {
        "logistic-2-loss-parameters.png",
        "logistic-2-loss-accuracy.png",
        "logistic-2-decision-boundary.png",
    }
    assert "3/3" in err  # the progress bar, one step per epoch


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["lecture", "--epochs", "0"], "argument --epochs: expected a positive integer, got '0'"),
        (["train", "linear", "--lr", "-1", "--out", "x"], "expected a finite positive number"),
        (["train", "linear", "--lr", "nan", "--out", "x"], "expected a finite positive number"),
        (["train", "linear", "--features", "abc", "--out", "x"], "expected a positive integer"),
        (["train", "ridge", "--out", "x"], "invalid choice: 'ridge'"),
        (["train", "linear"], "--out DIR is needed for the figures (or --no-plots)"),
        (["train", "linear", "--noise", "-1", "--out", "x"], "expected a finite number >= 0"),
        (
            ["train", "logistic", "--positive-rate", "1", "--out", "x"],
            "expected a number in (0, 1)",
        ),
        (
            ["train", "linear", "--positive-rate", "0.5", "--out", "x"],
            "--positive-rate applies to logistic",
        ),
        (["train", "logistic", "--noise", "0.1", "--out", "x"], "--noise applies to linear"),
        (
            ["train", "linear", "--labels", "bernoulli", "--out", "x"],
            "--labels applies to logistic",
        ),
        (
            ["train", "linear", "--lr", "5", "--epochs", "3", "--out", "x"],
            "training diverged at update",
        ),
    ],
)
def test_bad_arguments_are_one_line_exit_2(args, message, tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "derivreg", *args],
        capture_output=True,
        text=True,
        check=False,
        cwd=tmp_path,
    )
    assert result.returncode == 2
    lines = [ln for ln in result.stderr.strip().splitlines() if not PROGRESS.search(ln)]
    assert len(lines) == 1  # besides the progress bar
    assert message in lines[-1]
    assert "Traceback" not in result.stderr


def test_divergence_message_names_the_learning_rate_and_bound():
    result = cli("train", "linear", "--lr", "5", "--epochs", "3", "--out", "unused")
    last = result.stderr.strip().splitlines()[-1]
    assert "the learning rate 5 exceeds the per-sample step-size bound 1/max||(x,1)||^2" in last


def test_summary_of_separable_logistic_data_says_so():
    text = summary(run(logistic(3, 200)))
    assert "separable" in text
    assert "cos(learned, true)" in text


def test_figures_per_kind_of_run():
    assert sorted(figures(run(lecture("linear-n")))) == ["linear-n-loss-parameters"]
    assert sorted(figures(run(logistic(2, 50)))) == [
        "logistic-2-decision-boundary",
        "logistic-2-loss-accuracy",
        "logistic-2-loss-parameters",
    ]


def test_save_writes_the_pixels_savefig_writes(tmp_path):
    # save() draws once with the Agg canvas instead of savefig's two draws; the
    # constrained layout, the figure's size at PNG_DPI and every pixel stay.
    # (Each way gets figures of its own: a second layout starts from the first's
    # positions and may move an axes by a pixel.)
    from PIL import Image

    from derivreg.experiments import PNG_DPI, save

    r = run(logistic(2, 200, seed=7))
    ours, theirs = figures(r), figures(r)
    for fig in [*ours.values(), *theirs.values()]:
        fig.set_dpi(72)  # written at PNG_DPI whatever the figure's own dpi
    (tmp_path / "savefig").mkdir()
    for stem, path in zip(ours, save(ours, tmp_path), strict=True):
        assert ours[stem].dpi == 72
        theirs[stem].savefig(tmp_path / "savefig" / path.name, dpi=PNG_DPI)
        a, b = (np.asarray(Image.open(p)) for p in (path, tmp_path / "savefig" / path.name))
        width, height = ours[stem].get_size_inches() * PNG_DPI
        assert a.shape == b.shape == (round(height), round(width), 4)
        assert np.array_equal(a, b), stem


def test_train_noise_0_is_allowed_and_noise_shows_the_least_squares_reference(tmp_path, capsys):
    assert main(["train", "linear", "--noise", "0", "--no-plots"]) == 0
    assert "no figures drawn" in capsys.readouterr().out
    noisy = figures(run(data_linear_noisy()))["linear-1-models"]
    gids = [line.get_gid() for line in noisy.axes[0].lines]
    assert gids == ["final-model", "true-line", "least-squares"]


def data_linear_noisy():
    from derivreg.data import linear

    return linear(1, 100, noise=0.5)


def test_train_warns_about_imbalanced_classes_and_balances_on_request(capsys):
    args = ["train", "logistic", "--features", "2", "--samples", "500", "--no-plots"]
    assert main(args) == 0
    err = capsys.readouterr().err
    assert (
        "warning: only 6 of 500 labels are 1 (1.2%); always predicting 0 scores accuracy 0.988"
        in err
    )
    assert main([*args, "--positive-rate", "0.5"]) == 0
    out, err = capsys.readouterr()
    assert "warning" not in err
    assert "accuracy: " in out


def test_plurals_and_no_negative_zero_in_tables():
    from derivreg.data import linear

    text = summary(run(linear(3, 1)))
    for phrase in ("1 sample,", "(1 update,", "1 epoch"):
        assert phrase in text
    assert plural(1, "figure") == "1 figure"
    assert plural(2, "figure") == "2 figures"
    r = run(lecture("linear-n"), epochs=10)
    text = summary(r)
    assert "-0.00000" not in text
    assert " 0.00000" in text  # errors that round to zero are shown unsigned


def test_wide_models_truncate_the_table_with_a_note():
    from derivreg.data import linear

    text = summary(run(linear(50, 20), lr=0.001))
    rows = [ln for ln in text.splitlines() if re.match(r"^  w\d+ ", ln)]
    assert len(rows) == MAX_ROWS
    assert f"({50 - MAX_ROWS} more weights not shown" in text


def test_progress_is_tqdm_when_installed_and_plain_text_without(monkeypatch):
    import importlib.util

    from derivreg.progress import TextProgress, progress

    class Terminal(io.StringIO):
        def isatty(self):
            return True

    stream = io.StringIO()
    if importlib.util.find_spec("tqdm") is not None:
        from tqdm import tqdm

        assert isinstance(progress(3, stream=Terminal()), tqdm)
    # Not a terminal (a log, a pipe): plain lines, even with tqdm installed.
    assert isinstance(progress(3, stream=stream), TextProgress)
    monkeypatch.setattr(importlib.util, "find_spec", lambda name: None)
    assert isinstance(progress(3, stream=Terminal()), TextProgress)  # no tqdm
    bar = progress(20, desc="epoch 1", unit="update", stream=stream)
    assert isinstance(bar, TextProgress)
    for _ in range(20):
        bar.update()
    lines = stream.getvalue().splitlines()
    assert lines[-1] == "epoch 1: 20/20 updates (100%)"
    assert len([ln for ln in lines if ln.startswith("epoch 1:")]) == 10  # one per tenth


def test_train_no_plots_imports_neither_sympy_nor_matplotlib():
    code = (
        "import sys\n"
        "from derivreg.cli import main\n"
        "assert main(['train', 'logistic', '--features', '3', '--no-plots']) == 0\n"
        "print('sympy' in sys.modules, 'matplotlib' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split()[-2:] == ["False", "False"]
