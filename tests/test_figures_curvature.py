"""The curvature-page figure builders: traces exist and plot the core's numbers; the slice is f at
points built here; the parabolas' curvatures equal finite differences of f; LaTeX carries the numbers."""

from __future__ import annotations

import doctest

import numpy as np
import plotly.graph_objects as go
import pytest

import hessian_explorer.figures.curvature as curvature_figures
from hessian_explorer import parse_function
from hessian_explorer.directions import directional_curvature
from hessian_explorer.figures.curvature import (DIAL_NAME, DOWN, NAIVE_COLOR, TRUE_COLOR, UP, angle_profile_figure,
                                                derivation_latex, rose_figure, slice_figure, slice_map_figure,
                                                tex_number)
from hessian_explorer.figures.style import NORMAL, PRESENTATION, fmt
from hessian_explorer.plane import Plane, sample


@pytest.fixture
def saddle():
    f = parse_function("x^2 - y^2 + x y")
    return f, directional_curvature(f, (0.5, -0.25), (1.0, 2.0), half_width=1.5)


def test_doctests():
    assert doctest.testmod(curvature_figures).failed == 0


def _by_name(fig: go.Figure, prefix: str):
    found = [t for t in fig.data if (t.name or "").startswith(prefix)]
    assert found, f"no trace named {prefix!r} in {[t.name for t in fig.data]}"
    return found[0]


def test_rose_dial_offers_every_direction_on_three_rings_and_is_invisible(saddle):
    _, d = saddle
    plain = rose_figure(d.rose, d.eigen, ("x", "y"), NORMAL)
    assert all(t.name != DIAL_NAME for t in plain.data)
    fig = rose_figure(d.rose, d.eigen, ("x", "y"), NORMAL, dial=72)
    dial = fig.data[-1]  # last, so it is on top and takes the clicks
    assert dial.name == DIAL_NAME and dial.marker.opacity == 0 and dial.showlegend is False
    theta, r = np.asarray(dial.theta, dtype=float), np.asarray(dial.r, dtype=float)
    np.testing.assert_allclose(theta, np.tile(np.arange(72) * 5.0, 3))
    rmax = np.abs(d.rose.curvature).max()
    np.testing.assert_allclose(np.unique(r), [0.35 * rmax, 0.7 * rmax, rmax])
    assert r.max() <= fig.layout.polar.radialaxis.range[1]  # every ring is inside the plotted disc


@pytest.mark.parametrize("theme", [NORMAL, PRESENTATION])
def test_rose_plots_abs_curvature_coloured_by_sign_with_eigen_directions(saddle, theme):
    _, d = saddle
    fig = rose_figure(d.rose, d.eigen, ("x", "y"), theme, current=(d.angle_deg, d.curvature), title="rose")
    up, down = _by_name(fig, "curves up"), _by_name(fig, "curves down")
    c = d.rose.curvature
    assert up.line.color == UP and down.line.color == DOWN
    np.testing.assert_array_equal(np.asarray(up.theta), d.rose.angles_deg)
    r_up, r_down = np.asarray(up.r, dtype=float), np.asarray(down.r, dtype=float)
    np.testing.assert_allclose(r_up[c > 0], c[c > 0])
    np.testing.assert_allclose(r_down[c < 0], -c[c < 0])
    assert np.isnan(r_up[c < 0]).all() and np.isnan(r_down[c > 0]).all()
    # the eigen-directions: through the origin to |λ| at φ and φ + 180°
    eigvals = np.linalg.eigvalsh(np.array([[2.0, 1.0], [1.0, -2.0]]))
    np.testing.assert_allclose(d.eigen.eigenvalues, eigvals, rtol=1e-12)
    for which, lam, phi in zip(("eigen-direction λ_min", "eigen-direction λ_max"), eigvals, d.eigen.angles_deg):
        trace = _by_name(fig, which)
        assert fmt(lam) in trace.name
        np.testing.assert_allclose(trace.r, [abs(lam), 0, abs(lam)], rtol=1e-12)
        np.testing.assert_allclose(trace.theta, [phi, phi, phi + 180])
    # the rose's extremes are the eigenvalues of the block
    assert c.max() == pytest.approx(eigvals[1], rel=1e-4) and c.min() == pytest.approx(eigvals[0], rel=1e-4)
    star = _by_name(fig, "your v̂")
    assert star.r[-1] == pytest.approx(abs(d.curvature)) and star.theta[-1] == pytest.approx(d.angle_deg)
    assert fig.layout.polar.radialaxis.range[0] == 0
    assert fig.layout.font.size == theme.font_size


def test_rose_without_curvature_still_draws():
    f = parse_function("2x + 3y")
    d = directional_curvature(f, (0.5, 0.5), (1.0, 0.0))
    fig = rose_figure(d.rose, d.eigen, ("x", "y"), NORMAL)
    assert list(fig.layout.polar.radialaxis.range) == [0, 1.0]
    assert not [t for t in fig.data if (t.name or "").startswith("curves")]


def test_angle_profile_plots_the_signed_curvature_and_eigenvalue_lines(saddle):
    _, d = saddle
    fig = angle_profile_figure(d.rose, d.eigen, ("x", "y"), NORMAL, current=(d.angle_deg, d.curvature))
    curve = _by_name(fig, "v̂ᵀHv̂")
    np.testing.assert_array_equal(curve.y, d.rose.curvature)
    np.testing.assert_array_equal(curve.x, d.rose.angles_deg)
    lines = sorted(s.y0 for s in fig.layout.shapes if s.y0 == s.y1)
    np.testing.assert_allclose(lines, d.eigen.eigenvalues)
    lo = _by_name(fig, "λ_min")
    np.testing.assert_allclose(lo.y, [d.eigen.eigenvalues[0]] * 2)
    star = _by_name(fig, "your v̂")
    assert star.y[0] == d.curvature and star.x[0] == d.angle_deg


@pytest.mark.parametrize("text, point, v", [
    ("x^2 - y^2 + x y", (0.5, -0.25), (1.0, 2.0)),
    ("(1 - x)^2 + 100(y - x^2)^2", (-1.0, 1.0), (1.0, 0.0)),
    ("sin(x) cos(y) + z^2 x", (1.0, 0.5, -0.3), (0.2, -1.0, 0.7)),
    ("x^3", (0.5,), (1.0,)),
])
def test_slice_figure_plots_f_on_the_line_and_the_two_parabolas(text, point, v):
    f = parse_function(text)
    d = directional_curvature(f, point, v, half_width=0.8)
    fig = slice_figure(d.slice, NORMAL, value=d.value)
    true, taylor, naive = (_by_name(fig, p) for p in ("f(x₀ + t v̂)", "Taylor with H", "naive with ∇f∇fᵀ"))
    t = np.asarray(true.x)
    assert t[0] == -0.8 and t[-1] == 0.8
    # the plotted slice is f at x0 + t v̂, points built here
    v_hat = np.asarray(v, dtype=float) / np.linalg.norm(v)
    points = np.array([np.asarray(point) + tk * v_hat for tk in t])
    np.testing.assert_allclose(true.y, [float(f.value(p)) for p in points], rtol=1e-12, atol=1e-12)
    # parabola curvatures (second differences of the plotted curves; exact for a quadratic)
    k = len(t) // 2
    h = t[k + 1] - t[k]
    assert t[k] == 0.0

    def second_difference(y):
        y = np.asarray(y)
        return (y[k + 1] - 2 * y[k] + y[k - 1]) / h**2

    step = 1e-4
    x0 = np.asarray(point)
    fm, f0, fp = (float(f.value(x0 + s * v_hat)) for s in (-step, 0.0, step))
    fd_curvature, fd_slope = (fp - 2 * f0 + fm) / step**2, (fp - fm) / (2 * step)
    assert second_difference(taylor.y) == pytest.approx(fd_curvature, rel=1e-4, abs=1e-4)
    assert second_difference(naive.y) == pytest.approx(fd_slope**2, rel=1e-4, abs=1e-4)
    assert fmt(d.curvature) in taylor.name and fmt(d.naive_curvature) in naive.name
    assert taylor.line.color == TRUE_COLOR and naive.line.color == NAIVE_COLOR
    # both share f(x0) and the slope at t = 0
    assert taylor.y[k] == pytest.approx(f0) and naive.y[k] == pytest.approx(f0)
    assert [t for t in fig.data if t.name == "x₀"][0].y[0] == pytest.approx(f0)


@pytest.mark.parametrize("theme", [NORMAL, PRESENTATION])
def test_slice_legend_is_a_list_with_its_margin_reserved(saddle, theme):
    """One legend entry per row, so the bottom margin holds every row whatever the chart's width
    (the browser test checks plotly keeps it); the x₀ entry adds one row."""
    f, d = saddle
    with_point = slice_figure(d.slice, theme, value=d.value, title="t")
    without = slice_figure(d.slice, theme, title="t")
    assert with_point.layout.legend.orientation == "v" and len(with_point.data) == len(without.data) + 1 == 4
    row = with_point.layout.margin.b - without.layout.margin.b
    assert row == pytest.approx(1.3 * theme.font_size + 3, abs=1)  # plotly's row, measured in Chromium
    assert with_point.layout.margin.r > 10  # the last t tick label sits on the plot's right edge


def test_slice_map_draws_the_line_through_x0(saddle):
    f, d = saddle
    plane = Plane((0.5, -0.25), 0, 1, (-2, 2), (-2, 2), 20)
    fig = slice_map_figure(sample(f, plane), ("x", "y"), NORMAL, point=d.point, v_hat=d.v_hat, half_width=1.5)
    line = _by_name(fig, "x₀ + t v̂")
    np.testing.assert_allclose(line.x, d.point[0] + np.array([-1.5, 1.5]) * d.v_hat[0])
    np.testing.assert_allclose(line.y, d.point[1] + np.array([-1.5, 1.5]) * d.v_hat[1])
    assert isinstance(fig.data[0], go.Contour)
    (star,) = [t for t in fig.data if t.name == "x₀"]
    assert (star.x[0], star.y[0]) == (0.5, -0.25)


@pytest.mark.parametrize("x, expected", [(2.0, "2"), (-0.5, "-0.5"), (123456.0, r"1.235\times10^{5}"),
                                         (float("nan"), r"\text{undefined}"), (-0.0, "0")])
def test_tex_number(x, expected):
    assert tex_number(x) == expected


def test_derivation_substitutes_the_numbers(saddle):
    f, d = saddle
    steps = derivation_latex(d, f.variables)
    tex = "\n".join(t for _, t in steps)
    for number in (d.slope, d.curvature, d.naive_curvature, *d.hv, *d.gradient):
        assert tex_number(number) in tex
    assert r"\sum_j" in tex and r"\hat v^{\top} H \hat v" in tex and r"\neq" in tex
    assert tex.count(r"\begin{bmatrix}") >= 5  # ∇f row, v̂ columns, H, Hv̂ written out


def test_derivation_is_compact_for_ten_variables():
    names = [f"x{i}" for i in range(10)]
    f = parse_function(" + ".join(f"{i + 1}*{n}^2" for i, n in enumerate(names)) + " + x0 x9")
    d = directional_curvature(f, np.linspace(-1, 1, 10), np.arange(1.0, 11.0))
    steps = derivation_latex(d, f.variables)
    tex = "\n".join(t for _, t in steps)
    assert r"\cdots" in tex and "&" in tex
    assert "\\\\" not in tex  # no 10-row matrix or column: vectors are written as transposed rows
    assert tex_number(d.curvature) in tex and tex_number(d.hv[-1]) in tex
    assert max(len(t) for _, t in steps) < 400


def test_derivation_says_when_the_two_agree():
    f = parse_function("-log(1 - x - y)")
    d = directional_curvature(f, (0.0, 0.0), (1.0, 0.5))
    caption, tex = derivation_latex(d, f.variables)[-1]
    assert r"\neq" not in tex and "agree" in caption


def test_isotropic_rose_has_no_special_directions():
    d = directional_curvature(parse_function("x^2 + y^2"), (1.0, 0.5), (1.0, 1.0))
    rose_fig = rose_figure(d.rose, d.eigen, ("x", "y"), NORMAL)
    assert not [t for t in rose_fig.data if (t.name or "").startswith("eigen-direction")]
    np.testing.assert_allclose(_by_name(rose_fig, "curves up").r, 2.0)
    profile = angle_profile_figure(d.rose, d.eigen, ("x", "y"), NORMAL)
    line = _by_name(profile, "λ_min = λ_max = 2")
    assert list(line.y) == [2.0, 2.0]
