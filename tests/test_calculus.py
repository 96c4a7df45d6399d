"""Gradients, Hessians and their evaluators, checked against independent references.

References: closed forms; sympy derivatives taken here and evaluated in 50-digit mpmath arithmetic
(with sigmoid and softplus expanded by hand, so the custom classes are not on the reference path);
central finite differences of the compiled value and gradient; and jax's autodiff of hand-written
jax.numpy versions of the presets.
"""

from __future__ import annotations

import functools
import warnings
from dataclasses import dataclass
from typing import Callable

import mpmath
import numpy as np
import pytest
import sympy as sp

from hessian_explorer import ExpressionError, parse_function
from hessian_explorer.presets import PRESETS
from hessian_explorer.special import sigmoid, softplus


# -- functions under test, with where to sample them ------------------------------------------------


@dataclass(frozen=True)
class Case:
    text: str
    variables: tuple[str, ...]
    ranges: tuple[tuple[float, float], ...]
    domain: Callable[[np.ndarray], np.ndarray] | None = None  # keeps rows of points where True

    @property
    def id(self) -> str:
        return self.text

    def points(self, m: int) -> np.ndarray:
        """``m`` random points in the ranges (and the domain), shape ``(m, n)``."""
        low, high = np.array(self.ranges).T
        rows = np.empty((0, len(self.variables)))
        while len(rows) < m:
            batch = np.random.uniform(low, high, size=(4 * m, len(self.variables)))
            if self.domain is not None:
                batch = batch[self.domain(batch)]
            rows = np.concatenate([rows, batch])
        return rows[:m]


DOMAINS = {"neglog": lambda p: 1 - p[:, 0] - p[:, 1] > 0.05}


def preset_case(preset) -> Case:
    ranges = (preset.x_range, preset.y_range, preset.x_range)[: len(preset.variables)]
    return Case(preset.text, preset.variables, ranges, DOMAINS.get(preset.key))


@functools.lru_cache(maxsize=None)
def compiled(text: str, variables: tuple[str, ...]):
    """``parse_function`` once per function for the whole module (Functions are immutable)."""
    return parse_function(text, variables)


PRESET_CASES = [preset_case(p) for p in PRESETS]
XY = ("x", "y")
EXTRA_CASES = [
    Case("sigmoid(x y) + softplus(x - y)", XY, ((-4, 4), (-4, 4))),
    Case("sigmoid(3x) softplus(-2y) + sigmoid(-x - y)^2", XY, ((-3, 3), (-3, 3))),
    Case("log(x^2 + y^2 + 1) + log(x) - log(y, 3)", XY, ((0.1, 5), (0.1, 5))),
    Case("log(x, 2) log(y, 10)", XY, ((0.2, 4), (0.2, 4))),
    Case("sqrt(x^2 + 2y^2 + 0.5) + sqrt(x y)", XY, ((0.2, 3), (0.2, 3))),
    Case("abs(x - y)^3 + abs(x) y + abs(x y - 1)", XY, ((-2, 2), (-2, 2)),
         lambda p: (np.abs(p[:, 0] - p[:, 1]) > 0.1) & (np.abs(p[:, 0]) > 0.1) & (np.abs(p[:, 0] * p[:, 1] - 1) > 0.1)),
    Case("atan(x y) + tanh(x - 2y) + arctan(x/3)", XY, ((-3, 3), (-3, 3))),
    Case("asin(x/2) + acos(y/3)", XY, ((-1.5, 1.5), (-2, 2))),
    Case("exp(-x^2) cos(3y) + sinh(x) cosh(y) + tan(x y / 4)", XY, ((-2, 2), (-2, 2))),
    Case("x^y + y^(1/3)", XY, ((0.3, 3), (0.3, 3))),
    Case("1/(1 + x^2 + y^4) - 3/(2 + sin(x y))", XY, ((-2, 2), (-2, 2))),
    Case("x^7 y^3 - 2x y^5 + 1.5e-3", XY, ((-1.5, 1.5), (-1.5, 1.5))),
    Case("x y z + sin(x + z) + log(1 + y^2) + exp(-z^2/3)", ("x", "y", "z"), ((-2, 2),) * 3),
    Case("sigmoid(a + 2b - c + d/2) + softplus(a b c d)", ("a", "b", "c", "d"), ((-2, 2),) * 4),
]
ALL_CASES = PRESET_CASES + EXTRA_CASES


# -- closed forms ----------------------------------------------------------------------------------


@pytest.mark.parametrize("n", [2, 3, 4, 5])
def test_quadratic_form_has_hessian_a_plus_a_transpose(n):
    names = ("u", "v", "w", "p", "q")[:n]
    a = np.random.uniform(-3, 3, size=(n, n))
    text = " + ".join(f"({float(a[i, j])!r})*{names[i]}*{names[j]}" for i in range(n) for j in range(n))
    f = parse_function(text, names)
    points = np.random.uniform(-2, 2, size=(7, n))
    np.testing.assert_allclose(f.hessian(points), np.broadcast_to(a + a.T, (7, n, n)), rtol=1e-14, atol=1e-14)
    np.testing.assert_allclose(f.gradient(points), points @ (a + a.T).T, rtol=1e-12, atol=1e-12)


def test_rosenbrock_hessian_at_the_minimum():
    f = parse_function("(1 - x)^2 + 100(y - x^2)^2")
    np.testing.assert_array_equal(f.hessian([1.0, 1.0]), [[802.0, -400.0], [-400.0, 200.0]])
    np.testing.assert_array_equal(f.gradient([1.0, 1.0]), [0.0, 0.0])


def test_linear_function_has_zero_hessian_broadcast_to_the_points():
    f = parse_function("2x + 3y")
    points = np.random.uniform(-1, 1, size=(4, 3, 2))
    assert f.hessian(points).shape == (4, 3, 2, 2)
    np.testing.assert_array_equal(f.hessian(points), 0.0)
    np.testing.assert_array_equal(f.gradient(points), np.broadcast_to([2.0, 3.0], (4, 3, 2)))
    ev = f.evaluate(points)
    assert ev.hessian.shape == (4, 3, 2, 2) and ev.gradient.shape == (4, 3, 2) and ev.value.shape == (4, 3)


def test_monkey_saddle_hessian_vanishes_at_the_origin():
    f = parse_function("x^3 - 3x y^2")
    np.testing.assert_array_equal(f.hessian([0.0, 0.0]), np.zeros((2, 2)))
    np.testing.assert_array_equal(f.hessian([1.0, 2.0]), [[6.0, -12.0], [-12.0, -6.0]])


def test_symbolic_derivatives_are_exact():
    x, y = sp.symbols("x y", real=True)
    f = parse_function("x^2 y + sin(x y)")
    assert f.gradient_expr == (2 * x * y + y * sp.cos(x * y), x**2 + x * sp.cos(x * y))
    expected = sp.Matrix([[2 * y - y**2 * sp.sin(x * y), 2 * x + sp.cos(x * y) - x * y * sp.sin(x * y)],
                          [2 * x + sp.cos(x * y) - x * y * sp.sin(x * y), -(x**2) * sp.sin(x * y)]])
    assert sp.simplify(f.hessian_expr - expected) == sp.zeros(2, 2)
    assert f.gradient_outer_expr == sp.Matrix(f.gradient_expr) * sp.Matrix(f.gradient_expr).T
    assert "sin" in f.latex and r"\left[" in f.hessian_latex and f.gradient_latex


# -- accuracy against 50-digit arithmetic ------------------------------------------------------------


def _expand_special(expr: sp.Expr) -> sp.Expr:
    """sigmoid and softplus written out with exp and log, by hand (not through the classes)."""
    expr = expr.replace(lambda e: isinstance(e, sigmoid), lambda e: 1 / (1 + sp.exp(-e.args[0])))
    return expr.replace(lambda e: isinstance(e, softplus), lambda e: sp.log(1 + sp.exp(e.args[0])))


def _reference(expr: sp.Expr, symbols) -> Callable[[np.ndarray], tuple[float, np.ndarray, np.ndarray]]:
    """Value, gradient and Hessian of ``expr`` from sympy derivatives taken here, in 50-digit mpmath.

    At the points used, away from kinks, the Dirac deltas of ``abs''`` are zero.
    """
    n = len(symbols)
    gradient = [sp.diff(expr, s) for s in symbols]
    hessian = [sp.diff(g, s) for g in gradient for s in symbols]  # both (i, j) and (j, i)
    exprs = [e.replace(sp.DiracDelta, lambda *args: sp.S.Zero) for e in [expr, *gradient, *hessian]]
    fn = sp.lambdify(symbols, exprs, modules="mpmath")

    def evaluate(point):
        with mpmath.workdps(50):
            results = fn(*(mpmath.mpf(float(v)) for v in point))  # floats convert exactly
            for r in results:
                assert abs(mpmath.im(r)) <= mpmath.mpf(10) ** -40 * max(1, abs(mpmath.re(r)))
            values = np.array([float(mpmath.re(r)) for r in results])
        return values[0], values[1 : 1 + n], values[1 + n :].reshape(n, n)

    return evaluate


def _close(actual, reference, scale) -> None:
    actual, reference = np.asarray(actual, dtype=float), np.asarray(reference, dtype=float)
    tol = 1e-10 * np.maximum(np.maximum(1.0, np.abs(reference)), scale)
    assert np.all(np.abs(actual - reference) <= tol), (actual, reference)


@pytest.mark.parametrize("case", ALL_CASES, ids=[c.id for c in ALL_CASES])
def test_value_gradient_hessian_match_50_digit_reference(case):
    f = compiled(case.text, case.variables)
    expr = _expand_special(f.expr)
    assert not expr.has(sigmoid, softplus)
    reference = _reference(expr, f.symbols)
    points = case.points(4)
    values, gradients, hessians = f.value(points), f.gradient(points), f.hessian(points)
    for k, point in enumerate(points):
        ref_value, ref_gradient, ref_hessian = reference(point)
        _close(values[k], ref_value, abs(ref_value))
        _close(gradients[k], ref_gradient, np.abs(ref_gradient).max())
        _close(hessians[k], ref_hessian, np.abs(ref_hessian).max())


# -- finite differences -------------------------------------------------------------------------------


def _central_difference(fn: Callable[[np.ndarray], np.ndarray], points: np.ndarray, h: float = 1e-5) -> np.ndarray:
    """Jacobian of ``fn`` (points ``(m, n)`` -> ``(m, ...)``) by central differences: ``(m, ..., n)``."""
    columns = []
    for i in range(points.shape[-1]):
        step = np.zeros(points.shape[-1])
        step[i] = h
        columns.append((fn(points + step) - fn(points - step)) / (2 * h))
    return np.stack(columns, axis=-1)


def _fd_close(actual, estimate, value_scale) -> None:
    per_point = np.abs(actual).max(axis=tuple(range(1, actual.ndim)), keepdims=True)
    scale = np.maximum(1.0, np.maximum(per_point, value_scale))
    assert np.all(np.abs(actual - estimate) <= 1e-6 * scale), np.abs(actual - estimate).max()


@pytest.mark.parametrize("case", ALL_CASES, ids=[c.id for c in ALL_CASES])
def test_gradient_matches_central_differences_of_the_value(case):
    f = compiled(case.text, case.variables)
    points = case.points(8)
    value_scale = np.abs(f.value(points)).reshape(-1, 1)
    _fd_close(f.gradient(points), _central_difference(f.value, points), value_scale)


@pytest.mark.parametrize("case", ALL_CASES, ids=[c.id for c in ALL_CASES])
def test_hessian_matches_central_differences_of_the_gradient(case):
    f = compiled(case.text, case.variables)
    points = case.points(8)
    value_scale = np.abs(f.gradient(points)).max(axis=-1).reshape(-1, 1, 1)
    _fd_close(f.hessian(points), _central_difference(f.gradient, points), value_scale)


# -- structure: symmetry, the naive matrix, curvature along a direction -----------------------------


@pytest.mark.parametrize("case", ALL_CASES, ids=[c.id for c in ALL_CASES])
def test_hessian_is_symmetric(case):
    h = compiled(case.text, case.variables).hessian(case.points(16))
    np.testing.assert_array_equal(h, np.swapaxes(h, -1, -2))


@pytest.mark.parametrize("case", ALL_CASES, ids=[c.id for c in ALL_CASES])
def test_gradient_outer_is_symmetric_psd_rank_one(case):
    f = compiled(case.text, case.variables)
    points = case.points(16)
    g, outer = f.gradient(points), f.gradient_outer(points)
    np.testing.assert_array_equal(outer, np.swapaxes(outer, -1, -2))
    scale = np.maximum(1.0, np.abs(outer).max(axis=(-2, -1)))
    assert np.all(np.linalg.eigvalsh(outer).min(axis=-1) >= -1e-12 * scale)
    assert np.all(np.linalg.matrix_rank(outer) <= 1)
    np.testing.assert_allclose(outer, np.einsum("mi,mj->mij", g, g), rtol=1e-15, atol=0)


@pytest.mark.parametrize("text", ["x^2 + y^2", "x^2 - y^2", "x^3 - 3x y^2", "2x + 3y - 2x - 3y + x y"])
def test_gradient_outer_vanishes_at_a_critical_point(text):
    f = parse_function(text, ("x", "y"))
    np.testing.assert_array_equal(f.gradient_outer([0.0, 0.0]), np.zeros((2, 2)))


def _second_derivative_along(f, point, v, h=1e-3) -> float:
    """5-point stencil for d²/dt² f(x + t v/|v|) at t = 0."""
    u = v / np.linalg.norm(v)
    t = np.array([-2, -1, 0, 1, 2])[:, None] * h
    fm2, fm1, f0, fp1, fp2 = f.value(point + t * u)
    return (-fp2 + 16 * fp1 - 30 * f0 + 16 * fm1 - fm2) / (12 * h * h)


@pytest.mark.parametrize("case", ALL_CASES, ids=[c.id for c in ALL_CASES])
def test_curvature_is_the_second_derivative_along_the_direction(case):
    f = compiled(case.text, case.variables)
    for point in case.points(3):
        v = np.random.normal(size=f.n) * np.random.uniform(0.1, 10)
        expected = _second_derivative_along(f, point, v)
        scale = max(1.0, abs(float(f.value(point))), np.abs(f.hessian(point)).max())
        assert abs(float(f.curvature(point, v)) - expected) <= 1e-5 * scale


@pytest.mark.parametrize("case", ALL_CASES, ids=[c.id for c in ALL_CASES])
def test_curvature_is_invariant_to_scaling_the_direction(case):
    f = compiled(case.text, case.variables)
    points = case.points(5)
    v = np.random.normal(size=f.n)
    c = f.curvature(points, v)
    for factor in (1e-3, 3.7, 1e4):
        np.testing.assert_allclose(f.curvature(points, factor * v), c, rtol=1e-12, atol=1e-12 * np.abs(c).max())


def test_curvature_broadcasts_one_direction_per_point():
    f = parse_function("x^2 + 3y^2 + x y")
    points = np.random.uniform(-1, 1, size=(6, 2))
    directions = np.random.normal(size=(6, 2))
    expected = [f.curvature(p, v) for p, v in zip(points, directions)]
    np.testing.assert_allclose(f.curvature(points, directions), expected, rtol=1e-14)
    assert float(f.curvature([0.0, 0.0], [0.0, 5.0])) == 6.0


@pytest.mark.parametrize(
    "v", [[0.0, 0.0], [[1.0, 0.0], [0.0, 0.0]], [np.nan, 1.0], [np.inf, 0.0], [1.0, 2.0, 3.0], 1.0]
)
def test_curvature_refuses_zero_non_finite_or_misshapen_directions(v):
    f = parse_function("x^2 + y^2")
    with pytest.raises(ValueError):
        f.curvature(np.zeros((2, 2)), v)


TWO_D_CASES = [c for c in ALL_CASES if len(c.variables) == 2]


@pytest.mark.parametrize("case", TWO_D_CASES, ids=[c.id for c in TWO_D_CASES])
def test_curvature_extremes_over_directions_are_the_eigenvalues(case):
    f = compiled(case.text, case.variables)
    angles = np.linspace(0.0, np.pi, 3601)
    directions = np.stack([np.cos(angles), np.sin(angles)], axis=-1)
    for point in case.points(3):
        curvatures = f.curvature(point, directions)
        low, high = np.linalg.eigvalsh(f.hessian(point))
        tol = 1e-6 * max(1.0, high - low, abs(high), abs(low))
        assert abs(curvatures.max() - high) <= tol
        assert abs(curvatures.min() - low) <= tol


# -- jax as an independent autodiff reference --------------------------------------------------------


@pytest.fixture(scope="module")
def jax_numpy(jax_float64):
    return jax_float64, jax_float64.numpy


def _jax_presets(jnp):
    return {
        "bowl": lambda x, y: x**2 + y**2,
        "rotated": lambda x, y: x**2 + x * y + 2 * y**2,
        "monkey": lambda x, y: x**3 - 3 * x * y**2,
        "rosenbrock": lambda x, y: (1 - x) ** 2 + 100 * (y - x**2) ** 2,
        "himmelblau": lambda x, y: (x**2 + y - 11) ** 2 + (x + y**2 - 7) ** 2,
        "gaussian": lambda x, y: jnp.exp(-(x**2 + y**2) / 2),
        "sincos": lambda x, y: jnp.sin(x) * jnp.cos(y),
        "logsumexp": lambda x, y: jnp.log(jnp.exp(x) + jnp.exp(y)),
        "exp_sum": lambda x, y: jnp.exp(x + y),
        "neglog": lambda x, y: -jnp.log(1 - x - y),
        "double_well": lambda x, y: x**4 - 2 * x**2 + y**2,
        "cubic": lambda x, y: x**3 + y**3 - 3 * x * y,
        "three_d": lambda x, y, z: x**2 + 2 * y**2 + 3 * z**2 + x * y + y * z,
    }


JAX_KEYS = ["bowl", "rotated", "monkey", "rosenbrock", "himmelblau", "gaussian", "sincos", "logsumexp",
            "exp_sum", "neglog", "double_well", "cubic", "three_d"]


@pytest.mark.parametrize("key", JAX_KEYS)
def test_hessian_matches_jax_autodiff_on_a_grid(key, jax_numpy):
    jax, jnp = jax_numpy
    preset = next(p for p in PRESETS if p.key == key)
    case = preset_case(preset)
    fn = _jax_presets(jnp)[key]
    hessian = jax.jit(jax.vmap(jax.hessian(lambda p: fn(*p))))
    axes = [np.linspace(lo, hi, 7) for lo, hi in case.ranges]
    points = np.stack(np.meshgrid(*axes, indexing="ij"), axis=-1).reshape(-1, len(axes))
    if case.domain is not None:
        points = points[case.domain(points)]
    expected = np.asarray(hessian(jnp.asarray(points)))
    f = compiled(preset.text, preset.variables)
    actual = f.hessian(points)
    scale = np.maximum(1.0, np.abs(expected).max(axis=(-2, -1), keepdims=True))
    assert np.all(np.abs(actual - expected) <= 1e-10 * scale)
    gradient = np.asarray(jax.jit(jax.vmap(jax.grad(lambda p: fn(*p))))(jnp.asarray(points)))
    np.testing.assert_allclose(f.gradient(points), gradient, rtol=1e-10, atol=1e-10)


# -- non-finite results are nan, silently ------------------------------------------------------------


@pytest.fixture
def no_warnings():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        yield


@pytest.mark.parametrize(
    ("text", "point", "bad"),
    [
        ("log(x) + y", [-1.0, 0.0], {"value"}),
        ("sqrt(x) + y^2", [-4.0, 1.0], {"value", "gradient", "hessian"}),
        ("1/x + y", [0.0, 1.0], {"value", "gradient", "hessian"}),
        ("x/y", [1.0, 0.0], {"value", "gradient", "hessian"}),
        ("exp(exp(x)) + y", [10.0, 0.0], {"value", "gradient", "hessian"}),
        ("log(x y)", [-1.0, 2.0], {"value"}),
    ],
)
def test_non_finite_results_are_nan_without_warnings(text, point, bad, no_warnings):
    f = parse_function(text, ("x", "y"))
    ev = f.evaluate(point)
    parts = {"value": f.value(point), "gradient": f.gradient(point), "hessian": f.hessian(point)}
    for name, part in parts.items():
        assert np.isnan(part).any() == (name in bad), name
        assert not np.isinf(part).any()
        np.testing.assert_array_equal(part, getattr(ev, name))
    assert not ev.valid
    good = f.evaluate([2.0, 3.0])
    assert good.valid


def test_valid_marks_each_point_of_a_batch(no_warnings):
    f = parse_function("log(x) + 1/y")
    points = np.array([[1.0, 1.0], [-1.0, 1.0], [1.0, 0.0], [2.0, -3.0]])
    np.testing.assert_array_equal(f.evaluate(points).valid, [True, False, False, True])


@pytest.mark.parametrize("text", ["sqrt(-1) x + x^2", "log(-1) x + y", "x^2 + log(x, -2)"])
def test_complex_constants_are_refused_or_nan_never_their_real_part(text, no_warnings):
    """A constant like sqrt(-1) must not be silently replaced by its real part (0)."""
    try:
        f = parse_function(text)
    except ExpressionError:
        return
    ev = f.evaluate(np.full(f.n, 0.5))
    assert not ev.valid


# -- shapes and batches ----------------------------------------------------------------------------


@pytest.mark.parametrize("batch", [(), (5,), (3, 4), (0,)], ids=["(n,)", "(m, n)", "(a, b, n)", "(0, n)"])
def test_output_shapes_follow_the_points(batch):
    f = parse_function("x^2 y + sin(z)")
    points = np.random.uniform(-1, 1, size=(*batch, 3))
    ev = f.evaluate(points)
    assert f.value(points).shape == ev.value.shape == batch
    assert f.gradient(points).shape == ev.gradient.shape == (*batch, 3)
    assert f.hessian(points).shape == ev.hessian.shape == f.gradient_outer(points).shape == (*batch, 3, 3)
    assert f.curvature(points, [1.0, 0.0, 0.0]).shape == ev.valid.shape == batch


@pytest.mark.parametrize("points", [[1.0, 2.0], np.zeros((4, 2)), np.zeros((2, 3, 4)), 1.0])
def test_a_wrong_last_dimension_names_the_variables(points):
    f = parse_function("x + y^2 + z")
    with pytest.raises(ValueError, match=r"\(x, y, z\)"):
        f.value(points)
    with pytest.raises(ValueError, match=r"\(x, y, z\)"):
        f.hessian(points)


def test_integer_points_are_accepted():
    f = parse_function("x^3 y - y^2")
    ints = np.array([[1, 2], [-3, 4]])
    np.testing.assert_array_equal(f.hessian(ints), f.hessian(ints.astype(float)))
    np.testing.assert_array_equal(f.value([2, 3]), 2**3 * 3 - 9)


def test_large_batches_use_threads_and_equal_small_batches_exactly():
    f = parse_function("sin(x y) exp(-x^2) + log(y) + sigmoid(x - y)")
    points = np.random.uniform(-3, 3, size=(40_000, 2))  # big enough to be split across threads; y < 0 gives nan
    whole = f.evaluate(points)
    parts = [f.evaluate(points[i : i + 1000]) for i in range(0, len(points), 1000)]
    for name in ("value", "gradient", "hessian"):
        np.testing.assert_array_equal(getattr(whole, name), np.concatenate([getattr(p, name) for p in parts]))
    # hessian() is compiled separately from evaluate(): compare it with its own small batches
    small = np.concatenate([f.hessian(points[i : i + 1000]) for i in range(0, len(points), 1000)])
    np.testing.assert_array_equal(f.hessian(points), small)
    small = np.concatenate([f.value(points[i : i + 1000]) for i in range(0, len(points), 1000)])
    np.testing.assert_array_equal(f.value(points.reshape(200, 200, 2)), small.reshape(200, 200))


def test_one_variable_points_have_a_last_axis_of_one():
    f = parse_function("x^4")
    assert f.hessian([2.0]).tolist() == [[48.0]]
    assert f.value(np.array([[1.0], [2.0]])).tolist() == [1.0, 16.0]


def test_constant_expressions_are_refused():
    with pytest.raises(ExpressionError, match="no variables"):
        parse_function("2 + pi")
