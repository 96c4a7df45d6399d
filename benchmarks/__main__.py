"""``python -m benchmarks [--quick] [--only derivatives,models,app,parser] [--out FILE]``.

Runs the chosen sections in this process (the app section starts its own Streamlit servers and
a headless Chromium), prints the summary table, and writes it with the machine's description and
every section's details to ``benchmarks/RESULTS.md`` and its plots to ``benchmarks/plots/``.
A section that fails is reported as failed; the others still run.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
import time
import traceback
from pathlib import Path

from benchmarks.report import Section, results_markdown, summary_table, update_readme
from benchmarks.timing import keep_freed_memory, machine_description

SECTIONS = {
    "derivatives": ("benchmarks.derivatives", "1. Function derivatives"),
    "models": ("benchmarks.models", "2. Models"),
    "app": ("benchmarks.app", "3. The app"),
    "parser": ("benchmarks.parser", "4. Parser"),
}
HERE = Path(__file__).resolve().parent
ROOT = HERE.parent


def run_section(name: str, quick: bool, plots_dir: Path) -> Section:
    module_name, title = SECTIONS[name]
    load_before = _load()
    start = time.perf_counter()
    try:
        section = importlib.import_module(module_name).run(quick=quick, plots_dir=plots_dir)
    except Exception:  # noqa: BLE001 - one failing section must not lose the others
        section = Section(name, title, error=traceback.format_exc())
    section.seconds = time.perf_counter() - start
    section.notes.append(f"Load average (1 min) of the machine: {load_before} at the start of this section, "
                         f"{_load()} at its end (2 cores: above 2, other processes were competing).")
    return section


def _load() -> str:
    try:
        return f"{os.getloadavg()[0]:.1f}"
    except (AttributeError, OSError):
        return "unknown"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__.split("\n\n")[1])
    parser.add_argument("--quick", action="store_true", help="tiny sizes and few repetitions (a smoke test)")
    parser.add_argument("--only", default=",".join(SECTIONS),
                        help=f"comma-separated sections to run (default: all of {','.join(SECTIONS)})")
    parser.add_argument("--out", type=Path, default=HERE / "RESULTS.md", help="where to write the results")
    parser.add_argument("--plots", type=Path, default=None,
                        help="directory for the PNG plots (default: plots/ beside --out)")
    parser.add_argument("--readme", action="store_true",
                        help="also put the summary table and plots in README.md's Performance section")
    args = parser.parse_args(argv)
    names = [n.strip() for n in args.only.split(",") if n.strip()]
    unknown = [n for n in names if n not in SECTIONS]
    if unknown:
        parser.error(f"unknown section(s) {', '.join(unknown)}; choose from {', '.join(SECTIONS)}")
    out = args.out.resolve()
    plots_dir = (args.plots or out.parent / "plots").resolve()

    machine = machine_description()
    machine["memory allocator (this process)"] = keep_freed_memory()
    start = time.perf_counter()
    sections = []
    for name in names:
        print(f"[benchmarks] {name} ...", file=sys.stderr, flush=True)
        sections.append(run_section(name, args.quick, plots_dir))
        print(f"[benchmarks] {name} done in {sections[-1].seconds:.0f} s"
              + (" (FAILED)" if sections[-1].error else ""), file=sys.stderr, flush=True)
    total = time.perf_counter() - start

    command = "python -m benchmarks" + (" --quick" if args.quick else "") + (
        f" --only {','.join(names)}" if names != list(SECTIONS) else "")
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(results_markdown(sections, machine, command, total, out.parent), encoding="utf-8")
    print(summary_table(sections))
    if args.readme:
        update_readme(ROOT / "README.md", sections, machine, out)
    for s in sections:
        if s.error:
            print(f"\nSection {s.name} failed:\n{s.error}", file=sys.stderr)
    print(f"\nWrote {out}", file=sys.stderr)
    return 1 if any(s.error for s in sections) else 0


if __name__ == "__main__":
    sys.exit(main())
