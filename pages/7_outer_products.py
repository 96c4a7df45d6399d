"""Page 7: where averages of gradient outer products ARE curvature (the Fisher identity) and where not."""

from hessian_explorer.ui.layout import ensure_entrypoint

ensure_entrypoint()  # first: a direct first visit reruns through app.py before the imports below

import streamlit as st

from hessian_explorer.figures.style import fmt
from hessian_explorer.outer_product_examples import mean_gradient_summary
from hessian_explorer.ui import charts, layout
from hessian_explorer.ui import outer_products_cache as cache
from hessian_explorer.ui.controls import kept_number_input, kept_slider

TABS = ["① EF as a preconditioner", "② Fisher identity", "③ EF and Gauss–Newton"]

with st.sidebar:
    st.header("Model")
    tab_controls = st.container()  # filled by the open tab: the others' widgets are kept, not drawn
    st.caption("Each tab has its own controls, shown while it is open; they keep their values when you switch.")
    st.divider()
    pm = layout.presentation_toggle()
layout.presentation_css(pm)

st.title("Outer products done right")
st.markdown(
    "The Hessian of a function is **not** ∇f∇fᵀ. But averages of outer products of gradients *are* "
    "curvature in one situation: when the gradients are **scores** sₙ = ∇ log p(yₙ | xₙ, w) of a probabilistic "
    "model and the labels yₙ are **drawn from the model itself**. Then E[Σ sₙsₙᵀ] = −E[∇² log p] (the Fisher "
    "identity). Use the observed labels instead and you get the *empirical Fisher*, which is something else."
)
st.caption(
    "Conventions: ① uses the paper's MEAN loss (1/N)Σ(φₙᵀθ − yₙ)²/2 + ‖θ‖²/(2·0.1·N), φₙ = [1, xₙ]; ② and ③ use "
    "SUM losses: softmax NLL −Σ log p with class-major w = [w⁽¹⁾; w⁽²⁾] (class 3 is the reference, w⁽³⁾ = 0), "
    "and least squares Σ rₙ² (no ½). Norms are Frobenius norms."
)

# Only the open tab runs and draws (a rerun on switching): a first visit computes and draws the
# first tab's two charts, not all seven, and the sidebar shows only that tab's controls.
tabs = st.tabs(TABS, key="op_tab", on_change="rerun")

if tabs[0].open:
    with tab_controls:
        st.subheader("① Regression (Kunstner et al.)")
        n = kept_slider("data points N", 50, 5000, 1000, step=50, key="op_n")
        noise = kept_slider("noise std of ε", 0.0, 3.0, 1.0, step=0.25, key="op_noise")
        misspec = kept_slider("misspecification: add m·x² to y", 0.0, 0.5, 0.0, step=0.05, key="op_misspec")
    with tabs[0], layout.guard("Kunstner et al.'s Figure 1"):
        st.markdown(
            "Kunstner, Balles & Hennig, *Limitations of the empirical Fisher approximation* (NeurIPS 2019), "
            "Figure 1, computed live: a linear regression whose Hessian equals its Fisher, preconditioned three ways."
        )
        fig1 = cache.kunstner(n, noise, misspec)
        data_chart, fields_chart = cache.kunstner_charts(n, noise, misspec, pm)
        left, right = layout.side_by_side(pm, (2, 3))
        with left:
            charts.chart(data_chart, key="op_data")
            st.caption("The data x ~ LogNormal(0, 0.75), y = 2 + 2x + ε (legacy numpy seed 0, x drawn first), "
                       "the fitted line at the minimiser θ* and the noise-free data-generating curve.")
        with right:
            gd, ngd, ef = fig1.mean_angles
            c1, c2, c3 = st.columns(3)
            c1.metric("GD", f"{gd:.1f}°")
            c2.metric("NGD", f"{ngd:.1f}°")
            c3.metric("EF", f"{ef:.1f}°")
            st.caption("Angle between each arrow and the straight line from its grid point to θ*, averaged over "
                       "the 15 × 15 grid, for gradient descent (GD), the natural gradient (NGD) and the empirical "
                       "Fisher (EF): 0° means the update heads straight for the minimum.")
            st.markdown(
                "- **Natural gradient** multiplies the gradient by the inverse Fisher, which here *is* the "
                "Hessian: every arrow points straight at θ*.\n"
                "- **Empirical Fisher** replaces the Fisher by (1/N)Σ gₙgₙᵀ of the *observed* data. It depends on "
                "where you stand and on the residuals, so the arrows bend away: the preconditioner is not curvature.\n"
                "- Raise the **misspecification** (the true curve bends, the model stays a line): the EF arrows turn "
                "further away from θ*."
            )
        charts.chart(fields_chart, key="op_fields")
        st.caption("Loss contours with the three update fields on a 15 × 15 grid over [−1, 5]² (arrows start at the "
                   "grid points; one length scale, ∝ √step, for all panels) and the flows from four starts "
                   "(Euler steps of 0.001).")

if tabs[1].open:
    with tab_controls:
        st.subheader("② Fisher identity")
        samples = kept_slider("label draws n", 10, 2000, 500, step=10, key="op_samples")
        seed = int(kept_number_input("random seed", 0, 10_000, 0, step=1, key="op_seed"))
        flip = kept_slider("label noise: share moved to the next class", 0.0, 0.2, 0.05, step=0.01, key="op_flip")
    with tabs[1], layout.guard("the Fisher-identity sandbox"):
        st.markdown(
            "A softmax regression on three overlapping Gaussian classes (N = 90, 2 features + bias, P = 6), at its "
            "minimiser. Each draw samples one label per example and forms Σ sₙsₙᵀ; the plot tracks the running "
            "average against the Hessian H."
        )
        sb = cache.sandbox(samples, seed, flip)
        convergence_chart, blob_chart = cache.sandbox_charts(samples, seed, flip, pm)
        left, right = layout.side_by_side(pm, (3, 2))
        with left:
            charts.chart(convergence_chart, key="op_convergence")
            st.caption("Relative error of the running average versus the number of label draws, log-log: model "
                       "labels close in on H like 1/√n, noisy labels level off at a wrong matrix.")
        with right:
            charts.chart(blob_chart, key="op_blobs")
            st.caption("The 90 training points, coloured by observed class; the class posterior is exactly "
                       "softmax-linear, so the model is right.")
        c1, c2, c3 = st.columns(3)
        c1.metric(f"model labels, n = {samples}", fmt(sb.model_error[-1], 3))
        c2.metric(f"noisy labels, n = {samples}", fmt(sb.noisy_error[-1], 3), help="its limit: "
                  + fmt(sb.noisy_floor, 3))
        c3.metric("observed labels (EF)", fmt(sb.observed_level, 3))
        st.markdown(
            "Labels from the model: the error keeps falling toward 0 (the Fisher identity). Labels from anywhere "
            "else, a noisy annotator or the data set itself, converge to a *different* matrix, however many "
            "draws you take."
        )

if tabs[2].open:
    with tab_controls:
        st.subheader("③ Decompositions")
        away = kept_slider("softmax w: optimum (0) → w = 0 (1)", 0.0, 1.0, 0.0, step=0.05, key="op_away")
        resid = kept_slider("noise level σ of the exp data", 0.0, 2.0, 0.3, step=0.05, key="op_resid")
        a = kept_slider("evaluate at a", -1.0, 3.0, 1.0, step=0.05, key="op_a")
        b = kept_slider("evaluate at b", -1.5, 2.5, 0.5, step=0.05, key="op_b")
    with tabs[2], layout.guard("the decompositions"):
        st.subheader("The empirical Fisher is gradient noise plus the squared mean gradient")
        st.latex(r"\mathrm{EF}=\sum_n g_n g_n^\top = N\,\mathrm{Cov}(g) + N\,\bar g\,\bar g^\top")
        charts.chart(cache.ef_chart(away, pm), key="op_ef")
        st.caption("The empirical Fisher of the softmax model of ② and its two parts, on one colour scale centred at 0 "
                   f"(w = {fmt(1 - away, 2)}·w*).")
        mean_norm, mean_share = mean_gradient_summary(cache.ef_at(away))
        c1, c2 = st.columns(2)
        c1.metric("|ḡ| (mean per-example gradient)", fmt(mean_norm, 3))
        c2.metric("share of EF from N·ḡḡᵀ (norm ratio)", fmt(mean_share, 3))
        st.markdown("At the optimum ḡ = 0, so EF = N·Cov(g): a statement about **how much the per-example gradients "
                    "scatter**, not about curvature. Move w away from the optimum and the mean part grows.")

        st.subheader("Gauss–Newton versus the Hessian: y ≈ exp(a·x) + b")
        demo = cache.gauss_newton(resid, a, b)
        fit_chart, gn_chart = cache.gauss_newton_charts(resid, a, b, pm)
        st.latex(r"H = \underbrace{2J^\top J}_{\text{Gauss–Newton}} + "
                 r"\underbrace{2\sum_n r_n\,\nabla^2 r_n}_{\text{residual term}},\qquad r_n = e^{a x_n} + b - y_n")
        left, right = layout.side_by_side(pm, (2, 3))
        with left:
            charts.chart(fit_chart, key="op_expfit")
            st.caption("Data y = exp(x) + 0.5 + σ·ε (20 points, fixed ε) and the model curve at the chosen (a, b); "
                       "red segments are the residuals rₙ.")
        with right:
            charts.chart(gn_chart, key="op_gn")
            st.caption("Gauss–Newton (GN), exact Hessian H and their difference, the residual term, at (a, b), on one "
                       "colour scale centred at 0.")
            c1, c2, c3 = st.columns(3)
            c1.metric("‖r‖", fmt(demo.residual_norm, 3))
            c2.metric("min eigenvalue H", fmt(demo.hessian_eigenvalues[0], 3))
            c3.metric("min eigenvalue GN", fmt(demo.gauss_newton_eigenvalues[0], 3))
        st.markdown(
            "Only the model's curvature ∇²rₙ (here the single entry xₙ²·exp(a·xₙ) at (a, a)) weighted by the residuals "
            "separates the two. With σ = 0 at the true (a, b) = (1, 0.5) every residual is 0 and GN = H exactly; "
            "large residuals (move a or b) can make H indefinite, while 2JᵀJ is always positive semidefinite."
        )
