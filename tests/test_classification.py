"""Softmax regression analysed for the page: the penalised fit, the null space of the
over-parametrised form (checked with a softmax written out here), Böhning's bound at random points,
the Lanczos path against a dense solver, separability, and the binary two-weight model."""

from __future__ import annotations

import numpy as np
import pytest

from hessian_explorer.classification import (
    DENSE_LIMIT,
    analyse_softmax,
    bohning_check,
    fit_softmax,
    null_space_check,
    one_feature_binary,
    parameter_labels,
)
from hessian_explorer.datasets import load_classification
from hessian_explorer.models import SoftmaxRegression
from hessian_explorer.notation import omega_label, subscript, superscript, theta_label


@pytest.fixture
def blobs():
    return load_classification("blobs", k=3, d=2, n_per_class=20, seed=1)


def _nll(X, labels, W):
    """-sum log softmax, written out independently of the core (K x D weights, no reference)."""
    Z = X @ W.T
    Z = Z - Z.max(axis=1, keepdims=True)
    return float(-np.sum(Z[np.arange(len(labels)), labels] - np.log(np.exp(Z).sum(axis=1))))


def test_notation():
    assert subscript(12) == "₁₂" and superscript("(3)") == "⁽³⁾" and theta_label(0) == "θ₀"
    assert omega_label(2, 11) == "ω⁽²⁾₁₁"
    assert parameter_labels(2, 2) == ("ω⁽¹⁾₁", "ω⁽¹⁾₂", "ω⁽²⁾₁", "ω⁽²⁾₂")


@pytest.mark.parametrize("reference", [False, True])
def test_penalised_fit_is_stationary(blobs, reference):
    m = SoftmaxRegression(blobs.X, blobs.labels, reference_class=reference)
    w = fit_softmax(m, l2=0.7)
    np.testing.assert_allclose(m.gradient(w) + 0.7 * w, 0, atol=1e-8 * blobs.n_examples)
    with pytest.raises(ValueError):
        fit_softmax(m, l2=-1.0)


def test_unpenalised_fit_is_the_cores(blobs):
    m = SoftmaxRegression(blobs.X, blobs.labels)
    np.testing.assert_allclose(fit_softmax(m, 0.0), m.fit(), atol=1e-10)


def test_over_parametrised_hessian_has_a_null_space_of_dimension_d(blobs):
    over = analyse_softmax(blobs.X, blobs.labels, l2=0.5)
    ref = analyse_softmax(blobs.X, blobs.labels, l2=0.5, reference_class=True)
    check = null_space_check(over, ref, shift=2.0, seed=4)
    D, K = blobs.n_features, blobs.n_classes
    W = over.w.reshape(K, D)
    assert check.loss_before == pytest.approx(_nll(blobs.X, blobs.labels, W), rel=1e-12)
    assert check.loss_after == pytest.approx(_nll(blobs.X, blobs.labels, W + check.u), rel=1e-12)
    assert check.loss_after == pytest.approx(check.loss_before, rel=1e-12)
    assert np.linalg.norm(check.u) == pytest.approx(2.0)
    assert check.relative_hv < 1e-13 and check.n_zero == D == over.n_zero
    assert not over.positive_definite and ref.positive_definite and check.ref_positive_definite
    assert abs(check.ref_loss_after - check.ref_loss_before) > 1e-3
    np.testing.assert_allclose(over.eigenvalues, np.linalg.eigvalsh(over.hessian))


def test_null_space_check_wants_both_forms(blobs):
    over = analyse_softmax(blobs.X, blobs.labels, l2=0.5)
    with pytest.raises(ValueError):
        null_space_check(over, over)


@pytest.mark.parametrize("reference", [False, True])
def test_bohning_bound_dominates_the_hessian_everywhere(blobs, reference):
    fit = analyse_softmax(blobs.X, blobs.labels, l2=1.0, reference_class=reference)
    check = bohning_check(fit)
    assert check.holds
    np.testing.assert_allclose(check.gap, check.bound - fit.hessian)
    assert check.min_gap == pytest.approx(np.linalg.eigvalsh(check.gap)[0], abs=1e-10)
    rng = np.random.default_rng(2)
    for _ in range(5):  # B - H(w) is PSD at any w, not only at the fit
        w = 3 * rng.standard_normal(fit.n_params)
        assert np.linalg.eigvalsh(check.bound - fit.model.hessian(w))[0] > -1e-9


def test_large_models_use_lanczos_and_agree_with_the_dense_spectrum():
    data = load_classification("blobs", k=6, d=20, n_per_class=25, seed=3)  # P = 6 * 21 = 126
    fit = analyse_softmax(data.X, data.labels, l2=1.0)
    assert fit.n_params > DENSE_LIMIT and fit.eigenvalues is None and fit.density is not None
    dense = np.linalg.eigvalsh(fit.hessian)
    np.testing.assert_allclose(fit.top.values, dense[::-1][:20], rtol=1e-8)
    np.testing.assert_allclose(fit.smallest, dense[: fit.smallest.size], atol=1e-10)
    assert fit.n_zero == data.n_features
    integral = np.trapezoid(fit.density.density, fit.density.grid)
    assert integral == pytest.approx(1.0, abs=0.05)


def test_separable_data_without_penalty_is_flagged():
    X = np.column_stack([np.r_[-2.0, -1.0, 1.0, 2.0], np.ones(4)])
    fit = analyse_softmax(X, [0, 0, 1, 1], l2=0.0)
    assert fit.diverging and fit.accuracy == 1.0
    assert not analyse_softmax(X, [0, 0, 1, 1], l2=1.0).diverging


def test_one_feature_binary_is_a_sigmoid_of_two_weights(blobs):
    X2, y2 = one_feature_binary(blobs, feature=1, positive=2)
    np.testing.assert_array_equal(X2[:, 0], blobs.X[:, 1])
    np.testing.assert_array_equal(y2 == 0, blobs.labels == 2)
    m = SoftmaxRegression(X2, y2, n_classes=2, reference_class=True)
    w = np.array([0.7, -0.2])
    np.testing.assert_allclose(m.probabilities(w)[:, 0], 1 / (1 + np.exp(-(X2 @ w))))
    with pytest.raises(ValueError):
        one_feature_binary(blobs, feature=blobs.n_features - 1, positive=0)  # the bias is not an input
