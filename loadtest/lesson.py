"""The scripted lesson one simulated student works through, and how each step is timed.

A step is one user action (press Enter in a number box or the formula box, click a radio option
or a page link) followed by a wait until the app is idle again *and* the expected change is on
screen. Its latency is the time from the action to that moment: idle alone is not enough, since
the app is still idle in the instant before the server has started the rerun.
"""

from __future__ import annotations

import random
import time
from dataclasses import dataclass
from typing import Awaitable, Callable

from playwright.async_api import Page

IDLE = '[data-testid="stApp"][data-test-connection-state="CONNECTED"][data-test-script-state="notRunning"]'
F_AT_X0 = "f at x₀"
OPEN = "open a preset"  # a page load, not an interaction: reported apart

# Presets whose value changes visibly when x₀ moves (one per session, in turn).
PRESETS = ("bowl", "rotated", "saddle", "himmelblau", "rosenbrock", "gaussian", "sincos", "double_well",
           "cubic", "elongated")

# Page -> (its URL path, the title it shows: the expected change after clicking its link).
# The landscape page is the default page, which Streamlit serves at "/" (a link to "/landscape" is
# sent there, one run later: app.py).
PAGES = {"landscape": ("", "Landscape and gradient field"), "hessian": ("hessian", "The Hessian at x₀"),
         "curvature": ("curvature", "Curvature along a direction"),
         "misconception": ("misconception", "H vs ∇f∇fᵀ, side by side")}

# One formula everybody in the class types (a shared cache hit after the first student).
SHARED_FORMULA = "x^4 - 2x^2 + x y + y^2"

_METRIC_CHANGED = """([idle, label, before]) => {
  if (!document.querySelector(idle)) return false;
  const m = [...document.querySelectorAll('[data-testid="stMetric"]')].find(e => e.innerText.includes(label));
  const v = m && m.querySelector('[data-testid="stMetricValue"]');
  return !!v && v.innerText !== before;
}"""
_ANSWERED = """([idle, label, before]) => {
  if (!document.querySelector(idle)) return false;
  if ([...document.querySelectorAll('[data-testid="stAlert"]')].some(e => e.innerText.includes('Not accepted'))) return true;
  const m = [...document.querySelectorAll('[data-testid="stMetric"]')].find(e => e.innerText.includes(label));
  const v = m && m.querySelector('[data-testid="stMetricValue"]');
  return !!v && v.innerText !== before;
}"""  # a new value, or a refusal (which the step then reports as an error)
_TITLE_SHOWN = """([idle, title]) => !!document.querySelector(idle)
  && [...document.querySelectorAll('h1')].some(h => h.innerText.includes(title))"""
_ELEMENT_SHOWN = """([idle, selector]) => !!document.querySelector(idle) && !!document.querySelector(selector)"""


@dataclass(frozen=True)
class Sample:
    """One timed step: which session, what kind of action, how long, and what went wrong."""

    session: int
    step: str
    seconds: float
    error: str | None = None


class StepFailed(Exception):
    pass


class Student:
    """One browser tab working through the lesson; records a :class:`Sample` per step."""

    def __init__(self, page: Page, url: str, index: int, think: float, timeout: float):
        self.page, self.url, self.index = page, url, index
        self.rng = random.Random(1000 + index)
        self.think, self.timeout_ms = think, timeout * 1000
        self.samples: list[Sample] = []

    # -- timing ----------------------------------------------------------------------------
    async def _timed(self, step: str, act: Callable[[], Awaitable], predicate: str, arg,
                     refused: bool = False) -> None:
        """Act, wait for ``predicate(arg)`` in the page, record the time; ``refused=True`` also
        fails the step when the app shows "Not accepted" (a formula refused)."""
        start = time.perf_counter()
        try:
            await act()
            await self.page.wait_for_function(predicate, arg=arg, polling=50, timeout=self.timeout_ms)
            if await self.page.locator('[data-testid="stException"]').count():
                raise StepFailed("a Python exception reached the page")
            alert = self.page.locator('[data-testid="stAlert"]', has_text="Not accepted")
            if refused and await alert.count():
                raise StepFailed("refused: " + " ".join((await alert.first.inner_text()).split()))
        except Exception as err:  # noqa: BLE001 - every failure is a measured error
            message = (str(err).splitlines()[0] if str(err) else type(err).__name__)[:160]
            self.samples.append(Sample(self.index, step, time.perf_counter() - start, message))
            raise StepFailed(message) from None
        self.samples.append(Sample(self.index, step, time.perf_counter() - start))

    async def pause(self) -> None:
        if self.think > 0:
            await self.page.wait_for_timeout(self.rng.uniform(0.5, 1.5) * self.think * 1000)

    async def metric(self, label: str = F_AT_X0) -> str:
        box = self.page.locator('[data-testid="stMetric"]', has_text=label).first
        return await box.locator('[data-testid="stMetricValue"]').inner_text(timeout=self.timeout_ms)

    # -- the actions -------------------------------------------------------------------------
    async def open_preset(self, preset: str) -> None:
        await self._timed(OPEN, lambda: self.page.goto(f"{self.url}/?p={preset}"),
                          _METRIC_CHANGED, [IDLE, F_AT_X0, None])

    async def move_point(self, coordinate: int) -> None:
        box = self.page.locator(f".st-key-x0_{coordinate} input")
        before, current = await self.metric(), float(await box.input_value(timeout=self.timeout_ms) or 0)
        value = current
        while abs(value - current) < 0.1:
            value = round(self.rng.uniform(-1.5, 1.5), 2)
        await box.fill(f"{value}")
        await self._timed("move x₀", lambda: box.press("Enter"), _METRIC_CHANGED, [IDLE, F_AT_X0, before])

    async def switch_page(self, path: str) -> None:
        url_path, title = PAGES[path]
        link = self.page.locator(f'[data-testid="stSidebarNavLink"][href="{self.url}/{url_path}"]')
        await self._timed("switch page", link.click, _TITLE_SHOWN, [IDLE, title])

    async def choose_source(self, source: str) -> None:
        option = self.page.locator('.st-key-source [data-testid="stRadioOption"]', has_text=source)
        expected = ".st-key-fn_text input" if source == "Type your own" else ".st-key-preset"
        await self._timed("pick a radio option", option.click, _ELEMENT_SHOWN, [IDLE, expected])

    async def type_function(self, text: str) -> None:
        box = self.page.locator(".st-key-fn_text input")
        before = await self.metric()
        await box.fill(text)

        await self._timed("type a function", lambda: box.press("Enter"), _ANSWERED, [IDLE, F_AT_X0, before],
                          refused=True)

    # -- lessons ------------------------------------------------------------------------------
    def own_formula(self, round_: int) -> str:
        """A formula only this student types (a cache miss: parsed in the sandbox, compiled)."""
        return f"x^2 + {self.index + 2}y^2 + sin({round_ + 1}x y)"

    async def quick_lesson(self) -> None:
        await self.open_preset(PRESETS[self.index % len(PRESETS)])
        await self.pause()
        await self.move_point(0)
        await self.pause()
        await self.switch_page("hessian")
        await self.pause()
        await self.choose_source("Type your own")
        await self.pause()
        await self.type_function(self.own_formula(0))

    async def full_lesson(self, rounds: int) -> None:
        """Open a preset, move x₀, visit every function page, type two functions; repeat."""
        await self.open_preset(PRESETS[self.index % len(PRESETS)])
        for round_ in range(rounds):
            if round_:
                await self.choose_source("Preset")
            for step in (lambda: self.move_point(0), lambda: self.move_point(1),
                         lambda: self.switch_page("hessian"), lambda: self.move_point(0),
                         lambda: self.choose_source("Type your own"),
                         lambda: self.type_function(self.own_formula(round_)),
                         lambda: self.switch_page("curvature"), lambda: self.switch_page("misconception"),
                         lambda: self.switch_page("landscape"), lambda: self.type_function(SHARED_FORMULA),
                         lambda: self.move_point(1)):
                await self.pause()
                await step()
