"""Curvature-along-a-direction figures: the curvature rose (polar), curvature against angle,
the 1-D slice with its two parabolas, the contour map with the slice line, and the LaTeX of the
index derivation with the numbers at x₀ substituted.

Sign colours (shared by the rose and the angle chart): positive curvature vermillion (curves up),
negative blue (curves down), as on the diverging matrix scale. The current point and direction
are orange, like the x₀ star on every map.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np
import plotly.graph_objects as go

from hessian_explorer.directions import DirectionalCurvature, PlaneEigen, Rose, Slice
from hessian_explorer.figures.landscape import add_point, contour_figure
from hessian_explorer.figures.style import OKABE_ITO, Theme, apply_theme, fmt, legend_rows_below
from hessian_explorer.plane import Field

__all__ = ["rose_figure", "angle_profile_figure", "slice_figure", "slice_map_figure", "derivation_latex",
           "tex_number", "UP", "DOWN", "TRUE_COLOR", "NAIVE_COLOR", "DIAL_NAME"]

UP, DOWN = OKABE_ITO["vermillion"], OKABE_ITO["blue"]
TRUE_COLOR, NAIVE_COLOR = OKABE_ITO["green"], OKABE_ITO["purple"]
CURRENT = OKABE_ITO["orange"]
DIAL_NAME = "dial"  # the invisible trace that makes the rose clickable
_EIGEN_DASH = ("dot", "dash")  # λ_min, λ_max
_FILL = {UP: "rgba(213, 94, 0, 0.22)", DOWN: "rgba(0, 114, 178, 0.22)"}


def _sign_parts(values: np.ndarray) -> list[tuple[str, np.ndarray, str]]:
    """``(name, mask, colour)`` for the positive and negative samples that exist."""
    parts = [("curves up (v̂ᵀHv̂ > 0)", values > 0, UP), ("curves down (v̂ᵀHv̂ < 0)", values < 0, DOWN)]
    return [p for p in parts if p[1].any()]


def _angle_ticks(labels: tuple[str, str]) -> tuple[list[float], list[str]]:
    vals = [0, 45, 90, 135, 180, 225, 270, 315]
    names = {0: f"+{labels[0]}", 90: f"+{labels[1]}", 180: f"−{labels[0]}", 270: f"−{labels[1]}"}
    return vals, [f"{a}°<br>{names[a]}" if a in names else f"{a}°" for a in vals]


def rose_figure(rose: Rose, eigen: PlaneEigen, labels: tuple[str, str], theme: Theme, *,
                current: tuple[float, float] | None = None, title: str | None = None,
                height: int | None = None, dial: int = 0) -> go.Figure:
    """Polar "curvature rose": radius ``|uᵀHu|`` at each angle of unit ``u`` in the plane, coloured
    by sign (vermillion up, blue down), with both eigen-directions drawn through the origin out to
    ``|λ|`` (unless the eigenvalues are equal and no direction is special) and, if given,
    ``current = (angle_deg, curvature)`` as an orange spoke with a star.

    Angles are degrees from the +labels[0] axis towards +labels[1], as on the contour map.
    ``dial`` > 0 makes the rose a dial: an invisible trace (named :data:`DIAL_NAME`) of ``dial``
    directions, each on three rings, so a click anywhere on the chart can pick that direction
    (its ``theta``).
    """
    theta, c = np.asarray(rose.angles_deg), np.asarray(rose.curvature)
    rmax = float(np.nanmax(np.abs(c))) if np.isfinite(c).any() else 0.0
    fig = go.Figure()
    for name, mask, color in _sign_parts(c):
        fig.add_trace(go.Scatterpolar(
            r=np.where(mask, np.abs(c), np.nan), theta=theta, mode="lines", name=name, fill="toself", hoveron="points",
            fillcolor=_FILL[color], line=dict(color=color, width=theme.line_width), connectgaps=False,
            customdata=c, hovertemplate="angle %{theta:.0f}°<br>v̂ᵀHv̂ = %{customdata:.4g}<extra></extra>",
        ))
    for k, (lam, phi) in enumerate(zip(eigen.eigenvalues, eigen.angles_deg)):
        if eigen.isotropic:
            break  # the rose is a circle (or a point): no direction is special
        which = "λ_min" if k == 0 else "λ_max"
        fig.add_trace(go.Scatterpolar(
            r=[abs(lam), 0.0, abs(lam)], theta=[phi, phi, phi + 180.0], mode="lines+markers",
            name=f"eigen-direction {which} = {fmt(lam)} at {fmt(phi % 180, 3)}°",
            line=dict(color="black", width=theme.line_width * 0.7, dash=_EIGEN_DASH[k]),
            marker=dict(symbol="diamond", size=[theme.marker_size, 0, theme.marker_size],
                        color=UP if lam > 0 else DOWN if lam < 0 else "white", line=dict(color="black", width=1.5)),
            hovertemplate=f"{which} = {fmt(lam)}<br>angle %{{theta:.1f}}°<extra></extra>",
        ))
    if current is not None:
        angle, value = current
        fig.add_trace(go.Scatterpolar(
            r=[0.0, abs(value)], theta=[angle, angle], mode="lines+markers", name=f"your v̂: {fmt(value)}",
            line=dict(color=CURRENT, width=theme.line_width * 1.2),
            marker=dict(symbol=["circle", "star"], size=[0, theme.marker_size * 1.9], color=CURRENT,
                        line=dict(color="black", width=2)),
            hovertemplate=f"your v̂ at {fmt(angle, 3)}°<br>v̂ᵀHv̂ = {fmt(value)}<extra></extra>",
        ))
    if dial:
        angles = np.tile(np.arange(dial) * 360.0 / dial, 3)
        rings = np.repeat([0.35, 0.7, 1.0], dial) * (rmax if rmax > 0 else 1.0)
        fig.add_trace(go.Scatterpolar(
            r=rings, theta=angles, mode="markers", name=DIAL_NAME, showlegend=False,
            marker=dict(size=max(10, theme.marker_size * 1.4), opacity=0.0, color="white"),
            hovertemplate="click to point v̂ at %{theta:.0f}°<extra></extra>",
        ))
    ticks, ticktext = _angle_ticks(labels)
    between = float((eigen.angles_deg[1] + 45.0) % 180.0)  # radial ticks halfway between the eigen-lines
    return apply_theme(fig, theme, title, height, layout=dict(
        polar=dict(
            domain=dict(x=[0.08, 0.92], y=[0.0, 0.9]),  # room for angle labels at presentation sizes
            radialaxis=dict(range=[0, 1.08 * rmax if rmax > 0 else 1.0], angle=between, tickangle=between, nticks=5,
                            tickfont=dict(color="#555")),
            angularaxis=dict(rotation=0, direction="counterclockwise", tickvals=ticks, ticktext=ticktext),
        ),
        legend=dict(orientation="h", yanchor="top", y=-0.08, x=0),
        # polar charts report clicks in zoom mode only (Streamlit would set pan)
        **(dict(clickmode="event+select", dragmode="zoom") if dial else {}),
    ))


def angle_profile_figure(rose: Rose, eigen: PlaneEigen, labels: tuple[str, str], theme: Theme, *,
                         current: tuple[float, float] | None = None, title: str | None = None,
                         height: int | None = None) -> go.Figure:
    """The same curvature ``uᵀHu`` against the angle of ``u`` on Cartesian axes (sign read directly):
    the curve over sign-coloured fills, dashed horizontal lines at the two eigenvalues (its extremes)
    with diamonds where they are reached, and ``current = (angle_deg, curvature)`` as an orange star."""
    theta, c = np.asarray(rose.angles_deg), np.asarray(rose.curvature)
    fig = go.Figure()
    for name, mask, color in _sign_parts(c):
        fig.add_trace(go.Scatter(x=theta, y=np.where(mask, c, 0.0), mode="none", fill="tozeroy",
                                 fillcolor=_FILL[color], name=name, showlegend=False, hoverinfo="skip"))
    fig.add_trace(go.Scatter(x=theta, y=c, mode="lines", name="v̂ᵀHv̂", showlegend=False,
                             line=dict(color="black", width=theme.line_width),
                             hovertemplate="angle %{x:.0f}°<br>v̂ᵀHv̂ = %{y:.4g}<extra></extra>"))
    if eigen.isotropic:
        lam = float(eigen.eigenvalues[1])
        fig.add_trace(go.Scatter(x=[0.0, 360.0], y=[lam, lam], mode="lines",
                                 name=f"λ_min = λ_max = {fmt(lam)}: the same in every direction",
                                 line=dict(color="black", width=theme.line_width * 0.6, dash="dash"),
                                 hoverinfo="skip"))
    for k, (lam, phi) in enumerate(zip(eigen.eigenvalues, eigen.angles_deg)):
        if eigen.isotropic:
            break
        which = "λ_min" if k == 0 else "λ_max"
        fig.add_hline(y=float(lam), line=dict(color="black", width=theme.line_width * 0.6, dash=_EIGEN_DASH[k]))
        fig.add_trace(go.Scatter(
            x=[phi, phi + 180.0], y=[lam, lam], mode="markers", name=f"{which} = {fmt(lam)}",
            marker=dict(symbol="diamond", size=theme.marker_size, color=UP if lam > 0 else DOWN if lam < 0 else "white",
                        line=dict(color="black", width=1.5)),
            hovertemplate=f"{which} = {fmt(lam)} at %{{x:.1f}}°<extra></extra>",
        ))
    if current is not None:
        angle, value = current
        fig.add_vline(x=angle, line=dict(color=CURRENT, width=theme.line_width * 0.8))
        fig.add_trace(go.Scatter(
            x=[angle], y=[value], mode="markers", name=f"your v̂: {fmt(value)}",
            marker=dict(symbol="star", size=theme.marker_size * 1.9, color=CURRENT, line=dict(color="black", width=2)),
            hovertemplate=f"your v̂ at {fmt(angle, 3)}°<br>v̂ᵀHv̂ = {fmt(value)}<extra></extra>",
        ))
    ticks, ticktext = _angle_ticks(labels)
    return apply_theme(fig, theme, title, height, layout=dict(
        xaxis=dict(title=dict(text=f"angle of v̂ in the ({labels[0]}, {labels[1]}) plane"), range=[-10, 370],
                   tickvals=ticks + [360], ticktext=[t.split("<br>")[0] for t in ticktext] + ["360°"]),
        yaxis=dict(title=dict(text="v̂ᵀHv̂"), zeroline=True, zerolinecolor="#444", zerolinewidth=1.5),
        legend=dict(orientation="h", yanchor="top", y=-0.22, x=0),
    ))


def _y_limits(values: np.ndarray) -> list[float] | None:
    finite = values[np.isfinite(values)]
    if finite.size == 0:
        return None
    lo, hi = float(finite.min()), float(finite.max())
    pad = 0.15 * (hi - lo) if hi > lo else max(1.0, abs(hi) * 0.1)
    return [lo - pad, hi + pad]


def slice_figure(s: Slice, theme: Theme, *, value: float | None = None, title: str | None = None,
                 height: int | None = None) -> go.Figure:
    """``t ↦ f(x₀ + t v̂)`` (black) with the true second-order Taylor parabola (green, uses v̂ᵀHv̂)
    and the naive one (purple, uses (∇f·v̂)²); x₀ at ``t = 0`` as the orange star.

    The y-range follows the true slice (padded), so a parabola that shoots off stays off-screen
    instead of squashing the slice.
    """
    fig = go.Figure()
    fig.add_trace(go.Scatter(x=s.t, y=s.values, mode="lines", name="f(x₀ + t v̂): the true slice",
                             line=dict(color="black", width=theme.line_width * 1.3),
                             hovertemplate="t = %{x:.3g}<br>f = %{y:.4g}<extra></extra>"))
    fig.add_trace(go.Scatter(
        x=s.t, y=s.taylor, mode="lines", name=f"Taylor with H: curvature v̂ᵀHv̂ = {fmt(s.curvature)}",
        line=dict(color=TRUE_COLOR, width=theme.line_width, dash="dash"),
        hovertemplate="t = %{x:.3g}<br>f + t∇f·v̂ + ½t²v̂ᵀHv̂ = %{y:.4g}<extra></extra>"))
    fig.add_trace(go.Scatter(
        x=s.t, y=s.naive, mode="lines", name=f"naive with ∇f∇fᵀ: curvature (∇f·v̂)² = {fmt(s.naive_curvature)}",
        line=dict(color=NAIVE_COLOR, width=theme.line_width, dash="dot"),
        hovertemplate="t = %{x:.3g}<br>f + t∇f·v̂ + ½t²(∇f·v̂)² = %{y:.4g}<extra></extra>"))
    if value is not None and np.isfinite(value):
        add_point(fig, (0.0, value), theme)
    y_range = _y_limits(np.asarray(s.values))
    return apply_theme(fig, theme, title, height, layout=dict(
        xaxis=dict(title=dict(text="t (distance from x₀ along v̂)"), range=[float(s.t[0]), float(s.t[-1])]),
        yaxis=dict(title=dict(text="f"), **({"range": y_range} if y_range else {})),
        **legend_rows_below(theme, len(fig.data), title, height),  # every trace has an entry
    ))


def slice_map_figure(field: Field, labels: tuple[str, str], theme: Theme, *, point, v_hat, half_width: float,
                     click_grid: int = 0, title: str | None = None, height: int | None = None) -> go.Figure:
    """:func:`contour_figure` with the slice's line ``x₀ + t v̂, |t| ≤ half_width`` drawn in orange
    (projected onto the plotted plane; an arrowhead marks the +t end)."""
    plane = field.plane
    fig = contour_figure(field, labels, theme, point=None, click_grid=click_grid, title=title,
                         layout=dict(height=height) if height else None)
    xy0 = plane.project(np.asarray(point, dtype=float))
    d = plane.project(np.asarray(v_hat, dtype=float))
    t = np.array([-half_width, half_width])
    for color, width, name in (("black", theme.line_width * 2.2, None), (CURRENT, theme.line_width * 1.2, "x₀ + t v̂ (the slice)")):
        fig.add_trace(go.Scatter(
            x=xy0[0] + t * d[0], y=xy0[1] + t * d[1], mode="lines+markers", name=name or "",
            showlegend=name is not None, legendgroup="slice", hoverinfo="skip",
            line=dict(color=color, width=width),
            marker=dict(symbol=["circle", "arrow"], angleref="previous", color=color,
                        size=[0, theme.marker_size * (1.6 if name is None else 1.3)]),
        ))
    add_point(fig, xy0, theme)
    return fig


# -- the derivation in LaTeX ------------------------------------------------------------------------
def tex_number(x: float, digits: int = 4) -> str:
    """``fmt`` for LaTeX: ``1.2e+05`` becomes ``1.2\\times10^{5}``; 'undefined' becomes ``\\text{undefined}``.

    >>> tex_number(-123456.0), tex_number(0.5)
    ('-1.235\\\\times10^{5}', '0.5')
    """
    s = fmt(x, digits)
    if s == "undefined":
        return r"\text{undefined}"
    if "e" in s:
        mantissa, exponent = s.split("e")
        return rf"{mantissa}\times10^{{{int(exponent)}}}"
    return s


def _factor(x: float) -> str:
    s = tex_number(x)
    return f"({s})" if s.startswith("-") else s


def _terms(a: Sequence[float], b: Sequence[float], full: int) -> str:
    """``a₁b₁ + a₂b₂ + …`` with every term if ``len(a) <= full``, else the first two, ⋯, the last."""
    terms = [rf"{_factor(x)}\cdot{_factor(y)}" for x, y in zip(a, b)]
    if len(terms) > full:
        terms = terms[:2] + [r"\cdots"] + terms[-1:]
    return " + ".join(terms)


def _column(values: Sequence[float]) -> str:
    return r"\begin{bmatrix}" + r"\\".join(tex_number(x) for x in values) + r"\end{bmatrix}"


def _matrix(m: np.ndarray) -> str:
    rows = [" & ".join(tex_number(x) for x in row) for row in m]
    return r"\begin{bmatrix}" + r"\\".join(rows) + r"\end{bmatrix}"


def derivation_latex(d: DirectionalCurvature, variables: Sequence[str], full: int = 4) -> list[tuple[str, str]]:
    """The slides' index derivation of ``v̂ᵀHv̂`` as ``(caption, latex)`` steps, numbers at x₀ filled in.

    Up to ``full`` variables the matrix-vector product is written out; beyond that ``H v̂`` is shown
    as its result (a transposed row) and long sums keep their first two and last terms.
    """
    n = len(variables)
    theta = ", ".join(variables)
    big = n > full
    row = r"\begin{bmatrix}" + " & ".join(tex_number(x) for x in d.gradient) + r"\end{bmatrix}"
    step1 = (r"\frac{\mathrm{d}f}{\mathrm{d}\boldsymbol{\theta}}\,\hat v = \sum_j \frac{\partial f}{\partial\theta_j}\,\hat v_j"
             + ("" if big else rf" = {row}{_column(d.v_hat)}")
             + rf" = {_terms(d.gradient, d.v_hat, full)} = {tex_number(d.slope)}")
    hv = (rf"H\hat v = \begin{{bmatrix}}{' & '.join(tex_number(x) for x in d.hv)}\end{{bmatrix}}^{{\top}}" if big
          else rf"H\hat v = {_matrix(d.hessian)}{_column(d.v_hat)} = {_column(d.hv)}")
    step2 = (r"\frac{\partial}{\partial\theta_i}\Big[\sum_j \frac{\partial f}{\partial\theta_j}\hat v_j\Big]"
             r" = \sum_j \underbrace{\frac{\partial^2 f}{\partial\theta_i\,\partial\theta_j}}_{=\,H_{ij}}\hat v_j"
             r" = (H\hat v)_i")
    step3 = (r"\nabla_{\hat v}\Big[\frac{\mathrm{d}f}{\mathrm{d}\boldsymbol{\theta}}\,\hat v\Big] = \sum_i \hat v_i\,(H\hat v)_i"
             rf" = \hat v^{{\top}} H \hat v = {_terms(d.v_hat, d.hv, full)} = {tex_number(d.curvature)}")
    same = fmt(d.naive_curvature) == fmt(d.curvature)
    relation = "=" if same else r"\neq"
    contrast = (rf"(\nabla f\cdot\hat v)^2 = {_factor(d.slope)}^2 = {tex_number(d.naive_curvature)}"
                rf"\;{relation}\; \hat v^{{\top}} H \hat v = {tex_number(d.curvature)}")
    vhat = rf"\boldsymbol{{\theta}} = ({theta}),\qquad \hat v = \frac{{v}}{{\lVert v\rVert}} = " + (
        rf"\begin{{bmatrix}}{' & '.join(tex_number(x) for x in d.v_hat)}\end{{bmatrix}}^{{\top}}" if big
        else _column(d.v_hat))
    return [
        ("The variables and the normalised direction:", vhat),
        ("1. The slope along v̂ is a sum over j (the row vector df/dθ times the column v̂):", step1),
        ("2. Differentiate that sum by each θᵢ: only derivatives of scalars, so index notation is safe.", step2),
        ("With the numbers at x₀:", hv),
        ("3. Take the slope of the slope along v̂ once more: the directional second derivative.", step3),
        ("The naive matrix ∇f∇fᵀ would instead give the square of the slope:"
         + (" (they agree here; the next page shows when that happens)" if same else ""), contrast),
    ]
