"""Write a figure's pixels as a PNG file: every row unfiltered, deflated by zlib.

Pillow, which Matplotlib's ``savefig`` writes PNG files with, chooses a filter
for every row of an RGBA image by trying four of them byte by byte; for the
lecture's figures that search took as long as deflating the rows (about a
sixth of the instructions of ``derivreg lecture``, measured with callgrind).
Unfiltered rows of a plot, mostly flat colour, deflate about as well (files
a few percent larger at zlib level 1), so this writer skips it.  The pixels
are the same: PNG is lossless whatever the filter.

Examples
--------
>>> import io, tempfile
>>> from pathlib import Path
>>> from PIL import Image
>>> rgba = np.arange(2 * 3 * 4, dtype=np.uint8).reshape(2, 3, 4)
>>> with tempfile.TemporaryDirectory() as tmp:
...     write_png(Path(tmp) / "a.png", rgba, dpi=100, level=1, text={"Software": "derivreg"})
...     with Image.open(Path(tmp) / "a.png") as im:
...         same, info = np.array_equal(np.asarray(im), rgba), im.info
>>> same, info["Software"], round(info["dpi"][0])
(True, 'derivreg', 100)
"""

from __future__ import annotations

import struct
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import matplotlib
import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

__all__ = ["SAVEFIG_RCPARAMS", "SIGNATURE", "save_png", "write_png"]

#: The eight bytes every PNG file starts with.
SIGNATURE = b"\x89PNG\r\n\x1a\n"

#: Metres per inch, for the pHYs chunk (pixels per metre).
_INCH = 0.0254


def _chunk(kind: bytes, data: bytes) -> bytes:
    """One PNG chunk: length, type, data, CRC-32 of type and data."""
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def write_png(
    path: Path, rgba: np.ndarray, *, dpi: float, level: int, text: dict[str, str]
) -> None:
    """Write 8-bit RGBA pixels to ``path`` as a PNG file.

    Parameters
    ----------
    path : Path
        The file to write (replaced if it exists).
    rgba : ndarray of shape (height, width, 4) and dtype uint8
        The pixels, top row first, not premultiplied (as Agg's
        ``buffer_rgba``).
    dpi : float
        Resolution recorded in the file (its pHYs chunk), as Pillow records it.
    level : int
        zlib level, 0 (stored) to 9.
    text : dict of str to str
        Latin-1 keywords and values, one tEXt chunk each (``"Software"``).

    Examples
    --------
    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     write_png(Path(tmp) / "b.png", np.zeros((1, 1, 4), np.uint8), dpi=72, level=9, text={})
    ...     (Path(tmp) / "b.png").read_bytes()[:8] == SIGNATURE
    True
    """
    rgba = np.asarray(rgba)
    if rgba.dtype != np.uint8 or rgba.ndim != 3 or rgba.shape[2] != 4 or 0 in rgba.shape:
        raise ValueError(
            f"expected RGBA pixels of shape (height, width, 4) and dtype uint8, "
            f"got shape {rgba.shape} and dtype {rgba.dtype}"
        )
    height, width, _ = rgba.shape
    rows = np.empty((height, 1 + 4 * width), dtype=np.uint8)
    rows[:, 0] = 0  # each row's filter type: 0, none
    rows[:, 1:] = rgba.reshape(height, 4 * width)
    per_metre = round(dpi / _INCH)
    header = struct.pack(">IIBBBBB", width, height, 8, 6, 0, 0, 0)  # 8 bits, RGBA
    parts = [SIGNATURE, _chunk(b"IHDR", header)]
    parts += [
        _chunk(b"tEXt", key.encode("latin-1") + b"\0" + value.encode("latin-1"))
        for key, value in text.items()
    ]
    parts += [
        _chunk(b"pHYs", struct.pack(">IIB", per_metre, per_metre, 1)),  # 1: per metre
        _chunk(b"IDAT", zlib.compress(rows, level)),  # type: ignore[arg-type]  # a buffer
        _chunk(b"IEND", b""),
    ]
    Path(path).write_bytes(b"".join(parts))


def save_png(fig: Figure, path: Path, *, dpi: float, level: int) -> None:
    """Write the PNG file ``fig.savefig(path, dpi=dpi)`` writes, in one draw where it can.

    The same pixels, under the ``savefig.*`` rcParams too
    (:data:`SAVEFIG_RCPARAMS`), in one draw unless ``savefig.bbox`` is
    ``"tight"``: savefig draws a figure with a layout engine
    twice, once rendering nothing to lay it out, then again to render it; the
    Agg canvas's draw does both at once.  The figure's own dpi and colours
    are restored.

    Parameters
    ----------
    fig : Figure
    path : Path
    dpi : float
        Dots per inch of the file (``savefig.dpi`` is not read, as
        ``savefig(path, dpi=dpi)`` does not read it).
    level : int
        zlib level.

    Examples
    --------
    >>> import tempfile
    >>> from PIL import Image
    >>> fig = Figure(figsize=(2, 1), dpi=72)
    >>> black = matplotlib.rc_context({"savefig.facecolor": "black"})
    >>> with tempfile.TemporaryDirectory() as tmp, black:
    ...     save_png(fig, Path(tmp) / "c.png", dpi=100, level=1)
    ...     with Image.open(Path(tmp) / "c.png") as im:
    ...         size, corner = im.size, im.getpixel((0, 0))
    >>> size, corner, fig.dpi, fig.get_facecolor()
    ((200, 100), (0, 0, 0, 255), 72, (1.0, 1.0, 1.0, 1.0))
    """
    if _only_savefig():
        fig.savefig(path, dpi=dpi, format="png", pil_kwargs={"compress_level": level})
        return
    own = fig.dpi
    fig.dpi = dpi
    try:
        with _as_savefig_colours(fig):
            canvas = FigureCanvasAgg(fig)
            canvas.draw()
            rgba = np.asarray(canvas.buffer_rgba())
        software = f"Matplotlib version{matplotlib.__version__}, https://matplotlib.org/"
        write_png(path, rgba, dpi=dpi, level=level, text={"Software": software})
    finally:
        fig.dpi = own


#: What :func:`save_png` does with each ``savefig.*`` rcParam that can change
#: a PNG file's pixels: the same as ``fig.savefig(path, dpi=dpi)``.
SAVEFIG_RCPARAMS: dict[str, str] = {
    "savefig.facecolor": "the figure's background while drawing ('auto': its own)",
    "savefig.edgecolor": "the figure's edge while drawing ('auto': its own)",
    "savefig.transparent": "no background: the figure's, its subfigures' and every axes'",
    "savefig.bbox": "'tight': the file is written by fig.savefig itself (two draws)",
    "savefig.pad_inches": "with savefig.bbox 'tight' (by fig.savefig)",
}


def _only_savefig() -> bool:
    """Whether the rcParams ask for what only savefig does: a tight bounding box."""
    return matplotlib.rcParams["savefig.bbox"] == "tight"


@contextmanager
def _as_savefig_colours(fig: Figure) -> Iterator[None]:
    """Colour the figure's patches as savefig does under the rcParams; restore them after."""
    rc = matplotlib.rcParams
    patches: dict[int, tuple[Any, Any, Any]] = {}  # id: (patch, facecolor, edgecolor) to restore

    def paint(patch: Any, face: Any, edge: Any) -> None:
        if _is_auto(face) and _is_auto(edge):
            return  # the default: nothing changes, nothing to restore
        patches.setdefault(id(patch), (patch, patch.get_facecolor(), patch.get_edgecolor()))
        if not _is_auto(face):
            patch.set_facecolor(face)
        if not _is_auto(edge):
            patch.set_edgecolor(edge)

    try:
        if rc["savefig.transparent"]:  # as Figure.savefig: every background, then the figure's
            for artist in _backgrounds(fig):
                paint(artist.patch, "none", "none")
            paint(fig.patch, "none", "none")
        else:
            paint(fig.patch, rc["savefig.facecolor"], rc["savefig.edgecolor"])
        yield
    finally:
        for patch, face, edge in patches.values():
            patch.set_facecolor(face)
            patch.set_edgecolor(edge)


def _is_auto(color: object) -> bool:
    return isinstance(color, str) and color == "auto"


def _backgrounds(fig: Any) -> Iterator[Any]:
    """Yield the subfigures and axes (insets too) whose patches savefig makes transparent."""
    for sub in fig.subfigs:
        yield sub
        yield from _backgrounds(sub)
    for ax in fig.axes:
        yield from _axes_and_children(ax)


def _axes_and_children(ax: Any) -> Iterator[Any]:
    yield ax
    for child in ax.child_axes:
        yield from _axes_and_children(child)
