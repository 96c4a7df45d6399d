"""AppTest: the landscape page and the behaviour every function page shares (sidebar, URL state)."""

from __future__ import annotations

import numpy as np
import pytest

from apptest_support import (assert_no_exception, chart, chart_keys, chart_specs, drawn_by_bundle, first_metric, open_app,
                             open_tab, tables)
from hessian_explorer import parse_function
from hessian_explorer.presets import PRESETS


@pytest.mark.parametrize("key", [p.key for p in PRESETS])
def test_landscape_renders_every_preset(key):
    at = open_app({"p": key})
    assert_no_exception(at)
    preset = next(p for p in PRESETS if p.key == key)
    f = parse_function(preset.text, preset.variables)
    assert first_metric(at, "f at x₀") == _fmt(f.value(preset.point))
    specs = chart_specs(at)
    assert len(specs) == 1  # the map; the 3-D view is drawn when its tab is opened
    contour = next(t for t in specs[0]["data"] if t["type"] == "contour")
    assert contour["colorscale"] is not None
    open_tab(at, "ls_tab", "3-D surface")
    assert_no_exception(at)
    surface = chart(at, "landscape_surface")
    assert [t["type"] for t in surface["data"]].count("surface") == 2  # f and the tangent plane


def test_the_critical_points_tab_lists_every_marker_of_the_map():
    at = open_app({"p": "himmelblau"})
    (rows,) = tables(at)
    assert len(rows) == 9 == int(first_metric(at, "critical points in range"))
    assert sorted(r[3] for r in rows) == ["maximum"] + ["minimum"] * 4 + ["saddle"] * 4
    assert ["−3\\.77931", "−3\\.28319"] in [r[:2] for r in rows]  # one of the four minima, 6 digits
    assert chart_keys(at) == ["landscape_map"] and drawn_by_bundle(at, "landscape_map")


def test_a_function_without_critical_points_says_so():
    at = open_app({"p": "linear"})
    assert any("No critical point" in i.value for i in at.info)


def _fmt(x) -> str:
    from hessian_explorer.figures.style import fmt

    return fmt(float(x))


def test_changing_the_point_changes_the_numbers():
    at = open_app({"p": "bowl"})
    before = first_metric(at, "f at x₀")
    at.sidebar.number_input(key="x0_0").set_value(0.0).run()
    at.sidebar.number_input(key="x0_1").set_value(0.0).run()
    assert_no_exception(at)
    assert first_metric(at, "f at x₀") == "0" != before


def test_switching_preset_moves_to_its_point():
    at = open_app()
    at.sidebar.selectbox(key="preset").set_value("himmelblau").run()
    assert_no_exception(at)
    assert at.sidebar.number_input(key="x0_0").value == 0.0
    assert first_metric(at, "critical points in range") == "9"


def test_typed_function_and_refusal_keeps_last_valid():
    at = open_app()
    at.sidebar.radio(key="source").set_value("Type your own").run()
    at.sidebar.text_input(key="fn_text").set_value("x^2 + 3y^2").run()
    assert_no_exception(at)
    good = first_metric(at, "f at x₀")
    x, y = (at.sidebar.number_input(key=f"x0_{i}").value for i in (0, 1))  # same variables: point kept
    assert good == _fmt(x**2 + 3 * y**2)
    at.sidebar.text_input(key="fn_text").set_value("__import__('os').system('echo hi')").run()
    assert_no_exception(at)
    assert any("Not accepted" in e.value for e in at.sidebar.error)
    assert first_metric(at, "f at x₀") == good


def test_three_variables_plot_a_slice():
    at = open_app()
    at.sidebar.radio(key="source").set_value("Type your own").run()
    at.sidebar.text_input(key="fn_text").set_value("x^2 + y^2 z").run()
    assert_no_exception(at)
    assert at.sidebar.selectbox(key="ax_x").value == 0
    at.sidebar.selectbox(key="ax_y").set_value(2).run()
    assert_no_exception(at)
    assert [s.label for s in at.sidebar.slider if "held fixed" in s.label] == ["y (held fixed)"]


def test_query_string_round_trips():
    at = open_app({"p": "saddle", "x0": "0.25,-0.75", "xr": "-3.0,3.0", "a": "30.0"})
    assert_no_exception(at)
    assert first_metric(at, "f at x₀") == "-0.5"
    assert at.query_params["x0"] == ["0.25,-0.75"] or at.query_params["x0"] == "0.25,-0.75"
    again = open_app({k: (v[0] if isinstance(v, list) else v) for k, v in at.query_params.items()})
    assert_no_exception(again)
    assert first_metric(again, "f at x₀") == "-0.5"
    assert again.session_state["_view"].angle == 30.0  # kept on a page that does not draw v
    open_tab(again, "plot_range", True)
    assert again.sidebar.number_input(key="xr_lo").value == -3.0
    again.switch_page("pages/3_curvature.py").run()
    assert again.sidebar.slider(key="angle").value == 30.0


@pytest.mark.parametrize("query", [
    {"f": "__import__('os')"}, {"p": "nope"}, {"x0": "1,2,3"}, {"xr": "5,1"}, {"d": "1e9"},
    {"a": "nan"}, {"x0": "inf,0"}, {"ax": "0,0"}, {"f": "x" * 5000}, {"v": "0,0"},
])
def test_hostile_query_strings_are_refused_politely(query):
    at = open_app(query)
    assert_no_exception(at)
    assert at.warning, "a refused link field must be explained"
    assert first_metric(at, "f at x₀")


def test_inverted_range_keeps_previous_range():
    at = open_app({"p": "bowl"})
    before = at.session_state["_view"].plane.x_range
    open_tab(at, "plot_range", True)
    at.sidebar.number_input(key="xr_lo").set_value(3.0).run()
    assert_no_exception(at)
    assert any("range" in e.value for e in at.sidebar.error)
    assert at.session_state["_view"].plane.x_range == before
    contour = next(t for t in chart_specs(at)[0]["data"] if t["type"] == "contour")
    assert contour["x"] is not None
    open_tab(at, "plot_range", False)  # closed, the message stays in view
    assert any("range" in e.value for e in at.sidebar.error)


def test_plot_range_is_drawn_when_opened_and_kept_when_closed():
    at = open_app({"p": "bowl"})
    assert "xr_lo" not in [w.key for w in at.sidebar.number_input]
    assert [e.label for e in at.sidebar.expander if e.label == "Plot range"]
    open_tab(at, "plot_range", True)
    at.sidebar.number_input(key="xr_hi").set_value(5.0).run()
    at.sidebar.slider(key="density").set_value(40).run()
    open_tab(at, "plot_range", False)
    assert_no_exception(at)
    assert "xr_hi" not in [w.key for w in at.sidebar.number_input]
    plane = at.session_state["_view"].plane
    assert (plane.x_range, plane.density) == ((-2.0, 5.0), 40)
    at.switch_page("pages/2_hessian.py").run()
    assert at.session_state["_view"].plane.x_range == (-2.0, 5.0)


def test_snap_to_critical_point():
    at = open_app({"p": "double_well", "x0": "0.8,0.3"})
    at.sidebar.button(key="snap").click().run()
    assert_no_exception(at)
    x = at.sidebar.number_input(key="x0_0").value
    y = at.sidebar.number_input(key="x0_1").value
    assert np.allclose([x, y], [1.0, 0.0], atol=1e-9)


def test_direction_is_drawn_only_where_v_is_used():
    at = open_app({"p": "elongated", "a": "45.0"})
    for page, drawn in (("pages/1_landscape.py", False), ("pages/2_hessian.py", False),
                        ("pages/3_curvature.py", True), ("pages/4_misconception.py", True)):
        at.switch_page(page).run()
        assert_no_exception(at)
        assert bool([s for s in at.sidebar.slider if s.key == "angle"]) is drawn, page
        assert bool([b for b in at.sidebar.button if b.key == "dir_grad"]) is drawn, page
        assert at.session_state["_view"].angle == 45.0
        assert at.session_state["_view"].direction == pytest.approx([np.sqrt(0.5), np.sqrt(0.5)])


def test_direction_buttons_set_the_angle():
    at = open_app({"p": "elongated", "x0": "1.0,1.0"}, page="pages/3_curvature.py")
    at.sidebar.button(key="dir_eig2").click().run()
    assert_no_exception(at)
    assert at.sidebar.slider(key="angle").value in (90.0, 270.0)  # λ_max = 20 along y
    at.sidebar.button(key="dir_grad").click().run()
    g = np.array([2.0, 20.0])
    assert at.sidebar.slider(key="angle").value == pytest.approx(np.degrees(np.arctan2(g[1], g[0])), abs=1e-9)


def test_presentation_mode_survives_preset_and_formula_changes():
    at = open_app({"p": "bowl", "pm": "1"})
    assert at.sidebar.toggle(key="presentation").value is True
    at.sidebar.selectbox(key="preset").set_value("saddle").run()
    assert at.sidebar.toggle(key="presentation").value is True
    at.sidebar.radio(key="source").set_value("Type your own").run()
    at.sidebar.text_input(key="fn_text").set_value("a^2 + b c").run()
    assert_no_exception(at)
    assert at.sidebar.toggle(key="presentation").value is True


def test_presentation_mode_stacks_the_map_above_the_tabs():
    """At presentation size the critical points table and the tab labels need the full width."""
    normal, projected = open_app({"p": "himmelblau"}), open_app({"p": "himmelblau", "pm": "1"})
    def map_columns(at):  # the [5, 4] split of the map and the tabs
        return [c for c in at.main.columns if c.proto.weight == pytest.approx(5 / 9)]

    assert map_columns(normal) and normal.tabs
    assert not map_columns(projected) and projected.tabs
    (rows,) = tables(projected)
    assert len(rows) == 9


def test_the_sidebar_formulas_are_drawn_when_opened():
    at = open_app({"p": "rosenbrock"})
    assert not at.sidebar.latex and [e.label for e in at.sidebar.expander if "in symbols" in e.label]
    open_tab(at, "fn_symbols", True)
    assert_no_exception(at)
    f = at.session_state["_view"].function
    shown = [el.value.strip("$\n") for el in at.sidebar.latex]  # st.latex wraps its body in $$ … $$
    assert shown == [f"f = {f.latex}", rf"\nabla f = {f.gradient_latex}"]
