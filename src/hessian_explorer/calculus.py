"""Exact derivatives of a typed function and fast vectorised evaluators for them.

A :class:`Function` holds a sympy expression over real variables, its symbolic gradient and
Hessian, and numpy evaluators compiled from them with common-subexpression elimination. The
compiled code never contains a user-chosen name: variables are renamed to internal positional
symbols before code generation.

Conventions, fixed here and used everywhere:
- points have shape ``(..., n)`` with the last axis in the order of ``Function.variables``;
- a direction ``v`` is normalised before use: ``curvature`` is ``v̂ᵀ H v̂`` with ``v̂ = v/|v|``;
- the naive matrix is ``∇f ∇fᵀ`` (``gradient_outer``), the outer product of the same gradient;
- non-finite results (log of a negative, division by zero, overflow) are ``nan``, silently;
- at kinks (``abs``) the Dirac delta of the second derivative is dropped: the Hessian there is
  the one of the smooth pieces on either side.
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from fractions import Fraction
from functools import cached_property
from typing import Callable, Sequence

import numpy as np
import sympy as sp
from sympy.printing.numpy import NumPyPrinter
from sympy.printing.precedence import PRECEDENCE

from hessian_explorer.analysis import PointAnalysis, analyze_point
from hessian_explorer.parsing import ExpressionError, parse_expression
from hessian_explorer.special import np_sigmoid, np_softplus

__all__ = ["Function", "Evaluation", "parse_function", "MAX_DERIVATIVE_SIZE"]

# Bound on the total size (tree nodes) of the gradient and Hessian: beyond it the symbolic work
# and the compiled code would be too slow for an interactive answer within a second.
MAX_DERIVATIVE_SIZE = 30_000


class _NumpyCodePrinter(NumPyPrinter):
    """NumPy printer tuned for speed and safety.

    Small integer powers become products (numpy's generic ``power`` is slow), square roots use
    ``sqrt``, exact rationals become float literals (no big-integer arithmetic at run time), and
    ``sigmoid``/``softplus`` call stable implementations.
    """

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
        try:
            value = float(Fraction(int(expr.p), int(expr.q)))
        except OverflowError:
            return "numpy.inf" if expr > 0 else "(-numpy.inf)"
        return repr(value)

    _print_Integer = _print_Rational

    def _print_sigmoid(self, expr):
        return f"_sigmoid({self._print(expr.args[0])})"

    def _print_softplus(self, expr):
        return f"_softplus({self._print(expr.args[0])})"


_MODULES = [{"_sigmoid": np_sigmoid, "_softplus": np_softplus}, "numpy"]


def _compile(exprs: Sequence[sp.Expr], symbols: Sequence[sp.Symbol]) -> Callable:
    """Compile expressions of ``symbols`` into one numpy function returning a list of arrays."""
    internal = [sp.Symbol(f"_v{i}", real=True) for i in range(len(symbols))]
    renamed = [e.xreplace(dict(zip(symbols, internal))) for e in exprs]
    return sp.lambdify(internal, renamed, modules=_MODULES, printer=_NumpyCodePrinter, cse=True)


def _tree_size(exprs: Sequence[sp.Expr], limit: int) -> int:
    """Number of nodes in the expression trees, counting no further than ``limit``."""
    count = 0
    for expr in exprs:
        for _ in sp.preorder_traversal(expr):
            count += 1
            if count > limit:
                return count
    return count


# Large batches are split across threads: numpy's ufuncs release the GIL, and chunks that fit
# in cache are faster even on one core.
_PARALLEL_MIN_POINTS = 16_384
_THREADS = max(1, min(4, os.cpu_count() or 1))
_POOL: ThreadPoolExecutor | None = None


def _pool() -> ThreadPoolExecutor:
    global _POOL
    if _POOL is None:
        _POOL = ThreadPoolExecutor(max_workers=_THREADS, thread_name_prefix="hessian-explorer")
    return _POOL


def _evaluate_rows(fn: Callable, columns: np.ndarray, rows: int) -> np.ndarray:
    """Run a compiled function on ``columns`` (``n x N``) into a ``rows x N`` float array.

    Non-finite results become ``nan``; no floating-point warnings escape.
    """
    n_points = columns.shape[1]
    out = np.empty((rows, n_points))

    def work(chunk: slice) -> None:
        with np.errstate(all="ignore"):  # errstate is per thread
            for k, r in enumerate(fn(*columns[:, chunk])):
                out[k, chunk] = r

    if n_points >= _PARALLEL_MIN_POINTS and _THREADS > 1:
        step = -(-n_points // _THREADS)
        list(_pool().map(work, [slice(i, i + step) for i in range(0, n_points, step)]))
    else:
        work(slice(None))
    out[~np.isfinite(out)] = np.nan
    return out


@dataclass(frozen=True)
class Evaluation:
    """Value, gradient and Hessian at a batch of points of shape ``(..., n)``.

    ``value`` has shape ``(...)``, ``gradient`` ``(..., n)``, ``hessian`` ``(..., n, n)``;
    entries that are not finite are ``nan``. ``valid`` is ``True`` where all three are finite.
    """

    value: np.ndarray
    gradient: np.ndarray
    hessian: np.ndarray

    @property
    def valid(self) -> np.ndarray:
        return (
            np.isfinite(self.value)
            & np.isfinite(self.gradient).all(axis=-1)
            & np.isfinite(self.hessian).all(axis=(-2, -1))
        )


class Function:
    """A scalar function of ``n`` real variables with exact derivatives and fast evaluators.

    Build one with :func:`parse_function`. ``variables`` is the tuple of names (the order of the
    last axis of every point array), ``expr`` the sympy expression, ``gradient_expr`` a tuple of
    ``n`` sympy expressions and ``hessian_expr`` an ``n x n`` symmetric sympy matrix.

    >>> f = parse_function("x^2*y + y^3")
    >>> f.hessian([1.0, 2.0]).tolist()
    [[4.0, 2.0], [2.0, 12.0]]
    """

    def __init__(self, expr: sp.Expr, symbols: Sequence[sp.Symbol], text: str = ""):
        if not symbols:
            raise ExpressionError("the expression has no variables; use at least one, such as x")
        self.expr = expr
        self.symbols = tuple(symbols)
        self.variables = tuple(s.name for s in self.symbols)
        self.text = text
        n = len(self.symbols)
        self.gradient_expr = tuple(sp.diff(expr, s) for s in self.symbols)
        entries = {}
        for i in range(n):
            for j in range(i, n):
                entry = sp.diff(self.gradient_expr[i], self.symbols[j])
                entries[i, j] = entries[j, i] = entry.replace(sp.DiracDelta, lambda *a: sp.S.Zero)
        self.hessian_expr = sp.ImmutableMatrix(n, n, lambda i, j: entries[i, j])
        self._upper = [(i, j) for i in range(n) for j in range(i, n)]
        # row of the upper-triangle table that holds entry (i, j), for all i, j (row-major)
        self._full_index = np.array([self._upper.index((min(i, j), max(i, j))) for i in range(n) for j in range(n)])
        size = _tree_size([*self.gradient_expr, *(entries[ij] for ij in self._upper)], MAX_DERIVATIVE_SIZE)
        if size > MAX_DERIVATIVE_SIZE:
            raise ExpressionError(
                "the derivatives of this expression are too large to work with interactively; "
                "simplify it or use fewer nested functions"
            )

    def __repr__(self) -> str:
        return f"Function({self.expr!s}, variables={self.variables})"

    @property
    def n(self) -> int:
        """Number of variables."""
        return len(self.symbols)

    # -- LaTeX ---------------------------------------------------------------------------------
    @cached_property
    def latex(self) -> str:
        return sp.latex(self.expr)

    @cached_property
    def gradient_latex(self) -> str:
        return sp.latex(sp.Matrix(self.gradient_expr))

    @cached_property
    def hessian_latex(self) -> str:
        return sp.latex(self.hessian_expr)

    @cached_property
    def gradient_outer_expr(self) -> sp.ImmutableMatrix:
        """The naive matrix ``∇f ∇fᵀ`` in symbols (entry ``(i, j)`` is ``∂f/∂xᵢ · ∂f/∂xⱼ``)."""
        g = sp.Matrix(self.gradient_expr)
        return sp.ImmutableMatrix(g * g.T)

    # -- compiled evaluators -------------------------------------------------------------------
    @cached_property
    def _value_fn(self) -> Callable:
        return _compile([self.expr], self.symbols)

    @cached_property
    def _gradient_fn(self) -> Callable:
        return _compile(list(self.gradient_expr), self.symbols)

    @cached_property
    def _hessian_fn(self) -> Callable:
        return _compile([self.hessian_expr[i, j] for i, j in self._upper], self.symbols)

    @cached_property
    def _all_fn(self) -> Callable:
        exprs = [self.expr, *self.gradient_expr, *(self.hessian_expr[i, j] for i, j in self._upper)]
        return _compile(exprs, self.symbols)

    def compile(self) -> "Function":
        """Build every numeric evaluator now (they are otherwise built on first use)."""
        for fn in (self._value_fn, self._gradient_fn, self._hessian_fn, self._all_fn):
            assert callable(fn)
        return self

    def _points(self, points) -> np.ndarray:
        x = np.asarray(points, dtype=float)
        if x.ndim == 0 or x.shape[-1] != self.n:
            raise ValueError(
                f"points must have shape (..., {self.n}) for the variables "
                f"({', '.join(self.variables)}); got shape {x.shape}"
            )
        return x

    def _table(self, fn: Callable, x: np.ndarray, rows: int) -> np.ndarray:
        """Evaluate ``fn`` (returning ``rows`` results) at points ``x``: array ``(rows, N)``."""
        return _evaluate_rows(fn, np.ascontiguousarray(x.reshape(-1, self.n).T), rows)

    def _hessian_from_rows(self, rows: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
        full = rows[self._full_index].reshape((self.n, self.n) + shape)
        return np.moveaxis(full, (0, 1), (-2, -1))

    def value(self, points) -> np.ndarray:
        """``f`` at points of shape ``(..., n)``; returns shape ``(...)``, ``nan`` where undefined."""
        x = self._points(points)
        return self._table(self._value_fn, x, 1)[0].reshape(x.shape[:-1])

    def gradient(self, points) -> np.ndarray:
        """``∇f`` at points of shape ``(..., n)``; returns shape ``(..., n)``."""
        x = self._points(points)
        rows = self._table(self._gradient_fn, x, self.n)
        return np.moveaxis(rows.reshape((self.n,) + x.shape[:-1]), 0, -1)

    def hessian(self, points) -> np.ndarray:
        """The Hessian ``H[i, j] = ∂²f/∂xᵢ∂xⱼ`` at points ``(..., n)``; returns ``(..., n, n)``.

        Symmetric by construction (the upper triangle is evaluated once and mirrored); constant
        entries are broadcast to the full shape.
        """
        x = self._points(points)
        rows = self._table(self._hessian_fn, x, len(self._upper))
        return self._hessian_from_rows(rows, x.shape[:-1])

    def evaluate(self, points) -> Evaluation:
        """Value, gradient and Hessian in one pass with shared subexpressions."""
        x = self._points(points)
        shape, n = x.shape[:-1], self.n
        rows = self._table(self._all_fn, x, 1 + n + len(self._upper))
        value = rows[0].reshape(shape)
        gradient = np.moveaxis(rows[1 : 1 + n].reshape((n,) + shape), 0, -1)
        return Evaluation(value, gradient, self._hessian_from_rows(rows[1 + n :], shape))

    def gradient_outer(self, points) -> np.ndarray:
        """The naive matrix ``∇f ∇fᵀ`` at points ``(..., n)``; returns ``(..., n, n)``.

        Always symmetric positive semidefinite with rank at most one, and zero wherever ``∇f``
        is: it is *not* the Hessian.
        """
        g = self.gradient(points)
        return g[..., :, None] * g[..., None, :]

    def curvature(self, points, v) -> np.ndarray:
        """Second derivative of ``t -> f(x + t v̂)`` at ``t = 0``: ``v̂ᵀ H(x) v̂`` with ``v̂ = v/|v|``.

        ``points`` has shape ``(..., n)``; ``v`` has shape ``(n,)`` or broadcasts against
        ``points``. A zero ``v`` raises ``ValueError``.

        >>> parse_function("x^2 + 3y^2").curvature([0.0, 0.0], [0.0, 2.0]).item()
        6.0
        """
        v = np.asarray(v, dtype=float)
        if v.ndim == 0 or v.shape[-1] != self.n:
            raise ValueError(f"the direction v must have {self.n} components; got shape {v.shape}")
        norm = np.linalg.norm(v, axis=-1, keepdims=True)
        if np.any(norm == 0) or not np.all(np.isfinite(norm)):
            raise ValueError("the direction v must be a non-zero, finite vector")
        v_hat = v / norm
        return np.einsum("...i,...ij,...j->...", v_hat, self.hessian(points), v_hat)

    def analyze(self, point, gradient_tol: float = 1e-8) -> PointAnalysis:
        """Eigen-analysis, definiteness and the second-derivative test at one point ``(n,)``."""
        x = self._points(point)
        if x.ndim != 1:
            raise ValueError(f"analyze takes one point of shape ({self.n},); got {x.shape}")
        ev = self.evaluate(x)
        return analyze_point(x, float(ev.value), ev.gradient, ev.hessian, gradient_tol=gradient_tol)


def parse_function(text: str, variables: Sequence[str] | None = None) -> Function:
    """Parse ``text`` safely into a :class:`Function` with compiled evaluators.

    ``variables`` fixes the order (and the allowed names) of the variables; by default they are
    the names in the text, sorted. Raises :class:`ExpressionError` (a ``ValueError``) with a
    message naming the problem and its column for anything it will not accept. Work is bounded:
    parsing, differentiation and compilation of any input take well under a second.

    >>> f = parse_function("x^2 + 3x y")
    >>> f.variables, f.gradient([1.0, 2.0]).tolist()
    (('x', 'y'), [8.0, 3.0])
    """
    expr, symbols = parse_expression(text, variables)
    return Function(expr, symbols, text=text).compile()
