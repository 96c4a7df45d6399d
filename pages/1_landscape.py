"""Page 1: the landscape of f, its gradient field, critical points and the tangent plane at x₀."""

from hessian_explorer.ui.layout import ensure_entrypoint

ensure_entrypoint()  # first: a direct first visit reruns through app.py before the imports below

from functools import partial

import streamlit as st

from hessian_explorer.figures.landscape import CLICK_GRID, contour_figure, critical_rows, surface_figure
from hessian_explorer.figures.style import fmt
from hessian_explorer.ui import cache, charts, layout
from hessian_explorer.ui.controls import describe_point, function_sidebar, on_chart_click

TABS = ["Critical points", "3-D surface"]

view = function_sidebar(direction=False)  # v is used by the curvature pages only
layout.presentation_css(view.presentation)
f, plane = view.function, view.plane

st.title("Landscape and gradient field")
st.markdown(
    "Filled contours show **f**; white arrows show the gradient **∇f**, which points uphill and is "
    "perpendicular to the contours. Markers show the critical points in range, classified by the "
    "Hessian. **Click anywhere on the map to move x₀ there.** Two tabs with the map list the critical "
    "points and show f as a 3-D surface with its tangent plane at x₀."
)

with layout.guard("the landscape"):
    if f.n < 2:
        st.info("This page plots functions of two or more variables; try the Curvature page for one variable.")
        st.stop()
    field = cache.field_for(*view.key, plane)
    arrows = cache.field_for(*view.key, plane, density=15)
    critical = cache.critical_points_for(*view.key, plane)
    ev = f.evaluate(view.point)
    left, right = layout.side_by_side(view.presentation, (5, 4))
    with left:
        fig = contour_figure(field, view.labels, view.theme, point=view.point, quiver=arrows,
                             critical=critical, click_grid=CLICK_GRID, title="f with ∇f arrows")
        charts.chart(fig, key="landscape_map", on_click=partial(on_chart_click, "landscape_map", plane.ix, plane.iy))
        if not field.valid.all():
            st.caption("Grey areas: f or its derivatives are undefined there (for example log of a negative number).")
    with right:
        # Only the open tab runs and draws: the 3-D view (WebGL, the slowest chart of the app to
        # start on a machine without a graphics card) is drawn when someone asks for it.
        table_tab, surface_tab = st.tabs(TABS, key="ls_tab", on_change="rerun")
        if table_tab.open:
            with table_tab:
                if critical:
                    layout.table(critical_rows(critical, view.labels))
                    st.caption("The markers on the map, found numerically in the plotted range and classified "
                               "by the eigenvalues of H. Snap x₀ to the nearest one from the sidebar.")
                else:
                    st.info("No critical point (∇f = 0) in the plotted range.")
        if surface_tab.open:
            with surface_tab:
                charts.chart(surface_figure(field, view.labels, view.theme, point=view.point,
                                            value=float(ev.value), gradient=ev.gradient,
                                            title="Surface and tangent plane at x₀"), key="landscape_surface")
    c1, c2, c3 = st.columns(3)
    c1.metric("f at x₀", fmt(ev.value))
    c2.metric("|∇f| at x₀", fmt(float((ev.gradient ** 2).sum() ** 0.5)))
    c3.metric("critical points in range", len(critical))
    st.caption(f"x₀: {describe_point(view)}; ∇f = ({', '.join(fmt(g) for g in ev.gradient)}).")
