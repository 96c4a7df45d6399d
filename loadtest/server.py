"""The app under test: one `streamlit run app.py` on a free port of 127.0.0.1, and its footprint.

Memory is the resident set size (``VmRSS`` in ``/proc/<pid>/status``) of the Streamlit process,
which holds every session's state; the sandbox's fork server and its short-lived workers are its
children and are reported separately. CPU time comes from ``/proc/<pid>/stat`` (user + system).
Linux only, no third-party packages.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
_TICKS = os.sysconf("SC_CLK_TCK")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def rss_mb(pid: int) -> float:
    """Resident memory of one process in MB (0 if it has gone)."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds used so far by a process and its reaped children (0 if gone)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return 0.0
    fields = stat[stat.rindex(")") + 2:].split()
    return sum(int(v) for v in fields[11:15]) / _TICKS  # utime, stime, cutime, cstime


def children(pid: int) -> list[int]:
    """All descendants of ``pid``."""
    found, todo = [], [pid]
    while todo:
        parent = todo.pop()
        for task in Path(f"/proc/{parent}/task").glob("*"):
            try:
                kids = [int(k) for k in (task / "children").read_text().split()]
            except OSError:
                continue
            found += kids
            todo += kids
    return found


def machine_busy() -> tuple[float, float]:
    """(busy, total) jiffies of the whole machine, from ``/proc/stat``."""
    values = [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    idle = values[3] + values[4]  # idle + iowait
    total = sum(values[:8])
    return total - idle, total


@dataclass(frozen=True)
class Footprint:
    rss_mb: float  # the Streamlit process
    children_rss_mb: float  # sandbox fork server and workers
    cpu_s: float  # the Streamlit process
    children_cpu_s: float


class Server:
    """``with Server() as server:`` starts the app, waits for its health check, stops it after."""

    def __init__(self, port: int | None = None, startup_timeout: float = 90.0, extra_args: tuple[str, ...] = (),
                 root: Path = ROOT):
        self.extra_args = tuple(extra_args)
        self.root = Path(root).resolve()  # another checkout (e.g. with a patch applied) runs its own src/
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.startup_timeout = startup_timeout
        self.proc: subprocess.Popen | None = None
        self.log_path = ROOT / "test-artifacts" / "loadtest" / f"server-{self.port}.log"

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def __enter__(self) -> "Server":
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        self._log = self.log_path.open("w")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "streamlit", "run", str(self.root / "app.py"), "--server.headless", "true",
             "--server.port", str(self.port), "--server.address", "127.0.0.1",
             "--browser.gatherUsageStats", "false", "--server.fileWatcherType", "none", *self.extra_args],
            cwd=self.root, stdout=self._log, stderr=subprocess.STDOUT,
            env={**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(self.root / "src"),
                                                                           os.environ.get("PYTHONPATH")]))},
        )
        deadline = time.monotonic() + self.startup_timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                break
            try:
                if urllib.request.urlopen(f"{self.url}/_stcore/health", timeout=2).read() == b"ok":
                    return self
            except OSError:
                time.sleep(0.3)
        self.__exit__(None, None, None)
        raise RuntimeError(f"streamlit did not start; see {self.log_path}:\n{self.log_path.read_text()[-2000:]}")

    def __exit__(self, *exc) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=5)
        self._log.close()

    def footprint(self) -> Footprint:
        kids = children(self.pid)
        return Footprint(rss_mb(self.pid), sum(rss_mb(k) for k in kids),
                         cpu_seconds(self.pid), sum(cpu_seconds(k) for k in kids))

    def log_tail(self, chars: int = 4000) -> str:
        self._log.flush()
        return self.log_path.read_text()[-chars:]
