"""Hessian figures: the plotted numbers equal independent closed forms; the colour scales mean
what they say; the words and tables match the analysis."""

from __future__ import annotations

import doctest

import numpy as np
import plotly.graph_objects as go
import pytest

from hessian_explorer import parse_function
from hessian_explorer.analysis import Curvature
from hessian_explorer.figures import hessian as hessian_figures
from hessian_explorer.figures.hessian import (
    CURVATURE_STYLE, F_LEVELS_NAME, MODEL_NAME, axis_segment, curvature_map_figure, eigen_table, hessian_heatmap,
    hessian_summary, model_levels, quadratic_model_figure,
)
from hessian_explorer.figures.landscape import value_limits
from hessian_explorer.figures.style import NORMAL, OKABE_ITO, PRESENTATION
from hessian_explorer.plane import Plane, sample
from hessian_explorer.presets import get_preset
from hessian_explorer.taylor import QuadraticModel, neighbourhood, plane_analysis, plane_curvature


def _rosenbrock(x, y):
    """Value, gradient and Hessian of Rosenbrock's function in closed form."""
    value = (1 - x) ** 2 + 100 * (y - x * x) ** 2
    gradient = np.array([-2 * (1 - x) - 400 * x * (y - x * x), 200 * (y - x * x)])
    hessian = np.array([[2 - 400 * (y - x * x) + 800 * x * x, -400 * x], [-400 * x, 200.0]])
    return value, gradient, hessian


def _local_plane(key: str, point, fraction=0.2) -> Plane:
    """The neighbourhood :func:`_model_figure` samples f on."""
    preset = get_preset(key)
    return neighbourhood(Plane(tuple(point), 0, 1, preset.x_range, preset.y_range, 60), fraction)


def _model_figure(key: str, point, theme=NORMAL, fraction=0.2):
    preset = get_preset(key)
    f = parse_function(preset.text, preset.variables)
    plane = Plane(tuple(point), 0, 1, preset.x_range, preset.y_range, 60)
    analysis = f.analyze(point)
    fig = quadratic_model_figure(sample(f, plane), sample(f, _local_plane(key, point, fraction)),
                                 QuadraticModel.from_analysis(analysis), plane_analysis(analysis, 0, 1),
                                 preset.variables, theme, click_grid=20, title="t")
    return fig, analysis


def _trace(fig: go.Figure, name: str):
    return next(t for t in fig.data if t.name == name)


def test_hessian_heatmap_shows_the_closed_form_on_a_centred_scale():
    f = parse_function(get_preset("rosenbrock").text, ("x", "y"))
    fig = hessian_heatmap(f.hessian([-1.0, 1.0]), ("x", "y"), PRESENTATION)
    heat = fig.data[0]
    np.testing.assert_array_equal(heat.z, _rosenbrock(-1.0, 1.0)[2])
    assert heat.zmid == 0 and heat.zmin == -heat.zmax == -802.0
    assert fig.layout.xaxis.tickfont.size == fig.layout.yaxis.tickfont.size == PRESENTATION.font_size


def _on_their_levels(trace, exact, local_plane, hessian) -> np.ndarray:
    """Each point of a level-line trace lies on its own level (``customdata``) of the closed form
    ``exact``, to within linear interpolation along the cell edge it was found on: eᵀHe/8 for an
    edge e, the bound for a quadratic. Edges run along the axes, or along a cell's diagonal where
    the neighbourhood's mask cuts the cell into triangles. Returns the levels drawn."""
    x, y = np.array(trace.x, dtype=float), np.array(trace.y, dtype=float)
    ok = np.isfinite(x)
    assert ok.sum() > 50 and np.array_equal(ok, np.isfinite(y))
    levels = np.array(trace.customdata, dtype=float)[ok]
    hx = np.diff(local_plane.x_range)[0] / (local_plane.density - 1)
    hy = np.diff(local_plane.y_range)[0] / (local_plane.density - 1)
    edges = np.array([[hx, 0.0], [0.0, hy], [hx, hy], [hx, -hy]])
    bound = np.max(np.abs(np.einsum("ei,ij,ej->e", edges, hessian, edges))) / 8
    np.testing.assert_allclose(exact(x[ok], y[ok]), levels, rtol=0, atol=bound * (1 + 1e-9) + 1e-12)
    return np.unique(levels)


def test_model_lines_equal_f_exactly_for_a_quadratic():
    fig, _ = _model_figure("rotated", (1.0, -1.0))
    q, f_lines = _trace(fig, MODEL_NAME), _trace(fig, F_LEVELS_NAME)
    local = _local_plane("rotated", (1.0, -1.0))
    levels = _on_their_levels(q, lambda x, y: x * x + x * y + 2 * y * y, local, np.array([[2.0, 1.0], [1.0, 4.0]]))
    assert len(levels) >= 5 and np.allclose(np.diff(levels), levels[1] - levels[0])
    # f is its own quadratic model: its lines are q's, point for point, at the same levels
    np.testing.assert_allclose(np.array(f_lines.x, dtype=float), np.array(q.x, dtype=float), rtol=0, atol=1e-9)
    np.testing.assert_allclose(np.array(f_lines.y, dtype=float), np.array(q.y, dtype=float), rtol=0, atol=1e-9)
    assert q.line.dash == "dash" and f_lines.line.dash == "solid"
    assert q.showlegend is not False and f_lines.showlegend is not False  # each line is its own legend entry
    assert "q = %{customdata" in q.hovertemplate and f_lines.hoverinfo == "skip"
    # drawn inside the neighbourhood only (the ellipse inscribed in the local box)
    rx, ry = np.diff(local.x_range)[0] / 2, np.diff(local.y_range)[0] / 2
    x, y = np.array(q.x, dtype=float), np.array(q.y, dtype=float)
    ok = np.isfinite(x)
    assert np.all(((x[ok] - 1.0) / rx) ** 2 + ((y[ok] + 1.0) / ry) ** 2 <= 1.0 + 0.05)


def test_model_lines_follow_the_closed_form_taylor_model_of_rosenbrock():
    x0 = np.array([-0.5, 0.8])
    fig, _ = _model_figure("rosenbrock", x0)
    value, gradient, hessian = _rosenbrock(*x0)

    def taylor(x, y):
        d = np.stack([x - x0[0], y - x0[1]], axis=-1)
        return value + d @ gradient + 0.5 * np.einsum("...i,ij,...j->...", d, hessian, d)

    local = _local_plane("rosenbrock", x0)
    levels = _on_their_levels(_trace(fig, MODEL_NAME), taylor, local, hessian)
    # evenly spaced and centred at f(x₀): f(x₀) is one of them (its line passes through x₀)
    step = levels[1] - levels[0]
    np.testing.assert_allclose(np.diff(levels), step, rtol=1e-9)
    assert np.min(np.abs(levels - value)) < 1e-9 * max(1.0, abs(value))


def test_the_neighbourhood_is_lightened_and_outlined_by_one_ellipse():
    fig, _ = _model_figure("rotated", (1.0, -1.0))
    (veil,) = [t for t in fig.data if t.name == hessian_figures.NEIGHBOURHOOD_NAME]
    assert veil.fill == "toself" and veil.fillcolor == hessian_figures.VEIL_COLOR and veil.line.dash == "dot"
    assert veil.hoverinfo == "skip"  # hovering inside shows f and q, not the veil
    # drawn before the lines, so they stay on top of it
    names = [t.name for t in fig.data]
    assert names.index(hessian_figures.NEIGHBOURHOOD_NAME) < names.index(F_LEVELS_NAME) < names.index(MODEL_NAME)


def test_model_axes_follow_the_eigenvectors_and_are_labelled_with_the_eigenvalues():
    fig, _ = _model_figure("rotated", (1.0, -1.0))
    axes = [t for t in fig.data if str(t.name).startswith("axis of q") and t.line.color == "black"]
    assert len(axes) == 2
    lam = [3 - np.sqrt(2), 3 + np.sqrt(2)]  # eigenvalues of [[2, 1], [1, 4]]
    for trace, value in zip(axes, lam):
        ends = np.column_stack([trace.x, trace.y])
        direction = ends[1] - ends[0]
        H = np.array([[2.0, 1.0], [1.0, 4.0]])
        np.testing.assert_allclose(H @ direction, value * direction, atol=1e-9)  # an eigenvector
        np.testing.assert_allclose(ends.mean(axis=0), [1.0, -1.0], atol=1e-12)  # through x₀
    assert sorted(a.text for a in fig.layout.annotations) == ["λ₁ = 1.586", "λ₂ = 4.414"]


def test_axis_segment_reaches_the_edge_of_the_neighbourhood():
    ends = axis_segment([1.0, 2.0], [0.6, 0.8], [0.5, 2.0])
    rel = (ends - [1.0, 2.0]) / [0.5, 2.0]
    np.testing.assert_allclose(np.sum(rel ** 2, axis=1), [1.0, 1.0])


def test_model_levels_are_centred_and_span_the_values():
    levels = model_levels(np.array([[0.0, 1.0], [np.nan, 5.5]]), 1.0, count=5)
    assert len(levels) == 11 and levels[5] == 1.0 and levels[-1] <= 5.5 < levels[-1] + (levels[1] - levels[0])
    assert model_levels(np.full((2, 2), 3.0), 3.0).size == 0


def test_no_model_is_drawn_where_f_is_undefined():
    fig, analysis = _model_figure("neglog", (0.5, 0.8))  # 1 - x - y < 0: log undefined
    assert not np.isfinite(analysis.value)
    assert {t.name for t in fig.data} <= {"f", "click to move x₀", "x₀"}


@pytest.mark.parametrize("y_range, equal", [((-1.0, 3.0), True), ((0.0, 0.5), False)])
def test_maps_keep_the_true_shape_unless_the_ranges_are_very_different(y_range, equal):
    f = parse_function("x^2 + x y")
    plane = Plane((0.5, 0.2), 0, 1, (-2.0, 2.0), y_range, 20)
    field = sample(f, plane)
    analysis = f.analyze([0.5, 0.2])
    for fig in (quadratic_model_figure(field, sample(f, neighbourhood(plane)), QuadraticModel.from_analysis(analysis),
                                       analysis, ("x", "y"), NORMAL),
                curvature_map_figure(field, plane_curvature(field), ("x", "y"), NORMAL)):
        assert (fig.layout.yaxis.scaleanchor == "x") is equal


def test_model_figure_uses_the_theme_sizes():
    fig, _ = _model_figure("saddle", (0.5, 0.5), theme=PRESENTATION)
    assert fig.layout.xaxis.tickfont.size == PRESENTATION.font_size
    assert _trace(fig, MODEL_NAME).line.width == PRESENTATION.line_width
    assert fig.layout.annotations[0].font.size == PRESENTATION.annotation_size


def _curvature(key: str, density: int = 41):
    preset = get_preset(key)
    f = parse_function(preset.text, preset.variables)
    field = sample(f, Plane(preset.point, 0, 1, preset.x_range, preset.y_range, density))
    codes = plane_curvature(field)
    return field, codes, curvature_map_figure(field, codes, preset.variables, NORMAL, point=preset.point)


def test_curvature_map_of_the_gaussian_bump():
    """exp(-r²/2) has eigenvalues (r² - 1)e^(-r²/2) (radial) and -e^(-r²/2) (around): concave
    inside the unit circle and a saddle outside it. It is never convex (the tangential curvature
    stays negative), whatever the preset's note says about the skirts."""
    field, codes, fig = _curvature("gaussian")
    X, Y = np.meshgrid(field.x, field.y)
    r = np.hypot(X, Y)
    assert np.all(codes[r < 0.95] == Curvature.CONCAVE)
    assert np.all(codes[r > 1.05] == Curvature.SADDLE)
    assert not np.any(codes == Curvature.CONVEX)
    np.testing.assert_array_equal(fig.data[0].z, codes)


def test_curvature_map_draws_f_on_fifteen_even_levels():
    """The thin lines are f's, at 15 levels spread evenly over its colour limits: every point lies on
    one of them (exp(-r²/2), whose second derivatives are at most 1 in size, so linear
    interpolation along a cell's edge or diagonal is off by at most (hx² + hy²)/8 · 2)."""
    field, _, fig = _curvature("gaussian")
    (lines,) = [t for t in fig.data if t.name == "f"]
    x, y = np.array(lines.x, dtype=float), np.array(lines.y, dtype=float)
    ok = np.isfinite(x)
    assert ok.sum() > 100 and lines.hoverinfo == "skip"
    levels = np.linspace(*value_limits(field.value), 15)
    value = np.exp(-(x[ok] ** 2 + y[ok] ** 2) / 2)
    hx, hy = np.diff(field.x[:2])[0], np.diff(field.y[:2])[0]
    off = np.min(np.abs(value[:, None] - levels[None, :]), axis=1)
    assert off.max() <= (hx * hx + hy * hy) / 4 < (levels[1] - levels[0]) / 4
    assert len({int(np.argmin(np.abs(levels - v))) for v in value}) >= 10  # most levels are drawn


@pytest.mark.parametrize("key, expected", [("saddle", Curvature.SADDLE), ("bowl", Curvature.CONVEX),
                                           ("logsumexp", Curvature.DEGENERATE), ("linear", Curvature.DEGENERATE)])
def test_curvature_map_is_uniform_where_the_type_never_changes(key, expected):
    _, codes, fig = _curvature(key)
    assert np.all(codes == expected)
    assert set(fig.data[0].customdata.ravel()) == {CURVATURE_STYLE[expected][0]}


def test_curvature_map_marks_where_f_is_undefined():
    field, codes, _ = _curvature("neglog")
    X, Y = np.meshgrid(field.x, field.y)
    assert np.all(codes[X + Y > 1.01] == Curvature.UNDEFINED)
    assert np.all(codes[X + Y < 0.99] == Curvature.DEGENERATE)  # H = ∇f∇fᵀ is rank one
    # the Hessian alone, 1/(1 - x - y)² [[1, 1], [1, 1]], is finite where f is not
    assert np.isfinite(field.hessian[X + Y > 1.01]).all()


def test_curvature_map_colour_scale_is_categorical_okabe_ito_with_named_classes():
    _, _, fig = _curvature("double_well")
    heat = fig.data[0]
    assert (heat.zmin, heat.zmax) == (-0.5, 4.5)
    scale = heat.colorscale
    for code, (name, color) in CURVATURE_STYLE.items():
        # the colour at the code's value, read from the stepped scale
        position = (code + 0.5) / 5
        step = next(c for (lo, c), (hi, _) in zip(scale[::2], scale[1::2]) if lo <= position <= hi)
        assert step == color
        assert heat.colorbar.ticktext[list(heat.colorbar.tickvals).index(code)] == name
    okabe = set(OKABE_ITO.values())
    assert all(CURVATURE_STYLE[c][1] in okabe for c in CURVATURE_STYLE if c != Curvature.UNDEFINED)


def _summary(text: str, point, variables=("x", "y")) -> str:
    return hessian_summary(parse_function(text, variables).analyze(point), variables)


@pytest.mark.parametrize("text, point, expected", [
    ("x^2 - y^2", (0.5, 0.5), "x₀ is not a critical point (|∇f| = 1.414), so the second-derivative test does not "
                              "apply: f still changes to first order here. H is indefinite here: f curves up along "
                              "the x axis (λ = 2) and down along the y axis (λ = -2)."),
    ("(1 - x)^2 + 100(y - x^2)^2", (1.0, 1.0), "x₀ is a local minimum. H is positive definite here: f curves up "
                                                "in every direction, most along (0.895, -0.446) (λ = 1002)"),
    ("x^2 + y^2", (0.0, 0.0), "f curves up equally in every direction (λ = 2)."),
    ("-x^2 - 3y^2", (0.0, 0.0), "x₀ is a local maximum."),
    ("x^3 - 3x y^2", (0.0, 0.0), "the test is inconclusive"),
    ("log(exp(x) + exp(y))", (0.0, 0.0),
     "curves up along (0.707, -0.707) (λ = 0.5) and is flat to second order along (0.707, 0.707) (λ = 0)."),
    ("2x + 3y", (0.0, 0.0), "H is zero here"),
    ("log(x) + y", (-1.0, 0.0), "undefined at x₀"),
])
def test_summary_explains_the_test_and_the_shape(text, point, expected):
    assert expected in _summary(text, point)


def test_eigen_table_lists_eigenpairs_in_ascending_order():
    rows = eigen_table(parse_function("log(exp(x) + exp(y))").analyze([0.0, 0.0]), ("x", "y"))
    assert [r[""] for r in rows] == ["λ₁", "λ₂"]
    assert [r["f curves"] for r in rows] == ["flat", "up"]
    assert rows[1]["eigenvalue λ"] == "0.5" and (rows[1]["x"], rows[1]["y"]) == ("0.7071", "-0.7071")


def test_docstring_examples_hold():
    assert doctest.testmod(hessian_figures).failed == 0
