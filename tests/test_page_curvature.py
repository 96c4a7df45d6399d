"""AppTest for the curvature page: renders for every preset, a typed 3-variable and a 1-variable
function; the angle, the point and the slice width change what is shown; charts carry the metrics; of
its two tabs (the slice, the rose) only the open one runs and draws."""

from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

from apptest_support import (array, assert_clean, chart_keys, chart_specs, charts_on, metric, open_app, open_tab,
                             type_function)
from hessian_explorer.figures.curvature import DIAL_NAME
from hessian_explorer.presets import PRESETS

PAGE = "pages/3_curvature.py"
SLICE_TAB, ROSE_TAB = "The slice: f along the line x₀ + t v̂", "All directions at once: the curvature rose"


@pytest.fixture
def at() -> AppTest:
    app = open_app(page=PAGE)
    assert not app.exception
    return app


def trace(spec: dict, prefix: str) -> dict:
    (found,) = [t for t in spec["data"] if (t.get("name") or "").startswith(prefix)]
    return found


@pytest.mark.parametrize("key", [p.key for p in PRESETS])
def test_every_preset_renders(at, key):
    at.sidebar.selectbox(key="preset").set_value(key).run()
    assert not at.exception and not at.error
    assert at.title[0].value == "Curvature along a direction"
    assert any("v̂ = v/|v|" in m.value for m in at.markdown)
    assert chart_keys(at) == ["curv_slice", "curv_map"]  # the slice tab is open on arrival
    assert not at.main.latex  # the derivation is collapsed on arrival, and runs only when opened
    shown = {label: metric(at, label) for label in ("v̂ = v/|v|", "slope ∇f·v̂", "curvature v̂ᵀHv̂", "naive (∇f·v̂)²")}
    assert all(value not in ("", "undefined") for value in shown.values())
    open_tab(at, "curv_tab", ROSE_TAB)
    assert_clean(at)
    assert chart_keys(at) == ["curv_rose", "curv_profile"]
    assert {label: metric(at, label) for label in shown} == shown  # the summary stays above both tabs


def test_the_derivation_runs_only_when_opened_and_shows_the_numbers_at_x0(at):
    at.sidebar.selectbox(key="preset").set_value("elongated").run()
    at.sidebar.slider(key="angle").set_value(90.0).run()
    (derivation,) = [e for e in at.main.expander if e.label.startswith("Why it is v̂ᵀHv̂")]
    assert not derivation.children and not at.main.latex
    open_tab(at, "curv_derivation", True)
    assert_clean(at)
    steps = [el.value.strip("$\n") for el in at.main.latex]
    assert len(steps) == 6 and all(el.value for el in at.main.markdown)
    assert steps[-3].startswith(r"H\hat v =") and steps[-2].endswith("= 20")  # v̂ᵀHv̂ along (0, 1)
    at.sidebar.slider(key="angle").set_value(0.0).run()  # stays open, with the new numbers
    assert_clean(at)
    assert at.main.latex[-2].value.strip("$\n").endswith("= 2")


def test_angle_changes_the_curvature_and_the_charts_agree(at):
    at.sidebar.selectbox(key="preset").set_value("elongated").run()
    at.sidebar.slider(key="angle").set_value(0.0).run()
    assert metric(at, "curvature v̂ᵀHv̂") == "2" and metric(at, "v̂ = v/|v|") == "(1, 0)"
    at.sidebar.slider(key="angle").set_value(90.0).run()
    assert not at.exception
    assert metric(at, "curvature v̂ᵀHv̂") == "20" and metric(at, "v̂ = v/|v|") == "(0, 1)"
    slice_spec, _ = chart_specs(at)
    assert "20" in trace(slice_spec, "Taylor with H")["name"]
    open_tab(at, "curv_tab", ROSE_TAB)
    assert not at.exception
    rose_spec, profile_spec = chart_specs(at)
    star = trace(profile_spec, "your v̂")
    assert array(star["x"]).tolist() == [90.0] and array(star["y"]).tolist() == [20.0]
    assert array(trace(rose_spec, "your v̂")["r"])[-1] == 20.0
    assert any("λ_max = 20" in m.value for m in at.markdown)


def test_point_changes_the_numbers(at):
    at.sidebar.selectbox(key="preset").set_value("rosenbrock").run()
    before = (metric(at, "slope ∇f·v̂"), metric(at, "curvature v̂ᵀHv̂"))
    at.sidebar.number_input(key="x0_0").set_value(0.3).run()
    assert not at.exception
    assert (metric(at, "slope ∇f·v̂"), metric(at, "curvature v̂ᵀHv̂")) != before


def test_slice_width_sets_the_t_range(at):
    at.slider(key="slice_width").set_value(2.5).run()
    assert not at.exception
    true = trace(chart_specs(at)[0], "f(x₀ + t v̂)")
    t = array(true["x"])
    assert t[0] == -2.5 and t[-1] == 2.5
    open_tab(at, "curv_tab", ROSE_TAB)  # the slider is not drawn there, and keeps its value
    assert not at.exception and not [s for s in at.slider if s.key == "slice_width"]
    open_tab(at, "curv_tab", SLICE_TAB)
    assert at.slider(key="slice_width").value == 2.5
    assert array(trace(chart_specs(at)[0], "f(x₀ + t v̂)")["x"])[-1] == 2.5


def test_typed_three_variable_function(at):
    type_function(at, "x^2 + y^2 z", check=True)
    assert chart_keys(at) == ["curv_slice", "curv_map"]
    at.sidebar.number_input(key="v_2").set_value(1.0).run()  # v leaves the plotted (x, y) plane
    assert not at.exception
    assert any("points out of the plotted" in c.value for c in at.caption)
    open_tab(at, "curv_tab", ROSE_TAB)
    assert not at.exception and chart_keys(at) == ["curv_rose", "curv_profile"]
    assert any("Your v̂ leaves this plane" in c.value for c in at.caption)


def _rose(app: AppTest) -> dict:
    (rose,) = [spec for spec in chart_specs(app) if "Rose" in spec["layout"]["title"]["text"]]
    return rose


def test_the_rose_is_a_dial_in_two_variables_only(at):
    open_tab(at, "curv_tab", ROSE_TAB)
    rose = _rose(at)
    assert "click to turn" in rose["layout"]["title"]["text"]
    assert rose["layout"]["clickmode"] == "event+select" and rose["data"][-1]["name"] == DIAL_NAME
    (chart,) = [el for el in charts_on(at) if el.proto.id.endswith("curv_rose")]
    assert chart.type == "plotly_chart" and chart.proto.selection_mode  # polar: st.plotly_chart, clicks come back
    type_function(at, "x^2 + y^2 z", check=True)  # three variables: v has its own boxes instead
    rose = _rose(at)
    assert "click" not in rose["layout"]["title"]["text"] and all(t.get("name") != DIAL_NAME for t in rose["data"])


def test_typed_one_variable_function(at):
    type_function(at, "x^3", check=True)
    assert chart_keys(at) == ["curv_slice"]  # the slice only
    assert any("one variable" in i.value for i in at.info)
    assert metric(at, "curvature v̂ᵀHv̂") == "3"  # f'' = 6x at x = 0.5
    assert metric(at, "naive (∇f·v̂)²") == "0.5625"  # (3x²)² at x = 0.5


def test_undefined_point_is_a_friendly_warning(at):
    type_function(at, "sqrt(x + y)", check=True)
    at.sidebar.number_input(key="x0_0").set_value(-1.5).run()
    assert not at.exception and not at.error
    assert any("undefined at x₀" in w.value for w in at.warning)
