"""Least squares analysed for the page: checked against independent references (numpy's polyfit,
sympy's exact rational arithmetic, finite differences of the loss) and the seed's failure modes."""

from __future__ import annotations

import numpy as np
import pytest
import sympy

from hessian_explorer.models import diagnose, fourier_features, polynomial_features, rbf_features
from hessian_explorer.regression import (
    Basis,
    failure_meaning,
    fit_least_squares,
    hessian_independence,
    worked_exercise,
)


@pytest.fixture
def data(rng):
    x = np.sort(rng.uniform(-1, 1, 25))
    return x, np.sin(3 * x) + 0.1 * rng.standard_normal(25)


@pytest.mark.parametrize("basis, reference", [
    (Basis("polynomial", degree=4), lambda x: polynomial_features(x, 4)),
    (Basis("rbf", n_centres=6, width=0.4), lambda x: rbf_features(x, np.linspace(-1, 1, 6), 0.4)),
    (Basis("fourier", n_frequencies=3), lambda x: fourier_features(x, 3, period=4.0)),
])
def test_basis_design_and_names(basis, reference, data):
    x, _ = data
    np.testing.assert_array_equal(basis.design(x), reference(x))
    assert len(basis.names) == basis.n_params == reference(x).shape[1]
    assert basis.latex.startswith(r"\phi(x)^\top")


def test_basis_rejects_bad_settings():
    with pytest.raises(ValueError):
        Basis("spline")
    with pytest.raises(ValueError):
        Basis(width=0.0)
    with pytest.raises(ValueError):
        Basis(domain=(1.0, 0.0))


def test_polynomial_fit_matches_numpy_polyfit(data):
    x, y = data
    fit = fit_least_squares(x, y, Basis("polynomial", degree=3))
    np.testing.assert_allclose(fit.theta, np.polyfit(x, y, 3)[::-1], rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(fit.curve, np.polyval(np.polyfit(x, y, 3), fit.grid), atol=1e-9)
    assert fit.error is None and fit.positive_definite and fit.n_zero == 0


def test_hessian_is_2_phit_phi_and_matches_finite_differences_of_the_loss(data):
    x, y = data
    fit = fit_least_squares(x, y, Basis("rbf", n_centres=4, width=0.5), ridge=0.3)
    Phi = fit.Phi
    np.testing.assert_allclose(fit.hessian, 2 * Phi.T @ Phi + 0.6 * np.eye(5), rtol=1e-12)
    h, P = 1e-3, fit.n_params
    E = np.eye(P) * h
    L = fit.problem.loss
    fd = np.array([[(L(fit.centre + E[i] + E[j]) - L(fit.centre + E[i] - E[j]) - L(fit.centre - E[i] + E[j])
                     + L(fit.centre - E[i] - E[j])) / (4 * h * h) for j in range(P)] for i in range(P)])
    np.testing.assert_allclose(fd, fit.hessian, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(np.sort(np.linalg.eigvalsh(fit.hessian)), fit.eigenvalues)


@pytest.mark.parametrize("x, degree, ridge, words, zero", [
    ([0.0, 0.5, 1.0], 4, 0.0, "fewer data points (N=3) than basis functions (P=5)", 2),
    ([0.0, 1.0, 1.0, 1.0], 2, 0.0, "repeated x values", 1),
    (np.linspace(0, 10, 30), 9, 0.0, "ill-conditioned", None),
])
def test_failure_modes_are_reported_not_raised(x, degree, ridge, words, zero):
    x = np.asarray(x)
    fit = fit_least_squares(x, np.cos(x), Basis("polynomial", degree=degree, domain=(0.0, max(x.max(), 1.0))), ridge)
    assert fit.theta is None and words in fit.error and not fit.positive_definite
    if zero is not None:
        assert fit.n_zero == zero
        # the other minimisers fit exactly as well: a flat valley, not a unique minimum
        assert fit.others_loss == pytest.approx(fit.loss, abs=1e-9)
        assert np.ptp(fit.others[0] - fit.others[1]) > 0.1
    meaning = failure_meaning(fit.diagnosis, ridge)
    assert meaning and ("not unique" in meaning or "rounding" in meaning)


def test_ridge_is_the_way_out():
    x = np.array([0.0, 1.0, 1.0, 1.0])
    fit = fit_least_squares(x, x, Basis("polynomial", degree=2), ridge=0.1)
    assert fit.error is None and fit.positive_definite
    assert fit.min_eigenvalue >= 2 * 0.1 - 1e-12
    assert failure_meaning(fit.diagnosis, 0.1) is None


def test_failure_meaning_covers_dependent_columns():
    Phi = np.column_stack([np.ones(4), np.arange(4.0), 2 * np.arange(4.0)])
    assert "vanishes at every data point" in failure_meaning(diagnose(Phi))


def test_hessian_depends_on_neither_theta_nor_y(data):
    x, y = data
    fit = fit_least_squares(x, y, Basis("polynomial", degree=5))
    check = hessian_independence(fit, seed=3)
    assert check.relative_difference < 1e-12 and check.max_error < 1e-9 * np.abs(check.exact).max()
    g_fit, g_other = check.gradient_norms
    assert g_fit < 1e-8 and g_other > 1.0  # the gradient does depend on theta and y
    assert not np.allclose(check.y_other, fit.y)


def test_worked_exercise_matches_exact_rational_arithmetic():
    x, y = [-1, 0, 2], [2, 1, 5]
    ex = worked_exercise(x, y)
    Phi = sympy.Matrix([[1, xi, xi**2] for xi in x])
    Y = sympy.Matrix(y)
    theta = (Phi.T * Phi).inv() * Phi.T * Y
    np.testing.assert_allclose(ex.Phi, np.array(Phi, dtype=float))
    np.testing.assert_allclose(ex.PhiTPhi, np.array(Phi.T * Phi, dtype=float))
    np.testing.assert_allclose(ex.PhiTy, np.array(Phi.T * Y, dtype=float).ravel())
    np.testing.assert_allclose(ex.inverse, np.array((Phi.T * Phi).inv(), dtype=float), atol=1e-12)
    np.testing.assert_allclose(ex.theta, np.array(theta, dtype=float).ravel(), atol=1e-12)
    assert ex.det_Phi == float(Phi.det()) == 6.0
    exact_eigs = sorted(float(sympy.re(e)) for e in (2 * Phi.T * Phi).eigenvals(multiple=True))
    np.testing.assert_allclose(ex.eigenvalues, exact_eigs, rtol=1e-10)


def test_worked_exercise_fails_with_repeated_x():
    ex = worked_exercise([1.0, 1.0, 2.0], [0.0, 1.0, 2.0])
    assert ex.theta is None and ex.inverse is None and ex.det_Phi == 0.0
    assert "repeated x" in ex.error
    assert abs(ex.eigenvalues[0]) <= ex.zero_tol
    with pytest.raises(ValueError, match="three points"):
        worked_exercise([1.0, 2.0], [1.0, 2.0])
