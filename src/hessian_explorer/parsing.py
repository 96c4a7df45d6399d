"""Safe parsing of typed formulas into sympy expressions.

User text is hostile on a hosted demo, so nothing here hands it to ``eval``, ``exec``,
``sympify`` or ``parse_expr``. A small tokenizer and a recursive-descent parser walk the text and
build sympy objects from a whitelist of operators, functions and constants. Every kind of work the
text can cause is bounded before it is done: the length of the text, the number of tokens, the
nesting depth, the size of exponents and of the numbers they would build.

Accepted syntax (Python style and classroom style, freely mixed)::

    x**2*y + sin(x*y)     x^2*y     2x + 3y     3(x+1)^2     x y     e^(x*y)     1.5e-3
    \\frac{x^2}{y} + \\sin(xy)       (LaTeX, recognised by a backslash)

``-x^2`` is ``-(x^2)``, ``2^3^2`` is ``2^(3^2)``, juxtaposition is multiplication at the same
precedence as ``*`` (so ``1/2x`` is ``(1/2)*x``).
"""

from __future__ import annotations

import contextlib
import difflib
import re
from dataclasses import dataclass
from fractions import Fraction
from typing import Callable, Iterator, Sequence

import sympy as sp

from hessian_explorer.errors import ExpressionError
from hessian_explorer.special import sigmoid, softplus

__all__ = [
    "ExpressionError",
    "parse_expression",
    "FUNCTIONS",
    "CONSTANTS",
    "MAX_LENGTH",
    "MAX_TOKENS",
    "MAX_DEPTH",
    "MAX_CALL_DEPTH",
    "MAX_VARIABLES",
]

MAX_LENGTH = 1000  # characters of input
MAX_TOKENS = 400  # tokens after tokenizing
MAX_DEPTH = 40  # nesting of parentheses, function calls and unary signs
MAX_CALL_DEPTH = 8  # functions inside functions: derivatives of deep compositions grow fast
MAX_VARIABLES = 10
MAX_EXPONENT = 1000  # |p| for a numeric exponent
MAX_NUMBER_BITS = 4000  # numerator/denominator size of any exact number built (~1200 digits)
MAX_LITERAL_EXPONENT = 300  # the e in 1.5e-3
# Constant arguments: exp, sinh and cosh of a constant are bounded like e^p (|p| <= MAX_EXPONENT),
# and sin, cos, tan of a constant beyond the largest float would need that many digits of pi.
MAX_PERIODIC_ARGUMENT = 1e308
_GROWING = frozenset({"exp", "sinh", "cosh"})
_PERIODIC = frozenset({"sin", "cos", "tan"})


@contextlib.contextmanager
def sympy_failures_as(what: str, advice: str) -> Iterator[None]:
    """Turn an error raised inside sympy into an :class:`ExpressionError`: "<what> (<error type>); <advice>"."""
    try:
        yield
    except ExpressionError:
        raise
    except (ArithmeticError, TypeError, ValueError, AttributeError, RecursionError) as err:
        raise ExpressionError(f"{what} ({type(err).__name__}); {advice}") from None


def _log(x: sp.Expr, base: sp.Expr | None = None) -> sp.Expr:
    return sp.log(x) if base is None else sp.log(x, base)


# name -> (sympy constructor, allowed argument counts)
FUNCTIONS: dict[str, tuple[Callable[..., sp.Expr], tuple[int, ...]]] = {
    "sin": (sp.sin, (1,)),
    "cos": (sp.cos, (1,)),
    "tan": (sp.tan, (1,)),
    "asin": (sp.asin, (1,)),
    "acos": (sp.acos, (1,)),
    "atan": (sp.atan, (1,)),
    "sinh": (sp.sinh, (1,)),
    "cosh": (sp.cosh, (1,)),
    "tanh": (sp.tanh, (1,)),
    "exp": (sp.exp, (1,)),
    "log": (_log, (1, 2)),
    "sqrt": (sp.sqrt, (1,)),
    "abs": (sp.Abs, (1,)),
    "sigmoid": (sigmoid, (1,)),
    "softplus": (softplus, (1,)),
}
ALIASES = {"ln": "log", "arcsin": "asin", "arccos": "acos", "arctan": "atan", "Abs": "abs"}
CONSTANTS: dict[str, sp.Expr] = {"pi": sp.pi, "e": sp.E, "π": sp.pi}
RESERVED = set(FUNCTIONS) | set(ALIASES) | set(CONSTANTS)
KNOWN_FUNCTIONS_TEXT = ", ".join(FUNCTIONS)

# LaTeX commands we understand; anything else is refused with a message.
_LATEX_FUNCTIONS = {
    "sin", "cos", "tan", "sinh", "cosh", "tanh", "exp", "log", "ln",
    "arcsin", "arccos", "arctan",
}
_LATEX_GREEK = {
    "alpha", "beta", "gamma", "delta", "epsilon", "zeta", "eta", "theta", "iota", "kappa",
    "lambda", "mu", "nu", "xi", "rho", "sigma", "tau", "phi", "chi", "psi", "omega",
}
_LATEX_OPERATORS = {"cdot": "*", "times": "*"}
_LATEX_IGNORED = {"left", "right", ",", ";", "!", " ", ":", "quad", "qquad", "displaystyle"}

_UNICODE = {"−": "-", "×": "*", "·": "*", "⋅": "*", "²": "^2", "³": "^3", "\u00a0": " "}

_NUMBER = re.compile(r"(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?")
_NAME = re.compile(r"[A-Za-z_\u0391-\u03A9\u03B1-\u03C9][A-Za-z0-9_\u0391-\u03A9\u03B1-\u03C9]*")
_LATEX_COMMAND = re.compile(r"\\([A-Za-z]+|.)")
_LATEX_NAME = re.compile(r"[A-Za-z](?:_(?:\{[A-Za-z0-9]{1,8}\}|[A-Za-z0-9]))?")


@dataclass(frozen=True)
class _Token:
    kind: str  # "num", "name", "op", "(", ")", ",", "frac", "sqrt", "[", "]", "end"
    text: str
    column: int  # 1-based column in the original text
    space_before: bool = False


def _tokenize(text: str) -> list[_Token]:
    latex = "\\" in text
    tokens: list[_Token] = []
    i, n = 0, len(text)
    space = False
    while i < n:
        ch = text[i]
        col = i + 1
        if ch.isspace():
            space, i = True, i + 1
            continue
        if ch in _UNICODE and ch != "\u00a0":
            repl = _UNICODE[ch]
            if repl.startswith("^"):
                tokens.append(_Token("op", "^", col, space))
                tokens.append(_Token("num", repl[1:], col))
            else:
                tokens.append(_Token("op", repl, col, space))
            space, i = False, i + 1
            continue
        m = _NUMBER.match(text, i)
        if m:
            tokens.append(_Token("num", m.group(), col, space))
        elif latex and ch == "\\":
            m = _LATEX_COMMAND.match(text, i)
            if m is None:
                raise ExpressionError(f"a lone backslash at column {col}; LaTeX commands look like \\frac or \\sin", col)
            word = m.group(1)
            if word in _LATEX_IGNORED:
                pass
            elif word in _LATEX_OPERATORS:
                tokens.append(_Token("op", _LATEX_OPERATORS[word], col, space))
            elif word in ("frac", "dfrac", "tfrac"):
                tokens.append(_Token("frac", "frac", col, space))
            elif word == "sqrt":
                tokens.append(_Token("sqrt", "sqrt", col, space))
            elif word in _LATEX_FUNCTIONS or word in _LATEX_GREEK or word == "pi":
                tokens.append(_Token("name", word, col, space))
            else:
                raise ExpressionError(
                    f"unknown LaTeX command '\\{word}' at column {col}; known: \\frac, \\sqrt, "
                    "\\cdot, \\left, \\right, \\pi, Greek letters and "
                    + ", ".join("\\" + f for f in sorted(_LATEX_FUNCTIONS)),
                    col,
                )
        elif latex and ch.isalpha():
            # In LaTeX, "xy" is x times y: names are single letters with an optional subscript.
            m = _LATEX_NAME.match(text, i)
            if m is None:
                raise ExpressionError(f"unexpected character '{ch}' at column {col}", col)
            name = m.group().replace("{", "").replace("}", "")
            tokens.append(_Token("name", name, col, space))
        elif not latex and (m := _NAME.match(text, i)):
            tokens.append(_Token("name", m.group(), col, space))
        elif text.startswith("**", i):
            m = None
            tokens.append(_Token("op", "^", col, space))
            i += 2
            space = False
            continue
        elif ch in "+-*/^":
            tokens.append(_Token("op", ch, col, space))
        elif ch in "([{":
            tokens.append(_Token("(" if (ch != "[" or not latex) else "[", ch, col, space))
        elif ch in ")]}":
            tokens.append(_Token(")" if (ch != "]" or not latex) else "]", ch, col, space))
        elif ch == ",":
            tokens.append(_Token(",", ch, col, space))
        else:
            shown = ch if ch.isprintable() else repr(ch)
            hint = ""
            if ch in "=<>":
                hint = "; type only the right-hand side of f(x, y) = ..."
            elif ch in ".'\"[]{}:;@!&|~%$#?`":
                hint = "; only numbers, names, + - * / ^ ( ) and commas are allowed"
            raise ExpressionError(f"unexpected character '{shown}' at column {col}{hint}", col)
        i = m.end() if m else i + 1
        space = False
        if len(tokens) > MAX_TOKENS:
            raise ExpressionError(
                f"the expression is too long at column {col} ({MAX_TOKENS} tokens at most); shorten it", col
            )
    tokens.append(_Token("end", "", n + 1, space))
    return tokens


_PAIRS = {"(": ")", "[": "]", "{": "}"}


def _check_nesting(tokens: Sequence[_Token]) -> None:
    """Refuse deep or unbalanced nesting before any recursion happens."""
    depth = 0
    stack: list[_Token] = []
    for tok in tokens:
        if tok.kind in ("(", "["):
            depth += 1
            stack.append(tok)
            if depth > MAX_DEPTH:
                raise ExpressionError(
                    f"brackets are nested too deeply at column {tok.column} "
                    f"(at most {MAX_DEPTH} levels)",
                    tok.column,
                )
        elif tok.kind in (")", "]"):
            if not stack:
                raise ExpressionError(
                    f"unmatched closing '{tok.text}' at column {tok.column}", tok.column
                )
            opening = stack.pop()
            if _PAIRS[opening.text] != tok.text:
                raise ExpressionError(
                    f"'{tok.text}' at column {tok.column} does not match '{opening.text}' at column "
                    f"{opening.column}; close it with '{_PAIRS[opening.text]}'",
                    tok.column,
                )
            depth -= 1
    if stack:
        tok = stack[-1]
        raise ExpressionError(
            f"unclosed '{tok.text}' at column {tok.column}; add a closing bracket", tok.column
        )


def _rational_from_literal(text: str, column: int) -> sp.Rational:
    mantissa, _, exponent = text.lower().partition("e")
    if len(mantissa.replace(".", "")) > 40:
        raise ExpressionError(f"the number at column {column} has too many digits (40 at most)", column)
    if exponent and abs(int(exponent)) > MAX_LITERAL_EXPONENT:
        raise ExpressionError(
            f"the number '{text}' at column {column} is out of range "
            f"(exponent at most {MAX_LITERAL_EXPONENT})",
            column,
        )
    frac = Fraction(text)  # the token matched a plain decimal regex: safe and exact
    return sp.Rational(frac.numerator, frac.denominator)


_UNDEFINED = (sp.zoo, sp.nan, sp.oo, -sp.oo)


def _check_defined(value: sp.Expr, column: int) -> sp.Expr:
    """Refuse a sub-expression that is undefined or infinite (log(0), 1/0, 0·∞) where it appears."""
    if value.has(*_UNDEFINED):
        raise ExpressionError(
            f"the expression is undefined at column {column} (for example log(0), a division by "
            "zero or 0·∞)",
            column,
        )
    return value


def _check_real_constant(value: sp.Expr, name: str, column: int) -> sp.Expr:
    """A function of a constant must be a real number: ``asin(2)`` or ``log(-1)`` is refused here,
    before sympy's assumption system spends seconds on what follows."""
    if value.free_symbols:
        return value
    approx = value.evalf(15)
    if not approx.is_Number:
        if approx.is_real is False or approx.has(sp.I):
            raise ExpressionError(
                f"{name}(...) at column {column} is not a real number here; check its argument", column
            )
    return value


def _check_constant_argument(name: str, args: Sequence[sp.Expr], column: int) -> None:
    """Refuse ``exp``/``sinh``/``cosh`` of a constant beyond ``MAX_EXPONENT`` and ``sin``/``cos``/
    ``tan`` of one beyond ``MAX_PERIODIC_ARGUMENT``: evaluating them would build numbers with
    astronomically many digits (``sin(exp(10^300))``), and in floating point they are ``inf`` or
    meaningless anyway. The argument's own calls were checked already, so its size is cheap to get."""
    if name in _GROWING:
        bound, what = MAX_EXPONENT, f"at most {MAX_EXPONENT}, as for e^p"
    elif name in _PERIODIC:
        bound, what = MAX_PERIODIC_ARGUMENT, "at most 1e308, the largest floating-point number"
    else:
        return
    for arg in args:
        if arg.free_symbols:
            continue
        approx = arg.evalf(15)
        if approx.is_Number and abs(approx) > bound:
            raise ExpressionError(
                f"the argument of {name} at column {column} is too large ({what}); use a smaller constant",
                column,
            )


def _check_number_size(value: sp.Expr, column: int) -> sp.Expr:
    if isinstance(value, sp.Rational) and max(value.p.bit_length(), value.q.bit_length()) > MAX_NUMBER_BITS:
        raise ExpressionError(
            f"the number built at column {column} is too large to work with; use smaller constants",
            column,
        )
    return _check_defined(value, column)


class _Parser:
    def __init__(self, tokens: list[_Token], allowed: frozenset[str] | None):
        self.tokens = tokens
        self.pos = 0
        self.depth = 0
        self.call_depth = 0
        self.allowed = allowed
        self.names: dict[str, sp.Symbol] = {}
        self.first_seen: dict[str, int] = {}

    # -- helpers -------------------------------------------------------------------------------
    @property
    def tok(self) -> _Token:
        return self.tokens[self.pos]

    def advance(self) -> _Token:
        tok = self.tokens[self.pos]
        self.pos += 1
        return tok

    def expect(self, kind: str, what: str) -> _Token:
        tok = self.tok
        if tok.kind != kind:
            found = "the end of the input" if tok.kind == "end" else f"'{tok.text}'"
            raise ExpressionError(f"expected {what} at column {tok.column}, found {found}", tok.column)
        return self.advance()

    def enter(self, tok: _Token) -> None:
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise ExpressionError(
                f"the expression is nested too deeply at column {tok.column} "
                f"(at most {MAX_DEPTH} levels)",
                tok.column,
            )

    def leave(self) -> None:
        self.depth -= 1

    def enter_call(self, tok: _Token) -> None:
        self.call_depth += 1
        if self.call_depth > MAX_CALL_DEPTH:
            raise ExpressionError(
                f"functions are nested too deeply at column {tok.column} (at most {MAX_CALL_DEPTH} "
                "functions inside each other); simplify the expression",
                tok.column,
            )

    # -- grammar -------------------------------------------------------------------------------
    def parse(self) -> sp.Expr:
        if self.tok.kind == "end":
            raise ExpressionError("the expression is empty; type a formula such as x^2 + y^2")
        expr = self.sum()
        if self.tok.kind != "end":
            tok = self.tok
            raise ExpressionError(
                f"unexpected '{tok.text}' at column {tok.column}; is an operator missing?", tok.column
            )
        return expr

    def sum(self) -> sp.Expr:
        left = self.term()
        while self.tok.kind == "op" and self.tok.text in "+-":
            op = self.advance()
            right = self.term()
            right = right if op.text == "+" else -right
            left = _check_number_size(sp.Add(left, right), op.column)
        return left

    def starts_factor(self) -> bool:
        return self.tok.kind in ("num", "name", "(", "frac", "sqrt")

    def term(self) -> sp.Expr:
        left = self.unary()
        while True:
            tok = self.tok
            if tok.kind == "op" and tok.text in "*/":
                self.advance()
                right = self.unary()
                if tok.text == "/":
                    if right == 0:
                        raise ExpressionError(f"division by zero at column {tok.column}", tok.column)
                    right = sp.Pow(right, -1)
            elif self.starts_factor():
                if tok.kind == "num" and self.tokens[self.pos - 1].kind == "num":
                    raise ExpressionError(
                        f"two numbers in a row at column {tok.column}; is an operator missing?",
                        tok.column,
                    )
                right = self.unary()  # implicit multiplication: 2x, x y, 3(x+1)
            else:
                return left
            left = _check_number_size(sp.Mul(left, right), tok.column)

    def unary(self) -> sp.Expr:
        tok = self.tok
        if tok.kind == "op" and tok.text in "+-":
            self.advance()
            self.enter(tok)
            operand = self.unary()
            self.leave()
            return -operand if tok.text == "-" else operand
        return self.power()

    def power(self) -> sp.Expr:
        base = self.atom()
        tok = self.tok
        if tok.kind == "op" and tok.text == "^":
            self.advance()
            self.enter(tok)
            exponent = self.unary()  # right-associative, and allows x^-2
            self.leave()
            return _safe_pow(base, exponent, tok.column)
        return base

    def group(self) -> sp.Expr:
        """A bracketed sub-expression: ( ), [ ] (plain text) or { } (LaTeX)."""
        tok = self.expect("(", "an opening bracket")
        self.enter(tok)
        inner = self.sum()
        self.leave()
        self.expect(")", "a closing bracket")
        return inner

    def atom(self) -> sp.Expr:
        tok = self.tok
        if tok.kind == "num":
            self.advance()
            return _rational_from_literal(tok.text, tok.column)
        if tok.kind == "(":
            return self.group()
        if tok.kind == "frac":
            self.advance()
            numerator = self.group()
            denominator = self.group()
            if denominator == 0:
                raise ExpressionError(f"division by zero at column {tok.column}", tok.column)
            return numerator / denominator
        if tok.kind == "sqrt":
            self.advance()
            index = None
            if self.tok.kind == "[":
                self.advance()
                index = self.sum()
                self.expect("]", "']'")
            radicand = self.group()
            return sp.sqrt(radicand) if index is None else _safe_pow(radicand, 1 / index, tok.column)
        if tok.kind == "name":
            self.advance()
            return self.name(tok)
        if tok.kind == "end":
            raise ExpressionError(
                f"the expression ends too early at column {tok.column}; something is missing after the last operator",
                tok.column,
            )
        raise ExpressionError(f"unexpected '{tok.text}' at column {tok.column}", tok.column)

    def name(self, tok: _Token) -> sp.Expr:
        name = ALIASES.get(tok.text, tok.text)
        called = self.tok.kind == "(" and not self.tok.space_before
        if name in FUNCTIONS:
            if self.tok.kind == "(":
                return self.call(tok, name)
            if not self.starts_factor():
                raise ExpressionError(
                    f"'{tok.text}' at column {tok.column} is a function: write {tok.text}(...)",
                    tok.column,
                )
            # Classroom style "sin x" and LaTeX "\sin x": the function takes the next power.
            self.enter(tok)
            self.enter_call(tok)
            argument = self.power()
            self.call_depth -= 1
            self.leave()
            _check_constant_argument(name, [argument], tok.column)
            return _check_real_constant(_check_defined(FUNCTIONS[name][0](argument), tok.column), tok.text, tok.column)
        if name in CONSTANTS:
            return CONSTANTS[name]
        if called and (close := difflib.get_close_matches(name.lower(), list(FUNCTIONS) + list(ALIASES), n=1, cutoff=0.75)):
            raise ExpressionError(
                f"unknown function '{tok.text}' at column {tok.column}; did you mean {close[0]}? "
                f"Known functions: {KNOWN_FUNCTIONS_TEXT}",
                tok.column,
            )
        return self.variable(tok)

    def call(self, tok: _Token, name: str) -> sp.Expr:
        constructor, arities = FUNCTIONS[name]
        open_tok = self.expect("(", "'('")
        self.enter(open_tok)
        self.enter_call(tok)
        args = [self.sum()]
        while self.tok.kind == ",":
            self.advance()
            args.append(self.sum())
        self.call_depth -= 1
        self.leave()
        self.expect(")", f"')' to close {tok.text}(")
        if len(args) not in arities:
            wanted = " or ".join(str(a) for a in arities)
            raise ExpressionError(
                f"{tok.text} at column {tok.column} takes {wanted} argument"
                f"{'s' if arities != (1,) else ''}, got {len(args)}",
                tok.column,
            )
        _check_constant_argument(name, args, tok.column)
        if name == "log" and len(args) == 2 and (args[1] == 1 or args[1] == 0):
            raise ExpressionError(f"log base at column {tok.column} must not be 0 or 1", tok.column)
        return _check_real_constant(_check_defined(constructor(*args), tok.column), tok.text, tok.column)

    def variable(self, tok: _Token) -> sp.Symbol:
        name = tok.text
        if name.startswith("_"):
            raise ExpressionError(
                f"names may not start with '_' ('{name}' at column {tok.column})", tok.column
            )
        if self.allowed is not None and name not in self.allowed:
            listed = ", ".join(sorted(self.allowed)) or "none"
            raise ExpressionError(
                f"unknown name '{name}' at column {tok.column}; the variables are {listed}, "
                f"known functions: {KNOWN_FUNCTIONS_TEXT}",
                tok.column,
            )
        if name not in self.names:
            if len(self.names) >= MAX_VARIABLES:
                raise ExpressionError(
                    f"too many variables: '{name}' at column {tok.column} would be number "
                    f"{MAX_VARIABLES + 1} (at most {MAX_VARIABLES})",
                    tok.column,
                )
            self.names[name] = sp.Symbol(name, real=True)
            self.first_seen[name] = tok.column
        return self.names[name]


def _safe_pow(base: sp.Expr, exponent: sp.Expr, column: int) -> sp.Expr:
    """``base ** exponent``, refusing exponents and constants that would build huge numbers."""
    if exponent.is_Number:
        if abs(exponent) > MAX_EXPONENT:
            raise ExpressionError(
                f"the exponent at column {column} is too large (|p| <= {MAX_EXPONENT})", column
            )
        if base.is_Rational and exponent.is_Integer:
            if base == 0 and exponent < 0:
                raise ExpressionError(f"0 to a negative power at column {column}", column)
            bits = max(base.p.bit_length(), base.q.bit_length()) * abs(int(exponent))
            if bits > MAX_NUMBER_BITS:
                raise ExpressionError(
                    f"the power at column {column} would build a number with over "
                    f"{int(bits * 0.30103)} digits; use smaller constants",
                    column,
                )
        if base.is_Rational and exponent.is_Rational and not exponent.is_Integer and exponent.q > 100:
            # exact roots of a number with a huge index (sympy would search for them) are refused
            raise ExpressionError(
                f"the fractional power of a number at column {column} is too fine (denominator at most "
                "100, such as 1/3 or 5/2); use a decimal base or a simpler exponent",
                column,
            )
        if base.is_Number and base < 0 and not exponent.is_Integer:
            raise ExpressionError(
                f"a negative number to a fractional power at column {column} is not a real number",
                column,
            )
    elif base.is_number and not exponent.free_symbols:
        # e.g. 2^(10^6 * pi) or e^(e^(e^999)): bound the size of a constant exponent too.
        approx = exponent.evalf(15)
        if approx.is_Number and abs(approx) > MAX_EXPONENT:
            raise ExpressionError(
                f"the exponent at column {column} is too large (|p| <= {MAX_EXPONENT})", column
            )
    return _check_number_size(sp.Pow(base, exponent), column)


def parse_expression(text: str, variables: Sequence[str] | None = None) -> tuple[sp.Expr, tuple[sp.Symbol, ...]]:
    """Parse ``text`` into a sympy expression over real symbols, safely.

    Returns ``(expr, symbols)``. Symbols are sorted by name, or in the order of ``variables``
    when given (then every name in the text must be one of them). Raises ``ExpressionError``
    (a ``ValueError``) with a message naming the problem and its column for anything refused.

    >>> expr, symbols = parse_expression("2x^2 + 3x y")
    >>> expr, symbols
    (2*x**2 + 3*x*y, (x, y))
    """
    if not isinstance(text, str):
        raise ExpressionError("the expression must be text")
    if len(text) > MAX_LENGTH:
        raise ExpressionError(
            f"the expression is too long ({len(text)} characters; at most {MAX_LENGTH})"
        )
    allowed = None
    if variables is not None:
        variables = tuple(variables)
        if len(variables) > MAX_VARIABLES:
            raise ExpressionError(f"too many variables ({len(variables)}; at most {MAX_VARIABLES})")
        for v in variables:
            if not isinstance(v, str) or not _NAME.fullmatch(v) or v.startswith("_") or v in RESERVED:
                raise ExpressionError(
                    f"'{v}' cannot be a variable name: use letters, digits and '_' "
                    "(not first), and not a function or constant name"
                )
        if len(set(variables)) != len(variables):
            raise ExpressionError("the variable names must be different from each other")
        allowed = frozenset(variables)
    for ch, repl in _UNICODE.items():
        if ch == "\u00a0":
            text = text.replace(ch, repl)
    tokens = _tokenize(text)
    _check_nesting(tokens)
    parser = _Parser(tokens, allowed)
    # sympy's automatic evaluation can fail on odd constants (e.g. acos(sin(10^300)))
    with sympy_failures_as("this expression could not be evaluated symbolically", "try simpler constants"):
        expr = parser.parse()
    if expr.has(sp.zoo, sp.nan, sp.oo, -sp.oo):
        raise ExpressionError("the expression is undefined everywhere (it divides by zero or takes log(0))")
    if variables is not None:
        symbols = tuple(parser.names.get(v) or sp.Symbol(v, real=True) for v in variables)
    else:
        symbols = tuple(parser.names[name] for name in sorted(parser.names))
    return expr, symbols
