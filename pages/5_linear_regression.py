"""Page 5: least squares on basis functions (seed 001): the fit, its constant Hessian 2ΦᵀΦ, when the
normal equations fail and why, the loss landscape over two parameters, and the worked exercise."""

from hessian_explorer.ui.layout import ensure_entrypoint

ensure_entrypoint()  # first: a direct first visit reruns through app.py before the imports below

import streamlit as st

from hessian_explorer.datasets import CURVES, DOMAINS, PointsError, RegressionData, generate_regression, parse_points
from hessian_explorer.figures.matrices import matrix_heatmap, matrix_pair
from hessian_explorer.figures.models import (design_rows, eigenvalue_figure, exercise_steps, fit_figure, parameter_rows,
                                             profile_figure, slice_figure)
from hessian_explorer.figures.style import fmt, theme_for
from hessian_explorer.landscapes import least_squares_slice, profile_along
from hessian_explorer.notation import subscript
from hessian_explorer.regression import (BASES, Basis, failure_meaning, fit_least_squares, hessian_independence,
                                         worked_exercise)
from hessian_explorer.ui import charts, layout


POINTS = "-1, 1.6\n-0.5, 0.4\n0, 0.1\n0.5, 0.7\n1, 2.2\n1.5, 4.1"
DEFAULTS = dict(lr_source="Generate", lr_curve="sine", lr_domain="[−1, 1]", lr_n=20, lr_noise=0.2, lr_seed=0,
                lr_points=POINTS, lr_basis="polynomial", lr_degree=3, lr_centres=5, lr_width=0.3, lr_freqs=2,
                lr_ridge=0.0, lr_i=0, lr_j=1, lr_angle=30, lr_check=0, lr_ex_x1=-1.0, lr_ex_x2=0.0, lr_ex_x3=2.0,
                lr_ex_y1=2.0, lr_ex_y2=1.0, lr_ex_y3=5.0, lr_tab="Φ and θ̂")
TABS = ["Φ and θ̂", "A minimum?", "H ignores θ, y", "When it fails", "Landscape", "Exercise"]
RIDGES = [0.0, 1e-6, 1e-4, 0.01, 0.1, 1.0, 10.0, 100.0, 1e4]
FAILURES = {  # button label -> settings that trigger one failure of the normal equations
    "Fewer points than basis functions": dict(lr_source="Generate", lr_domain="[−1, 1]", lr_n=4, lr_basis="polynomial",
                                              lr_degree=6, lr_ridge=0.0, lr_tab=TABS[3]),
    "Repeated x values": dict(lr_source="Type points", lr_points="0, 1\n1, 2\n1, 3\n1, 2.5", lr_basis="polynomial",
                              lr_degree=2, lr_ridge=0.0, lr_tab=TABS[3]),
    "High degree on a wide x range": dict(lr_source="Generate", lr_domain="[0, 10]", lr_n=30, lr_basis="polynomial",
                                          lr_degree=9, lr_ridge=0.0, lr_tab=TABS[3]),
}
ss = st.session_state
for key, value in {**DEFAULTS, **ss.get("_lr_saved", {})}.items():
    ss.setdefault(key, value)


@st.cache_data(max_entries=64, show_spinner=False)
def analyse(x: tuple, y: tuple, basis: Basis, ridge: float):
    return fit_least_squares(x, y, basis, ridge)


with st.sidebar:
    st.header("Model")
    source = st.radio("Data", ["Generate", "Type points"], key="lr_source", horizontal=True)
    if source == "Generate":
        curve = st.selectbox("True curve", list(CURVES), format_func=lambda k: CURVES[k][0], key="lr_curve")
        domain = st.selectbox("x range", list(DOMAINS), key="lr_domain")
        n = st.slider("Number of points N", 1, 200, key="lr_n")
        noise = st.slider("Noise level (standard deviation of y)", 0.0, 1.0, step=0.05, key="lr_noise")
        seed = st.number_input("Random seed", 0, 10_000, key="lr_seed")
        data = generate_regression(curve, n, noise, int(seed), DOMAINS[domain])
    else:
        text = st.text_area("Points: one 'x, y' per line (at most 200)", key="lr_points", height=180)
        try:
            x, y = parse_points(text)
            ss["_lr_valid_points"] = text
        except PointsError as err:
            st.error(f"{err}. Showing the last valid points.")
            x, y = parse_points(ss.get("_lr_valid_points", POINTS))
        lo, hi = float(x.min()), float(x.max())
        data = RegressionData(x, y, (lo, hi) if hi > lo else (lo - 1.0, lo + 1.0))
    kind = st.selectbox("Basis functions", list(BASES), format_func=BASES.get, key="lr_basis")
    if kind == "polynomial":
        st.slider("Degree", 0, 10, key="lr_degree")
    elif kind == "rbf":
        st.slider("Number of centres", 1, 15, key="lr_centres")
        st.slider("Width s", 0.05, 2.0, step=0.05, key="lr_width")
    else:
        st.slider("Number of frequencies", 0, 7, key="lr_freqs")
    ridge = st.select_slider("Ridge λ (adds λ|θ|² to the loss)", RIDGES, key="lr_ridge", format_func=fmt)
    presentation = layout.presentation_toggle()
basis = Basis(kind, ss.lr_degree, ss.lr_centres, float(ss.lr_width), ss.lr_freqs, data.domain)
theme = theme_for(presentation)
layout.presentation_css(presentation)

st.title("Linear regression: least squares and its Hessian")
st.markdown(
    "Fit y ≈ φ(x)ᵀθ by minimising the squared error. Setting the gradient to zero gives the **normal "
    "equations** and θ̂ = (ΦᵀΦ)⁻¹Φᵀy. Is θ̂ a minimum? The second-derivative check needs the **Hessian**, "
    "and for least squares it is the constant matrix **H = 2ΦᵀΦ**: it depends on the inputs x only, "
    "never on θ or on y. When ΦᵀΦ cannot be inverted, the formula fails; that is a lesson too."
)
st.caption("Convention: L(θ) = Σₙ (yₙ − φ(xₙ)ᵀθ)² + λ|θ|² (a sum over the N points, no ½), so "
           "∇L = 2Φᵀ(Φθ − y) + 2λθ and H = 2ΦᵀΦ + 2λI. Parameters θ₀, θ₁, … follow the columns of Φ.")

with layout.guard("the least-squares fit"):
    fit = analyse(tuple(data.x), tuple(data.y), basis, float(ridge))
    labels, P = fit.parameter_labels, fit.n_params
    left, right = st.columns([6, 5])
    with left:
        charts.chart(fit_figure(fit, theme, truth=data.truth(fit.grid), title="Data and the least-squares fit"),
                     key="lr_fit_chart")
        st.caption("Black dots: the data; blue: the fitted curve φ(x)ᵀθ̂; green dotted (generated data): the truth.")
    with right:
        charts.chart(matrix_heatmap(fit.hessian, labels, theme, title="H = 2ΦᵀΦ" + (" + 2λI" if ridge else "")),
                     key="lr_hessian_chart")
        st.caption("The Hessian of L: red entries > 0, blue < 0. Row i, column j is ∂²L/∂θᵢ∂θⱼ.")
    for col, (label, value) in zip(st.columns(4), [("Φ is N × P", f"{fit.n_points} × {P}"), (
            "smallest λ of H", fmt(fit.min_eigenvalue) if fit.positive_definite else "0"), (
            "condition of H", fmt(fit.condition_number, 3) if fit.diagnosis.rank == P else "∞"), (
            "rank of Φ", f"{fit.diagnosis.rank} of {P}")]):
        col.metric(label, value)
    if fit.error:
        st.error(f"**No unique minimiser.** {fit.error[0].upper()}{fit.error[1:]}. The plot shows the minimum-norm "
                 "solution and two others that fit the data (almost) equally well. See the tab 'When it fails'.")
    elif fit.condition_number > 1e8:
        st.warning(f"Solved, but ΦᵀΦ is ill-conditioned (condition number {fmt(fit.condition_number, 2)}): about "
                   f"{fit.digits_lost} of the 16 significant digits of θ̂ are lost to rounding.")
    else:
        st.success("H is positive definite (every eigenvalue > 0), so θ̂ is the unique minimum.",
                   icon=":material/check_circle:")
    tabs = st.tabs(TABS, key="lr_tab", on_change="rerun")
    if tabs[0].open:
        with tabs[0]:
            rows = fit.n_points if fit.n_points <= 12 else 8
            st.markdown(f"**Φ has shape N × P = {fit.n_points} × {P}**: one row φ(xₙ)ᵀ per point, one column per "
                        f"basis function. {'All rows' if rows == fit.n_points else f'The first 8 of {fit.n_points} rows'}:")
            st.latex(basis.latex)
            layout.table(design_rows(fit, rows))
            st.latex(r"\hat\theta = (\Phi^\top\Phi + \lambda I)^{-1}\Phi^\top y \quad(\lambda = " + fmt(ridge) + ")")
            layout.table(parameter_rows(fit))
    if tabs[1].open:
        with tabs[1]:
            st.markdown("For any direction v, the curvature of L along v is vᵀHv = 2|Φv|² + 2λ|v|² ≥ 0: least "
                        "squares is never a maximum or a saddle. **All eigenvalues > 0** (H positive definite): θ̂ is "
                        "the unique minimum. **An eigenvalue = 0**: a flat direction v with Φv = 0; moving along it "
                        "changes nothing, so the minimiser is not unique.")
            charts.chart(eigenvalue_figure(fit.eigenvalues, theme, zero_tol=fit.zero_tol, title="Eigenvalues of H"),
                         key="lr_eigen_chart")
            st.caption(f"Eigenvalues of H, smallest first, on a log scale ({fit.n_zero} zero up to rounding).")
    if tabs[2].open:
        with tabs[2]:
            st.button("Draw another θ and y", key="lr_redraw", on_click=lambda: ss.update(lr_check=ss.lr_check + 1))
            check = hessian_independence(fit, seed=ss.lr_check)
            st.markdown("H = 2ΦᵀΦ contains the inputs x only. To check, we **measure** H by finite differences of "
                        "the gradient, at θ̂ with the data y, and at a random θ with new noise added to y:")
            charts.chart(matrix_pair(check.at_fit, check.elsewhere, labels, ("measured at θ̂, data y",
                                     "measured at random θ, new y"), theme), key="lr_independence_chart")
            for col, (label, value) in zip(st.columns(3), [("largest difference (relative)", check.relative_difference),
                                                           ("|∇L| at θ̂, data y", check.gradient_norms[0]),
                                                           ("|∇L| at random θ, new y", check.gradient_norms[1])]):
                col.metric(label, fmt(value, 3))
            st.caption("The gradient changes with θ and y; the Hessian does not: the two heatmaps differ only by "
                       "rounding, about 1e-16 relative to the largest entry.")
    if tabs[3].open:
        with tabs[3]:
            st.markdown("θ̂ = (ΦᵀΦ)⁻¹Φᵀy needs ΦᵀΦ invertible: Φv ≠ 0 for every v ≠ 0. It fails when **N < P** "
                        "(fewer points than basis functions), when **x values repeat** (equal rows of Φ), or, "
                        "numerically, when columns of Φ are **almost dependent** (high degree). Try each:")
            for col, (label, settings) in zip(st.columns(len(FAILURES)), FAILURES.items()):
                col.button(label, key=f"lr_try_{label.split()[0].lower()}", on_click=ss.update, args=(settings,))
            d = fit.diagnosis
            st.markdown(f"Now: **N = {d.n_points}** points, **{d.n_distinct_rows}** distinct rows of Φ, "
                        f"**P = {d.n_basis}** basis functions, rank of Φ **{d.rank}**.")
            if fit.error:
                st.error(f"{fit.error}.")
                st.info(failure_meaning(d, ridge))
            st.markdown("**The way out: ridge.** With λ > 0, H = 2ΦᵀΦ + 2λI has every eigenvalue ≥ 2λ > 0, so the "
                        "minimiser is unique again: raise 'Ridge λ' in the sidebar (it also pulls θ̂ towards 0). "
                        "Ill-conditioning needs λ comparable to the small eigenvalues it must lift, or a lower degree.")
    if tabs[4].open:
        with tabs[4]:
            if P < 2:
                st.info("With one parameter the loss is a parabola in θ₀; raise the degree to see a landscape.")
            else:
                for k, default in (("lr_i", 0), ("lr_j", 1)):
                    ss[k] = ss[k] if ss[k] < P else default
                c = st.columns(3)
                i = c[0].selectbox("Horizontal parameter", range(P), format_func=labels.__getitem__, key="lr_i")
                j = c[1].selectbox("Vertical parameter", range(P), format_func=labels.__getitem__, key="lr_j")
                angle = c[2].slider("Direction v̂: angle α (degrees)", 0, 359, key="lr_angle")
                if i == j:
                    st.warning("Pick two different parameters; showing the next one instead.")
                    j = (i + 1) % P
                sl = least_squares_slice(fit.problem, fit.centre, i, j)
                h = 0.5 * min(sl.a[-1] - sl.a[0], sl.b[-1] - sl.b[0])
                prof = profile_along(fit.problem.loss, fit.problem.gradient(fit.centre), fit.hessian, fit.centre,
                                     i, j, angle, h)
                c = layout.side_by_side(theme.name != "normal")
                charts.chart(slice_figure(sl, (labels[i], labels[j]), theme, angle_deg=angle, half_width=h,
                                          title=f"L over ({labels[i]}, {labels[j]}), the others at θ̂"),
                             key="lr_landscape_chart", where=c[0])
                c[0].caption("Filled contours of L; white arrows: ∇L (uphill, across the contours); orange: v̂.")
                charts.chart(profile_figure(prof, theme, exact=True, title="L along v̂ and its quadratic model"),
                             key="lr_profile_chart", where=c[1])
                c[1].caption(f"v̂ᵀHv̂ = {fmt(prof.curvature)} with v̂ = cos α e{subscript(i)} + sin α e{subscript(j)} "
                             "(a unit vector). L is exactly quadratic in θ: its Taylor model is not an approximation.")
    if tabs[5].open:
        with tabs[5]:
            st.markdown("**Seed exercise.** Three points, φ(x)ᵀ = [1, x, x²]. Edit them; make two x equal to see it fail:")
            ex = [col.number_input(f"{v}{'₁₂₃'[k % 3]}", step=0.5, key=f"lr_ex_{v}{k % 3 + 1}")
                  for k, (col, v) in enumerate(zip(st.columns(6), "xxxyyy"))]
            for text, tex in exercise_steps(worked_exercise(ex[:3], ex[3:])):
                st.markdown(text)
                if tex:
                    st.latex(tex)
ss["_lr_saved"] = {k: ss[k] for k in DEFAULTS if k in ss}
