"""One place for the look of every figure: normal and presentation themes, colour-blind-safe palettes.

Matrices use a diverging scale centred at 0 (blue negative, white zero, red positive: RdBu,
safe for the common colour-vision deficiencies); scalar fields use the perceptually uniform
Cividis; categorical marks use the Okabe–Ito palette.
"""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass
from pathlib import Path

import plotly
import plotly.graph_objects as go
import plotly.io as pio

# No page imports pandas (tables are Markdown): plotly's validators look pandas up in sys.modules
# without importing it, and when two sessions start together one thread could find it
# half-imported by the other ("partially initialized module 'pandas' has no attribute 'Series'",
# found by tests/test_isolation.py). tests/test_startup.py checks that no page imports it.

__all__ = ["Theme", "NORMAL", "PRESENTATION", "theme_for", "OKABE_ITO", "DIVERGING", "SEQUENTIAL",
           "CRITICAL_STYLE", "apply_theme", "merge_layout", "legend_below_axis", "fmt"]

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
    # would shrink ticks and titles, and its automatic axis margins cost every chart a second
    # drawing in the browser).
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
    spec["layout"]["template"] = copy.deepcopy(_TEMPLATE_SPEC)
    return go.Figure(spec, _validate=False)


def _top_margin(title: str | None) -> int:
    return 60 if title else 20


def legend_below_axis(theme: Theme, margin_bottom: float, title: str | None = None) -> float:
    """``legend.y`` (paper units, with ``yanchor="top"``) that starts a legend under the x axis's
    tick labels and title at any font size: they take about 3.8 font sizes of height, and a
    fixed fraction of the plot collided with the axis title in presentation mode."""
    plot = theme.height - _top_margin(title) - margin_bottom
    return -(3.8 * theme.font_size + 4) / plot


def fmt(x: float, digits: int = 4) -> str:
    """A number for people: ``digits`` significant digits, no ``-0``, ``nan`` as 'undefined'."""
    x = float(x)
    if x != x:
        return "undefined"
    if x == 0:
        return "0"
    s = f"{x:.{digits}g}"
    return "0" if float(s) == 0 else s
