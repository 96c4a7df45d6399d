"""AppTest for the misconception page: every preset renders; the heatmaps carry the core's H and
∇f∇fᵀ on one colour scale; each counterexample button switches the function; the point, the
angle and the damping change what is shown; only the open tab (entries, curvature, Newton) is run
and drawn; typed 3- and 1-variable functions and points outside the domain are handled."""

from __future__ import annotations

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from apptest_support import array, assert_clean, chart_keys, chart_specs, charts_on, open_app, open_tab
from hessian_explorer import parse_function
from hessian_explorer.figures.misconception import newton_sentence
from hessian_explorer.misconception import COUNTEREXAMPLES, newton_runs
from hessian_explorer.presets import PRESETS, get_preset

PAGE = "pages/4_misconception.py"
ENTRIES, CURVATURE, NEWTON = "Entry by entry, in symbols", "Curvature in every direction", "Newton's method with each"


@pytest.fixture(scope="module", autouse=True)
def _warm_formula_sandbox() -> None:
    """Typed formulas are checked in a forked worker under a time limit; start its server first,
    so a busy test machine does not refuse the first formula."""
    try:
        from hessian_explorer.sandbox import checked_parse_function
    except ImportError:  # no sandbox: nothing to warm
        return
    checked_parse_function("x", limit=60)


def open_page() -> AppTest:
    app = open_app(page=PAGE)
    assert not app.exception
    return app


@pytest.fixture(scope="module")
def shared() -> AppTest:
    """One session for the tests that set the whole view themselves (a preset or a button)."""
    return open_page()


@pytest.fixture
def at() -> AppTest:
    """A fresh session, for tests that also change other widgets (angle, damping, point)."""
    return open_page()


def matrix_pair(app: AppTest) -> tuple[np.ndarray, np.ndarray, dict]:
    """The shared-scale heatmap pair: (H, ∇f∇fᵀ, its coloraxis)."""
    (spec,) = [s for s in chart_specs(app) if "coloraxis" in s["layout"]]
    h, o = (array(t["z"]) for t in spec["data"] if t["type"] == "heatmap")
    return h, o, spec["layout"]["coloraxis"]


def page_text(app: AppTest) -> str:
    return "\n".join(m.value for m in app.markdown)


def point(app: AppTest, n: int) -> np.ndarray:
    return np.array([app.session_state[f"x0_{i}"] for i in range(n)])  # held-fixed ones are sliders


@pytest.mark.parametrize("key", [p.key for p in PRESETS])
def test_every_preset_renders_with_the_cores_matrices(shared, key):
    at = shared
    at.sidebar.selectbox(key="preset").set_value(key).run()
    assert_clean(at)
    preset = get_preset(key)
    f = parse_function(preset.text, preset.variables)
    h, o, axis = matrix_pair(at)
    np.testing.assert_allclose(h, f.hessian(preset.point), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(o, f.gradient_outer(preset.point), rtol=1e-12, atol=1e-12)
    assert axis["cmid"] == 0 and axis["cmin"] == -axis["cmax"]
    assert chart_keys(at) == ["mis_pair", "mis_diff"]  # the first tab shows the entries
    assert [el for el in at.latex if r"\begin{array}" in el.value]
    for tab, key in ((CURVATURE, "mis_rose"), (NEWTON, "mis_newton")):
        open_tab(at, "mis_tab", tab)
        assert_clean(at)
        assert chart_keys(at) == ["mis_pair", "mis_diff", key]
    assert sum("**Newton with" in m.value for m in at.markdown) == 2
    open_tab(at, "mis_tab", ENTRIES)


def test_only_the_open_tab_runs(at):
    """A first visit draws the two heatmaps and the entries; the curvature and Newton tabs run
    (and draw their charts) only when opened, and each keeps its controls."""
    assert at.session_state["mis_tab"] == ENTRIES
    assert len(charts_on(at)) == 2 and "damping" not in [el.key for el in at.slider]
    assert not [m for m in at.markdown if m.value.startswith("**Newton with")]
    open_tab(at, "mis_tab", NEWTON)
    assert not [el for el in at.latex if r"\begin{array}" in el.value]
    at.slider(key="damping").set_value(0.5).run()
    assert at.session_state["mis_tab"] == NEWTON and at.slider(key="damping").value == 0.5
    assert len([m for m in at.markdown if m.value.startswith("**Newton with")]) == 2
    open_tab(at, "mis_tab", CURVATURE)
    assert not [m for m in at.markdown if m.value.startswith("**Newton with")]
    assert any(m.value.startswith("Along the sidebar's direction v̂") for m in at.markdown)
    open_tab(at, "mis_tab", NEWTON)  # the damping was kept while its tab was closed
    assert_clean(at)
    assert at.slider(key="damping").value == 0.5
    view = at.session_state["_view"]
    sentences = [m.value for m in at.markdown if m.value.startswith("**Newton with")]
    assert sentences == [newton_sentence(run) for run in newton_runs(view.function, view.plane, 0.5)]
    assert sentences != [newton_sentence(run) for run in newton_runs(view.function, view.plane, 0.1)]


@pytest.mark.parametrize("example", COUNTEREXAMPLES, ids=lambda c: c.key)
def test_each_counterexample_button_switches_the_function(shared, example):
    at = shared
    at.sidebar.selectbox(key="preset").set_value("rosenbrock").run()
    before = matrix_pair(at)
    at.button(key=f"cx_{example.key}").click().run()
    assert_clean(at)
    preset = get_preset(example.key)
    assert at.sidebar.selectbox(key="preset").value == example.key
    x0 = point(at, 2)
    np.testing.assert_allclose(x0, example.point or preset.point)
    f = parse_function(preset.text, preset.variables)
    h, o, _ = matrix_pair(at)
    np.testing.assert_allclose(h, f.hessian(x0), atol=1e-12)
    np.testing.assert_allclose(o, f.gradient_outer(x0), atol=1e-12)
    assert not np.allclose(h, before[0]) or not np.allclose(o, before[1])
    assert example.explanation in [c.value for c in at.caption]
    assert at.button(key=f"cx_{example.key}").proto.type == "primary"
    agree = example.key in ("neglog", "exp_sum")  # both start where H = ∇f∇fᵀ
    assert any("Here H = ∇f∇fᵀ" in s.value for s in at.success) == agree
    assert any("Here H ≠ ∇f∇fᵀ" in i.value for i in at.info) == (not agree)


def test_the_minimum_shows_a_zero_outer_product_of_rank_zero(shared):
    at = shared
    at.button(key="cx_bowl").click().run()
    h, o, _ = matrix_pair(at)
    np.testing.assert_array_equal(h, 2 * np.eye(2))
    np.testing.assert_array_equal(o, np.zeros((2, 2)))
    text = page_text(at)
    assert "| **∇f∇fᵀ** | 0, 0 | 0 | zero |" in text and "| **H** | 2, 2 | 2 | positive definite |" in text
    assert any("critical point" in i.value for i in at.info)
    assert any("tol = 1e-09" in c.value for c in at.caption)  # the rank tolerance is on screen


def test_changing_the_point_changes_the_numbers(at):
    at.button(key="cx_bowl").click().run()
    text = page_text(at)
    at.sidebar.number_input(key="x0_0").set_value(0.3).run()
    assert_clean(at)
    _, o, _ = matrix_pair(at)
    np.testing.assert_allclose(o, [[0.36, 0.0], [0.0, 0.0]], atol=1e-12)
    assert page_text(at) != text and "| **∇f∇fᵀ** | 0, 0.36 | 1 | positive semidefinite |" in page_text(at)


def test_the_angle_moves_the_marker_and_the_directional_numbers(at):
    at.button(key="cx_saddle").click().run()
    open_tab(at, "mis_tab", CURVATURE)
    at.sidebar.slider(key="angle").set_value(90.0).run()
    assert_clean(at)
    text = page_text(at)
    assert "**v̂ᵀHv̂ = -2**" in text and "**(∇f·v̂)² = 1**" in text  # ∇f = (1, −1) at (0.5, 0.5)
    rose = next(s for s in chart_specs(at) if s["layout"].get("xaxis", {}).get("range") == [0, 360])
    markers = [t for t in rose["data"] if t.get("mode") == "markers"]
    assert [array(t["x"])[0] for t in markers] == [90.0, 90.0]


def test_damping_zero_makes_the_outer_product_step_undefined(at):
    at.button(key="cx_saddle").click().run()
    open_tab(at, "mis_tab", NEWTON)
    at.slider(key="damping").set_value(0.0).run()
    assert_clean(at)
    sentences = [m.value for m in at.markdown if m.value.startswith("**Newton with")]
    assert "converged in 1 step to a saddle point at (0, 0)" in sentences[0]
    assert "∇f∇fᵀ is singular" in sentences[1]
    newton = next(s for s in chart_specs(at) if any(t.get("name") == "Newton with H" for t in s["data"]))
    path = next(t for t in newton["data"] if t.get("name") == "Newton with H")
    np.testing.assert_allclose(array(path["x"])[:2], [0.5, 0.0], atol=1e-12)


def test_typed_three_and_one_variable_functions(at):
    at.sidebar.radio(key="source").set_value("Type your own").run()
    at.sidebar.text_input(key="fn_text").set_value("x^2 + y^2 z").run()
    assert_clean(at)
    h, o, _ = matrix_pair(at)
    f = parse_function("x^2 + y^2 z")
    np.testing.assert_allclose(h, f.hessian(point(at, 3)))
    np.testing.assert_allclose(o, f.gradient_outer(point(at, 3)))
    (table,) = [el.value for el in at.latex if r"\begin{array}" in el.value]
    assert table.count(r"\\[12pt]") == 5  # six entries of the upper triangle
    assert r"\frac{\partial f}{\partial y}\cdot\frac{\partial f}{\partial z}" in table
    at.sidebar.text_input(key="fn_text").set_value("x^3").run()  # one variable: no plane, matrices only
    assert_clean(at)
    h, o, _ = matrix_pair(at)
    assert h.shape == (1, 1) and h[0, 0] == pytest.approx(3.0) and o[0, 0] == pytest.approx(0.5625)
    for tab in (CURVATURE, NEWTON):
        open_tab(at, "mis_tab", tab)
        assert_clean(at)
        assert len(charts_on(at)) == 2
        assert any("two or more variables" in i.value for i in at.info)


def test_a_point_outside_the_domain_is_explained(at):
    at.button(key="cx_neglog").click().run()
    at.sidebar.number_input(key="x0_0").set_value(0.8).run()
    at.sidebar.number_input(key="x0_1").set_value(0.8).run()
    assert not at.exception
    assert any("undefined at x₀" in w.value for w in at.warning)
    assert "The grain of truth" in [h.value for h in at.subheader]
