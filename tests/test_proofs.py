"""The proof checker, and every theorem of proofs/ (one test each)."""

import io
import subprocess
import sys
import textwrap

import pytest
import sympy as sp

from derivreg.cli import main as cli
from derivreg.proof import (
    PROOFS_DIR,
    Case,
    ProofError,
    Theorem,
    families,
    load,
    main,
    sign_cases,
    verify,
)
from derivreg.rendering import FORMATS, render

THEOREMS = [t for family in families() for t in load(family).THEOREMS]

x, z = sp.symbols("x z", real=True)


# ---------------------------------------------------------------------------
# Every theorem checks, and renders with its reasons and statuses.
# ---------------------------------------------------------------------------
@pytest.mark.parametrize("theorem", THEOREMS, ids=lambda t: t.name)
def test_theorem_checks(theorem):
    theorem.check()
    assert theorem.n_steps > 0
    assert all(s == "start" or s.startswith("checked") for s in theorem.results)


@pytest.mark.parametrize("fmt", FORMATS)
def test_a_checked_theorem_renders_its_reasons_and_statuses(fmt):
    theorem = load("stability").REWRITES["bce_stable_form"].check()
    out = render(theorem, fmt)
    assert "stability.bce_stable_form" in out
    assert "max(-z, 0) = max(z, 0) - z" in out
    assert "cases z > 0; z < 0; z = 0" in out
    assert "numeric at" in out


def test_latex_prints_the_relations_of_a_chain():
    out = render(load("sigmoid").CURVATURE.check(), "latex")
    assert r"&\le \frac{1}{4}" in out
    assert r"\sigma" in out


def test_every_family_is_collected_and_the_ten_families_are_there():
    assert set(families()) >= {
        "mse",
        "sigmoid",
        "bce",
        "sigmoid_params",
        "stability",
        "convexity",
        "convergence",
        "errata",
        "kernels",
    }
    assert len({t.name for t in THEOREMS}) == len(THEOREMS)


def test_every_rewrite_the_generator_cites_is_a_proven_theorem():
    from derivreg import codegen

    rewrites = load("stability").REWRITES
    cited = {rule.theorem for rule in codegen.RULES} | set(codegen.EXPANSIONS.values())
    assert cited <= set(rewrites)
    for key, theorem in rewrites.items():
        assert theorem.name == f"stability.{key}"


# ---------------------------------------------------------------------------
# Wrong proofs fail, and say where.
# ---------------------------------------------------------------------------
def test_a_wrong_step_names_the_theorem_the_step_and_the_residual():
    wrong = (
        Theorem("demo.wrong", "(x + 1)^2 = x^2 + 2x + 1")
        .start((x + 1) ** 2)
        .eq(x**2 + 2 * x + 1, "expand")
        .eq(x**2 + x + 1, "a slip: x instead of 2x")
    )
    with pytest.raises(ProofError) as info:
        wrong.check()
    message = str(info.value)
    assert "theorem 'demo.wrong', step 2 (a slip: x instead of 2x)" in message
    assert "symbolic check failed" in message
    assert "before:   1 + 2·x + x²" in message
    assert "after:    1 + x + x²" in message
    assert "residual: -x" in message
    assert (info.value.theorem, info.value.step, info.value.residual) == ("demo.wrong", 2, -x)
    assert wrong.results == ["start", "checked: simplifies to 0; numeric at 16 points", "FAILED"]


def test_a_failed_proof_is_an_assertion_error():
    with pytest.raises(AssertionError):
        Theorem("demo.bad", "1 = 2").claim(1, "=", 2, "no").check()


def test_a_wrong_case_split_is_caught_by_the_coverage_check():
    # max(z, 0) = z holds in the one case given, so the symbolic check passes;
    # the cases' union, (0, oo), is not z's domain: z <= 0 is in no case.
    only_positive = sign_cases(z)[:1]
    wrong = Theorem("demo.split", "max(z, 0) = z").start(sp.Max(z, 0))
    wrong.eq(z, "z > 0", cases=only_positive)
    with pytest.raises(ProofError) as info:
        wrong.check()
    message = str(info.value)
    assert "step 1 (z > 0): uncovered case" in message
    assert "residual: (z) ∈ Interval(-oo, 0) is in no case" in message


def test_the_numeric_witness_alone_rejects_a_wrong_cited_step():
    # A cited step skips the symbolic check; e^x >= 1 + x + x^2 is false near 0-.
    taylor = "Taylor's theorem with the Lagrange remainder"
    wrong = (
        Theorem("demo.cited", "exp(x) >= 1 + x + x^2")
        .start(sp.exp(x))
        .ge(1 + x + x**2, "a misremembered series bound", cite=taylor)
    )
    with pytest.raises(ProofError, match=r"step 1 .*numeric check failed"):
        wrong.check()


def test_a_false_inequality_fails_symbolically():
    wrong = Theorem("demo.ineq", "x^2 <= x").start(x**2).le(x, "no")
    with pytest.raises(ProofError, match="step 1 \\(no\\): symbolic check failed"):
        wrong.check()


def test_a_certificate_must_equal_the_gap():
    wrong = Theorem("demo.cert", "x^2 + 1 >= 2x").start(x**2 + 1)
    wrong.ge(2 * x, "(x - 1)^2 >= 0", certificate=(x + 1) ** 2)
    with pytest.raises(ProofError, match=r"residual: -?4·x"):
        wrong.check()


def test_a_wrong_solution_set_fails():
    wrong = Theorem("demo.solve", "{x : x^2 < 1}").solve(x**2 < 1, x, sp.Interval(-1, 1), "no")
    with pytest.raises(ProofError, match="solveset finds another set"):
        wrong.check()


def test_an_identity_must_occur_and_its_instance_must_respect_assumptions():
    p = sp.Symbol("p", positive=True)
    root = sp.Pow(p**2, sp.Rational(1, 2), evaluate=False)  # as written: SymPy would give p
    identity = Theorem("demo.sqrt", "sqrt(p^2) = p").start(root).eq(p, "p > 0")
    absent = Theorem("demo.absent", "").start(sp.exp(x))
    absent.eq(sp.exp(x), "by", by=(identity, {}), restate=True)
    with pytest.raises(ProofError, match=r"no side of demo\.sqrt occurs"):
        absent.check()
    misused = Theorem("demo.misused", "").start(sp.Abs(x)).eq(x, "by", by=(identity, {p: x}))
    with pytest.raises(ProofError, match="bad instance"):
        misused.check()


def test_an_identity_step_checks_with_the_identity_and_the_witness():
    t = sp.Symbol("t", real=True)
    identity = load("stability").SOFTPLUS
    step = (
        Theorem("demo.use", "log(1 + e^(2x)) = max(2x, 0) + log1p(e^-|2x|)")
        .start(sp.log(1 + sp.exp(2 * x)))
        .eq(identity.steps[-1].after.subs(t, 2 * x), "stable softplus", by=(identity, {t: 2 * x}))
    )
    step.check()
    assert step.results[1].startswith("checked: by stability.softplus_stable_form; numeric")


def test_a_chain_may_not_mix_directions():
    with pytest.raises(ValueError, match="mixes"):
        Theorem("demo.mix", "").start(x).le(x + 1, "a").ge(x, "b")


def test_cases_report_the_failing_case():
    wrong = Theorem("demo.abs", "|z| = z").start(sp.Abs(z)).eq(z, "no", cases=sign_cases(z))
    with pytest.raises(ProofError, match="symbolic check failed in case z < 0"):
        wrong.check()


def test_a_custom_case_substitution_covers_an_interval():
    a, s, u = (
        sp.Symbol("a", real=True),
        sp.Symbol("s", positive=True),
        sp.Symbol("u", nonnegative=True),
    )
    ok = (
        Theorem(
            "demo.interval", "a(1 - a s) >= 0 on (0, 1/s]", where={a: sp.Interval.Lopen(0, 1 / s)}
        )
        .start(sp.Integer(0))
        .le(
            a * (1 - a * s),
            "a = 1/(s(1 + u))",
            cases=[Case("0 < a <= 1/s", {a: 1 / (s * (1 + u))})],
        )
    )
    ok.check()


# ---------------------------------------------------------------------------
# Running proofs: files, main(), verify() and the CLI.
# ---------------------------------------------------------------------------
BAD_FILE = textwrap.dedent(
    """
    import sympy as sp
    from derivreg.proof import Theorem, main

    x = sp.Symbol("x", real=True)
    THEOREMS = [
        Theorem("bad.good", "x + x = 2x").start(sp.Add(x, x, evaluate=False)).eq(2 * x, "collect"),
        Theorem("bad.wrong", "x * x = 2x").start(x * x).eq(2 * x, "wrong"),
    ]

    if __name__ == "__main__":
        raise SystemExit(main(THEOREMS))
    """
)


def test_a_proof_file_exits_0_and_prints_its_steps():
    done = subprocess.run(
        [sys.executable, str(PROOFS_DIR / "sigmoid.py")],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Theorem sigmoid.complement" in done.stdout
    assert "(multiply numerator and denominator by exp(z) [checked:" in done.stdout
    assert done.stdout.rstrip().endswith("4 of 4 theorems checked (11 steps)")


def test_a_proof_file_with_a_wrong_step_exits_1(tmp_path):
    path = tmp_path / "bad.py"
    path.write_text(BAD_FILE, encoding="utf-8")
    done = subprocess.run([sys.executable, str(path)], capture_output=True, text=True, check=False)
    assert done.returncode == 1
    assert "FAILED: theorem 'bad.wrong', step 1 (wrong)" in done.stdout
    assert "1 of 2 theorems checked" in done.stdout


def test_main_returns_0_when_everything_checks():
    out = io.StringIO()
    same = Theorem("demo.ok", "x = x").start(x).eq(x, "the same", restate=True)
    assert main([same], out) == 0
    assert "1 of 1 theorems checked (1 steps)" in out.getvalue()


def test_verify_prints_one_line_per_theorem_and_counts_failures(tmp_path):
    (tmp_path / "bad.py").write_text(BAD_FILE, encoding="utf-8")
    (tmp_path / "broken.py").write_text("raise RuntimeError('no')\n", encoding="utf-8")
    (tmp_path / "_helper.py").write_text("raise RuntimeError('not a family')\n", encoding="utf-8")
    out = io.StringIO()
    assert verify(out, tmp_path) == 2
    lines = out.getvalue().splitlines()
    assert lines[0] == "checked  bad.good (1 step)"
    assert lines[1] == "FAILED   bad.wrong: step 1 (wrong): symbolic check failed"
    assert lines[2] == "         residual: x·(2 - x)"
    assert lines[3] == "FAILED   broken: cannot load (RuntimeError: no)"
    assert lines[4].startswith("total: 1 of 2 theorems checked (1 steps), 2 failed, 0 resting")


def test_cli_verify_fails_on_a_wrong_proof(tmp_path, capsys):
    (tmp_path / "bad.py").write_text(BAD_FILE, encoding="utf-8")
    assert cli(["verify", "--proofs", str(tmp_path)]) == 1
    out = capsys.readouterr().out
    assert "FAILED   bad.wrong" in out
    assert "generate --check" in out  # its own status: the kernels may be mid-regeneration


def test_cli_verify_without_proofs_is_a_one_line_error(tmp_path):
    done = subprocess.run(
        [sys.executable, "-m", "derivreg", "verify", "--proofs", str(tmp_path)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 2
    assert done.stderr == f"derivreg verify: error: no proof files (*.py) in {tmp_path}\n"
