"""Page furniture shared by every page: the error boundary, presentation-mode styling, tables,
and a first visit's start-up (the entry point, the preload of the browser's chart library, and
Streamlit's once-per-process checks kept off its path)."""

from __future__ import annotations

import contextlib
import functools
import gc
import inspect
import json
import logging
import re
from pathlib import Path

import streamlit as st
import streamlit.delta_generator
from streamlit import runtime

log = logging.getLogger("hessian_explorer")


def _skip_the_repl_check() -> None:
    """Spare a server process's first element Streamlit's check for a Python REPL.

    Streamlit's first element in a process asks whether it runs in a REPL, to print a hint about
    ``streamlit run``. The check (``inspect.stack``) resolves the file of every loaded module:
    50-60 ms, on the critical path of a first visit, before the chart library's preload is sent.
    With a Streamlit server running, no hint is ever printed. So the hint is marked as already
    shown, and only then: ``python app.py`` still gets it.
    """
    if runtime.exists():
        streamlit.delta_generator._use_warning_has_been_displayed = True


_skip_the_repl_check()  # once per process: modules run once

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


# The browser loads a chart library (plotly.js: about 1 s of parsing and start-up on a slow
# laptop) only when the first chart arrives, after the script has done its imports and sums.
# Starting it with the session's first run overlaps that second with the server's work. The charts
# are drawn by plotly.js's cartesian bundle through a small component (``charts``): the preload
# starts loading the bundle (``plotly_loader.js``, which the charts then wait on) and imports the
# frontend's component chunk. Where the app's static files are not served, charts fall back to
# ``st.plotly_chart``, and the preload imports Streamlit's plotly chunk instead. A chunk's name is
# hashed per Streamlit release, so it is read from Streamlit's own static folder, and so are the
# few small modules it imports that the page has not loaded yet: requested together with the
# chunk, they are there when it has been parsed (one after the other, each waited 0.1-0.25 s for a
# server busy with the first run). The script holds nothing else (no user text). The element is
# hidden, so it takes no room and nothing moves when the next run drops it.
LOADER_JS = (Path(__file__).parent / "plotly_loader.js").read_text(encoding="utf-8")
_MODULE = r"[A-Za-z0-9_.-]+\.js"  # a frontend module's file name
_PAGE_MODULES = re.compile(  # what index.html loads: the entry script and the modules it preloads
    rf'<(?:link rel="modulepreload"|script type="module")[^>]*?\s(?:href|src)="\./static/js/({_MODULE})"')
_IMPORTS_AT_HEAD = re.compile(rf'(?:import\s*(?:[\w$*{{}}\s,]*?from\s*)?"\./{_MODULE}";?)+')
_IMPORTED = re.compile(rf'"\./({_MODULE})"')
_PRELOAD = """<span id="hx-preload"></span>
<style>[data-testid="stElementContainer"]:has(#hx-preload) {{ display: none; }}</style>
<script>
{loader}
(() => {{
  const entry = document.querySelector('script[type="module"][src*="/static/js/index."]');
  if (entry) for (const name of {modules}) import(new URL(name, entry.src).href).catch(() => {{}});
}})();
</script>"""


def static_serving() -> bool:
    """Whether the server serves the app's ``static/`` folder (where the cartesian bundle is) at
    ``app/static/`` (``server.enableStaticServing``, set in ``.streamlit/config.toml``)."""
    return bool(st.get_option("server.enableStaticServing"))


def _static_folder() -> Path:
    """Streamlit's frontend: ``index.html``, and the modules in ``static/js``."""
    return Path(st.__file__).parent / "static"


def _imports(name: str) -> list[str]:
    """The modules a bundled frontend chunk imports statically: its file opens with them."""
    with open(_static_folder() / "static" / "js" / name, encoding="utf-8", errors="replace") as file:
        head = _IMPORTS_AT_HEAD.match(file.read(1 << 16))
    return _IMPORTED.findall(head.group()) if head else []


@functools.cache
def _chunk(kind: str) -> str | None:
    """File name of the frontend's chunk ``kind`` in the installed Streamlit, if there is exactly
    one: ``"PlotlyChart"`` (st.plotly_chart's) or ``"BidiComponent"`` (the chart component's)."""
    pattern = re.compile(rf"{kind}\.[A-Za-z0-9_-]+\.js")
    names = [p.name for p in (_static_folder() / "static" / "js").glob(f"{kind}.*.js") if pattern.fullmatch(p.name)]
    return names[0] if len(names) == 1 else None


@functools.cache
def _chunk_modules(kind: str) -> tuple[str, ...]:
    """The chunk, last, after the modules it needs that the page has not loaded yet (those
    ``index.html`` does not name); just the chunk if Streamlit's files cannot be read."""
    if (chunk := _chunk(kind)) is None:
        return ()
    try:
        loaded = {chunk, *_PAGE_MODULES.findall((_static_folder() / "index.html").read_text(encoding="utf-8"))}
        needed, todo = [], _imports(chunk)
        while todo:
            if (module := todo.pop(0)) not in loaded:
                loaded.add(module)
                needed.append(module)
                todo += _imports(module)
    except OSError:
        needed = []
    return (*needed, chunk)


@functools.cache
def _preload_html(bundle: bool) -> str | None:
    """The preload element: the cartesian bundle and the component's chunk if ``bundle`` (the
    server serves the app's static files), else Streamlit's plotly chunk. ``None`` where it cannot
    work: a Streamlit whose ``st.html`` cannot run scripts (``unsafe_allow_javascript`` came in
    2025), or, without the bundle, whose plotly chunk is not found."""
    try:
        runs_scripts = "unsafe_allow_javascript" in inspect.signature(st.html).parameters
    except (TypeError, ValueError):
        runs_scripts = False
    modules = _chunk_modules("BidiComponent" if bundle else "PlotlyChart")
    if not runs_scripts or not (bundle or modules):
        return None
    return _PRELOAD.format(loader=LOADER_JS if bundle else "", modules=json.dumps(list(modules)))


def preload_charts() -> None:
    """Ask the browser to start loading the chart library, once per session (its first run).

    Only a speed-up: where :func:`_preload_html` is ``None``, nothing is sent.
    """
    if st.session_state.get("_charts_preloaded") or (body := _preload_html(static_serving())) is None:
        return
    st.session_state["_charts_preloaded"] = True
    st.html(body, unsafe_allow_javascript=True)


def ensure_entrypoint() -> None:
    """Make sure the page runs through ``app.py`` (``st.navigation``), even on a first visit.

    Streamlit starts every server process in its legacy "pages/ folder" mode until some run
    calls ``st.navigation``; a first visit straight to ``/landscape`` would then run the page
    file alone, without ``app.py`` (no URL state, no wide layout). Pages call this first, before
    their heavy imports: it switches the process to ``st.navigation`` mode and reruns, which goes
    through ``app.py``. The chart library's preload is left to that run: the browser drops this
    run's elements when the rerun starts, often before it has drawn them, and the preload's script
    then never ran.

    Before the rerun, the heap (the server's objects, made to last) is frozen: Streamlit collects
    the garbage after every run, and on a fresh server's first visit that full collection, 30 ms,
    would hold up the rerun. The first page's end freezes the rest (``cache.warm_sandbox``).
    """
    try:
        from streamlit.runtime.pages_manager import PagesManager
    except ImportError:  # a future Streamlit without the legacy mode
        return
    if getattr(PagesManager, "uses_pages_directory", False):
        PagesManager.uses_pages_directory = False
        gc.freeze()
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
