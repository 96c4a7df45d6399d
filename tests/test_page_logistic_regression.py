"""AppTest for the logistic-regression page: every data set (digits included, downsampled) and every
tab renders; the heatmap is the Hessian Σₙ (Λ_p − ppᵀ) ⊗ xₙxₙᵀ written out here, outlined at multiples
of D; the example slider, the parametrisation and the penalty change what is shown; the null space
and Böhning's bound show their numbers; separable data get a warning, not a traceback."""

from __future__ import annotations

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from apptest_support import array, chart, charts_on, metric, open_app, open_tab
from hessian_explorer.classification import fit_softmax
from hessian_explorer.datasets import CLASSIFICATION_SETS, load_classification
from hessian_explorer.models import SoftmaxRegression

PAGE = "pages/6_logistic_regression.py"
TABS = ["H and its blocks", "One example", "Null space", "Böhning bound", "Spectrum", "Two weights"]
WEIGHTS = {"blobs": "3·3 = 9", "iris": "3·5 = 15", "wine": "3·14 = 42", "breast_cancer": "2·31 = 62",
           "digits": "10·62 = 620"}


@pytest.fixture
def at() -> AppTest:
    app = open_app(page=PAGE, timeout=120)
    assert not app.exception
    return app


def verticals(spec: dict) -> list[float]:
    return sorted({s["x0"] for s in spec["layout"]["shapes"] if s["x0"] == s["x1"]})


@pytest.mark.parametrize("key", list(CLASSIFICATION_SETS))
def test_every_data_set_renders(at, key):
    at.sidebar.selectbox(key="lg_dataset").set_value(key).run()
    assert not at.exception and not at.error and metric(at, "weights P") == WEIGHTS[key]
    spec = chart(at, "lg_hessian_chart")
    P, D = int(WEIGHTS[key].split()[-1]), int(metric(at, "features D"))
    assert verticals(spec) == [k * D - 0.5 for k in range(P // D + 1)]
    if P > 120:  # digits: downsampled heatmap plus one block at full resolution
        assert array(spec["data"][0]["z"]).shape[0] <= 120 and "downsampled" in spec["layout"]["title"]["text"]
        assert array(chart(at, "lg_block_chart")["data"][0]["z"]).shape == (D, D)


@pytest.fixture(scope="module", params=["blobs", "digits"])
def per_dataset(request) -> AppTest:
    """One app per data set, shared by the tab tests (each only opens a tab and reads)."""
    app = open_app(page=PAGE, timeout=120)
    app.sidebar.selectbox(key="lg_dataset").set_value(request.param).run()
    return app


@pytest.mark.parametrize("tab", TABS)
def test_every_tab_renders_for_small_and_big_models(per_dataset, tab):
    open_tab(per_dataset, "lg_tab", tab)
    assert not per_dataset.exception and not per_dataset.error and charts_on(per_dataset)


def test_heatmap_is_the_sum_of_kronecker_terms(at):
    data = load_classification("blobs", k=3, d=2, n_per_class=30, spread=1.0, seed=0)
    w = fit_softmax(SoftmaxRegression(data.X, data.labels), l2=1.0)
    Z = data.X @ w.reshape(3, 3).T
    p = np.exp(Z - Z.max(axis=1, keepdims=True))
    p /= p.sum(axis=1, keepdims=True)
    H = sum(np.kron(np.diag(pn) - np.outer(pn, pn), np.outer(xn, xn)) for pn, xn in zip(p, data.X))
    heat = chart(at, "lg_hessian_chart")["data"][0]
    np.testing.assert_allclose(array(heat["z"]), H, rtol=1e-7, atol=1e-9)
    assert heat["zmid"] == 0 and heat["zmin"] == -heat["zmax"]


def test_example_slider_changes_the_term(at):
    open_tab(at, "lg_tab", "One example")
    first = array(chart(at, "lg_kron_chart")["data"][0]["z"])
    p_first = array(chart(at, "lg_p_chart")["data"][0]["z"])
    at.slider(key="lg_example").set_value(50).run()
    second = array(chart(at, "lg_kron_chart")["data"][0]["z"])
    assert not np.allclose(first, second) and not np.allclose(p_first, array(chart(at, "lg_p_chart")["data"][0]["z"]))
    xx = array(chart(at, "lg_xx_chart")["data"][0]["z"])
    cov = array(chart(at, "lg_cov_chart")["data"][0]["z"])
    np.testing.assert_allclose(second, np.kron(cov, xx), rtol=1e-12)
    assert any("is not defined" in tex.value for tex in at.latex)


def test_null_space_numbers(at):
    open_tab(at, "lg_tab", "Null space")
    assert metric(at, "L(ŵ)") == metric(at, "L(ŵ + [u;…;u])")
    assert float(metric(at, "|H[u;…;u]| / (λmax |[u;…;u]|)")) < 1e-12
    assert metric(at, "zero eigenvalues of H") == "3 (D = 3)"
    assert any("positive definite" in m.value for m in at.markdown)


def test_reference_class_changes_p_and_the_blocks(at):
    at.sidebar.radio(key="lg_reference").set_value(True).run()
    assert metric(at, "weights P") == "2·3 = 6" and not at.exception
    assert verticals(chart(at, "lg_hessian_chart")) == [-0.5, 2.5, 5.5]
    open_tab(at, "lg_tab", "Böhning bound")
    assert float(metric(at, "smallest eigenvalue of B − H (≥ 0: the bound holds)")) > 0


def test_separable_data_without_penalty_warn_instead_of_failing(at):
    at.sidebar.selectbox(key="lg_dataset").set_value("wine").run()
    at.sidebar.select_slider(key="lg_l2").set_value(0.0).run()
    assert not at.exception and any("separable" in w.value for w in at.warning)


def test_two_weight_landscape(at):
    open_tab(at, "lg_tab", "Two weights")
    before = metric(at, "ŵ = (w, b)")
    spec = chart(at, "lg_landscape_chart")
    z = array(spec["data"][0]["z"])
    assert z.shape == (61, 61) and spec["layout"]["yaxis"]["scaleanchor"] == "x"
    at.selectbox(key="lg_positive").set_value(1).run()
    assert metric(at, "ŵ = (w, b)") != before and not at.exception
