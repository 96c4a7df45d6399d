"""Page furniture shared by every page: the error boundary, presentation-mode styling, tables,
and the first run's preload of the browser's chart library."""

from __future__ import annotations

import contextlib
import functools
import inspect
import logging
import re
from pathlib import Path

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


# The frontend loads plotly.js (about 1 s of parsing and start-up on a slow laptop) only when the
# first chart arrives, after the script has done its imports and sums. Importing the same chunk
# at the start of a session overlaps that second with the server's work; the module is then
# already there when the charts come. The chunk's name is hashed per Streamlit release, so it is
# read from Streamlit's own static folder; the script holds nothing else (no user text). The
# element is hidden, so it takes no room and nothing moves when the next run drops it.
_CHART_CHUNK = re.compile(r"PlotlyChart\.[A-Za-z0-9_-]+\.js")
_PRELOAD = """<span id="hx-preload"></span>
<style>[data-testid="stElementContainer"]:has(#hx-preload) {{ display: none; }}</style>
<script>
(() => {{
  const entry = document.querySelector('script[type="module"][src*="/static/js/index."]');
  if (entry) import(new URL("{chunk}", entry.src).href).catch(() => {{}});
}})();
</script>"""


@functools.cache
def _chart_chunk() -> str | None:
    """File name of the frontend's plotly chunk in the installed Streamlit, if there is exactly one."""
    folder = Path(st.__file__).parent / "static" / "static" / "js"
    names = [p.name for p in folder.glob("PlotlyChart.*.js") if _CHART_CHUNK.fullmatch(p.name)]
    return names[0] if len(names) == 1 else None


@functools.cache
def _preload_html() -> str | None:
    """The preload element, or ``None`` where it cannot work: a Streamlit whose ``st.html`` cannot
    run scripts (``unsafe_allow_javascript`` came in 2025), or whose chunk is not found."""
    try:
        runs_scripts = "unsafe_allow_javascript" in inspect.signature(st.html).parameters
    except (TypeError, ValueError):
        runs_scripts = False
    chunk = _chart_chunk()
    return _PRELOAD.format(chunk=chunk) if runs_scripts and chunk is not None else None


def preload_charts() -> None:
    """Ask the browser to start loading the chart library, once per session (its first run).

    Only a speed-up: where :func:`_preload_html` is ``None``, nothing is sent.
    """
    if st.session_state.get("_charts_preloaded") or (body := _preload_html()) is None:
        return
    st.session_state["_charts_preloaded"] = True
    st.html(body, unsafe_allow_javascript=True)


def ensure_entrypoint() -> None:
    """Make sure the page runs through ``app.py`` (``st.navigation``), even on a first visit.

    Streamlit starts every server process in its legacy "pages/ folder" mode until some run
    calls ``st.navigation``; a first visit straight to ``/landscape`` would then run the page
    file alone, without ``app.py`` (no URL state, no wide layout). Pages call this first, before
    their heavy imports: it switches the process to ``st.navigation`` mode, starts the browser
    loading the chart library, and reruns, which goes through ``app.py``.
    """
    try:
        from streamlit.runtime.pages_manager import PagesManager
    except ImportError:  # a future Streamlit without the legacy mode
        return
    if getattr(PagesManager, "uses_pages_directory", False):
        PagesManager.uses_pages_directory = False
        preload_charts()
        st.rerun()


def side_by_side(presentation: bool, widths: tuple[float, float] = (1, 1)) -> tuple:
    """Two containers: columns of these relative ``widths`` normally, one above the other at full
    width in presentation mode (on a projector every chart and table needs the whole width)."""
    return (st.container(), st.container()) if presentation else tuple(st.columns(list(widths)))


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


_MARKDOWN_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|<>~$])")
_MINUS = re.compile(r"(?<![\w.])-(?=[\d.]|inf)|(?<=\de)-(?=\d)")
_NUMBER = re.compile(r"[−+-]?(\d+\.?\d*|\.\d+)([eE][−+-]?\d+)?|[−+-]?inf|nan|undefined")


def markdown_table(rows: list[dict[str, str]]) -> str:
    """A small table of display strings as Markdown: keys of the first row are the header,
    columns of numbers are right-aligned, every character Markdown would read is escaped
    (``$`` would start LaTeX, ``|`` a new cell)."""
    if not rows:
        return ""
    columns = list(rows[0])

    def cell(text: str) -> str:  # a number's minus sign is U+2212: no line break inside "1e−31"
        return _MARKDOWN_SPECIAL.sub(r"\\\1", _MINUS.sub("−", str(text))).replace("\n", " ")

    numeric = [all(_NUMBER.fullmatch(str(row[c]).strip()) for row in rows) for c in columns]
    lines = ["| " + " | ".join(cell(c) for c in columns) + " |",
             "|" + "|".join("---:" if right else ":---" for right in numeric) + "|"]
    lines += ["| " + " | ".join(cell(row[c]) for c in columns) + " |" for row in rows]
    return "\n".join(lines)


def table(rows: list[dict[str, str]]) -> None:
    """Show a small table of display strings. Markdown, not ``st.dataframe``: it grows with the
    presentation mode's fonts, and no page needs pandas (a third of a second on a first visit)."""
    if rows:
        st.markdown(markdown_table(rows))
