"""save() writes the pixels fig.savefig(path, dpi=PNG_DPI) writes, under the savefig rcParams too.

The one-draw writer (derivreg.plots._png.save_png) used to ignore
savefig.facecolor, savefig.edgecolor, savefig.transparent and savefig.bbox;
each comparison here failed then.  The planted writers below (each leaves one
thing out) show that the comparison catches the omission.
"""

from __future__ import annotations

from contextlib import nullcontext

import matplotlib
import numpy as np
import pytest
from matplotlib.figure import Figure
from PIL import Image

from derivreg.experiments import PNG_DPI, save
from derivreg.plots import _png, sigmoid_parameters


def panels() -> Figure:
    """Subfigures, an inset, a colour bar and a visible figure edge: every patch savefig paints."""
    fig = Figure(figsize=(3, 2), layout="constrained", linewidth=3)
    left, right = fig.subfigures(1, 2)
    ax = left.subplots()
    ax.plot([0, 1], [1, 0])
    ax.inset_axes([0.55, 0.55, 0.4, 0.4]).plot([0, 1])
    image = right.subplots().imshow(np.arange(4.0).reshape(2, 2))
    right.colorbar(image)
    return fig


FIGURES = {"panels": panels, "sigmoid": sigmoid_parameters}

SETTINGS = {
    "default": {},
    "facecolor": {"savefig.facecolor": "tab:red"},
    "edgecolor": {"savefig.edgecolor": "tab:green"},
    "both colours": {"savefig.facecolor": (0.1, 0.2, 0.3, 0.5), "savefig.edgecolor": "blue"},
    "transparent": {"savefig.transparent": True},
    "transparent over a facecolor": {"savefig.transparent": True, "savefig.facecolor": "red"},
    "tight": {"savefig.bbox": "tight"},
    "tight, padded": {"savefig.bbox": "tight", "savefig.pad_inches": 0.4},
    "a dpi (not read)": {"savefig.dpi": 37},
}


def pixels(path) -> np.ndarray:
    with Image.open(path) as im:
        return np.asarray(im)


def same_as_savefig(tmp_path, make, rc) -> bool:
    """Whether save() and fig.savefig(path, dpi=PNG_DPI) write the same pixels under ``rc``.

    Each gets a figure of its own (a second layout starts from the first's positions).
    """
    with matplotlib.rc_context(rc):
        (ours,) = save({"ours": make()}, tmp_path)
        make().savefig(tmp_path / "theirs.png", dpi=PNG_DPI)
    a, b = pixels(ours), pixels(tmp_path / "theirs.png")
    return a.shape == b.shape and np.array_equal(a, b)


#: Every setting on the test figure; on a lecture figure (its style), one of each kind.
CASES = [("panels", setting) for setting in SETTINGS] + [
    ("sigmoid", setting) for setting in ("default", "both colours", "transparent", "tight")
]


@pytest.mark.parametrize(("figure", "setting"), CASES)
def test_save_writes_the_pixels_savefig_writes_under_the_savefig_rcparams(
    tmp_path, figure, setting
):
    assert same_as_savefig(tmp_path, FIGURES[figure], SETTINGS[setting])


def test_the_settings_change_the_pixels_so_the_comparison_means_something(tmp_path):
    default = pixels(save({"a": panels()}, tmp_path)[0])
    for setting, rc in SETTINGS.items():
        if setting in ("default", "a dpi (not read)"):
            continue
        with matplotlib.rc_context(rc):
            changed = pixels(save({"b": panels()}, tmp_path)[0])
        assert changed.shape != default.shape or not np.array_equal(changed, default), setting


PLANTED = {
    # (what the planted writer leaves out, the setting that shows it)
    "the rcParams' colours": ("_as_savefig_colours", lambda fig: nullcontext(), "facecolor"),
    "the axes' backgrounds": ("_backgrounds", lambda fig: iter(()), "transparent"),
    "the inset axes": ("_axes_and_children", lambda ax: iter([ax]), "transparent"),
    "the tight box": ("_only_savefig", lambda: False, "tight"),
}


@pytest.mark.parametrize("bug", list(PLANTED))
def test_the_comparison_catches_a_planted_writer(tmp_path, monkeypatch, bug):
    name, planted, setting = PLANTED[bug]
    monkeypatch.setattr(_png, name, planted)
    assert not same_as_savefig(tmp_path, panels, SETTINGS[setting])


def count_draws(monkeypatch) -> list[int]:
    calls = [0]
    draw = Figure.draw

    def counted(self, renderer):
        calls[0] += 1
        return draw(self, renderer)

    monkeypatch.setattr(Figure, "draw", counted)
    return calls


@pytest.mark.parametrize(
    ("setting", "draws"),
    [("default", 1), ("facecolor", 1), ("transparent", 1), ("tight", 2)],
)
def test_save_draws_once_unless_the_box_is_tight(tmp_path, monkeypatch, setting, draws):
    fig = panels()
    calls = count_draws(monkeypatch)
    with matplotlib.rc_context(SETTINGS[setting]):
        save({"a": fig}, tmp_path)
    assert calls[0] == draws


def test_savefig_itself_draws_twice_so_the_count_tells_the_ways_apart(tmp_path, monkeypatch):
    fig = panels()
    calls = count_draws(monkeypatch)
    fig.savefig(tmp_path / "a.png", dpi=PNG_DPI)
    assert calls[0] == 2


def test_save_leaves_the_figure_as_it_was(tmp_path):
    fig = panels()
    patches = [fig.patch, *(s.patch for s in fig.subfigs), *(ax.patch for ax in fig.axes)]
    patches += [child.patch for ax in fig.axes for child in ax.child_axes]
    before = [(p.get_facecolor(), p.get_edgecolor()) for p in patches]
    dpi = fig.dpi
    with matplotlib.rc_context({"savefig.transparent": True, "savefig.edgecolor": "red"}):
        save({"a": fig}, tmp_path)
    assert [(p.get_facecolor(), p.get_edgecolor()) for p in patches] == before
    assert fig.dpi == dpi
