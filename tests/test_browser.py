"""The real app in a real browser: `streamlit run app.py` driven by headless Chromium.

Every page is opened in normal and presentation mode; each must finish running, draw all of its
charts and show no exception. Screenshots go to ``test-artifacts/screenshots/`` for people to
look at. Debian's Chromium is used through Playwright (no browser download).
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright import sync_api as playwright_errors

from browser_support import IDLE
from hessian_explorer.ui import charts, layout

ROOT = Path(__file__).resolve().parents[1]
ARTIFACTS = ROOT / "test-artifacts" / "screenshots"

# screenshot name -> (url path, minimum number of plotly charts the page draws at first, with its
# first tabs open); the default page (landscape) lives at the root.
PAGES = {"landscape": ("", 1), "hessian": ("hessian", 2), "curvature": ("curvature", 2),
         "misconception": ("misconception", 2), "linear_regression": ("linear_regression", 2),
         "logistic_regression": ("logistic_regression", 1), "outer_products": ("outer_products", 2)}

pytestmark = pytest.mark.browser


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1600, "height": 1000}, device_scale_factor=1)
    pg = context.new_page()
    yield pg
    context.close()


def wait_idle(pg, charts: int = 0, timeout: float = 60_000) -> None:
    """Wait until the app is connected, the script has finished and ``charts`` plots are drawn."""
    pg.wait_for_selector(IDLE, timeout=timeout)
    if charts:
        pg.wait_for_function(
            "n => document.querySelectorAll('.js-plotly-plot .main-svg').length >= n",
            arg=charts, timeout=timeout,
        )
    pg.wait_for_timeout(1500)  # let plotly finish its transitions before a screenshot
    pg.wait_for_selector(IDLE, timeout=timeout)


def assert_healthy(pg) -> None:
    assert pg.locator('[data-testid="stException"]').count() == 0, "a Python exception reached the page"
    assert "Traceback" not in pg.inner_text("body")


def metric_value(pg, label: str) -> str:
    metric = pg.locator('[data-testid="stMetric"]', has_text=label).first
    return metric.locator('[data-testid="stMetricValue"]').inner_text()


# Pages with charts that fit their reserved margins, and which charts (by the start of their
# title; "" is every chart). The others have legends under a chart whose rows depend on the
# function and the chart's width, which plotly still sizes itself.
ONE_DRAWING = {"hessian": ("",), "linear_regression": ("",), "logistic_regression": ("",),
               "curvature": ("f(x₀ + t v̂)",)}


@pytest.mark.parametrize("mode", ["normal", "presentation"])
@pytest.mark.parametrize("name", list(PAGES))
def test_page_draws_every_chart(server, page, name, mode):
    path, charts = PAGES[name]
    query = "p=himmelblau" + ("&pm=1" if mode == "presentation" else "")
    page.goto(f"{server}/{path}?{query}")
    wait_idle(page, charts=charts)
    assert_healthy(page)
    assert page.get_by_text("Page not found").count() == 0
    assert page.locator(".js-plotly-plot").count() >= charts
    # The session's preload and the charts share one copy of plotly.js's cartesian bundle, and
    # Streamlit's full plotly.js is not loaded at all (no chart on arrival needs it).
    fetched = page.evaluate("() => performance.getEntriesByType('resource').map(e => e.name.split('/').pop())")
    assert fetched.count("plotly-cartesian.min.js") == 1
    assert not [name for name in fetched if name.startswith("PlotlyChart.")]
    # A legend under a chart starts below its x-axis title (they collided in presentation mode):
    # no legend text may cover more than a quarter of the title's line.
    overlaps = page.evaluate("""() => [...document.querySelectorAll('.js-plotly-plot')].flatMap(plot => {
        const area = plot.querySelector('.nsewdrag');
        if (!area) return [];
        const bottom = area.getBoundingClientRect().bottom;
        const texts = [...plot.querySelectorAll('.legend .legendtext')].map(t => t.getBoundingClientRect())
            .filter(r => r.top > bottom);  // legends under the plot only
        return [...plot.querySelectorAll('.xtitle, .g-xtitle text')].map(t => t.getBoundingClientRect())
            .flatMap(t => texts.filter(r => r.left < t.right && r.right > t.left
                                            && Math.min(r.bottom, t.bottom) - Math.max(r.top, t.top) > 0.25 * t.height)
                .map(r => `${plot.querySelector('.gtitle')?.textContent || 'untitled chart'}: title ${t.top}-${t.bottom}, legend text from ${r.top}`));
    })""")
    assert not overlaps, f"legend over the x-axis title in {overlaps}"
    if name in ONE_DRAWING:
        # apply_theme reserved the margins these charts' labels, colour bars and legends need, so
        # plotly kept them (growing one would draw the chart a second time).
        grown = page.evaluate("""() => [...document.querySelectorAll('.js-plotly-plot')].flatMap(gd => {
            const m = gd._fullLayout.margin, s = gd._fullLayout._size;
            return ['l', 'r', 't', 'b'].filter(k => Math.abs(s[k] - m[k]) > 0.5)
                .map(k => `${gd._fullLayout.title.text || 'untitled chart'}: ${k} ${m[k]} -> ${s[k]}`);
        })""")
        grown = [g for g in grown if g.startswith(ONE_DRAWING[name])]
        assert not grown, f"plotly grew reserved margins: {grown}"
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}-{mode}.png"), full_page=True)
    # The page scrolls inside Streamlit's container, so the screenshot above shows its top only:
    # every chart also gets a picture of its own, for people to look at (without Streamlit's sticky
    # header, which would cover the top of a chart scrolled to the top of the window).
    # A chart taller than the window would come out blank where it is scrolled out of view (the page
    # scrolls inside a container), so the window grows to the tallest chart first.
    page.add_style_tag(content='[data-testid="stHeader"] { display: none !important; }')
    tallest = page.evaluate("() => Math.max(0, ...[...document.querySelectorAll('.js-plotly-plot')]"
                            ".map(e => e.getBoundingClientRect().height))")
    if tallest > 900:
        page.set_viewport_size({"width": 1600, "height": int(tallest) + 200})
        page.wait_for_timeout(500)
    for k, chart in enumerate(page.locator(".js-plotly-plot").all()):
        if not chart.is_visible():  # in a closed tab or expander
            continue
        chart.scroll_into_view_if_needed()
        chart.screenshot(path=str(ARTIFACTS / f"{name}-{mode}-chart{k + 1}.png"))


def test_charts_are_drawn_by_the_cartesian_bundle_and_follow_their_columns_width(server, page):
    """The bundle registers exactly the trace types ``charts`` sends it; a chart has the modebar of
    st.plotly_chart (no logo, a full-screen button) and is redrawn to its column's new width."""
    page.goto(f"{server}/hessian?p=himmelblau")
    wait_idle(page, charts=2)
    traces = page.evaluate("() => Object.keys(Plotly.PlotSchema.get().traces)")
    assert set(traces) == charts.BUNDLE_TRACES
    gd = page.locator(".js-plotly-plot").nth(1)  # the quadratic model's map
    gd.hover()
    assert gd.locator('.modebar-btn[data-title="Full screen"]').count() == 1
    assert gd.locator(".modebar-btn--logo").count() == 0
    before = gd.evaluate("gd => [gd.getBoundingClientRect().width, gd._fullLayout.width]")
    assert abs(before[0] - before[1]) < 1
    page.set_viewport_size({"width": 1200, "height": 1000})
    page.wait_for_function(f"() => {{ const gd = document.querySelectorAll('.js-plotly-plot')[1];"
                           f" return gd._fullLayout.width < {before[1] - 100}"
                           f" && Math.abs(gd.getBoundingClientRect().width - gd._fullLayout.width) < 1; }}",
                           timeout=10_000)
    assert_healthy(page)


def test_url_reopens_the_same_view(server, page):
    page.goto(f"{server}/?p=saddle&x0=0.25,-0.75")
    wait_idle(page, charts=1)
    assert metric_value(page, "f at x₀") == "-0.5"  # 0.25² − 0.75²
    assert re.search(r"x0=0\.25(%2C|,)-0\.75", page.url)


def test_clicking_the_map_moves_the_point(server, page):
    page.goto(f"{server}/?p=bowl&x0=1.0,0.5")
    wait_idle(page, charts=1)
    before = metric_value(page, "f at x₀")
    plot = page.locator(".js-plotly-plot").first
    drag = plot.locator(".nsewdrag").first
    box = drag.bounding_box()
    assert box is not None
    x, y = box["x"] + box["width"] * 0.25, box["y"] + box["height"] * 0.7
    changed = (
        "before => { const m = [...document.querySelectorAll('[data-testid=stMetric]')]"
        ".find(e => e.innerText.includes('f at x₀')); "
        "return m && !m.innerText.includes(before); }"
    )
    for attempt in range(4):  # on a loaded machine plotly may not be listening yet: click again
        page.mouse.move(x, y)
        page.wait_for_timeout(300)
        page.mouse.click(x, y)
        try:
            page.wait_for_function(changed, arg=before, timeout=10_000)
            break
        except playwright_errors.TimeoutError:
            if attempt == 3:
                raise
    wait_idle(page, charts=1)
    assert metric_value(page, "f at x₀") != before
    assert_healthy(page)
    page.screenshot(path=str(ARTIFACTS / "landscape-after-click.png"), full_page=True)


def test_clicking_the_rose_turns_the_direction(server, page):
    """The curvature rose is a dial: a click on its 180° spoke points v̂ along −x."""
    page.goto(f"{server}/curvature?p=saddle&a=30")
    wait_idle(page, charts=2)  # the slice and its map; the rose is in the second tab
    _open_tab(page, "All directions at once", charts=2)
    assert page.get_by_text("The same curvature against the angle").count() == 1
    # polar axes are not in the cartesian bundle: the rose is Streamlit's own plotly chart
    rose = page.locator('[data-testid="stPlotlyChart"]', has_text="click to turn").first
    rose.scroll_into_view_if_needed()
    # the dial's invisible markers are the chart's last trace: 72 directions (5° apart) per ring
    target = rose.locator(".scatterlayer .trace").last.locator(".point").nth(180 // 5 + 72)
    for attempt in range(4):  # on a loaded machine plotly may not be listening yet: click again
        box = target.bounding_box()
        assert box is not None
        x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
        page.mouse.move(x, y)
        page.wait_for_timeout(300)
        page.mouse.click(x, y)
        try:
            page.wait_for_function("() => /[?&]a=180\\.0(&|$)/.test(location.search)", timeout=10_000)
            break
        except playwright_errors.TimeoutError:
            if attempt == 3:
                raise
    wait_idle(page, charts=2)
    assert_healthy(page)
    rose.screenshot(path=str(ARTIFACTS / "curvature-after-dial-click.png"))


def test_refused_formula_keeps_last_function(server, page):
    page.goto(f"{server}/?f=x%5E2%20%2B%20y%5E2&x0=1,1")
    wait_idle(page, charts=1)
    assert metric_value(page, "f at x₀") == "2"
    box = page.locator('input[aria-label="f ="]')
    box.fill("__import__('os').system('echo pwned')")
    box.press("Enter")
    page.wait_for_selector("text=Not accepted", timeout=30_000)
    wait_idle(page, charts=1)
    assert metric_value(page, "f at x₀") == "2"
    assert_healthy(page)
    page.screenshot(path=str(ARTIFACTS / "landscape-refused-input.png"), full_page=True)


def test_a_fresh_servers_first_visit_goes_through_app_py_and_starts_loading_plotly(browser):
    """The benchmark's case: a new server, a visit straight to a page with a link's state. Streamlit
    runs the page file alone first (its legacy pages/ mode), which reruns at once through app.py
    (ensure_entrypoint): the page, its URL state and app.py's navigation must come through, and the
    preload must come from the second run, whose elements stay (the browser drops the first run's,
    often before drawing them, and the preload's script then never ran)."""
    from browser_support import streamlit_server

    context = browser.new_context(viewport={"width": 1600, "height": 1000})
    try:
        with streamlit_server("first-visit") as url:
            pg = context.new_page()
            pg.goto(f"{url}/hessian?p=saddle&x0=0.25,-0.75")
            wait_idle(pg, charts=2)
            assert_healthy(pg)
            assert pg.get_by_text("Page not found").count() == 0
            assert pg.locator("h1").first.inner_text().startswith("The Hessian at x")
            assert metric_value(pg, "f at x₀") == "-0.5"  # 0.25² − 0.75²
            assert re.search(r"/hessian\?p=saddle&x0=0\.25(%2C|,)-0\.75", pg.url)
            assert pg.locator('[data-testid="stSidebarNav"] a').count() == len(PAGES)  # app.py's navigation
            assert pg.locator("#hx-preload").count() == 1, "the preload is not among the elements drawn"
            fetched = pg.evaluate("() => performance.getEntriesByType('resource').map(e => e.name.split('/').pop())")
            assert fetched.count("plotly-cartesian.min.js") == 1
            assert set(layout._chunk_modules("BidiComponent")) <= set(fetched)
    finally:
        context.close()


def test_a_link_to_the_default_pages_own_path_opens_it_on_a_warm_server(server, page):
    """Streamlit serves the default page at "/" only: once a server had switched to app.py's
    navigation, "/landscape" (the path a fresh server answers, and a link a student may copy) showed
    "Page not found". It now opens the landscape at "/" with the link's state, marked in the menu."""
    page.goto(f"{server}/hessian")  # the server is warm (in app.py's navigation) whatever ran before
    wait_idle(page, charts=2)
    page.goto(f"{server}/landscape?p=himmelblau&x0=1,2")
    wait_idle(page, charts=1)
    assert_healthy(page)
    assert page.get_by_text("Page not found").count() == 0
    assert page.locator("h1").first.inner_text() == "Landscape and gradient field"
    assert metric_value(page, "f at x₀") == "68"  # (1² + 2 − 11)² + (1 + 2² − 7)² = 64 + 4
    assert re.search(r"/\?p=himmelblau&x0=1\.0(%2C|,)2\.0", page.url)
    nav = page.locator('[data-testid="stSidebarNav"] a')
    assert nav.count() == len(PAGES)  # the alias is hidden
    assert nav.first.get_attribute("aria-current") == "page"


def test_the_first_run_and_a_rerun_have_the_same_layout(server, page):
    """The first run's chart-library preload takes no room: nothing moves when it goes away."""
    # Every session's first run shows the (hidden) preload until its next rerun.
    page.goto(f"{server}/")
    wait_idle(page, charts=1)
    page.goto(f"{server}/hessian?p=himmelblau")
    wait_idle(page, charts=2)
    title = page.locator("h1").first
    before = title.bounding_box()["y"]
    assert page.locator('[data-testid="stHtml"]').count() == 1  # the preload, on the first run only
    page.keyboard.press("r")  # Streamlit's rerun shortcut
    page.wait_for_function("() => !document.querySelector('[data-testid=\"stHtml\"]')", timeout=60_000)
    wait_idle(page, charts=2)
    assert title.bounding_box()["y"] == before


def _open_tab(page, label: str, charts: int) -> None:
    page.get_by_role("tab", name=label).click()
    page.wait_for_function("([label, n]) => [...document.querySelectorAll('[role=tab][aria-selected=true]')]"
                           ".some(t => t.innerText.includes(label))"
                           " && document.querySelectorAll('.js-plotly-plot .main-svg').length >= n",
                           arg=[label, charts], timeout=60_000)
    wait_idle(page, charts=charts)
    assert_healthy(page)


def test_the_3d_surface_is_drawn_when_its_tab_is_opened(server, page):
    page.goto(f"{server}/?p=himmelblau")
    wait_idle(page, charts=1)
    assert page.locator(".js-plotly-plot").count() == 1  # the map only: no WebGL on a first visit
    _open_tab(page, "3-D surface", charts=2)
    surface = page.locator('[data-testid="stPlotlyChart"]').first  # WebGL: Streamlit's full plotly.js
    assert surface.locator(".gl-container canvas").count() >= 1
    titles = surface.locator(".gl-container").evaluate("e => e.closest('.js-plotly-plot').layout.scene.zaxis.title.text")
    assert titles == "f"
    surface.screenshot(path=str(ARTIFACTS / "landscape-3d-tab.png"))
    page.screenshot(path=str(ARTIFACTS / "landscape-3d-tab-page.png"), full_page=True)


def test_every_tab_of_the_outer_products_page_draws_its_charts(server, page):
    page.goto(f"{server}/outer_products")
    wait_idle(page, charts=2)
    # The arrows are path shapes (layer "below"); their legend entry hides and shows them all.
    fields = page.locator(".js-plotly-plot").nth(1)
    arrows = "g => g.querySelectorAll('.shapelayer path').length"
    assert fields.evaluate(arrows) == 9  # contours, shafts and heads in three panels
    entry = fields.locator(".legendtoggle").first  # "update direction"
    entry.click(force=True)
    page.wait_for_function("() => document.querySelectorAll('.js-plotly-plot')[1]"
                           ".querySelectorAll('.shapelayer path').length === 3", timeout=10_000)
    entry.click(force=True)
    page.wait_for_function("() => document.querySelectorAll('.js-plotly-plot')[1]"
                           ".querySelectorAll('.shapelayer path').length === 9", timeout=10_000)
    sidebar = page.locator('[data-testid="stSidebar"]')
    for label, charts, control in [("② Fisher identity", 2, "label draws n"),
                                   ("③ EF and Gauss–Newton", 3, "evaluate at a")]:
        _open_tab(page, label, charts)
        assert page.locator(".js-plotly-plot").count() == charts
        assert sidebar.get_by_text(control).count() == 1 and sidebar.get_by_text("data points N").count() == 0
        page.screenshot(path=str(ARTIFACTS / f"outer_products-tab{label[0]}.png"), full_page=True)


def test_the_misconception_tabs_draw_their_chart_when_opened(server, page):
    page.goto(f"{server}/misconception?p=saddle")
    wait_idle(page, charts=2)
    assert page.locator(".js-plotly-plot").count() == 2  # the two heatmaps; the entries tab is open
    assert page.locator(".katex").count() >= 1
    for label, name in [("Curvature in every direction", "curvature"), ("Newton's method with each", "newton")]:
        _open_tab(page, label, charts=3)
        assert page.locator(".js-plotly-plot").count() == 3
        page.screenshot(path=str(ARTIFACTS / f"misconception-tab-{name}.png"), full_page=True)
    chart = page.locator(".js-plotly-plot").nth(2)
    assert chart.evaluate("gd => gd.data.some(t => t.name === 'Newton with H')")
    chart.scroll_into_view_if_needed()
    page.screenshot(path=str(ARTIFACTS / "misconception-tab-newton-map.png"))


def test_the_hessian_curvature_type_map_is_drawn_when_its_tab_is_opened(server, page):
    page.goto(f"{server}/hessian?p=double_well")
    wait_idle(page, charts=2)
    assert page.locator(".js-plotly-plot").count() == 2  # the heatmap and the quadratic model
    _open_tab(page, "Where f is convex, concave or saddle-shaped", charts=2)
    chart = page.locator(".js-plotly-plot").nth(1)
    assert chart.evaluate("gd => gd.layout.title.text").startswith("Curvature type")
    chart.scroll_into_view_if_needed()
    page.screenshot(path=str(ARTIFACTS / "hessian-tab-curvature-type.png"))


def test_the_hessian_export_opens_with_its_code(server, page):
    page.goto(f"{server}/hessian?p=himmelblau")
    wait_idle(page, charts=2)
    assert page.locator('[data-testid="stCode"]').count() == 0  # collapsed: nothing of it runs
    page.get_by_text("Export: H and ∇f∇fᵀ").click()
    page.wait_for_selector('[data-testid="stCode"]', timeout=60_000)
    wait_idle(page, charts=2)
    assert_healthy(page)
    assert page.locator('[data-testid="stCode"]').count() == 3
    assert "parse_function" in page.locator('[data-testid="stCode"]').nth(2).inner_text()
