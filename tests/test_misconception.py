"""The misconception core and its figures: H versus ∇f∇fᵀ checked against closed forms, finite
differences and the counterexamples' claims at random points; Newton outcomes; figure values."""

from __future__ import annotations

import doctest
import re
from functools import lru_cache

import numpy as np
import pytest
import sympy as sp

import hessian_explorer.figures.misconception as figures_module
import hessian_explorer.misconception as core
from hessian_explorer import Definiteness, Verdict, parse_function
from hessian_explorer.critical import find_critical_points
from hessian_explorer.figures.misconception import (MATRIX_TITLES, curvature_figure, difference_figure,
                                                    entry_table_latex, facts_markdown, matrices_figure,
                                                    newton_figure, newton_sentence)
from hessian_explorer.figures.style import NORMAL, PRESENTATION, fmt
from hessian_explorer.misconception import (COUNTEREXAMPLES, Outcome, compare, counterexample_for,
                                            counterexample_view, entry_latex, matrix_facts, newton_run,
                                            newton_runs, paths_coincide, study)
from hessian_explorer.plane import Plane, sample
from hessian_explorer.presets import PRESETS, get_preset

TWO_D = [p for p in PRESETS if len(p.variables) == 2]


@lru_cache(maxsize=None)
def preset_function(key: str):
    """Parsed and compiled once per test session (Function objects are immutable)."""
    p = get_preset(key)
    return parse_function(p.text, p.variables)


def plane_for(key: str, point=None) -> Plane:
    p = get_preset(key)
    return Plane(tuple(point if point is not None else p.point), 0, 1, p.x_range, p.y_range, 40)


def random_points(key: str, count: int = 25) -> np.ndarray:
    """Uniform points in the preset's plotted range (all variables in the x range for n > 2)."""
    p = get_preset(key)
    lo = np.array([p.x_range[0], p.y_range[0]] + [p.x_range[0]] * (len(p.variables) - 2))
    hi = np.array([p.x_range[1], p.y_range[1]] + [p.x_range[1]] * (len(p.variables) - 2))
    return lo + (hi - lo) * np.random.uniform(size=(count, len(p.variables)))


def fd_hessian(function, x: np.ndarray, h: float = 1e-4) -> np.ndarray:
    """Central differences of the value only: an independent reference for H."""
    n = len(x)
    e = np.eye(n) * h
    out = np.empty((n, n))
    for i in range(n):
        for j in range(n):
            out[i, j] = (function.value(x + e[i] + e[j]) - function.value(x + e[i] - e[j])
                         - function.value(x - e[i] + e[j]) + function.value(x - e[i] - e[j])) / (4 * h * h)
    return out


def test_doctests():
    for module in (core, figures_module):
        assert doctest.testmod(module).failed == 0


# -- the two matrices ---------------------------------------------------------------------------
@pytest.mark.parametrize("key", ["rosenbrock", "himmelblau", "sincos", "three_d", "logsumexp"])
def test_compare_matches_finite_differences_and_the_gradient(key):
    f = preset_function(key)
    x = random_points(key, 1)[0]
    c = compare(f, x)
    np.testing.assert_allclose(c.hessian, fd_hessian(f, x), rtol=1e-5, atol=1e-4)
    h = 1e-6
    g = np.array([(f.value(x + h * e) - f.value(x - h * e)) / (2 * h) for e in np.eye(len(x))])
    np.testing.assert_allclose(c.outer, np.outer(g, g), rtol=1e-6, atol=1e-6)
    np.testing.assert_array_equal(c.difference, c.hessian - c.outer)


@pytest.mark.parametrize("key", [p.key for p in PRESETS])
def test_outer_product_is_psd_with_rank_at_most_one(key):
    f = preset_function(key)
    for x in random_points(key, 20):
        c = compare(f, x)
        if not c.defined:
            continue
        facts = c.outer_facts
        assert facts.rank <= 1
        assert np.all(facts.eigenvalues >= 0)
        assert facts.definiteness in (Definiteness.POSITIVE_SEMIDEFINITE, Definiteness.ZERO)
        g2 = float(c.gradient @ c.gradient)
        assert facts.eigenvalues[-1] == pytest.approx(g2, rel=1e-9, abs=c.tolerance)
        assert facts.rank == (1 if g2 > c.tolerance else 0)


@pytest.mark.parametrize("key", [p.key for p in TWO_D])
def test_outer_product_vanishes_at_every_critical_point(key):
    f = preset_function(key)
    points = find_critical_points(f, plane_for(key))
    for cp in points:
        c = compare(f, cp.point)
        assert c.is_critical
        assert np.abs(c.outer).max() <= 1e-15
        assert c.outer_facts.rank == 0 and c.outer_facts.definiteness is Definiteness.ZERO


def test_matrix_facts_tolerance_rank_and_definiteness():
    assert matrix_facts(np.diag([2.0, -1.0]), 1e-9).definiteness is Definiteness.INDEFINITE
    assert matrix_facts(np.diag([2.0, 1e-12]), 1e-9).rank == 1
    assert matrix_facts(np.diag([2.0, 1e-12]), 1e-9).eigenvalues.tolist() == [0.0, 2.0]
    assert matrix_facts(np.diag([2.0, 1e-12]), 1e-15).rank == 2
    assert matrix_facts(np.diag([-2.0, -3.0]), 1e-9).definiteness is Definiteness.NEGATIVE_DEFINITE
    assert matrix_facts(np.zeros((3, 3)), 1e-9).definiteness is Definiteness.ZERO
    undefined = matrix_facts(np.array([[np.nan, 0.0], [0.0, 1.0]]), 1e-9)
    assert undefined.rank == -1 and undefined.definiteness is Definiteness.UNDEFINED


def test_tolerance_scales_with_the_largest_entry():
    c = compare(preset_function("rosenbrock"), [-1.0, 1.0])
    assert c.tolerance == pytest.approx(1e-9 * 802)
    assert compare(preset_function("bowl"), [0.1, 0.1]).tolerance == pytest.approx(2e-9)
    assert compare(parse_function("0.1x^2 + 0.1y^2"), [0.1, 0.1]).tolerance == 1e-9  # floor: max(1, ...)


# -- the counterexamples' claims, at random points ----------------------------------------------
def test_bowl_at_its_minimum_h_is_2i_and_the_outer_product_is_zero():
    c = compare(preset_function("bowl"), [0.0, 0.0])
    np.testing.assert_array_equal(c.hessian, 2 * np.eye(2))
    np.testing.assert_array_equal(c.outer, np.zeros((2, 2)))
    assert c.is_critical and not c.agree


def test_saddle_h_is_indefinite_but_the_outer_curvature_is_never_negative():
    f = preset_function("saddle")
    for x in random_points("saddle"):
        c = compare(f, x)
        assert c.hessian_facts.definiteness is Definiteness.INDEFINITE
        h_rose, o_rose = c.roses(0, 1)
        assert h_rose.curvature.min() == pytest.approx(-2) and h_rose.curvature.max() == pytest.approx(2)
        assert o_rose.curvature.min() >= 0


def test_linear_h_is_zero_and_the_outer_product_is_constant_and_nonzero():
    f = preset_function("linear")
    for x in random_points("linear"):
        c = compare(f, x)
        np.testing.assert_array_equal(c.hessian, np.zeros((2, 2)))
        np.testing.assert_array_equal(c.outer, [[4.0, 6.0], [6.0, 9.0]])
        assert c.outer_facts.rank == 1 and c.hessian_facts.rank == 0


def test_neglog_h_equals_the_outer_product_everywhere_in_its_domain():
    f = preset_function("neglog")
    x = random_points("neglog", 200)
    x = x[x.sum(axis=1) < 1 - 1e-3]  # the domain: 1 - x - y > 0
    s = 1 - x.sum(axis=1)
    closed_form = np.ones((len(x), 2, 2)) / s[:, None, None] ** 2  # H = ∇f∇fᵀ = 11ᵀ/(1 − x − y)²
    h, outer = f.hessian(x), f.gradient_outer(x)
    np.testing.assert_allclose(h, closed_form, rtol=1e-12)
    scale = np.abs(h).max(axis=(1, 2))
    assert np.all(np.abs(h - outer).max(axis=(1, 2)) <= 1e-10 * scale)
    assert all(compare(f, p).agree for p in x[:20])


def test_neglog_is_an_instance_of_the_rule_e_to_the_minus_f_affine():
    a, b = np.array([0.7, -1.3, 2.0]), 0.4
    f = parse_function("-log(0.7x - 1.3y + 2z + 0.4)", ("x", "y", "z"))
    for x in np.random.uniform(-0.08, 0.08, size=(10, 3)):  # a·x + b >= 0.4 - 0.08·4 > 0
        assert a @ x + b > 0
        c = compare(f, x)
        assert c.agree
        np.testing.assert_allclose(c.hessian, np.outer(a, a) / (a @ x + b) ** 2, rtol=1e-12)


def test_exp_sum_agrees_only_on_the_line_x_plus_y_zero():
    f = preset_function("exp_sum")
    t = np.random.uniform(-2, 1, size=20)
    on_line = np.stack([t, -t], axis=1)
    assert all(compare(f, p).agree for p in on_line)
    off = random_points("exp_sum", 100)
    off = off[np.abs(off.sum(axis=1)) > 0.05]
    for p in off:
        c = compare(f, p)
        s = p.sum()
        np.testing.assert_allclose(c.hessian, np.exp(s) * np.ones((2, 2)), rtol=1e-12)
        np.testing.assert_allclose(c.outer, np.exp(2 * s) * np.ones((2, 2)), rtol=1e-12)
        assert not c.agree


def test_counterexamples_are_presets_at_their_points_with_short_explanations():
    assert [c.key for c in COUNTEREXAMPLES] == ["bowl", "saddle", "linear", "neglog", "exp_sum"]
    for example in COUNTEREXAMPLES:
        view = counterexample_view(example.key)
        assert view.preset == example.key
        assert view.point == (example.point or get_preset(example.key).point)
        sentences = [s for s in re.split(r"(?<=[.:!?])\s+(?=[A-Z∇])", example.explanation) if s]
        assert 2 <= len(sentences) <= 3, example.explanation
        assert counterexample_for(example.key) is example
    assert counterexample_for("rosenbrock") is None and counterexample_for(None) is None
    with pytest.raises(KeyError):
        counterexample_view("nope")


# -- directions ---------------------------------------------------------------------------------
@pytest.mark.parametrize("key", ["rosenbrock", "saddle", "gaussian"])
def test_roses_are_second_derivatives_along_unit_directions(key):
    f = preset_function(key)
    x = random_points(key, 1)[0]
    s = study(f, plane_for(key, x))
    h_rose, o_rose = s.roses
    g = f.gradient(x)
    for k in (0, 37, 90, 200, 315):
        u = np.array([np.cos(np.radians(h_rose.angles_deg[k])), np.sin(np.radians(h_rose.angles_deg[k]))])
        t = 1e-4
        second = (f.value(x + t * u) - 2 * f.value(x) + f.value(x - t * u)) / t**2
        assert h_rose.curvature[k] == pytest.approx(second, rel=1e-4, abs=1e-3)
        assert o_rose.curvature[k] == pytest.approx((g @ u) ** 2, rel=1e-12, abs=1e-12)
    true_c, naive_c = s.comparison.along([3.0, 4.0])  # normalised: (0.6, 0.8)
    u = np.array([0.6, 0.8])
    assert true_c == pytest.approx(u @ f.hessian(x) @ u) and naive_c == pytest.approx((g @ u) ** 2)


def test_study_of_one_variable_has_no_roses():
    s = study(parse_function("x^3"), Plane((0.5,), 0, 0, (-2, 2), (-1, 1)))
    assert s.roses is None and s.comparison.hessian.shape == (1, 1)
    with pytest.raises(ValueError):
        newton_runs(parse_function("x^3"), Plane((0.5,), 0, 0, (-2, 2), (-1, 1)))


# -- Newton's method ----------------------------------------------------------------------------
def test_newton_with_h_reaches_the_bowls_minimum_in_one_step():
    f = preset_function("bowl")
    for start in np.random.uniform(-2, 2, size=(5, 2)):
        run = newton_run(f, plane_for("bowl", start), start, "hessian", damping=0.0)
        np.testing.assert_allclose(run.path[1], [0.0, 0.0], atol=1e-15)
        assert run.outcome is Outcome.CONVERGED and run.verdict is Verdict.MINIMUM and run.steps == 1


def test_newton_with_the_outer_product_does_not_settle_in_the_bowl():
    f = preset_function("bowl")
    h_run, o_run = newton_runs(f, plane_for("bowl", (0.6, 0.4)), damping=0.1)
    assert h_run.outcome is Outcome.CONVERGED and h_run.verdict is Verdict.MINIMUM
    assert o_run.outcome is Outcome.WANDERED and o_run.bouncing and o_run.in_view
    assert np.linalg.norm(o_run.end) > 0.1
    assert "bounces back and forth" in newton_sentence(o_run)


def test_newton_with_the_outer_product_walks_off_a_plane():
    h_run, o_run = newton_runs(preset_function("linear"), plane_for("linear"), damping=0.1)
    assert h_run.outcome is Outcome.DIVERGED and h_run.steps == 1  # H + λI = λI: a step of ∇f/λ
    assert o_run.outcome is Outcome.WANDERED and not o_run.bouncing and not o_run.in_view
    np.testing.assert_allclose(np.diff(o_run.path, axis=0), -np.tile([2.0, 3.0], (25, 1)) / 13.1)
    assert newton_sentence(o_run).endswith("still moves, 0.28 per step, outside the plotted region.")


@pytest.mark.parametrize("key, point, damping, matrix, outcome, verdict", [
    ("saddle", None, 0.0, "hessian", Outcome.CONVERGED, Verdict.SADDLE),
    ("rosenbrock", None, 0.1, "hessian", Outcome.CONVERGED, Verdict.MINIMUM),
    ("linear", None, 0.1, "hessian", Outcome.DIVERGED, None),
    ("linear", None, 0.0, "hessian", Outcome.SINGULAR, None),
    ("saddle", None, 0.0, "outer", Outcome.SINGULAR, None),
    ("bowl", (0.0, 0.0), 0.1, "outer", Outcome.CONVERGED, Verdict.MINIMUM),
    ("rosenbrock", None, 0.1, "outer", Outcome.CRAWLED, None),
    ("neglog", None, 0.1, "hessian", Outcome.DIVERGED, None),
])
def test_newton_outcomes(key, point, damping, matrix, outcome, verdict):
    p = plane_for(key, point)
    run = newton_run(preset_function(key), p, p.base, matrix, damping)
    assert run.outcome is outcome and run.verdict == verdict
    sentence = newton_sentence(run)
    assert sentence.startswith("**Newton with ") and sentence.endswith(".") and "nan" not in sentence


def test_newton_from_a_critical_point_does_not_move():
    run = newton_run(preset_function("bowl"), plane_for("bowl", (0.0, 0.0)), (0.0, 0.0), "hessian", 0.1)
    assert run.steps == 0 and run.outcome is Outcome.CONVERGED
    assert "did not move" in newton_sentence(run)


def test_newton_stepping_out_of_the_domain_ends_there():
    f = parse_function("log(x) - x + y^2")  # Newton with H: x ← 2x − x², from 2.5 to −1.25
    p = Plane((2.5, 0.5), 0, 1, (0.01, 3), (-1, 1), 40)
    run = newton_run(f, p, (2.5, 0.5), "hessian", damping=0.0)
    assert run.outcome is Outcome.UNDEFINED and run.steps == 1
    np.testing.assert_allclose(run.end, [-1.25, 0.0])
    assert "domain" in newton_sentence(run)
    # ∇f and H of −log(1 − x − y) stay finite beyond x + y = 1, where f is undefined
    assert compare(preset_function("neglog"), [1.0, 1.0]).defined is False


def test_paths_coincide_exactly_where_h_equals_the_outer_product():
    assert paths_coincide(newton_runs(preset_function("neglog"), plane_for("neglog"), 0.1))
    assert not paths_coincide(newton_runs(preset_function("bowl"), plane_for("bowl"), 0.1))


# -- entries in symbols -------------------------------------------------------------------------
def test_entry_latex_shows_both_definitions_entry_by_entry():
    entries = entry_latex(preset_function("saddle"))
    assert [(e.i, e.j) for e in entries] == [(0, 0), (0, 1), (1, 1)]
    assert entries[1].hessian == r"\frac{\partial^2 f}{\partial x\,\partial y} = 0"
    assert entries[1].outer == (r"\frac{\partial f}{\partial x}\cdot\frac{\partial f}{\partial y} = "
                                r"\left(2 x\right)\left(- 2 y\right) = - 4 x y")
    assert entries[0].outer == r"\left(\frac{\partial f}{\partial x}\right)^2 = \left(2 x\right)^2 = 4 x^{2}"


@pytest.mark.parametrize("key", ["rosenbrock", "three_d", "himmelblau", "neglog", "gaussian", "exp_sum"])
def test_entry_latex_uses_the_exact_expressions(key):
    f = preset_function(key)
    entries = entry_latex(f)
    assert len(entries) == f.n * (f.n + 1) // 2
    for e in entries:
        h_tex = sp.latex(f.hessian_expr[e.i, e.j])
        assert e.hessian.endswith(" = " + h_tex) == (len(h_tex) <= 100)
        gi, gj = (sp.latex(f.gradient_expr[k]) for k in (e.i, e.j))
        factors = rf"\left({gi}\right)^2" if e.i == e.j else rf"\left({gi}\right)\left({gj}\right)"
        assert (factors in e.outer) == (len(factors) <= 100)
        o_tex = sp.latex(f.gradient_outer_expr[e.i, e.j])
        if len(factors) > 100:
            assert (o_tex in e.outer) == (len(o_tex) <= 100)
        # the factors shown really multiply to the outer-product entry
        assert sp.simplify(f.gradient_expr[e.i] * f.gradient_expr[e.j] - f.gradient_outer_expr[e.i, e.j]) == 0


def test_entry_latex_shows_the_combined_product_when_sympy_changed_it():
    (xx, xy, yy) = entry_latex(preset_function("exp_sum"))
    assert xy.outer.endswith(r"\left(e^{x + y}\right)\left(e^{x + y}\right) = e^{2 x + 2 y}")
    assert xx.hessian.endswith("= e^{x + y}")
    (_, cross, _) = entry_latex(preset_function("neglog"))
    assert cross.outer.endswith(r"= \frac{1}{\left(- x - y + 1\right)^{2}}")
    assert cross.hessian.endswith(r"= \frac{1}{\left(- x - y + 1\right)^{2}}")


def test_entry_table_marks_equal_and_unequal_values_at_x0():
    f = preset_function("neglog")
    table = entry_table_latex(entry_latex(f), compare(f, [0.0, 0.0]))
    assert table.count(r"\neq") == 0 and table.count("& = &") == 3
    f = preset_function("linear")
    c = compare(f, [0.5, 0.5])
    table = entry_table_latex(entry_latex(f), c)
    assert table.count(r"\neq") == 3
    assert r"\left(2\right)\left(3\right) = 6" in table and "= 6 =" not in table  # constants not repeated
    f = preset_function("bowl")
    c = compare(f, [1.0, 0.5])
    table = entry_table_latex(entry_latex(f), c)
    assert f"= {fmt(c.outer[0, 1])}" in table and "4 x y" in table


# -- figures ------------------------------------------------------------------------------------
@pytest.mark.parametrize("key, point, theme", [("rosenbrock", None, NORMAL), ("saddle", None, PRESENTATION),
                                               ("bowl", (0.0, 0.0), NORMAL), ("three_d", None, PRESENTATION)])
def test_matrix_heatmaps_show_the_cores_numbers_on_one_zero_centred_scale(key, point, theme):
    f = preset_function(key)
    x = np.asarray(point if point is not None else get_preset(key).point)
    c = compare(f, x)
    fig = matrices_figure(c, f.variables, theme)
    h, o = (t for t in fig.data if t.type == "heatmap")
    np.testing.assert_array_equal(np.asarray(h.z), f.hessian(x))
    np.testing.assert_array_equal(np.asarray(o.z), f.gradient_outer(x))
    assert h.coloraxis == o.coloraxis == "coloraxis"
    axis = fig.layout.coloraxis
    assert axis.cmid == 0 and axis.cmin == -axis.cmax
    assert axis.cmax == pytest.approx(max(np.abs(f.hessian(x)).max(), np.abs(f.gradient_outer(x)).max()) or 1.0)
    diff = difference_figure(c, f.variables, theme)
    (d,) = diff.data
    np.testing.assert_array_equal(np.asarray(d.z), f.hessian(x) - f.gradient_outer(x))
    assert d.zmid == 0 and d.zmin == -d.zmax
    # side by side, matrices top to bottom, each title above its own matrix
    assert (h.xaxis or "x", h.yaxis or "y", o.xaxis, o.yaxis) == ("x", "y", "x2", "y2")
    L = fig.layout
    assert L.xaxis.domain[1] < L.xaxis2.domain[0] and L.yaxis.autorange == L.yaxis2.autorange == "reversed"
    assert [(a.text, a.x) for a in L.annotations] == [(MATRIX_TITLES[0], 0.23), (MATRIX_TITLES[1], 0.77)]
    assert all(a.font.size == theme.title_size for a in L.annotations)


def test_curvature_figure_plots_both_roses_and_marks_the_angle():
    f = preset_function("saddle")
    s = study(f, plane_for("saddle"))
    fig = curvature_figure(s.roses, NORMAL, ("x", "y"), angle=30.0)
    h_trace, o_trace = fig.data[:2]
    np.testing.assert_array_equal(h_trace.y, s.roses[0].curvature)
    np.testing.assert_array_equal(o_trace.y, s.roses[1].curvature)
    assert h_trace.line.dash == "solid" and o_trace.line.dash == "dash"
    markers = [t for t in fig.data if t.mode == "markers"]
    assert [t.x[0] for t in markers] == [30.0, 30.0]
    u = np.array([np.cos(np.radians(30)), np.sin(np.radians(30))])
    assert markers[0].y[0] == pytest.approx(u @ s.comparison.hessian @ u, abs=1e-3)
    zero, marker = fig.layout.shapes  # the zero line across the chart and the angle's vertical
    assert (zero.y0, zero.y1, zero.xref) == (0, 0, "x domain") and (marker.x0, marker.x1) == (30.0, 30.0)
    plain = curvature_figure(s.roses, NORMAL, ("x", "y"))
    assert len(plain.data) == 2 and len(plain.layout.shapes) == 1


def test_newton_figure_draws_both_paths_over_the_contours():
    f = preset_function("bowl")
    plane = plane_for("bowl", (0.6, 0.4))
    runs = newton_runs(f, plane, 0.1)
    fig = newton_figure(sample(f, plane), ("x", "y"), NORMAL, plane.base, runs)
    by_name = {t.name: t for t in fig.data}
    hessian = by_name["Newton with H"]
    np.testing.assert_array_equal(np.column_stack([hessian.x, hessian.y]), runs[0].path)
    outer = by_name["Newton with ∇f∇fᵀ"]
    np.testing.assert_array_equal(np.column_stack([outer.x, outer.y]), runs[1].path)
    assert outer.line.dash == "dash"
    assert fig.data[-1].name == "x₀" and fig.data[0].type == "contour"


def test_facts_table_states_rank_and_definiteness():
    text = facts_markdown(compare(preset_function("bowl"), [0.0, 0.0]))
    assert "| **H** | 2, 2 | 2 | positive definite |" in text
    assert "| **∇f∇fᵀ** | 0, 0 | 0 | zero |" in text
    undefined = facts_markdown(compare(preset_function("neglog"), [1.0, 1.0]))
    assert "undefined" in undefined
