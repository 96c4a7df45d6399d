"""Fuzzing: valid and hostile input through the parser, and through every page of the app.

Two layers, both property-based (hypothesis):

- the parser (``parse_expression``): thousands of generated formulas and hostile strings (dunder
  walks, ``__import__``, lambdas, attribute access, format strings, giant powers, deep nesting, huge
  and confusable text, HTML and markdown injection). Each case either parses or raises
  ``ExpressionError``, within 1 s of CPU, and nothing is executed while it runs: ``eval``,
  ``exec``, ``compile``, ``os.system``, ``subprocess.Popen`` and any import of a new module
  fail the test.
- the app (AppTest): every page listed in ``app.py``, fed hostile text and numbers through its
  widgets (the sidebar's formula box and point on function pages; whatever text and number inputs
  a model page has) and through the query string (``f``, ``x0``, ``xr``, ``a``, ``v``). No
  exception escapes, no traceback is shown, no payload ran (it would have created a marker file),
  and no user text ends up in an element that renders raw HTML (``st.html`` or markdown with
  ``unsafe_allow_html``).

The heavy tests are marked ``slow`` (CI still runs them); ``CI=1`` loads the derandomized
hypothesis profile from ``conftest.py``.
"""

from __future__ import annotations

import builtins
import contextlib
import os
import random
import re
import signal
import sys
import tempfile
import time
from pathlib import Path
from unittest import mock

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from streamlit.testing.v1 import AppTest

from apptest_support import walk
from hessian_explorer.parsing import FUNCTIONS, ExpressionError, parse_expression
from hessian_explorer.ui import charts, layout, page_table

ROOT = Path(__file__).resolve().parents[1]
APP = ROOT / "app.py"
PAGES = [spec.file for spec in page_table.PAGES]
CPU_LIMIT = 1.0  # seconds of CPU for one parse

# A payload that would create this file if anything ever executed it.
MARKER = Path(tempfile.gettempdir()) / f"hessian-explorer-fuzz-{os.getpid()}"
TOUCH = f"touch {MARKER}"

PAYLOADS = [
    # code execution and introspection
    f"__import__('os').system('{TOUCH}')", "__import__('subprocess').Popen(['id'])",
    "().__class__.__bases__[0].__subclasses__()", "x.__class__.__mro__[1].__subclasses__()",
    "sin.__globals__['__builtins__']['eval']('1')", "getattr(x, '__class__')", "x.__dict__", "x.real",
    "sin.func", "__builtins__", "open('/etc/passwd').read()", "globals()", "vars()", "breakpoint()",
    f"exec(\"import os; os.system('{TOUCH}')\")", "eval('1+1')", "compile('1', '', 'eval')",
    "lambda: 0", "(lambda x: x)(1)", "[c for c in ().__class__.__base__.__subclasses__()]",
    "x if x else y", "x := 1", "x; import os", "x\nimport os", "x # comment",
    # format strings and template tricks
    'f"{x}"', "'{0.__class__}'.format(x)", "'%s' % x", "x % 2", "%(x)s", "{}", "{x: 1}", "{x}", "[x]",
    "x[0]", "${7*7}", "{{7*7}}", "#{7*7}", "`id`", "$(id)", "x | id", "x && id", "x\\ y",
    # work bombs
    "9^9^9^9", "10^(10^10)", "2**99999999", "x^1e308", "(x+1)^1000", "x^(10^100)", "1e999999",
    "x^1000^1000", "exp(exp(exp(exp(exp(x)))))", "(x+y+z)^999", "sin(x)^999*cos(y)^999", "9" * 1200,
    "x" + "+x" * 600, "(" * 300 + "x" + ")" * 300, "sin(" * 60 + "x" + ")" * 60, "-" * 800 + "x",
    "log(" * 45 + "x" + ")" * 45, "x^" * 400 + "2",
    # markup injection
    "<script>alert(1)</script>", "<img src=x onerror=alert(1)>", "[x](javascript:alert(1))",
    "![x](https://example.invalid/x.png)", "<b>x</b>^2", "<style>body{display:none}</style>", "&lt;x&gt;",
    "**x**", "`x`", "$x$", "\\input{/etc/passwd}", "\\def\\x{y}", "\\href{javascript:alert(1)}{x}",
    "\\frac{" * 50 + "x" + "}{y}" * 50, "\\sqrt[3]{x}", "\\begin{matrix}x\\end{matrix}",
    # unicode confusables and control characters
    "ｘ^2 + ｙ", "х^2 + у", "x\u200b^2", "\u202ex^2", "x\u0301^2", "𝑥^2", "ⅹ", "x\x00y", "x\x1b[31m",
    "\ufeffx", "x\u2028y", "x\u00a0y", "ℯ^x", "∞", "√x", "x²³", "x⁻¹",
]

# The only scripts the app may send, byte for byte: the chart library's preload
# (hessian_explorer.ui.layout.preload_charts) and the chart component's code (ui.charts).
PRELOAD = layout._preload_html(charts.static_serving())
SCRIPTING = re.compile(r"<\s*(script|img|iframe)\b|javascript:|onerror\s*=", re.IGNORECASE)


# -- strategies ----------------------------------------------------------------------------------

VARIABLES = ("x", "y", "z", "w", "θ")
_numbers = st.one_of(st.integers(0, 60).map(str),
                     st.floats(0, 100, allow_nan=False).map(lambda v: f"{v:.3g}"),
                     st.sampled_from(["pi", "e", "π", "1e-3", "2.5e2", ".5"]))
_atoms = st.one_of(st.sampled_from(VARIABLES), _numbers)


def _combine(children):
    binary = st.tuples(children, st.sampled_from(["+", "-", "*", "/", "^", "**", " ", "·", "−"]), children)
    return st.one_of(
        binary.map(lambda t: f"({t[0]}){t[1]}({t[2]})"),
        binary.map(lambda t: f"{t[0]} {t[1]} {t[2]}"),
        st.tuples(st.sampled_from(sorted(FUNCTIONS)), children).map(lambda t: f"{t[0]}({t[1]})"),
        st.tuples(_numbers, children).map(lambda t: f"{t[0]}({t[1]})"),  # 3(x+1)
        children.map(lambda c: f"-{c}"),
        st.tuples(children, st.integers(2, 4)).map(lambda t: f"({t[0]})^{t[1]}"),
    )


valid_formulas = st.recursive(_atoms, _combine, max_leaves=12)
payloads = st.sampled_from(PAYLOADS)
hostile_text = st.one_of(
    payloads,
    st.tuples(valid_formulas, st.sampled_from(["", " ", "+", "*", ";", ".", "\n", ","]), payloads)
    .map(lambda t: "".join(t)),
    st.tuples(payloads, st.integers(0, 40), valid_formulas)  # a payload inside a formula
    .map(lambda t: t[2][: t[1]] + t[0] + t[2][t[1]:]),
    st.lists(payloads, min_size=2, max_size=4).map("".join),
    st.text(max_size=200),
    st.text(alphabet=st.characters(codec="utf-8"), min_size=1000, max_size=1300),  # over the limit
)


# -- the parser ----------------------------------------------------------------------------------

DANGEROUS_MODULES = {"os", "sys", "subprocess", "builtins", "importlib", "shutil", "socket", "pty", "ctypes",
                     "pickle", "marshal", "code", "codeop", "runpy", "posix", "io", "pathlib", "multiprocessing"}


@contextlib.contextmanager
def nothing_executed(text: str = ""):
    """Fail if user text could have been run: ``eval``/``exec``/``compile`` called by our own code
    or on source that contains ``text``, a shell, a new process, or an import asked for by code
    that is not a library module's own (such as code built from a string) of a module that can
    reach the system.

    Libraries may use ``exec`` on their own templates (sympy generates monomial code that way,
    and the import system executes every module it loads): those calls are let through.
    """
    calls: list[str] = []
    needle = text.strip() if len(text.strip()) >= 4 else None

    def trap(name, real=None):
        def called(*args, **kwargs):
            caller = sys._getframe(1).f_globals.get("__name__", "")
            source = args[0] if args else ""
            source = source.decode(errors="replace") if isinstance(source, bytes) else source
            ours = caller.startswith("hessian_explorer") or caller == __name__
            if real is None or ours or (needle and isinstance(source, str) and needle in source):
                calls.append(f"{name} from {caller or '?'}")
                raise AssertionError(f"{name} was called from {caller or '?'}")
            return real(*args, **kwargs)
        return called

    real_import = builtins.__import__

    def guarded_import(name, globals=None, locals=None, fromlist=(), level=0):
        caller = sys.modules.get((globals or {}).get("__name__", ""))
        if name.partition(".")[0] in DANGEROUS_MODULES and getattr(caller, "__file__", None) is None:
            calls.append(f"import {name}")  # asked for by code that is no library's own
        return real_import(name, globals, locals, fromlist, level)

    with mock.patch.multiple(builtins, eval=trap("eval", builtins.eval), exec=trap("exec", builtins.exec),
                             compile=trap("compile", builtins.compile), __import__=guarded_import), \
            mock.patch("os.system", trap("os.system")), mock.patch("os.popen", trap("os.popen")), \
            mock.patch("subprocess.Popen", trap("subprocess.Popen")):
        yield calls
    assert not calls, f"something was executed: {calls}"


@pytest.fixture(scope="module", autouse=True)
def _warm_parser():
    """Parse a little of everything first (sympy's first calls are slow and import lazily)."""
    for text in ["x^2 + 3x y - sin(x) cos(y) + exp(-x)/sqrt(1+y^2) + log(2, x) + abs(x) + tanh(x)",
                 "sigmoid(x) + softplus(y) + asin(x) + acos(x) + atan(x) + sinh(x) + cosh(x) + tan(x)",
                 "\\frac{x^2}{y} + \\sin(xy) + \\sqrt{x} + \\pi + \\theta", "1.5e-3 x + 2^3^2 + (x+1)^-2",
                 "x²·y³ − π", "ln(x) + arctan(y) + e^(x y)"]:
        parse_expression(text)
    for text in PAYLOADS:
        with contextlib.suppress(ExpressionError):
            parse_expression(text)


class ParseTooSlow(Exception):
    pass


@contextlib.contextmanager
def cpu_limit(seconds: float):
    """Interrupt the block after ``seconds`` of CPU time (SIGPROF), so a runaway parse fails the
    test at once instead of hanging it. Main thread only, which is where pytest runs tests."""
    def stop(signum, frame):
        raise ParseTooSlow
    previous = signal.signal(signal.SIGPROF, stop)
    signal.setitimer(signal.ITIMER_PROF, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_PROF, 0)
        signal.signal(signal.SIGPROF, previous)


def check_parse(text: str):
    """Parse ``text`` under the traps; return the result or ``None`` if refused (properly)."""
    start = time.thread_time()
    with nothing_executed(text):
        try:
            with cpu_limit(3 * CPU_LIMIT):
                result = parse_expression(text)
        except ExpressionError as err:
            assert str(err), "a refusal must say why"
            result = None
        except ParseTooSlow:
            pytest.fail(f"parsing was still running after {3 * CPU_LIMIT:g} s of CPU: {text[:80]!r}")
    used = time.thread_time() - start
    assert used < CPU_LIMIT, f"parsing took {used:.2f} s of CPU: {text[:80]!r}"
    assert not MARKER.exists(), "a payload ran"
    return result


@pytest.mark.slow
@settings(max_examples=1200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(text=valid_formulas)
@example(text="x^2 + 3x y")
@example(text="-2.5e2(4.84e-287 ** 4.92e-294)")  # found by this test: exact rational power with a huge root
def test_generated_formulas_parse_or_are_refused_cleanly(text):
    result = check_parse(text)
    if result is not None:
        expr, symbols = result
        assert {s.name for s in symbols} <= set(VARIABLES)
        assert expr.free_symbols <= set(symbols)


@pytest.mark.slow
@settings(max_examples=2000, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(text=hostile_text)
@example(text=f"__import__('os').system('{TOUCH}')")
@example(text="<script>alert(1)</script>")
@example(text="[x](javascript:alert(1))")
def test_hostile_text_is_refused_or_harmless(text):
    check_hostile(text)


@pytest.mark.parametrize("text", PAYLOADS)
def test_every_payload_is_refused_or_harmless(text):
    """The hand-written payloads one by one (fast; not marked slow)."""
    check_hostile(text)


def check_hostile(text: str) -> None:
    result = check_parse(text)
    if result is not None:  # accepted: then it is only a formula in plain variable names
        expr, symbols = result
        assert all(re.fullmatch(r"[A-Za-z\u0391-\u03C9][A-Za-z0-9_\u0391-\u03C9]*", s.name) for s in symbols), symbols
        assert expr.free_symbols <= set(symbols)


def test_the_traps_catch_execution():
    """The guard itself works: it catches eval, a shell, and an import from code built from text."""
    for attempt in (lambda: eval("1"), lambda: exec("x = 1"), lambda: os.system("true"),
                    lambda: builtins.__import__("os", {"__name__": "<user text>"})):
        with pytest.raises(AssertionError):
            with nothing_executed("x = 1"):
                with contextlib.suppress(ImportError):
                    attempt()


# -- the app -------------------------------------------------------------------------------------

def _raw_html_bodies(at: AppTest) -> list[str]:
    """Bodies of every element that renders raw HTML: st.html, and markdown with allow_html."""
    bodies = []
    for node in walk(at._tree):
        proto = getattr(node, "proto", None)
        if proto is None:
            continue
        if getattr(node, "type", None) == "html" or type(proto).__name__ == "Html":
            bodies.append(getattr(proto, "body", ""))
        elif getattr(proto, "allow_html", False) or getattr(proto, "unsafe_allow_html", False):
            bodies.append(getattr(proto, "body", ""))
    return bodies


def _texts(at: AppTest) -> list[str]:
    texts = []
    for node in walk(at._tree):
        value = getattr(node, "value", None) if getattr(node, "type", None) not in ("plotly_chart", "bidi_component",
                                                                                  "arrow_data_frame") else None
        if isinstance(value, str):
            texts.append(value)
        body = getattr(getattr(node, "proto", None), "body", None)
        if isinstance(body, str):
            texts.append(body)
    return texts


def assert_safe(at: AppTest, fuzzed: list[str]) -> None:
    """No exception, no traceback, no payload run, no fuzzed text inside raw HTML."""
    assert not at.exception, [e.value for e in at.exception]
    for text in _texts(at):
        assert "Traceback (most recent call last)" not in text, text[:500]
    assert not MARKER.exists(), "a payload ran"
    for node in walk(at._tree):
        if getattr(node, "type", None) == "bidi_component":  # a chart: our fixed code, the figure as data
            assert (node.proto.js_content, node.proto.html_content) == (charts.COMPONENT_JS, "")
    for body in _raw_html_bodies(at):
        if body == PRELOAD:  # the app's one script: a fixed text, the chart library's preload
            continue
        assert not SCRIPTING.search(body), body[:300]
        for text in fuzzed:
            if len(text.strip()) >= 6:
                assert text not in body, f"user text {text[:60]!r} was rendered as raw HTML"


def _app(query: dict | None = None) -> AppTest:
    at = AppTest.from_file(str(APP), default_timeout=90)
    if query:
        at.query_params.update(query)
    return at


def _open(page: str, query: dict | None = None) -> AppTest:
    at = _app(query).run()
    if page != PAGES[0]:
        at.switch_page(page).run()
    return at


def _key(widget) -> str:
    return getattr(widget, "key", None) or ""


def _widgets(at: AppTest, kind: str):
    return [w for w in getattr(at, kind) if _key(w) and not _key(w).startswith("$$")]


def _is_function_page(at: AppTest) -> bool:
    return any(_key(r) == "source" for r in at.sidebar.radio)


extreme_numbers = st.one_of(st.floats(-1e6, 1e6, allow_nan=False), st.sampled_from([0.0, -0.0, 1e-300, 1e6, -1e6, 123456.789]),
                    st.floats(allow_nan=False, allow_infinity=False))


def _number_in_bounds(widget, value: float) -> float:
    lo, hi = getattr(widget, "min", None), getattr(widget, "max", None)
    if lo is not None and value < lo:
        value = lo
    if hi is not None and value > hi:
        value = hi
    return value


def _fuzz_page(at: AppTest, data, texts: list[str]) -> None:
    """Function pages: hostile formulas in the sidebar's box and extreme points. Model pages: a few
    random actions on any of their widgets (hostile text, extreme numbers, every option)."""
    if _is_function_page(at):
        at.sidebar.radio(key="source").set_value("Type your own").run()
        assert_safe(at, texts)
        text = data.draw(hostile_text | valid_formulas, label="formula")
        texts.append(text)
        at.sidebar.text_input(key="fn_text").set_value(text[:1000]).run()  # the box has max_chars=1000
        assert_safe(at, texts)
        x = data.draw(extreme_numbers, label="x0_0")
        at.sidebar.number_input(key="x0_0").set_value(x).run()
        assert_safe(at, texts)
        return
    # Model pages: a few random actions on any of their widgets. What to do is drawn up front
    # (widget number, seed), so hypothesis sees the same draws whatever the page shows.
    actions = data.draw(st.lists(st.tuples(st.integers(0, 999), st.integers(0, 2**32)), min_size=1, max_size=3),
                        label="actions")
    for index, seed in actions:
        widgets = [w for kind in WIDGET_KINDS for w in _widgets(at, kind)]
        if not widgets:
            return
        widget = widgets[index % len(widgets)]
        rnd = random.Random(seed)
        if type(widget).__name__ == "Selectbox" and widget.options:
            widget.select_index(rnd.randrange(len(widget.options)))  # AppTest lists options formatted
        else:
            value = _value_for(widget, rnd)
            if isinstance(value, str):
                texts.append(value)
            widget.set_value(value)
        try:
            at.run()
        except ValueError:  # AppTest could not map a formatted option back to its value: not the app's fault
            return
        assert_safe(at, texts)


WIDGET_KINDS = ("text_input", "text_area", "number_input", "slider", "select_slider", "selectbox", "radio",
                "checkbox", "toggle", "multiselect")


EXTREMES = (0.0, -0.0, 1e-300, -1e-300, 1e6, -1e6, 1e300, -1e300, 123456.789, 2.0**53)


def _value_for(widget, rnd: random.Random):
    """A value this widget could send: hostile text, an extreme number, or any of its options."""
    kind = type(widget).__name__
    if kind in ("TextInput", "TextArea"):
        return rnd.choice(PAYLOADS)[: getattr(widget, "max_chars", None) or 5000]
    if kind in ("Checkbox", "Toggle"):
        return rnd.random() < 0.5
    if kind in ("Selectbox", "Radio", "SelectSlider"):
        return rnd.choice(list(widget.options)) if widget.options else widget.value
    if kind == "Multiselect":
        return rnd.sample(list(widget.options), rnd.randint(0, len(widget.options)))
    if kind == "Slider":
        if isinstance(widget.value, (tuple, list)):
            return widget.value
        lo, hi = widget.min, widget.max
        if isinstance(widget.value, int) and isinstance(lo, int):
            return rnd.choice([lo, hi, rnd.randint(lo, hi)])
        return rnd.choice([lo, hi, rnd.uniform(lo, hi)])
    if kind == "NumberInput":
        value = rnd.choice(EXTREMES + (rnd.uniform(-1e3, 1e3),))
        value = _number_in_bounds(widget, value)
        return int(max(min(value, 2**31), -(2**31))) if isinstance(widget.value, int) else value
    return widget.value


@pytest.mark.slow
@pytest.mark.parametrize("page", PAGES)
@settings(max_examples=4, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_every_page_survives_hostile_widgets(page, data):
    at = _open(page)
    texts: list[str] = []
    assert_safe(at, texts)
    _fuzz_page(at, data, texts)


def _coordinates(n: int):
    return st.lists(extreme_numbers.map(repr), min_size=n, max_size=n).map(",".join)


query_values = {
    "f": hostile_text | valid_formulas,
    "x0": st.one_of(_coordinates(2), _coordinates(3), st.text(max_size=40), st.just("nan,inf")),
    "xr": st.one_of(_coordinates(2), st.text(max_size=40), st.just("5,1")),
    "a": st.one_of(extreme_numbers.map(repr), st.text(max_size=20), st.just("1e309")),
    "v": st.one_of(_coordinates(2), _coordinates(3), st.just("0,0"), st.text(max_size=40)),
}


@pytest.mark.slow
@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(page=st.sampled_from(PAGES),
       query=st.fixed_dictionaries({}, optional=query_values).filter(bool))
@example(page=PAGES[0], query={"f": "<script>alert(1)</script>", "x0": "1e309,0"})
@example(page=PAGES[-1], query={"f": f"__import__('os').system('{TOUCH}')", "v": "0,0"})
def test_every_page_survives_hostile_links(page, query):
    at = _open(page, query)
    assert_safe(at, list(query.values()))


def test_pages_are_found():
    """The page list is the table app.py navigates (a page missing from it would not be fuzzed)."""
    assert len(PAGES) >= 4 and all((ROOT / p).exists() for p in PAGES), PAGES
    assert sorted(PAGES) == sorted(str(p.relative_to(ROOT)) for p in (ROOT / "pages").glob("*.py"))


def test_the_html_check_sees_raw_html():
    """The raw-HTML detector finds presentation mode's st.html (so it would find user text there)."""
    at = _app({"p": "bowl", "pm": "1"}).run()
    assert not at.exception
    assert any("<style>" in body for body in _raw_html_bodies(at))
