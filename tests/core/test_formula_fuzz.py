"""Property-based fuzzing of the formula compiler: thousands of generated expressions.

Two generators: random ASTs from the allowed grammar mixed with hostile nodes (attribute and
dunder access, imports, unknown calls, lambdas, comprehensions, subscripts, huge exponents and
literals, deep nesting, long and non-ASCII text), and raw character soups. Properties: a formula
either compiles and evaluates to one finite-or-inf/NaN float per point, or fails with
:class:`FormulaError` whose position lies within the text; no other exception escapes, and no
user code ever runs (a sentinel builtin and a sentinel attribute that would record a call never
fire). Hangs are bounded by pytest-timeout (each example is tiny or refused by length first).
"""

from __future__ import annotations

import builtins

import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ebm_explorer.core.landscapes import FormulaError, FormulaLandscape, validate_formula
from ebm_explorer.core.landscapes.formula import FUNCTIONS, MAX_LENGTH, compile_formula

pytestmark = pytest.mark.timeout(120)

FIRED: list[str] = []


def _sentinel(*_args, **_kwargs):
    FIRED.append("called")
    return 0.0


@pytest.fixture(autouse=True)
def sentinel_builtins(monkeypatch):
    """Names that, if the compiler ever evaluated user text, would record a side effect."""
    FIRED.clear()
    monkeypatch.setattr(builtins, "ebm_fuzz_sentinel", _sentinel, raising=False)
    monkeypatch.setattr(torch, "ebm_fuzz_sentinel", _sentinel, raising=False)
    yield
    assert FIRED == [], "user text executed code"


ARITY = {name: lo for name, (lo, _hi, _fn) in FUNCTIONS.items()}
HOSTILE_LIST = [
    "__import__('os')", "ebm_fuzz_sentinel()", "x.__class__", "().__class__.__bases__[0]",
    "torch.ebm_fuzz_sentinel()", "import os", "lambda: 0", "[i for i in x]", "{1: 2}", "x[0]",
    "x if y else 1", "x < y", "x and y", "1e309", "10**10**10", "9" * 400, "2**99999", "'a'",
    "b'x'", "1j", "None", "True", "...", "f'{x}'", "x := 1", "*x", "x; y", "exec('1')", "eval",
    "open('/etc/passwd')", "globals()", "getattr(x, 'a')", "x.real", "sin", "sin(x, y)", "max(x)",
    "sin(x=1)", "x @ y", "x % 2", "x // 2", "~x", "not x", "x ^ y", "é", "∑", "\x00", "\u200b",
    "yield x", "await x", "(x,)", "{x}", "[x]", "x[::2]", "__builtins__", "__x__", "(((", ")", "",
    "1 2", "sin(", "exp(exp(exp(exp(x))))", "1/0", "log(0)", "sqrt(-1)", "0**-1", "x**1e6",
]


ATOM_LIST = ["x", "y", "pi", "e", "1", "0", "2.5", "1e-3", "0.5", "3"]
FUNCTION_LIST = sorted(FUNCTIONS)
WRAPPERS = [
    "({} + {})", "({} - {})", "{}*{}", "{}/{}", "{}**{}", "{} % {}", "{}@{}", "{}<<{}",  # binary
    "({})", "-{}", "+{}", "({}).__class__", "{}[0]", "unknown_fn({})", "lambda: {}", "[{} for _ in x]",
    "{}**1000000", "__import__({})", "{}.real", "({}) if x else 1", "not {}",  # unary / hostile
]


def build_expression(codes: list[int]) -> str:
    """A random expression tree from a list of integers (cheap for hypothesis to draw and shrink).

    Reads the codes as a prefix program: each code picks an atom, a hostile atom, a wrapper with one
    or two holes, or a call of an allowed function with its arity -1, +0 or +1 arguments.
    """
    it = iter(codes)

    def node(depth: int) -> str:
        c = next(it, 0)
        kind = c % 4
        if depth > 12 or kind == 0:
            return ATOM_LIST[(c // 4) % len(ATOM_LIST)]
        if kind == 1:
            return HOSTILE_LIST[(c // 4) % len(HOSTILE_LIST)]
        if kind == 2:
            w = WRAPPERS[(c // 4) % len(WRAPPERS)]
            return w.format(*(node(depth + 1) for _ in range(w.count("{}"))))
        name = FUNCTION_LIST[(c // 4) % len(FUNCTION_LIST)]
        n = max(0, ARITY[name] + (c // 256) % 3 - 1)
        return f"{name}({', '.join(node(depth + 1) for _ in range(n))})"

    return node(0)


EXPRESSIONS = st.lists(st.integers(min_value=0, max_value=2**16), min_size=1, max_size=80).map(build_expression)


def _check(expr: str) -> None:
    """The property: compiles and evaluates to one value per point, or a FormulaError inside the text."""
    try:
        validate_formula(expr)
    except FormulaError as exc:
        assert str(exc), "empty message"
        if exc.position is not None:
            assert 0 <= exc.position <= max(len(expr), 0), (expr, exc.position)
        return
    fn = compile_formula(expr)
    x = torch.tensor([[0.1, -0.2], [1.5, 0.7]], dtype=torch.float64)
    out = fn(x[:, 0], x[:, 1])
    if isinstance(out, torch.Tensor):
        assert out.shape in ((2,), ()), out.shape
    else:
        float(out)


@settings(max_examples=2500, deadline=None, suppress_health_check=list(HealthCheck))
@given(EXPRESSIONS)
def test_grammar_and_hostile_trees(expr):
    _check(expr)


@settings(max_examples=1500, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.text(alphabet=st.sampled_from(list("xy()+-*/.,_[]{}:'\"=<>!@%^&|~;#\\ \t\n0123456789eEjlambdaimportsinexp")
                                          + ["é", "∑", "\x00", "\u202e", "\ud7ff"]),
               max_size=120))
def test_character_soup(text):
    _check(text)


@settings(max_examples=500, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.text(max_size=200))
def test_arbitrary_unicode(text):
    _check(text)


@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.integers(min_value=1, max_value=5000), st.sampled_from(["(", "-", "sin(", "+", "x+", "((x)*"]))
def test_deep_nesting_and_long_input(n, piece):
    """Deep nesting (a Python parser stack overflow in waiting) and over-long text are refused cleanly."""
    expr = piece * n + "x" + (")" * (n * piece.count("(")))
    _check(expr)
    if len(expr) > MAX_LENGTH:
        with pytest.raises(FormulaError) as info:
            validate_formula(expr)
        assert info.value.position == MAX_LENGTH


@settings(max_examples=200, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.floats(allow_nan=False), st.floats(allow_nan=False))
def test_huge_literals_and_exponents(a, b):
    _check(f"{a!r} * x + y ** ({b!r})")
    _check(f"({a!r}) ** ({b!r})")


@pytest.mark.parametrize("expr", ["", "   ", "\n", "\t\t"])
def test_empty_input_points_at_column_zero(expr):
    with pytest.raises(FormulaError) as info:
        validate_formula(expr)
    assert info.value.position == 0


def test_box_evaluation_of_fuzzed_survivor_only_raises_formula_error():
    """A formula that compiles can still be undefined on the box edge: FormulaLandscape says so."""
    with pytest.raises(FormulaError):
        FormulaLandscape("sin(x, y)", (-1, 1, -1, 1))
    land = FormulaLandscape("log(x)", (-1, 1, -1, 1))  # NaN for x < 0: the reference refuses it, not here
    assert land.energy(torch.tensor([[2.0, 0.0]], dtype=torch.float64)).isfinite().all()
