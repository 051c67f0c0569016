"""The README says what is true: its examples run, its commands parse, its lists are complete."""

from __future__ import annotations

import doctest
import re
import shlex
from pathlib import Path

import pytest

from derivreg.cli import build_parser, main

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")


def blocks(language: str) -> list[str]:
    """The fenced code blocks of the README in ``language``."""
    return re.findall(rf"^```{language}\n(.*?)^```", README, flags=re.M | re.S)


def commands() -> list[list[str]]:
    """Every ``$ derivreg ...`` line of the console blocks, as argv (comments dropped)."""
    lines = [line for block in blocks("console") for line in block.splitlines()]
    return [shlex.split(ln[2:], comments=True)[1:] for ln in lines if ln.startswith("$ derivreg")]


def test_readme_opens_with_the_two_commands():
    first = blocks("bash")[0].splitlines()
    assert first == [
        "python -m pip install . && derivreg lecture",
        'python -m pip install -e ".[test]" && python -m pytest',
    ]
    assert README.index("```bash") < README.index("\n## ")


def test_readme_python_examples_run():
    pytest.importorskip("sklearn")
    text = "\n\n".join(blocks("python"))
    parser = doctest.DocTestParser()
    test = parser.get_doctest(text, {}, "README.md", "README.md", 0)
    runner = doctest.DocTestRunner(optionflags=doctest.NORMALIZE_WHITESPACE | doctest.ELLIPSIS)
    runner.run(test)
    assert len(test.examples) > 20
    assert runner.failures == 0


def test_readme_commands_parse():
    argvs = commands()
    assert len(argvs) >= 8
    parser = build_parser()
    for argv in argvs:
        if argv == ["--version"]:
            continue
        parser.parse_args(argv)  # raises SystemExit(2) on a wrong option


def test_readme_quick_commands_run(tmp_path, capsys):
    quick = [a for a in commands() if "--no-plots" in a or a[0] == "derive"]
    assert quick
    for argv in quick:
        assert main(argv) == 0, argv
    capsys.readouterr()
    balanced = next(a for a in commands() if "--positive-rate" in a)
    out = balanced[balanced.index("--out") + 1]
    argv = [*balanced[: balanced.index("--out")], "--out", str(tmp_path / out)]
    assert main(argv) == 0
    captured = capsys.readouterr()
    assert "warning" not in captured.err  # balanced: no imbalance warning


def test_readme_names_the_lecture():
    assert "Lecture 4: Linear/Logistic Regression" in " ".join(README.split())
    seed = ROOT.parent / "shared" / "seed" / "lecture4-linear-logistic-regression.txt"
    if seed.is_file():  # the slides' own title
        assert "Linear/Logistic Regression" in seed.read_text(encoding="utf-8")


def test_readme_layout_lists_every_part():
    layout = README.split("## Layout", 1)[1].split("## ", 1)[0]
    parts = {p.name for p in (ROOT / "derivreg").iterdir() if not p.name.startswith("__")}
    parts -= {"py.typed"}
    for part in sorted(parts):
        name = part if part.endswith(".py") else f"{part}/"
        assert f"derivreg/{name}" in layout, part
    for top in ("proofs/", "tests/", "docs/", "benchmarks/run.py", ".ci/run"):
        assert top in layout


def test_readme_ci_section_names_every_step_of_ci_run():
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    section = README.split("## Development", 1)[1]
    section = " ".join(section.split())
    steps = {
        "ruff check .": "ruff check .",
        "ruff format --check .": "ruff format --check .",
        "\nmypy": "`mypy`",
        "derivreg generate --check": "derivreg generate --check",
        "sphinx-build -W --keep-going": "sphinx-build -W --keep-going",
        "python -m pytest": "python -m pytest",
        "chromium": "chromium",
    }
    for in_ci, in_readme in steps.items():
        assert in_ci in ci
        assert in_readme in section
    for extra in re.search(r'\.\[([a-z,]+)\]"', ci).group(1).split(","):
        assert f"`{extra}`" in section
