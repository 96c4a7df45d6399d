"""3. The app: server-side rerun time per page and preset, figure bytes per page, and the time
from ``streamlit run`` to every chart drawn in headless Chromium against a minimal app.

Reruns use Streamlit's ``AppTest`` in this process: open the app, switch to the page, pick the
preset (that first run fills the caches and is reported apart as "first visit"), then move x₀
back and forth between two values (``x0_0``), so every timed run redraws the page from warm
caches. Model pages have no preset; they are rerun as they are. Bytes are the plotly JSON the
page sends (the sum of ``len(spec)`` over its charts). A page that raises is reported as failed.

The browser measurement starts ``streamlit run`` (headless, a free local port) and opens the page
in Debian's Chromium through Playwright; the clock stops when the script is idle and every
plotly chart on the page has drawn its SVG (and stays so for a moment). The same is done for a
minimal app with one plotly chart, interleaved, so the ratio is fair to the machine's load.
"""

from __future__ import annotations

import json
import logging
import math
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

from benchmarks.report import Row, Section, fmt_against, fmt_ratio, markdown_table
from benchmarks.timing import fmt_time
from hessian_explorer.ui import page_table

__all__ = ["run", "Config", "PAGES"]

ROOT = Path(__file__).resolve().parents[1]
APP = ROOT / "app.py"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
# url path -> page file, from the table app.py builds its navigation from: the browser opens these
# paths, so a name that is not the app's url would measure its "page not found" detour.
PAGES = {spec.url_path: spec.file for spec in page_table.PAGES}
FUNCTION_PAGES = tuple(spec.url_path for spec in page_table.FUNCTION_PAGES)
TARGET_RERUN = 0.150
TARGET_START_RATIO = 1.3
HEAVY_BYTES = 1_000_000
MINIMAL_APP = '''import plotly.graph_objects as go
import streamlit as st

st.title("Minimal app")
st.plotly_chart(go.Figure(go.Scatter(x=[1, 2, 3], y=[1, 3, 2])), key="chart")
'''
IDLE_JS = """() => {
  const app = document.querySelector('[data-testid="stApp"]');
  const idle = !!app && app.getAttribute('data-test-connection-state') === 'CONNECTED'
               && app.getAttribute('data-test-script-state') === 'notRunning';
  const charts = Array.from(document.querySelectorAll('.js-plotly-plot, .hx-chart'));  // .hx-chart: charts.chart
  return [idle, charts.length, charts.filter(c => c.querySelector('.main-svg')).length,
          document.querySelectorAll('[data-testid="stException"]').length];
}"""


@dataclass(frozen=True)
class Config:
    pages: tuple[str, ...] = tuple(PAGES)
    presets: tuple[str, ...] = ()  # empty: every preset
    reps: int = 5  # timed reruns per page and preset
    model_reps: int = 8
    browser_rounds: int = 9  # cold starts per page: with 5, a page's ratio moved by ±0.1 between runs here
    browser_pages: tuple[str, ...] = tuple(PAGES)
    settle: float = 1.0  # seconds every chart must stay drawn before the clock's reading counts
    browser_budget: float = 840.0  # seconds: no new round of cold starts after this

    @classmethod
    def quick(cls) -> "Config":
        return cls(pages=("landscape",), presets=("rosenbrock",), reps=2, model_reps=2,
                   browser_rounds=1, browser_pages=(), settle=0.3)


@dataclass
class PageResult:
    page: str
    reruns: list[float] = field(default_factory=list)  # every timed warm rerun, all presets
    by_preset: dict[str, float] = field(default_factory=dict)  # preset -> median warm rerun
    first_visit: dict[str, float] = field(default_factory=dict)  # preset -> first (cold) run
    bytes_by_preset: dict[str, int] = field(default_factory=dict)
    charts: int = 0
    error: str | None = None


# -- server side: AppTest -------------------------------------------------------------------------
def _timed_run(at) -> float:
    start = time.perf_counter()
    at.run()
    return time.perf_counter() - start


def _check(at, what: str) -> None:
    if at.exception:
        raise RuntimeError(f"{what}: {at.exception[0].value}"[:300])


def _figure_bytes(at) -> tuple[int, int]:
    """The plotly JSON of the page's charts: st.plotly_chart's spec, the component's figure."""
    specs = [el.proto.spec for el in at.get("plotly_chart")]
    specs += [json.loads(el.proto.json)["figure"] for el in at.get("bidi_component")]
    return sum(map(len, specs)), len(specs)


def _bench_page(page: str, presets, cfg: Config) -> PageResult:
    from streamlit.testing.v1 import AppTest

    # AppTest drives the script from this (main) thread; Streamlit warns about it on every app.
    logging.getLogger("streamlit.runtime.scriptrunner_utils.script_run_context").setLevel(logging.ERROR)

    result = PageResult(page)
    try:
        at = AppTest.from_file(str(APP), default_timeout=180)
        at.run()
        _check(at, "opening the app")
        if page != "landscape":
            at.switch_page(PAGES[page])
            at.run()
            _check(at, f"opening {page}")
        if page in FUNCTION_PAGES:
            for preset in presets:
                at.sidebar.selectbox(key="preset").set_value(preset.key)
                result.first_visit[preset.key] = _timed_run(at)
                _check(at, f"{page} with {preset.key}")
                result.bytes_by_preset[preset.key], result.charts = _figure_bytes(at)
                x0 = at.sidebar.number_input(key="x0_0")
                values = (float(preset.point[0]) + 0.1, float(preset.point[0]))
                for value in values:  # visit both values once: caches warm from here on
                    x0.set_value(value)
                    at.run()
                times = []
                for r in range(cfg.reps):
                    at.sidebar.number_input(key="x0_0").set_value(values[r % 2])
                    times.append(_timed_run(at))
                    _check(at, f"{page} with {preset.key}")
                result.reruns += times
                result.by_preset[preset.key] = statistics.median(times)
        else:
            result.first_visit["–"] = _timed_run(at)
            _check(at, page)
            result.bytes_by_preset["–"], result.charts = _figure_bytes(at)
            times = [_timed_run(at) for _ in range(cfg.model_reps)]
            _check(at, page)
            result.reruns += times
            result.by_preset["–"] = statistics.median(times)
    except Exception as err:  # noqa: BLE001 - a page in progress must not stop the benchmark
        result.error = f"{type(err).__name__}: {err}"[:300]
    return result


def _p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, math.ceil(0.95 * len(ordered)) - 1)]


# -- browser: cold start to every chart drawn ----------------------------------------------------
def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _start_server(script: Path, log, env: dict[str, str] | None = None) -> tuple[subprocess.Popen, str]:
    port = _free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", str(script), "--server.headless", "true",
         "--server.port", str(port), "--server.address", "127.0.0.1", "--browser.gatherUsageStats", "false",
         "--server.fileWatcherType", "none"],
        cwd=script.parent, stdout=log, stderr=subprocess.STDOUT, env={**os.environ, "PYTHONUNBUFFERED": "1", **(env or {})},
    )
    return proc, f"http://127.0.0.1:{port}"


def _stop(proc: subprocess.Popen) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def _cold_start(browser, script: Path, path: str, settle: float, timeout: float = 120.0,
                env: dict[str, str] | None = None) -> float:
    """Seconds from launching ``streamlit run script`` (with ``env`` added to this process's
    environment) to every chart of ``/path`` drawn."""
    with tempfile.TemporaryFile() as log:
        start = time.perf_counter()
        proc, url = _start_server(script, log, env)
        context = browser.new_context(viewport={"width": 1600, "height": 1000})
        try:
            while True:  # the health check answers once the server listens
                if proc.poll() is not None or time.perf_counter() - start > timeout:
                    log.seek(0)
                    raise RuntimeError(f"streamlit did not start: {log.read().decode(errors='replace')[-300:]}")
                try:
                    if urllib.request.urlopen(f"{url}/_stcore/health", timeout=1).read() == b"ok":
                        break
                except OSError:
                    time.sleep(0.02)
            pg = context.new_page()
            pg.goto(f"{url}/{path}", wait_until="commit", timeout=timeout * 1000)
            drawn_at = None
            while time.perf_counter() - start < timeout:
                idle, charts, drawn, exceptions = pg.evaluate(IDLE_JS)
                now = time.perf_counter()
                if exceptions:
                    raise RuntimeError(f"/{path} shows an exception")
                if idle and charts >= 1 and drawn == charts:
                    drawn_at = drawn_at or now
                    if now - drawn_at >= settle:
                        if pg.get_by_text("Page not found").count():
                            raise RuntimeError(f"/{path} is not a page of the app")
                        return drawn_at - start
                else:
                    drawn_at = None
                pg.wait_for_timeout(25)
            raise RuntimeError(f"/{path}: charts not drawn within {timeout:.0f} s")
        finally:
            context.close()
            _stop(proc)


def paired_ratio(pairs: list[tuple[float, float]]) -> tuple[float, float, float]:
    """The median of the pairs' ratios ``page / minimal`` and the middle half of them (the first and
    third quartiles; the smallest and largest ratio with fewer than four pairs)."""
    ratios = sorted(a / b for a, b in pairs)
    if len(ratios) < 4:
        return statistics.median(ratios), ratios[0], ratios[-1]
    q1, q2, q3 = statistics.quantiles(ratios, n=4, method="inclusive")
    return q2, q1, q3


def _compile_bytecode(src: Path = ROOT / "src") -> None:
    """Cache the package's bytecode, as the reference app's libraries have theirs.

    Python writes ``__pycache__`` on a module's first import, and pip when it installs a package;
    with ``PYTHONDONTWRITEBYTECODE`` set (as on some CI machines) an editable install never gets it,
    and every cold start would compile the package's source again, which no deployed app does.
    """
    import compileall

    compileall.compile_dir(str(src), quiet=1)


def _browser_times(cfg: Config, pages: list[str]) -> tuple[dict[str, list[tuple[float, float]]], list[float],
                                                               dict[str, str]]:
    """Cold starts of each page, each paired with one of the minimal app just before or after it
    (the order alternates by round). Returns the pairs ``(page, minimal)`` per page, every minimal
    time, and the error of any page that failed."""
    from playwright.sync_api import sync_playwright

    pairs: dict[str, list[tuple[float, float]]] = {name: [] for name in pages}
    minimal_times: list[float] = []
    errors: dict[str, str] = {}
    _compile_bytecode()
    with tempfile.TemporaryDirectory() as tmp, sync_playwright() as p:
        minimal = Path(tmp) / "minimal_app.py"
        minimal.write_text(MINIMAL_APP, encoding="utf-8")
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        started = time.perf_counter()

        def timed(name: str) -> float | None:
            script, path = (minimal, "") if name == "minimal" else (APP, name)
            try:
                return _cold_start(browser, script, path, cfg.settle)
            except Exception as err:  # noqa: BLE001 - report the page, go on with the others
                errors[name] = f"{type(err).__name__}: {err}"[:300]
                return None

        try:
            for round_ in range(cfg.browser_rounds):
                if round_ and time.perf_counter() - started > cfg.browser_budget:
                    break
                for page in pages:
                    if page in errors or "minimal" in errors:
                        continue
                    order = ("minimal", page) if round_ % 2 == 0 else (page, "minimal")
                    got = {name: timed(name) for name in order}
                    if got["minimal"] is not None:
                        minimal_times.append(got["minimal"])
                        if got[page] is not None:
                            pairs[page].append((got[page], got["minimal"]))
        finally:
            browser.close()
    return pairs, minimal_times, errors


# -- the section ---------------------------------------------------------------------------------
def run(quick: bool = False, plots_dir: Path | None = None) -> Section:
    from hessian_explorer.presets import PRESETS

    cfg = Config.quick() if quick else Config()
    presets = [p for p in PRESETS if not cfg.presets or p.key in cfg.presets]
    section = Section("app", "3. The app")
    pages = [p for p in cfg.pages if (ROOT / PAGES[p]).exists()]
    results = [_bench_page(page, presets, cfg) for page in pages]

    rows, byte_rows = [], []
    for r in results:
        if r.error and not r.reruns:
            rows.append([r.page, f"**failed**: {r.error}", "–", "–", "–", "–"])
            section.rows.append(Row("app", f"rerun, page {r.page}", "failed", "–", "–",
                                    f"≤ {TARGET_RERUN * 1e3:.0f} ms", False))
            continue
        worst = max(r.by_preset, key=r.by_preset.get)
        median, p95 = statistics.median(r.reruns), _p95(r.reruns)
        rows.append([r.page, fmt_time(median), fmt_time(p95), f"{fmt_time(r.by_preset[worst])} ({worst})",
                     fmt_time(statistics.median(r.first_visit.values())),
                     "" if not r.error else f"**failed later**: {r.error}"])
        section.rows.append(Row("app", f"warm rerun, page {r.page}: median (95th pct {fmt_time(p95)}; worst preset "
                                f"{worst} {fmt_time(r.by_preset[worst])})", fmt_time(median), "–", "–",
                                f"≤ {TARGET_RERUN * 1e3:.0f} ms", median <= TARGET_RERUN and not r.error))
        heaviest = max(r.bytes_by_preset, key=r.bytes_by_preset.get)
        byte_rows.append([r.page, r.charts, f"{statistics.median(r.bytes_by_preset.values()) / 1e3:,.0f} kB",
                          f"{r.bytes_by_preset[heaviest] / 1e3:,.0f} kB ({heaviest})",
                          "**heavy**" if r.bytes_by_preset[heaviest] > HEAVY_BYTES else ""])
    section.details.append(
        f"Server-side rerun time with warm caches (AppTest; {cfg.reps} timed reruns per preset on function pages, "
        f"{cfg.model_reps} on model pages; x₀ alternates between two visited values). First visit: the run that "
        "picks the preset, with cold caches (median over presets).\n\n"
        + markdown_table(["page", "median", "95th pct", "worst preset (median)", "first visit", "note"], rows))
    section.details.append(
        "Figure data sent per page (sum of `len(spec)` of its plotly charts; the median and the heaviest preset):\n\n"
        + markdown_table(["page", "charts", "median", "heaviest", ""], byte_rows))
    for r in results:
        if r.bytes_by_preset:
            heaviest = max(r.bytes_by_preset, key=r.bytes_by_preset.get)
            ok = r.bytes_by_preset[heaviest] <= HEAVY_BYTES
            section.rows.append(Row("app", f"figure bytes, page {r.page} (heaviest: {heaviest})",
                                    f"{r.bytes_by_preset[heaviest] / 1e3:,.0f} kB", "–", "–", "≤ ~1 MB", ok))

    # Browser: cold start to every chart drawn, against the minimal app.
    browser_pages = [p for p in cfg.browser_pages if p in pages]
    if not os.path.exists(CHROMIUM):
        section.notes.append(f"Browser timing skipped: {CHROMIUM} is missing (install Debian's chromium).")
        return section
    pairs, minimal_times, errors = _browser_times(cfg, browser_pages)
    base = statistics.median(minimal_times) if minimal_times else math.nan
    brows = [["minimal app (one plotly chart)", fmt_time(base), "1.00×", "–", "–", errors.get("minimal", "")]]
    for page in browser_pages:
        if not pairs[page]:
            note = f"**failed**: {errors.get(page) or errors.get('minimal', 'no cold start')}"
            brows.append([page, "–", "–", "–", "–", note])
            section.rows.append(Row("app", f"browser: streamlit run → all charts drawn, /{page}", "failed",
                                    fmt_time(base), "–", f"≤ {TARGET_START_RATIO:g}×", False))
            continue
        t = statistics.median(a for a, _ in pairs[page])
        paired, low, high = paired_ratio(pairs[page])
        brows.append([page, fmt_time(t), fmt_against(paired, TARGET_START_RATIO), f"{fmt_ratio(low)} – {fmt_ratio(high)}",
                      fmt_ratio(t / base), errors.get(page, "")])
        section.rows.append(Row("app", f"browser: streamlit run → all charts drawn, /{page} (vs minimal app)",
                                fmt_time(t), fmt_time(base), fmt_against(paired, TARGET_START_RATIO),
                                f"≤ {TARGET_START_RATIO:g}×",
                                paired <= TARGET_START_RATIO))
    rounds = max((len(v) for v in pairs.values()), default=0)
    section.details.append(
        f"Time from `streamlit run` to every chart drawn in headless Chromium: {rounds} cold start(s) per page, "
        "each paired with a cold start of the minimal app just before or after it (the order alternates "
        f"by round; rounds stop after {cfg.browser_budget:.0f} s). The ratio is the median of the pairs' "
        "ratios: a shared machine's speed drifts within minutes, and a pair taken seconds apart cancels "
        "that drift, where one median against another does not. Beside it: the middle half of the pairs' "
        "ratios (first to third quartile), which shows how far one run's median can move, and the ratio of "
        "the medians. The package's bytecode is cached first, as Python and pip do outside a "
        "`PYTHONDONTWRITEBYTECODE` environment. "
        "A page counts the charts it draws on arrival (its first tab).\n\n"
        + markdown_table(["page", "time (median)", "vs minimal (median of pairs)", "middle half of the pairs",
                          "ratio of medians", "note"],
                         brows))
    return section


if __name__ == "__main__":  # handy for one page: python -m benchmarks.app
    print(json.dumps([r.__dict__ for r in [_bench_page("landscape", [], Config.quick())]], default=str))
