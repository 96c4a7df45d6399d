"""The presets are well formed, and what each note teaches is numerically true."""

from __future__ import annotations

import re

import numpy as np
import pytest

from hessian_explorer import Definiteness, Verdict, parse_function
from hessian_explorer.analysis import Curvature, classify_curvature
from hessian_explorer.presets import DEFAULT_PRESET, PRESETS, get_preset

KEYS = [p.key for p in PRESETS]


def f_of(key: str):
    preset = get_preset(key)
    return parse_function(preset.text, preset.variables)


def points_in(key: str, m: int = 50) -> np.ndarray:
    """Random points in the preset's plotted ranges (later variables use the x range)."""
    preset = get_preset(key)
    ranges = [preset.x_range, preset.y_range, preset.x_range][: len(preset.variables)]
    low, high = np.array(ranges, dtype=float).T
    return np.random.uniform(low, high, size=(m, len(ranges)))


def _newton(f, start, steps: int = 25) -> np.ndarray:
    x = np.asarray(start, dtype=float)
    for _ in range(steps):
        x = x - np.linalg.solve(f.hessian(x), f.gradient(x))
    return x


# -- well formed ---------------------------------------------------------------------------------


def test_there_are_at_least_15_presets_with_unique_keys():
    assert len(PRESETS) >= 15
    assert len(set(KEYS)) == len(KEYS)
    assert len({p.name for p in PRESETS}) == len(PRESETS)
    assert DEFAULT_PRESET in KEYS


def test_unknown_key_names_the_known_ones():
    with pytest.raises(KeyError, match="unknown preset 'nope'; known: bowl"):
        get_preset("nope")


@pytest.mark.parametrize("preset", PRESETS, ids=KEYS)
def test_preset_parses_with_its_variables(preset):
    f = parse_function(preset.text, preset.variables)
    assert f.variables == preset.variables
    assert {s.name for s in f.expr.free_symbols} == set(preset.variables)


@pytest.mark.parametrize("preset", PRESETS, ids=KEYS)
def test_point_has_one_entry_per_variable_and_lies_in_range(preset):
    assert len(preset.point) == len(preset.variables)
    (x_low, x_high), (y_low, y_high) = preset.x_range, preset.y_range
    assert x_low < x_high and y_low < y_high
    assert x_low <= preset.point[0] <= x_high
    assert y_low <= preset.point[1] <= y_high
    assert parse_function(preset.text, preset.variables).evaluate(preset.point).valid


@pytest.mark.parametrize("preset", PRESETS, ids=KEYS)
def test_note_is_two_sentences(preset):
    sentences = re.findall(r"[^.!?]+[.!?](?:\s+|$)", preset.note)
    assert len(sentences) == 2, sentences
    assert "".join(sentences) == preset.note


def test_a_three_variable_preset_exists():
    assert any(len(p.variables) == 3 for p in PRESETS)


# -- the teaching claims ----------------------------------------------------------------------------


def test_bowl_hessian_is_2i_and_the_naive_matrix_vanishes_at_the_minimum():
    f = f_of("bowl")
    np.testing.assert_array_equal(f.hessian(points_in("bowl")), np.broadcast_to(2 * np.eye(2), (50, 2, 2)))
    np.testing.assert_array_equal(f.gradient_outer([0.0, 0.0]), np.zeros((2, 2)))
    assert np.abs(np.diff(f.gradient_outer(points_in("bowl")), axis=0)).max() > 0


def test_elongated_bowl_eigenvalues_and_condition_number():
    a = f_of("elongated").analyze([0.0, 0.0])
    np.testing.assert_allclose(a.eigenvalues, [2.0, 20.0])
    assert a.condition_number == pytest.approx(10.0)


def test_rotated_quadratic_has_principal_axes_off_the_coordinate_axes():
    a = f_of("rotated").analyze([1.0, -1.0])
    assert a.hessian[0, 1] == 1.0
    assert np.all(np.abs(a.eigenvectors) > 0.1)  # no eigenvector along x or y


def test_saddle_is_a_saddle_at_the_origin():
    a = f_of("saddle").analyze([0.0, 0.0])
    assert a.gradient_norm == 0.0 and a.verdict == Verdict.SADDLE
    np.testing.assert_array_equal(a.eigenvalues, [-2.0, 2.0])


def test_monkey_saddle_gradient_and_hessian_vanish_at_the_origin():
    f = f_of("monkey")
    np.testing.assert_array_equal(f.hessian([0.0, 0.0]), np.zeros((2, 2)))
    assert f.analyze([0.0, 0.0]).verdict == Verdict.INCONCLUSIVE
    # three valleys: along the rays at 60°, 180° and 300° the function goes down
    angles = np.deg2rad([60.0, 180.0, 300.0])
    rays = 0.5 * np.stack([np.cos(angles), np.sin(angles)], axis=-1)
    assert np.all(f.value(rays) < 0)


def test_rosenbrock_hessian_at_the_minimum_and_its_condition_number():
    a = f_of("rosenbrock").analyze([1.0, 1.0])
    np.testing.assert_array_equal(a.hessian, [[802.0, -400.0], [-400.0, 200.0]])
    assert a.verdict == Verdict.MINIMUM
    assert a.condition_number == pytest.approx(2500, rel=0.01)


HIMMELBLAU_CRITICAL_POINTS = [
    ((3.0, 2.0), Verdict.MINIMUM),
    ((-2.805118, 3.131312), Verdict.MINIMUM),
    ((-3.779310, -3.283186), Verdict.MINIMUM),
    ((3.584428, -1.848126), Verdict.MINIMUM),
    ((0.086678, 2.884255), Verdict.SADDLE),
    ((-3.073026, -0.081353), Verdict.SADDLE),
    ((3.385154, 0.073852), Verdict.SADDLE),
    ((-0.127961, -1.953715), Verdict.SADDLE),
    ((-0.270845, -0.923039), Verdict.MAXIMUM),
]


@pytest.mark.parametrize(("start", "verdict"), HIMMELBLAU_CRITICAL_POINTS)
def test_himmelblau_has_four_minima_four_saddles_and_a_maximum(start, verdict):
    f = f_of("himmelblau")
    point = _newton(f, start)
    np.testing.assert_allclose(point, start, atol=1e-5)
    assert f.analyze(point).verdict == verdict


def test_gaussian_is_concave_on_top_and_saddle_shaped_on_the_skirts():
    """H = e^(-r²/2) [[x² - 1, xy], [xy, y² - 1]]: eigenvalues e^(-r²/2) (r² - 1) (radial) and
    -e^(-r²/2) (around the circle), so the Hessian changes type on the ring r = 1 and is never
    convex."""
    f = f_of("gaussian")
    points = points_in("gaussian", 2000)
    r = np.linalg.norm(points, axis=1)
    codes = classify_curvature(f.hessian(points))
    np.testing.assert_array_equal(codes[r < 0.99], Curvature.CONCAVE)
    np.testing.assert_array_equal(codes[(r > 1.01) & (r < 4)], Curvature.SADDLE)
    lam = np.linalg.eigvalsh(f.hessian(points))
    np.testing.assert_allclose(lam.min(axis=1), np.minimum(-1.0, r**2 - 1) * np.exp(-(r**2) / 2), atol=1e-14)


def test_gaussian_note_does_not_claim_convex_skirts():
    """The note says "convex on the skirts", but the tangential curvature -e^(-r²/2) is negative
    everywhere: far from the top the bump is saddle-shaped, never convex."""
    assert "convex" not in get_preset("gaussian").note.lower()


def test_sincos_checkerboard_and_naive_matrix_never_negative():
    f = f_of("sincos")
    half = np.pi / 2
    verdicts = [f.analyze(p).verdict for p in [(half, 0.0), (-half, 0.0), (0.0, half), (half, np.pi)]]
    assert verdicts == [Verdict.MAXIMUM, Verdict.MINIMUM, Verdict.SADDLE, Verdict.MINIMUM]
    points = points_in("sincos", 400)
    assert np.any(np.linalg.eigvalsh(f.hessian(points))[:, 0] < -0.1)
    outer = f.gradient_outer(points)
    assert np.all(np.linalg.eigvalsh(outer)[:, 0] >= -1e-12 * np.maximum(1.0, np.abs(outer).max(axis=(1, 2))))


def test_logsumexp_hessian_is_psd_and_singular_along_one_one():
    f = f_of("logsumexp")
    points = points_in("logsumexp", 200)
    h = f.hessian(points)
    np.testing.assert_allclose(h @ np.array([1.0, 1.0]), 0.0, atol=1e-15)
    lam = np.linalg.eigvalsh(h)
    assert np.all(lam[:, 0] >= -1e-15) and np.all(lam[:, 1] > 1e-3)
    p = np.exp(points) / np.exp(points).sum(axis=1, keepdims=True)  # softmax
    np.testing.assert_allclose(h, np.einsum("mi,ij->mij", p, np.eye(2)) - np.einsum("mi,mj->mij", p, p), atol=1e-15)


def test_linear_function_has_zero_hessian_but_a_nonzero_naive_matrix():
    f = f_of("linear")
    points = points_in("linear")
    np.testing.assert_array_equal(f.hessian(points), 0.0)
    np.testing.assert_array_equal(f.gradient_outer(points), np.broadcast_to([[4.0, 6.0], [6.0, 9.0]], (50, 2, 2)))


def test_exp_sum_hessian_equals_the_naive_matrix_only_on_the_line_x_plus_y_zero():
    f = f_of("exp_sum")
    t = np.random.uniform(-1.0, 1.0, size=20)
    on_line = np.stack([t, -t], axis=-1)
    np.testing.assert_allclose(f.hessian(on_line), f.gradient_outer(on_line), rtol=1e-14)
    off_line = points_in("exp_sum", 200)
    off_line = off_line[np.abs(off_line.sum(axis=1)) > 0.05]
    differs = np.abs(f.hessian(off_line) - f.gradient_outer(off_line)).max(axis=(1, 2))
    assert np.all(differs > 1e-3)


def test_neglog_hessian_equals_the_naive_matrix_wherever_defined():
    f = f_of("neglog")
    points = points_in("neglog", 400)
    points = points[points.sum(axis=1) < 0.99]
    h, outer = f.hessian(points), f.gradient_outer(points)
    np.testing.assert_allclose(h, outer, rtol=1e-13)
    outside = np.array([[0.6, 0.6]])
    assert not f.evaluate(outside).valid.any()


def test_double_well_minima_saddle_and_negative_x_curvature():
    f = f_of("double_well")
    assert [f.analyze(p).verdict for p in [(1.0, 0.0), (-1.0, 0.0), (0.0, 0.0)]] == [
        Verdict.MINIMUM, Verdict.MINIMUM, Verdict.SADDLE]
    edge = 1 / np.sqrt(3)
    h_xx = f.hessian([[edge - 1e-3, 0.3], [edge + 1e-3, 0.3], [-edge + 1e-3, 0.3], [-edge - 1e-3, 0.3]])[:, 0, 0]
    assert list(np.sign(h_xx)) == [-1.0, 1.0, -1.0, 1.0]


def test_three_variable_preset_is_a_positive_definite_minimum():
    preset = next(p for p in PRESETS if len(p.variables) == 3)
    a = parse_function(preset.text, preset.variables).analyze([0.0, 0.0, 0.0])
    assert a.hessian.shape == (3, 3)
    assert a.definiteness == Definiteness.POSITIVE_DEFINITE and a.verdict == Verdict.MINIMUM


def test_cubic_saddle_minimum_and_determinant():
    f = f_of("cubic")
    assert f.analyze([0.0, 0.0]).verdict == Verdict.SADDLE
    assert f.analyze([1.0, 1.0]).verdict == Verdict.MINIMUM
    points = points_in("cubic")
    np.testing.assert_allclose(np.linalg.det(f.hessian(points)), 36 * points[:, 0] * points[:, 1] - 9, atol=1e-10)
