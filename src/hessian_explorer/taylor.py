"""The local quadratic (second-order Taylor) model at a point and its shape in a plotted plane.

The model composes the one value, gradient and Hessian of a :class:`PointAnalysis`:
``q(x₀ + d) = f(x₀) + ∇f(x₀)·d + ½ dᵀ H(x₀) d``. It is exact for quadratics. In a plotted plane
(coordinates ``ix``, ``iy``, every other variable held at x₀) the model's curvature is the 2×2
block ``H[[ix, iy]][:, [ix, iy]]`` (:func:`plane_block`): its eigenvectors are the axes of the
ellipses or hyperbolas that are the contours of ``q`` in that plane.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from hessian_explorer.analysis import Curvature, PointAnalysis, analyze_point, classify_curvature
from hessian_explorer.plane import Field, Plane

if TYPE_CHECKING:  # sympy is imported only where a formula is parsed
    from hessian_explorer.calculus import Function

__all__ = ["QuadraticModel", "quadratic_model", "plane_block", "plane_analysis", "plane_curvature",
           "neighbourhood"]


@dataclass(frozen=True)
class QuadraticModel:
    """``q(x) = value + gradient·(x − point) + ½ (x − point)ᵀ hessian (x − point)``.

    ``point`` and ``gradient`` have shape ``(n,)``, ``hessian`` ``(n, n)``. Calling the model on
    points ``(..., n)`` returns ``q`` with shape ``(...)`` (``nan`` everywhere if the model is).
    """

    point: np.ndarray
    value: float
    gradient: np.ndarray
    hessian: np.ndarray

    @classmethod
    def from_analysis(cls, analysis: PointAnalysis) -> "QuadraticModel":
        return cls(np.asarray(analysis.point, float), float(analysis.value),
                   np.asarray(analysis.gradient, float), np.asarray(analysis.hessian, float))

    @property
    def defined(self) -> bool:
        """True when the value, gradient and Hessian are all finite."""
        return bool(np.isfinite(self.value) and np.isfinite(self.gradient).all() and np.isfinite(self.hessian).all())

    def __call__(self, points) -> np.ndarray:
        d = np.asarray(points, dtype=float) - self.point
        return self.value + d @ self.gradient + 0.5 * np.einsum("...i,ij,...j->...", d, self.hessian, d)


def quadratic_model(function: Function, point) -> QuadraticModel:
    """The second-order Taylor model of ``function`` at ``point`` ``(n,)``.

    >>> from hessian_explorer import parse_function
    >>> q = quadratic_model(parse_function("x^2 + x y"), [1.0, 1.0])
    >>> float(q([2.0, 3.0]))  # exact for a quadratic: 4 + 6
    10.0
    """
    return QuadraticModel.from_analysis(function.analyze(point))


def plane_block(matrices, ix: int, iy: int) -> np.ndarray:
    """The ``(ix, iy)`` 2×2 block of matrices ``(..., n, n)``: the Hessian of f restricted to the plane.

    >>> plane_block(np.arange(9.0).reshape(3, 3), 0, 2).tolist()
    [[0.0, 2.0], [6.0, 8.0]]
    """
    m = np.asarray(matrices, dtype=float)
    idx = [ix, iy]
    return m[..., idx, :][..., :, idx]


def plane_analysis(analysis: PointAnalysis, ix: int, iy: int) -> PointAnalysis:
    """The analysis of f restricted to the plane through x₀ spanned by variables ``ix`` and ``iy``.

    Point, gradient and Hessian are the plane's components (shapes ``(2,)`` and ``(2, 2)``), so its
    eigenvectors are the principal axes of the model's contours in the plotted plane. For a
    function of two variables it is the full analysis.
    """
    idx = [ix, iy]
    return analyze_point(np.asarray(analysis.point)[idx], analysis.value, np.asarray(analysis.gradient)[idx],
                         plane_block(analysis.hessian, ix, iy))


def plane_curvature(field: Field) -> np.ndarray:
    """Curvature type (:class:`Curvature` codes, shape ``(d, d)``) of the local model at each grid
    point, within the plotted plane: the class of the plane's 2×2 block of H.

    ``UNDEFINED`` wherever f, ∇f or H is not finite (the Hessian alone can be finite where f is
    not, as for ``-log(1 - x - y)`` beyond ``x + y = 1``).
    """
    p = field.plane
    codes = classify_curvature(plane_block(field.hessian, p.ix, p.iy))
    return np.where(field.valid, codes, np.int8(Curvature.UNDEFINED)).astype(codes.dtype)


def neighbourhood(plane: Plane, fraction: float = 0.25, density: int = 61) -> Plane:
    """A small plane around x₀ (``plane.base``) in the same two variables, for drawing the model.

    Its box is centred at x₀ with half-widths ``fraction`` times the plotted ranges' widths.

    >>> box = neighbourhood(Plane((1.0, 0.0), 0, 1, (-2, 2), (0, 1)), fraction=0.25)
    >>> box.x_range, box.y_range
    ((0.0, 2.0), (-0.25, 0.25))
    """
    if not 0 < fraction <= 1:
        raise ValueError(f"the neighbourhood fraction must be in (0, 1]; got {fraction}")
    x0, y0 = (float(c) for c in plane.project(np.asarray(plane.base)))
    rx = fraction * (plane.x_range[1] - plane.x_range[0])
    ry = fraction * (plane.y_range[1] - plane.y_range[0])
    return Plane(plane.base, plane.ix, plane.iy, (x0 - rx, x0 + rx), (y0 - ry, y0 + ry), density)
