"""The 3-D surface: the plotted heights are f, the tangent plane is f(x₀) + ∇f(x₀)·(x − x₀), and
each axis carries its own name."""

from __future__ import annotations

import numpy as np
import pytest

from apptest_support import path_pieces
from hessian_explorer import parse_function
from hessian_explorer.figures.landscape import level_lines, nice_levels, surface_figure, value_limits
from hessian_explorer.figures.style import NORMAL
from hessian_explorer.plane import Plane, sample


def _figure(text="(x^2 + y - 11)^2 + (x + y^2 - 7)^2", point=(0.5, -1.0)):
    f = parse_function(text)
    field = sample(f, Plane((0.0, 0.0), 0, 1, (-5.0, 5.0), (-5.0, 5.0), 40))
    ev = f.evaluate(np.array(point))
    fig = surface_figure(field, ("x", "y"), NORMAL, point=np.array(point), value=float(ev.value),
                         gradient=ev.gradient, title="Surface")
    return f, field, fig


def test_surface_heights_are_f_where_shown():
    f, field, fig = _figure()
    surface = fig.data[0]
    z = np.asarray(surface.z, dtype=float)
    shown = np.isfinite(z)
    X, Y = np.meshgrid(field.x, field.y)
    np.testing.assert_allclose(z[shown], f.value(np.stack([X, Y], -1))[shown], rtol=1e-14)
    lo, hi = value_limits(field.value)
    pad = 0.25 * (hi - lo)
    assert ((z[shown] >= lo - pad) & (z[shown] <= hi + pad)).all()
    assert shown.mean() > 0.9  # only the extreme corners are cut


def test_tangent_plane_is_the_first_order_model():
    f, _, fig = _figure()
    plane = next(t for t in fig.data if t.name == "tangent plane")
    x0, g, v = np.array([0.5, -1.0]), f.gradient([0.5, -1.0]), float(f.value([0.5, -1.0]))
    px, py, pz = (np.asarray(a, dtype=float) for a in (plane.x, plane.y, plane.z))
    np.testing.assert_allclose(pz, v + g[0] * (px - x0[0]) + g[1] * (py - x0[1]), rtol=1e-14, atol=1e-12)
    assert np.isclose(px.mean(), x0[0]) and np.isclose(py.mean(), x0[1])  # centred at x₀
    marker = next(t for t in fig.data if t.name == "x₀")
    assert (marker.x[0], marker.y[0], marker.z[0]) == (0.5, -1.0, v)


def test_axes_are_named_and_the_camera_shows_every_tick():
    _, _, fig = _figure()
    scene = fig.layout.scene
    assert (scene.xaxis.title.text, scene.yaxis.title.text, scene.zaxis.title.text) == ("x", "y", "f")
    eye = scene.camera.eye
    assert min(eye.x, eye.y, eye.z) > 1.1  # further back than plotly's default (1.25, 1.25, 1.25)


def test_the_critical_points_table_shows_the_core_numbers():
    from hessian_explorer.critical import find_critical_points
    from hessian_explorer.figures.landscape import critical_rows
    from hessian_explorer.figures.style import fmt

    f = parse_function("x^2 - y^2 + x^4/4")  # one critical point: a saddle at the origin
    plane = Plane((0.0, 0.0), 0, 1, (-2.0, 2.0), (-2.0, 2.0), 41)
    critical = find_critical_points(f, plane)
    rows = critical_rows(critical, ("u", "w"))
    assert [list(r) for r in rows] == [["u", "w", "f", "type", "eigenvalues of H"]] * len(rows)
    assert [r["type"] for r in rows] == ["saddle"]
    (c,) = critical
    assert rows[0]["u"] == fmt(c.xy[0], 6) and rows[0]["f"] == fmt(f.value(c.point))
    assert rows[0]["eigenvalues of H"] == "-2, 2"  # H = diag(2 + 3x², −2) at the origin


# -- quiver and click grid of the map ---------------------------------------------------------


def test_arrowheads_sit_on_the_tips_and_point_along_the_shafts():
    from hessian_explorer.figures.landscape import HEAD_HALF_WIDTH, HEAD_LENGTH, arrowheads, quiver_segments

    rng = np.random.default_rng(3)
    cell = (0.5, 2.0)  # cells of different sizes: heads are built in each axis's own cell units
    x, y, u, v = rng.normal(size=(4, 40))
    u[0], v[0] = 1e-6, 0.0  # the shortest arrow (0.12 cell): shorter than a head
    xs, ys = quiver_segments(x, y, u, v, cell)
    sx, sy, hx, hy = arrowheads(xs, ys, cell)
    assert len(hx) == 5 * 40 and np.isnan(hx[4::5]).all() and np.isnan(hy[4::5]).all()
    np.testing.assert_array_equal(sx[0::3], xs[0::3])  # tails unchanged
    scale = np.array(cell)
    for k in range(40):
        tail, tip = np.array([xs[3 * k], ys[3 * k]]) / scale, np.array([xs[3 * k + 1], ys[3 * k + 1]]) / scale
        apex, left, right, closing = (np.array([hx[5 * k + i], hy[5 * k + i]]) / scale for i in range(4))
        end = np.array([sx[3 * k + 1], sy[3 * k + 1]]) / scale  # the shaft ends where the head begins
        along = (tip - tail) / np.linalg.norm(tip - tail)
        base = (left + right) / 2
        np.testing.assert_allclose(apex, tip, atol=1e-12)
        np.testing.assert_allclose(closing, tip, atol=1e-12)
        np.testing.assert_allclose(tip - base, along * HEAD_LENGTH, atol=1e-12)  # on the shaft's line
        np.testing.assert_allclose(left - base, [-along[1] * HEAD_HALF_WIDTH, along[0] * HEAD_HALF_WIDTH],
                                   atol=1e-12)  # square to it, the same size for every arrow
        np.testing.assert_allclose(end, tip - along * min(HEAD_LENGTH, np.linalg.norm(tip - tail)), atol=1e-12)
    np.testing.assert_allclose([sx[1], sy[1]], [xs[0], ys[0]], atol=1e-12)  # a short arrow: all head


def test_path_data_breaks_at_non_finite_points_and_closes_each_piece():
    from hessian_explorer.figures.landscape import path_data

    x = [0.0, 1.0, np.nan, 2.0, 3.0, 4.0, np.inf, -5.5]
    y = [0.0, 1.5, np.nan, 2.0, -3.0, 4.0, 0.0, 1e-7]
    assert path_data(x, y) == "M0.0,0.0L1.0,1.5M2.0,2.0L3.0,-3.0L4.0,4.0M-5.5,1e-07"
    assert path_data(x, y, closed=True) == "M0.0,0.0L1.0,1.5ZM2.0,2.0L3.0,-3.0L4.0,4.0ZM-5.5,1e-07Z"
    assert path_data([0.123456, np.nan], [2.0, 1.0], decimals=2) == "M0.12,2.0"
    assert path_data([], []) == ""
    rng = np.random.default_rng(5)  # round trip through a parser of SVG path data
    x, y = rng.normal(size=(2, 300)) * 1e3
    x[rng.random(300) < 0.1] = np.nan
    pieces = path_pieces(path_data(x, y))
    ok = np.isfinite(x)
    np.testing.assert_array_equal(np.concatenate(pieces), np.column_stack([x[ok], y[ok]]))
    assert len(pieces) == np.count_nonzero(ok & ~np.concatenate([[False], ok[:-1]]))


def test_quiver_shapes_draw_the_shafts_and_fill_the_heads():
    from hessian_explorer.figures.landscape import arrowheads, quiver_segments, quiver_shapes

    rng = np.random.default_rng(4)
    x, y, u, v = rng.normal(size=(4, 12))
    xs, ys = quiver_segments(x, y, u, v, 0.5)
    shafts, heads = quiver_shapes(xs, ys, 0.5, line=dict(color="black", width=3), fillcolor="white",
                                  xref="x2", yref="y2", legendgroup="q")
    sx, sy, hx, hy = arrowheads(xs, ys, 0.5)
    lines, triangles = path_pieces(shafts["path"]), path_pieces(heads["path"])
    np.testing.assert_array_equal(np.stack(lines), np.column_stack([sx, sy]).reshape(-1, 3, 2)[:, :2])
    np.testing.assert_array_equal(np.stack(triangles), np.column_stack([hx, hy]).reshape(-1, 5, 2)[:, :3])
    assert shafts["path"].count("Z") == 0 and heads["path"].count("Z") == 12
    assert shafts["line"] == dict(color="black", width=3) and "fillcolor" not in shafts
    assert heads["fillcolor"] == "white" and heads["line"] == dict(width=0)
    for shape in (shafts, heads):
        assert (shape["type"], shape["layer"], shape["xref"], shape["yref"], shape["legendgroup"]) == (
            "path", "below", "x2", "y2", "q")


def test_the_map_arrows_point_uphill_and_the_click_grid_draws_nothing():
    from hessian_explorer.figures.landscape import CLICK_GRID_NAME, contour_figure

    f = parse_function("(x^2 + y - 11)^2 + (x + y^2 - 7)^2")
    plane = Plane((0.0, 0.0), 0, 1, (-5.0, 5.0), (-4.0, 4.0), 30)
    quiver = sample(f, Plane((0.0, 0.0), 0, 1, (-5.0, 5.0), (-4.0, 4.0), 10))
    fig = contour_figure(sample(f, plane), ("x", "y"), NORMAL, quiver=quiver, click_grid=12)
    heads = next(t for t in fig.data if t.name and t.name.startswith("∇f"))
    assert heads.fill == "toself" and heads.mode == "lines"
    tips = np.column_stack([heads.x, heads.y]).astype(float)[0::5]
    shaft = next(t for t in fig.data if t.line.color == "white" and t.mode == "lines")
    tails = np.column_stack([shaft.x, shaft.y]).astype(float)[0::3]
    assert len(tips) == len(tails) == 100  # no arrow vanishes on this grid
    for tail, tip in zip(tails, tips):
        x, y = (tail + tip) / 2  # pivot "middle": the arrow is centred on its grid point
        a, b = x * x + y - 11, x + y * y - 7  # ∇f by hand, not by the package's kernels
        g = np.array([4 * x * a + 2 * b, 2 * a + 4 * y * b])
        cos = (tip - tail) @ g / (np.linalg.norm(tip - tail) * np.linalg.norm(g))
        assert cos > 1 - 1e-9
    grid = next(t for t in fig.data if t.name == CLICK_GRID_NAME)
    assert grid.mode == "markers" and len(grid.x) == 144  # selectable and hoverable, all 144 points
    assert grid.marker.opacity == 0 and grid.marker.maxdisplayed == 1  # drawn: one invisible marker
    assert fig.layout.clickmode == "event+select"


def test_level_lines_lie_on_their_levels_and_leave_gaps_where_f_is_undefined():
    """z = x² + 2y² on a 41 × 61 grid (rows along y), undefined where x > 1: each point is on its
    level to within linear interpolation along a cell's edge or diagonal (eᵀHe/8 with H = diag(2, 4)),
    none lies where z is undefined, and a level outside z's values draws nothing."""
    x, y = np.linspace(-2.0, 2.0, 41), np.linspace(-1.5, 1.5, 61)
    X, Y = np.meshgrid(x, y)
    z = np.where(X > 1.0, np.nan, X * X + 2 * Y * Y)
    xs, ys, zs = level_lines(x, y, z, [0.5, 1.5, 100.0])
    assert xs.shape == ys.shape == zs.shape and xs.size > 100
    ok = np.isfinite(xs)
    assert np.array_equal(ok, np.isfinite(ys)) and np.array_equal(ok, np.isfinite(zs))
    assert np.isfinite(xs[0]) and np.isfinite(xs[-1])  # breaks only between pieces
    assert set(np.unique(zs[ok])) == {0.5, 1.5}
    hx, hy = x[1] - x[0], y[1] - y[0]
    bound = max(2 * hx * hx, 4 * hy * hy, 2 * hx * hx + 4 * hy * hy) / 8
    np.testing.assert_allclose(xs[ok] ** 2 + 2 * ys[ok] ** 2, zs[ok], rtol=0, atol=bound * (1 + 1e-9))
    assert xs[ok].max() <= 1.0 + 1e-12  # no line through a cell with an undefined corner
    empty = level_lines(x, y, z, [])
    assert all(a.size == 0 for a in empty)


@pytest.mark.parametrize("lo, hi, count, expected", [
    # (start, end, size) that plotly.js 4.1 chose for a contour trace of z = [[lo, hi], [hi, lo]] with
    # ncontours = count, read from its _fullData in headless Chromium
    (0.0, 2.6, 14, (0.2, 2.4, 0.2)), (0.0, 1.0, 10, (0.2, 0.8, 0.2)), (0.0, 3.7, 14, (0.5, 3.5, 0.5)),
    (-5.3, 12.9, 14, (-4.0, 12.0, 2.0)), (0.1234, 0.1299, 14, (0.1235, 0.1295, 0.0005)),
    (2.0, 2000.0, 14, (200.0, 1800.0, 200.0)), (0.0, 1.0, 5, (0.5, 0.5, 0.5)),
])
def test_nice_levels_are_the_ones_plotly_picks(lo, hi, count, expected):
    levels = nice_levels(lo, hi, count)
    start, end, size = expected
    np.testing.assert_allclose(levels, np.arange(start, end + size / 2, size), rtol=1e-12, atol=1e-15)
    assert nice_levels(1.0, 1.0, 14).size == 0
