"""Side-by-side timing: interleaved repetitions, medians, and a description of the machine.

Every comparison in the benchmark goes through :func:`interleaved`: the contenders run in turn
within each repetition (in a rotating order), so a burst of load from another process hurts all of
them alike and the ratio of their medians stays meaningful even when absolute times do not.
"""

from __future__ import annotations

import gc
import math
import os
import platform
import statistics
import time
from dataclasses import dataclass
from importlib import metadata
from typing import Callable, Mapping, Sequence

import numpy as np

from hessian_explorer.kernels import running_tasks

__all__ = ["Timing", "interleaved", "settle", "keep_freed_memory", "time_once", "machine_description", "fit_exponent",
           "fmt_time"]


@dataclass(frozen=True)
class Timing:
    """Seconds per call: the median and 95th percentile over repetitions, and their count."""

    median: float
    p95: float
    reps: int
    samples: tuple[float, ...] = ()


def _summary(samples: Sequence[float]) -> Timing:
    ordered = sorted(samples)
    p95 = ordered[min(len(ordered) - 1, math.ceil(0.95 * len(ordered)) - 1)]
    return Timing(statistics.median(ordered), p95, len(ordered), tuple(samples))


def time_once(fn: Callable[[], object]) -> float:
    """Wall time of one call, in seconds."""
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def interleaved(fns: Mapping[str, Callable[[], object]], reps: int = 15,
                min_rep_time: float = 2e-3, warmup: int = 1) -> dict[str, Timing]:
    """Time each callable ``reps`` times, interleaved, and return per-call medians.

    Each callable is first called ``warmup`` times, then calibrated: a repetition runs it enough
    times in a row to last about ``min_rep_time`` (so that microsecond calls are not swamped by
    the timer), and the time per call is recorded. If ``warmup`` is not 0, a repetition first waits
    until no other task is running on the machine (:func:`settle`: jax's and OpenBLAS's worker
    threads keep spinning for milliseconds after a call, and would take the cores from the next
    callable) and makes one untimed call (a cold cache is not charged to this one either). The
    order of the callables rotates from one repetition to the next. The garbage collector is
    paused while timing.
    """
    names = list(fns)
    loops = {}
    for name in names:
        for _ in range(warmup):
            fns[name]()
        once = max(time_once(fns[name]), 1e-7)
        loops[name] = max(1, min(10_000, int(min_rep_time / once)))
    samples: dict[str, list[float]] = {name: [] for name in names}
    gc.collect()
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        for r in range(reps):
            for name in names[r % len(names):] + names[: r % len(names)]:
                fn, n = fns[name], loops[name]
                if warmup:
                    settle()
                    fn()
                start = time.perf_counter()
                for _ in range(n):
                    fn()
                samples[name].append((time.perf_counter() - start) / n)
    finally:
        if was_enabled:
            gc.enable()
    return {name: _summary(samples[name]) for name in names}


def settle(timeout: float = 0.02) -> None:
    """Wait (at most ``timeout`` seconds) until this thread is the only task running."""
    if running_tasks() is None:
        time.sleep(timeout / 4)
        return
    deadline = time.perf_counter() + timeout
    while (running := running_tasks()) is not None and running > 1 and time.perf_counter() < deadline:
        time.sleep(2e-4)


def fit_exponent(sizes: Sequence[float], values: Sequence[float]) -> float:
    """Slope of ``log(value)`` against ``log(size)`` by least squares: cost ~ size^slope."""
    x, y = np.log(np.asarray(sizes, dtype=float)), np.log(np.asarray(values, dtype=float))
    return float(np.polyfit(x, y, 1)[0])


def fmt_time(seconds: float) -> str:
    """Seconds in a readable unit: ``12.3 µs``, ``4.56 ms``, ``1.23 s``."""
    if not math.isfinite(seconds):
        return "–"
    if seconds < 1e-3:
        return f"{seconds * 1e6:.1f} µs"
    if seconds < 1:
        return f"{seconds * 1e3:.2f} ms"
    if seconds < 100:
        return f"{seconds:.2f} s"
    return f"{seconds:.0f} s"


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as fh:
            for line in fh:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _memory_gib() -> str:
    try:
        with open("/proc/meminfo", encoding="utf-8") as fh:
            kib = int(fh.readline().split()[1])
        return f"{kib / 2**20:.0f} GiB"
    except (OSError, ValueError, IndexError):
        return "unknown"


def _version(package: str) -> str:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return "not installed"


def keep_freed_memory() -> str:
    """Have glibc's malloc keep freed blocks up to 32 MB in the process (Linux); say what was done.

    By default a large freed array goes back to the operating system (its own mapping, or a
    trimmed heap top), and the next one of that size lands on fresh pages: a 5 MB result then
    costs about 1,000 page faults (2.5 ms here, more than computing it). Whether it does depended
    on what was allocated and freed before, for jax's results as for ours, so the 400² timings
    of one preset moved by 2-3x from run to run. With these thresholds both reuse their memory.
    """
    import ctypes
    import ctypes.util

    name = ctypes.util.find_library("c")
    if platform.system() != "Linux" or not name or "libc" not in name:
        return "default allocator"
    libc = ctypes.CDLL(name)
    m_trim_threshold, m_mmap_threshold = -1, -3  # from malloc.h
    if not hasattr(libc, "mallopt") or not (libc.mallopt(m_mmap_threshold, 32 << 20)
                                            and libc.mallopt(m_trim_threshold, 64 << 20)):
        return "default allocator"
    return "glibc malloc keeps freed blocks up to 32 MB (mallopt M_MMAP_THRESHOLD 32 MB, M_TRIM_THRESHOLD 64 MB)"


def machine_description() -> dict[str, str]:
    """What the numbers were measured on: CPU, cores, memory, load, and library versions."""
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg()) if hasattr(os, "getloadavg") else "unknown"
    packages = ["numpy", "scipy", "sympy", "jax", "numdifftools", "streamlit", "plotly", "playwright"]
    return {
        "date": time.strftime("%Y-%m-%d %H:%M %Z"),
        "cpu": f"{_cpu_model()}, {os.cpu_count()} cores",
        "memory": _memory_gib(),
        "os": f"{platform.system()} {platform.release()}",
        "python": platform.python_version(),
        "load average at start (1, 5, 15 min)": load,
        "libraries": ", ".join(f"{p} {_version(p)}" for p in packages),
    }
