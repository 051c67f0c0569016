"""The proof checker refuses false theorems, and names the gap in each.

Each false theorem below was accepted by the checker before issue 11; each
is now a refusal whose ``ProofError.detail`` says what is missing: the
uncovered case, the statement mismatch, the uncited fact, the singular
point, or (for ``points=0``) a ``ValueError`` at construction.
"""

import io
import itertools

import pytest
import sympy as sp

from derivreg.proof import CITED, Case, ProofError, Theorem, sign_cases, verify
from derivreg.proof.algebra import uncovered
from derivreg.rendering import render

x, z = sp.symbols("x z", real=True)
p = sp.Symbol("p", positive=True)
TAYLOR = "Taylor's theorem with the Lagrange remainder"


def refusal(theorem: Theorem) -> ProofError:
    with pytest.raises(ProofError) as info:
        theorem.check()
    return info.value


# ---------------------------------------------------------------------------
# The six false theorems of issue 11.
# ---------------------------------------------------------------------------
def test_min_z_100_equals_z_without_a_case_for_z_above_100_is_an_uncovered_case():
    q = sp.Symbol("q", positive=True)
    t = (
        Theorem("false.min", "min(z, 100) = z")
        .start(sp.Min(z, 100))
        .eq(
            z,
            "below 100 and at 100",
            cases=[Case("z < 100", {z: 100 - q}), Case("z = 100", {z: 100})],
        )
    )
    err = refusal(t)
    assert err.detail == "uncovered case"
    assert "Interval.open(100, oo)" in str(err.residual)


def test_the_same_min_theorem_without_cases_fails_symbolically_and_numerically():
    t = Theorem("false.min_bare", "min(z, 100) = z").start(sp.Min(z, 100)).eq(z, "obvious")
    assert refusal(t).detail.startswith(("symbolic check failed", "numeric check failed"))


def test_sign_squared_is_1_without_the_case_z_0_is_an_uncovered_case():
    t = (
        Theorem("false.sign", "sign(z)^2 = 1")
        .start(sp.sign(z) ** 2)
        .eq(1, "the sign is ±1", cases=sign_cases(z)[:2])
    )
    err = refusal(t)
    assert err.detail == "uncovered case"
    assert str(err.residual) == "(z) ∈ {0} is in no case"


def test_points_0_is_refused_when_the_theorem_is_built():
    with pytest.raises(ValueError, match="points must be an int >= 1"):
        Theorem("false.points", "x = 1", points=0)


def test_x_equals_1_with_one_case_at_x_1_is_an_uncovered_case():
    t = (
        Theorem("false.one", "x = 1", points=1)
        .start(x)
        .eq(1, "at x = 1", cases=[Case("x = 1", {x: 1})])
    )
    err = refusal(t)
    assert err.detail == "uncovered case"
    assert "Interval.open(-oo, 1)" in str(err.residual)


def test_a_statement_the_chain_does_not_conclude_is_a_statement_mismatch():
    t = Theorem("false.statement", "x^2 >= 1", statement=x**2 >= 1).start(x**2).ge(0, "a square")
    err = refusal(t)
    assert err.detail.startswith("statement mismatch: no chain or claim concludes x² ≥ 1")
    assert "x² ≥ 0" in str(err.residual)


def test_the_statement_the_chain_does_conclude_checks():
    # x**2 >= 0 alone is decided (True) by SymPy when built: a statement keeps it unevaluated.
    with pytest.raises(ProofError, match="item 1 is not a relation"):
        Theorem("vacuous", "", statement=x**2 >= 0).start(x**2).ge(0, "a square").check()
    claim = sp.GreaterThan(x**2, 0, evaluate=False)
    t = Theorem("true.statement", "x^2 >= 0", statement=claim).start(x**2).ge(0, "a square")
    assert t.check().checked


@pytest.mark.parametrize(
    ("lhs", "rhs"), [(x**2, sp.Integer(4000)), (p, sp.Integer(100))], ids=["x^2<=4000", "p<=100"]
)
def test_a_citation_outside_the_table_is_an_uncited_fact(lhs, rhs):
    t = Theorem("false.cite", "bounded").start(lhs).le(rhs, "well known", cite="a standard bound")
    err = refusal(t)
    assert err.detail == "uncited fact"
    assert "'a standard bound' is not in derivreg.proof.facts.CITED" in str(err.residual)


@pytest.mark.parametrize(
    ("lhs", "rhs"), [(x**2, sp.Integer(4000)), (p, sp.Integer(100))], ids=["x^2<=4000", "p<=100"]
)
def test_a_false_step_citing_a_table_entry_is_caught_at_the_domains_far_edge(lhs, rhs):
    t = Theorem("false.cite_taylor", "bounded").start(lhs).le(rhs, "Taylor", cite=TAYLOR)
    err = refusal(t)
    assert err.detail == "numeric check failed"
    assert "1.0e+30" in str(err.residual)  # the huge edge of the domain, not a lucky draw


def test_x2_minus_1_over_x_minus_1_is_refused_at_its_singular_point():
    t = Theorem("false.cancel", "(x^2 - 1)/(x - 1) = x + 1").start((x**2 - 1) / (x - 1))
    t.eq(x + 1, "cancel x - 1")
    err = refusal(t)
    assert err.detail == "singular point"
    assert "x - 1 = 0 at x = 1" in str(err.residual).replace("-1 + x", "x - 1")


def test_the_cancellation_checks_where_the_step_says_the_factor_is_nonzero():
    t = Theorem("true.cancel", "(x^2 - 1)/(x - 1) = x + 1 for x != 1").start((x**2 - 1) / (x - 1))
    t.eq(x + 1, "cancel x - 1, nonzero", nonzero=[x - 1]).check()
    assert t.conditions == [x - 1]
    assert "Where: -1 + x ≠ 0." in render(t, "text")


def test_a_domain_that_excludes_the_zero_needs_no_declaration():
    t = Theorem("true.cancel_domain", "for x > 1", where={x: sp.Interval.open(1, sp.oo)})
    t.start((x**2 - 1) / (x - 1)).eq(x + 1, "cancel x - 1, positive here").check()


# ---------------------------------------------------------------------------
# Coverage, citations, repeats.
# ---------------------------------------------------------------------------
def test_a_two_symbol_sign_split_covers_the_plane_and_a_missing_combination_does_not():
    t = sp.Symbol("t", real=True)
    assert uncovered(sign_cases(z, t), {z, t}, {})[1] == sp.S.EmptySet
    assert uncovered(sign_cases(z, t)[:-1], {z, t}, {})[1] != sp.S.EmptySet


def test_a_case_whose_values_cannot_be_computed_is_refused():
    u, v = sp.symbols("u v", positive=True)
    t = Theorem("false.case", "").start(sp.Abs(z)).eq(z, "", cases=[Case("?", {z: u * v})])
    assert refusal(t).detail.startswith("uncovered case")


def test_the_table_of_cited_facts_is_short_and_every_entry_has_a_reference():
    assert list(CITED) == [TAYLOR]
    assert all(f.reference and f.statement for f in CITED.values())


def test_verify_lists_the_theorems_that_rest_on_a_cited_fact(tmp_path):
    (tmp_path / "demo.py").write_text(
        "import sympy as sp\n"
        "from derivreg.proof import Theorem\n"
        "x = sp.Symbol('x', real=True)\n"
        "THEOREMS = [Theorem('demo.cited', 'a square').start(x**2)"
        ".ge(0, 'squares', cite=\"Taylor's theorem with the Lagrange remainder\")]\n"
    )
    out = io.StringIO()
    assert verify(out, tmp_path) == 0
    assert f"cited    demo.cited rests on: {TAYLOR}" in out.getvalue()
    assert "1 resting on a cited fact" in out.getvalue()


def test_a_step_that_prints_as_the_line_before_it_is_refused_unless_a_restatement():
    t = Theorem("false.repeat", "").start(x + x).eq(2 * x, "collect")
    assert refusal(t).detail.startswith("repeats the line before it")
    ok = Theorem("true.repeat", "").start(x + x).eq(2 * x, "the same value, named", restate=True)
    assert "(the same)" in render(ok.check(), "text")


# ---------------------------------------------------------------------------
# SymPy objects only.
# ---------------------------------------------------------------------------
def _payload(path) -> str:
    return f"__import__('pathlib').Path({str(path)!r}).write_text('owned')"


@pytest.mark.parametrize(
    "build",
    [
        lambda s: Theorem("s", "").start(s),
        lambda s: Theorem("s", "").start(x).eq(s, "r"),
        lambda s: Theorem("s", "").claim(s, "=", x, "r"),
        lambda s: Theorem("s", "", statement=[s]),
        lambda s: Theorem("s", "", where={x: s}),
        lambda s: Case("c", {x: s}),
        lambda s: Theorem("s", "").start(x).eq(x + 0 * x, "r", certificate=s),
    ],
    ids=["start", "eq", "claim", "statement", "where", "case", "certificate"],
)
def test_a_string_is_refused_and_never_run(tmp_path, build):
    target = tmp_path / "owned"
    with pytest.raises(TypeError, match="SymPy objects only"):
        build(_payload(target))
    assert not target.exists()


# ---------------------------------------------------------------------------
# Proofs that read like proofs.
# ---------------------------------------------------------------------------
def _shown_lines(theorem: Theorem) -> list[tuple[str, bool]]:
    """The expression each row displays, as text, and whether the row continues a chain."""
    from derivreg.rendering import _side

    rows = [row for block in theorem.blocks() for row in block.rows if row.rhs]
    return [(_side(r.rhs[0], "text"), r.lhs == ("", "") and r.relation != " ") for r in rows]


def test_no_proof_prints_a_line_the_same_as_the_one_before_it():
    from derivreg.proof import families, load

    repeated = []
    for family in families():
        for theorem in load(family).THEOREMS:
            theorem.check()
            lines = _shown_lines(theorem)
            repeated += [
                (theorem.name, a)
                for (a, _), (b, step) in itertools.pairwise(lines)
                if step and a == b
            ]
    assert repeated == []


def test_the_cancellation_prints_as_the_slides_write_it():
    from derivreg.proof import load

    theorem = load("bce").CANCELLATION.check()
    lines = [shown for shown, _ in _shown_lines(theorem)]
    assert lines[1:3] == ["(ŷ - y)/(ŷ(1 - ŷ)) · ŷ(1 - ŷ)", "ŷ - y"]
    assert lines[3] == "(the same)"  # the derivation's dJ_dz, named, not printed again
    shown = render(theorem, "text")
    assert "   = (ŷ - y)/(ŷ(1 - ŷ)) · ŷ(1 - ŷ)\n" in shown
    assert "   = ŷ - y\n" in shown


def test_a_cancellation_written_unevaluated_is_refused_at_its_singular_point():
    # SymPy would cancel (x - 1)/(x - 1) when it evaluates the product; as written it has a zero.
    written = sp.Mul(x - 1, sp.Pow(x - 1, -1, evaluate=False), evaluate=False)
    t = Theorem("false.written", "(x - 1)/(x - 1) = 1").start(written).eq(1, "cancel")
    err = refusal(t)
    assert err.detail == "singular point"
    assert "at x = 1" in str(err.residual)


def test_a_transcendental_denominator_of_one_symbol_is_searched_for_zeros():
    e = sp.exp(x) - 1
    written = sp.Mul(e, sp.Pow(e, -1, evaluate=False), evaluate=False)
    t = Theorem("false.exp", "(e^x - 1)/(e^x - 1) = 1").start(written).eq(1, "cancel")
    err = refusal(t)
    assert err.detail == "singular point"
    assert "at x = 0" in str(err.residual)


# ---------------------------------------------------------------------------
# settle_extrema: max/min of exponentials decided by their exponents, and no further.
# ---------------------------------------------------------------------------
def test_the_maximum_form_of_the_sigmoid_checks_and_its_wrong_twins_are_refused():
    def e(v: sp.Basic) -> sp.Basic:
        return sp.exp(-sp.Abs(v))

    def sigmoid_as(form: sp.Basic) -> Theorem:
        return (
            Theorem("maximum_form", "1/(1 + exp(-z)) = form")
            .start(1 / (1 + sp.exp(-z)))
            .eq(form / (1 + e(z)), "z >= 0 and z < 0", cases=sign_cases(z))
        )

    indicator = sp.Piecewise((1, z >= 0), (0, True))
    sigmoid_as(sp.Max(e(z), indicator)).check()  # the printed form: holds
    wrong = [
        sp.Max(e(z), sp.Piecewise((1, z <= 0), (0, True))),  # the other side's indicator
        sp.Min(e(z), indicator),  # the smaller: e where z >= 0, 0 where z < 0
        sp.Max(sp.exp(sp.Abs(z)), indicator),  # exp(|z|) >= 1 is the larger everywhere
        sp.Max(e(z), sp.Piecewise((1, z > 1), (0, True))),  # wrong threshold
    ]
    for form in wrong:
        assert refusal(sigmoid_as(form)).detail.startswith(
            ("symbolic check failed", "numeric check failed")
        ), form


def test_settle_extrema_decides_only_by_the_exponents_sign():
    from derivreg.proof.algebra import settle_extrema

    u = sp.Symbol("u", real=True)
    assert settle_extrema(sp.Max(1, sp.exp(-p))) == 1
    assert settle_extrema(sp.Max(1, sp.exp(p))) == sp.exp(p)
    assert settle_extrema(sp.Min(sp.exp(2 * p), sp.exp(p))) == sp.exp(p)
    # undecided: the sign of u, or a non-exponential argument
    assert settle_extrema(sp.Max(1, sp.exp(u))) == sp.Max(1, sp.exp(u))
    assert settle_extrema(sp.Max(sp.Rational(1, 2), u)) == sp.Max(sp.Rational(1, 2), u)
    # a false claim the rule could only help if it were unsound: max(1, exp(u)) = 1 for real u
    t = Theorem("false.max_exp", "max(1, exp(u)) = 1").start(sp.Max(1, sp.exp(u))).eq(1, "obvious")
    assert refusal(t).detail.startswith(("symbolic check failed", "numeric check failed"))
