"""Exports: LaTeX and CSV round-trip the numbers; the Python snippet runs and reproduces them,
and stays inert Python whatever the formula text holds."""

from __future__ import annotations

import ast
import csv
import doctest
import io
import re
import subprocess
import sys

import numpy as np
import pytest

from hessian_explorer import export, parse_function
from hessian_explorer.export import matrix_csv, matrix_latex, python_snippet

ROSENBROCK = "(1 - x)^2 + 100(y - x^2)^2"
# Valid LaTeX input that is hostile to naive quoting: "\t", "\n" and "\x" are Python escapes
# inside a plain literal (\xi even makes it a syntax error), plus a real newline and a tab.
HOSTILE = "\\frac{\\theta^2}{\\nu}\n\t+ \\xi \\cdot \\rho \\, − \\tau²"


def _parse_latex_number(text: str) -> float:
    text = text.strip()
    if text == r"\text{undefined}":
        return float("nan")
    m = re.fullmatch(r"(-?[\d.]+) \\times 10\^\{(-?\d+)\}", text)
    return float(f"{m.group(1)}e{m.group(2)}") if m else float(text)


def _latex_entries(latex: str) -> np.ndarray:
    body = latex.removeprefix("\\begin{bmatrix}\n").removesuffix("\n\\end{bmatrix}")
    return np.array([[_parse_latex_number(x) for x in row.split("&")] for row in body.split(" \\\\\n")])


def test_latex_is_a_bmatrix_with_one_line_per_row():
    latex = matrix_latex([[802.0, -400.0], [-400.0, 200.0]])
    assert latex == "\\begin{bmatrix}\n802 & -400 \\\\\n-400 & 200\n\\end{bmatrix}"


def test_latex_full_precision_round_trips_every_float():
    m = np.random.default_rng(1).normal(size=(4, 4)) * 10.0 ** np.arange(-8, 8, 4)
    assert np.array_equal(_latex_entries(matrix_latex(m, digits=None)), m)


def test_latex_rounds_to_the_requested_digits_and_never_shows_minus_zero():
    latex = matrix_latex([[1 / 3, -1e-30], [2.5e-7, np.nan]], digits=3)
    assert "0.333" in latex and "0.3333" not in latex
    assert r"2.5 \times 10^{-7}" in latex and r"\text{undefined}" in latex
    assert "-0" not in matrix_latex([[-0.0]], digits=3)


def test_csv_round_trips_with_labels():
    m = np.random.default_rng(2).normal(size=(3, 3))
    rows = list(csv.reader(io.StringIO(matrix_csv(m, ("x", "y", "θ")))))
    assert rows[0] == ["", "x", "y", "θ"]
    assert [r[0] for r in rows[1:]] == ["x", "y", "θ"]
    assert np.array_equal(np.array([[float(v) for v in r[1:]] for r in rows[1:]]), m)


def test_csv_refuses_a_matrix_of_the_wrong_size():
    with pytest.raises(ValueError, match="2x2"):
        matrix_csv(np.eye(3), ("x", "y"))


def _run(snippet: str) -> dict:
    namespace: dict = {}
    exec(compile(snippet, "<snippet>", "exec"), namespace)  # tests only: src never execs
    return namespace


def test_snippet_reproduces_rosenbrocks_hessian_at_the_minimum(capsys):
    ns = _run(python_snippet(ROSENBROCK, ("x", "y"), [1.0, 1.0]))
    assert np.array_equal(ns["H"], [[802.0, -400.0], [-400.0, 200.0]])  # closed form
    assert np.array_equal(ns["outer"], np.zeros((2, 2)))  # ∇f = 0 at the minimum
    assert str(ns["analysis"].verdict) == "local minimum"
    assert "802" in capsys.readouterr().out


def test_snippet_keeps_the_point_at_full_precision():
    x0 = [0.1 + 0.2, -1 / 3, 2.0 ** -40]
    ns = _run(python_snippet("x^2 y + y z^3", ("x", "y", "z"), x0))
    x, y, z = x0
    assert ns["x0"] == x0
    expected = [[2 * y, 2 * x, 0.0], [2 * x, 0.0, 3 * z * z], [0.0, 3 * z * z, 6 * y * z]]
    np.testing.assert_allclose(ns["H"], expected, rtol=1e-15, atol=0)


def test_snippet_is_inert_python_for_a_hostile_but_valid_formula(tmp_path):
    f = parse_function(HOSTILE)  # the parser accepts it
    with pytest.raises(SyntaxError):
        ast.parse(f'text = "{HOSTILE}"')  # naive quoting would break the snippet
    snippet = python_snippet(HOSTILE, f.variables, [1.0, 2.0, 0.5, -1.0, 3.0])
    tree = ast.parse(snippet)
    # the formula reaches parse_function unchanged, as one string constant
    call = next(n for n in ast.walk(tree) if isinstance(n, ast.Call) and getattr(n.func, "id", "") == "parse_function")
    assert isinstance(call.args[0], ast.Constant) and call.args[0].value == HOSTILE
    assert ast.literal_eval(call.keywords[0].value) == f.variables
    # nothing but the import, assignments and prints: no other names are called
    called = {ast.unparse(n.func) for n in ast.walk(tree) if isinstance(n, ast.Call)}
    assert called == {"parse_function", "f.hessian", "f.gradient_outer", "f.analyze", "print"}
    assert [type(s).__name__ for s in tree.body] == ["ImportFrom", "Assign", "Assign", "Assign", "Assign",
                                                      "Assign", "Expr", "Expr"]
    # and it runs on its own, in an empty directory, writing nothing
    result = subprocess.run([sys.executable, "-c", snippet], cwd=tmp_path, capture_output=True, text=True,
                            timeout=60)
    assert result.returncode == 0, result.stderr
    assert list(tmp_path.iterdir()) == []
    assert np.array_equal(_run(snippet)["H"], f.hessian([1.0, 2.0, 0.5, -1.0, 3.0]))


@pytest.mark.parametrize("point, message", [([1.0], "2 variables"), ([np.inf, 0.0], "finite")])
def test_snippet_refuses_a_bad_point(point, message):
    with pytest.raises(ValueError, match=message):
        python_snippet("x y", ("x", "y"), point)


def test_docstring_examples_hold():
    assert doctest.testmod(export).failed == 0
