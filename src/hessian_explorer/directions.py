"""Curvature along directions: the rose of ``v̂ᵀHv̂`` over angles, and 1-D slices with Taylor models.

All of it composes one Hessian and one gradient at a point (no re-derivation): the rose is
``u(θ)ᵀ H u(θ)`` for unit vectors ``u(θ)`` in a plane, the slice's true quadratic model is
``f + t ∇f·v̂ + t²/2 v̂ᵀHv̂`` and the naive one replaces ``v̂ᵀHv̂`` by ``(∇f·v̂)² = v̂ᵀ(∇f∇fᵀ)v̂``.
Directions are always normalised (``v̂ = v/|v|``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from hessian_explorer.calculus import Function

__all__ = ["unit", "angle_direction", "rose", "Rose", "slice_along", "Slice"]


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
