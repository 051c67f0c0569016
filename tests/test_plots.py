"""Every figure: returns a Figure, with the expected axes, labels and lines."""

import subprocess
import sys

import matplotlib

matplotlib.use("Agg")

import matplotlib.style
import numpy as np
import pytest
from matplotlib.collections import LineCollection
from matplotlib.figure import Figure

from derivreg import plots
from derivreg.data import lecture, logistic
from derivreg.kernels import KERNELS
from derivreg.train import train


def fit(d, **kw):
    return train(d.X, d.y, loss=d.loss, w0=d.w0, b0=d.b0, lr=d.lr, **kw)


@pytest.fixture(scope="module")
def linear_1():
    d = lecture("linear-1")
    return d, fit(d)


@pytest.fixture(scope="module")
def logistic_1():
    d = logistic(1, 120, seed=2)
    return d, fit(d)


def test_the_style_exists_in_this_matplotlib():
    assert plots.STYLE in matplotlib.style.available


@pytest.mark.parametrize("which", ["linear_1", "logistic_1"])
def test_model_over_data(which, request):
    d, (w, b, h) = request.getfixturevalue(which)
    fig = plots.model_over_data(d.X, d.y, h, loss=d.loss, final=(w, b), title="t")
    assert isinstance(fig, Figure)
    ax, colorbar = fig.axes  # the data axes and the colorbar
    assert ax.get_xlabel() == "x"
    assert ax.get_ylabel().startswith("y")
    assert ax.get_title() == "t"
    assert colorbar.get_ylabel() == "update number"
    (models,) = [c for c in ax.collections if isinstance(c, LineCollection)]
    segments = models.get_segments()
    assert len(segments) == len(h) == d.n_samples  # one model per update
    assert len(ax.lines) == 1  # the final model
    # Rainbow from the first update to the last.
    assert models.get_cmap().name == "rainbow"
    np.testing.assert_array_equal(models.get_array(), h.step)
    assert (models.norm.vmin, models.norm.vmax) == (0, h.n_updates - 1)
    # Each segment is the kernel's model before that update; the line is the final one.
    predict = KERNELS[d.loss].predict
    for k in (0, len(h) - 1):
        x, yhat = segments[k][:, 0], segments[k][:, 1]
        np.testing.assert_allclose(yhat, predict(x[:, None], h.w[k], h.b[k]))
    x, yhat = ax.lines[0].get_data()
    np.testing.assert_allclose(yhat, predict(np.asarray(x)[:, None], w, b))


def test_model_over_data_thins_long_runs(linear_1):
    d, _ = linear_1
    h = fit(d, epochs=20).history
    fig = plots.model_over_data(d.X, d.y, h, loss="mse", max_lines=50)
    (models,) = fig.axes[0].collections[:1]
    steps = models.get_array()
    assert len(models.get_segments()) == 50
    assert (steps[0], steps[-1]) == (0, 1999)
    assert len(fig.axes[0].lines) == 0  # no final model given


@pytest.mark.parametrize(("loss", "label"), [("mse", "MSE"), ("bce", "BCE")])
def test_loss_and_parameters_1_feature(loss, label, linear_1, logistic_1):
    d, (_, _, h) = linear_1 if loss == "mse" else logistic_1
    fig = plots.loss_and_parameters(h, loss=loss, true_w=d.true_w, true_b=d.true_b, title="t")
    ax_loss, ax_par = fig.axes
    assert [ax_loss.get_ylabel(), ax_par.get_ylabel(), ax_par.get_xlabel()] == [
        label,
        "parameter value",
        "update",
    ]
    assert len(ax_loss.lines) == 1
    np.testing.assert_array_equal(ax_loss.lines[0].get_ydata(), h.loss)
    tracks = [ln for ln in ax_par.lines if ln.get_linestyle() == "-"]
    truths = [ln for ln in ax_par.lines if ln.get_linestyle() == ":"]
    assert [ln.get_color() for ln in tracks] == ["darkred", "darkblue"]
    assert [ln.get_color() for ln in truths] == ["darkred", "darkblue"]
    assert [ln.get_ydata()[0] for ln in truths] == [d.true_w[0], d.true_b]
    np.testing.assert_array_equal(tracks[0].get_ydata(), h.w[:, 0])
    np.testing.assert_array_equal(tracks[1].get_ydata(), h.b)
    assert fig.get_suptitle() == "t"


def test_loss_and_parameters_n_features():
    d = lecture("linear-n")
    h = fit(d).history
    fig = plots.loss_and_parameters(h, loss="mse", true_w=d.true_w, true_b=d.true_b, logy=True)
    ax_loss, ax_par = fig.axes
    assert ax_loss.get_yscale() == "log"
    tracks = [ln for ln in ax_par.lines if ln.get_linestyle() == "-"]
    truths = [ln for ln in ax_par.lines if ln.get_linestyle() == ":"]
    assert len(tracks) == len(truths) == 4  # w1, w2, w3, b
    assert [ln.get_label() for ln in tracks] == ["w1", "w2", "w3", "b"]
    colours = [matplotlib.colors.to_hex(ln.get_color()) for ln in tracks]
    assert len(set(colours)) == 4  # one colour per track
    assert colours == [matplotlib.colors.to_hex(ln.get_color()) for ln in truths]
    bare = plots.loss_and_parameters(h, loss="mse")
    assert len(bare.axes[1].lines) == 4  # no true values given: no dotted lines


def test_loss_and_accuracy():
    d = logistic(3, 200, seed=1)
    h = fit(d, record="loss").history
    fig = plots.loss_and_accuracy(h, title="t", final_accuracy=0.99)
    ax_loss, ax_acc = fig.axes
    assert [ax_loss.get_ylabel(), ax_acc.get_ylabel()] == ["BCE", "accuracy"]
    assert ax_acc.get_xlabel() == "update"
    assert len(ax_loss.lines) == 1
    accumulated, final = ax_acc.lines  # both accuracies, each with its value in the legend
    np.testing.assert_array_equal(accumulated.get_ydata(), h.accuracy)
    assert accumulated.get_label() == f"accumulated during training: {h.accuracy[-1]:.3f}"
    assert (final.get_gid(), list(final.get_ydata()), final.get_label()) == (
        "final-accuracy",
        [0.99, 0.99],
        "final model: 0.990",
    )
    assert ax_acc.get_ylim() == (0.0, 1.02)
    assert len(plots.loss_and_accuracy(h).axes[1].lines) == 1


def test_sigmoid_parameters():
    fig = plots.sigmoid_parameters(ws=(1.0, 3.0), bs=(-2.0, 0.0, 3.0), w_fixed=2.0)
    ax_w, ax_b = fig.axes
    assert ax_w.get_xlabel() == ax_b.get_xlabel() == "x"
    # the registry's activation, not a name: "ŷ = 1/(1 + exp(-z)), z = wx + b"
    assert ax_w.get_ylabel() == f"ŷ = {KERNELS['bce'].ACTIVATION}, z = wx + b"
    assert len(ax_w.lines) == 2 + 1 + 1  # curves, boundary at 0, the 1/2 line
    assert len(ax_b.lines) == 3 + 3 + 1  # curves, their boundaries, the 1/2 line
    curves = [ln for ln in ax_b.lines if ln.get_linestyle() == "-" and len(ln.get_xdata()) > 2]
    boundaries = [ln for ln in ax_b.lines if ln.get_linestyle() == ":"]
    assert [ln.get_xdata()[0] for ln in boundaries] == [1.0, 0.0, -1.5]  # -b/w
    for curve, boundary in zip(curves, boundaries, strict=True):
        x, p = curve.get_data()
        # Each curve crosses 1/2 at its boundary -b/w (grid spacing 10/399).
        assert abs(x[np.argmin(np.abs(p - 0.5))] - boundary.get_xdata()[0]) < 10 / 399
    # The steeper curve (w = 3) is steeper at x = 0: slope w/4.
    slopes = []
    for ln in ax_w.lines[:2]:
        x, p = ln.get_data()
        i = np.argmin(np.abs(x))
        slopes.append((p[i + 1] - p[i - 1]) / (x[i + 1] - x[i - 1]))
    np.testing.assert_allclose(slopes, [0.25, 0.75], rtol=1e-3)


def test_decision_boundary():
    d = logistic(2, 300, seed=7)
    w, b, _ = fit(d, epochs=3)
    fig = plots.decision_boundary(d.X, d.y, w, b, true_w=d.true_w, true_b=d.true_b, title="t")
    ax, colorbar = fig.axes
    assert (ax.get_xlabel(), ax.get_ylabel()) == ("x1", "x2")
    assert "P(y = 1" in colorbar.get_ylabel()
    assert len(ax.lines) == 2  # learned and true boundaries
    for line, (wv, bv) in zip(ax.lines, ((w, b), (d.true_w, d.true_b)), strict=True):
        x1, x2 = line.get_data()
        np.testing.assert_allclose(
            np.asarray(x1) * wv[0] + np.asarray(x2) * wv[1] + bv, 0, atol=1e-12
        )
    learned, true = ax.lines
    # The truth: dashed, on top of the learned boundary, in a colour that is not black.
    assert (learned.get_gid(), true.get_gid()) == ("learned-boundary", "true-boundary")
    assert true.get_linestyle() == "--"
    assert true.get_zorder() > learned.get_zorder()
    assert true.get_color() == plots.logistic.TRUE_BOUNDARY_COLOUR != learned.get_color()
    labels = ax.get_legend_handles_labels()[1]
    assert labels[:2] == ["y = 0", "y = 1"]
    # One legend, for the figure, below the axes: it covers neither boundary.
    assert ax.get_legend() is None
    (legend,) = fig.legends
    fig.canvas.draw()
    box, axes_box = legend.get_window_extent(), ax.get_window_extent()
    assert box.y1 <= axes_box.y0
    assert len(plots.decision_boundary(d.X, d.y, w, b).axes[0].lines) == 1


def test_figures_save_as_png(tmp_path, linear_1):
    d, (w, b, h) = linear_1
    path = tmp_path / "f.png"
    plots.model_over_data(d.X, d.y, h, loss="mse", final=(w, b)).savefig(path)
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


@pytest.mark.parametrize("shape", [(1, 1, 4), (3, 7, 4), (64, 33, 4)])
@pytest.mark.parametrize("level", [0, 1, 9])
def test_write_png_round_trips_every_pixel(tmp_path, shape, level):
    # Random bytes in all four channels (any alpha): a wrong row length, filter
    # byte, byte order or CRC would not decode to the same array.
    from PIL import Image

    from derivreg.plots._png import write_png

    rgba = np.random.default_rng(sum(shape) + level).integers(0, 256, shape, dtype=np.uint8)
    path = tmp_path / "p.png"
    write_png(path, rgba[:, ::-1], dpi=72, level=level, text={"Software": "test"})
    with Image.open(path) as im:
        im.verify()  # the chunks' CRCs
    with Image.open(path) as im:
        assert im.mode == "RGBA"
        assert im.info["Software"] == "test"
        # Whole pixels per metre: 72 dpi is 2834.6, stored 2835, read 72.009.
        assert np.allclose(im.info["dpi"], 72, atol=0.01)
        assert np.array_equal(np.asarray(im), rgba[:, ::-1])


@pytest.mark.parametrize(
    "rgba", [np.zeros((2, 2, 3), np.uint8), np.zeros((2, 2, 4)), np.zeros((0, 2, 4), np.uint8)]
)
def test_write_png_refuses_what_is_not_rgba_bytes(tmp_path, rgba):
    from derivreg.plots._png import write_png

    with pytest.raises(ValueError, match="RGBA pixels of shape"):
        write_png(tmp_path / "p.png", rgba, dpi=72, level=1, text={})


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (lambda h, d: plots.model_over_data(np.ones((3, 2)), d.y[:3], h, loss="mse"), "1-feature"),
        (
            lambda h, d: plots.model_over_data(
                d.X, d.y, train(d.X, d.y, record="loss").history, loss="mse"
            ),
            "record='all'",
        ),
        (lambda h, d: plots.loss_and_accuracy(h, loss="mse"), "accuracy"),
        (
            lambda h, d: plots.loss_and_parameters(h, loss="hinge"),
            "The 'loss' parameter of .* Got 'hinge' instead",
        ),
        (lambda h, d: plots.loss_and_parameters(h, loss="mse", true_w=[1.0, 2.0]), "true_w"),
        (
            lambda h, d: plots.decision_boundary(np.ones((3, 3)), d.y[:3], [1.0] * 3, 0.0),
            "2-feature",
        ),
        (lambda h, d: plots.sigmoid_parameters(ws=(0.0,)), "non-zero"),
    ],
)
def test_bad_input_is_named(call, match, linear_1):
    d, (_, _, h) = linear_1
    with pytest.raises(ValueError, match=match):
        call(h, d)


def test_plots_never_use_pyplot():
    # No pyplot means no global figure state and no plt.show().
    code = (
        "import sys\n"
        "from derivreg import plots\n"
        "from derivreg.data import linear, logistic\n"
        "from derivreg.train import train\n"
        "d = logistic(2, 50)\n"
        "w, b, h = train(d.X, d.y, loss='bce')\n"
        "plots.decision_boundary(d.X, d.y, w, b)\n"
        "plots.loss_and_accuracy(h)\n"
        "plots.loss_and_parameters(h, loss='bce')\n"
        "plots.sigmoid_parameters()\n"
        "d = linear(1, 20)\n"
        "w, b, h = train(d.X, d.y)\n"
        "plots.model_over_data(d.X, d.y, h, loss='mse', final=(w, b))\n"
        "print('matplotlib.pyplot' in sys.modules, 'sympy' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "False"]


def test_the_truth_is_drawn_where_it_is_known(linear_1):
    # linear-1: the true line y = 5x - 3, dashed on top; logistic-1: the true sigmoid
    # and its boundary x = 0.6.
    d, (w, b, h) = linear_1
    fig = plots.model_over_data(d.X, d.y, h, loss="mse", final=(w, b), true=(d.true_w, d.true_b))
    ax = fig.axes[0]
    lines = {line.get_gid(): line for line in ax.lines}
    assert set(lines) == {"final-model", "true-line"}  # noiseless: no least-squares line
    true = lines["true-line"]
    x, y = (np.asarray(v) for v in true.get_data())
    np.testing.assert_allclose(y, 5 * x - 3)
    assert true.get_linestyle() == "--"
    assert true.get_zorder() > lines["final-model"].get_zorder()
    assert true.get_label() == "true line y = 5x - 3"

    dl = lecture("logistic-1")
    wl, bl, hl = fit(dl)
    fig = plots.model_over_data(
        dl.X, dl.y, hl, loss="bce", final=(wl, bl), true=(dl.true_w, dl.true_b)
    )
    lines = {line.get_gid(): line for line in fig.axes[0].lines}
    x, y = (np.asarray(v) for v in lines["true-sigmoid"].get_data())
    np.testing.assert_allclose(y, 1 / (1 + np.exp(-(5 * x - 3))))
    np.testing.assert_allclose(lines["true-boundary"].get_xdata(), [0.6, 0.6])
    assert lines["true-boundary"].get_label() == "true boundary x = -b/w = 0.6"


def test_the_experiments_figures_draw_the_truth():
    from derivreg.experiments import figures, run

    figs = figures(run(lecture("linear-1")))
    assert "true-line" in [ln.get_gid() for ln in figs["linear-1-models"].axes[0].lines]
    figs = figures(run(lecture("logistic-1")))
    gids = [ln.get_gid() for ln in figs["logistic-1-models"].axes[0].lines]
    assert {"true-sigmoid", "true-boundary"} <= set(gids)
    figs = figures(run(logistic(2, 300, seed=7)))
    gids = [ln.get_gid() for ln in figs["logistic-2-decision-boundary"].axes[0].lines]
    assert gids == ["learned-boundary", "true-boundary"]


def test_many_features_draw_at_most_max_tracks_and_the_distance_to_the_truth():
    from derivreg.data import linear

    d = linear(200, 40)
    h = train(d.X, d.y, w0=d.w0, b0=d.b0, lr=0.001).history
    fig = plots.loss_and_parameters(h, loss="mse", true_w=d.true_w, true_b=d.true_b)
    _, ax_par, ax_err = fig.axes
    names = ax_par.get_legend_handles_labels()[1]
    assert len(names) == plots.MAX_TRACKS + 1  # the largest |true w|, and b
    largest = np.sort(np.argsort(-np.abs(d.true_w))[: plots.MAX_TRACKS])
    assert names[:-1] == [f"w{i + 1}" for i in largest]
    assert "10 of 200 weights" in ax_par.get_legend().get_title().get_text()
    np.testing.assert_allclose(ax_err.lines[0].get_ydata(), np.linalg.norm(h.w - d.true_w, axis=1))
    # Few features: every track, no third axes.
    d3 = lecture("linear-n")
    assert len(plots.loss_and_parameters(fit(d3).history, loss="mse").axes) == 2
