"""Text exports of the numbers on screen: LaTeX matrices, CSV tables and a Python snippet.

Pure string building. Full precision means Python's shortest round-trip ``repr`` of each float,
so a number read back from the text is the same float. Non-finite entries are written as
``\\text{undefined}`` (LaTeX) and ``nan`` (CSV). The Python snippet embeds the formula text and the
variable names only through ``repr``, so whatever the text holds, the snippet is valid Python that
does nothing but call the package's public API.
"""

from __future__ import annotations

import csv
import io
from typing import Sequence

import numpy as np

__all__ = ["matrix_latex", "matrix_csv", "python_snippet"]


def _number(x: float, digits: int | None) -> str:
    """One float for LaTeX: ``digits`` significant digits (``None``: full precision), no ``-0``."""
    x = float(x)
    if not np.isfinite(x):
        return r"\text{undefined}"
    text = repr(x) if digits is None else f"{x:.{digits}g}"
    if float(text) == 0:
        return "0"
    mantissa, _, exponent = text.partition("e")
    if mantissa.endswith(".0"):
        mantissa = mantissa[:-2]
    if not exponent:
        return mantissa
    return rf"{mantissa} \times 10^{{{int(exponent)}}}"


def matrix_latex(matrix, digits: int | None = 6) -> str:
    """A square or rectangular matrix as a LaTeX ``bmatrix``, one row per line.

    ``digits`` significant digits per entry, or ``None`` for full (round-trip) precision.

    >>> print(matrix_latex([[802.0, -400.0], [-400.0, 1e-20]]))
    \\begin{bmatrix}
    802 & -400 \\\\
    -400 & 1 \\times 10^{-20}
    \\end{bmatrix}
    """
    m = np.atleast_2d(np.asarray(matrix, dtype=float))
    rows = [" & ".join(_number(x, digits) for x in row) for row in m]
    return "\\begin{bmatrix}\n" + " \\\\\n".join(rows) + "\n\\end{bmatrix}"


def matrix_csv(matrix, labels: Sequence[str]) -> str:
    """A labelled square matrix as CSV: a header of column labels, then one labelled row each.

    Entries are written at full precision (``repr``); non-finite entries as ``nan``.

    >>> print(matrix_csv([[2.0, 0.5], [0.5, -1.0]], ("x", "y")), end="")
    ,x,y
    x,2.0,0.5
    y,0.5,-1.0
    """
    m = np.atleast_2d(np.asarray(matrix, dtype=float))
    if m.shape != (len(labels), len(labels)):
        raise ValueError(f"a {len(labels)}x{len(labels)} matrix is needed for {len(labels)} labels; got {m.shape}")
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["", *labels])
    for label, row in zip(labels, m):
        writer.writerow([label, *(repr(float(x)) if np.isfinite(x) else "nan" for x in row)])
    return out.getvalue()


def python_snippet(text: str, variables: Sequence[str], point) -> str:
    """Python code that recomputes the Hessian, ∇f∇fᵀ and the analysis at ``point`` with the package.

    ``text`` and ``variables`` are embedded with ``repr`` (always a valid, inert literal); the point
    is written at full precision and must be finite, one coordinate per variable.

    >>> print(python_snippet("x^2 + y^2", ("x", "y"), [1.0, 0.5]).splitlines()[3])
    f = parse_function('x^2 + y^2', variables=('x', 'y'))
    """
    variables = tuple(str(v) for v in variables)
    x0 = [float(x) for x in np.ravel(np.asarray(point, dtype=float))]
    if len(x0) != len(variables):
        raise ValueError(f"the point has {len(x0)} coordinates but there are {len(variables)} variables")
    if not all(np.isfinite(x0)):
        raise ValueError("the point must have finite coordinates")
    return "\n".join([
        "# Recompute the numbers on this page with the hessian_explorer package.",
        "from hessian_explorer import parse_function",
        "",
        f"f = parse_function({str(text)!r}, variables={variables!r})",
        f"x0 = [{', '.join(repr(x) for x in x0)}]",
        "H = f.hessian(x0)  # H[i, j] = d²f/dx_i dx_j at x0",
        "outer = f.gradient_outer(x0)  # ∇f ∇fᵀ at x0: NOT the Hessian",
        "analysis = f.analyze(x0)  # eigenvalues, eigenvectors, determinant, verdict",
        "print(H)",
        "print(analysis.eigenvalues, analysis.definiteness, analysis.verdict)",
    ])
