"""Figure builders of the outer-products page: the plotted numbers are the core's numbers, in the right places."""

from __future__ import annotations

import itertools

import numpy as np
import plotly.graph_objects as go
import pytest

from apptest_support import path_pieces
from hessian_explorer.figures import outer_products as figs
from hessian_explorer.figures.landscape import nice_levels
from hessian_explorer.figures.style import NORMAL, PRESENTATION
from hessian_explorer.outer_product_examples import (blob_classification, fisher_sandbox, gauss_newton_demo,
                                                     kunstner_figure1)
from hessian_explorer.outer_products import (KUNSTNER_STARTS, KunstnerTrajectories, KunstnerVectorFields,
                                             exponential_model)

TOL = 10.0 ** -figs.DECIMALS  # plotted coordinates are rounded to DECIMALS places


@pytest.fixture(scope="module")
def fig1():
    return kunstner_figure1()


def _by_meta(fig: go.Figure, meta: str):
    (trace,) = [t for t in fig.data if t.meta == meta]
    return trace


def _shape(fig: go.Figure, name: str):
    (shape,) = [s for s in fig.layout.shapes if s.name == name]
    return shape


def _arrows(trace) -> list[tuple[np.ndarray, np.ndarray]]:
    """(tail, tip) pairs from a ``[tail, tip, None]`` polyline."""
    x, y = np.asarray(trace.x, dtype=float), np.asarray(trace.y, dtype=float)
    assert len(x) % 3 == 0 and np.isnan(x[2::3]).all() and np.isnan(y[2::3]).all()
    return [(np.array([x[k], y[k]]), np.array([x[k + 1], y[k + 1]])) for k in range(0, len(x), 3)]


def _drawn_arrows(fig: go.Figure, m: int) -> list[tuple[np.ndarray, np.ndarray]]:
    """(tail, tip) of each arrow of panel ``m`` as drawn: tails from the shafts, tips from the heads
    (path shapes: a line per shaft, a filled triangle per head, its first corner the tip)."""
    shaft, head = _shape(fig, f"arrows:{m}"), _shape(fig, f"heads:{m}")
    shafts, heads = path_pieces(shaft.path), path_pieces(head.path)
    assert len(heads) == len(shafts) == head.path.count("Z") and shaft.path.count("Z") == 0
    assert all(s.shape == (2, 2) for s in shafts) and all(h.shape == (3, 2) for h in heads)
    assert head.fillcolor == figs.ARROW_COLOR and head.line.width == 0 and shaft.line.color == figs.ARROW_COLOR
    assert shaft.layer == head.layer == "below" and shaft.legendgroup == head.legendgroup == "arrows"
    return [(s[0], h[0]) for s, h in zip(shafts, heads)]


def _assert_arrow_along(tail, head, point, d, cell):
    np.testing.assert_allclose(tail, point, atol=TOL)
    step = head - tail
    assert np.linalg.norm(step) <= 0.9 * cell + 2 * TOL
    cos = step @ d / (np.linalg.norm(step) * np.linalg.norm(d))
    assert cos > 1 - 1e-5, f"arrow at {point} points along {step}, field is {d}"


# -- quiver indexing ---------------------------------------------------------------------------


def test_quiver_arrows_on_a_non_square_grid_use_index_i_for_slope_and_j_for_b():
    b, slope = np.array([0.0, 1.0, 2.0, 3.0]), np.array([10.0, 20.0, 30.0])
    d = np.zeros((3, 4, 2))
    for i, j in itertools.product(range(3), range(4)):
        d[i, j] = (j + 1.0, -(i + 1.0))  # distinct at every grid point, not symmetric
    d[1, 2] = 0.0  # no arrow where the field vanishes
    xs, ys = figs.quiver_arrows(b, slope, d, cell=1.0, reference=1.0)
    arrows = _arrows(go.Scatter(x=xs, y=ys))
    expected = [(i, j) for i, j in itertools.product(range(3), range(4)) if (i, j) != (1, 2)]
    assert len(arrows) == len(expected)
    for (tail, head), (i, j) in zip(arrows, expected):
        _assert_arrow_along(tail, head, (b[j], slope[i]), d[i, j], 1.0)
    with pytest.raises(ValueError, match="len\\(slope\\), len\\(b\\)"):
        figs.quiver_arrows(b, slope, d.transpose(1, 0, 2), cell=1.0, reference=1.0)


def test_quiver_lengths_share_one_scale_with_square_root():
    b, slope = np.array([0.0, 1.0]), np.array([0.0])
    d = np.array([[[4.0, 0.0], [1.0, 0.0]]])
    xs, _ = figs.quiver_arrows(b, slope, d, cell=1.0, reference=4.0)
    assert xs[1] - xs[0] == pytest.approx(0.9) and xs[4] - xs[3] == pytest.approx(0.45)


def _toy_fields():
    """3 x 4 fields ([i, j] at (b[j], slope[i])) whose three methods differ, and a two-start trajectory set."""
    b, slope = np.array([-1.0, 0.0, 1.0, 2.0]), np.array([0.0, 1.5, 3.0])
    rng = np.random.default_rng(0)
    gd, ngd, ef = (rng.standard_normal((3, 4, 2)) for _ in range(3))
    fields = KunstnerVectorFields(b, slope, rng.random((3, 4)), gd, ngd, ef, np.array([0.5, 1.0]))
    starts = np.array([[2.0, 3.0], [-1.0, 0.0]])
    paths = tuple(tuple(np.vstack([s, [0.5, 1.0]]) for s in starts) for _ in range(3))
    traj = KunstnerTrajectories(starts, paths, np.ones((3, 2), int), np.ones((3, 2), bool), 0.001, 10)
    return fields, traj


@pytest.mark.parametrize("columns", [3, 2])
def test_fields_figure_draws_each_method_at_its_grid_points(columns):
    fields, traj = _toy_fields()
    fig = figs.kunstner_fields_figure(fields, traj, NORMAL, columns=columns)
    for m, d in enumerate((fields.gd, fields.ngd, fields.ef)):
        axis = "x" if m == 0 else f"x{m + 1}"
        assert _shape(fig, f"arrows:{m}").xref == _shape(fig, f"heads:{m}").xref == axis
        assert _shape(fig, f"arrows:{m}").yref == _shape(fig, f"heads:{m}").yref == axis.replace("x", "y")
        arrows = _drawn_arrows(fig, m)
        assert len(arrows) == 12
        for (tail, head), (i, j) in zip(arrows, itertools.product(range(3), range(4))):
            _assert_arrow_along(tail, head, (fields.b[j], fields.slope[i]), d[i, j], 1.0)
        for k, start in enumerate(traj.starts):
            path = _by_meta(fig, f"path:{m}:{k}")
            assert (path.x[0], path.y[0]) == tuple(start) and (path.x[-1], path.y[-1]) == (0.5, 1.0)
            marker = _by_meta(fig, f"start:{m}:{k}")
            assert (marker.x[0], marker.y[0]) == tuple(start)
    (legend,) = [t for t in fig.data if t.legendgroup == "arrows"]  # the arrows' entry: it shows and hides them
    assert legend.name == "update direction" and legend.showlegend is not False and list(legend.x) == [None]
    layout = fig.layout
    assert layout.xaxis.title.text == "θ₀ (bias)" and layout.yaxis.title.text == "θ₁ (slope)"
    if columns == 2:  # 2 x 2: the EF panel sits below the GD panel
        assert layout.yaxis3.domain[1] < layout.yaxis.domain[0]
    with pytest.raises(ValueError):
        figs.kunstner_fields_figure(fields, traj, NORMAL, columns=4)


def test_fields_figure_of_the_paper_matches_the_core(fig1):
    fields = fig1.fields
    fig = figs.kunstner_fields_figure(fields, fig1.trajectories, PRESENTATION,
                                      contours=(fig1.contour_b, fig1.contour_slope, fig1.contour_loss))
    cell = fields.b[1] - fields.b[0]
    for m, d in enumerate((fields.gd, fields.ngd, fields.ef)):
        arrows = _drawn_arrows(fig, m)
        assert len(arrows) == 225
        for (tail, head), (i, j) in zip(arrows, itertools.product(range(15), range(15))):
            _assert_arrow_along(tail, head, (fields.b[j], fields.slope[i]), d[i, j], cell)
        for k, start in enumerate(KUNSTNER_STARTS):
            path = _by_meta(fig, f"path:{m}:{k}")
            assert len(path.x) <= 152
            np.testing.assert_allclose((path.x[0], path.y[0]), start, atol=TOL)
            np.testing.assert_allclose((path.x[-1], path.y[-1]), fig1.trajectories.paths[m][k][-1], atol=TOL)
    # natural-gradient paths end at the minimiser
    for k in range(4):
        path = _by_meta(fig, f"path:1:{k}")
        np.testing.assert_allclose((path.x[-1], path.y[-1]), fields.minimiser, atol=1e-3)
    # grey loss contours, the same in every panel: each point on a round level of √(L − min L)
    contours = [_shape(fig, f"contours:{m}") for m in range(3)]
    assert len({c.path for c in contours}) == 1 and [c.xref for c in contours] == ["x", "x2", "x3"]
    x, y = np.concatenate(path_pieces(contours[0].path)).T
    ok = np.isfinite(x)
    assert ok.sum() > 100
    problem = fig1.problem
    root = np.sqrt([problem.loss([b, s]) - fig1.contour_loss.min() for b, s in zip(x[ok], y[ok])])
    levels = nice_levels(0.0, float(np.sqrt(np.ptp(fig1.contour_loss))), 14)
    step = levels[1] - levels[0]
    off = np.min(np.abs(root[:, None] - levels[None, :]), axis=1)
    assert off.max() < 0.02 * step  # on a level, up to interpolation in a cell and 4 decimals
    assert len(set(np.argmin(np.abs(root[:, None] - levels[None, :]), axis=1))) >= len(levels) - 2


def test_thin_path_keeps_the_ends_and_spaces_points_by_arc_length():
    t = np.linspace(0, 1, 5000) ** 3  # bunched at the start
    path = np.column_stack([t, 2 * t])
    thin = figs.thin_path(path, 100)
    assert len(thin) <= 102
    np.testing.assert_array_equal(thin[0], path[0])
    np.testing.assert_array_equal(thin[-1], path[-1])
    gaps = np.hypot(*np.diff(thin, axis=0).T)
    assert gaps.max() < 3 * np.median(gaps)
    short = path[:50]
    assert figs.thin_path(short, 100) is not None and len(figs.thin_path(short, 100)) == 50


def test_data_figure_draws_the_fit_at_the_minimiser(fig1):
    fig = figs.kunstner_data_figure(fig1, NORMAL)
    scatter, truth, fit = fig.data
    np.testing.assert_allclose(scatter.x, fig1.problem.x, atol=1e-3)
    np.testing.assert_allclose(truth.y, fig1.curve_y)
    b, s = fig1.problem.minimiser()
    np.testing.assert_allclose(fit.y, b + s * np.asarray(fit.x))


# -- the Fisher identity by sampling -------------------------------------------------------------


@pytest.fixture(scope="module")
def sandbox():
    return fisher_sandbox(blob_classification(), 1000, 0, 0.05)


def test_convergence_curves_model_labels_fall_noisy_labels_level_off(sandbox):
    fig = figs.fisher_convergence_figure(sandbox, NORMAL, max_points=120)
    model, noisy, ref = _by_meta(fig, "model"), _by_meta(fig, "noisy"), _by_meta(fig, "reference")
    n = np.asarray(model.x)
    assert n[0] == 1 and n[-1] == 1000 and len(n) <= 120 and np.all(np.diff(n) > 0)
    np.testing.assert_allclose(model.y, sandbox.model_error[n - 1])
    np.testing.assert_allclose(noisy.y, sandbox.noisy_error[n - 1])
    np.testing.assert_allclose(np.asarray(ref.y) * np.sqrt(n), ref.y[0])  # a 1/sqrt(n) line
    model_y, noisy_y = np.asarray(model.y), np.asarray(noisy.y)
    assert model_y[-10:].mean() < 0.1 * model_y[:3].mean()  # decreases toward 0
    late = noisy_y[n >= 100]
    assert late.std() < 0.1 * late.mean() and late.mean() > 10 * model_y[-1]  # levels off, far from 0
    assert _by_meta(fig, "floor").y[0] == pytest.approx(sandbox.noisy_floor)
    assert _by_meta(fig, "observed").y[0] == pytest.approx(sandbox.observed_level)
    assert fig.layout.xaxis.type == "log" and fig.layout.yaxis.type == "log"


def test_blob_figure_one_trace_per_class():
    problem = blob_classification()
    fig = figs.blob_figure(problem, NORMAL)
    assert [t.name for t in fig.data] == ["class 1", "class 2", "class 3"]
    np.testing.assert_allclose(fig.data[1].x, problem.points[problem.model.labels == 1, 0])


# -- matrices --------------------------------------------------------------------------------------


def test_matrix_row_shares_one_zero_centred_scale():
    A = np.array([[1.0, -2.0], [-2.0, 0.5]])
    B = np.array([[3.0, 0.0], [0.0, 1e-12]])
    C = np.array([[-0.5, 0.25], [0.25, 0.0]])
    fig = figs.matrix_row([A, B, C], ["a", "b"], ["A", "B", "C"], NORMAL)
    heatmaps = [t for t in fig.data if t.type == "heatmap"]
    assert len(heatmaps) == 3 and {t.coloraxis for t in heatmaps} == {"coloraxis"}
    for t, M in zip(heatmaps, (A, B, C)):
        np.testing.assert_array_equal(np.array(t.z), M)
    axis = fig.layout.coloraxis
    assert axis.cmid == 0 and axis.cmax == 3.0 and axis.cmin == -3.0
    assert heatmaps[1].text[1][1] == "≈0" and heatmaps[0].text[0][1] == "-2"


@pytest.mark.parametrize("theme, size, annotated", [(NORMAL, 6, True), (PRESENTATION, 6, False),
                                                     (PRESENTATION, 2, True)])
def test_matrix_row_writes_entries_only_when_they_fit(theme, size, annotated):
    fig = figs.matrix_row([np.eye(size)], [str(k) for k in range(size)], ["I"], theme)
    assert (fig.data[0].text is not None) == annotated


# -- Gauss-Newton ---------------------------------------------------------------------------------


def test_exponential_fit_figure_draws_residuals_from_data_to_curve():
    demo = gauss_newton_demo(0.5, (0.8, 0.2))
    fig = figs.exponential_fit_figure(demo, NORMAL)
    residuals, curve, data = fig.data
    fx = exponential_model(demo.comparison.theta, demo.x)
    ys = list(residuals.y)
    np.testing.assert_allclose(ys[0::3], demo.y)
    np.testing.assert_allclose(ys[1::3], fx)
    np.testing.assert_allclose(np.asarray(ys[1::3]) - np.asarray(ys[0::3]), demo.comparison.residuals)
    np.testing.assert_allclose(curve.y, exponential_model(demo.comparison.theta, np.asarray(curve.x)))
    np.testing.assert_allclose(data.y, demo.y)
