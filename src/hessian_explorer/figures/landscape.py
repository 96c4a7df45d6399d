"""Landscape figures: filled contours with a gradient quiver, critical points, the current point,
an invisible click grid, and a 3-D surface with the tangent plane at the point."""

from __future__ import annotations

from typing import Sequence

import numpy as np
import plotly.graph_objects as go
from contourpy import LineType, contour_generator  # marching squares, as matplotlib draws contours

from hessian_explorer.critical import CriticalPoint
from hessian_explorer.figures.style import (CRITICAL_STYLE, OKABE_ITO, SEQUENTIAL, Theme, apply_theme,
                                           fmt, legend_row_below, merge_layout)
from hessian_explorer.plane import Field, Plane

__all__ = ["contour_figure", "critical_rows", "surface_figure", "quiver_segments", "arrowheads", "quiver_traces",
           "path_data", "quiver_shapes",
           "add_point", "add_critical_points", "add_path", "value_limits", "level_lines", "nice_levels",
           "CLICK_GRID", "CLICK_GRID_NAME", "NAN_COLOR", "SHAPE_LAYER"]

CLICK_GRID_NAME = "click to move x₀"
# Points per axis of the invisible click grid: x₀ moves in steps of 1/29 of the plotted range.
# Invisible markers of which plotly draws one (``maxdisplayed``): it still finds the nearest of all
# for hover and selection, but builds no SVG node per point. 900 markers took a sixth of the
# landscape map's drawing; 900 empty text points (a text node each) 40-60 ms of the Hessian
# page's map, and this grid half of that.
CLICK_GRID = 30
NAN_COLOR = "#bdbdbd"  # the plot background shows through where f is undefined
# Layer of the charts' path shapes: below every trace (and the grid). Not "between" the grid and
# the traces: plotly.js (3.8 in Streamlit, 4.1) leaves those drawn when a legend click hides them.
SHAPE_LAYER = "below"


def value_limits(values: np.ndarray) -> tuple[float, float] | None:
    """Robust colour limits (2nd to 98th percentile of the finite values), or ``None`` if none."""
    finite = values[np.isfinite(values)]
    if finite.size == 0:
        return None
    lo, hi = np.percentile(finite, [2, 98])
    if hi <= lo:
        lo, hi = float(finite.min()), float(finite.max())
    if hi <= lo:
        lo, hi = lo - 1.0, hi + 1.0
    return float(lo), float(hi)


def level_lines(x: np.ndarray, y: np.ndarray, z: np.ndarray, levels: Sequence[float]):
    """Contour lines of ``z`` (rows along ``y``, columns along ``x``) at ``levels``, for a line trace.

    Returns ``(xs, ys, zs)``: every piece of every level as one polyline, ``nan`` breaks between
    pieces, and each point's level in ``zs``. Marching squares with linear interpolation, as plotly
    draws a contour trace's lines, but computed here once: a chart of lines is drawn much faster
    than a contour trace, whose lines the browser traces anew on every draw. Undefined values
    (``nan``, ``inf``) leave gaps.
    """
    z = np.ma.masked_invalid(np.asarray(z, dtype=float))
    generator = contour_generator(np.asarray(x, dtype=float), np.asarray(y, dtype=float), z,
                                  line_type=LineType.ChunkCombinedNan)
    xs, ys, zs = [], [], []
    for level in levels:
        (points,), = generator.lines(float(level))
        if points is not None:
            xs += [points[:, 0], [np.nan]]
            ys += [points[:, 1], [np.nan]]
            zs += [np.where(np.isnan(points[:, 0]), np.nan, float(level)), [np.nan]]
    if not xs:
        return np.array([]), np.array([]), np.array([])
    return np.concatenate(xs)[:-1], np.concatenate(ys)[:-1], np.concatenate(zs)[:-1]


def nice_levels(lo: float, hi: float, count: int) -> np.ndarray:
    """Round levels between ``lo`` and ``hi``, as plotly picks them for a contour trace with
    ``ncontours=count``: the step is 2, 5 or 10 times a power of ten, the smallest such step above
    ``(hi - lo) / count``, and the levels are its multiples strictly inside ``(lo, hi)`` (one level
    midway if there is none). Empty if ``hi <= lo``."""
    rough = (hi - lo) / count
    if not rough > 0:
        return np.array([])
    base = 10.0 ** np.floor(np.log10(rough))
    step = base * next(m for m in (2, 5, 10) if m > rough / base)
    start, end = np.ceil(lo / step) * step, np.floor(hi / step) * step
    start, end = start + step * (start == lo), end - step * (end == hi)
    if start > end:
        return np.array([(start + end) / 2])
    return start + step * np.arange(round((end - start) / step) + 1)


def quiver_segments(x: np.ndarray, y: np.ndarray, u: np.ndarray, v: np.ndarray, cell: float | tuple[float, float],
                    *, reference: float | None = None, pivot: str = "middle"):
    """Arrow polylines for a quiver: arrays ``(xs, ys)``, ``nan`` breaks between arrows.

    Each arrow is a ``[tail, tip, nan]`` triple in the order of the flattened inputs, parallel to
    its vector ``(u, v)`` in data coordinates and ``max(0.9·min(1, √(|g|/reference)), 0.12)``
    cells long, measuring each axis in its own ``cell``: a square root so small vectors stay
    visible, one scale for every chart given the same ``reference`` (default: the largest |g|
    here). ``pivot`` "middle" centres the arrow on its point, "tail" starts it there. Zero or
    undefined vectors get no arrow. :func:`arrowheads` adds the heads.
    """
    x, y, u, v = (np.ravel(np.asarray(a, dtype=float)) for a in (x, y, u, v))
    mag = np.hypot(u, v)
    ok = np.isfinite(mag) & (mag > 0)
    x, y, u, v, mag = x[ok], y[ok], u[ok], v[ok], mag[ok]
    if reference is None:
        reference = mag.max() if mag.size else 1.0
    length = np.maximum(0.9 * np.minimum(1.0, np.sqrt(mag / reference)), 0.12)
    cx, cy = (cell, cell) if np.isscalar(cell) else cell
    in_cells = np.hypot(u / cx, v / cy)
    dx, dy = u / in_cells * length, v / in_cells * length
    start = 0.5 if pivot == "middle" else 0.0
    nan = np.full_like(x, np.nan)
    xs = np.column_stack([x - start * dx, x + (1 - start) * dx, nan]).ravel()
    ys = np.column_stack([y - start * dy, y + (1 - start) * dy, nan]).ravel()
    return xs, ys


# Arrowhead size in cells (see quiver_segments): length along the shaft, half-width across it.
HEAD_LENGTH, HEAD_HALF_WIDTH = 0.34, 0.16


def arrowheads(xs: np.ndarray, ys: np.ndarray, cell: float | tuple[float, float], scale: float = 1.0):
    """Heads for the ``[tail, tip, nan]`` arrows of :func:`quiver_segments`: ``(sx, sy, hx, hy)``.

    ``hx, hy`` are ``[tip, left, right, tip, nan]`` triangles for one filled trace, ``sx, sy`` the
    shafts, ending where the heads begin. One path for all heads: a marker per head would be an
    SVG node each, which plotly styles point by point at every draw. Every head has the same size
    (``HEAD_LENGTH`` by twice ``HEAD_HALF_WIDTH`` cells, times ``scale``), so even a short arrow
    shows its direction (its head then reaches back past its tail, and it has no shaft). Sizes are
    in each axis's own cell, so on a chart of any aspect ratio a head stays on its shaft's line
    (an affine map keeps the triangle's axis there); only its shape stretches with the aspect.
    """
    cx, cy = (cell, cell) if np.isscalar(cell) else cell
    tail = np.column_stack([xs[0::3] / cx, ys[0::3] / cy])
    tip = np.column_stack([xs[1::3] / cx, ys[1::3] / cy])
    d = tip - tail
    length = np.hypot(d[:, 0], d[:, 1])
    along = d / np.where(length > 0, length, 1.0)[:, None]
    base = tip - along * (HEAD_LENGTH * scale)
    across = np.column_stack([-along[:, 1], along[:, 0]]) * (HEAD_HALF_WIDTH * scale)
    nan = np.full(len(tip), np.nan)
    corners = (tip, base + across, base - across, tip)
    hx = np.column_stack([c[:, 0] for c in corners] + [nan]).ravel() * cx
    hy = np.column_stack([c[:, 1] for c in corners] + [nan]).ravel() * cy
    end = tip - along * np.minimum(HEAD_LENGTH * scale, length)[:, None]
    sx, sy = np.array(xs, dtype=float), np.array(ys, dtype=float)
    sx[1::3], sy[1::3] = end[:, 0] * cx, end[:, 1] * cy
    return sx, sy, hx, hy


def path_data(x: np.ndarray, y: np.ndarray, *, closed: bool = False, decimals: int | None = None) -> str:
    """SVG path data (``M x,y L x,y …``) of polylines broken at non-finite points, for a plotly
    ``path`` shape; ``closed`` closes each piece (``Z``), ``decimals`` rounds the coordinates.

    A shape is one SVG element whose coordinates plotly maps to pixels as text, where a scatter
    trace costs per point at every draw (its calc, autorange and styling): the outer-products
    page's 3 × 225 arrows and their contours draw in 130 ms as shapes, 231 ms as traces.
    """
    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    if decimals is not None:
        x, y = np.round(x, decimals), np.round(y, decimals)
    ok = np.isfinite(x) & np.isfinite(y)
    first = ok & ~np.concatenate([[False], ok[:-1]])
    last = ok & ~np.concatenate([ok[1:], [False]])
    end = "Z" if closed else ""
    return "".join(f"{'M' if f else 'L'}{a!r},{b!r}{end if z else ''}"
                   for a, b, f, z in zip(x[ok].tolist(), y[ok].tolist(), first[ok].tolist(), last[ok].tolist()))


def quiver_shapes(xs: np.ndarray, ys: np.ndarray, cell: float | tuple[float, float], *, line: dict, fillcolor: str,
                  scale: float = 1.0, decimals: int | None = None, **common) -> tuple[dict, dict]:
    """Arrows from :func:`quiver_segments` as two plotly path shapes, ``(shafts, heads)``: the
    shafts drawn with ``line``, the heads (:func:`arrowheads`) filled with ``fillcolor``;
    ``common`` goes to both (``xref``, ``yref``, ``legendgroup``, ...), drawn in
    :data:`SHAPE_LAYER`. Shapes have no hover, and a legend entry for them is a trace in their
    ``legendgroup``, which shows and hides them with it.
    """
    sx, sy, hx, hy = arrowheads(xs, ys, cell, scale)
    corners = np.arange(len(hx)) % 5 != 3  # [tip, left, right, nan]: Z closes the triangle
    common = dict(type="path", layer=SHAPE_LAYER, **common)
    return (dict(path=path_data(sx, sy, decimals=decimals), line=line, **common),
            dict(path=path_data(hx[corners], hy[corners], closed=True, decimals=decimals), fillcolor=fillcolor,
                 line=dict(width=0), **common))


def quiver_traces(xs: np.ndarray, ys: np.ndarray, cell: float | tuple[float, float], theme: Theme,
                  name: str) -> list[go.Scatter]:
    """Arrows from :func:`quiver_segments`: white shafts on a wider black underlay and white heads
    with a black edge (:func:`arrowheads`), legible on light and dark fills alike."""
    sx, sy, hx, hy = arrowheads(xs, ys, cell)
    return [
        go.Scatter(x=sx, y=sy, mode="lines", name="", showlegend=False, hoverinfo="skip", legendgroup="quiver",
                   line=dict(color="black", width=theme.arrow_width * 2.4)),
        go.Scatter(x=sx, y=sy, mode="lines", name="", showlegend=False, hoverinfo="skip", legendgroup="quiver",
                   line=dict(color="white", width=theme.arrow_width)),
        go.Scatter(x=hx, y=hy, mode="lines", fill="toself", fillcolor="white", name=name, hoverinfo="skip",
                   legendgroup="quiver", line=dict(color="black", width=theme.arrow_width * 0.7)),
    ]


def _quiver_traces(field_x, field_y, grad_xy, plane: Plane, theme: Theme) -> list[go.Scatter]:
    nx = len(field_x)
    cell = ((plane.x_range[1] - plane.x_range[0]) / max(nx - 1, 1),
            (plane.y_range[1] - plane.y_range[0]) / max(len(field_y) - 1, 1))
    X, Y = np.meshgrid(field_x, field_y)
    xs, ys = quiver_segments(X, Y, grad_xy[..., 0], grad_xy[..., 1], cell)
    return quiver_traces(xs, ys, cell, theme, "∇f (points uphill; length ∝ √|∇f|)")


def add_point(fig: go.Figure, xy, theme: Theme, name: str = "x₀", **kwargs) -> go.Figure:
    """Mark the current point: a large orange star with a black outline."""
    fig.add_trace(go.Scatter(
        x=[xy[0]], y=[xy[1]], mode="markers", name=name,
        marker=dict(symbol="star", size=theme.marker_size * 1.9, color=OKABE_ITO["orange"],
                    line=dict(color="black", width=2)),
        hovertemplate=f"{name} = ({fmt(xy[0])}, {fmt(xy[1])})<extra></extra>", **kwargs,
    ))
    return fig


def add_critical_points(fig: go.Figure, points: Sequence[CriticalPoint], theme: Theme, **kwargs) -> go.Figure:
    """One trace per verdict (minimum, maximum, saddle, degenerate), so the legend explains them."""
    for verdict, (symbol, color) in CRITICAL_STYLE.items():
        chosen = [c for c in points if str(c.analysis.verdict) == verdict]
        if not chosen:
            continue
        fig.add_trace(go.Scatter(
            x=[c.xy[0] for c in chosen], y=[c.xy[1] for c in chosen], mode="markers",
            name=verdict.split(" (")[0], legendgroup="critical",
            marker=dict(symbol=symbol, size=theme.marker_size * 1.3, color=color,
                        line=dict(color="white" if symbol != "x" else color, width=2)),
            hovertemplate=f"{verdict}<br>(%{{x:.4g}}, %{{y:.4g}})<extra></extra>", **kwargs,
        ))
    return fig


def add_path(fig: go.Figure, path: np.ndarray, name: str, color: str, theme: Theme, dash: str = "solid",
             **kwargs) -> go.Figure:
    """A trajectory (``(k, 2)`` plane coordinates) as a line with dots at the iterates."""
    fig.add_trace(go.Scatter(
        x=path[:, 0], y=path[:, 1], mode="lines+markers", name=name,
        line=dict(color=color, width=theme.line_width, dash=dash),
        marker=dict(size=theme.marker_size * 0.6, color=color), **kwargs,
    ))
    return fig


def contour_figure(field: Field, labels: tuple[str, str], theme: Theme, *, point=None,
                   quiver: Field | None = None, critical: Sequence[CriticalPoint] = (),
                   click_grid: int = 0, title: str | None = None, show_scale: bool = True,
                   layout: dict | None = None) -> go.Figure:
    """Filled contours of ``field.value`` with optional quiver, critical points and point marker.

    ``quiver`` is a coarser :class:`Field` whose plane gradient becomes arrows; ``click_grid`` > 0
    adds an invisible ``click_grid``² scatter grid so clicks can select a point (plotly does not
    report clicks on contour traces). ``layout`` is merged into the layout last.
    """
    plane = field.plane
    limits = value_limits(field.value)
    contour = go.Contour(
        x=field.x, y=field.y, z=field.value, colorscale=SEQUENTIAL, ncontours=28,
        contours=dict(coloring="fill", showlines=True), line=dict(width=0.6, color="rgba(255,255,255,0.5)"),
        showscale=show_scale, colorbar=dict(title=dict(text="f"), thickness=18),
        hovertemplate=f"{labels[0]}=%{{x:.3g}}, {labels[1]}=%{{y:.3g}}<br>f=%{{z:.4g}}<extra></extra>",
        name="f", showlegend=False,
    )
    if limits:
        contour.update(zmin=limits[0], zmax=limits[1], zauto=False)
    fig = go.Figure(contour)
    if quiver is not None:
        for trace in _quiver_traces(quiver.x, quiver.y, quiver.plane.project(quiver.gradient), plane, theme):
            fig.add_trace(trace)
    add_critical_points(fig, critical, theme)
    if point is not None:
        add_point(fig, plane.project(np.asarray(point)), theme)
    if click_grid:
        gx, gy = np.meshgrid(np.linspace(*plane.x_range, click_grid), np.linspace(*plane.y_range, click_grid))
        fig.add_trace(go.Scatter(
            x=gx.ravel(), y=gy.ravel(), mode="markers", marker=dict(opacity=0, maxdisplayed=1),
            name=CLICK_GRID_NAME, showlegend=False,
            hovertemplate=f"click to move x₀ here<br>({labels[0]}, {labels[1]}) = (%{{x:.3g}}, %{{y:.3g}})<extra></extra>",
        ))
    undefined = not np.isfinite(field.value).all()
    return apply_theme(fig, theme, title, layout=merge_layout(dict(
        xaxis=dict(title=dict(text=labels[0]), range=list(plane.x_range), showgrid=False, zeroline=False),
        yaxis=dict(title=dict(text=labels[1]), range=list(plane.y_range), showgrid=False, zeroline=False),
        plot_bgcolor=NAN_COLOR if undefined else "white", clickmode="event+select",
        **legend_row_below(theme, title, bgcolor="rgba(255,255,255,0.8)"),
    ), layout or {}))


def surface_figure(field: Field, labels: tuple[str, str], theme: Theme, *, point=None, value: float | None = None,
                   gradient=None, title: str | None = None) -> go.Figure:
    """3-D surface of ``field.value`` and, when given, the tangent plane at ``point``.

    The tangent plane ``z = f(x₀) + ∇f(x₀)·(x − x₀)`` (plane components only) is drawn over a
    patch 16% of the range wide, centred at ``x₀``.
    """
    plane = field.plane
    limits = value_limits(field.value)
    z = field.value
    if limits:
        pad = 0.25 * (limits[1] - limits[0])
        z = np.where((z < limits[0] - pad) | (z > limits[1] + pad), np.nan, z)
    fig = go.Figure(go.Surface(x=field.x, y=field.y, z=z, colorscale=SEQUENTIAL, showscale=False,
                               name="f", opacity=0.95,
                               hovertemplate=f"{labels[0]}=%{{x:.3g}}<br>{labels[1]}=%{{y:.3g}}<br>f=%{{z:.4g}}<extra></extra>"))
    if point is not None and value is not None and gradient is not None and np.isfinite(value):
        x0, y0 = plane.project(np.asarray(point))
        gx, gy = plane.project(np.asarray(gradient))
        hx = 0.08 * (plane.x_range[1] - plane.x_range[0])
        hy = 0.08 * (plane.y_range[1] - plane.y_range[0])
        px, py = np.meshgrid(np.linspace(x0 - hx, x0 + hx, 2), np.linspace(y0 - hy, y0 + hy, 2))
        pz = value + gx * (px - x0) + gy * (py - y0)
        fig.add_trace(go.Surface(x=px, y=py, z=pz, showscale=False, opacity=0.85, name="tangent plane",
                                 colorscale=[[0, OKABE_ITO["orange"]], [1, OKABE_ITO["orange"]]],
                                 hoverinfo="skip"))
        edge = [(0, 0), (0, 1), (1, 1), (1, 0), (0, 0)]
        fig.add_trace(go.Scatter3d(x=[px[i, j] for i, j in edge], y=[py[i, j] for i, j in edge],
                                   z=[pz[i, j] for i, j in edge], mode="lines", name="tangent plane edge",
                                   line=dict(color="black", width=theme.line_width * 1.5), hoverinfo="skip"))
        fig.add_trace(go.Scatter3d(x=[x0], y=[y0], z=[value], mode="markers", name="x₀",
                                   marker=dict(size=theme.marker_size * 0.6, color="black")))
    return apply_theme(fig, theme, title, layout=dict(
        scene=dict(xaxis=dict(title=dict(text=labels[0])), yaxis=dict(title=dict(text=labels[1])),
                   zaxis=dict(title=dict(text="f")), aspectmode="cube",
                   # a little further back than plotly's default (1.25, 1.25, 1.25), so the tick labels
                   # of all three axes stay inside a narrow column instead of being cut at its edges
                   camera=dict(eye=dict(x=1.55, y=1.55, z=1.15))),
        showlegend=False))


_SHORT_VERDICT = {"local minimum": "minimum", "local maximum": "maximum", "saddle point": "saddle",
                  "inconclusive (degenerate critical point)": "degenerate"}


def critical_rows(critical: Sequence[CriticalPoint], labels: Sequence[str]) -> list[dict[str, str]]:
    """The critical points as table rows (display strings): the two plotted coordinates to 6
    significant digits, f, the type and the eigenvalues of the Hessian in the plane."""
    return [{labels[0]: fmt(c.xy[0], 6), labels[1]: fmt(c.xy[1], 6), "f": fmt(c.analysis.value),
             "type": _SHORT_VERDICT.get(str(c.analysis.verdict), str(c.analysis.verdict)),
             "eigenvalues of H": ", ".join(fmt(x) for x in c.analysis.eigenvalues)}
            for c in critical]
