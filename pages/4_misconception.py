"""Page 4: the misconception H = ∇f∇fᵀ, side by side, with counterexamples; three tabs take the two
matrices apart entry by entry in symbols, in every direction of the plane, and in Newton's method."""

from hessian_explorer.ui.layout import ensure_entrypoint

ensure_entrypoint()  # first: a direct first visit reruns through app.py before the imports below

from functools import partial

import numpy as np
import streamlit as st

from hessian_explorer.figures import misconception as figures
from hessian_explorer.figures.style import fmt
from hessian_explorer.misconception import (COUNTEREXAMPLES, RANK_RTOL, counterexample_for, counterexample_view,
                                            entry_latex, newton_runs, paths_coincide, study)
from hessian_explorer.ui import cache, charts, layout
from hessian_explorer.ui.controls import apply_view, describe_point, function_sidebar, kept_slider, on_chart_click


def load_counterexample(key: str) -> None:
    """Button callback: switch the whole sidebar to a counterexample (runs before the script)."""
    apply_view(counterexample_view(key))


@st.cache_data(max_entries=256, show_spinner=False)
def entries_for(text: str, variables: tuple[str, ...]):
    return entry_latex(cache.load_function(text, variables))


def show_matrices(view, c) -> bool:
    """Heatmaps, facts and the PSD/rank statement; ``False`` if f is undefined at x₀."""
    st.subheader(f"The two matrices at x₀: {describe_point(view)}")
    if not c.defined:
        st.warning("f or its derivatives are undefined at x₀ (for example the log of a negative number). "
                   "Move x₀ into the domain of f.", icon=":material/warning:")
        return False
    if c.agree:
        st.success(f"Here H = ∇f∇fᵀ: every entry agrees to within {fmt(c.tolerance, 2)}. A special property "
                   "of this f (or of this point), not a rule: try the other counterexamples.",
                   icon=":material/equal:")
    else:
        st.info(f"Here H ≠ ∇f∇fᵀ: they differ by up to {fmt(c.max_difference)} in an entry.",
                icon=":material/compare_arrows:")
    left, right = st.columns([3, 2])
    charts.chart(figures.matrices_figure(c, view.function.variables, view.theme), key="mis_pair", where=left)
    charts.chart(figures.difference_figure(c, view.function.variables, view.theme), key="mis_diff", where=right)
    st.caption("Both matrices share one colour scale centred at 0 (blue negative, white 0, red positive); "
               "the difference has its own scale, also centred at 0.")
    st.markdown(figures.facts_markdown(c))
    st.markdown(
        "**∇f∇fᵀ is always positive semidefinite with rank ≤ 1, and zero at every critical point.** "
        "For any v, vᵀ(∇f∇fᵀ)v = (∇f·v)² ≥ 0; every column is a multiple of ∇f; and ∇f = 0 makes it the "
        f"zero matrix. Its eigenvalues are |∇f|² and zeros: here |∇f|² = {fmt(float(c.gradient @ c.gradient))}. "
        "H has none of these limits."
    )
    if c.is_critical:
        st.info("x₀ is a critical point (|∇f| ≤ 1e-8), so ∇f∇fᵀ = 0 here, whatever H says.",
                icon=":material/my_location:")
    st.caption(f"Rank counts eigenvalues with |λ| > tol = {RANK_RTOL:g} · max(1, largest |entry| of H and "
               f"∇f∇fᵀ) = {fmt(c.tolerance, 2)}; the same tol decides definiteness and whether two entries are "
               "equal.")
    return True


TABS = ["Entry by entry, in symbols", "Curvature in every direction", "Newton's method with each"]


def show_entries(view, c) -> None:
    if view.function.n > 3:
        st.info("The entry-by-entry table is shown for up to 3 variables; the heatmaps above show all entries.")
        return
    st.latex(figures.entry_table_latex(entries_for(*view.key), c))
    st.caption("Left: differentiate twice. Right: differentiate once, then multiply. "
               "Values at x₀; very long expressions are left out, their values are not.")


def show_curvature(view, roses, c) -> None:
    if roses is None:
        st.info("Curvature in a plane needs two or more variables: try a function of x and y.")
        return
    v, ix, iy = view.direction, view.plane.ix, view.plane.iy
    in_plane = v[ix] ** 2 + v[iy] ** 2 > 1 - 1e-9
    angle = float(np.degrees(np.arctan2(v[iy], v[ix])) % 360.0) if in_plane else None
    charts.chart(figures.curvature_figure(roses, view.theme, view.labels, angle), key="mis_rose")
    true_c, naive_c = c.along(v)
    st.markdown(
        f"Along the sidebar's direction v̂: **v̂ᵀHv̂ = {fmt(true_c)}** "
        f"{'and' if abs(true_c - naive_c) <= c.tolerance else 'but'} **(∇f·v̂)² = {fmt(naive_c)}**. "
        "The dashed curve never goes below zero (∇f∇fᵀ is PSD) and is zero where v̂ runs along the contour line "
        "(v̂ ⊥ ∇f); the solid curve dips below zero wherever f curves down, and its lowest and highest values "
        "are the eigenvalues of H restricted to this plane."
    )
    note = "" if in_plane else " The sidebar's v leaves this plane, so it is not marked."
    st.caption(f"v̂ = v/|v| is a unit vector at angle θ in the plotted plane: (cos θ, sin θ) in "
               f"({view.labels[0]}, {view.labels[1]}).{note}")


def show_newton(view) -> None:
    if view.function.n < 2:
        st.info("Newton's method is drawn in a plane, which needs two or more variables: try a function of x and y.")
        return
    st.markdown("**What if you trusted it?** Newton's method takes its steps with H, or with ∇f∇fᵀ.")
    damping = kept_slider("damping λ (added to both matrices: M + λI)", 0.0, 1.0, 0.1, step=0.01, key="damping",
                          help="With λ = 0, ∇f∇fᵀ (rank ≤ 1) cannot be inverted, so its Newton step is undefined.")
    f, plane = view.function, view.plane
    runs = newton_runs(f, plane, damping)
    field = cache.field_for(*view.key, plane)
    critical = cache.critical_points_for(*view.key, plane)
    fig = figures.newton_figure(field, view.labels, view.theme, view.point, runs, critical)
    # side by side on a laptop; stacked in presentation mode, where the map needs the full width
    left, right = layout.side_by_side(view.presentation, (3, 2))
    charts.chart(fig, key="mis_newton", on_click=partial(on_chart_click, "mis_newton", plane.ix, plane.iy), where=left)
    for run in runs:
        right.markdown(figures.newton_sentence(run))
    if paths_coincide(runs):
        right.markdown("The two paths coincide: along them H = ∇f∇fᵀ, so both methods take the very same steps.")
    right.caption("Each step is x ← x − (M + λI)⁻¹∇f in the plotted plane (other variables held at x₀), with "
                  "M = H (blue, solid) or M = ∇f∇fᵀ (vermillion, dashed), for at most 25 steps. Near a minimum "
                  "∇f∇fᵀ → 0, so the outer-product step grows like ∇f/λ: it overshoots exactly where H would "
                  "settle. Click the map to move x₀.")


view = function_sidebar()
layout.presentation_css(view.presentation)
st.title("H vs ∇f∇fᵀ, side by side")
st.markdown(
    "The Hessian's grid of ∂²f/∂xᵢ∂xⱼ *looks* like an outer product, so is **H = ∇f∇fᵀ**? "
    "No. Entry (i, j) of H differentiates ∂f/∂xᵢ **again**, with respect to xⱼ; entry (i, j) of ∇f∇fᵀ "
    "**multiplies** two first derivatives: ∂²f/∂xᵢ∂xⱼ ≠ ∂f/∂xᵢ · ∂f/∂xⱼ. Below, both matrices at x₀, "
    "then three tabs take them apart: entry by entry, in every direction, and in Newton's method, "
    "where trusting the wrong one goes astray."
)

st.subheader("One-click counterexamples")
active = counterexample_for(view.preset.key if view.preset else None)
# one row on a laptop; rows of three in presentation mode, where five columns broke the buttons' words
per_row = 3 if view.presentation else len(COUNTEREXAMPLES)
columns = [c for _ in range(0, len(COUNTEREXAMPLES), per_row) for c in st.columns(per_row)]
for column, example in zip(columns, COUNTEREXAMPLES):
    with column.container(border=True):
        st.button(example.label, key=f"cx_{example.key}", on_click=load_counterexample, args=(example.key,),
                  type="primary" if example is active else "secondary", width="stretch")
        st.caption(example.explanation)

with layout.guard("the comparison"):
    result = study(view.function, view.plane)
    if show_matrices(view, result.comparison):
        # Only the open tab runs and draws: a first visit draws the two heatmaps, not four charts.
        entries_tab, curvature_tab, newton_tab = st.tabs(TABS, key="mis_tab", on_change="rerun")
        if entries_tab.open:
            with entries_tab:
                show_entries(view, result.comparison)
        if curvature_tab.open:
            with curvature_tab:
                show_curvature(view, result.roses, result.comparison)
        if newton_tab.open:
            with newton_tab:
                show_newton(view)

st.subheader("The grain of truth")
st.markdown(
    "In statistics the gradient of a log-likelihood log p(y | θ) is the **score** s, and the **Fisher identity** "
    "says E[s sᵀ] = −E[H], both expectations taken over y drawn from the model itself. So an *expected* outer "
    "product of the score equals the expected *negative* Hessian: a statement about averages over data (note "
    "the minus sign), not about one function at one point. The empirical Fisher (s sᵀ averaged over the observed "
    "data) and the Gauss–Newton matrix are outer-product approximations of the Hessian that are right only in "
    "special cases, such as zero residuals for Gauss–Newton; the Models pages cover both."
)
