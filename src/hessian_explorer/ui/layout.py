"""Page furniture shared by every page: the error boundary and presentation-mode styling."""

from __future__ import annotations

import contextlib
import logging

import streamlit as st

log = logging.getLogger("hessian_explorer")

_PRESENTATION_CSS = """
<style>
html, body, [data-testid="stAppViewContainer"] { font-size: 22px; }
[data-testid="stMarkdownContainer"] p, [data-testid="stMarkdownContainer"] li { font-size: 1.15rem; line-height: 1.5; }
[data-testid="stMetricValue"], [data-testid="stMetricValue"] p { font-size: 2.4rem; }
h1 { font-size: 2.8rem !important; } h2 { font-size: 2.2rem !important; } h3 { font-size: 1.8rem !important; }
.katex { font-size: 1.35em; }
[data-testid="stSidebar"] { min-width: 420px; }
</style>
"""


def ensure_entrypoint() -> None:
    """Make sure the page runs through ``app.py`` (``st.navigation``), even on a first visit.

    Streamlit starts every server process in its legacy "pages/ folder" mode until some run
    calls ``st.navigation``; a first visit straight to ``/landscape`` would then run the page
    file alone, without ``app.py`` (no URL state, no wide layout). Pages call this first: it
    switches the process to ``st.navigation`` mode and reruns, which goes through ``app.py``.
    """
    try:
        from streamlit.runtime.pages_manager import PagesManager
    except ImportError:  # a future Streamlit without the legacy mode
        return
    if getattr(PagesManager, "uses_pages_directory", False):
        PagesManager.uses_pages_directory = False
        st.rerun()


def presentation_toggle() -> bool:
    """The sidebar switch for presentation mode, the same on every page (one key: it survives page
    switches and is read from the link's ``pm``)."""
    return bool(st.toggle("Presentation mode (large type for projectors)", key="presentation"))


def presentation_css(enabled: bool) -> None:
    """Larger type for projectors (our own fixed CSS; no user text is ever rendered as HTML)."""
    if enabled:
        st.html(_PRESENTATION_CSS)


@contextlib.contextmanager
def guard(what: str = "this view"):
    """Turn any unexpected error into a friendly message; the traceback goes to the server log."""
    try:
        yield
    except Exception as err:  # noqa: BLE001 - the whole point is that nothing escapes to the user
        if type(err).__name__ in ("RerunException", "StopException"):
            raise
        log.exception("error while drawing %s", what)
        st.error(
            f"Something went wrong while drawing {what} ({type(err).__name__}). "
            "Your settings are kept: try another point, range or function."
        )
