"""Page 6: logistic and multinomial logistic (softmax) regression (seed 002): the DK×DK Hessian and its
K×K blocks, one example's term (Λₚ − ppᵀ) ⊗ xxᵀ, the null space of the over-parametrised form, Böhning's
bound, the spectrum, and the landscape of a two-weight model."""

from hessian_explorer.ui.layout import ensure_entrypoint

ensure_entrypoint()  # first: a direct first visit reruns through app.py before the imports below

import streamlit as st
from threadpoolctl import threadpool_limits

from hessian_explorer.classification import analyse_softmax, bohning_check, null_space_check, one_feature_binary
from hessian_explorer.datasets import CLASSIFICATION_SETS, load_classification
from hessian_explorer.figures.models import (block_heatmap, eigenvalue_figure, matrix_panel, slice_figure,
                                             spectrum_figure)
from hessian_explorer.figures.style import fmt, theme_for
from hessian_explorer.landscapes import softmax_slice
from hessian_explorer.notation import subscript, superscript
from hessian_explorer.ui import charts, layout


TABS = ["H and its blocks", "One example", "Null space", "Böhning bound", "Spectrum", "Two weights"]
DEFAULTS = dict(lg_dataset="blobs", lg_k=3, lg_d=2, lg_n=30, lg_spread=1.0, lg_seed=0, lg_bias=True, lg_l2=1.0,
                lg_reference=False, lg_tab=TABS[0], lg_example=0, lg_shift=1.0, lg_bk=0, lg_bl=0, lg_feature=0,
                lg_positive=0)
PENALTIES = [0.0, 0.01, 0.1, 1.0, 10.0]
ss = st.session_state
for key, value in {**DEFAULTS, **ss.get("_lg_saved", {})}.items():
    ss.setdefault(key, value)


@st.cache_resource(show_spinner="Loading the data set…", max_entries=16)
def dataset(key: str, bias: bool, n: int, k: int, d: int, spread: float, seed: int):
    return load_classification(key, bias=bias, n_per_class=n, k=k, d=d, spread=spread, seed=seed)


@st.cache_resource(show_spinner="Fitting the model and computing its Hessian…", max_entries=32)
def fitted(data_key: tuple, reference: bool, l2: float):
    data = dataset(*data_key)
    with threadpool_limits(limits=1):  # these matrices are small: one BLAS thread is fastest
        return analyse_softmax(data.X, data.labels, reference_class=reference, l2=l2, n_classes=data.n_classes)


@st.cache_resource(max_entries=16, show_spinner=False)
def bohning(data_key: tuple, reference: bool, l2: float):
    with threadpool_limits(limits=1):
        return bohning_check(fitted(data_key, reference, l2))


@st.cache_resource(max_entries=32, show_spinner=False)
def two_weights(data_key: tuple, feature: int, positive: int, l2: float):
    X2, y2 = one_feature_binary(dataset(*data_key), feature, positive)
    fit = analyse_softmax(X2, y2, reference_class=True, l2=l2, n_classes=2)
    return fit, softmax_slice(fit.model, fit.w, 0, 1, l2=l2, arrows=9)


with st.sidebar:
    st.header("Model")
    key = st.selectbox("Data set", list(CLASSIFICATION_SETS), format_func=CLASSIFICATION_SETS.get, key="lg_dataset")
    if key == "blobs":
        st.slider("Classes K", 2, 6, key="lg_k")
        st.slider("Input features", 1, 6, key="lg_d")
        st.slider("Points per class", 5, 200, key="lg_n")
        st.slider("Spread of each blob", 0.2, 3.0, step=0.1, key="lg_spread")
        st.number_input("Random seed", 0, 10_000, key="lg_seed")
    st.checkbox("Add a bias feature (a constant 1)", key="lg_bias")
    l2 = st.select_slider("L2 penalty λ (the fit minimises L + λ|w|²/2)", PENALTIES, key="lg_l2", format_func=fmt)
    reference = st.radio("Parametrisation", [False, True], key="lg_reference", format_func=lambda r: (
        "reference class: ω⁽ᴷ⁾ = 0, (K−1)·D weights" if r else "over-parametrised: K·D weights (seed 002)"))
    presentation = layout.presentation_toggle()
theme = theme_for(presentation)
layout.presentation_css(presentation)

st.title("Logistic and softmax regression: the Hessian")
st.markdown(
    "Multinomial logistic regression gives class k the probability pₖ = exp(ω⁽ᵏ⁾ᵀx) / Σⱼ exp(ω⁽ʲ⁾ᵀx). The "
    "Hessian of its loss is a **DK×DK** matrix made of **K×K blocks of size D×D**: block (k, l) is "
    "Σₙ (δₖₗpₖ − pₖpₗ) xₙxₙᵀ. For one example this is **(Λₚ − ppᵀ) ⊗ xxᵀ**, an outer product xxᵀ (a "
    "D×D matrix) scaled by a K×K matrix: not 'xx', which is not even defined."
)
st.caption("Conventions: L(w) = −Σₙ log p(yₙ | xₙ, w), a sum over the N examples. Parameters are class-major, "
           "w = [ω⁽¹⁾; ω⁽²⁾; …], each ω⁽ᵏ⁾ ∈ ℝᴰ; ω⁽ᵏ⁾ₐ weighs feature a. Features are standardised (mean 0, "
           "variance 1); the bias is the last feature. The fit minimises L + λ|w|²/2; every matrix shown is the "
           "Hessian H of L at the fitted ŵ (the penalty would add λI).")

with layout.guard("the softmax regression"):
    data_key = (key, bool(ss.lg_bias), ss.lg_n, ss.lg_k, ss.lg_d, float(ss.lg_spread), int(ss.lg_seed))
    data = dataset(*data_key)
    fit = fitted(data_key, reference, l2)
    model, H = fit.model, fit.hessian
    N, D, K, F, P = model.n_examples, model.n_features, model.n_classes, model.n_free_classes, fit.n_params
    blocks = [f"ω{superscript(f'({k + 1})')}" for k in range(F)]
    for col, (label, value) in zip(st.columns(6), [("examples N", N), ("features D", D), ("classes K", K), (
            "weights P", f"{F}·{D} = {P}"), ("accuracy", f"{100 * fit.accuracy:.0f}%"), ("loss L(ŵ)", fmt(fit.loss))]):
        col.metric(label, value)
    if fit.diverging:
        st.warning("Some classes are (almost) linearly separable: without a penalty L has no minimiser, the weights "
                   "grow until the fit stops and H shrinks towards 0. Set λ > 0 in the sidebar.")
    tabs = st.tabs(TABS, key="lg_tab", on_change="rerun")
    if tabs[0].open:
        with tabs[0]:
            big = P > 120
            left, right = st.columns([3, 2])
            charts.chart(block_heatmap(H, D, theme, labels=fit.labels, block_labels=blocks, title=f"H at ŵ: "
                                       f"{P}×{P}" + (" (downsampled)" if big else "")),
                         key="lg_hessian_chart", where=left)
            right.latex(r"H = \begin{bmatrix} H_{11} & \cdots & H_{1K} \\ \vdots & \ddots & \vdots \\ H_{K1} & \cdots"
                        r" & H_{KK} \end{bmatrix}")
            right.latex(r"H_{kl} = \sum_n (\delta_{kl}\,p_{nk} - p_{nk}p_{nl})\, x_n x_n^\top \in \mathbb{R}^{D\times D}")
            right.markdown(f"Black lines separate the {F}×{F} blocks of size D×D = {D}×{D}, class-major. Diagonal "
                           "blocks Σₙ pₖ(1 − pₖ)xₙxₙᵀ are positive semidefinite; off-diagonal ones couple the classes."
                           + (f" With P = {P}, each cell is the mean of a tile: pick one block below." if big else ""))
            right.caption(data.describe())
            if big:
                c = st.columns(2)
                bk = c[0].selectbox("Block row", range(F), format_func=blocks.__getitem__, key="lg_bk")
                bl = c[1].selectbox("Block column", range(F), format_func=blocks.__getitem__, key="lg_bl")
                charts.chart(block_heatmap(H[bk * D:(bk + 1) * D, bl * D:(bl + 1) * D], D, theme,
                                           title=f"Block ({blocks[bk]}, {blocks[bl]}) at full resolution"),
                             key="lg_block_chart")
    if tabs[1].open:
        with tabs[1]:
            ss.lg_example = min(ss.lg_example, N - 1)
            n = st.slider("Example n", 0, N - 1, key="lg_example")
            term = model.example_term(fit.w, n)
            st.markdown(f"Example {n} is labelled **{data.class_names[model.labels[n]]}**; predicted probabilities "
                        f"p = ({', '.join(fmt(v, 3) for v in term.p)}).")
            st.latex(rf"x \in \mathbb{{R}}^{{{D}\times 1}},\qquad x^\top x = {fmt(term.x @ term.x)}\ \ (1\times 1\text{{: a number}})")
            st.latex(rf"x x^\top \in \mathbb{{R}}^{{{D}\times{D}}}\ \text{{(a matrix)}},\qquad \text{{“}}xx\text{{”}}:"
                     rf"\ ({D}\times 1)({D}\times 1)\ \text{{is not defined}}")
            classes, feats = [f"{k + 1}" for k in range(K)], [f"x{subscript(a + 1)}" for a in range(D)]
            c = st.columns([1, 1, 2, 2])
            charts.chart(matrix_panel(term.x[:, None], feats, ["x"], theme, title=f"x ({D}×1)"),
                         key="lg_x_chart", where=c[0])
            charts.chart(matrix_panel(term.p[:, None], classes, ["p"], theme, title=f"p ({K}×1)"),
                         key="lg_p_chart", where=c[1])
            charts.chart(matrix_panel(term.p_covariance, classes, classes, theme, title=f"Λₚ − ppᵀ ({K}×{K})"),
                         key="lg_cov_chart", where=c[2])
            charts.chart(matrix_panel(term.xxT, feats, feats, theme, title=f"xxᵀ ({D}×{D})"),
                         key="lg_xx_chart", where=c[3])
            charts.chart(block_heatmap(term.kron, D, theme, labels=fit.labels, block_labels=blocks,
                                       title=f"(Λₚ − ppᵀ) ⊗ xxᵀ ({P}×{P}): example {n}'s share of H"),
                         key="lg_kron_chart")
            st.caption("Each D×D block of the Kronecker product is xxᵀ times one entry of Λₚ − ppᵀ" + (" (reference "
                       "class dropped)" if reference else "") + ". Summing these terms over all examples gives H.")
    if tabs[2].open:
        with tabs[2]:
            shift = st.slider("Length of u", 0.0, 5.0, step=0.5, key="lg_shift")
            over, ref = fitted(data_key, False, l2), fitted(data_key, True, l2)
            check = null_space_check(over, ref, shift)
            st.markdown("Add the same vector u ∈ ℝᴰ to every ω⁽ᵏ⁾: every logit gains uᵀx, the factor exp(uᵀx) cancels "
                        "in pₖ, so the loss cannot change. The direction [u; u; …; u] is flat: **H is singular**.")
            st.latex(r"H\,[u;\dots;u] = \textstyle\sum_n (\Lambda_p - pp^\top)\mathbf 1 \otimes x_n x_n^\top u = 0"
                     r"\quad\text{since } (\Lambda_p - pp^\top)\mathbf 1 = p - p\,(\mathbf 1^\top p) = 0")
            for col, (label, value) in zip(st.columns(4), [("L(ŵ)", fmt(check.loss_before, 10)), ("L(ŵ + [u;…;u])", fmt(
                    check.loss_after, 10)), ("|H[u;…;u]| / (λmax |[u;…;u]|)", fmt(check.relative_hv, 2)), (
                    "zero eigenvalues of H", f"{check.n_zero} (D = {D})")]):
                col.metric(label, value)
            st.markdown(f"**Reference class** (ω⁽ᴷ⁾ fixed at 0): the same shift changes the loss, "
                        f"{fmt(check.ref_loss_before, 8)} → {fmt(check.ref_loss_after, 8)}, and the smallest eigenvalue "
                        f"of its Hessian is {fmt(check.ref_min_eigenvalue)}"
                        + (": **positive definite**." if check.ref_positive_definite else ", zero up to rounding."))
            for col, (name, f) in zip(st.columns(2), [("over-parametrised", over), ("reference class", ref)]):
                charts.chart(eigenvalue_figure(f.smallest, theme, zero_tol=f.zero_tol, title=f"Smallest "
                             f"{f.smallest.size} eigenvalues, {name}"), key=f"lg_null_{name[:3]}_chart", where=col)
            st.caption("Log scale; red crosses are eigenvalues that are zero up to rounding (flat directions).")
    if tabs[3].open:
        with tabs[3]:
            bound = bohning(data_key, reference, l2)
            st.latex(r"B = \tfrac12\left(I - \tfrac{\mathbf 1\mathbf 1^\top}{K}\right) \otimes X^\top X"
                     r"\ \succeq\ H(w)\ \text{ for every } w")
            st.metric("smallest eigenvalue of B − H (≥ 0: the bound holds)",
                      fmt(bound.min_gap) if abs(bound.min_gap) > bound.tolerance else "0 (up to rounding)")
            for col, (name, M, k) in zip(st.columns(2), [("B", bound.bound, "bound"), ("B − H at ŵ", bound.gap, "gap")]):
                charts.chart(block_heatmap(M, D, theme, labels=fit.labels, block_labels=blocks, title=name),
                             key=f"lg_{k}_chart", where=col)
            st.caption("Böhning (1992): Λₚ − ppᵀ ⪯ ½(I − 11ᵀ/K) for every probability vector p, so this fixed matrix "
                       "bounds the curvature everywhere. A Newton-like step with B instead of H never overshoots, and "
                       "B is computed once."
                       + ("" if reference else " Over-parametrised, B and H share the flat directions [u; …; u], so "
                          "the smallest eigenvalue of B − H is 0."))
    if tabs[4].open:
        with tabs[4]:
            charts.chart(spectrum_figure(fit, theme, title=f"Eigenvalues of H ({P}×{P})"), key="lg_spectrum_chart")
            st.caption("Every eigenvalue, by a dense solver (red: zero up to rounding)." if fit.eigenvalues is not None
                       else f"P = {P}: Lanczos and stochastic Lanczos quadrature need only products H·v, never H.")
    if tabs[5].open:
        with tabs[5]:
            inputs, c = list(range(D - int(data.bias))), st.columns(2)
            ss.lg_feature, ss.lg_positive = min(ss.lg_feature, inputs[-1]), min(ss.lg_positive, K - 1)
            feature = c[0].selectbox("Feature", inputs, format_func=data.feature_names.__getitem__, key="lg_feature")
            positive = c[1].selectbox("Class against the rest", range(K), format_func=data.class_names.__getitem__,
                                      key="lg_positive")
            _, sl = two_weights(data_key, feature, positive, l2)
            left, right = layout.side_by_side(theme.name != "normal", (3, 2))
            charts.chart(slice_figure(sl, ("w (feature weight)", "b (bias)"), theme, show_quadratic=True,
                                      centre_name="ŵ", loss_name="J", equal_aspect=True, height=theme.height + 120,
                                      title="J(w, b) = L + λ(w² + b²)/2 and its gradient"),
                         key="lg_landscape_chart", where=left)
            right.markdown("Binary logistic regression p = σ(w·x + b) on one feature: two weights, one picture.")
            right.metric("ŵ = (w, b)", f"({fmt(sl.centre[0], 3)}, {fmt(sl.centre[1], 3)})")
            right.metric("eigenvalues of the Hessian of J at ŵ", ", ".join(fmt(v, 3) for v in sl.block_eigenvalues))
            right.caption("White arrows: the gradient of J (uphill). Dashed orange: the quadratic model from the Hessian "
                          "at ŵ, at the same levels. It matches J near ŵ only: unlike least squares, the logistic loss "
                          "is not quadratic, and far from ŵ it grows linearly.")
ss["_lg_saved"] = {k: ss[k] for k in DEFAULTS if k in ss}
