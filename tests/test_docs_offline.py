"""The documentation reads offline: no script from the network, and the math renders.

A one-page Sphinx project with the Derivations page's directive is built in a
temporary directory with the docs' extensions.  Its HTML must load every
script and stylesheet from the build itself, MathJax included.  Then headless
Chromium (Debian's ``chromium``; the test is skipped without it), with every
host but localhost unresolvable, loads the page from a local HTTP server and
must find the formulas typeset by MathJax.
"""

from __future__ import annotations

import functools
import http.server
import io
import re
import shutil
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

sphinx_application = pytest.importorskip("sphinx.application")

from sphinx.util.docutils import docutils_namespace  # noqa: E402

DOCS = Path(__file__).resolve().parents[1] / "docs"
EXT = DOCS / "_ext"

#: A script or stylesheet loaded from another host.
REMOTE = re.compile(r"""<(?:script|link)\b[^>]*\b(?:src|href)=["'](?:https?:)?//""", re.I)

#: Chromium with no network but localhost (the flags that work on CI's machine).
CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
)


def remote_assets(page: str) -> list[str]:
    """The tags of ``page`` that load a script or stylesheet from the network."""
    found = []
    for match in REMOTE.finditer(page):
        tag = page[match.start() : page.index(">", match.start()) + 1]
        if tag.lower().startswith("<link") and "stylesheet" not in tag.lower():
            continue  # <link rel="canonical">, "index", ...: not loaded
        found.append(tag)
    return found


@pytest.fixture(scope="module")
def derivations_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A built one-page site with every registered derivation, as the Derivations page."""
    root = tmp_path_factory.mktemp("offline")
    src = root / "src"
    src.mkdir()
    (src / "conf.py").write_text(
        f"import sys\nsys.path.insert(0, {str(EXT)!r})\n"
        "extensions = ['sphinx.ext.napoleon', 'derivreg_docs', 'derivreg_mathjax']\n"
        "html_theme = 'furo'\n",
        encoding="utf-8",
    )
    (src / "index.rst").write_text(
        "Derivations\n===========\n\nInline :math:`\\partial J / \\partial z`.\n\n"
        ".. derivations::\n",
        encoding="utf-8",
    )
    warnings = io.StringIO()
    with docutils_namespace():
        app = sphinx_application.Sphinx(
            srcdir=src,
            confdir=src,
            outdir=root / "html",
            doctreedir=root / "doctrees",
            buildername="html",
            status=None,
            warning=warnings,
            freshenv=True,
        )
        app.build()
    assert warnings.getvalue() == ""
    return root / "html"


def test_remote_asset_detector_can_fail():
    cdn = '<script defer src="https://cdn.jsdelivr.net/npm/mathjax@3/es5/tex-mml-chtml.js">'
    assert remote_assets(cdn) == [cdn]
    assert remote_assets('<link rel="stylesheet" href="//cdn.example/x.css" />')
    assert remote_assets('<script src="_static/mathjax/tex-mml-chtml.js"></script>') == []
    assert remote_assets('<link rel="canonical" href="https://example.org/" />') == []


def test_built_page_loads_no_script_from_the_network(derivations_site):
    page = (derivations_site / "index.html").read_text(encoding="utf-8")
    assert remote_assets(page) == []
    assert '<script defer="defer" src="_static/mathjax/tex-mml-chtml.js"></script>' in page
    # The copy is complete enough to typeset: the component, its TeX extensions, its fonts.
    mathjax = derivations_site / "_static" / "mathjax"
    assert (mathjax / "tex-mml-chtml.js").stat().st_size > 500_000
    assert (mathjax / "input" / "tex" / "extensions" / "textmacros.js").is_file()
    assert (
        mathjax / "output" / "chtml" / "fonts" / "woff-v2" / "MathJax_Main-Regular.woff"
    ).is_file()


def test_the_full_build_loads_no_script_from_the_network():
    """``.ci/run`` builds the whole documentation into docs/_build/html before the tests."""
    site = DOCS / "_build" / "html"
    pages = sorted(site.rglob("*.html"))
    if not pages:
        pytest.skip("docs/_build/html is not built (sphinx-build -b html docs docs/_build/html)")
    offending = {
        str(p.relative_to(site)): tags
        for p in pages
        if (tags := remote_assets(p.read_text(encoding="utf-8", errors="replace")))
    }
    assert offending == {}


def test_a_missing_mathjax_is_an_error_that_says_how_to_get_one(monkeypatch, tmp_path):
    import derivreg_mathjax

    monkeypatch.setenv("DERIVREG_MATHJAX", str(tmp_path))
    with pytest.raises(Exception, match=r"no tex-mml-chtml\.js"):
        derivreg_mathjax.find_mathjax()
    (tmp_path / "tex-mml-chtml.js").write_text("/* MathJax */", encoding="utf-8")
    assert derivreg_mathjax.find_mathjax() == tmp_path.resolve()


@pytest.fixture
def served(derivations_site: Path) -> Iterator[str]:
    """The built site on a local HTTP server: its base URL."""
    handler = functools.partial(_QuietHandler, directory=str(derivations_site))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass


def chromium() -> str:
    for name in ("chromium", "chromium-browser"):
        path = shutil.which(name)
        if path:
            return path
    pytest.skip(
        "no chromium on this machine (Debian: apt-get install chromium; .ci/run installs it "
        "where apt works): the offline rendering is not checked in a browser here"
    )
    raise AssertionError  # pragma: no cover - skip raises


def rendered_dom(url: str, profile: Path) -> str:
    """The page's DOM after MathJax has run, from headless Chromium with no network."""
    result = subprocess.run(
        [
            chromium(),
            *CHROMIUM_FLAGS,
            f"--user-data-dir={profile}",
            "--virtual-time-budget=20000",
            "--dump-dom",
            url,
        ],
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    return result.stdout


def test_headless_chromium_renders_the_derivations_offline(served, derivations_site, tmp_path):
    page = (derivations_site / "index.html").read_text(encoding="utf-8")
    n_math = page.count('class="math notranslate')
    dom = rendered_dom(f"{served}/index.html", tmp_path / "profile")
    typeset = dom.count("<mjx-container")
    assert n_math > 10
    # Every display block and the inline formula became a MathJax container, none an error.
    assert typeset >= n_math, (typeset, n_math)
    assert "<mjx-merror" not in dom
    assert "\\begin{align*}" not in re.sub(r"<mjx-assistive-mml.*?</mjx-assistive-mml>", "", dom)


def test_links_into_sympy_name_the_version_of_the_shipped_inventory(monkeypatch):
    import runpy

    monkeypatch.delenv("DERIVREG_DOCS_ONLINE", raising=False)
    conf = runpy.run_path(str(DOCS / "conf.py"))
    shipped = conf["_shipped_version"](DOCS / "_inventories" / "sympy.inv")
    url, (inventory,) = conf["intersphinx_mapping"]["sympy"]
    assert url == f"https://docs.sympy.org/{shipped}/"
    assert inventory.endswith("sympy.inv")
    assert conf["sphinx_gallery_conf"]["write_computation_times"] is False
