"""Critical points in a plotted range, and Newton's method with the true or the naive matrix.

Critical points here are those of ``f`` restricted to a :class:`~hessian_explorer.plane.Plane`
(for two variables, of ``f`` itself): points where the two plotted partial derivatives vanish.
They are found by Newton's method from a grid of starts, vectorised over all starts at once.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

import numpy as np

from hessian_explorer.analysis import PointAnalysis, analyze_point
from hessian_explorer.plane import Plane

if TYPE_CHECKING:  # sympy is imported only where a formula is parsed
    from hessian_explorer.calculus import Function

__all__ = ["CriticalPoint", "find_critical_points", "nearest_critical_point", "newton_path"]


@dataclass(frozen=True)
class CriticalPoint:
    """A critical point of the plotted slice with its second-derivative analysis (in the plane)."""

    point: np.ndarray  # full point, shape (n,)
    xy: np.ndarray  # plane coordinates, shape (2,)
    analysis: PointAnalysis  # of the 2-variable restriction


def _restricted(function: Function, plane: Plane, xy: np.ndarray):
    ev = function.evaluate(plane.embed(xy))
    idx = [plane.ix, plane.iy]
    g = ev.gradient[..., idx]
    h = ev.hessian[..., idx, :][..., :, idx]
    return ev.value, g, h


def find_critical_points(function: Function, plane: Plane, starts_per_axis: int = 12,
                         max_iter: int = 60) -> list[CriticalPoint]:
    """All critical points of the slice found inside the plane's ranges, sorted by x then y.

    Newton's method (pseudo-inverse of the 2x2 Hessian, steps clipped to a quarter of the range)
    from a ``starts_per_axis``² grid; points are kept when the gradient is below ``1e-8`` relative
    to the gradient scale of the region, and merged when closer than ``1e-6`` of the range.
    """
    if function.n < 2:
        raise ValueError("critical points on a plane need a function of at least two variables")
    (x0, x1), (y0, y1) = plane.x_range, plane.y_range
    span = np.array([x1 - x0, y1 - y0])
    gx, gy = np.meshgrid(np.linspace(x0, x1, starts_per_axis), np.linspace(y0, y1, starts_per_axis))
    xy = np.stack([gx.ravel(), gy.ravel()], axis=-1)
    _, g, _ = _restricted(function, plane, xy)
    scale = max(1.0, float(np.nanmedian(np.linalg.norm(g, axis=-1))) if np.isfinite(g).any() else 1.0)
    for _ in range(max_iter):
        _, g, h = _restricted(function, plane, xy)
        ok = np.isfinite(g).all(-1) & np.isfinite(h).all((-2, -1))
        step = np.zeros_like(xy)
        if ok.any():
            step[ok] = np.einsum("kij,kj->ki", np.linalg.pinv(h[ok], rcond=1e-12), g[ok])
        step = np.clip(step, -span / 4, span / 4)
        xy = np.where(ok[:, None], xy - step, np.nan)
    value, g, h = _restricted(function, plane, xy)
    keep = np.isfinite(xy).all(-1) & (np.linalg.norm(g, axis=-1) <= 1e-8 * scale)
    keep &= (xy[:, 0] >= x0) & (xy[:, 0] <= x1) & (xy[:, 1] >= y0) & (xy[:, 1] <= y1)
    found: list[CriticalPoint] = []
    for k in np.flatnonzero(keep):
        if any(np.all(np.abs(c.xy - xy[k]) <= 1e-6 * span) for c in found):
            continue
        analysis = analyze_point(xy[k], value[k], g[k], h[k], gradient_tol=1e-8 * scale)
        found.append(CriticalPoint(plane.embed(xy[k]), xy[k].copy(), analysis))
    return sorted(found, key=lambda c: (round(c.xy[0], 9), round(c.xy[1], 9)))


def nearest_critical_point(function: Function, plane: Plane, xy) -> CriticalPoint | None:
    """The critical point in range nearest to plane coordinates ``xy``, or ``None``."""
    points = find_critical_points(function, plane)
    if not points:
        return None
    xy = np.asarray(xy, dtype=float)
    span = np.array([np.ptp(plane.x_range), np.ptp(plane.y_range)])
    return min(points, key=lambda c: float(np.linalg.norm((c.xy - xy) / span)))


def newton_path(function: Function, plane: Plane, xy, matrix: Literal["hessian", "outer"],
                damping: float = 0.1, steps: int = 25) -> np.ndarray:
    """Iterates of ``x ← x − (M + damping·I)⁻¹ ∇f`` in the plane, shape ``(k, 2)`` with ``k ≤ steps + 1``.

    ``M`` is the 2x2 Hessian (``"hessian"``) or the naive ``∇f∇fᵀ`` (``"outer"``). The path stops
    early when it leaves the region by more than the range, converges, meets a singular matrix,
    or reaches a point where ``f`` is undefined (that point is the path's last).
    """
    if matrix not in ("hessian", "outer"):
        raise ValueError("matrix must be 'hessian' or 'outer'")
    if damping < 0:
        raise ValueError("damping must be non-negative")
    x = np.asarray(xy, dtype=float)
    span = np.array([np.ptp(plane.x_range), np.ptp(plane.y_range)])
    centre = np.array([np.mean(plane.x_range), np.mean(plane.y_range)])
    path = [x]
    for _ in range(steps):
        value, g, h = _restricted(function, plane, x)
        m = np.outer(g, g) if matrix == "outer" else h
        m = m + damping * np.eye(2)
        if not (np.isfinite(value) and np.isfinite(g).all() and np.isfinite(m).all()):
            break  # f is undefined here (its derivatives may still be finite, e.g. beyond a log's domain)
        try:
            step = np.linalg.solve(m, g)
        except np.linalg.LinAlgError:
            break
        x = x - step
        path.append(x)
        if np.any(np.abs(x - centre) > 1.5 * span) or np.linalg.norm(step) <= 1e-12 * np.linalg.norm(span):
            break
    return np.array(path)
