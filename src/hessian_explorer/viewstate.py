"""The whole view as a small, validated value that round-trips through a URL query string.

Query strings are as untrusted as the text box: every field is parsed with bounds and a message,
and a bad field falls back to its default rather than failing the page.

Keys: ``p`` preset key or ``f`` typed formula, ``x0`` point, ``ax`` plotted variable indices,
``xr``/``yr`` ranges, ``d`` grid density, ``a`` direction angle (degrees, in the plotted plane),
``v`` direction vector (n variables), ``pm`` presentation mode.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Callable, Mapping

from hessian_explorer.errors import ExpressionError
from hessian_explorer.plane import MAX_DENSITY, MIN_DENSITY
from hessian_explorer.presets import DEFAULT_PRESET, get_preset

if TYPE_CHECKING:  # sympy is imported only where a formula is parsed
    from hessian_explorer.calculus import Function

__all__ = ["ViewState", "default_view", "view_for_preset", "view_for_text"]

MAX_COORDINATE = 1e6
DEFAULT_DENSITY = 80


@dataclass(frozen=True)
class ViewState:
    preset: str | None  # preset key, or None for a typed formula
    text: str
    variables: tuple[str, ...]
    point: tuple[float, ...]
    axes: tuple[int, int]
    x_range: tuple[float, float]
    y_range: tuple[float, float]
    density: int = DEFAULT_DENSITY
    angle: float = 0.0
    vector: tuple[float, ...] | None = None
    presentation: bool = False

    def to_query(self) -> dict[str, str]:
        q = {"p": self.preset} if self.preset else {"f": self.text}
        q.update(
            x0=_fmt(self.point),
            ax=f"{self.axes[0]},{self.axes[1]}",
            xr=_fmt(self.x_range),
            yr=_fmt(self.y_range),
            d=str(self.density),
            a=_fmt((self.angle,)),
        )
        if self.vector is not None:
            q["v"] = _fmt(self.vector)
        if self.presentation:
            q["pm"] = "1"
        return q

    @classmethod
    def from_query(cls, params: Mapping[str, str],
                   parse: Callable[[str], Function] | None = None) -> tuple["ViewState", list[str]]:
        """Read a view from query parameters; returns the view and messages for refused fields.

        ``parse`` checks a typed formula (default :func:`~hessian_explorer.calculus.parse_function`;
        the app passes its sandboxed, cached parser).
        """
        problems: list[str] = []
        text = params.get("f")
        view = default_view()
        if text is not None:
            try:
                view = view_for_text(str(text)[:2000], parse)
            except ExpressionError as err:
                problems.append(f"The formula in the link was not accepted: {err}")
        elif (key := params.get("p")) is not None:
            try:
                view = view_for_preset(str(key))
            except KeyError:
                problems.append(f"Unknown preset '{str(key)[:40]}' in the link; showing {view.preset}.")
        n = len(view.variables)

        def field(name, parse, apply):
            nonlocal view
            if name in params:
                try:
                    view = apply(view, parse(str(params[name])))
                except ValueError as err:
                    problems.append(f"Ignored '{name}' in the link: {err}")

        field("x0", lambda s: _floats(s, n), lambda v, x: replace(v, point=x))
        field("ax", lambda s: _axes(s, n), lambda v, x: replace(v, axes=x))
        field("xr", _range, lambda v, x: replace(v, x_range=x))
        field("yr", _range, lambda v, x: replace(v, y_range=x))
        field("d", _density, lambda v, x: replace(v, density=x))
        field("a", lambda s: _floats(s, 1)[0] % 360.0, lambda v, x: replace(v, angle=x))
        field("v", lambda s: _vector(s, n), lambda v, x: replace(v, vector=x))
        field("pm", lambda s: s in ("1", "true"), lambda v, x: replace(v, presentation=x))
        return view, problems


def _fmt(values) -> str:
    return ",".join(repr(float(x)) for x in values)  # shortest exact round trip


def _floats(text: str, count: int) -> tuple[float, ...]:
    parts = text.split(",")
    if len(parts) != count:
        raise ValueError(f"expected {count} comma-separated numbers")
    try:
        values = tuple(float(p) for p in parts if len(p) <= 32)
    except ValueError:
        raise ValueError("not a list of numbers") from None
    if len(values) != count or not all(math.isfinite(x) and abs(x) <= MAX_COORDINATE for x in values):
        raise ValueError(f"numbers must be finite and at most {MAX_COORDINATE:g} in size")
    return values


def _range(text: str) -> tuple[float, float]:
    lo, hi = _floats(text, 2)
    if not lo < hi:
        raise ValueError("the low end of a range must be below the high end")
    return lo, hi


def _axes(text: str, n: int) -> tuple[int, int]:
    try:
        i, j = (int(p) for p in text.split(","))
    except ValueError:
        raise ValueError("expected two variable indices such as 0,1") from None
    if not (0 <= i < n and 0 <= j < n and i != j):
        raise ValueError("the plotted variables must be two different variables")
    return i, j


def _density(text: str) -> int:
    try:
        d = int(text)
    except ValueError:
        raise ValueError("grid density must be a whole number") from None
    if not MIN_DENSITY <= d <= MAX_DENSITY:
        raise ValueError(f"grid density must be between {MIN_DENSITY} and {MAX_DENSITY}")
    return d


def _vector(text: str, n: int) -> tuple[float, ...]:
    v = _floats(text, n)
    if not any(v):
        raise ValueError("the direction must be a non-zero vector")
    return v


def view_for_preset(key: str) -> ViewState:
    p = get_preset(key)
    return ViewState(p.key, p.text, p.variables, p.point, (0, 1 if len(p.variables) > 1 else 0),
                     p.x_range, p.y_range)


def view_for_text(text: str, parse: Callable[[str], Function] | None = None) -> ViewState:
    """A fresh view of a typed formula (raises ``ExpressionError`` if it is refused); ``parse``
    defaults to :func:`~hessian_explorer.calculus.parse_function`."""
    if parse is None:
        from hessian_explorer.calculus import parse_function as parse
    f = parse(text)
    n = f.n
    return ViewState(None, text, f.variables, (0.5,) * n, (0, 1 if n > 1 else 0), (-2.0, 2.0), (-2.0, 2.0))


def default_view() -> ViewState:
    return view_for_preset(DEFAULT_PRESET)
