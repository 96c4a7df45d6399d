"""Load test for Hessian Explorer: N concurrent headless-Chromium students against one server.

Run ``python -m loadtest --sessions 1,10,30`` (or ``--quick``); see ``loadtest/RESULTS.md``.
Not a unit test: it starts the real app on a free port of 127.0.0.1 and drives it through
Playwright with Debian's Chromium (``/usr/bin/chromium``; no browser is downloaded). Traffic goes
only to 127.0.0.1, and every loop is bounded in steps and time.
"""
