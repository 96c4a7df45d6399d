"""Figure builders of the model pages: the plotted values are the core's numbers, matrices are on a
diverging scale centred at 0, block outlines sit at multiples of D, and big matrices are downsampled."""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
import pytest

from hessian_explorer.classification import analyse_softmax
from hessian_explorer.datasets import generate_regression, load_classification
from hessian_explorer.figures.models import (
    MAX_HEATMAP_CELLS,
    block_heatmap,
    design_rows,
    eigenvalue_figure,
    exercise_steps,
    fit_figure,
    matrix_panel,
    parameter_rows,
    pool_matrix,
    profile_figure,
    slice_figure,
    spectrum_figure,
)
from hessian_explorer.figures.style import DIVERGING, NORMAL, PRESENTATION
from hessian_explorer.landscapes import least_squares_slice, profile_along
from hessian_explorer.regression import Basis, fit_least_squares, worked_exercise


def trace(fig: go.Figure, name: str):
    (found,) = [t for t in fig.data if (t.name or "").startswith(name)]
    return found


@pytest.fixture
def fit():
    data = generate_regression("sine", n=15, seed=2)
    return fit_least_squares(data.x, data.y, Basis("polynomial", degree=3))


@pytest.fixture(scope="module")
def softmax_fit():
    data = load_classification("blobs", k=3, d=2, n_per_class=15)
    return analyse_softmax(data.X, data.labels, l2=1.0)


def _centred(t) -> bool:
    return t.zmid == 0 and t.zmin == -t.zmax and t.colorscale is not None


@pytest.mark.parametrize("theme", [NORMAL, PRESENTATION])
def test_fit_figure_plots_the_data_and_the_fitted_curve(fit, theme):
    fig = fit_figure(fit, theme, truth=np.sin(np.pi * fit.grid))
    np.testing.assert_array_equal(trace(fig, "data").y, fit.y)
    curve = trace(fig, "fit")
    np.testing.assert_allclose(curve.y, fit.basis.design(fit.grid) @ fit.theta)
    assert curve.line.width == pytest.approx(theme.line_width * 1.2)
    assert trace(fig, "data").marker.size == theme.marker_size
    assert trace(fig, "true curve").line.dash == "dot"


def test_fit_figure_shows_other_minimisers_when_not_unique():
    bad = fit_least_squares([0.0, 1.0, 1.0], [1.0, 2.0, 3.0], Basis("polynomial", degree=2))
    fig = fit_figure(bad, NORMAL)
    assert trace(fig, "minimum-norm").line.dash == "dash"
    others = [t for t in fig.data if t.legendgroup == "others"]
    assert len(others) == 2 and "same loss" in others[0].name
    np.testing.assert_allclose(others[0].y, bad.others[0])
    assert not [t for t in fig.data if t.name == "fit φ(x)ᵀθ̂"]


def test_eigenvalue_figure_marks_zero_eigenvalues():
    values = np.array([1e-17, 0.5, 20.0])
    fig = eigenvalue_figure(values, NORMAL, zero_tol=1e-12)
    np.testing.assert_allclose(trace(fig, "λ > 0").y, [0.5, 20.0])
    zero = trace(fig, "λ = 0")
    assert list(zero.x) == ["λ₁"] and zero.customdata[0] == 1e-17
    assert fig.layout.yaxis.type == "log" and list(fig.layout.xaxis.categoryarray) == ["λ₁", "λ₂", "λ₃"]


def test_slice_figure_contours_are_the_loss_and_the_centre_is_marked(fit):
    sl = least_squares_slice(fit.problem, fit.centre, 0, 2, density=11, arrows=5)
    fig = slice_figure(sl, ("θ₀", "θ₂"), NORMAL, angle_deg=45.0, half_width=0.1, show_quadratic=True)
    contour = fig.data[0]
    np.testing.assert_array_equal(contour.z, sl.loss)
    np.testing.assert_array_equal(contour.x, sl.a)
    np.testing.assert_array_equal(contour.y, sl.b)
    np.testing.assert_array_equal(trace(fig, "quadratic model").z, sl.quadratic)
    star = trace(fig, "θ̂")
    assert (star.x[0], star.y[0]) == (fit.centre[0], fit.centre[2])
    line = trace(fig, "direction")
    assert line.x[1] - line.x[0] == pytest.approx(0.2 * np.cos(np.radians(45)))
    arrows = trace(fig, "∇L")
    assert np.isnan(np.asarray(arrows.x, dtype=float)).sum() == 25  # one arrow per grid point (none is exactly zero)


def test_profile_figure_plots_the_profile(fit):
    prof = profile_along(fit.problem.loss, fit.problem.gradient(fit.centre), fit.hessian, fit.centre, 0, 1, 30.0, 0.5)
    fig = profile_figure(prof, NORMAL, exact=True)
    np.testing.assert_allclose(fig.data[0].y, prof.values)
    np.testing.assert_allclose(fig.data[1].y, prof.quadratic)
    assert "identical" in fig.data[1].name


def test_tables_show_phi_and_theta(fit):
    rows = design_rows(fit, 4)
    assert len(rows) == 4 and list(rows[0]) == ["n", "input x", "1", "x", "x²", "x³"]
    assert [float(rows[k]["x²"]) for k in range(4)] == pytest.approx(fit.Phi[:4, 2], rel=1e-3)
    params = parameter_rows(fit)
    assert [p["parameter"] for p in params] == ["θ₀", "θ₁", "θ₂", "θ₃"]
    assert float(params[1]["θ̂"]) == pytest.approx(fit.theta[1], rel=1e-5)


def test_pool_matrix_averages_tiles_and_keeps_centres_in_index_units():
    m = np.arange(25.0).reshape(5, 5)
    pooled, centres, f = pool_matrix(m, max_cells=2)
    assert f == 3 and pooled.shape == (2, 2)
    assert pooled[0, 0] == pytest.approx(m[:3, :3].mean()) and pooled[1, 1] == pytest.approx(m[3:, 3:].mean())
    np.testing.assert_allclose(centres, [1.0, 3.5])
    same, centres, f = pool_matrix(m)
    assert f == 1 and np.array_equal(same, m) and np.array_equal(centres, np.arange(5))


def test_block_heatmap_is_the_hessian_with_outlines_at_multiples_of_d(softmax_fit):
    H, D = softmax_fit.hessian, softmax_fit.model.n_features
    fig = block_heatmap(H, D, NORMAL, labels=softmax_fit.labels, block_labels=["ω⁽¹⁾", "ω⁽²⁾", "ω⁽³⁾"])
    heat = fig.data[0]
    np.testing.assert_array_equal(heat.z, H)
    assert _centred(heat) and heat.colorscale[0][1] == go.Heatmap(colorscale=DIVERGING).colorscale[0][1]
    assert heat.zmax == pytest.approx(np.abs(H).max())
    verticals = sorted({s.x0 for s in fig.layout.shapes if s.x0 == s.x1})
    assert verticals == [k * D - 0.5 for k in range(4)]
    assert list(fig.layout.xaxis.ticktext) == list(softmax_fit.labels)


def test_big_block_heatmaps_are_downsampled_with_outlines_in_place():
    H = np.random.default_rng(0).standard_normal((250, 250))
    H = H + H.T
    fig = block_heatmap(H, 50, NORMAL, block_labels=[f"b{k}" for k in range(5)])
    heat = fig.data[0]
    assert np.asarray(heat.z).shape[0] <= MAX_HEATMAP_CELLS and "mean of 3×3 tiles" in heat.hovertemplate
    verticals = sorted({s.x0 for s in fig.layout.shapes if s.x0 == s.x1})
    assert verticals == [k * 50 - 0.5 for k in range(6)]
    assert list(fig.layout.xaxis.tickvals) == [24.5, 74.5, 124.5, 174.5, 224.5]
    assert _centred(heat)


def test_matrix_panel_is_centred_and_annotated():
    fig = matrix_panel(np.array([[0.25], [-1.0]]), ["1", "2"], ["p"], NORMAL, title="p")
    heat = fig.data[0]
    assert _centred(heat) and heat.zmax == 1.0 and [list(r) for r in heat.text] == [["0.25"], ["-1"]]


def test_spectrum_figure_dense_and_lanczos(softmax_fit):
    fig = spectrum_figure(softmax_fit, NORMAL)
    plotted = np.r_[trace(fig, "λ > 0").y, trace(fig, "λ = 0").y]
    np.testing.assert_allclose(np.sort(plotted), np.sort(softmax_fit.eigenvalues))
    assert len(trace(fig, "λ = 0").y) == softmax_fit.model.n_features
    data = load_classification("blobs", k=6, d=20, n_per_class=10)
    big = analyse_softmax(data.X, data.labels, l2=1.0)
    fig = spectrum_figure(big, NORMAL)
    np.testing.assert_allclose(trace(fig, "Lanczos").y, big.top.values)
    np.testing.assert_allclose(trace(fig, "spectral density").y, big.density.density)


def test_exercise_steps_carry_the_numbers():
    steps = exercise_steps(worked_exercise([-1.0, 0.0, 2.0], [2.0, 1.0, 5.0]))
    text = " ".join(a + " " + b for a, b in steps)
    assert "y = 1 + 0·x + 1·x²" in text and "= 6," in text and "positive definite" in text
    assert all(a for a, _ in steps)
    failed = " ".join(a + " " + b for a, b in exercise_steps(worked_exercise([1.0, 1.0, 2.0], [0.0, 1.0, 2.0])))
    assert "fails" in failed and "not unique" in failed and r"\lambda(H) = 0," in failed
