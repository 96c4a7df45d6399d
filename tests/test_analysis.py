"""Definiteness, the second-derivative test and curvature maps, on matrices with known answers."""

from __future__ import annotations

import numpy as np
import pytest

from hessian_explorer import Definiteness, Verdict, analyze_point, parse_function
from hessian_explorer.analysis import Curvature, classify_curvature, classify_definiteness


def _rotation(angle: float) -> np.ndarray:
    c, s = np.cos(angle), np.sin(angle)
    return np.array([[c, -s], [s, c]])


def _with_eigenvalues(*eigenvalues: float, angle: float = 0.7) -> np.ndarray:
    """A symmetric 2x2 matrix with these eigenvalues and eigenvectors off the axes."""
    q = _rotation(angle)
    return q @ np.diag(eigenvalues) @ q.T


MATRICES = [
    ("positive definite", _with_eigenvalues(3.0, 0.5), Definiteness.POSITIVE_DEFINITE, Curvature.CONVEX),
    ("negative definite", _with_eigenvalues(-3.0, -0.5), Definiteness.NEGATIVE_DEFINITE, Curvature.CONCAVE),
    ("indefinite", _with_eigenvalues(2.0, -1e-3), Definiteness.INDEFINITE, Curvature.SADDLE),
    ("positive semidefinite", np.array([[1.0, 1.0], [1.0, 1.0]]), Definiteness.POSITIVE_SEMIDEFINITE, Curvature.DEGENERATE),
    ("negative semidefinite", np.array([[-4.0, 2.0], [2.0, -1.0]]), Definiteness.NEGATIVE_SEMIDEFINITE, Curvature.DEGENERATE),
    ("zero", np.zeros((2, 2)), Definiteness.ZERO, Curvature.DEGENERATE),
    ("rounding-level zero eigenvalue", _with_eigenvalues(5.0, 1e-15), Definiteness.POSITIVE_SEMIDEFINITE, Curvature.DEGENERATE),
    ("small but real eigenvalue", _with_eigenvalues(5.0, 1e-6), Definiteness.POSITIVE_DEFINITE, Curvature.CONVEX),
    ("3x3 positive definite", np.array([[2.0, 1.0, 0.0], [1.0, 4.0, 1.0], [0.0, 1.0, 6.0]]),
     Definiteness.POSITIVE_DEFINITE, Curvature.CONVEX),
    ("3x3 indefinite", np.diag([1.0, 0.0, -1.0]), Definiteness.INDEFINITE, Curvature.SADDLE),
]


@pytest.mark.parametrize(("matrix", "definiteness"), [(m[1], m[2]) for m in MATRICES], ids=[m[0] for m in MATRICES])
def test_definiteness_from_eigenvalues(matrix, definiteness):
    assert classify_definiteness(np.linalg.eigvalsh(matrix)) == definiteness


@pytest.mark.parametrize("eigenvalues", [[np.nan, 1.0], [np.inf, 1.0], [1.0, -np.inf]])
def test_non_finite_eigenvalues_are_undefined(eigenvalues):
    assert classify_definiteness(eigenvalues) == Definiteness.UNDEFINED


def test_classify_curvature_on_a_batch():
    same_size = [m for m in MATRICES if m[1].shape == (2, 2)]
    batch = np.stack([m[1] for m in same_size]).reshape(2, 4, 2, 2)
    codes = classify_curvature(batch)
    assert codes.shape == (2, 4)
    np.testing.assert_array_equal(codes.ravel(), [m[3] for m in same_size])


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_classify_curvature_marks_non_finite_matrices_undefined(bad):
    batch = np.stack([np.eye(2), np.eye(2)])
    batch[1, 0, 1] = batch[1, 1, 0] = bad
    np.testing.assert_array_equal(classify_curvature(batch), [Curvature.CONVEX, Curvature.UNDEFINED])


def test_classify_curvature_agrees_with_classify_definiteness_on_random_matrices():
    a = np.random.normal(size=(500, 3, 3))
    a[:100, 2] = a[:100, 1]  # some singular ones
    h = a @ np.swapaxes(a, -1, -2) * np.random.choice([-1.0, 1.0], size=(500, 1, 1))
    h[200:] += np.diag([1.0, 0.0, -2.0])
    to_code = {Definiteness.POSITIVE_DEFINITE: Curvature.CONVEX, Definiteness.NEGATIVE_DEFINITE: Curvature.CONCAVE,
               Definiteness.INDEFINITE: Curvature.SADDLE}
    expected = [to_code.get(classify_definiteness(np.linalg.eigvalsh(m)), Curvature.DEGENERATE) for m in h]
    np.testing.assert_array_equal(classify_curvature(h), expected)


# -- the second-derivative test at critical points of presets ---------------------------------------


def _newton(f, start, steps: int = 20) -> np.ndarray:
    """A critical point of ``f`` near ``start`` (Newton's method on the gradient)."""
    x = np.asarray(start, dtype=float)
    for _ in range(steps):
        x = x - np.linalg.solve(f.hessian(x), f.gradient(x))
    return x


VERDICTS = [
    ("rosenbrock minimum", "(1 - x)^2 + 100(y - x^2)^2", (1.0, 1.0), Verdict.MINIMUM, Definiteness.POSITIVE_DEFINITE),
    ("saddle", "x^2 - y^2", (0.0, 0.0), Verdict.SADDLE, Definiteness.INDEFINITE),
    ("himmelblau maximum", "(x^2 + y - 11)^2 + (x + y^2 - 7)^2", "newton:-0.27,-0.92", Verdict.MAXIMUM,
     Definiteness.NEGATIVE_DEFINITE),
    ("monkey saddle", "x^3 - 3x y^2", (0.0, 0.0), Verdict.INCONCLUSIVE, Definiteness.ZERO),
    ("bowl minimum", "x^2 + y^2", (0.0, 0.0), Verdict.MINIMUM, Definiteness.POSITIVE_DEFINITE),
    ("concave cap", "-x^2 - 2y^2 + x y", (0.0, 0.0), Verdict.MAXIMUM, Definiteness.NEGATIVE_DEFINITE),
    ("valley floor", "(x - y)^2", (1.0, 1.0), Verdict.INCONCLUSIVE, Definiteness.POSITIVE_SEMIDEFINITE),
    ("3 variables", "x^2 + 2y^2 + 3z^2 + x y + y z", (0.0, 0.0, 0.0), Verdict.MINIMUM, Definiteness.POSITIVE_DEFINITE),
]


@pytest.mark.parametrize(
    ("text", "point", "verdict", "definiteness"), [v[1:] for v in VERDICTS], ids=[v[0] for v in VERDICTS]
)
def test_verdict_at_critical_points(text, point, verdict, definiteness):
    f = parse_function(text)
    if isinstance(point, str):
        point = _newton(f, [float(c) for c in point.removeprefix("newton:").split(",")])
    a = f.analyze(point)
    assert a.is_critical and a.gradient_norm <= 1e-8
    assert a.verdict == verdict
    assert a.definiteness == definiteness


def test_himmelblau_maximum_is_where_the_literature_puts_it():
    f = parse_function("(x^2 + y - 11)^2 + (x + y^2 - 7)^2")
    peak = _newton(f, [-0.27, -0.92])
    np.testing.assert_allclose(peak, [-0.270845, -0.923039], atol=1e-6)
    assert float(f.value(peak)) == pytest.approx(181.617, abs=1e-3)


@pytest.mark.parametrize(
    ("text", "point"),
    [("(1 - x)^2 + 100(y - x^2)^2", (-1.0, 1.0)), ("x^2 + y^2", (1.0, 0.5)), ("x^2 - y^2", (0.5, 0.5)),
     ("x^3 - 3x y^2", (0.1, 0.0)), ("2x + 3y", (0.0, 0.0))],
)
def test_not_critical_elsewhere(text, point):
    a = parse_function(text).analyze(point)
    assert not a.is_critical
    assert a.verdict == Verdict.NOT_CRITICAL


def test_gradient_tolerance_decides_criticality():
    f = parse_function("x^2 + y^2")
    assert f.analyze([1e-7, 0.0]).verdict == Verdict.NOT_CRITICAL
    assert f.analyze([1e-7, 0.0], gradient_tol=1e-5).verdict == Verdict.MINIMUM


def test_nan_gives_an_undefined_verdict():
    a = parse_function("log(x) + y^2").analyze([-1.0, 0.0])
    assert a.verdict == Verdict.UNDEFINED and a.definiteness == Definiteness.UNDEFINED
    assert not a.is_critical and np.isnan(a.eigenvalues).all() and np.isnan(a.determinant)


def test_analyze_takes_exactly_one_point():
    f = parse_function("x^2 + y^2")
    with pytest.raises(ValueError, match="one point"):
        f.analyze(np.zeros((3, 2)))
    with pytest.raises(ValueError, match=r"\(x, y\)"):
        f.analyze([1.0, 2.0, 3.0])


# -- the eigen-decomposition that the verdict rests on ------------------------------------------------


@pytest.mark.parametrize("n", [1, 2, 3, 5])
def test_eigenvectors_are_unit_length_and_satisfy_the_definition(n):
    a = np.random.normal(size=(n, n))
    h = a + a.T
    result = analyze_point(np.zeros(n), 0.0, np.zeros(n), h)
    lam, v = result.eigenvalues, result.eigenvectors
    assert np.all(np.diff(lam) >= 0)
    np.testing.assert_allclose(np.linalg.norm(v, axis=0), 1.0, rtol=1e-12)
    np.testing.assert_allclose(h @ v, v * lam, atol=1e-12 * max(1.0, np.abs(lam).max()))
    largest = v[np.argmax(np.abs(v), axis=0), np.arange(n)]
    assert np.all(largest > 0)  # the documented sign convention
    assert result.determinant == pytest.approx(np.prod(lam), rel=1e-10, abs=1e-12)
    assert result.determinant == pytest.approx(np.linalg.det(h), rel=1e-10, abs=1e-12)


def test_condition_number_and_gradient_norm():
    a = analyze_point([0.0, 0.0], 1.0, [3.0, 4.0], np.diag([2.0, 20.0]))
    assert a.condition_number == pytest.approx(10.0)
    assert a.gradient_norm == pytest.approx(5.0)
    assert analyze_point([0.0, 0.0], 1.0, [0.0, 0.0], np.diag([2.0, 0.0])).condition_number == float("inf")
