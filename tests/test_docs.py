"""The Sphinx extension renders the live objects, and the pages' examples run.

The directives are exercised by building a one-page Sphinx project in a
temporary directory, in-process, with the extension of ``docs/_ext``: the
registry page must grow a section when a pair is added to the registry, with
no edit to the page.  The whole documentation is built by ``.ci/run``
(``sphinx-build -W``), not here, to keep the suite fast.
"""

from __future__ import annotations

import doctest
import html
import io
import re
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

sphinx_application = pytest.importorskip("sphinx.application")

from sphinx.util.docutils import docutils_namespace  # noqa: E402

from derivreg import symbolic  # noqa: E402
from derivreg.rendering import blocks, render  # noqa: E402
from derivreg.symbolic import Pair, derive, sigmoid, squared_error  # noqa: E402

DOCS = Path(__file__).resolve().parents[1] / "docs"
sys.path.insert(0, str(DOCS / "_ext"))

import derivreg_docs  # noqa: E402

#: A pair the registry does not have: a sigmoid output under the squared error.
EXTRA = Pair(
    name="sqsig",
    title="Sigmoid output, squared error",
    activation=sigmoid,
    loss=squared_error,
    targets="binary",
)


def build(
    tmp_path: Path, body: str, conf: str = "", files: dict[str, str] | None = None
) -> tuple[str, str]:
    """Build a one-page project whose index is ``body``; return (HTML, warnings)."""
    src = tmp_path / "src"
    src.mkdir()
    (src / "conf.py").write_text(
        f"import sys\nsys.path.insert(0, {str(DOCS / '_ext')!r})\n"
        "extensions = ['sphinx.ext.mathjax', 'sphinx.ext.napoleon', 'derivreg_docs']\n" + conf,
        encoding="utf-8",
    )
    for name, text in (files or {}).items():
        (src / name).parent.mkdir(parents=True, exist_ok=True)
        (src / name).write_text(text, encoding="utf-8")
    (src / "index.rst").write_text("Page\n====\n\n" + body, encoding="utf-8")
    warnings = io.StringIO()
    # A fresh docutils registry per build, as sphinx-build has: several apps
    # in one process otherwise warn that their nodes are already registered.
    with docutils_namespace():
        app = sphinx_application.Sphinx(
            srcdir=src,
            confdir=src,
            outdir=tmp_path / "html",
            doctreedir=tmp_path / "doctrees",
            buildername="html",
            status=None,
            warning=warnings,
            freshenv=True,
        )
        app.build()
    return (tmp_path / "html" / "index.html").read_text(encoding="utf-8"), warnings.getvalue()


def math_blocks(page: str) -> list[str]:
    """The LaTeX of every display-math block, unescaped."""
    found = re.findall(r'<div class="math[^"]*">\s*(.*?)\s*</div>', page, flags=re.S)
    return [html.unescape(m) for m in found]


@pytest.fixture
def extra_pair() -> Iterator[Pair]:
    with symbolic.REGISTRY.temporarily(EXTRA):  # the registry's own way in, undone after
        yield EXTRA


def test_registry_page_has_a_section_per_pair(tmp_path):
    page, warnings = build(tmp_path, ".. derivations::\n")
    assert warnings == ""
    for name, pair in symbolic.REGISTRY.items():
        assert f'id="derivation-{name}"' in page
        assert html.escape(pair.title) in page
    assert "sqsig" not in page
    # every pair x 2 forms x every stage.
    assert len(math_blocks(page)) == len(symbolic.STAGES) * 2 * len(symbolic.REGISTRY)


def test_a_new_pair_in_the_registry_adds_its_section(tmp_path, extra_pair):
    page, warnings = build(tmp_path, ".. derivations::\n")
    assert warnings == ""
    assert 'id="derivation-sqsig"' in page
    assert 'id="derivation-sqsig-1"' in page
    assert 'id="derivation-sqsig-n"' in page
    assert extra_pair.title in page
    # Its chain-rule block is the renderer's LaTeX for its own derivation.
    chain = blocks(derive(extra_pair, features=1))[2]
    assert derivreg_docs.latex_of_block(chain) in math_blocks(page)


def test_derivation_directive_prints_the_renderers_latex(tmp_path):
    page, warnings = build(tmp_path, ".. derivation:: mse\n   :features: 1\n")
    assert warnings == ""
    expected = [derivreg_docs.latex_of_block(b) for b in blocks(derive("mse", features=1))]
    assert math_blocks(page) == expected
    # The stage titles are headings (rubrics), not part of the math.
    for title in ("Forward propagation", "Chain rule (backpropagation)", "Parameter update"):
        assert f'<p class="rubric">{title}</p>' in page
    assert r"\frac{\partial J}{\partial z}" in "".join(expected)


def test_latex_of_block_is_the_align_environment_of_render():
    block = blocks(derive("bce"))[1]
    tex = derivreg_docs.latex_of_block(block)
    assert tex.startswith(r"\begin{align*}")
    assert tex.endswith(r"\end{align*}")
    assert tex in render([block], "latex")
    assert r"\paragraph" not in tex


def test_unknown_pair_is_an_error_naming_the_registered_ones(tmp_path):
    _, warnings = build(tmp_path, ".. derivation:: hinge\n")
    assert "unknown pair 'hinge'; registered pairs: bce, gamma, mse, poisson" in warnings


def test_command_output_runs_the_command_at_build_time(tmp_path):
    page, warnings = build(tmp_path, ".. command-output:: derivreg derive mse --features 1\n")
    assert warnings == ""
    text = html.unescape(re.sub(r"<[^>]+>", "", page))
    assert "$ derivreg derive mse --features 1" in text
    assert "Linear regression, mean squared error (1 feature)" in text


def test_command_output_runs_only_derivreg(tmp_path):
    _, warnings = build(tmp_path, ".. command-output:: rm -rf /\n")
    assert "runs only the derivreg command" in warnings


def test_live_role_shows_the_constant(tmp_path):
    page, warnings = build(tmp_path, "Dimension :live:`derivreg.symbolic.CHECK_DIMENSION`.\n")
    assert warnings == ""
    assert f'<span class="pre">{symbolic.CHECK_DIMENSION}</span>' in page


def test_proofs_are_checked_and_rendered_with_every_step(tmp_path):
    from derivreg import proof

    page, warnings = build(tmp_path, ".. proofs:: sigmoid\n")
    assert warnings == ""
    theorems = proof.load("sigmoid").THEOREMS
    assert 'id="proofs-sigmoid"' in page
    for t in theorems:
        assert f'id="{derivreg_docs.nodes.make_id(derivreg_docs.proof_label(t.name))}"' in page
        for status in t.results:
            if status != "start":
                assert html.escape(status) in page
    assert page.count("Checked when these pages were built") == len(theorems)
    assert page.count("<tr") == sum(len(t.steps) + 1 for t in theorems)  # + header rows


def test_a_wrong_proof_fails_the_build(tmp_path, monkeypatch):
    from derivreg import proof

    proofs = tmp_path / "proofs"
    proofs.mkdir()
    (proofs / "bad.py").write_text(
        "import sympy as sp\n"
        "from derivreg.proof import Theorem\n"
        "x = sp.Symbol('x', real=True)\n"
        "THEOREMS = [Theorem('bad.wrong', 'x + 1 = x + 2').start(x + 1).eq(x + 2, 'on purpose')]\n",
        encoding="utf-8",
    )
    monkeypatch.setattr(proof, "PROOFS_DIR", proofs)
    page, warnings = build(tmp_path, ".. proofs::\n")
    assert "proof bad.wrong does not check" in warnings
    assert "FAILED when these pages were built" in page


def test_family_docstring_that_is_not_rst_is_shown_as_written(tmp_path, monkeypatch):
    from derivreg import proof

    proofs = tmp_path / "proofs"
    proofs.mkdir()
    (proofs / "plain.py").write_text(
        '"""Scale |w| grows without bound."""\nTHEOREMS = []\n', encoding="utf-8"
    )
    monkeypatch.setattr(proof, "PROOFS_DIR", proofs)
    page, warnings = build(tmp_path, ".. proofs::\n")
    assert warnings == ""
    assert "Scale |w| grows without bound." in page


def test_file_constant_reads_a_test_tolerance_without_running_the_file():
    from test_codegen import MAX_ULP

    assert derivreg_docs.file_constant("tests/test_codegen.py", "MAX_ULP") == str(MAX_ULP)
    with pytest.raises(LookupError, match="NO_SUCH"):
        derivreg_docs.file_constant("tests/test_codegen.py", "NO_SUCH")


def test_live_role_reads_test_constants_and_reports_bad_names(tmp_path):
    page, warnings = build(
        tmp_path,
        "Bound :live:`tests/test_codegen.py::MAX_ULP` ulp; :live:`os.sep`.\n",
    )
    assert '<span class="pre">4.0</span>' in page
    assert "'os.sep' is not a derivreg dotted name" in warnings


def test_file_docstring_is_shown_and_a_missing_optional_file_is_a_note(tmp_path):
    page, warnings = build(
        tmp_path,
        ".. file-docstring:: tests/test_docs.py\n\n"
        ".. file-docstring:: tests/no_such_file.py\n   :optional:\n",
    )
    assert warnings == ""
    assert "The Sphinx extension renders the live objects" in page
    assert "tests/no_such_file.py is not in this checkout yet." in page


def test_a_file_docstring_with_section_titles_is_parsed_not_shown_raw(tmp_path):
    # The Verification page shows derivreg/testing/_bounds.py's docstring, whose
    # "Rounding model" heading once made the whole docstring raw text.
    page, warnings = build(tmp_path, ".. file-docstring:: derivreg/testing/_bounds.py\n")
    assert warnings == ""
    assert "derivreg-docstring" not in page  # not the literal fallback
    assert '<p class="rubric">Rounding model' in page
    assert "``" not in html.unescape(re.sub(r"<[^>]+>", "", page))


def test_kernel_sources_include_every_generated_file_as_checked_in(tmp_path):
    from derivreg.codegen import KERNEL_DIR

    page, warnings = build(tmp_path, ".. kernel-sources::\n")
    assert warnings == ""
    for name in symbolic.REGISTRY:
        assert f'id="kernel-{name}"' in page
    assert 'id="kernel-init"' in page
    text = html.unescape(re.sub(r"<[^>]+>", "", page))
    for path in KERNEL_DIR.glob("*.py"):
        assert path.read_text(encoding="utf-8").splitlines()[0] in text


# Sphinx 9's own napoleon uses an autodoc interface Sphinx 9 deprecates.
@pytest.mark.filterwarnings("ignore:The mapping interface for autodoc options")
def test_modules_without_a_page_are_documented_on_the_other_modules_page(tmp_path):
    import pkgutil

    import derivreg

    modules = sorted(
        m.name
        for m in pkgutil.walk_packages(derivreg.__path__, "derivreg.")
        if not any(part.startswith("_") for part in m.name.split("."))
    )
    assert "derivreg.data" in modules
    listed = "".join(f".. automodule:: {m}\n" for m in modules if m != "derivreg.data")
    page, warnings = build(
        tmp_path,
        ".. other-modules::\n",
        conf="exclude_patterns = ['listed.rst']\n",
        files={"listed.rst": listed},
    )
    assert warnings == ""
    assert 'id="module-derivreg.data"' in page
    assert 'id="module-derivreg.symbolic"' not in page


def test_benchmark_report_includes_the_markdown_written_by_the_benchmarks(tmp_path):
    conf = "extensions.append('myst_parser')\nexclude_patterns = ['**/*.md']\n"
    report = "# Report\n\n| method | ns |\n|---|---|\n| derivreg | 17 |\n"
    page, warnings = build(
        tmp_path, ".. benchmark-report:: perf\n", conf=conf, files={"perf/results.md": report}
    )
    assert warnings == ""
    assert "<td><p>derivreg</p></td>" in page or "<td>derivreg</td>" in page


def test_benchmark_report_before_any_benchmark_says_so(tmp_path):
    page, warnings = build(tmp_path, ".. benchmark-report:: perf\n")
    assert warnings == ""
    assert "No benchmark report yet" in page


PAGES = sorted(p for p in DOCS.rglob("*.rst") if not {"_build", "auto_examples"} & set(p.parts))


@pytest.mark.parametrize("page", PAGES, ids=[str(p.relative_to(DOCS)) for p in PAGES])
def test_page_examples_run_as_doctests(page):
    result = doctest.testfile(
        str(page),
        module_relative=False,
        optionflags=doctest.NORMALIZE_WHITESPACE | doctest.ELLIPSIS,
        verbose=False,
        report=True,
    )
    assert result.failed == 0
