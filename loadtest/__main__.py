"""``python -m loadtest --sessions 1,10,30``: measure the app under N concurrent browser sessions.

Each level starts a fresh server on 127.0.0.1, runs the students (see :mod:`loadtest.runner`) and
stops it; the table goes to ``loadtest/RESULTS.md`` (``--output`` elsewhere). ``--quick`` is a tiny
run (one student, a five-step lesson) that checks the machinery in well under a minute.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import signal
import sys
from pathlib import Path

from loadtest import report
from loadtest.runner import Settings, run_level
from loadtest.server import ROOT


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m loadtest", description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", default="1,10,30",
                        help="comma-separated numbers of concurrent sessions, one level each (default 1,10,30)")
    parser.add_argument("--quick", action="store_true",
                        help="one session through a five-step lesson (overrides --sessions and --rounds)")
    parser.add_argument("--rounds", type=int, default=2, help="repetitions of the full lesson (default 2)")
    parser.add_argument("--think", type=float, default=1.0, help="mean seconds between steps (default 1)")
    parser.add_argument("--ramp", type=float, default=5.0, help="students start spread over this many seconds")
    parser.add_argument("--timeout", type=float, default=90.0, help="seconds before a step counts as an error")
    parser.add_argument("--pages-per-browser", type=int, default=10, help="tabs per Chromium process (default 10)")
    parser.add_argument("--profile", action="store_true",
                        help="sample the server with py-spy during each level (needs loadtest/requirements.txt)")
    parser.add_argument("--no-webgl", action="store_true",
                        help="browsers without WebGL (3-D surfaces stay blank): a lighter load generator, for "
                             "measuring the server when the browsers share its cores")
    parser.add_argument("--root", type=Path, default=ROOT,
                        help="serve another checkout of the app (its app.py and src/), e.g. one with a patch applied")
    parser.add_argument("--output", type=Path, default=report.RESULTS, help="where to write the results")
    args = parser.parse_args(argv)
    try:
        args.levels = [1] if args.quick else [int(n) for n in args.sessions.split(",")]
    except ValueError:
        parser.error(f"--sessions must be comma-separated whole numbers, not {args.sessions!r}")
    if any(n < 1 or n > 200 for n in args.levels):
        parser.error("each level must be between 1 and 200 sessions")
    if args.rounds < 1 or args.rounds > 10:
        parser.error("--rounds must be between 1 and 10")
    return args


def _stop(signum, frame):
    raise KeyboardInterrupt  # unwind, so the server and the browsers are stopped on the way out


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    signal.signal(signal.SIGTERM, _stop)
    settings = Settings(quick=args.quick, rounds=1 if args.quick else args.rounds, think=args.think,
                        ramp=0.0 if args.quick else args.ramp, timeout=args.timeout,
                        pages_per_browser=args.pages_per_browser, profile=args.profile, root=args.root,
                        webgl=not args.no_webgl)
    command = ("python -m loadtest " + " ".join(argv if argv is not None else sys.argv[1:])).strip()
    levels = []
    for n in args.levels:  # the report is rewritten after each level, so a long run keeps what it measured
        levels.append(asyncio.run(run_level(n, settings, log=lambda m: print(m, flush=True))))
        path = report.write(levels, settings, command, args.output)
        raw = ROOT / "test-artifacts" / "loadtest" / f"{args.output.stem}-samples.json"
        raw.parent.mkdir(parents=True, exist_ok=True)
        raw.write_text(json.dumps([{"sessions": r.sessions, "wall_s": r.wall_s, "samples": [vars(x) for x in r.samples]}
                                   for r in levels], indent=0))
    print(report.table(levels))
    print(f"knee: {report.knee(levels)}; written to {path}")
    return 1 if any(level.errors for level in levels) else 0


if __name__ == "__main__":
    sys.exit(main())
