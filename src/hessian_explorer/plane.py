"""A 2-D slice through R^n, and a function sampled on it.

Plots show two chosen variables (``ix``, ``iy``) over their ranges; every other variable is held
at its value in ``base`` (the current point). Grids have shape ``(density, density)`` with rows
along y and columns along x, as plotly's contour and heatmap traces expect.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:  # sympy is imported only where a formula is parsed
    from hessian_explorer.calculus import Function


__all__ = ["Plane", "Field", "sample"]

MIN_DENSITY, MAX_DENSITY = 10, 400


@dataclass(frozen=True)
class Plane:
    """The plane through ``base`` spanned by coordinate axes ``ix`` and ``iy``.

    ``x_range`` and ``y_range`` are ``(low, high)`` with ``low < high``; ``density`` grid points
    per axis. Construction validates all of it with messages a user can act on.

    >>> Plane((0.0, 0.0), 0, 1, (-1, 1), (-2, 2), 3).axes()[1].tolist()
    [-2.0, 0.0, 2.0]
    """

    base: tuple[float, ...]
    ix: int
    iy: int
    x_range: tuple[float, float]
    y_range: tuple[float, float]
    density: int = 80

    def __post_init__(self) -> None:
        n = len(self.base)
        if n == 1:
            if self.ix != 0 or self.iy != 0:
                raise ValueError("a function of one variable is plotted along its only axis")
        elif not (0 <= self.ix < n and 0 <= self.iy < n and self.ix != self.iy):
            raise ValueError("choose two different variables to plot")
        for name, (lo, hi) in (("x", self.x_range), ("y", self.y_range)):
            if not (np.isfinite(lo) and np.isfinite(hi)):
                raise ValueError(f"the {name} range must be finite numbers")
            if not lo < hi:
                raise ValueError(f"the {name} range is empty or inverted ({lo} to {hi}): the low end must be below the high end")
        if not MIN_DENSITY <= self.density <= MAX_DENSITY:
            raise ValueError(f"grid density must be between {MIN_DENSITY} and {MAX_DENSITY}")

    @property
    def n(self) -> int:
        return len(self.base)

    def axes(self) -> tuple[np.ndarray, np.ndarray]:
        """The grid's x values and y values, each of length ``density``."""
        return (np.linspace(*self.x_range, self.density), np.linspace(*self.y_range, self.density))

    def embed(self, xy: np.ndarray) -> np.ndarray:
        """Plane coordinates ``(..., 2)`` to full points ``(..., n)`` (other variables at base)."""
        xy = np.asarray(xy, dtype=float)
        points = np.broadcast_to(np.asarray(self.base, dtype=float), xy.shape[:-1] + (self.n,)).copy()
        points[..., self.ix] = xy[..., 0]
        if self.n > 1:
            points[..., self.iy] = xy[..., 1]
        return points

    def project(self, vectors: np.ndarray) -> np.ndarray:
        """The plane components ``(..., 2)`` of vectors ``(..., n)``."""
        vectors = np.asarray(vectors, dtype=float)
        return np.stack([vectors[..., self.ix], vectors[..., self.iy]], axis=-1)

    def grid_points(self) -> np.ndarray:
        """Full points of the grid: shape ``(density, density, n)``, rows along y."""
        xs, ys = self.axes()
        X, Y = np.meshgrid(xs, ys)
        return self.embed(np.stack([X, Y], axis=-1))

    def contains(self, xy) -> bool:
        x, y = np.asarray(xy, dtype=float)[:2]
        return bool(self.x_range[0] <= x <= self.x_range[1] and self.y_range[0] <= y <= self.y_range[1])


@dataclass(frozen=True)
class Field:
    """A function sampled on a plane: value ``(d, d)``, gradient ``(d, d, n)``, Hessian ``(d, d, n, n)``."""

    plane: Plane
    x: np.ndarray
    y: np.ndarray
    value: np.ndarray
    gradient: np.ndarray
    hessian: np.ndarray

    @property
    def valid(self) -> np.ndarray:
        return np.isfinite(self.value) & np.isfinite(self.gradient).all(-1) & np.isfinite(self.hessian).all((-2, -1))


def sample(function: Function, plane: Plane) -> Field:
    """Evaluate value, gradient and Hessian of ``function`` on the plane's grid in one pass."""
    if function.n != plane.n:
        raise ValueError(f"the plane has {plane.n} coordinates but the function has {function.n} variables")
    xs, ys = plane.axes()
    ev = function.evaluate(plane.grid_points())
    return Field(plane, xs, ys, ev.value, ev.gradient, ev.hessian)
