"""The local quadratic model: exact for quadratics, third-order accurate otherwise; plane blocks."""

from __future__ import annotations

import doctest

import numpy as np
import pytest

from hessian_explorer import parse_function, taylor
from hessian_explorer.analysis import Curvature
from hessian_explorer.plane import Plane, sample
from hessian_explorer.taylor import (
    QuadraticModel, neighbourhood, plane_analysis, plane_block, plane_curvature, quadratic_model,
)


def test_model_equals_a_random_quadratic_everywhere():
    rng = np.random.default_rng(3)
    a = np.round(rng.normal(size=(3, 3)), 2)
    b = np.round(rng.normal(size=3), 2)
    names = ("x", "y", "z")
    text = " + ".join(f"({a[i, j]})*{names[i]}*{names[j]}" for i in range(3) for j in range(3))
    text += " + " + " + ".join(f"({b[i]})*{names[i]}" for i in range(3)) + " + 1.5"
    q = quadratic_model(parse_function(text, names), rng.normal(size=3))
    points = rng.normal(size=(50, 3)) * 3
    exact = np.einsum("ni,ij,nj->n", points, a, points) + points @ b + 1.5  # xᵀAx + b·x + c
    np.testing.assert_allclose(q(points), exact, rtol=1e-12, atol=1e-12)


def test_model_error_is_third_order_for_a_non_quadratic():
    f = parse_function("sin(x) cos(y) + exp(x y)")
    x0, d = np.array([0.3, -0.7]), np.array([0.6, 0.8])
    q = quadratic_model(f, x0)
    errors = [abs(float(f.value(x0 + h * d) - q(x0 + h * d))) for h in (1e-1, 5e-2)]
    assert errors[0] / errors[1] == pytest.approx(8.0, rel=0.1)  # O(h³): halving h divides by 8


def test_model_of_an_undefined_point_is_flagged():
    q = quadratic_model(parse_function("log(x) + y"), [-1.0, 0.0])
    assert not q.defined
    assert np.isnan(q([1.0, 1.0]))


def test_plane_block_and_plane_analysis_use_the_two_plotted_variables():
    f = parse_function("x^2 + 2y^2 + 3z^2 + x y + y z", ("x", "y", "z"))
    full = f.analyze([1.0, 1.0, 0.5])
    assert plane_block(full.hessian, 0, 2).tolist() == [[2.0, 0.0], [0.0, 6.0]]
    restricted = plane_analysis(full, 0, 2)
    assert restricted.eigenvalues.tolist() == [2.0, 6.0]
    assert np.allclose(np.abs(restricted.eigenvectors), np.eye(2))
    assert restricted.gradient.tolist() == [full.gradient[0], full.gradient[2]]
    batch = np.broadcast_to(full.hessian, (4, 5, 3, 3))
    assert plane_block(batch, 1, 2).shape == (4, 5, 2, 2)


def test_neighbourhood_is_centred_at_the_point():
    box = neighbourhood(Plane((1.0, 5.0, -1.0), 0, 2, (-2.0, 2.0), (-1.0, 3.0)), fraction=0.1, density=21)
    assert box.x_range == pytest.approx((0.6, 1.4)) and box.y_range == pytest.approx((-1.4, -0.6))
    assert (box.ix, box.iy, box.density, box.base) == (0, 2, 21, (1.0, 5.0, -1.0))
    with pytest.raises(ValueError, match="fraction"):
        neighbourhood(Plane((0.0, 0.0), 0, 1, (-1, 1), (-1, 1)), fraction=0.0)


def test_model_from_analysis_uses_its_numbers():
    a = parse_function("x^3 + y").analyze([2.0, 0.0])
    q = QuadraticModel.from_analysis(a)
    assert q.value == 8.0 and q.gradient.tolist() == [12.0, 1.0] and q.hessian.tolist() == [[12.0, 0.0], [0.0, 0.0]]
    assert float(q([3.0, 1.0])) == 8.0 + 12.0 + 1.0 + 6.0


def test_plane_curvature_classifies_the_plotted_block_only():
    """x² + y² − z²: a saddle in R³ but a bowl in the (x, y) plane and a saddle in (x, z)."""
    f = parse_function("x^2 + y^2 - z^2")
    xy = plane_curvature(sample(f, Plane((0.0, 0.0, 0.0), 0, 1, (-1, 1), (-1, 1), 10)))
    xz = plane_curvature(sample(f, Plane((0.0, 0.0, 0.0), 0, 2, (-1, 1), (-1, 1), 10)))
    assert xy.shape == (10, 10) and np.all(xy == Curvature.CONVEX) and np.all(xz == Curvature.SADDLE)
    assert f.analyze([0.0, 0.0, 0.0]).definiteness == "indefinite"


def test_docstring_examples_hold():
    assert doctest.testmod(taylor).failed == 0
