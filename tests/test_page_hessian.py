"""AppTest: the Hessian page renders every preset and typed functions of 1 to 10 variables, shows
the core's numbers, reacts to its widgets, runs only the open tab of its two maps, and its Python
snippet reproduces what it shows."""

from __future__ import annotations

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from apptest_support import array, assert_clean, chart_specs, first_metric, open_app, open_tab, tables, type_function
from hessian_explorer import parse_function
from hessian_explorer.export import python_snippet
from hessian_explorer.figures.hessian import CURVATURE_STYLE, MODEL_NAME, NEIGHBOURHOOD_NAME
from hessian_explorer.figures.style import fmt
from hessian_explorer.presets import PRESETS, get_preset

PAGE = "pages/2_hessian.py"
MODEL_TAB, TYPES_TAB = "The local quadratic model q near x₀", "Where f is convex, concave or saddle-shaped"


@pytest.fixture(scope="module", autouse=True)
def _warm_sandbox() -> None:
    """Typed formulas are first checked in a worker process under a time limit; start its fork
    server once here so the first typed formula is not charged the server's start-up time."""
    from hessian_explorer.sandbox import checked_parse_function

    checked_parse_function("x")


def open_page(query: dict | None = None, expanders: bool = True) -> AppTest:
    """The page, with its formulas and Export expanders opened (collapsed, they run none of their
    contents)."""
    at = open_app(query, PAGE)
    if expanders:
        for key in ("hess_symbols", "hess_export"):
            open_tab(at, key, True)
    return at


def test_the_export_runs_only_when_opened():
    at = open_page({"p": "bowl"}, expanders=False)
    assert not at.code and not at.get("download_button")
    assert [e.label for e in at.expander if e.label.startswith("Export")]
    open_tab(at, "hess_export", True)
    assert_clean(at)
    assert len(at.code) == 3 and len(at.get("download_button")) == 2


def test_the_formulas_are_drawn_only_when_opened():
    """No LaTeX on arrival (a first visit then loads no KaTeX); opened, ∇f and H in symbols."""
    at = open_page({"p": "rosenbrock"}, expanders=False)
    assert not at.latex and [e.label for e in at.expander if e.label == "∇f and H in symbols"]
    assert any("q(x₀ + d) = f(x₀) + ∇f(x₀)ᵀd + ½ dᵀH(x₀)d" in m.value for m in at.markdown)
    open_tab(at, "hess_symbols", True)
    assert_clean(at)
    f = parse_function("(1 - x)^2 + 100(y - x^2)^2", ("x", "y"))
    shown = [el.value.strip("$\n") for el in at.latex]  # st.latex wraps its body in $$ … $$
    assert shown == [rf"\nabla f = {f.gradient_latex}", f"H = {f.hessian_latex}"]
    assert r"\left[\begin{matrix}1200 x^{2} - 400 y + 2 & - 400 x" in shown[1]  # H of Rosenbrock, by hand


def heatmap(at: AppTest) -> dict:
    return next(t for t in chart_specs(at)[0]["data"] if t["type"] == "heatmap")


def model_x(at: AppTest) -> np.ndarray:
    """x of the neighbourhood's outline, where q's lines are drawn (there must be some)."""
    data = chart_specs(at)[1]["data"]
    assert np.isfinite(array(next(t for t in data if t.get("name") == MODEL_NAME)["x"])).sum() > 10
    return array(next(t for t in data if t.get("name") == NEIGHBOURHOOD_NAME)["x"])


def snippet(at: AppTest) -> str:
    return next(c.value for c in at.code if c.value.startswith("# Recompute"))


def run_snippet(code: str) -> dict:
    namespace: dict = {}
    exec(compile(code, "<snippet>", "exec"), namespace)  # tests only
    return namespace


@pytest.mark.parametrize("key", [p.key for p in PRESETS])
def test_every_preset_shows_the_cores_numbers(key):
    at = open_page({"p": key})
    assert_clean(at)
    preset = get_preset(key)
    f = parse_function(preset.text, preset.variables)
    analysis = f.analyze(preset.point)
    heat = heatmap(at)
    np.testing.assert_array_equal(array(heat["z"]), f.hessian(preset.point))
    assert heat["zmid"] == 0 and heat["zmin"] == -heat["zmax"]
    assert first_metric(at, "f at x₀") == fmt(analysis.value)
    assert first_metric(at, "det H") == fmt(analysis.determinant)
    assert any(f"verdict: {analysis.verdict}" in m.value for m in at.markdown)
    assert len(chart_specs(at)) == 2  # the heatmap and the open tab's map, the quadratic model
    assert len(tables(at)[0]) == f.n
    assert any(f"H = {f.hessian_latex}" in el.value for el in at.latex)
    assert snippet(at) == python_snippet(preset.text, preset.variables, preset.point)


def test_moving_the_point_changes_every_number():
    at = open_page({"p": "rosenbrock"})
    before = (first_metric(at, "f at x₀"), array(heatmap(at)["z"]), snippet(at))
    at.sidebar.number_input(key="x0_0").set_value(0.3).run()
    assert_clean(at)
    x, y = 0.3, 1.0
    assert first_metric(at, "f at x₀") == fmt((1 - x) ** 2 + 100 * (y - x * x) ** 2) != before[0]
    closed_form = [[2 - 400 * (y - x * x) + 800 * x * x, -400 * x], [-400 * x, 200.0]]
    np.testing.assert_allclose(array(heatmap(at)["z"]), closed_form, rtol=1e-12)
    assert "x0 = [0.3, 1.0]" in snippet(at) != before[2]
    assert model_x(at).min() < 0.3 < model_x(at).max()  # the model moved with x₀


def test_at_the_minimum_the_test_applies():
    at = open_page({"p": "rosenbrock", "x0": "1,1"})
    assert_clean(at)
    np.testing.assert_array_equal(array(heatmap(at)["z"]), [[802.0, -400.0], [-400.0, 200.0]])
    assert any("verdict: local minimum" in m.value for m in at.markdown)
    assert any("x₀ is a local minimum" in m.value for m in at.markdown)


def test_neighbourhood_slider_resizes_the_model():
    at = open_page({"p": "saddle"})
    width = np.ptp(model_x(at))
    at.slider(key="hess_neighbourhood").set_value(0.4).run()
    assert_clean(at)
    assert np.ptp(model_x(at)) == pytest.approx(2 * width)


def test_only_the_open_map_tab_runs():
    """On arrival the quadratic model's tab is open (its map and slider); the curvature-type map is
    drawn when its tab is opened, in place of the model, and the slider keeps its value."""
    at = open_page({"p": "saddle"})
    assert at.session_state["hess_map_tab"] == MODEL_TAB
    at.slider(key="hess_neighbourhood").set_value(0.3).run()
    open_tab(at, "hess_map_tab", TYPES_TAB)
    assert_clean(at)
    heat, types = chart_specs(at)
    assert heat["data"][0]["type"] == "heatmap" and "hess_neighbourhood" not in [s.key for s in at.slider]
    assert types["layout"]["title"]["text"].startswith("Curvature type")
    saddle = CURVATURE_STYLE[next(k for k in CURVATURE_STYLE if k.name == "SADDLE")][0]
    assert set(np.asarray(types["data"][0]["customdata"]).ravel()) == {saddle}  # x² − y²: a saddle everywhere
    open_tab(at, "hess_map_tab", MODEL_TAB)
    assert_clean(at)
    assert at.slider(key="hess_neighbourhood").value == 0.3 and len(chart_specs(at)) == 2


def test_full_precision_toggle_writes_every_digit():
    at = open_page({"p": "bowl", "x0": "0.1,0.2"})
    outer = parse_function("x^2 + y^2").gradient_outer([0.1, 0.2])  # [[0.04.., 0.08..], ...]
    assert "0.08" in at.code[1].value and repr(float(outer[0, 1])) not in at.code[1].value
    at.toggle(key="hess_full_precision").set_value(True).run()
    assert_clean(at)
    assert repr(float(outer[0, 1])) in at.code[1].value
    assert [b.key for b in at.get("download_button")] == ["hess_dl_hessian", "hess_dl_outer"]


def test_typed_three_variables_use_the_full_matrix_and_say_the_maps_are_a_slice():
    at = type_function(open_page(), "x^2 + y^2 z")
    assert_clean(at)
    point = [at.sidebar.number_input(key=f"x0_{i}").value for i in range(2)] + [at.sidebar.slider(key="x0_2").value]
    x, y, z = point
    np.testing.assert_allclose(array(heatmap(at)["z"]), [[2, 0, 0], [0, 2 * z, 2 * y], [0, 2 * y, 0]], rtol=1e-12)
    assert any("2×2 block of H for (x, y)" in i.value for i in at.info)
    assert len(tables(at)[0]) == 3 and len(chart_specs(at)) == 2


def test_one_variable_shows_the_matrix_without_maps():
    at = type_function(open_page(), "x^3")
    assert_clean(at)
    x = at.sidebar.number_input(key="x0_0").value
    assert array(heatmap(at)["z"]).tolist() == [[6 * x]]
    assert len(chart_specs(at)) == 1 and any("need two variables" in i.value for i in at.info)


def test_ten_variables():
    names = [f"x{i}" for i in range(10)]
    at = type_function(open_page(), " + ".join(f"{n}^2" for n in names) + " + x0 x9")
    assert_clean(at)
    expected = 2 * np.eye(10)
    expected[0, 9] = expected[9, 0] = 1.0
    np.testing.assert_array_equal(array(heatmap(at)["z"]), expected)
    assert len(tables(at)[0]) == 10


def test_snippet_for_a_hostile_typed_formula_reproduces_the_heatmap():
    text = "\\frac{\\theta^2}{\\nu}\n + \\xi \\cdot \\rho"
    at = type_function(open_page(), text)
    assert_clean(at)
    ns = run_snippet(snippet(at))
    assert ns["f"].text == text
    np.testing.assert_array_equal(ns["H"], array(heatmap(at)["z"]))


def test_undefined_point_is_explained_not_an_error():
    at = open_page({"p": "neglog", "x0": "0.5,0.8"})  # log of 1 - x - y < 0
    assert_clean(at)
    assert any("undefined at x₀" in m.value for m in at.markdown)
    assert first_metric(at, "f at x₀") == "undefined"
