"""Sphinx configuration for the derivreg documentation.

Build with ``sphinx-build -W --keep-going -b html docs docs/_build/html``.
Every formula, listing and figure comes from the live package at build time:
the ``derivreg_docs`` extension in ``_ext/`` renders derivations and proofs,
and sphinx-gallery runs the scripts in ``examples/``.
"""

import os
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE / "_ext"))

import derivreg  # noqa: E402

project = "derivreg"
author = "derivreg developers"
copyright = "derivreg developers"
release = derivreg.__version__
version = release

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.napoleon",
    "sphinx.ext.intersphinx",
    "derivreg_mathjax",  # sphinx.ext.mathjax, with MathJax 3 copied into the build
    "sphinx.ext.viewcode",
    "sphinx_gallery.gen_gallery",
    "myst_parser",
    "derivreg_docs",
]

root_doc = "index"
# Markdown files are included into pages (the benchmark report), not pages themselves.
# sg_execution_times.rst: stale timing pages of older builds (they load CDN scripts).
exclude_patterns = [
    "_build",
    "_inventories",
    "examples",
    "**/*.md",
    "*.md",
    "sg_execution_times.rst",
    "**/sg_execution_times.rst",
]
templates_path: list[str] = []
html_static_path = ["_static"]
html_css_files = ["derivreg.css"]
html_theme = "furo"
html_title = f"derivreg {release}"

# -- autodoc and NumPy-style docstrings (napoleon) ---------------------------
autodoc_member_order = "bysource"
autodoc_typehints = "description"
autodoc_typehints_description_target = "documented_params"
autodoc_default_options = {"members": True, "show-inheritance": True}
napoleon_google_docstring = False
napoleon_numpy_docstring = True
# "Attributes" sections become :ivar: fields, so that a dataclass field
# autodoc also documents is not described twice (a duplicate warning).
napoleon_use_ivar = True
napoleon_use_rtype = False

# -- MathJax, offline ---------------------------------------------------------
# derivreg_mathjax (_ext/) copies a local MathJax 3 into _static/mathjax/ and
# sets mathjax_path to it: the pages load no script from the network.
# The renderer puts each step's reason in \text{...}; textmacros lets MathJax
# read the LaTeX escapes (\_, \^{}) there as LaTeX would.
mathjax3_config = {
    "loader": {"load": ["[tex]/textmacros"]},
    "tex": {"packages": {"[+]": ["textmacros"]}},
}

# -- intersphinx, offline -----------------------------------------------------
# CI has no network but the package registries, so intersphinx cannot fetch
# objects.inv.  _inventories/ ships the real inventories of Python, SymPy and
# Hypothesis, taken from Debian's documentation packages (refresh.sh).  NumPy
# and Matplotlib have no such package: offline their names are shown but not
# linked.  With DERIVREG_DOCS_ONLINE=1 every project's current inventory is
# fetched first, and the shipped file is the fallback.
INVENTORIES = HERE / "_inventories"
ONLINE = os.environ.get("DERIVREG_DOCS_ONLINE") == "1"
_DOCS = {
    # name: (current docs, docs of the version the shipped inventory describes)
    "python": ("https://docs.python.org/3/", "https://docs.python.org/{minor}/"),
    "numpy": ("https://numpy.org/doc/stable/", None),
    "sympy": ("https://docs.sympy.org/latest/", "https://docs.sympy.org/{minor}/"),
    "matplotlib": ("https://matplotlib.org/stable/", None),
    "hypothesis": ("https://hypothesis.readthedocs.io/en/latest/", "{current}"),
}


def _shipped_version(path: Path) -> str:
    """``major.minor`` from line 3 of an inventory (``# Version: 1.11.1``)."""
    header = path.read_bytes().split(b"\n", 3)[2].decode()
    return ".".join(header.split(":", 1)[1].strip().split(".")[:2])


def _intersphinx() -> dict[str, tuple[str, tuple[str | None, ...]]]:
    mapping: dict[str, tuple[str, tuple[str | None, ...]]] = {}
    for name, (current, pinned) in _DOCS.items():
        local = INVENTORIES / f"{name}.inv"
        if ONLINE:
            shipped = (str(local),) if local.is_file() else ()
            mapping[name] = (current, (None, *shipped))
        elif local.is_file() and pinned is not None:
            url = pinned.format(minor=_shipped_version(local), current=current)
            mapping[name] = (url, (str(local),))
    return mapping


intersphinx_mapping = _intersphinx()

# -- sphinx-gallery: the lecture's experiments, run at build time -----------
sphinx_gallery_conf = {
    "examples_dirs": "examples",
    "gallery_dirs": "auto_examples",
    "filename_pattern": r"/plot_",
    "download_all_examples": False,
    "remove_config_comments": True,
    "within_subsection_order": "FileNameSortKey",
    "matplotlib_animations": False,
    # derivreg.plots returns Figures without pyplot; derivreg_docs finds them.
    "image_scrapers": ("matplotlib", "derivreg_docs"),
    "show_memory": False,
    "min_reported_time": 10_000,
    # The "Computation times" pages load jQuery, DataTables and Bootstrap from
    # CDNs and report a memory column that is 0.0 without memory profiling:
    # not written.  The timings that matter are on the performance page.
    "write_computation_times": False,
}
