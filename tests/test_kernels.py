"""The compiled numpy kernels behind every evaluator: chunking, threads, rewrites and fallbacks.

References are independent of the kernels: sympy's own ``lambdify`` on the same expressions
(evaluated point by point in plain numpy), and closed forms.
"""

from __future__ import annotations

import dataclasses
import inspect
import itertools
import math
import warnings
from typing import Callable

import numpy as np
import pytest
import sympy as sp
from hypothesis import assume, given, settings

from hessian_explorer import ExpressionError, kernels, parse_function
from hessian_explorer.calculus import Function
from hessian_explorer.special import sigmoid, softplus
from test_parsing import SYMBOL, build, trees

V0, V1 = sp.symbols("_v0 _v1", real=True)

EXPRESSIONS = [
    V0**2 * sp.sin(V1) + sp.exp(2 * V0) - sp.exp(V0),
    sp.log(sp.exp(V0) + sp.exp(V1)),
    1 / (V0**2 + V1**2 + 1) ** 3 + sp.sqrt(V0**2 + 1) ** 3 + (V0**2 + 2) ** sp.Rational(-3, 2),
    sp.Abs(V0) * sp.sign(V1) + V0**17 - V1**-5,
    sigmoid(V0 * V1) + softplus(V0 - V1) + sp.tanh(V0) * sp.atan(V1),
    2 - V0 - V1 + sp.pi * V0 + V0 ** V1,
    sp.exp(-(V0**2 + V1**2) / 2) * (V0 - 1),
]


def reference(exprs, points):
    fn = sp.lambdify([V0, V1], [e.rewrite(sp.exp) if e.has(sigmoid, softplus) else e for e in exprs], "numpy")
    with np.errstate(all="ignore"):
        out = np.array([[complex(v).real if complex(v).imag == 0 else np.nan for v in fn(*p)] for p in points])
    out[~np.isfinite(out)] = np.nan
    return out.T


@pytest.fixture
def small_chunks(monkeypatch):
    """Chunks of 1000 points, so that small batches cross chunk boundaries."""
    monkeypatch.setattr(kernels, "CHUNK", 1000)
    monkeypatch.setattr(kernels, "MIN_CHUNK", 1000)


@pytest.fixture
def threads(monkeypatch):
    """Threads share every batch of more than one point, however cheap the kernel."""
    monkeypatch.setattr(kernels, "_cores_to_spare", lambda: True)
    monkeypatch.setattr(kernels, "THREAD_CALL_NS", 0)
    monkeypatch.setattr(kernels, "THREAD_START_NS", -1)


@pytest.mark.parametrize("n_points", [1, 7, 999, 1001, 5005])
@pytest.mark.parametrize("threaded", [True, False])
def test_matches_lambdify_across_chunk_and_thread_boundaries(n_points, threaded, small_chunks, monkeypatch):
    monkeypatch.setattr(kernels, "_cores_to_spare", lambda: threaded)
    monkeypatch.setattr(kernels, "THREAD_CALL_NS", 0)
    monkeypatch.setattr(kernels, "THREAD_START_NS", -1)
    rng = np.random.default_rng(1)
    x = rng.normal(scale=2.0, size=(n_points, 2))
    kernel = kernels.compile_kernel(EXPRESSIONS, 2)
    assert_matches_reference(kernels.evaluate(kernel, x), x, rng)


def assert_matches_reference(table, x, rng):
    """``table`` (of EXPRESSIONS at ``x``) against lambdify at the ends and 40 random points."""
    n_points = len(x)
    probe = np.unique(np.r_[0, n_points - 1, rng.integers(0, n_points, 40)])
    expected = reference(EXPRESSIONS, x[probe])
    got = table[:, probe]
    assert np.array_equal(np.isnan(got), np.isnan(expected))
    ok = ~np.isnan(expected)
    np.testing.assert_allclose(got[ok], expected[ok], rtol=1e-12, atol=1e-300)


def test_rows_constants_and_copies():
    kernel = kernels.compile_kernel([V0 * V1, sp.Integer(3), sp.nan + V0], 2, rows=[[0, 2], [1], [3]])
    table = kernels.evaluate(kernel, np.array([[2.0, 5.0], [1.0, -1.0]]))
    np.testing.assert_array_equal(table[:3], [[10.0, -1.0], [3.0, 3.0], [10.0, -1.0]])
    assert np.isnan(table[3]).all()


def test_non_finite_results_are_nan_without_warnings():
    kernel = kernels.compile_kernel([1 / V0, sp.log(V1), sp.exp(V0 * 1000)], 2)
    x = np.array([[0.0, -1.0], [1.0, 1.0], [2.0, 0.0]])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        table = kernels.evaluate(kernel, x)
    assert np.isnan(table[0, 0]) and np.isnan(table[1, 0]) and np.isnan(table[1, 2]) and np.isnan(table[2, 2])
    assert table[0, 1] == 1.0 and table[1, 1] == 0.0


def test_exp_of_a_multiple_is_a_power_of_the_shared_exp():
    source = inspect.getsource(kernels.compile_kernel([sp.exp(2 * V0) + sp.exp(V0), sp.exp(3 * V0)], 2))
    assert source.count("_exp(") == 1


def _calls(kernel) -> list[str]:
    return [line.strip() for line in inspect.getsource(kernel).splitlines() if line.strip().startswith("_")]


def test_a_sums_integer_content_is_shared_between_gradient_entries():
    """Himmelblau's gradient, 4x(x² + y - 11) + 2(x + y² - 7) and 2(x² + y - 11) + 4y(x + y² - 7):
    each inner sum is computed once (sympy distributes 2(x + y² - 7) into 2x + 2y² - 14)."""
    calls = _calls(parse_function("(x^2 + y - 11)^2 + (x + y^2 - 7)^2")._gradient_fn)
    assert sum("-7.0" in c for c in calls) == 1 and sum("-11.0" in c for c in calls) == 1
    assert len(calls) <= 14


def test_a_shared_product_used_once_is_merged_into_its_user():
    """The Hessian needs 6x, so CSE shares it; the gradient's -6xy is still two products."""
    calls = _calls(parse_function("x^3 - 3x y^2")._gradient_fn)
    assert len(calls) == 6 and not any(c.startswith("_negative") for c in calls)


def test_unknown_node_falls_back_to_lambdify():
    expr = sp.re(V0) * V1 + sp.im(V0)  # re/im have no direct translation
    kernel = kernels.compile_kernel([expr], 2)
    np.testing.assert_array_equal(kernels.evaluate(kernel, np.array([[2.0, 3.0]])), [[6.0]])


def test_threads_give_the_same_table_as_one_thread(small_chunks, threads, monkeypatch):
    f = parse_function("sin(x) cos(y) + x^3 y")
    x = np.random.default_rng(2).normal(size=(6 * kernels.CHUNK + 3, 2))
    threaded = f.evaluate(x)
    monkeypatch.setattr(kernels, "THREADS", 1)
    single = f.evaluate(x)
    for a, b in zip((threaded.value, threaded.gradient, threaded.hessian), (single.value, single.gradient, single.hessian)):
        np.testing.assert_array_equal(a, b)


def test_an_error_in_a_kernel_reaches_the_caller(small_chunks, threads):
    kernel = kernels.compile_kernel([V0 + V1], 2)
    with pytest.raises(ValueError):
        kernels.evaluate(kernel, np.zeros((3 * kernels.CHUNK + 1, 3)))


# -- the floating-point flags decide when a chunk is scanned for non-finite values ----------------
HOSTILE = [0.0, -0.0, 1.0, -1.0, 0.5, 1e-300, -1e-300, 3.0, 700.0, 710.0, -710.0, 1e150, -1e150, 1e300,
           -1e308, np.pi / 2, math.inf, -math.inf, math.nan]
HOSTILE_POINTS = np.array(list(itertools.product(HOSTILE, repeat=2)))


def _scanned_always(f: Function) -> Callable:
    """``f``'s value/gradient/Hessian kernel, told that flags say nothing (every chunk is scanned)."""
    kernel = f._all_fn
    kernel.layout = dataclasses.replace(kernel.layout, flags_tell=False)
    return kernel


def two_functions(tree) -> tuple[Function, Function]:
    """Two separate :class:`Function` objects of a random expression in x and y, the first
    compiled; a hypothesis example whose expression the package refuses is skipped."""
    expr = build(tree)
    symbols = tuple(SYMBOL[name] for name in ("x", "y"))
    try:
        first, second = Function(expr, symbols), Function(expr, symbols)
        first.compile()
    except ExpressionError:
        assume(False)
    return first, second


@settings(max_examples=150, deadline=None)
@given(trees(variables=("x", "y")))
def test_flags_find_every_non_finite_result(tree):
    """Value, gradient and Hessian at overflowing, singular and non-finite points, a chunk each:
    the same table as scanning every chunk, and never an infinity."""
    flagged, scanned = two_functions(tree)
    with pytest.MonkeyPatch.context() as mp:  # a chunk per point: finite points are not scanned
        mp.setattr(kernels, "CHUNK", 1)
        mp.setattr(kernels, "MIN_CHUNK", 1)
        table = kernels.evaluate(flagged._all_fn, HOSTILE_POINTS)
        reference = kernels.evaluate(_scanned_always(scanned), HOSTILE_POINTS)
    assert not np.isinf(table).any()
    np.testing.assert_array_equal(table, reference)


def test_threads_only_where_the_model_says_they_gain(monkeypatch):
    """Arithmetic kernels stay on one thread up to tens of thousands of points (waking the pool and
    handing the GIL over costs more than it gains) and are shared beyond; sin and cos are shared
    from some ten thousand points, in a multiple of the threads' number of equal, contiguous
    chunks."""
    monkeypatch.setattr(kernels, "_cores_to_spare", lambda: True)
    monkeypatch.setattr(kernels, "THREADS", 2)
    cheap = parse_function("(1 - x)^2 + 100(y - x^2)^2")._hessian_fn.layout
    heavy = parse_function("sin(x) cos(y)")._hessian_fn.layout
    assert not kernels._plan(cheap, 40_000)[1]
    assert kernels._plan(cheap, 160_000) == ([(0, 80_000), (80_000, 160_000)], True)
    assert not kernels._plan(heavy, 100)[1]
    assert kernels._plan(heavy, 20_000)[1]
    bounds, parallel = kernels._plan(heavy, 100_001)
    assert parallel and len(bounds) % 2 == 0
    assert bounds[0][0] == 0 and bounds[-1][1] == 100_001
    assert all(a[1] == b[0] for a, b in zip(bounds, bounds[1:]))


def test_a_small_batch_is_one_chunk_without_asking_the_machine_for_its_load(monkeypatch):
    """Below the points where even a perfect split could pay for waking a thread, the plan is one
    chunk at once, and its small workspace is allocated afresh rather than taken from the pool."""
    def no(*_):
        raise AssertionError("a small batch asked for the load average")

    monkeypatch.setattr(kernels, "_cores_to_spare", no)
    monkeypatch.setattr(kernels, "THREADS", 2)
    layout = parse_function("sin(x) cos(y)")._hessian_fn.layout
    small = int(kernels.THREAD_START_NS / ((layout.point_ns + layout.n * kernels._INPUT_NS) / 2))
    assert kernels._plan(layout, small) == ([(0, small)], False)
    spare = [id(w) for w in kernels._SPARE]
    ws = kernels._acquire(layout.n + layout.buffers, 1000)  # 7 x 1000 doubles
    kernels._release(ws)
    assert [id(w) for w in kernels._SPARE] == spare
    x = np.random.default_rng(0).normal(size=(small, 2))
    np.testing.assert_allclose(kernels.evaluate(parse_function("sin(x) cos(y)")._gradient_fn, x)[0],
                               np.cos(x[:, 0]) * np.cos(x[:, 1]), rtol=1e-15)


@pytest.mark.parametrize(("loadavg", "spare"), [
    (b"0.50 0.40 0.30 1/80 1234\n", True),  # only this task runs
    (b"3.50 3.40 3.30 2/80 1234\n", False),  # another task holds the second core
    (b"0.00 0.00 0.00 5/80 1234\n", False),  # a burst the minute's average has not seen yet
])
def test_cores_to_spare_counts_the_tasks_running_now(monkeypatch, loadavg, spare):
    """The decision reads the running tasks of this instant, not the last minute's average (which
    counts this process's own threads of the batches before, and turned them off in a program
    that keeps them busy)."""
    import io

    monkeypatch.setattr(kernels, "THREADS", 2)
    monkeypatch.setattr(kernels.os, "cpu_count", lambda: 2)
    monkeypatch.setattr(kernels, "open", lambda *a, **k: io.BytesIO(loadavg), raising=False)
    assert kernels._cores_to_spare() is spare
