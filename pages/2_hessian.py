"""Page 2: the Hessian at x₀ in numbers (and in symbols when asked), its eigen-analysis and the
second-derivative test; in two tabs (only the open one runs) the local quadratic model on the map and
a map of curvature type; and exports."""

from hessian_explorer.ui.layout import ensure_entrypoint

ensure_entrypoint()  # first: a direct first visit reruns through app.py before the imports below

from functools import partial

import streamlit as st

from hessian_explorer.export import matrix_csv, matrix_latex, python_snippet
from hessian_explorer.figures.hessian import (
    curvature_map_figure, eigen_table, hessian_heatmap, hessian_summary, quadratic_model_figure,
)
from hessian_explorer.figures.landscape import CLICK_GRID
from hessian_explorer.figures.style import fmt
from hessian_explorer.taylor import QuadraticModel, neighbourhood, plane_analysis, plane_curvature
from hessian_explorer.ui import cache, charts, layout
from hessian_explorer.ui.controls import describe_point, function_sidebar, kept_slider, on_chart_click

MAPS = ["The local quadratic model q near x₀", "Where f is convex, concave or saddle-shaped"]

view = function_sidebar(direction=False)  # v is used by the curvature pages only
layout.presentation_css(view.presentation)
f, plane, names = view.function, view.plane, view.function.variables

st.title("The Hessian at x₀")
st.markdown(
    "The Hessian **H** holds every second partial derivative: row i, column j is ∂²f/∂xᵢ∂xⱼ. Its "
    "**eigenvectors** are the directions in which f curves most and least, its **eigenvalues** how "
    "strongly it curves along them (positive: up, negative: down). Where ∇f = 0, their signs decide "
    "between minimum, maximum and saddle."
)

with layout.guard("the Hessian"):
    analysis = f.analyze(view.point)
    left, right = st.columns([5, 6])
    with left:
        charts.chart(hessian_heatmap(analysis.hessian, names, view.theme, title="H at x₀ (red > 0, blue < 0)"),
                     key="hessian_heatmap")
    with right:
        st.caption(f"x₀: {describe_point(view)}")
        c1, c2, c3 = st.columns(3)
        c1.metric("f at x₀", fmt(analysis.value))
        c2.metric("|∇f| at x₀", fmt(analysis.gradient_norm))
        c3.metric("det H", fmt(analysis.determinant), help="the product of the eigenvalues")
        st.markdown(f"**H is {analysis.definiteness}; verdict: {analysis.verdict}.**")
        st.markdown(hessian_summary(analysis, names))
        layout.table(eigen_table(analysis, names))
        st.caption("Eigenvalues in ascending order; each eigenvector (columns "
                   f"{', '.join(names)}) has unit length, its largest component made positive.")
    # Drawn when opened, like the sidebar's formulas: with no formula on arrival, a first visit loads
    # no KaTeX (its script, styles and fonts), 0.3 s sooner (measured side by side).
    symbols = st.expander("∇f and H in symbols", key="hess_symbols", on_change="rerun")
    if symbols.open:
        with symbols:
            st.latex(r"\nabla f = " + f.gradient_latex)
            st.latex(r"H = " + f.hessian_latex)

    if f.n < 2:
        st.info("The maps need two variables; this function has one. Its Hessian is the 1×1 matrix f''.")
    else:
        if f.n > 2:
            st.info(f"f has {f.n} variables. The maps show the plane through x₀ across {view.labels[0]} and "
                    f"{view.labels[1]} (the others held at x₀), so the model's axes and the curvature map use the "
                    f"2×2 block of H for ({view.labels[0]}, {view.labels[1]}). The heatmap, eigenvalues and "
                    f"verdict above use the full {f.n}×{f.n} Hessian.")
        # Only the open tab runs and draws: a first visit draws one map, not two.
        model_tab, types_tab = st.tabs(MAPS, key="hess_map_tab", on_change="rerun")
        field = cache.field_for(*view.key, plane)
        if model_tab.open:
            with model_tab:
                left, right = layout.side_by_side(view.presentation, (3, 2))
                with right:
                    st.markdown("**q(x₀ + d) = f(x₀) + ∇f(x₀)ᵀd + ½ dᵀH(x₀)d**")
                    fraction = kept_slider("Radius of the disc around x₀ where q is drawn (fraction of the "
                                           "plotted width)", 0.05, 0.5, 0.2, step=0.05, key="hess_neighbourhood")
                    st.caption("Inside the lightened disc, dashed orange: contours of the quadratic model q; solid: "
                               "f at the same levels. Where they agree, q is a good model of f. The black axes are "
                               "the eigenvectors of H (in this plane): the ellipses or hyperbolas of q line up with "
                               "them. Click the map to move x₀.")
                local = cache.field_for(*view.key, neighbourhood(plane, fraction))
                model = QuadraticModel.from_analysis(analysis)
                axes = plane_analysis(analysis, plane.ix, plane.iy)
                fig = quadratic_model_figure(field, local, model, axes, view.labels, view.theme, click_grid=CLICK_GRID,
                                             title="f (filled) and its quadratic model q near x₀")
                charts.chart(fig, key="hessian_model", where=left,
                             on_click=partial(on_chart_click, "hessian_model", plane.ix, plane.iy))
        if types_tab.open:
            with types_tab:
                left, right = layout.side_by_side(view.presentation, (3, 2))
                charts.chart(curvature_map_figure(field, plane_curvature(field), view.labels, view.theme,
                                                  point=view.point, title="Curvature type of H at each point"),
                             key="hessian_curvature_map", where=left)
                right.caption("Convex: all eigenvalues > 0 (a bowl); concave: all < 0 (a dome); saddle: both "
                              "signs; degenerate: an eigenvalue is 0; undefined: f or its derivatives are "
                              "undefined there.")

    # Collapsed until asked for: the code boxes load a syntax highlighter (1.5 MB of script) that
    # a first visit would otherwise wait for.
    export = st.expander("Export: H and ∇f∇fᵀ at x₀ as LaTeX and CSV, and the Python to reproduce them",
                         key="hess_export", on_change="rerun")
    if export.open:
        with export:
            full = st.toggle("Full precision (every digit of each float)", key="hess_full_precision")
            digits = None if full else 6
            outer = f.gradient_outer(view.point)
            e1, e2 = st.columns(2)
            with e1:
                st.markdown("**H at x₀**, LaTeX")
                st.code(matrix_latex(analysis.hessian, digits), language="latex")
                st.download_button("Download H as CSV", matrix_csv(analysis.hessian, names),
                                   file_name="hessian.csv", mime="text/csv", key="hess_dl_hessian")
            with e2:
                st.markdown("**∇f∇fᵀ at x₀** (the outer product of the gradient: *not* the Hessian), LaTeX")
                st.code(matrix_latex(outer, digits), language="latex")
                st.download_button("Download ∇f∇fᵀ as CSV", matrix_csv(outer, names),
                                   file_name="gradient_outer.csv", mime="text/csv", key="hess_dl_outer")
            st.markdown("**Reproduce in Python** (with this package installed)")
            st.code(python_snippet(view.text, names, view.point), language="python")
