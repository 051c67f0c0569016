"""MathJax 3 shipped inside the built documentation, so formulas render offline.

The pages never load a script from the network.  At build time this
extension finds a local copy of MathJax 3, copies it into the build's
``_static/mathjax/`` and points :mod:`sphinx.ext.mathjax` at it.  The copy
comes from, in order:

1. ``DERIVREG_MATHJAX``: a MathJax 3 ``es5`` directory, or its
   ``tex-mml-chtml.js`` (e.g. ``node_modules/mathjax/es5`` after
   ``npm install mathjax@3``);
2. the PyPI package ``sphinx-mathjax-offline`` (MathJax 3.2.2), part of the
   ``docs`` extra, read as data; its own Sphinx extension is not used.

With neither, the build stops with an error that says how to get one: a
build whose formulas need the network is not built at all.
"""

from __future__ import annotations

import importlib.metadata
import os
from pathlib import Path

from sphinx.application import Sphinx
from sphinx.config import Config
from sphinx.errors import ConfigError
from sphinx.util.fileutil import copy_asset

#: The MathJax component the pages load: TeX input, CommonHTML output.
COMPONENT = "tex-mml-chtml.js"

#: Where the copy goes, under the build's ``_static/``.
TARGET = "mathjax"

_PACKAGE = "sphinx-mathjax-offline"


def find_mathjax() -> Path:
    """The directory of a local MathJax 3 whose ``tex-mml-chtml.js`` the pages load.

    Raises
    ------
    sphinx.errors.ConfigError
        If ``DERIVREG_MATHJAX`` names no MathJax 3 and the package is missing.
    """
    env = os.environ.get("DERIVREG_MATHJAX")
    if env:
        path = Path(env).expanduser().resolve()
        root = path.parent if path.is_file() else path
        if not (root / COMPONENT).is_file():
            raise ConfigError(f"DERIVREG_MATHJAX={env!r}: no {COMPONENT} there (a MathJax 3 es5/)")
        return root
    try:
        dist = importlib.metadata.distribution(_PACKAGE)
    except importlib.metadata.PackageNotFoundError:
        dist = None
    if dist is not None:
        root = Path(str(dist.locate_file(f"{_PACKAGE}/static/mathjax")))
        if (root / COMPONENT).is_file():
            return root
    raise ConfigError(
        "no local MathJax 3 for offline formulas: install the docs extra "
        "(pip install -e '.[docs]', which brings sphinx-mathjax-offline) or set "
        "DERIVREG_MATHJAX to MathJax 3's es5/ directory (npm install mathjax@3)"
    )


def _configure(app: Sphinx, config: Config) -> None:
    root = find_mathjax()
    app.env_mathjax_root = root  # type: ignore[attr-defined]
    # Relative to _static/: sphinx.ext.mathjax then loads it from the build itself.
    config.mathjax_path = f"{TARGET}/{COMPONENT}"


def _copy(app: Sphinx, exc: Exception | None) -> None:
    if exc is not None or app.builder.format != "html":
        return
    root: Path = app.env_mathjax_root  # type: ignore[attr-defined]
    copy_asset(str(root), str(Path(app.outdir) / "_static" / TARGET))


def setup(app: Sphinx) -> dict[str, object]:
    """Register the extension (it loads :mod:`sphinx.ext.mathjax` too)."""
    app.setup_extension("sphinx.ext.mathjax")
    app.connect("config-inited", _configure)
    app.connect("build-finished", _copy)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
