"""Hessian Explorer: entry point. Navigation, URL state and the pages; no computation here."""

import streamlit as st

from hessian_explorer.ui import layout

st.set_page_config(page_title="Hessian Explorer", page_icon="📐", layout="wide")
layout.preload_charts()  # a session's first run: the browser loads plotly while this run imports and computes

from hessian_explorer.ui import cache, controls  # after the preload: these import numpy, scipy and pandas

# url paths match the names Streamlit derives from the file names (5_linear_regression.py ->
# linear_regression), so a first visit to any page needs no "page not found" detour.
FUNCTION_PAGES = [
    st.Page("pages/1_landscape.py", title="Landscape and gradient field", icon=":material/landscape:",
            url_path="landscape", default=True),
    st.Page("pages/2_hessian.py", title="Hessian", icon=":material/grid_on:", url_path="hessian"),
    st.Page("pages/3_curvature.py", title="Curvature along a direction", icon=":material/explore:",
            url_path="curvature"),
    st.Page("pages/4_misconception.py", title="H vs ∇f∇fᵀ, side by side", icon=":material/compare:",
            url_path="misconception"),
]

MODEL_PAGES = [
    st.Page("pages/5_linear_regression.py", title="Linear regression (least squares)", icon=":material/show_chart:",
            url_path="linear_regression"),
    st.Page("pages/6_logistic_regression.py", title="Logistic and softmax regression", icon=":material/category:",
            url_path="logistic_regression"),
    st.Page("pages/7_outer_products.py", title="Outer products done right", icon=":material/functions:",
            url_path="outer_products"),
]

page = st.navigation({"Pick a function": FUNCTION_PAGES, "…or a model": MODEL_PAGES})
controls.keep_state()
for problem in controls.init_from_url():
    st.warning(problem, icon="🔗")
st.session_state.pop("_view", None)
try:
    page.run()
    if (view := st.session_state.get("_view")) is not None:
        controls.sync_url(view)
finally:  # after the page: the worker's start-up would compete with a first page for the CPU
    cache.warm_sandbox()
