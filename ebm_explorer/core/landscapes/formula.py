"""User-typed energies ``U(x, y)``: a safe expression compiler over an allow-list of torch ops.

The text is parsed with :mod:`ast` and walked node by node; only numbers, ``x``, ``y``, ``pi``,
``e``, ``+ - * / **``, unary signs and calls of the functions in :data:`FUNCTIONS` are accepted.
The tree is compiled into nested closures over torch operations: user text is never passed to
``eval``/``exec``. Every rejection is a :class:`FormulaError` carrying the 0-based column of the
offending piece, so the GUI can underline it while the user types.
"""

from __future__ import annotations

import ast
import math
import operator
import warnings
from typing import Any, Callable, Sequence, Union

import torch
import torch.nn.functional as F

from ebm_explorer.core.errors import UserInputError
from ebm_explorer.core.landscapes._util import SpecLandscape, as_box, box_list
from ebm_explorer.core.types import Box

MAX_LENGTH = 2000
MAX_DEPTH = 50
MAX_EXPONENT = 64.0
MAX_LITERAL = 1e6


class FormulaError(UserInputError):
    """A formula was rejected; ``position`` is the 0-based column of the problem (or ``None``)."""

    def __init__(self, message: str, position: int | None = None) -> None:
        super().__init__(message)
        self.position = position


def _min(*args: torch.Tensor) -> torch.Tensor:
    out = args[0]
    for a in args[1:]:
        out = torch.minimum(out, a)
    return out


def _max(*args: torch.Tensor) -> torch.Tensor:
    out = args[0]
    for a in args[1:]:
        out = torch.maximum(out, a)
    return out


#: allowed functions: name -> (min args, max args, torch implementation)
FUNCTIONS: dict[str, tuple[int, int, Callable[..., torch.Tensor]]] = {
    "sin": (1, 1, torch.sin),
    "cos": (1, 1, torch.cos),
    "tan": (1, 1, torch.tan),
    "exp": (1, 1, torch.exp),
    "log": (1, 1, torch.log),
    "log1p": (1, 1, torch.log1p),
    "sqrt": (1, 1, torch.sqrt),
    "abs": (1, 1, torch.abs),
    "tanh": (1, 1, torch.tanh),
    "sinh": (1, 1, torch.sinh),
    "cosh": (1, 1, torch.cosh),
    "atan": (1, 1, torch.atan),
    "arctan": (1, 1, torch.atan),
    "atan2": (2, 2, torch.atan2),
    "arctan2": (2, 2, torch.atan2),
    "sigmoid": (1, 1, torch.sigmoid),
    "softplus": (1, 1, F.softplus),
    "erf": (1, 1, torch.erf),
    "minimum": (2, 2, torch.minimum),
    "maximum": (2, 2, torch.maximum),
    "min": (2, 16, _min),
    "max": (2, 16, _max),
}
VARIABLES = ("x", "y")
CONSTANTS = {"pi": math.pi, "e": math.e}
ALLOWED_NAMES = (*VARIABLES, *CONSTANTS, *FUNCTIONS)

_BINOPS: dict[type, Callable[[Any, Any], Any]] = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.Div: operator.truediv,
    ast.Pow: operator.pow,
}
_BAD_OPS = {
    ast.Mod: "'%'",
    ast.FloorDiv: "'//'",
    ast.MatMult: "'@'",
    ast.BitAnd: "'&'",
    ast.BitOr: "'|'",
    ast.BitXor: "'^' (use ** for powers)",
    ast.LShift: "'<<'",
    ast.RShift: "'>>'",
    ast.Not: "'not'",
    ast.Invert: "'~'",
}
_NODE_NAMES = {
    ast.Lambda: "lambda",
    ast.ListComp: "a list comprehension",
    ast.SetComp: "a set comprehension",
    ast.DictComp: "a dict comprehension",
    ast.GeneratorExp: "a generator expression",
    ast.List: "a list",
    ast.Tuple: "a tuple (did you mean one number?)",
    ast.Dict: "a dict",
    ast.Set: "a set",
    ast.Subscript: "indexing '[...]'",
    ast.Compare: "a comparison",
    ast.BoolOp: "'and'/'or'",
    ast.IfExp: "'if ... else'",
    ast.NamedExpr: "':='",
    ast.Starred: "'*' unpacking",
    ast.JoinedStr: "an f-string",
    ast.Await: "'await'",
    ast.Yield: "'yield'",
    ast.YieldFrom: "'yield from'",
    ast.Slice: "a slice",
}

# A compiled node is a Python float (constant-folded) or a closure (X, Y) -> tensor.
Compiled = Union[float, Callable[[torch.Tensor, torch.Tensor], torch.Tensor]]


def _const_apply(fn: Callable[..., Any], *args: float) -> float:
    """Fold constants with the same torch op used at run time, so semantics match (inf, nan)."""
    return float(fn(*(torch.tensor(a, dtype=torch.float64) for a in args)))


class _Compiler:
    def __init__(self, text: str, lead: int) -> None:
        self.text = text  # the parsed text: the user's text without its ``lead`` leading blanks
        self.lead = lead

    def error(self, message: str, col: int | None, suffix: str = "") -> FormulaError:
        """An error at ``col`` of the parsed text, reported as a column of the user's text."""
        position = None if col is None else col + self.lead
        where = f" at column {position}" if position is not None else ""
        return FormulaError(f"{message}{where}{suffix}", position)

    def _op_position(self, node: ast.BinOp) -> int:
        """Column of the operator symbol: the first non-blank, non-')' after the left operand."""
        i = getattr(node.left, "end_col_offset", None) or node.col_offset
        while i < len(self.text) and self.text[i] in " )":
            i += 1
        return min(i, len(self.text))

    def compile(self, node: ast.AST, depth: int) -> Compiled:
        pos = getattr(node, "col_offset", None)
        if depth > MAX_DEPTH:
            raise self.error(f"formula is nested too deeply (more than {MAX_DEPTH} levels)", pos)
        if isinstance(node, ast.Constant):
            return self._constant(node)
        if isinstance(node, ast.Name):
            return self._name(node)
        if isinstance(node, ast.BinOp):
            return self._binop(node, depth)
        if isinstance(node, ast.UnaryOp):
            return self._unary(node, depth)
        if isinstance(node, ast.Call):
            return self._call(node, depth)
        if isinstance(node, ast.Attribute):
            apos = (node.end_col_offset - len(node.attr)) if node.end_col_offset is not None else pos
            raise self.error(f"attribute access '.{node.attr}' is not allowed", apos)
        what = _NODE_NAMES.get(type(node), f"'{type(node).__name__}'")
        raise self.error(f"{what} is not allowed in a formula", pos)

    def _constant(self, node: ast.Constant) -> float:
        v = node.value
        if isinstance(v, bool) or v is None or v is Ellipsis:
            raise self.error(f"'{v}' is not allowed in a formula (numbers only)", node.col_offset)
        if isinstance(v, (str, bytes)):
            raise self.error("strings are not allowed in a formula", node.col_offset)
        if isinstance(v, complex):
            raise self.error("complex numbers are not allowed in a formula", node.col_offset)
        if not isinstance(v, (int, float)):
            raise self.error(f"constant {v!r} is not allowed", node.col_offset)
        if abs(v) > MAX_LITERAL:
            raise self.error(f"number {self._src(node)} is too large (at most {MAX_LITERAL:g} in magnitude)", node.col_offset)
        return float(v)

    def _src(self, node: ast.AST) -> str:
        seg = ast.get_source_segment(self.text, node) or "?"
        return seg if len(seg) <= 20 else seg[:17] + "..."

    def _name(self, node: ast.Name) -> Compiled:
        name = node.id
        if name == "x":
            return lambda X, Y: X
        if name == "y":
            return lambda X, Y: Y
        if name in CONSTANTS:
            return CONSTANTS[name]
        if name in FUNCTIONS:
            raise self.error(f"function '{name}' must be called, e.g. {name}(x)", node.col_offset)
        if name.startswith("__"):
            raise self.error(f"name '{name}' is not allowed (no dunder names)", node.col_offset)
        raise self.error(f"unknown name '{name}'", node.col_offset, f"; allowed: {', '.join(ALLOWED_NAMES)}")

    def _chain(self, node: ast.BinOp, ops: tuple[type, ...]) -> list[tuple[type | None, ast.AST]]:
        """Flatten a left-associated chain ``a op b op c ...`` iteratively (no deep recursion)."""
        items: list[tuple[type | None, ast.AST]] = []
        cur: ast.AST = node
        while isinstance(cur, ast.BinOp) and type(cur.op) in ops:
            items.append((type(cur.op), cur.right))
            cur = cur.left
        items.append((None, cur))
        items.reverse()
        return items

    def _binop(self, node: ast.BinOp, depth: int) -> Compiled:
        if type(node.op) in _BAD_OPS:
            raise self.error(f"operator {_BAD_OPS[type(node.op)]} is not allowed", self._op_position(node))
        if isinstance(node.op, ast.Pow):
            return self._pow(node, depth)
        group = (ast.Add, ast.Sub) if isinstance(node.op, (ast.Add, ast.Sub)) else (ast.Mult, ast.Div)
        items = self._chain(node, group)
        for op, sub in items:
            if isinstance(sub, ast.BinOp) and type(sub.op) in _BAD_OPS:
                raise self.error(f"operator {_BAD_OPS[type(sub.op)]} is not allowed", self._op_position(sub))
        compiled = [(op, self.compile(sub, depth + 1)) for op, sub in items]
        if all(not callable(c) for _, c in compiled):
            acc = torch.tensor(compiled[0][1], dtype=torch.float64)
            for op, c in compiled[1:]:
                acc = _BINOPS[op](acc, torch.tensor(c, dtype=torch.float64))
            return float(acc)
        first = compiled[0][1]
        rest = [(_BINOPS[op], c) for op, c in compiled[1:]]

        def run(X: torch.Tensor, Y: torch.Tensor) -> torch.Tensor:
            acc = first(X, Y) if callable(first) else first
            for fn, c in rest:
                acc = fn(acc, c(X, Y) if callable(c) else c)
            return acc

        return run

    def _pow(self, node: ast.BinOp, depth: int) -> Compiled:
        base = self.compile(node.left, depth + 1)
        expo = self.compile(node.right, depth + 1)
        if not callable(expo) and abs(expo) > MAX_EXPONENT:
            raise self.error(
                f"exponent {self._src(node.right)} is too large (|exponent| <= {MAX_EXPONENT:g})",
                node.right.col_offset,
            )
        if not callable(base) and not callable(expo):
            return _const_apply(torch.pow, base, expo)
        if callable(base) and callable(expo):
            return lambda X, Y: base(X, Y) ** expo(X, Y)
        if callable(base):
            return lambda X, Y: base(X, Y) ** expo
        return lambda X, Y: torch.pow(torch.as_tensor(base, dtype=X.dtype, device=X.device), expo(X, Y))

    def _unary(self, node: ast.UnaryOp, depth: int) -> Compiled:
        if type(node.op) in _BAD_OPS:
            raise self.error(f"operator {_BAD_OPS[type(node.op)]} is not allowed", node.col_offset)
        inner = self.compile(node.operand, depth + 1)
        if isinstance(node.op, ast.UAdd):
            return inner
        if not callable(inner):
            return -inner
        return lambda X, Y: -inner(X, Y)

    def _call(self, node: ast.Call, depth: int) -> Compiled:
        if not isinstance(node.func, ast.Name):
            if isinstance(node.func, ast.Attribute):
                return self.compile(node.func, depth + 1)  # reports the attribute access
            raise self.error("only calls of named functions like sin(x) are allowed", node.col_offset)
        name = node.func.id
        if name not in FUNCTIONS:
            if name in VARIABLES or name in CONSTANTS:
                raise self.error(f"'{name}' is not a function (missing '*'?)", node.col_offset)
            if name.startswith("__"):
                raise self.error(f"name '{name}' is not allowed (no dunder names)", node.col_offset)
            raise self.error(
                f"unknown function '{name}'", node.col_offset, f"; allowed functions: {', '.join(FUNCTIONS)}"
            )
        if node.keywords:
            kw = node.keywords[0]
            raise self.error(f"keyword arguments are not allowed in {name}()", getattr(kw, "col_offset", node.col_offset))
        lo, hi, fn = FUNCTIONS[name]
        n = len(node.args)
        if not lo <= n <= hi:
            want = str(lo) if lo == hi else f"{lo} to {hi}"
            raise self.error(f"{name}() takes {want} argument{'s' if hi > 1 else ''}, got {n}", node.col_offset)
        args = [self.compile(a, depth + 1) for a in node.args]
        if all(not callable(a) for a in args):
            return _const_apply(fn, *args)

        def run(X: torch.Tensor, Y: torch.Tensor) -> torch.Tensor:
            vals = [a(X, Y) if callable(a) else torch.as_tensor(a, dtype=X.dtype, device=X.device) for a in args]
            return fn(*vals)

        return run


def _prepare(expr: str) -> str:
    if not isinstance(expr, str):
        raise FormulaError(f"formula must be text, got {type(expr).__name__}", None)
    if len(expr) > MAX_LENGTH:
        raise FormulaError(f"formula is too long ({len(expr)} characters; at most {MAX_LENGTH})", MAX_LENGTH)
    if not expr.strip():
        raise FormulaError("empty formula: type an expression in x and y, e.g. x**2 + y**2", 0)
    for i, ch in enumerate(expr):
        if ord(ch) > 127:
            raise FormulaError(f"non-ASCII character {ch!r} at column {i}", i)
    # newlines/tabs become spaces (same length, so columns stay right); other control chars are refused
    text = expr.translate({9: 32, 10: 32, 11: 32, 12: 32, 13: 32})
    for i, ch in enumerate(text):
        if ord(ch) < 32 or ord(ch) == 127:
            raise FormulaError(f"control character {ch!r} at column {i}", i)
    return text


def _syntax_error(text: str, body: str, lead: int, exc: SyntaxError) -> FormulaError:
    """Python's syntax error, placed where the user has to look (columns of ``text``)."""
    offset = exc.offset or 0
    if (exc.msg or "").startswith("invalid decimal literal"):  # "2x": Python points into the number
        start = col = lead + max(offset - 1, 0)
        while col < len(text) and (text[col].isdigit() or text[col] in "._"):
            col += 1
        while start > 0 and (text[start - 1].isdigit() or text[start - 1] in "._"):
            start -= 1
        col = min(col, len(text) - 1)
        number = text[start:col]
        return FormulaError(f"syntax error at column {col}: a name right after the number {number!r}; "
                            f"write a product with '*', e.g. {number}*{text[col]}", col)
    last = lead + len(body.rstrip()) - 1  # the last character typed
    if offset <= 0 or lead + offset - 1 >= len(text.rstrip()):  # Python found the end of the text
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", SyntaxWarning)
                ast.parse(body.rstrip() + " 1", mode="eval")
            incomplete = True
        except SyntaxError:
            incomplete = False
        if incomplete:
            return FormulaError(f"syntax error at column {last}: the formula ends after {text[last]!r}; "
                                "something is missing there", last)
        col = last
    else:
        col = lead + offset - 1
    col = min(max(col, 0), len(text))
    return FormulaError(f"syntax error at column {col}: {exc.msg}", col)


def compile_formula(expr: str) -> Callable[[torch.Tensor, torch.Tensor], torch.Tensor | float]:
    """Check ``expr`` and return ``f(X, Y)`` evaluating it on coordinate columns (or a constant)."""
    text = _prepare(expr)
    body = text.lstrip()  # eval-mode parsing refuses leading indentation
    lead = len(text) - len(body)
    try:
        with warnings.catch_warnings():  # e.g. "invalid decimal literal" for 1and: the error below says it
            warnings.simplefilter("ignore", SyntaxWarning)
            tree = ast.parse(body, mode="eval")
    except SyntaxError as exc:
        raise _syntax_error(text, body, lead, exc) from None
    except (RecursionError, MemoryError, ValueError) as exc:
        raise FormulaError(f"formula cannot be parsed: {type(exc).__name__}", None) from None
    compiled = _Compiler(body, lead).compile(tree.body, 1)
    if callable(compiled):
        return compiled
    value = compiled
    return lambda X, Y: value


_PROBE = ((0.0, 0.0), (1.0, -1.0), (-0.5, 2.0), (3.0, 0.25))


def _evaluate(fn: Callable[[torch.Tensor, torch.Tensor], Any], x: torch.Tensor) -> torch.Tensor:
    out = fn(x[:, 0], x[:, 1])
    if not isinstance(out, torch.Tensor):
        return x[:, 0] * 0.0 + float(out)  # constant energy, still attached to x for autograd
    return out


def _probe(fn: Callable[[torch.Tensor, torch.Tensor], Any], points: Sequence[Sequence[float]]) -> None:
    """Evaluate once on a tiny batch so that run-time problems surface as FormulaError now."""
    x = torch.tensor(points, dtype=torch.float64)
    try:
        out = _evaluate(fn, x)
    except (RuntimeError, TypeError, ValueError, OverflowError, ZeroDivisionError) as exc:
        raise FormulaError(f"formula cannot be evaluated: {exc}", None) from None
    if out.shape != (x.shape[0],):
        raise FormulaError(f"formula gives shape {tuple(out.shape)} instead of one value per point", None)


def validate_formula(expr: str) -> None:
    """Raise :class:`FormulaError` (with a column) if ``expr`` is not an acceptable energy formula."""
    _probe(compile_formula(expr), _PROBE)


class FormulaLandscape(SpecLandscape):
    """An energy typed by the user, e.g. ``(x**2-1)**2 + 0.5*y**2 + 0.3*sin(3*x)``; autograd gradients."""

    name = "formula"

    def __init__(self, expr: str, box: Box | Sequence[float]) -> None:
        super().__init__(as_box(box))
        self._fn = compile_formula(expr)
        b = self.box
        _probe(self._fn, [((b.xmin + b.xmax) / 2, (b.ymin + b.ymax) / 2), (b.xmin, b.ymin), (b.xmax, b.ymax)])
        self.expr = expr
        self.description = f"U(x, y) = {expr}"

    def energy(self, x: torch.Tensor) -> torch.Tensor:
        return _evaluate(self._fn, x)

    def _own_spec(self) -> dict[str, Any]:
        return {"kind": "formula", "expr": self.expr, "box": box_list(self.box)}
