"""``derivreg train softmax``, the softmax figures and the NumPy-only training run behind them."""

import subprocess
import sys

import numpy as np
import pytest

from derivreg.cli import main
from derivreg.kernels import softmax
from derivreg.plots.softmax import softmax_regions, softmax_training
from derivreg.softmax_run import draw, train_softmax


def test_train_softmax_as_a_new_user_runs_it(tmp_path):
    # the installed entry point's module, in a fresh interpreter, as a user types it
    out = tmp_path / "figures"
    done = subprocess.run(
        [sys.executable, "-m", "derivreg", "train", "softmax", "--samples", "90", "--out", out],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("softmax: 3 classes, 2 features, 90 samples")
    assert "accuracy:" in done.stdout
    assert sorted(p.name for p in out.iterdir()) == ["softmax-regions.png", "softmax-training.png"]


def test_more_classes_and_features_without_figures(capsys):
    assert main(["train", "softmax", "--classes", "4", "--features", "3", "--no-plots"]) == 0
    text = capsys.readouterr().out
    assert "4 classes, 3 features, 300 samples" in text
    assert "no figures drawn" in text


@pytest.mark.parametrize(
    ("argv", "words"),
    [
        (["--labels", "bernoulli"], "--labels applies to linear and logistic models only"),
        (["--noise", "1"], "--noise applies to linear and logistic models only"),
        (["--batch-size", "4"], "trains per sample"),
        (["--classes", "1"], "--classes must be at least 2"),
        ([], "--out DIR is needed"),
    ],
)
def test_wrong_options_are_refused_on_one_line(argv, words, capsys):
    with pytest.raises(SystemExit) as exc:
        main(["train", "softmax", *argv])
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert words in err
    assert len(err.strip().splitlines()) == 1


def test_classes_is_refused_for_the_scalar_models(capsys):
    with pytest.raises(SystemExit):
        main(["train", "logistic", "--classes", "3", "--no-plots"])
    assert "--classes applies to the softmax model only" in capsys.readouterr().err


def test_the_history_is_the_generated_loops_steps():
    d = draw(40, seed=3)
    _, _, h = train_softmax(d.X, d.Y, lr=0.2, epochs=2)
    # the per-step records are the loop kernel's, one row at a time, from zero
    assert np.array_equal(h.W[0], np.zeros((2, 3)))
    assert np.array_equal(h.loss[0], np.log(3.0))
    assert h.loss[1] == softmax.losses(d.X[1:2], d.Y[1:2], h.W[1], h.b[1])[0]
    # the columns of W keep summing to zero: softmax's shift is never moved by SGD
    assert np.max(np.abs(h.W.sum(axis=2))) <= 1e-12
    assert np.all(np.diff(h.accuracy * np.arange(1, 81)) >= -1e-9)  # counts never fall


def test_the_figures_draw_what_they_say():
    d = draw(60, seed=0)
    W, b, h = train_softmax(d.X, d.Y, lr=0.2)
    ax = softmax_regions(d.X, d.y, W, b, true_W=d.true_W, true_b=d.true_b).axes[0]
    labels = [t.get_text() for t in ax.figure.legends[0].get_texts()]
    assert labels[:3] == ["class 1", "class 2", "class 3"]
    assert {"learned boundaries", "true boundaries"} <= set(labels)
    axes = softmax_training(h, true_W=d.true_W, true_b=d.true_b).axes
    assert [a.get_ylabel() for a in axes] == ["cross-entropy", "accuracy", "parameter"]
    assert len(axes[2].get_legend().get_texts()) == 9  # 6 W_ic and 3 b_c
    with pytest.raises(ValueError, match="2-feature problems"):
        softmax_regions(np.ones((3, 3)), d.y[:3], np.ones((3, 3)), b)


def test_train_softmax_no_plots_imports_neither_sympy_nor_matplotlib():
    code = (
        "import sys\n"
        "from derivreg.cli import main\n"
        "assert main(['train', 'softmax', '--samples', '30', '--no-plots']) == 0\n"
        "print(*(m in sys.modules for m in ('sympy', 'matplotlib')))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split()[-2:] == ["False", "False"]
