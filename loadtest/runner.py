"""Drive N concurrent students against one fresh server and measure it.

Students are browser contexts (each its own cookies and websocket, so its own Streamlit session),
``pages_per_browser`` of them per headless Chromium process. They start spread over ``ramp``
seconds, work through the lesson with a little think time between steps, and stay connected until
the last one has finished, so the server's memory is read with all N sessions alive.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import os
import time
from dataclasses import dataclass, field
from pathlib import Path

from playwright.async_api import Browser, async_playwright

from loadtest.lesson import OPEN, Sample, StepFailed, Student
from loadtest.profile import Profiler, summary
from loadtest.server import ROOT, Footprint, Server, machine_busy

ARTIFACTS = ROOT / "test-artifacts" / "loadtest"

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]


@dataclass(frozen=True)
class Settings:
    quick: bool = False  # the short lesson (5 steps), one round
    rounds: int = 1  # repetitions of the full lesson
    think: float = 1.0  # mean seconds between steps
    ramp: float = 5.0  # students start spread over this many seconds
    timeout: float = 90.0  # seconds one step may take before it counts as an error
    pages_per_browser: int = 10
    profile: bool = False  # sample the server with py-spy (test-artifacts/loadtest/profile-N.txt)
    root: Path = ROOT  # the checkout whose app.py and src/ are served
    webgl: bool = True  # False: Chromium without WebGL (no 3-D surfaces), a lighter load generator


@dataclass
class LevelResult:
    sessions: int
    samples: list[Sample] = field(default_factory=list)
    aborted: int = 0  # students who stopped after an error
    wall_s: float = 0.0
    baseline: Footprint | None = None  # after a warm-up session, before the students
    peak_rss_mb: float = 0.0  # highest RSS of the Streamlit process while they worked
    loaded: Footprint | None = None  # with every student's session still connected
    released: Footprint | None = None  # after they closed (and the disconnected-session TTL)
    machine_busy: float = 0.0  # fraction of both cores busy during the run (server + browsers)
    load_before: float = 0.0  # 1-minute load average when the students started (other work too)
    profile: str = ""  # py-spy summary, when profiled
    details: list[str] = field(default_factory=list)  # full text of unexpected errors

    @property
    def ok(self) -> list[float]:
        """Latencies of the successful interactions (opening the app's URL is counted apart)."""
        return sorted(s.seconds for s in self.samples if s.error is None and s.step != OPEN)

    @property
    def opens(self) -> list[float]:
        return sorted(s.seconds for s in self.samples if s.error is None and s.step == OPEN)

    @property
    def errors(self) -> list[Sample]:
        return [s for s in self.samples if s.error is not None]

    def percentile(self, q: float) -> float:
        """Nearest-rank percentile of the successful steps' latency (nan if none)."""
        ok = self.ok
        return ok[max(0, math.ceil(q / 100 * len(ok)) - 1)] if ok else float("nan")

    @property
    def mb_per_session(self) -> float:
        return (self.loaded.rss_mb - self.baseline.rss_mb) / self.sessions

    @property
    def server_cpu_s(self) -> float:
        return (self.loaded.cpu_s + self.loaded.children_cpu_s) - (self.baseline.cpu_s + self.baseline.children_cpu_s)


def _first_line(err: BaseException) -> str:
    text = str(err)
    return (text.splitlines()[0] if text else type(err).__name__)[:160]


class _Class:
    """Who has finished, and when everyone may disconnect."""

    def __init__(self, n: int):
        self.size = self.waiting = n
        self.all_done = asyncio.Event()  # every student has finished the lesson
        self.release = asyncio.Event()  # memory has been read: close the tabs

    def finished(self) -> None:
        self.waiting -= 1
        if self.waiting == 0:
            self.all_done.set()


async def _student(browser: Browser, url: str, index: int, settings: Settings, start_at: float,
                   room: _Class, result: LevelResult) -> None:
    await asyncio.sleep(max(0.0, start_at - time.monotonic()))
    context, student = None, None
    try:
        context = await browser.new_context(viewport={"width": 1400, "height": 900})
        context.set_default_timeout(settings.timeout * 1000)
        student = Student(await context.new_page(), url, index, settings.think, settings.timeout)
        if settings.quick:
            await student.quick_lesson()
        else:
            await student.full_lesson(settings.rounds)
    except Exception as err:  # noqa: BLE001 - a student who cannot go on is counted, not fatal
        result.aborted += 1
        if not isinstance(err, StepFailed):
            result.samples.append(Sample(index, "between steps", 0.0, _first_line(err)))
            result.details.append(f"session {index}: {type(err).__name__}: {err}")
        if context is not None and student is not None:
            ARTIFACTS.mkdir(parents=True, exist_ok=True)
            with contextlib.suppress(Exception):
                await student.page.screenshot(path=str(ARTIFACTS / f"error-N{room.size}-s{index}.png"))
    finally:
        if student is not None:
            result.samples += student.samples
        room.finished()
        await room.release.wait()  # stay connected until the server's memory has been read
        if context is not None:
            await context.close()


async def _sample_rss(server: Server, result: LevelResult, stop: asyncio.Event) -> None:
    while not stop.is_set():
        result.peak_rss_mb = max(result.peak_rss_mb, server.footprint().rss_mb)
        try:
            await asyncio.wait_for(stop.wait(), timeout=0.5)
        except asyncio.TimeoutError:
            pass


async def _warm_up(browser: Browser, url: str, settings: Settings) -> None:
    """One session through the pages, so imports and first compiles are not charged to students."""
    context = await browser.new_context(viewport={"width": 1400, "height": 900})
    context.set_default_timeout(settings.timeout * 1000)
    student = Student(await context.new_page(), url, -1, think=0.0, timeout=settings.timeout)
    await student.open_preset("bowl")
    for path in ("hessian",) if settings.quick else ("hessian", "curvature", "misconception", "landscape"):
        await student.switch_page(path)
    await context.close()


async def _run_students(server: Server, browsers: list[Browser], n: int, settings: Settings,
                        result: LevelResult) -> None:
    """Start the N students, wait for all of them, read the server with every session connected,
    then let them close."""
    room, stop = _Class(n), asyncio.Event()
    sampler = asyncio.create_task(_sample_rss(server, result, stop))
    busy0, total0 = machine_busy()
    result.load_before = os.getloadavg()[0]
    t0 = time.monotonic()
    tasks = [asyncio.create_task(_student(browsers[i // settings.pages_per_browser], server.url, i, settings,
                                          t0 + settings.ramp * i / n, room, result))
             for i in range(n)]
    steps = 5 if settings.quick else 1 + 12 * settings.rounds
    limit = settings.ramp + steps * (settings.timeout + 2 * settings.think) + 60
    try:  # every step has its own timeout; this is the backstop for the whole level
        await asyncio.wait_for(room.all_done.wait(), timeout=limit)
    except asyncio.TimeoutError:
        raise RuntimeError(f"N={n}: the students did not finish within {limit:.0f} s") from None
    finally:
        result.wall_s = time.monotonic() - t0
        busy1, total1 = machine_busy()
        result.machine_busy = (busy1 - busy0) / max(1, total1 - total0)
        await asyncio.sleep(1.0)
        result.loaded = server.footprint()
        stop.set()
        await sampler
        room.release.set()
        await asyncio.wait_for(asyncio.gather(*tasks, return_exceptions=True), timeout=120)


async def run_level(n: int, settings: Settings, log=print) -> LevelResult:
    """Start a fresh server, warm it up, run ``n`` students, measure; the server is stopped after."""
    result = LevelResult(n)
    settle = 6.0 if settings.quick else 8.0
    # Disconnected sessions are normally kept for 120 s (a reconnect may adopt them); a short TTL
    # here lets the "released" reading show whether closed sessions really give memory back.
    with Server(extra_args=("--server.disconnectedSessionTTL", "3"), root=settings.root) as server:
        async with async_playwright() as pw:
            args = CHROMIUM_ARGS + ([] if settings.webgl else ["--disable-3d-apis"])
            browsers = [await pw.chromium.launch(executable_path=CHROMIUM, args=args)
                        for _ in range(math.ceil(n / settings.pages_per_browser))]
            try:
                await _warm_up(browsers[0], server.url, settings)
                await asyncio.sleep(settle)  # the warm-up session's TTL passes and it is cleaned up
                result.baseline = server.footprint()
                log(f"N={n}: baseline RSS {result.baseline.rss_mb:.0f} MB, {len(browsers)} browser(s)")
                profile = ARTIFACTS / f"profile-{n}.txt"
                with Profiler(server.pid, profile) if settings.profile else contextlib.nullcontext():
                    await _run_students(server, browsers, n, settings, result)
                if settings.profile:
                    result.profile = summary(profile)
                await asyncio.sleep(settle)  # the closed sessions' TTL passes and they are cleaned up
                result.released = server.footprint()
            finally:
                for b in browsers:
                    await b.close()
    for detail in result.details:
        log(detail)
    log(f"N={n}: {len(result.samples)} steps, p50 {result.percentile(50):.2f} s, p95 {result.percentile(95):.2f} s, "
        f"{len(result.errors)} errors, {result.mb_per_session:.1f} MB/session")
    return result
