"""Page 3: curvature along a direction: v̂ᵀHv̂ and the naive (∇f·v̂)²; in two tabs (only the open one
runs) the slice with its two parabolas beside the map where it is taken, and the curvature rose beside the
curvature against the angle; and (opened on demand) the index derivation from the lecture slides with the
numbers at x₀."""

from hessian_explorer.ui.layout import ensure_entrypoint

ensure_entrypoint()  # first: a direct first visit reruns through app.py before the imports below

from functools import partial

import streamlit as st

from hessian_explorer.directions import directional_curvature
from hessian_explorer.figures.curvature import (angle_profile_figure, derivation_latex, rose_figure, slice_figure,
                                                slice_map_figure)
from hessian_explorer.figures.landscape import CLICK_GRID
from hessian_explorer.figures.style import fmt
from hessian_explorer.ui import cache, charts, layout
from hessian_explorer.ui.controls import (describe_point, function_sidebar, kept_slider, kept_value, on_chart_click,
                                          on_dial_click)

TABS = ["The slice: f along the line x₀ + t v̂", "All directions at once: the curvature rose"]
WIDTH = 1.0  # the slice's half-width on a first visit

view = function_sidebar()
layout.presentation_css(view.presentation)
f, plane, theme = view.function, view.plane, view.theme

st.title("Curvature along a direction")
st.markdown(
    "Walk from x₀ along the direction **v** set in the sidebar. The height of f along that walk is a "
    "function of one number t, and its second derivative at t = 0 is **v̂ᵀHv̂**: how much f bends that way. "
    "**v is normalised: v̂ = v/|v|**, so only the direction of v matters, not its length. "
    "The naive matrix ∇f∇fᵀ would say (∇f·v̂)² instead, a square that can never be negative."
)

with layout.guard("the curvature along v"):
    summary = st.container()
    # Two variables or more: the slice and the rose are two tabs, and only the open one runs and
    # draws (a first visit draws two charts, not four).
    tabs = st.tabs(TABS, key="curv_tab", on_change="rerun") if f.n >= 2 else None
    slice_open, rose_open = (True, False) if tabs is None else (tabs[0].open, tabs[1].open)
    slice_area = tabs[0] if tabs else st.container()
    if slice_open:
        with slice_area:
            width = kept_slider("half-width w of the slice (t runs from −w to w)", 0.1, 10.0, WIDTH, step=0.1,
                                key="slice_width")
    else:
        width = kept_value("slice_width", WIDTH)  # the rose does not use it; the metrics neither
    d = directional_curvature(f, view.point, view.direction, width, plane.ix, plane.iy)
    if not d.defined:
        summary.warning("f, ∇f or H is undefined at x₀ (for example the log of a negative number). "
                        "Move x₀ back into the domain of f.", icon=":material/back_hand:")
        st.stop()

    with summary:
        c = st.columns(4)
        c[0].metric("v̂ = v/|v|", "(" + ", ".join(fmt(x, 3) for x in d.v_hat) + ")",
                    help="v is normalised: v̂ = v/|v|. " + ", ".join(f"v̂_{n} = {fmt(x, 6)}"
                                                                     for n, x in zip(f.variables, d.v_hat)))
        c[1].metric("slope ∇f·v̂", fmt(d.slope))
        c[2].metric("curvature v̂ᵀHv̂", fmt(d.curvature))
        c[3].metric("naive (∇f·v̂)²", fmt(d.naive_curvature))
        bend = ("curves **up**" if d.curvature > 0 else "curves **down**" if d.curvature < 0
                else "is **flat to second order**")
        st.markdown(f"At x₀ {describe_point(view)}, f {bend} along v̂ (v̂ᵀHv̂ = {fmt(d.curvature)}); "
                    f"the naive matrix would claim (∇f·v̂)² = {fmt(d.naive_curvature)}.")

    if slice_open:
        with slice_area:
            left, right = st.columns([1, 1] if f.n >= 2 else [3, 2])
            charts.chart(slice_figure(d.slice, theme, value=d.value, title="f(x₀ + t v̂) and two parabolas"),
                         key="curv_slice", where=left)
            left.caption("Both parabolas share f(x₀) and the slope ∇f·v̂ at t = 0; only the t² term differs. Near "
                         "t = 0 the true slice follows the green parabola (from H), not the purple one (from ∇f∇fᵀ).")
            if f.n < 2:
                right.info("f has one variable, so there is only one direction (v̂ = +1; −1 bends the same way): "
                           "no curvature rose or contour map here, and v̂ᵀHv̂ is simply f″(x₀).",
                           icon=":material/info:")
            else:
                field = cache.field_for(*view.key, plane)
                fig = slice_map_figure(field, view.labels, theme, point=view.point, v_hat=d.v_hat, half_width=width,
                                       click_grid=CLICK_GRID, title="Where the slice is taken")
                charts.chart(fig, key="curv_map", where=right,
                             on_click=partial(on_chart_click, "curv_map", plane.ix, plane.iy))
                if not d.in_plotted_plane:
                    right.caption(f"v̂ also points out of the plotted ({', '.join(view.labels)}) plane "
                                  f"(only {fmt(100 * d.in_plane, 3)}% of it lies in it): the orange line is its shadow.")
                else:
                    right.caption("The orange arrow points towards +t. Click the map to move x₀.")

    if rose_open:
        with tabs[1]:
            current = (d.angle_deg, d.curvature) if d.in_plotted_plane else None
            a, b = st.columns(2)
            dial = f.n == 2  # with more variables v has its own boxes in the sidebar
            rose = rose_figure(d.rose, d.eigen, view.labels, theme, current=current, dial=72 if dial else 0,
                               title="Rose: distance from centre = |v̂ᵀHv̂|" + (" (click to turn v̂)" if dial else ""))
            if dial:
                charts.chart(rose, key="curv_rose", on_click=partial(on_dial_click, "curv_rose"), where=a)
            else:
                charts.chart(rose, key="curv_rose", where=a)
            charts.chart(angle_profile_figure(d.rose, d.eigen, view.labels, theme, current=current,
                                              title="The same curvature against the angle"),
                         key="curv_profile", where=b)
            st.caption("Polar radius cannot be negative, so the rose plots |v̂ᵀHv̂| and shows the sign by colour: red = "
                       "curves up (positive), blue = curves down (negative). The right chart shows the sign directly.")
            (lo, hi), (phi_lo, phi_hi) = d.eigen.eigenvalues, d.eigen.angles_deg
            block = "H itself" if f.n == 2 else f"the 2×2 block of H for ({', '.join(view.labels)})"
            if d.eigen.isotropic:
                st.markdown(f"Both eigenvalues of {block} are **{fmt(hi)}**: f bends the same in every direction of "
                            f"this plane{' (not at all)' if fmt(hi) == '0' else ''}, so every direction is an "
                            "eigen-direction.")
            else:
                st.markdown(f"Extremes over this plane: **λ_min = {fmt(lo)}** at {fmt(phi_lo, 3)}° and "
                            f"**λ_max = {fmt(hi)}** at {fmt(phi_hi, 3)}° (and the opposite directions), the "
                            f"eigenvalues of {block}. Every direction in the plane has a curvature between them.")
            if current is None:
                st.caption("Your v̂ leaves this plane, so it is not marked on the rose; set its other components "
                           "to 0 to bring it in.")

    # Collapsed until asked for, and run only when open: its six formulas made the browser load and
    # lay out the LaTeX renderer (script, styles, fonts) before it drew any chart of a first visit.
    derivation = st.expander("Why it is v̂ᵀHv̂: the index derivation from the slides, with the numbers at x₀",
                             key="curv_derivation", on_change="rerun")
    if derivation.open:
        with derivation:
            for caption, tex in derivation_latex(d, f.variables):
                st.markdown(caption)
                st.latex(tex)
