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

from dataclasses import dataclass
from functools import cached_property
from typing import Callable, Sequence

import numpy as np
import sympy as sp

from hessian_explorer.analysis import PointAnalysis, analyze_point
from hessian_explorer.derivatives import Differentiator
from hessian_explorer.kernels import compile_kernels, evaluate
from hessian_explorer.parsing import ExpressionError, parse_expression, sympy_failures_as

__all__ = ["Function", "Evaluation", "parse_function", "MAX_DERIVATIVE_SIZE"]

# Bound on the total size (tree nodes) of the gradient and Hessian: beyond it the symbolic work
# and the compiled code would be too slow for an interactive answer within a second.
MAX_DERIVATIVE_SIZE = 20_000


def _compile(exprs: Sequence[sp.Expr], symbols: Sequence[sp.Symbol],
             tables: Sequence[Sequence[Sequence[int]]]) -> list[Callable]:
    """Compile expressions of ``symbols`` into kernels filling tables (see ``kernels``).

    Variables are renamed to internal positional symbols first, so the generated code never
    contains a user-chosen name. ``tables[t][k]`` lists the rows of table ``t`` that receive
    ``exprs[k]``; the kernels share one common-subexpression pass.
    """
    internal = [sp.Symbol(f"_v{i}", real=True) for i in range(len(symbols))]
    renamed = [e.xreplace(dict(zip(symbols, internal))) for e in exprs]
    try:
        return compile_kernels(renamed, len(symbols), tables)
    except (TypeError, ValueError, NotImplementedError) as err:  # e.g. an unevaluated Derivative
        raise ExpressionError(
            "the derivatives of this expression cannot be evaluated numerically "
            f"({type(err).__name__}); rewrite it, for example without abs() around log or powers"
        ) from err


class _Budget:
    """Total size (tree nodes) the gradient and Hessian may reach before the input is refused."""

    def __init__(self, limit: int):
        self.left = limit

    def spend(self, expr: sp.Expr) -> sp.Expr:
        self.left -= _tree_size([expr], self.left)
        if self.left < 0:
            raise ExpressionError(
                "the derivatives of this expression are too large to work with interactively; "
                "simplify it or use fewer nested functions"
            )
        return expr


def _tree_size(exprs: Sequence[sp.Expr], limit: int) -> int:
    """Number of nodes in the expression trees, counting no further than ``limit``."""
    count = 0
    for expr in exprs:
        for _ in sp.preorder_traversal(expr):
            count += 1
            if count > limit:
                return count
    return count


def _first_axis_last(a: np.ndarray) -> np.ndarray:
    """A view with axis 0 moved to the end (``np.moveaxis(a, 0, -1)``, without its overhead)."""
    return a.transpose(tuple(range(1, a.ndim)) + (0,))


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
        # The size budget is spent as derivatives are built, so runaway work stops early.
        budget = _Budget(MAX_DERIVATIVE_SIZE)
        d = Differentiator()  # shared: Hessian entries reuse the derivatives of common subtrees
        self.gradient_expr = tuple(budget.spend(d(expr, s)) for s in self.symbols)
        entries = {}
        for i in range(n):
            for j in range(i, n):
                entries[i, j] = entries[j, i] = budget.spend(d(self.gradient_expr[i], self.symbols[j]))
        self.hessian_expr = sp.ImmutableMatrix(n, n, lambda i, j: entries[i, j])
        self._upper = [(i, j) for i in range(n) for j in range(i, n)]

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
    # Each kernel fills a table of rows x points: the Hessian's upper triangle is computed once
    # and written to both (i, j) and (j, i), rows in row-major order of the n x n matrix.
    def _hessian_rows(self, offset: int = 0) -> list[list[int]]:
        n = self.n
        return [sorted({offset + i * n + j, offset + j * n + i}) for i, j in self._upper]

    @cached_property
    def _kernels(self) -> dict[str, Callable]:
        """Kernels for the value, the gradient, the Hessian and all three, from one CSE pass."""
        n, m = self.n, len(self._upper)
        exprs = [self.expr, *self.gradient_expr, *(self.hessian_expr[i, j] for i, j in self._upper)]
        none = [[]]
        tables = {
            "value": [[0]] + none * (n + m),
            "gradient": none + [[i] for i in range(n)] + none * m,
            "hessian": none * (1 + n) + self._hessian_rows(),
            "all": [[0]] + [[1 + i] for i in range(n)] + self._hessian_rows(1 + n),
        }
        return dict(zip(tables, _compile(exprs, self.symbols, list(tables.values()))))

    @property
    def _value_fn(self) -> Callable:
        return self._kernels["value"]

    @property
    def _gradient_fn(self) -> Callable:
        return self._kernels["gradient"]

    @property
    def _hessian_fn(self) -> Callable:
        return self._kernels["hessian"]

    @property
    def _all_fn(self) -> Callable:
        return self._kernels["all"]

    def compile(self, fused: bool = False) -> "Function":
        """Build every numeric evaluator now (they are otherwise built on first use).

        ``fused=True`` also compiles each evaluator into one loop over the points with numba
        (see :mod:`hessian_explorer.fused`; 0.1 to 0.5 s per evaluator, numba required): the same
        numbers, several times faster on large batches. Evaluators the translation does not cover
        stay numpy kernels.
        """
        kernels = self._kernels
        if fused:
            from hessian_explorer.fused import fuse

            for kernel in kernels.values():
                fuse(kernel)
        return self

    def _points(self, points) -> np.ndarray:
        x = np.asarray(points, dtype=float)
        if x.ndim == 0 or x.shape[-1] != self.n:
            raise ValueError(
                f"points must have shape (..., {self.n}) for the variables "
                f"({', '.join(self.variables)}); got shape {x.shape}"
            )
        return x

    def _table(self, fn: Callable, x: np.ndarray) -> np.ndarray:
        """Evaluate kernel ``fn`` at points ``x`` (..., n): its table, an array ``(rows, N)``."""
        return evaluate(fn, x.reshape(-1, self.n))

    def _hessian_from_rows(self, rows: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
        batch = tuple(range(2, 2 + len(shape)))
        return rows.reshape((self.n, self.n) + shape).transpose(batch + (0, 1))

    def value(self, points) -> np.ndarray:
        """``f`` at points of shape ``(..., n)``; returns shape ``(...)``, ``nan`` where undefined."""
        x = self._points(points)
        return self._table(self._value_fn, x)[0].reshape(x.shape[:-1])

    def gradient(self, points) -> np.ndarray:
        """``∇f`` at points of shape ``(..., n)``; returns shape ``(..., n)``."""
        x = self._points(points)
        rows = self._table(self._gradient_fn, x)
        return _first_axis_last(rows.reshape((self.n,) + x.shape[:-1]))

    def hessian(self, points) -> np.ndarray:
        """The Hessian ``H[i, j] = ∂²f/∂xᵢ∂xⱼ`` at points ``(..., n)``; returns ``(..., n, n)``.

        Symmetric by construction (the upper triangle is evaluated once and mirrored); constant
        entries are broadcast to the full shape.
        """
        x = self._points(points)
        rows = self._table(self._hessian_fn, x)
        return self._hessian_from_rows(rows, x.shape[:-1])

    def evaluate(self, points) -> Evaluation:
        """Value, gradient and Hessian in one pass with shared subexpressions."""
        x = self._points(points)
        shape, n = x.shape[:-1], self.n
        rows = self._table(self._all_fn, x)
        value = rows[0].reshape(shape)
        gradient = _first_axis_last(rows[1 : 1 + n].reshape((n,) + shape))
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
    with sympy_failures_as("the derivatives of this expression could not be built", "try a simpler form"):
        return Function(expr, symbols, text=text).compile()
