"""Compiled numpy kernels: many sympy expressions evaluated together, fast, on batches of points.

:func:`compile_kernel` turns expressions of internal symbols ``_v0 .. _v{n-1}`` into one numpy
function that fills rows of a table: row ``r`` of the result holds the expression assigned to it
at every point. :func:`evaluate` runs it on an ``(N, n)`` batch:

- the points are processed in chunks of up to 131,072 points, so that memory stays bounded and
  every numpy call has enough work to hide its fixed overhead (about a microsecond);
- a batch is split across a small thread pool (numpy's ufuncs release the GIL) only when the
  estimated gain from running the calls side by side outweighs the cost of waking the pool and of
  threads handing the GIL to each other between calls, and no other task holds the other cores:
  cheap arithmetic kernels run in one thread up to some tens of thousands of points, ``exp`` and
  ``sin`` are shared from about ten thousand;
- the generated code is three-address numpy: every operation writes into a preallocated buffer
  (``out=``), buffers are reused as soon as a value is dead, and each final value is written
  straight into its row of the table;
- before common-subexpression elimination the expressions are rewritten so that shared work is
  visible: ``exp(2 a)`` becomes ``exp(a)**2`` when ``exp(a)`` is needed too, negative and half-integer
  powers share one ``1/b`` or ``sqrt(b)``, integer powers become products, and a sum's integer
  content is taken out (``2 x + 2 y**2 - 14`` is ``2 (x + y**2 - 7)``, a sum the gradient's other
  entry has too);
- each kernel puts back the shared products it uses only once (one CSE pass serves the value,
  gradient and Hessian kernels, and ``-(6 x) y`` costs a product more than ``-6 x y``);
- rows whose expression is a constant are filled once; a row can be the copy of another (the
  mirrored half of a symmetric Hessian);
- non-finite results become ``nan`` and no floating-point warning escapes. Finite inputs can only
  give a non-finite result through an operation that raises a floating-point flag (overflow,
  division by zero, invalid), so a chunk is scanned for non-finite values only when one was
  raised, its input was not finite, or the kernel has an infinite or ``nan`` constant.

A kernel can also carry a compiled loop (``kernel.fused``, attached by
:func:`hessian_explorer.fused.fuse`): :func:`evaluate` then runs that loop instead of the numpy
calls, with the same result contract.

The generated source contains only internal names (``w0``, ``t3``, ``o2``, numpy ufuncs) and float
literals, never a name typed by a user; it can be read with ``inspect.getsource``. A node the
generator does not know falls back to ``sympy.lambdify`` with the same table interface.
"""

from __future__ import annotations

import functools
import itertools
import linecache
import math
import os
import re
import threading
import weakref
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from fractions import Fraction
from typing import Callable, Iterable, Iterator, Sequence

import numpy as np
import sympy as sp
from sympy.printing.numpy import NumPyPrinter
from sympy.printing.precedence import PRECEDENCE

from hessian_explorer.special import np_sigmoid, np_softplus, sigmoid, softplus

__all__ = ["Layout", "compile_kernel", "compile_kernels", "evaluate"]

# Most points per chunk; kernels with many live buffers get shorter chunks (not below MIN_CHUNK),
# so that a workspace holds at most _WORKSPACE_BUDGET doubles (16 MiB).
CHUNK = 131072
MIN_CHUNK = 4096
_WORKSPACE_BUDGET = 1 << 21
THREADS = max(1, min(4, os.cpu_count() or 1))
# The thread model (measured on 2 cores, see _plan): sharing a batch saves half its time but costs
# THREAD_START_NS to wake the pool, and per chunk THREAD_CHUNK_NS plus THREAD_CALL_NS per numpy call
# (the GIL changes hands around every call while both threads run).
THREAD_START_NS = 130_000
THREAD_CHUNK_NS = 25_000
THREAD_CALL_NS = 2_000
# Estimated cost of one element of each generated call, in nanoseconds (numpy 2 on one x86-64
# core without AVX-512). Calls not listed cost _DEFAULT_NS.
_COST_NS = {
    "_add": 0.4, "_subtract": 0.4, "_multiply": 0.4, "_divide": 0.4, "_negative": 0.3, "_absolute": 0.3,
    "_copyto": 0.3, "_sign": 0.7, "_sqrt": 1.4, "_exp": 5.7, "_log": 5.0, "_cosh": 7.0, "_arctan": 10.0,
    "_arcsin": 10.0, "_arccos": 10.0, "_sin": 10.0, "_cos": 11.0, "_tan": 13.0, "_tanh": 14.0,
    "_power": 14.0, "_softplus": 16.0, "_sinh": 18.0, "_sigmoid": 30.0,
}
_DEFAULT_NS = 10.0
# Per point and variable: copying the coordinates into the workspace and checking they are finite.
_INPUT_NS = 0.7
# A fused loop (fused.py) keeps values in registers: a call costs its numpy estimate less the
# pass over memory, and at least _FUSED_MIN_NS; exp is _fastexp's (vectorised). Sharing its batch
# between threads (the loop releases the GIL) costs about FUSED_THREAD_NS.
_PASS_NS = 0.3
_FUSED_MIN_NS = 0.05
_FUSED_COST_NS = {"_exp": 2.1}
FUSED_THREAD_NS = 100_000
# Integer powers up to this are products (binary powering); larger ones call numpy.power.
_MAX_PRODUCT_POWER = 16


# -- placeholders that keep shared work visible to common-subexpression elimination --------------
class _exp(sp.Function):  # noqa: N801 - unevaluated exp: sympy would fold exp(a)**2 into exp(2a)
    nargs = 1


class _inv(sp.Function):  # noqa: N801 - 1/b, shared between b**-1, b**-2, ...
    nargs = 1


class _sqrt(sp.Function):  # noqa: N801 - sqrt(b), shared between b**(1/2), b**(-3/2), ...
    nargs = 1


_UFUNCS: dict[type, str] = {
    sp.sin: "sin", sp.cos: "cos", sp.tan: "tan", sp.asin: "arcsin", sp.acos: "arccos",
    sp.atan: "arctan", sp.sinh: "sinh", sp.cosh: "cosh", sp.tanh: "tanh", sp.log: "log",
    sp.Abs: "absolute", sp.sign: "sign", _exp: "exp", _sqrt: "sqrt",
}
_HELPERS: dict[type, str] = {sigmoid: "_sigmoid", softplus: "_softplus"}


class _Unsupported(Exception):
    """The generator has no translation for a node; the caller falls back to lambdify."""


def _const(expr: sp.Expr) -> float:
    """A numeric sympy expression as a float (``nan`` if it is not real, ``±inf`` on overflow)."""
    if isinstance(expr, sp.Rational):
        try:
            return float(Fraction(int(expr.p), int(expr.q)))
        except OverflowError:
            return math.inf if expr > 0 else -math.inf
    if expr.has(_exp, _inv, _sqrt):  # placeholders from _rewrite have no numeric value of their own
        expr = expr.replace(_exp, sp.exp).replace(_inv, lambda b: 1 / b).replace(_sqrt, sp.sqrt)
    try:
        value = complex(expr.evalf(17))
    except OverflowError:
        return math.inf if expr.is_positive else (-math.inf if expr.is_negative else math.nan)
    except (TypeError, ValueError):
        return math.nan
    return value.real if value.imag == 0 else math.nan


def _rewrite(exprs: list[sp.Expr]) -> list[sp.Expr]:
    """Rewrite powers and exponentials so that CSE can share their work (see the module doc)."""

    def pow_(base, exponent):
        if base.is_number or not exponent.is_Rational:
            return sp.Pow(base, exponent)
        if exponent.is_Integer:
            k = int(exponent)
            return sp.Pow(_inv(base), -k, evaluate=False) if k < -1 else (_inv(base) if k == -1 else sp.Pow(base, k))
        if exponent.q == 2:
            root = _sqrt(base)
            k = int(exponent.p)
            if k == 1:
                return root
            if k == -1:
                return _inv(root)
            return sp.Pow(root, k) if k > 0 else sp.Pow(_inv(root), -k, evaluate=False)
        return sp.Pow(base, exponent)

    def content(add):  # 2x + 2y**2 - 14 -> 2 (x + y**2 - 7): one product, and a sum CSE can share
        c, primitive = add.as_content_primitive()
        return sp.Mul(c, primitive, evaluate=False) if c.is_Integer and c > 1 else add

    exprs = [e.replace(sp.exp, _exp).replace(lambda e: e.is_Pow, lambda e: pow_(*e.args))
             .replace(lambda e: e.is_Add, content) for e in exprs]
    # exp(k a) -> exp(a)**k when exp(a) is needed anyway (k = 2, 3, 4): a product, not an exp.
    args = {e.args[0] for expr in exprs for e in expr.atoms(_exp)}
    mapping = {}
    for a in args:
        for k in (2, 3, 4):
            if (a / k) in args:
                mapping[_exp(a)] = sp.Pow(_exp(a / k), k)
                break
    return [e.xreplace(mapping) for e in exprs] if mapping else exprs


# -- three-address code generation --------------------------------------------------------------
@dataclass(frozen=True)
class Layout:
    """How a compiled kernel fills its table.

    The kernel is called as ``fn(W, O)`` once per chunk: ``W`` is a ``(n + buffers, L)`` workspace
    whose first ``n`` rows hold the coordinates of ``L`` points, ``O`` the ``(rows, L)`` slice of the
    table. It writes every row except those in ``constants`` (row -> value), which
    :func:`evaluate` fills once. ``call_ns`` estimates the cost of each numpy call of the kernel
    in nanoseconds per point (it decides whether threads are worth it).
    """

    n: int
    rows: int
    buffers: int
    constants: dict[int, float]
    call_ns: tuple[float, ...] = (_DEFAULT_NS,)
    flags_tell: bool = False  # finite input and no floating-point flag imply a finite table
    fused_ns: float = _DEFAULT_NS  # estimated cost per point of the fused loop (see fused.py)

    @functools.cached_property
    def point_ns(self) -> float:
        """Estimated cost of the kernel per point, in nanoseconds (the sum of ``call_ns``)."""
        return sum(self.call_ns)


class _Emitter:
    """Emit numpy calls with ``out=`` for CSE'd expressions, reusing dead buffers.

    Operands are buffer names (``w<i>`` coordinates, ``t<j>`` temporaries, ``o<r>`` table rows) or
    floats. A temporary is *owned* while it holds a named (CSE) value or a base being powered;
    other temporaries die where they are used.
    """

    def __init__(self) -> None:
        self.lines: list[str] = []
        self.names: dict[sp.Symbol, str | float] = {}
        self.owned: set[str] = set()
        self.free: list[str] = []
        self.count = 0

    def alloc(self) -> str:
        if self.free:
            return self.free.pop()
        self.count += 1
        return f"t{self.count - 1}"

    def release(self, operand) -> None:
        if isinstance(operand, str) and operand[0] == "t" and operand not in self.owned and operand not in self.free:
            self.free.append(operand)

    def call(self, fn: str, args: Sequence, out: str | None = None) -> str:
        """``fn(*args, out=...)``; operands die here (elementwise, so ``out`` may alias one)."""
        for a in args:
            self.release(a)
        out = out or self.alloc()
        self.lines.append(f"{fn}({', '.join(_operand(a) for a in args)}, out={out})")
        return out

    def finish(self, operand, out: str | None):
        """Put ``operand`` into ``out`` if asked; retargets the op that produced a temporary."""
        if out is None or operand == out:
            return operand
        if isinstance(operand, str) and operand[0] == "t" and operand not in self.owned \
                and self.lines and self.lines[-1].endswith(f"out={operand})"):
            self.lines[-1] = self.lines[-1][: -len(f"{operand})")] + f"{out})"
            self.release(operand)
            return out
        if isinstance(operand, str):
            self.lines.append(f"_copyto({out}, {operand})")
            self.release(operand)
        else:
            self.lines.append(f"{out}.fill({_operand(operand)})")
        return out

    def emit(self, expr: sp.Expr, out: str | None = None):
        """Emit code for ``expr`` and return its operand (``out`` if given)."""
        if expr.is_Symbol:
            return self.finish(self.names[expr], out)
        if not expr.free_symbols:
            return self.finish(_const(expr), out)
        if expr.is_Add:
            return self.finish(self._add(expr), out)
        if expr.is_Mul:
            return self.finish(self._mul(expr), out)
        if expr.is_Pow:
            base, exponent = expr.args
            if exponent.is_Integer and 2 <= int(exponent) <= _MAX_PRODUCT_POWER:
                return self.finish(self._power(self.emit(base), int(exponent)), out)
            return self.call("_power", [self.emit(base), self.emit(exponent)], out)
        if isinstance(expr, _inv):
            return self.call("_divide", [1.0, self.emit(expr.args[0])], out)
        fn = type(expr)
        if fn in _UFUNCS and len(expr.args) == 1:
            return self.call(f"_{_UFUNCS[fn]}", [self.emit(expr.args[0])], out)
        if fn in _HELPERS and len(expr.args) == 1:
            arg = self.emit(expr.args[0])
            self.release(arg)
            out = out or self.alloc()
            self.lines.append(f"_copyto({out}, {_HELPERS[fn]}({_operand(arg)}))")
            return out
        raise _Unsupported(type(expr).__name__)

    def _power(self, base, k: int):
        """``base**k`` (k >= 2) by left-to-right binary powering: at most 2 log2(k) products."""
        if not isinstance(base, str):
            try:
                return float(base) ** k
            except OverflowError:
                return math.inf if base > 0 or k % 2 == 0 else -math.inf
        protect = base[0] == "t" and base not in self.owned
        if protect:
            self.owned.add(base)
        acc = base
        for bit in bin(k)[3:]:
            acc = self.call("_multiply", [acc, acc])
            if bit == "1":
                acc = self.call("_multiply", [acc, base])
        if protect:
            self.owned.discard(base)
            self.release(base)
        return acc

    def _add(self, expr: sp.Add):
        content, primitive = expr.as_content_primitive()
        if content.is_Integer and content > 1 and primitive.is_Add and _products(expr) - _products(primitive) >= 2:
            return self.call("_multiply", [self._add(primitive), _const(content)])  # 2a + 2b = 2 (a + b)
        const, plus, minus = 0.0, [], []
        for term in expr.args:
            if not term.free_symbols:
                const += _const(term)
            elif term.could_extract_minus_sign():
                minus.append(-term)
            else:
                plus.append(term)
        acc = None
        if not plus and const != 0.0:  # c - a - b
            acc = self.call("_subtract", [const, self.emit(minus.pop(0))])
            const = 0.0
        elif not plus:  # start from the first negative term itself: -a*b is one product, not two ops
            acc = self.emit(-minus.pop(0))
        for term in plus:
            value = self.emit(term)
            acc = value if acc is None else self.call("_add", [acc, value])
        for term in minus:
            acc = self.call("_subtract", [acc, self.emit(term)])
        return acc if const == 0.0 else self.call("_add", [acc, const])

    def _mul(self, expr: sp.Mul):
        coeff, factors = expr.as_coeff_mul()
        c = _const(coeff)
        numerator, denominator = [], []
        for f in factors:
            if isinstance(f, _inv):  # an inline 1/b (used once): divide instead
                denominator.append(f.args[0])
            elif f.is_Pow and isinstance(f.args[0], _inv):
                denominator.append(sp.Pow(f.args[0].args[0], f.args[1], evaluate=False))
            else:
                numerator.append(f)
        acc = den = None
        for f in numerator:
            value = self.emit(f)
            acc = value if acc is None else self.call("_multiply", [acc, value])
        for f in denominator:
            value = self.emit(f)
            den = value if den is None else self.call("_multiply", [den, value])
        if c == -1.0 and den is None and isinstance(acc, str):
            return self.call("_negative", [acc])
        if c != 1.0:
            acc = c if acc is None else self.call("_multiply", [acc, c])
        if den is not None:
            acc = self.call("_divide", [1.0 if acc is None else acc, den])
        return acc


def _products(add: sp.Add) -> int:
    """How many terms of a sum carry a numeric factor other than ±1 (a product each)."""
    return sum(1 for term in add.args if term.free_symbols and abs(term.as_coeff_Mul()[0]) != 1)


def _operand(x) -> str:
    if isinstance(x, str):
        return x
    if math.isnan(x):
        return "_nan"
    if math.isinf(x):
        return "_inf" if x > 0 else "(-_inf)"
    return repr(float(x))


_NAMESPACE = {
    **{f"_{name}": getattr(np, name) for name in set(_UFUNCS.values()) | {
        "add", "subtract", "multiply", "divide", "negative", "power", "copyto"}},
    "_sigmoid": np_sigmoid,
    "_softplus": np_softplus,
    "_nan": math.nan,
    "_inf": math.inf,
}
_counter = itertools.count()


def _cse(exprs: Sequence[sp.Expr]) -> tuple[list[tuple[sp.Symbol, sp.Expr]], list[sp.Expr]]:
    """Common-subexpression elimination of the rewritten expressions (one pass for all kernels)."""
    return sp.cse(_rewrite(list(exprs)), symbols=sp.numbered_symbols("_c"), order="none")


def _live(replacements: Sequence[tuple[sp.Symbol, sp.Expr]], wanted: Sequence[sp.Expr]) -> list[bool]:
    """Which CSE replacements the ``wanted`` expressions need, directly or through other ones."""
    needed = set().union(*(e.free_symbols for e in wanted))
    live = [False] * len(replacements)
    for s in range(len(replacements) - 1, -1, -1):
        sym, e = replacements[s]
        if sym in needed:
            live[s] = True
            needed |= e.free_symbols
    return live


def _inline_single_products(replacements: list[tuple[sp.Symbol, sp.Expr]], outputs: list[sp.Expr]):
    """Put back the shared products that this kernel uses only once.

    One CSE pass serves several kernels, so ``6 x`` may be shared because the Hessian needs it
    while the gradient uses it once, in ``-6 x y``: there, a named ``6 x`` costs a product of its
    own. Substituted back, sympy merges the coefficients (``-6 x y``: two products, not three).
    Only products are put back: a sum put into ``2 (a + b)`` would be distributed.
    """
    uses: dict[sp.Symbol, int] = {}
    for e in [e for _, e in replacements] + outputs:
        for node in sp.preorder_traversal(e):
            if node.is_Symbol:
                uses[node] = uses.get(node, 0) + 1
    inline: dict[sp.Symbol, sp.Expr] = {}
    kept = []
    for sym, e in replacements:
        e = e.xreplace(inline) if inline else e
        if e.is_Mul and uses.get(sym) == 1:
            inline[sym] = e
        else:
            kept.append((sym, e))
    return kept, [e.xreplace(inline) for e in outputs] if inline else outputs


def _generate(cse: tuple, n: int, rows: Sequence[Sequence[int]]) -> Callable:
    """Three-address code for CSE'd expressions of ``_v0..``: ``rows[k]`` lists the table rows of
    expression k (none: the kernel does not compute it, nor the shared values only it needs)."""
    all_replacements, reduced = cse
    live = _live(all_replacements, [e for e, targets in zip(reduced, rows) if targets])
    replacements, reduced = _inline_single_products(
        [r for r, keep in zip(all_replacements, live) if keep],
        [e if targets else sp.S.Zero for e, targets in zip(reduced, rows)])
    em = _Emitter()
    for i in range(n):
        em.names[sp.Symbol(f"_v{i}", real=True)] = f"w{i}"
    # A CSE value's buffer is freed after the last statement that reads it.
    statements = [e for _, e in replacements] + reduced  # (outputs this kernel skips are 0)
    last_use = {}
    for s, e in enumerate(statements):
        for sym in e.free_symbols:
            last_use[sym] = s
    dying: dict[int, list[sp.Symbol]] = {}
    for sym, s in last_use.items():
        dying.setdefault(s, []).append(sym)

    def retire(s: int) -> None:
        for sym in dying.get(s, ()):
            operand = em.names.get(sym)
            if isinstance(operand, str) and operand in em.owned:
                em.owned.discard(operand)
                em.release(operand)

    # A CSE value that is itself an output is computed straight into that output's first row.
    home = {}
    for e, targets in zip(reduced, rows):
        if e.is_Symbol and targets:
            home.setdefault(e, f"o{targets[0]}")
    for s, (sym, e) in enumerate(replacements):
        operand = em.emit(e, out=home.get(sym))
        if isinstance(operand, str) and operand[0] == "t":
            em.owned.add(operand)
        em.names[sym] = operand
        retire(s)
    constants: dict[int, float] = {}
    for k, (e, targets) in enumerate(zip(reduced, rows)):
        if targets and not e.free_symbols:
            constants.update((r, _const(e)) for r in targets)
        elif targets:
            first, *others = targets
            em.emit(e, out=f"o{first}")
            em.lines += [f"_copyto(o{r}, o{first})" for r in others]
        retire(len(replacements) + k)

    used = {word for line in em.lines for word in re.findall(r"\b[wo]\d+\b", line)}
    header = [f"w{i} = _W[{i}]" for i in range(n) if f"w{i}" in used]
    header += [f"t{j} = _W[{n + j}]" for j in range(em.count)]
    header += [f"o{r} = _O[{r}]" for r in sorted({r for t in rows for r in t}) if f"o{r}" in used]
    source = "def _kernel(_W, _O):\n" + "".join(f"    {line}\n" for line in header + em.lines or ["pass"])
    fn = _exec(source)
    fn.statements = tuple(em.lines)  # what fused.fuse translates into one compiled loop
    names = [re.findall(r"\b(_[a-z]+)\(", line) for line in em.lines]
    call_ns = tuple(sum(_COST_NS.get(name, _DEFAULT_NS) for name in line) for line in names)
    fused_ns = sum(_FUSED_COST_NS.get(name, max(_COST_NS.get(name, _DEFAULT_NS) - _PASS_NS, _FUSED_MIN_NS))
                   for line in names for name in line)
    fn.layout = Layout(n=n, rows=1 + max((r for t in rows for r in t), default=-1), buffers=em.count,
                       constants=constants, call_ns=call_ns,
                       flags_tell=not re.search(r"\b_(nan|inf)\b", source),
                       fused_ns=fused_ns)
    return fn


def _exec(source: str) -> Callable:
    """Compile generated source (internal names only), readable by ``inspect.getsource``."""
    filename = f"<hessian_explorer kernel {next(_counter)}>"
    namespace = dict(_NAMESPACE)
    exec(compile(source, filename, "exec"), namespace)  # noqa: S102 - generated text, no user names
    linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
    fn = namespace["_kernel"]
    weakref.finalize(fn, linecache.cache.pop, filename, None)
    return fn


# -- fallback: sympy.lambdify with the project's numpy printer ----------------------------------
class _NumpyCodePrinter(NumPyPrinter):
    """NumPy printer for the fallback path: small integer powers as products, rationals as
    floats, ``sigmoid``/``softplus`` through their stable implementations."""

    def _print_Pow(self, expr, rational=False):
        base, exponent = expr.as_base_exp()
        if exponent.is_Integer and 2 <= abs(int(exponent)) <= 8 and not base.is_Number:
            factor = self.parenthesize(base, PRECEDENCE["Atom"])
            product = "*".join([factor] * abs(int(exponent)))
            return f"({product})" if exponent > 0 else f"(1.0/({product}))"
        if exponent == sp.S.Half:
            return f"numpy.sqrt({self._print(base)})"
        if exponent == -sp.S.Half:
            return f"(1.0/numpy.sqrt({self._print(base)}))"
        if exponent == -1:
            return f"(1.0/{self.parenthesize(base, PRECEDENCE['Atom'])})"
        return super()._print_Pow(expr, rational=rational)

    def _print_Rational(self, expr):
        value = _const(expr)
        return repr(value) if math.isfinite(value) else ("numpy.inf" if value > 0 else "(-numpy.inf)")

    _print_Integer = _print_Rational

    def _print_sigmoid(self, expr):
        return f"_sigmoid({self._print(expr.args[0])})"

    def _print_softplus(self, expr):
        return f"_softplus({self._print(expr.args[0])})"


def _lambdify_kernel(exprs: Sequence[sp.Expr], n: int, rows: Sequence[Sequence[int]]) -> Callable:
    internal = [sp.Symbol(f"_v{i}", real=True) for i in range(n)]
    wanted = [(e, targets) for e, targets in zip(exprs, rows) if targets]
    fn = sp.lambdify(internal, [e for e, _ in wanted], cse=True, printer=_NumpyCodePrinter,
                     modules=[{"_sigmoid": np_sigmoid, "_softplus": np_softplus}, "numpy"])

    def kernel(W: np.ndarray, O: np.ndarray) -> None:
        for value, (_, targets) in zip(fn(*W[:n]), wanted):
            for r in targets:
                O[r] = value

    kernel.layout = Layout(n=n, rows=1 + max((r for t in rows for r in t), default=-1), buffers=0, constants={},
                           call_ns=(4 * _DEFAULT_NS,) * len(wanted))
    return kernel


def compile_kernels(exprs: Sequence[sp.Expr], n: int, tables: Sequence[Sequence[Sequence[int]]]) -> list[Callable]:
    """Several kernels over the same expressions, sharing one common-subexpression pass.

    ``tables[t][k]`` lists the rows of table ``t`` that receive ``exprs[k]`` (empty: kernel ``t``
    does not compute it). Returns one kernel per table, as :func:`compile_kernel` does.
    """
    tables = [[list(r) for r in rows] for rows in tables]
    if any(len(rows) != len(exprs) for rows in tables):
        raise ValueError("every table must list rows (possibly none) for every expression")
    try:
        cse = _cse(exprs)
        return [_generate(cse, n, rows) for rows in tables]
    except (_Unsupported, RecursionError):
        return [_lambdify_kernel(exprs, n, rows) for rows in tables]


def compile_kernel(exprs: Sequence[sp.Expr], n: int, rows: Sequence[Sequence[int]] | None = None) -> Callable:
    """Compile ``exprs`` of the symbols ``_v0.._v{n-1}`` (``real=True``) into a kernel for :func:`evaluate`.

    ``rows[k]`` lists the table rows that receive ``exprs[k]`` (default: row k only). The result is
    the generated function ``kernel(W, O)``; its ``layout`` attribute (a :class:`Layout`) says how
    to call it.
    """
    rows = [[k] for k in range(len(exprs))] if rows is None else rows
    return compile_kernels(exprs, n, [rows])[0]


# -- running a kernel ------------------------------------------------------------------------------
_POOL: ThreadPoolExecutor | None = None
_LOCK = threading.Lock()
_SPARE: list[np.ndarray] = []  # workspaces not in use, reused across calls and threads
_SMALL_WORKSPACE = 1 << 15  # doubles (256 KiB): smaller workspaces are allocated afresh, without the lock


def _pool() -> ThreadPoolExecutor:
    global _POOL
    with _LOCK:
        if _POOL is None:
            _POOL = ThreadPoolExecutor(max_workers=THREADS - 1, thread_name_prefix="hessian-explorer")
    return _POOL


def _acquire(rows: int, cols: int) -> np.ndarray:
    if rows * cols <= _SMALL_WORKSPACE:  # the allocator serves these without a page fault
        return np.empty((rows, cols))
    with _LOCK:
        for i, ws in enumerate(_SPARE):
            if ws.shape[0] >= rows and ws.shape[1] >= cols:
                return _SPARE.pop(i)
    return np.empty((rows, cols))


def _release(ws: np.ndarray) -> None:
    if ws.size <= _SMALL_WORKSPACE:
        return
    with _LOCK:
        if len(_SPARE) < 2 * THREADS:
            _SPARE.append(ws)


class _Flags:
    """Records that numpy raised a floating-point flag (an ``np.errstate`` ``call`` handler).

    ``scan``: every chunk is scanned for non-finite values whatever the flags say (the kernel has
    an infinite or ``nan`` constant); a chunk whose input is not finite is scanned anyway.
    """

    def __init__(self, scan: bool = True) -> None:
        self.scan = scan
        self.raised = False

    def __call__(self, kind: str, flag: int) -> None:
        self.raised = True

    def errstate(self) -> np.errstate:
        """Record overflow, division by zero and invalid operations (no warnings); ignore underflow."""
        return np.errstate(all="call", under="ignore", call=self)


def _fill(kernel: Callable, x: np.ndarray, table: np.ndarray, ws: np.ndarray, lo: int, hi: int, flags: _Flags) -> None:
    """One chunk: points ``x[lo:hi]`` into ``table[:, lo:hi]`` using workspace ``ws``."""
    layout = kernel.layout
    W = ws[: layout.n + layout.buffers, : hi - lo]
    points = W[: layout.n]
    np.copyto(points, x[lo:hi].T)
    O = table[:, lo:hi]
    # nan or inf in gives nan or inf out without a flag: scan then. A sum, not BLAS's faster dot:
    # OpenBLAS's threads keep spinning after a large dot, and would take the core a thread here needs.
    flags.raised = flags.scan or not math.isfinite(points.sum())
    kernel(W, O)
    if flags.raised and not math.isfinite(O.sum()):  # one pass while the chunk is in cache
        O[~np.isfinite(O)] = np.nan


def _chunks(n_points: int, count: int) -> list[tuple[int, int]]:
    size = -(-n_points // count)  # equal chunks, none tiny
    return [(lo, min(lo + size, n_points)) for lo in range(0, n_points, size)]


def _plan(layout: Layout, n_points: int) -> tuple[list[tuple[int, int]], bool]:
    """The chunks of a batch, and whether threads share them.

    Threads get a multiple of their number of equal chunks if the thread model says they gain
    time (and the machine has cores to spare). Measured here: a 160,000-point batch of
    ``x^2 + 2y^2 + 3z^2 + xy + yz``'s gradient takes 0.87 ms on one thread and 0.53 ms on two;
    ``sin(x) cos(y)``'s Hessian at 10,000 points 455 µs and 386 µs; anything at 2,500 points
    gains nothing (the threads' hand-over alone is ~150 µs).
    """
    chunk = max(MIN_CHUNK, min(CHUNK, _WORKSPACE_BUDGET // (layout.n + layout.buffers)))
    saved = n_points * (layout.point_ns + layout.n * _INPUT_NS) * (1 - 1 / THREADS)
    if n_points <= chunk and saved <= THREAD_START_NS:
        return [(0, n_points)], False  # at once: even a free split could not pay for waking a thread
    count = -(-n_points // chunk)
    if THREADS > 1 and n_points >= THREADS:
        shared = -(-count // THREADS) * THREADS
        cost = THREAD_START_NS + shared * (THREAD_CHUNK_NS + len(layout.call_ns) * THREAD_CALL_NS)
        if saved > cost and _cores_to_spare():
            return _chunks(n_points, shared), True
    return _chunks(n_points, count), False


def _fill_chunks(kernel: Callable, x: np.ndarray, table: np.ndarray, chunks: Iterable[tuple[int, int]],
                 width: int, flags: _Flags) -> None:
    """Fill ``chunks`` (bounds, at most ``width`` points each) in this thread, with one workspace."""
    layout, ws = kernel.layout, None
    try:
        for lo, hi in chunks:
            if ws is None:
                ws = _acquire(layout.n + layout.buffers, width)
            _fill(kernel, x, table, ws, lo, hi, flags)
    finally:
        if ws is not None:
            _release(ws)


class _Job:
    """Chunks that threads take in turn from a shared counter, so a thread that the OS leaves
    waiting holds up at most one chunk; the caller's thread works too. ``run(chunks)`` fills the
    chunks it is given (an iterator) in the calling thread."""

    def __init__(self, run: Callable[[Iterator[tuple[int, int]]], None], bounds: list[tuple[int, int]]):
        self.run, self.bounds = run, bounds
        self._next = itertools.count()  # next() is atomic under the GIL
        self._left = len(bounds)
        self._lock = threading.Lock()
        self.done = threading.Event()
        self.error: BaseException | None = None

    def _take(self) -> Iterator[tuple[int, int]]:
        """The chunks this thread gets; each counts as done when the thread asks for the next."""
        while (i := next(self._next)) < len(self.bounds):
            yield self.bounds[i]
            with self._lock:
                self._left -= 1
                if not self._left:
                    self.done.set()

    def work(self) -> None:
        try:
            self.run(self._take())
        except BaseException as err:  # noqa: BLE001 - re-raised in the caller's thread
            self.error = err
            self.done.set()

    def __call__(self, threads: int) -> None:
        """Run on the caller's thread and ``threads - 1`` of the pool's; re-raise a thread's error."""
        for _ in range(min(threads, len(self.bounds)) - 1):
            _pool().submit(self.work)
        self.work()
        self.done.wait()
        if self.error is not None:
            raise self.error


def running_tasks() -> int | None:
    """Tasks running on the machine at this moment, the caller included (the kernel's count in
    ``/proc/loadavg``), or ``None`` where that file is missing or unreadable."""
    try:
        with open("/proc/loadavg", "rb") as fh:
            return int(fh.read().split()[3].split(b"/")[0])
    except (OSError, ValueError, IndexError):
        return None


def _cores_to_spare() -> bool:
    """Whether a second thread can help: more than one thread allowed, and fewer tasks running
    right now (this one included) than cores. On a busy machine the threads would mostly wait for
    each other (and for the GIL), so one thread is faster there.

    The count of running tasks is read now (:func:`running_tasks`); the load average over the last
    minute, used where that count is missing, counts this process's own threads of the previous
    batches, and so turned the threads off just where a program keeps them busy."""
    if THREADS < 2:
        return False
    cores = os.cpu_count() or 1
    if (running := running_tasks()) is not None:
        return running < cores
    try:
        return os.getloadavg()[0] < cores
    except (AttributeError, OSError):
        return True


def evaluate(kernel: Callable, x: np.ndarray) -> np.ndarray:
    """The table of a compiled kernel at points ``x`` of shape ``(N, n)``: an array ``(rows, N)``.

    Non-finite entries are ``nan``; no floating-point warning escapes.
    """
    layout = kernel.layout
    n_points = x.shape[0]
    table = np.empty((layout.rows, n_points))
    for r, value in layout.constants.items():
        table[r].fill(value if math.isfinite(value) else math.nan)
    if n_points == 0 or len(layout.constants) == layout.rows:
        return table
    if (loop := getattr(kernel, "fused", None)) is not None:
        _run_fused(loop, layout, np.ascontiguousarray(x, dtype=float), table)
        return table
    scan = not layout.flags_tell
    bounds, parallel = _plan(layout, n_points)
    if parallel:
        def run(chunks: Iterator[tuple[int, int]]) -> None:
            flags = _Flags(scan)
            with flags.errstate():  # errstate is per thread
                _fill_chunks(kernel, x, table, chunks, bounds[0][1], flags)

        _Job(run, bounds)(THREADS)
        return table
    flags = _Flags(scan)
    with flags.errstate():
        _fill_chunks(kernel, x, table, bounds, bounds[0][1], flags)
    return table


def _run_fused(loop: Callable, layout: Layout, x: np.ndarray, table: np.ndarray) -> None:
    """A fused kernel (see :mod:`hessian_explorer.fused`): one compiled loop that releases the GIL,
    shared between threads in equal chunks when the batch is large enough to gain from them."""
    if x.ndim != 2 or x.shape[1] != layout.n:  # the loop reads x flat, n numbers per point
        raise ValueError(f"points must have shape (N, {layout.n}); got {x.shape}")
    n_points = x.shape[0]
    saved = n_points * layout.fused_ns * (1 - 1 / THREADS)
    if THREADS < 2 or saved <= FUSED_THREAD_NS or not _cores_to_spare():
        loop(x, table, 0, n_points)
        return
    bounds = _chunks(n_points, 2 * THREADS)  # a thread the OS leaves waiting holds up half its share
    _Job(lambda chunks: [loop(x, table, lo, hi) for lo, hi in chunks], bounds)(THREADS)
