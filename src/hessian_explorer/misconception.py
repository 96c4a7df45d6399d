"""The misconception "H = ∇f∇fᵀ", side by side: both matrices at a point, their entries in
symbols, one-click counterexamples, and what Newton's method does if you trust either.

Conventions, fixed here:
- the naive matrix is ``∇f∇fᵀ`` of the same gradient (``Function.gradient_outer``); its entry
  ``(i, j)`` is ``∂f/∂xᵢ · ∂f/∂xⱼ``, the Hessian's is ``∂²f/∂xᵢ∂xⱼ``;
- directions are normalised: curvatures are ``v̂ᵀHv̂`` and ``v̂ᵀ(∇f∇fᵀ)v̂ = (∇f·v̂)²``;
- one tolerance decides rank, definiteness and agreement at a point:
  ``tol = RANK_RTOL · max(1, largest |entry| of H and ∇f∇fᵀ)``; an eigenvalue is zero when
  ``|λ| <= tol``, and the matrices agree when every entry of ``H − ∇f∇fᵀ`` is within ``tol``;
- Newton's method runs in the plotted plane (the other variables held at x₀), with
  ``x ← x − (M + damping·I)⁻¹∇f`` for ``M = H`` or ``M = ∇f∇fᵀ``.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from enum import StrEnum
from typing import TYPE_CHECKING, Literal

import numpy as np
import sympy as sp

from hessian_explorer.analysis import Definiteness, Verdict
from hessian_explorer.critical import newton_path
from hessian_explorer.directions import Rose, rose, unit
from hessian_explorer.plane import Plane
from hessian_explorer.viewstate import ViewState, view_for_preset

if TYPE_CHECKING:  # sympy is imported only where a formula is parsed
    from hessian_explorer.calculus import Function

__all__ = [
    "RANK_RTOL", "CRITICAL_TOL", "MatrixFacts", "matrix_facts", "Comparison", "compare", "EntryLatex",
    "entry_latex", "Outcome", "NewtonRun", "newton_run", "newton_runs", "paths_coincide", "Study", "study",
    "Counterexample", "COUNTEREXAMPLES", "counterexample_for", "counterexample_view",
]

RANK_RTOL = 1e-9
CRITICAL_TOL = 1e-8  # |∇f| at or below this counts as a critical point (as in analysis.py)
NEWTON_STEPS = 25


# -- the two matrices at a point ---------------------------------------------------------------
@dataclass(frozen=True)
class MatrixFacts:
    """Eigenvalues (ascending; those within the tolerance set to 0), rank and definiteness of
    one symmetric matrix at a tolerance.

    ``rank`` is ``-1`` and the definiteness ``UNDEFINED`` when the matrix is not finite.
    """

    eigenvalues: np.ndarray
    rank: int
    definiteness: Definiteness


def matrix_facts(matrix: np.ndarray, tol: float) -> MatrixFacts:
    """Facts of a symmetric ``(n, n)`` matrix; eigenvalues with ``|λ| <= tol`` count as zero.

    >>> facts = matrix_facts(np.array([[1.0, 2.0], [2.0, 4.0]]), 1e-9)
    >>> facts.rank, str(facts.definiteness)
    (1, 'positive semidefinite')
    """
    m = np.asarray(matrix, dtype=float)
    if not np.isfinite(m).all():
        return MatrixFacts(np.full(m.shape[0], np.nan), -1, Definiteness.UNDEFINED)
    lam = np.linalg.eigvalsh(m)
    lam = np.where(np.abs(lam) <= tol, 0.0, lam)  # round-off such as 5e-15 is shown as the 0 it is
    pos, neg = bool((lam > tol).any()), bool((lam < -tol).any())
    rank = int((np.abs(lam) > tol).sum())
    full = rank == len(lam)
    if pos and neg:
        kind = Definiteness.INDEFINITE
    elif pos:
        kind = Definiteness.POSITIVE_DEFINITE if full else Definiteness.POSITIVE_SEMIDEFINITE
    elif neg:
        kind = Definiteness.NEGATIVE_DEFINITE if full else Definiteness.NEGATIVE_SEMIDEFINITE
    else:
        kind = Definiteness.ZERO
    return MatrixFacts(lam, rank, kind)


@dataclass(frozen=True)
class Comparison:
    """``H`` and ``∇f∇fᵀ`` at one point ``(n,)``, with their facts at one tolerance."""

    point: np.ndarray
    value: float
    gradient: np.ndarray
    hessian: np.ndarray
    outer: np.ndarray
    tolerance: float
    hessian_facts: MatrixFacts
    outer_facts: MatrixFacts

    @property
    def difference(self) -> np.ndarray:
        """``H − ∇f∇fᵀ``."""
        return self.hessian - self.outer

    @property
    def defined(self) -> bool:
        """Whether f, ∇f and H are all finite at the point (derivatives of ``−log(1 − x − y)`` are
        finite beyond its domain, where f itself is not)."""
        return bool(np.isfinite(self.value) and np.isfinite(self.hessian).all() and np.isfinite(self.gradient).all())

    @property
    def max_difference(self) -> float:
        """Largest ``|entry|`` of ``H − ∇f∇fᵀ`` (``nan`` where undefined)."""
        return float(np.max(np.abs(self.difference))) if self.defined else float("nan")

    @property
    def agree(self) -> bool:
        """Whether ``H = ∇f∇fᵀ`` here, entry by entry, to within ``tolerance``."""
        return self.defined and self.max_difference <= self.tolerance

    @property
    def is_critical(self) -> bool:
        return self.defined and float(np.linalg.norm(self.gradient)) <= CRITICAL_TOL

    def along(self, v) -> tuple[float, float]:
        """``(v̂ᵀHv̂, (∇f·v̂)²)`` for a direction ``v`` (normalised here)."""
        v_hat = unit(v)
        slope = float(self.gradient @ v_hat)
        return float(v_hat @ self.hessian @ v_hat), slope * slope

    def roses(self, ix: int, iy: int) -> tuple[Rose, Rose]:
        """Curvature over angles in the (ix, iy) plane: of ``H`` and of ``∇f∇fᵀ``."""
        return rose(self.hessian, ix, iy), rose(self.outer, ix, iy)


def compare(function: Function, point) -> Comparison:
    """Evaluate ``H`` and ``∇f∇fᵀ`` at ``point`` ``(n,)`` and their facts at one tolerance.

    >>> from hessian_explorer.calculus import parse_function
    >>> c = compare(parse_function("x^2 + y^2"), [0.0, 0.0])
    >>> c.hessian_facts.rank, c.outer_facts.rank, str(c.outer_facts.definiteness)
    (2, 0, 'zero')
    """
    x = np.asarray(point, dtype=float)
    ev = function.evaluate(x)
    g, h = ev.gradient, ev.hessian
    outer = np.outer(g, g)
    finite = [np.abs(m[np.isfinite(m)]) for m in (h, outer)]
    scale = max([1.0] + [float(a.max()) for a in finite if a.size])
    tol = RANK_RTOL * scale
    if not np.isfinite(ev.value):  # outside the domain of f: its derivatives mean nothing there
        g, h, outer = (np.full_like(a, np.nan) for a in (g, h, outer))
    return Comparison(x, float(ev.value), g, h, outer, tol, matrix_facts(h, tol), matrix_facts(outer, tol))


# -- entry by entry, in symbols ----------------------------------------------------------------
@dataclass(frozen=True)
class EntryLatex:
    """LaTeX for entry ``(i, j)``: ``hessian`` is "∂²f/∂xᵢ∂xⱼ = expression", ``outer`` is
    "∂f/∂xᵢ · ∂f/∂xⱼ = (factor)(factor) = expression"; parts too long to read are left out, and
    the factors are shown only when they and the product fit together."""

    i: int
    j: int
    hessian: str
    outer: str
    hessian_constant: bool = False  # the expression is a number: no need to repeat its value
    outer_constant: bool = False


def _plain_product(product: sp.Expr, gi: sp.Expr, gj: sp.Expr, square: bool) -> bool:
    """Whether sympy kept ``gi·gj`` as the visible product of the two factors (nothing combined)."""
    if square:
        return bool(product.is_Pow and product.base == gi and product.exp == 2)
    return bool(product.is_Mul and sorted(map(sp.srepr, product.args)) == sorted(map(sp.srepr, (gi, gj))))


def entry_latex(function: Function, max_chars: int = 100) -> tuple[EntryLatex, ...]:
    """The upper triangle (``i <= j``, row-major) of both matrices in symbols.

    The Hessian side is ``function.hessian_expr[i, j]``. The outer side shows the factors
    ``(∂f/∂xᵢ)(∂f/∂xⱼ)`` from ``function.gradient_expr`` and then, when sympy has combined
    them into something else (``(2x)(2y) = 4xy``), ``function.gradient_outer_expr[i, j]``.
    Parts longer than ``max_chars`` LaTeX characters are left out (the value at x₀ remains), and
    the combined form too when it and the factors together exceed ``1.5·max_chars``.
    """
    names = [sp.latex(s) for s in function.symbols]
    entries = []
    for i in range(function.n):
        for j in range(i, function.n):
            gi, gj = function.gradient_expr[i], function.gradient_expr[j]
            product = function.gradient_outer_expr[i, j]
            if i == j:
                h_sym = rf"\frac{{\partial^2 f}}{{\partial {names[i]}^2}}"
                o_sym = rf"\left(\frac{{\partial f}}{{\partial {names[i]}}}\right)^2"
                factors = rf"\left({sp.latex(gi)}\right)^2"
            else:
                h_sym = rf"\frac{{\partial^2 f}}{{\partial {names[i]}\,\partial {names[j]}}}"
                o_sym = rf"\frac{{\partial f}}{{\partial {names[i]}}}\cdot\frac{{\partial f}}{{\partial {names[j]}}}"
                factors = rf"\left({sp.latex(gi)}\right)\left({sp.latex(gj)}\right)"
            combined = None if _plain_product(product, gi, gj, i == j) else sp.latex(product)
            outer = [o_sym]
            if len(factors) <= max_chars:
                outer.append(factors)
                if combined is not None and len(factors) + len(combined) <= 3 * max_chars // 2:
                    outer.append(combined)
            elif combined is not None and len(combined) <= max_chars:
                outer.append(combined)
            h_expr = sp.latex(function.hessian_expr[i, j])
            hessian = [h_sym] + ([h_expr] if len(h_expr) <= max_chars else [])
            entries.append(EntryLatex(i, j, " = ".join(hessian), " = ".join(outer),
                                      bool(function.hessian_expr[i, j].is_number) and len(hessian) > 1,
                                      bool(product.is_number) and len(outer) > 1 and outer[-1] != factors))
    return tuple(entries)


# -- Newton's method with H or with ∇f∇fᵀ ------------------------------------------------------
class Outcome(StrEnum):
    CONVERGED = "converged"
    DIVERGED = "diverged"
    UNDEFINED = "reached where f is undefined"
    SINGULAR = "singular matrix"
    CRAWLED = "crawled"
    WANDERED = "did not settle"


@dataclass(frozen=True)
class NewtonRun:
    """A Newton path in plane coordinates ``(k, 2)`` and what became of it.

    ``steps`` counts the moves that changed the point and ``last_move`` is the length of the
    final one; ``verdict`` is set when it converged (the type of the critical point of the
    plotted slice it reached, :attr:`Verdict.INCONCLUSIVE` for a degenerate one).
    """

    matrix: Literal["hessian", "outer"]
    damping: float
    path: np.ndarray
    outcome: Outcome
    steps: int
    last_move: float
    verdict: Verdict | None
    in_view: bool = True  # the last point lies inside the plotted ranges
    bouncing: bool = False  # the last two steps point in opposite directions (overshooting)

    @property
    def end(self) -> np.ndarray:
        return self.path[-1]


def _slice_derivatives(function: Function, plane: Plane, xy: np.ndarray):
    ev = function.evaluate(plane.embed(xy))
    idx = [plane.ix, plane.iy]
    return ev.gradient[idx], ev.hessian[np.ix_(idx, idx)]


def _verdict(h: np.ndarray) -> Verdict:
    kind = matrix_facts(h, RANK_RTOL * max(1.0, float(np.abs(h).max()))).definiteness
    return {Definiteness.POSITIVE_DEFINITE: Verdict.MINIMUM, Definiteness.NEGATIVE_DEFINITE: Verdict.MAXIMUM,
            Definiteness.INDEFINITE: Verdict.SADDLE}.get(kind, Verdict.INCONCLUSIVE)


def newton_run(function: Function, plane: Plane, xy, matrix: Literal["hessian", "outer"],
               damping: float = 0.1, steps: int = NEWTON_STEPS) -> NewtonRun:
    """Run :func:`~hessian_explorer.critical.newton_path` from ``xy`` and classify the result.

    Outcomes, checked in this order: undefined (the path stepped to where f or its derivatives
    are not finite; it ends there), diverged (more than 1.5 ranges from the centre), converged (last move below ``1e-6``
    of the range's diagonal; the end point is then critical and classified by the slice's
    Hessian), singular (stopped early: ``M + damping·I`` could not be inverted), crawled (all
    ``steps`` used, last move below 2% of the diagonal) or did not settle (still jumping).

    >>> from hessian_explorer.calculus import parse_function
    >>> run = newton_run(parse_function("x^2 - y^2"), Plane((0.5, 0.5), 0, 1, (-2, 2), (-2, 2)),
    ...                  [0.5, 0.5], "hessian", damping=0.0)
    >>> str(run.outcome), str(run.verdict), run.steps
    ('converged', 'saddle point', 1)
    """
    path = newton_path(function, plane, xy, matrix, damping, steps)
    # newton_path checks only the derivatives, which can be finite where f is not (beyond the
    # boundary of −log(1 − x − y)): end the path at its first point outside the domain of f.
    outside = np.flatnonzero(~np.isfinite(function.value(plane.embed(path))))
    if outside.size:
        path = path[: outside[0] + 1]
    span = np.array([np.ptp(plane.x_range), np.ptp(plane.y_range)])
    scale = float(np.linalg.norm(span))
    centre = np.array([np.mean(plane.x_range), np.mean(plane.y_range)])
    moves = np.linalg.norm(np.diff(path, axis=0), axis=1)
    moved = int((moves > 1e-9 * scale).sum())
    last_move = float(moves[-1]) if len(moves) else 0.0
    g, h = _slice_derivatives(function, plane, path[-1])
    verdict = None
    if outside.size or not (np.isfinite(g).all() and np.isfinite(h).all()):
        outcome = Outcome.UNDEFINED
    elif np.any(np.abs(path[-1] - centre) > 1.5 * span):
        outcome = Outcome.DIVERGED
    elif len(moves) and last_move <= 1e-6 * scale:
        outcome, verdict = Outcome.CONVERGED, _verdict(h)
    elif len(path) < steps + 1:
        outcome = Outcome.SINGULAR
    elif last_move < 0.02 * scale:
        outcome = Outcome.CRAWLED
    else:
        outcome = Outcome.WANDERED
    steps_xy = np.diff(path[-3:], axis=0)
    bouncing = len(steps_xy) == 2 and float(steps_xy[0] @ steps_xy[1]) < 0
    return NewtonRun(matrix, float(damping), path, outcome, moved, last_move, verdict,
                     plane.contains(path[-1]), bouncing)


# -- the page's two calls ------------------------------------------------------------------------
@dataclass(frozen=True)
class Study:
    """The comparison at x₀ and, for two or more variables, both curvature roses in the plane."""

    comparison: Comparison
    roses: tuple[Rose, Rose] | None


def study(function: Function, plane: Plane) -> Study:
    """Compare ``H`` and ``∇f∇fᵀ`` at the plane's base point ``x₀``, with roses in the plane.

    >>> from hessian_explorer.calculus import parse_function
    >>> s = study(parse_function("2x + 3y"), Plane((0.5, 0.5), 0, 1, (-2, 2), (-2, 2)))
    >>> s.comparison.outer.tolist(), float(s.roses[0].curvature.max())
    ([[4.0, 6.0], [6.0, 9.0]], 0.0)
    """
    comparison = compare(function, plane.base)
    roses = comparison.roses(plane.ix, plane.iy) if function.n >= 2 and comparison.defined else None
    return Study(comparison, roses)


def newton_runs(function: Function, plane: Plane, damping: float = 0.1) -> tuple[NewtonRun, NewtonRun]:
    """Newton's method from x₀ in the plotted plane with ``H`` and with ``∇f∇fᵀ`` (that order)."""
    if function.n < 2:
        raise ValueError("Newton paths are drawn in a plane: use a function of at least two variables")
    xy = plane.project(np.asarray(plane.base, dtype=float))
    return newton_run(function, plane, xy, "hessian", damping), newton_run(function, plane, xy, "outer", damping)


def paths_coincide(runs: tuple[NewtonRun, NewtonRun]) -> bool:
    """Whether both Newton paths visit the same points (they do where ``H = ∇f∇fᵀ`` all along)."""
    a, b = (r.path for r in runs)
    return a.shape == b.shape and bool(np.allclose(a, b, rtol=1e-9, atol=1e-12))


# -- one-click counterexamples -----------------------------------------------------------------
@dataclass(frozen=True)
class Counterexample:
    """A preset (``key``) at a chosen point, a button label and 2–3 sentences on what to see."""

    key: str
    label: str
    point: tuple[float, ...] | None  # None: the preset's own point
    explanation: str


COUNTEREXAMPLES: tuple[Counterexample, ...] = (
    Counterexample("bowl", "A minimum", (0.0, 0.0),
                   "At the minimum of x² + y² the gradient is zero, so ∇f∇fᵀ is the zero matrix, "
                   "while H = 2I: f curves up equally in every direction. The outer product is blind "
                   "exactly where curvature decides the answer."),
    Counterexample("saddle", "A saddle", None,
                   "H = diag(2, −2) is indefinite: f curves up along x and down along y. ∇f∇fᵀ is "
                   "positive semidefinite everywhere, so its curvature (∇f·v̂)² is never negative: "
                   "it cannot see a saddle."),
    Counterexample("linear", "A plane", None,
                   "f = 2x + 3y is flat, so H = 0 everywhere. Yet ∇f∇fᵀ = [[4, 6], [6, 9]] at every "
                   "point: the outer product is not zero where there is no curvature at all."),
    Counterexample("neglog", "Exact agreement", None,
                   "For f = −log(1 − x − y), H = ∇f∇fᵀ at every point of the domain. This happens "
                   "exactly when e^(−f) is affine, here 1 − x − y: a rare special case, not the rule."),
    Counterexample("exp_sum", "Agree on a line", None,
                   "For f = e^(x+y), H = e^(x+y)·[[1, 1], [1, 1]] but ∇f∇fᵀ = e^(2(x+y))·[[1, 1], [1, 1]]. "
                   "They agree only on the line x + y = 0, where x₀ starts: move it off the line."),
)
_BY_KEY = {c.key: c for c in COUNTEREXAMPLES}


def counterexample_for(preset_key: str | None) -> Counterexample | None:
    """The counterexample built on this preset, if any."""
    return _BY_KEY.get(preset_key) if preset_key else None


def counterexample_view(key: str) -> ViewState:
    """The whole view for a counterexample: its preset, at its point (``KeyError`` if unknown)."""
    example = _BY_KEY[key]
    view = view_for_preset(example.key)
    return replace(view, point=example.point) if example.point is not None else view
