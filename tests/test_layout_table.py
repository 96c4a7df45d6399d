"""Tables are Markdown (no pandas on any page): header from the first row's keys, numbers
right-aligned, and nothing in a cell can start Markdown, LaTeX or a new cell."""

from __future__ import annotations

from hessian_explorer.ui.layout import markdown_table


def test_header_alignment_and_rows():
    text = markdown_table([{"": "λ₁", "eigenvalue": "-42", "f curves": "down", "x": "1.5e-05"},
                           {"": "λ₂", "eigenvalue": "26", "f curves": "up", "x": "undefined"}])
    header, rule, *rows = text.splitlines()
    assert header == "|  | eigenvalue | f curves | x |"
    assert rule == "|:---|---:|:---|---:|"  # numbers (and 'undefined') to the right, words to the left
    assert rows == ["| λ₁ | −42 | down | 1\\.5e−05 |", "| λ₂ | 26 | up | undefined |"]


def test_a_numbers_minus_is_a_minus_sign_and_other_hyphens_stay():
    row = markdown_table([{"a": "-45.61, -16.07", "b": "x-y", "c": "-inf", "d": "a-1"}]).splitlines()[2]
    assert row == "| −45\\.61, −16\\.07 | x\\-y | −inf | a\\-1 |"


def test_markdown_latex_and_cell_breaks_in_a_cell_are_shown_as_typed():
    (cell,) = [markdown_table([{"a": text}]).splitlines()[2] for text in ["$x$ | **b** <i>_c_</i> [l](u)\nd"]]
    assert cell == "| \\$x\\$ \\| \\*\\*b\\*\\* \\<i\\>\\_c\\_\\</i\\> \\[l\\]\\(u\\) d |"
    assert "\n" not in cell


def test_no_rows_no_table():
    assert markdown_table([]) == ""
