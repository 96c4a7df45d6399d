"""Figures and captions for the misconception page: H next to ∇f∇fᵀ, their difference, the two
curvature curves over angles, and Newton's method with each on the contour map.

Pure: core objects in, ``plotly.graph_objects.Figure`` (or a string of LaTeX/Markdown) out.
The Hessian is always drawn in blue and solid, the outer product in vermillion and dashed.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Sequence

import numpy as np
import plotly.graph_objects as go

from hessian_explorer.analysis import Verdict
from hessian_explorer.critical import CriticalPoint
from hessian_explorer.directions import Rose
from hessian_explorer.figures.landscape import CLICK_GRID, add_path, contour_figure
from hessian_explorer.figures.matrices import pair_top_margin, matrix_heatmap, matrix_pair
from hessian_explorer.figures.style import OKABE_ITO, Theme, apply_theme, fmt
from hessian_explorer.misconception import Comparison, EntryLatex, NewtonRun, Outcome
from hessian_explorer.plane import Field

__all__ = ["HESSIAN_COLOR", "OUTER_COLOR", "matrices_figure", "difference_figure", "curvature_figure",
           "newton_figure", "facts_markdown", "entry_table_latex", "newton_sentence"]

HESSIAN_COLOR = OKABE_ITO["blue"]
OUTER_COLOR = OKABE_ITO["vermillion"]
MATRIX_TITLES = ("H", "∇f∇fᵀ")


def _matrix_height(n: int, theme: Theme) -> int:
    return max(340, min(theme.height, 180 + 90 * n)) + (60 if theme.name == "presentation" else 0)


def matrices_figure(comparison: Comparison, labels: Sequence[str], theme: Theme) -> go.Figure:
    """``H`` and ``∇f∇fᵀ`` at x₀ side by side on ONE colour scale centred at 0 (shared coloraxis)."""
    n = len(labels)
    fig = matrix_pair(comparison.hessian, comparison.outer, labels, MATRIX_TITLES, theme,
                      height=_matrix_height(n, theme))
    return fig


def difference_figure(comparison: Comparison, labels: Sequence[str], theme: Theme) -> go.Figure:
    """``H − ∇f∇fᵀ`` at x₀ on its own colour scale centred at 0 (white everywhere when they agree)."""
    return matrix_heatmap(comparison.difference, labels, theme, title="H − ∇f∇fᵀ",  # level with the pair beside it
                          height=_matrix_height(len(labels), theme), layout=dict(margin=dict(t=pair_top_margin(theme))))


def curvature_figure(roses: tuple[Rose, Rose], theme: Theme, plane_labels: tuple[str, str],
                     angle: float | None = None, title: str | None = None) -> go.Figure:
    """Curvature against the angle of v̂ in the plotted plane: ``v̂ᵀHv̂`` and ``(∇f·v̂)² = v̂ᵀ(∇f∇fᵀ)v̂``.

    A Cartesian chart (not polar) so negative curvature reads as "below the zero line". The
    first trace is the Hessian's, the second the outer product's; ``angle`` (degrees) adds a
    vertical marker for the sidebar's direction.
    """
    h, o = roses
    fig = go.Figure()
    thin = max(1.5, theme.line_width / 2)
    shapes = [dict(type="line", xref="x domain", x0=0, x1=1, yref="y", y0=0, y1=0,
                   line=dict(color="#444444", width=thin))]  # the zero line
    for r, name, color, dash in ((h, "v̂ᵀHv̂  (true curvature)", HESSIAN_COLOR, "solid"),
                                 (o, "(∇f·v̂)²  (what ∇f∇fᵀ claims)", OUTER_COLOR, "dash")):
        fig.add_trace(go.Scatter(x=r.angles_deg, y=r.curvature, mode="lines", name=name,
                                 line=dict(color=color, width=theme.line_width, dash=dash),
                                 hovertemplate="θ = %{x:.0f}°: %{y:.4g}<extra></extra>"))
    if angle is not None:
        shapes.append(dict(type="line", xref="x", x0=angle, x1=angle, yref="y domain", y0=0, y1=1,
                           line=dict(color="#777777", width=thin, dash="dot")))
        for r, color in ((h, HESSIAN_COLOR), (o, OUTER_COLOR)):
            value = float(np.interp(angle, r.angles_deg, r.curvature))
            marker = dict(size=theme.marker_size, color=color, line=dict(color="white", width=2))
            fig.add_trace(go.Scatter(x=[angle], y=[value], mode="markers", showlegend=False, marker=marker,
                                     hovertemplate=f"v̂ at {angle:.0f}°: {fmt(value)}<extra></extra>"))
    axis_title = f"angle θ of v̂ from the {plane_labels[0]}-axis toward {plane_labels[1]} (degrees)"
    return apply_theme(fig, theme, title, height=int(theme.height * 0.8), layout=dict(
        xaxis=dict(title=dict(text=axis_title), range=[0, 360], tickvals=list(range(0, 361, 45)), zeroline=False),
        yaxis=dict(title=dict(text="curvature along v̂"), zeroline=False),
        legend=dict(orientation="h", yanchor="bottom", y=1.02, x=0),
        margin=dict(t=110 if title else 60), shapes=shapes,
    ))


def newton_figure(field: Field, labels: tuple[str, str], theme: Theme, point, runs: tuple[NewtonRun, NewtonRun],
                  critical: Sequence[CriticalPoint] = (), title: str | None = None) -> go.Figure:
    """Contours of f with the Newton paths using ``H`` (blue, solid) and ``∇f∇fᵀ`` (vermillion, dashed).

    Each path is drawn over a white casing so it stays visible on the dark end of the colour
    scale; the axes keep the plotted range, so a diverging path runs off the edge.
    """
    fig = contour_figure(field, labels, theme, point=point, critical=critical, click_grid=CLICK_GRID, title=title)
    casing = replace(theme, line_width=theme.line_width + 3, marker_size=theme.marker_size + 3)
    for run, name, color, dash in ((runs[0], "Newton with H", HESSIAN_COLOR, "solid"),
                                   (runs[1], "Newton with ∇f∇fᵀ", OUTER_COLOR, "dash")):
        add_path(fig, run.path, "", "white", casing, dash=dash, showlegend=False, hoverinfo="skip")
        add_path(fig, run.path, name, color, theme, dash=dash,
                 hovertemplate=f"{name}<br>(%{{x:.3g}}, %{{y:.3g}})<extra></extra>")
    # x₀ on top of the paths
    star = next(t for t in fig.data if t.name == "x₀")
    fig.data = tuple(t for t in fig.data if t is not star) + (star,)
    return fig


def facts_markdown(comparison: Comparison) -> str:
    """A Markdown table: eigenvalues, rank and definiteness of ``H`` and of ``∇f∇fᵀ`` (numbers only)."""
    rows = ["| matrix at x₀ | eigenvalues | rank | definiteness |", "|---|---|---|---|"]
    for name, facts in (("**H**", comparison.hessian_facts), ("**∇f∇fᵀ**", comparison.outer_facts)):
        eig = ", ".join(fmt(x) for x in facts.eigenvalues)
        rank = "undefined" if facts.rank < 0 else str(facts.rank)
        rows.append(f"| {name} | {eig} | {rank} | {facts.definiteness} |")
    return "\n".join(rows)


def _value(x: float) -> str:
    s = fmt(x)
    return r"\text{undefined}" if s == "undefined" else s


def entry_table_latex(entries: Sequence[EntryLatex], comparison: Comparison) -> str:
    """One LaTeX ``array``: each row "Hessian entry = value  (= or ≠)  outer entry = value" at x₀.

    The relation is ``=`` when the two values agree to within ``comparison.tolerance``; a
    constant expression is not followed by its value again.
    """
    rows = []
    for e in entries:
        h, o = float(comparison.hessian[e.i, e.j]), float(comparison.outer[e.i, e.j])
        same = np.isfinite(h) and np.isfinite(o) and abs(h - o) <= comparison.tolerance
        relation = "=" if same else r"\neq"
        left = e.hessian if e.hessian_constant else rf"{e.hessian} = {_value(h)}"
        right = e.outer if e.outer_constant else rf"{e.outer} = {_value(o)}"
        rows.append(rf"{left} & {relation} & {right}")
    return r"\begin{array}{rcl}" + r" \\[12pt] ".join(rows) + r"\end{array}"


def newton_sentence(run: NewtonRun) -> str:
    """One sentence on what Newton's method did with this matrix (from the run's outcome)."""
    name = "H" if run.matrix == "hessian" else "∇f∇fᵀ"
    matrix = name if run.damping == 0 else f"{name} + {run.damping:g}·I"
    steps = f"{run.steps} step{'s' * (run.steps != 1)}"
    where = f"({', '.join(fmt(round(float(c), 6), 3) for c in run.end)})"  # no 3e-14 for a zero
    move = fmt(run.last_move, 2)
    if run.outcome is Outcome.CONVERGED:
        what = ("a degenerate critical point" if run.verdict is Verdict.INCONCLUSIVE else f"a {run.verdict}")
        text = (f"did not move: x₀ is already {what}" if run.steps == 0 else
                f"converged in {steps} to {what} at {where}")
    else:
        text = {
            Outcome.UNDEFINED: f"stepped out of the domain of f after {steps}",
            Outcome.DIVERGED: f"diverged: it ran off the plotted region after {steps}",
            Outcome.SINGULAR: (f"stopped after {steps}: {matrix} is singular at {where}, "
                               "so the Newton step is undefined"),
            Outcome.CRAWLED: f"crawled: after {steps} it still moves, by only {move} per step",
            Outcome.WANDERED: (f"did not settle in {steps}: it "
                               f"{'bounces back and forth' if run.bouncing else 'still moves'}, {move} per step"),
        }[run.outcome]
        if run.outcome in (Outcome.CRAWLED, Outcome.WANDERED) and not run.in_view:
            text += ", outside the plotted region"
    return f"**Newton with {name}** {text}."
