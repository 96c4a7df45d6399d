"""Sample the server with py-spy while the students work, and name where its time goes.

``py-spy record --format raw`` writes collapsed stacks (``frame;frame;frame count``); this module
adds them up into the functions that hold the most samples, inclusive and self, for RESULTS.md.
py-spy is optional (``loadtest/requirements.txt``); without it profiling is skipped.
"""

from __future__ import annotations

import shutil
import signal
import subprocess
from collections import Counter
from pathlib import Path


class Profiler:
    """``with Profiler(pid, path):`` records the process (and its sandbox children) to ``path``."""

    def __init__(self, pid: int, path: Path, rate: int = 50):
        self.pid, self.path, self.rate = pid, path, rate
        self.proc: subprocess.Popen | None = None

    def __enter__(self) -> "Profiler":
        exe = shutil.which("py-spy")
        if exe is None:
            return self
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.proc = subprocess.Popen(
            [exe, "record", "--pid", str(self.pid), "--rate", str(self.rate), "--format", "raw",
             "--output", str(self.path), "--nonblocking", "--subprocesses", "--threads"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        return self

    def __exit__(self, *exc) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)  # py-spy writes its output on SIGINT
            try:
                self.proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=5)


def _frame(frame: str) -> str:
    # "function (path/to/file.py:123)" -> "function (file.py)"
    name, _, where = frame.partition(" (")
    return f"{name} ({Path(where.rsplit(':', 1)[0]).name})" if where else name


def summary(path: Path, top: int = 15) -> str:
    """A markdown list of the functions with the most samples (inclusive) and the most self time."""
    if not path.exists():
        return "(no profile: py-spy is not installed or could not attach)"
    inclusive, own, total = Counter(), Counter(), 0
    for line in path.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack or not count.isdigit():
            continue
        n = int(count)
        frames = [_frame(f) for f in stack.split(";")]
        total += n
        for frame in set(frames):
            inclusive[frame] += n
        own[frames[-1]] += n
    if not total:
        return "(empty profile)"
    lines = [f"{total} samples; share of samples (inclusive):", ""]
    lines += [f"- {100 * n / total:.1f} % `{f}`" for f, n in inclusive.most_common(top)]
    lines += ["", "Most self time:", ""]
    lines += [f"- {100 * n / total:.1f} % `{f}`" for f, n in own.most_common(top)]
    return "\n".join(lines)
