"""Hessian Explorer: entry point. Navigation, URL state and the pages; no computation here."""

import streamlit as st

from hessian_explorer.ui import layout

st.set_page_config(page_title="Hessian Explorer", page_icon="📐", layout="wide")
layout.preload_charts()  # a session's first run: the browser loads plotly while this run imports and computes

from hessian_explorer.ui import cache, controls  # after the preload: these import numpy and plotly
from hessian_explorer.ui.page_table import PAGES, SECTIONS

page = st.navigation({
    section: [st.Page(spec.file, title=spec.title, icon=spec.icon, url_path=spec.url_path,
                      default=spec == PAGES[0]) for spec in specs]
    for section, specs in SECTIONS.items()
})
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
