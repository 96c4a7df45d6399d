"""One place for the look of every figure: normal and presentation themes, colour-blind-safe palettes.

Matrices use a diverging scale centred at 0 (blue negative, white zero, red positive: RdBu,
safe for the common colour-vision deficiencies); scalar fields use the perceptually uniform
Cividis; categorical marks use the Okabe–Ito palette.
"""

from __future__ import annotations

import copy
import json
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import plotly
import plotly.graph_objects as go
import plotly.io as pio

# No page imports pandas (tables are Markdown): plotly's validators look pandas up in sys.modules
# without importing it, and when two sessions start together one thread could find it
# half-imported by the other ("partially initialized module 'pandas' has no attribute 'Series'",
# found by tests/test_isolation.py). tests/test_startup.py checks that no page imports it.

__all__ = ["Theme", "NORMAL", "PRESENTATION", "theme_for", "OKABE_ITO", "DIVERGING", "SEQUENTIAL",
           "CRITICAL_STYLE", "apply_theme", "merge_layout", "legend_row_below", "legend_rows_below",
           "fmt"]

DIVERGING = "RdBu_r"
SEQUENTIAL = "Cividis"
OKABE_ITO = {
    "orange": "#E69F00", "sky": "#56B4E9", "green": "#009E73", "yellow": "#F0E442",
    "blue": "#0072B2", "vermillion": "#D55E00", "purple": "#CC79A7", "black": "#000000",
}

# marker symbol and colour per verdict (keys are analysis.Verdict values)
CRITICAL_STYLE = {
    "local minimum": ("circle", OKABE_ITO["blue"]),
    "local maximum": ("triangle-up", OKABE_ITO["vermillion"]),
    "saddle point": ("x", OKABE_ITO["purple"]),
    "inconclusive (degenerate critical point)": ("diamond", OKABE_ITO["yellow"]),
}


@dataclass(frozen=True)
class Theme:
    name: str
    font_size: int
    title_size: int
    line_width: float
    marker_size: int
    height: int
    annotation_size: int
    arrow_width: float

    @property
    def template(self) -> str:
        return TEMPLATE


NORMAL = Theme("normal", font_size=14, title_size=17, line_width=2.5, marker_size=11, height=520,
               annotation_size=14, arrow_width=1.6)
PRESENTATION = Theme("presentation", font_size=22, title_size=26, line_width=4.5, marker_size=18,
                     height=680, annotation_size=22, arrow_width=2.6)


def _plotly_white() -> dict:
    """plotly's own plotly_white template as a dict, read from its JSON file (a tenth of a second
    faster at start-up than ``pio.templates``, which validates it property by property)."""
    try:
        return json.loads((Path(plotly.__file__).parent / "package_data" / "templates" / "plotly_white.json")
                          .read_text(encoding="utf-8"))
    except (OSError, ValueError):  # another plotly layout: ask plotly
        return pio.templates["plotly_white"].to_plotly_json()


def _slim_template() -> go.layout.Template:
    """plotly_white with only the trace types and subplots this app draws: the template travels
    inside every figure (copied, serialised, sent), and plotly_white's defaults for maps, tables,
    carpets and ternary plots are more than half of it."""
    white = _plotly_white()
    data = {kind: white["data"][kind] for kind in _TRACE_TYPES}
    layout = {key: value for key, value in white["layout"].items() if key not in ("geo", "ternary")}
    layout["font"] = {**layout.get("font", {}), "family": FONT_FAMILY}
    return go.layout.Template(data=data, layout=layout, _validate=False)  # plotly's own values


# The app's own text face (Streamlit's), so that charts and page read as one.
FONT_FAMILY = '"Source Sans", "Source Sans Pro", sans-serif'
_TRACE_TYPES = ("bar", "contour", "heatmap", "scatter", "scatter3d", "scatterpolar", "surface")
TEMPLATE = "hessian_explorer"
pio.templates[TEMPLATE] = _slim_template()
_TEMPLATE_SPEC = pio.templates[TEMPLATE].to_plotly_json()


def theme_for(presentation: bool) -> Theme:
    return PRESENTATION if presentation else NORMAL


def _subplots(spec: dict) -> tuple[set[str], set[str], set[str]]:
    """Layout keys of the cartesian axes, 3-D scenes and polar subplots a figure spec has or uses."""
    axes, scenes, polars = set(), set(), set()
    for key in spec["layout"]:
        kind = key.rstrip("0123456789")
        {"xaxis": axes, "yaxis": axes, "scene": scenes, "polar": polars}.get(kind, set()).add(key)
    for trace in spec["data"]:
        kind = trace.get("type", "scatter")
        if kind in _3D:
            scenes.add(trace.get("scene", "scene"))
        elif kind in _POLAR:
            polars.add(trace.get("subplot", "polar"))
        else:
            axes.update(("xaxis" + trace.get("xaxis", "x")[1:], "yaxis" + trace.get("yaxis", "y")[1:]))
    if not (axes or scenes or polars):
        axes = {"xaxis", "yaxis"}  # an empty figure still draws its default axes
    return axes, scenes, polars


_3D = frozenset({"surface", "scatter3d", "mesh3d", "cone", "streamtube", "volume", "isosurface"})
_POLAR = frozenset({"scatterpolar", "scatterpolargl", "barpolar"})


def merge_layout(base: dict, extra: dict) -> dict:
    """Deep-merge ``extra`` into ``base`` (like ``update_layout``: nested dicts are merged)."""
    for key, value in extra.items():
        if isinstance(value, dict) and isinstance(base.get(key), dict):
            merge_layout(base[key], value)
        else:
            base[key] = copy.deepcopy(value)
    return base


def apply_theme(fig: go.Figure, theme: Theme, title: str | None = None, height: int | None = None,
                layout: dict | None = None) -> go.Figure:
    """``fig`` with the fonts, margins, template and height of ``theme`` (and the plain-dict
    ``layout`` updates, merged last): a new figure, so use the one returned.

    Figure builders call this last. plotly's ``update_layout`` and ``update_xaxes`` walk their
    property paths one at a time (10-20 ms a figure, the larger part of a page's rerun), so the
    theme is merged into the figure's dict and the figure rebuilt from it unvalidated: the theme
    is fixed and valid, what the builders put in was validated when they added it, and ``layout``
    is validated on its own (a small dict, about a millisecond).
    """
    spec = {"data": [trace.to_plotly_json() for trace in fig.data], "layout": fig.layout.to_plotly_json()}
    size = theme.font_size
    # Pages draw charts with ``theme=None``: this theme is the whole look (Streamlit's chart theme
    # would shrink ticks and titles, and with it plotly took 40% longer to draw the Hessian page).
    def axis() -> dict:  # a new dict each time: a scene's three axes must not share one
        return {"tickfont": {"size": size}, "title": {"font": {"size": size}}}

    axes, scenes, polars = _subplots(spec)
    updates: dict = {key: axis() for key in axes}
    updates |= {key: {"xaxis": axis(), "yaxis": axis(), "zaxis": axis()} for key in scenes}
    updates |= {key: {"angularaxis": {"tickfont": {"size": size}}, "radialaxis": {"tickfont": {"size": size}}}
                for key in polars}
    updates |= {
        "font": {"size": size, "color": "#111111"},
        "height": height or theme.height,
        "margin": {"l": 10, "r": 10, "t": _top_margin(title), "b": 10},
        "legend": {"font": {"size": size}},
        "hoverlabel": {"font": {"size": size}},
    }
    if title:
        updates["title"] = {"text": title, "font": {"size": theme.title_size, "weight": 600}, "x": 0.01}
    merge_layout(spec["layout"], updates)
    if layout:  # validated: plotly turns names such as "RdBu_r" into the colour lists plotly.js needs
        merge_layout(spec["layout"], go.Layout(layout).to_plotly_json())
    _reserve_margins(spec, axes, size)
    spec["layout"]["template"] = copy.deepcopy(_TEMPLATE_SPEC)
    return go.Figure(spec, _validate=False)


# -- margins -------------------------------------------------------------------------------------
# plotly grows a margin that its tick labels, axis titles or colour bar do not fit, and then draws
# the whole chart again (``automargin``): on a cold page that second drawing was a third of the
# browser's plotting time. Reserving what they need up front keeps to one drawing; an estimate
# that falls short only costs the redraw, never a clipped label. Widths are in font sizes of the
# app's face (Source Sans: digits and signs are about half an em wide).
_CHAR = 0.55  # width of a tick-label character, in font sizes
_COLORBAR_PAD = 20  # px between the plot and its colour bar (the bar sits at the plot's right edge)


def _reserve_margins(spec: dict, axes: set[str], size: float) -> None:
    """Grow ``spec``'s margins (never shrink them) to what its cartesian ``axes`` and colour bars need."""
    layout, data = spec["layout"], spec["data"]
    margin = layout.setdefault("margin", {})
    need: dict[str, float] = {}
    for key in axes:
        axis = layout.get(key, {})
        if axis.get("showticklabels") is False or axis.get("visible") is False:
            continue
        titled = bool((axis.get("title") or {}).get("text"))
        if key[0] == "y" and axis.get("side", "left") == "left":
            labels = _CHAR * _tick_chars(_axis_values(key, axis, data)) * size
            need["l"] = max(need.get("l", 0), labels + (1.3 * size + 31 if titled else 10))
            if titled:  # the top tick label's upper half
                need["t"] = max(need.get("t", 0), 0.75 * size + 12)
        elif key[0] == "x" and axis.get("side", "bottom") == "bottom":
            if titled:
                need["b"] = max(need.get("b", 0), 1.9 * size + 30)
            if axis.get("range") is not None:  # a tick on the range's end: half its label sticks out
                need["r"] = max(need.get("r", 0), _overhang(_axis_values(key, axis, data), size) + 10)
    for bar, values in _colorbars(layout, data):
        bar.setdefault("x", 1.0)
        bar.setdefault("xanchor", "left")
        bar.setdefault("xpad", _COLORBAR_PAD)
        if bar["x"] == 1.0 and bar["xanchor"] == "left":  # not placed by its figure
            chars = _tick_chars(_tick_texts(bar) or values)
            width = 2 * bar["xpad"] + bar.get("thickness", 30) + _CHAR * chars * size + 10
            need["r"] = max(need.get("r", 0), width)
    for side, px in need.items():
        margin[side] = max(margin.get(side, 10), int(round(px)))


def _axis_values(key: str, axis: dict, data: list[dict]):
    """The values an axis shows: its tick texts, its fixed range, its categories, or its data's range."""
    if texts := _tick_texts(axis):
        return texts
    if axis.get("range") is not None:
        return axis["range"]
    letter, ref = key[0], key[0] + key[5:]
    found = [trace.get(letter) for trace in data if trace.get(letter + "axis", letter) == ref]
    return [v for v in found if v is not None]


def _tick_texts(axis: dict) -> list | None:
    """An axis's (or colour bar's) own tick labels, as one array of text, if it sets them."""
    return None if axis.get("ticktext") is None else [list(map(str, axis["ticktext"]))]


def _colorbars(layout: dict, data: list[dict]):
    """(colorbar dict, the values it spans) for every colour bar the figure shows."""
    for name, axis in layout.items():
        if name.startswith("coloraxis") and isinstance(axis, dict) and axis.get("showscale", True):
            yield axis.setdefault("colorbar", {}), [axis.get("cmin"), axis.get("cmax")]
    for trace in data:
        if trace.get("type") in ("heatmap", "contour") and trace.get("showscale", True) and "coloraxis" not in trace:
            values = [trace.get("zmin"), trace.get("zmax")] if trace.get("zmin") is not None else trace.get("z")
            yield trace.setdefault("colorbar", {}), values


def _tick_chars(values) -> int:
    """Characters of the longest tick label plotly's automatic ticks would give ``values`` (arrays
    or numbers): text as it is, numbers at a 1-2-5 step of about six ticks (4 when unknown)."""
    numbers, text = [], 0
    for v in values if isinstance(values, (list, tuple)) else [values]:
        if v is None:
            continue
        array = np.asarray(v).ravel()
        if array.dtype.kind in "fiu":
            numbers.append(array.astype(float))
        else:  # labels (or a mix): as written
            text = max(text, max((len(str(x)) for x in array if x is not None), default=0))
    finite = np.concatenate(numbers) if numbers else np.empty(0)
    finite = finite[np.isfinite(finite)]
    if finite.size == 0 or finite.min() == finite.max():
        return text or 4
    lo, hi = float(finite.min()), float(finite.max())
    if max(abs(lo), abs(hi)) >= 1e4:
        return max(text, 5)  # "−20k": plotly shortens big numbers with SI prefixes
    raw = (hi - lo) / 6
    scale = 10.0 ** math.floor(math.log10(raw))
    step = next(m * scale for m in (1, 2, 5, 10) if m * scale >= raw * (1 - 1e-9))
    decimals = max(0, -math.floor(math.log10(step) + 1e-9))
    ticks = np.arange(math.ceil(lo / step), math.floor(hi / step) + 1) * step
    return max(text, max((len(f"{t:.{decimals}f}") for t in ticks), default=4))


def _overhang(values, size: float) -> float:
    """How far (px) a tick label centred on an axis's end reaches past it: half the widest label
    plotly's automatic ticks would give ``values``."""
    return 0.5 * _CHAR * _tick_chars(values) * size


def _top_margin(title: str | None) -> int:
    return 60 if title else 20


def legend_row_below(theme: Theme, title: str | None = None, **legend) -> dict:
    """Layout (``legend`` and bottom ``margin``) for one row of legend under the x axis, at any font
    size: the axis's tick labels and title take about 3.8 font sizes of height (a fixed fraction of
    the plot collided with the title in presentation mode), and the margin holds them and the row,
    as measured in Chromium at both font sizes, so plotly need not grow it and draw the chart again.
    ``legend`` adds or overrides legend settings."""
    return legend_rows_below(theme, 1, title, orientation="h", **legend)


def legend_rows_below(theme: Theme, rows: int, title: str | None = None, height: int | None = None,
                      **legend) -> dict:
    """Like :func:`legend_row_below`, for a list of ``rows`` entries, one under the other (plotly's
    vertical legend: how many rows it takes does not depend on the chart's width, unlike a legend
    that wraps), in a chart of ``height`` (the theme's by default)."""
    row = 1.3 * theme.font_size + 3  # a legend row in plotly: 1.3 lines of text and 3 px, in Chromium
    bottom = round(5 * theme.font_size + 34 + (rows - 1) * row)
    plot = (height or theme.height) - _top_margin(title) - bottom
    return {"legend": {"orientation": "v", "yanchor": "top", "y": -(3.8 * theme.font_size + 4) / plot, "x": 0,
                       **legend},
            "margin": {"b": bottom}}


def fmt(x: float, digits: int = 4) -> str:
    """A number for people: ``digits`` significant digits, no ``-0``, ``nan`` as 'undefined'."""
    x = float(x)
    if x != x:
        return "undefined"
    if x == 0:
        return "0"
    s = f"{x:.{digits}g}"
    return "0" if float(s) == 0 else s
