"""Fused kernels (numba): the numpy kernels' statements run point by point in one compiled loop.

References are independent of both kernels where values are compared: sympy's ``lambdify`` on
the same expressions, point by point, and closed forms. Where the fused loop must keep the numpy
kernel's contract (which entries are ``nan``, no warning), the numpy kernel is the reference.
"""

from __future__ import annotations

import sys
import warnings

import numpy as np
import pytest
import sympy as sp
from hypothesis import given, settings

from hessian_explorer import fused, kernels, parse_function
from hessian_explorer.presets import PRESETS
from test_kernels import EXPRESSIONS, HOSTILE_POINTS, V0, V1, assert_matches_reference, two_functions
from test_parsing import trees


@pytest.fixture
def threads(monkeypatch):
    """Threads share every fused batch, however small."""
    monkeypatch.setattr(kernels, "_cores_to_spare", lambda: True)
    monkeypatch.setattr(kernels, "FUSED_THREAD_NS", -1)


def _fused_kernel(exprs, rows=None):
    kernel = kernels.compile_kernel(exprs, 2, rows)
    assert fused.fuse(kernel)
    return kernel


@pytest.mark.parametrize("n_points", [1, 2, 7, 5005])
@pytest.mark.parametrize("threaded", [True, False])
def test_matches_lambdify_with_and_without_threads(n_points, threaded, monkeypatch):
    monkeypatch.setattr(kernels, "_cores_to_spare", lambda: threaded)
    monkeypatch.setattr(kernels, "FUSED_THREAD_NS", -1)
    rng = np.random.default_rng(3)
    x = rng.normal(scale=2.0, size=(n_points, 2))
    assert_matches_reference(kernels.evaluate(_fused_kernel(EXPRESSIONS), x), x, rng)


def test_the_loop_is_the_numpy_kernels_statements_in_order():
    """Himmelblau's gradient: the same three-address statements, now on scalars in one loop."""
    kernel = parse_function("(x^2 + y - 11)^2 + (x + y^2 - 7)^2")._gradient_fn
    source = fused.loop_source(kernel.statements, 2, (0, 1))
    body = [line.strip() for line in source.splitlines() if " = _" in line]
    assert body == [f"{s.split('out=')[1][:-1]} = {s.split('(')[0]}({s.split('(', 1)[1].split(', out=')[0]})"
                    for s in kernel.statements]
    assert "w0 = x[2 * i + 0]" in source and "r1[i] = o1 if abs(o1) < _inf else _nan" in source


def test_rows_constants_and_copies():
    kernel = _fused_kernel([V0 * V1, sp.Integer(3), sp.nan + V0, V1 - V0], rows=[[0, 2], [1], [3], [4]])
    table = kernels.evaluate(kernel, np.array([[2.0, 5.0], [1.0, -1.0]]))
    np.testing.assert_array_equal(table[[0, 1, 2, 4]], [[10.0, -1.0], [3.0, 3.0], [10.0, -1.0], [3.0, -2.0]])
    assert np.isnan(table[3]).all()


def test_non_finite_results_are_nan_without_warnings():
    kernel = _fused_kernel([1 / V0, sp.log(V1), sp.exp(V0 * 1000), sp.asin(V1), V0 ** sp.Rational(1, 3),
                            sp.sign(V0) * V1, sp.Abs(V0) / V1])
    x = np.array([[0.0, -1.0], [1.0, 1.0], [2.0, 0.0], [-8.0, 2.0], [np.nan, 0.5], [np.inf, -np.inf]])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        table = kernels.evaluate(kernel, x)
    expected = np.array([  # by hand
        [np.nan, 1.0, 0.5, -0.125, np.nan, 0.0],  # 1/x
        [np.nan, 0.0, np.nan, np.log(2.0), np.log(0.5), np.nan],  # log y
        [1.0, np.nan, np.nan, 0.0, np.nan, np.nan],  # exp(1000 x): overflow is nan
        [-np.pi / 2, np.pi / 2, 0.0, np.nan, np.arcsin(0.5), np.nan],  # asin y
        [0.0, 1.0, 2.0 ** (1 / 3), np.nan, np.nan, np.nan],  # x^(1/3): nan for x < 0 (real branch not taken)
        [-0.0, 1.0, 0.0, -2.0, np.nan, np.nan],  # sign(x) y
        [-0.0, 1.0, np.nan, 4.0, np.nan, np.nan],  # |x|/y
    ])
    assert np.array_equal(np.isnan(table), np.isnan(expected))
    ok = ~np.isnan(expected)
    np.testing.assert_allclose(table[ok], expected[ok], rtol=1e-15)


def test_sigmoid_and_softplus_are_stable_at_both_tails():
    from hessian_explorer.special import sigmoid, softplus

    kernel = _fused_kernel([sigmoid(V0), softplus(V0)])
    x = np.array([[-800.0, 0.0], [-30.0, 0.0], [0.0, 0.0], [30.0, 0.0], [800.0, 0.0]])
    table = kernels.evaluate(kernel, x)
    with np.errstate(over="ignore"):
        np.testing.assert_allclose(table[0], [np.exp(-800.0), 1 / (1 + np.exp(30.0)), 0.5, 1 / (1 + np.exp(-30.0)), 1.0],
                                   rtol=1e-15, atol=0)
    np.testing.assert_allclose(table[1], [np.exp(-800.0), np.log1p(np.exp(-30.0)), np.log(2.0),
                                          30.0 + np.log1p(np.exp(-30.0)), 800.0], rtol=1e-15, atol=0)


@settings(max_examples=120, deadline=None)
@given(trees(variables=("x", "y")))
def test_same_nans_and_values_as_the_numpy_kernel_at_hostile_points(tree):
    """Value, gradient and Hessian at overflowing, singular and non-finite points: ``nan`` exactly
    where the numpy kernel has it, never an infinity, no warning, and the same values up to the
    last bits of ``exp``/``sin``/... (the C library's against numpy's)."""
    plain, fast = two_functions(tree)
    fast.compile(fused=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        got = kernels.evaluate(fast._all_fn, HOSTILE_POINTS)
    expected = kernels.evaluate(plain._all_fn, HOSTILE_POINTS)
    assert not np.isinf(got).any()
    assert np.array_equal(np.isnan(got), np.isnan(expected))
    ok = ~np.isnan(expected)
    np.testing.assert_allclose(got[ok], expected[ok], rtol=1e-9, atol=1e-300)


@pytest.mark.parametrize("preset", PRESETS, ids=lambda p: p.key)
def test_presets_give_the_same_numbers_fused(preset):
    plain = parse_function(preset.text, preset.variables)
    fast = parse_function(preset.text, preset.variables).compile(fused=True)
    x = np.random.default_rng(4).uniform(-2, 2, size=(3, 257, len(preset.variables)))  # a batch shape, not a list
    for name in ("value", "gradient", "hessian"):
        np.testing.assert_allclose(getattr(fast, name)(x), getattr(plain, name)(x), rtol=1e-13, atol=1e-300)
    ev, ref = fast.evaluate(x), plain.evaluate(x)
    np.testing.assert_allclose(ev.hessian, ref.hessian, rtol=1e-13, atol=1e-300)


def test_a_closed_form_through_the_public_api(threads):
    """Rosenbrock: ∇f = (-2(1-x) - 400x(y-x²), 200(y-x²)), H = [[2 - 400y + 1200x², -400x], [-400x, 200]]."""
    f = parse_function("(1 - x)^2 + 100(y - x^2)^2").compile(fused=True)
    x = np.random.default_rng(5).normal(size=(10_001, 2))
    a, b = x[:, 0], x[:, 1]
    np.testing.assert_allclose(f.gradient(x), np.stack([-2 * (1 - a) - 400 * a * (b - a**2), 200 * (b - a**2)], 1),
                               rtol=1e-12, atol=1e-12)
    h = f.hessian(x)
    np.testing.assert_allclose(h[:, 0, 0], 2 - 400 * b + 1200 * a**2, rtol=1e-12)
    np.testing.assert_array_equal(h[:, 0, 1], -400 * a)
    np.testing.assert_array_equal(h[:, 1, 0], -400 * a)
    np.testing.assert_array_equal(h[:, 1, 1], 200.0)


def test_kernels_that_cannot_be_fused_stay_numpy_kernels():
    fallback = kernels.compile_kernel([sp.floor(V0) * V1], 2)  # lambdify fallback: no statements
    constant = parse_function("x^2 + y^2")._hessian_fn  # every row a constant
    assert not fused.fuse(fallback) and not fused.fuse(constant)
    np.testing.assert_array_equal(kernels.evaluate(fallback, np.array([[2.5, 3.0]])), [[6.0]])
    np.testing.assert_array_equal(kernels.evaluate(constant, np.zeros((2, 2))), [[2.0, 2.0], [0, 0], [0, 0], [2.0, 2.0]])


def test_points_of_the_wrong_width_are_refused(threads):
    kernel = _fused_kernel([V0 + V1])
    with pytest.raises(ValueError, match=r"shape \(N, 2\)"):
        kernels.evaluate(kernel, np.zeros((10, 3)))


def test_strided_and_integer_points_are_read_correctly():
    kernel = _fused_kernel([V0 - 2 * V1])
    x = np.arange(24).reshape(4, 6)[:, ::3]  # integers, not contiguous: [[0, 3], [6, 9], ...]
    np.testing.assert_array_equal(kernels.evaluate(kernel, x)[0], x[:, 0] - 2.0 * x[:, 1])


def test_without_numba_the_error_says_how_to_install_it(monkeypatch):
    monkeypatch.setitem(sys.modules, "numba", None)  # import numba now raises ImportError
    with pytest.raises(ImportError, match="pip install numba"):
        parse_function("x y").compile(fused=True)


def _fast_exp(x: np.ndarray) -> np.ndarray:
    import numba

    from hessian_explorer._fastexp import exp

    @numba.njit
    def loop(x, out):
        for i in range(x.size):
            out[i] = exp(x[i])

    out = np.empty_like(x)
    loop(x, out)
    return out


def test_fast_exp_is_within_an_ulp_of_the_exact_value():
    """Against mpmath at 40 digits, across the whole range: normal results, subnormal results,
    and the reduction's edges (x near k ln2 / 2, where |r| is largest)."""
    import mpmath

    rng = np.random.default_rng(11)
    half_steps = (np.arange(-2140, 2048) + 0.5) * np.log(2) / 2
    x = np.concatenate([rng.uniform(-708.3, 709.7, 6000), rng.uniform(-1, 1, 2000), rng.uniform(-745, -708.4, 1000),
                        half_steps[(half_steps > -745) & (half_steps < 709.7)], np.nextafter(half_steps[:500], 0)])
    got = _fast_exp(x)
    with mpmath.workdps(40):
        exact = [mpmath.exp(mpmath.mpf(float(v))) for v in x]
        ulps = [float(abs(mpmath.mpf(float(g)) - e) / np.spacing(float(e))) for g, e in zip(got, exact)]
    assert max(ulps) <= 1.0


def test_fast_exp_at_special_values():
    x = np.array([0.0, -0.0, 1.0, np.log(2.0) * 10, 709.78, 709.79, -745.13, -745.14, -1e300, 1e300,
                  np.inf, -np.inf, np.nan, 1e-300])
    got = _fast_exp(x)
    assert got[0] == 1.0 and got[1] == 1.0 and got[13] == 1.0
    assert abs(got[2] - np.e) <= np.spacing(np.e)
    assert abs(got[3] - 1024.0) <= np.spacing(1024.0)
    assert np.isfinite(got[4]) and got[4] > 1.7e308 and got[5] == np.inf
    assert got[6] == 5e-324 and got[7] == 0.0  # the smallest subnormal, then 0
    assert got[8] == 0.0 and got[9] == np.inf and got[10] == np.inf and got[11] == 0.0 and np.isnan(got[12])
