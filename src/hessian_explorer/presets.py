"""Named functions chosen to teach second derivatives, each with a point, a range and a note.

Every preset parses with :func:`hessian_explorer.parse_function`; ``variables`` fixes the order.
Ranges are ``(low, high)`` per plotted variable; ``point`` has one entry per variable.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["Preset", "PRESETS", "get_preset", "DEFAULT_PRESET"]


@dataclass(frozen=True)
class Preset:
    key: str
    name: str
    text: str
    variables: tuple[str, ...]
    point: tuple[float, ...]
    x_range: tuple[float, float]
    y_range: tuple[float, float]
    note: str  # two short sentences: what to look at, and why it matters


PRESETS: tuple[Preset, ...] = (
    Preset("bowl", "Round bowl", "x^2 + y^2", ("x", "y"), (1.0, 0.5), (-2, 2), (-2, 2),
           "H = 2I everywhere: every direction curves up equally, so the contours are circles. "
           "∇f∇fᵀ still changes from point to point and vanishes at the minimum."),
    Preset("elongated", "Elongated bowl", "x^2 + 10y^2", ("x", "y"), (1.5, 0.5), (-2, 2), (-2, 2),
           "Eigenvalues 2 and 20: curvature is ten times stronger along y. "
           "The condition number 10 is what slows gradient descent in narrow valleys."),
    Preset("rotated", "Rotated quadratic", "x^2 + x y + 2y^2", ("x", "y"), (1.0, -1.0), (-2, 2), (-2, 2),
           "The cross term puts off-diagonal entries in H and tilts the ellipses. "
           "The principal axes are the eigenvectors of H, not the coordinate axes."),
    Preset("saddle", "Saddle", "x^2 - y^2", ("x", "y"), (0.5, 0.5), (-2, 2), (-2, 2),
           "H has one positive and one negative eigenvalue: up along x, down along y. "
           "At the origin the gradient is zero but it is neither a minimum nor a maximum."),
    Preset("monkey", "Monkey saddle", "x^3 - 3x y^2", ("x", "y"), (0.0, 0.0), (-1.5, 1.5), (-1.5, 1.5),
           "At the origin both ∇f and H are zero: the second-derivative test says nothing. "
           "Three valleys meet there (room for a monkey's tail)."),
    Preset("rosenbrock", "Rosenbrock", "(1 - x)^2 + 100(y - x^2)^2", ("x", "y"), (-1.0, 1.0), (-2, 2), (-1, 3),
           "A curved, narrow valley; at the minimum (1, 1) H = [[802, −400], [−400, 200]]. "
           "The condition number ≈ 2500 explains why plain gradient descent crawls here."),
    Preset("himmelblau", "Himmelblau", "(x^2 + y - 11)^2 + (x + y^2 - 7)^2", ("x", "y"), (0.0, 0.0), (-5, 5), (-5, 5),
           "Four minima, four saddles and one maximum: the Hessian tells them apart. "
           "Snap to each critical point and read the verdict."),
    Preset("gaussian", "Gaussian bump", "exp(-(x^2 + y^2)/2)", ("x", "y"), (0.5, 0.3), (-3, 3), (-3, 3),
           "Concave on top (r < 1) and saddle-shaped beyond the ring r = 1. "
           "Around the bump f always curves down, with eigenvalue −e^(−r²/2) < 0."),
    Preset("sincos", "sin(x) cos(y)", "sin(x) cos(y)", ("x", "y"), (1.0, 0.5), (-3.2, 3.2), (-3.2, 3.2),
           "A checkerboard of maxima, minima and saddles. "
           "H changes sign from cell to cell while ∇f∇fᵀ is never negative."),
    Preset("logsumexp", "Log-sum-exp", "log(exp(x) + exp(y))", ("x", "y"), (0.5, -0.5), (-3, 3), (-3, 3),
           "Convex but flat along (1, 1): H is PSD with one zero eigenvalue everywhere. "
           "Its Hessian is diag(p) − ppᵀ with p the softmax, as in multinomial logistic regression."),
    Preset("linear", "Linear function", "2x + 3y", ("x", "y"), (0.5, 0.5), (-2, 2), (-2, 2),
           "H = 0 everywhere: a plane has no curvature. "
           "Yet ∇f∇fᵀ = [[4, 6], [6, 9]] ≠ 0, the clearest counterexample to H = ∇f∇fᵀ."),
    Preset("exp_sum", "exp(x + y)", "exp(x + y)", ("x", "y"), (0.0, 0.0), (-2, 1), (-2, 1),
           "H = e^(x+y) [[1, 1], [1, 1]] and ∇f∇fᵀ = e^(2(x+y)) [[1, 1], [1, 1]]. "
           "They agree only on the line x + y = 0."),
    Preset("neglog", "−log(1 − x − y)", "-log(1 - x - y)", ("x", "y"), (0.0, 0.0), (-2, 0.9), (-2, 0.9),
           "Here H = ∇f∇fᵀ wherever f is defined, because e^(−f) = 1 − x − y is affine. "
           "Those are exactly the functions for which the misconception is true."),
    Preset("double_well", "Double well", "x^4 - 2x^2 + y^2", ("x", "y"), (0.2, 0.5), (-2, 2), (-2, 2),
           "Two minima at (±1, 0) and a saddle between them at the origin. "
           "Between |x| < 1/√3 the x-curvature 12x² − 4 is negative."),
    Preset("three_d", "3 variables", "x^2 + 2y^2 + 3z^2 + x y + y z", ("x", "y", "z"), (1.0, 1.0, 0.5),
           (-2, 2), (-2, 2),
           "A 3×3 positive definite Hessian: a minimum at the origin. "
           "Plots show a slice through two variables; the heatmap shows all three."),
    Preset("cubic", "Cubic with two critical points", "x^3 + y^3 - 3x y", ("x", "y"), (0.5, 0.5), (-1.5, 2), (-1.5, 2),
           "A saddle at (0, 0) and a minimum at (1, 1). "
           "det H = 36xy − 9 separates the two: its sign decides the test."),
)

DEFAULT_PRESET = "rosenbrock"
_BY_KEY = {p.key: p for p in PRESETS}


def get_preset(key: str) -> Preset:
    """The preset with this key; ``KeyError`` naming the known keys otherwise."""
    try:
        return _BY_KEY[key]
    except KeyError:
        raise KeyError(f"unknown preset '{key}'; known: {', '.join(_BY_KEY)}") from None
