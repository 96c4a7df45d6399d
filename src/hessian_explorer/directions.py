"""Curvature along directions: the rose of ``v̂ᵀHv̂`` over angles, and 1-D slices with Taylor models.

All of it composes one Hessian and one gradient at a point (no re-derivation): the rose is
``u(θ)ᵀ H u(θ)`` for unit vectors ``u(θ)`` in a plane, the slice's true quadratic model is
``f + t ∇f·v̂ + t²/2 v̂ᵀHv̂`` and the naive one replaces ``v̂ᵀHv̂`` by ``(∇f·v̂)² = v̂ᵀ(∇f∇fᵀ)v̂``.
Directions are always normalised (``v̂ = v/|v|``).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:  # sympy is imported only where a formula is parsed
    from hessian_explorer.calculus import Function


__all__ = ["unit", "angle_direction", "rose", "Rose", "slice_along", "Slice", "plane_eigen", "PlaneEigen",
           "directional_curvature", "DirectionalCurvature"]


def unit(v) -> np.ndarray:
    """``v/|v|``; a zero or non-finite ``v`` raises ``ValueError``."""
    v = np.asarray(v, dtype=float)
    norm = np.linalg.norm(v)
    if not np.isfinite(norm) or norm == 0:
        raise ValueError("the direction must be a non-zero vector")
    return v / norm


def angle_direction(angle_deg: float, n: int = 2, ix: int = 0, iy: int = 1) -> np.ndarray:
    """The unit vector at ``angle_deg`` degrees in the (ix, iy) coordinate plane of R^n."""
    v = np.zeros(n)
    v[ix] = np.cos(np.radians(angle_deg))
    v[iy] = np.sin(np.radians(angle_deg))
    return v


@dataclass(frozen=True)
class Rose:
    """``curvature[k] = u_kᵀ M u_k`` for ``u_k`` at ``angles_deg[k]`` in the plotted plane."""

    angles_deg: np.ndarray
    curvature: np.ndarray


def rose(matrix: np.ndarray, ix: int = 0, iy: int = 1, n_angles: int = 361) -> Rose:
    """Directional curvature ``uᵀ M u`` of a symmetric ``M`` for unit ``u`` over 0..360°.

    Its extremes over the plane are the eigenvalues of the 2x2 block ``M[[ix, iy]][:, [ix, iy]]``.

    >>> r = rose(np.diag([2.0, -1.0]), n_angles=5)
    >>> r.curvature.round(12).tolist()
    [2.0, -1.0, 2.0, -1.0, 2.0]
    """
    m = np.asarray(matrix, dtype=float)
    angles = np.linspace(0.0, 360.0, n_angles)
    c, s = np.cos(np.radians(angles)), np.sin(np.radians(angles))
    a, b, d = m[ix, ix], m[ix, iy], m[iy, iy]
    return Rose(angles, a * c * c + 2 * b * c * s + d * s * s)


@dataclass(frozen=True)
class Slice:
    """``f(x₀ + t v̂)`` for ``t`` in ``t``, with the true and the naive second-order models."""

    t: np.ndarray
    values: np.ndarray
    taylor: np.ndarray  # f + t g + t²/2 · v̂ᵀHv̂
    naive: np.ndarray  # f + t g + t²/2 · (∇f·v̂)²
    slope: float  # ∇f·v̂
    curvature: float  # v̂ᵀHv̂
    naive_curvature: float  # (∇f·v̂)²


def slice_along(function: Function, point, v, half_width: float = 1.0, n: int = 201) -> Slice:
    """Sample ``t ↦ f(x₀ + t v̂)`` on ``[−half_width, half_width]`` and its two quadratic models."""
    v_hat = unit(v)
    x0 = np.asarray(point, dtype=float)
    t = np.linspace(-half_width, half_width, n)
    values = function.value(x0 + t[:, None] * v_hat)
    ev = function.evaluate(x0)
    f0, g, h = float(ev.value), ev.gradient, ev.hessian
    slope = float(g @ v_hat)
    curvature = float(v_hat @ h @ v_hat)
    naive_curvature = slope * slope
    return Slice(t, values, f0 + slope * t + 0.5 * curvature * t * t,
                 f0 + slope * t + 0.5 * naive_curvature * t * t, slope, curvature, naive_curvature)


@dataclass(frozen=True)
class PlaneEigen:
    """Eigen-decomposition of the 2x2 block of a symmetric matrix for the plotted plane.

    ``eigenvalues`` are ascending; ``angles_deg[k]`` in ``[0, 180)`` is the in-plane angle (from
    the ix-axis towards the iy-axis) of the eigenvector of ``eigenvalues[k]``; its opposite
    ``angles_deg[k] + 180`` is the same eigen-direction.
    """

    eigenvalues: np.ndarray  # (2,)
    angles_deg: np.ndarray  # (2,)

    @property
    def isotropic(self) -> bool:
        """Equal eigenvalues (to 1e-9 relative): every direction in the plane curves the same, so
        every direction is an eigen-direction and ``angles_deg`` is an arbitrary choice."""
        lo, hi = self.eigenvalues
        return bool(np.isclose(lo, hi, rtol=1e-9, atol=1e-12))


def plane_eigen(matrix: np.ndarray, ix: int = 0, iy: int = 1) -> PlaneEigen:
    """The eigenvalues and eigen-directions of ``M[[ix, iy]][:, [ix, iy]]`` (exact, via ``eigh``).

    They are the minimum and maximum of the :func:`rose` of ``M`` over the plane.

    >>> e = plane_eigen(np.array([[2.0, 0.0], [0.0, -1.0]]))
    >>> e.eigenvalues.tolist(), e.angles_deg.tolist()
    ([-1.0, 2.0], [90.0, 0.0])
    """
    m = np.asarray(matrix, dtype=float)
    block = m[np.ix_([ix, iy], [ix, iy])]
    values, vectors = np.linalg.eigh(block)
    angles = np.degrees(np.arctan2(vectors[1], vectors[0])) % 180.0
    return PlaneEigen(values, np.where(np.isclose(angles, 180.0), 0.0, angles))


@dataclass(frozen=True)
class DirectionalCurvature:
    """Everything the curvature page shows about one point ``x₀`` and one direction ``v̂ = v/|v|``.

    ``hv = H v̂``, ``slope = ∇f·v̂``, ``curvature = v̂ᵀHv̂ = v̂·hv``, ``naive_curvature = (∇f·v̂)²``.
    ``in_plane = |projection of v̂ onto the plotted plane|`` (1 when v̂ lies in it) and ``angle_deg``
    the projection's angle there (``nan`` if it has none). ``rose`` and ``eigen`` describe the
    plotted plane's 2x2 block of H; both are ``None`` for one variable or an undefined Hessian.
    """

    point: np.ndarray  # (n,)
    v_hat: np.ndarray  # (n,)
    value: float
    gradient: np.ndarray  # (n,)
    hessian: np.ndarray  # (n, n)
    hv: np.ndarray  # (n,)
    slope: float
    curvature: float
    naive_curvature: float
    slice: Slice
    rose: Rose | None
    eigen: PlaneEigen | None
    in_plane: float
    angle_deg: float

    @property
    def in_plotted_plane(self) -> bool:
        """``True`` when v̂ lies in the plotted plane (so it is one of the rose's directions)."""
        return self.in_plane > 1 - 1e-9

    @property
    def defined(self) -> bool:
        """``True`` when f, ∇f and H are all finite at ``x₀``."""
        return bool(np.isfinite(self.value) and np.all(np.isfinite(self.gradient))
                    and np.all(np.isfinite(self.hessian)))


def _snap(x: float, scale: float) -> float:
    """``x``, or exactly 0 when it is round-off (``|x| <= 1e-12·max(1, scale)``), so that a direction
    where f is flat reads "0", not "4.4e-16"."""
    return 0.0 if np.isfinite(scale) and abs(x) <= 1e-12 * max(1.0, scale) else x


def directional_curvature(function: Function, point, v, half_width: float = 1.0,
                          ix: int = 0, iy: int = 1) -> DirectionalCurvature:
    """Slope, curvature and Taylor models of ``f`` at ``point`` along ``v̂ = v/|v|``, plus the rose
    and eigen-directions of H in the (ix, iy) plane; one evaluation of ∇f and H at the point.

    ``point`` and ``v`` have shape ``(n,)``; a zero ``v`` raises ``ValueError``. All numbers are
    exact up to floating point, with round-off set to 0: components of ``v̂`` below ``1e-12`` and
    ``slope``, ``curvature`` below ``1e-12·max(1, max|entry|)`` (the rose is sampled every degree; its exact extremes are ``eigen``).

    >>> from hessian_explorer import parse_function
    >>> d = directional_curvature(parse_function("x^2 - y^2"), [1.0, 0.0], [1.0, 1.0])
    >>> round(d.slope, 12), round(d.curvature, 12), round(d.naive_curvature, 12)
    (1.414213562373, 0.0, 2.0)
    """
    v_hat = unit(v)
    v_hat = np.where(np.abs(v_hat) < 1e-12, 0.0, v_hat)  # cos 90° is 6e-17: show it as 0
    x0 = np.asarray(point, dtype=float)
    ev = function.evaluate(x0)
    g, h = np.asarray(ev.gradient, dtype=float), np.asarray(ev.hessian, dtype=float)
    hv = h @ v_hat
    slope = _snap(float(g @ v_hat), np.abs(g).max(initial=0.0))
    rose_, eigen, in_plane, angle = None, None, 1.0, float("nan")
    if function.n >= 2:
        px, py = v_hat[ix], v_hat[iy]
        in_plane = float(np.hypot(px, py))
        angle = float(np.degrees(np.arctan2(py, px)) % 360.0) if in_plane > 1e-12 else float("nan")
        if np.all(np.isfinite(h)):
            rose_, eigen = rose(h, ix, iy), plane_eigen(h, ix, iy)
    curvature = _snap(float(v_hat @ hv), np.abs(h).max(initial=0.0))
    slice_ = replace(slice_along(function, x0, v_hat, half_width), slope=slope, curvature=curvature,
                     naive_curvature=slope * slope)
    return DirectionalCurvature(
        point=x0, v_hat=v_hat, value=float(ev.value), gradient=g, hessian=h, hv=hv, slope=slope,
        curvature=curvature, naive_curvature=slope * slope, slice=slice_, rose=rose_, eigen=eigen,
        in_plane=in_plane, angle_deg=angle,
    )
