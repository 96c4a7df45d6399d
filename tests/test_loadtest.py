"""The load test still runs: ``python -m loadtest --quick`` (one student, a five-step lesson).

Not a measurement (that is ``python -m loadtest --sessions 1,10,30``, see loadtest/RESULTS.md):
this only keeps the machinery from rotting when pages change, since the lesson finds widgets by
key, links by URL and values by the metric "f at x₀". Uses Debian's Chromium (no download).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

pytestmark = pytest.mark.browser


def test_quick_load_test_runs_the_lesson_without_errors(tmp_path):
    if not os.path.exists("/usr/bin/chromium"):
        pytest.fail("/usr/bin/chromium is missing: run the README's test command, which installs Debian's chromium")
    output = tmp_path / "RESULTS.md"
    run = subprocess.run([sys.executable, "-m", "loadtest", "--quick", "--timeout", "60", "--output", str(output)],
                         cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    report = output.read_text()
    row = next(line for line in report.splitlines() if line.startswith("| 1 |"))
    cells = [c.strip() for c in row.strip("|").split("|")]
    assert cells[1] == "4" and cells[5] == "0", row  # four interactions after opening the page, no errors
    for step in ("move x₀", "switch page", "pick a radio option", "type a function", "open a preset"):
        assert f"| 1 | {step} |" in report, step
