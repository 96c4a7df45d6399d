"""The shared sidebar: function, point, plotted plane, direction and presentation mode.

Every widget has a key; durable values live in ``st.session_state`` under those keys and are
re-registered at the start of each run (:func:`keep_state`) so they survive page switches.
Actions (preset change, snapping, clicking a chart, direction buttons) are callbacks, which run
before the script and may therefore set widget values.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import streamlit as st

from hessian_explorer.critical import nearest_critical_point
from hessian_explorer.directions import angle_direction, unit
from hessian_explorer.figures.style import Theme, fmt, theme_for
from hessian_explorer.errors import ExpressionError
from hessian_explorer.plane import MAX_DENSITY, MIN_DENSITY, Plane
from hessian_explorer.presets import PRESETS, Preset, get_preset
from hessian_explorer.ui.cache import load_function
from hessian_explorer.ui.charts import clicked_point
from hessian_explorer.ui.layout import ensure_entrypoint, presentation_toggle
from hessian_explorer.ui.session import KEPT, keep_state
from hessian_explorer.viewstate import ViewState, default_view, view_for_preset, view_for_text

if TYPE_CHECKING:  # sympy is imported only where a formula is parsed
    from hessian_explorer.calculus import Function

__all__ = ["View", "apply_view", "function_sidebar", "keep_state", "init_from_url", "sync_url", "on_chart_click",
           "on_dial_click", "kept_slider", "kept_number_input", "kept_value", "CUSTOM", "PRESET"]

PRESET, CUSTOM = "Preset", "Type your own"


@dataclass(frozen=True)
class View:
    """Everything a function page needs, read from the sidebar and validated."""

    function: Function
    text: str
    preset: Preset | None
    point: np.ndarray  # (n,)
    plane: Plane
    direction: np.ndarray  # unit vector (n,)
    angle: float  # degrees, in the plotted plane (2-variable functions)
    presentation: bool

    @property
    def theme(self) -> Theme:
        return theme_for(self.presentation)

    @property
    def labels(self) -> tuple[str, str]:
        v = self.function.variables
        return v[self.plane.ix], v[self.plane.iy]

    @property
    def key(self) -> tuple:
        """Hashable identity of the function, for the caches."""
        return self.text, self.function.variables

    def state(self) -> ViewState:
        n = self.function.n
        return ViewState(
            preset=self.preset.key if self.preset else None, text=self.text,
            variables=self.function.variables, point=tuple(float(x) for x in self.point),
            axes=(self.plane.ix, self.plane.iy), x_range=self.plane.x_range, y_range=self.plane.y_range,
            density=self.plane.density, angle=float(self.angle),
            vector=tuple(float(x) for x in self.direction) if n > 2 else None,
            presentation=self.presentation,
        )


# -- state plumbing --------------------------------------------------------------------------------
def _kept(key: str, default: float) -> None:
    """Register ``key`` as kept (see :func:`keep_state`), starting at ``default``."""
    ss = st.session_state
    ss.setdefault(key, default)
    ss.setdefault(KEPT, set()).add(key)


def kept_value(key: str, default: float) -> float:
    """The value of a kept widget (:func:`kept_slider`) in a run that does not draw it."""
    _kept(key, default)
    return st.session_state[key]


def kept_slider(label: str, min_value: float, max_value: float, default: float, *, key: str, **kwargs) -> float:
    """A page's slider whose value survives the runs that do not draw it (its tab closed, another
    page open): :func:`keep_state` carries it like the sidebar's values."""
    _kept(key, default)
    return st.slider(label, min_value, max_value, key=key, **kwargs)


def kept_number_input(label: str, min_value: float, max_value: float, default: float, *, key: str,
                      **kwargs) -> float:
    """:func:`kept_slider` for a number input."""
    _kept(key, default)
    return st.number_input(label, min_value, max_value, key=key, **kwargs)


def apply_view(view: ViewState, function_widgets: bool = True) -> None:
    """Set every control from ``view``; ``function_widgets=False`` leaves the function picker
    alone (it may already be drawn in this run, when a new formula resets the rest)."""
    ss = st.session_state
    if function_widgets:
        ss["source"] = PRESET if view.preset else CUSTOM
        if view.preset:
            ss["preset"] = view.preset
        else:
            ss["fn_text"] = view.text
    ss["_last_text"] = view.text
    ss["_vars"] = view.variables
    for i, x in enumerate(view.point):
        ss[f"x0_{i}"] = float(x)
    ss["ax_x"], ss["ax_y"] = view.axes
    ss["xr_lo"], ss["xr_hi"] = (float(x) for x in view.x_range)
    ss["yr_lo"], ss["yr_hi"] = (float(x) for x in view.y_range)
    ss["density"] = int(view.density)
    ss["angle"] = float(view.angle)
    if view.vector is not None:
        vector = view.vector
    elif len(view.variables) > 1:
        vector = tuple(angle_direction(view.angle, len(view.variables), *view.axes))
    else:
        vector = (1.0,)
    for i, x in enumerate(vector):
        ss[f"v_{i}"] = float(x)


def init_from_url() -> list[str]:
    """On a session's first run, set every control from the query string; returns messages."""
    if "_initialised" in st.session_state:
        return []
    st.session_state["_initialised"] = True
    view, problems = ViewState.from_query(st.query_params.to_dict(), parse=load_function)
    apply_view(view)
    st.session_state["presentation"] = bool(view.presentation)
    return problems


def sync_url(view: View) -> None:
    """Write the view into the URL (only when it changed), so a copied link reopens it."""
    query = view.state().to_query()
    if st.query_params.to_dict() != query:
        st.query_params.from_dict(query)


# -- callbacks -----------------------------------------------------------------------------------
def _on_preset() -> None:
    apply_view(view_for_preset(st.session_state["preset"]))


def _on_source() -> None:
    ss = st.session_state
    if ss["source"] == PRESET:
        apply_view(view_for_preset(ss.get("preset") or default_view().preset))
    elif not ss.get("fn_text"):
        ss["fn_text"] = ss.get("_last_text") or default_view().text


def _set_point(values: dict[int, float]) -> None:
    for i, x in values.items():
        st.session_state[f"x0_{i}"] = float(x)


def _on_snap(text: str, variables: tuple[str, ...], plane: Plane, xy: tuple[float, float]) -> None:
    found = nearest_critical_point(load_function(text, variables), plane, xy)
    if found is None:
        st.session_state["_toast"] = "No critical point in the plotted range."
        return
    _set_point({plane.ix: found.xy[0], plane.iy: found.xy[1]})
    st.session_state["_toast"] = f"Moved to the nearest critical point: {found.analysis.verdict}."


def on_chart_click(chart_key: str, ix: int, iy: int) -> None:
    """Callback for ``charts.chart(on_click=...)`` on a map: move x₀ to the clicked grid point."""
    p = clicked_point(chart_key)
    if p is not None and _finite(p.get("x")) and _finite(p.get("y")):
        _set_point({ix: p["x"], iy: p["y"]})


def on_dial_click(chart_key: str) -> None:
    """Callback for the curvature rose's ``on_click``: point v̂ at the clicked angle (2-D only)."""
    p = clicked_point(chart_key)
    if p is not None and _finite(p.get("theta")):
        st.session_state["angle"] = float(round(p["theta"]) % 360.0)


def _finite(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _set_direction(v: np.ndarray, ix: int, iy: int) -> None:
    n = len(v)
    if n > 2:
        for i, x in enumerate(v):
            st.session_state[f"v_{i}"] = float(x)
    elif n == 2:
        st.session_state["angle"] = float(math.degrees(math.atan2(v[iy], v[ix])) % 360.0)


def _on_direction(kind: str, text: str, variables: tuple[str, ...], point: tuple[float, ...], ix: int, iy: int) -> None:
    f = load_function(text, variables)
    x = np.asarray(point)
    if kind == "gradient":
        g = f.gradient(x)
        if not np.all(np.isfinite(g)) or np.linalg.norm(g) == 0:
            st.session_state["_toast"] = "∇f is zero (or undefined) here, so it has no direction."
            return
        _set_direction(unit(g), ix, iy)
        return
    analysis = f.analyze(x)
    if not np.all(np.isfinite(analysis.eigenvectors)):
        st.session_state["_toast"] = "The Hessian is undefined here."
        return
    column = 0 if kind == "eig_min" else -1
    _set_direction(analysis.eigenvectors[:, column], ix, iy)


# -- the sidebar ---------------------------------------------------------------------------------
def _last_valid_function() -> tuple[str, Function]:
    """The last accepted formula, or the default preset if even that cannot be loaded now."""
    text = st.session_state.get("_last_text")
    if text:
        try:
            return text, load_function(text)
        except ExpressionError:
            pass
    fallback = default_view()
    st.session_state["_last_text"] = fallback.text
    return fallback.text, load_function(fallback.text, fallback.variables)


def _function_picker() -> tuple[Function, str, Preset | None]:
    ss = st.session_state
    source = st.radio("Function", (PRESET, CUSTOM), key="source", horizontal=True, on_change=_on_source)
    if source == PRESET:
        keys = [p.key for p in PRESETS]
        key = st.selectbox("Preset", keys, key="preset", format_func=lambda k: get_preset(k).name,
                           on_change=_on_preset)
        preset = get_preset(key)
        st.caption(preset.note)
        text = preset.text
        function = load_function(text, preset.variables)
    else:
        preset = None
        text = st.text_input(
            "f =", key="fn_text", max_chars=1000,
            help="Examples: x^2 + 3x y, sin(x) cos(y), exp(-(x^2+y^2)), 2x + 3y, \\frac{x^2}{y}. "
                 "Functions: sin cos tan asin acos atan sinh cosh tanh exp log sqrt abs sigmoid softplus.",
        )
        try:
            function = load_function(text)
            ss["_last_text"] = text
        except ExpressionError as err:
            st.error(f"Not accepted: {err}. Still showing the last valid function.", icon=":material/back_hand:")
            text, function = _last_valid_function()
        if tuple(ss.get("_vars", ())) != function.variables:
            apply_view(view_for_text(text, load_function), function_widgets=False)
    # Drawn when opened: a page without other formulas (the landscape) then loads no KaTeX (its
    # script, styles and fonts) on a first visit, 0.17 s sooner there (measured side by side).
    symbols = st.expander("f and ∇f in symbols", key="fn_symbols", on_change="rerun")
    if symbols.open:
        with symbols:
            st.latex(f"f = {function.latex}")
            st.latex(r"\nabla f = " + function.gradient_latex)
    return function, text, preset


def _point_and_plane(function: Function) -> tuple[np.ndarray, Plane]:
    ss = st.session_state
    names = function.variables
    n = len(names)
    if n > 2:
        c1, c2 = st.columns(2)
        ix = c1.selectbox("Plot across", range(n), key="ax_x", format_func=lambda i: names[i])
        iy = c2.selectbox("and", range(n), key="ax_y", format_func=lambda i: names[i])
    else:
        ix, iy = 0, 1 if n == 2 else 0
    st.markdown("**Point x₀**")
    cols = st.columns(min(n, 2))
    point = []
    for i, name in enumerate(names):
        key = f"x0_{i}"
        ss.setdefault(key, 0.5)
        if n > 2 and i not in (ix, iy):
            lo = min(float(ss.get("xr_lo", -2.0)), ss[key])
            hi = max(float(ss.get("xr_hi", 2.0)), ss[key])
            point.append(st.slider(f"{name} (held fixed)", lo, hi, key=key, step=(hi - lo) / 200))
        else:
            point.append(cols[i % len(cols)].number_input(name, key=key, step=0.1, format="%.4f"))
    # Drawn when opened (four number boxes and a slider the first screen does not need); closed,
    # the plane is read from the same keys, which keep_state carries across pages.
    ranges = st.expander("Plot range", key="plot_range", on_change="rerun")
    if ranges.open:
        with ranges:
            c1, c2 = st.columns(2)
            c1.number_input(f"{names[ix]} from", key="xr_lo", step=0.5)
            c2.number_input("to", key="xr_hi", step=0.5)
            if n > 1:
                c1.number_input(f"{names[iy]} from", key="yr_lo", step=0.5)
                c2.number_input("to ", key="yr_hi", step=0.5)
            st.slider("Grid density (points per axis)", MIN_DENSITY, 200, key="density", step=10,
                      help=f"Up to {MAX_DENSITY} via the URL; more points draw slower.")
    try:
        plane = Plane(tuple(point), ix, iy, (ss["xr_lo"], ss["xr_hi"]),
                      (ss["yr_lo"], ss["yr_hi"]) if n > 1 else (-1.0, 1.0), int(ss["density"]))
        ss["_last_plane"] = plane
    except ValueError as err:
        st.error(f"{err}. Keeping the previous range.", icon=":material/back_hand:")
        last = ss.get("_last_plane")
        plane = Plane(tuple(point), ix, iy, last.x_range, last.y_range, last.density) if (
            last is not None and last.n == n and (last.ix, last.iy) == (ix, iy)) else Plane(
            tuple(point), ix, iy, (-2.0, 2.0), (-2.0, 2.0), 80)
    return np.asarray(point, dtype=float), plane


def _stored_direction(function: Function, plane: Plane) -> tuple[np.ndarray | None, float]:
    """v̂ and the angle from their keys (drawn or not); v̂ is None when v is zero."""
    ss = st.session_state
    n = function.n
    angle = float(ss.get("angle", 0.0)) if n > 1 else 0.0
    if n == 1:
        return np.array([1.0]), angle
    if n == 2:
        return angle_direction(angle, 2, plane.ix, plane.iy), angle
    try:
        return unit([float(ss.get(f"v_{i}", 0.0)) for i in range(n)]), angle
    except ValueError:
        return None, angle


def _direction(function: Function, text: str, point: np.ndarray, plane: Plane,
               controls: bool) -> tuple[np.ndarray, float]:
    """The direction v̂ and its angle; with ``controls``, drawn as widgets that set them."""
    n = function.n
    if controls:
        st.markdown("**Direction v**")
        if n == 2:
            st.slider("angle of v (degrees from the x-axis)", 0.0, 360.0, key="angle", step=1.0)
        elif n > 2:
            cols = st.columns(min(n, 3))
            for i, name in enumerate(function.variables):
                cols[i % len(cols)].number_input(f"v_{name}", key=f"v_{i}", step=0.1, format="%.3f")
    v, angle = _stored_direction(function, plane)
    if v is None:
        if controls:
            st.error("v must not be zero; using the x-axis direction.", icon=":material/back_hand:")
        v = angle_direction(0.0, n, plane.ix, plane.iy)
    if controls and n > 1:
        args = (text, function.variables, tuple(point), plane.ix, plane.iy)
        st.caption("Point v along:")
        c1, c2, c3 = st.columns(3)
        c1.button("∇f", key="dir_grad", on_click=_on_direction, args=("gradient", *args), width="stretch",
                  help="along the gradient at x₀")
        c2.button("λ min", key="dir_eig1", on_click=_on_direction, args=("eig_min", *args), width="stretch",
                  help="along the eigenvector of the smallest eigenvalue of H at x₀")
        c3.button("λ max", key="dir_eig2", on_click=_on_direction, args=("eig_max", *args), width="stretch",
                  help="along the eigenvector of the largest eigenvalue of H at x₀")
        st.caption("v is normalised: curvature is v̂ᵀHv̂ with v̂ = v/|v|.")
    return v, angle


def function_sidebar(*, direction: bool = True) -> View:
    """Draw the shared sidebar and return the validated :class:`View`.

    ``direction=False`` leaves out the direction v's controls, for pages that do not use v; the
    view's direction is then the one last set (kept across pages, and in the URL)."""
    ensure_entrypoint()
    with st.sidebar:
        function, text, preset = _function_picker()
        point, plane = _point_and_plane(function)
        if function.n >= 2:
            st.button("Snap x₀ to the nearest critical point", key="snap", width="stretch",
                      on_click=_on_snap, args=(text, function.variables, plane,
                                               (float(point[plane.ix]), float(point[plane.iy]))))
        v, angle = _direction(function, text, point, plane, controls=direction)
        presentation = presentation_toggle()
    if message := st.session_state.pop("_toast", None):
        st.toast(message)
    view = View(function, text, preset, point, plane, v, angle, presentation)
    st.session_state["_view"] = view
    return view


def describe_point(view: View) -> str:
    """``(x, y) = (1, 2)`` for captions."""
    names = ", ".join(view.function.variables)
    return f"({names}) = ({', '.join(fmt(x) for x in view.point)})"
