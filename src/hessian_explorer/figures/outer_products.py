"""Figures for "outer products done right": Kunstner et al.'s Figure 1, the Fisher identity by
sampling, and rows of matrices on one shared 0-centred colour scale."""

from __future__ import annotations

from fractions import Fraction
from typing import Sequence

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from hessian_explorer.figures.landscape import (SHAPE_LAYER, level_lines, nice_levels, path_data, quiver_segments,
                                               quiver_shapes)
from hessian_explorer.figures.matrices import symmetric_limit
from hessian_explorer.figures.style import DIVERGING, OKABE_ITO, Theme, apply_theme, fmt
from hessian_explorer.outer_product_examples import BlobProblem, FisherSandbox, GaussNewtonDemo, KunstnerFigure1
from hessian_explorer.outer_products import (KUNSTNER_STEP_SIZES, KunstnerTrajectories, KunstnerVectorFields,
                                             exponential_model)

__all__ = ["quiver_arrows", "thin_path", "kunstner_data_figure", "kunstner_fields_figure", "blob_figure",
           "fisher_convergence_figure", "matrix_row", "exponential_fit_figure", "METHOD_TITLES", "START_COLORS",
           "ARROW_COLOR", "DECIMALS"]

ARROW_COLOR = "#3a3a3a"
CONTOUR_COLOR = "#9a9a9a"
#: Plotted coordinates of the dense Figure 1 traces are rounded to this many decimals (payload size).
DECIMALS = 4
START_COLORS = (OKABE_ITO["orange"], OKABE_ITO["sky"], OKABE_ITO["green"], OKABE_ITO["purple"])
CLASS_COLORS = (OKABE_ITO["blue"], OKABE_ITO["orange"], OKABE_ITO["green"])
_STEPS = tuple(str(Fraction(s).limit_denominator(10)) for s in KUNSTNER_STEP_SIZES)
METHOD_TITLES = (
    f"Gradient descent<br>step {_STEPS[0]}",
    f"Natural gradient<br>step {_STEPS[1]}",
    f"Empirical Fisher<br>step {_STEPS[2]}",
)
AXIS_LABELS = ("θ₀ (bias)", "θ₁ (slope)")


def quiver_arrows(b: np.ndarray, slope: np.ndarray, d: np.ndarray, cell: float, reference: float):
    """Arrow polylines ``(xs, ys)`` for a field ``d`` (len(slope), len(b), 2).

    Arrow [i, j] starts AT the grid point ``(b[j], slope[i])`` (matplotlib's pivot "tail", as in
    the paper), points along ``d[i, j]`` and is ``0.9 cell min(1, sqrt(|d| / reference))`` long
    (at least ``0.12 cell``): one scale for every panel that passes the same ``reference``, square
    root so short steps stay visible.  Zero or non-finite vectors get no arrow.  Arrows are
    ``[tail, tip, nan]`` triples in row-major order (i outer, j inner)
    (see :func:`~hessian_explorer.figures.landscape.quiver_segments`).
    Coordinates are rounded to ``DECIMALS`` places (a lighter chart; far below a pixel).
    """
    d = np.asarray(d, dtype=float)
    if d.shape != (len(slope), len(b), 2):
        raise ValueError(f"field must have shape (len(slope), len(b), 2) = ({len(slope)}, {len(b)}, 2), "
                         f"got {d.shape}")
    B, S = np.meshgrid(np.asarray(b, dtype=float), np.asarray(slope, dtype=float))
    xs, ys = quiver_segments(B, S, d[..., 0], d[..., 1], cell, reference=reference, pivot="tail")
    return np.round(xs, DECIMALS), np.round(ys, DECIMALS)


def thin_path(path: np.ndarray, max_points: int = 250) -> np.ndarray:
    """At most ``max_points`` points of a (T, 2) path, evenly spaced in arc length; ends kept."""
    path = np.asarray(path, dtype=float)
    if len(path) <= max_points:
        return path
    arc = np.r_[0.0, np.cumsum(np.hypot(*np.diff(path, axis=0).T))]
    if arc[-1] <= 0:
        return path[[0, -1]]
    idx = np.unique(np.r_[0, np.searchsorted(arc, np.linspace(0, arc[-1], max_points)), len(path) - 1])
    return path[np.minimum(idx, len(path) - 1)]


def kunstner_data_figure(fig1: KunstnerFigure1, theme: Theme, title: str | None = None) -> go.Figure:
    """The regression data (x, y), the fitted line at the minimiser θ* and the data-generating curve."""
    p = fig1.problem
    b, s = p.minimiser()
    xl = np.array([0.0, float(p.x.max())])
    fig = go.Figure([
        go.Scatter(x=np.round(p.x, 3), y=np.round(p.y, 3), mode="markers", name=f"data (N = {p.n})",
                   marker=dict(size=max(3, theme.marker_size // 3), color=OKABE_ITO["sky"], opacity=0.6),
                   hovertemplate="x=%{x:.3g}, y=%{y:.3g}<extra></extra>"),
        go.Scatter(x=fig1.curve_x, y=fig1.curve_y, mode="lines", name="truth 2 + 2x"
                   + (f" + {fmt(fig1.misspecification, 3)}x²" if fig1.misspecification else ""),
                   line=dict(color=OKABE_ITO["black"], width=theme.line_width * 0.8, dash="dash")),
        go.Scatter(x=xl, y=b + s * xl, mode="lines", name=f"fit θ* = ({fmt(b, 3)}, {fmt(s, 3)})",
                   line=dict(color=OKABE_ITO["vermillion"], width=theme.line_width)),
    ])
    fig.update_xaxes(title_text="x")
    fig.update_yaxes(title_text="y")
    fig = apply_theme(fig, theme, title)
    fig.update_layout(legend=dict(orientation="h", yanchor="top", y=-0.18, x=0))
    return fig


def kunstner_fields_figure(fields: KunstnerVectorFields, trajectories: KunstnerTrajectories, theme: Theme, *,
                           contours: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None,
                           titles: Sequence[str] = METHOD_TITLES, max_points: int = 150,
                           columns: int = 3) -> go.Figure:
    """Kunstner et al.'s Figure 1: three update fields (GD, natural gradient, EF) side by side.

    Each panel: grey loss contours (lines of √(loss − its minimum) at round levels, see
    :func:`~hessian_explorer.figures.landscape.nice_levels`; ``contours = (b, slope, loss)``,
    loss[i, j] at ``(b[j], slope[i])``; default ``fields.loss``), the field as arrows from the
    grid points (one length scale for all three panels, see :func:`quiver_arrows`), the
    trajectories from each start in its own colour (thinned to ``max_points``) and the minimiser
    θ* as a star; dense coordinates are rounded to ``DECIMALS`` places.
    ``columns=3`` puts the panels in a row; ``columns=2`` makes a 2 x 2 grid (bigger panels for
    projectors) with the legend in the free fourth cell.
    """
    if columns not in (2, 3):
        raise ValueError(f"columns must be 2 or 3, got {columns!r}")
    rows = 1 if columns == 3 else 2
    fig = make_subplots(rows=rows, cols=columns, subplot_titles=list(titles), horizontal_spacing=0.05,
                        vertical_spacing=0.15)
    cb, cs, loss = contours if contours is not None else (fields.b, fields.slope, fields.loss)
    level = np.sqrt(np.maximum(loss - np.min(loss), 0.0))  # evenly spaced ellipses
    # traced once here and drawn as a shape (a contour trace is traced in the browser, per panel and draw)
    line_x, line_y, _ = level_lines(cb, cs, level, nice_levels(level.min(), level.max(), 14))
    methods = (fields.gd, fields.ngd, fields.ef)
    mags = np.concatenate([np.hypot(*m.reshape(-1, 2).T) for m in methods])
    mags = mags[np.isfinite(mags) & (mags > 0)]
    reference = float(np.percentile(mags, 95)) if mags.size else 1.0
    cell = float(min(np.min(np.diff(fields.b)), np.min(np.diff(fields.slope))))
    lo = min(fields.b[0], fields.slope[0]) - 0.3 * cell
    hi = max(fields.b[-1], fields.slope[-1]) + 0.3 * cell
    contour_path = path_data(line_x, line_y, decimals=DECIMALS)
    shapes = []
    for m, (d, paths) in enumerate(zip(methods, trajectories.paths)):
        row, col, first = m // columns + 1, m % columns + 1, m == 0
        suffix = "" if first else str(m + 1)
        refs = dict(xref=f"x{suffix}", yref=f"y{suffix}")
        # static line art as shapes (see path_data): contours, then the arrows above them
        shapes.append(dict(type="path", path=contour_path, layer=SHAPE_LAYER, name=f"contours:{m}",
                           line=dict(color=CONTOUR_COLOR, width=1), **refs))
        shaft, head = quiver_shapes(
            *quiver_arrows(fields.b, fields.slope, d, cell, reference), cell, scale=0.8, decimals=DECIMALS,
            line=dict(color=ARROW_COLOR, width=theme.arrow_width * 0.8), fillcolor=ARROW_COLOR, legendgroup="arrows",
            **refs)
        shapes += [dict(shaft, name=f"arrows:{m}"), dict(head, name=f"heads:{m}")]
        if first:  # the arrows' legend entry, which also shows and hides them
            fig.add_trace(go.Scatter(x=[None], y=[None], mode="lines", name="update direction", legendgroup="arrows",
                                     line=dict(color=ARROW_COLOR, width=theme.arrow_width * 2), hoverinfo="skip"),
                          row, col)
        for k, (start, path) in enumerate(zip(trajectories.starts, paths)):
            color = START_COLORS[k % len(START_COLORS)]
            pts = np.round(thin_path(path, max_points), DECIMALS)
            fig.add_trace(go.Scatter(
                x=pts[:, 0], y=pts[:, 1], mode="lines", name=f"from ({fmt(start[0], 3)}, {fmt(start[1], 3)})",
                legendgroup=f"start{k}", showlegend=first, meta=f"path:{m}:{k}",
                line=dict(color=color, width=theme.line_width), hoverinfo="skip"), row, col)
            fig.add_trace(go.Scatter(
                x=[start[0]], y=[start[1]], mode="markers", legendgroup=f"start{k}", showlegend=False,
                meta=f"start:{m}:{k}",
                marker=dict(size=theme.marker_size, color=color, line=dict(color="black", width=1.5)),
                hovertemplate=f"start ({fmt(start[0])}, {fmt(start[1])})<extra></extra>"), row, col)
        theta = fields.minimiser
        fig.add_trace(go.Scatter(
            x=[theta[0]], y=[theta[1]], mode="markers", name="minimiser θ*", legendgroup="min", showlegend=first,
            marker=dict(symbol="star", size=theme.marker_size * 1.6, color="white", line=dict(color="black", width=2)),
            hovertemplate=f"θ* = ({fmt(theta[0])}, {fmt(theta[1])})<extra></extra>"), row, col)
        fig.update_xaxes(range=[lo, hi], title_text=AXIS_LABELS[0], row=row, col=col, constrain="domain")
        fig.update_yaxes(range=[lo, hi], title_text=AXIS_LABELS[1] if col == 1 else None, row=row, col=col,
                         scaleanchor=f"x{suffix}", scaleratio=1, constrain="domain")
    fig.update_annotations(font_size=theme.font_size)
    fig.update_layout(shapes=shapes)
    fig = apply_theme(fig, theme)
    if columns == 3:
        fig.update_layout(legend=dict(orientation="h", yanchor="top", y=-0.16, x=0), margin=dict(t=80, b=10))
    else:  # the empty bottom-right cell holds the legend
        fig.update_layout(legend=dict(orientation="v", yanchor="middle", y=0.25, xanchor="left", x=0.6),
                          height=int(theme.height * 1.7), margin=dict(t=80, b=10))
    return fig


def blob_figure(problem: BlobProblem, theme: Theme, title: str | None = None) -> go.Figure:
    """The three-class data set of the Fisher sandbox, one colour per class."""
    fig = go.Figure()
    for k in range(problem.model.n_classes):
        pts = problem.points[problem.model.labels == k]
        fig.add_trace(go.Scatter(x=pts[:, 0], y=pts[:, 1], mode="markers", name=f"class {k + 1}",
                                 marker=dict(size=theme.marker_size * 0.8, color=CLASS_COLORS[k % 3],
                                             line=dict(color="white", width=1)),
                                 hovertemplate="x₁=%{x:.3g}, x₂=%{y:.3g}<extra></extra>"))
    fig.update_xaxes(title_text="x₁")
    fig.update_yaxes(title_text="x₂", scaleanchor="x")
    fig = apply_theme(fig, theme, title)
    fig.update_layout(legend=dict(orientation="h", yanchor="top", y=-0.18, x=0))
    return fig


def _log_indices(n: int, k: int) -> np.ndarray:
    return np.unique(np.round(np.geomspace(1, n, min(n, k))).astype(int)) - 1


def fisher_convergence_figure(sb: FisherSandbox, theme: Theme, *, max_points: int = 200,
                              title: str | None = None) -> go.Figure:
    """Relative error of the running average of Σ sₙsₙᵀ against H, versus draws n (log-log).

    Model labels (blue) follow the exact expected error σ/(√n‖H‖) (dashed); noisy labels
    (vermillion) level off at their limit (dotted); observed labels give the empirical Fisher at
    every n (green dash-dot).  At most ``max_points`` log-spaced n are drawn.
    """
    idx = _log_indices(len(sb.n_samples), max_points)
    n = sb.n_samples[idx]
    ends = [float(n[0]), float(n[-1])]
    lw = theme.line_width
    fig = go.Figure([
        go.Scatter(x=n, y=sb.model_error[idx], mode="lines", name="labels drawn from the model",
                   line=dict(color=OKABE_ITO["blue"], width=lw), meta="model",
                   hovertemplate="n=%{x}: %{y:.3g}<extra>model labels</extra>"),
        go.Scatter(x=n, y=sb.reference[idx], mode="lines", name="expected: σ/(√n ‖H‖) ∝ 1/√n",
                   line=dict(color=OKABE_ITO["blue"], width=lw * 0.6, dash="dash"), meta="reference",
                   hovertemplate="n=%{x}: %{y:.3g}<extra>1/√n</extra>"),
        go.Scatter(x=n, y=sb.noisy_error[idx], mode="lines",
                   name=f"noisy labels ({fmt(100 * sb.flip, 3)}% moved to the next class)",
                   line=dict(color=OKABE_ITO["vermillion"], width=lw), meta="noisy",
                   hovertemplate="n=%{x}: %{y:.3g}<extra>noisy labels</extra>"),
    ])
    if sb.noisy_floor > 0:
        fig.add_trace(go.Scatter(x=ends, y=[sb.noisy_floor] * 2, mode="lines", name="limit for noisy labels",
                                 line=dict(color=OKABE_ITO["vermillion"], width=lw * 0.6, dash="dot"),
                                 meta="floor", hovertemplate="%{y:.3g}<extra>limit</extra>"))
    fig.add_trace(go.Scatter(x=ends, y=[sb.observed_level] * 2, mode="lines",
                             name="observed labels = empirical Fisher (every n)", meta="observed",
                             line=dict(color=OKABE_ITO["green"], width=lw, dash="dashdot"),
                             hovertemplate="%{y:.3g}<extra>empirical Fisher</extra>"))
    fig.update_xaxes(type="log", dtick=1, title_text="number of label draws n")
    fig.update_yaxes(type="log", dtick=1, title_text="relative error ‖avg − H‖ / ‖H‖", exponentformat="power")
    fig = apply_theme(fig, theme, title, height=theme.height + 100)  # room for the five-line legend below
    fig.update_layout(legend=dict(orientation="h", yanchor="top", y=-0.2, x=0))
    return fig


def _cell_text(value: float, zmax: float) -> str:
    """``fmt(value, 3)``, or "≈0" below a millionth of the colour scale (rounding noise)."""
    return "≈0" if value != 0 and abs(value) < 1e-6 * zmax else fmt(value, 3)


def matrix_row(matrices: Sequence[np.ndarray], labels: Sequence[str], titles: Sequence[str], theme: Theme, *,
               height: int | None = None, annotate: bool | None = None) -> go.Figure:
    """Square matrices side by side on ONE colour scale centred at 0 (one colour bar for all).

    Entries are written in the cells when they fit, ``size * theme.annotation_size <= 110`` (6 x 6 in
    the normal theme, 4 x 4 in presentation; ``annotate`` overrides); entries below a millionth of
    the largest are written "≈0" (hover shows the exact value).
    """
    mats = [np.asarray(m, dtype=float) for m in matrices]
    zmax = symmetric_limit(*mats)
    size = mats[0].shape[0]
    annotate = size * theme.annotation_size <= 110 if annotate is None else annotate
    fig = make_subplots(rows=1, cols=len(mats), subplot_titles=list(titles), horizontal_spacing=0.06)
    for col, (m, name) in enumerate(zip(mats, titles), start=1):
        fig.add_trace(go.Heatmap(
            z=m, x=list(labels), y=list(labels), coloraxis="coloraxis", xgap=2, ygap=2, name=name,
            text=[[_cell_text(v, zmax) for v in row] for row in m] if annotate else None,
            texttemplate="%{text}" if annotate else None,
            textfont=dict(size=max(11, theme.annotation_size - (2 if size > 3 else 0))),
            hovertemplate="row %{y}, column %{x}: %{z:.6g}<extra>" + name + "</extra>"), 1, col)
        suffix = "" if col == 1 else str(col)
        fig.update_yaxes(autorange="reversed", scaleanchor=f"x{suffix}", constrain="domain", row=1, col=col,
                         showticklabels=col == 1)
        fig.update_xaxes(constrain="domain", row=1, col=col, tickangle=-45 if size > 3 else 0)
    fig.update_layout(coloraxis=dict(colorscale=DIVERGING, cmin=-zmax, cmax=zmax, cmid=0,
                                     colorbar=dict(thickness=16)))
    fig.update_annotations(font_size=theme.font_size)
    panel = min(60 * size + 80, 1100 // len(mats))  # a panel is about 1/len of a wide page
    fig = apply_theme(fig, theme, None, height=height or max(260, min(theme.height, panel + 120)))
    fig.update_layout(margin=dict(t=50))
    return fig


def exponential_fit_figure(demo: GaussNewtonDemo, theme: Theme, title: str | None = None) -> go.Figure:
    """Data, the model curve exp(a x) + b at θ = (a, b) and the residuals as vertical segments."""
    c = demo.comparison
    xf = np.linspace(float(demo.x.min()), float(demo.x.max()), 120)
    fx = exponential_model(c.theta, demo.x)
    seg_x = [v for x in demo.x for v in (x, x, None)]
    seg_y = [v for y, f in zip(demo.y, fx) for v in (y, f, None)]
    fig = go.Figure([
        go.Scatter(x=seg_x, y=seg_y, mode="lines", name="residuals rₙ",
                   line=dict(color=OKABE_ITO["vermillion"], width=theme.line_width * 0.7), hoverinfo="skip"),
        go.Scatter(x=xf, y=exponential_model(c.theta, xf), mode="lines",
                   name=f"exp({fmt(c.theta[0], 3)}·x) + {fmt(c.theta[1], 3)}",
                   line=dict(color=OKABE_ITO["blue"], width=theme.line_width)),
        go.Scatter(x=demo.x, y=demo.y, mode="markers", name="data",
                   marker=dict(size=theme.marker_size * 0.8, color=OKABE_ITO["black"]),
                   hovertemplate="x=%{x:.3g}, y=%{y:.3g}<extra></extra>"),
    ])
    fig.update_xaxes(title_text="x")
    fig.update_yaxes(title_text="y")
    fig = apply_theme(fig, theme, title, height=max(320, theme.height - 120))
    fig.update_layout(legend=dict(orientation="h", yanchor="top", y=-0.2, x=0))
    return fig
