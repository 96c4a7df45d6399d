"""``hessian_explorer.ui.charts``: which figures the cartesian bundle draws, and clicks read back
from either kind of chart. The drawing itself is checked in Chromium (test_browser.py)."""

from __future__ import annotations

import re
from pathlib import Path

import plotly.graph_objects as go
import pytest

from hessian_explorer.ui import charts, controls

ROOT = Path(__file__).resolve().parents[1]
BUNDLE = ROOT / "static" / "plotly-cartesian.min.js"


def test_the_bundle_is_plotly_js_cartesian_with_its_licence():
    head = BUNDLE.read_text(encoding="utf-8")[:400]
    assert re.search(r"plotly\.js \(cartesian - minified\) v4\.\d+\.\d+", head)
    assert "MIT" in (ROOT / "static" / "plotly.js-LICENSE.txt").read_text(encoding="utf-8")
    assert 'src = new URL("app/static/plotly-cartesian.min.js"' in charts.COMPONENT_JS


@pytest.mark.parametrize("fig, expected", [
    (go.Figure(go.Scatter(x=[0, 1], y=[1, 0])), True),
    (go.Figure([go.Contour(z=[[0, 1], [1, 0]]), go.Heatmap(z=[[1]]), go.Bar(y=[1])]), True),
    (go.Figure(), True),
    (go.Figure(go.Scatterpolar(r=[1, 2], theta=[0, 90])), False),  # the curvature rose
    (go.Figure([go.Contour(z=[[0, 1], [1, 0]]), go.Surface(z=[[0, 1], [1, 0]])]), False),  # the 3-D surface
])
def test_figures_with_a_trace_outside_the_bundle_go_to_st_plotly_chart(monkeypatch, fig, expected):
    monkeypatch.setattr(charts, "static_serving", lambda: True)
    assert charts.uses_bundle(fig) is expected
    monkeypatch.setattr(charts, "static_serving", lambda: False)
    assert charts.uses_bundle(fig) is False


class _State(dict):
    """What Streamlit keeps under a chart's key: a mapping with attribute access."""
    __getattr__ = dict.get


@pytest.mark.parametrize("state, expected", [
    (None, None),
    (_State(click=None), None),
    (_State(click={"x": 1.5, "y": -2.0}), {"x": 1.5, "y": -2.0}),  # the component's trigger value
    (_State(selection={"points": [{"x": 0.25, "y": 4.0, "curve_number": 3}]}), {"x": 0.25, "y": 4.0, "curve_number": 3}),
    (_State(selection={"points": []}), None),  # st.plotly_chart, nothing selected
])
def test_a_click_is_read_from_either_kind_of_chart(monkeypatch, state, expected):
    monkeypatch.setattr(charts.st, "session_state", {} if state is None else {"map": state})
    assert charts.clicked_point("map") == expected


@pytest.mark.parametrize("click, moved", [
    ({"x": 0.5, "y": -1.25}, {"x0_0": 0.5, "x0_1": -1.25}),
    ({"x": float("nan"), "y": 1.0}, {}),  # nothing usable: x₀ stays
    ({"x": True, "y": 1.0}, {}),
])
def test_a_click_on_a_map_moves_x0_to_the_point(monkeypatch, click, moved):
    session = {"map": _State(click=click)}
    monkeypatch.setattr(charts.st, "session_state", session)
    controls.on_chart_click("map", 0, 1)
    assert {k: v for k, v in session.items() if k != "map"} == moved


def test_a_click_on_the_rose_turns_v_to_the_rounded_angle(monkeypatch):
    session = {"rose": _State(selection={"points": [{"theta": 179.6, "r": 1.0}]})}
    monkeypatch.setattr(charts.st, "session_state", session)
    controls.on_dial_click("rose")
    assert session["angle"] == 180.0
