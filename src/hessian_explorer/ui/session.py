"""Session state that must outlive the runs which do not draw its widgets.

Streamlit drops a widget's value at the end of any run that did not draw the widget: the
sidebar's values on a page without that control, a closed tab's slider, a run that only sends a
link elsewhere (``app.py``). :func:`keep_state`, called at the start of every run, re-registers
them. Light on purpose (Streamlit only): ``app.py`` may call it before the chart library's
preload and the heavy imports.
"""

from __future__ import annotations

import streamlit as st

__all__ = ["FIXED_KEYS", "PREFIXED", "KEPT", "keep_state"]

# the shared sidebar's keys, and the prefixes of its per-variable keys (x₀ and v)
FIXED_KEYS = ("source", "preset", "fn_text", "ax_x", "ax_y", "xr_lo", "xr_hi", "yr_lo", "yr_hi",
              "density", "angle", "presentation", "_last_text", "_vars", "_last_plane")
PREFIXED = ("x0_", "v_")
KEPT = "_kept"  # session-state key: the keys of the pages' kept sliders and number inputs


def keep_state() -> None:
    """Re-register durable keys so widgets not drawn on this page keep their values."""
    kept = st.session_state.get(KEPT, ())
    for key in list(st.session_state.keys()):
        if key in FIXED_KEYS or key.startswith(PREFIXED) or key in kept:
            st.session_state[key] = st.session_state[key]
