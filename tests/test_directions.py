"""Directional curvature against independent references: numpy's dense eigvalsh, sympy's exact
derivatives, and central finite differences of ``f`` along the line (built from ``f.value`` only)."""

from __future__ import annotations

import doctest

import numpy as np
import pytest
import sympy as sp

import hessian_explorer.directions as directions
from hessian_explorer import parse_function
from hessian_explorer.directions import directional_curvature, plane_eigen, rose

CASES = [  # (text, point, v)
    ("x^2 + y^2", (1.0, 0.5), (1.0, 0.0)),
    ("x^2 - y^2", (0.5, 0.5), (0.3, -2.0)),
    ("x^2 + x y + 2y^2", (1.0, -1.0), (2.0, 1.0)),
    ("(1 - x)^2 + 100(y - x^2)^2", (-1.0, 1.0), (0.6, 0.8)),
    ("sin(x) cos(y)", (1.0, 0.5), (-1.0, 3.0)),
    ("exp(-(x^2 + y^2)/2)", (0.5, 0.3), (1.0, 1.0)),
    ("x^2 + 2y^2 + 3z^2 + x y + y z", (1.0, 1.0, 0.5), (1.0, -2.0, 0.5)),
    ("x^3", (0.5,), (1.0,)),
]


def test_doctests():
    assert doctest.testmod(directions).failed == 0


def _random_symmetric(rng, n):
    a = rng.normal(size=(n, n)) * 3
    return a + a.T


@pytest.mark.parametrize("n, ix, iy", [(2, 0, 1), (2, 1, 0), (3, 0, 2), (4, 3, 1)])
def test_plane_eigen_is_eigvalsh_of_the_block_and_the_rose_extremes(rng, n, ix, iy):
    m = _random_symmetric(rng, n)
    block = m[np.ix_([ix, iy], [ix, iy])]
    reference = np.linalg.eigvalsh(block)
    e = plane_eigen(m, ix, iy)
    np.testing.assert_allclose(e.eigenvalues, reference, rtol=1e-12, atol=1e-12)
    r = rose(m, ix, iy)
    # sampled every degree: uᵀMu = λmax cos²δ + λmin sin²δ, so the extremes are the eigenvalues
    # up to (λmax − λmin)·sin²(0.5°)
    tol = np.sin(np.radians(0.5)) ** 2 * (reference[1] - reference[0]) + 1e-12
    assert r.curvature.max() == pytest.approx(reference[1], abs=tol)
    assert r.curvature.min() == pytest.approx(reference[0], abs=tol)
    assert r.curvature.max() <= reference[1] + 1e-12 and r.curvature.min() >= reference[0] - 1e-12
    # the rose at the eigen-angles (and opposite) is exactly the eigenvalue
    for lam, phi in zip(e.eigenvalues, e.angles_deg):
        assert 0 <= phi < 180
        for angle in (phi, phi + 180):
            u = np.array([np.cos(np.radians(angle)), np.sin(np.radians(angle))])
            assert u @ block @ u == pytest.approx(lam, rel=1e-12, abs=1e-12)


def _exact(text, point):
    """f, ∇f and H at ``point`` from sympy alone (not through the compiled evaluators)."""
    f = parse_function(text)
    symbols = f.symbols
    subs = dict(zip(symbols, [sp.Float(x, 30) for x in point]))
    g = np.array([float(sp.diff(f.expr, s).evalf(subs=subs)) for s in symbols])
    h = np.array([[float(sp.diff(f.expr, a, b).evalf(subs=subs)) for b in symbols] for a in symbols])
    return f, g, h


@pytest.mark.parametrize("text, point, v", CASES)
def test_directional_curvature_matches_sympy_and_finite_differences(text, point, v):
    f, g, h = _exact(text, point)
    v_hat = np.asarray(v) / np.linalg.norm(v)
    d = directional_curvature(f, point, 3.7 * np.asarray(v), half_width=0.5)  # length of v must not matter
    np.testing.assert_allclose(d.v_hat, v_hat, rtol=1e-14)
    np.testing.assert_allclose(d.hv, h @ v_hat, rtol=1e-10, atol=1e-10)
    assert d.slope == pytest.approx(g @ v_hat, rel=1e-10, abs=1e-10)
    assert d.curvature == pytest.approx(v_hat @ h @ v_hat, rel=1e-10, abs=1e-10)
    assert d.naive_curvature == pytest.approx((g @ v_hat) ** 2, rel=1e-10, abs=1e-10)
    # finite differences of t -> f(x0 + t v̂), from points built here
    step = 1e-4
    x0 = np.asarray(point)
    fm, f0, fp = (float(f.value(x0 + s * v_hat)) for s in (-step, 0.0, step))
    assert d.slope == pytest.approx((fp - fm) / (2 * step), rel=1e-5, abs=1e-5)
    assert d.curvature == pytest.approx((fp - 2 * f0 + fm) / step**2, rel=1e-4, abs=1e-4)
    # the slice carries the same numbers
    assert (d.slice.slope, d.slice.curvature, d.slice.naive_curvature) == (d.slope, d.curvature, d.naive_curvature)
    assert d.slice.t[0] == -0.5 and d.slice.t[-1] == 0.5
    assert d.defined


def test_round_off_is_snapped_to_zero():
    d = directional_curvature(parse_function("x^2 - y^2"), (0.5, 0.5), (1.0, 1.0))
    assert d.curvature == 0.0 and d.slice.curvature == 0.0
    assert d.slope == 0.0 and d.naive_curvature == 0.0


def test_plane_geometry_for_three_variables():
    f = parse_function("x^2 + 2y^2 + 3z^2 + x y + y z")
    in_plane = directional_curvature(f, (1.0, 1.0, 0.5), (0.0, 1.0, -1.0), ix=1, iy=2)
    assert in_plane.in_plane == pytest.approx(1.0) and in_plane.angle_deg == pytest.approx(315.0)
    assert in_plane.in_plotted_plane
    h = f.hessian([1.0, 1.0, 0.5])
    np.testing.assert_allclose(in_plane.eigen.eigenvalues, np.linalg.eigvalsh(h[1:, 1:]), rtol=1e-12)
    # the in-plane direction lies on the rose: its curvature is the rose value at its angle
    k = int(round(in_plane.angle_deg))
    assert in_plane.rose.curvature[k] == pytest.approx(in_plane.curvature, rel=1e-12)
    out = directional_curvature(f, (1.0, 1.0, 0.5), (1.0, 0.0, 1.0), ix=0, iy=1)
    assert out.in_plane == pytest.approx(np.sqrt(0.5)) and out.angle_deg == pytest.approx(0.0)
    assert not out.in_plotted_plane


def test_one_variable_has_no_rose():
    d = directional_curvature(parse_function("x^3"), (0.5,), (1.0,))
    assert d.rose is None and d.eigen is None and np.isnan(d.angle_deg)
    assert d.curvature == pytest.approx(3.0) and d.slope == pytest.approx(0.75)


def test_undefined_point_is_reported_not_raised():
    d = directional_curvature(parse_function("sqrt(x + y)"), (-1.0, -1.0), (1.0, 0.0))
    assert not d.defined and d.rose is None and d.eigen is None


def test_zero_direction_is_refused():
    with pytest.raises(ValueError, match="non-zero"):
        directional_curvature(parse_function("x^2 + y^2"), (0.0, 0.0), (0.0, 0.0))


@pytest.mark.parametrize("matrix, isotropic", [(2 * np.eye(2), True), (np.zeros((2, 2)), True),
                                               (np.diag([2.0, 20.0]), False), (np.diag([1.0, 1.0 + 1e-6]), False)])
def test_isotropic_block(matrix, isotropic):
    assert plane_eigen(matrix).isotropic is isotropic
