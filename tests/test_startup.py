"""A first visit starts fast: light package import, the chart library requested at once, the
sandbox worker started after the first page."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import re

import pytest
import streamlit as st

import hessian_explorer
from apptest_support import open_app
from hessian_explorer.ui import charts, layout, page_table

ROOT = Path(__file__).resolve().parents[1]


def _run_python(code: str) -> str:
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()


def test_the_package_and_the_page_furniture_import_without_sympy():
    code = ("import sys, hessian_explorer, hessian_explorer.ui.layout; "
            "print(sorted(m for m in ('sympy', 'scipy', 'pandas') if m in sys.modules))")
    assert _run_python(code) == "[]"


def test_what_app_py_runs_before_the_preload_imports_no_numerics():
    """Everything app.py needs before the chart library's preload (the page table, the session's
    kept state, for a link to "/landscape" sent home) leaves numpy and the app's own figures and
    caches for after it (plotly's figure classes come with Streamlit's own import)."""
    code = ("import sys, hessian_explorer.ui.layout, hessian_explorer.ui.session, hessian_explorer.ui.page_table; "
            "print(sorted(m for m in ('numpy', 'sympy', 'scipy', 'pandas', 'hessian_explorer.ui.controls', "
            "'hessian_explorer.ui.cache', 'hessian_explorer.figures') if m in sys.modules))")
    assert _run_python(code) == "[]"
    before_preload = (ROOT / "app.py").read_text(encoding="utf-8").split("layout.preload_charts()")[0]
    assert "session.keep_state()" in before_preload and "controls" not in before_preload


def test_the_package_still_exports_its_public_names():
    from hessian_explorer import ExpressionError, parse_function
    from hessian_explorer.parsing import ExpressionError as parsing_error

    assert ExpressionError is parsing_error
    assert parse_function("x^2 y").hessian([1.0, 2.0]).tolist() == [[4.0, 2.0], [2.0, 0.0]]
    assert set(hessian_explorer.__all__) <= set(dir(hessian_explorer))
    for name in hessian_explorer.__all__:
        assert getattr(hessian_explorer, name) is not None
    with pytest.raises(AttributeError):
        hessian_explorer.not_a_name  # noqa: B018


@pytest.mark.parametrize("kind", ["BidiComponent", "PlotlyChart"])
def test_the_chart_chunks_of_the_installed_streamlit_are_found(kind):
    """The component's chunk (charts drawn by the cartesian bundle) and st.plotly_chart's (the rest)."""
    chunk = layout._chunk(kind)
    assert chunk is not None, f"Streamlit's {kind} chunk was not found: the preload would not load it"
    assert (Path(st.__file__).parent / "static" / "static" / "js" / chunk).is_file()


@pytest.mark.parametrize("kind", ["BidiComponent", "PlotlyChart"])
def test_the_preload_asks_for_the_chart_chunk_and_the_modules_it_needs_that_the_page_has_not_loaded(kind):
    """The chunk's own imports are requested with it (one after the other they waited for a busy
    server); modules the page's entry script already loaded are left out. Checked here against
    Streamlit's files read another way: ``html.parser`` for ``index.html``, ``import`` statements
    found anywhere in the chunks."""
    import html.parser
    import re

    folder = Path(st.__file__).parent / "static"

    class Scripts(html.parser.HTMLParser):
        def __init__(self):
            super().__init__()
            self.loaded: set[str] = set()

        def handle_starttag(self, tag, attrs):
            attrs = dict(attrs)
            url = attrs.get("href") if tag == "link" and attrs.get("rel") == "modulepreload" else (
                attrs.get("src") if tag == "script" and attrs.get("type") == "module" else None)
            if url:
                self.loaded.add(url.rsplit("/", 1)[-1])

    parser = Scripts()
    parser.feed((folder / "index.html").read_text(encoding="utf-8"))
    assert len(parser.loaded) > 10

    def imports(name):
        return set(re.findall(r'import[^;"]*?"\./([^"]+\.js)"', (folder / "static" / "js" / name).read_text()))

    modules = layout._chunk_modules(kind)
    chunk = layout._chunk(kind)
    assert modules[-1] == chunk and len(set(modules)) == len(modules)
    for name in modules:
        assert (folder / "static" / "js" / name).is_file()
        assert name not in parser.loaded
        assert imports(name) <= parser.loaded | set(modules), f"{name} imports a module nobody loads first"
    assert set(modules[:-1]) <= imports(chunk) | {m for name in modules for m in imports(name)}


def test_a_sessions_first_run_asks_the_browser_for_the_chart_library_once():
    """With the app's static files served (.streamlit/config.toml), the cartesian bundle and the
    chart component's chunk; the bundle's URL is the file in static/ that the server serves."""
    assert charts.static_serving()
    at = open_app()
    bodies = [h.proto.body for h in at.get("html")]
    assert len(bodies) == 1 and "import(" in bodies[0] and layout.LOADER_JS in bodies[0]
    assert all(f'"{name}"' in bodies[0] for name in layout._chunk_modules("BidiComponent"))
    assert not [name for name in layout._chunk_modules("PlotlyChart") if f'"{name}"' in bodies[0]]
    (url,) = re.findall(r'"(app/static/[^"]+)"', bodies[0])
    assert (ROOT / url.removeprefix("app/")).is_file()
    at.run()
    assert not [h for h in at.get("html") if "import(" in h.proto.body]


def test_without_static_files_the_preload_and_the_charts_fall_back_to_streamlits_plotly(monkeypatch):
    """Where the server does not serve static/ (the option off), every chart is an st.plotly_chart
    and the preload asks for Streamlit's plotly chunk instead of the bundle."""
    body = layout._preload_html(False)
    assert all(f'"{name}"' in body for name in layout._chunk_modules("PlotlyChart")) and "app/static" not in body
    monkeypatch.setattr(charts, "static_serving", lambda: False)
    at = open_app()
    assert not at.exception and at.get("plotly_chart") and not at.get("bidi_component")


def test_the_sandbox_worker_is_started_by_the_first_run_and_the_heap_frozen_after_it():
    import gc

    from hessian_explorer.ui import cache

    open_app()
    thread = cache.warm_sandbox()  # the same cached thread the app started after its page
    assert thread.name == "sandbox-warmup"
    thread.join(timeout=60)
    assert not thread.is_alive() and gc.get_freeze_count() > 0


MODEL_PAGES = [spec.file for spec in page_table.MODEL_PAGES]


@pytest.mark.parametrize("page", MODEL_PAGES)
def test_a_model_page_opened_first_never_imports_sympy(page):
    """sympy (a third of a second to import) is for typed functions; the model pages do without."""
    code = f"""
import sys
from streamlit.testing.v1 import AppTest
at = AppTest.from_file({str(ROOT / 'app.py')!r}, default_timeout=60)
at.switch_page({page!r})
at.run()
assert not at.exception, [e.value for e in at.exception]
assert at.get("plotly_chart") or at.get("bidi_component"), "the page drew no chart"
print("sympy" in sys.modules)
"""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.strip() == "False"


def test_an_older_streamlit_without_script_support_gets_no_preload(monkeypatch):
    """The preload is only a speed-up: where ``st.html`` cannot run scripts, nothing is sent."""
    sent = []

    def old_html(body, *, width="stretch"):  # st.html before unsafe_allow_javascript
        sent.append(body)

    monkeypatch.setattr(st, "html", old_html)
    layout._preload_html.cache_clear()  # decided once per process: decide again for this Streamlit
    try:
        layout.preload_charts()
    finally:
        layout._preload_html.cache_clear()
    assert sent == []


def test_no_page_loads_streamlits_emoji_catalogue_on_arrival():
    """Streamlit compiles a regular expression of every emoji (44 ms, on a fresh server's first
    visit) the first time an icon is an emoji, or an alert without an icon shows any non-ASCII
    text. The app's icons are Material icons, and the alerts a page shows on arrival have one."""
    code = f"""
import sys
from streamlit.testing.v1 import AppTest
for page in {[spec.file for spec in page_table.PAGES]!r}:
    at = AppTest.from_file({str(ROOT / 'app.py')!r}, default_timeout=90)
    at.switch_page(page)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    assert "streamlit.emojis" not in sys.modules, page
"""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert out.returncode == 0, out.stderr[-2000:]


def test_no_page_or_tab_imports_pandas():
    """Tables are Markdown: pandas (and pyarrow) cost a third of a second on a first visit, and a
    half-imported pandas seen by plotly's validators in another session's thread breaks figures."""
    code = f"""
import sys
from streamlit.testing.v1 import AppTest
tabs = {{"pages/1_landscape.py": ("ls_tab", ["3-D surface"]),
        "pages/5_linear_regression.py": ("lr_tab", None), "pages/6_logistic_regression.py": ("lg_tab", None),
        "pages/7_outer_products.py": ("op_tab", None)}}
for page in {[spec.file for spec in page_table.PAGES]!r}:
    at = AppTest.from_file({str(ROOT / 'app.py')!r}, default_timeout=90)
    at.switch_page(page)
    at.run()
    key, labels = tabs.get(page, (None, []))
    for label in labels if labels is not None else [t.label for t in at.tabs]:
        at.session_state[key] = label
        at.run()
    assert not at.exception, [e.value for e in at.exception]
print(sorted(m for m in ("pandas", "pyarrow") if m in sys.modules))
"""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.strip() == "[]"


def test_the_app_hands_the_gil_to_the_servers_event_loop_every_half_millisecond():
    """The event loop sends plotly.js (4.7 MB, in 64 kB pieces) while a first run computes, and
    waits for the GIL after each piece: 1.6-2.4 s at Python's default 5 ms, 0.2 s at 0.5 ms."""
    previous = sys.getswitchinterval()
    try:
        open_app()
        assert sys.getswitchinterval() == pytest.approx(0.0005)
    finally:
        sys.setswitchinterval(previous)


def test_under_a_server_the_first_element_skips_streamlits_repl_check():
    """The check walks every loaded module's file (50-60 ms before a first visit's preload)."""
    out = _run_python("""
from unittest import mock
import streamlit.delta_generator as dg, streamlit.env_util as env_util
with mock.patch("streamlit.runtime.exists", return_value=True):
    import hessian_explorer.ui.layout
with mock.patch.object(env_util, "is_repl", side_effect=AssertionError("the REPL check ran")):
    dg._maybe_print_use_warning()
print("ok")
""")
    assert out == "ok"


def test_without_a_server_streamlits_hint_to_use_streamlit_run_is_kept():
    out = _run_python("""
import streamlit.delta_generator as dg
import hessian_explorer.ui.layout
print(dg._use_warning_has_been_displayed)
""")
    assert out == "False"


def test_a_direct_first_visit_freezes_the_servers_heap_before_its_rerun():
    """Streamlit's full collection after the legacy run (30 ms) would hold up the rerun."""
    out = _run_python("""
import gc
from unittest import mock
import streamlit as st
from streamlit.runtime.pages_manager import PagesManager
from hessian_explorer.ui import layout
PagesManager.uses_pages_directory = True
before = gc.get_freeze_count()
with mock.patch.object(st, "rerun", side_effect=lambda: print(before, gc.get_freeze_count() > 0,
                                                             PagesManager.uses_pages_directory)):
    layout.ensure_entrypoint()
""")
    assert out == "0 True False"
