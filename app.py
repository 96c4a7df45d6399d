"""Hessian Explorer: entry point. Navigation, URL state and the pages; no computation here."""

import sys

import streamlit as st

from hessian_explorer.ui import layout

# The server's event loop sends the browser its scripts (plotly.js alone is 4.7 MB, in 64 kB
# pieces) and this run's elements while this thread computes; it then waits for the GIL after
# every piece, up to the switch interval. At Python's default 5 ms, plotly.js took 1.6-2.4 s to
# arrive during a busy run, against 0.2 s at 0.5 ms (and 15 ms with the server idle).
sys.setswitchinterval(0.0005)

st.set_page_config(page_title="Hessian Explorer", page_icon=":material/square_foot:", layout="wide")
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
    st.warning(problem, icon=":material/link:")
st.session_state.pop("_view", None)
try:
    page.run()
    if (view := st.session_state.get("_view")) is not None:
        controls.sync_url(view)
finally:  # after the page: the worker's start-up would compete with a first page for the CPU
    cache.warm_sandbox()
