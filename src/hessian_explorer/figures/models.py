"""Figures for the model pages (least squares, softmax regression): data and fit, eigenvalues,
loss landscapes over two parameters with their gradient field, 1-D profiles, block-structured
Hessian heatmaps (downsampled for big models), small matrix panels, spectra, and the LaTeX of
seed 001's worked exercise with the numbers filled in.

Pure: arrays and core results in, ``plotly.graph_objects.Figure`` (or strings) out. Matrices use
the diverging scale centred at 0, losses the sequential scale, marks the Okabe–Ito colours.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from hessian_explorer.classification import SoftmaxFit
from hessian_explorer.export import matrix_latex
from hessian_explorer.figures.landscape import add_point, quiver_segments, quiver_traces
from hessian_explorer.figures.matrices import symmetric_limit
from hessian_explorer.figures.style import DIVERGING, OKABE_ITO, SEQUENTIAL, Theme, apply_theme, fmt
from hessian_explorer.landscapes import LossSlice, Profile
from hessian_explorer.regression import LeastSquaresFit, WorkedExercise

__all__ = [
    "fit_figure",
    "eigenvalue_figure",
    "slice_figure",
    "profile_figure",
    "design_rows",
    "parameter_rows",
    "pool_matrix",
    "block_heatmap",
    "matrix_panel",
    "spectrum_figure",
    "exercise_steps",
    "MAX_HEATMAP_CELLS",
]

#: Heatmaps with more rows than this are shown downsampled (mean over square tiles).
MAX_HEATMAP_CELLS = 120
DATA_COLOR, FIT_COLOR, TRUTH_COLOR = OKABE_ITO["black"], OKABE_ITO["blue"], OKABE_ITO["green"]
ZERO_COLOR, CURRENT = OKABE_ITO["vermillion"], OKABE_ITO["orange"]


# --------------------------------------------------------------------------------------------
# Least squares
# --------------------------------------------------------------------------------------------


def _finish(fig: go.Figure, theme: Theme, title: str | None, height: int | None, legend: bool = True) -> go.Figure:
    """Apply the theme; put the legend in its own band at the bottom of the figure (two rows fit),
    so a legend that wraps on a narrow or projected screen never covers the title or the plot."""
    fig = apply_theme(fig, theme, title, height=height)
    if legend:
        fig.update_layout(legend=dict(orientation="h", yref="container", yanchor="bottom", y=0.0, x=0,
                                      bgcolor="rgba(255,255,255,0.8)"),
                          margin=dict(b=int(7 * theme.font_size) + 10))
    return fig


def fit_figure(fit: LeastSquaresFit, theme: Theme, *, truth: np.ndarray | None = None,
               title: str | None = None, height: int | None = None) -> go.Figure:
    """The data (black dots) and the fitted curve ``phi(x)^T theta_hat`` on ``fit.grid``.

    When the minimiser is not unique (``fit.theta is None``) the minimum-norm curve is drawn
    dashed with two more curves ``centre +/- s v_min`` (``fit.others``) that fit the data (almost)
    equally well. ``truth`` (values on ``fit.grid``) adds the generator's true curve, dotted. The
    y axis is clipped to the data's range plus a margin, so wild extrapolation does not hide it.
    """
    fig = go.Figure()
    lw = theme.line_width
    if truth is not None:
        fig.add_trace(go.Scatter(x=fit.grid, y=truth, mode="lines", name="true curve",
                                 line=dict(color=TRUTH_COLOR, width=lw, dash="dot")))
    if fit.theta is not None:
        fig.add_trace(go.Scatter(x=fit.grid, y=fit.curve, mode="lines", name="fit φ(x)ᵀθ̂",
                                 line=dict(color=FIT_COLOR, width=lw * 1.2)))
    else:
        same = abs(fit.others_loss - fit.loss) <= 1e-9 * max(fit.loss, float(fit.y @ fit.y), 1e-300)
        for k, curve in enumerate(fit.others):
            fig.add_trace(go.Scatter(x=fit.grid, y=curve, mode="lines", showlegend=k == 0, legendgroup="others",
                                     name=f"other minimisers ({'same' if same else 'almost the same'} loss)",
                                     line=dict(color=OKABE_ITO["purple"], width=lw)))
        fig.add_trace(go.Scatter(x=fit.grid, y=fit.curve, mode="lines", name="minimum-norm minimiser",
                                 line=dict(color=FIT_COLOR, width=lw * 1.2, dash="dash")))
    fig.add_trace(go.Scatter(x=fit.x, y=fit.y, mode="markers", name="data",
                             marker=dict(color=DATA_COLOR, size=theme.marker_size, line=dict(color="white", width=1)),
                             hovertemplate="x = %{x:.4g}<br>y = %{y:.4g}<extra></extra>"))
    if fit.y.size:
        lo, hi = float(fit.y.min()), float(fit.y.max())
        pad = 0.35 * max(hi - lo, 1e-3) + 0.2
        fig.update_yaxes(range=[lo - pad, hi + pad])
    fig.update_xaxes(title_text="x")
    fig.update_yaxes(title_text="y")
    return _finish(fig, theme, title, height)


def eigenvalue_figure(values: np.ndarray, theme: Theme, *, zero_tol: float, title: str | None = None,
                      height: int | None = None) -> go.Figure:
    """Eigenvalues (ascending, as given) as bars on a log axis; those ``<= zero_tol`` are zero up
    to rounding and are drawn as vermillion markers labelled 0 at the bottom of the axis."""
    v = np.asarray(values, dtype=float)
    names = [f"λ{_sub(k + 1)}" for k in range(v.size)]
    zero = v <= zero_tol
    positive = v[~zero]
    top = float(positive.max()) if positive.size else 1.0
    floor = float(positive.min()) / 10 if positive.size else top / 10
    fig = go.Figure()
    fig.add_trace(go.Bar(x=[n for n, z in zip(names, zero) if not z], y=positive, name="λ > 0",
                         marker_color=FIT_COLOR, text=[fmt(x, 3) for x in positive], textposition="outside",
                         textfont=dict(size=theme.annotation_size), cliponaxis=False,
                         hovertemplate="%{x} = %{y:.6g}<extra></extra>"))
    if zero.any():
        fig.add_trace(go.Scatter(x=[n for n, z in zip(names, zero) if z], y=[floor] * int(zero.sum()),
                                 mode="markers+text", name="λ = 0 (flat direction)", text=["0"] * int(zero.sum()),
                                 textposition="top center", textfont=dict(size=theme.annotation_size, color=ZERO_COLOR),
                                 customdata=v[zero], marker=dict(symbol="x", color=ZERO_COLOR, size=theme.marker_size),
                                 hovertemplate="%{x} = %{customdata:.3g} (zero up to rounding)<extra></extra>"))
    fig.update_xaxes(categoryorder="array", categoryarray=names)
    fig.update_yaxes(type="log", range=[np.log10(floor) - 0.3, np.log10(top) + 0.6], dtick=1, exponentformat="power",
                     title_text="eigenvalue (log scale)")
    fig.update_layout(showlegend=bool(zero.any()))
    extra = 5 * theme.font_size if zero.any() else 0  # room for the legend band
    return _finish(fig, theme, title, height or 360 + extra, legend=bool(zero.any()))


def _sub(k: int) -> str:
    return str(k).translate(str.maketrans("0123456789", "₀₁₂₃₄₅₆₇₈₉"))


def _quiver(sl: LossSlice, theme: Theme, name: str) -> list[go.Scatter]:
    cell = ((sl.a[-1] - sl.a[0]) / max(len(sl.arrow_a) - 1, 1), (sl.b[-1] - sl.b[0]) / max(len(sl.arrow_b) - 1, 1))
    A, B = np.meshgrid(sl.arrow_a, sl.arrow_b)
    xs, ys = quiver_segments(A, B, sl.grad_a, sl.grad_b, cell)
    return quiver_traces(xs, ys, cell, theme, name)


def slice_figure(sl: LossSlice, labels: tuple[str, str], theme: Theme, *, angle_deg: float | None = None,
                 half_width: float | None = None, show_quadratic: bool = False, centre_name: str = "θ̂",
                 loss_name: str = "L", equal_aspect: bool = False, title: str | None = None,
                 height: int | None = None) -> go.Figure:
    """Filled contours of ``sl.loss`` over (labels[0], labels[1]) with the gradient field as
    arrows (uphill; length ∝ √|∇L|), the centre as an orange star, optionally the direction
    ``cos(angle) e_i + sin(angle) e_j`` through it (length ``half_width`` each way) and the dashed
    contours of the second-order model ``sl.quadratic`` at the same levels. ``equal_aspect`` draws
    one unit the same length on both axes (so the arrows are perpendicular to the contours)."""
    lo, hi = float(np.nanmin(sl.loss)), float(np.nanmax(sl.loss))
    size = (hi - lo) / 24 if hi > lo else 1.0
    contours = dict(start=lo, end=hi, size=size)
    fig = go.Figure(go.Contour(
        x=sl.a, y=sl.b, z=sl.loss, colorscale=SEQUENTIAL, contours=dict(coloring="fill", showlines=True, **contours),
        line=dict(width=0.6, color="rgba(255,255,255,0.5)"),
        colorbar=dict(title=dict(text=loss_name), thickness=18, tickmode="auto", nticks=6),
        name=loss_name, showlegend=False,
        hovertemplate=f"{labels[0]} = %{{x:.4g}}<br>{labels[1]} = %{{y:.4g}}<br>{loss_name} = %{{z:.6g}}<extra></extra>",
    ))
    if show_quadratic:
        fig.add_trace(go.Contour(x=sl.a, y=sl.b, z=sl.quadratic, showscale=False, name="quadratic model (H at centre)",
                                 contours=dict(coloring="none", **contours), hoverinfo="skip", showlegend=True,
                                 line=dict(color=CURRENT, width=theme.line_width * 0.6, dash="dash")))
    for trace in _quiver(sl, theme, f"∇{loss_name} (uphill)"):
        fig.add_trace(trace)
    if angle_deg is not None and half_width:
        c, s = np.cos(np.radians(angle_deg)), np.sin(np.radians(angle_deg))
        ci, cj = sl.centre[sl.i], sl.centre[sl.j]
        fig.add_trace(go.Scatter(
            x=[ci - half_width * c, ci + half_width * c], y=[cj - half_width * s, cj + half_width * s],
            mode="lines+markers", name=f"direction v̂ ({fmt(angle_deg)}°)",
            line=dict(color=CURRENT, width=theme.line_width * 1.2),
            marker=dict(symbol=["circle", "arrow"], angleref="previous", size=[0, theme.marker_size * 1.6], color=CURRENT),
        ))
    add_point(fig, (sl.centre[sl.i], sl.centre[sl.j]), theme, name=centre_name)
    fig.update_xaxes(title_text=labels[0], range=[sl.a[0], sl.a[-1]], showgrid=False, zeroline=False)
    fig.update_yaxes(title_text=labels[1], range=[sl.b[0], sl.b[-1]], showgrid=False, zeroline=False)
    if equal_aspect:
        fig.update_yaxes(scaleanchor="x", scaleratio=1, constrain="domain")
        fig.update_xaxes(constrain="domain")
    return _finish(fig, theme, title, height)


def profile_figure(prof: Profile, theme: Theme, *, exact: bool, loss_name: str = "L", title: str | None = None,
                   height: int | None = None) -> go.Figure:
    """``L(centre + t v̂)`` (solid) and its second-order model ``L + t g·v̂ + t² v̂ᵀHv̂ / 2`` (dashed);
    for an exact quadratic (``exact=True``) the legend says the two coincide."""
    fig = go.Figure()
    fig.add_trace(go.Scatter(x=prof.t, y=prof.values, mode="lines", name=f"{loss_name}(θ̂ + t v̂)",
                             line=dict(color=FIT_COLOR, width=theme.line_width * 1.6)))
    model = "quadratic model (identical: L is quadratic)" if exact else "quadratic model from H"
    fig.add_trace(go.Scatter(x=prof.t, y=prof.quadratic, mode="lines", name=model,
                             line=dict(color=CURRENT, width=theme.line_width, dash="dash")))
    fig.update_xaxes(title_text="t (distance along v̂)")
    fig.update_yaxes(title_text=loss_name)
    return _finish(fig, theme, title, height)


def design_rows(fit: LeastSquaresFit, max_rows: int = 8) -> list[dict[str, str]]:
    """The first ``max_rows`` rows of Phi as table rows ``{"n", "input x", <basis names>...}`` (formatted)."""
    names = fit.basis.names
    return [{"n": str(n + 1), "input x": fmt(fit.x[n]), **{name: fmt(v) for name, v in zip(names, fit.Phi[n])}}
            for n in range(min(max_rows, fit.n_points))]


def parameter_rows(fit: LeastSquaresFit) -> list[dict[str, str]]:
    """One row per parameter: its name, its basis function and θ̂ ("not unique" when it is not)."""
    return [{"parameter": label, "basis function": name, "θ̂": fmt(v, 6) if fit.theta is not None else "not unique"}
            for label, name, v in zip(fit.parameter_labels, fit.basis.names, fit.centre)]


# --------------------------------------------------------------------------------------------
# Matrices with block structure
# --------------------------------------------------------------------------------------------


def pool_matrix(matrix: np.ndarray, max_cells: int = MAX_HEATMAP_CELLS) -> tuple[np.ndarray, np.ndarray, int]:
    """Downsample a square (P, P) matrix by averaging ``f x f`` tiles, ``f = ceil(P / max_cells)``.

    Returns ``(pooled, centres, f)``: ``centres`` are the tile centres in the original index
    units (so lines at original indices stay in place); ``f == 1`` returns the matrix unchanged.
    """
    m = np.asarray(matrix, dtype=float)
    P = m.shape[0]
    f = max(1, -(-P // max_cells))
    if f == 1:
        return m, np.arange(P, dtype=float), 1
    n = -(-P // f)
    padded = np.full((n * f, n * f), np.nan)
    padded[:P, :P] = m
    pooled = np.nanmean(padded.reshape(n, f, n, f), axis=(1, 3))
    starts = np.arange(n) * f
    centres = starts + (np.minimum(starts + f, P) - starts - 1) / 2.0
    return pooled, centres, f


def block_heatmap(matrix: np.ndarray, block: int, theme: Theme, *, labels: Sequence[str] | None = None,
                  block_labels: Sequence[str] | None = None, title: str | None = None, zmax: float | None = None,
                  max_cells: int = MAX_HEATMAP_CELLS, height: int | None = None) -> go.Figure:
    """A (P, P) matrix with ``block x block`` tiles outlined: lines at ``k * block - 0.5``.

    Diverging scale centred at 0. Parameter ``labels`` are used as ticks when P <= 30, else the
    ``block_labels`` at block centres. Above ``max_cells`` rows the matrix is downsampled
    (:func:`pool_matrix`) and the hover text says so; entries are written in the cells when they
    fit (P <= 12 at normal size, P <= 7 in presentation mode).
    """
    m = np.asarray(matrix, dtype=float)
    P = m.shape[0]
    z, centres, f = pool_matrix(m, max_cells)
    zmax = symmetric_limit(z) if zmax is None else zmax
    annotate = P * theme.annotation_size <= 170  # 12 columns at normal size, 7 when projected
    note = f" (mean of {f}×{f} tiles)" if f > 1 else ""
    fig = go.Figure(go.Heatmap(
        z=z, x=centres, y=centres, colorscale=DIVERGING, zmin=-zmax, zmax=zmax, zmid=0,
        colorbar=dict(exponentformat="power", thickness=18),
        text=[[fmt(v, 3 if P <= 6 else 2) for v in row] for row in _clean(z)] if annotate else None,
        texttemplate="%{text}" if annotate else None, textfont=dict(size=theme.annotation_size),
        hovertemplate="row %{y:.0f}, column %{x:.0f}: %{z:.6g}" + note + "<extra></extra>", name="matrix",
    ))
    outline = dict(color="black", width=theme.line_width * 0.6)
    for k in range(0, P + 1, block):
        edge = k - 0.5
        fig.add_shape(type="line", x0=edge, x1=edge, y0=-0.5, y1=P - 0.5, line=outline)
        fig.add_shape(type="line", y0=edge, y1=edge, x0=-0.5, x1=P - 0.5, line=outline)
    if labels is not None and P <= 30:
        ticks, text = list(range(P)), list(labels)
    elif block_labels is not None:
        ticks = [k * block + (block - 1) / 2 for k in range(len(block_labels))]
        text = list(block_labels)
    else:
        ticks, text = None, None
    axis = dict(range=[-0.5, P - 0.5], showgrid=False, zeroline=False)
    if ticks is not None:
        axis.update(tickmode="array", tickvals=ticks, ticktext=text)
    fig.update_xaxes(side="top", constrain="domain", **axis)
    fig.update_yaxes(autorange=False, scaleanchor="x", constrain="domain", **{**axis, "range": [P - 0.5, -0.5]})
    side = max(360, min(theme.height, 160 + 70 * P)) if height is None else height
    fig = apply_theme(fig, theme, title, height=side)
    return fig.update_layout(margin=dict(t=theme.title_size + 2 * theme.font_size + 30))


def matrix_panel(matrix: np.ndarray, row_labels: Sequence[str], col_labels: Sequence[str], theme: Theme, *,
                 title: str | None = None, zmax: float | None = None, annotate: bool | None = None,
                 height: int | None = None) -> go.Figure:
    """A small rectangular matrix (vectors too), diverging scale centred at 0, entries written in
    the cells when it has at most 6 columns and 12 rows (``annotate`` overrides)."""
    m = np.atleast_2d(np.asarray(matrix, dtype=float))
    annotate = m.shape[1] <= 6 and m.shape[0] <= 12 if annotate is None else annotate
    zmax = symmetric_limit(m) if zmax is None else zmax
    fig = go.Figure(go.Heatmap(
        z=m, x=list(col_labels), y=list(row_labels), colorscale=DIVERGING, zmin=-zmax, zmax=zmax, zmid=0,
        text=[[fmt(v, 3) for v in row] for row in _clean(m)] if annotate else None, xgap=1, ygap=1,
        texttemplate="%{text}" if annotate else None, textfont=dict(size=theme.annotation_size), showscale=False,
        hovertemplate="row %{y}, column %{x}: %{z:.6g}<extra></extra>",
    ))
    fig.update_yaxes(autorange="reversed", showgrid=False)
    fig.update_xaxes(side="top", showgrid=False)
    fig = apply_theme(fig, theme, title, height=height or max(260, min(theme.height, 150 + 40 * m.shape[0])))
    return fig.update_layout(margin=dict(t=theme.title_size + 2 * theme.font_size + 30))


def spectrum_figure(fit: SoftmaxFit, theme: Theme, *, title: str | None = None, height: int | None = None) -> go.Figure:
    """The Hessian's spectrum: every eigenvalue (dense) for small P, with those that are zero up to
    rounding in vermillion; for large P the 20 largest from Lanczos (left) and the stochastic
    Lanczos quadrature density (right)."""
    if fit.eigenvalues is not None:
        v = np.sort(fit.eigenvalues)[::-1]
        zero = np.abs(v) <= fit.zero_tol
        idx = np.arange(1, v.size + 1)
        fig = go.Figure()
        fig.add_trace(go.Scatter(x=idx[~zero], y=v[~zero], mode="markers", name="λ > 0",
                                 marker=dict(color=FIT_COLOR, size=theme.marker_size),
                                 hovertemplate="λ #%{x} = %{y:.6g}<extra></extra>"))
        if zero.any():
            fig.add_trace(go.Scatter(x=idx[zero], y=v[zero], mode="markers", name="λ = 0 (up to rounding)",
                                     marker=dict(color=ZERO_COLOR, size=theme.marker_size * 1.2, symbol="x"),
                                     hovertemplate="λ #%{x} = %{y:.3g}<extra></extra>"))
        fig.update_xaxes(title_text="eigenvalue number (largest first)")
        fig.update_yaxes(title_text="eigenvalue of H", rangemode="tozero")
        return _finish(fig, theme, title, height or 380 + 5 * theme.font_size)
    fig = make_subplots(rows=1, cols=2, subplot_titles=("20 largest (Lanczos on H·v)", "density (stochastic Lanczos)"))
    top = fit.top.values
    fig.add_trace(go.Scatter(x=np.arange(1, top.size + 1), y=top, mode="markers", name="Lanczos eigenvalues",
                             marker=dict(color=FIT_COLOR, size=theme.marker_size)), 1, 1)
    d = fit.density
    fig.add_trace(go.Scatter(x=d.grid, y=d.density, mode="lines", name="spectral density",
                             line=dict(color=OKABE_ITO["purple"], width=theme.line_width)), 1, 2)
    fig.update_xaxes(title_text="eigenvalue number", row=1, col=1)
    fig.update_yaxes(title_text="eigenvalue of H", row=1, col=1)
    fig.update_xaxes(title_text="eigenvalue", row=1, col=2)
    top_density = float(np.max(d.density)) if d.density.size else 1.0
    fig.update_yaxes(title_text="density (log)", type="log", exponentformat="power", row=1, col=2,
                     range=[np.log10(top_density) - 5, np.log10(top_density) + 0.3])
    fig.update_annotations(font_size=theme.font_size)
    fig.update_layout(showlegend=False)
    return apply_theme(fig, theme, title, height=height or 400)


# --------------------------------------------------------------------------------------------
# LaTeX
# --------------------------------------------------------------------------------------------


def _clean(a: np.ndarray) -> np.ndarray:
    """Entries below 1e-12 of the largest are rounding noise of an exact zero: show them as 0."""
    a = np.asarray(a, dtype=float)
    top = float(np.abs(a).max()) if a.size else 0.0
    return np.where(np.abs(a) <= 1e-12 * top, 0.0, a)


def _vec(v: np.ndarray) -> str:
    return matrix_latex(_clean(v).reshape(-1, 1), 4)


def _paren(text: str) -> str:
    return f"({text})" if text.startswith("-") else text


def _polynomial(theta: np.ndarray) -> str:
    """``y = 1 + 0.5·x − 2·x²`` from coefficients (constant first)."""
    out = fmt(theta[0])
    for coef, power in zip(theta[1:], ("x", "x²")):
        out += (" − " if coef < 0 else " + ") + f"{fmt(abs(coef))}·{power}"
    return "y = " + out


def exercise_steps(ex: WorkedExercise) -> list[tuple[str, str]]:
    """Seed 001's exercise as ``(explanation, LaTeX)`` steps with the numbers of ``ex``; the
    explanation is Markdown and never empty, the LaTeX may be empty."""
    M = lambda a: matrix_latex(_clean(a), 4)  # noqa: E731 - a local shorthand
    x = [_paren(fmt(v)) for v in ex.x]
    steps = [
        ("**1. Φ(X):** one row φ(xₙ)ᵀ = [1, xₙ, xₙ²] per point.",
         r"\Phi(X) = \begin{bmatrix} 1 & x_1 & x_1^2 \\ 1 & x_2 & x_2^2 \\ 1 & x_3 & x_3^2 \end{bmatrix} = " + M(ex.Phi)),
        ("**2. The normal equations** ΦᵀΦ θ = Φᵀy, from setting the gradient 2(Φθ − y)ᵀΦ to zero.",
         r"\Phi^\top\Phi = " + M(ex.PhiTPhi) + r",\qquad \Phi^\top y = " + _vec(ex.PhiTy)),
    ]
    det = (rf"\det \Phi = (x_2 - x_1)(x_3 - x_1)(x_3 - x_2) = ({x[1]} - {x[0]})({x[2]} - {x[0]})({x[2]} - {x[1]})"
           rf" = {fmt(ex.det_Phi)},\qquad \det \Phi^\top\Phi = (\det\Phi)^2 = {fmt(ex.det_Phi ** 2)}")
    if ex.theta is not None:
        steps.append(("**3. Solve** θ = (ΦᵀΦ)⁻¹Φᵀy. The inverse exists because det ΦᵀΦ ≠ 0:", det))
        steps.append(("Multiply out:", r"\theta = (\Phi^\top\Phi)^{-1}\Phi^\top y = " + M(ex.inverse) + _vec(ex.PhiTy)
                      + " = " + _vec(ex.theta)))
        steps.append((f"So the fit is {_polynomial(_clean(ex.theta))}, "
                      f"through all three points (loss {fmt(_clean([ex.loss or 0.0, ex.y @ ex.y])[0])}): three points, "
                      "three parameters.", ""))
    else:
        steps.append(("**3. Solve: the formula fails.** Two x values coincide, so two rows of Φ are equal and "
                      "det Φ = 0: (ΦᵀΦ)⁻¹ does not exist.", det))
    tol = ex.zero_tol
    ev = ", ".join("0" if abs(v) <= tol else fmt(v) for v in ex.eigenvalues)
    verdict = (r"\text{all } > 0 \Rightarrow H \text{ positive definite} \Rightarrow \text{a minimum}"
               if ex.eigenvalues[0] > tol else
               r"\lambda_{\min} = 0 \text{ (up to rounding)} \Rightarrow"
               r" \text{a flat direction: the minimiser is not unique}")
    steps.append(("**4. Is it a minimum?** The Hessian of L is 2ΦᵀΦ whatever θ is; check its eigenvalues.",
                  r"H = 2\Phi^\top\Phi = " + M(ex.hessian) + rf",\qquad \lambda(H) = {ev}\ \Rightarrow\ " + verdict))
    return steps
