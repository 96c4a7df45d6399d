"""Benchmarks of Hessian Explorer against the tools people would use instead.

Run everything with ``python -m benchmarks`` (``--quick`` for a tiny smoke run, ``--only`` to pick
sections); the results go to ``benchmarks/RESULTS.md`` and ``benchmarks/plots/*.png``. Reference
tools (jax, numdifftools, matplotlib, playwright) come from ``benchmarks/requirements.txt``.
``python -m benchmarks.ab`` compares versions of the app by paired cold starts (:mod:`benchmarks.ab`).

Timings that are compared are always taken side by side in the same process, interleaved
repetition by repetition (see :mod:`benchmarks.timing`): the ratios are the figures that count.
"""
