"""Versions of the app side by side: paired cold starts in headless Chromium.

    python -m benchmarks.ab PAGE ROUNDS DIR_A DIR_B [DIR ...]

Each ``DIR`` is one version of the project, with its ``app.py``, ``pages/`` and ``src/``: for
example ``git worktree add /tmp/before HEAD~1`` beside the working tree. Each round starts every
version once and times it as the app benchmark times a cold start: from ``streamlit run`` to every
chart of ``/PAGE`` drawn (:func:`benchmarks.app._cold_start`). The version's server imports the
package from that version's ``src/``. The order alternates by round, so that a drift in the
machine's speed falls on every version alike.

Printed: each version's times and their median, and the median of its differences from the first
version in the same round. The README's "side by side" figures are these medians of paired
differences. On a shared machine the pairs spread by about half a second, so a change smaller
than that needs many rounds before it shows.
"""

from __future__ import annotations

import argparse
import statistics
import sys
from dataclasses import dataclass
from pathlib import Path

from benchmarks.app import CHROMIUM, CHROMIUM_ARGS, PAGES, _cold_start, _compile_bytecode

__all__ = ["Summary", "compare", "summarise", "main"]


@dataclass(frozen=True)
class Summary:
    version: str
    times: tuple[float, ...]  # seconds, one per round in which it started
    median: float
    paired_difference: float  # median over rounds of (this version - the first version); 0 for the first


def summarise(rounds: list[dict[str, float | None]], versions: list[str]) -> list[Summary]:
    """Each version's times, their median and the median of its paired differences from the first
    version; a round in which either version failed (``None``) gives that pair nothing."""
    first = versions[0]
    out = []
    for version in versions:
        times = [r[version] for r in rounds if r.get(version) is not None]
        diffs = [r[version] - r[first] for r in rounds if r.get(version) is not None and r.get(first) is not None]
        out.append(Summary(version, tuple(times), statistics.median(times) if times else float("nan"),
                           statistics.median(diffs) if diffs else float("nan")))
    return out


def _check_version(folder: Path) -> None:
    missing = [name for name in ("app.py", "src") if not (folder / name).exists()]
    if missing:
        raise SystemExit(f"{folder} is not a version of the app: no {' or '.join(missing)}")


def compare(page: str, rounds: int, versions: list[Path], *, settle: float = 1.0, browser=None,
            report=print) -> list[dict[str, float | None]]:
    """Cold starts of ``/page`` for every version, ``rounds`` times, the order alternating by round.
    Returns one ``{version: seconds or None}`` per round; a failed start is reported and is ``None``."""
    for folder in versions:
        _check_version(folder)
        _compile_bytecode(folder / "src")  # as the app benchmark does for its own
    if browser is None:
        from playwright.sync_api import sync_playwright

        with sync_playwright() as p:
            chromium = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            try:
                return _rounds(page, rounds, versions, settle, chromium, report)
            finally:
                chromium.close()
    return _rounds(page, rounds, versions, settle, browser, report)


def _rounds(page: str, rounds: int, versions: list[Path], settle: float, browser,
            report) -> list[dict[str, float | None]]:
    results: list[dict[str, float | None]] = []
    for round_ in range(rounds):
        times: dict[str, float | None] = {}
        for folder in versions if round_ % 2 == 0 else versions[::-1]:
            try:
                times[str(folder)] = _cold_start(browser, folder / "app.py", page, settle,
                                                 env={"PYTHONPATH": str(folder / "src")})
            except Exception as err:  # noqa: BLE001 - report it, go on with the other versions
                report(f"  {folder}: {type(err).__name__}: {err}"[:300])
                times[str(folder)] = None
        results.append(times)
        report(f"round {round_ + 1}/{rounds}: " + ", ".join(
            f"{name} {'failed' if t is None else f'{t:.2f} s'}" for name, t in times.items()))
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.ab", description=__doc__.split("\n\n")[0])
    parser.add_argument("page", help="the page's url path: " + ", ".join(PAGES))
    parser.add_argument("rounds", type=int, help="cold starts of each version")
    parser.add_argument("versions", nargs="+", type=Path, help="folders with app.py and src/; the first is the baseline")
    parser.add_argument("--settle", type=float, default=1.0, help="seconds every chart must stay drawn (default 1)")
    args = parser.parse_args(argv)
    if args.page not in PAGES:
        parser.error(f"{args.page!r} is not a page: choose from {', '.join(PAGES)}")
    if len(args.versions) < 2 or args.rounds < 1:
        parser.error("give at least two versions and one round")
    versions = [v.resolve() for v in args.versions]
    rounds = compare(args.page, args.rounds, versions, settle=args.settle)
    print(f"\n/{args.page}, {args.rounds} rounds; differences are paired with {versions[0]}:")
    for s in summarise(rounds, [str(v) for v in versions]):
        print(f"  {s.version}: median {s.median:.3f} s over {len(s.times)} starts, "
              f"paired difference {s.paired_difference:+.3f} s  [{', '.join(f'{t:.2f}' for t in s.times)}]")
    return 0


if __name__ == "__main__":
    sys.exit(main())
