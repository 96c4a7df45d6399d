"""Caches for the "outer products done right" page, keyed by its slider values.

Numbers (``st.cache_data``) and the finished figures (``st.cache_resource``): building a plotly
figure with hundreds of arrows costs more than the numbers behind it, and the open tab is drawn
on every rerun, so warm reruns reuse both.  Cached figures are shared and must not be mutated
(``charts.chart`` only reads them).
"""

from __future__ import annotations

import plotly.graph_objects as go
import streamlit as st

from hessian_explorer.figures import outer_products as figs
from hessian_explorer.figures.style import theme_for
from hessian_explorer.outer_product_examples import (BlobProblem, FisherSandbox, GaussNewtonDemo, KunstnerFigure1,
                                                     blob_classification, fisher_sandbox, gauss_newton_demo,
                                                     kunstner_figure1)
from hessian_explorer.outer_products import EFDecomposition, ef_decomposition

__all__ = ["kunstner", "blobs", "sandbox", "ef_at", "gauss_newton", "kunstner_charts", "sandbox_charts",
           "ef_chart", "gauss_newton_charts"]


@st.cache_data(show_spinner="Integrating the trajectories (Euler steps of 0.001)…", max_entries=24)
def kunstner(n: int, noise: float, misspec: float) -> KunstnerFigure1:
    """:func:`kunstner_figure1` for the sliders of tab ①."""
    return kunstner_figure1(n, noise, misspec)


@st.cache_resource(show_spinner=False)
def blobs() -> BlobProblem:
    """The fitted three-class softmax problem of tabs ② and ③ (fixed)."""
    return blob_classification()


@st.cache_data(show_spinner="Drawing labels…", max_entries=24)
def sandbox(samples: int, seed: int, flip: float) -> FisherSandbox:
    """:func:`fisher_sandbox` at the blob problem's minimiser."""
    return fisher_sandbox(blobs(), samples, seed, flip)


@st.cache_data(show_spinner=False, max_entries=64)
def ef_at(away: float) -> EFDecomposition:
    """The EF decomposition of the blob problem at ``(1 - away) w*``."""
    problem = blobs()
    return ef_decomposition(problem.model.per_example_gradients(problem.point(away)))


@st.cache_data(show_spinner=False, max_entries=64)
def gauss_newton(resid: float, a: float, b: float) -> GaussNewtonDemo:
    """:func:`gauss_newton_demo` for the noise level and evaluation point of tab ③."""
    return gauss_newton_demo(resid, (a, b))


@st.cache_resource(show_spinner=False, max_entries=16)
def kunstner_charts(n: int, noise: float, misspec: float, presentation: bool) -> tuple[go.Figure, go.Figure]:
    """(data and fit, the three update fields); a 2 x 2 grid of fields in presentation mode."""
    fig1, theme = kunstner(n, noise, misspec), theme_for(presentation)
    return (figs.kunstner_data_figure(fig1, theme, "Data and fit"),
            figs.kunstner_fields_figure(fig1.fields, fig1.trajectories, theme,
                                        contours=(fig1.contour_b, fig1.contour_slope, fig1.contour_loss),
                                        columns=2 if presentation else 3))


@st.cache_resource(show_spinner=False, max_entries=16)
def sandbox_charts(samples: int, seed: int, flip: float, presentation: bool) -> tuple[go.Figure, go.Figure]:
    """(convergence plot, the data set)."""
    theme = theme_for(presentation)
    return (figs.fisher_convergence_figure(sandbox(samples, seed, flip), theme,
                                           title="Does the average of Σ sₙsₙᵀ reach H?"),
            figs.blob_figure(blobs(), theme, "The data"))


@st.cache_resource(show_spinner=False, max_entries=32)
def ef_chart(away: float, presentation: bool) -> go.Figure:
    """EF, N·Cov(g) and N·ḡḡᵀ on one colour scale."""
    dec = ef_at(away)
    return figs.matrix_row([dec.empirical_fisher, dec.covariance_part, dec.mean_part], blobs().param_labels,
                           ["EF = Σ gₙgₙᵀ", "N·Cov(g)", "N·ḡḡᵀ"], theme_for(presentation))


@st.cache_resource(show_spinner=False, max_entries=32)
def gauss_newton_charts(resid: float, a: float, b: float, presentation: bool) -> tuple[go.Figure, go.Figure]:
    """(data with the model curve and residuals, GN / H / their difference on one colour scale)."""
    demo, theme = gauss_newton(resid, a, b), theme_for(presentation)
    c = demo.comparison
    return (figs.exponential_fit_figure(demo, theme, "Data, model curve, residuals"),
            figs.matrix_row([c.gauss_newton, c.hessian, c.second_order_term], ["a", "b"],
                            ["GN = 2JᵀJ", "H", "H − GN"], theme))
