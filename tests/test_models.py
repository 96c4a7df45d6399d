"""Closed-form derivatives of the models against independent references.

References: jax autodiff of a separate jnp implementation of each loss (tests only), sympy's exact
rational arithmetic, numpy's dense eigendecomposition, and algebraic identities.
"""

from __future__ import annotations

import doctest
import tracemalloc

import jax
import jax.numpy as jnp
import numpy as np
import pytest
import sympy

import hessian_explorer.models as models
from hessian_explorer.models import (
    LeastSquares,
    SingularProblemError,
    SoftmaxRegression,
    diagnose,
    fourier_features,
    polynomial_features,
    rbf_features,
    spectral_density,
    top_eigenpairs,
)


pytestmark = pytest.mark.usefixtures("jax_float64")  # conftest: jax in float64 for this module


def _close(a, b, rtol=1e-9, atol=1e-9):
    np.testing.assert_allclose(np.asarray(a), np.asarray(b), rtol=rtol, atol=atol)


# ------------------------------------------------------------------------------------------
# Basis functions
# ------------------------------------------------------------------------------------------


def test_doctests_pass():
    result = doctest.testmod(models, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.attempted >= 8 and result.failed == 0


def test_polynomial_features_columns_are_powers(rng):
    x = rng.uniform(-2, 2, 7)
    Phi = polynomial_features(x, 3)
    assert Phi.shape == (7, 4)
    _close(Phi, np.column_stack([x**0, x, x**2, x**3]), rtol=1e-15)


def test_rbf_features_bias_and_peak():
    Phi = rbf_features([0.0, 1.0, 2.0], centers=[1.0, 5.0], width=0.5)
    assert Phi.shape == (3, 3)
    _close(Phi[:, 0], 1.0)
    assert Phi[1, 1] == 1.0  # a bump is 1 at its centre
    _close(Phi[0, 1], np.exp(-1.0 / (2 * 0.25)))


def test_fourier_features_are_orthogonal_over_one_period():
    n, period = 64, 2.0
    x = np.arange(n) * period / n
    Phi = fourier_features(x, 3, period=period)
    assert Phi.shape == (n, 7)
    _close(Phi.T @ Phi, np.diag([n] + [n / 2] * 6), atol=1e-10)


@pytest.mark.parametrize(
    "call",
    [
        lambda: polynomial_features([1.0], -1),
        lambda: rbf_features([1.0], [0.0], width=0.0),
        lambda: fourier_features([1.0], 2, period=-1.0),
        lambda: polynomial_features([[1.0, 2.0]], 2),
        lambda: polynomial_features([np.nan], 2),
    ],
)
def test_feature_bad_input_raises_value_error(call):
    with pytest.raises(ValueError):
        call()


# ------------------------------------------------------------------------------------------
# Least squares
# ------------------------------------------------------------------------------------------


def _jax_least_squares(Phi, y, weight, ridge):
    Phi, y = jnp.asarray(Phi), jnp.asarray(y)
    return lambda t: weight * jnp.sum((y - Phi @ t) ** 2) + ridge * jnp.sum(t**2)


@pytest.mark.parametrize("weight, ridge", [(1.0, 0.0), (0.5, 0.0), (2.0, 0.3)])
@pytest.mark.parametrize("n, p", [(10, 3), (4, 4), (30, 6)])
def test_least_squares_derivatives_match_jax(rng, n, p, weight, ridge):
    Phi, y, theta = rng.standard_normal((n, p)), rng.standard_normal(n), rng.standard_normal(p)
    ls = LeastSquares(Phi, y, weight=weight, ridge=ridge)
    f = _jax_least_squares(Phi, y, weight, ridge)
    _close(ls.loss(theta), jax.jit(f)(theta))
    _close(ls.gradient(theta), jax.jit(jax.grad(f))(theta))
    _close(ls.hessian(theta), jax.jit(jax.hessian(f))(theta))
    v = rng.standard_normal(p)
    _close(ls.hvp(theta, v), ls.hessian() @ v)
    term = lambda t, phi, yn: weight * (yn - phi @ t) ** 2  # noqa: E731
    per_example = jax.jit(jax.vmap(jax.grad(term), (None, 0, 0)))
    G = np.asarray(per_example(jnp.asarray(theta), jnp.asarray(Phi), jnp.asarray(y)))
    _close(ls.per_example_gradients(theta), G)
    _close(ls.empirical_fisher(theta), G.T @ G)
    _close(ls.gauss_newton(theta), ls.hessian())


def test_least_squares_hessian_ignores_theta_and_y(rng):
    Phi = rng.standard_normal((8, 3))
    a = LeastSquares(Phi, rng.standard_normal(8), ridge=0.1)
    b = LeastSquares(Phi, rng.standard_normal(8), ridge=0.1)
    _close(a.hessian(rng.standard_normal(3)), b.hessian(rng.standard_normal(3)), rtol=0, atol=0)
    # ... while the empirical Fisher depends on both
    theta = rng.standard_normal(3)
    assert not np.allclose(a.empirical_fisher(theta), b.empirical_fisher(theta))


@pytest.mark.parametrize("ridge", [0.0, 0.7])
def test_solve_is_the_stationary_point(rng, ridge):
    Phi, y = rng.standard_normal((12, 4)), rng.standard_normal(12)
    ls = LeastSquares(Phi, y, weight=1.5, ridge=ridge)
    theta = ls.solve()
    _close(ls.gradient(theta), 0.0, atol=1e-10)
    reference = np.linalg.solve(1.5 * Phi.T @ Phi + ridge * np.eye(4), 1.5 * Phi.T @ y)
    _close(theta, reference)
    _close(ls.condition_number(), np.linalg.cond(ls.hessian()), rtol=1e-8)
    assert ls.diagnose().cause is None


def test_seed_001_three_points_quadratic_basis_interpolates_exactly():
    x = [-1, sympy.Rational(1, 2), 2]
    y = [3, -1, sympy.Rational(5, 2)]
    Phi_exact = sympy.Matrix([[1, xi, xi**2] for xi in x])
    theta_exact = (Phi_exact.T * Phi_exact).solve(Phi_exact.T * sympy.Matrix(y))  # eq. (4)
    ls = LeastSquares(polynomial_features(np.array(x, dtype=float), 2), np.array(y, dtype=float))
    theta = ls.solve()
    _close(theta, np.array(theta_exact, dtype=float).ravel(), rtol=1e-12)
    _close(ls.Phi @ theta, ls.y, atol=1e-12)  # exact interpolant: zero loss
    assert ls.loss(theta) < 1e-20
    assert np.linalg.eigvalsh(ls.hessian()).min() > 0  # a minimum: H positive definite


@pytest.mark.parametrize(
    "Phi, expected",
    [
        (polynomial_features([0.0, 1.0], 2), "fewer data points (N=2) than basis functions (P=3)"),
        (
            polynomial_features([1.0, 1.0, 2.0, 2.0], 2),
            "repeated x values leave only 2 distinct points for 3 basis functions",
        ),
        (
            np.column_stack([np.ones(5), np.arange(5.0), 2 * np.arange(5.0)]),
            "columns of Φ are linearly dependent (rank 2 < 3)",
        ),
        (
            np.array([[1.0, 0.0], [0.0, 1e-9], [1.0, 0.0]]),
            "ΦᵀΦ is ill-conditioned (condition number 2e18): lower the degree or add ridge",
        ),
    ],
    ids=["too-few-points", "repeated-x", "dependent-columns", "ill-conditioned"],
)
def test_singular_problems_name_their_cause(Phi, expected):
    ls = LeastSquares(Phi, np.ones(Phi.shape[0]))
    with pytest.raises(SingularProblemError, match=None) as info:
        ls.solve()
    assert expected in str(info.value)
    assert isinstance(info.value, ValueError)
    assert info.value.diagnosis is not None and info.value.diagnosis.is_singular
    assert diagnose(Phi).message in str(info.value)


def test_ridge_makes_an_underdetermined_problem_solvable():
    ls = LeastSquares(polynomial_features([0.0, 1.0], 2), [1.0, 2.0], ridge=1e-3)
    theta = ls.solve()
    _close(ls.gradient(theta), 0.0, atol=1e-10)


def test_least_squares_rejects_mismatched_shapes():
    with pytest.raises(ValueError, match="one y per row"):
        LeastSquares(np.ones((3, 2)), np.ones(4))


# ------------------------------------------------------------------------------------------
# Softmax regression
# ------------------------------------------------------------------------------------------

SOFTMAX_CASES = [
    (7, 3, 2, True),  # binary logistic regression
    (7, 3, 2, False),
    (20, 4, 3, True),
    (20, 4, 3, False),
    (40, 5, 5, True),
    (40, 5, 5, False),
    (1, 2, 4, False),  # a single example: seed 002's one-observation Hessian
]


def _softmax_problem(rng, n, d, k, reference, scale=1.0):
    X = rng.standard_normal((n, d))
    y = rng.integers(0, k, n)
    model = SoftmaxRegression(X, y, n_classes=k, reference_class=reference)
    w = scale * rng.standard_normal(model.n_params)
    return model, w


def _jax_softmax_nll(model: SoftmaxRegression):
    """A separate jnp implementation of the SUM-convention NLL with class-major parameters."""
    X, Y, d = jnp.asarray(model.X), jnp.asarray(model.Y), model.n_features

    def nll(w):
        Z = X @ w.reshape(-1, d).T
        if model.reference_class:
            Z = jnp.concatenate([Z, jnp.zeros((Z.shape[0], 1))], axis=1)
        return -jnp.sum(Y * jax.nn.log_softmax(Z, axis=1))

    return nll


@pytest.mark.parametrize("n, d, k, reference", SOFTMAX_CASES)
def test_softmax_derivatives_match_jax(rng, n, d, k, reference):
    model, w = _softmax_problem(rng, n, d, k, reference)
    assert model.n_params == (k - reference) * d
    f = _jax_softmax_nll(model)
    _close(model.loss(w), jax.jit(f)(w))
    _close(model.gradient(w), jax.jit(jax.grad(f))(w))
    H_ref = np.asarray(jax.jit(jax.hessian(f))(w))
    _close(model.hessian(w), H_ref)
    _close(model.fisher(w), H_ref)
    v = rng.standard_normal(model.n_params)
    hvp_ref = jax.jit(lambda w, v: jax.jvp(jax.grad(f), (w,), (v,))[1])(w, v)
    _close(model.hvp(w, v), hvp_ref)


@pytest.mark.parametrize("n, d, k, reference", SOFTMAX_CASES)
def test_softmax_per_example_gradients_match_jax(rng, n, d, k, reference):
    model, w = _softmax_problem(rng, n, d, k, reference)
    dd = d

    def one(w, x, yrow):
        z = w.reshape(-1, dd) @ x
        if reference:
            z = jnp.concatenate([z, jnp.zeros(1)])
        return -jnp.sum(yrow * jax.nn.log_softmax(z))

    G = np.asarray(jax.jit(jax.vmap(jax.grad(one), (None, 0, 0)))(w, model.X, model.Y))
    _close(model.per_example_gradients(w), G)
    _close(model.empirical_fisher(w), G.T @ G)
    _close(G.sum(axis=0), model.gradient(w))


@pytest.mark.parametrize("n, d, k, reference", SOFTMAX_CASES)
def test_fisher_equals_hessian_and_hvp_equals_hessian_times_v(rng, n, d, k, reference):
    model, w = _softmax_problem(rng, n, d, k, reference, scale=2.0)
    H = model.hessian(w)
    _close(model.fisher(w), H)
    V = rng.standard_normal((model.n_params, 3))
    _close(np.column_stack([model.hvp(w, V[:, i]) for i in range(3)]), H @ V)
    assert np.array_equal(H, H.T)


def test_probabilities_are_stable_for_huge_logits(rng):
    model, w = _softmax_problem(rng, 30, 4, 3, False, scale=1e4)
    P = model.probabilities(w)
    assert np.all(np.isfinite(P)) and np.allclose(P.sum(axis=1), 1.0)
    assert np.isfinite(model.loss(w)) and np.all(np.isfinite(model.hessian(w)))


@pytest.mark.parametrize("scale", [0.1, 1.0, 5.0])
@pytest.mark.parametrize(
    "n, d, k, reference", [(30, 3, 4, False), (30, 3, 4, True), (25, 2, 2, True)]
)
def test_bohning_bound_dominates_the_hessian(rng, n, d, k, reference, scale):
    model, w = _softmax_problem(rng, n, d, k, reference, scale=scale)
    B, H = model.bohning_bound(), model.hessian(w)
    gap = np.linalg.eigvalsh(B - H).min()
    assert gap >= -1e-10 * np.abs(B).max()


def test_bohning_bound_binary_case_is_a_quarter_of_xtx(rng):
    model, _ = _softmax_problem(rng, 10, 3, 2, True)
    _close(model.bohning_bound(), 0.25 * model.X.T @ model.X)  # 1/2 (1 - 1/2) X^T X


@pytest.mark.parametrize("k", [2, 3, 5])
def test_overparametrised_hessian_is_singular_along_shared_shifts(rng, k):
    model, w = _softmax_problem(rng, 60, 3, k, False)
    H = model.hessian(w)
    u = rng.standard_normal(3)
    _close(H @ np.tile(u, k), 0.0, atol=1e-10)  # [u; u; ...; u] is a null vector
    eig = np.linalg.eigvalsh(H)
    assert np.sum(eig < 1e-9 * eig.max()) == 3  # exactly D null directions
    assert eig[3] > 1e-6 * eig.max()


@pytest.mark.parametrize("k", [2, 3, 5])
def test_reference_class_hessian_is_positive_definite(rng, k):
    model, w = _softmax_problem(rng, 60, 3, k, True)
    assert np.linalg.eigvalsh(model.hessian(w)).min() > 1e-6


def test_example_term_is_a_kronecker_product_with_the_matrix_xxT(rng):
    model, w = _softmax_problem(rng, 5, 3, 4, False)
    terms = [model.example_term(w, n) for n in range(5)]
    t = terms[2]
    assert t.xxT.shape == (3, 3)  # x x^T is a D x D matrix (seed 002), not the number x^T x
    assert np.linalg.matrix_rank(t.xxT) == 1
    _close(t.p_covariance.sum(axis=1), 0.0, atol=1e-15)
    _close(t.kron, np.kron(np.diag(t.p) - np.outer(t.p, t.p), np.outer(t.x, t.x)))
    _close(sum(term.kron for term in terms), model.hessian(w))
    # block (i, j) of the term is (delta_ij p_i - p_i p_j) x x^T, as in Böhning's paper
    _close(t.kron[0:3, 3:6], -t.p[0] * t.p[1] * t.xxT)
    _close(t.kron[3:6, 3:6], t.p[1] * (1 - t.p[1]) * t.xxT)


def test_example_term_reference_class_restricts_to_free_classes(rng):
    model, w = _softmax_problem(rng, 6, 2, 3, True)
    t = model.example_term(w, 0)
    assert t.p.shape == (3,) and t.p_covariance.shape == (3, 3) and t.kron.shape == (4, 4)
    _close(sum(model.example_term(w, n).kron for n in range(6)), model.hessian(w))


@pytest.mark.parametrize("reference", [True, False])
@pytest.mark.parametrize("method", ["newton", "lbfgs"])
def test_fit_reaches_a_stationary_point(rng, reference, method):
    # overlapping classes, so a finite minimiser exists
    X = np.column_stack([np.ones(150), rng.standard_normal((150, 2))])
    y = rng.integers(0, 3, 150)
    model = SoftmaxRegression(X, y, reference_class=reference)
    w = model.fit(max_iter=500, tol=1e-9, method=method)
    assert np.abs(model.gradient(w)).max() / 150 < 1e-6
    if not reference:
        _close(w.reshape(3, 3).sum(axis=0), 0.0, atol=1e-10)  # the centred representative


def test_reference_and_overparametrised_fits_agree(rng):
    X = np.column_stack([np.ones(100), rng.standard_normal((100, 2))])
    y = rng.integers(0, 3, 100)
    a = SoftmaxRegression(X, y, reference_class=True)
    b = SoftmaxRegression(X, y)
    _close(a.probabilities(a.fit()), b.probabilities(b.fit()), atol=1e-8)


def test_one_hot_and_integer_labels_agree(rng):
    X, y = rng.standard_normal((9, 2)), rng.integers(0, 3, 9)
    a = SoftmaxRegression(X, y, n_classes=3)
    b = SoftmaxRegression(X, np.eye(3)[y])
    w = rng.standard_normal(6)
    assert a.loss(w) == b.loss(w) and a.n_classes == b.n_classes == 3


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"X": np.ones((3, 2)), "y": [0, 1, 2], "n_classes": 2}, "out of range"),
        ({"X": np.ones((3, 2)), "y": [0, 1]}, "3 rows"),
        ({"X": np.ones((3, 2)), "y": np.full((3, 2), 0.5)}, "one-hot"),
        ({"X": np.ones((3, 2)), "y": [0, 0, 0]}, "at least 2 classes"),
    ],
)
def test_softmax_bad_input_names_the_problem(kwargs, message):
    with pytest.raises(ValueError, match=message):
        SoftmaxRegression(**kwargs)


def test_wrong_parameter_length_is_explained(rng):
    model, _ = _softmax_problem(rng, 5, 3, 4, True)
    with pytest.raises(ValueError, match="n_params = 3 x 3 = 9"):
        model.loss(np.zeros(12))


# ------------------------------------------------------------------------------------------
# Speed and large models (Hessian-vector products only)
# ------------------------------------------------------------------------------------------


def test_dense_softmax_hessian_at_digits_size(rng):
    """N = 1797, D = 64, K = 10 (P = 640); its speed is measured in benchmarks/, not here."""
    X = rng.random((1797, 64))
    model = SoftmaxRegression(X, rng.integers(0, 10, 1797))
    w = 0.1 * rng.standard_normal(model.n_params)
    H = model.hessian(w)
    assert H.shape == (640, 640)
    v = rng.standard_normal(model.n_params)
    _close(H @ v, model.hvp(w, v))


def test_top_eigenpairs_match_dense_eigendecomposition(rng):
    model, w = _softmax_problem(rng, 80, 6, 5, True)
    H = model.hessian(w)
    expected = np.sort(np.linalg.eigvalsh(H))[::-1][:4]
    pairs = top_eigenpairs(lambda v: model.hvp(w, v), model.n_params, k=4)
    _close(pairs.values, expected, rtol=1e-8)
    _close(H @ pairs.vectors, pairs.vectors * pairs.values, atol=1e-8)
    _close(model.top_eigenvalues(w, k=4), expected, rtol=1e-8)


def test_top_eigenpairs_small_operator_falls_back_to_dense():
    A = np.array([[2.0, 1.0], [1.0, 2.0]])
    pairs = top_eigenpairs(lambda v: A @ v, 2, k=2)
    _close(pairs.values, [3.0, 1.0])


def test_top_eigenvalues_at_mnist_size_without_forming_the_hessian(rng):
    """P = 7,850 (D = 785 with bias, K = 10): a dense H would need ~0.5 GB."""
    n, d, k = 2000, 785, 10
    X = np.column_stack([np.ones(n), rng.standard_normal((n, d - 1)) / np.sqrt(d)])
    model = SoftmaxRegression(X, rng.integers(0, k, n))
    assert model.n_params == 7850
    w = 0.5 * rng.standard_normal(model.n_params)
    tracemalloc.start()
    pairs = top_eigenpairs(lambda v: model.hvp(w, v), model.n_params, k=5)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert peak < 0.1 * model.n_params**2 * 8  # a dense H would need P² doubles (~490 MB)
    residual = np.column_stack([model.hvp(w, pairs.vectors[:, i]) for i in range(5)])
    residual -= pairs.vectors * pairs.values
    assert np.abs(residual).max() < 1e-6 * pairs.values[0]
    assert np.all(np.diff(pairs.values) <= 0)


def test_least_squares_hvp_drives_top_eigenpairs(rng):
    ls = LeastSquares(rng.standard_normal((40, 12)), rng.standard_normal(40), ridge=0.2)
    pairs = top_eigenpairs(lambda v: ls.hvp(None, v), 12, k=3)
    _close(pairs.values, np.sort(np.linalg.eigvalsh(ls.hessian()))[::-1][:3], rtol=1e-9)


def test_spectral_density_moments_are_exact_for_a_diagonal_operator(rng):
    """Rademacher probes give z^T D z = tr(D) exactly, so the first two moments are exact."""
    d = np.concatenate([rng.uniform(0, 1, 150), rng.uniform(9, 10, 50)])
    sd = spectral_density(lambda v: d * v, d.size, n_vectors=4, n_steps=20, rng=rng)
    _close(sd.weights.sum(), 1.0, rtol=1e-12)
    _close(np.sum(sd.weights * sd.nodes), d.mean(), rtol=1e-10)
    _close(np.sum(sd.weights * sd.nodes**2), np.mean(d**2), rtol=1e-10)
    _close(np.trapezoid(sd.density, sd.grid), 1.0, rtol=1e-3)
    # a quarter of the mass sits in the top cluster [9, 10]
    in_top = (sd.nodes > 8.5) & (sd.weights > 0)
    _close(sd.weights[in_top].sum(), 0.25, atol=0.02)


def test_spectral_density_of_a_softmax_hessian_matches_its_trace(rng):
    model, w = _softmax_problem(rng, 60, 5, 4, True)
    H = model.hessian(w)
    hvp = model.hessian_operator(w).matvec
    sd = spectral_density(hvp, model.n_params, n_vectors=30, n_steps=15, rng=rng)
    assert sd.nodes.min() >= np.linalg.eigvalsh(H).min() - 1e-8
    assert sd.nodes.max() <= np.linalg.eigvalsh(H).max() + 1e-8
    _close(np.sum(sd.weights * sd.nodes), np.trace(H) / model.n_params, rtol=0.15)
