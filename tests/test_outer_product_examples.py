"""Worked examples of the outer-products page, against independent references.

References: brute-force enumeration of every label combination, explicit per-example loops,
central finite differences of the loss, and ``arccos`` of normalised dot products.
"""

from __future__ import annotations

import doctest
import itertools

import numpy as np
import pytest

import hessian_explorer.outer_product_examples as ex
from hessian_explorer.models import SoftmaxRegression
from hessian_explorer.outer_products import (KUNSTNER_STARTS, KunstnerVectorFields, ef_decomposition,
                                             exponential_model, kunstner_dataset, kunstner_vector_fields)


@pytest.fixture(scope="module")
def blobs():
    return ex.blob_classification()


@pytest.fixture(scope="module")
def figure1():
    return ex.kunstner_figure1(n=300, noise=1.0, misspecification=0.2)


def _softmax_probs(X, w, F, K):
    """Reference-class softmax probabilities by an explicit loop (independent of the model class)."""
    W = w.reshape(F, X.shape[1])
    out = []
    for x in X:
        z = np.r_[W @ x, np.zeros(K - F)]
        e = np.exp(z - z.max())
        out.append(e / e.sum())
    return np.array(out)


def _score(x, p, k, F):
    """Score of label k for one example: (e_k - p)_free (x) x."""
    e = np.zeros(p.size)
    e[k] = 1.0
    return np.kron((e - p)[:F], x)


def test_doctests_pass():
    result = doctest.testmod(ex, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.attempted >= 8 and result.failed == 0


# -- Kunstner et al. ----------------------------------------------------------------------------


def test_update_angles_match_arccos_on_an_asymmetric_grid():
    b, slope = np.array([0.0, 1.0, 2.0, 3.0]), np.array([-1.0, 0.5, 2.0])  # 3 x 4: [i, j] at (b[j], s[i])
    rng = np.random.default_rng(1)
    d = [rng.standard_normal((3, 4, 2)) for _ in range(3)]
    theta = np.array([1.3, 0.7])
    fields = KunstnerVectorFields(b, slope, np.zeros((3, 4)), d[0], d[1], d[2], theta)
    angles = ex.update_angles(fields)
    assert angles.shape == (3, 3, 4)
    for m, i, j in itertools.product(range(3), range(3), range(4)):
        to = theta - np.array([b[j], slope[i]])
        cos = d[m][i, j] @ to / np.linalg.norm(d[m][i, j]) / np.linalg.norm(to)
        assert angles[m, i, j] == pytest.approx(np.degrees(np.arccos(cos)), abs=1e-9)


def test_natural_gradient_heads_straight_for_the_minimiser_and_ef_does_not():
    fields = kunstner_vector_fields(kunstner_dataset(200))
    angles = ex.update_angles(fields)
    assert angles[1].max() < 1e-4
    assert angles[2].mean() > 30 and angles[0].mean() > 10


def test_kunstner_figure1_bundle(figure1):
    f = figure1
    assert f.problem.n == 300 and f.fields.gd.shape == (15, 15, 2)
    np.testing.assert_allclose(f.mean_angles, f.angles.mean(axis=(1, 2)))
    # contour grid indexing: [i, j] at (contour_b[j], contour_slope[i])
    for i, j in [(0, 5), (7, 2), (20, 40)]:
        theta = (f.contour_b[j], f.contour_slope[i])
        assert f.contour_loss[i, j] == pytest.approx(f.problem.loss(theta), rel=1e-10)
    np.testing.assert_allclose(f.curve_y, 2 + 2 * f.curve_x + 0.2 * f.curve_x**2)
    np.testing.assert_allclose(f.trajectories.starts, KUNSTNER_STARTS)


def test_misspecification_turns_the_ef_field_further_away():
    clean = ex.update_angles(kunstner_vector_fields(kunstner_dataset(300, 1.0, 0.0)))[2].mean()
    bent = ex.update_angles(kunstner_vector_fields(kunstner_dataset(300, 1.0, 0.5)))[2].mean()
    assert bent > clean + 5


# -- the blob problem and the Fisher identity ----------------------------------------------------


def test_blob_problem_is_fitted_and_labelled(blobs):
    m = blobs.model
    assert (m.n_examples, m.n_features, m.n_classes, m.n_params) == (90, 3, 3, 6)
    assert m.reference_class
    assert np.abs(m.gradient(blobs.w_star)).max() < 1e-8
    np.testing.assert_allclose(m.X[:, 1:], blobs.points)
    assert len(blobs.param_labels) == 6 and len(set(blobs.param_labels)) == 6
    np.testing.assert_allclose(blobs.point(0.0), blobs.w_star)
    np.testing.assert_allclose(blobs.point(1.0), 0.0)


def test_noisy_label_probs():
    p = np.random.default_rng(0).dirichlet(np.ones(4), size=5)
    np.testing.assert_allclose(ex.noisy_label_probs(p, 0.0), p)
    np.testing.assert_allclose(ex.noisy_label_probs(p, 1.0)[:, 1:], p[:, :-1])
    np.testing.assert_allclose(ex.noisy_label_probs(p, 0.3).sum(axis=1), 1.0)
    with pytest.raises(ValueError, match="probability"):
        ex.noisy_label_probs(p, 1.5)


@pytest.mark.parametrize("use_q", [False, True])
def test_fisher_noise_level_matches_brute_force_enumeration(use_q):
    rng = np.random.default_rng(3)
    X = np.column_stack([np.ones(3), rng.standard_normal((3, 2))])
    K, F = 3, 2
    model = SoftmaxRegression(X, [0, 1, 2], n_classes=K, reference_class=True)
    w = rng.standard_normal(model.n_params)
    p = _softmax_probs(X, w, F, K)
    q = rng.dirichlet(np.ones(K), size=3) if use_q else p
    draws, weights = [], []
    for labels in itertools.product(range(K), repeat=3):  # all 27 label vectors
        S = sum(np.outer(s, s) for s in (_score(X[n], p[n], labels[n], F) for n in range(3)))
        draws.append(S)
        weights.append(np.prod([q[n, labels[n]] for n in range(3)]))
    draws, weights = np.array(draws), np.array(weights)
    mean = np.einsum("t,tij->ij", weights, draws)
    var = np.einsum("t,t->", weights, np.sum((draws - mean) ** 2, axis=(1, 2)))
    got = ex.fisher_noise_level(model, w, q if use_q else None)
    assert got == pytest.approx(np.sqrt(var), rel=1e-10)


@pytest.fixture(scope="module")
def sandbox(blobs):
    return ex.fisher_sandbox(blobs, 800, 0, 0.05)


def test_sandbox_limits_against_explicit_sums(blobs, sandbox):
    m, w = blobs.model, blobs.w_star
    K, F = 3, 2
    p = _softmax_probs(m.X, w, F, K)
    H = sum(np.kron(np.diag(pn[:F]) - np.outer(pn[:F], pn[:F]), np.outer(x, x)) for x, pn in zip(m.X, p))
    np.testing.assert_allclose(sandbox.hessian, H, atol=1e-10)
    q = ex.noisy_label_probs(p, 0.05)
    limit = sum(q[n, k] * np.outer(s, s) for n in range(m.n_examples) for k in range(K)
                for s in [_score(m.X[n], p[n], k, F)])
    assert sandbox.noisy_floor == pytest.approx(np.linalg.norm(limit - H) / np.linalg.norm(H), rel=1e-9)
    EF = sum(np.outer(s, s) for s in (_score(m.X[n], p[n], m.labels[n], F) for n in range(m.n_examples)))
    assert sandbox.observed_level == pytest.approx(np.linalg.norm(EF - H) / np.linalg.norm(H), rel=1e-9)


def test_model_labels_converge_and_noisy_labels_level_off(sandbox):
    err, ref = sandbox.model_error, sandbox.reference
    assert err.shape == ref.shape == (800,)
    np.testing.assert_allclose(ref * np.sqrt(sandbox.n_samples), ref[0])  # exactly 1/sqrt(n)
    assert err[-100:].mean() < 0.1 * err[:5].mean()  # falls toward 0 ...
    assert 0.3 < err[-1] / ref[-1] < 3  # ... at the expected 1/sqrt(n) rate
    assert abs(sandbox.noisy_error[-1] - sandbox.noisy_floor) < 0.25 * sandbox.noisy_floor  # levels off
    assert sandbox.noisy_floor > 10 * err[-1]


def test_sandbox_with_no_label_noise_has_no_floor(blobs):
    sb = ex.fisher_sandbox(blobs, 50, 1, 0.0)
    assert sb.noisy_floor < 1e-12


def test_mean_gradient_summary(blobs):
    at_min = ex.mean_gradient_summary(ef_decomposition(blobs.model.per_example_gradients(blobs.w_star)))
    assert at_min[0] < 1e-10 and at_min[1] < 1e-10
    G = blobs.model.per_example_gradients(blobs.point(1.0))
    norm, share = ex.mean_gradient_summary(ef_decomposition(G))
    gbar = G.mean(axis=0)
    assert norm == pytest.approx(np.linalg.norm(gbar))
    assert share == pytest.approx(np.linalg.norm(len(G) * np.outer(gbar, gbar)) / np.linalg.norm(G.T @ G))
    assert share > 0.1


# -- Gauss-Newton versus the Hessian -------------------------------------------------------------


def test_exponential_data_scales_one_fixed_noise_draw():
    x, y0 = ex.exponential_data(0.0)
    _, y1 = ex.exponential_data(1.0)
    _, y2 = ex.exponential_data(2.0)
    np.testing.assert_allclose(x, np.linspace(0, 1, 20))
    np.testing.assert_allclose(y0, np.exp(x) + 0.5)
    np.testing.assert_allclose(y2 - y0, 2 * (y1 - y0))
    with pytest.raises(ValueError, match="non-negative"):
        ex.exponential_data(-1.0)


@pytest.mark.parametrize("theta", [(1.0, 0.5), (0.0, 0.5), (-1.0, -1.0), (2.0, 0.0)])
def test_gauss_newton_demo_hessian_matches_finite_differences(theta):
    demo = ex.gauss_newton_demo(0.7, theta)

    def loss(t):
        r = exponential_model(t, demo.x) - demo.y
        return r @ r

    h, t0 = 1e-4, np.asarray(theta)
    E = np.eye(2) * h
    fd = np.array([[(loss(t0 + E[i] + E[j]) - loss(t0 + E[i] - E[j]) - loss(t0 - E[i] + E[j])
                     + loss(t0 - E[i] - E[j])) / (4 * h * h) for j in range(2)] for i in range(2)])
    np.testing.assert_allclose(demo.comparison.hessian, fd, rtol=1e-5, atol=1e-4)
    np.testing.assert_allclose(demo.hessian_eigenvalues, np.linalg.eigvalsh(demo.comparison.hessian))
    assert demo.gauss_newton_eigenvalues.min() >= -1e-12  # 2 J^T J is PSD
    assert demo.residual_norm == pytest.approx(np.linalg.norm(exponential_model(theta, demo.x) - demo.y))


def test_gauss_newton_equals_hessian_only_without_residuals():
    exact = ex.gauss_newton_demo(0.0)
    np.testing.assert_array_equal(exact.comparison.hessian, exact.comparison.gauss_newton)
    assert exact.residual_norm == 0.0
    far = ex.gauss_newton_demo(0.0, (0.0, 0.5))  # curve far below the data
    assert far.hessian_eigenvalues[0] < 0 < far.gauss_newton_eigenvalues[0]  # H indefinite, GN not
