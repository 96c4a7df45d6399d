"""One place for the look of every figure: normal and presentation themes, colour-blind-safe palettes.

Matrices use a diverging scale centred at 0 (blue negative, white zero, red positive: RdBu,
safe for the common colour-vision deficiencies); scalar fields use the perceptually uniform
Cividis; categorical marks use the Okabe–Ito palette.
"""

from __future__ import annotations

from dataclasses import dataclass

import plotly.graph_objects as go
import plotly.io as pio

__all__ = ["Theme", "NORMAL", "PRESENTATION", "theme_for", "OKABE_ITO", "DIVERGING", "SEQUENTIAL",
           "CRITICAL_STYLE", "apply_theme", "fmt"]

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
        return "plotly_white"


NORMAL = Theme("normal", font_size=14, title_size=17, line_width=2.5, marker_size=11, height=520,
               annotation_size=14, arrow_width=1.6)
PRESENTATION = Theme("presentation", font_size=22, title_size=26, line_width=4.5, marker_size=18,
                     height=680, annotation_size=22, arrow_width=2.6)


def theme_for(presentation: bool) -> Theme:
    return PRESENTATION if presentation else NORMAL


def _set_template(fig: go.Figure, name: str) -> None:
    """Give ``fig`` the registered template ``name`` without validating it again.

    Setting ``template="plotly_white"`` makes plotly deep-copy and re-validate the whole template,
    about 20 ms per figure (the bulk of a page's rerun); a registered template is valid already,
    so it is copied unvalidated, as plotly itself does when it applies its default template.
    """
    layout = fig.layout
    validate = layout._validate
    layout._validate = False
    try:
        layout.template = pio.templates[name]
    finally:
        layout._validate = validate


def apply_theme(fig: go.Figure, theme: Theme, title: str | None = None, height: int | None = None) -> go.Figure:
    """Fonts, margins, template and height for ``theme``; returns the same figure."""
    _set_template(fig, theme.template)
    fig.update_layout(
        font=dict(size=theme.font_size, color="#111111"),
        height=height or theme.height,
        margin=dict(l=10, r=10, t=60 if title else 20, b=10),
        legend=dict(font=dict(size=theme.font_size)),
        hoverlabel=dict(font_size=theme.font_size),
    )
    # Explicit axis fonts: Streamlit's chart theme would otherwise shrink ticks and axis titles.
    axis_fonts = dict(tickfont=dict(size=theme.font_size), title_font=dict(size=theme.font_size))
    fig.update_xaxes(**axis_fonts)
    fig.update_yaxes(**axis_fonts)
    fig.update_scenes(xaxis=axis_fonts, yaxis=axis_fonts, zaxis=axis_fonts)
    fig.update_polars(angularaxis=dict(tickfont=dict(size=theme.font_size)),
                      radialaxis=dict(tickfont=dict(size=theme.font_size)))
    if title:
        fig.update_layout(title=dict(text=title, font=dict(size=theme.title_size), x=0.01))
    return fig


def fmt(x: float, digits: int = 4) -> str:
    """A number for people: ``digits`` significant digits, no ``-0``, ``nan`` as 'undefined'."""
    x = float(x)
    if x != x:
        return "undefined"
    if x == 0:
        return "0"
    s = f"{x:.{digits}g}"
    return "0" if float(s) == 0 else s
