"""Loss slices over two parameters: every grid value equals the model's own loss at that point, the
arrows equal the model's gradient, and the quadratic model is exact for least squares only."""

from __future__ import annotations

import numpy as np
import pytest

from hessian_explorer.landscapes import least_squares_slice, profile_along, softmax_slice
from hessian_explorer.models import LeastSquares, SoftmaxRegression, polynomial_features


@pytest.fixture
def ls(rng) -> LeastSquares:
    x = rng.uniform(-1, 1, 12)
    return LeastSquares(polynomial_features(x, 3), np.cos(2 * x) + 0.1 * rng.standard_normal(12), ridge=0.05)


@pytest.fixture
def softmax(rng) -> SoftmaxRegression:
    X = np.column_stack([rng.standard_normal((40, 2)), np.ones(40)])
    return SoftmaxRegression(X, rng.integers(0, 3, 40))


def _points(sl, centre, rows, cols):
    for r in rows:
        for c in cols:
            theta = centre.copy()
            theta[sl.i], theta[sl.j] = sl.a[c], sl.b[r]
            yield r, c, theta


def test_least_squares_slice_is_the_loss_and_its_gradient(ls, rng):
    centre = ls.solve()
    sl = least_squares_slice(ls, centre, 1, 3, density=9, arrows=4)
    for r, c, theta in _points(sl, centre, range(0, 9, 4), range(0, 9, 3)):
        assert sl.loss[r, c] == pytest.approx(ls.loss(theta), rel=1e-12)
    for r, c, theta in _points(sl, centre, range(4), range(4)):
        theta[1], theta[3] = sl.arrow_a[c], sl.arrow_b[r]
        g = ls.gradient(theta)
        assert (sl.grad_a[r, c], sl.grad_b[r, c]) == pytest.approx((g[1], g[3]), rel=1e-10, abs=1e-10)
    np.testing.assert_allclose(sl.quadratic, sl.loss, rtol=1e-10)  # least squares IS its quadratic model
    assert sl.loss[4, 4] == pytest.approx(sl.loss.min())  # the minimiser sits in the middle


def test_default_half_widths_raise_the_loss_by_the_total_sum_of_squares(ls):
    centre = ls.solve()
    sl = least_squares_slice(ls, centre, 0, 2, density=5)
    tss = np.sum((ls.y - ls.y.mean()) ** 2)
    assert sl.loss[2, 0] - sl.loss[2, 2] == pytest.approx(tss, rel=1e-9)
    assert sl.loss[0, 2] - sl.loss[2, 2] == pytest.approx(tss, rel=1e-9)


@pytest.mark.parametrize("i, j", [(0, 1), (2, 7), (8, 3)])
@pytest.mark.parametrize("l2", [0.0, 0.5])
def test_softmax_slice_is_the_model_loss_with_penalty(softmax, rng, i, j, l2):
    centre = 0.3 * rng.standard_normal(softmax.n_params)
    sl = softmax_slice(softmax, centre, i, j, l2=l2, half_widths=(1.0, 2.0), density=7, arrows=3)
    for r, c, w in _points(sl, centre, range(0, 7, 3), range(0, 7, 2)):
        assert sl.loss[r, c] == pytest.approx(softmax.loss(w) + 0.5 * l2 * w @ w, rel=1e-12)
    for r, c, w in _points(sl, centre, range(3), range(3)):
        w[i], w[j] = sl.arrow_a[c], sl.arrow_b[r]
        g = softmax.gradient(w) + l2 * w
        assert (sl.grad_a[r, c], sl.grad_b[r, c]) == pytest.approx((g[i], g[j]), rel=1e-10, abs=1e-12)
    H2 = softmax.hessian(centre)[np.ix_([i, j], [i, j])] + l2 * np.eye(2)
    np.testing.assert_allclose(sl.hessian_block, H2)
    np.testing.assert_allclose(sl.block_eigenvalues, np.linalg.eigvalsh(H2))
    assert sl.quadratic[3, 3] == pytest.approx(sl.loss[3, 3])
    assert not np.allclose(sl.quadratic, sl.loss, rtol=1e-3)  # softmax is not quadratic


def test_reference_class_slice(rng):
    X = np.column_stack([rng.standard_normal(30), np.ones(30)])
    m = SoftmaxRegression(X, rng.integers(0, 2, 30), reference_class=True)
    sl = softmax_slice(m, np.zeros(2), 0, 1, density=5)
    assert sl.a[-1] - sl.a[0] == pytest.approx(5.0)  # default: half width 2.5 around w = 0
    assert sl.loss[2, 2] == pytest.approx(30 * np.log(2))


def test_slices_need_two_different_parameters(ls):
    with pytest.raises(ValueError, match="two different parameters"):
        least_squares_slice(ls, np.zeros(4), 1, 1)


def test_profile_curvature_is_the_second_difference_of_the_loss(softmax, rng):
    w = 0.2 * rng.standard_normal(softmax.n_params)
    prof = profile_along(softmax.loss, softmax.gradient(w), softmax.hessian(w), w, 2, 5, 40.0, 1e-3, n=3)
    v = np.zeros(softmax.n_params)
    v[2], v[5] = np.cos(np.radians(40)), np.sin(np.radians(40))
    np.testing.assert_allclose(prof.direction, v)
    second = (prof.values[0] - 2 * prof.values[1] + prof.values[2]) / 1e-6
    assert prof.curvature == pytest.approx(second, rel=1e-4)
    assert prof.slope == pytest.approx((prof.values[2] - prof.values[0]) / 2e-3, rel=1e-5)
