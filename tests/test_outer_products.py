"""Outer products of gradients: Fisher identity, empirical Fisher, Gauss-Newton, Kunstner et al.

References: jax autodiff of separate jnp losses (tests only), the raw legacy numpy random stream,
naive step-by-step Euler integration, and exact algebraic identities.
"""

from __future__ import annotations

import doctest

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

import hessian_explorer.outer_products as op
from hessian_explorer.models import LeastSquares, SoftmaxRegression
from hessian_explorer.outer_products import (
    KUNSTNER_STARTS,
    ef_decomposition,
    exponential_model,
    gauss_newton_vs_hessian,
    kunstner_dataset,
    kunstner_trajectories,
    kunstner_update_directions,
    kunstner_vector_fields,
    monte_carlo_fisher,
)


pytestmark = pytest.mark.usefixtures("jax_float64")  # conftest: jax in float64 for this module


@pytest.fixture(scope="module")
def problem():
    return kunstner_dataset()


@pytest.fixture(scope="module")
def trajectories(problem):
    return kunstner_trajectories(problem)


def _close(a, b, rtol=1e-9, atol=1e-9):
    np.testing.assert_allclose(np.asarray(a), np.asarray(b), rtol=rtol, atol=atol)


def test_doctests_pass():
    result = doctest.testmod(op, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.attempted >= 6 and result.failed == 0


# ------------------------------------------------------------------------------------------
# Kunstner, Balles & Hennig (2019), Figure 1
# ------------------------------------------------------------------------------------------


def test_kunstner_dataset_is_the_legacy_seed_0_stream(problem):
    assert problem.x.shape == (1000,) and problem.y.shape == (1000,)
    assert problem.Phi.shape == (1000, 2)
    # lognormal(0, 0.75) draws first, then the noise: one standard-normal stream
    z = np.random.RandomState(0).standard_normal(2000)
    _close(problem.x, np.exp(0.75 * z[:1000]), rtol=1e-14)
    _close(problem.y, 2 + 2 * np.exp(0.75 * z[:1000]) + z[1000:], rtol=1e-14)
    # stable first values (the authors' np.random.seed(0) data)
    _close(problem.x[:3], [3.7548159128575, 1.3500179737835, 2.0835089928199], rtol=1e-12)
    _close(problem.y[:3], [10.065594505425, 5.5925098348985, 5.7447031615145], rtol=1e-12)


def test_kunstner_dataset_options(problem):
    again = kunstner_dataset()
    assert np.array_equal(again.x, problem.x) and np.array_equal(again.y, problem.y)
    other = kunstner_dataset(seed=1)
    assert not np.allclose(other.x, problem.x)
    bent = kunstner_dataset(misspecification=0.5)
    _close(bent.y - problem.y, 0.5 * problem.x**2, rtol=1e-12)
    quiet = kunstner_dataset(noise=0.0)
    _close(quiet.y, 2 + 2 * problem.x, rtol=1e-14)


def _jax_kunstner_loss(problem):
    Phi, y, n, pv = jnp.asarray(problem.Phi), jnp.asarray(problem.y), problem.n, problem.prior_var
    return lambda t: jnp.mean((Phi @ t - y) ** 2) / 2 + jnp.sum(t**2) / (2 * pv * n)


@pytest.mark.parametrize("theta", [(2.0, 2.0), (-1.0, 5.0), (4.5, 3.0)])
def test_kunstner_derivatives_match_jax(problem, theta):
    theta = np.array(theta)
    f = _jax_kunstner_loss(problem)
    _close(problem.loss(theta), f(theta))
    _close(problem.gradient(theta), jax.grad(f)(theta))
    _close(problem.hessian(theta), jax.hessian(f)(theta))
    Phi, y = jnp.asarray(problem.Phi), jnp.asarray(problem.y)
    per_example = jax.vmap(jax.grad(lambda t, phi, yn: (phi @ t - yn) ** 2 / 2), (None, 0, 0))
    G = np.asarray(per_example(jnp.asarray(theta), Phi, y))
    _close(problem.per_example_gradients(theta), G)
    _close(problem.empirical_fisher(theta), G.T @ G / problem.n)
    _close(problem.empirical_fisher_batch(theta), problem.empirical_fisher(theta))


def test_kunstner_hessian_equals_fisher_by_sampling_the_model(problem, rng):
    """E over y ~ N(phi^T theta, 1) of the score outer product, by Monte Carlo, is the Hessian."""
    theta = np.array([1.0, 3.0])
    eps = rng.standard_normal((400, problem.n))  # 400 label draws for every x
    scores_sq = np.mean(eps**2, axis=0)  # per-example average of (y - mean)^2
    mc = (problem.Phi * scores_sq[:, None]).T @ problem.Phi / problem.n
    mc += np.eye(2) / (problem.prior_var * problem.n)
    _close(mc, problem.hessian(), rtol=0.02)
    _close(problem.fisher(theta), problem.hessian(theta), rtol=1e-14)
    # ... while the empirical Fisher depends on theta and is not the Hessian
    assert not np.allclose(problem.empirical_fisher(theta), problem.hessian(), rtol=0.1)


def test_kunstner_loss_grid_matches_pointwise_loss(problem):
    b, s = np.linspace(-1, 5, 4), np.linspace(-1, 5, 3)
    grid = problem.loss_grid(b, s)
    assert grid.shape == (3, 4)
    _close(grid[2, 1], problem.loss([b[1], s[2]]), rtol=1e-12)


def test_kunstner_vector_fields(problem):
    fields = kunstner_vector_fields(problem)
    assert fields.gd.shape == fields.ngd.shape == fields.ef.shape == (15, 15, 2)
    _close(fields.b, np.linspace(-1, 5, 15))
    B, S = np.meshgrid(fields.b, fields.slope)
    thetas = np.stack([B, S], axis=-1)
    i, j = 3, 11
    theta = thetas[i, j]
    _close(fields.gd[i, j], -problem.gradient(theta) / 3)
    # natural gradient with the exact Hessian on a quadratic is Newton: it points at the minimiser
    _close(fields.ngd, fields.minimiser - thetas, atol=1e-6)
    normal_rhs = problem.Phi.T @ problem.y / problem.n
    _close(fields.minimiser, np.linalg.solve(problem.hessian(), normal_rhs))
    damped_ef = problem.empirical_fisher(theta) + 1e-8 * np.eye(2)
    ef = -3 * np.linalg.solve(damped_ef, problem.gradient(theta))
    _close(fields.ef[i, j], ef, rtol=1e-8)
    # EF preconditioning bends the field away from the minimiser somewhere on the grid
    cos = np.sum(fields.ef * fields.ngd, -1) / (
        np.linalg.norm(fields.ef, axis=-1) * np.linalg.norm(fields.ngd, axis=-1) + 1e-300
    )
    assert cos.min() < 0.9


def test_natural_gradient_trajectories_converge_to_the_minimiser(problem, trajectories):
    theta_star = problem.minimiser()
    assert trajectories.converged[1].all()
    for path, start in zip(trajectories.ngd, KUNSTNER_STARTS):
        _close(path[0], start)
        _close(path[-1], theta_star, atol=1e-5)
        # Newton flow on a quadratic moves along the straight line to the minimiser
        direction = theta_star - np.asarray(start)
        direction /= np.linalg.norm(direction)
        off_line = (path - start) - np.outer((path - start) @ direction, direction)
        assert np.abs(off_line).max() < 1e-6


def test_trajectory_bookkeeping(trajectories):
    assert trajectories.n_steps.shape == trajectories.converged.shape == (3, 4)
    assert trajectories.n_steps.max() <= 50_000
    for m in range(3):
        for s in range(4):
            k = int(trajectories.n_steps[m, s])
            assert len(trajectories.paths[m][s]) == k // 10 + 1 + (k % 10 > 0)


def test_closed_form_euler_matches_naive_euler_steps(problem):
    steps, h = 300, 0.001
    tr = kunstner_trajectories(problem, step=h, max_steps=steps, record_every=1)
    theta = np.array(KUNSTNER_STARTS, dtype=float)
    naive = np.broadcast_to(theta, (3, 4, 2)).copy()
    for _ in range(steps):
        d = kunstner_update_directions(problem, naive)  # (field, method-row, start, 2)
        naive = naive + h * d[np.arange(3), np.arange(3)]
    for m in range(3):
        for s in range(4):
            assert tr.paths[m][s].shape == (steps + 1, 2)
            _close(tr.paths[m][s][-1], naive[m, s], rtol=1e-12, atol=1e-12)


def test_kunstner_bad_start_is_explained(problem):
    with pytest.raises(ValueError, match=r"\(S, 2\)"):
        kunstner_trajectories(problem, starts=[(1.0, 2.0, 3.0)])


# ------------------------------------------------------------------------------------------
# The Fisher identity by sampling
# ------------------------------------------------------------------------------------------


def _small_softmax(rng, reference=False):
    X = np.column_stack([np.ones(40), rng.standard_normal((40, 1))])
    return SoftmaxRegression(X, rng.integers(0, 3, 40), reference_class=reference)


@pytest.mark.parametrize("reference", [False, True])
def test_monte_carlo_fisher_converges_to_the_hessian(rng, reference):
    model = _small_softmax(rng, reference)
    w = rng.standard_normal(model.n_params)
    mc = monte_carlo_fisher(model, w, 3000, rng)
    _close(mc.hessian, model.hessian(w))
    _close(mc.limit, mc.hessian)  # labels from the model: the limit is the Hessian
    scale = np.linalg.norm(mc.hessian)
    assert mc.distance_to_hessian[-1] < 0.05 * scale
    assert mc.distance_to_hessian[-1] < 0.3 * mc.distance_to_hessian[:10].mean()
    assert mc.running_average.shape == (3000, model.n_params, model.n_params)


def test_monte_carlo_fisher_with_misspecified_labels_misses_the_hessian(rng):
    model = _small_softmax(rng)
    w = rng.standard_normal(model.n_params)
    other = SoftmaxRegression(model.X, model.labels, n_classes=3)
    q = other.probabilities(3.0 * rng.standard_normal(model.n_params))  # a different labeller
    mc = monte_carlo_fisher(model, w, 3000, rng, label_probs=q)
    scale = np.linalg.norm(mc.hessian)
    assert mc.distance_to_limit[-1] < 0.05 * scale  # converges ... to the wrong matrix
    assert np.linalg.norm(mc.limit - mc.hessian) > 0.3 * scale
    assert mc.distance_to_hessian[-1] > 0.25 * scale


def test_observed_labels_give_the_empirical_fisher_at_every_sample_count(rng):
    model = _small_softmax(rng)
    w = rng.standard_normal(model.n_params)
    mc = monte_carlo_fisher(model, w, 5, rng, label_probs=model.Y)
    for t in range(5):
        _close(mc.running_average[t], model.empirical_fisher(w))
    _close(mc.limit, model.empirical_fisher(w))


def test_monte_carlo_fisher_rejects_bad_label_probs(rng):
    model = _small_softmax(rng)
    with pytest.raises(ValueError, match="label_probs"):
        monte_carlo_fisher(model, np.zeros(model.n_params), 3, rng, label_probs=np.ones((40, 3)))


# ------------------------------------------------------------------------------------------
# Empirical Fisher = N Cov(g) + N gbar gbar^T
# ------------------------------------------------------------------------------------------


@settings(max_examples=40, deadline=None)
@given(
    arrays(
        np.float64, st.tuples(st.integers(1, 12), st.integers(1, 5)), elements=st.floats(-1e3, 1e3)
    )
)
def test_ef_decomposition_is_exact(G):
    d = ef_decomposition(G)
    scale = max(1.0, np.abs(G).max() ** 2 * G.shape[0])
    _close(d.empirical_fisher, d.covariance_part + d.mean_part, rtol=0, atol=1e-12 * scale)
    _close(d.empirical_fisher, G.T @ G, rtol=0, atol=1e-12 * scale)
    cov = np.cov(G.T, bias=True).reshape(G.shape[1], G.shape[1])
    _close(d.covariance_part, G.shape[0] * cov, rtol=0, atol=1e-10 * scale)


def test_at_the_least_squares_minimum_the_empirical_fisher_is_pure_noise(rng):
    ls = LeastSquares(rng.standard_normal((50, 3)), rng.standard_normal(50))
    theta = ls.solve()
    d = ef_decomposition(ls.per_example_gradients(theta))
    _close(d.mean_part, 0.0, atol=1e-20)
    _close(d.empirical_fisher, d.covariance_part, rtol=1e-10)
    _close(d.empirical_fisher, ls.empirical_fisher(theta))
    assert not np.allclose(d.empirical_fisher, ls.hessian(), rtol=0.1)


def test_ef_decomposition_mean_part_is_the_full_gradient_outer_product(rng):
    model = _small_softmax(rng)
    w = rng.standard_normal(model.n_params)
    d = ef_decomposition(model.per_example_gradients(w))
    g = model.gradient(w)
    _close(d.mean_part, np.outer(g, g) / model.n_examples)
    _close(d.empirical_fisher, model.empirical_fisher(w))


# ------------------------------------------------------------------------------------------
# Gauss-Newton versus the Hessian
# ------------------------------------------------------------------------------------------


def _jax_exp_loss(x, y):
    x, y = jnp.asarray(x), jnp.asarray(y)
    return lambda t: jnp.sum((jnp.exp(t[0] * x) + t[1] - y) ** 2)


@pytest.mark.parametrize("theta", [(0.5, 1.0), (-1.2, 0.3), (2.0, -4.0)])
def test_gauss_newton_and_hessian_match_jax(rng, theta):
    x = rng.uniform(-1, 1.5, 25)
    y = np.exp(0.8 * x) + 0.5 + 0.3 * rng.standard_normal(25)
    c = gauss_newton_vs_hessian(theta, x, y)
    f = _jax_exp_loss(x, y)
    theta = np.array(theta)
    _close(c.loss, f(theta))
    _close(c.gradient, jax.grad(f)(theta))
    _close(c.hessian, jax.hessian(f)(theta))
    J = np.asarray(jax.jacfwd(lambda t: jnp.exp(t[0] * jnp.asarray(x)) + t[1])(theta))
    _close(c.jacobian, J)
    _close(c.gauss_newton, 2 * J.T @ J)
    _close(c.hessian - c.gauss_newton, c.second_order_term, atol=1e-12)
    assert np.linalg.eigvalsh(c.gauss_newton).min() >= -1e-12


def test_gauss_newton_equals_hessian_when_residuals_vanish(rng):
    x = rng.uniform(-1, 1, 10)
    theta = np.array([0.7, -0.2])
    c = gauss_newton_vs_hessian(theta, x, exponential_model(theta, x))
    _close(c.residuals, 0.0, atol=1e-15)
    _close(c.second_order_term, 0.0, atol=1e-14)
    _close(c.hessian, c.gauss_newton, rtol=1e-14)


def test_large_residuals_make_the_hessian_indefinite_but_not_gauss_newton():
    x = np.linspace(0.5, 2.0, 8)
    y = np.exp(1.0 * x) + 40.0  # the model at theta = (1, 0) undershoots by 40 everywhere
    c = gauss_newton_vs_hessian([1.0, 0.0], x, y)
    assert np.linalg.eigvalsh(c.hessian).min() < 0
    assert np.linalg.eigvalsh(c.gauss_newton).min() >= 0


def test_exponential_overflow_is_explained():
    with pytest.raises(ValueError, match="smaller"):
        gauss_newton_vs_hessian([800.0, 0.0], [1.0, 2.0], [0.0, 0.0])
