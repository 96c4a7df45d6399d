"""Hessian Explorer: entry point. Navigation, URL state and the pages; no computation here."""

import sys

import streamlit as st

from hessian_explorer.ui import layout, session
from hessian_explorer.ui.page_table import PAGES, SECTIONS

# The server's event loop sends the browser its scripts (plotly.js alone is 4.7 MB, in 64 kB
# pieces) and this run's elements while this thread computes; it then waits for the GIL after
# every piece, up to the switch interval. At Python's default 5 ms, plotly.js took 1.6-2.4 s to
# arrive during a busy run, against 0.2 s at 0.5 ms (and 15 ms with the server idle).
sys.setswitchinterval(0.0005)

st.set_page_config(page_title="Hessian Explorer", page_icon=":material/square_foot:", layout="wide")

# Streamlit serves the default page at "/" only, so on a warm server a link to "/landscape" showed
# "Page not found". A hidden page answers that path and sends the visit to "/", link state and
# all, before anything is sent or imported (the default page's own url_path is then a mere name).
HOME = PAGES[0]
home = st.Page(HOME.file, title=HOME.title, icon=HOME.icon, url_path=f"{HOME.url_path}-home", default=True)
alias = st.Page(HOME.file, title=HOME.title, url_path=HOME.url_path, visibility="hidden")
sections = {
    section: [home if spec == HOME else st.Page(spec.file, title=spec.title, icon=spec.icon, url_path=spec.url_path)
              for spec in specs]
    for section, specs in SECTIONS.items()
}
sections[next(iter(sections))].append(alias)  # hidden: not in the menu
page = st.navigation(sections)
if page is alias:
    session.keep_state()  # a run that ends here would drop the values of widgets it did not draw
    st.switch_page(home, query_params=st.query_params.to_dict())

layout.preload_charts()  # a session's first run: the browser loads plotly while this run imports and computes

from hessian_explorer.ui import cache, controls  # after the preload: these import numpy and plotly

session.keep_state()
for problem in controls.init_from_url():
    st.warning(problem, icon=":material/link:")
st.session_state.pop("_view", None)
try:
    page.run()
    if (view := st.session_state.get("_view")) is not None:
        controls.sync_url(view)
finally:  # after the page: the worker's start-up would compete with a first page for the CPU
    cache.warm_sandbox()
