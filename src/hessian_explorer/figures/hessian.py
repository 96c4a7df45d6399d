"""Hessian figures: the local quadratic model drawn over the landscape, a map of curvature type,
and the words and table that go with the eigen-analysis at x₀.

The model figure overlays, within an elliptical neighbourhood of x₀, the contours of f (solid)
and of its quadratic model q (dashed) at the same levels, plus the principal axes of q in the
plotted plane (eigenvectors of the plane's 2×2 block of H), labelled with their eigenvalues.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np
import plotly.graph_objects as go

from hessian_explorer.analysis import EIG_ATOL, EIG_RTOL, Curvature, Definiteness, PointAnalysis, Verdict
from hessian_explorer.figures.landscape import NAN_COLOR, add_point, contour_figure, level_lines, value_limits
from hessian_explorer.figures.matrices import matrix_heatmap
from hessian_explorer.figures.style import CRITICAL_STYLE, OKABE_ITO, Theme, apply_theme, fmt, merge_layout
from hessian_explorer.plane import Field, Plane
from hessian_explorer.taylor import QuadraticModel

__all__ = ["hessian_heatmap", "quadratic_model_figure", "model_levels", "axis_segment", "curvature_map_figure",
           "CURVATURE_STYLE", "hessian_summary", "eigen_table", "MODEL_NAME", "F_LEVELS_NAME", "NEIGHBOURHOOD_NAME"]

MODEL_NAME = "q (dashed)"
F_LEVELS_NAME = "f, same levels"
NEIGHBOURHOOD_NAME = "neighbourhood of x₀"
MODEL_COLOR = OKABE_ITO["vermillion"]
F_COLOR = "#333333"
VEIL_COLOR = "rgba(255,255,255,0.5)"  # lightens f's fill inside the neighbourhood, so the lines stand out

# name and colour per Curvature code, following the critical-point markers (convex like a minimum...)
CURVATURE_STYLE: dict[int, tuple[str, str]] = {
    Curvature.UNDEFINED: ("undefined", NAN_COLOR),
    Curvature.CONVEX: ("convex", CRITICAL_STYLE["local minimum"][1]),
    Curvature.CONCAVE: ("concave", CRITICAL_STYLE["local maximum"][1]),
    Curvature.SADDLE: ("saddle", CRITICAL_STYLE["saddle point"][1]),
    Curvature.DEGENERATE: ("degenerate", CRITICAL_STYLE["inconclusive (degenerate critical point)"][1]),
}


def model_levels(q: np.ndarray, center: float, count: int = 5) -> np.ndarray:
    """``2·count + 1`` evenly spaced levels centred at ``center`` (the level through x₀) that span
    the finite values of ``q``; empty if ``q`` is constant or undefined."""
    finite = q[np.isfinite(q)]
    span = float(np.max(np.abs(finite - center))) if finite.size and np.isfinite(center) else 0.0
    if not span > 0:
        return np.array([])
    step = span / (count + 0.5)
    return center + step * np.arange(-count, count + 1)


def axis_segment(center, vector, radii) -> np.ndarray:
    """End points ``(2, 2)`` of the segment through ``center`` along ``vector`` that just reaches the
    ellipse with semi-axes ``radii`` (the neighbourhood's edge)."""
    c, v, r = (np.asarray(a, dtype=float) for a in (center, vector, radii))
    s = 1.0 / np.sqrt(np.sum((v / r) ** 2))
    return np.stack([c - s * v, c + s * v])


def _level_lines(field: Field, z: np.ndarray, levels: np.ndarray, name: str, line: dict,
                 hover: bool = False, showlegend: bool = True) -> go.Scatter:
    """Lines of ``z`` at ``levels`` on ``field``'s grid as one line trace (traced here, see
    :func:`~hessian_explorer.figures.landscape.level_lines`); hovering shows its level
    (``q = …``) if ``hover``."""
    xs, ys, zs = level_lines(field.x, field.y, z, levels)
    return go.Scatter(x=xs, y=ys, mode="lines", name=name, line=line, showlegend=showlegend,
                      customdata=zs if hover else None,
                      hovertemplate="q = %{customdata:.4g}<extra></extra>" if hover else None,
                      hoverinfo=None if hover else "skip")


def quadratic_model_figure(field: Field, local: Field, model: QuadraticModel, axes: PointAnalysis,
                           labels: tuple[str, str], theme: Theme, *, click_grid: int = 0,
                           title: str | None = None) -> go.Figure:
    """Filled contours of f over ``field`` with the quadratic model ``q`` near x₀ and its axes.

    ``local`` is f sampled on a small plane around x₀ (the neighbourhood); ``q`` is evaluated on
    the same grid and both are drawn at shared levels centred at f(x₀) (:func:`model_levels`),
    masked to the ellipse inscribed in ``local``'s box, which is lightened so the lines stand out.
    ``axes`` is the 2-variable analysis of the plane (see
    :func:`hessian_explorer.taylor.plane_analysis`): its eigenvectors become two black segments
    through x₀ labelled ``λ₁``, ``λ₂`` (ascending). Only f and x₀ are drawn when the model is
    undefined.
    """
    plane, lp = field.plane, local.plane
    fig = contour_figure(field, labels, theme, click_grid=click_grid, title=title, layout=merge_layout(dict(
        legend=dict(traceorder="normal", itemwidth=60, bgcolor="rgba(255,255,255,0)")), _true_shape(plane)))
    x0 = plane.project(model.point)
    radii = np.array([(lp.x_range[1] - lp.x_range[0]) / 2, (lp.y_range[1] - lp.y_range[0]) / 2])
    if model.defined:
        X, Y = np.meshgrid(local.x, local.y)
        outside = ((X - x0[0]) / radii[0]) ** 2 + ((Y - x0[1]) / radii[1]) ** 2 > 1.0
        # the neighbourhood's edge, dotted, over a veil that lightens f's fill inside it
        t = np.linspace(0, 2 * np.pi, 121)
        fig.add_trace(go.Scatter(x=x0[0] + radii[0] * np.cos(t), y=x0[1] + radii[1] * np.sin(t), mode="lines",
                                 name=NEIGHBOURHOOD_NAME, showlegend=False, hoverinfo="skip", fill="toself",
                                 fillcolor=VEIL_COLOR, line=dict(color="black", width=1, dash="dot")))
        q = np.where(outside, np.nan, model(lp.grid_points()))
        levels = model_levels(q, model.value)
        if levels.size:
            f_local = np.where(outside, np.nan, local.value)
            fig.add_trace(_level_lines(local, f_local, levels, F_LEVELS_NAME,
                                       dict(color=F_COLOR, width=theme.line_width * 0.5, dash="solid")))
            # drawn above f's lines, listed first in the legend
            fig.add_trace(_level_lines(local, q, levels, MODEL_NAME,
                                       dict(color=MODEL_COLOR, width=theme.line_width, dash="dash"), hover=True)
                          .update(legendrank=999))
        if np.all(np.isfinite(axes.eigenvectors)):
            for k, sub in enumerate("₁₂"):
                _add_axis(fig, axis_segment(x0, axes.eigenvectors[:, k], radii), axes.eigenvalues[k], sub,
                          plane.x_range, plane.y_range, theme)
    add_point(fig, x0, theme)
    return fig


def _true_shape(plane: Plane) -> dict:
    """Layout for one unit as long on both axes (so perpendicular eigenvectors look perpendicular),
    unless the plotted ranges differ by more than a factor of 4 (the plot would become a sliver)."""
    ratio = (plane.y_range[1] - plane.y_range[0]) / (plane.x_range[1] - plane.x_range[0])
    if 0.25 <= ratio <= 4:
        return dict(yaxis=dict(scaleanchor="x", scaleratio=1, constrain="domain"), xaxis=dict(constrain="domain"))
    return {}


def hessian_heatmap(matrix: np.ndarray, labels: Sequence[str], theme: Theme, *, title: str | None = None) -> go.Figure:
    """:func:`~hessian_explorer.figures.matrices.matrix_heatmap` (0-centred diverging scale,
    annotated entries) with the theme's sizes on the row and column labels, and room for both the
    title and the column labels above the matrix."""
    top = dict(margin=dict(t=round(2 * theme.title_size + 2 * theme.font_size))) if title else None
    return matrix_heatmap(matrix, labels, theme, title=title, layout=top)


def _add_axis(fig: go.Figure, ends: np.ndarray, lam: float, sub: str, x_range, y_range, theme: Theme) -> None:
    """One principal axis: black line on a white casing, with a boxed ``λ = …`` label at one end."""
    name = f"λ{sub} = {fmt(lam)}"
    for color, width in (("white", theme.line_width * 2.2), ("black", theme.line_width)):
        fig.add_trace(go.Scatter(x=ends[:, 0], y=ends[:, 1], mode="lines", name=f"axis of q: {name}",
                                 line=dict(color=color, width=width), showlegend=False, hoverinfo="skip"))
    inside = [x_range[0] <= x <= x_range[1] and y_range[0] <= y <= y_range[1] for x, y in ends]
    x, y = ends[1] if inside[1] or not inside[0] else ends[0]
    x, y = float(np.clip(x, *x_range)), float(np.clip(y, *y_range))
    fig.add_annotation(x=x, y=y, text=name, showarrow=False, bgcolor="rgba(255,255,255,0.9)",
                       bordercolor="black", borderwidth=1, font=dict(size=theme.annotation_size, color="black"))


def curvature_map_figure(field: Field, codes: np.ndarray, labels: tuple[str, str], theme: Theme, *, point=None,
                         title: str | None = None) -> go.Figure:
    """Map of curvature type: a heatmap of :class:`Curvature` codes ``(d, d)`` on a discrete
    Okabe–Ito scale whose colour bar names the classes, thin contour lines of f and x₀."""
    order = sorted(CURVATURE_STYLE)
    k = len(order)
    scale = []
    for i, code in enumerate(order):
        color = CURVATURE_STYLE[code][1]
        scale += [[i / k, color], [(i + 1) / k, color]]
    names = np.array([CURVATURE_STYLE[c][0] for c in order], dtype=object)[np.asarray(codes, dtype=int)]
    fig = go.Figure(go.Heatmap(
        x=field.x, y=field.y, z=np.asarray(codes, dtype=float), zmin=-0.5, zmax=k - 0.5, colorscale=scale,
        customdata=names, name="curvature type",
        hovertemplate=f"{labels[0]}=%{{x:.3g}}, {labels[1]}=%{{y:.3g}}<br>%{{customdata}}<extra></extra>",
        colorbar=dict(tickvals=list(range(k)), ticktext=[CURVATURE_STYLE[c][0] for c in order], thickness=18,
                      tickfont=dict(size=theme.font_size), len=0.9),
    ))
    limits = value_limits(field.value)
    if limits:
        fig.add_trace(_level_lines(field, field.value, np.linspace(*limits, 15), "f",
                                   dict(color="rgba(0,0,0,0.35)", width=1), showlegend=False))
    if point is not None:
        add_point(fig, field.plane.project(np.asarray(point)), theme)
    plane = field.plane
    return apply_theme(fig, theme, title, layout=merge_layout(dict(
        xaxis=dict(title=dict(text=labels[0]), range=list(plane.x_range), showgrid=False, zeroline=False),
        yaxis=dict(title=dict(text=labels[1]), range=list(plane.y_range), showgrid=False, zeroline=False),
        showlegend=False, plot_bgcolor="white"), _true_shape(plane)))


# -- words and tables ------------------------------------------------------------------------------
def _direction(v: np.ndarray, variables: Sequence[str]) -> str:
    """``the x axis`` for a coordinate direction, else the components ``(0.707, -0.707)``."""
    k = int(np.argmax(np.abs(v)))
    if abs(abs(v[k]) - 1.0) < 1e-9:
        return f"the {variables[k]} axis"
    return "(" + ", ".join(fmt(c, 3) for c in v) + ")"


def hessian_summary(analysis: PointAnalysis, variables: Sequence[str]) -> str:
    """Two sentences on x₀: whether the second-derivative test applies and what it says, then how
    f curves there (which eigenvector directions go up, down or stay flat).

    >>> from hessian_explorer import parse_function
    >>> text = hessian_summary(parse_function("x^2 - 3y^2").analyze([0.0, 0.0]), ("x", "y"))
    >>> print(text.replace(". ", ".\\n"))
    x₀ is a critical point (∇f = 0), so the second-derivative test applies: x₀ is a saddle point.
    H is indefinite here: f curves up along the x axis (λ = 2) and down along the y axis (λ = -6).
    """
    a = analysis
    if a.definiteness is Definiteness.UNDEFINED:
        return ("f or its derivatives are undefined at x₀ (for example the log of a negative number), "
                "so there is nothing to analyse here: move x₀.")
    applies = "x₀ is a critical point (∇f = 0), so the second-derivative test applies: "
    test = {
        Verdict.NOT_CRITICAL: f"x₀ is not a critical point (|∇f| = {fmt(a.gradient_norm)}), so the "
                              "second-derivative test does not apply: f still changes to first order here.",
        Verdict.MINIMUM: applies + "x₀ is a local minimum.",
        Verdict.MAXIMUM: applies + "x₀ is a local maximum.",
        Verdict.SADDLE: applies + "x₀ is a saddle point.",
        Verdict.INCONCLUSIVE: "x₀ is a critical point (∇f = 0) but H has a zero eigenvalue, so the test is "
                              "inconclusive: higher derivatives decide.",
    }[a.verdict]
    lam, vecs = a.eigenvalues, a.eigenvectors
    low, high = (_direction(vecs[:, k], variables) for k in (0, -1))
    l_low, l_high = fmt(lam[0]), fmt(lam[-1])
    equal = bool(np.isclose(lam[0], lam[-1], rtol=1e-9, atol=0))
    shape = {
        Definiteness.POSITIVE_DEFINITE: f"f curves up equally in every direction (λ = {l_high})." if equal else
        f"f curves up in every direction, most along {high} (λ = {l_high}) and least along {low} (λ = {l_low}).",
        Definiteness.NEGATIVE_DEFINITE: f"f curves down equally in every direction (λ = {l_low})." if equal else
        f"f curves down in every direction, most along {low} (λ = {l_low}) and least along {high} (λ = {l_high}).",
        Definiteness.INDEFINITE: f"f curves up along {high} (λ = {l_high}) and down along {low} (λ = {l_low}).",
        Definiteness.POSITIVE_SEMIDEFINITE: f"f curves up along {high} (λ = {l_high}) and is flat to second "
                                            f"order along {low} (λ = 0).",
        Definiteness.NEGATIVE_SEMIDEFINITE: f"f curves down along {low} (λ = {l_low}) and is flat to second "
                                            f"order along {high} (λ = 0).",
        Definiteness.ZERO: "f has no curvature at all here: the quadratic model is just the tangent plane.",
    }[a.definiteness]
    return f"{test} H is {a.definiteness} here: {shape}"


def _subscript(k: int) -> str:
    return str(k).translate(str.maketrans("0123456789", "₀₁₂₃₄₅₆₇₈₉"))


def eigen_table(analysis: PointAnalysis, variables: Sequence[str]) -> list[dict[str, str]]:
    """One row per eigenpair (ascending λ): the eigenvalue, whether f curves up, down or is flat
    along it (zero within the tolerance of :mod:`hessian_explorer.analysis`), and the unit
    eigenvector's components, formatted for display. Keys other than the variable names contain a
    space or are empty, so they never collide with a variable name."""
    lam = np.asarray(analysis.eigenvalues, dtype=float)
    finite = np.isfinite(lam).all()
    tol = max(EIG_RTOL * float(np.max(np.abs(lam))), EIG_ATOL) if finite else 0.0
    rows = []
    for k, value in enumerate(lam):
        curves = "undefined" if not finite else "up" if value > tol else "down" if value < -tol else "flat"
        row = {"": f"λ{_subscript(k + 1)}", "eigenvalue λ": fmt(value, 6), "f curves": curves}
        row.update({name: fmt(c, 4) for name, c in zip(variables, analysis.eigenvectors[:, k])})
        rows.append(row)
    return rows
