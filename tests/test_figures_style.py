"""apply_theme: the theme lands on every subplot the figure uses, extra layout is validated, data is untouched."""

from __future__ import annotations

import ast
from pathlib import Path

import numpy as np
import plotly.graph_objects as go
import plotly.io as pio
import pytest
from plotly.subplots import make_subplots

from hessian_explorer.figures.style import NORMAL, PRESENTATION, TEMPLATE, apply_theme, merge_layout

ROOT = Path(__file__).resolve().parents[1]


def _mixed_figure() -> go.Figure:
    fig = make_subplots(2, 2, specs=[[{}, {"type": "polar"}], [{"type": "scene"}, {}]])
    fig.add_trace(go.Heatmap(z=np.arange(4.0).reshape(2, 2)), 1, 1)
    fig.add_trace(go.Scatterpolar(r=[1, 2], theta=[0, 90]), 1, 2)
    fig.add_trace(go.Surface(z=np.eye(2)), 2, 1)
    fig.add_trace(go.Scatter(x=[1.0, np.nan, 2.0], y=[3.0, np.nan, 4.0]), 2, 2)
    return fig


@pytest.mark.parametrize("theme", [NORMAL, PRESENTATION], ids=lambda t: t.name)
def test_every_subplot_gets_the_theme_sizes(theme):
    fig = apply_theme(_mixed_figure(), theme, "Title", height=700)
    size = theme.font_size
    for axis in (fig.layout.xaxis, fig.layout.yaxis, fig.layout.xaxis2, fig.layout.yaxis2):
        assert axis.tickfont.size == size and axis.title.font.size == size
    for axis in (fig.layout.scene.xaxis, fig.layout.scene.yaxis, fig.layout.scene.zaxis):
        assert axis.tickfont.size == size and axis.title.font.size == size
    assert fig.layout.polar.angularaxis.tickfont.size == fig.layout.polar.radialaxis.tickfont.size == size
    assert fig.layout.font.size == size and fig.layout.title.text == "Title"
    assert fig.layout.title.font.size == theme.title_size and fig.layout.height == 700


def test_data_and_existing_layout_survive():
    before = _mixed_figure()
    before.update_xaxes(title_text="θ₀", range=[0, 1], row=1, col=1)
    after = apply_theme(before, NORMAL)
    assert len(after.data) == len(before.data)
    for a, b in zip(after.data, before.data):
        assert a.type == b.type
    np.testing.assert_array_equal(after.data[0].z, before.data[0].z)
    np.testing.assert_array_equal(after.data[3].x, [1.0, np.nan, 2.0])  # nan breaks stay
    assert after.layout.xaxis.title.text == "θ₀" and tuple(after.layout.xaxis.range) == (0, 1)
    assert after.layout.xaxis.domain == before.layout.xaxis.domain  # the subplot grid is kept


def test_extra_layout_is_merged_last_and_validated():
    fig = go.Figure(go.Heatmap(z=[[1.0, -1.0]], coloraxis="coloraxis"))
    themed = apply_theme(fig, NORMAL, layout=dict(coloraxis=dict(colorscale="RdBu_r", cmid=0),
                                                  margin=dict(t=123), legend=dict(y=-0.2)))
    scale = themed.layout.coloraxis.colorscale
    assert isinstance(scale, tuple) and scale[0][1] == "rgb(5,48,97)"  # a named scale, expanded for plotly.js
    assert themed.layout.margin.t == 123 and themed.layout.margin.b == 10  # merged, not replaced
    assert themed.layout.legend.y == -0.2 and themed.layout.legend.font.size == NORMAL.font_size
    with pytest.raises(ValueError):
        apply_theme(fig, NORMAL, layout=dict(not_a_layout_property=1))


def test_template_is_the_slim_copy_of_plotly_white():
    themed = apply_theme(go.Figure(go.Scatter(x=[1], y=[2])), NORMAL).to_dict()
    template = themed["layout"]["template"]
    white = pio.templates["plotly_white"].to_plotly_json()
    assert template == pio.templates[TEMPLATE].to_plotly_json()
    assert template["layout"]["xaxis"] == white["layout"]["xaxis"]
    assert template["data"]["heatmap"] == white["data"]["heatmap"]
    assert "geo" not in template["layout"] and "choropleth" not in template["data"]


def test_an_empty_figure_still_gets_axis_fonts():
    fig = apply_theme(go.Figure(), PRESENTATION)
    assert fig.layout.xaxis.tickfont.size == fig.layout.yaxis.tickfont.size == PRESENTATION.font_size


def test_merge_layout_merges_nested_dicts_and_copies_values():
    extra = {"xaxis": {"range": [0, 1]}}
    base = merge_layout({"xaxis": {"title": {"text": "x"}}, "height": 1}, extra)
    assert base == {"xaxis": {"title": {"text": "x"}, "range": [0, 1]}, "height": 1}
    base["xaxis"]["range"].append(2)
    assert extra["xaxis"]["range"] == [0, 1]


def test_each_axis_of_a_scene_keeps_its_own_title():
    """The three axes of a 3-D scene are separate dicts: a title set on one does not land on all."""
    fig = go.Figure(go.Surface(z=np.eye(2)))
    scene = dict(xaxis=dict(title=dict(text="x")), yaxis=dict(title=dict(text="y")),
                 zaxis=dict(title=dict(text="f")))
    themed = apply_theme(fig, NORMAL, layout=dict(scene=scene))
    assert [themed.layout.scene[a].title.text for a in ("xaxis", "yaxis", "zaxis")] == ["x", "y", "f"]
    assert themed.layout.scene.xaxis.title.font.size == NORMAL.font_size


def test_the_slim_template_is_plotly_white_for_the_traces_the_app_draws():
    """The template is read from plotly's JSON file without validation: it must equal plotly's own."""
    from hessian_explorer.figures import style

    white = pio.templates["plotly_white"].to_plotly_json()
    assert style._plotly_white() == white
    spec = pio.templates[TEMPLATE].to_plotly_json()
    assert spec["data"] == {kind: white["data"][kind] for kind in style._TRACE_TYPES}
    layout = {k: v for k, v in white["layout"].items() if k not in ("geo", "ternary")}
    assert spec["layout"] == layout | {"font": {**white["layout"]["font"], "family": style.FONT_FAMILY}}
    go.Figure(go.Heatmap(z=[[1.0]]), layout=dict(template=TEMPLATE))  # plotly accepts it by name


def test_every_chart_is_drawn_through_charts_chart_in_the_figures_own_theme():
    """The pages draw every chart with ``charts.chart``; its one ``st.plotly_chart`` call (for figures
    the cartesian bundle cannot draw) passes ``theme=None``: ``apply_theme`` is the whole look, and
    Streamlit's chart theme (automatic axis margins on every axis) made the browser draw each chart
    a second time. AppTest checks the same on the charts the page tests read
    (``apptest_support.chart_specs``)."""
    files = [*sorted((ROOT / "pages").glob("*.py")), ROOT / "app.py", *sorted((ROOT / "src").rglob("*.py"))]
    calls = [(path.name, node) for path in files for node in ast.walk(ast.parse(path.read_text("utf-8")))
             if isinstance(node, ast.Call) and getattr(node.func, "attr", None) in ("plotly_chart", "chart")]
    assert sum(getattr(call.func.value, "id", None) == "charts" for _, call in calls) >= 30  # the pages' charts
    (direct,) = [(name, call) for name, call in calls if call.func.attr == "plotly_chart"]
    assert direct[0] == "charts.py"
    theme = [k.value for k in direct[1].keywords if k.arg == "theme"]
    assert len(theme) == 1 and isinstance(theme[0], ast.Constant) and theme[0].value is None


@pytest.mark.parametrize("values, chars", [
    ([-5, 5], 2), ([0, 400], 3), ([-500, 500], 4), ([0, 0.03], 5), ([-1, 1], 4), ([0, 20000], 5),
    ([np.array([[1.0, np.nan], [3.0, 4.0]])], 3), ([["x", "θ₀"]], 2), ([None, None], 4),
])
def test_tick_label_length_follows_plotlys_automatic_ticks(values, chars):
    from hessian_explorer.figures.style import _tick_chars

    # e.g. -500..500 -> ticks every 200: "−400" is the longest; 0..0.03 -> every 0.005: "0.025"
    assert _tick_chars(values) == chars


@pytest.mark.parametrize("theme", [NORMAL, PRESENTATION])
def test_margins_are_reserved_for_titled_axes_and_colour_bars(theme):
    """A map's y labels and title, x title and colour bar get their margins up front (measured
    in Chromium: tests/test_browser.py checks plotly keeps them), and the bar sits at the plot's edge."""
    fig = go.Figure(go.Contour(x=[-5, 5], y=[-5, 5], z=[[0, 1], [2, -500]], colorbar=dict(thickness=18)))
    themed = apply_theme(fig, theme, "map", layout=dict(xaxis=dict(title=dict(text="x")),
                                                        yaxis=dict(title=dict(text="y"), range=[-5, 5])))
    m, size = themed.layout.margin, theme.font_size
    assert m.l == round(0.55 * 2 * size + 1.3 * size + 31)  # "−4": two characters
    assert m.b == round(1.9 * size + 30) and m.t == 60
    assert m.r == round(2 * 20 + 18 + 0.55 * 4 * size + 10)  # "−400"
    bar = themed.data[0].colorbar
    assert (bar.x, bar.xanchor, bar.xpad) == (1.0, "left", 20)
    plain = apply_theme(go.Figure(go.Scatter(x=[0, 1], y=[0, 1])), theme)  # untitled: labels only
    assert plain.layout.margin.b == 10 and plain.layout.margin.l == round(0.55 * 3 * size + 10)  # "0.2"
    assert plain.layout.margin.r == 10  # an automatic x range: plotly keeps its end ticks inside
    fixed = apply_theme(go.Figure(go.Scatter(x=[-1, 1], y=[0, 1])), theme, layout=dict(xaxis=dict(range=[-1, 1])))
    assert fixed.layout.margin.r == round(0.5 * 0.55 * 4 * size + 10)  # half of "−0.5" past the right end
