"""The benchmark suite runs end to end in its tiny configuration, so it cannot rot.

``python -m benchmarks --quick`` exercises every section (jax, numdifftools, AppTest, a Streamlit
server in headless Chromium, the parser corpus) at toy sizes and writes RESULTS.md and the plots;
whether targets are met is the full run's business, not this test's.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SECTIONS = ("1. Function derivatives", "2. Models", "3. The app", "4. Parser")


def test_quick_benchmark_writes_every_section(tmp_path):
    out = tmp_path / "RESULTS.md"
    proc = subprocess.run([sys.executable, "-m", "benchmarks", "--quick", "--out", str(out)], cwd=ROOT,
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-4000:]
    text = out.read_text(encoding="utf-8")
    for title in SECTIONS:
        assert f"## {title}" in text
    assert "section failed" not in text
    assert "| Area | Measure |" in proc.stdout  # the summary table is printed too
    assert "memory allocator (this process)" in text  # how the process's allocator was set, stated
    for plot in ("derivatives.png", "models.png"):
        png = tmp_path / "plots" / plot
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        assert png.stat().st_size < 200_000


def test_settle_waits_for_a_quiet_machine_but_never_longer_than_its_timeout():
    import time

    sys.path.insert(0, str(ROOT))
    from benchmarks.timing import settle

    start = time.perf_counter()
    settle(timeout=0.05)
    assert time.perf_counter() - start < 1.0


def test_benchmark_pages_are_the_apps_url_paths():
    """The browser benchmark opens ``/<name>``: every name must be a url path of the app's page
    table (the one app.py navigates; tests/test_browser.py opens the same paths in a browser)."""
    sys.path.insert(0, str(ROOT))
    from benchmarks.app import PAGES
    from hessian_explorer.ui import page_table

    assert PAGES == {spec.url_path: spec.file for spec in page_table.PAGES} and len(PAGES) == 7
    assert all((ROOT / file).is_file() for file in PAGES.values())
    assert "SECTIONS.items()" in (ROOT / "app.py").read_text(encoding="utf-8")


@pytest.mark.browser
def test_cold_start_refuses_a_path_that_is_not_a_page(browser):
    sys.path.insert(0, str(ROOT))
    from benchmarks.app import APP, _cold_start

    with pytest.raises(RuntimeError, match="not a page of the app"):
        _cold_start(browser, APP, "linear-regression", settle=0.2, timeout=90)


def test_paired_ratio_is_the_median_of_the_pairs_ratios_with_their_middle_half():
    sys.path.insert(0, str(ROOT))
    from benchmarks.app import paired_ratio

    # ratios 2, 3, 4, 5, 6 (given out of order): median 4, quartiles 3 and 5
    assert paired_ratio([(8.0, 2.0), (2.0, 1.0), (15.0, 3.0), (6.0, 1.0), (6.0, 2.0)]) == pytest.approx((4.0, 3.0, 5.0))
    # fewer than four pairs: the smallest and the largest ratio around the median
    assert paired_ratio([(1.2, 1.0), (3.0, 2.0), (1.1, 1.0)]) == pytest.approx((1.2, 1.1, 1.5))
    assert paired_ratio([(2.6, 2.0)]) == pytest.approx((1.3, 1.3, 1.3))


def test_a_ratio_beside_its_limit_never_rounds_to_the_limit_itself():
    """1.302 printed as "1.30×" beside "≤ 1.3×" and "no" read as a contradiction."""
    sys.path.insert(0, str(ROOT))
    from benchmarks.report import fmt_against

    assert fmt_against(1.302, 1.3) == "1.302×" and fmt_against(1.296, 1.3) == "1.296×"
    assert fmt_against(1.3, 1.3) == "1.300×"
    assert fmt_against(1.26, 1.3) == "1.26×" and fmt_against(2.013, 2.0) == "2.01×"
    assert fmt_against(2.004, 2.0) == "2.004×"
    assert fmt_against(float("nan"), 1.3) == "–"


def test_side_by_side_summary_pairs_each_version_with_the_first_in_the_same_round():
    sys.path.insert(0, str(ROOT))
    from benchmarks.ab import summarise

    rounds = [{"a": 5.0, "b": 4.0}, {"a": 6.0, "b": 6.5}, {"a": 7.0, "b": None}, {"a": 5.5, "b": 5.0}]
    a, b = summarise(rounds, ["a", "b"])
    assert a.times == (5.0, 6.0, 7.0, 5.5) and a.median == 5.75 and a.paired_difference == 0.0
    # b's pairs: -1.0, +0.5, -0.5 (round 3 failed): median -0.5; its own median is of its three times
    assert b.times == (4.0, 6.5, 5.0) and b.median == 5.0 and b.paired_difference == -0.5


def test_side_by_side_refuses_what_it_cannot_time(tmp_path, capsys):
    sys.path.insert(0, str(ROOT))
    from benchmarks.ab import main

    with pytest.raises(SystemExit) as exit_:
        main(["linear-regression", "3", str(ROOT), str(ROOT)])  # not a url path of the app
    assert exit_.value.code == 2 and "is not a page" in capsys.readouterr().err
    with pytest.raises(SystemExit, match="not a version of the app: no app.py or src"):
        main(["landscape", "1", str(ROOT), str(tmp_path)])


def test_a_cold_starts_server_gets_the_extra_environment(monkeypatch):
    """The side-by-side tool points each version's server at its own ``src/`` this way."""
    sys.path.insert(0, str(ROOT))
    from benchmarks import app

    seen = {}

    class Popen:
        def __init__(self, args, **kwargs):
            seen.update(kwargs["env"])

    monkeypatch.setattr(app.subprocess, "Popen", Popen)
    app._start_server(ROOT / "app.py", None, {"PYTHONPATH": "/elsewhere/src"})
    assert seen["PYTHONPATH"] == "/elsewhere/src" and seen["PYTHONUNBUFFERED"] == "1"


@pytest.mark.browser
def test_side_by_side_times_each_version_and_reports_one_that_fails(browser, tmp_path):
    sys.path.insert(0, str(ROOT))
    from benchmarks.ab import compare

    broken = tmp_path / "broken"
    (broken / "src").mkdir(parents=True)
    (broken / "app.py").write_text('raise RuntimeError("a broken version")\n', encoding="utf-8")
    lines = []
    (times,) = compare("landscape", 1, [ROOT, broken], settle=0.2, browser=browser, report=lines.append)
    assert 0 < times[str(ROOT)] < 120 and times[str(broken)] is None
    assert any(str(broken) in line and "exception" in line for line in lines), lines
    assert lines[-1].startswith("round 1/1: ") and "failed" in lines[-1]
