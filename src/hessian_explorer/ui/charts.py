"""Charts on the page: every plotly figure the pages show goes through :func:`chart`.

``st.plotly_chart`` draws with the full plotly.js that Streamlit bundles (4.7 MB). Starting it is
one task of 1-1.5 s on the browser's only main thread here, and on a first visit everything else
waits behind it. Nearly every chart in the app is cartesian (scatter, heatmap, contour, bar), so
they are drawn by a small component with plotly.js's official cartesian bundle instead
(``static/plotly-cartesian.min.js``, 1.5 MB, plotly.js 4.1, MIT licence): it starts in 0.4-0.7 s,
and a classroom's network carries 3 MB less. The session's first run starts loading it
(``layout.preload_charts``). Figures with other trace types (the curvature rose's polar axes, the
3-D surface) are drawn by ``st.plotly_chart`` as before, and so is everything when the server does
not serve the app's static files (``server.enableStaticServing``, set in ``.streamlit/config.toml``).

A click on a chart drawn either way is read with :func:`clicked_point`.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from pathlib import Path

import plotly.graph_objects as go
import plotly.io as pio
import streamlit as st

from hessian_explorer.ui.layout import LOADER_JS, static_serving

__all__ = ["chart", "clicked_point", "uses_bundle", "static_serving", "BUNDLE_TRACES", "COMPONENT_JS"]

# The trace types plotly.js's cartesian bundle registers (its README; the browser test checks them).
BUNDLE_TRACES = frozenset({"bar", "box", "contour", "heatmap", "histogram", "histogram2d",
                           "histogram2dcontour", "image", "pie", "scatter", "scatterternary", "violin"})
# The component's whole code, fixed text. Figures travel as data: plotly.js draws their text as SVG
# text (a few tags such as <b> and <sub> styled, links sanitised), as st.plotly_chart does.
COMPONENT_JS = LOADER_JS + (Path(__file__).parent / "chart.js").read_text(encoding="utf-8")
_component = st.components.v2.component(
    "hessian_explorer_chart", js=COMPONENT_JS,
    css=".hx-chart:fullscreen { background: #fff; }",
    isolate_styles=False)  # plotly styles its modebar and hover labels with rules in the page's head


def uses_bundle(fig: go.Figure) -> bool:
    """Whether :func:`chart` draws ``fig`` with the cartesian bundle (every trace type is in it)."""
    return static_serving() and all((trace.type or "scatter") in BUNDLE_TRACES for trace in fig.data)


def chart(fig: go.Figure, *, key: str, on_click: Callable[[], None] | None = None, where=None) -> None:
    """Draw ``fig`` at full width of ``where`` (a column or container; the page's main area by
    default). ``on_click`` runs before the next run when the user clicks a point of the chart;
    it reads the point with :func:`clicked_point` and this ``key``."""
    if not uses_bundle(fig):
        select = {"selection_mode": "points", "on_select": on_click} if on_click else {}
        (st if where is None else where).plotly_chart(fig, key=key, theme=None, **select)
        return
    with where if where is not None else contextlib.nullcontext():
        _component(key=key, data={"figure": pio.to_json(fig, validate=False), "clickable": on_click is not None},
                   on_click_change=on_click)


def clicked_point(key: str) -> dict | None:
    """The point last clicked on the chart with this ``key`` (its ``x`` and ``y``, or a polar
    chart's ``theta``), or ``None``."""
    state = st.session_state.get(key)
    if not state:
        return None
    if isinstance(click := state.get("click"), dict):  # the component's; st.plotly_chart's has a selection
        return click
    points = (state.get("selection") or {}).get("points") or []
    return points[0] if points else None
