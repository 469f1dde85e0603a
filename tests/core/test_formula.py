"""The formula compiler: correct values and gradients, and every hostile input refused with a position."""

from __future__ import annotations

import math

import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ebm_explorer.core.errors import UserInputError
from ebm_explorer.core.landscapes import FormulaError, FormulaLandscape, validate_formula
from ebm_explorer.core.landscapes.formula import FUNCTIONS, MAX_DEPTH, MAX_LENGTH

ISSUE_EXAMPLE = "(x**2-1)**2 + 0.5*y**2 + 0.3*sin(3*x)"


def grid_points(n: int = 50, dtype=torch.float64) -> torch.Tensor:
    gen = torch.Generator().manual_seed(0)
    return (torch.rand(n, 2, generator=gen, dtype=torch.float64) * 4 - 2).to(dtype)


def test_issue_example_equals_torch_expression():
    land = FormulaLandscape(ISSUE_EXAMPLE, (-2, 2, -2, 2))
    x = grid_points()
    X, Y = x[:, 0], x[:, 1]
    expected = (X**2 - 1) ** 2 + 0.5 * Y**2 + 0.3 * torch.sin(3 * X)
    e, g = land.energy_and_grad(x)
    torch.testing.assert_close(e, expected, rtol=1e-14, atol=1e-14)
    g_expected = torch.stack([4 * X * (X**2 - 1) + 0.9 * torch.cos(3 * X), Y], 1)
    torch.testing.assert_close(g, g_expected, rtol=1e-12, atol=1e-12)
    assert land.spec() == {"kind": "formula", "expr": ISSUE_EXAMPLE, "box": [-2.0, 2.0, -2.0, 2.0]}


@pytest.mark.parametrize(
    "expr, fn",
    [
        ("exp(-x) * cos(y) + log1p(x**2)", lambda X, Y: torch.exp(-X) * torch.cos(Y) + torch.log1p(X**2)),
        ("sqrt(x**2 + y**2 + 1) - tanh(x*y)", lambda X, Y: torch.sqrt(X**2 + Y**2 + 1) - torch.tanh(X * Y)),
        ("atan2(y, x) + arctan(x) + atan(1)", lambda X, Y: torch.atan2(Y, X) + torch.atan(X) + math.atan(1)),
        ("sigmoid(x) + softplus(y) - erf(x/2)",
         lambda X, Y: torch.sigmoid(X) + torch.nn.functional.softplus(Y) - torch.erf(X / 2)),
        ("min(x, y, 0.5) + maximum(x, 1) + minimum(y, x)",
         lambda X, Y: torch.minimum(torch.minimum(X, Y), torch.tensor(0.5, dtype=X.dtype))
         + torch.clamp(X, min=1) + torch.minimum(Y, X)),
        ("2**x - x/y*3 + -y + +x", lambda X, Y: 2**X - X / Y * 3 + -Y + X),
        ("pi*e*abs(x) + sinh(y)/cosh(y) + tan(0.1*x)",
         lambda X, Y: math.pi * math.e * X.abs() + torch.sinh(Y) / torch.cosh(Y) + torch.tan(0.1 * X)),
        ("x - y - 1 - 2*x*y/3/4", lambda X, Y: X - Y - 1 - 2 * X * Y / 3 / 4),
        ("x**y**0.5", lambda X, Y: X ** (Y**0.5)),
    ],
)
def test_allowed_functions_evaluate_like_torch(expr, fn):
    land = FormulaLandscape(expr, (-2, 2, -2, 2))
    x = grid_points()
    with torch.no_grad():
        got = land.energy(x)
    expected = fn(x[:, 0], x[:, 1])
    torch.testing.assert_close(got, expected, rtol=1e-13, atol=1e-13, equal_nan=True)


def test_gradients_match_finite_differences_and_dtypes():
    land = FormulaLandscape("exp(-(x-1)**2) * sin(2*y) + 0.1*x**4 + softplus(x*y)", (-2, 2, -2, 2))
    x = grid_points()
    e, g = land.energy_and_grad(x)
    h = 1e-6
    for k in range(2):
        d = torch.zeros_like(x)
        d[:, k] = h
        with torch.no_grad():
            fd = (land.energy(x + d) - land.energy(x - d)) / (2 * h)
        torch.testing.assert_close(g[:, k], fd, rtol=1e-5, atol=1e-7)
    e32, g32 = land.energy_and_grad(x.float())
    assert e32.dtype == torch.float32 and g32.dtype == torch.float32
    torch.testing.assert_close(e32.double(), e, rtol=1e-5, atol=1e-5)


def test_constant_formula_is_flat_with_zero_gradient():
    land = FormulaLandscape("2*pi", (-1, 1, -1, 1))
    e, g = land.energy_and_grad(grid_points(5))
    assert torch.all(e == 2 * math.pi) and torch.all(g == 0) and e.shape == (5,)


@pytest.mark.parametrize(
    "expr, position, words",
    [
        ("__import__('os')", 0, "__import__"),
        ("x.__class__", 2, "attribute"),
        ("().__class__", 3, "attribute"),
        ("open('f')", 0, "unknown function 'open'"),
        ("lambda: 1", 0, "lambda"),
        ("[x for x in y]", 0, "comprehension"),
        ("x**1000000", 3, "exponent"),
        ("9**9**9", 3, "exponent"),
        ("'a'", 0, "string"),
        ("", 0, "empty"),
        ("   ", 0, "empty"),
        ("x" * 10_000, MAX_LENGTH, "too long"),
        ("\u00e9", 0, "non-ASCII"),
        ("x + \u00e9", 4, "non-ASCII"),
        ("x + foo", 4, "unknown name 'foo'"),
        ("  foo", 2, "unknown name 'foo'"),
        ("x % 3", 2, "'%'"),
        ("x ^ 2", 2, "use **"),
        ("x if y else 1", 0, "if"),
        ("x[0]", 0, "indexing"),
        ("x < y", 0, "comparison"),
        ("sin(x, y)", 0, "takes 1 argument"),
        ("atan2(x)", 0, "takes 2 arguments"),
        ("sin(x=1)", 4, "keyword"),
        ("sin", 0, "must be called"),
        ("x(2)", 0, "not a function"),
        ("1e7 * x", 0, "too large"),
        ("x ** -65", 5, "exponent"),
        ("True + x", 0, "numbers only"),
        ("3j*x", 0, "complex"),
        ("x +* y", 3, "syntax error"),
        ("(x + y", 0, "syntax error"),
        ("sin(" * 60 + "x" + ")" * 60, 4 * MAX_DEPTH, "nested too deeply"),
        ("x\x00", 1, "control character"),
        ("(x)(y)", 0, "not a function"),
        ("(x+1)(y)", 0, "named functions"),
        ("getattr(x, 'y')", 0, "unknown function"),
    ],
)
def test_hostile_and_bad_input_is_refused_with_position(expr, position, words):
    with pytest.raises(FormulaError) as info:
        validate_formula(expr)
    err = info.value
    assert isinstance(err, UserInputError)
    assert err.position == position, str(err)
    assert words in str(err)
    with pytest.raises(FormulaError):
        FormulaLandscape(expr, (-1, 1, -1, 1))


def test_unknown_name_message_lists_the_allowed_names():
    with pytest.raises(FormulaError) as info:
        validate_formula("x + foo")
    msg = str(info.value)
    assert msg.startswith("unknown name 'foo' at column 4; allowed: x, y, pi, e, sin")
    assert all(name in msg for name in FUNCTIONS)


def test_long_flat_sums_and_deep_unary_chains():
    # 450 terms: a long but flat expression compiles and evaluates (no recursion-limit trouble)
    land = FormulaLandscape("+".join(["x*y"] * 450), (-1, 1, -1, 1))
    x = grid_points(4)
    torch.testing.assert_close(land.energy(x), 450 * x[:, 0] * x[:, 1])
    # a 1999-deep unary chain is refused by the depth limit, not by a crash
    with pytest.raises(FormulaError, match="nested too deeply"):
        validate_formula("-" * 1999 + "x")


def test_whitespace_and_newlines_keep_columns():
    validate_formula("x +\n  y")
    with pytest.raises(FormulaError) as info:
        validate_formula("x +\n  foo")
    assert info.value.position == 6


TOKENS = [
    "x", "y", "pi", "e", "1", "2.5", "0", "1e3", "64", "65", "+", "-", "*", "/", "**", "(", ")", ",", ".",
    "sin", "exp", "log", "sqrt", "atan2", "min", "max", "__class__", "__import__", "os", "'a'", "[", "]",
    "lambda", ":", "for", "in", "if", "else", "=", "==", "<", "%", "^", "~", "not", "and", "@", "j", " ",
    "9**9", "foo", "{", "}", "\\", "#", ";", "\n", "é", "x.real",
]


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.sampled_from(TOKENS), min_size=0, max_size=40))
def test_token_soup_only_ever_raises_formula_error(tokens):
    text = "".join(tokens)
    try:
        validate_formula(text)
    except FormulaError as err:
        assert err.position is None or 0 <= err.position <= max(len(text), MAX_LENGTH)
        return
    land = FormulaLandscape(text, (-1, 1, -1, 1))
    e, g = land.energy_and_grad(grid_points(3))
    assert e.shape == (3,) and g.shape == (3, 2)


@settings(max_examples=100, deadline=None)
@given(st.text(max_size=60))
def test_arbitrary_text_only_ever_raises_formula_error(text):
    try:
        validate_formula(text)
    except FormulaError:
        pass
