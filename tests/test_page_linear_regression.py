"""AppTest for the linear-regression page: every basis and every tab renders, the three failure modes
show their explanation (never a traceback), ridge is the way out, bad typed points get a line-numbered
message, widgets change the numbers shown, and the Hessian heatmap is 2ΦᵀΦ of the data on screen."""

from __future__ import annotations

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from apptest_support import array, chart, metric, open_app, open_tab
from hessian_explorer.datasets import generate_regression

PAGE = "pages/5_linear_regression.py"
TABS = ["Φ and θ̂", "A minimum?", "H ignores θ, y", "When it fails", "Landscape", "Exercise"]


@pytest.fixture
def at() -> AppTest:
    app = open_app(page=PAGE)
    assert not app.exception
    return app


def test_default_page_shows_the_fit_and_h_equals_2_phit_phi(at):
    data = generate_regression("sine", n=20, noise=0.2, seed=0)  # the page's defaults
    Phi = np.vander(data.x, 4, increasing=True)  # independent of the core's feature code
    heat = chart(at, "lr_hessian_chart")["data"][0]
    np.testing.assert_allclose(array(heat["z"]), 2 * Phi.T @ Phi, rtol=1e-12)
    assert heat["zmid"] == 0 and heat["zmin"] == -heat["zmax"]
    np.testing.assert_allclose(array(chart(at, "lr_fit_chart")["data"][-1]["y"]), data.y)
    assert metric(at, "Φ is N × P") == "20 × 4" and metric(at, "rank of Φ") == "4 of 4"
    assert float(metric(at, "smallest λ of H")) == pytest.approx(np.linalg.eigvalsh(2 * Phi.T @ Phi)[0], 1e-3)
    assert at.success and not at.error


@pytest.fixture(scope="module", params=[("polynomial", "20 × 4"), ("rbf", "20 × 6"), ("fourier", "20 × 5")],
                ids=["polynomial", "rbf", "fourier"])
def per_basis(request) -> tuple[AppTest, str]:
    """One app per basis, shared by the tab tests (each only opens a tab and reads)."""
    app = open_app(page=PAGE)
    app.sidebar.selectbox(key="lr_basis").set_value(request.param[0]).run()
    return app, request.param[1]


@pytest.mark.parametrize("tab", TABS)
def test_every_tab_renders_for_every_basis(per_basis, tab):
    app, size = per_basis
    open_tab(app, "lr_tab", tab)
    assert not app.exception and not app.error and metric(app, "Φ is N × P") == size


@pytest.mark.parametrize("button, cause, meaning", [
    ("lr_try_fewer", "fewer data points (N=4) than basis functions (P=7)", "equations for P = 7 unknowns"),
    ("lr_try_repeated", "repeated x values", "Equal x values give equal rows"),
    ("lr_try_high", "ill-conditioned", "rounding"),
])
def test_failure_modes_explain_themselves(at, button, cause, meaning):
    open_tab(at, "lr_tab", "When it fails")
    at.button(key=button).click().run()
    assert not at.exception
    assert any(cause in e.value for e in at.error) and any(meaning in i.value for i in at.info)
    assert metric(at, "smallest λ of H") == "0"
    names = [t.get("name", "") for t in chart(at, "lr_fit_chart")["data"]]
    assert "minimum-norm minimiser" in names


def test_ridge_is_the_way_out_and_changes_the_numbers(at):
    open_tab(at, "lr_tab", "When it fails")
    at.button(key="lr_try_repeated").click().run()
    at.sidebar.select_slider(key="lr_ridge").set_value(0.1).run()
    assert not at.exception and not at.error and at.success
    assert float(metric(at, "smallest λ of H")) >= 0.2
    heat = chart(at, "lr_hessian_chart")["data"][0]
    z = array(heat["z"])
    assert np.diag(z)[0] == pytest.approx(2 * 4 + 0.2)  # 2 ΦᵀΦ + 2λI with four points


def test_degree_changes_the_shape_and_the_hessian(at):
    before = chart(at, "lr_hessian_chart")
    at.sidebar.slider(key="lr_degree").set_value(6).run()
    assert metric(at, "Φ is N × P") == "20 × 7"
    assert array(chart(at, "lr_hessian_chart")["data"][0]["z"]).shape == (7, 7) != array(before["data"][0]["z"]).shape


def test_typed_points_errors_are_line_numbered_and_the_page_keeps_working(at):
    at.sidebar.radio(key="lr_source").set_value("Type points").run()
    at.sidebar.text_area(key="lr_points").set_value("0, 1\n1, 2\n2, oops\n3, 4").run()
    assert not at.exception
    assert "line 3" in at.sidebar.error[0].value and "oops" in at.sidebar.error[0].value
    assert metric(at, "Φ is N × P") == "6 × 4"  # the last valid points: the default six
    at.sidebar.text_area(key="lr_points").set_value("\n".join(f"{k}, {k}" for k in range(201))).run()
    assert "at most 200" in at.sidebar.error[0].value and not at.exception


def test_landscape_is_the_loss_and_the_angle_changes_the_curvature(at):
    open_tab(at, "lr_tab", "Landscape")
    first = [c.value for c in at.caption if "v̂ᵀHv̂" in c.value]
    at.slider(key="lr_angle").set_value(120).run()
    second = [c.value for c in at.caption if "v̂ᵀHv̂" in c.value]
    assert first and second and first != second
    spec = chart(at, "lr_landscape_chart")
    contour = spec["data"][0]
    z, a, b = array(contour["z"]), array(contour["x"]), array(contour["y"])
    data = generate_regression("sine", n=20, noise=0.2, seed=0)
    Phi = np.vander(data.x, 4, increasing=True)
    theta = np.linalg.lstsq(Phi, data.y, rcond=None)[0]
    probe = theta.copy()
    probe[0], probe[1] = a[5], b[40]
    assert z[40, 5] == pytest.approx(np.sum((Phi @ probe - data.y) ** 2), rel=1e-9)


def test_independence_demo_redraws_the_gradient_not_the_hessian(at):
    open_tab(at, "lr_tab", "H ignores θ, y")
    before = metric(at, "|∇L| at random θ, new y")
    at.button(key="lr_redraw").click().run()
    assert metric(at, "|∇L| at random θ, new y") != before
    assert float(metric(at, "largest difference (relative)")) < 1e-12


def test_worked_exercise_fails_with_repeated_x(at):
    open_tab(at, "lr_tab", "Exercise")
    assert any("y = 1 + 0·x + 1·x²" in m.value for m in at.markdown)
    at.number_input(key="lr_ex_x2").set_value(-1.0).run()
    assert not at.exception and any("the formula fails" in m.value for m in at.markdown)
    assert any(r"\det \Phi" in tex.value and "= 0," in tex.value for tex in at.latex)


def test_presentation_mode_uses_the_large_theme(at):
    at.sidebar.toggle(key="presentation").set_value(True).run()
    assert chart(at, "lr_fit_chart")["layout"]["font"]["size"] == 22 and not at.exception
