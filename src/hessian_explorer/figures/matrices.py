"""Matrix heatmaps on a diverging colour scale centred at 0, annotated with their entries."""

from __future__ import annotations

from typing import Sequence

import numpy as np
import plotly.graph_objects as go

from hessian_explorer.figures.style import DIVERGING, Theme, apply_theme, fmt, merge_layout

__all__ = ["matrix_heatmap", "matrix_pair", "symmetric_limit", "pair_top_margin"]


def pair_top_margin(theme: Theme) -> int:
    """Top margin that fits :func:`matrix_pair`'s subplot titles above its column labels."""
    return 3 * theme.title_size + 2 * theme.font_size


def symmetric_limit(*matrices: np.ndarray) -> float:
    """``max |entry|`` over the finite entries of all matrices (1 if they are all zero)."""
    values = [np.abs(m[np.isfinite(m)]).max() for m in matrices if np.isfinite(m).any()]
    top = max(values, default=0.0)
    return float(top) if top > 0 else 1.0


def _heatmap(matrix: np.ndarray, labels: Sequence[str], zmax: float, theme: Theme, annotate: bool,
             coloraxis: str | None = None, name: str = "") -> go.Heatmap:
    m = np.asarray(matrix, dtype=float)
    text = [[fmt(v, 4) for v in row] for row in m] if annotate else None
    kwargs = dict(coloraxis=coloraxis) if coloraxis else dict(colorscale=DIVERGING, zmin=-zmax, zmax=zmax, zmid=0)
    return go.Heatmap(
        z=m, x=list(labels), y=list(labels), text=text, texttemplate="%{text}" if annotate else None,
        textfont=dict(size=theme.annotation_size), xgap=2, ygap=2, name=name,
        hovertemplate="row %{y}, column %{x}: %{z:.6g}<extra>" + name + "</extra>", **kwargs,
    )


def matrix_heatmap(matrix: np.ndarray, labels: Sequence[str], theme: Theme, *, title: str | None = None,
                   zmax: float | None = None, annotate: bool | None = None, height: int | None = None,
                   layout: dict | None = None) -> go.Figure:
    """Heatmap of a square matrix, rows top to bottom, colour scale symmetric about 0.

    ``zmax`` defaults to the largest absolute entry; entries are written in the cells when the
    matrix is at most 10x10 (``annotate`` overrides). ``layout`` is merged into the layout last.
    """
    m = np.asarray(matrix, dtype=float)
    annotate = m.shape[0] <= 10 if annotate is None else annotate
    zmax = symmetric_limit(m) if zmax is None else zmax
    fig = go.Figure(_heatmap(m, labels, zmax, theme, annotate))
    side = min(theme.height, 140 + 90 * m.shape[0]) if height is None else height
    shape = dict(yaxis=dict(autorange="reversed", scaleanchor="x", constrain="domain"),
                 xaxis=dict(side="top", constrain="domain"))
    if title:  # column labels sit on top, between the title and the matrix
        shape["margin"] = dict(t=pair_top_margin(theme))
    return apply_theme(fig, theme, title, height=max(side, 300), layout=merge_layout(shape, layout or {}))


def matrix_pair(left: np.ndarray, right: np.ndarray, labels: Sequence[str], titles: tuple[str, str],
                theme: Theme, *, height: int | None = None) -> go.Figure:
    """Two matrices side by side on one shared, 0-centred colour scale (one colour bar)."""
    zmax = symmetric_limit(np.asarray(left, float), np.asarray(right, float))
    annotate = np.asarray(left).shape[0] <= 10
    right_trace = _heatmap(right, labels, zmax, theme, annotate, coloraxis="coloraxis", name=titles[1])
    right_trace.update(xaxis="x2", yaxis="y2")
    fig = go.Figure([_heatmap(left, labels, zmax, theme, annotate, coloraxis="coloraxis", name=titles[0]), right_trace])
    n = np.asarray(left).shape[0]
    # Two subplots side by side (the layout make_subplots(1, 2, horizontal_spacing=0.08) builds),
    # x axes on top, as in matrix_heatmap, so pairs and single matrices line up; each title sits
    # above its column labels.
    domains = ([0.0, 0.46], [0.54, 1.0])
    titles_above = [dict(text=title, x=sum(d) / 2, xref="paper", xanchor="center", y=1.0, yref="paper",
                         yanchor="bottom", showarrow=False, yshift=2.2 * theme.font_size,
                         font=dict(size=theme.title_size)) for title, d in zip(titles, domains)]
    return apply_theme(fig, theme, None, height=height or max(320, min(theme.height, 160 + 80 * n)), layout=dict(
        coloraxis=dict(colorscale=DIVERGING, cmin=-zmax, cmax=zmax, cmid=0), annotations=titles_above,
        xaxis=dict(domain=domains[0], anchor="y", side="top"), yaxis=dict(anchor="x", autorange="reversed"),
        xaxis2=dict(domain=domains[1], anchor="y2", side="top"), yaxis2=dict(anchor="x2", autorange="reversed"),
        margin=dict(t=pair_top_margin(theme)),
    ))
