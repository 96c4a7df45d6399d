"""The compiled numpy kernels behind every evaluator: chunking, threads, rewrites and fallbacks.

References are independent of the kernels: sympy's own ``lambdify`` on the same expressions
(evaluated point by point in plain numpy), and closed forms.
"""

from __future__ import annotations

import inspect
import warnings

import numpy as np
import pytest
import sympy as sp

from hessian_explorer import kernels, parse_function
from hessian_explorer.special import sigmoid, softplus

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


@pytest.mark.parametrize("n_points", [1, 7, kernels.CHUNK - 1, kernels.CHUNK + 1, kernels.PARALLEL_MIN_POINTS + 5])
@pytest.mark.parametrize("threads", [True, False])
def test_matches_lambdify_across_chunk_and_thread_boundaries(n_points, threads, monkeypatch):
    monkeypatch.setattr(kernels, "_cores_to_spare", lambda: threads)
    rng = np.random.default_rng(1)
    x = rng.normal(scale=2.0, size=(n_points, 2))
    kernel = kernels.compile_kernel(EXPRESSIONS, 2)
    table = kernels.evaluate(kernel, x)
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


def test_unknown_node_falls_back_to_lambdify():
    expr = sp.re(V0) * V1 + sp.im(V0)  # re/im have no direct translation
    kernel = kernels.compile_kernel([expr], 2)
    np.testing.assert_array_equal(kernels.evaluate(kernel, np.array([[2.0, 3.0]])), [[6.0]])


def test_threads_give_the_same_table_as_one_thread(monkeypatch):
    monkeypatch.setattr(kernels, "_cores_to_spare", lambda: True)
    f = parse_function("sin(x) cos(y) + x^3 y")
    x = np.random.default_rng(2).normal(size=(kernels.PARALLEL_MIN_POINTS * 2 + 3, 2))
    threaded = f.evaluate(x)
    monkeypatch.setattr(kernels, "THREADS", 1)
    single = f.evaluate(x)
    for a, b in zip((threaded.value, threaded.gradient, threaded.hessian), (single.value, single.gradient, single.hessian)):
        np.testing.assert_array_equal(a, b)


def test_an_error_in_a_kernel_reaches_the_caller(monkeypatch):
    monkeypatch.setattr(kernels, "_cores_to_spare", lambda: True)
    kernel = kernels.compile_kernel([V0 + V1], 2)
    with pytest.raises(ValueError):
        kernels.evaluate(kernel, np.zeros((kernels.PARALLEL_MIN_POINTS + 1, 3)))
