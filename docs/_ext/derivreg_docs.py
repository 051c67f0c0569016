"""Sphinx directives that render derivreg's live objects, so the docs cannot drift.

Directives
----------
``.. derivation:: NAME``
    The chain-rule derivation ``derivreg.derive(NAME, features=...)``, one
    rubric and one ``align*`` block per stage, printed by
    :func:`derivreg.rendering.render`.  Option ``:features:`` is ``1`` or ``n``
    (default ``n``).
``.. derivations::``
    A section per pair of :data:`derivreg.symbolic.REGISTRY`, read at build
    time, each with its 1-feature and n-feature derivation: a new pair in the
    registry is a new section, with no edit to the docs.
``.. command-output:: derivreg ARGS...``
    Runs the ``derivreg`` command in-process at build time and shows the
    command and what it printed.
``.. kernel-sources::``
    The checked-in source of every generated kernel module, read from disk.
``.. stable-rewrites::``
    The generator's stable rewrites (:data:`derivreg.codegen.RULES`) and
    printed forms, each linked to the theorem that proves it.

Role
----
``:live:`dotted.name``` inserts ``str()`` of a package constant, so that a
number quoted in prose is the number the code uses.
"""

from __future__ import annotations

import ast
import contextlib
import dataclasses
import importlib
import importlib.util
import inspect
import io
import os
import re
import shlex
import sys
from collections.abc import Iterable, Sequence
from pathlib import Path

from docutils import nodes
from docutils.parsers.rst import directives
from docutils.statemachine import StringList
from sphinx import addnodes
from sphinx.application import Sphinx
from sphinx.util import logging
from sphinx.util.docutils import SphinxDirective, SphinxRole
from sphinx.util.nodes import nested_parse_with_titles

logger = logging.getLogger(__name__)

_FEATURES = {"1": 1, "n": "n"}


def _labels(pair: object) -> str:
    """The labels' domain in words, from the pair's SymPy set (what the kernels check)."""
    from derivreg.codegen.domain import domain_text

    return f"in {domain_text(pair.domain)}"  # type: ignore[attr-defined]


# ---------------------------------------------------------------------------
# Shared helpers.
# ---------------------------------------------------------------------------
def latex_of_block(block: object) -> str:
    r"""The ``align*`` environment :func:`derivreg.rendering.render` prints for one block.

    The renderer's LaTeX output for a list of blocks is, per block, a
    ``\paragraph`` heading, the note, and an ``align*`` environment; the
    heading and note are shown as document nodes instead, so only the
    environment is kept here.
    """
    from derivreg.rendering import render

    out = render([block], "latex")
    start = out.find(r"\begin{align*}")
    end = out.rfind(r"\end{align*}")
    if start < 0 or end < 0:
        raise ValueError(f"the renderer printed no align* environment for {block!r}")
    return out[start : end + len(r"\end{align*}")]


def blocks_to_nodes(groups: Iterable[object], source: tuple[str, int]) -> list[nodes.Node]:
    """One rubric, optional note and display-math node per non-empty block."""
    out: list[nodes.Node] = []
    for block in groups:
        if not block.rows:
            continue
        out.append(nodes.rubric(text=block.title))
        if block.note:
            out.append(nodes.paragraph(text=block.note))
        tex = latex_of_block(block)
        math = nodes.math_block(tex, tex, nowrap=True, number=None, label=None)
        math.source, math.line = source
        out.append(math)
    return out


def derivation_nodes(name: str, features: int | str, source: tuple[str, int]) -> list[nodes.Node]:
    """The nodes of one derivation, from :func:`derivreg.derive`."""
    from derivreg.rendering import blocks
    from derivreg.symbolic import derive

    container = nodes.container(classes=["derivreg-derivation"])
    derivation = derive(name, features=features)
    # The vector-output model (k classes) turns itself into blocks.
    groups = derivation.blocks() if hasattr(derivation, "blocks") else blocks(derivation)
    container += blocks_to_nodes(groups, source)
    return [container]


def section(document: nodes.document, title: str, label: str) -> nodes.section:
    """A section with a title and an explicit target ``label`` (usable with ``:ref:``)."""
    node = nodes.section()
    node["ids"].append(nodes.make_id(label))
    node["names"].append(nodes.fully_normalize_name(label))
    node += nodes.title(text=title)
    document.note_explicit_target(node, node)
    return node


def depend_on_package(directive: SphinxDirective, *modules: str) -> None:
    """Rebuild the page when one of these derivreg modules changes."""
    for module in modules:
        path = getattr(importlib.import_module(module), "__file__", None)
        if path:
            directive.env.note_dependency(path)


# ---------------------------------------------------------------------------
# Directives.
# ---------------------------------------------------------------------------
class DerivationDirective(SphinxDirective):
    """``.. derivation:: NAME`` with ``:features: 1|n``."""

    required_arguments = 1
    option_spec = {"features": lambda arg: directives.choice(arg, tuple(_FEATURES))}  # noqa: RUF012

    def run(self) -> list[nodes.Node]:
        from derivreg.symbolic import REGISTRY
        from derivreg.symbolic.softmax import NAME as VECTOR_MODEL

        name = self.arguments[0]
        if name not in REGISTRY and name != VECTOR_MODEL:
            known = ", ".join(sorted(REGISTRY))
            raise self.error(f"unknown pair {name!r}; registered pairs: {known}")
        depend_on_package(self, "derivreg.symbolic", "derivreg.rendering")
        features = _FEATURES[self.options.get("features", "n")]
        return derivation_nodes(name, features, self.get_source_info())


class DerivationsDirective(SphinxDirective):
    """``.. derivations::``: every registered pair, both forms, a section each."""

    def run(self) -> list[nodes.Node]:
        from derivreg import symbolic

        depend_on_package(self, "derivreg.symbolic", "derivreg.rendering")
        source = self.get_source_info()
        out: list[nodes.Node] = []
        for name, pair in symbolic.REGISTRY.items():
            sec = section(self.state.document, f"{pair.title} ({name})", f"derivation-{name}")
            sec += nodes.paragraph(
                "",
                "",
                nodes.Text("Rendered from "),
                nodes.literal(text=f'derivreg.derive("{name}", features=...)'),
                nodes.Text(f"; labels y are {_labels(pair)}."),
            )
            for features, words in ((1, "1 feature"), ("n", "n features")):
                sub = section(self.state.document, words, f"derivation-{name}-{features}")
                sub += derivation_nodes(name, features, source)
                sec += sub
            out.append(sec)
        return out


class CommandOutputDirective(SphinxDirective):
    """``.. command-output:: derivreg ARGS``: the command and its output, run at build time."""

    required_arguments = 1
    final_argument_whitespace = True

    def run(self) -> list[nodes.Node]:
        from derivreg.cli import main

        line = self.arguments[0]
        argv = shlex.split(line)
        if not argv or argv[0] != "derivreg":
            raise self.error(f"command-output runs only the derivreg command, not {line!r}")
        depend_on_package(
            self,
            "derivreg.cli",
            "derivreg._cli_commands",
            "derivreg.symbolic",
            "derivreg.rendering",
        )
        out, err = io.StringIO(), io.StringIO()
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                status = main(argv[1:])
            except SystemExit as exc:
                status = exc.code
        if status != 0:
            raise self.error(f"{line!r} exited with status {status}: {err.getvalue().strip()}")
        text = f"$ {line}\n{out.getvalue().rstrip()}"
        block = nodes.literal_block(text, text, language="console")
        block.source, block.line = self.get_source_info()
        return [block]


class KernelSourcesDirective(SphinxDirective):
    """``.. kernel-sources::``: every file of ``derivreg/kernels/``, as checked in.

    Each registered pair's modules come in registry order (``mse.py``, then
    any other module generated for it, such as ``mse_loop.py``), then the
    package's ``__init__.py``; each is introduced by its docstring's first
    line.
    """

    def run(self) -> list[nodes.Node]:
        from derivreg.codegen import KERNEL_DIR
        from derivreg.symbolic import REGISTRY

        files = sorted(KERNEL_DIR.glob("*.py"))
        order = {name: i for i, name in enumerate(REGISTRY)}

        def key(path: Path) -> tuple[int, str]:
            pair = path.stem.split("_")[0]
            if path.name == "__init__.py":
                return (len(order) + 1, "")
            return (order.get(pair, len(order)), path.stem)

        out: list[nodes.Node] = []
        for path in sorted(files, key=key):
            self.env.note_dependency(str(path))
            code = path.read_text(encoding="utf-8")
            doc = ast.get_docstring(ast.parse(code)) or ""
            title = f"derivreg/kernels/{path.name}"
            sec = section(self.state.document, title, f"kernel-{path.stem}")
            first = doc.strip().splitlines()[0] if doc.strip() else ""
            sec += nodes.paragraph(
                "",
                "",
                *_inline_literals(first),
                nodes.Text(f" ({len(code.splitlines())} lines)"),
            )
            block = nodes.literal_block(code, code, language="python", linenos=True)
            block.source, block.line = str(path), 1
            sec += block
            out.append(sec)
        return out


class StableRewritesDirective(SphinxDirective):
    """``.. stable-rewrites::``: a table of the generator's rewrites, linked to proofs."""

    def run(self) -> list[nodes.Node]:
        from derivreg import codegen

        depend_on_package(self, "derivreg.codegen")
        rows = [(rule.name, rule.statement, rule.theorem, "rewrite") for rule in codegen.RULES] + [
            (kind.__name__, _first_line(kind.__doc__), theorem, "printed form")
            for kind, theorem in codegen.EXPANSIONS.items()
        ]
        return [_table(["Name", "Kind", "Identity", "Proof"], rows, self.env.docname)]


def _inline_literals(text: str) -> list[nodes.Node]:
    """Text with its ````code```` spans as literal nodes (docstring first lines use them)."""
    parts = text.split("``")
    if len(parts) % 2 == 0:  # unbalanced: show as written
        return [nodes.Text(text)]
    return [nodes.literal(text=p) if i % 2 else nodes.Text(p) for i, p in enumerate(parts) if p]


def _first_line(doc: str | None) -> str:
    return (doc or "").strip().splitlines()[0] if doc else ""


def proof_label(theorem: str) -> str:
    """The ``:ref:`` label of a theorem's section on the proofs page."""
    return "proof-" + theorem


#: The proof family of the generator's rewrites (``derivreg.codegen.Rule.theorem``).
REWRITE_FAMILY = "stability"


def _proofs_landed() -> bool:
    """Whether ``derivreg.proof`` and ``proofs/`` exist, so proof links can resolve."""
    try:
        from derivreg import proof
    except ImportError:
        return False
    return proof.PROOFS_DIR.is_dir()


def _proof_ref(theorem: str, docname: str) -> nodes.Node:
    """A link to a rewrite's theorem on the proofs page (plain text before proofs exist)."""
    theorem = theorem if "." in theorem else f"{REWRITE_FAMILY}.{theorem}"
    if not _proofs_landed():
        return nodes.literal(text=theorem)
    ref = addnodes.pending_xref(
        "",
        refdomain="std",
        reftype="ref",
        reftarget=nodes.fully_normalize_name(proof_label(theorem)),
        refexplicit=True,
        refwarn=True,
        refdoc=docname,
    )
    ref += nodes.literal(text=theorem)
    return ref


def _table(
    header: Sequence[str], rows: Sequence[tuple[str, str, str, str]], docname: str
) -> nodes.table:
    table = nodes.table(classes=["derivreg-rewrites", "colwidths-given"])
    group = nodes.tgroup(cols=len(header))
    table += group
    for width in (12, 10, 48, 30):
        group += nodes.colspec(colwidth=width)
    head = nodes.thead()
    head += nodes.row("", *(nodes.entry("", nodes.paragraph(text=h)) for h in header))
    group += head
    body = nodes.tbody()
    for name, statement, theorem, kind in rows:
        body += nodes.row(
            "",
            nodes.entry("", nodes.paragraph("", "", nodes.literal(text=name))),
            nodes.entry("", nodes.paragraph(text=kind)),
            nodes.entry("", nodes.paragraph("", "", *_inline_literals(statement))),
            nodes.entry("", nodes.paragraph("", "", _proof_ref(theorem, docname))),
        )
    group += body
    return table


class ProofsDirective(SphinxDirective):
    """``.. proofs:: [FAMILY ...]``: every theorem of ``proofs/*.py``, checked now.

    Each family (a file of ``proofs/``) is a section with the file's
    docstring; each theorem a subsection labelled ``proof-<theorem name>``
    with its statement, assumptions, its steps and reasons as rendered by
    :func:`derivreg.rendering.render`, and the status of the check run while
    the page is built.  A step that fails is shown as failed and reported as
    a warning, so ``sphinx-build -W`` fails with it.
    """

    optional_arguments = 100

    def run(self) -> list[nodes.Node]:
        import time

        if not _proofs_landed():
            note = "The proof checker (derivreg.proof) and proofs/ are not in this checkout yet."
            return [nodes.paragraph(text=note)]
        from derivreg import proof

        depend_on_package(self, "derivreg.proof", "derivreg.rendering", "derivreg.symbolic")
        names = self.arguments or proof.families()
        out: list[nodes.Node] = []
        counts = {"theorems": 0, "steps": 0, "failed": 0, "seconds": 0.0}
        for family in names:
            path = proof.PROOFS_DIR / f"{family}.py"
            self.env.note_dependency(str(path))
            module = proof.load(family)
            sec = section(self.state.document, f"proofs/{family}.py", f"proofs-{family}")
            if module.__doc__:
                sec += self._docstring(module.__doc__, str(path))
            for theorem in module.THEOREMS:
                started = time.perf_counter()
                try:
                    theorem.check()
                    failure = ""
                except proof.ProofError as err:
                    failure = str(err)
                    logger.warning(
                        "proof %s does not check: %s", theorem.name, failure, location=str(path)
                    )
                seconds = time.perf_counter() - started
                sec += self._theorem(theorem, failure, seconds)
                counts["theorems"] += 1
                counts["steps"] += theorem.n_steps
                counts["failed"] += bool(failure)
                counts["seconds"] += seconds
            out.append(sec)
        verdict = "all checked" if not counts["failed"] else f"{counts['failed']} FAILED"
        summary = nodes.paragraph(classes=["derivreg-status"])
        summary += nodes.strong(text="When these pages were built: ")
        summary += nodes.Text(
            f"{counts['theorems']} theorems in {len(names)} families, {counts['steps']} steps, "
            f"{verdict}, in {counts['seconds']:.1f} s."
        )
        return [summary, *out]

    def _docstring(self, doc: str, source: str) -> list[nodes.Node]:
        """A family's docstring (the files of ``proofs/`` are also read in a terminal)."""
        return rst_or_literal(self, doc, source)

    def _theorem(self, theorem: object, failure: str, seconds: float) -> nodes.section:
        sub = section(self.state.document, theorem.name, proof_label(theorem.name))
        sub += nodes.paragraph("", "", nodes.strong(text="Theorem. "), nodes.Text(theorem.summary))
        if theorem.statement:  # what is checked: SymPy relations, shown as math
            from derivreg.rendering import latex

            tex = r",\qquad ".join(latex(claim) for claim in theorem.statement)
            sub += nodes.math_block(tex, tex, nowrap=False, number=None, label=None)
        (block,) = theorem.blocks()
        if block.note:
            sub += nodes.paragraph(text=block.note, classes=["derivreg-assumptions"])
        sub += _steps_table(block, theorem.results, self.get_source_info())
        if failure:
            status = nodes.paragraph(classes=["derivreg-status", "derivreg-failed"])
            status += nodes.strong(text="FAILED when these pages were built: ")
            status += nodes.literal(text=failure)
        else:
            steps = theorem.n_steps
            status = nodes.paragraph(classes=["derivreg-status", "derivreg-checked"])
            status += nodes.strong(text="Checked when these pages were built: ")
            status += nodes.Text(
                f"{steps} step{'s' if steps != 1 else ''}, each symbolically by SymPy and "
                f"numerically by mpmath; all passed ({seconds:.2f} s)."
            )
        sub += status
        return sub


def _steps_table(block: object, statuses: Sequence[str], source: tuple[str, int]) -> nodes.table:
    """A theorem's rows as a table: step number, the math, the reason, the check.

    The math of each row is the renderer's own ``align*`` for that row alone
    (its reason moved to the reason column, so that long reasons wrap); the
    check column is the status the proof checker recorded for the step.
    """
    from derivreg.rendering import Block

    table = nodes.table(classes=["derivreg-proof-steps", "colwidths-given"])
    group = nodes.tgroup(cols=4)
    table += group
    for width in (4, 52, 26, 18):
        group += nodes.colspec(colwidth=width)
    head = nodes.thead()
    head += nodes.row(
        "", *(nodes.entry("", nodes.paragraph(text=h)) for h in ("", "Step", "Reason", "Check"))
    )
    group += head
    body = nodes.tbody()
    number = 0
    for row, status in zip(block.rows, statuses, strict=True):
        suffix = f" [{status}]"
        reason = row.reason[: -len(suffix)] if row.reason.endswith(suffix) else row.reason
        tex = latex_of_block(Block("", [dataclasses.replace(row, reason="")]))
        math = nodes.math_block(tex, tex, nowrap=True, number=None, label=None)
        math.source, math.line = source
        if status == "start":
            label, check = "", ""
        else:
            number += 1
            label, check = str(number), status
        classes = ["derivreg-failed"] if status == "FAILED" else []
        body += nodes.row(
            "",
            nodes.entry("", nodes.paragraph(text=label)),
            nodes.entry("", math),
            nodes.entry("", nodes.paragraph(text=reason)),
            nodes.entry("", nodes.paragraph(text=check, classes=classes)),
        )
    group += body
    return table


class FileDocstringDirective(SphinxDirective):
    """``.. file-docstring:: tests/x.py``: a file's module docstring, read with :mod:`ast`.

    With ``:optional:``, a file that does not exist yet gives a note instead
    of an error.

    The reasoning behind a test's tolerances lives in the test's own
    docstring; this shows it here without running (or importing) the file.
    Valid reStructuredText is parsed, anything else shown as written.
    """

    required_arguments = 1
    option_spec = {"optional": directives.flag}  # noqa: RUF012

    def run(self) -> list[nodes.Node]:
        path = ROOT / self.arguments[0]
        if not path.is_file():
            if "optional" in self.options:
                note = f"{self.arguments[0]} is not in this checkout yet."
                return [nodes.paragraph(text=note)]
            raise self.error(f"no such file: {self.arguments[0]}")
        self.env.note_dependency(str(path))
        doc = ast.get_docstring(ast.parse(path.read_text(encoding="utf-8")), clean=True)
        if not doc:
            raise self.error(f"{self.arguments[0]} has no module docstring")
        return rst_or_literal(self, titles_as_rubrics(doc), str(path))


_UNDERLINE = re.compile(r"^([=\-~^\"'`#*+])\1+$")


def titles_as_rubrics(doc: str) -> str:
    """Turn a docstring's section titles into rubrics, so it can be parsed inside a page.

    A directive's content cannot open sections; a heading such as
    ``Rounding model`` over a line of dashes would make the whole docstring
    invalid reStructuredText (and so shown as raw text).

    Examples
    --------
    >>> print(titles_as_rubrics("Intro.\\n\\nModel of it\\n---------\\n\\nText."))
    Intro.
    <BLANKLINE>
    .. rubric:: Model of it
    <BLANKLINE>
    Text.
    """
    lines = doc.splitlines()
    out: list[str] = []
    i = 0
    while i < len(lines):
        line = lines[i]
        under = lines[i + 1] if i + 1 < len(lines) else ""
        # A title's underline, even a short one (docutils still reads a title there).
        heading = line.strip() and not line[0].isspace() and not _UNDERLINE.match(line)
        if heading and _UNDERLINE.match(under) and len(under) >= 3:
            out += [f".. rubric:: {line.strip()}", ""]
            i += 2
            if i < len(lines) and not lines[i].strip():
                i += 1  # the blank line after the title is already there
            continue
        out.append(line)
        i += 1
    return "\n".join(out)


class PropertySuiteDirective(SphinxDirective):
    """``.. property-suite::``: the Hypothesis properties of ``tests/properties/``, listed live.

    Imports the property modules the way pytest does (``tests/`` on the
    path) and lists every ``Property`` object with the pairs and kernel
    builds it runs on, the planted bugs it must catch, and its check's
    docstring, where the tolerance is derived.  The examples per property
    come from the Hypothesis profiles registered in ``tests/conftest.py``.
    """

    def run(self) -> list[nodes.Node]:
        suite = ROOT / "tests" / "properties"
        if not (suite / "factory.py").is_file():
            return [nodes.paragraph(text="The property suite is not in this checkout yet.")]
        for path in (*suite.glob("*.py"), ROOT / "tests" / "conftest.py"):
            self.env.note_dependency(str(path))
        profiles = _hypothesis_profiles()
        factory = _import_tests_module("properties.factory")
        properties: list[tuple[str, object]] = []
        for path in sorted(suite.glob("test_*.py")):
            module = _import_tests_module(f"properties.{path.stem}")
            properties += [
                (path.name, value)
                for value in vars(module).values()
                if isinstance(value, factory.Property)
            ]
        out: list[nodes.Node] = [self._summary(properties, profiles, factory)]
        for filename, prop in properties:
            out += self._property(filename, prop, factory)
        return out

    def _summary(self, properties: list, profiles: dict[str, int], factory: object) -> nodes.Node:
        holds = sum(len(factory.pairs(p)) * len(p.variants) for _, p in properties)
        catches = sum(len(factory.planted_cases(p)) for _, p in properties)
        para = nodes.paragraph()
        per = ", ".join(f"{n} under ``{k}``" for k, n in profiles.items())
        para += nodes.Text(
            f"{len(properties)} properties, stated once each and run over the registry: "
            f"{holds} (property, pair, kernel build) cases that must hold, each with "
            f"Hypothesis drawing as many examples as its profile says ({per.replace('``', '')}), "
            f"and {catches} (property, planted bug) cases that must fail."
        )
        return para

    def _property(self, filename: str, prop: object, factory: object) -> list[nodes.Node]:
        out: list[nodes.Node] = [nodes.rubric(text=prop.name)]
        items = nodes.bullet_list()
        facts = [
            (
                "in",
                f"{prop.check.__module__}.{prop.check.__name__}; "
                f"run by tests/properties/{filename}",
            ),
            ("pairs", ", ".join(factory.pairs(prop))),
            ("kernel builds", ", ".join(prop.variants)),
            ("must catch", "; ".join(prop.catches)),
        ]
        for key, value in facts:
            items += nodes.list_item(
                "", nodes.paragraph("", "", nodes.strong(text=f"{key}: "), nodes.Text(value))
            )
        out.append(items)
        doc = inspect.cleandoc(prop.check.__doc__ or "")
        if doc:
            out.append(nodes.literal_block(doc, doc, language="text"))
        return out


def _import_tests_module(name: str) -> object:
    """Import a module of ``tests/`` as pytest would (``tests/`` on ``sys.path``)."""
    tests = str(ROOT / "tests")
    if tests not in sys.path:
        sys.path.insert(0, tests)
    return importlib.import_module(name)


def _hypothesis_profiles() -> dict[str, int]:
    """``max_examples`` of each profile ``tests/conftest.py`` registers, in its order.

    The profile names are read from the ``register_profile`` calls; their
    settings from Hypothesis after running the conftest (as pytest would).
    """
    from hypothesis import settings

    path = ROOT / "tests" / "conftest.py"
    names = [
        node.args[0].value
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
        if isinstance(node, ast.Call)
        and getattr(node.func, "attr", "") == "register_profile"
        and node.args
        and isinstance(node.args[0], ast.Constant)
    ]
    spec = importlib.util.spec_from_file_location("_derivreg_tests_conftest", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return {name: settings.get_profile(name).max_examples for name in names}


class OtherModulesDirective(SphinxDirective):
    """``.. other-modules::``: autodoc of every derivreg module without a page of its own.

    A module counts as documented when some page of the directive's folder
    has an ``automodule`` for it; every other module of the package (but
    ``__main__`` and ``_private`` ones) is documented here, so a new module
    reaches the API reference with no edit to the docs.  When every module
    has its page, the directive adds nothing (no empty section).
    """

    def run(self) -> list[nodes.Node]:
        import pkgutil

        import derivreg

        folder = Path(self.env.doc2path(self.env.docname)).parent
        documented = set()
        for page in folder.glob("*.rst"):
            self.env.note_dependency(str(page))
            text = page.read_text(encoding="utf-8")
            documented |= set(re.findall(r"^\.\. automodule:: (\S+)", text, flags=re.M))
        modules = sorted(
            info.name
            for info in pkgutil.walk_packages(derivreg.__path__, "derivreg.")
            if not any(part.startswith("_") for part in info.name.split("."))
        )
        missing = [m for m in modules if m not in documented]
        if not missing:
            return []  # no empty "Other modules" section
        lines = []
        for module in missing:
            lines += [module, "-" * len(module), "", f".. automodule:: {module}", ""]
        holder = nodes.section()
        nested_parse_with_titles(self.state, StringList(lines, source="other-modules"), holder)
        return list(holder.children)


class BenchmarkReportDirective(SphinxDirective):
    """``.. benchmark-report:: FOLDER``: the report ``benchmarks/run.py`` wrote there.

    Includes ``FOLDER/results.md`` (Markdown, parsed by MyST) and the chart
    ``FOLDER/benchmark.png``, both relative to the docs' source folder.
    Until a report exists, says so instead of showing numbers.  Option
    ``:omit: PREFIX`` leaves out the report's ``##`` sections whose heading
    starts with ``PREFIX`` (the report's internal targets, on a page for users).
    """

    required_arguments = 1
    option_spec = {"omit": directives.unchanged_required}  # noqa: RUF012

    def run(self) -> list[nodes.Node]:
        folder = Path(self.env.srcdir) / self.arguments[0]
        report, chart = folder / "results.md", folder / "benchmark.png"
        if not report.is_file():
            note = (
                f"No benchmark report yet: run python benchmarks/run.py, which writes "
                f"{self.arguments[0]}/results.md and benchmark.png for this page."
            )
            return [nodes.paragraph(text=note)]
        self.env.note_dependency(str(report))
        lines = []
        if chart.is_file():
            self.env.note_dependency(str(chart))
            lines += [
                f".. image:: /{self.arguments[0]}/benchmark.png",
                "   :alt: benchmark chart written by benchmarks/run.py",
                "",
            ]
        omit = self.options.get("omit")
        if omit:
            kept = omit_sections(report.read_text(encoding="utf-8"), omit)
            # Written beside the doctrees, included by a path relative to the source folder.
            include = Path(self.env.doctreedir) / "derivreg-report" / "results.md"
            include.parent.mkdir(parents=True, exist_ok=True)
            if not include.is_file() or include.read_text(encoding="utf-8") != kept:
                include.write_text(kept, encoding="utf-8")
            target = "/" + os.path.relpath(include, self.env.srcdir).replace(os.sep, "/")
        else:
            target = f"/{self.arguments[0]}/results.md"
        lines += [f".. include:: {target}", "   :parser: myst_parser.sphinx_"]
        holder = nodes.section()
        nested_parse_with_titles(self.state, StringList(lines, source="benchmark-report"), holder)
        return list(holder.children)


def omit_sections(markdown: str, prefix: str) -> str:
    """``markdown`` without its ``##`` sections whose heading starts with ``prefix``.

    Examples
    --------
    >>> print(omit_sections("# R\\n## A\\na\\n## Targets of x\\nt\\n## B\\nb", "Targets"))
    # R
    ## A
    a
    ## B
    b
    """
    out, skipping = [], False
    for line in markdown.splitlines(keepends=True):
        if line.startswith("## "):
            skipping = line[3:].startswith(prefix)
        elif line.startswith("# "):
            skipping = False
        if not skipping:
            out.append(line)
    return "".join(out)


def rst_or_literal(directive: SphinxDirective, doc: str, source: str) -> list[nodes.Node]:
    """``doc`` parsed as reStructuredText if it is valid, else as a literal block.

    Problems are collected as nodes with reporting turned off, so that prose
    written for a terminal (a ``|w|``, say, is a substitution in reST) is
    shown as written instead of failing the build.
    """
    text = inspect.cleandoc(doc)
    holder = nodes.container()
    reporter = directive.state.document.reporter
    level = reporter.report_level
    reporter.report_level = 5  # collect problems as nodes, report none
    try:
        directive.state.nested_parse(
            StringList(text.splitlines(), source=source), directive.content_offset, holder
        )
    finally:
        reporter.report_level = level
    problems = [m for m in holder.findall(nodes.system_message) if m["level"] >= 2]
    # Substitutions are resolved later, for the whole page: none may be left.
    problems += list(holder.findall(nodes.substitution_reference))
    if not problems:
        return list(holder.children)
    logger.info("%s: docstring is not valid reStructuredText; shown as written", source)
    return [nodes.literal_block(text, text, language="text", classes=["derivreg-docstring"])]


# ---------------------------------------------------------------------------
# The :live: role.
# ---------------------------------------------------------------------------
_DOTTED = re.compile(r"^derivreg(\.[A-Za-z_][A-Za-z0-9_]*)+$")


#: The repository root: test files are named relative to it.
ROOT = Path(__file__).resolve().parents[2]


def file_constant(path: str, name: str) -> str:
    """The value of a module-level constant of a file, read with :mod:`ast` (never run).

    A literal is shown as its value; anything else as its source text.
    """
    source = (ROOT / path).read_text(encoding="utf-8")
    for node in ast.parse(source).body:
        targets = []
        if isinstance(node, ast.Assign):
            targets = [t.id for t in node.targets if isinstance(t, ast.Name)]
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            targets = [node.target.id]
        if name in targets and node.value is not None:
            try:
                return str(ast.literal_eval(node.value))
            except ValueError:
                return ast.get_source_segment(source, node.value) or ""
    raise LookupError(f"{path} has no module-level constant {name}")


class LiveValueRole(SphinxRole):
    """``:live:`derivreg.module.NAME``` shows ``str()`` of that constant.

    ``:live:`tests/file.py::NAME``` shows a test file's constant, read with
    :func:`file_constant`, so that a tolerance quoted in prose is the one the
    test asserts.
    """

    def run(self) -> tuple[list[nodes.Node], list[nodes.system_message]]:
        target = self.text.strip()
        if "::" in target:
            path, _, name = target.partition("::")
            try:
                value = file_constant(path, name)
            except (OSError, LookupError, SyntaxError) as err:
                msg = self.inliner.reporter.error(f"live: cannot read {target}: {err}")
                return [], [msg]
            self.env.note_dependency(str(ROOT / path))
            return [nodes.literal(text=value)], []
        if not _DOTTED.match(target):
            msg = self.inliner.reporter.error(f"live: {target!r} is not a derivreg dotted name")
            return [], [msg]
        module, _, attr = target.rpartition(".")
        try:
            value = getattr(importlib.import_module(module), attr)
        except (ImportError, AttributeError) as err:
            msg = self.inliner.reporter.error(f"live: cannot read {target}: {err}")
            return [], [msg]
        self.env.note_dependency(importlib.import_module(module).__file__)
        return [nodes.literal(text=str(value))], []


# ---------------------------------------------------------------------------
# sphinx-gallery: scrape the Figures an example makes.
# ---------------------------------------------------------------------------
def _figures_in(value: object) -> list[object]:
    from matplotlib.figure import Figure

    if isinstance(value, Figure):
        return [value]
    if isinstance(value, dict):
        return [f for v in value.values() for f in _figures_in(v)]
    if isinstance(value, (list, tuple)):
        return [f for v in value for f in _figures_in(v)]
    return []


def figure_scraper(_block: object, block_vars: dict, gallery_conf: dict, **_: object) -> str:
    """Save every new :class:`~matplotlib.figure.Figure` an example's code block made.

    derivreg's plotting functions return figures without pyplot (so that
    nothing global changes), which sphinx-gallery's matplotlib scraper does
    not see; this one looks for them among the example's variables, in the
    order they were bound, and saves each once.
    """
    from sphinx_gallery.scrapers import figure_rst

    namespace = block_vars["example_globals"]
    seen = namespace.setdefault("__derivreg_scraped__", set())
    paths = []
    for value in list(namespace.values()):
        for fig in _figures_in(value):
            if id(fig) in seen:
                continue
            seen.add(id(fig))
            path = next(block_vars["image_path_iterator"])
            fig.savefig(path, dpi=80)
            paths.append(path)
    # One figure per row, at the page's full width (these figures are wide).
    return "".join(figure_rst([path], gallery_conf["src_dir"]) for path in paths)


def _get_sg_image_scraper() -> object:
    """The scraper sphinx-gallery finds when ``image_scrapers`` names this module."""
    return figure_scraper


def skip_foreign_members(
    _app: Sphinx, _what: str, _name: str, obj: object, _skip: bool, _options: object
) -> bool | None:
    """Leave out members another library attaches to derivreg's classes.

    scikit-learn adds ``set_fit_request`` and friends to every estimator
    class; their docstrings point into scikit-learn's own documentation.
    """
    module = getattr(obj, "__module__", None) or ""
    return True if module.split(".")[0] == "sklearn" else None


def setup(app: Sphinx) -> dict[str, object]:
    """Register the directives and the role."""
    app.add_directive("derivation", DerivationDirective)
    app.add_directive("derivations", DerivationsDirective)
    app.add_directive("command-output", CommandOutputDirective)
    app.add_directive("kernel-sources", KernelSourcesDirective)
    app.add_directive("stable-rewrites", StableRewritesDirective)
    app.add_directive("proofs", ProofsDirective)
    app.add_directive("file-docstring", FileDocstringDirective)
    app.add_directive("property-suite", PropertySuiteDirective)
    app.add_directive("other-modules", OtherModulesDirective)
    app.add_directive("benchmark-report", BenchmarkReportDirective)
    app.add_role("live", LiveValueRole())
    app.setup_extension("sphinx.ext.autodoc")
    app.connect("autodoc-skip-member", skip_foreign_members)
    return {"version": "1", "parallel_read_safe": True, "parallel_write_safe": True}
